//! The learning loop: mini-batches, backprop, an optimizer step, and an
//! evaluation every epoch — the book's `train_neuralnet.py` as a library.
//!
//! The [`Trainer`] never prints. It reports to an [`Observer`] (whose methods
//! all default to doing nothing, and which can stop training) and returns the
//! [`History`]. The same seed gives the same batches, so the same weights, bit
//! for bit.

use std::ops::ControlFlow;

use crate::data::{Batches, Dataset, Sampling};
use crate::error::{KobaiError, Result};
use crate::functions::Targets;
use crate::model::Backprop;
use crate::optim::{Optimizer, step};

/// What happened in one epoch, as reported to the [`Observer`].
#[derive(Debug, Clone, PartialEq)]
pub struct EpochReport {
    /// Epochs completed (1 for the first).
    pub epoch: usize,
    /// Iterations (optimizer steps) completed.
    pub iteration: usize,
    /// The mean training loss over this epoch's batches.
    pub mean_loss: f64,
    /// Accuracy on the whole training set.
    pub train_accuracy: f64,
    /// Accuracy on the test set, when one was given.
    pub test_accuracy: Option<f64>,
}

/// Everything a training run measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// The loss of every batch, in order.
    pub losses: Vec<f64>,
    /// One report per epoch (plus one for a final partial epoch).
    pub epochs: Vec<EpochReport>,
    /// Iterations completed.
    pub iterations: usize,
    /// Whether the observer stopped training early.
    pub stopped_early: bool,
}

/// Receives progress from a [`Trainer`]; every method has a default that does
/// nothing and continues. Return `ControlFlow::Break(())` to stop training.
///
/// ```
/// use std::ops::ControlFlow;
/// use kobai::Observer;
///
/// /// Stops as soon as the loss drops below a target.
/// struct StopBelow(f64);
/// impl Observer for StopBelow {
///     fn on_iteration(&mut self, _iteration: usize, loss: f64) -> ControlFlow<()> {
///         if loss < self.0 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
///     }
/// }
/// ```
pub trait Observer {
    /// After each optimizer step, with the batch's loss.
    fn on_iteration(&mut self, iteration: usize, loss: f64) -> ControlFlow<()> {
        let _ = (iteration, loss);
        ControlFlow::Continue(())
    }

    /// After each epoch's evaluation.
    fn on_epoch(&mut self, report: &EpochReport) -> ControlFlow<()> {
        let _ = report;
        ControlFlow::Continue(())
    }
}

/// An observer that does nothing.
impl Observer for () {}

/// How long to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// This many optimizer steps (the book: 10 000).
    Iterations(usize),
    /// This many passes' worth of batches (`len / batch_size` steps each).
    Epochs(usize),
}

/// Mini-batch training of a [`Backprop`] model.
///
/// ```
/// use kobai::data::spiral;
/// use kobai::train::{Length, Trainer};
/// use kobai::{Model, Sgd, TwoLayerNet};
///
/// let (train, test) = spiral(100, 0.2, 0)?;
/// let mut net = TwoLayerNet::new(2, 30, 3, 0.5, 0)?;
/// let trainer = Trainer::new(Length::Epochs(40), 20, 0)?;
/// let history = trainer.train(&mut net, &mut Sgd::new(1.0)?, &train, Some(&test), &mut ())?;
/// let last = history.epochs.last().expect("40 epochs");
/// assert!(last.train_accuracy > 0.8, "{last:?}");
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trainer {
    /// How long to train.
    pub length: Length,
    /// Samples per batch.
    pub batch_size: usize,
    /// The seed of the batch sampler.
    pub seed: u64,
    /// How batches are drawn (the book's with-replacement draw by default).
    pub sampling: Sampling,
}

impl Trainer {
    /// A trainer drawing batches like the book (with replacement).
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`] if the length or the batch size is 0.
    pub fn new(length: Length, batch_size: usize, seed: u64) -> Result<Self> {
        let steps = match length {
            Length::Iterations(n) | Length::Epochs(n) => n,
        };
        for (name, value) in [("length", steps), ("batch size", batch_size)] {
            if value == 0 {
                return Err(KobaiError::Hyperparameter {
                    name,
                    value: "0".into(),
                    expected: "at least 1",
                });
            }
        }
        Ok(Trainer {
            length,
            batch_size,
            seed,
            sampling: Sampling::WithReplacement,
        })
    }

    /// Trains `model` on `train` with `optimizer`, evaluating accuracy on `train`
    /// (and `test`) after every epoch of `max(len / batch_size, 1)` steps.
    ///
    /// # Errors
    /// [`KobaiError::Shape`] if the data does not fit the model (or `test` has
    /// another number of features than `train`); a non-finite loss or gradient.
    /// The model keeps the steps taken before an error.
    pub fn train<M: Backprop, O: Optimizer + ?Sized>(
        &self,
        model: &mut M,
        optimizer: &mut O,
        train: &Dataset,
        test: Option<&Dataset>,
        observer: &mut dyn Observer,
    ) -> Result<History> {
        let per_epoch = (train.len() / self.batch_size).max(1);
        let iterations = match self.length {
            Length::Iterations(n) => n,
            Length::Epochs(n) => n.saturating_mul(per_epoch),
        };
        let mut batches = Batches::new(train.len(), self.batch_size, self.sampling, self.seed)?;
        let mut history = History::default();
        let mut epoch_losses = Vec::with_capacity(per_epoch);
        for i in 1..=iterations {
            let (x, labels) = train.batch(&batches.next_batch())?;
            let (loss, grads) = model.gradient(&x, &Targets::from(&labels))?;
            step(optimizer, model, &grads)?;
            history.losses.push(loss);
            history.iterations = i;
            epoch_losses.push(loss);
            let mut flow = observer.on_iteration(i, loss);
            if i % per_epoch == 0 || i == iterations || flow.is_break() {
                let report = evaluate(
                    model,
                    i,
                    history.epochs.len() + 1,
                    &epoch_losses,
                    train,
                    test,
                )?;
                epoch_losses.clear();
                if flow.is_continue() {
                    flow = observer.on_epoch(&report);
                }
                history.epochs.push(report);
            }
            if flow.is_break() {
                history.stopped_early = i < iterations;
                break;
            }
        }
        Ok(history)
    }
}

fn evaluate<M: Backprop>(
    model: &M,
    iteration: usize,
    epoch: usize,
    losses: &[f64],
    train: &Dataset,
    test: Option<&Dataset>,
) -> Result<EpochReport> {
    let accuracy = |d: &Dataset| model.accuracy(d.images(), &Targets::from(d.labels()));
    Ok(EpochReport {
        epoch,
        iteration,
        mean_loss: losses.iter().sum::<f64>() / losses.len().max(1) as f64,
        train_accuracy: accuracy(train)?,
        test_accuracy: test.map(accuracy).transpose()?,
    })
}
