//! `kobai check`: the book's `gradient_check.py` — backprop against the
//! numerical gradient on a small batch, per parameter tensor.

use std::path::PathBuf;

use anyhow::{Result, bail, ensure};
use kobai::data::{ImageShape, load_mnist_train};
use kobai::gradient_check::gradient_check_watched;
use kobai::gradient_check::{CHECK_STEP, RECHECK_STEP};
use kobai::nets::Compute;
use kobai::numerical_gradient::{StagedModel, layered_numerical_gradient};
use kobai::{Backprop, GradientCheck, KobaiError, Params, TensorCheck};
use ndarray::{Array1, Array2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Uniform};
use serde_json::{Value, json};

use super::network_choice::{Defaults, ModelName, Net, NetworkArgs, Spec};
use crate::interrupt::{StopRequest, Stopped};
use crate::progress::CheckProgress;

/// Options of `kobai check`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Prints the comparison of every parameter tensor (W1, b1, W2, b2 of the book's
TwoLayerNet; affine1.W, batchnorm1.gamma, ... of a deeper network) and exits
with 0 when all pass. When one fails, the report is printed all the same, one
line `error: gradient check failed …` goes to stderr, and the exit code is 1.

Without --data the batch is synthetic: features uniform in [0, 1) and labels
drawn from a ChaCha8 generator seeded with --seed, the same on every run.
Each element's numerical derivative is Richardson-extrapolated from central
differences starting at h = 1e-4 and comes with an error estimate; an element
passes when backprop is within that estimate (plus backprop's rounding).
Elements whose differences straddle ReLU's kink are differentiated again
starting at h = 1e-6 and counted as 'rechecked'.

With --directions K the check is the fast one: K directional derivatives along
random ±1 directions instead of one derivative per element; a disagreeing
direction is bisected down to the element at fault.

The network options are kobai train's: --hidden 100,100,100 --activation tanh
--batchnorm --weight-decay 0.1 --dropout 0.5 check a deep network (Dropout
with its mask fixed, BatchNorm on the batch's statistics, as in training).")]
pub struct Args {
    /// Input size [default: 784, or the data's features with --data].
    #[arg(long, value_name = "N")]
    input: Option<usize>,
    /// Output size (classes) [default: 10, or the data's classes with --data].
    #[arg(long, value_name = "N")]
    output: Option<usize>,
    /// Samples in the batch.
    #[arg(long, value_name = "N", default_value_t = 3)]
    batch: usize,
    /// Seed of the initial weights and of the synthetic batch.
    #[arg(long, value_name = "N", default_value_t = 0)]
    seed: u64,
    /// The synthetic images' channels, height and width for --model conv
    /// [default: 1x10x10, the size of the book's ch07/gradient_check.py].
    #[arg(long, value_name = "CxHxW", conflicts_with_all = ["input", "data"])]
    image: Option<String>,
    /// Take the first --batch training images of this MNIST-format folder
    /// (only train-images-idx3-ubyte and train-labels-idx1-ubyte are read).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// The fast check: compare K random directional derivatives (and bisect
    /// to the bad element) instead of every element.
    #[arg(long, value_name = "K")]
    directions: Option<usize>,
    /// Compare at most N elements of each parameter tensor: a sample drawn
    /// with --seed, for networks too large to check element by element
    /// [default: every element; 1000 with --model conv].
    #[arg(long, value_name = "N", conflicts_with = "directions")]
    elements: Option<usize>,
    /// Print the report as one JSON object, for scripts.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    network: NetworkArgs,
}

/// `kobai check`'s defaults: the book's gradient_check.py network.
const DEFAULTS: Defaults = Defaults {
    hidden: 50,
    weight_init_std: 0.01,
};

/// Validates the options, builds the network and the batch, runs the check.
pub fn run(args: &Args) -> Result<()> {
    validate(args)?;
    let spec = args.network.spec(DEFAULTS)?;
    let (x, labels, image, source) = match &args.data {
        None => {
            let image = synthetic_image(args, &spec)?;
            let input = match image {
                Some((c, h, w)) => c * h * w,
                None => args.input.unwrap_or(784),
            };
            let output = args.output.unwrap_or(10);
            let values = args.batch.saturating_mul(input);
            ensure!(
                values <= MAX_BATCH_VALUES,
                "a synthetic batch of {} samples of {input} features is {values} values, over \
                 the limit of {MAX_BATCH_VALUES} (512 MiB): the check differentiates the loss \
                 over the whole batch 8 times per parameter, so use a small batch",
                args.batch
            );
            let (x, t) = synthetic_batch(args.seed, args.batch, input, output)?;
            (
                x,
                t,
                image,
                format!(
                    "a synthetic batch of {} (features uniform in [0, 1), seed {})",
                    args.batch, args.seed
                ),
            )
        }
        Some(dir) => {
            let (x, t, image) = data_batch(args, dir)?;
            (
                x,
                t,
                image,
                format!(
                    "the first {} training images of {}",
                    args.batch,
                    dir.display()
                ),
            )
        }
    };
    let output = args.output.unwrap_or(10);
    let net = spec.build(x.ncols(), image, output, args.seed, Compute::Layers)?;
    if !args.json && args.directions.is_none() {
        // First, so that a long check shows at once what it is doing.
        outln!(
            "Gradient check: {}, seed {} on {source}",
            net.describe(&spec),
            args.seed
        );
    }
    let report = match &net {
        Net::Two(n) => check(args, n, (&x, &labels))?,
        Net::Deep(n) | Net::Conv(n) => check(args, n, (&x, &labels))?,
    };
    let Some(report) = report else {
        return Ok(());
    };
    let sizes: Vec<(String, usize)> = match &net {
        Net::Two(n) => n.params(),
        Net::Deep(n) | Net::Conv(n) => n.params(),
    }
    .into_iter()
    .map(|(name, p)| (name, p.len()))
    .collect();
    let sampled = sampled_line(&report, &sizes, args.seed);
    // A sampled check also compares every element, the fast way.
    let every = match (&sampled, &net) {
        (None, _) => None,
        (Some(_), Net::Two(n)) => Some(every_element(n, (&x, &labels))?),
        (Some(_), Net::Deep(n) | Net::Conv(n)) => Some(every_element(n, (&x, &labels))?),
    };
    if args.json {
        let mut v = as_json(args, &net, &spec, &source, &report);
        v["every_element"] = every.as_ref().map_or(Value::Null, |every| {
            every
                .iter()
                .map(|(name, diff)| json!({ "name": name, "max_abs_diff": diff }))
                .collect()
        });
        outln!("{v}");
    } else {
        outln!("{report}");
        if let Some(line) = sampled {
            outln!("{line}");
        }
        if let Some(every) = &every {
            let parts: Vec<String> = every
                .iter()
                .map(|(name, diff)| format!("{name} {diff:.3e}"))
                .collect();
            outln!(
                "Every element, by the structure-aware central difference (each layer's input \
                 reused) at the book's fixed h = 1e-4, where a quotient that straddles a ReLU or \
                 max-pool kink differs by the jump (the verdict above rechecks those): largest \
                 |diff| {}",
                parts.join(", ")
            );
        }
    }
    if !report.passed() {
        bail!("gradient check failed: {}", failures(&report));
    }
    Ok(())
}

/// The fast check (printed, `None`) or the element-by-element one.
fn check<M: Backprop + Send + Sync>(
    args: &Args,
    net: &M,
    (x, labels): (&Array2<f64>, &Array1<usize>),
) -> Result<Option<GradientCheck>> {
    if let Some(directions) = args.directions {
        super::check_fast::run(net, (x, labels), directions, args.seed, args.json)?;
        return Ok(None);
    }
    let per_tensor = args.elements.unwrap_or(match args.network.model {
        ModelName::Conv => CONV_ELEMENTS,
        ModelName::Dense => usize::MAX,
    });
    // Ctrl-C stops a long check after the elements under way (nothing is
    // written, so there is nothing to save); a second one ends it at once.
    let stop = StopRequest::catch()?;
    let progress = CheckProgress::new(&stop);
    let report = gradient_check_watched(net, x, &labels.into(), per_tensor, args.seed, &progress);
    progress.finish();
    match (report, stop.received()) {
        (Err(KobaiError::Stopped { done, total, .. }), Some(signal)) => Err(Stopped {
            signal,
            message: format!(
                "Stopped by {} after comparing {done} of {total} elements; nothing was written",
                signal.name()
            ),
        }
        .into()),
        (report, _) => Ok(Some(report?)),
    }
}

/// For every parameter, the largest difference between backprop and the
/// structure-aware central difference (the book's h, the delta-free loss),
/// over every element: what a sampled check adds about the elements it did
/// not draw.
fn every_element<M: Backprop + StagedModel>(
    net: &M,
    (x, labels): (&Array2<f64>, &Array1<usize>),
) -> Result<Vec<(String, f64)>> {
    let t = labels.into();
    let (_, analytic) = net.gradient(x, &t)?;
    let numerical = layered_numerical_gradient(net, x, &t, 0.0)?;
    Ok(numerical
        .iter()
        .filter_map(|(name, n)| {
            let a = analytic.get(name)?;
            let diff = ndarray::Zip::from(a)
                .and(n)
                .fold(0.0f64, |m, &a, &n| m.max((a - n).abs()));
            Some((name.to_string(), diff))
        })
        .collect())
}

/// The most values in a synthetic batch (`--batch` × features).
const MAX_BATCH_VALUES: usize = 1 << 26;

/// The most `--directions`: more cannot make the check surer.
const MAX_DIRECTIONS: usize = 1000;

/// `--model conv`'s default sample per tensor: the book's SimpleConvNet has
/// 432 000 weights in one tensor, 8 loss evaluations each.
const CONV_ELEMENTS: usize = 1000;

/// A line naming the tensors that were sampled, if any.
fn sampled_line(report: &GradientCheck, sizes: &[(String, usize)], seed: u64) -> Option<String> {
    let parts: Vec<String> = report
        .tensors
        .iter()
        .filter_map(|t| {
            let total = sizes.iter().find(|(n, _)| *n == t.name)?.1;
            (t.checked < total).then(|| format!("{} {} of {total}", t.name, t.checked))
        })
        .collect();
    (!parts.is_empty()).then(|| {
        format!(
            "Sampled with seed {seed} (--elements): {}; the other tensors in full",
            parts.join(", ")
        )
    })
}

fn validate(args: &Args) -> Result<()> {
    for (name, value) in [
        ("--input", args.input),
        ("--output", args.output),
        ("--batch", Some(args.batch)),
    ] {
        ensure!(value != Some(0), "{name} must be at least 1, got 0");
    }
    ensure!(
        args.directions != Some(0),
        "--directions must be at least 1, got 0"
    );
    if let Some(k) = args.directions {
        ensure!(
            k <= MAX_DIRECTIONS,
            "--directions {k} is over the limit of {MAX_DIRECTIONS}: each direction costs a \
             numerical derivative, and {MAX_DIRECTIONS} already miss a wrong gradient with \
             probability at most 2^-{MAX_DIRECTIONS}"
        );
    }
    ensure!(
        args.elements != Some(0),
        "--elements must be at least 1, got 0"
    );
    if let Some(dir) = &args.data {
        ensure!(
            dir.is_dir(),
            "the data folder {} does not exist or is not a folder",
            dir.display()
        );
    }
    Ok(())
}

/// The shape of the synthetic images: `--image`, or 1x10x10 for `--model
/// conv`; `None` (plain features) for a dense network.
fn synthetic_image(args: &Args, spec: &Spec) -> Result<Option<ImageShape>> {
    let Some(text) = &args.image else {
        return Ok(spec.conv.map(|_| (1, 10, 10)));
    };
    ensure!(
        spec.conv.is_some(),
        "--image sets the synthetic images of --model conv; a dense network takes --input N"
    );
    let sizes: Vec<usize> = text
        .split(['x', 'X'])
        .map(|p| {
            p.trim()
                .parse::<usize>()
                .ok()
                .filter(|&n| (1..=4096).contains(&n))
        })
        .collect::<Option<Vec<_>>>()
        .unwrap_or_default();
    match sizes.as_slice() {
        &[c, h, w] => Ok(Some((c, h, w))),
        _ => bail!(
            "--image {text:?} is not CxHxW (channels, height, width, each 1 to 4096), e.g. 1x28x28"
        ),
    }
}

/// The first `--batch` training images of an MNIST-format folder, and
/// their image shape.
fn data_batch(
    args: &Args,
    dir: &std::path::Path,
) -> Result<(Array2<f64>, Array1<usize>, Option<ImageShape>)> {
    let train = load_mnist_train(dir)?;
    if let Some(input) = args.input {
        ensure!(
            input == train.features(),
            "--input {input} does not match the {} features of the images in {}",
            train.features(),
            dir.display()
        );
    }
    if let Some(output) = args.output {
        ensure!(
            output >= train.classes(),
            "--output {output} is smaller than the {} classes of the data in {}",
            train.classes(),
            dir.display()
        );
    }
    ensure!(
        args.batch <= train.len(),
        "--batch {} is larger than the {} training images in {}",
        args.batch,
        train.len(),
        dir.display()
    );
    let first: Vec<usize> = (0..args.batch).collect();
    let (x, t) = train.batch(&first)?;
    Ok((x, t, train.image_shape()))
}

/// `rows` samples of `features` values in `[0, 1)` and labels below `classes`.
fn synthetic_batch(
    seed: u64,
    rows: usize,
    features: usize,
    classes: usize,
) -> Result<(Array2<f64>, Array1<usize>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pixel = Uniform::new(0.0, 1.0)?;
    let label = Uniform::new(0, classes)?;
    let x = Array2::from_shape_simple_fn((rows, features), || pixel.sample(&mut rng));
    let t = Array1::from_shape_simple_fn(rows, || label.sample(&mut rng));
    Ok((x, t))
}

/// The failing tensors and their worst relative errors, for the error line.
fn failures(report: &GradientCheck) -> String {
    let failed: Vec<String> = report
        .tensors
        .iter()
        .filter(|t| !t.passed)
        .map(|t| {
            format!(
                "{} at {:?} (|diff| {:.3e}, allowed {:.3e})",
                t.name,
                t.worst_index,
                (t.analytic_at_worst - t.numerical_at_worst).abs(),
                t.allowed_at_worst
            )
        })
        .collect();
    failed.join(", ")
}

fn as_json(args: &Args, net: &Net, spec: &Spec, source: &str, r: &GradientCheck) -> Value {
    let mut network = net.as_json(spec, Compute::Layers);
    network["seed"] = json!(args.seed);
    json!({
        "network": network,
        "batch": args.batch,
        "data": source,
        "passed": r.passed(),
        "criterion": { "kind": "error estimate", "check_step": CHECK_STEP, "recheck_step": RECHECK_STEP },
        "tensors": r.tensors.iter().map(tensor_json).collect::<Vec<_>>(),
    })
}

fn tensor_json(t: &TensorCheck) -> Value {
    json!({
        "name": t.name,
        "checked": t.checked,
        "max_abs_diff": t.max_abs_diff,
        "mean_abs_diff": t.mean_abs_diff,
        "max_rel_error": t.max_rel_error,
        "worst_index": t.worst_index,
        "analytic_at_worst": t.analytic_at_worst,
        "numerical_at_worst": t.numerical_at_worst,
        "allowed_at_worst": t.allowed_at_worst,
        "rechecked": t.rechecked,
        "unreliable": t.unreliable,
        "passed": t.passed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_batch_is_seeded_and_in_range() -> Result<()> {
        let (x, t) = synthetic_batch(7, 4, 5, 3)?;
        assert_eq!((x.dim(), t.len()), ((4, 5), 4));
        assert!(x.iter().all(|v| (0.0..1.0).contains(v)));
        assert!(t.iter().all(|&l| l < 3));
        assert_eq!(synthetic_batch(7, 4, 5, 3)?, (x.clone(), t));
        assert_ne!(synthetic_batch(8, 4, 5, 3)?.0, x);
        Ok(())
    }
}
