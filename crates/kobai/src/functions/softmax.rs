//! Softmax over the last axis.

use ndarray::{Array, ArrayRef, Axis, Dimension};

use crate::check;
use crate::error::{KobaiError, Result};
use crate::kernels::Real;

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
    let mut y = x.as_standard_layout().into_owned();
    for mut row in y.lanes_mut(Axis(x.ndim() - 1)) {
        match row.as_slice_mut() {
            Some(row) => softmax_row(row),
            // Unreachable for a standard-layout array; kept total.
            None => {
                let mut copy = row.to_vec();
                softmax_row(&mut copy);
                row.iter_mut().zip(copy).for_each(|(v, c)| *v = c);
            }
        }
    }
    Ok(y)
}

/// The book's softmax of one row of finite scores, in place, in any
/// [`Real`]: subtract the row's maximum, `exp`, a plain left-to-right sum (as
/// NumPy sums rows shorter than 8), divide. The one place kobai writes this
/// arithmetic: [`softmax`], the layers' loss head, the fused engine (in f32
/// and f64) and the structure-aware numerical gradient all call it or
/// [`exp_shifted_row`] and [`softmax_entry`], which do the same operations.
pub(crate) fn softmax_row<T: Real>(row: &mut [T]) {
    let sum = exp_shifted_row(row);
    row.iter_mut().for_each(|v| *v = *v / sum);
}

/// Replaces each score by `exp(score − max)` and returns their left-to-right
/// sum: [`softmax_row`] before its division.
pub(crate) fn exp_shifted_row<T: Real>(row: &mut [T]) -> T {
    let max = row_max(row);
    row.iter_mut().for_each(|v| *v = (*v - max).exp());
    row.iter().fold(T::zero(), |s, &v| s + v)
}

/// `softmax(row)[k]` without writing the row: the same operations, so the
/// same bits as [`softmax_row`]'s entry `k`.
pub(crate) fn softmax_entry(row: &[f64], k: usize) -> f64 {
    let max = row_max(row);
    let sum = row.iter().fold(0.0, |s, &v| s + (v - max).exp());
    (row[k] - max).exp() / sum
}

/// The largest of a row of finite numbers.
fn row_max<T: Real>(row: &[T]) -> T {
    row.iter()
        .copied()
        .reduce(|m, v| if v > m { v } else { m })
        .unwrap_or(T::zero())
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
    fn the_row_helpers_give_the_same_bits() {
        let scores = [0.3, 2.9, 4.0, -1.5];
        let mut row = scores;
        softmax_row(&mut row);
        let whole = softmax(&array![0.3, 2.9, 4.0, -1.5]).expect("finite");
        assert_eq!(whole.as_slice(), Some(&row[..]));
        for (k, &p) in row.iter().enumerate() {
            assert_eq!(softmax_entry(&scores, k).to_bits(), p.to_bits());
        }
        let mut single = scores.map(|v| v as f32);
        softmax_row(&mut single);
        assert!((single.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(
            single
                .iter()
                .zip(&row)
                .all(|(&s, &d)| (f64::from(s) - d).abs() < 1e-6)
        );
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
