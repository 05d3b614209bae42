//! The learning loop itself, from any point: fresh, or resumed from a checkpoint.

use std::ops::ControlFlow;

use super::{EpochReport, History, Observer, Trainer};
use crate::data::{Batches, Dataset};
use crate::error::Result;
use crate::functions::Targets;
use crate::model::Backprop;
use crate::optim::{Optimizer, step};

/// Where a run is between two iterations: the batch sampler and what was
/// measured so far (`history.iterations` steps done).
#[derive(Debug, Clone)]
pub(super) struct Progress {
    pub(super) batches: Batches,
    pub(super) history: History,
}

/// Saves the run as it is after an iteration (a checkpoint).
pub(super) type SaveFn<'a, M, O> = &'a dyn Fn(&M, &O, &Batches, &History) -> Result<()>;

/// Trains from `progress` to the end, calling `save` every `every` iterations
/// (and after the last, and on a stop by the observer).
///
/// The epoch reports fall where an uninterrupted run puts them, so a run
/// resumed from a checkpoint ends with the same [`History`]: a report after
/// every `per_epoch` iterations and after the last; on a stop by the
/// observer, one more for the partial epoch — after the checkpoint is saved,
/// so the checkpoint's history stays that of an uninterrupted run.
pub(super) fn run<M: Backprop, O: Optimizer + ?Sized>(
    trainer: &Trainer,
    (model, optimizer): (&mut M, &mut O),
    (train, test): (&Dataset, Option<&Dataset>),
    observer: &mut dyn Observer,
    progress: Progress,
    save: Option<(usize, SaveFn<'_, M, O>)>,
) -> Result<History> {
    let Progress {
        mut batches,
        mut history,
    } = progress;
    let per_epoch = trainer.iterations_per_epoch(train.len());
    let iterations = trainer.iterations(train.len());
    let start = history.iterations;
    // The losses of the epoch under way when the run was saved.
    let since = history.epochs.last().map_or(0, |r| r.iteration);
    let mut epoch_losses = history.losses.get(since..).unwrap_or_default().to_vec();
    observer.on_start(start, iterations);
    for i in start + 1..=iterations {
        let (x, labels) = train.batch(&batches.next_batch())?;
        let (loss, grads) = model.gradient(&x, &Targets::from(&labels))?;
        step(optimizer, model, &grads)?;
        history.losses.push(loss);
        history.iterations = i;
        epoch_losses.push(loss);
        let mut flow = observer.on_iteration(i, loss);
        let epoch_end = i % per_epoch == 0 || i == iterations;
        if epoch_end {
            let epoch = history.epochs.len() + 1;
            let report = evaluate(model, i, epoch, &epoch_losses, train, test)?;
            epoch_losses.clear();
            if flow.is_continue() {
                flow = observer.on_epoch(&report);
            }
            history.epochs.push(report);
        }
        if let Some((every, save)) = save
            && (i % every == 0 || i == iterations || flow.is_break())
        {
            save(model, optimizer, &batches, &history)?;
        }
        if flow == ControlFlow::Break(()) {
            if !epoch_end {
                let epoch = history.epochs.len() + 1;
                let report = evaluate(model, i, epoch, &epoch_losses, train, test)?;
                history.epochs.push(report);
            }
            history.stopped_early = i < iterations;
            break;
        }
    }
    Ok(history)
}

fn evaluate<M: Backprop>(
    model: &M,
    iteration: usize,
    epoch: usize,
    losses: &[f64],
    train: &Dataset,
    test: Option<&Dataset>,
) -> Result<EpochReport> {
    let accuracy = |d: &Dataset| model.accuracy(&d.images(), &Targets::from(d.labels()));
    Ok(EpochReport {
        epoch,
        iteration,
        mean_loss: losses.iter().sum::<f64>() / losses.len().max(1) as f64,
        train_accuracy: accuracy(train)?,
        test_accuracy: test.map(accuracy).transpose()?,
    })
}
