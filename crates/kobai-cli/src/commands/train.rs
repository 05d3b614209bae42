//! `kobai train`: the book's `train_neuralnet.py` — a two-layer network,
//! mini-batch SGD, accuracy after every epoch, and the learning curves.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Result, bail, ensure};
use kobai::data::{Dataset, SPIRAL_CLASSES, load_mnist_dir, spiral};
use kobai::model::save_npz;
use kobai::nets::Compute;
use kobai::train::{EpochReport, History, Length, Trainer};
use kobai::{Sgd, TwoLayerNet};
use serde_json::{Value, json};

use super::train_checkpoint::{self, Plan, check_file_path};
use crate::plot::{AccuracyPoint, CurvesSpec, draw_training_curves, ensure_out_dir};
use crate::progress::TrainingProgress;

/// Points per arm of the built-in spiral.
const SPIRAL_POINTS: usize = 300;
/// The spiral's held-out share.
const SPIRAL_TEST_FRACTION: f64 = 0.2;
/// The spiral's own seed: the data stay the same whatever `--seed` says.
const SPIRAL_SEED: u64 = 0;

/// Hyperparameters, with a default set per kind of data.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Settings {
    hidden: usize,
    batch_size: usize,
    lr: f64,
    weight_init_std: f64,
    length: Length,
}

/// The built-in spiral: measured to reach a test accuracy above 0.9.
const SPIRAL_DEFAULTS: Settings = Settings {
    hidden: 100,
    batch_size: 30,
    lr: 1.0,
    weight_init_std: 0.1,
    length: Length::Epochs(100),
};

/// MNIST-layout data: the book's `train_neuralnet.py`.
const MNIST_DEFAULTS: Settings = Settings {
    hidden: 50,
    batch_size: 100,
    lr: 0.1,
    weight_init_std: 0.01,
    length: Length::Iterations(10_000),
};

/// Options of `kobai train`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Defaults without --data (the built-in spiral: 3 arms of 300 points, 20% held out):
  --hidden 100 --batch-size 30 --lr 1 --weight-init-std 0.1 --epochs 100
Defaults with --data (the book's train_neuralnet.py):
  --hidden 50 --batch-size 100 --lr 0.1 --weight-init-std 0.01 --iters 10000

An epoch is max(training samples / batch size, 1) iterations; batches are drawn
with replacement, as in the book. The same --seed gives the same numbers.

A run killed mid-way (Ctrl-C, kill -9, a power cut) goes on from its last
checkpoint with the very weights it would have had, bit for bit:
  kobai train --epochs 300 --checkpoint run.ckpt.npz --save final.npz
  kobai train --epochs 300 --resume run.ckpt.npz --save final.npz")]
pub struct Args {
    /// Folder with MNIST or Fashion-MNIST files (train-images-idx3-ubyte,
    /// train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte,
    /// raw or .gz); without it, the built-in spiral.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Hidden layer size.
    #[arg(long, value_name = "N")]
    hidden: Option<usize>,
    /// Train for this many iterations (optimizer steps).
    #[arg(long, value_name = "N", conflicts_with = "epochs")]
    iters: Option<usize>,
    /// Train for this many epochs.
    #[arg(long, value_name = "N")]
    epochs: Option<usize>,
    /// Samples per mini-batch.
    #[arg(long, value_name = "N")]
    batch_size: Option<usize>,
    /// Learning rate of SGD.
    #[arg(long, value_name = "RATE", allow_negative_numbers = true)]
    lr: Option<f64>,
    /// Seed of the initial weights and of the batch order.
    #[arg(long, value_name = "N", default_value_t = 0)]
    seed: u64,
    /// Standard deviation of the initial weights.
    #[arg(long, value_name = "STD", allow_negative_numbers = true)]
    weight_init_std: Option<f64>,
    /// Save the trained weights (W1, b1, W2, b2) as a NumPy .npz archive.
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    /// Folder for the picture training.png/.svg (created if missing).
    #[arg(long, value_name = "DIR", default_value = "kobai-out")]
    out: PathBuf,
    /// Skip the picture.
    #[arg(long)]
    no_plots: bool,
    /// Print the results as one JSON object, for scripts (no epoch lines).
    #[arg(long)]
    json: bool,
    /// How backprop computes: the fused sparse kernels in f32 (f64 weights and
    /// updates), the same in f64, or the book's layers in f64.
    #[arg(long, value_enum, default_value_t = ComputeChoice::FusedF32)]
    compute: ComputeChoice,
    #[command(flatten)]
    checkpoints: train_checkpoint::CheckpointArgs,
}

/// `--compute`: the values of [`Compute`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ComputeChoice {
    /// Fused sparse kernels in f32; weights and updates stay f64.
    FusedF32,
    /// Fused sparse kernels in f64.
    FusedF64,
    /// The book's layers (Affine, ReLU, SoftmaxWithLoss) in f64.
    Layers,
}

impl ComputeChoice {
    fn compute(self) -> Compute {
        match self {
            ComputeChoice::FusedF32 => Compute::FusedF32,
            ComputeChoice::FusedF64 => Compute::FusedF64,
            ComputeChoice::Layers => Compute::Layers,
        }
    }

    fn name(self) -> &'static str {
        match self {
            ComputeChoice::FusedF32 => "fused-f32",
            ComputeChoice::FusedF64 => "fused-f64",
            ComputeChoice::Layers => "layers",
        }
    }
}

/// Where the data came from.
enum Source<'a> {
    Spiral,
    Folder(&'a Path),
}

impl Source<'_> {
    fn name(&self) -> &'static str {
        match self {
            Source::Spiral => "spiral",
            Source::Folder(_) => "mnist-format",
        }
    }

    fn describe(&self) -> String {
        match self {
            Source::Spiral => format!(
                "the built-in spiral ({SPIRAL_CLASSES} arms of {SPIRAL_POINTS} points, \
                 {:.0}% held out for testing, data seed {SPIRAL_SEED})",
                SPIRAL_TEST_FRACTION * 100.0
            ),
            Source::Folder(dir) => format!("MNIST-format files in {}", dir.display()),
        }
    }
}

/// Validates every option, loads the data, trains, draws, saves, prints.
pub fn run(args: &Args) -> Result<()> {
    let settings = settings(args)?;
    if let Some(path) = &args.save {
        check_file_path("--save", path)?;
    }
    let plan = train_checkpoint::plan(&args.checkpoints)?;
    let source = match &args.data {
        Some(dir) => Source::Folder(dir),
        None => Source::Spiral,
    };
    let (train, test) = match source {
        Source::Spiral => spiral(SPIRAL_POINTS, SPIRAL_TEST_FRACTION, SPIRAL_SEED)?,
        Source::Folder(dir) => load_mnist_dir(dir)?,
    };
    ensure!(
        train.features() == test.features(),
        "the training images have {} features but the test images {}",
        train.features(),
        test.features()
    );
    ensure!(
        settings.batch_size <= train.len(),
        "--batch-size {} is larger than the {} training samples",
        settings.batch_size,
        train.len()
    );
    if !args.no_plots {
        ensure_out_dir(&args.out)?;
    }
    let classes = train.classes().max(test.classes());
    let mut net = TwoLayerNet::new(
        train.features(),
        settings.hidden,
        classes,
        settings.weight_init_std,
        args.seed,
    )?
    .with_compute(args.compute.compute());
    let trainer = Trainer::new(settings.length, settings.batch_size, args.seed)?;
    let mut optimizer = Sgd::new(settings.lr)?;
    let per_epoch = trainer.iterations_per_epoch(train.len());
    let iterations = trainer.iterations(train.len());
    let run = Run {
        source: &source,
        train: &train,
        test: &test,
        classes,
        settings,
        seed: args.seed,
        per_epoch,
        iterations,
        plan: plan.as_ref(),
        compute: args.compute,
    };
    let mut progress = TrainingProgress::new(iterations, !args.json);
    if !args.json {
        progress = progress.with_header(header(&run));
    }
    let started = Instant::now();
    let history = match &plan {
        Some(plan) => {
            let checkpoints = plan.checkpoints(per_epoch, settings.weight_init_std)?;
            let test = Some(&test);
            trainer.train_with_checkpoints(
                &mut net,
                &mut optimizer,
                &train,
                test,
                &mut progress,
                &checkpoints,
            )
        }
        None => trainer.train(&mut net, &mut optimizer, &train, Some(&test), &mut progress),
    };
    let seconds = started.elapsed().as_secs_f64();
    progress.finish();
    let history = history?;
    let pictures = if args.no_plots {
        Vec::new()
    } else {
        draw_training_curves(&args.out.join("training"), &curves_spec(&run, &history))?
    };
    if let Some(path) = &args.save {
        save_npz(&net, path)?;
    }
    if args.json {
        println!(
            "{}",
            as_json(&run, &history, seconds, &pictures, args.save.as_deref())
        );
    } else {
        print!(
            "{}",
            summary(&history, seconds, &pictures, args.save.as_deref())
        );
    }
    Ok(())
}

/// The resolved options, checked, with the defaults of the data's kind.
fn settings(args: &Args) -> Result<Settings> {
    let defaults = match &args.data {
        Some(dir) => {
            ensure!(
                dir.is_dir(),
                "the data folder {} does not exist or is not a folder",
                dir.display()
            );
            MNIST_DEFAULTS
        }
        None => SPIRAL_DEFAULTS,
    };
    let s = Settings {
        hidden: args.hidden.unwrap_or(defaults.hidden),
        batch_size: args.batch_size.unwrap_or(defaults.batch_size),
        lr: args.lr.unwrap_or(defaults.lr),
        weight_init_std: args.weight_init_std.unwrap_or(defaults.weight_init_std),
        length: match (args.iters, args.epochs) {
            (Some(n), _) => Length::Iterations(n),
            (_, Some(n)) => Length::Epochs(n),
            _ => defaults.length,
        },
    };
    ensure!(s.hidden >= 1, "--hidden must be at least 1, got 0");
    ensure!(s.batch_size >= 1, "--batch-size must be at least 1, got 0");
    match s.length {
        Length::Iterations(0) => bail!("--iters must be at least 1, got 0"),
        Length::Epochs(0) => bail!("--epochs must be at least 1, got 0"),
        _ => {}
    }
    for (name, value) in [("--lr", s.lr), ("--weight-init-std", s.weight_init_std)] {
        ensure!(
            value.is_finite() && value > 0.0,
            "{name} must be a finite number above 0, got {value}"
        );
    }
    Ok(s)
}

/// What one training run was given.
struct Run<'a> {
    source: &'a Source<'a>,
    train: &'a Dataset,
    test: &'a Dataset,
    classes: usize,
    settings: Settings,
    seed: u64,
    per_epoch: usize,
    iterations: usize,
    plan: Option<&'a Plan>,
    compute: ComputeChoice,
}

impl Run<'_> {
    fn shape(&self) -> String {
        format!(
            "{}-{}-{}",
            self.train.features(),
            self.settings.hidden,
            self.classes
        )
    }
}

/// What is about to happen, before the epoch lines.
fn header(run: &Run<'_>) -> String {
    let s = run.settings;
    let mut out = String::new();
    let _ = writeln!(out, "Data: {}", run.source.describe());
    let _ = writeln!(
        out,
        "      {} training and {} test samples, {} features, {} classes",
        run.train.len(),
        run.test.len(),
        run.train.features(),
        run.classes
    );
    let _ = writeln!(
        out,
        "Network: TwoLayerNet {} (ReLU), weights {} · N(0, 1), seed {}, backprop {}",
        run.shape(),
        s.weight_init_std,
        run.seed,
        run.compute.name()
    );
    let _ = writeln!(
        out,
        "Training: {} iterations ({} per epoch) of batches of {}, SGD with lr {}",
        run.iterations, run.per_epoch, s.batch_size, s.lr
    );
    if let Some(plan) = run.plan {
        out.push_str(&plan.describe(run.per_epoch));
    }
    out
}

/// The closing lines: final numbers, time, files.
fn summary(history: &History, seconds: f64, pictures: &[PathBuf], saved: Option<&Path>) -> String {
    let mut s = String::new();
    if let Some(last) = history.epochs.last() {
        s.push_str(&format!(
            "Done in {seconds:.2} s: {} iterations, {} epochs; final loss {:.4} \
             (mean of the last epoch), train accuracy {:.4}",
            history.iterations,
            history.epochs.len(),
            last.mean_loss,
            last.train_accuracy
        ));
        if let Some(test) = last.test_accuracy {
            s.push_str(&format!(", test accuracy {test:.4}"));
        }
        s.push('\n');
    }
    if !pictures.is_empty() {
        let names: Vec<String> = pictures.iter().map(|p| p.display().to_string()).collect();
        s.push_str(&format!("Picture: {}\n", names.join(", ")));
    }
    if let Some(path) = saved {
        s.push_str(&format!("Weights: {}\n", path.display()));
    }
    s
}

/// The learning curves of the run.
fn curves_spec(run: &Run<'_>, history: &History) -> CurvesSpec {
    let title = format!(
        "TwoLayerNet {} on {}: SGD lr {}, batch {}, seed {}",
        run.shape(),
        match run.source {
            Source::Spiral => "the spiral".to_string(),
            Source::Folder(dir) => dir.file_name().map_or_else(
                || dir.display().to_string(),
                |n| n.to_string_lossy().into_owned()
            ),
        },
        run.settings.lr,
        run.settings.batch_size,
        run.seed
    );
    let accuracy = history
        .epochs
        .iter()
        .map(|r| AccuracyPoint {
            epoch: r.iteration as f64 / run.per_epoch as f64,
            train: r.train_accuracy,
            test: r.test_accuracy,
        })
        .collect();
    CurvesSpec {
        title,
        losses: history.losses.clone(),
        accuracy,
    }
}

/// Every number of the run as one JSON object.
fn as_json(
    run: &Run<'_>,
    history: &History,
    seconds: f64,
    pictures: &[PathBuf],
    saved: Option<&Path>,
) -> Value {
    let s = run.settings;
    let last = history.epochs.last();
    json!({
        "dataset": {
            "name": run.source.name(),
            "path": match run.source {
                Source::Spiral => Value::Null,
                Source::Folder(dir) => json!(dir.display().to_string()),
            },
            "train_samples": run.train.len(),
            "test_samples": run.test.len(),
            "features": run.train.features(),
            "classes": run.classes,
        },
        "network": {
            "input": run.train.features(),
            "hidden": s.hidden,
            "output": run.classes,
            "activation": "relu",
            "weight_init_std": s.weight_init_std,
            "compute": run.compute.name(),
        },
        "optimizer": { "name": "sgd", "lr": s.lr },
        "batch_size": s.batch_size,
        "seed": run.seed,
        "iterations_per_epoch": run.per_epoch,
        "iterations": history.iterations,
        "epochs": history.epochs.len(),
        "final_loss": last.map(|r| r.mean_loss),
        "final_batch_loss": history.losses.last(),
        "final_train_accuracy": last.map(|r| r.train_accuracy),
        "final_test_accuracy": last.and_then(|r| r.test_accuracy),
        "seconds": seconds,
        "epoch_reports": history.epochs.iter().map(report_json).collect::<Vec<_>>(),
        "pictures": pictures.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "saved": saved.map(|p| p.display().to_string()),
        "checkpoint": run.plan.map(|p| p.as_json(run.per_epoch)),
    })
}

fn report_json(r: &EpochReport) -> Value {
    json!({
        "epoch": r.epoch,
        "iteration": r.iteration,
        "mean_loss": r.mean_loss,
        "train_accuracy": r.train_accuracy,
        "test_accuracy": r.test_accuracy,
    })
}
