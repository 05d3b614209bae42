//! Checkpoints: where and how often a run saves itself ([`Checkpoints`]), and
//! what one holds ([`Checkpoint`]).

use std::path::{Path, PathBuf};

use ndarray::ArrayD;

use super::History;
use super::resume::DataPrint;
use crate::data::{BatchesState, Sampling};
use crate::error::{KobaiError, Result};

/// How a run is checkpointed: the file, how often it is written, settings of
/// your own to store and check, and optionally a [`Checkpoint`] to start from.
/// Give it to [`Trainer::train_with_checkpoints`](super::Trainer::train_with_checkpoints).
///
/// ```
/// use kobai::train::Checkpoints;
///
/// let checkpoints = Checkpoints::new("run.ckpt.npz", 600)?.with_setting("weight_init_std", 0.01)?;
/// assert_eq!(checkpoints.every(), Some(600));
/// assert!(checkpoints.resuming().is_none());
/// assert!(Checkpoints::new("run.ckpt.npz", 0).is_err());
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoints {
    path: PathBuf,
    /// `None`: only when the observer stops training.
    every: Option<usize>,
    settings: Vec<(String, f64)>,
    resume: Option<Checkpoint>,
}

impl Checkpoints {
    /// Save to `path` every `every` iterations (and after the last, and when
    /// the observer stops training); start from scratch.
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`] if `every` is 0.
    pub fn new(path: impl Into<PathBuf>, every: usize) -> Result<Self> {
        if every == 0 {
            return Err(KobaiError::Hyperparameter {
                name: "checkpoint every",
                value: "0".into(),
                expected: "at least 1 iteration",
            });
        }
        Ok(Checkpoints {
            path: path.into(),
            every: Some(every),
            settings: Vec::new(),
            resume: None,
        })
    }

    /// Save to `path` only if the observer stops training before the end
    /// (Ctrl-C, say): a run that ends normally writes nothing, one that is
    /// interrupted can be resumed from `path`.
    ///
    /// ```
    /// use kobai::train::Checkpoints;
    /// assert_eq!(Checkpoints::when_stopped("interrupted.ckpt.npz").every(), None);
    /// ```
    pub fn when_stopped(path: impl Into<PathBuf>) -> Self {
        Checkpoints {
            path: path.into(),
            every: None,
            settings: Vec::new(),
            resume: None,
        }
    }

    /// Start from `checkpoint` (read with [`Checkpoint::load`]) instead of
    /// from scratch; it need not come from the file saved to.
    ///
    /// ```
    /// # use kobai::train::{Checkpoint, Checkpoints};
    /// # fn resume(path: &std::path::Path) -> kobai::Result<Checkpoints> {
    /// Ok(Checkpoints::new(path, 100)?.resume_from(Checkpoint::load(path)?))
    /// # }
    /// ```
    pub fn resume_from(mut self, checkpoint: Checkpoint) -> Self {
        self.resume = Some(checkpoint);
        self
    }

    /// Stores a setting the trainer does not know of (the model's
    /// `weight_init_std`, say) in every checkpoint; resuming requires the same
    /// settings, with the same values.
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`] if the name is empty or already given;
    /// [`KobaiError::NonFinite`] if the value is NaN or ±inf.
    ///
    /// ```
    /// use kobai::train::Checkpoints;
    /// let c = Checkpoints::new("a.npz", 1)?.with_setting("hidden", 50.0)?;
    /// assert_eq!(c.settings(), [("hidden".to_string(), 50.0)]);
    /// assert!(c.with_setting("hidden", 60.0).is_err());
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn with_setting(mut self, name: impl Into<String>, value: f64) -> Result<Self> {
        let name = name.into();
        if name.is_empty() || self.settings.iter().any(|(n, _)| *n == name) {
            return Err(KobaiError::Hyperparameter {
                name: "checkpoint setting",
                value: format!("{name:?}"),
                expected: "a name given once, not empty",
            });
        }
        crate::check::finite_scalar("the checkpoint setting", || format!("{name:?}"), value)?;
        self.settings.push((name, value));
        Ok(self)
    }

    /// The file checkpoints are saved to.
    ///
    /// ```
    /// let c = kobai::train::Checkpoints::new("a.npz", 1)?;
    /// assert_eq!(c.path(), std::path::Path::new("a.npz"));
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many iterations apart checkpoints are saved; `None` if only when
    /// training is stopped ([`Checkpoints::when_stopped`]).
    ///
    /// ```
    /// assert_eq!(kobai::train::Checkpoints::new("a.npz", 7)?.every(), Some(7));
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn every(&self) -> Option<usize> {
        self.every
    }

    /// The settings stored with every checkpoint, in the order given.
    ///
    /// ```
    /// assert!(kobai::train::Checkpoints::new("a.npz", 7)?.settings().is_empty());
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn settings(&self) -> &[(String, f64)] {
        &self.settings
    }

    /// The checkpoint the run starts from, if any.
    ///
    /// ```
    /// assert!(kobai::train::Checkpoints::new("a.npz", 7)?.resuming().is_none());
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn resuming(&self) -> Option<&Checkpoint> {
        self.resume.as_ref()
    }
}

/// A training run saved between two iterations: the model's parameters, the
/// optimizer's name, hyperparameters and state, the batch sampler's state, the
/// history so far, the trainer's settings and a fingerprint of the data — one
/// `.npz` archive that NumPy reads too (the layout is in the
/// [`save`](Checkpoint::save) docs).
///
/// [`Checkpoint::load`] checks the file on its own; resuming with
/// [`Trainer::train_with_checkpoints`](super::Trainer::train_with_checkpoints) checks it against the run.
///
/// ```
/// use kobai::data::{spiral, Sampling};
/// use kobai::train::{Checkpoint, Checkpoints, Length, Trainer};
/// use kobai::{Sgd, TwoLayerNet};
///
/// let (train, _) = spiral(50, 0.2, 0)?; // 120 samples: 12 iterations per epoch of 10
/// let path = std::env::temp_dir().join(format!("kobai-doc-ck-{}.npz", std::process::id()));
/// let trainer = Trainer::new(Length::Iterations(30), 10, 7)?;
/// let plan = Checkpoints::new(&path, 8)?.with_setting("weight_init_std", 0.5)?;
/// let mut net = TwoLayerNet::new(2, 8, 3, 0.5, 0)?;
/// trainer.train_with_checkpoints(&mut net, &mut Sgd::new(0.5)?, &train, None, &mut (), &plan)?;
///
/// let checkpoint = Checkpoint::load(&path)?; // the last one: after iteration 30
/// assert_eq!(checkpoint.path(), path);
/// assert_eq!((checkpoint.iteration(), checkpoint.iterations()), (30, 30));
/// assert!(checkpoint.is_complete());
/// assert_eq!((checkpoint.batch_size(), checkpoint.seed()), (10, 7));
/// assert_eq!(checkpoint.sampling(), Sampling::WithReplacement);
/// assert_eq!(checkpoint.history().losses.len(), 30);
/// assert_eq!(checkpoint.history().epochs.len(), 3); // after 12, 24 and 30
/// let names: Vec<&str> = checkpoint.params().iter().map(|(n, _)| n.as_str()).collect();
/// assert_eq!(names, ["W1", "b1", "W2", "b2"]);
/// assert_eq!(checkpoint.optimizer(), "SGD");
/// assert_eq!(checkpoint.hyperparameters(), [("lr".to_string(), 0.5)]);
/// assert!(checkpoint.optimizer_state().is_empty(), "SGD keeps no state");
/// assert_eq!(checkpoint.settings(), [("weight_init_std".to_string(), 0.5)]);
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// The file it was read from or is to be written to, for messages.
    pub(super) path: PathBuf,
    pub(super) iterations: usize,
    pub(super) batch_size: usize,
    pub(super) seed: u64,
    pub(super) sampling: Sampling,
    pub(super) data: DataPrint,
    pub(super) history: History,
    pub(super) params: Vec<(String, ArrayD<f64>)>,
    pub(super) architecture: Option<String>,
    pub(super) optimizer: String,
    pub(super) hyperparameters: Vec<(String, f64)>,
    pub(super) optimizer_state: Vec<(String, ArrayD<f64>)>,
    pub(super) sampler: BatchesState,
    pub(super) settings: Vec<(String, f64)>,
}

impl Checkpoint {
    /// The version of the layout [`save`](Checkpoint::save) writes and
    /// [`load`](Checkpoint::load) reads.
    pub const FORMAT_VERSION: u64 = 1;

    /// The file this checkpoint was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Iterations done when it was saved.
    pub fn iteration(&self) -> usize {
        self.history.iterations
    }

    /// Iterations of the whole run.
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// Whether the run had finished when it was saved.
    pub fn is_complete(&self) -> bool {
        self.iteration() == self.iterations
    }

    /// The trainer's batch size.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// The trainer's seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// How the trainer drew batches.
    pub fn sampling(&self) -> Sampling {
        self.sampling
    }

    /// The losses and epoch reports up to [`iteration`](Checkpoint::iteration).
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The model's parameters, by name.
    pub fn params(&self) -> &[(String, ArrayD<f64>)] {
        &self.params
    }

    /// The architecture of the network the run trained
    /// ([`Params::architecture`](crate::Params::architecture)), if it
    /// describes itself; a run resumes only into the same one.
    pub fn architecture(&self) -> Option<&str> {
        self.architecture.as_deref()
    }

    /// The optimizer's [name](crate::Optimizer::name).
    pub fn optimizer(&self) -> &str {
        &self.optimizer
    }

    /// The optimizer's [hyperparameters](crate::Optimizer::hyperparameters).
    pub fn hyperparameters(&self) -> &[(String, f64)] {
        &self.hyperparameters
    }

    /// The optimizer's [state](crate::Optimizer::state).
    pub fn optimizer_state(&self) -> &[(String, ArrayD<f64>)] {
        &self.optimizer_state
    }

    /// The [settings](Checkpoints::with_setting) stored with it.
    pub fn settings(&self) -> &[(String, f64)] {
        &self.settings
    }
}
