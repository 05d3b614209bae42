//! What a numerical derivative returns: the value, an error estimate, and how far
//! to trust them.

use ndarray::{Array, Dimension};

/// How a derivative was obtained, and whether its error estimate can be trusted.
///
/// ```
/// use kobai::numerical_gradient::{FiniteDiff, Status};
/// let d = FiniteDiff::accurate().derivative(f64::ln, 0.01)?;
/// assert_eq!(d.status, Status::Converged);
/// assert!(d.status.is_trusted());
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Status {
    /// The extrapolated estimates settled as theory predicts; the error
    /// estimate bounds the true error (assuming `f` is accurate to a few ulps).
    Converged,
    /// `f` was NaN or infinite at a probe point, so a smaller step was used;
    /// the result then converged.
    StepShrunk,
    /// `f` was NaN or infinite on one side of `x` (a domain edge), so one-sided
    /// differences were used; the result then converged.
    OneSided,
    /// The estimates did not settle (the step is too large for how fast `f`
    /// changes, or `f` is noisy): the value may be wrong and the error estimate
    /// is a guess. Never silently trusted.
    Unreliable,
    /// A fixed scheme (forward, backward, central, five-point) estimates no
    /// error; the value is as good as the step rule makes it.
    NotEstimated,
}

impl Status {
    /// Whether the value comes with an error estimate that can be relied on.
    ///
    /// ```
    /// use kobai::numerical_gradient::Status;
    /// assert!(Status::OneSided.is_trusted());
    /// assert!(!Status::Unreliable.is_trusted() && !Status::NotEstimated.is_trusted());
    /// ```
    pub fn is_trusted(self) -> bool {
        matches!(
            self,
            Status::Converged | Status::StepShrunk | Status::OneSided
        )
    }

    /// The status's name in words, for reports.
    ///
    /// ```
    /// assert_eq!(kobai::numerical_gradient::Status::OneSided.name(), "one-sided");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Status::Converged => "converged",
            Status::StepShrunk => "step shrunk",
            Status::OneSided => "one-sided",
            Status::Unreliable => "unreliable",
            Status::NotEstimated => "not estimated",
        }
    }
}

/// One numerical derivative: its value, its estimated absolute error, its
/// status and how many times `f` was called.
///
/// ```
/// use kobai::numerical_gradient::FiniteDiff;
/// let d = FiniteDiff::accurate().derivative(|x| 1.0 / x, 1e-3)?;
/// assert!((d.value + 1e6).abs() <= d.error.unwrap());
/// assert!(d.evaluations <= 8);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Derivative {
    /// The derivative.
    pub value: f64,
    /// An estimate of `|value − true derivative|`; `None` for fixed schemes.
    pub error: Option<f64>,
    /// How the value was obtained; see [`Status`].
    pub status: Status,
    /// Calls of `f` spent on this derivative.
    pub evaluations: usize,
}

/// A numerical gradient with an error estimate and a status for every component.
///
/// ```
/// use kobai::numerical_gradient::FiniteDiff;
/// use ndarray::array;
/// let g = FiniteDiff::accurate().gradient(kobai::function_2, &array![3.0, 4.0])?;
/// assert!((g.value[1] - 8.0).abs() < 1e-12);
/// assert!(g.all_trusted());
/// assert!(g.max_error().unwrap() < 1e-9);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GradientEstimate<D: Dimension> {
    /// The gradient, in the shape of `x`.
    pub value: Array<f64, D>,
    /// The estimated absolute error of each component; `None` for fixed schemes.
    pub error: Option<Array<f64, D>>,
    /// The status of each component.
    pub status: Array<Status, D>,
    /// Calls of `f` in all.
    pub evaluations: usize,
}

impl<D: Dimension> GradientEstimate<D> {
    /// Whether every component has a trusted error estimate.
    pub fn all_trusted(&self) -> bool {
        self.status.iter().all(|s| s.is_trusted())
    }

    /// The largest estimated error over the components; `None` for fixed schemes.
    pub fn max_error(&self) -> Option<f64> {
        self.error
            .as_ref()
            .map(|e| e.iter().copied().fold(0.0, f64::max))
    }

    /// The least trusted status over the components (`Converged` is the most
    /// trusted, then `StepShrunk`, `OneSided`, `Unreliable`, `NotEstimated`).
    pub fn worst_status(&self) -> Option<Status> {
        self.status.iter().copied().max()
    }
}
