//! Element-wise activations.

use ndarray::{Array, ArrayRef, Dimension};

use crate::kernels::Real;

/// The logistic sigmoid, element by element.
///
/// ```text
/// sigmoid(x) = 1 / (1 + exp(-x))
/// ```
///
/// NaN stays NaN; ±inf map to 1 and 0. Any shape, including empty.
///
/// ```
/// use ndarray::array;
/// let y = kobai::sigmoid(&array![-1.0, 0.0, 2.0]);
/// assert_eq!(y[1], 0.5);
/// assert!((y[2] - 0.8807970779778823).abs() < 1e-15);
/// ```
pub fn sigmoid<D: Dimension>(x: &ArrayRef<f64, D>) -> Array<f64, D> {
    x.mapv(sigmoid_of)
}

/// The rectifier, element by element.
///
/// ```text
/// relu(x) = max(0, x)
/// ```
///
/// NaN stays NaN. Any shape, including empty.
///
/// ```
/// use ndarray::array;
/// assert_eq!(kobai::relu(&array![-1.0, 0.0, 2.5]), array![0.0, 0.0, 2.5]);
/// ```
pub fn relu<D: Dimension>(x: &ArrayRef<f64, D>) -> Array<f64, D> {
    x.mapv(relu_of)
}

// The element-wise arithmetic, written once: the functions above, the
// layers, the fused engine (in f32 and f64) and the structure-aware numerical
// gradient all call these.

/// ReLU of one value: 0 where `v <= 0`, `v` otherwise (NaN passes, as the
/// book's `out[x <= 0] = 0` lets it).
#[inline]
pub(crate) fn relu_of<T: Real>(v: T) -> T {
    if v <= T::zero() { T::zero() } else { v }
}

/// ReLU's backward pass for one element: `d` where the input was positive.
#[inline]
pub(crate) fn relu_backward_of<T: Real>(x: T, d: T) -> T {
    if x > T::zero() { d } else { T::zero() }
}

/// The sigmoid of one value, `1 / (1 + e^(−v))`.
#[inline]
pub(crate) fn sigmoid_of<T: Real>(v: T) -> T {
    T::one() / (T::one() + (T::zero() - v).exp())
}

/// The sigmoid's backward pass for one element, from its output `y`.
#[inline]
pub(crate) fn sigmoid_backward_of<T: Real>(y: T, d: T) -> T {
    d * (T::one() - y) * y
}

/// tanh's backward pass for one element, from its output `y`.
#[inline]
pub(crate) fn tanh_backward_of<T: Real>(y: T, d: T) -> T {
    d * (T::one() - y * y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn sigmoid_is_symmetric_and_saturates() {
        let y = sigmoid(&array![-3.0, 3.0, f64::INFINITY, f64::NEG_INFINITY]);
        assert!((y[0] + y[1] - 1.0).abs() < 1e-15);
        assert_eq!(y[2], 1.0);
        assert_eq!(y[3], 0.0);
    }

    #[test]
    fn relu_keeps_nan_and_zeroes_negatives() {
        let y = relu(&array![[-0.5, f64::NAN], [3.0, -0.0]]);
        assert_eq!(y[[0, 0]], 0.0);
        assert!(y[[0, 1]].is_nan());
        assert_eq!(y[[1, 0]], 3.0);
    }
}
