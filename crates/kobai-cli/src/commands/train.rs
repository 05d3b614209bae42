//! `kobai train`: the book's `train_neuralnet.py` — a two-layer network,
//! mini-batch SGD, accuracy after every epoch, and the learning curves — and
//! its chapter 6: networks of any depth (`--hidden 100,100,100`), every
//! optimizer, weight init, weight decay, Dropout and Batch Normalization.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Result, bail, ensure};
use kobai::data::{Dataset, Sampling};
use kobai::error::short_number;
use kobai::model::save_npz;
use kobai::nets::{Compute, Init};
use kobai::train::{Checkpoints, EpochReport, Evaluation, History, Length, Trainer};
use kobai::{Backprop, Observer, Optimizer, Params};
use ndarray::{Array2, Axis, Ix4};
use serde_json::{Value, json};

use super::network_choice::{Defaults, Net, NetworkArgs, Spec, compute_name};
use super::optimizer_choice::OptimizerName;
use super::train_checkpoint::{self, Plan};
use super::train_data::{self, Source};
use crate::interrupt::{StopOnSignal, StopRequest, Stopped, resume_command};
use crate::output_paths::{check_file_path, ensure_out_dir};
use crate::plot::{
    AccuracyPoint, CurvesSpec, FilterPanel, FilterSpec, draw_filters, draw_training_curves,
};
use crate::progress::TrainingProgress;

/// The most iterations a run may ask for (800 MB of batch losses).
const MAX_ITERATIONS: usize = 100_000_000;

/// The per-data defaults (hidden size and init std go to [`NetworkArgs::spec`]).
#[derive(Clone, Copy, Debug, PartialEq)]
struct DataDefaults {
    hidden: usize,
    batch_size: usize,
    lr: f64,
    weight_init_std: f64,
    length: Length,
}

/// The built-in spiral's: a small net learns it in a second.
const SPIRAL_DEFAULTS: DataDefaults = DataDefaults {
    hidden: 100,
    batch_size: 30,
    lr: 1.0,
    weight_init_std: 0.1,
    length: Length::Epochs(100),
};

/// The book's `train_neuralnet.py`.
const MNIST_DEFAULTS: DataDefaults = DataDefaults {
    hidden: 50,
    batch_size: 100,
    lr: 0.1,
    weight_init_std: 0.01,
    length: Length::Iterations(10_000),
};

/// The run's settings, defaults filled in and checked.
#[derive(Clone, Debug, PartialEq)]
struct Settings {
    batch_size: usize,
    optimizer: OptimizerName,
    lr: f64,
    length: Length,
    sampling: Sampling,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Defaults without --data (the built-in spiral: 3 arms of 300 points, 20% held out):
  --hidden 100 --batch-size 30 --lr 1 --weight-init-std 0.1 --epochs 100
Defaults with --data (the book's train_neuralnet.py):
  --hidden 50 --batch-size 100 --lr 0.1 --weight-init-std 0.01 --iters 10000
These --lr are SGD's; another --optimizer without --lr takes the book's
default (0.001 for adam, 0.01 for the others).

One hidden size without --batchnorm, --dropout, --weight-decay or --init
he|xavier is the book's TwoLayerNet; any other network is the book's
MultiLayerNetExtend (per hidden layer: Affine, [BatchNorm], activation,
[Dropout]), whose init defaults to he for relu and xavier for sigmoid/tanh.
--compute picks the fused engine for TwoLayerNet, for stacks of Affine and
ReLU, and for --model conv (without --weight-decay); other networks run the
layers (--json: network.engine says which ran).

An epoch is max(training samples / batch size, 1) iterations; batches are drawn
with replacement, as in the book (--shuffle: a fresh permutation each epoch).
The same --seed gives the same numbers.

The book's chapter 6, e.g.:
  kobai train --data DIR --hidden 100,100,100,100 --optimizer adam --iters 2000
  kobai train --data DIR --hidden 100,100,100,100,100 --batchnorm --init 0.05 --train-size 1000
  kobai train --data DIR --hidden 100,100,100,100,100,100 --train-size 300 --epochs 201 --weight-decay 0.1

Ctrl-C (or SIGTERM) finishes the current step, saves the run (to --checkpoint,
else to a new file in --out: interrupted.ckpt.npz), prints the command that
goes on, and exits 130 (143); a second Ctrl-C ends it at once. A run killed
mid-way (kill -9, a power cut) goes on from its last checkpoint. Either way it
ends with the very weights it would have had, bit for bit:
  kobai train --epochs 300 --checkpoint run.ckpt.npz --save final.npz
  kobai train --epochs 300 --resume run.ckpt.npz --save final.npz
A fresh run never overwrites a checkpoint: add --resume FILE to go on with it,
or --start-over to replace it.")]
pub struct Args {
    /// Folder with MNIST or Fashion-MNIST files (train-images-idx3-ubyte,
    /// train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte,
    /// raw or .gz); without it, the built-in spiral.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Train for this many iterations (optimizer steps).
    #[arg(long, value_name = "N", conflicts_with = "epochs")]
    iters: Option<usize>,
    /// Train for this many epochs.
    #[arg(long, value_name = "N")]
    epochs: Option<usize>,
    /// Samples per mini-batch.
    #[arg(long, value_name = "N")]
    batch_size: Option<usize>,
    /// The optimizer (the book's chapter 6).
    #[arg(long, value_enum, value_name = "NAME", default_value_t = OptimizerName::Sgd)]
    optimizer: OptimizerName,
    /// Learning rate.
    #[arg(long, value_name = "RATE", allow_negative_numbers = true)]
    lr: Option<f64>,
    /// Train on the first N training samples only (the book's overfitting
    /// experiments use 300).
    #[arg(long, value_name = "N")]
    train_size: Option<usize>,
    /// Epochs without replacement: each epoch a fresh permutation.
    #[arg(long)]
    shuffle: bool,
    /// Seed of the initial weights, the Dropout masks and the batch order.
    #[arg(long, value_name = "N", default_value_t = 0)]
    seed: u64,
    /// Save the trained network as a NumPy .npz archive (parameters, buffers
    /// and the architecture; `kobai evaluate` reads it back).
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
    network: NetworkArgs,
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

    /// A number for the checkpoint's settings, so that a resume with another
    /// compute mode is refused.
    fn code(self) -> f64 {
        match self {
            ComputeChoice::Layers => 0.0,
            ComputeChoice::FusedF64 => 1.0,
            ComputeChoice::FusedF32 => 2.0,
        }
    }

    /// The choice whose [`code`](Self::code) is `code`.
    fn from_code(code: f64) -> Option<Self> {
        [Self::Layers, Self::FusedF64, Self::FusedF32]
            .into_iter()
            .find(|c| c.code() == code)
    }

    /// The option's value as typed.
    fn cli_name(self) -> &'static str {
        match self {
            ComputeChoice::FusedF32 => "fused-f32",
            ComputeChoice::FusedF64 => "fused-f64",
            ComputeChoice::Layers => "layers",
        }
    }
}

/// Validates every option, loads the data, trains, draws, saves, prints.
pub fn run(args: &Args) -> Result<()> {
    let source = Source::new(args.data.as_deref());
    let defaults = match source {
        Source::Spiral => SPIRAL_DEFAULTS,
        Source::Folder(_) => MNIST_DEFAULTS,
    };
    let settings = settings(args, defaults)?;
    let spec = args.network.spec(Defaults {
        hidden: defaults.hidden,
        weight_init_std: defaults.weight_init_std,
    })?;
    if let Some(path) = &args.save {
        check_file_path("--save", path)?;
    }
    let plan = train_checkpoint::plan(&args.checkpoints)?;
    if let (Some(save), Some(plan)) = (&args.save, &plan) {
        ensure!(
            !train_checkpoint::same_file(save, plan.path()),
            "--save {} is the checkpoint file too; give the weights another name",
            save.display()
        );
    }
    if let Some((path, code)) = plan.as_ref().and_then(|p| p.resumed_setting("compute"))
        && let Some(then) = ComputeChoice::from_code(code)
        && then != args.compute
    {
        bail!(
            "{}: the checkpoint was trained with --compute {}, but this run has --compute {}; \
             resume with --compute {}",
            path.display(),
            then.cli_name(),
            args.compute.cli_name(),
            then.cli_name()
        );
    }
    let (train, test) = source.load()?;
    let train = train_data::first(train, args.train_size)?;
    ensure!(
        settings.batch_size <= train.len(),
        "--batch-size {} is larger than the {} training samples",
        settings.batch_size,
        train.len()
    );
    let classes = train.classes().max(test.classes());
    let net = spec.build(
        train.features(),
        train.image_shape(),
        classes,
        args.seed,
        args.compute.compute(),
    )?;
    let filters_before = first_filters(&net);
    let mut trainer = Trainer::new(settings.length, settings.batch_size, args.seed)?;
    trainer.sampling = settings.sampling;
    // Epoch reports computed on the second core while training goes on: the
    // same numbers (nothing here stops a run at an epoch report).
    trainer.evaluation = Evaluation::Overlapped;
    let per_epoch = trainer.iterations_per_epoch(train.len());
    let iterations = trainer.iterations(train.len());
    ensure!(
        iterations <= MAX_ITERATIONS,
        "{iterations} iterations are over the limit of {MAX_ITERATIONS}: every batch's loss is \
         kept for the learning curve and the checkpoints (8 bytes each), and that many steps \
         would take days"
    );
    if !args.no_plots {
        ensure_out_dir(&args.out)?;
    }
    let run = Run {
        source: &source,
        train: &train,
        test: &test,
        classes,
        settings: settings.clone(),
        spec: &spec,
        seed: args.seed,
        per_epoch,
        iterations,
        plan: plan.as_ref(),
        compute: args.compute,
    };
    let mut progress = TrainingProgress::new(iterations, !args.json);
    if !args.json {
        progress = progress.with_header(header(&run, &net));
    }
    let mut optimizer = settings.optimizer.build(settings.lr)?;
    // Ctrl-C or SIGTERM from here on stops after the current step and saves
    // the run: to the --checkpoint file, else to a fresh file in --out.
    let on_stop = match &plan {
        Some(plan) => plan.path().to_path_buf(),
        None => free_name(&args.out, "interrupted", ".ckpt.npz"),
    };
    let stop = StopRequest::catch()?;
    let mut observer = StopOnSignal {
        inner: &mut progress,
        request: &stop,
        folder: plan.is_none().then_some(args.out.as_path()),
    };
    let started = Instant::now();
    let (net, history) = match net {
        Net::Two(mut n) => {
            let h = train_model(
                &run,
                &trainer,
                &mut n,
                &mut *optimizer,
                &mut observer,
                &on_stop,
            );
            (Net::Two(n), h)
        }
        Net::Deep(mut n) => {
            let h = train_model(
                &run,
                &trainer,
                &mut n,
                &mut *optimizer,
                &mut observer,
                &on_stop,
            );
            (Net::Deep(n), h)
        }
        Net::Conv(mut n) => {
            let h = train_model(
                &run,
                &trainer,
                &mut n,
                &mut *optimizer,
                &mut observer,
                &on_stop,
            );
            (Net::Conv(n), h)
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    progress.finish();
    let history = history?;
    match stop.received() {
        Some(signal) if history.stopped_early => {
            return Err(Stopped {
                signal,
                message: format!(
                    "Stopped by {} after iteration {} of {iterations}; the run is saved in {}.\n\
                     To go on: {}",
                    signal.name(),
                    history.iterations,
                    on_stop.display(),
                    resume_command(&on_stop)
                ),
            }
            .into());
        }
        // The signal came during the last step: the run is whole, and the
        // file saved for the stop is not needed.
        Some(_) if run.plan.is_none() => {
            let _ = std::fs::remove_file(&on_stop);
        }
        _ => {}
    }
    drop(stop);
    // The weights first: a picture that cannot be drawn loses no training.
    if let Some(path) = &args.save {
        match &net {
            Net::Two(n) => save_npz(n, path)?,
            Net::Deep(n) | Net::Conv(n) => save_npz(n, path)?,
        }
    }
    let pictures = if args.no_plots {
        Vec::new()
    } else {
        let mut files = draw_training_curves(
            &args.out.join("training"),
            &curves_spec(&run, &net, &history),
        )?;
        if let (Some(before), Some(after)) = (filters_before, first_filters(&net)) {
            let spec = filters_spec(&run, &net, before, after);
            files.extend(draw_filters(&args.out.join("filters"), &spec)?);
        }
        files
    };
    if args.json {
        outln!(
            "{}",
            as_json(
                &run,
                &net,
                &history,
                seconds,
                &pictures,
                args.save.as_deref()
            )
        );
    } else {
        out!(
            "{}",
            summary(&history, seconds, &pictures, args.save.as_deref())
        );
    }
    Ok(())
}

/// Trains `model` as `run` says, with checkpoints if asked; a run stopped
/// by `observer` is saved (without checkpoints asked for, to `on_stop`).
fn train_model<M: Backprop>(
    run: &Run<'_>,
    trainer: &Trainer,
    model: &mut M,
    optimizer: &mut dyn Optimizer,
    observer: &mut dyn Observer,
    on_stop: &Path,
) -> Result<History> {
    let settings = checkpoint_settings(run);
    let checkpoints = match run.plan {
        Some(plan) => plan.checkpoints(run.per_epoch, &settings)?,
        None => settings
            .iter()
            .try_fold(Checkpoints::when_stopped(on_stop), |c, &(name, value)| {
                c.with_setting(name, value)
            })?,
    };
    Ok(trainer.train_with_checkpoints(
        model,
        optimizer,
        run.train,
        Some(run.test),
        observer,
        &checkpoints,
    )?)
}

/// `folder/STEM SUFFIX`, or `folder/STEM-2 SUFFIX`, `-3`, … : the first name
/// no file has yet.
fn free_name(folder: &Path, stem: &str, suffix: &str) -> PathBuf {
    (1..)
        .map(|n| match n {
            1 => folder.join(format!("{stem}{suffix}")),
            n => folder.join(format!("{stem}-{n}{suffix}")),
        })
        .find(|path| !path.exists())
        .unwrap_or_else(|| folder.join(format!("{stem}{suffix}")))
}

/// What a checkpoint records besides the network's architecture and the
/// optimizer, so that a resume with other settings is refused.
fn checkpoint_settings(run: &Run<'_>) -> Vec<(&'static str, f64)> {
    let mut settings = match run.spec.init {
        Init::Std(s) => vec![("weight_init_std", s)],
        Init::Xavier => vec![("init_xavier", 1.0)],
        Init::He => vec![("init_he", 1.0)],
    };
    settings.push(("compute", run.compute.code()));
    settings.push(("train_size", run.train.len() as f64));
    settings
}

fn settings(args: &Args, defaults: DataDefaults) -> Result<Settings> {
    let lr = match (args.lr, args.optimizer) {
        (Some(lr), _) => lr,
        (None, OptimizerName::Sgd) => defaults.lr,
        (None, other) => other.book_lr(),
    };
    let s = Settings {
        batch_size: args.batch_size.unwrap_or(defaults.batch_size),
        optimizer: args.optimizer,
        lr,
        length: match (args.iters, args.epochs) {
            (Some(n), _) => Length::Iterations(n),
            (_, Some(n)) => Length::Epochs(n),
            _ => defaults.length,
        },
        sampling: if args.shuffle {
            Sampling::Shuffled
        } else {
            Sampling::WithReplacement
        },
    };
    ensure!(s.batch_size >= 1, "--batch-size must be at least 1, got 0");
    match s.length {
        Length::Iterations(0) => bail!("--iters must be at least 1, got 0"),
        Length::Epochs(0) => bail!("--epochs must be at least 1, got 0"),
        _ => {}
    }
    ensure!(
        s.lr.is_finite() && s.lr > 0.0,
        "--lr must be a finite number above 0, got {}",
        short_number(s.lr)
    );
    Ok(s)
}

/// Everything about the run that the header, the picture and the JSON tell.
struct Run<'a> {
    source: &'a Source<'a>,
    train: &'a Dataset,
    test: &'a Dataset,
    classes: usize,
    settings: Settings,
    spec: &'a Spec,
    seed: u64,
    per_epoch: usize,
    iterations: usize,
    plan: Option<&'a Plan>,
    compute: ComputeChoice,
}

fn header(run: &Run<'_>, net: &Net) -> String {
    let s = &run.settings;
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
        "Network: {}, seed {}, backprop {} ({} kernels)",
        net.describe(run.spec),
        run.seed,
        compute_name(net.engine()),
        kobai::SimdLevel::in_use()
    );
    let sampling = match s.sampling {
        Sampling::WithReplacement => "",
        Sampling::Shuffled => ", shuffled each epoch",
    };
    let _ = writeln!(
        out,
        "Training: {} iterations ({} per epoch) of batches of {}{sampling}, {} with lr {}",
        run.iterations,
        run.per_epoch,
        s.batch_size,
        s.optimizer.label(),
        s.lr
    );
    if let Some(plan) = run.plan {
        out.push_str(&plan.describe(run.per_epoch));
    }
    out
}

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

fn curves_spec(run: &Run<'_>, net: &Net, history: &History) -> CurvesSpec {
    let title = format!(
        "{} {} on {}: {} lr {}, batch {}, seed {}",
        net.kind(),
        net.shape(run.spec),
        run.source.short(),
        run.settings.optimizer.label(),
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

/// The most filters drawn, and the largest filter side: beyond them the
/// picture would be unreadable (and its SVG huge).
const DRAWN_FILTERS: usize = 256;
const DRAWN_FILTER_SIDE: usize = 64;

/// The first convolution's filters (the first [`DRAWN_FILTERS`]), channel 1
/// of each, for the picture of the book's figure 7-24; `None` for a dense
/// network or filters too large to draw.
fn first_filters(net: &Net) -> Option<Vec<Array2<f64>>> {
    let Net::Conv(n) = net else {
        return None;
    };
    let (_, w) = n.params().into_iter().next()?;
    let w = w.view().into_dimensionality::<Ix4>().ok()?;
    let (_, _, fh, fw) = w.dim();
    if fh.max(fw) > DRAWN_FILTER_SIDE {
        return None;
    }
    Some(
        w.outer_iter()
            .take(DRAWN_FILTERS)
            .map(|filter| filter.index_axis(Axis(0), 0).to_owned())
            .collect(),
    )
}

fn filters_spec(
    run: &Run<'_>,
    net: &Net,
    before: Vec<Array2<f64>>,
    after: Vec<Array2<f64>>,
) -> FilterSpec {
    let channels = run.train.image_shape().map_or(1, |(c, _, _)| c);
    let channel = if channels > 1 {
        format!(" (channel 1 of {channels})")
    } else {
        String::new()
    };
    let shown = match run.spec.conv.map(|c| c.filters) {
        Some(total) if total > before.len() => format!(" (the first {} of {total})", before.len()),
        _ => String::new(),
    };
    FilterSpec {
        title: format!(
            "{} {} on {}: the first layer's filters{shown}{channel}",
            net.kind(),
            net.shape(run.spec),
            run.source.short()
        ),
        panels: vec![
            FilterPanel {
                title: "before training".into(),
                filters: before,
            },
            FilterPanel {
                title: format!("after {} iterations", run.iterations),
                filters: after,
            },
        ],
    }
}

fn as_json(
    run: &Run<'_>,
    net: &Net,
    history: &History,
    seconds: f64,
    pictures: &[PathBuf],
    saved: Option<&Path>,
) -> Value {
    let s = &run.settings;
    let last = history.epochs.last();
    let network = net.as_json(run.spec, run.compute.compute());
    let optimizer = s.optimizer.build(s.lr).map(|o| {
        o.hyperparameters()
            .into_iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect::<serde_json::Map<String, Value>>()
    });
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
        "network": network,
        "optimizer": {
            "name": s.optimizer.cli_name(),
            "lr": s.lr,
            "hyperparameters": optimizer.ok(),
        },
        "batch_size": s.batch_size,
        "sampling": match s.sampling {
            Sampling::WithReplacement => "with-replacement",
            Sampling::Shuffled => "shuffled",
        },
        "seed": run.seed,
        "iterations_per_epoch": run.per_epoch,
        "iterations": history.iterations,
        "epochs": history.epochs.len(),
        "final_loss": last.map(|r| r.mean_loss),
        "final_batch_loss": history.losses.last(),
        "final_train_accuracy": last.map(|r| r.train_accuracy),
        "final_test_accuracy": last.and_then(|r| r.test_accuracy),
        "seconds": seconds,
        "simd": kobai::SimdLevel::in_use().name(),
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
