//! Comma-separated numbers on the command line: points (`--at 3,4`) and
//! ranges (`--x0 -2,2`). Each error names the option and the item.

use anyhow::{Result, bail, ensure};

/// The numbers of `text`, e.g. `"3, 4"` or `"[3, 4]"` → `[3.0, 4.0]`.
/// Every item must be a finite number.
pub fn parse_numbers(option: &str, text: &str) -> Result<Vec<f64>> {
    let inner = text.trim();
    let inner = inner
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(inner);
    ensure!(
        !inner.trim().is_empty(),
        "{option} is empty; expected numbers separated by commas, such as 3,4"
    );
    let items: Vec<&str> = inner.split(',').map(str::trim).collect();
    let count = items.len();
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let which = format!("{option} item {} of {count}", i + 1);
            if item.is_empty() {
                bail!("{which} is empty; expected numbers separated by commas, such as 3,4");
            }
            match item.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                Ok(_) => bail!("{which}, '{item}', is not a finite number"),
                Err(_) => bail!("{which}, '{item}', is not a number"),
            }
        })
        .collect()
}

/// A range `MIN,MAX` with finite `MIN < MAX`.
pub fn parse_range(option: &str, text: &str) -> Result<(f64, f64)> {
    let numbers = parse_numbers(option, text)?;
    let &[min, max] = numbers.as_slice() else {
        bail!(
            "{option} takes two numbers, MIN,MAX, but '{text}' has {}",
            numbers.len()
        );
    };
    ensure!(
        min < max,
        "{option} {text} is empty; expected MIN below MAX"
    );
    ensure!(
        (max - min).is_finite(),
        "{option} {text} is too wide to draw"
    );
    Ok((min, max))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(result: Result<impl std::fmt::Debug>) -> String {
        format!("{:#}", result.expect_err("an error"))
    }

    #[test]
    fn points() -> Result<()> {
        assert_eq!(parse_numbers("--at", "3,4")?, vec![3.0, 4.0]);
        assert_eq!(parse_numbers("--at", " [-1.5, 2e3] ")?, vec![-1.5, 2000.0]);
        assert_eq!(parse_numbers("--at", ".5")?, vec![0.5]);
        assert_eq!(
            err(parse_numbers("--at", "3,x,4")),
            "--at item 2 of 3, 'x', is not a number"
        );
        assert_eq!(
            err(parse_numbers("--at", "3,,4")),
            "--at item 2 of 3 is empty; expected numbers separated by commas, such as 3,4"
        );
        assert!(err(parse_numbers("--at", "nan")).contains("not a finite number"));
        assert!(err(parse_numbers("--at", " ")).contains("--at is empty"));
        Ok(())
    }

    #[test]
    fn ranges() -> Result<()> {
        assert_eq!(parse_range("--x0", "-2,2")?, (-2.0, 2.0));
        assert_eq!(
            err(parse_range("--x0", "1,2,3")),
            "--x0 takes two numbers, MIN,MAX, but '1,2,3' has 3"
        );
        assert!(err(parse_range("--x1", "2,-2")).contains("MIN below MAX"));
        assert!(err(parse_range("--x1", "-1e308,1e308")).contains("too wide"));
        Ok(())
    }
}
