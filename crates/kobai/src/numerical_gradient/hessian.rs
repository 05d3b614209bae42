//! [`FiniteDiff::hessian`]: the Hessian of a scalar function by central second
//! differences, for an input array of any dimension.
//!
//! ```text
//! H[i, i] ≈ (f(x + h_i·e_i) − 2f(x) + f(x − h_i·e_i)) / h_i²
//! H[i, j] ≈ (f(x + h_i·e_i + h_j·e_j) − f(x + h_i·e_i − h_j·e_j)
//!          − f(x − h_i·e_i + h_j·e_j) + f(x − h_i·e_i − h_j·e_j)) / (4·h_i·h_j)
//! ```
//!
//! Both have errors in `h²`, `h⁴`, … (the off-diagonal one when `h_i` and
//! `h_j` halve together), so Richardson extrapolation works on them as on
//! central first differences. The divisions use the distances between the
//! points actually used (`(x + h) − x`, not `h`).
//!
//! Steps, with `s_i = max(|x_i|, 1)`:
//! - [`Scheme::Central`]: `h_i = ε^(1/4) · s_i` for [`Step::Auto`] (balancing
//!   the truncation `h²` against the rounding `ε/h²`), `h` for
//!   [`Step::Fixed`], `c · s_i` for [`Step::Relative`].
//! - [`Scheme::Richardson`] with a fixed or relative step: that step is the
//!   largest of four halving levels, for the diagonal and (as `(h_i, h_j)`) for
//!   the off-diagonal entries.
//! - [`Scheme::Richardson`] with [`Step::Auto`]: each diagonal entry runs the
//!   adaptive search of [`FiniteDiff::jacobian`] adapted to second
//!   differences: a probe at `h ≈ 1e-3 · s_i` (power of two; 32× smaller, at
//!   most twice, while `f` is not finite), then a step grown until rounding at
//!   the smallest level is `≤ 1e-12` of `H[i, i]` (so `h ∝ √|f / H[i, i]|`), at
//!   most `0.1 · s_i`, four levels at each grown step, and one retry 8× smaller
//!   when the tableau does not settle. `H[i, j]` uses the largest steps of the
//!   tables of `H[i, i]` and `H[j, j]`, and is retried once from
//!   `(h_i, h_j) / 8` when it does not settle.
//!
//! Forward, backward and five-point schemes are not offered: central second
//! differences, plain or extrapolated, cover both cheap and accurate use.

use ndarray::{Array, Array2, ArrayRef, Dimension, Ix2};

use super::central::unravel;
use super::estimate::{GradientEstimate, Status};
use super::finite_diff::FiniteDiff;
use super::function_value::FunctionValue;
use super::jacobian::{Level, Plan, adaptive};
use super::richardson::{F_ULPS, Quotient, Table, halvings, power_of_two};
use super::scheme::{Scheme, Step};
use crate::check;
use crate::error::{KobaiError, Result};

/// The relative probe step for second differences.
const PROBE: f64 = 1e-3;

/// Second differences: rounding grows like `h⁻²`.
const SECOND_DIFFERENCES: Plan = Plan {
    power: 2,
    shrink: 32.0,
    grown_levels: 4,
    retry: 8.0,
};

/// A numerical Hessian: `n × n`, symmetric, with an error estimate and a
/// status per entry.
///
/// ```
/// use kobai::numerical_gradient::FiniteDiff;
/// use ndarray::array;
/// let h = FiniteDiff::accurate().hessian(kobai::rosenbrock, &array![1.0, 1.0])?;
/// assert!((&h.value - &array![[802.0, -400.0], [-400.0, 200.0]]).iter().all(|d| d.abs() < 1e-8));
/// assert!(h.all_trusted() && h.max_error().unwrap() < 1e-6);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub type HessianEstimate = GradientEstimate<Ix2>;

impl FiniteDiff {
    /// The Hessian of a scalar function at `x`, for an array `x` of any
    /// dimension (`n = x.len()` elements in row-major order), by central second
    /// differences (see the formulas and step rules in the module docs), with
    /// an error estimate per entry for [`Scheme::Richardson`].
    ///
    /// `f` receives a private copy of `x` with one or two elements changed; the
    /// caller's `x` is never touched. Calls of `f`, for `n ≥ 1`:
    ///
    /// ```text
    /// central                          1 + 2n + 2n(n − 1) = 1 + 2n²
    /// richardson, fixed/relative step  1 + 8n + 8n(n − 1) = 1 + 8n²
    /// richardson, Step::Auto           1 + per diagonal entry 2 + 8 per grown
    ///                                  step tried (+ 6 for the probe's table,
    ///                                  + 6 to 8 for a retry) + 16 per pair
    ///                                  (+ 12 for a retry)
    /// ```
    ///
    /// An empty `x` gives a `0 × 0` Hessian without calling `f`.
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`] for [`Scheme::Forward`],
    /// [`Scheme::Backward`] or [`Scheme::FivePoint`], for a step that is not
    /// finite and above 0, or for a step so small that `x ± h = x`;
    /// [`KobaiError::NonFinite`] if `x` is not finite, or if `f` is NaN or
    /// infinite at a probe point (the message names the Hessian entry); any
    /// error `f` returns.
    ///
    /// ```
    /// use kobai::numerical_gradient::{FiniteDiff, Scheme};
    /// use ndarray::array;
    /// // f = exp(x0·x1): H = e^(x0·x1) [[x1², 1 + x0·x1], [1 + x0·x1, x0²]].
    /// let f = |x: &ndarray::ArrayRef1<f64>| (x[0] * x[1]).exp();
    /// let x = array![0.5, 1.0];
    /// let e = 0.5f64.exp();
    /// let exact = array![[e, 1.5 * e], [1.5 * e, 0.25 * e]];
    /// let h = FiniteDiff::accurate().hessian(f, &x)?;
    /// assert!((&h.value - &exact).iter().all(|d| d.abs() < 1e-9));
    /// let central = FiniteDiff::new(Scheme::Central).hessian(f, &x)?;
    /// assert!((&central.value - &exact).iter().all(|d| d.abs() < 1e-6));
    /// assert_eq!(central.evaluations, 1 + 2 * 2 * 2);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn hessian<F, R, D>(&self, f: F, x: &ArrayRef<f64, D>) -> Result<HessianEstimate>
    where
        F: FnMut(&ArrayRef<f64, D>) -> R,
        R: FunctionValue,
        D: Dimension,
    {
        if !matches!(self.scheme, Scheme::Central | Scheme::Richardson) {
            return Err(KobaiError::Hyperparameter {
                name: "scheme",
                value: self.scheme.name().into(),
                expected: "central or richardson (the schemes the Hessian supports)",
            });
        }
        self.step.validate()?;
        check::finite("x", x)?;
        let n = x.len();
        let richardson = self.scheme == Scheme::Richardson;
        let mut value = Array2::zeros((n, n));
        let mut error = Array2::zeros((n, n));
        let mut status = Array2::from_elem((n, n), Status::NotEstimated);
        let mut calls = Calls {
            f,
            probe: x.as_standard_layout().into_owned(),
            shape: x.shape().to_vec(),
            evaluations: 0,
        };
        let mut steps = vec![0.0; n];
        if n == 0 {
            return Ok(HessianEstimate {
                value,
                error: richardson.then_some(error),
                status,
                evaluations: 0,
            });
        }
        let f0 = calls.at(&[])?;
        check::finite_scalar("f(x)", || "the point of differentiation".into(), f0)?;
        for i in 0..n {
            let xi = calls.element(i);
            if richardson {
                let first = match self.step {
                    Step::Auto => None,
                    step => Some(step.for_scheme(Scheme::Richardson, xi)),
                };
                let probe = power_of_two(PROBE * xi.abs().max(1.0));
                let level = |h| -> Result<Level> { Ok(calls.diagonal(f0, i, h)?.map(|q| vec![q])) };
                let entries = adaptive(&SECOND_DIFFERENCES, xi, probe, first, level)?;
                for e in entries {
                    (value[[i, i]], error[[i, i]], status[[i, i]]) = (e.value, e.error, e.status);
                    steps[i] = e.step;
                }
            } else {
                steps[i] = match self.step {
                    Step::Auto => f64::EPSILON.powf(0.25) * xi.abs().max(1.0),
                    step => step.for_scheme(Scheme::Central, xi),
                };
                value[[i, i]] = calls.diagonal(f0, i, steps[i])??.value;
            }
        }
        for i in 0..n {
            for j in i + 1..n {
                let (v, e, s) = if richardson {
                    let shrunk = [i, j].map(|k| status[[k, k]] == Status::StepShrunk);
                    let retry = self.step == Step::Auto;
                    let (v, e, settled) =
                        calls.mixed_richardson((i, steps[i]), (j, steps[j]), retry)?;
                    let s = match (settled, shrunk.contains(&true)) {
                        (false, _) => Status::Unreliable,
                        (true, true) => Status::StepShrunk,
                        (true, false) => Status::Converged,
                    };
                    (v, e, s)
                } else {
                    let q = calls.mixed((i, steps[i]), (j, steps[j]))??;
                    (q.value, 0.0, Status::NotEstimated)
                };
                for (a, b) in [(i, j), (j, i)] {
                    (value[[a, b]], error[[a, b]], status[[a, b]]) = (v, e, s);
                }
            }
        }
        Ok(HessianEstimate {
            value,
            error: richardson.then_some(error),
            status,
            evaluations: calls.evaluations,
        })
    }
}

/// A second difference, or the NonFinite error that says where `f` was not finite.
type Second = std::result::Result<Quotient, KobaiError>;

/// Calls of `f` on a private copy of `x`, counted.
struct Calls<F, D: Dimension> {
    f: F,
    probe: Array<f64, D>,
    shape: Vec<usize>,
    evaluations: usize,
}

impl<F, R, D> Calls<F, D>
where
    F: FnMut(&ArrayRef<f64, D>) -> R,
    R: FunctionValue,
    D: Dimension,
{
    fn slots(&mut self) -> &mut [f64] {
        self.probe
            .as_slice_mut()
            .expect("a standard-layout copy is contiguous")
    }

    fn element(&mut self, i: usize) -> f64 {
        self.slots()[i]
    }

    /// `f` with the given elements changed (then restored).
    fn at(&mut self, changes: &[(usize, f64)]) -> Result<f64> {
        let saved: Vec<f64> = changes
            .iter()
            .map(|&(i, v)| std::mem::replace(&mut self.slots()[i], v))
            .collect();
        self.evaluations += 1;
        let y = (self.f)(&self.probe).into_result();
        for (&(i, _), v) in changes.iter().zip(saved).rev() {
            self.slots()[i] = v;
        }
        y
    }

    /// `f` at a probe point, or the NonFinite error naming Hessian entry `[i, j]`.
    fn finite_at(
        &mut self,
        changes: &[(usize, f64)],
        what: &str,
        (i, j): (usize, usize),
    ) -> Result<Second> {
        let y = self.at(changes)?;
        if y.is_finite() {
            return Ok(Ok(Quotient::plain(y, 0.0)));
        }
        let index = |k| check::index_text(&unravel(k, &self.shape));
        let place = if i == j {
            index(i)
        } else {
            format!("{} and {}", index(i), index(j))
        };
        Ok(Err(KobaiError::NonFinite {
            what: what.into(),
            at: format!("Hessian entry [{i}, {j}] (x index {place})"),
            value: y,
        }))
    }

    /// The points `x_i ± h` and their distances from `x_i`; an error if one is 0.
    fn points(&mut self, i: usize, h: f64) -> Result<[f64; 4]> {
        let xi = self.element(i);
        let (plus, minus) = (xi + h, xi - h);
        let (up, down) = (plus - xi, xi - minus);
        if up > 0.0 && down > 0.0 {
            Ok([plus, minus, up, down])
        } else {
            Err(KobaiError::Hyperparameter {
                name: "h",
                value: crate::error::short_number(h),
                expected: "a step large enough to change every element of x",
            })
        }
    }

    /// The second difference along element `i` at step `h`.
    fn diagonal(&mut self, f0: f64, i: usize, h: f64) -> Result<Second> {
        let [plus, minus, up, down] = self.points(i, h)?;
        let fp = match self.finite_at(&[(i, plus)], "f(x + h)", (i, i))? {
            Ok(q) => q.value,
            Err(e) => return Ok(Err(e)),
        };
        let fm = match self.finite_at(&[(i, minus)], "f(x - h)", (i, i))? {
            Ok(q) => q.value,
            Err(e) => return Ok(Err(e)),
        };
        let value = ((fp - f0) / up - (f0 - fm) / down) * 2.0 / (up + down);
        let rounding = F_ULPS * f64::EPSILON * (fp.abs() + 2.0 * f0.abs() + fm.abs());
        Ok(Ok(Quotient::plain(value, rounding / (up * down))))
    }

    /// The mixed second difference along elements `i` and `j` at steps `a`, `b`.
    fn mixed(&mut self, (i, a): (usize, f64), (j, b): (usize, f64)) -> Result<Second> {
        let [ip, im, ..] = self.points(i, a)?;
        let [jp, jm, ..] = self.points(j, b)?;
        let corners = [
            (ip, jp, "f(x + h_i + h_j)"),
            (ip, jm, "f(x + h_i - h_j)"),
            (im, jp, "f(x - h_i + h_j)"),
            (im, jm, "f(x - h_i - h_j)"),
        ];
        let mut f = [0.0; 4];
        for (slot, (p, q, what)) in f.iter_mut().zip(corners) {
            match self.finite_at(&[(i, p), (j, q)], what, (i, j))? {
                Ok(v) => *slot = v.value,
                Err(e) => return Ok(Err(e)),
            }
        }
        let area = (ip - im) * (jp - jm);
        let value = ((f[0] - f[1]) - (f[2] - f[3])) / area;
        let rounding = F_ULPS * f64::EPSILON * f.iter().map(|v| v.abs()).sum::<f64>();
        Ok(Ok(Quotient::plain(value, rounding / area)))
    }

    /// `H[i, j]` extrapolated from four levels `(h_i, h_j) / 2ᵏ`; with `retry`,
    /// once more from `(h_i, h_j) / 8` when they do not settle. Returns the
    /// value, its error estimate and whether the table settled.
    fn mixed_richardson(
        &mut self,
        (i, hi): (usize, f64),
        (j, hj): (usize, f64),
        retry: bool,
    ) -> Result<(f64, f64, bool)> {
        let scales = halvings(1.0, 7);
        let mut levels = Vec::with_capacity(7);
        for &t in &scales[..4] {
            levels.push(self.mixed((i, hi * t), (j, hj * t))??);
        }
        let table = |from: usize, levels: &[Quotient]| {
            let steps = scales[from..from + 4].iter().map(|t| hi * t).collect();
            Table::new(levels[from..from + 4].to_vec(), steps, 2)
        };
        let mut t = table(0, &levels);
        if retry && !t.settled() {
            for &s in &scales[4..] {
                levels.push(self.mixed((i, hi * s), (j, hj * s))??);
            }
            let again = table(3, &levels);
            if again.settled() || again.best().1 < t.best().1 {
                t = again;
            }
        }
        let (value, error) = t.best();
        Ok((value, error, t.settled()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayRef1, array};

    #[test]
    fn a_quadratic_is_exact_with_the_counted_calls() -> Result<()> {
        let f = |x: &ArrayRef1<f64>| x[0] * x[0] + 3.0 * x[0] * x[1] - x[1] * x[1];
        let exact = array![[2.0, 3.0], [3.0, -2.0]];
        let central = FiniteDiff::new(Scheme::Central).hessian(f, &array![0.3, -2.0])?;
        assert!((&central.value - &exact).iter().all(|d| d.abs() < 1e-7));
        assert_eq!(central.evaluations, 1 + 2 * 4);
        let fixed = FiniteDiff::accurate()
            .step(Step::Fixed(0.5))
            .hessian(f, &array![0.3, -2.0])?;
        assert!(
            (&fixed.value - &exact).iter().all(|d| d.abs() < 1e-12),
            "{}",
            fixed.value
        );
        assert_eq!(fixed.evaluations, 1 + 8 * 4);
        assert!(fixed.all_trusted());
        Ok(())
    }

    #[test]
    fn unsupported_schemes_and_vanishing_steps_are_hyperparameter_errors() {
        for scheme in [Scheme::Forward, Scheme::Backward, Scheme::FivePoint] {
            let err = FiniteDiff::new(scheme)
                .hessian(kobai_sum, &array![1.0])
                .expect_err("unsupported");
            assert!(
                matches!(err, KobaiError::Hyperparameter { name: "scheme", .. }),
                "{err}"
            );
        }
        let err = FiniteDiff::new(Scheme::Central)
            .step(Step::Fixed(1e-20))
            .hessian(kobai_sum, &array![1.0])
            .expect_err("1 + 1e-20 = 1");
        assert!(err.to_string().contains("large enough to change"), "{err}");
    }

    fn kobai_sum(x: &ArrayRef1<f64>) -> f64 {
        x.sum()
    }

    #[test]
    fn non_finite_values_name_the_entry() {
        let f = |x: &ArrayRef1<f64>| x[0] * (x[1] - 1.0).sqrt();
        let err = FiniteDiff::new(Scheme::Central)
            .hessian(f, &array![1.0, 1.0])
            .expect_err("sqrt < 0");
        assert_eq!(
            err.to_string(),
            "f(x - h) is NaN at Hessian entry [1, 1] (x index [1]); expected a finite number"
        );
    }
}
