//! The book's `common/functions.py`: activations, softmax and the cross-entropy loss.
//!
//! | book (NumPy)                  | kobai                                   |
//! |-------------------------------|-----------------------------------------|
//! | `sigmoid(x)`                  | [`sigmoid`]`(&x)`                        |
//! | `relu(x)`                     | [`relu`]`(&x)`                           |
//! | `softmax(x)`                  | [`softmax`]`(&x)?`                       |
//! | `cross_entropy_error(y, t)`   | [`cross_entropy_error`]`(&y, &t)?`       |

pub(crate) mod activations;
mod cross_entropy;
mod softmax;
mod targets;

pub use activations::{relu, sigmoid};
pub(crate) use cross_entropy::class_labels;
pub use cross_entropy::{CROSS_ENTROPY_DELTA, cross_entropy_error, cross_entropy_error_with_delta};
pub use softmax::softmax;
pub(crate) use softmax::{exp_shifted_row, softmax_entry, softmax_row};
pub use targets::Targets;
