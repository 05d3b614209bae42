//! Exact mode: derivatives to machine precision with dual numbers, no step to choose.
//!
//! A dual number `a + b·ε` with `ε² = 0` carries a value and a derivative
//! together; every operation applies the chain rule to the second part, so
//! evaluating `f` at `x + 1·ε` yields `f(x) + f'(x)·ε`:
//!
//! ```text
//! f(x + ε) = f(x) + f'(x)·ε          (exactly, because ε² = 0)
//! ```
//!
//! There is no step `h`, hence no truncation error and no cancellation: the
//! derivative is as accurate as `f(x)` itself, typically within a few ulps —
//! where the central difference with `h = 1e-4` is off by about 1e-8.
//!
//! **When exact mode is right.** `f` must be written generically over its
//! number type, so that kobai can evaluate it with [`Dual64`] instead of `f64`.
//! Write it once for any `T: DualNum<Primitive = f64> + Copy`; `f64` itself is
//! such a `T`, so the same function also gives plain values:
//!
//! - constants go on the right: `x * 2.0`, `x - 1.0`; or build them with `T::from(2.0)`;
//! - `x.exp()`, `x.ln()`, `x.sin()`, `x.powi(3)`, `x.sqrt()`, … are methods of [`DualNum`];
//! - branch on the value with `x.re()` (or compare `x > 0.0` directly); the
//!   derivative follows the branch taken.
//!
//! A gradient costs `n` evaluations (one per component), each a few times the
//! cost of an `f64` evaluation — the same order as the central difference's
//! `2n`. For the millions of weights of a network, backpropagation (one
//! backward pass) is the tool; exact mode is for checking it, and for small
//! problems where the answer should be right to the last digits.
//!
//! [`exact_hessian`] uses [`HyperDual64`] (`ε₁`, `ε₂` with `ε₁² = ε₂² = 0`):
//! `f(x + ε₁e_i + ε₂e_j)` carries `∂²f/∂x_i∂x_j` in its `ε₁ε₂` part.
//!
//! The number types are num-dual's, re-exported here so that no extra
//! dependency is needed.
//!
//! ```
//! use kobai::numerical_gradient::{DualNum, exact_gradient};
//! use ndarray::{ArrayRef1, array};
//!
//! // Rosenbrock, generic over the number type.
//! fn rosenbrock<T: DualNum<Primitive = f64> + Copy>(x: &ArrayRef1<T>) -> T {
//!     x.iter().zip(x.iter().skip(1)).fold(T::from(0.0), |sum, (&a, &b)| {
//!         sum + (b - a * a).powi(2) * 100.0 + (-a + 1.0).powi(2)
//!     })
//! }
//!
//! let x = array![1.0, 2.0];
//! assert_eq!(rosenbrock(&x), 100.0); // plain f64
//! assert_eq!(exact_gradient(rosenbrock, &x)?, array![-400.0, 200.0]); // exact
//! # Ok::<(), kobai::KobaiError>(())
//! ```

use ndarray::{Array, Array1, Array2, ArrayRef, ArrayRef1, Dimension};
pub use num_dual::{Dual64, DualNum, HyperDual64};

use super::unravel;
use crate::check;
use crate::error::Result;

/// The exact derivative of a scalar function, from one evaluation with a dual number.
///
/// ```text
/// f(x + ε) = f(x) + f'(x)·ε,   ε² = 0   →   read the ε part
/// ```
///
/// `f` receives [`Dual64::new(x, 1.0)`](Dual64::new) and must return a
/// [`Dual64`]; write it generically (`T: DualNum<Primitive = f64> + Copy`) or for
/// `Dual64` directly.
///
/// # Errors
/// [`KobaiError::NonFinite`](crate::KobaiError::NonFinite) if `x`, `f(x)` or
/// `f'(x)` is NaN or infinite (the last happens where `f` is not
/// differentiable, e.g. `sqrt` at 0).
///
/// ```
/// use kobai::numerical_gradient::{DualNum, exact_derivative};
///
/// // The book's function_1 = 0.01x² + 0.1x; its derivative at 5 is exactly 0.2.
/// fn function_1<T: DualNum<Primitive = f64> + Copy>(x: T) -> T {
///     x * x * 0.01 + x * 0.1
/// }
/// assert_eq!(exact_derivative(function_1, 5.0)?, 0.2);
///
/// // A closure works too: d/dx sin x at 1 is cos 1, to the last bit.
/// assert_eq!(exact_derivative(|x| x.sin(), 1.0)?, 1f64.cos());
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn exact_derivative<F>(f: F, x: f64) -> Result<f64>
where
    F: FnOnce(Dual64) -> Dual64,
{
    check::finite_scalar("x", || "the point of differentiation".into(), x)?;
    let y = f(Dual64::from_re(x).derivative());
    let at = || format!("x = {}", crate::check::number_text(x));
    check::finite_scalar("f(x)", at, y.re)?;
    check::finite_scalar("f'(x)", at, y.eps)
}

/// The exact gradient of `f` at `x`, one dual-number evaluation per element,
/// for an array of any dimension.
///
/// ```text
/// f(x + ε·e_i) = f(x) + ∂f/∂x_i·ε,   ε² = 0,   i = 0, …, n−1
/// ```
///
/// kobai builds one array of [`Dual64`] — a copy of `x` with all `ε` parts 0 —
/// and for each element sets its `ε` part to 1, calls `f`, and sets it back to 0:
/// exactly `n` evaluations and no allocation per evaluation. The caller's `x` is
/// never touched. The result has `x`'s shape, in any layout (a transposed view
/// included); an empty `x` gives an empty gradient without calling `f`.
///
/// # Errors
/// [`KobaiError::NonFinite`](crate::KobaiError::NonFinite) if `x` holds NaN or
/// ±inf, or if `f` returns a value or a derivative that is NaN or ±inf (the
/// message names the element being differentiated). Where `f` is not
/// differentiable (`sqrt` at 0, say) the derivative is ±inf for the element that
/// reaches the singular term, and NaN (`0·∞`) for every other element, so the
/// error names the first element of `x`.
///
/// ```
/// use kobai::numerical_gradient::{DualNum, exact_gradient};
/// use ndarray::{ArrayRef1, array};
///
/// // Notebook In[6]: the gradient of x0² + x1² at (3, 4) is (6, 8) — exactly.
/// fn function_2<T: DualNum<Primitive = f64> + Copy>(x: &ArrayRef1<T>) -> T {
///     x.iter().map(|&v| v * v).sum()
/// }
/// assert_eq!(exact_gradient(function_2, &array![3.0, 4.0])?, array![6.0, 8.0]);
///
/// // Any dimension; a closure over Dual64 works too.
/// let w = array![[1.0, 2.0], [3.0, 4.0]];
/// let grad = exact_gradient(|w| w.iter().map(|v| v.exp()).sum(), &w)?;
/// assert_eq!(grad[[1, 0]], 3f64.exp());
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn exact_gradient<F, D>(mut f: F, x: &ArrayRef<f64, D>) -> Result<Array<f64, D>>
where
    F: FnMut(&ArrayRef<Dual64, D>) -> Dual64,
    D: Dimension,
{
    check::finite("x", x)?;
    let values: Vec<Dual64> = x.iter().map(|&v| Dual64::from_re(v)).collect();
    let mut probe = Array::from_shape_vec(x.raw_dim(), values)
        .expect("one value per element of x, in logical order");
    let mut grad = Array::zeros(x.raw_dim());
    let shape = x.shape();
    for (i, g) in grad.iter_mut().enumerate() {
        seed(&mut probe, i, 1.0);
        let y = f(&probe);
        seed(&mut probe, i, 0.0);
        let at = || format!("index {}", check::index_text(&unravel(i, shape)));
        check::finite_scalar("f(x)", at, y.re)?;
        *g = check::finite_scalar("the derivative of f", at, y.eps)?;
    }
    Ok(grad)
}

/// Sets the `ε` part of element `i` (in logical order) of a standard-layout array.
fn seed<D: Dimension>(probe: &mut Array<Dual64, D>, i: usize, eps: f64) {
    probe
        .as_slice_mut()
        .expect("an array built by from_shape_vec is in standard layout")[i]
        .eps = eps;
}

/// The exact Hessian of `f` at `x`, one hyper-dual evaluation per pair `i ≤ j`.
///
/// ```text
/// f(x + ε₁e_i + ε₂e_j) = f(x) + ∂_i f·ε₁ + ∂_j f·ε₂ + ∂²f/∂x_i∂x_j·ε₁ε₂,   ε₁² = ε₂² = 0
/// ```
///
/// `n(n+1)/2` evaluations of `f` on one array of [`HyperDual64`], seeded and
/// reset in place; the result is `n × n` and symmetric by construction (the
/// entry for `j < i` is the one computed for `i, j`). An empty `x` gives a
/// `0 × 0` matrix.
///
/// # Errors
/// [`KobaiError::NonFinite`](crate::KobaiError::NonFinite) if `x` holds NaN or
/// ±inf, or if `f` returns a value or a second derivative that is NaN or ±inf
/// (the message names the pair, e.g. `index [0, 1]`).
///
/// ```
/// use kobai::numerical_gradient::{DualNum, exact_hessian};
/// use ndarray::{ArrayRef1, array};
///
/// // Rosenbrock's Hessian at its minimum (1, 1).
/// fn rosenbrock<T: DualNum<Primitive = f64> + Copy>(x: &ArrayRef1<T>) -> T {
///     (x[1] - x[0] * x[0]).powi(2) * 100.0 + (-x[0] + 1.0).powi(2)
/// }
/// let h = exact_hessian(rosenbrock, &array![1.0, 1.0])?;
/// assert_eq!(h, array![[802.0, -400.0], [-400.0, 200.0]]);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn exact_hessian<F>(mut f: F, x: &ArrayRef1<f64>) -> Result<Array2<f64>>
where
    F: FnMut(&ArrayRef1<HyperDual64>) -> HyperDual64,
{
    check::finite("x", x)?;
    let n = x.len();
    let mut probe: Array1<HyperDual64> = x.iter().map(|&v| HyperDual64::from_re(v)).collect();
    let mut hessian = Array2::zeros((n, n));
    for i in 0..n {
        for j in i..n {
            probe[i].eps1 = 1.0;
            probe[j].eps2 = 1.0;
            let y = f(&probe);
            probe[i].eps1 = 0.0;
            probe[j].eps2 = 0.0;
            let at = || format!("index [{i}, {j}]");
            check::finite_scalar("f(x)", at, y.re)?;
            let h = check::finite_scalar("the second derivative of f", at, y.eps1eps2)?;
            hessian[[i, j]] = h;
            hessian[[j, i]] = h;
        }
    }
    Ok(hessian)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::KobaiError;
    use ndarray::{Array3, ArrayRef2, array};
    use std::cell::Cell;

    fn sum_of_squares<T: DualNum<Primitive = f64> + Copy>(x: &[T]) -> T {
        x.iter().fold(T::from(0.0), |s, &v| s + v * v)
    }

    #[test]
    fn derivative_of_a_polynomial_is_exact() -> Result<()> {
        // d/dx (x³ − 2x) at 3 = 3·9 − 2 = 25.
        assert_eq!(exact_derivative(|x| x.powi(3) - x * 2.0, 3.0)?, 25.0);
        Ok(())
    }

    #[test]
    fn derivative_errors_name_what_is_not_finite() {
        let err = exact_derivative(|x| x, f64::NAN).unwrap_err();
        assert!(matches!(err, KobaiError::NonFinite { .. }));
        let err = exact_derivative(|x| x.ln(), -1.0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "f(x) is NaN at x = -1; expected a finite number"
        );
        let err = exact_derivative(|x| x.sqrt(), 0.0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "f'(x) is NaN at x = 0; expected a finite number"
        );
    }

    #[test]
    fn works_on_non_standard_layouts_and_three_axes() -> Result<()> {
        let x = Array3::from_shape_fn((2, 3, 4), |(i, j, k)| (i * 12 + j * 4 + k) as f64 / 10.0);
        let transposed = x.t();
        // Weight each element by its logical position so that a mix-up of
        // logical and memory order would show.
        let f = |v: &ArrayRef<Dual64, _>| {
            v.iter()
                .enumerate()
                .fold(Dual64::from_re(0.0), |s, (k, &a)| s + a * a * (k as f64))
        };
        let grad = exact_gradient(f, &transposed)?;
        assert_eq!(grad.shape(), transposed.shape());
        for (k, (g, v)) in grad.iter().zip(transposed.iter()).enumerate() {
            assert_eq!(*g, 2.0 * v * k as f64);
        }
        Ok(())
    }

    #[test]
    fn evaluates_n_times_and_leaves_x_alone() -> Result<()> {
        let calls = Cell::new(0);
        let x = array![[1.0, -2.0, 0.5], [3.0, 0.0, 7.0]];
        let before = x.clone();
        let grad = exact_gradient(
            |w: &ArrayRef2<Dual64>| {
                calls.set(calls.get() + 1);
                // Exactly one element carries ε = 1 in every evaluation.
                assert_eq!(w.iter().filter(|v| v.eps == 1.0).count(), 1);
                assert_eq!(w.iter().filter(|v| v.eps == 0.0).count(), 5);
                sum_of_squares(w.as_slice().unwrap_or(&[]))
            },
            &x,
        )?;
        assert_eq!(calls.get(), 6);
        assert_eq!(x, before);
        assert_eq!(grad, &x * 2.0);
        Ok(())
    }

    #[test]
    fn empty_and_zero_dimensional_inputs() -> Result<()> {
        let calls = Cell::new(0);
        let empty = Array2::<f64>::zeros((0, 3));
        let grad = exact_gradient(
            |_: &ArrayRef2<Dual64>| {
                calls.set(calls.get() + 1);
                Dual64::from_re(f64::NAN)
            },
            &empty,
        )?;
        assert_eq!(grad.shape(), &[0, 3]);
        assert_eq!(calls.get(), 0);
        assert_eq!(
            exact_hessian(|_| HyperDual64::from_re(1.0), &array![])?.dim(),
            (0, 0)
        );
        let scalar = ndarray::arr0(2.0);
        assert_eq!(
            exact_gradient(|v| v[()].exp(), &scalar)?,
            ndarray::arr0(2f64.exp())
        );
        Ok(())
    }

    #[test]
    fn gradient_errors_name_the_element() {
        let err = exact_gradient(|v| v.sum(), &array![[1.0, f64::NAN]]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "x is NaN at index [0, 1]; expected a finite number"
        );
        // A derivative that overflows although the value does not.
        let err = exact_gradient(
            |v| v[[0, 0]] + v[[0, 1]] * 1e308 * 10.0,
            &array![[1.0, 1e-10]],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the derivative of f is inf at index [0, 1]; expected a finite number"
        );
        // Where f is not differentiable, 0·∞ = NaN shows even at the elements
        // that do not reach the singular term: sqrt at 0 fails at [0, 0].
        let err = exact_gradient(|v| v[[0, 1]].sqrt(), &array![[1.0, 0.0]]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the derivative of f is NaN at index [0, 0]; expected a finite number"
        );
        let err = exact_gradient(|v| v[1].ln(), &array![1.0, -1.0]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "f(x) is NaN at index [0]; expected a finite number"
        );
    }

    #[test]
    fn hessian_is_symmetric_and_takes_n_n_plus_1_over_2_evaluations() -> Result<()> {
        let calls = Cell::new(0);
        // f = x0·x1·x2 + x0²: H = [[2, x2, x1], [x2, 0, x0], [x1, x0, 0]].
        let h = exact_hessian(
            |v: &ArrayRef1<HyperDual64>| {
                calls.set(calls.get() + 1);
                v[0] * v[1] * v[2] + v[0] * v[0]
            },
            &array![2.0, 3.0, 5.0],
        )?;
        assert_eq!(calls.get(), 6);
        assert_eq!(h, array![[2.0, 5.0, 3.0], [5.0, 0.0, 2.0], [3.0, 2.0, 0.0]]);
        let err = exact_hessian(|v| v[0].sqrt() * v[1], &array![0.0, 1.0]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the second derivative of f is NaN at index [0, 0]; expected a finite number"
        );
        Ok(())
    }
}
