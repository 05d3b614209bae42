//! Softmax followed by the cross-entropy loss, the last layer of a classifier.

use ndarray::{Array2, ArrayRef2};

use crate::error::Result;
use crate::functions::{Targets, class_labels, cross_entropy_error_with_delta, softmax};

/// Softmax, then cross-entropy: the book's `SoftmaxWithLoss`.
///
/// ```text
/// forward:  y = softmax(x),  L = −(1/N) Σ_n log(y[n, t_n] + delta)
/// backward: dx = (y − onehot(t)) / N      (exact for delta = 0)
/// ```
///
/// The backward pass is the exact gradient of the loss *without* delta; with
/// the book's `delta = 1e-7` the two differ by a factor `y_t / (y_t + delta)`
/// per sample — a relative `delta / y_t`, about 1e-6 when `y_t` is 0.1.
///
/// ```
/// use kobai::layers::SoftmaxWithLoss;
/// use ndarray::array;
/// let scores = array![[0.0, 0.0]];
/// let (loss, cache) = SoftmaxWithLoss.forward(&scores, &(&[1usize]).into(), 0.0)?;
/// assert!((loss - 2f64.ln()).abs() < 1e-15);
/// assert_eq!(SoftmaxWithLoss.backward(&cache), array![[0.5, -0.5]]);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SoftmaxWithLoss;

/// What [`SoftmaxWithLoss::backward`] needs: the probabilities and the labels.
#[derive(Debug, Clone)]
pub struct SoftmaxWithLossCache {
    y: Array2<f64>,
    labels: Vec<usize>,
}

impl SoftmaxWithLoss {
    /// The loss of the scores `x` against `t`, and the cache.
    ///
    /// # Errors
    /// The errors of [`softmax`] and [`cross_entropy_error_with_delta`].
    pub fn forward(
        &self,
        x: &ArrayRef2<f64>,
        t: &Targets<'_>,
        delta: f64,
    ) -> Result<(f64, SoftmaxWithLossCache)> {
        let y = softmax(x)?;
        let labels = class_labels(y.dim(), t)?;
        let loss = cross_entropy_error_with_delta(&y, &labels, delta)?;
        Ok((loss, SoftmaxWithLossCache { y, labels }))
    }

    /// `(y − onehot(t)) / N`, the gradient of the delta-free loss with respect to the scores.
    pub fn backward(&self, cache: &SoftmaxWithLossCache) -> Array2<f64> {
        let batch = cache.labels.len() as f64;
        let mut dx = cache.y.clone();
        for (mut row, &label) in dx.rows_mut().into_iter().zip(&cache.labels) {
            row[label] -= 1.0;
        }
        dx / batch
    }
}
