//! `kobai grad … --h-sweep`: how the error of a numerical derivative depends
//! on its step h, from 1e-16 to 1, for the forward, central (the book's),
//! five-point and Richardson schemes, against the exact gradient. It shows
//! why the book takes h = 1e-4: larger steps pay truncation (the error falls
//! as h, h², h⁴ …), smaller ones pay rounding (it grows as ε/h).

use std::path::{Path, PathBuf};

use anyhow::{Result, ensure};
use kobai::Formula;
use kobai::numerical_gradient::{FiniteDiff, Scheme, Step};
use kobai::numpy_style::numpy_str;
use ndarray::Array1;
use serde_json::{Value, json};

use crate::plot::{GridSpec, PALETTE, Panel, Series, draw_grid};

/// Steps per decade of h.
const PER_DECADE: i32 = 4;
/// The smallest and largest h, as powers of ten.
const DECADES: (i32, i32) = (-16, 0);

/// The schemes compared, as `--scheme` spells them.
const SCHEMES: [(&str, Scheme); 4] = [
    ("forward", Scheme::Forward),
    ("central (the book's)", Scheme::Central),
    ("five-point", Scheme::FivePoint),
    ("richardson", Scheme::Richardson),
];

/// The largest error over the gradient's components, per scheme and step.
pub struct Sweep {
    pub steps: Vec<f64>,
    /// Per scheme: its name and one error per step (`None` where f was not
    /// finite at a point the scheme needs, or the error is exactly 0).
    pub errors: Vec<(&'static str, Vec<Option<f64>>)>,
    pub exact: Array1<f64>,
}

/// The sweep of `formula`'s gradient at `point`; the exact gradient must be
/// finite there.
pub fn sweep(formula: &Formula, point: &Array1<f64>) -> Result<Sweep> {
    let exact = formula.gradient(point)?;
    ensure!(
        exact.iter().all(|g| g.is_finite()),
        "the exact gradient is {} at x = {}: there is nothing to compare the steps against",
        numpy_str(&exact),
        numpy_str(point)
    );
    let steps: Vec<f64> = (DECADES.0 * PER_DECADE..=DECADES.1 * PER_DECADE)
        .map(|k| 10f64.powf(f64::from(k) / f64::from(PER_DECADE)))
        .collect();
    let errors = SCHEMES
        .iter()
        .map(|&(name, scheme)| {
            let row = steps
                .iter()
                .map(|&h| {
                    let estimate = FiniteDiff::new(scheme)
                        .step(Step::Fixed(h))
                        .gradient(|x| formula.evaluate(x), point)
                        .ok()?;
                    let error = estimate
                        .value
                        .iter()
                        .zip(&exact)
                        .map(|(n, e)| (n - e).abs())
                        .fold(
                            0.0,
                            |m: f64, d| if d.is_nan() { f64::NAN } else { m.max(d) },
                        );
                    (error.is_finite() && error > 0.0).then_some(error)
                })
                .collect();
            (name, row)
        })
        .collect();
    Ok(Sweep {
        steps,
        errors,
        exact,
    })
}

impl Sweep {
    /// The step of the smallest error of each scheme.
    pub fn best(&self) -> Vec<(&'static str, Option<(f64, f64)>)> {
        self.errors
            .iter()
            .map(|(name, row)| {
                let best = self
                    .steps
                    .iter()
                    .zip(row)
                    .filter_map(|(&h, e)| e.map(|e| (h, e)))
                    .min_by(|a, b| a.1.total_cmp(&b.1));
                (*name, best)
            })
            .collect()
    }

    /// As JSON: the steps, each scheme's errors (null where none), the best.
    pub fn as_json(&self) -> Value {
        json!({
            "steps": self.steps,
            "exact": self.exact.to_vec(),
            "book_step": kobai::BOOK_STEP,
            "schemes": self.errors.iter().zip(self.best()).map(|((name, row), (_, best))| json!({
                "name": name,
                "errors": row,
                "best": best.map(|(h, e)| json!({ "h": h, "error": e })),
            })).collect::<Vec<_>>(),
        })
    }

    /// The table for people: the best step and error of each scheme, and
    /// the error at the book's h.
    pub fn as_text(&self) -> String {
        let book = self
            .steps
            .iter()
            .position(|&h| (h / kobai::BOOK_STEP - 1.0).abs() < 1e-9);
        let mut text = format!(
            "{:<22} {:>10} {:>12} {:>14}\n",
            "scheme", "best h", "its error", "error at 1e-4"
        );
        for ((name, row), (_, best)) in self.errors.iter().zip(self.best()) {
            let at_book = book.and_then(|k| row[k]);
            let show = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.2e}"));
            text += &format!(
                "{name:<22} {:>10} {:>12} {:>14}\n",
                show(best.map(|b| b.0)),
                show(best.map(|b| b.1)),
                show(at_book)
            );
        }
        text
    }

    /// The log-log picture: log10 of the error against log10 of h, one line
    /// a scheme, and the book's h marked.
    pub fn draw(&self, stem: &Path, title: &str) -> Result<Vec<PathBuf>> {
        let mut panel = Panel::new(title, "log10 h", "log10 |numerical − exact|");
        let mut lowest = f64::INFINITY;
        let mut highest = f64::NEG_INFINITY;
        for (k, (name, row)) in self.errors.iter().enumerate() {
            let points: Vec<(f64, f64)> = self
                .steps
                .iter()
                .zip(row)
                .filter_map(|(&h, e)| e.map(|e| (h.log10(), e.log10())))
                .collect();
            for &(_, y) in &points {
                lowest = lowest.min(y);
                highest = highest.max(y);
            }
            if !points.is_empty() {
                panel.series.push(Series::line(*name, PALETTE[k], points));
            }
        }
        ensure!(
            !panel.series.is_empty(),
            "no step gave a finite, non-zero error to draw"
        );
        let x = kobai::BOOK_STEP.log10();
        panel.series.push(
            Series::line(
                "the book's h = 1e-4",
                PALETTE[7],
                vec![(x, lowest), (x, highest)],
            )
            .dashed(),
        );
        panel.x_range = Some((f64::from(DECADES.0), f64::from(DECADES.1)));
        draw_grid(
            stem,
            &GridSpec {
                title: "How accurate is a numerical derivative?".into(),
                rows: 1,
                columns: 1,
                cell: (900, 600),
                legend: true,
                panels: vec![panel],
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_central_difference_is_best_near_the_books_step_and_richardson_beats_it() -> Result<()> {
        let f = Formula::parse("sin(x0) * exp(x1)")?;
        let s = sweep(&f, &Array1::from(vec![0.7, 0.3]))?;
        assert_eq!(s.steps.len(), 65);
        let best = s.best();
        let central = best[1].1.expect("a best step");
        // Truncation h² against rounding ε/h: the best h is near ε^(1/3) ≈ 6e-6.
        assert!((1e-7..=1e-3).contains(&central.0), "{central:?}");
        assert!(central.1 < 1e-9, "{central:?}");
        let richardson = best[3].1.expect("a best step");
        assert!(richardson.1 < central.1, "{richardson:?} vs {central:?}");
        let forward = best[0].1.expect("a best step");
        assert!(forward.1 > central.1, "{forward:?} vs {central:?}");
        // Rounding takes over at tiny steps: the error at 1e-14 is far worse.
        let tiny = s.errors[1].1[8].expect("finite");
        assert!(tiny > 1e3 * central.1, "{tiny:e}");
        Ok(())
    }

    #[test]
    fn an_infinite_exact_gradient_is_an_error() -> Result<()> {
        let f = Formula::parse("sqrt(x)")?;
        assert!(sweep(&f, &Array1::from(vec![0.0])).is_err());
        Ok(())
    }
}
