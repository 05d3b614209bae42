//! The Dropout layer, with masks drawn from a seeded generator.

use ndarray::{Array0, ArrayD, ArrayViewD, ArrayViewMutD, Zip, arr0};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::layer::{Backward, Cache, Forward, Layer, Mode, same_shape};
use crate::error::{KobaiError, Result};
use crate::nets::LayerSpec;
use crate::numerical_gradient::{Elementwise, Incremental};

/// Dropout (the book's `Dropout`): in training each unit is kept where a
/// uniform draw exceeds `ratio` and zeroed otherwise; in evaluation every
/// unit is scaled by `1 − ratio`.
///
/// Masks are reproducible: mask number *k* is drawn from ChaCha8 seeded with
/// the layer's seed, on stream *k*. The count of masks drawn is the buffer
/// `draws`, advanced by the optimizer step, saved in checkpoints — so a
/// resumed run draws the masks an uninterrupted run would, and a loss and a
/// backprop at the same point use the same mask (which is how the gradient
/// check checks a network with Dropout).
///
/// ```
/// use kobai::layers::{Dropout, Layer, Mode};
/// use ndarray::Array2;
/// let layer = Dropout::new(0.5, 7)?;
/// let x = Array2::<f64>::ones((4, 100)).into_dyn();
/// let train = layer.forward(x.clone(), Mode::Train)?;
/// let kept = train.output.iter().filter(|&&v| v == 1.0).count();
/// assert!(kept > 150 && kept < 250, "about half kept: {kept}");
/// assert_eq!(layer.forward(x.clone(), Mode::Train)?.output, train.output, "same draw, same mask");
/// assert!(layer.forward(x, Mode::Eval)?.output.iter().all(|&v| v == 0.5));
/// assert!(Dropout::new(1.0, 0).is_err());
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Dropout {
    ratio: f64,
    seed: u64,
    draws: Array0<f64>,
}

impl Dropout {
    /// A layer dropping the fraction `ratio` of units, its masks seeded by `seed`.
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`] unless `0 ≤ ratio < 1`.
    pub fn new(ratio: f64, seed: u64) -> Result<Self> {
        if !(0.0..1.0).contains(&ratio) {
            return Err(KobaiError::Hyperparameter {
                name: "dropout ratio",
                value: crate::check::number_text(ratio),
                expected: "a number in [0, 1)",
            });
        }
        Ok(Dropout {
            ratio,
            seed,
            draws: arr0(0.0),
        })
    }

    /// The fraction of units dropped in training.
    pub fn ratio(&self) -> f64 {
        self.ratio
    }

    /// The seed of the masks.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// How many masks have been drawn (the buffer `draws`).
    pub fn draws(&self) -> u64 {
        self.draws[()] as u64
    }

    /// The mask for `shape` at the current draw: 1 where kept, 0 where dropped.
    fn mask(&self, shape: &[usize]) -> ArrayD<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(self.draws());
        ArrayD::from_shape_fn(shape, |_| {
            if rng.random::<f64>() > self.ratio {
                1.0
            } else {
                0.0
            }
        })
    }
}

impl Layer for Dropout {
    fn kind(&self) -> &str {
        "dropout"
    }

    fn forward(&self, x: ArrayD<f64>, mode: Mode) -> Result<Forward> {
        match mode {
            Mode::Train => {
                let mask = self.mask(x.shape());
                let y = &x * &mask;
                Ok(Forward::new(y, Cache::new(mask))
                    .with_update("draws", arr0(self.draws[()] + 1.0).into_dyn()))
            }
            Mode::Eval => {
                let scale = 1.0 - self.ratio;
                let y = x.mapv(|v| v * scale);
                let mask = ArrayD::from_elem(x.shape(), scale);
                Ok(Forward::new(y, Cache::new(mask)))
            }
        }
    }

    fn backward(&self, cache: &Cache, dout: ArrayD<f64>) -> Result<Backward> {
        let mask: &ArrayD<f64> = cache.get(self.kind())?;
        same_shape("dropout output gradient", mask.shape(), dout.shape())?;
        let dx = Zip::from(&dout).and(mask).map_collect(|&d, &m| d * m);
        Ok(Backward::input_only(dx))
    }

    /// Element-wise and linear: in training `x` times this draw's mask (the
    /// slope), in evaluation `x` times `1 − ratio`; no kinks.
    fn incremental(&self, input: &ArrayD<f64>, mode: Mode) -> Option<Incremental<'_>> {
        let len = input.len();
        let reach = vec![f64::INFINITY; len];
        match mode {
            Mode::Train => {
                if input.ndim() < 2 {
                    return None;
                }
                let width = input.shape()[1..].iter().product::<usize>();
                let mask: Vec<f64> = self.mask(input.shape()).iter().copied().collect();
                let slope = mask.clone();
                let map = move |r: usize, c: usize, v: f64| v * mask[r * width + c];
                Some(Incremental::Elementwise(
                    Elementwise::new(map).with_slopes(slope, reach),
                ))
            }
            Mode::Eval => {
                let scale = 1.0 - self.ratio;
                let map = move |_: usize, _: usize, v: f64| v * scale;
                Some(Incremental::Elementwise(
                    Elementwise::new(map).with_slopes(vec![scale; len], reach),
                ))
            }
        }
    }

    fn buffers(&self) -> Vec<(&'static str, ArrayViewD<'_, f64>)> {
        vec![("draws", self.draws.view().into_dyn())]
    }

    fn params_and_buffers_mut(
        &mut self,
    ) -> (
        Vec<(&'static str, ArrayViewMutD<'_, f64>)>,
        Vec<(&'static str, ArrayViewMutD<'_, f64>)>,
    ) {
        (
            Vec::new(),
            vec![("draws", self.draws.view_mut().into_dyn())],
        )
    }

    fn spec(&self) -> LayerSpec {
        LayerSpec::Dropout {
            ratio: self.ratio,
            seed: self.seed,
        }
    }
}
