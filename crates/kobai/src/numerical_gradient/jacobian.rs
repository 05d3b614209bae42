//! [`FiniteDiff::jacobian`]: the Jacobian of a vector function, for an input
//! array of any dimension.
//!
//! Column `i` is the derivative along element `i` of `x` (row-major order).
//! All `m` outputs come from the same calls of `f`, so a column costs what one
//! component of a gradient costs, whatever `m` is.
//!
//! For [`Scheme::Richardson`] with [`Step::Auto`] every entry gets the
//! adaptive search of [`FiniteDiff::accurate`] for its own output — a probe at
//! `h = 1e-5 · |x_i|`, a step grown until rounding is `≤ 1e-12` of the
//! derivative (at most `0.1 · max(|x_i|, 1)`), a Richardson tableau, one retry
//! 32× smaller if it does not settle — while the calls are shared: all steps
//! are powers of two, every call yields all `m` outputs, and a step already
//! used is not evaluated again. So each row equals, bit for bit, what
//! [`FiniteDiff::gradient`] gives for that output alone, as long as the scalar
//! search would not go one-sided; a column costs 8 calls when the outputs
//! want the same step (16 after a retry), and 2 more per further step that
//! some output's search uses when they differ (the steps are powers of two
//! between the probe's and the cap, so the cost stays bounded; measured: 13–14
//! per column for softmax on ℝ³).
//!
//! Differences from the scalar search: the probe step shrinks (at most
//! twice, by 1000×) when *any* output is NaN or infinite there, and there is
//! no fallback to one-sided differences: `f` must be finite on both sides of
//! `x`.

use ndarray::{Array, Array1, Array2, ArrayRef, Dimension, Ix2};

use super::central::unravel;
use super::estimate::{GradientEstimate, Status};
use super::finite_diff::FiniteDiff;
use super::richardson::{self, Quotient, Table};
use super::scheme::{Scheme, Step};
use crate::check;
use crate::error::{KobaiError, Result};

/// The value of a vector function being differentiated: an [`Array1`], a `Vec`
/// or an array of `f64`, or a `Result` of the first two for functions that can
/// reject their input (such as [`softmax`](crate::softmax)).
///
/// ```
/// use kobai::numerical_gradient::VectorValue;
/// use ndarray::array;
/// assert_eq!([1.0, 2.0].into_vector()?, array![1.0, 2.0]);
/// assert_eq!(kobai::softmax(&array![0.0, 0.0]).into_vector()?, array![0.5, 0.5]);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub trait VectorValue {
    /// The outputs, or the error that stops the differentiation.
    fn into_vector(self) -> Result<Array1<f64>>;
}

impl VectorValue for Array1<f64> {
    fn into_vector(self) -> Result<Array1<f64>> {
        Ok(self)
    }
}

impl VectorValue for Vec<f64> {
    fn into_vector(self) -> Result<Array1<f64>> {
        Ok(Array1::from(self))
    }
}

impl<const N: usize> VectorValue for [f64; N] {
    fn into_vector(self) -> Result<Array1<f64>> {
        Ok(Array1::from(self.to_vec()))
    }
}

impl VectorValue for Result<Array1<f64>> {
    fn into_vector(self) -> Result<Array1<f64>> {
        self
    }
}

impl VectorValue for Result<Vec<f64>> {
    fn into_vector(self) -> Result<Array1<f64>> {
        self.map(Array1::from)
    }
}

/// A numerical Jacobian: `m × n` (outputs × elements of `x`), with an error
/// estimate and a status per entry: entry `[k, i]` of `value` is `∂f_k / ∂x_i`,
/// `i` in row-major order of `x`. The same type as a gradient's result
/// ([`GradientEstimate`]), with two axes.
///
/// ```
/// use kobai::numerical_gradient::FiniteDiff;
/// use ndarray::{ArrayRef1, array};
/// let f = |x: &ArrayRef1<f64>| [x[0] * x[1], x[0] + x[1]];
/// let j = FiniteDiff::accurate().jacobian(f, &array![2.0, 3.0])?;
/// assert!((&j.value - &array![[3.0, 2.0], [1.0, 1.0]]).iter().all(|d| d.abs() < 1e-12));
/// assert!(j.all_trusted() && j.max_error().unwrap() < 1e-10);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub type JacobianEstimate = GradientEstimate<Ix2>;

impl FiniteDiff {
    /// The Jacobian of a vector function `f: ℝⁿ → ℝᵐ` at `x`, for an array `x`
    /// of any dimension, with an error estimate per entry for
    /// [`Scheme::Richardson`].
    ///
    /// ```text
    /// J[k, i] = ∂f_k/∂x_i ≈ (f_k(x + h·e_i) − f_k(x − h·e_i)) / 2h     (central)
    /// ```
    ///
    /// `f` returns its `m` outputs as any [`VectorValue`] and receives a private
    /// copy of `x` with one element changed; the caller's `x` is never touched.
    /// Calls of `f`, for `n ≥ 1` elements:
    ///
    /// ```text
    /// forward, backward    n + 1      (f(x) once)
    /// central              2n
    /// five-point           4n
    /// richardson           8n with a fixed or relative step; with Step::Auto
    ///                      8 per column when the outputs agree on the step
    ///                      (16 after a retry), 2 more per further step used
    ///                      when they differ (see the module docs)
    /// ```
    ///
    /// An empty `x` gives an `m × 0` Jacobian from one call at `x`.
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`] for a step that is not finite and above 0;
    /// [`KobaiError::NonFinite`] if `x` is not finite, or if an output of `f` is
    /// NaN or infinite at a probe point (for Richardson: after shrinking the
    /// probe step twice) — the message names the output and the column;
    /// [`KobaiError::Shape`] if `f` returns a different number of outputs than
    /// at its first call; any error `f` returns.
    ///
    /// ```
    /// use kobai::numerical_gradient::FiniteDiff;
    /// use ndarray::{Array2, array};
    /// // softmax: J = diag(y) − y yᵀ.
    /// let x = array![1.0, 2.0, 0.5];
    /// let j = FiniteDiff::accurate().jacobian(kobai::softmax, &x)?;
    /// let y = kobai::softmax(&x)?;
    /// let exact = Array2::from_diag(&y) - &y.view().insert_axis(ndarray::Axis(1)).dot(
    ///     &y.view().insert_axis(ndarray::Axis(0)));
    /// assert!((&j.value - &exact).iter().all(|d| d.abs() < 1e-12));
    /// assert_eq!(j.value.dim(), (3, 3));
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn jacobian<F, R, D>(&self, f: F, x: &ArrayRef<f64, D>) -> Result<JacobianEstimate>
    where
        F: FnMut(&ArrayRef<f64, D>) -> R,
        R: VectorValue,
        D: Dimension,
    {
        self.step.validate()?;
        check::finite("x", x)?;
        let mut calls = Calls {
            f,
            probe: x.as_standard_layout().into_owned(),
            shape: x.shape().to_vec(),
            outputs: None,
            evaluations: 0,
        };
        let mut fx = None;
        let n = x.len();
        let mut columns = Vec::with_capacity(n);
        for i in 0..n {
            let xi = calls.element(i);
            columns.push(if self.scheme == Scheme::Richardson {
                self.richardson_column(&mut calls, i, xi)?
            } else {
                let value = self.fixed_column(&mut calls, &mut fx, i, xi)?;
                value
                    .iter()
                    .map(|&v| (v, f64::NAN, Status::NotEstimated))
                    .collect()
            });
        }
        if n == 0 {
            calls.at(None, "f(x)")?;
        }
        let m = calls.outputs.unwrap_or(0);
        let entry = |k: usize, i: usize| columns[i][k];
        Ok(JacobianEstimate {
            value: Array2::from_shape_fn((m, n), |(k, i)| entry(k, i).0),
            error: (self.scheme == Scheme::Richardson)
                .then(|| Array2::from_shape_fn((m, n), |(k, i)| entry(k, i).1)),
            status: Array2::from_shape_fn((m, n), |(k, i)| entry(k, i).2),
            evaluations: calls.evaluations,
        })
    }

    /// Column `i` by a fixed scheme, with the arithmetic of the scalar one:
    /// the book's `x ± h` and `2h` for [`Step::Fixed`], otherwise the distance
    /// between the points actually used.
    fn fixed_column<F, R, D>(
        &self,
        calls: &mut Calls<F, D>,
        fx: &mut Option<Array1<f64>>,
        i: usize,
        xi: f64,
    ) -> Result<Array1<f64>>
    where
        F: FnMut(&ArrayRef<f64, D>) -> R,
        R: VectorValue,
        D: Dimension,
    {
        let h = self.step.for_scheme(self.scheme, xi);
        let literal = matches!(self.step, Step::Fixed(_));
        let (xp, xm) = (xi + h, xi - h);
        let mut at = |p: f64, what: &'static str| -> Result<Array1<f64>> {
            let y = if p == xi {
                match fx {
                    Some(y) => y.clone(),
                    None => fx.insert(calls.at(None, "f(x)")?).clone(),
                }
            } else {
                calls.at(Some((i, p)), what)?
            };
            match not_finite(&y, what, || calls.column_text(i)) {
                Some(e) => Err(e),
                None => Ok(y),
            }
        };
        let each = |a: &Array1<f64>, g: &dyn Fn(usize) -> f64| Array1::from_shape_fn(a.len(), g);
        Ok(match self.scheme {
            Scheme::Forward => {
                let (fp, f0) = (at(xp, "f(x + h)")?, at(xi, "f(x)")?);
                let d = if literal { h } else { xp - xi };
                each(&fp, &|k| (fp[k] - f0[k]) / d)
            }
            Scheme::Backward => {
                let (f0, fm) = (at(xi, "f(x)")?, at(xm, "f(x - h)")?);
                let d = if literal { h } else { xi - xm };
                each(&f0, &|k| (f0[k] - fm[k]) / d)
            }
            Scheme::Central => {
                let (fp, fm) = (at(xp, "f(x + h)")?, at(xm, "f(x - h)")?);
                let d = if literal { 2.0 * h } else { xp - xm };
                each(&fp, &|k| (fp[k] - fm[k]) / d)
            }
            _ => {
                let fp2 = at(xi + 2.0 * h, "f(x + 2h)")?;
                let fp = at(xp, "f(x + h)")?;
                let fm = at(xm, "f(x - h)")?;
                let fm2 = at(xi - 2.0 * h, "f(x - 2h)")?;
                each(&fp, &|k| {
                    (fm2[k] - 8.0 * fm[k] + 8.0 * fp[k] - fp2[k]) / (12.0 * h)
                })
            }
        })
    }

    /// Column `i` by the adaptive Richardson search (see the module docs).
    fn richardson_column<F, R, D>(
        &self,
        calls: &mut Calls<F, D>,
        i: usize,
        xi: f64,
    ) -> Result<Vec<(f64, f64, Status)>>
    where
        F: FnMut(&ArrayRef<f64, D>) -> R,
        R: VectorValue,
        D: Dimension,
    {
        let first = match self.step {
            Step::Auto => None,
            step => Some(step.for_scheme(Scheme::Richardson, xi)),
        };
        let scale = if xi == 0.0 { 1.0 } else { xi.abs() };
        let probe = richardson::power_of_two(richardson::PROBE * scale);
        let level = |h: f64| -> Result<Level> {
            let (hi, lo) = (xi + h, xi - h);
            let fp = calls.at(Some((i, hi)), "f(x + h)")?;
            if let Some(e) = not_finite(&fp, "f(x + h)", || calls.column_text(i)) {
                return Ok(Err(e));
            }
            let fm = calls.at(Some((i, lo)), "f(x - h)")?;
            if let Some(e) = not_finite(&fm, "f(x - h)", || calls.column_text(i)) {
                return Ok(Err(e));
            }
            let quotients = fp.iter().zip(&fm);
            Ok(Ok(quotients
                .map(|(&a, &b)| Quotient::central(a, b, hi - lo))
                .collect()))
        };
        let entries = adaptive(&FIRST_DIFFERENCES, xi, probe, first, level)?;
        Ok(entries
            .iter()
            .map(|e| (e.value, e.error, e.status))
            .collect())
    }
}

/// Calls of `f` on a private copy of `x`, counted, with the number of outputs
/// checked against the first call's.
struct Calls<F, D: Dimension> {
    f: F,
    probe: Array<f64, D>,
    shape: Vec<usize>,
    outputs: Option<usize>,
    evaluations: usize,
}

impl<F, R, D> Calls<F, D>
where
    F: FnMut(&ArrayRef<f64, D>) -> R,
    R: VectorValue,
    D: Dimension,
{
    fn element(&self, i: usize) -> f64 {
        self.probe
            .as_slice()
            .expect("a standard-layout copy is contiguous")[i]
    }

    /// `f` with element `i` set to `value` (then restored), or at `x` itself.
    fn at(&mut self, change: Option<(usize, f64)>, what: &str) -> Result<Array1<f64>> {
        let slots = self
            .probe
            .as_slice_mut()
            .expect("a standard-layout copy is contiguous");
        let saved = change.map(|(i, v)| (i, std::mem::replace(&mut slots[i], v)));
        self.evaluations += 1;
        let y = (self.f)(&self.probe).into_vector();
        if let Some((i, v)) = saved {
            self.probe
                .as_slice_mut()
                .expect("a standard-layout copy is contiguous")[i] = v;
        }
        let y = y?;
        match self.outputs {
            None => self.outputs = Some(y.len()),
            Some(m) if m != y.len() => {
                let place = change.map_or("x".into(), |(i, _)| self.column_text(i));
                return Err(KobaiError::Shape {
                    what: format!("the output of {what} for {place}"),
                    expected: format!("the first call of f returned {m} outputs"),
                    found: vec![y.len()],
                });
            }
            Some(_) => {}
        }
        Ok(y)
    }

    fn column_text(&self, i: usize) -> String {
        let index = check::index_text(&unravel(i, &self.shape));
        format!("column {i} (x index {index})")
    }
}

/// A NonFinite error naming the first output of `y` that is NaN or infinite.
fn not_finite(y: &Array1<f64>, what: &str, at: impl FnOnce() -> String) -> Option<KobaiError> {
    let k = y.iter().position(|v| !v.is_finite())?;
    Some(KobaiError::NonFinite {
        what: format!("output {k} of {what}"),
        at: at(),
        value: y[k],
    })
}

/// How [`adaptive`] treats one kind of difference quotient.
pub(crate) struct Plan {
    /// Rounding grows like `h^-power`: 1 for first, 2 for second differences.
    pub(crate) power: i32,
    /// How much the probe step shrinks when `f` is not finite (twice at most).
    pub(crate) shrink: f64,
    /// Levels of a table at a grown step.
    pub(crate) grown_levels: usize,
    /// How much smaller the step of the one retry is.
    pub(crate) retry: f64,
}

/// First differences: the gradient's plan (and the Jacobian's).
pub(crate) const FIRST_DIFFERENCES: Plan = Plan {
    power: 1,
    shrink: 1000.0,
    grown_levels: 3,
    retry: 32.0,
};

/// The quotients of every output at one step, or the NonFinite error that says
/// where `f` was not finite.
pub(crate) type Level = std::result::Result<Vec<Quotient>, KobaiError>;

/// One output's result from [`adaptive`].
pub(crate) struct Entry {
    pub(crate) value: f64,
    pub(crate) error: f64,
    pub(crate) status: Status,
    /// The largest step of the table used.
    pub(crate) step: f64,
}

/// The levels evaluated so far, by step; a step is evaluated once.
struct Levels<L> {
    level: L,
    done: Vec<(f64, Level)>,
}

impl<L: FnMut(f64) -> Result<Level>> Levels<L> {
    /// Evaluates the steps in order, stopping at the first where `f` is not finite.
    fn ensure(&mut self, steps: &[f64]) -> Result<std::result::Result<(), KobaiError>> {
        for &h in steps {
            let found = match self.done.iter().position(|(s, _)| *s == h) {
                Some(p) => p,
                None => {
                    let level = (self.level)(h)?;
                    self.done.push((h, level));
                    self.done.len() - 1
                }
            };
            if let Err(e) = &self.done[found].1 {
                return Ok(Err(e.clone()));
            }
        }
        Ok(Ok(()))
    }

    /// The quotients at an ensured step.
    fn at(&self, h: f64) -> &[Quotient] {
        match self.done.iter().find(|(s, _)| *s == h) {
            Some((_, Ok(q))) => q,
            _ => unreachable!("the step was ensured"),
        }
    }

    /// Output `k`'s table at ensured steps.
    fn table(&self, steps: &[f64], k: usize) -> Table {
        let levels = steps.iter().map(|&h| self.at(h)[k]).collect();
        Table::new(levels, steps.to_vec(), 2)
    }
}

/// The adaptive Richardson search (probe, grow, retry; see
/// [`richardson`](super::richardson)'s module docs) for every output of `level`
/// at once, along a coordinate whose value is `x`: the one step search of the
/// gradient, the Jacobian and the Hessian.
pub(crate) fn adaptive<L>(
    plan: &Plan,
    x: f64,
    probe_step: f64,
    first: Option<f64>,
    level: L,
) -> Result<Vec<Entry>>
where
    L: FnMut(f64) -> Result<Level>,
{
    use richardson::{MAX_RELATIVE_STEP, PROBE_MARGIN, ROUNDING_TARGET, halvings, power_of_two};
    let mut levels = Levels {
        level,
        done: Vec::new(),
    };
    let entry = |t: &Table, step: f64, found: Status| {
        let (value, error) = t.best();
        let status = if t.settled() {
            found
        } else {
            Status::Unreliable
        };
        Entry {
            value,
            error,
            status,
            step,
        }
    };
    if let Some(h) = first {
        let steps = halvings(h, 4);
        levels.ensure(&steps)??;
        let m = levels.at(h).len();
        let table = |k| levels.table(&steps, k);
        return Ok((0..m)
            .map(|k| entry(&table(k), h, Status::Converged))
            .collect());
    }
    let cap = MAX_RELATIVE_STEP * x.abs().max(1.0);
    // Stage 1: the probe, shrinking while f is not finite.
    let (mut h, mut shrinks) = (probe_step, 0);
    let probe = loop {
        match levels.ensure(&[h])? {
            Ok(()) => break levels.at(h).to_vec(),
            Err(e) if shrinks == 2 => return Err(e),
            Err(_) => {
                h = power_of_two(h / plan.shrink);
                shrinks += 1;
            }
        }
    };
    let found = if shrinks > 0 {
        Status::StepShrunk
    } else {
        Status::Converged
    };
    // Stages 2 and 3 for each output, on the shared levels.
    let smallest = h / 8.0;
    let mut entries = Vec::with_capacity(probe.len());
    for (k, q) in probe.iter().enumerate() {
        let rounding = q.noise * (h / smallest).powi(plan.power);
        let wanted = match (q.value == 0.0, plan.power) {
            (true, _) => cap,
            (false, 1) => h * rounding / (ROUNDING_TARGET * q.value.abs()),
            (false, p) => {
                h * (rounding / (ROUNDING_TARGET * q.value.abs())).powf(1.0 / f64::from(p))
            }
        };
        let mut chosen = None;
        if wanted > 2.0 * h && shrinks == 0 {
            let mut start = power_of_two(wanted.min(cap));
            while start > 2.0 * h {
                let steps = halvings(start, plan.grown_levels);
                if levels.ensure(&steps)?.is_ok() {
                    let mut t = levels.table(&steps, k);
                    let curvature = t.curvature();
                    t.check_against(h, q, curvature);
                    let bound = 4.0 * q.noise + 2.0 * curvature.abs() * h * h;
                    if !t.settled() || t.best().1 <= PROBE_MARGIN * bound {
                        chosen = Some((t, start));
                        break;
                    }
                }
                start /= 8.0;
            }
        }
        let grown = chosen.is_some();
        let (mut t, mut step) = match chosen {
            Some(c) => c,
            None => {
                let steps = halvings(h, 4);
                levels.ensure(&steps)??;
                (levels.table(&steps, k), h)
            }
        };
        if !t.settled() {
            let retry_step = step / plan.retry;
            let steps = halvings(retry_step, 4);
            if levels.ensure(&steps)?.is_ok() {
                let mut retry = levels.table(&steps, k);
                if grown {
                    retry.check_against(h, q, t.curvature());
                }
                if retry.settled() || retry.best().1 < t.best().1 {
                    (t, step) = (retry, retry_step);
                }
            }
        }
        entries.push(entry(&t, step, found));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayRef1, array};

    fn polar(v: &ArrayRef1<f64>) -> [f64; 2] {
        [v[0] * v[1].cos(), v[0] * v[1].sin()]
    }

    #[test]
    fn every_scheme_gets_the_polar_jacobian() -> Result<()> {
        let (r, t) = (2.0f64, 0.7f64);
        let exact = array![[t.cos(), -r * t.sin()], [t.sin(), r * t.cos()]];
        for (scheme, tol, calls) in [
            (Scheme::Forward, 1e-7, 3),
            (Scheme::Backward, 1e-7, 3),
            (Scheme::Central, 1e-9, 4),
            (Scheme::FivePoint, 1e-11, 8),
        ] {
            let j = FiniteDiff::new(scheme).jacobian(polar, &array![r, t])?;
            let off = (&j.value - &exact)
                .iter()
                .fold(0.0, |a: f64, d| a.max(d.abs()));
            assert!(off < tol, "{scheme:?}: {off:e}");
            assert_eq!(j.evaluations, calls, "{scheme:?}");
            assert!(j.error.is_none() && j.worst_status() == Some(Status::NotEstimated));
        }
        let j = FiniteDiff::accurate().jacobian(polar, &array![r, t])?;
        let error = j.error.as_ref().expect("estimated");
        for ((v, e), x) in j.value.iter().zip(error).zip(&exact) {
            assert!((v - x).abs() <= *e && *e < 1e-10, "{v} {x} {e:e}");
        }
        assert!(j.all_trusted());
        Ok(())
    }

    #[test]
    fn one_output_gives_the_gradient() -> Result<()> {
        let f = |v: &ArrayRef1<f64>| 1.0 / v[0] + v[1].ln() + (v[0] * v[2]).sin();
        let x = array![1e-3, 0.01, 2.0];
        for scheme in [Scheme::Forward, Scheme::FivePoint, Scheme::Richardson] {
            let fd = FiniteDiff::new(scheme);
            let g = fd.gradient(f, &x)?;
            let j = fd.jacobian(|v| [f(v)], &x)?;
            assert_eq!(j.value.row(0), g.value, "{scheme:?}");
            assert_eq!(j.status.row(0), g.status);
            if let (Some(je), Some(ge)) = (&j.error, &g.error) {
                assert_eq!(je.row(0), ge);
            }
            assert!(j.evaluations <= g.evaluations);
        }
        Ok(())
    }

    #[test]
    fn output_errors_name_the_output_and_the_column() {
        let f = |v: &ArrayRef1<f64>| [v[0], (v[1] - 1.0).ln()];
        let err = FiniteDiff::book()
            .jacobian(f, &array![0.0, 1.00001])
            .expect_err("log of a negative number");
        assert_eq!(
            err.to_string(),
            "output 1 of f(x - h) is NaN at column 1 (x index [1]); expected a finite number"
        );
        let mut calls = 0;
        let growing = |v: &ArrayRef1<f64>| {
            calls += 1;
            vec![v[0]; calls]
        };
        let err = FiniteDiff::book()
            .jacobian(growing, &array![0.0])
            .expect_err("the output grows");
        assert_eq!(
            err.to_string(),
            "the output of f(x - h) for column 0 (x index [0]) has shape [2] \
             but the first call of f returned 1 outputs"
        );
    }

    #[test]
    fn an_empty_x_gives_m_columns_of_nothing() -> Result<()> {
        let j = FiniteDiff::accurate().jacobian(|_| [1.0, 2.0], &Array1::<f64>::zeros(0))?;
        assert_eq!((j.value.dim(), j.evaluations), ((2, 0), 1));
        Ok(())
    }
}
