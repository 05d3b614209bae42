//! The book's central difference with a fixed step `h = 1e-4`.

use ndarray::{Array, ArrayRef, ArrayViewMut, Dimension};

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
/// `f` receives the perturbed array. kobai perturbs private copies of `x` —
/// `x_i + h`, then `x_i − h`, then the saved `x_i` back — so the caller's `x`
/// is never touched, and the operations are the book's in the book's order:
/// the results equal NumPy's bit for bit. The result has `x`'s shape. (A
/// small `x` is probed through four copies used in turn, so that `f` never
/// reads an element the moment after it was written: the same calls, in
/// about half the time for a tiny `f`.)
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
    if x.len() <= SMALL_INPUT {
        probes_in_flight(&mut f, x)
    } else {
        one_probe(&mut f, x)
    }
}

/// [`numerical_gradient`] on one copy of `x` (after its finite check).
fn one_probe<F, R, D>(f: &mut F, x: &ArrayRef<f64, D>) -> Result<Array<f64, D>>
where
    F: FnMut(&ArrayRef<f64, D>) -> R,
    R: FunctionValue,
    D: Dimension,
{
    let h = BOOK_STEP;
    let mut probe = standard_layout_copy(x);
    let mut grad = Array::zeros(x.raw_dim());
    // Borrowed, not copied: an allocation is a tenth of a small gradient's time.
    let shape = x.shape();
    for (i, g) in grad.iter_mut().enumerate() {
        let tmp_val = element(&probe, i);
        set_element(&mut probe, i, tmp_val + h);
        let fxh1 = evaluate(f, &probe, "f(x + h)", shape, i)?;
        set_element(&mut probe, i, tmp_val - h);
        let fxh2 = evaluate(f, &probe, "f(x - h)", shape, i)?;
        set_element(&mut probe, i, tmp_val);
        *g = (fxh1 - fxh2) / (2.0 * h);
    }
    Ok(grad)
}

/// Inputs of at most this many elements are probed through four copies
/// ([`probes_in_flight`]); larger ones through one, whose stalls are small
/// against `f`'s own time and which leaves the cache to `f`.
const SMALL_INPUT: usize = 256;

/// [`numerical_gradient`] for a small `x` (after its finite check): the same
/// calls with the same values in the same order, on two pairs of copies of
/// `x` used in turn — one pair for the even elements, one for the odd —,
/// each copy's element set two elements before `f` reads it and restored
/// after. With one copy, `f`'s vector loads would read the element just
/// stored, which the processor cannot forward from the narrower store: a
/// stall of several nanoseconds per call, as long as a small `f` itself.
/// The result and the copies share one allocation.
fn probes_in_flight<F, R, D>(f: &mut F, x: &ArrayRef<f64, D>) -> Result<Array<f64, D>>
where
    F: FnMut(&ArrayRef<f64, D>) -> R,
    R: FunctionValue,
    D: Dimension,
{
    let h = BOOK_STEP;
    let n = x.len();
    if n == 0 {
        return Ok(Array::zeros(x.raw_dim()));
    }
    let shape = x.shape();
    let x = x.as_standard_layout();
    let values = x.as_slice().ok_or_else(not_contiguous)?;
    let mut buffer = Vec::with_capacity(5 * n);
    buffer.resize(n, 0.0);
    for _ in 0..4 {
        buffer.extend_from_slice(values);
    }
    {
        let (grad, copies) = buffer.split_at_mut(n);
        let mut chunks = copies.chunks_exact_mut(n);
        let mut copy = || {
            chunks
                .next()
                .and_then(|c| ArrayViewMut::from_shape(x.raw_dim(), c).ok())
                .ok_or_else(not_contiguous)
        };
        // (x + h·e_i, x − h·e_i) for the even i, then for the odd i.
        let mut pairs = [[copy()?, copy()?], [copy()?, copy()?]];
        // Sets element i of a pair to x_i + h and x_i − h, or restores x_i.
        let set = |[plus, minus]: &mut [ArrayViewMut<'_, f64, D>; 2], i: usize, probe: bool| {
            let (plus, minus) = (plus.as_slice_mut(), minus.as_slice_mut());
            let (plus, minus) = plus.zip(minus).ok_or_else(not_contiguous)?;
            let x_i = values[i];
            (plus[i], minus[i]) = if probe {
                (x_i + h, x_i - h)
            } else {
                (x_i, x_i)
            };
            Ok::<(), crate::KobaiError>(())
        };
        for (i, pair) in pairs.iter_mut().enumerate().take(n) {
            set(pair, i, true)?;
        }
        for (i, g) in grad.iter_mut().enumerate() {
            let pair = &mut pairs[i % 2];
            let fxh1 = evaluate(f, &pair[0], "f(x + h)", shape, i)?;
            let fxh2 = evaluate(f, &pair[1], "f(x - h)", shape, i)?;
            *g = (fxh1 - fxh2) / (2.0 * h);
            set(pair, i, false)?;
            if i + 2 < n {
                set(pair, i + 2, true)?;
            }
        }
    }
    buffer.truncate(n);
    Array::from_shape_vec(x.raw_dim(), buffer).map_err(|_| not_contiguous())
}

/// A copy that is not laid out as made: a bug, reported as an error rather
/// than a panic.
fn not_contiguous() -> crate::KobaiError {
    crate::KobaiError::Shape {
        what: "probe copy".into(),
        expected: "a contiguous copy of x".into(),
        found: Vec::new(),
    }
}

/// Calls `f` at a probe point and checks that the value is finite.
#[inline]
fn evaluate<F, R, D>(
    f: &mut F,
    probe: &ArrayRef<f64, D>,
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
    if value.is_finite() {
        return Ok(value);
    }
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
    fn copies_in_flight_make_the_calls_of_one_probe() -> Result<()> {
        // f records every point it is given; the two routes must give the
        // same points in the same order, and the same gradient bits.
        let run = |small: bool, x: &ndarray::ArrayRef2<f64>| {
            let mut seen: Vec<Vec<u64>> = Vec::new();
            let mut f = |v: &ndarray::ArrayRef2<f64>| {
                seen.push(v.iter().map(|a| a.to_bits()).collect());
                v.iter().map(|a| a.atan2(0.5) * a).sum::<f64>()
            };
            let grad = if small {
                probes_in_flight(&mut f, x)
            } else {
                one_probe(&mut f, x)
            };
            grad.map(|g| (g.iter().map(|a| a.to_bits()).collect::<Vec<_>>(), seen))
        };
        for (rows, cols) in [(1, 1), (1, 2), (1, 3), (2, 3), (5, 7)] {
            let x = ndarray::Array2::from_shape_fn((rows, cols), |(i, j)| match (i + j) % 3 {
                0 => -0.0,
                1 => (i * cols + j) as f64 / 3.0,
                _ => -1.5e-3 * (j as f64 + 1.0),
            });
            for x in [x.view(), x.t()] {
                let (small, big) = (run(true, &x)?, run(false, &x)?);
                assert_eq!(small.1.len(), 2 * x.len());
                assert_eq!(small, big, "{rows}x{cols}");
            }
        }
        let empty = ndarray::Array2::<f64>::zeros((0, 3));
        assert_eq!(numerical_gradient(|v| v.sum(), &empty)?.shape(), &[0, 3]);
        Ok(())
    }

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
