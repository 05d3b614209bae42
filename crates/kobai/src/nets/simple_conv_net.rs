//! The book's `SimpleConvNet` (chapter 7) as a builder of [`Network`]s.

use ndarray::{Array1, Array2, Array4};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::network::Network;
use crate::error::{KobaiError, Result};
use crate::layers::{Affine, Convolution, Layer, PoolKind, Pooling, Relu};

/// A builder for the book's `SimpleConvNet` (`ch07/simple_convnet.py`):
///
/// ```text
/// Convolution → ReLU → max Pooling → Affine → ReLU → Affine → softmax
/// ```
///
/// with the book's defaults: 30 filters of 5×5, stride 1, no padding; max
/// pooling over 2×2 windows with stride 2; 100 hidden units; every weight
/// `0.01 · N(0, 1)` and every bias 0. The weights are drawn from one
/// ChaCha8 generator seeded with `seed`, in the book's order: the filters
/// (FN, C, FH, FW), then the hidden Affine layer's, then the output layer's,
/// each row by row.
///
/// The network takes its input as rows of C·H·W values (how a
/// [`Dataset`](crate::data::Dataset) holds images) or as images
/// (N, C, H, W), so it trains, checks, saves and resumes like any other
/// [`Network`].
///
/// ```
/// use kobai::nets::SimpleConvNet;
/// use kobai::Params;
/// let net = SimpleConvNet::new((1, 28, 28), 10).seed(7).build()?;
/// assert_eq!(
///     net.architecture().unwrap(),
///     "conv(30,1x28x28,5x5,stride=1,pad=0) relu pool(max,2x2,stride=2,pad=0) \
///      affine(4320,100) relu affine(100,10)"
/// );
/// assert_eq!(net.param_count(), 30 * 25 + 30 + 4320 * 100 + 100 + 100 * 10 + 10);
///
/// // Another image size and a padded, strided convolution.
/// let small = SimpleConvNet::new((3, 8, 8), 4).filters(6).filter_size(3).stride(2).pad(1).build()?;
/// assert!(small.architecture().unwrap().starts_with("conv(6,3x8x8,3x3,stride=2,pad=1)"));
///
/// // A filter larger than the image is refused.
/// assert!(SimpleConvNet::new((1, 4, 4), 10).build().is_err());
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleConvNet {
    input: (usize, usize, usize),
    output: usize,
    filters: usize,
    filter_size: usize,
    stride: usize,
    pad: usize,
    pool: usize,
    hidden: usize,
    weight_init_std: f64,
    seed: u64,
}

impl SimpleConvNet {
    /// Images of `input` = (C, H, W) and `output` classes, with the book's
    /// settings and seed 0.
    pub fn new(input: (usize, usize, usize), output: usize) -> Self {
        SimpleConvNet {
            input,
            output,
            filters: 30,
            filter_size: 5,
            stride: 1,
            pad: 0,
            pool: 2,
            hidden: 100,
            weight_init_std: 0.01,
            seed: 0,
        }
    }

    /// The number of filters (output channels of the convolution).
    pub fn filters(mut self, filters: usize) -> Self {
        self.filters = filters;
        self
    }

    /// The filters' side: `size × size`.
    pub fn filter_size(mut self, size: usize) -> Self {
        self.filter_size = size;
        self
    }

    /// The convolution's stride.
    pub fn stride(mut self, stride: usize) -> Self {
        self.stride = stride;
        self
    }

    /// Zeros added on each side of each image before the convolution.
    pub fn pad(mut self, pad: usize) -> Self {
        self.pad = pad;
        self
    }

    /// Max pooling over `pool × pool` windows with stride `pool`.
    pub fn pool(mut self, pool: usize) -> Self {
        self.pool = pool;
        self
    }

    /// Units of the hidden Affine layer.
    pub fn hidden(mut self, hidden: usize) -> Self {
        self.hidden = hidden;
        self
    }

    /// The standard deviation of every initial weight.
    pub fn weight_init_std(mut self, std: f64) -> Self {
        self.weight_init_std = std;
        self
    }

    /// The seed of the initial weights.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The shape (FN, OH, OW) of the convolution's output and (FN, PH, PW)
    /// of the pooling's, checked: every size at least 1, the filter within
    /// the padded image, the pool within the convolution's output.
    ///
    /// ```
    /// use kobai::nets::SimpleConvNet;
    /// let (conv, pooled) = SimpleConvNet::new((1, 28, 28), 10).shapes()?;
    /// assert_eq!((conv, pooled), ((30, 24, 24), (30, 12, 12)));
    /// assert!(SimpleConvNet::new((1, 28, 28), 10).pool(25).shapes().is_err(), "the pool does not fit");
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`] for a size, stride or pool of 0;
    /// [`KobaiError::Shape`] for a filter larger than the padded image or a
    /// pool larger than the convolution's output.
    #[allow(clippy::type_complexity)]
    pub fn shapes(&self) -> Result<((usize, usize, usize), (usize, usize, usize))> {
        for (name, value) in [
            ("convolution filters", self.filters),
            ("filter size", self.filter_size),
            ("pool size", self.pool),
            ("hidden size", self.hidden),
            ("output size", self.output),
        ] {
            if value == 0 {
                return Err(KobaiError::Hyperparameter {
                    name,
                    value: "0".into(),
                    expected: "at least 1",
                });
            }
        }
        let conv = Convolution::zeros(
            self.filters,
            self.input,
            (self.filter_size, self.filter_size),
            self.stride,
            self.pad,
        )?;
        let (fn_, oh, ow) = conv.output_shape();
        let pool = self.pooling()?;
        let (ph, pw) = pool
            .window()
            .output_size(oh, ow)
            .map_err(|_| KobaiError::Shape {
                what: "pooling window".into(),
                expected: format!(
                    "a pool of at most {oh}x{ow}, the convolution's output (a {p}x{p} pool does not fit)",
                    p = self.pool
                ),
                found: vec![self.pool, self.pool],
            })?;
        Ok(((fn_, oh, ow), (fn_, ph, pw)))
    }

    fn pooling(&self) -> Result<Pooling> {
        Pooling::new(PoolKind::Max, (self.pool, self.pool), self.pool, 0)
    }

    /// The network.
    ///
    /// # Errors
    /// As [`SimpleConvNet::shapes`]; also [`KobaiError::Hyperparameter`]
    /// unless the weights' standard deviation is finite and above 0.
    pub fn build(&self) -> Result<Network> {
        crate::check::positive("weight_init_std", self.weight_init_std)?;
        let (_, (fn_, ph, pw)) = self.shapes()?;
        let pooled = fn_
            .checked_mul(ph)
            .and_then(|n| n.checked_mul(pw))
            .ok_or_else(|| KobaiError::Shape {
                what: "pooling output".into(),
                expected: "expected a size that fits in memory".into(),
                found: vec![fn_, ph, pw],
            })?;
        let (c, _, _) = self.input;
        let k = self.filter_size;
        let std = self.weight_init_std;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut draw = || -> f64 {
            let z: f64 = StandardNormal.sample(&mut rng);
            std * z
        };
        let w1 = Array4::from_shape_simple_fn((self.filters, c, k, k), &mut draw);
        let conv = Convolution::new(
            w1,
            Array1::zeros(self.filters),
            self.stride,
            self.pad,
            self.input,
        )?;
        let w2 = Array2::from_shape_simple_fn((pooled, self.hidden), &mut draw);
        let w3 = Array2::from_shape_simple_fn((self.hidden, self.output), &mut draw);
        let layers: Vec<Box<dyn Layer>> = vec![
            Box::new(conv),
            Box::new(Relu),
            Box::new(self.pooling()?),
            Box::new(Affine::new(w2, Array1::zeros(self.hidden))?),
            Box::new(Relu),
            Box::new(Affine::new(w3, Array1::zeros(self.output))?),
        ];
        Network::new(layers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Params;

    #[test]
    fn the_same_seed_gives_the_same_weights_and_another_seed_others() -> Result<()> {
        let a = SimpleConvNet::new((1, 8, 8), 3).filters(4).filter_size(3);
        let (x, y, z) = (
            a.clone().seed(1).build()?,
            a.clone().seed(1).build()?,
            a.seed(2).build()?,
        );
        let values = |n: &Network| -> Vec<f64> {
            n.params()
                .iter()
                .flat_map(|(_, p)| p.iter().copied())
                .collect()
        };
        assert_eq!(values(&x), values(&y));
        assert_ne!(values(&x), values(&z));
        Ok(())
    }

    #[test]
    fn weights_have_the_asked_spread_and_biases_start_at_zero() -> Result<()> {
        let net = SimpleConvNet::new((1, 12, 12), 10)
            .weight_init_std(0.5)
            .build()?;
        for (name, p) in net.params() {
            if name.ends_with(".b") {
                assert!(p.iter().all(|&b| b == 0.0), "{name}");
            } else {
                let n = p.len() as f64;
                let sd = (p.iter().map(|w| w * w).sum::<f64>() / n).sqrt();
                assert!((sd - 0.5).abs() < 0.1, "{name}: {sd}");
            }
        }
        Ok(())
    }

    #[test]
    fn bad_settings_are_refused() {
        let base = SimpleConvNet::new((1, 28, 28), 10);
        for (what, net) in [
            ("no filters", base.clone().filters(0)),
            ("filter 0", base.clone().filter_size(0)),
            ("stride 0", base.clone().stride(0)),
            ("pool 0", base.clone().pool(0)),
            ("hidden 0", base.clone().hidden(0)),
            ("filter > image", base.clone().filter_size(29)),
            ("pool > conv output", base.clone().pool(25)),
            ("std 0", base.clone().weight_init_std(0.0)),
            ("std NaN", base.clone().weight_init_std(f64::NAN)),
            ("no channels", SimpleConvNet::new((0, 28, 28), 10)),
        ] {
            assert!(net.build().is_err(), "{what}");
        }
        assert!(
            base.filter_size(28).pool(1).build().is_ok(),
            "a filter as large as the image fits"
        );
    }
}
