//! `kobai chapter6 EXPERIMENT`: the book's chapter-6 experiment scripts, one
//! command each — optimizers, weight init, activation histograms, Batch
//! Normalization, weight decay, Dropout — each printing its final numbers
//! and drawing its figure as `<out>/chapter6_<EXPERIMENT>.png` and `.svg`.
//!
//! Every network is a [`MultiLayerNet`] whose weights come from `--seed`, and
//! every run of one experiment starts from the same seed (the same weights,
//! up to their scale, and the same batches), so the runs differ only in what
//! the experiment compares.
//!
//! This file holds the options, the driver and what the experiments share;
//! each experiment has its own file, and `smoothing` the book's `smooth_curve`.

mod activations;
mod batchnorm;
mod optimizers;
mod regularization;
mod smoothing;
mod weight_init;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use std::ops::ControlFlow;

use anyhow::{Result, bail, ensure};
use kobai::data::Dataset;
use kobai::nets::{Compute, MultiLayerNet};
use kobai::train::{EpochReport, History, Length, Trainer};
use kobai::{KobaiError, Observer};
use serde_json::{Value, json};

use super::network_choice::compute_name;
use super::optimizer_choice::OptimizerName;
use super::train_data::{Source, first};
use crate::output_paths::ensure_out_dir;
use crate::plot::{GridSpec, draw_grid};
use crate::progress::TrainingProgress;
use activations::activations;
use batchnorm::batchnorm;
use optimizers::optimizers;
use regularization::{dropout, overfit};
use weight_init::weight_init;

/// The experiments, named after what they compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Experiment {
    /// optimizer_compare_mnist.py: SGD, Momentum, AdaGrad and Adam on a 4×100 ReLU net.
    Optimizers,
    /// weight_init_compare.py: init std 0.01, Xavier and He on a 4×100 ReLU net.
    WeightInit,
    /// weight_init_activation_histogram.py: each layer's activations for four inits.
    Activations,
    /// batch_norm_test.py: training with and without BatchNorm for 16 init scales.
    Batchnorm,
    /// overfit_weight_decay.py: 300 samples, 6×100 net, weight decay 0 and 0.1.
    Overfit,
    /// overfit_dropout.py: 300 samples, 6×100 net, without and with Dropout 0.2.
    Dropout,
}

impl Experiment {
    /// The name as the command line spells it.
    fn name(self) -> &'static str {
        match self {
            Experiment::Optimizers => "optimizers",
            Experiment::WeightInit => "weight-init",
            Experiment::Activations => "activations",
            Experiment::Batchnorm => "batchnorm",
            Experiment::Overfit => "overfit",
            Experiment::Dropout => "dropout",
        }
    }

    /// The book's script (in `ch06/`).
    fn script(self) -> &'static str {
        match self {
            Experiment::Optimizers => "optimizer_compare_mnist.py",
            Experiment::WeightInit => "weight_init_compare.py",
            Experiment::Activations => "weight_init_activation_histogram.py",
            Experiment::Batchnorm => "batch_norm_test.py",
            Experiment::Overfit => "overfit_weight_decay.py",
            Experiment::Dropout => "overfit_dropout.py",
        }
    }
}

/// Options of `kobai chapter6`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Experiments (the book's scripts in ch06/, with their settings):
  optimizers   4 hidden layers of 100, ReLU, He init, batch 128, 2000 iterations;
               SGD 0.01, Momentum 0.01, AdaGrad 0.01, Adam 0.001; smoothed loss curves
  weight-init  the same net and SGD 0.01: init std 0.01, Xavier, He; smoothed loss curves
  activations  1000 samples of N(0,1) with 100 features through 5 layers of 100 (no
               training): histograms of each layer's activations for std 1, std 0.01,
               Xavier (sigmoid) and He (ReLU)
  batchnorm    5 hidden layers of 100, the first 1000 training samples, SGD 0.01,
               batch 100, 20 epochs, init std logspace(0, -4, 16); with and without BatchNorm
  overfit      6 hidden layers of 100, the first 300 training samples, SGD 0.01,
               batch 100, 201 epochs; weight decay 0 and 0.1
  dropout      the same, 301 epochs; without Dropout and with Dropout 0.2

Without --data the networks learn the built-in spiral (2 features, 3 classes,
720 training samples); with --data, MNIST-format files. An epoch is
max(training samples / batch size, 1) iterations; accuracy is measured on the
training samples after each (and, for batchnorm, overfit and dropout, before
the first step too: their curves start at epoch 0, as the book's loops do); the
test accuracy after each epoch for overfit and dropout, after the last step for
the others. --iters N trains every run N iterations instead (activations
trains nothing and ignores it). A run whose loss stops being finite (the
book's overflow warnings) ends there and is reported as diverged. The same
--seed gives the same numbers.")]
pub struct Args {
    /// The experiment to run.
    #[arg(value_enum, value_name = "EXPERIMENT")]
    experiment: Experiment,
    /// Folder with MNIST or Fashion-MNIST files (raw or .gz); without it, the
    /// built-in spiral.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Folder for the picture chapter6_<EXPERIMENT>.png/.svg (created if missing).
    #[arg(long, value_name = "DIR", default_value = "kobai-out")]
    out: PathBuf,
    /// Seed of the weights, the batches, the Dropout masks and the random inputs.
    #[arg(long, value_name = "N", default_value_t = 1)]
    seed: u64,
    /// Train every run this many iterations instead of the book's length.
    #[arg(long, value_name = "N")]
    iters: Option<usize>,
    /// batchnorm: this many init scales, logspace(0, -4, N), instead of 16.
    #[arg(long, value_name = "N")]
    scales: Option<usize>,
    /// Print the results as one JSON object, for scripts.
    #[arg(long)]
    json: bool,
}

/// The most `--iters`: 500 times the book's 2000.
const MAX_ITERS: usize = 1_000_000;

/// The book's number of init scales in batch_norm_test.py.
const BOOK_SCALES: usize = 16;
/// The size of one panel of a many-panel figure, in pixels.
const SMALL_CELL: (u32, u32) = (420, 330);

/// 4 hidden layers of 100, batch 128, 2000 iterations: the book's settings
/// of optimizer_compare_mnist.py and weight_init_compare.py.
const COMPARE_HIDDEN: [usize; 4] = [100; 4];
const COMPARE_BATCH: usize = 128;
const COMPARE_ITERATIONS: usize = 2000;

/// Checks the options, loads the data, runs the experiment, draws, prints.
pub fn run(args: &Args) -> Result<()> {
    if let Some(n) = args.iters
        && n > MAX_ITERS
    {
        bail!(
            "--iters {n} is over the limit of {MAX_ITERS}: an experiment trains up to 32 \
             networks, each keeping every batch's loss for its curve"
        );
    }
    if args.iters == Some(0) {
        bail!("--iters must be at least 1, got 0");
    }
    if let Some(n) = args.scales {
        ensure!(
            args.experiment == Experiment::Batchnorm,
            "--scales applies to the batchnorm experiment only"
        );
        ensure!(
            (1..=BOOK_SCALES).contains(&n),
            "--scales must be from 1 to {BOOK_SCALES}, got {n}"
        );
    }
    let source = Source::new(args.data.as_deref());
    let started = Instant::now();
    // The data first (a missing folder is refused before anything is
    // created), then the output folder (before any training).
    let data = if args.experiment == Experiment::Activations {
        if let Source::Folder(dir) = source {
            ensure!(
                dir.is_dir(),
                "the data folder {} does not exist or is not a folder",
                dir.display()
            );
        }
        None
    } else {
        let (train, test) = source.load()?;
        Some(Data {
            source,
            classes: train.classes().max(test.classes()),
            train,
            test,
            seed: args.seed,
            iters: args.iters,
        })
    };
    ensure_out_dir(&args.out)?;
    let outcome = match (&data, args.experiment) {
        (None, _) => activations(args.seed)?,
        (Some(data), Experiment::Optimizers) => optimizers(data)?,
        (Some(data), Experiment::WeightInit) => weight_init(data)?,
        (Some(data), Experiment::Batchnorm) => batchnorm(data, args.scales.unwrap_or(BOOK_SCALES))?,
        (Some(data), Experiment::Overfit) => overfit(data)?,
        (Some(data), Experiment::Dropout) => dropout(data)?,
        (Some(_), Experiment::Activations) => bail!("the activations experiment takes no data"),
    };
    let stem = args
        .out
        .join(format!("chapter6_{}", args.experiment.name()));
    let pictures = draw_grid(&stem, &outcome.figure)?;
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        let dataset = data.as_ref().map(Data::as_json);
        outln!(
            "{}",
            json!({
                "experiment": args.experiment.name(),
                "book_script": args.experiment.script(),
                "dataset": dataset,
                "seed": args.seed,
                "settings": outcome.settings,
                "runs": outcome.runs,
                "pictures": pictures.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
                "seconds": seconds,
            })
        );
    } else {
        let mut text = format!(
            "Chapter 6, {} (the book's {}), seed {}\n",
            args.experiment.name(),
            args.experiment.script(),
            args.seed
        );
        match &data {
            Some(d) => {
                let _ = writeln!(
                    text,
                    "Data: {}; {} training and {} test samples",
                    d.source.describe(),
                    d.train.len(),
                    d.test.len()
                );
            }
            None if args.data.is_some() => {
                text.push_str("Data: not used (the inputs are N(0, 1), as the book's)\n");
            }
            None => {}
        }
        text.push_str(&outcome.table);
        let names: Vec<String> = pictures.iter().map(|p| p.display().to_string()).collect();
        let _ = writeln!(text, "Picture: {}", names.join(", "));
        let _ = writeln!(text, "Done in {seconds:.2} s");
        out!("{text}");
    }
    Ok(())
}

/// The data and the options every training experiment shares.
struct Data<'a> {
    source: Source<'a>,
    train: Dataset,
    test: Dataset,
    classes: usize,
    seed: u64,
    iters: Option<usize>,
}

impl Data<'_> {
    fn as_json(&self) -> Value {
        json!({
            "name": self.source.name(),
            "path": match self.source {
                Source::Spiral => Value::Null,
                Source::Folder(dir) => json!(dir.display().to_string()),
            },
            "train_samples": self.train.len(),
            "test_samples": self.test.len(),
            "features": self.train.features(),
            "classes": self.classes,
        })
    }

    /// `book`, or `--iters` iterations.
    fn length(&self, book: Length) -> Length {
        self.iters.map_or(book, Length::Iterations)
    }

    /// The first `n` training samples (all of them if there are fewer: the
    /// spiral has 720).
    fn first(&self, n: usize) -> Result<Dataset> {
        first(self.train.clone(), Some(n.min(self.train.len())))
    }

    /// A network of `hidden` layers for this data.
    fn net(&self, hidden: &[usize]) -> MultiLayerNet {
        MultiLayerNet::new(self.train.features(), hidden, self.classes).seed(self.seed)
    }

    /// Trains `net` on `train` (evaluating on the test set after each epoch,
    /// and before the first step if the plan says so). A run whose loss or
    /// gradient stops being finite ends there, as diverged.
    fn train(
        &self,
        net: &MultiLayerNet,
        optimizer: OptimizerName,
        lr: f64,
        plan: Plan,
        train: &Dataset,
    ) -> Result<Trained> {
        ensure!(
            plan.batch_size <= train.len(),
            "the batch size {} is larger than the {} training samples",
            plan.batch_size,
            train.len()
        );
        // The fused f64 kernels where they apply (stacks of Affine and ReLU
        // without weight decay): the layers' numbers up to rounding, faster.
        let mut network = net.build()?.with_compute(Compute::FusedF64);
        let engine = network.engine();
        let mut optimizer = optimizer.build(lr)?;
        let trainer = Trainer::new(plan.length, plan.batch_size, self.seed)?;
        let per_epoch = trainer.iterations_per_epoch(train.len());
        let test_each_epoch = plan.test_each_epoch.then_some(&self.test);
        let initial = if plan.evaluate_at_start {
            Some((
                kobai::train::accuracy(&network, train)?,
                test_each_epoch
                    .map(|test| kobai::train::accuracy(&network, test))
                    .transpose()?,
            ))
        } else {
            None
        };
        let mut progress = TrainingProgress::new(trainer.iterations(train.len()), false);
        let mut recorder = Recorder {
            progress: &mut progress,
            losses: Vec::new(),
            epochs: Vec::new(),
        };
        let result = trainer.train(
            &mut network,
            &mut *optimizer,
            train,
            test_each_epoch,
            &mut recorder,
        );
        let (losses, epochs) = (recorder.losses, recorder.epochs);
        progress.finish();
        let (history, diverged) = match result {
            Ok(history) => (history, None),
            Err(e @ KobaiError::NonFinite { .. }) => {
                let iterations = losses.len();
                let history = History {
                    losses,
                    epochs,
                    iterations,
                    stopped_early: true,
                };
                (history, Some((iterations + 1, e.to_string())))
            }
            Err(e) => return Err(e.into()),
        };
        let final_test = match (&diverged, test_each_epoch) {
            (Some(_), _) => f64::NAN,
            (None, Some(_)) => history
                .epochs
                .last()
                .and_then(|r| r.test_accuracy)
                .unwrap_or(f64::NAN),
            (None, None) => kobai::train::accuracy(&network, &self.test)?,
        };
        Ok(Trained {
            final_test,
            history,
            per_epoch,
            initial,
            diverged,
            engine,
        })
    }
}

/// Passes the progress on to the bar and keeps it, so that a run that
/// diverges still has its curves up to there.
struct Recorder<'p> {
    progress: &'p mut TrainingProgress,
    losses: Vec<f64>,
    epochs: Vec<EpochReport>,
}

impl Observer for Recorder<'_> {
    fn on_start(&mut self, start: usize, iterations: usize) {
        self.progress.on_start(start, iterations);
    }

    fn on_iteration(&mut self, iteration: usize, loss: f64) -> ControlFlow<()> {
        self.losses.push(loss);
        self.progress.on_iteration(iteration, loss)
    }

    fn on_epoch(&mut self, report: &EpochReport) -> ControlFlow<()> {
        self.epochs.push(report.clone());
        self.progress.on_epoch(report)
    }
}

/// How long and in what batches a run trains.
#[derive(Debug, Clone, Copy)]
struct Plan {
    length: Length,
    batch_size: usize,
    /// Measure the accuracies before the first step too (the book's
    /// batch_norm_test.py and overfit_weight_decay.py do: their curves
    /// start at epoch 0).
    evaluate_at_start: bool,
    /// Measure the test accuracy after every epoch too (the overfitting
    /// scripts), not only after the last step (the others).
    test_each_epoch: bool,
}

/// What one training run measured.
struct Trained {
    history: History,
    per_epoch: usize,
    /// Train (and test) accuracy before the first step.
    initial: Option<(f64, Option<f64>)>,
    /// The test accuracy after the last step; NaN if the run diverged.
    final_test: f64,
    /// The iteration whose loss or gradient was not finite, and the error.
    diverged: Option<(usize, String)>,
    /// What computed backprop.
    engine: Compute,
}

impl Trained {
    /// The last train accuracy; NaN if the run diverged.
    fn last_train(&self) -> f64 {
        match (&self.diverged, self.history.epochs.last()) {
            (None, Some(r)) => r.train_accuracy,
            _ => f64::NAN,
        }
    }

    /// The last test accuracy; NaN if the run diverged.
    fn last_test(&self) -> f64 {
        self.final_test
    }

    fn last_loss(&self) -> f64 {
        self.history.losses.last().copied().unwrap_or(f64::NAN)
    }

    /// The mean of the last (up to) 100 batch losses.
    fn last_100_mean(&self) -> f64 {
        let l = &self.history.losses;
        let tail = &l[l.len().saturating_sub(100)..];
        tail.iter().sum::<f64>() / tail.len().max(1) as f64
    }

    /// `(epoch, train accuracy)` before training (if measured) and after
    /// each epoch (fractional for a last partial one).
    fn train_curve(&self) -> Vec<(f64, f64)> {
        let start = self.initial.map(|(train, _)| (0.0, train));
        start
            .into_iter()
            .chain(
                self.history
                    .epochs
                    .iter()
                    .map(|r| (self.epoch_of(r.iteration), r.train_accuracy)),
            )
            .collect()
    }

    /// `(epoch, test accuracy)` likewise.
    fn test_curve(&self) -> Vec<(f64, f64)> {
        let start = self.initial.and_then(|(_, test)| test.map(|t| (0.0, t)));
        start
            .into_iter()
            .chain(
                self.history
                    .epochs
                    .iter()
                    .filter_map(|r| r.test_accuracy.map(|t| (self.epoch_of(r.iteration), t))),
            )
            .collect()
    }

    fn epoch_of(&self, iteration: usize) -> f64 {
        iteration as f64 / self.per_epoch.max(1) as f64
    }

    /// ` (diverged at iteration n)` for a run that diverged.
    fn diverged_note(&self) -> String {
        self.diverged.as_ref().map_or_else(String::new, |(i, _)| {
            format!(" (diverged at iteration {i})")
        })
    }

    /// The numbers every training run reports (null where there is none:
    /// the accuracies of a run that diverged).
    fn as_json(&self, name: &str) -> Value {
        json!({
            "name": name,
            "engine": compute_name(self.engine),
            "iterations": self.history.iterations,
            "epochs": self.history.epochs.len(),
            "final_loss": self.last_loss(),
            "loss_last_100_mean": self.last_100_mean(),
            "final_train_accuracy": self.last_train(),
            "final_test_accuracy": self.last_test(),
            "initial_train_accuracy": self.initial.map(|a| a.0),
            "initial_test_accuracy": self.initial.and_then(|a| a.1),
            "train_accuracy_per_epoch": self.history.epochs.iter().map(|r| r.train_accuracy).collect::<Vec<_>>(),
            "test_accuracy_per_epoch": self.history.epochs.iter().filter_map(|r| r.test_accuracy).collect::<Vec<_>>(),
            "diverged_at_iteration": self.diverged.as_ref().map(|d| d.0),
            "error": self.diverged.as_ref().map(|d| d.1.clone()),
        })
    }
}

/// A number for the tables: 4 decimals, or `—` for none.
fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.4}")
    } else {
        "—".to_string()
    }
}

/// Everything an experiment hands back: its settings and runs for the JSON,
/// the table for people, and the figure.
struct Outcome {
    settings: Value,
    runs: Vec<Value>,
    table: String,
    figure: GridSpec,
}

/// Adds the fields of `extra` (an object) to `value` (an object).
fn with(mut value: Value, extra: Value) -> Value {
    if let (Some(map), Value::Object(extra)) = (value.as_object_mut(), extra) {
        map.extend(extra);
    }
    value
}

/// `n×size` for equal hidden layers.
fn shape(hidden: &[usize]) -> String {
    match hidden {
        [first, rest @ ..] if rest.iter().all(|h| h == first) => {
            format!("{}×{first}", hidden.len())
        }
        _ => hidden
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(","),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(shape(&[100, 100, 100]), "3×100");
        assert_eq!(shape(&[50, 10]), "50,10");
    }
}
