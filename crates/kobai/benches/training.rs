//! One training step and one epoch of the book's 784-50-10 network, batch 100,
//! on synthetic MNIST-shaped data (so the benchmark needs no download); one
//! step of a deeper `MultiLayerNet` (784-100-100-100-10), and the 784-50-10
//! step as a `Network` against `TwoLayerNet`; one step of the book's
//! `SimpleConvNet` (conv 30×5×5, pool 2, 100 hidden) with Adam, and its
//! forward pass alone.
//!
//! Run: `cargo bench -p kobai --bench training`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kobai::data::{Batches, Dataset};
use kobai::layers::Mode;
use kobai::nets::{Compute, Init, MultiLayerNet, SimpleConvNet};
use kobai::train::{Length, Trainer};
use kobai::{Adam, Backprop, Model, Params, Sgd, Targets, TwoLayerNet, step};
use ndarray::{Array1, Array2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Uniform};

/// `n` MNIST-shaped samples: 784 values in [0, 1], half of them 0 (Fashion-MNIST
/// has 50.2 % zero pixels), labels 0..10.
fn synthetic(n: usize) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let pixel = Uniform::new(0.0, 1.0).expect("valid range");
    let images = Array2::from_shape_fn((n, 784), |_| {
        let v: f64 = pixel.sample(&mut rng);
        if v < 0.5 { 0.0 } else { 2.0 * v - 1.0 }
    });
    let labels = Array1::from_shape_fn(n, |i| i % 10);
    Dataset::new(images, labels, 10).expect("valid dataset")
}

fn one_step(c: &mut Criterion) {
    let data = synthetic(1000);
    let mut batches = Batches::with_replacement(data.len(), 100, 0).expect("valid batches");
    let (x, t) = data.batch(&batches.next_batch()).expect("valid batch");
    let mut group = c.benchmark_group("train step 784-50-10 batch 100 (gradient + SGD)");
    for compute in [Compute::Layers, Compute::FusedF64, Compute::FusedF32] {
        let mut net = TwoLayerNet::new(784, 50, 10, 0.01, 0)
            .expect("valid sizes")
            .with_compute(compute);
        let mut sgd = Sgd::new(0.1).expect("valid lr");
        group.bench_function(format!("{compute:?}"), |b| {
            b.iter(|| {
                let (loss, grads) = net.gradient(&x, &Targets::from(&t)).expect("valid");
                step(&mut sgd, &mut net, &grads).expect("matching grads");
                black_box(loss)
            })
        });
    }
    group.finish();
}

/// One gradient + SGD step of `net` on `(x, t)`, timed as `name` in `group`.
fn bench_step<N: Backprop + Params>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    mut net: N,
    (x, t): (&Array2<f64>, &Array1<usize>),
) {
    let mut sgd = Sgd::new(0.1).expect("valid lr");
    group.bench_function(name, |b| {
        b.iter(|| {
            let (loss, grads) = net.gradient(x, &Targets::from(t)).expect("valid");
            step(&mut sgd, &mut net, &grads).expect("matching grads");
            black_box(loss)
        })
    });
}

fn deep_step(c: &mut Criterion) {
    let data = synthetic(1000);
    let mut batches = Batches::with_replacement(data.len(), 100, 0).expect("valid batches");
    let (x, t) = data.batch(&batches.next_batch()).expect("valid batch");
    let mut group = c.benchmark_group("train step 784-100-100-100-10 batch 100 (gradient + SGD)");
    for compute in [Compute::Layers, Compute::FusedF64, Compute::FusedF32] {
        let net = MultiLayerNet::new(784, &[100, 100, 100], 10)
            .build()
            .expect("valid sizes")
            .with_compute(compute);
        bench_step(&mut group, &format!("{compute:?}"), net, (&x, &t));
    }
    group.finish();
}

fn network_against_two_layer_net(c: &mut Criterion) {
    let data = synthetic(1000);
    let mut batches = Batches::with_replacement(data.len(), 100, 0).expect("valid batches");
    let (x, t) = data.batch(&batches.next_batch()).expect("valid batch");
    let mut group = c.benchmark_group("fused step 784-50-10 batch 100 (gradient + SGD)");
    for compute in [Compute::FusedF64, Compute::FusedF32] {
        let two_layer = TwoLayerNet::new(784, 50, 10, 0.01, 0)
            .expect("valid sizes")
            .with_compute(compute);
        bench_step(
            &mut group,
            &format!("TwoLayerNet {compute:?}"),
            two_layer,
            (&x, &t),
        );
        // The same weights, as a Network.
        let network = MultiLayerNet::new(784, &[50], 10)
            .init(Init::Std(0.01))
            .build()
            .expect("valid sizes")
            .with_compute(compute);
        bench_step(
            &mut group,
            &format!("Network {compute:?}"),
            network,
            (&x, &t),
        );
    }
    group.finish();
}

fn one_epoch(c: &mut Criterion) {
    let data = synthetic(60_000);
    let mut group = c.benchmark_group("epoch");
    group.sample_size(10);
    group.bench_function("600 steps 784-50-10 batch 100, no evaluation", |b| {
        b.iter(|| {
            let mut net = TwoLayerNet::new(784, 50, 10, 0.01, 0).expect("valid sizes");
            let mut sgd = Sgd::new(0.1).expect("valid lr");
            let mut batches = Batches::with_replacement(data.len(), 100, 0).expect("valid batches");
            for _ in 0..600 {
                let (x, t) = data.batch(&batches.next_batch()).expect("valid batch");
                let (_, grads) = net.gradient(&x, &Targets::from(&t)).expect("valid");
                step(&mut sgd, &mut net, &grads).expect("matching grads");
            }
            black_box(net)
        })
    });
    group.bench_function("Trainer, 1 epoch with train+test accuracy", |b| {
        let test = synthetic(10_000);
        b.iter(|| {
            let mut net = TwoLayerNet::new(784, 50, 10, 0.01, 0).expect("valid sizes");
            let trainer = Trainer::new(Length::Epochs(1), 100, 0).expect("valid trainer");
            let mut sgd = Sgd::new(0.1).expect("valid lr");
            black_box(
                trainer
                    .train(&mut net, &mut sgd, &data, Some(&test), &mut ())
                    .expect("trains"),
            )
        })
    });
    group.finish();
}

fn conv_step(c: &mut Criterion) {
    let data = synthetic(1000);
    let mut batches = Batches::with_replacement(data.len(), 100, 0).expect("valid batches");
    let indices = batches.next_batch();
    let (x, _) = data.batch(&indices).expect("valid batch");
    let bytes = byte_images(1000);
    let mut group = c.benchmark_group("SimpleConvNet 1x28x28 conv30x5x5 pool2 100 batch 100");
    group.sample_size(20);
    let built = SimpleConvNet::new((1, 28, 28), 10)
        .build()
        .expect("valid sizes");
    for compute in [Compute::Layers, Compute::FusedF32] {
        let mut net = built.clone().with_compute(compute);
        let mut adam = Adam::new(0.001, 0.9, 0.999).expect("valid lr");
        group.bench_function(format!("train step (gradient + Adam) {compute:?}"), |b| {
            b.iter(|| {
                let (loss, grads) = net.batch_gradient(&bytes, &indices).expect("valid");
                step(&mut adam, &mut net, &grads).expect("matching grads");
                black_box(loss)
            })
        });
    }
    let fused = built.clone().with_compute(Compute::FusedF32);
    group.bench_function("gradient alone FusedF32", |b| {
        b.iter(|| black_box(fused.batch_gradient(&bytes, &indices).expect("valid")))
    });
    group.bench_function("forward (eval) Layers", |b| {
        b.iter(|| {
            black_box(
                built
                    .forward(x.clone().into_dyn(), Mode::Eval)
                    .expect("valid"),
            )
        })
    });
    // Weights of a spread that decides most samples in f32 (the book's 0.01
    // makes every score a near-tie, which the f64 layers then decide).
    let spread = SimpleConvNet::new((1, 28, 28), 10)
        .weight_init_std(0.1)
        .build()
        .expect("valid sizes")
        .with_compute(Compute::FusedF32);
    let block: Vec<usize> = (0..100).collect();
    group.bench_function("count correct, 100 images, FusedF32", |b| {
        b.iter(|| black_box(spread.correct_count(&bytes, &block).expect("valid")))
    });
    group.finish();
}

/// `n` MNIST-shaped images held as bytes, about half of them 0.
fn byte_images(n: usize) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let pixels = Array2::from_shape_fn((n, 784), |_| {
        let v: u8 = rng.random();
        if v < 128 { 0 } else { v }
    });
    let labels = Array1::from_shape_fn(n, |i| i % 10);
    Dataset::from_bytes(pixels, 255.0, labels, 10)
        .and_then(|d| d.with_image_shape((1, 28, 28)))
        .expect("valid dataset")
}

criterion_group!(
    benches,
    conv_step,
    one_step,
    deep_step,
    network_against_two_layer_net,
    one_epoch
);
criterion_main!(benches);
