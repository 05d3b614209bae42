//! Precedence, every function, and the column of every kind of error.

use std::f64::consts::{E, PI};

use ndarray::{Array1, array};

use super::Formula;
use crate::error::KobaiError;

/// The value of a formula at `x`.
fn eval(source: &str, x: &[f64]) -> f64 {
    let f = Formula::parse(source).unwrap_or_else(|e| panic!("{source}: {e}"));
    f.evaluate(&Array1::from(x.to_vec()))
        .unwrap_or_else(|e| panic!("{source}: {e}"))
}

/// The column and message of the error `source` gives.
fn error(source: &str) -> (usize, String) {
    match Formula::parse(source) {
        Err(KobaiError::Formula {
            formula,
            position,
            message,
        }) => {
            assert_eq!(formula, source);
            (position, message)
        }
        other => panic!("{source}: expected a formula error, got {other:?}"),
    }
}

#[test]
fn precedence_is_the_usual_one() {
    for (source, expected) in [
        ("-2^2", -4.0),
        ("2^3^2", 512.0),
        ("2^-1", 0.5),
        ("2*-3", -6.0),
        ("1/2", 0.5),
        ("1 - 2 - 3", -4.0),
        ("8 / 4 / 2", 1.0),
        ("2 + 3 * 4", 14.0),
        ("(2 + 3) * 4", 20.0),
        ("2 * 3 ^ 2", 18.0),
        ("-2 * 3", -6.0),
        ("--2", 2.0),
        ("+2", 2.0),
        ("2^-1*3", 1.5),
        ("-(2)^2", -4.0),
        ("(-2)^2", 4.0),
        ("2**3**2", 512.0),
        ("3 \u{2212} 1", 2.0),
    ] {
        assert_eq!(eval(source, &[]), expected, "{source}");
    }
    assert_eq!(eval("-x^2", &[3.0]), -9.0);
    assert_eq!(eval("2^-x^2", &[1.0]), 0.5);
    assert_eq!(eval("-x0^2 + x1", &[2.0, 1.0]), -3.0);
}

#[test]
fn numbers_in_every_usual_notation() {
    for (source, expected) in [
        ("3", 3.0),
        ("3.", 3.0),
        (".5", 0.5),
        ("0.25", 0.25),
        ("1e-3", 1e-3),
        ("2.5E+4", 2.5e4),
        ("1e3", 1000.0),
        ("2*e", 2.0 * E),
        ("2e1*e", 20.0 * E),
    ] {
        assert_eq!(eval(source, &[]), expected, "{source}");
    }
    // Without exponent digits, `e` is the constant, and `2e` lacks its `*`.
    assert!(error("2e").1.contains("write 2*e for a product"));
}

#[test]
fn variables_and_constants() {
    assert_eq!(eval("x + 10*y", &[1.0, 2.0]), 21.0);
    assert_eq!(eval("x0 + 10*x1 + 100*x2", &[1.0, 2.0, 3.0]), 321.0);
    assert_eq!(eval("x10", &[0.0; 11]), 0.0);
    assert_eq!(eval("pi", &[]), PI);
    assert_eq!(eval("e", &[]), E);
    let arity = |s: &str| Formula::parse(s).map(|f| f.arity());
    assert_eq!(arity("x2"), Ok(3));
    assert_eq!(arity("y"), Ok(2));
    assert_eq!(arity("2 * pi"), Ok(0));
}

#[test]
fn every_function() {
    let x: f64 = 0.7;
    for (source, expected) in [
        ("exp(x)", x.exp()),
        ("log(x)", x.ln()),
        ("sqrt(x)", x.sqrt()),
        ("sin(x)", x.sin()),
        ("cos(x)", x.cos()),
        ("tan(x)", x.tan()),
        ("tanh(x)", x.tanh()),
        ("abs(-x)", x),
        ("pow(x, 3)", x.powf(3.0)),
        ("min(x, 0.5)", 0.5),
        ("max(x, 0.5)", x),
        ("x^2", x * x),
        ("x^0.5", x.sqrt()),
    ] {
        assert_eq!(eval(source, &[x]), expected, "{source}");
    }
    assert!(eval("log(-1)", &[]).is_nan());
    assert_eq!(eval("1/0", &[]), f64::INFINITY);
}

#[test]
fn exact_gradient_of_every_function() {
    let (x, y): (f64, f64) = (0.7, -1.3);
    let point = array![x, y];
    for (source, expected) in [
        ("exp(x)", [x.exp(), 0.0]),
        ("log(x)", [1.0 / x, 0.0]),
        ("sqrt(x)", [0.5 / x.sqrt(), 0.0]),
        ("sin(x)*y", [x.cos() * y, x.sin()]),
        ("cos(y)", [0.0, -y.sin()]),
        ("tan(x)", [1.0 / (x.cos() * x.cos()), 0.0]),
        ("tanh(y)", [0.0, 1.0 - y.tanh() * y.tanh()]),
        ("abs(y)", [0.0, -1.0]),
        ("pow(x, y)", [y * x.powf(y - 1.0), x.powf(y) * x.ln()]),
        ("min(x, y)", [0.0, 1.0]),
        ("max(x, y)", [1.0, 0.0]),
        ("x / y", [1.0 / y, -x / (y * y)]),
        ("x^3 - y^2", [3.0 * x * x, -2.0 * y]),
    ] {
        let g = Formula::parse(source)
            .and_then(|f| f.gradient(&point))
            .unwrap_or_else(|e| panic!("{source}: {e}"));
        for (got, want) in g.iter().zip(expected) {
            assert!((got - want).abs() < 1e-12, "{source}: {g} vs {expected:?}");
        }
    }
}

#[test]
fn gradient_has_the_points_length() -> crate::Result<()> {
    let f = Formula::parse("x^2")?;
    assert_eq!(f.gradient(&array![3.0, 5.0])?, array![6.0, 0.0]);
    assert_eq!(Formula::parse("7")?.gradient(&array![])?, array![]);
    Ok(())
}

#[test]
fn a_short_point_is_a_shape_error() -> crate::Result<()> {
    let f = Formula::parse("x0 + x2")?;
    let err = f.gradient(&array![1.0, 2.0]).unwrap_err();
    assert!(matches!(&err, KobaiError::Shape { found, .. } if found == &[2]));
    assert!(
        err.to_string().contains("needs at least 3 coordinates"),
        "{err}"
    );
    let err = Formula::parse("x")?.evaluate(&array![]).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("uses x0, so it needs at least 1 coordinate"),
        "{err}"
    );
    Ok(())
}

#[test]
fn errors_name_the_column() {
    for (source, column, needle) in [
        ("", 1, "the formula is empty"),
        ("   ", 1, "the formula is empty"),
        (
            "foo(1)",
            1,
            "unknown function 'foo'; expected one of exp, log, sqrt",
        ),
        ("x + ln(x)", 5, "(log is the natural logarithm)"),
        ("x + z", 5, "unknown variable 'z'"),
        ("x01", 1, "unknown variable 'x01'"),
        (
            "sin x",
            1,
            "function 'sin' needs its argument in parentheses",
        ),
        ("x(2)", 1, "'x' is not a function"),
        ("(x + 1", 1, "this '(' is never closed"),
        ("2 * (x + (1)", 5, "this '(' is never closed"),
        ("sin(x", 4, "this '(' is never closed"),
        ("x + 1)", 6, "')' has no matching '('"),
        ("x +", 3, "'+' at the end has nothing after it"),
        ("x^2 *", 5, "'*' at the end has nothing after it"),
        (
            "x * * 2",
            5,
            "expected a number, a variable, a function or '(', found '*'",
        ),
        ("()", 2, "found ')'"),
        (
            "pow(2)",
            1,
            "pow takes 2 arguments, as in pow(a, b), but was given 1",
        ),
        (
            "sin(1, 2)",
            1,
            "sin takes 1 argument, as in sin(x), but was given 2",
        ),
        (
            "2 + exp()",
            5,
            "exp takes 1 argument, as in exp(x), but was given 0",
        ),
        ("pow(2,)", 7, "found ')'"),
        (
            "2x",
            2,
            "expected an operator, found 'x' (write 2*x for a product)",
        ),
        ("(x y)", 4, "expected an operator or ')', found 'y'"),
        ("pow(x y)", 7, "expected ',' or ')', found 'y'"),
        ("x # 2", 3, "unexpected character '#'"),
        ("x[0]", 2, "write x0 for the book's x[0]"),
        ("1e999", 1, "the number 1e999 is too large"),
        ("π + x", 1, "unexpected character 'π'"),
        ("x + π", 5, "unexpected character 'π'"),
    ] {
        let (got_column, message) = error(source);
        assert!(message.contains(needle), "{source:?}: {message}");
        assert_eq!(got_column, column, "{source:?}: {message}");
    }
}

#[test]
fn the_error_line_quotes_the_formula() {
    let err = Formula::parse("x0^2 + (x1").unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot read formula \"x0^2 + (x1\" at column 8: this '(' is never closed"
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!("{}x{}", "(".repeat(10_000), ")".repeat(10_000));
    let (_, message) = error(&deep);
    assert!(message.contains("nests more than 100 levels"), "{message}");
    let signs = format!("{}x", "-".repeat(10_000));
    assert!(error(&signs).1.contains("nests"));
    // Within the limit, deep formulas work (and run on a heap stack).
    let ok = format!("{}x{}", "(1 + ".repeat(100), ")".repeat(100));
    assert_eq!(eval(&ok, &[1.0]), 101.0);
    let (column, _) = error(&format!("{}x{}", "(1 + ".repeat(101), ")".repeat(101)));
    assert_eq!(column, 501, "the 101st parenthesis");
}

#[test]
fn display_and_from_str_round_trip() -> crate::Result<()> {
    let f: Formula = " x^2 ".parse()?;
    assert_eq!(f.to_string(), " x^2 ");
    assert_eq!(f, Formula::parse(&f.to_string())?);
    Ok(())
}
