//! Formulas as a user meets them: parsed from text, differentiated numerically
//! and exactly, and checked against kobai's own Rust objectives.

use kobai::{Formula, KobaiError, function_2, numerical_gradient, rosenbrock, rosenbrock_gradient};
use ndarray::{Array1, array};
use proptest::prelude::*;

fn formula(source: &str) -> Formula {
    Formula::parse(source).unwrap_or_else(|e| panic!("{e}"))
}

/// Whether the numerical and the exact gradient agree to the central
/// difference's accuracy (h = 1e-4: truncation ~h², rounding ~1e-16·|f|/h).
fn agree(numerical: &Array1<f64>, exact: &Array1<f64>, scale: f64) -> bool {
    numerical
        .iter()
        .zip(exact)
        .all(|(n, e)| (n - e).abs() <= 1e-6 * (scale + e.abs()))
}

#[test]
fn the_notebooks_function_2_as_text() -> kobai::Result<()> {
    let f = formula("x0^2 + x1^2");
    let x = array![3.0, 4.0];
    // Bit for bit the notebook's In[6]: x0^2 compiles to x0*x0, as function_2 computes it.
    assert_eq!(
        numerical_gradient(|x| f.evaluate(x), &x)?,
        numerical_gradient(function_2, &x)?
    );
    assert_eq!(f.gradient(&x)?, array![6.0, 8.0]);
    Ok(())
}

#[test]
fn evaluates_views_that_are_not_contiguous() -> kobai::Result<()> {
    let points = array![[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]];
    let column = points.column(1);
    let f = formula("x0 + x1 * x2");
    assert_eq!(f.evaluate(&column)?, 610.0);
    assert_eq!(f.gradient(&column)?, array![1.0, 30.0, 20.0]);
    Ok(())
}

#[test]
fn numerical_gradient_passes_on_the_shape_error() {
    let f = formula("x0 * x1 * x2");
    let err = numerical_gradient(|x| f.evaluate(x), &array![1.0, 2.0]).unwrap_err();
    assert!(matches!(err, KobaiError::Shape { .. }), "{err}");
}

#[test]
fn a_value_that_is_not_finite_is_named_by_numerical_gradient() {
    let f = formula("log(x0) + x1");
    let err = numerical_gradient(|x| f.evaluate(x), &array![0.0, 1.0]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "f(x - h) is NaN at index [0]; expected a finite number"
    );
}

/// Formulas, each with the box its random points come from.
const FORMULAS: [(&str, f64); 6] = [
    ("x0^2 + x1^2", 100.0),
    ("sin(x0) * cos(x1) + x0 * x1", 3.0),
    ("exp(-x^2 - y^2) * (x - 2*y)", 2.0),
    (
        "log(1 + x0^2) + sqrt(x1^2 + 1) - tanh(x0 * x1) + abs(x0 - 10)",
        3.0,
    ),
    ("x0^3 / (1 + x1^2) + pow(2, x2) + x2 / 3", 2.0),
    ("max(x0, 5) * min(x1, -5) + tan(x0 / 4) / 2^x1", 2.0),
];

proptest! {
    #[test]
    fn exact_gradient_agrees_with_numerical_gradient(
        which in 0..FORMULAS.len(),
        unit in proptest::collection::vec(-1.0..1.0f64, 3),
    ) {
        let (source, half_width) = FORMULAS[which];
        let f = formula(source);
        let x: Array1<f64> = unit.iter().take(f.arity()).map(|u| u * half_width).collect();
        let numerical = numerical_gradient(|x| f.evaluate(x), &x)?;
        let exact = f.gradient(&x)?;
        let scale = 1.0 + f.evaluate(&x)?.abs();
        prop_assert!(agree(&numerical, &exact, scale), "{source} at {x}: {numerical} vs {exact}");
    }

    #[test]
    fn rosenbrock_as_text_is_kobais_rosenbrock(x0 in -2.0..2.0f64, x1 in -1.0..3.0f64) {
        let f = formula("100 * (x1 - x0^2)^2 + (1 - x0)^2");
        let x = array![x0, x1];
        let (value, reference) = (f.evaluate(&x)?, rosenbrock(&x)?);
        prop_assert!((value - reference).abs() <= 1e-12 * (1.0 + reference), "{value} vs {reference}");
        let (exact, reference) = (f.gradient(&x)?, rosenbrock_gradient(&x)?);
        for (a, b) in exact.iter().zip(&reference) {
            prop_assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()), "{exact} vs {reference}");
        }
    }
}
