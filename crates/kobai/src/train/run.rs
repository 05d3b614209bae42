//! The learning loop itself, from any point: fresh, or resumed from a checkpoint.

use std::ops::ControlFlow;

use super::{EpochReport, History, Observer, Trainer};
use crate::data::{Batches, Dataset};
use crate::error::Result;
use crate::model::{Backprop, Model};
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
/// and after the last (unless `every` is `None`), and on a stop by the
/// observer.
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
    save: Option<(Option<usize>, SaveFn<'_, M, O>)>,
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
        let (loss, grads) = model.batch_gradient(train, &batches.next_batch())?;
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
            && (every.is_some_and(|every| i % every == 0 || i == iterations) || flow.is_break())
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

/// How many rows [`accuracy`] predicts at once: enough for fast matrix
/// products, few enough that no `f64` copy of a whole dataset stored as bytes
/// is ever made.
pub(super) const EVALUATION_ROWS: usize = 1000;

fn evaluate<M: Backprop>(
    model: &M,
    iteration: usize,
    epoch: usize,
    losses: &[f64],
    train: &Dataset,
    test: Option<&Dataset>,
) -> Result<EpochReport> {
    Ok(EpochReport {
        epoch,
        iteration,
        mean_loss: losses.iter().sum::<f64>() / losses.len().max(1) as f64,
        train_accuracy: accuracy(model, train, EVALUATION_ROWS)?,
        test_accuracy: test
            .map(|d| accuracy(model, d, EVALUATION_ROWS))
            .transpose()?,
    })
}

/// [`Model::accuracy`] over all of `data`, `rows` samples at a time (at least
/// one): the same fraction, as each row's prediction is its own, without
/// the whole `f64` matrix.
pub(super) fn accuracy<M: Model>(model: &M, data: &Dataset, rows: usize) -> Result<f64> {
    let mut correct = 0;
    let mut start = 0;
    while start < data.len() {
        let chunk: Vec<usize> = (start..data.len().min(start + rows.max(1))).collect();
        correct += model.correct_count(data, &chunk)?;
        start += chunk.len();
    }
    Ok(correct as f64 / data.len() as f64)
}

#[cfg(test)]
mod tests {
    use ndarray::{Array1, Array2};

    use super::*;
    use crate::TwoLayerNet;
    use crate::functions::Targets;

    #[test]
    fn accuracy_in_chunks_is_that_of_the_whole_matrix() {
        let (samples, features, classes) = (2500, 20, 10);
        let pixels = Array2::from_shape_fn((samples, features), |(r, c)| {
            ((r * 31 + c * 17 + r * c) % 256) as u8
        });
        let labels = Array1::from_shape_fn(samples, |r| (r * 7 + r / 3) % classes);
        let bytes = Dataset::from_bytes(pixels, 255.0, labels, classes).expect("valid");
        let floats = Dataset::new(bytes.images().to_owned(), bytes.labels().clone(), classes)
            .expect("valid");
        let net = TwoLayerNet::new(features, 8, classes, 0.5, 3).expect("valid");
        let whole = net
            .accuracy(&bytes.images(), &Targets::from(bytes.labels()))
            .expect("valid");
        assert!(whole > 0.0 && whole < 1.0, "{whole}");
        for data in [&bytes, &floats] {
            for rows in [0, 1, 7, 999, EVALUATION_ROWS, samples, 2 * samples] {
                let chunked = accuracy(&net, data, rows).expect("valid");
                assert_eq!(chunked.to_bits(), whole.to_bits(), "{rows} rows at a time");
            }
        }
    }
}
