//! The cross-entropy loss of the book, with its `1e-7` inside the log.

use ndarray::{ArrayRef, ArrayView2, ArrayViewD, Axis, Dimension, Ix2};

use super::targets::Targets;
use crate::check;
use crate::error::{KobaiError, Result};

/// The small number the book adds inside the log so that `log(0)` cannot happen.
///
/// It makes the loss differ from the textbook cross-entropy by up to about
/// `1e-7 / y` — which matters when a numerical gradient of this loss is compared
/// with a backprop gradient that differentiates the loss without it.
pub const CROSS_ENTROPY_DELTA: f64 = 1e-7;

/// The book's cross-entropy error, averaged over the batch.
///
/// ```text
/// E = −(1/N) Σ_n log(y[n, t_n] + 1e-7)
/// ```
///
/// `y` holds probabilities: one sample as a 1-D array, or a batch with one row
/// per sample. `t` is one-hot rows of `y`'s shape or one class label per sample
/// (see [`Targets`]).
///
/// # Errors
/// - [`KobaiError::Empty`] if `y` is empty; [`KobaiError::Shape`] if `y` is not
///   1-D or 2-D, or `t` does not fit `y` (the message names both shapes);
/// - [`KobaiError::NonFinite`] / [`KobaiError::NotProbability`] if `y` holds NaN,
///   ±inf or a value outside `[0, 1]`;
/// - [`KobaiError::LabelOutOfRange`] / [`KobaiError::NotOneHot`] for bad targets.
///
/// ```
/// use ndarray::array;
/// // The book's example: t is class 2, and y gives it 0.6.
/// let y = array![0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0];
/// let t = array![0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
/// let loss = kobai::cross_entropy_error(&y, &t)?;
/// assert!((loss - 0.510825457099338).abs() < 1e-15);
/// assert_eq!(loss, kobai::cross_entropy_error(&y, &[2])?);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn cross_entropy_error<'t, D: Dimension>(
    y: &ArrayRef<f64, D>,
    t: impl Into<Targets<'t>>,
) -> Result<f64> {
    cross_entropy_error_with_delta(y, t, CROSS_ENTROPY_DELTA)
}

/// [`cross_entropy_error`] with another `delta` inside the log; `delta = 0` gives
/// the textbook cross-entropy `−(1/N) Σ log y[n, t_n]`, the loss whose exact
/// gradient backprop computes (used by gradient checks).
///
/// # Errors
/// As [`cross_entropy_error`]; [`KobaiError::Hyperparameter`] if `delta` is
/// negative or not finite.
///
/// ```
/// use ndarray::array;
/// let y = array![0.25, 0.75];
/// let exact = kobai::functions::cross_entropy_error_with_delta(&y, &[1], 0.0)?;
/// assert_eq!(exact, -(0.75f64.ln()));
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn cross_entropy_error_with_delta<'t, D: Dimension>(
    y: &ArrayRef<f64, D>,
    t: impl Into<Targets<'t>>,
    delta: f64,
) -> Result<f64> {
    if !(delta.is_finite() && delta >= 0.0) {
        return Err(KobaiError::Hyperparameter {
            name: "delta",
            value: crate::error::short_number(delta),
            expected: "a finite number >= 0",
        });
    }
    let y = as_batch(y)?;
    check::finite("predictions", &y)?;
    let labels = class_labels(y.dim(), &t.into())?;
    let mut sum = 0.0;
    for (row, &label) in labels.iter().enumerate() {
        let p = y[[row, label]];
        if !(0.0..=1.0).contains(&p) {
            return Err(KobaiError::NotProbability {
                at: format!("index {}", check::index_text(&[row, label])),
                value: p,
            });
        }
        sum += (p + delta).ln();
    }
    Ok(-sum / labels.len() as f64)
}

/// Views 1-D `y` as a batch of one row; checks that it is 1-D or 2-D and not empty.
fn as_batch<D: Dimension>(y: &ArrayRef<f64, D>) -> Result<ArrayView2<'_, f64>> {
    check::non_empty("predictions", y)?;
    let y = y.view().into_dyn();
    let found = y.shape().to_vec();
    let y = if y.ndim() == 1 {
        y.insert_axis(Axis(0))
    } else {
        y
    };
    y.into_dimensionality::<Ix2>()
        .map_err(|_| KobaiError::Shape {
            what: "predictions".into(),
            expected: "expected one sample (1-D) or a batch of rows (2-D)".into(),
            found,
        })
}

/// The class label of each of `rows` samples with `classes` classes, checked
/// against that shape.
pub(crate) fn class_labels((rows, classes): (usize, usize), t: &Targets<'_>) -> Result<Vec<usize>> {
    match t {
        Targets::Labels(labels) => {
            if labels.len() != rows {
                return Err(KobaiError::Shape {
                    what: "labels".into(),
                    expected: format!("expected one label for each of the {rows} predictions"),
                    found: labels.shape().to_vec(),
                });
            }
            for (row, &label) in labels.iter().enumerate() {
                if label >= classes {
                    return Err(KobaiError::LabelOutOfRange {
                        label,
                        row,
                        classes,
                    });
                }
            }
            Ok(labels.to_vec())
        }
        Targets::OneHot(t) => one_hot_labels(t, rows, classes),
    }
}

/// The position of the single `1.0` in each one-hot row.
fn one_hot_labels(t: &ArrayViewD<'_, f64>, rows: usize, classes: usize) -> Result<Vec<usize>> {
    let fits = t.shape() == [rows, classes] || (rows == 1 && t.shape() == [classes]);
    if !fits {
        return Err(KobaiError::Shape {
            what: "one-hot targets".into(),
            expected: format!("the predictions are {rows} row(s) of {classes} classes"),
            found: t.shape().to_vec(),
        });
    }
    let t = t.to_shape((rows, classes)).map_err(|_| KobaiError::Shape {
        what: "one-hot targets".into(),
        expected: "expected a standard-layout array".into(),
        found: t.shape().to_vec(),
    })?;
    t.rows()
        .into_iter()
        .enumerate()
        .map(|(row, values)| {
            let ones: Vec<usize> = (0..classes).filter(|&k| values[k] == 1.0).collect();
            let stray = values.iter().find(|&&v| v != 0.0 && v != 1.0);
            match (ones.as_slice(), stray) {
                (_, Some(v)) => Err(KobaiError::NotOneHot {
                    row,
                    detail: format!("it holds {v}"),
                }),
                ([k], None) => Ok(*k),
                (found, None) => Err(KobaiError::NotOneHot {
                    row,
                    detail: format!("it holds {} ones", found.len()),
                }),
            }
        })
        .collect()
}
