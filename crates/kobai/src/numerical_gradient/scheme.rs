//! The finite-difference schemes and step rules that [`FiniteDiff`](super::FiniteDiff) offers.

use crate::check;
use crate::error::Result;

/// How the derivative is formed from values of `f`.
///
/// ```text
/// Forward     (f(x + h) − f(x)) / h                              error O(h),  2 evaluations
/// Backward    (f(x) − f(x − h)) / h                              error O(h),  2 evaluations
/// Central     (f(x + h) − f(x − h)) / 2h                         error O(h²), 2 evaluations
/// FivePoint   (f(x − 2h) − 8f(x − h) + 8f(x + h) − f(x + 2h)) / 12h   error O(h⁴), 4 evaluations
/// Richardson  central differences at h, h/2, h/4, h/8 combined to cancel
///             the h², h⁴, h⁶ terms, with an error estimate    ≤ 8 evaluations
/// ```
///
/// Forward and backward differences need `f(x)`, evaluated once per gradient.
/// Only [`Richardson`](Scheme::Richardson) estimates its own error.
///
/// ```
/// use kobai::numerical_gradient::{FiniteDiff, Scheme};
/// let d = FiniteDiff::new(Scheme::FivePoint).derivative(f64::exp, 1.0)?;
/// assert!((d.value - 1f64.exp()).abs() < 1e-10);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scheme {
    /// One-sided, towards `+h`.
    Forward,
    /// One-sided, towards `−h`.
    Backward,
    /// The book's symmetric difference.
    Central,
    /// The fourth-order five-point stencil.
    FivePoint,
    /// Central differences with Richardson extrapolation and an error estimate.
    Richardson,
}

impl Scheme {
    /// The exponent `k` of the step rule `h = eps^(1/k) · max(|x|, 1)`, which
    /// balances truncation against rounding for a scheme of order `k − 1`.
    fn step_root(self) -> i32 {
        match self {
            Scheme::Forward | Scheme::Backward => 2,
            Scheme::Central => 3,
            Scheme::FivePoint => 5,
            Scheme::Richardson => 9,
        }
    }

    /// The scheme's name, as the CLI spells it.
    ///
    /// ```
    /// assert_eq!(kobai::numerical_gradient::Scheme::FivePoint.name(), "five-point");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Forward => "forward",
            Scheme::Backward => "backward",
            Scheme::Central => "central",
            Scheme::FivePoint => "five-point",
            Scheme::Richardson => "richardson",
        }
    }
}

/// How the step `h` is chosen for each component.
///
/// ```
/// use kobai::numerical_gradient::{FiniteDiff, Scheme, Step};
/// // The book's method: central differences with h = 1e-4 for every component.
/// let book = FiniteDiff::new(Scheme::Central).step(Step::Fixed(1e-4));
/// assert_eq!(book, FiniteDiff::book());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub enum Step {
    /// The scheme's own rule. For the fixed schemes `h = eps^(1/k) · max(|x|, 1)`
    /// (`k` = 2 forward/backward, 3 central, 5 five-point). For
    /// [`Scheme::Richardson`] the step adapts to the function: see
    /// [`FiniteDiff::accurate`](super::FiniteDiff::accurate).
    #[default]
    Auto,
    /// The same `h` for every component, used as given (the book's `h = 1e-4`).
    /// For Richardson it is the largest of the four steps.
    Fixed(f64),
    /// `h = c · max(|x|, 1)`: scaled to the component's magnitude.
    Relative(f64),
}

impl Step {
    /// Errors with [`KobaiError::Hyperparameter`](crate::KobaiError::Hyperparameter)
    /// unless a given step or factor is finite and above zero.
    pub(crate) fn validate(self) -> Result<()> {
        match self {
            Step::Auto => Ok(()),
            Step::Fixed(h) => check::positive("h", h).map(drop),
            Step::Relative(c) => check::positive("relative step", c).map(drop),
        }
    }

    /// The step for a fixed scheme at the point `x`.
    pub(crate) fn for_scheme(self, scheme: Scheme, x: f64) -> f64 {
        match self {
            Step::Auto => f64::EPSILON.powf(1.0 / f64::from(scheme.step_root())) * x.abs().max(1.0),
            Step::Fixed(h) => h,
            Step::Relative(c) => c * x.abs().max(1.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_steps_follow_the_textbook_rule() {
        let central = Step::Auto.for_scheme(Scheme::Central, 1000.0);
        assert!((central - f64::EPSILON.cbrt() * 1000.0).abs() < 1e-12);
        let forward = Step::Auto.for_scheme(Scheme::Forward, 0.5);
        assert_eq!(forward, f64::EPSILON.sqrt());
    }

    #[test]
    fn bad_steps_are_rejected() {
        for step in [
            Step::Fixed(0.0),
            Step::Fixed(-1e-4),
            Step::Relative(f64::NAN),
        ] {
            assert!(step.validate().is_err(), "{step:?}");
        }
        assert!(Step::Fixed(1e-4).validate().is_ok());
    }
}
