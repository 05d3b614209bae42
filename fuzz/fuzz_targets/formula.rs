//! The formula parser, evaluator and exact gradient: every UTF-8 string parses
//! or is a `KobaiError::Formula` with a column inside it; a parsed formula
//! evaluates and differentiates at a point of its arity without a panic, a
//! stack overflow or a hang.

#![no_main]

use kobai::{Formula, KobaiError};
use libfuzzer_sys::fuzz_target;
use ndarray::{Array1, s};

/// Longer formulas only make runs slower (nesting is capped by the parser).
const MAX_LEN: usize = 4096;

/// Points of more coordinates are not worth a gradient per run.
const MAX_ARITY: usize = 32;

fuzz_target!(|bytes: &[u8]| {
    if bytes.len() > MAX_LEN {
        return;
    }
    let Ok(source) = std::str::from_utf8(bytes) else {
        return;
    };
    let formula = match Formula::parse(source) {
        Ok(formula) => formula,
        Err(KobaiError::Formula {
            formula, position, ..
        }) => {
            assert_eq!(formula, source);
            assert!(
                (1..=source.chars().count() + 1).contains(&position),
                "column {position} outside {source:?}"
            );
            return;
        }
        Err(other) => panic!("not a formula error: {other:?}"),
    };
    assert_eq!(formula.source(), source);
    assert_eq!(formula.to_string(), source);
    let arity = formula.arity();
    if arity > 0 {
        let short = Array1::from_elem(arity.min(MAX_ARITY + 1) - 1, 1.0);
        assert!(formula.evaluate(&short).is_err());
        assert!(formula.gradient(&short).is_err());
    }
    if arity > MAX_ARITY {
        return;
    }
    let x = Array1::from_shape_fn(arity + 1, |i| 0.5 + 0.25 * i as f64);
    let value = formula.evaluate(&x).expect("the point has the arity");
    let gradient = formula.gradient(&x).expect("the point has the arity");
    assert_eq!(gradient.len(), x.len());
    assert_eq!(
        gradient[arity], 0.0,
        "a coordinate the formula does not use"
    );

    // The same point as a strided view takes the other path: same bits.
    let spread = Array1::from_shape_fn(2 * x.len(), |i| x[i / 2]);
    let view = spread.slice(s![..;2]);
    let again = formula.evaluate(&view).expect("the point has the arity");
    assert!(same(value, again), "{value} vs {again}");
    let gradient_again = formula.gradient(&view).expect("the point has the arity");
    assert!(
        gradient
            .iter()
            .zip(&gradient_again)
            .all(|(a, b)| same(*a, *b))
    );

    // Parsing is a function of the text.
    assert_eq!(Formula::parse(source).expect("parsed once"), formula);
});

/// Equal bits, or both NaN.
fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}
