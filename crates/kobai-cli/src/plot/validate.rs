//! Input checks shared by the chart functions; each error says what is wrong.

use anyhow::{bail, ensure};

/// A plot range must be finite with `min < max`.
pub fn check_range(name: &str, (min, max): (f64, f64)) -> anyhow::Result<()> {
    ensure!(
        min.is_finite() && max.is_finite(),
        "{name} range [{min}, {max}] must have finite bounds"
    );
    ensure!(min < max, "{name} range [{min}, {max}] must have min < max");
    ensure!(
        (max - min).is_finite(),
        "{name} range [{min}, {max}] is too wide"
    );
    Ok(())
}

/// Grid coordinates must be present and finite.
pub fn check_coords(name: &str, coords: &[f64]) -> anyhow::Result<()> {
    ensure!(!coords.is_empty(), "the grid has no {name} coordinates");
    if let Some((i, v)) = coords.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        bail!("grid {name} coordinate #{i} is {v}, not a finite number");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert!(check_range("x", (-2.0, 2.0)).is_ok());
        let err = check_range("x", (2.0, 2.0)).expect_err("empty range");
        assert!(err.to_string().contains("x range"), "{err}");
        assert!(check_range("y", (f64::NAN, 1.0)).is_err());
        assert!(check_range("y", (0.0, f64::INFINITY)).is_err());
        assert!(check_range("y", (-f64::MAX, f64::MAX)).is_err());
    }

    #[test]
    fn coords() {
        assert!(check_coords("x", &[0.0, 1.0]).is_ok());
        assert!(check_coords("x", &[]).is_err());
        let err = check_coords("y", &[0.0, f64::NAN]).expect_err("nan");
        assert!(err.to_string().contains("#1"), "{err}");
    }
}
