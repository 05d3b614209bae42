//! The learning loop itself, from any point: fresh, or resumed from a checkpoint.

use std::ops::ControlFlow;

use super::{EpochReport, Evaluation, History, Observer, Trainer};
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
/// so the checkpoint's history stays that of an uninterrupted run. With
/// [`Evaluation::Overlapped`], an epoch's report (but the last) is computed
/// on a thread of its own from a copy of the model and joins the history,
/// in order, before the next report, checkpoint or stop.
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
    let overlapped = trainer.evaluation == Evaluation::Overlapped;
    observer.on_start(start, iterations);
    std::thread::scope(|scope| {
        let mut pending: Option<Pending<'_>> = None;
        for i in start + 1..=iterations {
            let (loss, grads) = model.batch_gradient(train, &batches.next_batch())?;
            step(optimizer, model, &grads)?;
            history.losses.push(loss);
            history.iterations = i;
            epoch_losses.push(loss);
            let mut flow = observer.on_iteration(i, loss);
            let epoch_end = i % per_epoch == 0 || i == iterations;
            let save_due = save.is_some_and(|(every, _)| {
                every.is_some_and(|every| i % every == 0 || i == iterations)
            });
            // A report computed beside the training is delivered as soon as
            // it is ready, and before anything that must follow it: the next
            // epoch's report, a checkpoint, the end of the run.
            if pending.as_ref().is_some_and(|p| p.accuracies.is_finished())
                || epoch_end
                || save_due
                || flow.is_break()
            {
                deliver(pending.take(), &mut history, observer, &mut flow)?;
            }
            if epoch_end {
                let epoch = history.epochs.len() + 1;
                let mean_loss = mean(&epoch_losses);
                epoch_losses.clear();
                if overlapped && i < iterations && !save_due && flow.is_continue() {
                    let snapshot = model.clone();
                    pending = Some(Pending {
                        iteration: i,
                        epoch,
                        mean_loss,
                        accuracies: scope.spawn(move || {
                            accuracies(&snapshot, (train, test), BESIDE_ROWS, Threads::One)
                        }),
                    });
                } else {
                    let report = report_now(&*model, (train, test), epoch, i, mean_loss)?;
                    if flow.is_continue() {
                        flow = observer.on_epoch(&report);
                    }
                    history.epochs.push(report);
                }
            }
            if let Some((_, save)) = save
                && (save_due || flow.is_break())
            {
                save(model, optimizer, &batches, &history)?;
            }
            if flow == ControlFlow::Break(()) {
                if !epoch_end {
                    let epoch = history.epochs.len() + 1;
                    let report = report_now(&*model, (train, test), epoch, i, mean(&epoch_losses))?;
                    history.epochs.push(report);
                }
                history.stopped_early = i < iterations;
                break;
            }
        }
        let mut flow = ControlFlow::Continue(());
        deliver(pending.take(), &mut history, observer, &mut flow)?;
        Ok(history)
    })
}

/// The report of `epoch`, ending at `iteration`, evaluated now on all cores.
fn report_now<M: Model>(
    model: &M,
    data: (&Dataset, Option<&Dataset>),
    epoch: usize,
    iteration: usize,
    mean_loss: f64,
) -> Result<EpochReport> {
    let (train_accuracy, test_accuracy) = accuracies(model, data, EVALUATION_ROWS, Threads::All)?;
    Ok(EpochReport {
        epoch,
        iteration,
        mean_loss,
        train_accuracy,
        test_accuracy,
    })
}

/// An epoch's report whose accuracies are being computed on another thread,
/// on a copy of the model as it was at the epoch's end.
struct Pending<'scope> {
    iteration: usize,
    epoch: usize,
    mean_loss: f64,
    accuracies: std::thread::ScopedJoinHandle<'scope, Result<(f64, Option<f64>)>>,
}

/// Waits for `pending`'s accuracies (if any), adds its report to `history`
/// and shows it to `observer` unless `flow` already says stop.
fn deliver(
    pending: Option<Pending<'_>>,
    history: &mut History,
    observer: &mut dyn Observer,
    flow: &mut ControlFlow<()>,
) -> Result<()> {
    let Some(pending) = pending else {
        return Ok(());
    };
    let (train_accuracy, test_accuracy) = match pending.accuracies.join() {
        Ok(accuracies) => accuracies?,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    let report = EpochReport {
        epoch: pending.epoch,
        iteration: pending.iteration,
        mean_loss: pending.mean_loss,
        train_accuracy,
        test_accuracy,
    };
    if flow.is_continue() {
        *flow = observer.on_epoch(&report);
    }
    history.epochs.push(report);
    Ok(())
}

/// How many rows [`accuracy`] predicts at once: enough for fast matrix
/// products, few enough that no `f64` copy of a whole dataset stored as bytes
/// is ever made.
pub(super) const EVALUATION_ROWS: usize = 1000;

/// Rows at once for an evaluation beside the training: small enough that the
/// sparse kernels keep each block on the evaluating thread (they split work
/// above 16 million multiply-adds), leaving the other core to the training.
const BESIDE_ROWS: usize = 500;

/// The threads an evaluation may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Threads {
    /// The calling thread only.
    One,
    /// rayon's threads (feature `parallel`), blocks of rows spread over them.
    All,
}

/// The mean of `losses` (0 for none).
fn mean(losses: &[f64]) -> f64 {
    losses.iter().sum::<f64>() / losses.len().max(1) as f64
}

/// The accuracy of `model` on `train` and on `test` (if any).
fn accuracies<M: Model>(
    model: &M,
    (train, test): (&Dataset, Option<&Dataset>),
    rows: usize,
    threads: Threads,
) -> Result<(f64, Option<f64>)> {
    Ok((
        accuracy(model, train, rows, threads)?,
        test.map(|d| accuracy(model, d, rows, threads))
            .transpose()?,
    ))
}

/// [`Model::accuracy`] over all of `data`, `rows` samples at a time (at least
/// one): the same fraction, as each row's prediction is its own, without
/// the whole `f64` matrix — and the same whatever the threads, as the
/// blocks' counts are whole numbers.
pub(super) fn accuracy<M: Model>(
    model: &M,
    data: &Dataset,
    rows: usize,
    threads: Threads,
) -> Result<f64> {
    let rows = rows.max(1);
    let blocks: Vec<std::ops::Range<usize>> = (0..data.len())
        .step_by(rows)
        .map(|start| start..data.len().min(start + rows))
        .collect();
    let count =
        |block: std::ops::Range<usize>| model.correct_count(data, &block.collect::<Vec<usize>>());
    let counts: Vec<usize> = match threads {
        #[cfg(feature = "parallel")]
        Threads::All => {
            use rayon::prelude::*;
            blocks.into_par_iter().map(count).collect::<Result<_>>()?
        }
        _ => blocks.into_iter().map(count).collect::<Result<_>>()?,
    };
    Ok(counts.iter().sum::<usize>() as f64 / data.len() as f64)
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
                for threads in [Threads::One, Threads::All] {
                    let chunked = accuracy(&net, data, rows, threads).expect("valid");
                    assert_eq!(
                        chunked.to_bits(),
                        whole.to_bits(),
                        "{rows} rows at a time on {threads:?}"
                    );
                }
            }
        }
    }
}
