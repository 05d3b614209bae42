//! The fused sparse backprop of a [`Network`] of Affine and ReLU layers
//! (`Compute::FusedF64`, `Compute::FusedF32`) against the network's layers,
//! against `TwoLayerNet`'s fused engine, on bad input, and in training.

use kobai::data::{Dataset, spiral};
use kobai::layers::{Affine, Layer, Relu, Sigmoid};
use kobai::nets::{Activation, Compute, Init, MultiLayerNet, Network};
use kobai::train::{Length, Trainer};
use kobai::{Backprop, Grads, KobaiError, Params, Sgd, Targets, TwoLayerNet};
use ndarray::{Array1, Array2, array};

mod support;
use support::{images, relative_difference};

/// Whether two gradients are the same names, shapes and bits.
fn same_bits(a: &Grads, b: &Grads) -> bool {
    a.len() == b.len()
        && a.iter().zip(b.iter()).all(|((na, ga), (nb, gb))| {
            na == nb
                && ga.shape() == gb.shape()
                && ga.iter().zip(gb).all(|(p, q)| p.to_bits() == q.to_bits())
        })
}

/// The names of `net`'s parameters, in order.
fn param_names(net: &Network) -> Vec<String> {
    net.params().into_iter().map(|(name, _)| name).collect()
}

/// Asserts that both fused engines run for `net` and match its layers on
/// `(x, t)`: 1e-12 relative in `f64`, `TwoLayerNet`'s 2e-5 in `f32`.
fn compare(net: &Network, x: &Array2<f64>, t: &Targets<'_>) {
    let book = net.clone().with_compute(Compute::Layers);
    let (loss, grads) = book.gradient(x, t).expect("valid input");
    let names: Vec<&str> = grads.iter().map(|(name, _)| name).collect();
    assert_eq!(names, param_names(net));
    for (compute, tolerance) in [(Compute::FusedF64, 1e-12), (Compute::FusedF32, 2e-5)] {
        let fused = net.clone().with_compute(compute);
        assert_eq!(fused.engine(), compute);
        let (fused_loss, fused_grads) = fused.gradient(x, t).expect("valid input");
        assert!(
            (loss - fused_loss).abs() <= tolerance * loss.abs(),
            "{compute:?}: loss {loss} vs {fused_loss}"
        );
        let difference = relative_difference(&grads, &fused_grads);
        assert!(
            difference <= tolerance,
            "{compute:?}: relative difference {difference:e}"
        );
    }
}

#[test]
fn fused_network_matches_the_layers_for_zero_to_three_hidden_layers() {
    let x = images(100, 784, 1);
    let labels: Vec<usize> = (0..100).map(|i| (i * 7) % 10).collect();
    let t = Targets::from(&labels);
    for hidden in [&[][..], &[50], &[100, 60], &[100, 100, 100]] {
        let net = MultiLayerNet::new(784, hidden, 10)
            .seed(3)
            .build()
            .expect("valid sizes");
        compare(&net, &x, &t);
    }
}

#[test]
fn fused_network_matches_the_layers_for_odd_sizes_and_one_hot_targets() {
    for (input, hidden, output, batch) in [
        (3, &[1][..], 2, 1),
        (5, &[9, 3], 3, 4),
        (17, &[33, 8, 13], 4, 7),
        (8, &[70, 1, 70], 5, 3),
        (29, &[], 6, 5),
    ] {
        let x = images(batch, input, input as u64);
        let mut t = Array2::zeros((batch, output));
        for row in 0..batch {
            t[[row, row % output]] = 1.0;
        }
        let net = MultiLayerNet::new(input, hidden, output)
            .seed(9)
            .build()
            .expect("valid sizes");
        compare(&net, &x, &Targets::from(&t));
    }
}

#[test]
fn a_batch_read_from_bytes_gives_the_bits_of_the_f64_batch() {
    // Bytes with MNIST's runs of zeros, and a width that is not a multiple of 8.
    let pixels = Array2::from_shape_fn((40, 29), |(r, c)| {
        if (c + r) % 7 < 3 {
            0u8
        } else {
            ((r * 31 + c * 17) % 256) as u8
        }
    });
    let labels = Array1::from_shape_fn(40, |r| r % 4);
    let data = Dataset::from_bytes(pixels, 255.0, labels, 4).expect("valid dataset");
    let indices = [5, 0, 39, 5, 17, 22, 8];
    for hidden in [&[][..], &[13], &[13, 9], &[13, 9, 20]] {
        for compute in [Compute::FusedF64, Compute::FusedF32, Compute::Layers] {
            let net = MultiLayerNet::new(29, hidden, 4)
                .seed(2)
                .build()
                .expect("valid sizes")
                .with_compute(compute);
            let (x, t) = data.batch(&indices).expect("valid indices");
            let (loss, grads) = net.gradient(&x, &Targets::from(&t)).expect("valid");
            let (byte_loss, byte_grads) = net.batch_gradient(&data, &indices).expect("valid");
            assert_eq!(
                loss.to_bits(),
                byte_loss.to_bits(),
                "{compute:?} {hidden:?}"
            );
            assert!(same_bits(&grads, &byte_grads), "{compute:?} {hidden:?}");
        }
    }
}

#[test]
fn one_hidden_layer_gives_two_layer_nets_fused_gradient_bit_for_bit() {
    for (input, hidden, output, batch, std, seed) in [
        (784, 50, 10, 100, 0.01, 3),
        (784, 100, 10, 37, 0.01, 4),
        (17, 33, 4, 7, 0.5, 5),
        (3, 1, 2, 1, 0.5, 6),
    ] {
        let two_layer = TwoLayerNet::new(input, hidden, output, std, seed).expect("valid sizes");
        let network = MultiLayerNet::new(input, &[hidden], output)
            .init(Init::Std(std))
            .seed(seed)
            .build()
            .expect("valid sizes");
        // The same weights: MultiLayerNet draws them as TwoLayerNet does.
        for ((_, a), (_, b)) in two_layer.params().iter().zip(network.params().iter()) {
            assert_eq!(a, b);
        }
        let x = images(batch, input, seed);
        let labels: Vec<usize> = (0..batch).map(|i| (i * 3) % output).collect();
        let t = Targets::from(&labels);
        for compute in [Compute::FusedF32, Compute::FusedF64] {
            let (loss, grads) = two_layer
                .clone()
                .with_compute(compute)
                .gradient(&x, &t)
                .expect("valid");
            let (network_loss, network_grads) = network
                .clone()
                .with_compute(compute)
                .gradient(&x, &t)
                .expect("valid");
            assert_eq!(loss.to_bits(), network_loss.to_bits(), "{compute:?}");
            let mut renamed = Grads::default();
            for ((name, g), (old_name, new_name)) in grads.iter().zip([
                ("W1", "affine1.W"),
                ("b1", "affine1.b"),
                ("W2", "affine2.W"),
                ("b2", "affine2.b"),
            ]) {
                assert_eq!(name, old_name);
                renamed.push(new_name, g.clone());
            }
            assert!(same_bits(&renamed, &network_grads), "{compute:?}");
        }
    }
}

#[test]
fn the_engine_is_the_layers_unless_the_network_is_affine_and_relu_only() {
    let fused = |net: Network| net.with_compute(Compute::FusedF32).engine();
    let build = |builder: MultiLayerNet| builder.build().expect("valid network");
    // Covered: Affine alone, and Affine → ReLU → … → Affine.
    for hidden in [&[][..], &[4], &[4, 5], &[4, 5, 6]] {
        let net = build(MultiLayerNet::new(3, hidden, 2));
        assert_eq!(fused(net.clone()), Compute::FusedF32, "{hidden:?}");
        let f64_net = net.clone().with_compute(Compute::FusedF64);
        assert_eq!(f64_net.engine(), Compute::FusedF64);
        assert_eq!(net.engine(), Compute::Layers, "Layers asked for");
    }
    // Not covered: the layers run.
    let not_covered = [
        build(MultiLayerNet::new(3, &[4], 2).batch_norm(true)),
        build(MultiLayerNet::new(3, &[4], 2).dropout(0.5)),
        build(MultiLayerNet::new(3, &[4], 2).activation(Activation::Sigmoid)),
        build(MultiLayerNet::new(3, &[4, 4], 2).activation(Activation::Tanh)),
        build(MultiLayerNet::new(3, &[4], 2).weight_decay(0.1)),
        build(MultiLayerNet::new(3, &[], 2).weight_decay(0.1)),
    ];
    for net in not_covered {
        let text = net.architecture();
        assert_eq!(fused(net), Compute::Layers, "{text:?}");
    }
    let affine = |i: usize, o: usize| -> Box<dyn Layer> {
        Box::new(Affine::new(Array2::zeros((i, o)), Array1::zeros(o)).expect("valid affine"))
    };
    let stacks: Vec<Vec<Box<dyn Layer>>> = vec![
        // Ends with a ReLU.
        vec![affine(3, 4), Box::new(Relu)],
        // Starts with a ReLU.
        vec![Box::new(Relu), affine(3, 4)],
        // Two Affines without a ReLU between them.
        vec![affine(3, 4), affine(4, 2)],
        // Two ReLUs in a row.
        vec![affine(3, 4), Box::new(Relu), Box::new(Relu), affine(4, 2)],
        // Sizes that do not chain: the layers report it.
        vec![affine(3, 4), Box::new(Relu), affine(5, 2)],
        // A sigmoid.
        vec![affine(3, 4), Box::new(Sigmoid), affine(4, 2)],
    ];
    for layers in stacks {
        let net = Network::new(layers).expect("valid layers");
        let text = net.architecture();
        assert_eq!(fused(net), Compute::Layers, "{text:?}");
    }
}

#[test]
fn fused_network_rejects_what_the_layers_reject() {
    let labels = [1usize, 0];
    let t = Targets::from(&labels[..]);
    let nan = array![[0.0, f64::NAN, 1.0], [1.0, 1.0, 1.0]];
    let good = nan.mapv(|v| if v.is_nan() { 0.5 } else { v });
    let narrow = array![[0.0, 1.0], [1.0, 1.0]];
    let nan_and_narrow = array![[0.0, f64::NAN], [1.0, 1.0]];
    let empty = Array2::<f64>::zeros((0, 3));
    let empty_and_narrow = Array2::<f64>::zeros((0, 2));
    let out_of_range = [1usize, 2];
    let too_few = [1usize];
    let no_labels: [usize; 0] = [];
    let wrong_one_hot = array![[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]];
    let not_one_hot = array![[0.5, 0.5], [1.0, 0.0]];
    let cases = [
        (nan.clone(), t.clone()),
        (narrow, t.clone()),
        (nan_and_narrow, t.clone()),
        (empty.clone(), t.clone()),
        (empty, Targets::from(&no_labels[..])),
        (empty_and_narrow, Targets::from(&no_labels[..])),
        (good.clone(), Targets::from(&out_of_range[..])),
        (good.clone(), Targets::from(&too_few[..])),
        (good.clone(), Targets::from(&wrong_one_hot)),
        (good, Targets::from(&not_one_hot)),
    ];
    for hidden in [&[][..], &[4], &[4, 5]] {
        for compute in [Compute::FusedF64, Compute::FusedF32] {
            let net = MultiLayerNet::new(3, hidden, 2)
                .build()
                .expect("valid sizes")
                .with_compute(compute);
            let book = net.clone().with_compute(Compute::Layers);
            for (x, t) in &cases {
                let fused: KobaiError = net.gradient(x, t).expect_err("bad input");
                let layers = book.gradient(x, t).expect_err("bad input");
                assert_eq!(
                    fused.to_string(),
                    layers.to_string(),
                    "{compute:?} {hidden:?} {x:?}"
                );
            }
        }
    }
}

#[test]
fn non_finite_scores_are_the_softmax_error_of_the_layers() {
    let x = images(4, 6, 1);
    let labels = [0usize, 1, 2, 0];
    let t = Targets::from(&labels[..]);
    for hidden in [&[][..], &[5], &[5, 4]] {
        let mut net = MultiLayerNet::new(6, hidden, 3)
            .build()
            .expect("valid sizes");
        // A NaN bias in the last layer: column 1 of the scores is NaN.
        let last = param_names(&net).len() - 1;
        net.params_mut()[last].1[[1]] = f64::NAN;
        let book = net.gradient(&x, &t).expect_err("NaN scores");
        for compute in [Compute::FusedF64, Compute::FusedF32] {
            let fused = net.clone().with_compute(compute);
            let err = fused.gradient(&x, &t).expect_err("NaN scores");
            assert_eq!(err.to_string(), book.to_string(), "{compute:?} {hidden:?}");
        }
    }
}

#[test]
fn a_byte_batch_is_rejected_as_the_layers_reject_it() {
    let pixels = Array2::from_shape_fn((6, 5), |(r, c)| ((r * 7 + c * 3) % 4) as u8 * 60);
    let labels = Array1::from_shape_fn(6, |r| r % 4);
    let data = Dataset::from_bytes(pixels, 255.0, labels, 4).expect("valid dataset");
    let no_indices: [usize; 0] = [];
    let cases: [(usize, usize, &[usize]); 4] = [
        // An index out of range.
        (5, 4, &[1, 6]),
        // A width the first layer does not take.
        (4, 4, &[0, 1]),
        // Labels beyond the network's classes.
        (5, 3, &[0, 3]),
        // No samples.
        (5, 4, &no_indices),
    ];
    for (input, classes, indices) in cases {
        for hidden in [&[][..], &[3], &[3, 4]] {
            for compute in [Compute::FusedF64, Compute::FusedF32] {
                let net = MultiLayerNet::new(input, hidden, classes)
                    .build()
                    .expect("valid sizes")
                    .with_compute(compute);
                let book = net.clone().with_compute(Compute::Layers);
                let fused = net.batch_gradient(&data, indices).expect_err("bad batch");
                let layers = book.batch_gradient(&data, indices).expect_err("bad batch");
                assert_eq!(fused.to_string(), layers.to_string(), "{indices:?}");
            }
        }
    }
}

#[test]
fn buffers_kept_from_another_network_change_no_bit() {
    // In f32 hidden 98 and 100 pad to the same 104 columns, so the second
    // network's buffers have the first one's shapes.
    let x = images(20, 50, 4);
    let labels: Vec<usize> = (0..20).map(|i| i % 10).collect();
    let t = Targets::from(&labels);
    for compute in [Compute::FusedF32, Compute::FusedF64] {
        let network = |hidden: &[usize], seed| {
            MultiLayerNet::new(50, hidden, 10)
                .seed(seed)
                .build()
                .expect("valid sizes")
                .with_compute(compute)
        };
        let (a, b) = (network(&[100, 100, 100], 1), network(&[100, 98, 100], 2));
        let fresh = |net: Network, x: Array2<f64>, labels: Vec<usize>| {
            std::thread::spawn(move || net.gradient(&x, &Targets::from(&labels)))
                .join()
                .expect("no panic")
                .expect("valid")
        };
        let (fresh_loss, fresh_grads) = fresh(b.clone(), x.clone(), labels.clone());
        let _ = a.gradient(&x, &t).expect("valid");
        let (loss, grads) = b.gradient(&x, &t).expect("valid");
        assert_eq!(loss.to_bits(), fresh_loss.to_bits(), "{compute:?}");
        assert!(same_bits(&grads, &fresh_grads), "{compute:?}");
        let (again, again_grads) = b.gradient(&x, &t).expect("valid");
        assert_eq!(loss.to_bits(), again.to_bits(), "{compute:?}");
        assert!(same_bits(&grads, &again_grads), "{compute:?}");
    }
}

#[cfg(feature = "parallel")]
#[test]
fn the_thread_count_changes_no_bit() {
    // 1000 × 784 at half zeros: large enough for the first layer's kernels
    // to split over two threads; one thread must give the same bits.
    let x = images(1000, 784, 5);
    let labels: Vec<usize> = (0..1000).map(|i| (i * 7) % 10).collect();
    let t = Targets::from(&labels);
    let net = MultiLayerNet::new(784, &[50, 30], 10)
        .seed(1)
        .build()
        .expect("valid sizes")
        .with_compute(Compute::FusedF32);
    let (loss, grads) = net.gradient(&x, &t).expect("valid");
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a pool");
    let (one_loss, one_grads) = one_thread.install(|| net.gradient(&x, &t).expect("valid"));
    assert_eq!(loss.to_bits(), one_loss.to_bits());
    assert!(same_bits(&grads, &one_grads));
}

#[test]
fn a_fused_three_layer_net_learns_the_spiral_like_the_layers() {
    let (train, test) = spiral(100, 0.2, 0).expect("valid spiral");
    let mut accuracies = Vec::new();
    for compute in [Compute::Layers, Compute::FusedF32] {
        let mut net = MultiLayerNet::new(2, &[30, 30], 3)
            .seed(0)
            .build()
            .expect("valid sizes")
            .with_compute(compute);
        let trainer = Trainer::new(Length::Epochs(150), 20, 0).expect("valid trainer");
        let history = trainer
            .train(
                &mut net,
                &mut Sgd::new(0.5).expect("valid lr"),
                &train,
                Some(&test),
                &mut (),
            )
            .expect("training runs");
        let last = history.epochs.last().expect("epochs ran");
        accuracies.push((compute, last.train_accuracy, last.test_accuracy));
    }
    for &(compute, train_accuracy, test_accuracy) in &accuracies {
        let test_accuracy = test_accuracy.expect("a test set was given");
        assert!(
            train_accuracy > 0.9 && test_accuracy > 0.9,
            "{compute:?}: {accuracies:?}"
        );
    }
}
