//! kobai's side of `bench/side_by_side.py`: the same work as the NumPy and
//! candle programs, timed with `std::time::Instant`, each measurement printed
//! as one JSON line on stdout:
//!
//! ```text
//! {"item": ..., "impl": "kobai", "median_s": ..., "runs": ..., "extra": {...}}
//! ```
//!
//! Subcommands: `step`, `epoch`, `numgrad-brute`, `numgrad-structured`,
//! `sumsq N [N ...]`. `BENCH_QUICK=1` in the environment cuts the repetitions;
//! `FASHION_MNIST_DIR` names the data folder
//! (default `/usr/share/datasets/fashion-mnist`).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use kobai::nets::Compute;
use kobai::numerical_gradient::{
    layered_numerical_gradient_par, model_numerical_gradient, model_numerical_gradient_par,
};
use kobai::{
    Backprop, Batches, CROSS_ENTROPY_DELTA, Dataset, Grads, Params, Sgd, Targets, TwoLayerNet,
    load_mnist_dir, numerical_gradient, step,
};
use ndarray::{Array1, Array2, ArrayRef1};
use serde_json::{Value, json};

/// The row name: `kobai` for the fused f32 engine (the default), or
/// `kobai-layers` for the book's f64 layers (`KOBAI_COMPUTE=layers`).
fn implementation() -> &'static str {
    match compute() {
        Compute::Layers => "kobai-layers",
        Compute::FusedF64 => "kobai-fused-f64",
        Compute::FusedF32 => "kobai",
    }
}

/// `KOBAI_COMPUTE`: `layers`, `fused-f64` or `fused-f32` (the default).
fn compute() -> Compute {
    match std::env::var("KOBAI_COMPUTE").as_deref() {
        Ok("layers") => Compute::Layers,
        Ok("fused-f64") => Compute::FusedF64,
        _ => Compute::FusedF32,
    }
}
const SEED: u64 = 0;
const BATCH: usize = 100;
const LR: f64 = 0.1;

type AnyResult<T> = Result<T, Box<dyn std::error::Error>>;

// ---- the two places to change when the training engine changes ----------

/// The book's 784-50-10 ReLU network, weights 0.01 · N(0, 1), backprop as
/// `KOBAI_COMPUTE` says.
fn net() -> TwoLayerNet {
    TwoLayerNet::new(784, 50, 10, 0.01, SEED)
        .expect("valid sizes")
        .with_compute(compute())
}

/// One training step: the backprop gradient of the loss on `(x, t)`, then
/// SGD. Returns the loss of the gradient's forward pass.
fn train_step(net: &mut TwoLayerNet, sgd: &mut Sgd, x: &Array2<f64>, t: &Array1<usize>) -> f64 {
    let (loss, grads) = net.gradient(x, &Targets::from(t)).expect("valid batch");
    step(sgd, net, &grads).expect("matching grads");
    loss
}

// ---------------------------------------------------------------------------

fn quick() -> bool {
    std::env::var("BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
}

fn data_dir() -> PathBuf {
    std::env::var_os("FASHION_MNIST_DIR")
        .map_or_else(|| "/usr/share/datasets/fashion-mnist".into(), PathBuf::from)
}

fn load() -> AnyResult<(Dataset, Dataset)> {
    let dir = data_dir();
    load_mnist_dir(&dir)
        .map_err(|e| format!("loading Fashion-MNIST from {}: {e}", dir.display()).into())
}

/// The first `BATCH` training rows, the fixed batch of `step` and the numerical gradients.
fn fixed_batch(train: &Dataset) -> AnyResult<(Array2<f64>, Array1<usize>)> {
    let indices: Vec<usize> = (0..BATCH).collect();
    Ok(train.batch(&indices)?)
}

fn median(times: &[f64]) -> f64 {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

fn emit_as(implementation: &str, item: &str, times: &[f64], extra: Value) {
    println!(
        "{}",
        json!({"item": item, "impl": implementation, "median_s": median(times), "runs": times.len(), "extra": extra})
    );
}

fn emit(item: &str, times: &[f64], extra: Value) {
    emit_as(implementation(), item, times, extra);
}

fn time<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let start = Instant::now();
    let out = f();
    (start.elapsed().as_secs_f64(), out)
}

fn step_cmd(reps: Option<usize>) -> AnyResult<()> {
    let (train, _) = load()?;
    let (x, t) = fixed_batch(&train)?;
    let mut net = net();
    let mut sgd = Sgd::new(LR)?;
    let reps = reps.unwrap_or(if quick() { 50 } else { 500 });
    for _ in 0..(if quick() { 5 } else { 20 }) {
        train_step(&mut net, &mut sgd, &x, &t);
    }
    let mut loss = 0.0;
    let times: Vec<f64> = (0..reps)
        .map(|_| {
            let (s, l) = time(|| train_step(&mut net, &mut sgd, black_box(&x), &t));
            loss = l;
            s
        })
        .collect();
    emit(
        "train_step",
        &times,
        json!({"batch": BATCH, "loss_last": loss}),
    );
    Ok(())
}

fn epoch_cmd(iters: usize) -> AnyResult<()> {
    let (train, test) = load()?;
    let mut net = net();
    let mut sgd = Sgd::new(LR)?;
    let mut batches = Batches::with_replacement(train.len(), BATCH, SEED)?;
    let mut loss = f64::NAN;
    let start = Instant::now();
    for _ in 0..iters {
        // As kobai's Trainer does: the model reads the batch from the dataset.
        let (batch_loss, grads) = net.batch_gradient(&train, &batches.next_batch())?;
        step(&mut sgd, &mut net, &grads)?;
        loss = batch_loss;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let accuracy = kobai::train::accuracy(&net, &test)?;
    emit(
        "train_epoch",
        &[elapsed],
        json!({"iterations": iters, "test_accuracy": accuracy, "train_loss_last": loss}),
    );
    Ok(())
}

/// The largest |numerical − backprop| over all parameters.
fn max_abs_diff(numerical: &Grads, backprop: &Grads) -> f64 {
    numerical
        .iter()
        .zip(backprop.iter())
        .flat_map(|((_, a), (_, b))| {
            a.iter()
                .zip(b.iter())
                .map(|(p, q)| (p - q).abs())
                .collect::<Vec<_>>()
        })
        .fold(0.0, f64::max)
}

fn param_count(net: &TwoLayerNet) -> usize {
    net.params().iter().map(|(_, p)| p.len()).sum()
}

/// A numerical gradient of the net's loss on a batch.
type NumGrad = fn(&TwoLayerNet, &Array2<f64>, &Targets<'_>) -> kobai::Result<Grads>;

/// The book's brute force, `model_numerical_gradient` (serial, as NumPy's
/// loop is), then the same on all cores (`model_numerical_gradient_par`,
/// same bits) as impl "kobai-par" unless `serial_only`.
fn numgrad_brute_cmd(runs: Option<usize>, serial_only: bool) -> AnyResult<()> {
    let (train, _) = load()?;
    let (x, t) = fixed_batch(&train)?;
    let targets = Targets::from(&t);
    let net = net();
    let (_, backprop) = net.gradient(&x, &targets)?;
    let params = param_count(&net);
    let runs = runs.unwrap_or(1);
    let mut variants: Vec<(&str, NumGrad)> = vec![(implementation(), |n, x, t| {
        model_numerical_gradient(n, x, t, CROSS_ENTROPY_DELTA)
    })];
    if !serial_only {
        variants.push(("kobai-par", |n, x, t| {
            model_numerical_gradient_par(n, x, t, CROSS_ENTROPY_DELTA)
        }));
    }
    for (name, gradient) in variants {
        let mut diff = 0.0;
        let mut times = Vec::new();
        for _ in 0..runs {
            let (s, grads) = time(|| gradient(&net, &x, &targets));
            diff = max_abs_diff(&grads?, &backprop);
            times.push(s);
        }
        emit_as(
            name,
            "numgrad_bruteforce",
            &times,
            json!({"params": params, "forward_passes": 2 * params, "max_abs_diff_vs_backprop": diff}),
        );
    }
    Ok(())
}

fn numgrad_structured_cmd(reps: Option<usize>) -> AnyResult<()> {
    let (train, _) = load()?;
    let (x, t) = fixed_batch(&train)?;
    let targets = Targets::from(&t);
    let net = net();
    let (_, backprop) = net.gradient(&x, &targets)?;
    let reps = reps.unwrap_or(if quick() { 3 } else { 7 });
    let mut diff = 0.0;
    let mut times = Vec::new();
    for _ in 0..reps {
        let (s, grads) =
            time(|| layered_numerical_gradient_par(&net, &x, &targets, CROSS_ENTROPY_DELTA));
        diff = max_abs_diff(&grads?, &backprop);
        times.push(s);
    }
    emit(
        "numgrad_structured",
        &times,
        json!({"params": param_count(&net), "method": "layered_numerical_gradient_par", "max_abs_diff_vs_backprop": diff}),
    );
    Ok(())
}

/// The user's function of the `sumsq` items: f(x) = Σ x².
/// Σx² as an ndarray user writes it: `x · x` (ndarray's dot sums in
/// several lanes, like NumPy's pairwise `np.sum`; a plain `iter().sum()`
/// adds one element after the other and cannot use SIMD).
fn sumsq(x: &ArrayRef1<f64>) -> f64 {
    x.dot(x)
}

/// Per-call times of `f(x)`: each sample times a loop of `k` calls, `k`
/// doubled until a sample takes `target`.
fn per_call_times(
    x: &Array1<f64>,
    samples: usize,
    target: Duration,
    f: impl Fn(&Array1<f64>) -> f64,
) -> (Vec<f64>, usize) {
    let run = |k: usize| {
        let start = Instant::now();
        for _ in 0..k {
            black_box(f(black_box(x)));
        }
        start.elapsed()
    };
    let mut k = 1;
    while run(k) < target && k < 1 << 30 {
        k *= 2;
    }
    let times = (0..samples)
        .map(|_| run(k).as_secs_f64() / k as f64)
        .collect();
    (times, k)
}

/// The largest n whose `sumsq_probes` item is timed: its 2n copies of x
/// take 2n² elements, a fair way to probe only a small x.
const PROBES_UP_TO: usize = 16;

/// A numerical gradient of f stripped to its calls: 2n calls of f, each on
/// its own copy of x with one element moved by ±h (the book's probe points,
/// in its order), all copies written just before the calls — and nothing
/// else: no checks, no result, no restoring.
fn probe_calls(n: usize) -> impl Fn(&Array1<f64>) -> f64 {
    let probes = std::cell::RefCell::new(vec![0.0; 2 * n * n]);
    move |x| {
        let mut probes = probes.borrow_mut();
        let values = x.as_slice().expect("a fresh Array1 is contiguous");
        for (c, row) in probes.chunks_exact_mut(n).enumerate() {
            row.copy_from_slice(values);
            let i = c / 2;
            row[i] = if c % 2 == 0 {
                values[i] + 1e-4
            } else {
                values[i] - 1e-4
            };
        }
        let mut last = 0.0;
        for row in probes.chunks_exact(n) {
            last = black_box(sumsq(&ndarray::ArrayView1::from(row)));
        }
        last
    }
}

fn sumsq_cmd(ns: &[usize]) -> AnyResult<()> {
    let q = quick();
    for &n in ns {
        let x = Array1::from_shape_fn(n, |i| i as f64 / n as f64);
        numerical_gradient(|x: &ArrayRef1<f64>| sumsq(x), &x)?;
        let target = Duration::from_millis(if q { 2 } else { 10 });
        // Timed as the calls are: loops of k gradients, so that the clock's
        // own cost (tens of ns) is not counted against a 20-call gradient.
        let (grad_times, _) = per_call_times(&x, if q { 11 } else { 51 }, target, |x| {
            numerical_gradient(|x: &ArrayRef1<f64>| sumsq(x), x)
                .map_or(f64::NAN, |g| g.first().copied().unwrap_or(0.0))
        });
        let (call_times, k) = per_call_times(&x, if q { 11 } else { 51 }, target, |x| sumsq(x));
        emit(
            &format!("sumsq_grad_n{n}"),
            &grad_times,
            json!({"n": n, "calls": 2 * n}),
        );
        if n <= PROBES_UP_TO {
            let (probe_times, _) =
                per_call_times(&x, if q { 11 } else { 51 }, target, probe_calls(n));
            emit(
                &format!("sumsq_probes_n{n}"),
                &probe_times,
                json!({"n": n, "calls": 2 * n}),
            );
        }
        emit(
            &format!("sumsq_call_n{n}"),
            &call_times,
            json!({"n": n, "calls_per_sample": k}),
        );
    }
    Ok(())
}

const USAGE: &str = "usage: kobai-bench step [--reps N] | epoch [--iters N] | numgrad-brute [--runs N] [--serial] \
                     | numgrad-structured [--reps N] | sumsq [N ...]";

/// The value after `--flag`, if given.
fn flag(args: &[String], name: &str) -> AnyResult<Option<usize>> {
    match args.iter().position(|a| a == name) {
        None => Ok(None),
        Some(i) => {
            let value = args
                .get(i + 1)
                .ok_or_else(|| format!("{name} needs a value"))?;
            Ok(Some(
                value.parse().map_err(|e| format!("{name} {value}: {e}"))?,
            ))
        }
    }
}

fn main() -> AnyResult<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or_default();
    match args.first().map(String::as_str) {
        Some("step") => step_cmd(flag(rest, "--reps")?),
        Some("epoch") => epoch_cmd(flag(rest, "--iters")?.unwrap_or(600)),
        Some("numgrad-brute") => {
            numgrad_brute_cmd(flag(rest, "--runs")?, rest.iter().any(|a| a == "--serial"))
        }
        Some("numgrad-structured") => numgrad_structured_cmd(flag(rest, "--reps")?),
        Some("sumsq") => {
            let ns = if rest.is_empty() {
                vec![10, 1000, 40_000]
            } else {
                rest.iter()
                    .map(|a| a.parse())
                    .collect::<Result<Vec<usize>, _>>()?
            };
            sumsq_cmd(&ns)
        }
        _ => Err(USAGE.into()),
    }
}
