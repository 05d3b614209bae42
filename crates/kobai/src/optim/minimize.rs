//! Chapter 6's comparison of optimizers on a function: the gradient method of
//! chapter 4 with any [`Optimizer`] in place of plain SGD.

use ndarray::{Array, ArrayRef, Dimension};

use super::Optimizer;
use crate::check;
use crate::error::Result;
use crate::numerical_gradient::{FunctionValue, numerical_gradient};

/// Minimises `f` from `init_x` with `optimizer` for `step_num` steps and
/// returns every point visited: `step_num + 1` new arrays, from `init_x` to the
/// final point — the path the book plots in figures 6-3 to 6-8.
///
/// ```text
/// x ← optimizer.update("x", x, ∇f(x))      (step_num times, ∇f by numerical_gradient)
/// ```
///
/// The point is the optimizer's one parameter, named `"x"`, so an optimizer
/// with state for `"x"` carries it over from a previous call. `init_x` is left
/// alone. With [`Sgd`](crate::Sgd) the path is
/// [`gradient_descent_path`](crate::gradient_descent_path)'s, to the bit.
///
/// # Errors
/// [`KobaiError::NonFinite`](crate::KobaiError::NonFinite) if `init_x` holds NaN
/// or ±inf; any error of [`numerical_gradient`] (a NaN or infinite `x` or `f`
/// along the way). Hyperparameters were checked when the optimizer was made.
///
/// ```
/// use kobai::{minimize, Momentum};
/// use ndarray::{array, ArrayRef1};
/// // Figure 6-5's function, f(x, y) = x²/20 + y², from (-7, 2).
/// let f = |p: &ArrayRef1<f64>| p[0] * p[0] / 20.0 + p[1] * p[1];
/// let init_x = array![-7.0, 2.0];
/// let path = minimize(f, &init_x, &mut Momentum::new(0.1, 0.9)?, 30)?;
/// assert_eq!(path.len(), 31);
/// assert_eq!(path[0], init_x);
/// assert!(f(&path[30]) < f(&init_x) / 10.0);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn minimize<F, R, D, O>(
    mut f: F,
    init_x: &ArrayRef<f64, D>,
    optimizer: &mut O,
    step_num: usize,
) -> Result<Vec<Array<f64, D>>>
where
    F: FnMut(&ArrayRef<f64, D>) -> R,
    R: FunctionValue,
    D: Dimension,
    O: Optimizer + ?Sized,
{
    let mut path = vec![init_x.to_owned()];
    descend_with(&mut f, init_x, optimizer, step_num, |x| {
        path.push(x.clone())
    })?;
    Ok(path)
}

/// The loop behind [`minimize`] and [`gradient_descent`](crate::gradient_descent()):
/// `step_num` optimizer steps on the numerical gradient, calling `visit` after
/// each; returns the final point.
pub(crate) fn descend_with<F, R, D, O>(
    mut f: F,
    init_x: &ArrayRef<f64, D>,
    optimizer: &mut O,
    step_num: usize,
    mut visit: impl FnMut(&Array<f64, D>),
) -> Result<Array<f64, D>>
where
    F: FnMut(&ArrayRef<f64, D>) -> R,
    R: FunctionValue,
    D: Dimension,
    O: Optimizer + ?Sized,
{
    check::finite("init_x", init_x)?;
    let mut x = init_x.to_owned();
    for _ in 0..step_num {
        let grad = numerical_gradient(&mut f, &x)?;
        optimizer.update("x", x.view_mut().into_dyn(), grad.view().into_dyn());
        visit(&x);
    }
    Ok(x)
}
