//! Softmax over the last axis.

use ndarray::{Array, ArrayRef, Axis, Dimension};

use crate::check;
use crate::error::{KobaiError, Result};

/// Softmax along the last axis: a 1-D array is one sample, each row of a 2-D array is one sample.
///
/// ```text
/// softmax(x)_k = exp(x_k − max x) / Σ_j exp(x_j − max x)
/// ```
///
/// Subtracting the row maximum first (as the book does) keeps `exp` from
/// overflowing, so `[1010, 1000, 990]` works. The operations are the book's, in
/// its order, so small rows agree with NumPy bit for bit.
///
/// # Errors
/// [`KobaiError::Empty`] for an empty array, [`KobaiError::Shape`] for a 0-d
/// array, [`KobaiError::NonFinite`] if any element is NaN or infinite.
///
/// ```
/// use ndarray::array;
/// let y = kobai::softmax(&array![1010.0, 1000.0, 990.0])?;
/// assert!((y.sum() - 1.0).abs() < 1e-15);
/// assert!((y[0] - 0.999954600070331).abs() < 1e-15);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn softmax<D: Dimension>(x: &ArrayRef<f64, D>) -> Result<Array<f64, D>> {
    if x.ndim() == 0 {
        return Err(KobaiError::Shape {
            what: "softmax input".into(),
            expected: "expected at least one axis".into(),
            found: vec![],
        });
    }
    check::non_empty("softmax input", x)?;
    check::finite("softmax input", x)?;
    let mut y = x.to_owned();
    for mut row in y.lanes_mut(Axis(x.ndim() - 1)) {
        let max = row.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        row.mapv_inplace(|v| (v - max).exp());
        // A plain left-to-right sum, as NumPy does for rows shorter than 8.
        let sum = row.iter().fold(0.0, |s, &v| s + v);
        row.mapv_inplace(|v| v / sum);
    }
    Ok(y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, array};

    #[test]
    fn rows_of_a_batch_are_independent() -> Result<()> {
        let batch = softmax(&array![[0.3, 2.9, 4.0], [1010.0, 1000.0, 990.0]])?;
        let first = softmax(&array![0.3, 2.9, 4.0])?;
        assert_eq!(batch.row(0), first);
        for row in batch.rows() {
            assert!((row.sum() - 1.0).abs() < 1e-15);
        }
        Ok(())
    }

    #[test]
    fn bad_input_is_rejected() {
        assert!(matches!(
            softmax(&Array1::<f64>::zeros(0)),
            Err(KobaiError::Empty { .. })
        ));
        let err = softmax(&array![[1.0, f64::NAN]]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "softmax input is NaN at index [0, 1]; expected a finite number"
        );
        assert!(matches!(
            softmax(&ndarray::arr0(1.0)),
            Err(KobaiError::Shape { .. })
        ));
    }
}
