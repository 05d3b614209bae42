//! The fused engines for a [`Network`] that is a stack of Affine and ReLU
//! layers: the sparse first-layer kernels of `fast_backprop.rs`, then dense
//! products, in `f32` or `f64`.

use ndarray::{ArrayRef2, ArrayView2};

use super::network::Network;
use crate::data::Dataset;
use crate::error::Result;
use crate::functions::Targets;
use crate::kernels::Real;
use crate::model::Grads;

/// Whether the fused engines cover `net` (none yet: the layers run).
pub(crate) fn covers(_net: &Network) -> bool {
    false
}

/// The loss and gradients of `net` on `(x, t)`, computed in `T`.
pub(crate) fn gradient<T: Real>(
    net: &Network,
    x: &ArrayRef2<f64>,
    t: &Targets<'_>,
) -> Result<(f64, Grads)> {
    let _ = (net, x, t);
    unreachable!("covers() is false")
}

/// [`gradient`] on the samples `indices` of a dataset held as bytes.
pub(crate) fn batch_gradient<T: Real>(
    net: &Network,
    data: &Dataset,
    bytes: (ArrayView2<'_, u8>, f64),
    indices: &[usize],
) -> Result<(f64, Grads)> {
    let _ = (net, data, bytes, indices);
    unreachable!("covers() is false")
}
