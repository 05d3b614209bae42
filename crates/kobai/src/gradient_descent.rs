//! The book's gradient method: step against the gradient, `step_num` times.

use ndarray::{Array, ArrayRef, Dimension};

use crate::error::Result;
use crate::numerical_gradient::FunctionValue;
use crate::optim::{Sgd, descend_with, minimize};

/// Minimises `f` from `init_x` by the book's gradient descent and returns the
/// final point as a **new** array.
///
/// ```text
/// x ← x − lr · ∇f(x)      (step_num times, ∇f by numerical_gradient)
/// ```
///
/// Unlike the notebook's version, `init_x` is left alone: the notebook's
/// `x = init_x; x -= …` updated the caller's array in place, which is why its
/// In\[9\] started the second call where the first had stopped.
///
/// # Errors
/// [`KobaiError::Hyperparameter`](crate::KobaiError::Hyperparameter) if `lr` is
/// not a finite number above 0; any error of [`numerical_gradient`](crate::numerical_gradient()) (a NaN or
/// infinite `x` or `f`).
///
/// ```
/// use ndarray::array;
/// // Notebook In[8]: gradient_descent(function_2, init_x=[-3.0, 4.0], lr=0.1, step_num=100)
/// let init_x = array![-3.0, 4.0];
/// let x = kobai::gradient_descent(kobai::function_2, &init_x, 0.1, 100)?;
/// assert_eq!(x, array![-6.111107928998789e-10, 8.148143905314271e-10]);
/// assert_eq!(init_x, array![-3.0, 4.0]);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn gradient_descent<F, R, D>(
    f: F,
    init_x: &ArrayRef<f64, D>,
    lr: f64,
    step_num: usize,
) -> Result<Array<f64, D>>
where
    F: FnMut(&ArrayRef<f64, D>) -> R,
    R: FunctionValue,
    D: Dimension,
{
    // The book's update `x ← x − lr·∇f(x)` is exactly `Sgd`'s (Python's `x -= lr * grad`).
    descend_with(f, init_x, &mut Sgd::new(lr)?, step_num, |_| {})
}

/// Like [`gradient_descent`], but returns every point visited: `step_num + 1`
/// arrays, from `init_x` to the final point — the path the book plots.
///
/// # Errors
/// As [`gradient_descent`].
///
/// ```
/// use ndarray::array;
/// let path = kobai::gradient_descent_path(kobai::function_2, &array![-3.0, 4.0], 0.1, 20)?;
/// assert_eq!(path.len(), 21);
/// assert_eq!(path[0], array![-3.0, 4.0]);
/// assert!(path[20][1] < 0.05);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn gradient_descent_path<F, R, D>(
    f: F,
    init_x: &ArrayRef<f64, D>,
    lr: f64,
    step_num: usize,
) -> Result<Vec<Array<f64, D>>>
where
    F: FnMut(&ArrayRef<f64, D>) -> R,
    R: FunctionValue,
    D: Dimension,
{
    minimize(f, init_x, &mut Sgd::new(lr)?, step_num)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KobaiError;
    use ndarray::array;

    #[test]
    fn bad_learning_rates_are_rejected() {
        for lr in [0.0, -0.1, f64::NAN, f64::INFINITY] {
            let err = gradient_descent(crate::function_2, &array![1.0, 1.0], lr, 3).unwrap_err();
            assert!(
                matches!(err, KobaiError::Hyperparameter { name: "lr", .. }),
                "{err}"
            );
        }
    }

    #[test]
    fn zero_steps_return_the_start() -> Result<()> {
        let x = gradient_descent(crate::function_2, &array![1.5, -2.0], 0.1, 0)?;
        assert_eq!(x, array![1.5, -2.0]);
        Ok(())
    }

    #[test]
    fn path_ends_where_descent_ends() -> Result<()> {
        let start = array![[2.0, -1.0], [0.5, 3.0]];
        let f = |x: &ArrayRef<f64, ndarray::Ix2>| x.iter().map(|v| v * v).sum::<f64>();
        let path = gradient_descent_path(f, &start, 0.05, 7)?;
        assert_eq!(path.len(), 8);
        assert_eq!(path[7], gradient_descent(f, &start, 0.05, 7)?);
        Ok(())
    }
}
