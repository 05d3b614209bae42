//! Named parameter arrays, owned by the model.

use ndarray::{ArrayViewD, ArrayViewMutD};

/// A model's parameters, named and in a fixed order (the book's `params` dict:
/// `"W1"`, `"b1"`, `"W2"`, `"b2"`; `"affine1.W"`, `"batchnorm1.gamma"` in a
/// [`Network`](crate::nets::Network)), and its *buffers*: state saved with
/// the parameters but not learned by gradients (BatchNorm's running
/// statistics, Dropout's draw counter).
///
/// Optimizers, the gradient check and the numerical gradient work on
/// [`params`](Params::params); `.npz` files and checkpoints hold both.
///
/// ```
/// use kobai::{Params, TwoLayerNet};
/// let net = TwoLayerNet::new(4, 3, 2, 0.01, 0)?;
/// let names: Vec<_> = net.params().into_iter().map(|(name, _)| name).collect();
/// assert_eq!(names, ["W1", "b1", "W2", "b2"]);
/// assert_eq!(net.params()[0].1.shape(), &[4, 3]);
/// assert!(net.buffers().is_empty());
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub trait Params {
    /// Every learned parameter as a read-only view, with its name.
    fn params(&self) -> Vec<(String, ArrayViewD<'_, f64>)>;

    /// Every learned parameter as a writable view, with its name, in the same order.
    fn params_mut(&mut self) -> Vec<(String, ArrayViewMutD<'_, f64>)>;

    /// Every buffer as a read-only view, with its name (none by default).
    fn buffers(&self) -> Vec<(String, ArrayViewD<'_, f64>)> {
        Vec::new()
    }

    /// Every parameter, then every buffer, as writable views with their
    /// names, in the order of [`params`](Params::params) then
    /// [`buffers`](Params::buffers). Only a model with buffers implements it.
    fn params_and_buffers_mut(&mut self) -> Vec<(String, ArrayViewMutD<'_, f64>)> {
        self.params_mut()
    }

    /// The network's architecture as one line of text, saved in `.npz` files
    /// and checkpoints so that a file is loaded only into the network it was
    /// written from (`None` for a model that does not describe itself).
    fn architecture(&self) -> Option<String> {
        None
    }

    /// The number of scalar parameters.
    fn param_count(&self) -> usize {
        self.params().iter().map(|(_, p)| p.len()).sum()
    }
}

/// Everything a file saves of a model: its parameters, then its buffers.
#[cfg(feature = "npz")]
pub(crate) fn saved<M: Params + ?Sized>(model: &M) -> Vec<(String, ArrayViewD<'_, f64>)> {
    let mut all = model.params();
    all.extend(model.buffers());
    all
}

/// [`saved`], writable, in the same order.
#[cfg(feature = "npz")]
pub(crate) fn saved_mut<M: Params + ?Sized>(
    model: &mut M,
) -> Vec<(String, ArrayViewMutD<'_, f64>)> {
    model.params_and_buffers_mut()
}
