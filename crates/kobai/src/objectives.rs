//! Functions to differentiate and minimise, each beside its exact gradient.
//!
//! Each objective returns `Result` so that a wrong-length input is an error,
//! not a panic; pass them straight to [`numerical_gradient`](crate::numerical_gradient())
//! and [`gradient_descent`](crate::gradient_descent()). Values are computed with the
//! book's operations (`x0 * x0` for `x[0]**2`).

use ndarray::{Array, Array1, ArrayRef, ArrayRef1, Dimension};

use crate::check;
use crate::error::{KobaiError, Result};

/// The book's `function_1`, a parabola used to show the numerical derivative.
///
/// ```text
/// f(x) = 0.01x² + 0.1x
/// ```
///
/// ```
/// assert!((kobai::function_1(5.0) - 0.75).abs() < 1e-15);
/// ```
pub fn function_1(x: f64) -> f64 {
    // `0.01*x**2`: the square first, as Python evaluates it.
    0.01 * (x * x) + 0.1 * x
}

/// The exact derivative of [`function_1`]: `0.02x + 0.1`.
///
/// ```
/// assert!((kobai::function_1_derivative(5.0) - 0.2).abs() < 1e-15);
/// ```
pub fn function_1_derivative(x: f64) -> f64 {
    0.02 * x + 0.1
}

/// The notebook's `function_2`, of exactly two variables.
///
/// ```text
/// f(x) = x0² + x1²
/// ```
///
/// # Errors
/// [`KobaiError::Shape`] unless `x` has exactly two elements.
///
/// ```
/// use ndarray::array;
/// assert_eq!(kobai::function_2(&array![3.0, 4.0])?, 25.0);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn function_2(x: &ArrayRef1<f64>) -> Result<f64> {
    check::shape_is("function_2's x", x, &[2])?;
    Ok(x[0] * x[0] + x[1] * x[1])
}

/// The exact gradient of [`function_2`]: `(2x0, 2x1)`.
///
/// # Errors
/// [`KobaiError::Shape`] unless `x` has exactly two elements.
///
/// ```
/// use ndarray::array;
/// assert_eq!(kobai::function_2_gradient(&array![3.0, 4.0])?, array![6.0, 8.0]);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn function_2_gradient(x: &ArrayRef1<f64>) -> Result<Array1<f64>> {
    check::shape_is("function_2's x", x, &[2])?;
    Ok(x.mapv(|v| 2.0 * v))
}

/// The sphere function: the sum of squares, over an array of any shape.
///
/// ```text
/// f(x) = Σ_i x_i²
/// ```
///
/// # Errors
/// [`KobaiError::Empty`] if `x` has no element.
///
/// ```
/// use ndarray::array;
/// assert_eq!(kobai::sphere(&array![[1.0, 2.0], [3.0, 4.0]])?, 30.0);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn sphere<D: Dimension>(x: &ArrayRef<f64, D>) -> Result<f64> {
    check::non_empty("sphere's x", x)?;
    Ok(x.iter().fold(0.0, |sum, v| sum + v * v))
}

/// The exact gradient of [`sphere`]: `2x`.
///
/// # Errors
/// [`KobaiError::Empty`] if `x` has no element.
///
/// ```
/// use ndarray::array;
/// assert_eq!(kobai::sphere_gradient(&array![1.0, -2.0])?, array![2.0, -4.0]);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn sphere_gradient<D: Dimension>(x: &ArrayRef<f64, D>) -> Result<Array<f64, D>> {
    check::non_empty("sphere's x", x)?;
    Ok(x.mapv(|v| 2.0 * v))
}

/// The Rosenbrock function in `n ≥ 2` dimensions, a curved valley with its
/// minimum 0 at `(1, …, 1)`.
///
/// ```text
/// f(x) = Σ_{i<n−1} 100 (x_{i+1} − x_i²)² + (1 − x_i)²
/// ```
///
/// # Errors
/// [`KobaiError::Shape`] if `x` has fewer than two elements.
///
/// ```
/// use ndarray::array;
/// assert_eq!(kobai::rosenbrock(&array![1.0, 1.0, 1.0])?, 0.0);
/// assert_eq!(kobai::rosenbrock(&array![0.0, 1.0])?, 101.0);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn rosenbrock(x: &ArrayRef1<f64>) -> Result<f64> {
    at_least_two("rosenbrock's x", x)?;
    let pairs = x.iter().zip(x.iter().skip(1));
    Ok(pairs.fold(0.0, |sum, (&a, &b)| {
        sum + 100.0 * (b - a * a) * (b - a * a) + (1.0 - a) * (1.0 - a)
    }))
}

/// The exact gradient of [`rosenbrock`].
///
/// ```text
/// ∂f/∂x_i = −400 x_i (x_{i+1} − x_i²) − 2 (1 − x_i)   [i < n−1]
///         + 200 (x_i − x_{i−1}²)                      [i > 0]
/// ```
///
/// # Errors
/// [`KobaiError::Shape`] if `x` has fewer than two elements.
///
/// ```
/// use ndarray::array;
/// assert_eq!(kobai::rosenbrock_gradient(&array![0.0, 1.0])?, array![-2.0, 200.0]);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn rosenbrock_gradient(x: &ArrayRef1<f64>) -> Result<Array1<f64>> {
    at_least_two("rosenbrock's x", x)?;
    let n = x.len();
    Ok(Array1::from_shape_fn(n, |i| {
        let mut g = 0.0;
        if i + 1 < n {
            g += -400.0 * x[i] * (x[i + 1] - x[i] * x[i]) - 2.0 * (1.0 - x[i]);
        }
        if i > 0 {
            g += 200.0 * (x[i] - x[i - 1] * x[i - 1]);
        }
        g
    }))
}

fn at_least_two(what: &str, x: &ArrayRef1<f64>) -> Result<()> {
    if x.len() >= 2 {
        Ok(())
    } else {
        Err(KobaiError::Shape {
            what: what.into(),
            expected: "expected at least two elements".into(),
            found: x.shape().to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numerical_gradient;
    use ndarray::{Array1, array};
    use proptest::prelude::*;

    fn close(a: &Array1<f64>, b: &Array1<f64>, tol: f64) -> bool {
        a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= tol * (1.0 + y.abs()))
    }

    proptest! {
        #[test]
        fn function_2_gradient_matches_central_difference(x0 in -1e3..1e3f64, x1 in -1e3..1e3f64) {
            let x = array![x0, x1];
            let numeric = numerical_gradient(function_2, &x)?;
            prop_assert!(close(&numeric, &function_2_gradient(&x)?, 1e-5));
        }

        #[test]
        fn sphere_gradient_matches_central_difference(v in proptest::collection::vec(-100.0..100.0f64, 1..12)) {
            let x = Array1::from(v);
            let numeric = numerical_gradient(sphere, &x)?;
            prop_assert!(close(&numeric, &sphere_gradient(&x)?, 1e-6));
        }

        #[test]
        fn rosenbrock_gradient_matches_central_difference(v in proptest::collection::vec(-2.0..2.0f64, 2..10)) {
            let x = Array1::from(v);
            let numeric = numerical_gradient(rosenbrock, &x)?;
            prop_assert!(close(&numeric, &rosenbrock_gradient(&x)?, 1e-4));
        }

        #[test]
        fn function_1_derivative_matches_central_difference(x in -1e3..1e3f64) {
            let numeric = crate::numerical_diff(function_1, x)?;
            prop_assert!((numeric - function_1_derivative(x)).abs() < 1e-6);
        }
    }

    #[test]
    fn wrong_lengths_are_errors() {
        let err = function_2(&array![1.0, 2.0, 3.0]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "function_2's x has shape [3] but expected shape [2]"
        );
        assert!(rosenbrock(&array![1.0]).is_err());
        assert!(sphere(&Array1::<f64>::zeros(0)).is_err());
    }
}
