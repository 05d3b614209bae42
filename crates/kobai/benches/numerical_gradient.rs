//! The numerical gradient on a batch of 100 synthetic MNIST-shaped samples:
//! the structure-aware (layered) gradient — one forward pass, then each probe
//! recomputes only what its parameter element changes — against the brute
//! force (a whole forward pass per probe).
//!
//! - The book's `TwoLayerNet` 784-50-10: the brute force takes 40–50 s per
//!   call, too long for criterion's ten samples, so criterion compares the two
//!   on 784-5-10 (a hundredth of the brute force's work) and times the layered
//!   gradient alone on 784-50-10.
//! - `Network`s (`MultiLayerNet`, ReLU, He weights): 784-50-10, 784-50-50-50-10
//!   and 784-100-100-100-10, on inputs about half zeros like MNIST. Criterion
//!   times the layered gradient; after its results, the speed-up over the
//!   brute force is printed, the brute force **measured on one parameter
//!   tensor and extrapolated**: every probe of the brute force runs the same
//!   whole forward pass whatever element it perturbs, so its time per element,
//!   measured by `model_numerical_gradient` itself on the last weight matrix
//!   (500 or 1000 elements), times the number of parameters is its time for
//!   the whole gradient (to within the cost of reading and writing one
//!   element). The same tensor, and two rows of the first weight matrix, are
//!   compared with the layered gradient's.
//!   A bench filter (`-- 784-50-50`) also selects which of these run.
//!
//! Set `KOBAI_BENCH_BRUTE_FORCE=1` to also time one whole brute-force call on
//! the 784-50-10 `TwoLayerNet` and `Network` (about a minute each), printed
//! with the speed-up and the largest difference between the two.
//!
//! Run: `cargo bench -p kobai --bench numerical_gradient [-- FILTER]`

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group};
use kobai::nets::{MultiLayerNet, Network};
#[cfg(feature = "parallel")]
use kobai::numerical_gradient::layered_numerical_gradient_par;
use kobai::numerical_gradient::{layered_numerical_gradient, model_numerical_gradient};
use kobai::{CROSS_ENTROPY_DELTA, Grads, Model, Params, Result, Targets, TwoLayerNet};
use ndarray::{Array1, Array2, ArrayRef2, ArrayViewD, ArrayViewMutD, Axis, Slice};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Uniform};

/// `n` MNIST-shaped samples: 784 values in [0, 1], labels 0..10 (as
/// `benches/training.rs` builds them).
fn synthetic(n: usize) -> (Array2<f64>, Array1<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let pixel = Uniform::new(0.0, 1.0).expect("valid range");
    let images = Array2::from_shape_fn((n, 784), |_| pixel.sample(&mut rng));
    let labels = Array1::from_shape_fn(n, |i| i % 10);
    (images, labels)
}

fn book_net(hidden: usize) -> TwoLayerNet {
    TwoLayerNet::new(784, hidden, 10, 0.01, 0).expect("valid sizes")
}

fn full_size(c: &mut Criterion) {
    let (x, labels) = synthetic(100);
    let t = Targets::from(&labels);
    let net = book_net(50);
    let mut group = c.benchmark_group("784-50-10 batch 100");
    group.sample_size(10);
    group.bench_function("layered_numerical_gradient", |b| {
        b.iter(|| layered_numerical_gradient(&net, black_box(&x), &t, CROSS_ENTROPY_DELTA))
    });
    #[cfg(feature = "parallel")]
    group.bench_function("layered_numerical_gradient_par", |b| {
        b.iter(|| layered_numerical_gradient_par(&net, black_box(&x), &t, CROSS_ENTROPY_DELTA))
    });
    group.finish();
}

fn small_hidden(c: &mut Criterion) {
    let (x, labels) = synthetic(100);
    let t = Targets::from(&labels);
    let net = book_net(5);
    let mut group = c.benchmark_group("784-5-10 batch 100");
    group.sample_size(10);
    group.bench_function("layered_numerical_gradient", |b| {
        b.iter(|| layered_numerical_gradient(&net, black_box(&x), &t, CROSS_ENTROPY_DELTA))
    });
    group.bench_function("model_numerical_gradient (brute force)", |b| {
        b.iter(|| model_numerical_gradient(&net, black_box(&x), &t, CROSS_ENTROPY_DELTA))
    });
    group.finish();
}

/// `n` MNIST-like samples: 784 pixels, about half of them 0 and the rest
/// uniform in (0, 1] (as `benches/training.rs` builds them); labels 0..10.
fn mnist_like(n: usize) -> (Array2<f64>, Array1<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let pixel = Uniform::new(0.0, 1.0).expect("valid range");
    let images = Array2::from_shape_fn((n, 784), |_| {
        let v: f64 = pixel.sample(&mut rng);
        if v < 0.5 { 0.0 } else { 2.0 * v - 1.0 }
    });
    let labels = Array1::from_shape_fn(n, |i| i % 10);
    (images, labels)
}

/// The `Network`s compared with the brute force.
const NETWORKS: [&[usize]; 3] = [&[50], &[50, 50, 50], &[100, 100, 100]];

/// A ReLU `MultiLayerNet` 784-`hidden`-10 with He weights.
fn network(hidden: &[usize]) -> Network {
    MultiLayerNet::new(784, hidden, 10)
        .seed(0)
        .build()
        .expect("valid sizes")
}

fn label(hidden: &[usize]) -> String {
    let sizes: Vec<String> = hidden.iter().map(ToString::to_string).collect();
    format!("Network 784-{}-10 batch 100", sizes.join("-"))
}

fn networks(c: &mut Criterion) {
    let (x, labels) = mnist_like(100);
    let t = Targets::from(&labels);
    for hidden in NETWORKS {
        let net = network(hidden);
        let mut group = c.benchmark_group(label(hidden));
        group.sample_size(10);
        group.bench_function("layered_numerical_gradient", |b| {
            b.iter(|| layered_numerical_gradient(&net, black_box(&x), &t, CROSS_ENTROPY_DELTA))
        });
        group.finish();
    }
}

/// A network seen through rows `rows` of its parameter `k` only: the brute
/// force on it perturbs those elements and, for each, runs the whole network.
#[derive(Clone)]
struct Block {
    net: Network,
    k: usize,
    rows: std::ops::Range<usize>,
}

impl Params for Block {
    fn params(&self) -> Vec<(String, ArrayViewD<'_, f64>)> {
        let rows = Slice::from(self.rows.clone());
        let (name, p) = self.net.params().swap_remove(self.k);
        vec![(name, p.slice_axis_move(Axis(0), rows))]
    }

    fn params_mut(&mut self) -> Vec<(String, ArrayViewMutD<'_, f64>)> {
        let rows = Slice::from(self.rows.clone());
        let (name, p) = self.net.params_mut().swap_remove(self.k);
        vec![(name, p.slice_axis_move(Axis(0), rows))]
    }
}

impl Model for Block {
    fn predict(&self, x: &ArrayRef2<f64>) -> Result<Array2<f64>> {
        self.net.predict(x)
    }

    fn loss_with_delta(&self, x: &ArrayRef2<f64>, t: &Targets<'_>, delta: f64) -> Result<f64> {
        self.net.loss_with_delta(x, t, delta)
    }
}

/// The fastest of three calls, and its result.
fn fastest(mut f: impl FnMut() -> Grads) -> (f64, Grads) {
    let mut best = f64::INFINITY;
    let mut result = Grads::default();
    for _ in 0..3 {
        let started = Instant::now();
        result = f();
        best = best.min(started.elapsed().as_secs_f64());
    }
    (best, result)
}

/// The largest |a − b| over two gradients of the same tensors.
fn max_difference<'a>(
    a: impl Iterator<Item = &'a ndarray::ArrayD<f64>>,
    b: impl Iterator<Item = &'a ndarray::ArrayD<f64>>,
) -> f64 {
    a.zip(b)
        .flat_map(|(a, b)| a.iter().zip(b.iter()).map(|(p, q)| (p - q).abs()))
        .fold(0.0f64, f64::max)
}

/// The speed-up over the brute force, its time extrapolated from the last
/// weight matrix (see the file's documentation).
fn speed_ups(filter: Option<&str>) {
    let (x, labels) = mnist_like(100);
    let t = Targets::from(&labels);
    for hidden in NETWORKS {
        let name = label(hidden);
        if filter.is_some_and(|f| !name.contains(f)) {
            continue;
        }
        let net = network(hidden);
        let (layered_time, layered) = fastest(|| {
            layered_numerical_gradient(&net, &x, &t, CROSS_ENTROPY_DELTA).expect("valid")
        });
        let params = net.param_count();
        // The last weight matrix, whole: the brute force's time per element.
        let k = net.params().len() - 2;
        let rows = 0..net.params()[k].1.shape()[0];
        let last = Block {
            net: net.clone(),
            k,
            rows,
        };
        let started = Instant::now();
        let brute = model_numerical_gradient(&last, &x, &t, CROSS_ENTROPY_DELTA).expect("valid");
        let brute_tensor = started.elapsed().as_secs_f64();
        let (tensor, values) = brute.iter().next().expect("one tensor");
        let elements = values.len();
        let per_element = brute_tensor / elements as f64;
        let brute_time = per_element * params as f64;
        let worst_last = max_difference(std::iter::once(&layered[tensor]), std::iter::once(values));
        // Two rows of the first weight matrix (pixels 400 and 401): the
        // parameters that make up most of the gradient, checked too.
        let first = Block {
            net: net.clone(),
            k: 0,
            rows: 400..402,
        };
        let brute = model_numerical_gradient(&first, &x, &t, CROSS_ENTROPY_DELTA).expect("valid");
        let (name_first, values) = brute.iter().next().expect("one tensor");
        let layered_first = layered[name_first].slice_axis(Axis(0), Slice::from(400..402));
        let worst_first = max_difference(
            std::iter::once(&layered_first.to_owned()),
            std::iter::once(values),
        );
        println!(
            "{name}: layered {layered_time:.3} s; brute force {:.0} µs per element × {params} \
             = {brute_time:.0} s (measured on {tensor}, {} elements, {brute_tensor:.1} s): \
             {:.0}× faster; max |layered − brute force| = {worst_last:.1e} on {tensor}, \
             {worst_first:.1e} on {name_first}[400..402, :]",
            per_element * 1e6,
            elements,
            brute_time / layered_time,
        );
    }
}

/// One brute-force call on 784-50-10 (TwoLayerNet and Network), timed once,
/// beside one layered call.
fn brute_force_once() {
    let (x, labels) = synthetic(100);
    let t = Targets::from(&labels);
    let net = book_net(50);
    let started = Instant::now();
    let layered = layered_numerical_gradient(&net, &x, &t, CROSS_ENTROPY_DELTA).expect("valid");
    let layered_time = started.elapsed();
    let started = Instant::now();
    let brute = model_numerical_gradient(&net, &x, &t, CROSS_ENTROPY_DELTA).expect("valid");
    let brute_time = started.elapsed();
    let worst = max_difference(layered.iter().map(|(_, a)| a), brute.iter().map(|(_, b)| b));
    println!(
        "TwoLayerNet 784-50-10 batch 100, one call each: brute force {brute_time:.2?}, layered \
         {layered_time:.2?} ({:.0}× faster); max |layered − brute force| = {worst:e}",
        brute_time.as_secs_f64() / layered_time.as_secs_f64()
    );
    let (x, labels) = mnist_like(100);
    let t = Targets::from(&labels);
    let net = network(&[50]);
    let started = Instant::now();
    let layered = layered_numerical_gradient(&net, &x, &t, CROSS_ENTROPY_DELTA).expect("valid");
    let layered_time = started.elapsed();
    let started = Instant::now();
    let brute = model_numerical_gradient(&net, &x, &t, CROSS_ENTROPY_DELTA).expect("valid");
    let brute_time = started.elapsed();
    let worst = max_difference(layered.iter().map(|(_, a)| a), brute.iter().map(|(_, b)| b));
    println!(
        "Network 784-50-10 batch 100, one call each: brute force {brute_time:.2?}, layered \
         {layered_time:.2?} ({:.0}× faster); max |layered − brute force| = {worst:e}",
        brute_time.as_secs_f64() / layered_time.as_secs_f64()
    );
}

criterion_group!(benches, full_size, small_hidden, networks);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    speed_ups(filter.as_deref());
    if std::env::var_os("KOBAI_BENCH_BRUTE_FORCE").is_some() {
        brute_force_once();
    }
}
