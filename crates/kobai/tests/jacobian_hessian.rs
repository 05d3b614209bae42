//! Behaviour of `FiniteDiff::jacobian` and `FiniteDiff::hessian`: accuracy
//! against exact derivatives, honest error estimates, any input shape, and
//! typed errors for bad input.
//!
//! The bounds are measured (`cargo test --test jacobian_hessian -- --nocapture`
//! prints them) and asserted with a margin; each test says what it measured.

use kobai::KobaiError;
use kobai::numerical_gradient::{
    DualNum, FiniteDiff, HyperDual64, Scheme, Status, Step, exact_hessian,
};
use ndarray::{Array1, Array2, ArrayRef1, ArrayRef2, Axis, array};

/// The largest relative error over the entries; an entry whose exact value is
/// 0 is measured against the largest exact entry.
fn max_relative_error(found: &Array2<f64>, exact: &Array2<f64>) -> f64 {
    assert_eq!(found.dim(), exact.dim());
    let largest = exact.iter().fold(0.0, |a: f64, e| a.max(e.abs()));
    found
        .iter()
        .zip(exact)
        .map(|(f, e)| (f - e).abs() / if *e == 0.0 { largest } else { e.abs() })
        .fold(0.0, f64::max)
}

/// The smallest ratio of estimated to true error over the entries with a
/// nonzero true error (∞ if all are exact); the estimate is honest if ≥ 1.
fn min_estimate_ratio(found: &Array2<f64>, error: &Array2<f64>, exact: &Array2<f64>) -> f64 {
    found
        .iter()
        .zip(error)
        .zip(exact)
        .filter(|((f, _), x)| *f != *x)
        .map(|((f, e), x)| e / (f - x).abs())
        .fold(f64::INFINITY, f64::min)
}

/// f(x) = [x0²·x1, 5x0 + sin x1, exp(x2)·x0].
fn vector_function(x: &ArrayRef1<f64>) -> Array1<f64> {
    array![
        x[0] * x[0] * x[1],
        5.0 * x[0] + x[1].sin(),
        x[2].exp() * x[0]
    ]
}

fn vector_function_jacobian(x: &ArrayRef1<f64>) -> Array2<f64> {
    let e = x[2].exp();
    array![
        [2.0 * x[0] * x[1], x[0] * x[0], 0.0],
        [5.0, x[1].cos(), 0.0],
        [e, 0.0, x[0] * e],
    ]
}

fn softmax_jacobian(x: &ArrayRef1<f64>) -> Array2<f64> {
    let y = kobai::softmax(x).expect("finite");
    let column = y.view().insert_axis(Axis(1));
    Array2::from_diag(&y) - column.dot(&column.t())
}

/// Checks a Jacobian by all schemes; returns (central, richardson) relative
/// errors and the Richardson estimate/true ratio.
fn check_jacobian<F>(name: &str, f: F, x: &Array1<f64>, exact: &Array2<f64>) -> (f64, f64, f64)
where
    F: Fn(&ArrayRef1<f64>) -> kobai::Result<Array1<f64>>,
{
    let central = FiniteDiff::new(Scheme::Central)
        .jacobian(&f, x)
        .expect("finite");
    assert_eq!(central.evaluations, 2 * x.len());
    let accurate = FiniteDiff::accurate().jacobian(&f, x).expect("finite");
    let error = accurate.error.as_ref().expect("estimated");
    let rel = (
        max_relative_error(&central.value, exact),
        max_relative_error(&accurate.value, exact),
    );
    let ratio = min_estimate_ratio(&accurate.value, error, exact);
    eprintln!(
        "{name}: central {:.1e}, richardson {:.1e} (estimate/true ≥ {ratio:.1e}, \
         max estimate {:.1e}, {} calls)",
        rel.0,
        rel.1,
        accurate.max_error().expect("estimated"),
        accurate.evaluations
    );
    assert!(accurate.all_trusted(), "{name}: {:?}", accurate.status);
    assert!(ratio >= 1.0, "{name}: an estimate below the true error");
    (rel.0, rel.1, ratio)
}

#[test]
fn jacobian_of_a_polynomial_and_trigonometric_map() {
    // Measured: central 6.0e-11 and 7.7e-11, richardson 1.9e-13 and 2.4e-13
    // (estimate/true ≥ 58), 40 calls for 3 columns.
    for x in [array![1.3, -0.7, 0.4], array![-2.0, 3.0, -1.5]] {
        let exact = vector_function_jacobian(&x);
        let f = |v: &ArrayRef1<f64>| Ok(vector_function(v));
        let (central, richardson, _) =
            check_jacobian("x0²x1, 5x0 + sin x1, e^x2·x0", f, &x, &exact);
        assert!(central < 1e-9, "{central:e}");
        assert!(richardson < 2e-12, "{richardson:e}");
    }
}

#[test]
fn jacobian_of_softmax_is_diag_y_minus_y_y_transposed() {
    // Measured: central 6.2e-10 and 2.1e-10, richardson 9.0e-12 and 1.6e-11
    // (estimate/true ≥ 39), 38 and 42 calls for 3 columns.
    for x in [array![0.3, 2.9, 4.0], array![-1.0, 0.0, 2.5]] {
        let exact = softmax_jacobian(&x);
        let (central, richardson, _) = check_jacobian("softmax", kobai::softmax, &x, &exact);
        assert!(central < 5e-9, "{central:e}");
        assert!(richardson < 1e-10, "{richardson:e}");
    }
}

/// softmax at (1010, 1000, 990): outputs of sizes 1, 4.5e-5 and 2e-9, and
/// steps scaled to |x| ≈ 1000 while softmax changes on a scale of 1. Each row
/// is what the scalar search gives for its output alone, every estimate covers
/// its error, but accuracy is limited. Measured: the row of the output ≈ 1 is
/// off by 2.3e-9 (estimated 7.6e-7) — the scalar search's own result; tiny
/// entries (9.4e-14) are off by 5e-18, the rounding of their outputs;
/// normwise (against the largest entry, 4.5e-5) 5.1e-5.
#[test]
fn jacobian_of_a_saturated_softmax_has_honest_estimates_and_the_scalar_rows() {
    let x = array![1010.0, 1000.0, 990.0];
    let exact = softmax_jacobian(&x);
    let fd = FiniteDiff::accurate();
    let j = fd.jacobian(kobai::softmax, &x).expect("finite");
    let error = j.error.as_ref().expect("estimated");
    let ratio = min_estimate_ratio(&j.value, error, &exact);
    let largest = exact.iter().fold(0.0, |a: f64, e| a.max(e.abs()));
    let off = (&j.value - &exact)
        .iter()
        .fold(0.0, |a: f64, d| a.max(d.abs()))
        / largest;
    eprintln!("saturated softmax: normwise {off:.1e} (estimate/true ≥ {ratio:.1e})");
    assert!(j.all_trusted() && ratio >= 1.0, "{:?} {ratio:e}", j.status);
    assert!(off < 2e-4, "{off:e}");
    for k in 0..3 {
        let output = |v: &ArrayRef1<f64>| kobai::softmax(v).map(|y| y[k]);
        let g = fd.gradient(output, &x).expect("finite");
        assert_eq!(j.value.row(k), g.value);
        assert_eq!(error.row(k), g.error.expect("estimated"));
    }
}

#[test]
fn outputs_that_want_different_steps_each_get_their_own_table() {
    // 1000 + x wants a large step (rounding of 1000 against a slope of 1),
    // 1/x at 0.01 a small one (it changes on the scale of x).
    let f = |v: &ArrayRef1<f64>| [1000.0 + v[0], 1.0 / v[0], (30.0 * v[0]).sin()];
    let x = array![0.01];
    let exact = array![[1.0], [-1e4], [30.0 * 0.3f64.cos()]];
    // Measured: 3.4e-14 (estimate/true ≥ 52) in 14 calls.
    let j = FiniteDiff::accurate().jacobian(f, &x).expect("finite");
    let rel = max_relative_error(&j.value, &exact);
    let error = j.error.as_ref().expect("estimated");
    let ratio = min_estimate_ratio(&j.value, error, &exact);
    eprintln!(
        "mixed scales: {rel:.1e} (estimate/true ≥ {ratio:.1e}, {} calls)",
        j.evaluations
    );
    assert!(j.all_trusted(), "{:?}", j.status);
    assert!(rel < 1e-10 && ratio >= 1.0, "{rel:e} {ratio:e}");
}

/// Rosenbrock's Hessian, written out.
fn rosenbrock_hessian(x: &ArrayRef1<f64>) -> Array2<f64> {
    let n = x.len();
    let mut h = Array2::zeros((n, n));
    for i in 0..n - 1 {
        h[[i, i]] += 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0;
        h[[i + 1, i + 1]] += 200.0;
        h[[i, i + 1]] = -400.0 * x[i];
        h[[i + 1, i]] = -400.0 * x[i];
    }
    h
}

fn rosenbrock_dual(x: &ArrayRef1<HyperDual64>) -> HyperDual64 {
    let pairs = x.iter().zip(x.iter().skip(1));
    pairs.fold(HyperDual64::from(0.0), |sum, (&a, &b)| {
        sum + (b - a * a).powi(2) * 100.0 + (-a + 1.0).powi(2)
    })
}

/// Checks a Hessian by central differences and Richardson; returns the
/// relative errors (central, richardson).
fn check_hessian<F>(name: &str, f: F, x: &Array1<f64>, exact: &Array2<f64>) -> (f64, f64)
where
    F: Fn(&ArrayRef1<f64>) -> f64,
{
    let n = x.len();
    let central = FiniteDiff::new(Scheme::Central)
        .hessian(&f, x)
        .expect("finite");
    assert_eq!(central.evaluations, 1 + 2 * n * n);
    assert_eq!(central.value, central.value.t());
    let accurate = FiniteDiff::accurate().hessian(&f, x).expect("finite");
    assert_eq!(accurate.value, accurate.value.t());
    let error = accurate.error.as_ref().expect("estimated");
    let rel = (
        max_relative_error(&central.value, exact),
        max_relative_error(&accurate.value, exact),
    );
    let ratio = min_estimate_ratio(&accurate.value, error, exact);
    eprintln!(
        "{name}: central {:.1e}, richardson {:.1e} (estimate/true ≥ {ratio:.1e}, \
         max estimate {:.1e}, {} calls)",
        rel.0,
        rel.1,
        accurate.max_error().expect("estimated"),
        accurate.evaluations
    );
    assert!(accurate.all_trusted(), "{name}: {:?}", accurate.status);
    assert!(ratio >= 1.0, "{name}: an estimate below the true error");
    rel
}

#[test]
fn hessian_of_rosenbrock_in_2_and_10_dimensions() {
    for n in [2, 10] {
        let x = Array1::from_shape_fn(n, |i| if i % 2 == 0 { -1.2 } else { 1.0 });
        let exact = rosenbrock_hessian(&x);
        let dual = exact_hessian(rosenbrock_dual, &x).expect("finite");
        assert!(max_relative_error(&dual, &exact) < 1e-15);
        let f = |v: &ArrayRef1<f64>| kobai::rosenbrock(v).expect("n ≥ 2");
        let (central, richardson) = check_hessian(&format!("rosenbrock {n}-D"), f, &x, &exact);
        // Measured: central 2.6e-9 (2-D) and 2.2e-8 (10-D), richardson
        // 7.8e-14 and 9.2e-13 (estimate/true ≥ 6.2); 37 and 821 calls.
        assert!(central < 2e-7, "{central:e}");
        assert!(richardson < 1e-11, "{richardson:e}");
    }
}

#[test]
fn hessian_of_a_sum_of_squares_is_two_times_the_identity() {
    let f = |v: &ArrayRef1<f64>| v[0] * v[0] + v[1] * v[1];
    let exact = array![[2.0, 0.0], [0.0, 2.0]];
    // Measured: exact at (3, 4) for both; at (0.3, -0.7) central 3.7e-9,
    // richardson 1.8e-14 (estimate/true ≥ 22).
    for x in [array![3.0, 4.0], array![0.3, -0.7]] {
        let (central, richardson) = check_hessian("x0² + x1²", f, &x, &exact);
        assert!(central < 1e-7, "{central:e}");
        assert!(richardson < 1e-12, "{richardson:e}");
    }
    let x = array![3.0, 4.0];
    for fd in [FiniteDiff::new(Scheme::Central), FiniteDiff::accurate()] {
        assert_eq!(fd.hessian(f, &x).expect("finite").value, exact);
    }
}

#[test]
fn hessian_of_exp_of_a_product() {
    let f = |v: &ArrayRef1<f64>| (v[0] * v[1]).exp();
    for x in [array![0.5, 1.0], array![1.0, -2.0]] {
        let (a, b) = (x[0], x[1]);
        let e = (a * b).exp();
        let exact = array![
            [b * b * e, (1.0 + a * b) * e],
            [(1.0 + a * b) * e, a * a * e]
        ];
        let (central, richardson) = check_hessian("exp(x0·x1)", f, &x, &exact);
        // Measured: central 5.8e-9 and 2.1e-8, richardson 8.4e-13 and
        // 3.7e-12 (estimate/true ≥ 32).
        assert!(central < 2e-7, "{central:e}");
        assert!(richardson < 5e-11, "{richardson:e}");
    }
}

#[test]
fn a_two_dimensional_input_is_differentiated_in_row_major_order() {
    let w = array![[1.0, 2.0], [3.0, 4.0]];
    // The determinant and the sum of squares of a 2×2 matrix.
    let f = |m: &ArrayRef2<f64>| {
        [
            m[[0, 0]] * m[[1, 1]] - m[[0, 1]] * m[[1, 0]],
            m.iter().map(|v| v * v).sum(),
        ]
    };
    let exact = array![[4.0, -3.0, -2.0, 1.0], [2.0, 4.0, 6.0, 8.0]];
    let j = FiniteDiff::accurate().jacobian(f, &w).expect("finite");
    assert!(max_relative_error(&j.value, &exact) < 1e-12, "{}", j.value);
    let det = |m: &ArrayRef2<f64>| m[[0, 0]] * m[[1, 1]] - m[[0, 1]] * m[[1, 0]];
    let h = FiniteDiff::accurate().hessian(det, &w).expect("finite");
    let mut exact = Array2::zeros((4, 4));
    (exact[[0, 3]], exact[[3, 0]], exact[[1, 2]], exact[[2, 1]]) = (1.0, 1.0, -1.0, -1.0);
    let off = (&h.value - &exact)
        .iter()
        .fold(0.0, |a: f64, d| a.max(d.abs()));
    assert!(off < 1e-12, "{}", h.value);
    assert!(h.all_trusted());
}

#[test]
fn the_callers_x_is_untouched() {
    let x = array![[0.5, -1.0], [2.0, 0.25]];
    let before = x.clone();
    let f = |m: &ArrayRef2<f64>| m.iter().map(|v| v.sin()).collect::<Vec<f64>>();
    FiniteDiff::accurate().jacobian(f, &x).expect("finite");
    FiniteDiff::accurate()
        .hessian(
            |m: &ArrayRef2<f64>| m.iter().map(|v| v.sin()).sum::<f64>(),
            &x,
        )
        .expect("finite");
    assert_eq!(x, before);
}

#[test]
fn bad_input_gives_typed_errors() {
    let sum = |v: &ArrayRef1<f64>| v.sum();
    let nan = array![1.0, f64::NAN];
    for err in [
        FiniteDiff::accurate()
            .jacobian(|v| v.to_owned(), &nan)
            .expect_err("NaN"),
        FiniteDiff::accurate().hessian(sum, &nan).expect_err("NaN"),
    ] {
        assert_eq!(
            err.to_string(),
            "x is NaN at index [1]; expected a finite number"
        );
    }
    for h in [0.0, -1e-4, f64::INFINITY] {
        let fd = FiniteDiff::accurate().step(Step::Fixed(h));
        let errors = [
            fd.jacobian(|v| v.to_owned(), &array![1.0])
                .expect_err("bad h"),
            fd.hessian(sum, &array![1.0]).expect_err("bad h"),
        ];
        for err in errors {
            assert!(
                matches!(err, KobaiError::Hyperparameter { name: "h", .. }),
                "{err}"
            );
        }
    }
    let err = FiniteDiff::new(Scheme::FivePoint)
        .hessian(sum, &array![1.0])
        .expect_err("no five-point Hessian");
    assert_eq!(
        err.to_string(),
        "scheme = five-point is invalid; expected central or richardson \
         (the schemes the Hessian supports)"
    );
    // The output grows by one at the third call.
    let mut calls = 0;
    let changing = |v: &ArrayRef1<f64>| {
        calls += 1;
        if calls < 3 {
            vec![v[0]]
        } else {
            vec![v[0], v[1]]
        }
    };
    let err = FiniteDiff::new(Scheme::Central)
        .jacobian(changing, &array![1.0, 2.0])
        .expect_err("the output length changes");
    assert!(
        matches!(err, KobaiError::Shape { ref found, .. } if found == &[2]),
        "{err}"
    );
    assert!(err.to_string().contains("column 1"), "{err}");
    // A NaN output names the output and the column.
    let err = FiniteDiff::accurate()
        .jacobian(
            |v: &ArrayRef1<f64>| [v[0], f64::NAN * v[1]],
            &array![1.0, 2.0],
        )
        .expect_err("NaN output");
    assert!(matches!(err, KobaiError::NonFinite { .. }));
    assert!(
        err.to_string()
            .starts_with("output 1 of f(x + h) is NaN at column 0"),
        "{err}"
    );
}

#[test]
fn statuses_say_when_the_step_shrank_or_nothing_was_estimated() {
    // log(x − 1) at 1 + 2⁻²⁰: the probe step reaches past the edge.
    let x = array![1.0 + 2f64.powi(-20)];
    let f = |v: &ArrayRef1<f64>| [(v[0] - 1.0).ln()];
    let j = FiniteDiff::accurate()
        .jacobian(f, &x)
        .expect("finite near x");
    assert_eq!(j.status[[0, 0]], Status::StepShrunk);
    let exact = 2f64.powi(20);
    assert!((j.value[[0, 0]] - exact).abs() <= j.error.as_ref().expect("estimated")[[0, 0]]);
    let book = FiniteDiff::book()
        .jacobian(f, &array![2.0])
        .expect("finite");
    assert_eq!(book.worst_status(), Some(Status::NotEstimated));
    assert!(book.error.is_none() && !book.all_trusted());
}
