//! The numerical gradient of the book's `TwoLayerNet` on a batch of 100
//! synthetic MNIST-shaped samples: the layered gradient (one forward pass, then
//! an O(batch) update per probe of W1 and b1, O(batch × classes) per probe of W2
//! and b2) against the brute force (a whole forward pass per probe).
//!
//! The brute force on 784-50-10 takes 40–50 s per call, too long for
//! criterion's ten samples, so criterion compares the two on 784-5-10 (a
//! hundredth of the brute force's work) and times the layered gradient alone on
//! 784-50-10. Set `KOBAI_BENCH_BRUTE_FORCE=1` to also time one call of each on
//! 784-50-10 (printed after criterion's results, with the speed-up and the
//! largest difference between the two).
//!
//! Run: `cargo bench -p kobai --bench numerical_gradient`

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group};
#[cfg(feature = "parallel")]
use kobai::numerical_gradient::layered_numerical_gradient_par;
use kobai::numerical_gradient::{layered_numerical_gradient, model_numerical_gradient};
use kobai::{CROSS_ENTROPY_DELTA, Targets, TwoLayerNet};
use ndarray::{Array1, Array2};
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

/// One brute-force call on 784-50-10, timed once, beside one layered call.
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
    let worst = layered
        .iter()
        .zip(brute.iter())
        .flat_map(|((_, a), (_, b))| a.iter().zip(b.iter()).map(|(p, q)| (p - q).abs()))
        .fold(0.0f64, f64::max);
    println!(
        "784-50-10 batch 100, one call each: brute force {brute_time:.2?}, layered \
         {layered_time:.2?} ({:.0}× faster); max |layered − brute force| = {worst:e}",
        brute_time.as_secs_f64() / layered_time.as_secs_f64()
    );
}

criterion_group!(benches, full_size, small_hidden);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if std::env::var_os("KOBAI_BENCH_BRUTE_FORCE").is_some() {
        brute_force_once();
    }
}
