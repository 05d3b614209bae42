//! What a model is to kobai: named parameters it owns ([`Params`]), a loss
//! ([`Model`]), and optionally exact gradients by backprop ([`Backprop`]).
//!
//! Everything that only reads a model takes `&M` — the loss, backprop, the
//! numerical gradient (which perturbs its own clone), the gradient check — so a
//! model can be shared across threads. Gradients are a separate value,
//! [`Grads`]; the optimizer step is the one place a model is changed.

mod grads;
#[cfg(feature = "npz")]
mod npz;
mod params;

pub use grads::Grads;
#[cfg(feature = "npz")]
pub use npz::{
    load_npz, load_npz_from_reader, npz_bytes, read_architecture, read_architecture_from_reader,
    save_npz,
};
pub use params::Params;
#[cfg(feature = "npz")]
pub(crate) use params::{saved, saved_mut};

use ndarray::{Array2, ArrayRef2};

use crate::data::Dataset;
use crate::error::Result;
use crate::functions::{CROSS_ENTROPY_DELTA, Targets};

/// A model with a scalar loss on a batch of samples (one row per sample).
///
/// Models are `Send + Sync`, so the training loop can evaluate one on several
/// threads, or on a copy beside the training.
pub trait Model: Params + Clone + Send + Sync {
    /// The scores (before softmax) for each row of `x`.
    ///
    /// # Errors
    /// [`KobaiError::Shape`](crate::KobaiError::Shape) if `x` has the wrong number of features.
    fn predict(&self, x: &ArrayRef2<f64>) -> Result<Array2<f64>>;

    /// The loss with `delta` inside the log of the cross-entropy: the book's
    /// [`CROSS_ENTROPY_DELTA`] for training, `0.0` for the loss whose exact
    /// gradient backprop computes.
    ///
    /// # Errors
    /// Shape errors for `x`, and the errors of [`cross_entropy_error`](crate::cross_entropy_error) for `t`.
    fn loss_with_delta(&self, x: &ArrayRef2<f64>, t: &Targets<'_>, delta: f64) -> Result<f64>;

    /// The book's loss (with its `1e-7` inside the log).
    ///
    /// # Errors
    /// As [`Model::loss_with_delta`].
    fn loss(&self, x: &ArrayRef2<f64>, t: &Targets<'_>) -> Result<f64> {
        self.loss_with_delta(x, t, CROSS_ENTROPY_DELTA)
    }

    /// How many of the samples `indices` of `data` the model classifies
    /// correctly (the highest score is the label's, as in
    /// [`Model::accuracy`]): what [`train::accuracy`](crate::train::accuracy)
    /// and the training loop's per-epoch evaluation add up. A model with a
    /// faster way to count may override it, giving the same count; the
    /// default copies the samples into an `f64` batch.
    ///
    /// # Errors
    /// Indices out of range; features that do not fit the model.
    ///
    /// ```
    /// use kobai::{Model, TwoLayerNet, data::spiral};
    /// let (train, _) = spiral(50, 0.2, 0)?;
    /// let net = TwoLayerNet::new(2, 8, 3, 0.1, 0)?;
    /// let all: Vec<usize> = (0..train.len()).collect();
    /// let (x, t) = train.batch(&all)?;
    /// let fraction = net.accuracy(&x, &(&t).into())?;
    /// assert_eq!(net.correct_count(&train, &all)?, (fraction * all.len() as f64).round() as usize);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    fn correct_count(&self, data: &Dataset, indices: &[usize]) -> Result<usize> {
        count_on_f64_batch(self, data, indices)
    }

    /// The fraction of rows whose highest score is the target class.
    ///
    /// # Errors
    /// Shape errors for `x` or `t`; out-of-range labels.
    fn accuracy(&self, x: &ArrayRef2<f64>, t: &Targets<'_>) -> Result<f64> {
        let scores = self.predict(x)?;
        let labels = crate::functions::class_labels(scores.dim(), t)?;
        let correct = scores
            .rows()
            .into_iter()
            .zip(&labels)
            .filter(|(row, label)| argmax(row.iter().copied()) == Some(**label))
            .count();
        Ok(correct as f64 / labels.len().max(1) as f64)
    }
}

/// A model that computes the exact gradient of its loss without the `1e-7`
/// (delta = 0) by backpropagation.
pub trait Backprop: Model {
    /// The loss (the book's, with delta) and the gradient of the delta-free loss
    /// with respect to every parameter, named as [`Params::params`] names them.
    ///
    /// # Errors
    /// As [`Model::loss_with_delta`].
    fn gradient(&self, x: &ArrayRef2<f64>, t: &Targets<'_>) -> Result<(f64, Grads)>;

    /// [`Backprop::gradient`] on the samples `indices` of `data` (what
    /// [`crate::Trainer`] calls each step). By default the batch is copied out
    /// with [`Dataset::batch`]; a model may read the dataset's storage
    /// directly instead — [`crate::TwoLayerNet`]'s fused engines read the
    /// bytes of an IDX dataset, with the same bits.
    ///
    /// # Errors
    /// As [`Dataset::batch`] and [`Backprop::gradient`].
    ///
    /// ```
    /// use kobai::{Backprop, TwoLayerNet, data::spiral};
    ///
    /// let (train, _) = spiral(50, 0.2, 0)?;
    /// let net = TwoLayerNet::new(2, 8, 3, 0.1, 0)?;
    /// let (x, labels) = train.batch(&[3, 1, 4])?;
    /// let direct = net.gradient(&x, &(&labels).into())?;
    /// assert_eq!(net.batch_gradient(&train, &[3, 1, 4])?, direct);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    fn batch_gradient(&self, data: &Dataset, indices: &[usize]) -> Result<(f64, Grads)> {
        let (x, labels) = data.batch(indices)?;
        self.gradient(&x, &Targets::from(&labels))
    }
}

/// [`Model::correct_count`]'s default: the samples copied into an `f64`
/// batch, then [`Model::accuracy`].
pub(crate) fn count_on_f64_batch<M: Model>(
    model: &M,
    data: &Dataset,
    indices: &[usize],
) -> Result<usize> {
    if indices.is_empty() {
        data.check_indices(indices)?;
        return Ok(0);
    }
    let (x, labels) = data.batch(indices)?;
    let fraction = model.accuracy(&x, &Targets::from(&labels))?;
    // (correct / n) × n is within a few ulps of correct: it rounds back.
    Ok((fraction * indices.len() as f64).round() as usize)
}

/// The index of the largest value (the first one on ties; NaN never wins).
pub(crate) fn argmax(values: impl Iterator<Item = f64>) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, v) in values.enumerate() {
        if best.is_none_or(|(_, b)| v > b) && !v.is_nan() {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| i)
}
