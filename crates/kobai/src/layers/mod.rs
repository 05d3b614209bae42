//! Layers: the book's chapters 5 and 6, forward and backward side by side,
//! and the [`Layer`] trait through which a network — and every tool that
//! works on networks — uses them.
//!
//! A layer's `forward` returns its output and a [`Cache`] — what `backward`
//! needs — as a value, instead of storing it in the layer. A forward pass
//! therefore changes nothing, and the same network can run on several
//! threads at once. State that training moves (BatchNorm's running
//! statistics, Dropout's draw counter) is a *buffer*: a forward pass proposes
//! its new value ([`Forward::updates`]) and the optimizer step applies it.
//!
//! | book (`common/layers.py`) | kobai            |
//! |---------------------------|------------------|
//! | `Affine(W, b)`            | [`Affine`] (and [`AffineView`], its arithmetic on borrowed weights) |
//! | `Relu()`, `Sigmoid()`     | [`Relu`], [`Sigmoid`]; also [`Tanh`] |
//! | `Dropout(ratio)`          | [`Dropout`] (seeded masks) |
//! | `BatchNormalization(γ, β)`| [`BatchNorm`]    |
//! | `SoftmaxWithLoss()`       | [`SoftmaxWithLoss`]: the loss head after the layers |
//!
//! Write your own by implementing [`Layer`]; put it in a
//! [`Network`](crate::nets::Network) and it trains, checks, saves and resumes
//! like the built-in ones (see `examples/custom_layer.rs`).

mod affine;
mod batch_norm;
mod dropout;
mod layer;
mod relu;
mod sigmoid;
mod softmax_with_loss;
mod tanh;

pub use affine::{Affine, AffineCache, AffineGrads, AffineView};
pub use batch_norm::{BATCH_NORM_EPSILON, BATCH_NORM_MOMENTUM, BatchNorm};
pub use dropout::Dropout;
pub use layer::{Backward, Cache, Forward, Layer, LayerClone, Mode, ParamKind};
pub use relu::Relu;
pub use sigmoid::Sigmoid;
pub use softmax_with_loss::{SoftmaxWithLoss, SoftmaxWithLossCache};
pub use tanh::Tanh;
