//! Input checks shared by every public function: they run before any arithmetic.

use ndarray::{ArrayRef, Dimension, IntoDimension};

use crate::error::{KobaiError, Result};

/// Formats an index the way error messages show it: `[1, 2]`.
pub(crate) fn index_text(index: &[usize]) -> String {
    let parts: Vec<String> = index.iter().map(usize::to_string).collect();
    format!("[{}]", parts.join(", "))
}

/// A number for an error message: plain, or in `1e300` form when plain would be
/// long (`format!("{x}")` writes 1e300 with 301 digits).
pub(crate) fn number_text(x: f64) -> String {
    if x != 0.0 && x.is_finite() && (x.abs() >= 1e16 || x.abs() < 1e-5) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// Errors with [`KobaiError::Empty`] when `x` holds no element.
pub(crate) fn non_empty<D: Dimension>(what: &str, x: &ArrayRef<f64, D>) -> Result<()> {
    if x.is_empty() {
        return Err(KobaiError::Empty { what: what.into() });
    }
    Ok(())
}

/// Errors with [`KobaiError::NonFinite`] at the first NaN or infinite element of `x`.
pub(crate) fn finite<D: Dimension>(what: &str, x: &ArrayRef<f64, D>) -> Result<()> {
    // One pass without indices (the common, finite case: a tight loop even
    // over dynamic-dimensional arrays), then the index only on failure.
    let all_finite = match x.as_slice_memory_order() {
        Some(values) => values.iter().fold(true, |ok, v| ok & v.is_finite()),
        None => x.iter().all(|v| v.is_finite()),
    };
    if all_finite {
        return Ok(());
    }
    match x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        None => Ok(()),
        Some((index, &value)) => Err(KobaiError::NonFinite {
            what: what.into(),
            at: format!("index {}", index_text(index.into_dimension().slice())),
            value,
        }),
    }
}

/// Errors with [`KobaiError::NonFinite`] when the scalar `value` is NaN or infinite.
pub(crate) fn finite_scalar(what: &str, at: impl FnOnce() -> String, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(KobaiError::NonFinite {
            what: what.into(),
            at: at(),
            value,
        })
    }
}

/// Errors with [`KobaiError::Hyperparameter`] unless `value` is finite and above zero.
pub(crate) fn positive(name: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(KobaiError::Hyperparameter {
            name,
            value: crate::error::short_number(value),
            expected: "a finite number above 0",
        })
    }
}

/// Errors with [`KobaiError::Shape`] unless `x` has exactly `shape`.
pub(crate) fn shape_is<D: Dimension>(
    what: &str,
    x: &ArrayRef<f64, D>,
    shape: &[usize],
) -> Result<()> {
    if x.shape() == shape {
        Ok(())
    } else {
        Err(KobaiError::Shape {
            what: what.into(),
            expected: format!("expected shape {shape:?}"),
            found: x.shape().to_vec(),
        })
    }
}
