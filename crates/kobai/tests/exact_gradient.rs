//! Exact mode (dual numbers): derivatives to machine precision.
//!
//! Every reference below is the exact derivative at the `f64` input, computed
//! with 300-bit arithmetic (mpmath) and rounded once to the nearest `f64`; so a
//! reference is itself within half an ulp (≤ 1.1e-16 relative) of the truth.
//! The tests require a relative error ≤ 1e-15 (about 4.5 ulps at worst) and
//! print what they measure (`cargo test --test exact_gradient -- --nocapture`).

use std::cell::Cell;

use kobai::numerical_gradient::{
    Dual64, DualNum, HyperDual64, exact_derivative, exact_gradient, exact_hessian,
};
use kobai::{KobaiError, Result};
use ndarray::{Array1, ArrayRef, ArrayRef1, ArrayRef2, Dimension, array};

const TOLERANCE: f64 = 1e-15;

/// The largest relative error over the components (absolute where the reference is 0).
fn max_relative_error<D: Dimension>(found: &ArrayRef<f64, D>, reference: &ArrayRef<f64, D>) -> f64 {
    assert_eq!(found.shape(), reference.shape());
    found
        .iter()
        .zip(reference)
        .map(|(&f, &r)| {
            let scale = if r == 0.0 { 1.0 } else { r.abs() };
            (f - r).abs() / scale
        })
        .fold(0.0, f64::max)
}

fn check_scalar(case: &str, found: f64, reference: f64) {
    let err = max_relative_error(&ndarray::arr0(found), &ndarray::arr0(reference));
    println!("{case}: {found:e} vs {reference:e}, relative error {err:.3e}");
    assert!(err <= TOLERANCE, "{case}: relative error {err:e}");
}

fn check_array<D: Dimension>(case: &str, found: &ArrayRef<f64, D>, reference: &ArrayRef<f64, D>) {
    let err = max_relative_error(found, reference);
    println!("{case}: max relative error {err:.3e}");
    assert!(err <= TOLERANCE, "{case}: {found} vs {reference}: {err:e}");
}

fn function_2<T: DualNum<Primitive = f64> + Copy>(x: &ArrayRef1<T>) -> T {
    x.iter().fold(T::from(0.0), |sum, &v| sum + v * v)
}

fn rosenbrock<T: DualNum<Primitive = f64> + Copy>(x: &ArrayRef1<T>) -> T {
    x.iter()
        .zip(x.iter().skip(1))
        .fold(T::from(0.0), |sum, (&a, &b)| {
            sum + (b - a * a) * (b - a * a) * 100.0 + (-a + 1.0) * (-a + 1.0)
        })
}

#[test]
fn function_2_at_3_4() -> Result<()> {
    let grad = exact_gradient(function_2, &array![3.0, 4.0])?;
    check_array("x0² + x1² at (3, 4)", &grad, &array![6.0, 8.0]);
    Ok(())
}

#[test]
fn elementary_functions() -> Result<()> {
    // d/dx exp x = exp x.
    let exp_refs = [
        (0.0, 1.0),
        (1e-8, 1.00000001),
        (1.0, std::f64::consts::E), // e rounded to f64: 2.718281828459045
        (5.0, 148.4131591025766),
    ];
    for (x, reference) in exp_refs {
        check_scalar(
            &format!("exp at {x}"),
            exact_derivative(|v| v.exp(), x)?,
            reference,
        );
    }
    // d/dx sin x = cos x; at 1e4 the argument reduction matters.
    for (x, reference) in [(1.0, 0.5403023058681398), (1e4, -0.9521553682590148)] {
        check_scalar(
            &format!("sin at {x}"),
            exact_derivative(|v| v.sin(), x)?,
            reference,
        );
    }
    // d/dx ln x = 1/x: 1/0.01 rounds to 100.
    check_scalar("log at 0.01", exact_derivative(|v| v.ln(), 0.01)?, 100.0);
    // d/dx x¹⁰ = 10x⁹ = 5120 at 2.
    check_scalar("x^10 at 2", exact_derivative(|v| v.powi(10), 2.0)?, 5120.0);
    // d/dx 1/x = −1/x²: −1e6 at 1e-3 (rounded).
    check_scalar("1/x at 1e-3", exact_derivative(|v| v.recip(), 1e-3)?, -1e6);
    Ok(())
}

#[test]
fn rosenbrock_in_2_and_10_dimensions() -> Result<()> {
    // At (−1.2, 1): (−215.6, −88), rounded from the exact values at the f64 −1.2.
    let grad = exact_gradient(rosenbrock, &array![-1.2, 1.0])?;
    check_array(
        "Rosenbrock 2-D at (-1.2, 1)",
        &grad,
        &array![-215.59999999999994, -87.99999999999999],
    );

    let x = Array1::from_shape_fn(10, |i| if i % 2 == 0 { -1.2 } else { 1.0 });
    let grad = exact_gradient(rosenbrock, &x)?;
    let mut reference = Array1::from_shape_fn(10, |i| {
        if i % 2 == 0 {
            -655.5999999999999
        } else {
            792.0
        }
    });
    reference[0] = -215.59999999999994;
    reference[9] = -87.99999999999999;
    check_array("Rosenbrock 10-D at (-1.2, 1, ...)", &grad, &reference);
    // The library's hand-written gradient agrees too.
    check_array(
        "Rosenbrock 10-D vs rosenbrock_gradient",
        &grad,
        &kobai::rosenbrock_gradient(&x)?,
    );
    Ok(())
}

/// The notebook's simpleNet loss, `cross_entropy(softmax(x·W), t)`, without the
/// 1e-7 delta, generic over the number type. The softmax subtracts the largest
/// value of `x·W` (of its real part: a constant, which changes no derivative).
fn simple_net_loss<T: DualNum<Primitive = f64> + Copy>(
    w: &ArrayRef2<T>,
    x: &[f64],
    t: &[f64],
) -> T {
    let a: Vec<T> = w
        .columns()
        .into_iter()
        .map(|col| {
            col.iter()
                .zip(x)
                .fold(T::from(0.0), |s, (&wk, &xk)| s + wk * xk)
        })
        .collect();
    let max = a.iter().map(|v| v.re()).fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<T> = a.iter().map(|&v| (v - max).exp()).collect();
    let sum = e.iter().fold(T::from(0.0), |s, &v| s + v);
    -e.iter()
        .zip(t)
        .fold(T::from(0.0), |s, (&ej, &tj)| s + (ej / sum).ln() * tj)
}

#[test]
fn simple_net_softmax_cross_entropy() -> Result<()> {
    let w = array![
        [0.47355232, 0.9977393, 0.84668094],
        [0.85557411, 0.03563661, 0.69422093]
    ];
    let (x, t) = ([0.6, 0.9], [0.0, 0.0, 1.0]);
    let loss = simple_net_loss(&w, &x, &t);
    check_scalar("simpleNet loss (f64)", loss, 0.9280685387482352);
    let dw = exact_gradient(|w| simple_net_loss(w, &x, &t), &w)?;
    // outer(x, softmax(x·W) − t), exact at the f64 inputs, rounded once.
    let reference = array![
        [0.2192476266788698, 0.14356246612192342, -0.3628100928007932],
        [0.3288714400183047, 0.21534369918288512, -0.5442151392011898]
    ];
    check_array("simpleNet dW", &dw, &reference);
    Ok(())
}

#[test]
fn evaluates_once_per_component_and_leaves_x_alone() -> Result<()> {
    let calls = Cell::new(0);
    let x = Array1::from_shape_fn(10, |i| if i % 2 == 0 { -1.2 } else { 1.0 });
    let before = x.clone();
    exact_gradient(
        |v: &ArrayRef1<Dual64>| {
            calls.set(calls.get() + 1);
            rosenbrock(v)
        },
        &x,
    )?;
    assert_eq!(calls.get(), 10);
    assert_eq!(x, before);

    calls.set(0);
    exact_hessian(
        |v: &ArrayRef1<HyperDual64>| {
            calls.set(calls.get() + 1);
            rosenbrock(v)
        },
        &x,
    )?;
    assert_eq!(calls.get(), 10 * 11 / 2);
    assert_eq!(x, before);
    Ok(())
}

#[test]
fn nan_is_reported_with_its_index() {
    let err = exact_gradient(function_2, &array![1.0, 2.0, f64::NAN]).unwrap_err();
    assert!(matches!(&err, KobaiError::NonFinite { at, .. } if at == "index [2]"));
    assert_eq!(
        err.to_string(),
        "x is NaN at index [2]; expected a finite number"
    );
    let err = exact_hessian(rosenbrock, &array![f64::INFINITY, 1.0]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "x is inf at index [0]; expected a finite number"
    );
}

#[test]
fn rosenbrock_hessian_at_the_minimum() -> Result<()> {
    let h = exact_hessian(rosenbrock, &array![1.0, 1.0])?;
    assert_eq!(h, array![[802.0, -400.0], [-400.0, 200.0]]);
    Ok(())
}
