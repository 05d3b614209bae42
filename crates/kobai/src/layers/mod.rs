//! The book's layers (chapter 5), forward and backward side by side.
//!
//! A layer's `forward` returns its output and a *cache* — what `backward` needs
//! — as a value, instead of storing it in the layer. A forward pass therefore
//! changes nothing, and the same model can run on several threads at once.
//! Layers with weights borrow them from the model that owns them.

mod affine;
mod relu;
mod sigmoid;
mod softmax_with_loss;

pub use affine::{Affine, AffineCache, AffineGrads};
pub use relu::{Relu, ReluCache};
pub use sigmoid::{Sigmoid, SigmoidCache};
pub use softmax_with_loss::{SoftmaxWithLoss, SoftmaxWithLossCache};
