//! Layers: the book's chapters 5 to 7, forward and backward side by side,
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
//! | `Convolution(W, b, stride, pad)` | [`Convolution`] (also told its input image shape (C, H, W); kind `conv`) |
//! | `Pooling(pool_h, pool_w, stride, pad)` | [`Pooling`] with [`PoolKind::Max`]; also [`PoolKind::Average`] (kind `pool`) |
//! | `im2col`, `col2im` (`common/util.py`) | [`im2col`], [`col2im`], over a [`Window`] |
//!
//! After a convolution or a pooling, an [`Affine`] layer takes the images
//! (N, C, H, W) as rows of C·H·W values and gives its input gradient back in
//! their shape, as the book's `Affine` does: no flattening layer is needed.
//! A [`Convolution`] takes either images or such rows, so it can be the
//! first layer of a [`Network`](crate::nets::Network), which feeds rows.
//!
//! Write your own by implementing [`Layer`]; put it in a
//! [`Network`](crate::nets::Network) and it trains, checks, saves and resumes
//! like the built-in ones (see `examples/custom_layer.rs`).

mod affine;
mod batch_norm;
mod convolution;
mod dropout;
mod im2col;
mod layer;
mod pooling;
mod relu;
mod sigmoid;
mod softmax_with_loss;
mod tanh;

pub use affine::{Affine, AffineCache, AffineGrads, AffineView};
pub use batch_norm::{BATCH_NORM_EPSILON, BATCH_NORM_MOMENTUM, BatchNorm};
pub use convolution::Convolution;
pub use dropout::Dropout;
pub use im2col::{Window, col2im, im2col};
pub use layer::{Backward, Cache, Forward, Layer, LayerClone, Mode, ParamKind};
pub use pooling::{PoolKind, Pooling};
pub use relu::Relu;
pub use sigmoid::Sigmoid;
pub use softmax_with_loss::{SoftmaxWithLoss, SoftmaxWithLossCache};
pub use tanh::Tanh;
