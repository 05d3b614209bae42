//! Tick positions on a 1-2-5 scale and their labels.

/// Tick values inside a range and how many decimals their labels need.
#[derive(Clone, Debug, PartialEq)]
pub struct Ticks {
    /// Tick positions, ascending.
    pub values: Vec<f64>,
    /// Digits after the decimal point in every label.
    pub decimals: usize,
}

/// Round ticks in `[min, max]`, about `target` of them (at most that many
/// intervals), with steps of 1, 2 or 5 times a power of ten.
pub fn ticks(min: f64, max: f64, target: usize) -> Ticks {
    let span = max - min;
    if !(span.is_finite() && span > 0.0) {
        return Ticks {
            values: Vec::new(),
            decimals: 0,
        };
    }
    let raw = span / target.max(1) as f64;
    let magnitude = 10_f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude);
    let first = (min / step - 1e-9).ceil() as i64;
    let last = (max / step + 1e-9).floor() as i64;
    if last.checked_sub(first).is_none_or(|n| n > 1000) {
        return Ticks {
            values: Vec::new(),
            decimals: 0,
        };
    }
    let values = (first..=last).map(|k| k as f64 * step).collect();
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    Ticks { values, decimals }
}

/// A tick label with a true minus sign and no "−0".
pub fn tick_label(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    match text.strip_prefix('-') {
        Some(rest) if rest.chars().any(|c| c.is_ascii_digit() && c != '0') => {
            format!("\u{2212}{rest}")
        }
        Some(rest) => rest.to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn book_ranges() {
        let t = ticks(-2.0, 2.0, 8);
        assert_eq!(
            t.values,
            vec![-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0]
        );
        assert_eq!(t.decimals, 1);
        let t = ticks(-3.5, 3.5, 8);
        assert_eq!(t.values, vec![-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]);
        assert_eq!(t.decimals, 0);
        assert_eq!(ticks(-4.5, 4.5, 10).values.len(), 9);
    }

    #[test]
    fn degenerate_ranges_have_no_ticks() {
        assert!(ticks(1.0, 1.0, 5).values.is_empty());
        assert!(ticks(0.0, f64::NAN, 5).values.is_empty());
    }

    #[test]
    fn labels() {
        assert_eq!(tick_label(-1.5, 1), "\u{2212}1.5");
        assert_eq!(tick_label(-0.0, 1), "0.0");
        assert_eq!(tick_label(-1e-17, 0), "0");
        assert_eq!(tick_label(2.0, 0), "2");
    }
}
