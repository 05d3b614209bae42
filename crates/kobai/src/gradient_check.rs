//! The book's `gradient_check.py`, done properly: backprop against the
//! numerical gradient, per parameter tensor, with the worst element located.
//!
//! ## What is compared, and why the tolerance holds
//!
//! The book's loss has `1e-7` inside the log; backprop
//! ([`SoftmaxWithLoss::backward`](crate::layers::SoftmaxWithLoss::backward))
//! differentiates the loss *without* it. The two gradients differ by a relative
//! `1e-7 / y_t` per sample — about 1e-6 at initialisation, and far more for a
//! confidently wrong sample (`y_t` = 1e-4 gives 1e-3). So [`gradient_check`]
//! differentiates the loss with `delta = 0` numerically: the very function
//! backprop differentiates. What remains is the central difference's own error:
//! truncation `h²/6 · |f'''|` (about 1e-9 for h = 1e-4 here) and rounding
//! `ε · |L| / h` (about 1e-11). The default [`Tolerance`] — relative 1e-5, with
//! values below 1e-3 compared absolutely (to 1e-8) — sits well above both, and
//! well below a real bug: a 1 % error in any element larger than 1e-6 fails.
//!
//! ## Kinks
//!
//! ReLU's derivative jumps at 0. When a hidden pre-activation lies within
//! `h = 1e-4` of 0, the central difference straddles the kink and averages two
//! slopes, while backprop (correctly) takes one: the two disagree although
//! nothing is wrong. With the book's initialisation this happens for a few
//! percent of batches. So every element that fails at `h = 1e-4` is
//! differentiated again at [`RECHECK_STEP`] = 1e-6 (rounding error about 1e-9,
//! still below the tolerance); if it agrees there, the check takes that value and
//! counts it in [`TensorCheck::rechecked`]. A real bug fails at both steps.

use std::fmt;

use ndarray::{ArrayD, ArrayRef2, IxDyn};

use crate::error::{KobaiError, Result};
use crate::functions::Targets;
use crate::model::{Backprop, Grads};
use crate::numerical_gradient::model_numerical_gradient;
use crate::numerical_gradient::{model_partial, unravel};

/// When an element passes: `|a − n| / max(|a|, |n|, floor) ≤ relative`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    /// The largest relative error allowed.
    pub relative: f64,
    /// Magnitudes below this are compared absolutely, to `relative · floor`.
    pub floor: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            relative: 1e-5,
            floor: 1e-3,
        }
    }
}

/// The comparison of one parameter tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorCheck {
    /// The parameter's name, e.g. `"W1"`.
    pub name: String,
    /// The largest `|analytic − numerical|`.
    pub max_abs_diff: f64,
    /// The mean `|analytic − numerical|`.
    pub mean_abs_diff: f64,
    /// The largest relative error (see [`Tolerance`]).
    pub max_rel_error: f64,
    /// Where the relative error is largest.
    pub worst_index: Vec<usize>,
    /// The analytic (backprop) value there.
    pub analytic_at_worst: f64,
    /// The numerical value there.
    pub numerical_at_worst: f64,
    /// Whether every element is within tolerance.
    pub passed: bool,
    /// Elements that failed at the book's step but agreed at [`RECHECK_STEP`]:
    /// their central difference straddled a kink (see the module docs).
    pub rechecked: usize,
}

/// The smaller step at which elements that fail at `h = 1e-4` are differentiated again.
pub const RECHECK_STEP: f64 = 1e-6;

/// Elements rechecked per tensor at most; a tensor with more failures has a real problem.
const MAX_RECHECKS: usize = 10_000;

/// A gradient check: one [`TensorCheck`] per parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct GradientCheck {
    /// Per tensor, in parameter order.
    pub tensors: Vec<TensorCheck>,
    /// The tolerance used.
    pub tolerance: Tolerance,
}

impl GradientCheck {
    /// Whether every tensor passed.
    pub fn passed(&self) -> bool {
        self.tensors.iter().all(|t| t.passed)
    }
}

/// Checks a model's backprop gradient against the numerical gradient of the
/// same (delta-free) loss, with the default [`Tolerance`].
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
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn gradient_check<M: Backprop>(
    model: &M,
    x: &ArrayRef2<f64>,
    t: &Targets<'_>,
) -> Result<GradientCheck> {
    let tolerance = Tolerance::default();
    let (_, analytic) = model.gradient(x, t)?;
    let mut numerical = model_numerical_gradient(model, x, t, 0.0)?;
    let rechecked = recheck_failures(model, (x, t), &analytic, &mut numerical, tolerance)?;
    let mut report = compare_gradients(&analytic, &numerical, tolerance)?;
    for (tensor, count) in report.tensors.iter_mut().zip(rechecked) {
        tensor.rechecked = count;
    }
    Ok(report)
}

/// Differentiates every failing element again at [`RECHECK_STEP`] and keeps the
/// new value where it agrees; returns how many were kept, per tensor.
fn recheck_failures<M: Backprop>(
    model: &M,
    (x, t): (&ArrayRef2<f64>, &Targets<'_>),
    analytic: &Grads,
    numerical: &mut Grads,
    tol: Tolerance,
) -> Result<Vec<usize>> {
    let mut probe = model.clone();
    let mut counts = Vec::new();
    for (k, (name, a)) in analytic.iter().enumerate() {
        let Some(n) = numerical.get_mut(name) else {
            continue;
        };
        let failing: Vec<usize> = a
            .iter()
            .zip(n.iter())
            .enumerate()
            .filter(|(_, (a, n))| !within(**a, **n, tol))
            .map(|(i, _)| i)
            .collect();
        let mut count = 0;
        for &i in failing.iter().take(MAX_RECHECKS) {
            let index = unravel(i, a.shape());
            let small = model_partial(&mut probe, (k, name), &index, (x, t, 0.0), RECHECK_STEP)?;
            if within(a[IxDyn(&index)], small, tol) {
                n[IxDyn(&index)] = small;
                count += 1;
            }
        }
        counts.push(count);
    }
    Ok(counts)
}

fn relative_error(a: f64, n: f64, tol: Tolerance) -> f64 {
    (a - n).abs() / a.abs().max(n.abs()).max(tol.floor)
}

fn within(a: f64, n: f64, tol: Tolerance) -> bool {
    relative_error(a, n, tol) <= tol.relative
}

/// Compares two sets of gradients tensor by tensor.
///
/// # Errors
/// [`KobaiError::Shape`] if the names, their order or the shapes differ.
///
/// ```
/// use kobai::{compare_gradients, Grads};
/// use kobai::gradient_check::Tolerance;
/// use ndarray::array;
/// let mut a = Grads::default();
/// a.push("W", array![1.0, 2.0].into_dyn());
/// let mut n = Grads::default();
/// n.push("W", array![1.0, 2.02].into_dyn());
/// let report = compare_gradients(&a, &n, Tolerance::default())?;
/// assert!(!report.passed());
/// assert_eq!(report.tensors[0].worst_index, vec![1]);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn compare_gradients(
    analytic: &Grads,
    numerical: &Grads,
    tolerance: Tolerance,
) -> Result<GradientCheck> {
    let names_a: Vec<&str> = analytic.names().collect();
    let names_n: Vec<&str> = numerical.names().collect();
    if names_a != names_n {
        return Err(KobaiError::Shape {
            what: "the numerical gradients".into(),
            expected: format!("expected the tensors {names_a:?}, found {names_n:?}"),
            found: vec![numerical.len()],
        });
    }
    let tensors = analytic
        .iter()
        .zip(numerical.iter())
        .map(|((name, a), (_, n))| compare_tensor(name, a, n, tolerance))
        .collect::<Result<Vec<_>>>()?;
    Ok(GradientCheck { tensors, tolerance })
}

fn compare_tensor(
    name: &str,
    a: &ArrayD<f64>,
    n: &ArrayD<f64>,
    tol: Tolerance,
) -> Result<TensorCheck> {
    if a.shape() != n.shape() {
        return Err(KobaiError::Shape {
            what: format!("the numerical gradient of {name}"),
            expected: format!("the backprop gradient has shape {:?}", a.shape()),
            found: n.shape().to_vec(),
        });
    }
    let (mut max_abs, mut sum_abs, mut worst) = (0.0f64, 0.0, (0usize, -1.0f64));
    for (i, (x, y)) in a.iter().zip(n.iter()).enumerate() {
        let diff = (x - y).abs();
        let rel = relative_error(*x, *y, tol);
        max_abs = max_abs.max(diff);
        sum_abs += diff;
        // NaN counts as the worst possible error.
        if rel.is_nan() || rel > worst.1 {
            worst = (i, if rel.is_nan() { f64::INFINITY } else { rel });
        }
    }
    let index = unravel(worst.0, a.shape());
    let flat = |arr: &ArrayD<f64>| arr.iter().nth(worst.0).copied().unwrap_or(f64::NAN);
    Ok(TensorCheck {
        name: name.to_string(),
        max_abs_diff: max_abs,
        mean_abs_diff: sum_abs / a.len().max(1) as f64,
        max_rel_error: worst.1.max(0.0),
        worst_index: index,
        analytic_at_worst: flat(a),
        numerical_at_worst: flat(n),
        passed: worst.1 <= tol.relative,
        rechecked: 0,
    })
}

impl fmt::Display for GradientCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<6} {:>11} {:>11} {:>11}  {:<14} {:>15} {:>15}  {:>9}  verdict",
            "tensor",
            "max |diff|",
            "mean |diff|",
            "max rel",
            "worst at",
            "backprop",
            "numerical",
            "rechecked"
        )?;
        for t in &self.tensors {
            writeln!(
                f,
                "{:<6} {:>11.3e} {:>11.3e} {:>11.3e}  {:<14} {:>15.8e} {:>15.8e}  {:>9}  {}",
                t.name,
                t.max_abs_diff,
                t.mean_abs_diff,
                t.max_rel_error,
                format!("{:?}", t.worst_index),
                t.analytic_at_worst,
                t.numerical_at_worst,
                t.rechecked,
                if t.passed { "pass" } else { "FAIL" }
            )?;
        }
        let tol = self.tolerance;
        write!(
            f,
            "{} (relative error ≤ {:e}; magnitudes below {:e} compared absolutely; \
             rechecked: elements whose h = 1e-4 difference straddled a kink and agreed at h = {:e})",
            if self.passed() { "PASSED" } else { "FAILED" },
            tol.relative,
            tol.floor,
            RECHECK_STEP
        )
    }
}
