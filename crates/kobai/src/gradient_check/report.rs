//! What a gradient check reports: per tensor, the worst element and the verdict.

use std::fmt;

use ndarray::ArrayD;

use super::compare::Tolerance;
use crate::numerical_gradient::unravel;

/// The comparison of one parameter tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorCheck {
    /// The parameter's name, e.g. `"W1"`.
    pub name: String,
    /// The largest `|analytic − numerical|`.
    pub max_abs_diff: f64,
    /// The mean `|analytic − numerical|`.
    pub mean_abs_diff: f64,
    /// The largest relative error `|a − n| / max(|a|, |n|)` (magnitudes below
    /// 1e-3 count as 1e-3), for reading; the verdict uses `allowed`.
    pub max_rel_error: f64,
    /// The element that is furthest outside (or least inside) what is allowed.
    pub worst_index: Vec<usize>,
    /// The analytic (backprop) value there.
    pub analytic_at_worst: f64,
    /// The numerical value there.
    pub numerical_at_worst: f64,
    /// The difference allowed there.
    pub allowed_at_worst: f64,
    /// Whether every element is within what is allowed.
    pub passed: bool,
    /// Elements whose difference quotient at the first step did not settle
    /// (a ReLU kink within the step) and were differentiated again at a smaller one.
    pub rechecked: usize,
    /// Elements whose numerical derivative did not settle even then: judged
    /// with a rough error estimate, and worth a look.
    pub unreliable: usize,
    /// How many of the tensor's elements were compared: all of them, or
    /// the sample [`gradient_check_sampled`](super::gradient_check_sampled) drew.
    pub checked: usize,
}

/// How the verdict was reached.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Criterion {
    /// Each element within the numerical derivative's own error estimate plus
    /// backprop's rounding ([`gradient_check`](super::gradient_check)).
    Estimated,
    /// A fixed tolerance for every element ([`compare_gradients`](super::compare_gradients)).
    Fixed(Tolerance),
}

/// A gradient check: one [`TensorCheck`] per parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct GradientCheck {
    /// Per tensor, in parameter order.
    pub tensors: Vec<TensorCheck>,
    /// How elements were judged.
    pub criterion: Criterion,
}

impl GradientCheck {
    /// Whether every tensor passed.
    pub fn passed(&self) -> bool {
        self.tensors.iter().all(|t| t.passed)
    }
}

/// Builds a [`TensorCheck`] from `(analytic, numerical, allowed)` per element.
pub(crate) fn tensor_check(
    name: &str,
    a: &ArrayD<f64>,
    n: &ArrayD<f64>,
    allowed: impl Fn(usize, f64, f64) -> f64,
) -> TensorCheck {
    let (mut max_abs, mut sum_abs, mut max_rel) = (0.0f64, 0.0, 0.0f64);
    let mut worst = (0usize, -1.0f64, f64::NAN);
    for (i, (x, y)) in a.iter().zip(n.iter()).enumerate() {
        let diff = (x - y).abs();
        let limit = allowed(i, *x, *y);
        max_abs = max_abs.max(diff);
        sum_abs += diff;
        max_rel = max_rel.max(diff / x.abs().max(y.abs()).max(1e-3));
        // NaN counts as the worst possible error.
        let ratio = if diff.is_nan() {
            f64::INFINITY
        } else {
            diff / limit
        };
        if ratio > worst.1 || (ratio.is_nan() && worst.1 < 0.0) {
            worst = (i, ratio, limit);
        }
    }
    let flat = |arr: &ArrayD<f64>| arr.iter().nth(worst.0).copied().unwrap_or(f64::NAN);
    TensorCheck {
        checked: a.len(),
        name: name.to_string(),
        max_abs_diff: max_abs,
        mean_abs_diff: sum_abs / a.len().max(1) as f64,
        max_rel_error: max_rel,
        worst_index: unravel(worst.0, a.shape()),
        analytic_at_worst: flat(a),
        numerical_at_worst: flat(n),
        allowed_at_worst: worst.2,
        passed: worst.1 <= 1.0,
        rechecked: 0,
        unreliable: 0,
    }
}

impl fmt::Display for GradientCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As wide as the longest name (`batchnorm12.gamma`), at least 6.
        let w = self
            .tensors
            .iter()
            .map(|t| t.name.chars().count())
            .fold(6, usize::max);
        writeln!(
            f,
            "{:<w$} {:>11} {:>11} {:>11}  {:<14} {:>15} {:>15} {:>11}  {:>9} {:>10}  verdict",
            "tensor",
            "max |diff|",
            "mean |diff|",
            "max rel",
            "worst at",
            "backprop",
            "numerical",
            "allowed",
            "rechecked",
            "unreliable"
        )?;
        for t in &self.tensors {
            writeln!(
                f,
                "{:<w$} {:>11.3e} {:>11.3e} {:>11.3e}  {:<14} {:>15.8e} {:>15.8e} {:>11.3e}  {:>9} {:>10}  {}",
                t.name,
                t.max_abs_diff,
                t.mean_abs_diff,
                t.max_rel_error,
                format!("{:?}", t.worst_index),
                t.analytic_at_worst,
                t.numerical_at_worst,
                t.allowed_at_worst,
                t.rechecked,
                t.unreliable,
                if t.passed { "pass" } else { "FAIL" }
            )?;
        }
        let verdict = if self.passed() { "PASSED" } else { "FAILED" };
        match self.criterion {
            Criterion::Estimated => write!(
                f,
                "{verdict} (each |diff| within the numerical derivative's error estimate plus \
                 backprop's rounding; rechecked: elements whose difference quotient straddled \
                 a kink at h = {:e} and were redone at h = {:e})",
                super::CHECK_STEP,
                super::RECHECK_STEP
            ),
            Criterion::Fixed(tol) => write!(
                f,
                "{verdict} (relative error ≤ {:e}; magnitudes below {:e} compared absolutely)",
                tol.relative, tol.floor
            ),
        }
    }
}
