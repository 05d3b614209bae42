//! The fused engine of convolutional networks (`Compute::FusedF64`,
//! `Compute::FusedF32` on conv → relu → max pool → affine → … networks)
//! against the network's layers: gradients, bits from bytes and from any
//! number of threads, bad input, the accuracy count, and networks it leaves
//! to the layers.

use kobai::data::Dataset;
use kobai::layers::{Affine, Convolution, Layer, PoolKind, Pooling, Relu, Sigmoid};
use kobai::nets::{Compute, Network, SimpleConvNet};
use kobai::train::{Length, Trainer};
use kobai::{Adam, Backprop, Grads, Model, Params, Targets};
use ndarray::{Array1, Array2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

mod support;
use support::images;

type Image = (usize, usize, usize);

/// Nudges every bias away from 0, so that the bias gradients and the
/// ReLUs' thresholds are exercised.
fn with_biases(mut net: Network, seed: u64) -> Network {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for (name, mut p) in net.params_mut() {
        if name.ends_with(".b") {
            p.mapv_inplace(|_| rng.random_range(-0.05..0.05));
        }
    }
    net
}

/// The covered networks of the tests, with their images: the book's, and
/// others with channels, padding, strides, overlapping or gapped pooling,
/// and more Affine layers.
fn nets() -> Vec<(Network, Image)> {
    let conv = |filters, input, filter, stride, pad, seed| {
        Convolution::zeros(filters, input, filter, stride, pad)
            .and_then(|c| c.with_normal_init(0.3, seed))
            .expect("valid convolution")
    };
    let affine = |inputs: usize, outputs: usize, seed: u64| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let scale = 1.5 / (inputs as f64).sqrt();
        Affine::new(
            Array2::from_shape_fn((inputs, outputs), |_| rng.random_range(-scale..scale)),
            Array1::zeros(outputs),
        )
        .expect("valid affine")
    };
    let pool = |window, stride| Pooling::new(PoolKind::Max, window, stride, 0).expect("pool");
    let deep = Network::new(vec![
        // 9x9 → 4x4 (filter 3, stride 2, pad 0) → pool 2x2 stride 1 → 3x3.
        Box::new(conv(5, (3, 9, 9), (3, 3), 2, 0, 4)),
        Box::new(Relu),
        Box::new(pool((2, 2), 1)),
        Box::new(affine(5 * 3 * 3, 12, 5)),
        Box::new(Relu),
        Box::new(affine(12, 7, 6)),
        Box::new(Relu),
        Box::new(affine(7, 4, 7)),
    ])
    .expect("valid network");
    let gapped = Network::new(vec![
        // 10x8 → 8x6 (3x3) → pool 2x2 stride 3 → 3x2.
        Box::new(conv(4, (1, 10, 8), (3, 3), 1, 0, 8)),
        Box::new(Relu),
        Box::new(pool((2, 2), 3)),
        Box::new(affine(4 * 3 * 2, 3, 9)),
    ])
    .expect("valid network");
    let overlapping = Network::new(vec![
        // 7x6 padded by 1, filter 3x2 → 7x7 → pool 3x3 stride 2 → 3x3.
        Box::new(conv(3, (2, 7, 6), (3, 2), 1, 1, 10)),
        Box::new(Relu),
        Box::new(pool((3, 3), 2)),
        Box::new(affine(3 * 3 * 3, 6, 11)),
        Box::new(Relu),
        Box::new(affine(6, 3, 12)),
    ])
    .expect("valid network");
    vec![
        (
            SimpleConvNet::new((1, 28, 28), 10)
                .weight_init_std(0.1)
                .seed(1)
                .build()
                .expect("the book's network"),
            (1, 28, 28),
        ),
        (
            SimpleConvNet::new((2, 11, 9), 5)
                .filters(6)
                .filter_size(4)
                .stride(2)
                .pad(2)
                .hidden(9)
                .weight_init_std(0.3)
                .seed(2)
                .build()
                .expect("valid network"),
            (2, 11, 9),
        ),
        (deep, (3, 9, 9)),
        (gapped, (1, 10, 8)),
        (overlapping, (2, 7, 6)),
    ]
    .into_iter()
    .enumerate()
    .map(|(k, (net, image))| (with_biases(net, k as u64), image))
    .collect()
}

fn classes(net: &Network) -> usize {
    net.params().last().expect("parameters").1.len()
}

fn labels(rows: usize, classes: usize) -> Vec<usize> {
    (0..rows).map(|r| (r * 7 + 3) % classes).collect()
}

/// Asserts that each gradient tensor of `b` is within `tolerance` of `a`'s,
/// relative to that tensor's largest entry; same names and shapes.
fn close(a: &Grads, b: &Grads, tolerance: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for ((name_a, ga), (name_b, gb)) in a.iter().zip(b.iter()) {
        assert_eq!(name_a, name_b, "{what}");
        assert_eq!(ga.shape(), gb.shape(), "{what} {name_a}");
        let scale = ga.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let diff = ga
            .iter()
            .zip(gb)
            .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
        assert!(
            scale > 0.0,
            "{what} {name_a}: an all-zero gradient tests nothing"
        );
        assert!(
            diff <= tolerance * scale,
            "{what} {name_a}: {diff:e} against {scale:e}"
        );
    }
}

fn bits(grads: &Grads) -> Vec<(String, Vec<u64>)> {
    grads
        .iter()
        .map(|(name, g)| (name.to_string(), g.iter().map(|v| v.to_bits()).collect()))
        .collect()
}

#[test]
fn both_fused_engines_match_the_layers() {
    for (net, (c, h, w)) in nets() {
        let what = net.architecture().unwrap_or_default();
        for rows in [1, 13, 30] {
            let x = images(rows, c * h * w, rows as u64);
            let labels = labels(rows, classes(&net));
            let t = Targets::from(&labels);
            let (loss, grads) = net.gradient(&x, &t).expect("the layers run");
            for (compute, tolerance) in [(Compute::FusedF64, 1e-12), (Compute::FusedF32, 1e-4)] {
                let fused = net.clone().with_compute(compute);
                assert_eq!(fused.engine(), compute, "{what}");
                let (fused_loss, fused_grads) = fused.gradient(&x, &t).expect("fused runs");
                assert!(
                    (loss - fused_loss).abs() <= tolerance * loss,
                    "{what} {compute:?}: loss {loss} against {fused_loss}"
                );
                close(
                    &grads,
                    &fused_grads,
                    tolerance,
                    &format!("{what} {compute:?}"),
                );
            }
        }
    }
}

/// A dataset of `rows` images of `image` held as bytes, about half of them 0.
fn byte_images(rows: usize, image: Image, classes: usize, seed: u64) -> Dataset {
    let (c, h, w) = image;
    support::byte_dataset(rows, c * h * w, classes, seed)
        .with_image_shape(image)
        .expect("valid image shape")
}

#[test]
fn batches_read_from_bytes_give_the_bits_of_the_f64_batch() {
    for (net, image) in nets() {
        let data = byte_images(40, image, classes(&net), 3);
        let indices = [5, 0, 39, 5, 17, 22, 8, 1, 30, 11, 2, 3, 4];
        let (x, labels) = data.batch(&indices).expect("valid indices");
        for compute in [Compute::FusedF64, Compute::FusedF32] {
            let fused = net.clone().with_compute(compute);
            let from_bytes = fused.batch_gradient(&data, &indices).expect("runs");
            let from_batch = fused.gradient(&x, &(&labels).into()).expect("runs");
            assert_eq!(from_bytes.0.to_bits(), from_batch.0.to_bits());
            assert_eq!(bits(&from_bytes.1), bits(&from_batch.1));
        }
    }
}

#[test]
fn the_same_bits_whatever_the_number_of_threads() {
    let (net, (c, h, w)) = nets().remove(0);
    let x = images(100, c * h * w, 9);
    let labels = labels(100, 10);
    let t = Targets::from(&labels);
    let net = net.with_compute(Compute::FusedF32);
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool")
            .install(|| net.gradient(&x, &t).expect("runs"))
    };
    let one = run(1);
    for threads in [2, 3] {
        let many = run(threads);
        assert_eq!(one.0.to_bits(), many.0.to_bits(), "{threads} threads");
        assert_eq!(bits(&one.1), bits(&many.1), "{threads} threads");
    }
}

#[test]
fn bad_input_gets_the_layers_errors() {
    let (net, (c, h, w)) = nets().remove(1);
    let width = c * h * w;
    let good = images(4, width, 1);
    let mut nan = good.clone();
    nan[[2, 7]] = f64::NAN;
    let mut inf = good.clone();
    inf[[0, 0]] = f64::INFINITY;
    let cases: Vec<(&str, Array2<f64>, Vec<usize>)> = vec![
        ("NaN pixel", nan, vec![0, 1, 2, 3]),
        ("infinite pixel", inf, vec![0, 1, 2, 3]),
        ("one value short", images(4, width - 1, 1), vec![0, 1, 2, 3]),
        ("one value over", images(4, width + 1, 1), vec![0, 1, 2, 3]),
        ("no rows", Array2::zeros((0, width)), vec![]),
        ("label out of range", good.clone(), vec![0, 1, 5, 3]),
        ("too few labels", good, vec![0, 1, 2]),
    ];
    for (what, x, labels) in cases {
        let t = Targets::from(&labels);
        let layers = net.gradient(&x, &t).expect_err(what).to_string();
        for compute in [Compute::FusedF64, Compute::FusedF32] {
            let fused = net.clone().with_compute(compute).gradient(&x, &t);
            assert_eq!(
                fused.expect_err(what).to_string(),
                layers,
                "{what} {compute:?}"
            );
        }
    }
    // Non-finite scores: weights that overflow.
    let mut huge = net.clone().with_compute(Compute::FusedF32);
    for (name, mut p) in huge.params_mut() {
        if name.ends_with(".W") {
            p.fill(1e30);
        }
    }
    let x = images(2, width, 2);
    let t = [0usize, 1];
    let error = huge
        .gradient(&x, &Targets::from(&t[..]))
        .expect_err("overflow");
    assert!(error.to_string().contains("softmax input"), "{error}");
    // Indices outside the dataset.
    let data = byte_images(10, (c, h, w), 5, 1);
    let fused = net.with_compute(Compute::FusedF32);
    assert!(fused.batch_gradient(&data, &[3, 10]).is_err());
    assert!(fused.correct_count(&data, &[10]).is_err());
    assert_eq!(fused.correct_count(&data, &[]).expect("no samples"), 0);
}

fn counts(net: &Network, data: &Dataset, indices: &[usize]) -> [usize; 3] {
    [Compute::Layers, Compute::FusedF64, Compute::FusedF32].map(|compute| {
        net.clone()
            .with_compute(compute)
            .correct_count(data, indices)
            .expect("counts")
    })
}

#[test]
fn the_fused_count_is_the_f64_layers_count() {
    for (k, (net, image)) in nets().into_iter().enumerate() {
        let data = byte_images(700, image, classes(&net), k as u64);
        let all: Vec<usize> = (0..data.len()).collect();
        let some: Vec<usize> = (0..data.len()).step_by(3).rev().collect();
        // As built, then trained a little (in f32), then with tiny weights,
        // whose scores are all near-ties.
        let mut trained = net.clone().with_compute(Compute::FusedF32);
        Trainer::new(Length::Iterations(20), 25, k as u64)
            .expect("valid trainer")
            .train(
                &mut trained,
                &mut Adam::new(0.01, 0.9, 0.999).expect("valid"),
                &data,
                None,
                &mut (),
            )
            .expect("trains");
        let mut tiny = net.clone();
        for (_, mut p) in tiny.params_mut() {
            p.mapv_inplace(|v| v * 1e-3);
        }
        for (what, net) in [("built", net), ("trained", trained), ("tiny", tiny)] {
            for indices in [&all, &some] {
                let [layers, f64s, f32s] = counts(&net, &data, indices);
                assert_eq!((f64s, f32s), (layers, layers), "net {k} {what}");
            }
        }
    }
}

#[test]
fn a_fused_conv_network_learns() {
    let (net, image) = nets().remove(1);
    let classes = classes(&net);
    let random = byte_images(200, image, classes, 7);
    // A label the images show: the slice of the row with the most ink.
    let pixels = random.pixel_bytes().expect("bytes").0.to_owned();
    let slice = pixels.ncols() / classes;
    let labels = pixels.rows().into_iter().map(|row| {
        let ink = |k: usize| -> u32 {
            row.iter()
                .skip(k * slice)
                .take(slice)
                .map(|&b| u32::from(b))
                .sum()
        };
        (0..classes).max_by_key(|&k| ink(k)).unwrap_or(0)
    });
    let data = Dataset::from_bytes(pixels.clone(), 255.0, labels.collect(), classes)
        .and_then(|d| d.with_image_shape(image))
        .expect("valid dataset");
    let all: Vec<usize> = (0..data.len()).collect();
    let (x, labels) = data.batch(&all).expect("valid");
    let t = Targets::from(&labels);
    let train = |compute: Compute| {
        let mut net = net.clone().with_compute(compute);
        Trainer::new(Length::Iterations(400), 20, 1)
            .expect("valid trainer")
            .train(
                &mut net,
                &mut Adam::new(0.003, 0.9, 0.999).expect("valid"),
                &data,
                None,
                &mut (),
            )
            .expect("trains");
        net.loss(&x, &t).expect("loss")
    };
    let before = net.loss(&x, &t).expect("loss");
    let (layers, fused) = (train(Compute::Layers), train(Compute::FusedF32));
    assert!(fused < 0.5 * before, "{before} → {fused}");
    assert!(
        (fused - layers).abs() < 0.05 * layers,
        "f32 training {fused} against the layers' {layers}"
    );
}

#[test]
fn networks_outside_the_engine_run_on_the_layers() {
    let base = || {
        vec![
            Box::new(
                Convolution::zeros(2, (1, 6, 6), (3, 3), 1, 0)
                    .and_then(|c| c.with_normal_init(0.3, 1))
                    .expect("valid"),
            ) as Box<dyn Layer>,
            Box::new(Relu),
        ]
    };
    let affine =
        |inputs| Box::new(Affine::new(Array2::ones((inputs, 3)), Array1::zeros(3)).expect("valid"));
    let with = |mut layers: Vec<Box<dyn Layer>>, more: Vec<Box<dyn Layer>>| {
        layers.extend(more);
        Network::new(layers).expect("valid network")
    };
    let max = |pad| Box::new(Pooling::new(PoolKind::Max, (2, 2), 2, pad).expect("valid"));
    let outside = [
        (
            "average pooling",
            with(
                base(),
                vec![
                    Box::new(Pooling::new(PoolKind::Average, (2, 2), 2, 0).expect("valid")),
                    affine(8),
                ],
            ),
        ),
        ("padded pooling", with(base(), vec![max(1), affine(18)])),
        (
            "sigmoid after the convolution",
            Network::new(vec![
                Box::new(
                    Convolution::zeros(2, (1, 6, 6), (3, 3), 1, 0)
                        .and_then(|c| c.with_normal_init(0.3, 1))
                        .expect("valid"),
                ),
                Box::new(Sigmoid),
                max(0),
                affine(8),
            ])
            .expect("valid"),
        ),
        ("no pooling", with(base(), vec![affine(32)])),
        (
            "weight decay",
            with(base(), vec![max(0), affine(8)])
                .with_weight_decay(0.1)
                .expect("valid"),
        ),
        (
            "ends with a ReLU",
            with(base(), vec![max(0), affine(8), Box::new(Relu)]),
        ),
    ];
    for (what, net) in outside {
        assert_eq!(
            net.with_compute(Compute::FusedF32).engine(),
            Compute::Layers,
            "{what}"
        );
    }
    let covered = with(base(), vec![max(0), affine(8)]).with_compute(Compute::FusedF32);
    assert_eq!(covered.engine(), Compute::FusedF32);
}

#[test]
fn ties_send_the_gradient_to_the_first_maximum_as_the_layers_do() {
    // Filters of equal integer weights over pixels of 0, 1 or 2: many
    // windows whose maximum is held by several positions with different
    // patches, where where the gradient goes changes dW.
    for (window, stride) in [((2, 2), 2), ((3, 3), 2), ((2, 3), 1)] {
        let mut conv = Convolution::zeros(2, (1, 9, 9), (1, 2), 1, 0).expect("valid");
        conv.w.fill(1.0);
        conv.w[[1, 0, 0, 1]] = 2.0;
        let pool = Pooling::new(PoolKind::Max, window, stride, 0).expect("valid");
        let pooled = {
            let (_, oh, ow) = conv.output_shape();
            let (qh, qw) = pool.window().output_size(oh, ow).expect("fits");
            2 * qh * qw
        };
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let affine = Affine::new(
            Array2::from_shape_fn((pooled, 3), |_| rng.random_range(-1.0..1.0)),
            Array1::zeros(3),
        )
        .expect("valid");
        let net = Network::new(vec![
            Box::new(conv),
            Box::new(Relu),
            Box::new(pool),
            Box::new(affine),
        ])
        .expect("valid network");
        let x = Array2::from_shape_fn((12, 81), |_| f64::from(rng.random_range(0..3u8)));
        let labels = labels(12, 3);
        let t = Targets::from(&labels);
        let (_, grads) = net.gradient(&x, &t).expect("the layers run");
        for compute in [Compute::FusedF64, Compute::FusedF32] {
            let fused = net.clone().with_compute(compute);
            assert_eq!(fused.engine(), compute);
            let (_, fused_grads) = fused.gradient(&x, &t).expect("runs");
            close(
                &grads,
                &fused_grads,
                1e-6,
                &format!("pool {window:?} stride {stride} {compute:?}"),
            );
        }
    }
}
