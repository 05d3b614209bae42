//! Buffers that one thread reuses from one training step to the next.

use std::cell::RefCell;

use crate::kernels::{PaddedMatrix, Real, SparseRows};

/// Everything the fused backprop writes, kept between calls so a step
/// allocates only its returned gradients.
#[derive(Debug, Default)]
pub(crate) struct Workspace<T> {
    /// The batch's non-zero inputs.
    pub(crate) x: SparseRows<T>,
    /// `W1` rounded to `T`, padded.
    pub(crate) w1: PaddedMatrix<T>,
    /// The hidden activations.
    pub(crate) h: PaddedMatrix<T>,
    /// The gradient at the hidden pre-activations.
    pub(crate) da1: PaddedMatrix<T>,
    /// The gradient of `W1`.
    pub(crate) dw1: PaddedMatrix<T>,
    /// A deeper network's buffers for each Affine layer between its first
    /// and its last (empty for the two-layer net).
    pub(crate) dense: Vec<DenseBuffers<T>>,
}

/// What the fused backprop of a [`Network`](crate::nets::Network) keeps for
/// an Affine layer after the first and before the last: its weights and its
/// output in `T`, padded, and their gradients.
#[derive(Debug, Default)]
pub(crate) struct DenseBuffers<T> {
    /// The weights rounded to `T`, one row per padded input column (the
    /// rows beyond the real inputs zero), padded columns zero.
    pub(crate) w: PaddedMatrix<T>,
    /// The gradient of `w`, the same shape.
    pub(crate) dw: PaddedMatrix<T>,
    /// The layer's activations after its ReLU.
    pub(crate) h: PaddedMatrix<T>,
    /// The gradient at its pre-activations.
    pub(crate) delta: PaddedMatrix<T>,
}

thread_local! {
    static F32: RefCell<Workspace<f32>> = RefCell::default();
    static F64: RefCell<Workspace<f64>> = RefCell::default();
}

/// Runs `f` with this thread's workspace for `T`, or with a fresh one when
/// it is already in use (a rayon worker that steals another step while it
/// waits inside one).
pub(crate) fn with_workspace<T: Real, R>(f: impl FnOnce(&mut Workspace<T>) -> R) -> R {
    T::with_thread_workspace(|cell| match cell.try_borrow_mut() {
        Ok(mut workspace) => f(&mut workspace),
        Err(_) => f(&mut Workspace::default()),
    })
}

/// Access to the per-thread workspace of one element type.
pub(crate) trait ThreadWorkspace: Sized {
    /// Runs `f` on this thread's cell.
    fn with_thread_workspace<R>(f: impl FnOnce(&RefCell<Workspace<Self>>) -> R) -> R;
}

impl ThreadWorkspace for f32 {
    fn with_thread_workspace<R>(f: impl FnOnce(&RefCell<Workspace<Self>>) -> R) -> R {
        F32.with(f)
    }
}

impl ThreadWorkspace for f64 {
    fn with_thread_workspace<R>(f: impl FnOnce(&RefCell<Workspace<Self>>) -> R) -> R {
        F64.with(f)
    }
}
