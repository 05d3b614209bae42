//! [`FiniteDiff`]: numerical derivatives with a choice of scheme and step, an
//! error estimate, and parallel evaluation.

use ndarray::{Array, ArrayRef, Dimension};

use super::central::unravel;
use super::estimate::{Derivative, GradientEstimate, Status};
use super::function_value::FunctionValue;
use super::richardson::{self, Failure, Line};
use super::scheme::{Scheme, Step};
use crate::check;
use crate::error::{KobaiError, Result};

/// Numerical differentiation with a chosen [`Scheme`] and [`Step`] rule.
///
/// [`FiniteDiff::book`] is the book's method (central, `h = 1e-4`) and gives the
/// same bits as [`numerical_gradient()`](super::numerical_gradient()).
/// [`FiniteDiff::accurate`] (the default) extrapolates central differences and
/// adapts the step to the function; each component comes with an error
/// estimate and a [`Status`].
///
/// ```text
///                         1/x at 1e-3   log at 0.01   exp at 1e-8   calls of f
/// book (h = 1e-4)         1.0e-2        3.3e-5        1.7e-9        2 per component
/// accurate (default)      2.1e-14       5.2e-13       2.5e-14       ≤ 8 per component
/// ```
/// (relative errors; `cargo run --release -p kobai --example accuracy_table`
/// measures the full table.)
///
/// ```
/// use kobai::numerical_gradient::FiniteDiff;
/// use ndarray::array;
///
/// let f = |x: &ndarray::ArrayRef1<f64>| 1.0 / x[0] + x[1].ln();
/// let g = FiniteDiff::accurate().gradient(f, &array![1e-3, 0.01])?;
/// assert!((g.value[0] / -1e6 - 1.0).abs() < 1e-10);
/// // Each component comes with an error estimate and a status.
/// let error = g.error.as_ref().expect("the accurate scheme estimates errors");
/// assert!((g.value[1] - 100.0).abs() <= error[1] && error[1] < 1e-3);
/// assert!(g.all_trusted());
/// // The book's method is 1% off for 1/x here.
/// let book = FiniteDiff::book().gradient(f, &array![1e-3, 0.01])?;
/// assert!((book.value[0] + 1e6).abs() > 5e3);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FiniteDiff {
    pub(crate) scheme: Scheme,
    pub(crate) step: Step,
}

impl Default for FiniteDiff {
    fn default() -> Self {
        Self::accurate()
    }
}

impl FiniteDiff {
    /// The given scheme with its automatic step rule.
    ///
    /// ```
    /// use kobai::numerical_gradient::{FiniteDiff, Scheme};
    /// let d = FiniteDiff::new(Scheme::Forward).derivative(|x| x * x, 3.0)?;
    /// assert!((d.value - 6.0).abs() < 1e-6);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn new(scheme: Scheme) -> Self {
        FiniteDiff {
            scheme,
            step: Step::Auto,
        }
    }

    /// The book's method: central differences with `h = 1e-4`.
    ///
    /// ```
    /// use kobai::numerical_gradient::FiniteDiff;
    /// use ndarray::array;
    /// let x = array![3.0, 4.0];
    /// let g = FiniteDiff::book().gradient(kobai::function_2, &x)?;
    /// assert_eq!(g.value, kobai::numerical_gradient(kobai::function_2, &x)?);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn book() -> Self {
        Self::new(Scheme::Central).step(Step::Fixed(super::BOOK_STEP))
    }

    /// Richardson-extrapolated central differences with an adaptive step, an
    /// error estimate and a status per component: at most 8 calls of `f` per
    /// component when the first tableau settles, 16 when it is redone, a few
    /// more when `f` is NaN or infinite near `x`.
    ///
    /// ```
    /// use kobai::numerical_gradient::FiniteDiff;
    /// let d = FiniteDiff::accurate().derivative(f64::exp, 1e-8)?;
    /// assert!((d.value - 1e-8f64.exp()).abs() <= d.error.unwrap());
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn accurate() -> Self {
        Self::new(Scheme::Richardson)
    }

    /// The same differentiator with another scheme.
    pub fn scheme(self, scheme: Scheme) -> Self {
        FiniteDiff { scheme, ..self }
    }

    /// The same differentiator with another step rule.
    pub fn step(self, step: Step) -> Self {
        FiniteDiff { step, ..self }
    }

    /// The scheme in use.
    pub fn scheme_in_use(&self) -> Scheme {
        self.scheme
    }

    /// The derivative of a scalar function at `x`.
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`] for a step that is not finite and above 0;
    /// [`KobaiError::NonFinite`] if `x` is not finite, or if `f` is NaN or
    /// infinite at a probe point and (for Richardson) no smaller or one-sided
    /// step avoids it; any error `f` returns.
    ///
    /// ```
    /// use kobai::numerical_gradient::FiniteDiff;
    /// let d = FiniteDiff::accurate().derivative(|x| x.powi(10), 2.0)?;
    /// assert!((d.value / 5120.0 - 1.0).abs() < 1e-12);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn derivative<F, R>(&self, mut f: F, x: f64) -> Result<Derivative>
    where
        F: FnMut(f64) -> R,
        R: FunctionValue,
    {
        self.step.validate()?;
        check::finite_scalar("x", || "the point of differentiation".into(), x)?;
        let mut eval = |p: f64| f(p).into_result();
        let mut fx = None;
        self.component(&mut eval, x, &mut fx)
            .map_err(|e| failure_error(e, || format!("x = {}", check::number_text(x))))
    }

    /// The gradient of `f` at `x`, for an array of any dimension, with an error
    /// estimate per component for [`Scheme::Richardson`].
    ///
    /// `f` receives a private copy of `x` with one element changed; the caller's
    /// `x` is never touched. Components are done in row-major order.
    ///
    /// # Errors
    /// As [`derivative`](Self::derivative); a non-finite value names the element.
    ///
    /// ```
    /// use kobai::numerical_gradient::FiniteDiff;
    /// use ndarray::array;
    /// let g = FiniteDiff::accurate().gradient(kobai::rosenbrock, &array![-1.2, 1.0])?;
    /// let exact = kobai::rosenbrock_gradient(&array![-1.2, 1.0])?;
    /// assert!((&g.value - &exact).iter().all(|d| d.abs() < 1e-9));
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn gradient<F, R, D>(&self, mut f: F, x: &ArrayRef<f64, D>) -> Result<GradientEstimate<D>>
    where
        F: FnMut(&ArrayRef<f64, D>) -> R,
        R: FunctionValue,
        D: Dimension,
    {
        self.step.validate()?;
        check::finite("x", x)?;
        let mut probe = x.as_standard_layout().into_owned();
        let shape = x.shape().to_vec();
        let mut fx = None;
        let mut parts = Vec::with_capacity(x.len());
        for i in 0..x.len() {
            parts.push(self.gradient_component(&mut f, &mut probe, i, &mut fx, &shape)?);
        }
        Ok(assemble(self.scheme, x, parts))
    }

    /// Component `i` of the gradient, perturbing `probe` and restoring it.
    pub(crate) fn gradient_component<F, R, D>(
        &self,
        f: &mut F,
        probe: &mut Array<f64, D>,
        i: usize,
        fx: &mut Option<f64>,
        shape: &[usize],
    ) -> Result<Derivative>
    where
        F: FnMut(&ArrayRef<f64, D>) -> R,
        R: FunctionValue,
        D: Dimension,
    {
        let xi = slice(probe)[i];
        let mut eval = |p: f64| {
            slice_mut(probe)[i] = p;
            f(probe).into_result()
        };
        let result = self.component(&mut eval, xi, fx);
        slice_mut(probe)[i] = xi;
        result.map_err(|e| {
            failure_error(e, || {
                format!("index {}", check::index_text(&unravel(i, shape)))
            })
        })
    }

    /// The derivative along one coordinate whose value is `x`.
    fn component<E>(
        &self,
        eval: &mut E,
        x: f64,
        fx: &mut Option<f64>,
    ) -> std::result::Result<Derivative, Failure>
    where
        E: FnMut(f64) -> Result<f64>,
    {
        let mut line = Line {
            eval,
            x,
            evaluations: 0,
            fx,
        };
        if self.scheme == Scheme::Richardson {
            let first = match self.step {
                Step::Auto => None,
                step => Some(step.for_scheme(self.scheme, x)),
            };
            return richardson::accurate(&mut line, first);
        }
        let h = self.step.for_scheme(self.scheme, x);
        let value = fixed(&mut line, self.scheme, h, self.step)?;
        Ok(Derivative {
            value,
            error: None,
            status: Status::NotEstimated,
            evaluations: line.evaluations,
        })
    }
}

/// A fixed scheme at step `h`. With [`Step::Fixed`] the book's arithmetic is
/// kept (`x + h`, `x − h`, divide by `2h`); otherwise the quotient divides by
/// the distance between the points actually used.
fn fixed<E: FnMut(f64) -> Result<f64>>(
    line: &mut Line<'_, E>,
    scheme: Scheme,
    h: f64,
    step: Step,
) -> std::result::Result<f64, Failure> {
    let x = line.x;
    let at =
        |line: &mut Line<'_, E>, what: &'static str, p: f64| -> std::result::Result<f64, Failure> {
            let v = if p == x { line.center()? } else { line.at(p)? };
            if v.is_finite() {
                Ok(v)
            } else {
                Err(Failure::NonFinite { what, value: v })
            }
        };
    let literal = matches!(step, Step::Fixed(_));
    let (xp, xm) = (x + h, x - h);
    Ok(match scheme {
        Scheme::Forward => {
            let fp = at(line, "f(x + h)", xp)?;
            let f0 = at(line, "f(x)", x)?;
            (fp - f0) / if literal { h } else { xp - x }
        }
        Scheme::Backward => {
            let f0 = at(line, "f(x)", x)?;
            let fm = at(line, "f(x - h)", xm)?;
            (f0 - fm) / if literal { h } else { x - xm }
        }
        Scheme::Central => {
            let fp = at(line, "f(x + h)", xp)?;
            let fm = at(line, "f(x - h)", xm)?;
            (fp - fm) / if literal { 2.0 * h } else { xp - xm }
        }
        _ => {
            let fp2 = at(line, "f(x + 2h)", x + 2.0 * h)?;
            let fp = at(line, "f(x + h)", xp)?;
            let fm = at(line, "f(x - h)", xm)?;
            let fm2 = at(line, "f(x - 2h)", x - 2.0 * h)?;
            (fm2 - 8.0 * fm + 8.0 * fp - fp2) / (12.0 * h)
        }
    })
}

/// Turns a failure along a coordinate into a [`KobaiError`] that says where.
fn failure_error(failure: Failure, at: impl FnOnce() -> String) -> KobaiError {
    match failure {
        Failure::Function(e) => e,
        Failure::NonFinite { what, value } => KobaiError::NonFinite {
            what: what.into(),
            at: at(),
            value,
        },
    }
}

/// Collects per-component derivatives into arrays of `x`'s shape.
pub(crate) fn assemble<D: Dimension>(
    scheme: Scheme,
    x: &ArrayRef<f64, D>,
    parts: Vec<Derivative>,
) -> GradientEstimate<D> {
    let dim = x.raw_dim();
    let evaluations = parts.iter().map(|d| d.evaluations).sum();
    let shaped = |values: Vec<f64>| {
        Array::from_shape_vec(dim.clone(), values).expect("one value per element of x")
    };
    let value = shaped(parts.iter().map(|d| d.value).collect());
    let error = (scheme == Scheme::Richardson)
        .then(|| shaped(parts.iter().map(|d| d.error.unwrap_or(f64::NAN)).collect()));
    let status = Array::from_shape_vec(dim.clone(), parts.iter().map(|d| d.status).collect())
        .expect("one status per element of x");
    GradientEstimate {
        value,
        error,
        status,
        evaluations,
    }
}

fn slice<D: Dimension>(a: &Array<f64, D>) -> &[f64] {
    a.as_slice().expect("a standard-layout copy is contiguous")
}

fn slice_mut<D: Dimension>(a: &mut Array<f64, D>) -> &mut [f64] {
    a.as_slice_mut()
        .expect("a standard-layout copy is contiguous")
}
