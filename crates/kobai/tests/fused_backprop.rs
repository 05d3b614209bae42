//! The fused sparse backprop (`Compute::FusedF64`, `Compute::FusedF32`) against
//! the book's layers, the numerical gradient, and bad input.

use kobai::nets::{Activation, Compute};
use kobai::{Backprop, KobaiError, Targets, TwoLayerNet, gradient_check_fast};
use ndarray::{Array2, array};

mod support;
use support::{images, relative_difference};

fn compare(net: &TwoLayerNet, x: &Array2<f64>, t: &Targets<'_>) {
    let (loss, book) = net.gradient(x, t).expect("valid input");
    for (compute, tolerance) in [(Compute::FusedF64, 1e-13), (Compute::FusedF32, 2e-5)] {
        let fused = net.clone().with_compute(compute);
        let (fused_loss, grads) = fused.gradient(x, t).expect("valid input");
        assert!(
            (loss - fused_loss).abs() <= tolerance * loss.abs(),
            "{compute:?}: loss {loss} vs {fused_loss}"
        );
        let difference = relative_difference(&book, &grads);
        assert!(
            difference <= tolerance,
            "{compute:?}: relative difference {difference:e}"
        );
    }
}

#[test]
fn fused_backprop_matches_the_layers_on_784_50_10() {
    let x = images(100, 784, 1);
    let labels: Vec<usize> = (0..100).map(|i| (i * 7) % 10).collect();
    for activation in [Activation::Relu, Activation::Sigmoid] {
        let net = TwoLayerNet::new(784, 50, 10, 0.01, 3)
            .expect("valid sizes")
            .with_activation(activation);
        compare(&net, &x, &Targets::from(&labels));
    }
}

#[test]
fn fused_backprop_matches_the_layers_for_odd_sizes_and_one_hot_targets() {
    for (input, hidden, output, batch) in
        [(3, 1, 2, 1), (5, 9, 3, 4), (17, 33, 4, 7), (8, 70, 5, 3)]
    {
        let x = images(batch, input, input as u64);
        let mut t = Array2::zeros((batch, output));
        for row in 0..batch {
            t[[row, row % output]] = 1.0;
        }
        let net = TwoLayerNet::new(input, hidden, output, 0.5, 9).expect("valid sizes");
        compare(&net, &x, &Targets::from(&t));
    }
}

#[test]
fn fused_f64_backprop_passes_the_gradient_check() {
    let x = images(5, 784, 2);
    let labels = [3usize, 1, 4, 1, 5];
    let net = TwoLayerNet::new(784, 50, 10, 0.01, 4)
        .expect("valid sizes")
        .with_compute(Compute::FusedF64);
    let report = gradient_check_fast(&net, &x, &Targets::from(&labels[..]), 16, 0).expect("valid");
    assert!(report.passed(), "{report:?}");
}

#[test]
fn fused_backprop_rejects_what_the_layers_reject() {
    for compute in [Compute::FusedF64, Compute::FusedF32] {
        let net = TwoLayerNet::new(3, 4, 2, 0.1, 0)
            .expect("valid sizes")
            .with_compute(compute);
        let book = net.clone().with_compute(Compute::Layers);
        let labels = [1usize, 0];
        let t = Targets::from(&labels[..]);
        let nan = array![[0.0, f64::NAN, 1.0], [1.0, 1.0, 1.0]];
        let narrow = array![[0.0, 1.0], [1.0, 1.0]];
        let out_of_range = [1usize, 2];
        let cases = [
            (nan.clone(), t.clone()),
            (narrow, t.clone()),
            (
                nan.mapv(|v| if v.is_nan() { 0.5 } else { v }),
                Targets::from(&out_of_range[..]),
            ),
        ];
        for (x, t) in cases {
            let fused: KobaiError = net.gradient(&x, &t).expect_err("bad input");
            let layers = book.gradient(&x, &t).expect_err("bad input");
            assert_eq!(fused.to_string(), layers.to_string(), "{compute:?}");
        }
    }
}

#[test]
fn fused_backprop_leaves_its_input_unchanged_and_repeats_bit_for_bit() {
    let x = images(100, 784, 3);
    let before = x.clone();
    let labels: Vec<usize> = (0..100).map(|i| i % 10).collect();
    let t = Targets::from(&labels);
    for compute in [Compute::FusedF64, Compute::FusedF32] {
        let net = TwoLayerNet::new(784, 50, 10, 0.01, 5)
            .expect("valid sizes")
            .with_compute(compute);
        let (loss_a, a) = net.gradient(&x, &t).expect("valid");
        let (loss_b, b) = net.gradient(&x, &t).expect("valid");
        assert_eq!(loss_a.to_bits(), loss_b.to_bits());
        for ((_, ga), (_, gb)) in a.iter().zip(b.iter()) {
            assert!(ga.iter().zip(gb).all(|(p, q)| p.to_bits() == q.to_bits()));
        }
    }
    assert!(
        x.iter()
            .zip(&before)
            .all(|(p, q)| p.to_bits() == q.to_bits())
    );
}

#[test]
fn a_batch_read_from_bytes_gives_the_bits_of_the_f64_batch() {
    use kobai::data::Dataset;
    // Bytes with MNIST's runs of zeros, and a width that is not a multiple of 8.
    let pixels = ndarray::Array2::from_shape_fn((40, 29), |(r, c)| {
        if (c + r) % 7 < 3 {
            0u8
        } else {
            ((r * 31 + c * 17) % 256) as u8
        }
    });
    let labels = ndarray::Array1::from_shape_fn(40, |r| r % 4);
    let data = Dataset::from_bytes(pixels, 255.0, labels, 4).expect("valid dataset");
    let indices = [5, 0, 39, 5, 17, 22, 8];
    for compute in [Compute::FusedF64, Compute::FusedF32, Compute::Layers] {
        let net = TwoLayerNet::new(29, 13, 4, 0.1, 2)
            .expect("valid sizes")
            .with_compute(compute);
        let (x, t) = data.batch(&indices).expect("valid indices");
        let (loss, grads) = net.gradient(&x, &Targets::from(&t)).expect("valid");
        let (byte_loss, byte_grads) = net.batch_gradient(&data, &indices).expect("valid");
        assert_eq!(loss.to_bits(), byte_loss.to_bits(), "{compute:?}");
        for ((_, a), (_, b)) in grads.iter().zip(byte_grads.iter()) {
            assert!(
                a.iter().zip(b).all(|(p, q)| p.to_bits() == q.to_bits()),
                "{compute:?}"
            );
        }
        let err = net
            .batch_gradient(&data, &[1, 40])
            .expect_err("index out of range");
        assert_eq!(
            err.to_string(),
            data.batch(&[1, 40]).expect_err("out of range").to_string()
        );
    }
}
