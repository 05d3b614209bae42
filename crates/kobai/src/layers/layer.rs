//! The [`Layer`] trait: what a network needs from each of its layers.

use std::any::Any;
use std::fmt::Debug;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};

use crate::error::{KobaiError, Result};
use crate::numerical_gradient::Incremental;

/// Whether a forward pass trains or evaluates.
///
/// In [`Mode::Train`] Dropout drops units and BatchNorm normalises with the
/// batch's own statistics (and proposes new running statistics); in
/// [`Mode::Eval`] Dropout scales and BatchNorm uses its running statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Training: the loss and backprop.
    Train,
    /// Evaluation: predictions and accuracy.
    Eval,
}

/// What a layer's forward pass keeps for its backward pass, of any type.
///
/// ```
/// use kobai::layers::Cache;
/// use ndarray::array;
/// let cache = Cache::new(array![1.0, 2.0]);
/// let x: &ndarray::Array1<f64> = cache.get("my_layer")?;
/// assert_eq!(x[1], 2.0);
/// assert!(cache.get::<f32>("my_layer").is_err());
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub struct Cache(Box<dyn Any + Send + Sync>);

impl Cache {
    /// Keeps `value` for the backward pass.
    pub fn new<T: Any + Send + Sync>(value: T) -> Self {
        Cache(Box::new(value))
    }

    /// A cache that keeps nothing.
    pub fn empty() -> Self {
        Cache::new(())
    }

    /// The kept value, as the type the forward pass stored.
    ///
    /// # Errors
    /// [`KobaiError::Layer`] naming `layer` if the cache holds another type
    /// (a cache handed to the wrong layer).
    pub fn get<T: Any>(&self, layer: &str) -> Result<&T> {
        self.0.downcast_ref::<T>().ok_or_else(|| KobaiError::Layer {
            layer: layer.to_string(),
            detail: format!(
                "its cache does not hold a {}; was it made by another layer's forward pass?",
                std::any::type_name::<T>()
            ),
        })
    }
}

impl Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cache(..)")
    }
}

/// The result of [`Layer::forward`]: the output, the cache for
/// [`Layer::backward`] and, in training, new values for the layer's buffers.
#[derive(Debug)]
pub struct Forward {
    /// The layer's output.
    pub output: ArrayD<f64>,
    /// What the backward pass needs.
    pub cache: Cache,
    /// New values of buffers, by the names [`Layer::buffers`] gives (BatchNorm's
    /// running statistics, Dropout's draw counter). The network applies them
    /// after the optimizer step ([`crate::optim::step`]), never during a
    /// forward pass: a loss or a gradient check leaves the layer as it was.
    pub updates: Vec<(&'static str, ArrayD<f64>)>,
}

impl Forward {
    /// An output and its cache, no buffer updates.
    pub fn new(output: ArrayD<f64>, cache: Cache) -> Self {
        Forward {
            output,
            cache,
            updates: Vec::new(),
        }
    }

    /// Adds a new value for the buffer `name`.
    pub fn with_update(mut self, name: &'static str, value: ArrayD<f64>) -> Self {
        self.updates.push((name, value));
        self
    }
}

/// The result of [`Layer::backward`].
#[derive(Debug, Clone, PartialEq)]
pub struct Backward {
    /// The gradient of the loss with respect to the layer's input (its shape).
    pub dx: ArrayD<f64>,
    /// The gradient with respect to each parameter, in the order of
    /// [`Layer::params`], each of its parameter's shape.
    pub grads: Vec<ArrayD<f64>>,
}

impl Backward {
    /// The input gradient of a layer without parameters.
    pub fn input_only(dx: ArrayD<f64>) -> Self {
        Backward {
            dx,
            grads: Vec::new(),
        }
    }
}

/// What a parameter is, for the tools that treat kinds differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// A weight matrix (or filter bank): weight decay applies to it.
    Weight,
    /// Anything else learned: biases, BatchNorm's γ and β. No weight decay.
    Other,
}

/// A layer of a network: a forward pass, a backward pass, and its parameters
/// and buffers, each enumerated by a short name (`"W"`, `"b"`, `"gamma"`).
///
/// The network names a layer `{kind}{k}` (`affine1`, `batchnorm2`) and its
/// parameters `{layer}.{name}` (`affine1.W`). Optimizers, the gradient check,
/// the numerical gradient, `.npz` files and checkpoints all work through
/// these enumerations, so a layer you write gets every tool.
///
/// `forward` takes `&self`: a forward pass never changes the layer. State
/// that training moves (running statistics, a random generator's position)
/// is a *buffer*, and its new value is returned in [`Forward::updates`].
///
/// Implement [`kind`](Layer::kind), [`forward`](Layer::forward),
/// [`backward`](Layer::backward) and, for a layer with parameters,
/// [`params`](Layer::params) and [`params_mut`](Layer::params_mut) (same
/// names, same order). Cloning comes for free for any `Clone` layer.
///
/// ```
/// use kobai::layers::{Backward, Cache, Forward, Layer, Mode};
/// use kobai::Result;
/// use ndarray::{ArrayD, Zip};
///
/// /// Leaky ReLU: x where x > 0, else 0.01 x.
/// #[derive(Debug, Clone)]
/// struct LeakyRelu;
///
/// impl Layer for LeakyRelu {
///     fn kind(&self) -> &str { "leaky_relu" }
///     fn forward(&self, x: ArrayD<f64>, _mode: Mode) -> Result<Forward> {
///         let y = x.mapv(|v| if v > 0.0 { v } else { 0.01 * v });
///         Ok(Forward::new(y, Cache::new(x)))
///     }
///     fn backward(&self, cache: &Cache, dout: ArrayD<f64>) -> Result<Backward> {
///         let x: &ArrayD<f64> = cache.get(self.kind())?;
///         let dx = Zip::from(x).and(&dout).map_collect(|&x, &d| if x > 0.0 { d } else { 0.01 * d });
///         Ok(Backward::input_only(dx))
///     }
/// }
///
/// let out = LeakyRelu.forward(ndarray::array![-1.0, 2.0].into_dyn(), Mode::Train)?;
/// assert_eq!(out.output, ndarray::array![-0.01, 2.0].into_dyn());
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub trait Layer: LayerClone + Debug + Send + Sync {
    /// The layer's kind in lower case (`"affine"`), from which the network
    /// names it.
    fn kind(&self) -> &str;

    /// The output for `x` (one sample per row of the first axis), and what
    /// the backward pass needs.
    ///
    /// # Errors
    /// [`KobaiError::Shape`] (or [`KobaiError::Layer`]) when `x` does not fit.
    fn forward(&self, x: ArrayD<f64>, mode: Mode) -> Result<Forward>;

    /// The gradients with respect to the input and to each parameter, given
    /// the gradient `dout` of the loss with respect to the output.
    ///
    /// # Errors
    /// When `dout` does not have the output's shape, or `cache` is not the
    /// one this layer's forward pass made.
    fn backward(&self, cache: &Cache, dout: ArrayD<f64>) -> Result<Backward>;

    /// The parameter gradients only, in the order of
    /// [`params`](Layer::params): what a network asks of its first layer,
    /// whose input gradient nothing uses. The default runs
    /// [`backward`](Layer::backward) and drops `dx`; a layer whose `dx`
    /// costs much (a convolution) computes only what is asked.
    ///
    /// # Errors
    /// As [`backward`](Layer::backward).
    fn backward_params(&self, cache: &Cache, dout: ArrayD<f64>) -> Result<Vec<ArrayD<f64>>> {
        Ok(self.backward(cache, dout)?.grads)
    }

    /// The learned parameters: a short name, its kind, and the array.
    fn params(&self) -> Vec<(&'static str, ParamKind, ArrayViewD<'_, f64>)> {
        Vec::new()
    }

    /// The same parameters, mutable, in the same order.
    fn params_mut(&mut self) -> Vec<(&'static str, ArrayViewMutD<'_, f64>)> {
        Vec::new()
    }

    /// State that is not learned by gradients but is saved with the
    /// parameters (BatchNorm's running mean and variance).
    fn buffers(&self) -> Vec<(&'static str, ArrayViewD<'_, f64>)> {
        Vec::new()
    }

    /// The parameters and the buffers, mutable, each in the order of
    /// [`params`](Layer::params) and [`buffers`](Layer::buffers) (one call,
    /// so that both can be borrowed at once). Only a layer with buffers
    /// implements it.
    #[allow(clippy::type_complexity)]
    fn params_and_buffers_mut(
        &mut self,
    ) -> (
        Vec<(&'static str, ArrayViewMutD<'_, f64>)>,
        Vec<(&'static str, ArrayViewMutD<'_, f64>)>,
    ) {
        (self.params_mut(), Vec::new())
    }

    /// What kind of map the layer is at its unperturbed `input` in `mode`, so
    /// that the structure-aware numerical gradient
    /// ([`layered_numerical_gradient`](crate::numerical_gradient::layered_numerical_gradient))
    /// can carry a change of a few entries (or of one parameter element)
    /// through the layer without rerunning it. By default `None`: every probe
    /// that reaches the layer reruns its [`forward`](Layer::forward), which is
    /// always right, only slower. A description must be exact (see
    /// [`Incremental`]).
    ///
    /// ```
    /// use kobai::layers::{Layer, Mode, Relu};
    /// use kobai::numerical_gradient::Incremental;
    /// use ndarray::array;
    ///
    /// let input = array![[-1.0, 2.0]].into_dyn();
    /// let Some(Incremental::Elementwise(relu)) = Relu.incremental(&input, Mode::Train) else {
    ///     panic!("ReLU is element-wise");
    /// };
    /// assert_eq!(relu.apply(0, 0, 3.0), 3.0);
    /// assert_eq!(relu.slopes(), Some((&[0.0, 1.0][..], &[1.0, 2.0][..])));
    /// ```
    fn incremental(&self, input: &ArrayD<f64>, mode: Mode) -> Option<Incremental<'_>> {
        let _ = (input, mode);
        None
    }

    /// The layer as data, for JSON reports, `.npz` files and checkpoints
    /// (see [`LayerSpec`](crate::nets::LayerSpec)). A layer kobai does not
    /// know describes itself by its kind.
    fn spec(&self) -> crate::nets::LayerSpec {
        crate::nets::LayerSpec::Custom(self.kind().to_string())
    }
}

/// Cloning a boxed layer; implemented for every `Layer + Clone`.
pub trait LayerClone {
    /// A boxed copy of the layer.
    fn clone_box(&self) -> Box<dyn Layer>;
}

impl<T: Layer + Clone + 'static> LayerClone for T {
    fn clone_box(&self) -> Box<dyn Layer> {
        Box::new(self.clone())
    }
}

impl Clone for Box<dyn Layer> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// Errors unless `found` is `expected` (a backward pass's `dout` against the
/// forward output).
pub(crate) fn same_shape(what: &str, expected: &[usize], found: &[usize]) -> Result<()> {
    if expected == found {
        Ok(())
    } else {
        Err(KobaiError::Shape {
            what: what.into(),
            expected: format!("expected the output's shape {expected:?}"),
            found: found.to_vec(),
        })
    }
}

/// `x` as a matrix: the first axis kept, the others flattened (the book's
/// `x.reshape(x.shape[0], -1)`). A vector is one row.
pub(crate) fn as_matrix(what: &str, x: ArrayD<f64>) -> Result<ndarray::Array2<f64>> {
    let shape = x.shape().to_vec();
    let rows = match shape.len() {
        0 => {
            return Err(KobaiError::Shape {
                what: what.into(),
                expected: "expected at least one axis".into(),
                found: shape,
            });
        }
        1 => 1,
        _ => shape[0],
    };
    let cols = x
        .len()
        .checked_div(rows)
        .unwrap_or_else(|| shape[1..].iter().product());
    let x = if x.is_standard_layout() {
        x
    } else {
        x.as_standard_layout().into_owned()
    };
    x.into_shape_with_order((rows, cols))
        .map_err(|e| KobaiError::Shape {
            what: what.into(),
            expected: format!("expected an array that flattens to rows ({e})"),
            found: shape,
        })
}

/// `a` given `shape` (the input's, for a gradient computed on its matrix
/// form), whatever `a`'s memory layout.
pub(crate) fn reshaped(
    layer: &str,
    a: ndarray::Array2<f64>,
    shape: &[usize],
) -> Result<ArrayD<f64>> {
    if a.shape() == shape {
        return Ok(a.into_dyn());
    }
    let a = if a.is_standard_layout() {
        a
    } else {
        a.as_standard_layout().into_owned()
    };
    a.into_shape_with_order(shape.to_vec())
        .map_err(|e| KobaiError::Layer {
            layer: layer.into(),
            detail: format!("cannot give a gradient the input's shape {shape:?} ({e})"),
        })
}
