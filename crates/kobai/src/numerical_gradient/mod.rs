//! Numerical differentiation: the book's central difference, and beyond it.
//!
//! - [`numerical_diff`] and [`numerical_gradient()`]: the book's method
//!   (central, `h = 1e-4`), bit for bit.
//! - [`FiniteDiff`]: a choice of [`Scheme`] and [`Step`];
//!   [`FiniteDiff::accurate`] (adaptive Richardson) returns an error estimate
//!   and a [`Status`] per component; [`FiniteDiff::gradient_par`] runs on all
//!   cores with the same bits.
//! - [`FiniteDiff::jacobian`] of a vector function and [`FiniteDiff::hessian`]
//!   of a scalar one, by the same schemes.
//! - Exact mode: [`exact_gradient`], [`exact_derivative`], [`exact_hessian`]
//!   with dual numbers, for functions written over any [`DualNum`].
//! - Models: [`model_numerical_gradient`] (brute force, the book's; on all
//!   cores with the same bits: `model_numerical_gradient_par`) and, for any
//!   [`StagedModel`] — a model whose loss is computed in [`Stage`]s —
//!   [`layered_numerical_gradient`]: the same quotients (to rounding, about
//!   1e-11) hundreds of times faster, reusing every stage before the perturbed
//!   parameter and recomputing only what each probe changes.
//!
//! Which to use when, with measured errors and costs:
//! [`doc::numerical_derivatives`](crate::doc::numerical_derivatives).
//!
//! The function being differentiated may return a plain `f64` or a
//! `Result<f64, KobaiError>` (see [`FunctionValue`]), so kobai's own fallible
//! functions — [`function_2`](crate::function_2), a network's loss — can be
//! passed directly, as the notebook passes `function_2`.

mod central;
mod dual;
mod estimate;
mod finite_diff;
mod function_value;
mod hessian;
mod jacobian;
mod layered;
mod layered_tail;
mod model;
#[cfg(feature = "parallel")]
mod model_parallel;
#[cfg(feature = "parallel")]
mod parallel;
mod richardson;
mod scheme;
mod staged;

pub use central::{BOOK_STEP, numerical_diff, numerical_gradient};
pub use dual::{Dual64, DualNum, HyperDual64, exact_derivative, exact_gradient, exact_hessian};
pub use estimate::{Derivative, GradientEstimate, Status};
pub use finite_diff::FiniteDiff;
pub use function_value::FunctionValue;
pub use hessian::HessianEstimate;
pub use jacobian::{JacobianEstimate, VectorValue};
pub use layered::layered_numerical_gradient;
#[cfg(feature = "parallel")]
pub use layered::layered_numerical_gradient_par;
pub use model::model_numerical_gradient;
#[cfg(feature = "parallel")]
pub use model_parallel::model_numerical_gradient_par;
pub use scheme::{Scheme, Step};
pub use staged::{Columnwise, Elementwise, Incremental, Stage, StagedModel};

pub(crate) use central::unravel;
pub(crate) use model::model_partial_estimate;
