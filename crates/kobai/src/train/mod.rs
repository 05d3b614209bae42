//! The learning loop: mini-batches, backprop, an optimizer step, and an
//! evaluation every epoch — the book's `train_neuralnet.py` as a library.
//!
//! The [`Trainer`] never prints. It reports to an [`Observer`] (whose methods
//! all default to doing nothing, and which can stop training) and returns the
//! [`History`]. The same seed gives the same batches, so the same weights, bit
//! for bit.
//!
//! [`Trainer::train_with_checkpoints`] also saves a [`Checkpoint`] every so
//! many iterations — the weights, the optimizer's state, the batch sampler's
//! state and the history, in one `.npz` archive written atomically — and can
//! start from one: a run that was killed and resumed ends with the very weights
//! of a run that never stopped.

#[cfg(feature = "npz")]
mod checkpoint;
#[cfg(feature = "npz")]
mod checkpoint_file;
#[cfg(feature = "npz")]
mod checkpoint_read;
#[cfg(all(test, feature = "npz"))]
mod checkpoint_tests;
#[cfg(feature = "npz")]
mod resume;
mod run;
#[cfg(feature = "npz")]
mod saver;

#[cfg(feature = "npz")]
pub use checkpoint::{Checkpoint, Checkpoints};

use std::ops::ControlFlow;

use crate::data::{Batches, Dataset, Sampling};
use crate::error::{KobaiError, Result};
use crate::model::Backprop;
use crate::optim::Optimizer;

/// The fraction of `data` that `model` classifies right, 1000 samples at a
/// time (spread over rayon's threads with the feature `parallel`): a dataset
/// held as bytes is never copied whole into `f64`.
///
/// # Errors
/// As [`crate::Model::accuracy`] (e.g. features that do not fit the model).
///
/// ```
/// use kobai::{TwoLayerNet, data::spiral};
///
/// let (train, _) = spiral(100, 0.2, 0)?;
/// let net = TwoLayerNet::new(train.features(), 8, train.classes(), 0.1, 0)?;
/// let accuracy = kobai::train::accuracy(&net, &train)?;
/// assert!((0.0..=1.0).contains(&accuracy));
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn accuracy<M: crate::Model>(model: &M, data: &Dataset) -> Result<f64> {
    run::accuracy(model, data, run::EVALUATION_ROWS, run::Threads::All)
}

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
    /// Once, before the first step: `start` iterations are already done (0,
    /// or where a resumed run goes on) out of `iterations`.
    fn on_start(&mut self, start: usize, iterations: usize) {
        let _ = (start, iterations);
    }

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

/// When a [`Trainer`] evaluates the model after each epoch.
///
/// Either way the weights, the losses and the epoch reports are the same,
/// bit for bit, and a checkpoint holds every report up to its iteration; what
/// differs is when the [`Observer`] hears of a report, hence where a `Break`
/// from [`Observer::on_epoch`] stops the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Evaluation {
    /// At the end of each epoch, before the next step, on all cores (the
    /// default): `on_epoch` comes right after the epoch's last
    /// `on_iteration`, and a `Break` from it stops training there.
    #[default]
    Blocking,
    /// On a second thread, on a copy of the model taken at the epoch's end,
    /// while the training goes on: on two cores the evaluation of a large
    /// dataset costs the run almost nothing. `on_epoch` comes as soon as the
    /// report is ready (at the latest at the next epoch's end, before a
    /// checkpoint and at the end of the run), so a `Break` from it stops
    /// training a few iterations after that epoch. The last epoch is
    /// evaluated as with [`Evaluation::Blocking`].
    Overlapped,
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
    /// When each epoch's evaluation runs ([`Evaluation::Blocking`] by default).
    pub evaluation: Evaluation,
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
            evaluation: Evaluation::Blocking,
        })
    }

    /// This trainer with each epoch's evaluation run as `evaluation` says.
    ///
    /// ```
    /// use kobai::data::spiral;
    /// use kobai::train::{Evaluation, Length, Trainer};
    /// use kobai::{Sgd, TwoLayerNet};
    ///
    /// let (train, test) = spiral(100, 0.2, 0)?;
    /// let trainer = Trainer::new(Length::Epochs(5), 20, 0)?;
    /// let beside = trainer.with_evaluation(Evaluation::Overlapped);
    /// let run = |trainer: Trainer| -> kobai::Result<_> {
    ///     let mut net = TwoLayerNet::new(2, 8, 3, 0.5, 0)?;
    ///     let history = trainer.train(&mut net, &mut Sgd::new(1.0)?, &train, Some(&test), &mut ())?;
    ///     Ok((net, history))
    /// };
    /// assert_eq!(run(beside)?, run(trainer)?, "the same weights and reports");
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn with_evaluation(self, evaluation: Evaluation) -> Self {
        Trainer { evaluation, ..self }
    }

    /// Optimizer steps per epoch for a training set of `samples`:
    /// `max(samples / batch_size, 1)`, the book's.
    ///
    /// ```
    /// use kobai::train::{Length, Trainer};
    /// let trainer = Trainer::new(Length::Epochs(3), 100, 0)?;
    /// assert_eq!(trainer.iterations_per_epoch(60_000), 600);
    /// assert_eq!(trainer.iterations_per_epoch(50), 1);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn iterations_per_epoch(&self, samples: usize) -> usize {
        (samples / self.batch_size.max(1)).max(1)
    }

    /// Optimizer steps in all for a training set of `samples`.
    ///
    /// ```
    /// use kobai::train::{Length, Trainer};
    /// assert_eq!(Trainer::new(Length::Epochs(3), 100, 0)?.iterations(60_000), 1800);
    /// assert_eq!(Trainer::new(Length::Iterations(7), 100, 0)?.iterations(60_000), 7);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn iterations(&self, samples: usize) -> usize {
        match self.length {
            Length::Iterations(n) => n,
            Length::Epochs(n) => n.saturating_mul(self.iterations_per_epoch(samples)),
        }
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
        let batches = Batches::new(train.len(), self.batch_size, self.sampling, self.seed)?;
        let progress = run::Progress {
            batches,
            history: History::default(),
        };
        run::run(
            self,
            (model, optimizer),
            (train, test),
            observer,
            progress,
            None,
        )
    }

    /// [`Trainer::train`], saving a [`Checkpoint`] to `checkpoints.path()`
    /// every [`checkpoints.every()`](Checkpoints::every) iterations and after
    /// the last one (unless it is [`Checkpoints::when_stopped`]), and when the
    /// observer stops training — and, if `checkpoints`
    /// [resumes](Checkpoints::resume_from) one, starting where it left off.
    ///
    /// Resuming first checks that the checkpoint belongs to this run: the same
    /// number of iterations, batch size, seed, sampling, training and test data
    /// (compared by a fingerprint), parameter names and shapes, optimizer and
    /// hyperparameters, and [settings](Checkpoints::with_setting). Then it
    /// restores the weights, the optimizer's state, the batch sampler and the
    /// history, so the run goes on with the very batches, and ends with the
    /// very weights and [`History`], of a run that was never interrupted. The
    /// observer sees only the iterations still to do (after
    /// [`Observer::on_start`] with the iteration resumed at).
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// use kobai::data::spiral;
    /// use kobai::train::{Checkpoint, Checkpoints, Length, Trainer};
    /// use kobai::{Adam, Observer, TwoLayerNet};
    ///
    /// /// Interrupts training after `0` iterations.
    /// struct StopAt(usize);
    /// impl Observer for StopAt {
    ///     fn on_iteration(&mut self, i: usize, _loss: f64) -> ControlFlow<()> {
    ///         if i == self.0 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    ///     }
    /// }
    ///
    /// let (train, test) = spiral(50, 0.2, 0)?;
    /// let path = std::env::temp_dir().join(format!("kobai-doc-{}.ckpt.npz", std::process::id()));
    /// let trainer = Trainer::new(Length::Iterations(30), 10, 0)?;
    /// let net = || TwoLayerNet::new(2, 8, 3, 0.5, 0);
    /// let adam = || Adam::new(0.05, 0.9, 0.999);
    ///
    /// // A run that never stops.
    /// let mut whole = net()?;
    /// let expected = trainer.train(&mut whole, &mut adam()?, &train, Some(&test), &mut ())?;
    ///
    /// // The same run, checkpointed every 4 iterations, interrupted after 13 …
    /// let every_4 = Checkpoints::new(&path, 4)?;
    /// let (mut first, mut first_adam) = (net()?, adam()?);
    /// trainer.train_with_checkpoints(&mut first, &mut first_adam, &train, Some(&test), &mut StopAt(13), &every_4)?;
    ///
    /// // … and resumed with a new model and optimizer.
    /// let checkpoint = Checkpoint::load(&path)?;
    /// assert_eq!((checkpoint.iteration(), checkpoint.iterations()), (13, 30));
    /// let mut resumed = net()?;
    /// let history = trainer.train_with_checkpoints(
    ///     &mut resumed, &mut adam()?, &train, Some(&test), &mut (), &every_4.resume_from(checkpoint),
    /// )?;
    /// assert_eq!(resumed, whole, "the same weights, bit for bit");
    /// assert_eq!(history, expected, "the same losses and epoch reports");
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    ///
    /// # Errors
    /// Those of [`Trainer::train`]; [`KobaiError::Io`] if a checkpoint cannot
    /// be written (training stops there; the file keeps the checkpoint before);
    /// [`KobaiError::CheckpointMismatch`], [`KobaiError::Shape`] or
    /// [`KobaiError::Format`] if the checkpoint resumed does not belong to this
    /// run, and [`KobaiError::State`] if the optimizer refuses its state — in
    /// which case neither `model` nor `optimizer` has changed.
    #[cfg(feature = "npz")]
    pub fn train_with_checkpoints<M: Backprop, O: Optimizer + ?Sized>(
        &self,
        model: &mut M,
        optimizer: &mut O,
        train: &Dataset,
        test: Option<&Dataset>,
        observer: &mut dyn Observer,
        checkpoints: &Checkpoints,
    ) -> Result<History> {
        let saver = saver::Saver::new(self, train, test, checkpoints);
        let progress = match checkpoints.resuming() {
            Some(from) => resume::restore(from, self, model, optimizer, train, &saver)?,
            None => run::Progress {
                batches: Batches::new(train.len(), self.batch_size, self.sampling, self.seed)?,
                history: History::default(),
            },
        };
        let save = |model: &M, optimizer: &O, batches: &Batches, history: &History| {
            saver.save(model, optimizer, batches, history)
        };
        let data = (train, test);
        let save = Some((checkpoints.every(), &save as run::SaveFn<'_, M, O>));
        run::run(self, (model, optimizer), data, observer, progress, save)
    }
}
