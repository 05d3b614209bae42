//! Backprop against the numerical gradient on the book's 784-50-10 network.

use kobai::gradient_check::{Tolerance, estimated_gradient, projection_check};
use kobai::numerical_gradient::model_numerical_gradient;
use kobai::{
    Backprop, Targets, TwoLayerNet, compare_gradients, gradient_check, gradient_check_fast,
};
use ndarray::{Array2, IxDyn};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Uniform};

/// Three "images" of 784 pixels in [0, 1], a quarter of them black like MNIST's background.
fn batch() -> (Array2<f64>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let uniform = Uniform::new(0.0, 1.0).expect("valid range");
    let x = Array2::from_shape_fn((3, 784), |_| {
        let v: f64 = uniform.sample(&mut rng);
        if v < 0.25 { 0.0 } else { v }
    });
    (x, vec![3, 7, 1])
}

#[test]
fn backprop_passes_on_784_50_10_with_a_batch_of_3() {
    let net = TwoLayerNet::new(784, 50, 10, 0.01, 42).expect("valid sizes");
    let (x, labels) = batch();
    let report = gradient_check(&net, &x, &Targets::from(&labels)).expect("valid input");
    println!("{report}");
    assert!(report.passed(), "{report}");
    let names: Vec<&str> = report.tensors.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["W1", "b1", "W2", "b2"]);
}

#[test]
fn a_one_percent_error_in_one_element_fails_and_is_named() {
    let net = TwoLayerNet::new(784, 50, 10, 0.01, 42).expect("valid sizes");
    let (x, labels) = batch();
    let t = Targets::from(&labels);
    let (_, mut analytic) = net.gradient(&x, &t).expect("valid input");
    let numerical = model_numerical_gradient(&net, &x, &t, 0.0).expect("finite loss");
    // Break one element of W1 (at a pixel that is not black, so its gradient is not 0).
    let index = IxDyn(&[100, 17]);
    assert!(x[[0, 100]] > 0.0 || x[[1, 100]] > 0.0 || x[[2, 100]] > 0.0);
    let w1 = analytic.get_mut("W1").expect("W1 present");
    w1[&index] *= 1.01;
    let report =
        compare_gradients(&analytic, &numerical, Tolerance::default()).expect("same shapes");
    assert!(!report.passed(), "{report}");
    let w1 = &report.tensors[0];
    assert!(!w1.passed);
    assert_eq!(w1.worst_index, vec![100, 17], "{report}");
    assert!(report.tensors[1..].iter().all(|t| t.passed), "{report}");
}

#[test]
fn a_relu_kink_within_h_is_rechecked_not_failed() {
    // Put sample 0's first hidden pre-activation 5e-5 above ReLU's kink, so the
    // central difference with h = 1e-4 in b1[0] straddles it.
    let mut net = TwoLayerNet::new(3, 4, 2, 0.5, 1).expect("valid sizes");
    let x = ndarray::array![[0.2, 0.7, 0.4], [0.9, 0.1, 0.3]];
    let pre = x.row(0).dot(&net.w1.column(0));
    net.b1[0] = 5e-5 - pre;
    let t = Targets::from(&[1usize, 0]);
    let (_, analytic) = net.gradient(&x, &t).expect("valid");
    let at_book_step = model_numerical_gradient(&net, &x, &t, 0.0).expect("finite");
    let plain =
        compare_gradients(&analytic, &at_book_step, Tolerance::default()).expect("same shapes");
    assert!(
        !plain.passed(),
        "the kink should spoil the h = 1e-4 difference:\n{plain}"
    );

    let report = gradient_check(&net, &x, &t).expect("valid");
    assert!(report.passed(), "{report}");
    let b1 = &report.tensors[1];
    assert_eq!(b1.name, "b1");
    assert!(b1.rechecked >= 1, "{report}");
}

#[test]
fn the_fast_check_finds_a_one_percent_error_in_one_of_39_760_elements() {
    let net = TwoLayerNet::new(784, 50, 10, 0.01, 42).expect("valid sizes");
    let (x, labels) = batch();
    let t = Targets::from(&labels);
    let (_, mut analytic) = net.gradient(&x, &t).expect("valid input");
    let w1 = analytic.get_mut("W1").expect("W1 present");
    w1[[100, 17]] *= 1.01;
    let report = projection_check(&net, &x, &t, &analytic, 1, 7).expect("valid input");
    assert!(!report.passed());
    let found = report.located.expect("a disagreeing direction is bisected");
    assert_eq!(found.tensor, "W1");
    assert_eq!(found.index, vec![100, 17]);
    assert!((found.analytic - found.numerical).abs() > found.allowed);
    println!(
        "located {}{:?} in {} loss evaluations (a full check: {})",
        found.tensor,
        found.index,
        report.evaluations,
        8 * report.parameters
    );
    // One direction plus ⌈log₂ 39 760⌉ = 16 bisection steps, 8–16 evaluations each.
    assert!(report.evaluations <= 17 * 16, "{}", report.evaluations);
}

#[test]
fn the_fast_check_passes_a_correct_backprop_and_states_its_guarantee() {
    let net = TwoLayerNet::new(784, 50, 10, 0.01, 42).expect("valid sizes");
    let (x, labels) = batch();
    let report = gradient_check_fast(&net, &x, &Targets::from(&labels), 10, 3).expect("valid");
    for p in &report.projections {
        println!("{p:?}");
    }
    assert!(report.passed(), "{report:?}");
    assert!(report.located.is_none());
    assert_eq!(report.miss_probability(), 2f64.powi(-10));
    // Errors above this in one element are always caught.
    assert!(report.threshold() < 1e-7, "{}", report.threshold());
}

#[test]
fn the_estimated_check_allows_only_what_the_error_estimates_allow() {
    let net = TwoLayerNet::new(5, 4, 3, 0.5, 2).expect("valid sizes");
    let x = ndarray::array![[0.2, 0.7, 0.4, 0.1, 0.9], [0.9, 0.1, 0.3, 0.5, 0.5]];
    let t = Targets::from(&[2usize, 0]);
    let report = gradient_check(&net, &x, &t).expect("valid");
    assert!(report.passed(), "{report}");
    for tensor in &report.tensors {
        assert!(tensor.allowed_at_worst < 1e-9, "{report}");
    }
    // A one-in-a-million error in one element is outside what is allowed.
    let (numerical, errors) = estimated_gradient(&net, &x, &t).expect("valid");
    let (_, exact) = net.gradient(&x, &t).expect("valid");
    let (a, n, e) = (&exact["W1"], &numerical["W1"], &errors["W1"]);
    let i = IxDyn(&[1, 2]);
    assert!(
        (a[&i] - n[&i]).abs() <= e[&i] && e[&i] < 1e-6 * a[&i].abs(),
        "{} {} {}",
        a[&i],
        n[&i],
        e[&i]
    );
}
