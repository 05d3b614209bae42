//! A fixed-tolerance comparison of two sets of gradients.

use ndarray::ArrayD;

use super::report::{Criterion, GradientCheck, TensorCheck, tensor_check};
use crate::error::{KobaiError, Result};
use crate::model::Grads;

/// When an element passes under a fixed tolerance:
/// `|a − n| / max(|a|, |n|, floor) ≤ relative`.
///
/// ```
/// let tol = kobai::gradient_check::Tolerance::default();
/// assert_eq!((tol.relative, tol.floor), (1e-5, 1e-3));
/// ```
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

impl Tolerance {
    /// The difference allowed between `a` and `n`.
    pub(crate) fn allowed(self, a: f64, n: f64) -> f64 {
        self.relative * a.abs().max(n.abs()).max(self.floor)
    }
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
    Ok(GradientCheck {
        tensors,
        criterion: Criterion::Fixed(tolerance),
    })
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
    Ok(tensor_check(name, a, n, |_, x, y| tol.allowed(x, y)))
}
