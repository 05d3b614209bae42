//! The book's `gradient_check.py`, done properly: backprop against the
//! numerical gradient, per parameter tensor, each element judged against the
//! numerical derivative's own error estimate, the worst element located.
//!
//! ## What is compared
//!
//! The book's loss has `1e-7` inside the log; backprop
//! ([`SoftmaxWithLoss::backward`](crate::layers::SoftmaxWithLoss::backward))
//! differentiates the loss *without* it. The two gradients differ by a relative
//! `1e-7 / y_t` per sample — about 1e-6 at initialisation, far more for a
//! confidently wrong sample. So the check differentiates the loss with
//! `delta = 0` numerically: the very function backprop differentiates.
//!
//! ## How each element is judged: [`gradient_check`]
//!
//! Every element's partial derivative comes from
//! [`FiniteDiff::accurate`](crate::numerical_gradient::FiniteDiff::accurate)
//! started at the book's step [`CHECK_STEP`] = 1e-4 (central differences at
//! 1e-4, 5e-5, 2.5e-5, 1.25e-5, Richardson-extrapolated: 8 loss evaluations),
//! which comes with an error estimate. An element passes when
//!
//! ```text
//! |backprop − numerical| ≤ error estimate + 1000 ε · (|backprop| + max |backprop| in the tensor)
//! ```
//!
//! — the second term is backprop's own rounding. There is no fixed tolerance
//! to tune: on the book's 784-50-10 network the allowed difference is around
//! 1e-11, so an error of one part in a million in one element fails.
//!
//! ## Kinks
//!
//! ReLU's derivative jumps at 0. When a hidden pre-activation lies within the
//! step of 0, the differences straddle the kink and the extrapolation does not
//! settle ([`Status::Unreliable`](crate::numerical_gradient::Status)). Such
//! elements are differentiated again starting at [`RECHECK_STEP`] = 1e-6 and
//! counted in [`TensorCheck::rechecked`]; the few that still do not settle are
//! counted in [`TensorCheck::unreliable`] and judged with their rough estimate.
//!
//! ## A fast check: [`gradient_check_fast`]
//!
//! Instead of every element, compare directional derivatives along random ±1
//! directions: one numerical derivative per direction, whatever the number of
//! parameters, and bisection to find a bad element. See [`ProjectionCheck`].

mod compare;
mod projection;
mod report;

pub use compare::{Tolerance, compare_gradients};
pub use projection::{Located, Projection, ProjectionCheck, gradient_check_fast, projection_check};
pub use report::{Criterion, GradientCheck, TensorCheck};

use ndarray::{ArrayD, ArrayRef2};

use crate::error::Result;
use crate::functions::Targets;
use crate::model::{Backprop, Grads};
use crate::numerical_gradient::{Derivative, FiniteDiff, Step, model_partial_estimate, unravel};
use report::tensor_check;

/// The largest of the four steps of each element's numerical derivative: the book's.
pub const CHECK_STEP: f64 = 1e-4;

/// The largest step for elements whose derivative at [`CHECK_STEP`] did not settle.
pub const RECHECK_STEP: f64 = 1e-6;

/// Backprop's rounding allowance, in units of ε times the magnitudes involved.
const BACKPROP_ULPS: f64 = 1000.0;

/// Checks a model's backprop gradient against the numerical gradient of the
/// same (delta-free) loss, element by element, each within its numerical
/// error estimate (see the module docs). Costs 8 loss evaluations per
/// parameter (16 for a rechecked one): use a small batch.
///
/// # Errors
/// The errors of the model's loss and backprop (shapes, labels, non-finite values).
///
/// ```
/// use kobai::{gradient_check, TwoLayerNet};
/// use ndarray::array;
/// let net = TwoLayerNet::new(3, 5, 2, 0.5, 3)?;
/// let x = array![[0.1, 0.9, 0.4], [0.7, 0.2, 0.5]];
/// let report = gradient_check(&net, &x, &(&[1usize, 0]).into())?;
/// assert!(report.passed(), "{report}");
/// assert!(report.tensors[0].allowed_at_worst < 1e-9);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn gradient_check<M: Backprop + Send + Sync>(
    model: &M,
    x: &ArrayRef2<f64>,
    t: &Targets<'_>,
) -> Result<GradientCheck> {
    let (_, analytic) = model.gradient(x, t)?;
    let first = FiniteDiff::accurate().step(Step::Fixed(CHECK_STEP));
    let again = FiniteDiff::accurate().step(Step::Fixed(RECHECK_STEP));
    let names: Vec<String> = model.params().into_iter().map(|(name, _)| name).collect();
    let mut tensors = Vec::with_capacity(names.len());
    for (k, name) in names.into_iter().enumerate() {
        let Some(a) = analytic.get(&name) else {
            continue;
        };
        let (numerical, error, rechecked, unreliable) =
            element_derivatives(model, (k, &name), a, (x, t), (&first, &again))?;
        let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut check = tensor_check(&name, a, &numerical, |i, av, _| {
            error.as_slice().map_or(f64::NAN, |e| e[i])
                + BACKPROP_ULPS * f64::EPSILON * (av.abs() + scale)
        });
        check.rechecked = rechecked;
        check.unreliable = unreliable;
        tensors.push(check);
    }
    Ok(GradientCheck {
        tensors,
        criterion: Criterion::Estimated,
    })
}

/// Numerical derivatives and error estimates of every element of parameter
/// `k`, with the recheck at the smaller step; also the recheck and unreliable
/// counts. Elements are spread over rayon's threads (feature `parallel`), each
/// thread with its own copy of the model: the numbers do not depend on it.
fn element_derivatives<M: Backprop + Send + Sync>(
    model: &M,
    (k, name): (usize, &str),
    a: &ArrayD<f64>,
    (x, t): (&ArrayRef2<f64>, &Targets<'_>),
    (first, again): (&FiniteDiff, &FiniteDiff),
) -> Result<(ArrayD<f64>, ArrayD<f64>, usize, usize)> {
    let one = |probe: &mut M, i: usize| -> Result<(Derivative, bool)> {
        let index = unravel(i, a.shape());
        let d = model_partial_estimate(probe, (k, name), &index, (x, t, 0.0), first)?;
        if d.status.is_trusted() {
            return Ok((d, false));
        }
        let small = model_partial_estimate(probe, (k, name), &index, (x, t, 0.0), again)?;
        let better = small.status.is_trusted() || small.error < d.error;
        Ok((if better { small } else { d }, true))
    };
    #[cfg(feature = "parallel")]
    let results: Vec<Result<(Derivative, bool)>> = {
        use rayon::prelude::*;
        (0..a.len())
            .into_par_iter()
            .map_init(|| model.clone(), one)
            .collect()
    };
    #[cfg(not(feature = "parallel"))]
    let results: Vec<Result<(Derivative, bool)>> = {
        let mut probe = model.clone();
        (0..a.len()).map(|i| one(&mut probe, i)).collect()
    };
    let mut numerical = ArrayD::zeros(a.raw_dim());
    let mut error = ArrayD::zeros(a.raw_dim());
    let (mut rechecked, mut unreliable) = (0, 0);
    for ((n, e), result) in numerical.iter_mut().zip(error.iter_mut()).zip(results) {
        let (d, redone) = result?;
        *n = d.value;
        *e = d.error.unwrap_or(f64::INFINITY);
        rechecked += usize::from(redone);
        unreliable += usize::from(!d.status.is_trusted());
    }
    Ok((numerical, error, rechecked, unreliable))
}

/// The numerical gradient that [`gradient_check`] compares with, as [`Grads`]
/// (useful for plotting or for [`compare_gradients`]).
///
/// # Errors
/// As [`gradient_check`].
///
/// ```
/// use kobai::{Backprop, TwoLayerNet};
/// use kobai::gradient_check::estimated_gradient;
/// use ndarray::array;
/// let net = TwoLayerNet::new(2, 3, 2, 0.5, 1)?;
/// let (x, t) = (array![[0.6, 0.9]], (&[1usize]).into());
/// let (numerical, errors) = estimated_gradient(&net, &x, &t)?;
/// let (_, exact) = net.gradient(&x, &t)?;
/// let diff = (&numerical["W2"] - &exact["W2"]).mapv(f64::abs);
/// assert!(diff.iter().zip(errors["W2"].iter()).all(|(d, e)| d <= e));
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn estimated_gradient<M: Backprop + Send + Sync>(
    model: &M,
    x: &ArrayRef2<f64>,
    t: &Targets<'_>,
) -> Result<(Grads, Grads)> {
    let first = FiniteDiff::accurate().step(Step::Fixed(CHECK_STEP));
    let again = FiniteDiff::accurate().step(Step::Fixed(RECHECK_STEP));
    let (mut values, mut errors) = (Grads::default(), Grads::default());
    let params: Vec<(String, ArrayD<f64>)> = model
        .params()
        .into_iter()
        .map(|(name, p)| (name, ArrayD::zeros(p.raw_dim())))
        .collect();
    for (k, (name, shape_of)) in params.iter().enumerate() {
        let (n, e, _, _) =
            element_derivatives(model, (k, name), shape_of, (x, t), (&first, &again))?;
        values.push(name.as_str(), n);
        errors.push(name.as_str(), e);
    }
    Ok((values, errors))
}
