//! The book's `TwoLayerNet`: Affine → ReLU (or sigmoid) → Affine → SoftmaxWithLoss.

use ndarray::{Array1, Array2, ArrayRef2, ArrayViewD, ArrayViewMutD};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::check;
use crate::data::Dataset;
use crate::error::{KobaiError, Result};
use crate::functions::Targets;
use crate::layers::{AffineView, Mode, SoftmaxWithLoss};
use crate::model::{Backprop, Grads, Model, Params};
use crate::nets::fast_backprop;

/// The hidden layer's activation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Activation {
    /// ReLU, as in the book's chapter 5 network (the default).
    #[default]
    Relu,
    /// The sigmoid, as in the book's chapter 4 network.
    Sigmoid,
    /// The hyperbolic tangent.
    Tanh,
}

impl Activation {
    /// The activation's name in lower case, as the CLI spells it.
    ///
    /// ```
    /// assert_eq!(kobai::nets::Activation::Tanh.name(), "tanh");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
        }
    }

    /// The activation as a layer.
    ///
    /// ```
    /// use kobai::layers::Layer;
    /// assert_eq!(kobai::nets::Activation::Relu.layer().kind(), "relu");
    /// ```
    pub fn layer(self) -> Box<dyn crate::layers::Layer> {
        match self {
            Activation::Relu => Box::new(crate::layers::Relu),
            Activation::Sigmoid => Box::new(crate::layers::Sigmoid),
            Activation::Tanh => Box::new(crate::layers::Tanh),
        }
    }
}

/// How [`TwoLayerNet`]'s and [`Network`](super::Network)'s backprop
/// ([`Backprop::gradient`]) computes. Prediction and the loss (hence
/// numerical gradients and accuracy) are always the book's `f64` layers.
///
/// The fused engines skip the input's zeros in the first layer (an MNIST
/// batch is about half zeros), never form the first layer's input gradient,
/// reuse their buffers from step to step, and split the two big products
/// over two threads (with the `parallel` feature) only when they are large
/// enough to pay for it — bit-identical to one thread either way. Their
/// results differ from [`Compute::Layers`] only by rounding: about 1e-15
/// relative in `f64`, a few 1e-6 in `f32` (tested to 2e-5 on 784-50-10).
///
/// ```
/// use kobai::nets::Compute;
/// use kobai::{Backprop, TwoLayerNet};
/// use ndarray::array;
///
/// let book = TwoLayerNet::new(3, 4, 2, 0.5, 7)?;
/// let fast = book.clone().with_compute(Compute::FusedF32);
/// let (x, t) = (array![[0.0, 0.5, 1.0]], (&[1usize]).into());
/// let (loss, grads) = book.gradient(&x, &t)?;
/// let (fast_loss, fast_grads) = fast.gradient(&x, &t)?;
/// assert!((loss - fast_loss).abs() < 1e-6);
/// assert!((&grads["W1"] - &fast_grads["W1"]).iter().all(|d| d.abs() < 1e-6));
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Compute {
    /// The book's layers (Affine, ReLU, SoftmaxWithLoss), one array each, in
    /// `f64`: what [`crate::gradient_check()`] checks (the default).
    #[default]
    Layers,
    /// The fused sparse kernels in `f64`.
    FusedF64,
    /// The fused sparse kernels in `f32`: the products, activations and
    /// softmax in `f32`, the returned loss and gradients widened to `f64`, so
    /// the weights and the optimizer stay `f64` (mixed precision).
    FusedF32,
}

/// A two-layer classifier that owns its parameters `W1`, `b1`, `W2`, `b2`.
///
/// ```text
/// scores = activation(x · W1 + b1) · W2 + b2,   loss = SoftmaxWithLoss(scores, t)
/// ```
///
/// ```
/// use kobai::{Backprop, Model, TwoLayerNet};
/// use ndarray::array;
///
/// let net = TwoLayerNet::new(2, 4, 3, 0.5, 7)?;
/// let x = array![[0.6, 0.9], [-0.3, 0.2]];
/// let t = (&[2usize, 0]).into();
/// let loss = net.loss(&x, &t)?;
/// let (same_loss, grads) = net.gradient(&x, &t)?;
/// assert_eq!(loss, same_loss);
/// assert_eq!(grads["W1"].shape(), &[2, 4]);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TwoLayerNet {
    /// First-layer weights, inputs × hidden.
    pub w1: Array2<f64>,
    /// First-layer bias.
    pub b1: Array1<f64>,
    /// Second-layer weights, hidden × outputs.
    pub w2: Array2<f64>,
    /// Second-layer bias.
    pub b2: Array1<f64>,
    /// The hidden activation.
    pub activation: Activation,
    /// How backprop computes; see [`Compute`].
    pub compute: Compute,
}

impl TwoLayerNet {
    /// The book's initialisation: weights `weight_init_std · N(0, 1)` from a
    /// ChaCha8 generator seeded with `seed` (`W1` drawn first, row by row), zero
    /// biases, ReLU.
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`] if a size is 0 or `weight_init_std` is not
    /// a finite number above 0.
    ///
    /// ```
    /// let net = kobai::TwoLayerNet::new(784, 50, 10, 0.01, 42)?;
    /// assert_eq!(net.w1.dim(), (784, 50));
    /// assert_eq!(net, kobai::TwoLayerNet::new(784, 50, 10, 0.01, 42)?);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn new(
        input: usize,
        hidden: usize,
        output: usize,
        weight_init_std: f64,
        seed: u64,
    ) -> Result<Self> {
        for (name, size) in [
            ("input size", input),
            ("hidden size", hidden),
            ("output size", output),
        ] {
            if size == 0 {
                return Err(KobaiError::Hyperparameter {
                    name,
                    value: "0".into(),
                    expected: "at least 1",
                });
            }
        }
        check::positive("weight_init_std", weight_init_std)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut draw = |shape| {
            Array2::from_shape_fn(shape, |_| {
                let z: f64 = StandardNormal.sample(&mut rng);
                weight_init_std * z
            })
        };
        let w1 = draw((input, hidden));
        let w2 = draw((hidden, output));
        Ok(TwoLayerNet {
            w1,
            b1: Array1::zeros(hidden),
            w2,
            b2: Array1::zeros(output),
            activation: Activation::Relu,
            compute: Compute::Layers,
        })
    }

    /// A network of the [architecture](Params::architecture) `text`, with
    /// zero weights: load them with [`load_npz`](crate::model::load_npz).
    ///
    /// # Errors
    /// [`KobaiError::Format`] unless `text` is
    /// `two_layer_net(INPUT,HIDDEN,OUTPUT,relu|sigmoid|tanh)` with sizes of 1
    /// or more.
    ///
    /// ```
    /// use kobai::{Params, TwoLayerNet};
    /// let net = TwoLayerNet::new(4, 3, 2, 0.1, 0)?;
    /// let text = net.architecture().expect("described");
    /// assert_eq!(text, "two_layer_net(4,3,2,relu)");
    /// assert_eq!(TwoLayerNet::from_architecture(&text)?.architecture(), Some(text));
    /// assert!(TwoLayerNet::from_architecture("two_layer_net(4,0,2,relu)").is_err());
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn from_architecture(text: &str) -> Result<Self> {
        let bad = || KobaiError::Format {
            path: "architecture".into(),
            detail: format!(
                "cannot read {text:?}; expected two_layer_net(INPUT,HIDDEN,OUTPUT,ACTIVATION)"
            ),
        };
        let inner = text
            .strip_prefix("two_layer_net(")
            .and_then(|s| s.strip_suffix(')'))
            .ok_or_else(bad)?;
        let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
        let [input, hidden, output, activation] = parts.as_slice() else {
            return Err(bad());
        };
        let size = |s: &str| s.parse::<usize>().ok().filter(|&n| n > 0).ok_or_else(bad);
        let activation = match *activation {
            "relu" => Activation::Relu,
            "sigmoid" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            _ => return Err(bad()),
        };
        let (input, hidden, output) = (size(input)?, size(hidden)?, size(output)?);
        let mut net = TwoLayerNet::new(input, hidden, output, 1.0, 0)?.with_activation(activation);
        net.w1.fill(0.0);
        net.w2.fill(0.0);
        Ok(net)
    }

    /// The same network with another hidden activation.
    ///
    /// ```
    /// use kobai::nets::Activation;
    /// let net = kobai::TwoLayerNet::new(2, 3, 2, 0.1, 0)?.with_activation(Activation::Sigmoid);
    /// assert_eq!(net.activation, Activation::Sigmoid);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn with_activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// The same network with backprop computed by `compute`.
    ///
    /// ```
    /// use kobai::nets::Compute;
    /// let net = kobai::TwoLayerNet::new(2, 3, 2, 0.1, 0)?.with_compute(Compute::FusedF32);
    /// assert_eq!(net.compute, Compute::FusedF32);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn with_compute(mut self, compute: Compute) -> Self {
        self.compute = compute;
        self
    }

    fn affine1(&self) -> AffineView<'_> {
        AffineView {
            w: self.w1.view(),
            b: self.b1.view(),
        }
    }

    fn affine2(&self) -> AffineView<'_> {
        AffineView {
            w: self.w2.view(),
            b: self.b2.view(),
        }
    }

    /// The hidden activations for `x` (rows are samples).
    fn hidden(&self, x: &ArrayRef2<f64>) -> Result<Array2<f64>> {
        // ReLU maps a NaN pre-activation to 0, which would hide a NaN input.
        check::finite("x", x)?;
        let (a1, _) = self.affine1().forward(x.view())?;
        let h = self
            .activation
            .layer()
            .forward(a1.into_dyn(), Mode::Train)?;
        into_matrix(h.output)
    }
}

impl Params for TwoLayerNet {
    fn params(&self) -> Vec<(String, ArrayViewD<'_, f64>)> {
        vec![
            ("W1".into(), self.w1.view().into_dyn()),
            ("b1".into(), self.b1.view().into_dyn()),
            ("W2".into(), self.w2.view().into_dyn()),
            ("b2".into(), self.b2.view().into_dyn()),
        ]
    }

    /// `two_layer_net(INPUT,HIDDEN,OUTPUT,ACTIVATION)`, e.g.
    /// `two_layer_net(784,50,10,relu)`; see [`TwoLayerNet::from_architecture`].
    fn architecture(&self) -> Option<String> {
        Some(format!(
            "two_layer_net({},{},{},{})",
            self.w1.nrows(),
            self.w1.ncols(),
            self.w2.ncols(),
            self.activation.name()
        ))
    }

    fn params_mut(&mut self) -> Vec<(String, ArrayViewMutD<'_, f64>)> {
        vec![
            ("W1".into(), self.w1.view_mut().into_dyn()),
            ("b1".into(), self.b1.view_mut().into_dyn()),
            ("W2".into(), self.w2.view_mut().into_dyn()),
            ("b2".into(), self.b2.view_mut().into_dyn()),
        ]
    }
}

impl Model for TwoLayerNet {
    fn predict(&self, x: &ArrayRef2<f64>) -> Result<Array2<f64>> {
        let h = self.hidden(x)?;
        Ok(self.affine2().forward(h.view())?.0)
    }

    fn loss_with_delta(&self, x: &ArrayRef2<f64>, t: &Targets<'_>, delta: f64) -> Result<f64> {
        let scores = self.predict(x)?;
        Ok(SoftmaxWithLoss.forward(&scores, t, delta)?.0)
    }

    /// On the fused engine and a dataset of bytes, counted on the sparse
    /// kernels in the engine's type, near-ties decided by the `f64` layers:
    /// the same count as [`Compute::Layers`].
    fn correct_count(&self, data: &Dataset, indices: &[usize]) -> Result<usize> {
        match (self.compute, data.pixel_bytes()) {
            (Compute::FusedF64, Some(bytes)) => {
                fast_backprop::correct_count::<f64>(self, data, bytes, indices)
            }
            (Compute::FusedF32, Some(bytes)) => {
                fast_backprop::correct_count::<f32>(self, data, bytes, indices)
            }
            _ => crate::model::count_on_f64_batch(self, data, indices),
        }
    }
}

impl Backprop for TwoLayerNet {
    fn gradient(&self, x: &ArrayRef2<f64>, t: &Targets<'_>) -> Result<(f64, Grads)> {
        match self.compute {
            Compute::Layers => {}
            Compute::FusedF64 => return fast_backprop::gradient::<f64>(self, x, t),
            Compute::FusedF32 => return fast_backprop::gradient::<f32>(self, x, t),
        }
        check::finite("x", x)?;
        let (affine1, affine2) = (self.affine1(), self.affine2());
        let (a1, cache1) = affine1.forward(x.view())?;
        let activation = self.activation.layer();
        let h = activation.forward(a1.into_dyn(), Mode::Train)?;
        let (h_cache, h) = (h.cache, into_matrix(h.output)?);
        let (scores, cache2) = affine2.forward(h.view())?;
        let (loss, last) = SoftmaxWithLoss.forward(&scores, t, crate::CROSS_ENTROPY_DELTA)?;
        let dscores = SoftmaxWithLoss.backward(&last);
        let g2 = affine2.backward(&cache2, &dscores)?;
        let da1 = into_matrix(activation.backward(&h_cache, g2.dx.into_dyn())?.dx)?;
        let g1 = affine1.backward(&cache1, &da1)?;
        let mut grads = Grads::default();
        grads.push("W1", g1.dw.into_dyn());
        grads.push("b1", g1.db.into_dyn());
        grads.push("W2", g2.dw.into_dyn());
        grads.push("b2", g2.db.into_dyn());
        Ok((loss, grads))
    }

    fn batch_gradient(&self, data: &Dataset, indices: &[usize]) -> Result<(f64, Grads)> {
        match (self.compute, data.pixel_bytes()) {
            (Compute::FusedF64, Some(bytes)) => {
                fast_backprop::batch_gradient::<f64>(self, data, bytes, indices)
            }
            (Compute::FusedF32, Some(bytes)) => {
                fast_backprop::batch_gradient::<f32>(self, data, bytes, indices)
            }
            _ => {
                let (x, labels) = data.batch(indices)?;
                self.gradient(&x, &Targets::from(&labels))
            }
        }
    }
}

/// A layer's output as the matrix it is (activations keep their input's shape).
fn into_matrix(a: ndarray::ArrayD<f64>) -> Result<Array2<f64>> {
    let found = a.shape().to_vec();
    a.into_dimensionality().map_err(|_| KobaiError::Shape {
        what: "hidden activations".into(),
        expected: "expected a matrix".into(),
        found,
    })
}
