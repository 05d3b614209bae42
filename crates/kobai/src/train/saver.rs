//! Saving a run as it goes: what stays the same from one checkpoint to the
//! next is computed once, when first needed.

use std::cell::OnceCell;

use super::checkpoint::{Checkpoint, Checkpoints};
use super::resume::{DataPrint, fingerprint};
use super::{History, Trainer};
use crate::data::{Batches, Dataset};
use crate::error::Result;
use crate::model::Params;
use crate::optim::Optimizer;

/// Writes the checkpoints of one run: what stays the same from one to the
/// next, computed once.
pub(super) struct Saver<'a> {
    trainer: Trainer,
    iterations: usize,
    train: &'a Dataset,
    test: Option<&'a Dataset>,
    /// The data's fingerprint: a pass over every value (a tenth of a second
    /// for Fashion-MNIST), so made at the first checkpoint or resume, never
    /// in a run that saves none.
    data: OnceCell<DataPrint>,
    checkpoints: &'a Checkpoints,
}

impl<'a> Saver<'a> {
    pub(super) fn new(
        trainer: &Trainer,
        train: &'a Dataset,
        test: Option<&'a Dataset>,
        checkpoints: &'a Checkpoints,
    ) -> Self {
        Saver {
            trainer: *trainer,
            iterations: trainer.iterations(train.len()),
            train,
            test,
            data: OnceCell::new(),
            checkpoints,
        }
    }

    pub(super) fn data(&self) -> &DataPrint {
        self.data.get_or_init(|| DataPrint {
            train: fingerprint(self.train),
            test: self.test.map(fingerprint),
        })
    }

    pub(super) fn checkpoints(&self) -> &Checkpoints {
        self.checkpoints
    }

    /// Saves the run as it is now, atomically.
    pub(super) fn save<M: Params, O: Optimizer + ?Sized>(
        &self,
        model: &M,
        optimizer: &O,
        batches: &Batches,
        history: &History,
    ) -> Result<()> {
        let checkpoint = Checkpoint {
            path: self.checkpoints.path().to_path_buf(),
            iterations: self.iterations,
            batch_size: self.trainer.batch_size,
            seed: self.trainer.seed,
            sampling: self.trainer.sampling,
            data: *self.data(),
            history: history.clone(),
            params: crate::model::saved(model)
                .into_iter()
                .map(|(name, p)| (name, p.to_owned()))
                .collect(),
            architecture: model.architecture(),
            optimizer: optimizer.name().to_owned(),
            hyperparameters: optimizer
                .hyperparameters()
                .into_iter()
                .map(|(name, v)| (name.to_owned(), v))
                .collect(),
            optimizer_state: optimizer.state(),
            sampler: batches.state(),
            settings: self.checkpoints.settings().to_vec(),
        };
        checkpoint.save(self.checkpoints.path())
    }
}
