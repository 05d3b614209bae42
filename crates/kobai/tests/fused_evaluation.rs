//! The fused engine counts correct predictions in `f32` on the sparse kernels
//! and sends near-ties to the `f64` layers: the accuracy it reports is the
//! `f64` layers' one, sample for sample.

use kobai::data::Dataset;
use kobai::nets::Compute;
use kobai::{Model, Params, TwoLayerNet};

mod support;

/// `rows` images of `width` bytes, about half of them 0, with labels below 10.
fn bytes(rows: usize, width: usize, seed: u64) -> Dataset {
    support::byte_dataset(rows, width, 10, seed)
}

fn counts(net: &TwoLayerNet, data: &Dataset, indices: &[usize]) -> [usize; 3] {
    [Compute::Layers, Compute::FusedF64, Compute::FusedF32].map(|compute| {
        net.clone()
            .with_compute(compute)
            .correct_count(data, indices)
            .expect("counts")
    })
}

#[test]
fn every_engine_counts_what_the_f64_layers_count() {
    for seed in 0..6 {
        let data = bytes(2000, 64, seed);
        // Small weights: scores close together, many near-ties.
        for std in [0.01, 0.1, 1.0] {
            let net = TwoLayerNet::new(64, 24, 10, std, seed).expect("net");
            let all: Vec<usize> = (0..data.len()).collect();
            let [layers, f64s, f32s] = counts(&net, &data, &all);
            assert_eq!((f64s, f32s), (layers, layers), "seed {seed}, std {std}");
            let some: Vec<usize> = (0..data.len()).step_by(7).rev().collect();
            let [layers, f64s, f32s] = counts(&net, &data, &some);
            assert_eq!((f64s, f32s), (layers, layers), "seed {seed}, std {std}");
        }
    }
}

#[test]
fn exact_ties_go_to_the_first_class_as_in_the_layers() {
    let data = bytes(500, 16, 3);
    let mut net = TwoLayerNet::new(16, 8, 10, 0.1, 0).expect("net");
    for (name, mut p) in net.params_mut() {
        if name == "W2" || name == "b2" {
            p.fill(0.0);
        }
    }
    let all: Vec<usize> = (0..data.len()).collect();
    let zeros = data.labels().iter().filter(|&&l| l == 0).count();
    assert_eq!(counts(&net, &data, &all), [zeros; 3]);
}

#[test]
fn bad_indices_are_errors_and_no_indices_count_nothing() {
    let data = bytes(10, 4, 1);
    let net = TwoLayerNet::new(4, 3, 10, 0.1, 0)
        .expect("net")
        .with_compute(Compute::FusedF32);
    assert!(net.correct_count(&data, &[3, 10]).is_err());
    assert_eq!(net.correct_count(&data, &[]).expect("empty"), 0);
    let wide = TwoLayerNet::new(5, 3, 10, 0.1, 0)
        .expect("net")
        .with_compute(Compute::FusedF32);
    assert!(
        wide.correct_count(&data, &[0]).is_err(),
        "4 features for 5 inputs"
    );
}

#[test]
fn differences_below_f32s_resolution_are_decided_in_f64() {
    // Class 1's weights are class 0's plus 1e-7 of their size: in f64 class 1
    // wins wherever the hidden units are positive; in f32 the two scores are
    // the same number or differ by rounding alone.
    let data = bytes(1000, 32, 9);
    let mut net = TwoLayerNet::new(32, 12, 10, 0.3, 4).expect("net");
    for (name, mut p) in net.params_mut() {
        match name.as_str() {
            "W2" => {
                for mut row in p.rows_mut() {
                    row[1] = row[0] + 1e-7 * row[0].abs();
                    for k in 2..10 {
                        row[k] = 0.0;
                    }
                }
            }
            "b2" => {
                for k in 0..10 {
                    p[k] = if k < 2 { 1.0 } else { -100.0 };
                }
            }
            _ => {}
        }
    }
    let all: Vec<usize> = (0..data.len()).collect();
    let [layers, f64s, f32s] = counts(&net, &data, &all);
    assert!(layers > 0);
    assert_eq!((f64s, f32s), (layers, layers));
}
