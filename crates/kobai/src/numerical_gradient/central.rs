//! The book's central difference with a fixed step `h = 1e-4`.

use ndarray::{Array, ArrayRef, Dimension};

use super::function_value::FunctionValue;
use crate::check;
use crate::error::Result;

/// The book's step, `h = 1e-4` ("a value around 10⁻⁴ is known to give good results").
pub const BOOK_STEP: f64 = 1e-4;

/// The derivative of a scalar function by the book's central difference.
///
/// ```text
/// f'(x) ≈ (f(x + h) − f(x − h)) / (2h),   h = 1e-4
/// ```
///
/// # Errors
/// [`KobaiError::NonFinite`](crate::KobaiError::NonFinite) if `x`, `f(x + h)` or `f(x − h)` is NaN or infinite;
/// any error `f` returns.
///
/// ```
/// // The book's function_1 = 0.01x² + 0.1x; its derivative at 5 is 0.2.
/// let d = kobai::numerical_diff(|x| 0.01 * x * x + 0.1 * x, 5.0)?;
/// assert!((d - 0.2).abs() < 1e-9);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn numerical_diff<F, R>(mut f: F, x: f64) -> Result<f64>
where
    F: FnMut(f64) -> R,
    R: FunctionValue,
{
    check::finite_scalar("x", || "the point of differentiation".into(), x)?;
    let at = || format!("x = {}, h = {BOOK_STEP}", check::number_text(x));
    let fxh1 = check::finite_scalar("f(x + h)", at, f(x + BOOK_STEP).into_result()?)?;
    let fxh2 = check::finite_scalar("f(x - h)", at, f(x - BOOK_STEP).into_result()?)?;
    Ok((fxh1 - fxh2) / (2.0 * BOOK_STEP))
}

/// The gradient of `f` at `x` by the book's central difference, one element at a
/// time, for an array of any dimension.
///
/// ```text
/// ∂f/∂x_i ≈ (f(x + h·e_i) − f(x − h·e_i)) / (2h),   h = 1e-4
/// ```
///
/// `f` receives the perturbed array. kobai perturbs a private copy of `x` —
/// setting `x_i + h`, then `x_i − h`, then restoring the saved `x_i` — so the
/// caller's `x` is never touched, and the operations are the book's in the book's
/// order: the results equal NumPy's bit for bit. The result has `x`'s shape.
///
/// # Errors
/// [`KobaiError::NonFinite`](crate::KobaiError::NonFinite) if `x` holds NaN or ±inf, or if `f` returns one at a
/// probe point (the message names the element); any error `f` returns.
///
/// ```
/// use ndarray::array;
/// // Notebook In[6]: numerical_gradient(function_2, np.array([3.0, 4.0])) → [6. 8.]
/// let grad = kobai::numerical_gradient(kobai::function_2, &array![3.0, 4.0])?;
/// assert_eq!(grad, array![6.00000000000378, 7.999999999999119]);
///
/// // Any dimension; f may be a closure returning a plain f64.
/// let w = array![[1.0, 2.0], [3.0, 4.0]];
/// let grad = kobai::numerical_gradient(|w| w.iter().map(|v| v * v).sum::<f64>(), &w)?;
/// assert!((grad[[1, 0]] - 6.0).abs() < 1e-9);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn numerical_gradient<F, R, D>(mut f: F, x: &ArrayRef<f64, D>) -> Result<Array<f64, D>>
where
    F: FnMut(&ArrayRef<f64, D>) -> R,
    R: FunctionValue,
    D: Dimension,
{
    check::finite("x", x)?;
    let h = BOOK_STEP;
    let mut probe = standard_layout_copy(x);
    let mut grad = Array::zeros(x.raw_dim());
    // Borrowed, not copied: an allocation is a tenth of a small gradient's time.
    let shape = x.shape();
    for (i, g) in grad.iter_mut().enumerate() {
        let tmp_val = element(&probe, i);
        set_element(&mut probe, i, tmp_val + h);
        let fxh1 = evaluate(&mut f, &probe, "f(x + h)", shape, i)?;
        set_element(&mut probe, i, tmp_val - h);
        let fxh2 = evaluate(&mut f, &probe, "f(x - h)", shape, i)?;
        set_element(&mut probe, i, tmp_val);
        *g = (fxh1 - fxh2) / (2.0 * h);
    }
    Ok(grad)
}

/// Calls `f` at a probe point and checks that the value is finite.
fn evaluate<F, R, D>(
    f: &mut F,
    probe: &Array<f64, D>,
    what: &str,
    shape: &[usize],
    i: usize,
) -> Result<f64>
where
    F: FnMut(&ArrayRef<f64, D>) -> R,
    R: FunctionValue,
    D: Dimension,
{
    let value = f(probe).into_result()?;
    check::finite_scalar(
        what,
        || format!("index {}", check::index_text(&unravel(i, shape))),
        value,
    )
}

/// A copy of `x` in standard (row-major) layout, so that element `i` of the
/// iteration order is element `i` of the memory.
fn standard_layout_copy<D: Dimension>(x: &ArrayRef<f64, D>) -> Array<f64, D> {
    x.as_standard_layout().into_owned()
}

fn element<D: Dimension>(a: &Array<f64, D>, i: usize) -> f64 {
    a.as_slice()
        .expect("a fresh standard-layout copy is contiguous")[i]
}

fn set_element<D: Dimension>(a: &mut Array<f64, D>, i: usize, value: f64) {
    a.as_slice_mut()
        .expect("a fresh standard-layout copy is contiguous")[i] = value;
}

/// The multi-index of the `i`-th element in row-major order.
pub(crate) fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (axis, &len) in shape.iter().enumerate().rev() {
        index[axis] = i % len.max(1);
        i /= len.max(1);
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array3, array};

    #[test]
    fn unravel_is_row_major() {
        assert_eq!(unravel(5, &[2, 3]), vec![1, 2]);
        assert_eq!(unravel(0, &[]), Vec::<usize>::new());
    }

    #[test]
    fn works_on_non_standard_layouts_and_three_axes() -> Result<()> {
        let x = Array3::from_shape_fn((2, 3, 4), |(i, j, k)| (i * 12 + j * 4 + k) as f64 / 10.0);
        let transposed = x.t();
        let grad = numerical_gradient(|v| v.iter().map(|a| a * a).sum::<f64>(), &transposed)?;
        assert_eq!(grad.shape(), transposed.shape());
        for (g, v) in grad.iter().zip(transposed.iter()) {
            assert!((g - 2.0 * v).abs() < 1e-8, "{g} vs {}", 2.0 * v);
        }
        Ok(())
    }

    #[test]
    fn non_finite_values_name_the_element() {
        let err = numerical_gradient(|v| v[[0, 1]].sqrt(), &array![[1.0, 0.0]]).unwrap_err();
        let text = err.to_string();
        assert_eq!(
            text,
            "f(x - h) is NaN at index [0, 1]; expected a finite number"
        );
        let err = numerical_gradient(|v| v.sum(), &array![1.0, f64::INFINITY]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "x is inf at index [1]; expected a finite number"
        );
    }
}
