//! Named parameter arrays, owned by the model.

use ndarray::{ArrayViewD, ArrayViewMutD};

/// A model's parameters, named and in a fixed order (the book's `params` dict:
/// `"W1"`, `"b1"`, `"W2"`, `"b2"`).
///
/// ```
/// use kobai::{Params, TwoLayerNet};
/// let net = TwoLayerNet::new(4, 3, 2, 0.01, 0)?;
/// let names: Vec<_> = net.params().iter().map(|(name, _)| *name).collect();
/// assert_eq!(names, ["W1", "b1", "W2", "b2"]);
/// assert_eq!(net.params()[0].1.shape(), &[4, 3]);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub trait Params {
    /// Every parameter as a read-only view, with its name.
    fn params(&self) -> Vec<(&'static str, ArrayViewD<'_, f64>)>;

    /// Every parameter as a writable view, with its name, in the same order.
    fn params_mut(&mut self) -> Vec<(&'static str, ArrayViewMutD<'_, f64>)>;

    /// The number of scalar parameters.
    fn param_count(&self) -> usize {
        self.params().iter().map(|(_, p)| p.len()).sum()
    }
}
