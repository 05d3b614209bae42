//! # Numerical derivatives: which mode, when, and how accurate
//!
//! kobai differentiates a function you can only evaluate in four ways. The
//! numbers below are measured by
//! `cargo run --release -p kobai --example accuracy_table` (this machine,
//! 2026-11-29); `tests/accuracy.rs` asserts the goals on every run.
//!
//! | mode | call | calls of `f` | error | use it when |
//! |---|---|---|---|---|
//! | the book's | [`numerical_gradient()`](crate::numerical_gradient()) or [`FiniteDiff::book`] | 2 per component | up to 1e-2 relative (1/x at 1e-3) | reproducing the book, bit for bit |
//! | fixed schemes | [`FiniteDiff::new`]`(`[`Scheme`]`)` | 2 (central, forward, backward) or 4 (five-point) | 1e-7 … 1e-12 when `h` suits `f`, far worse when not (five-point: 2.2 relative for 1/x at 1e-3) | you know the right step, and speed matters more than an error bar |
//! | **accurate** (default) | [`FiniteDiff::accurate`] | ≤ 8 per component (16 when it redoes a table) | ≤ 5.2e-13 relative on every case below, with an error estimate and a [`Status`] per component | a black-box function: checking a gradient, a model, a formula |
//! | exact | [`exact_gradient`], [`exact_hessian`] | 1 per component | ≤ 2e-16 relative: rounding only | `f` is written generically over its number type ([`DualNum`]) |
//!
//! [`FiniteDiff::book`]: crate::numerical_gradient::FiniteDiff::book
//! [`FiniteDiff::new`]: crate::numerical_gradient::FiniteDiff::new
//! [`FiniteDiff::accurate`]: crate::numerical_gradient::FiniteDiff::accurate
//! [`Scheme`]: crate::numerical_gradient::Scheme
//! [`Status`]: crate::numerical_gradient::Status
//! [`exact_gradient`]: crate::numerical_gradient::exact_gradient
//! [`exact_hessian`]: crate::numerical_gradient::exact_hessian
//! [`DualNum`]: crate::numerical_gradient::DualNum
//!
//! ## The table
//!
//! Largest relative error over the components, and calls of `f` per component,
//! for each test function at its point (the exact derivative is known for each;
//! the simpleNet case is the notebook's loss without the 1e-7 inside the log,
//! whose exact gradient is `outer(x, softmax(xW) − t)`). "estimate / true error"
//! is the smallest ratio of the accurate mode's error estimate to its true error
//! over the components: above 1 means the estimate never undershot.
//!
#![doc = include_str!("accuracy_table.md")]
//!
//! ## Reading it
//!
//! - **The book's fixed `h = 1e-4`** is fine where the function changes on a
//!   scale of 1 and poor where it does not: 1/x at 1e-3 (the step is a tenth of
//!   the distance to the pole) is 1 % off, log at 0.01 3e-5 off.
//! - **A textbook step rule** (`h = ε^(1/3) · max(|x|, 1)` for central) fixes
//!   the scale of `x` but not of `f`: sin at 1e4 takes `h` = 0.06 and is 6e-4 off;
//!   five-point differences at their own rule are worse there.
//! - **The accurate mode** chooses the step from the function: a probe at a tiny
//!   step tells how big `f` and `f'` are, the step is then set so that rounding
//!   costs at most 1e-12 of the derivative, and central differences at four (or
//!   three) halving steps are extrapolated to cancel the `h²`, `h⁴`, `h⁶` terms.
//!   The differences between the extrapolations give the error estimate; a
//!   table whose differences do not shrink as theory says, or that disagrees
//!   with the probe, is redone at a smaller step and otherwise marked
//!   [`Status::Unreliable`](crate::numerical_gradient::Status::Unreliable).
//!   Where `f` is NaN or infinite near `x` the step shrinks, or the differences
//!   go one-sided, and the status says so.
//! - **The error estimate assumes `f` is accurate to a few ulps.** For a
//!   function with noise of 1e-9 relative (x² times a hash), 1 derivative in
//!   1000 was reported converged with an estimate 227× below its true error;
//!   the other 999 were flagged unreliable or covered by their estimate
//!   (`tests/finite_diff.rs`). Noise is the one thing 8 evaluations cannot always see.
//! - **The exact mode** has no step at all: dual numbers carry the derivative
//!   through every operation, so the only error is rounding. It needs `f`
//!   written for any `T: DualNum<Primitive = f64>`.
//!
//! ## Also
//!
//! - [`FiniteDiff::gradient_par`](crate::numerical_gradient::FiniteDiff::gradient_par)
//!   spreads components over threads with the same bits as the serial result.
//! - [`gradient_check`](crate::gradient_check()) judges every element of a
//!   backprop gradient against the accurate mode's error estimate, and
//!   [`gradient_check_fast`](crate::gradient_check_fast) checks random
//!   directional derivatives and bisects to a bad element.
