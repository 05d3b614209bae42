//! `kobai field`: the gradient field (arrows of −∇f) of a formula of two
//! variables — the book's figure 4-9 for any f.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail, ensure};
use kobai::error::short_number;
use kobai::{Formula, numerical_gradient};
use ndarray::{Array2, array};
use serde_json::{Value, json};

use crate::formula_input::formula_text;
use crate::output_paths::ensure_out_dir;
use crate::plot::{FieldSpec, draw_gradient_field};
use crate::point::parse_range;

/// The most grid points along one axis.
const MAX_POINTS_PER_AXIS: usize = 200;
/// `arrows[[iy, ix]]` is the arrow at `(xs[ix], ys[iy])`.
type Arrows = Array2<(f64, f64)>;

/// Titles longer than this are cut with an ellipsis.
const MAX_TITLE_FORMULA: usize = 60;

/// Options of `kobai field`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Draws <DIR>/<NAME>.png and <DIR>/<NAME>.svg: at each grid point an arrow of
-∇f, the direction of steepest descent, with ∇f by the book's central
difference (h = 1e-4). Arrows share one scale; points where f is not finite
are left empty.

The grid is MIN, MIN + STEP, … up to MAX on each axis: the defaults are the
book's gradient_2d.py, np.arange(-2, 2.5, 0.25), viewed on [-2, 2].
The formula language is the one of `kobai grad --help`.

With --json nothing is drawn or written: one JSON object holds formula, x0 and
x1 (the ranges), step, h, xs and ys (the grid), missing (points without a
gradient), first_error, and points: one {\"x0\", \"x1\", \"gradient\"} per grid
point, x0 varying fastest, gradient being ∇f (not -∇f) or null where it is not
finite.

Example: kobai field \"x^2 - y^2\" --x0 -2,2 --x1 -2,2 --step 0.25")]
pub struct Args {
    /// The function of x0 and x1 (or x and y), e.g. "x0^2 + x1^2"; - reads it
    /// from standard input, @FILE from a file.
    #[arg(value_name = "FORMULA", allow_hyphen_values = true)]
    formula: String,
    /// The range of x0 shown (horizontal axis).
    #[arg(
        long,
        value_name = "MIN,MAX",
        default_value = "-2,2",
        allow_hyphen_values = true
    )]
    x0: String,
    /// The range of x1 shown (vertical axis).
    #[arg(
        long,
        value_name = "MIN,MAX",
        default_value = "-2,2",
        allow_hyphen_values = true
    )]
    x1: String,
    /// Spacing of the grid on both axes.
    #[arg(
        long,
        value_name = "S",
        default_value_t = 0.25,
        allow_negative_numbers = true
    )]
    step: f64,
    /// Folder for the pictures (created if missing).
    #[arg(long, value_name = "DIR", default_value = "kobai-out")]
    out: PathBuf,
    /// File name of the pictures, without extension.
    #[arg(long, value_name = "NAME", default_value = "field")]
    name: String,
    /// Print the grid and ∇f at each point as one JSON object instead of
    /// drawing; nothing is written.
    #[arg(long)]
    json: bool,
}

/// Validates everything, computes the field, then writes the two pictures (or
/// prints the JSON).
pub fn run(args: &Args) -> Result<()> {
    let formula = Formula::parse(&formula_text(&args.formula)?)?;
    ensure!(
        formula.arity() <= 2,
        "kobai field draws formulas of x0 and x1 (x and y), but this one uses x0..x{} \
         ({} variables)",
        formula.arity() - 1,
        formula.arity()
    );
    let x_range = parse_range("--x0", &args.x0)?;
    let y_range = parse_range("--x1", &args.x1)?;
    ensure!(
        args.step.is_finite() && args.step > 0.0,
        "--step must be a finite number above 0, got {}",
        short_number(args.step)
    );
    check_name(&args.name)?;
    let xs = grid("x0", x_range, args.step)?;
    let ys = grid("x1", y_range, args.step)?;
    let (vectors, first_error) = descent_directions(&formula, &xs, &ys)?;
    if args.json {
        let error = first_error.as_deref();
        let text = as_json(
            args,
            formula.source(),
            [x_range, y_range],
            [&xs, &ys],
            &vectors,
            error,
        );
        crate::output::write_stdout(&text)?;
        return Ok(());
    }
    let spec = FieldSpec {
        title: format!("−∇f for f(x0, x1) = {}", shortened(formula.source().trim())),
        x_label: "x0".into(),
        y_label: "x1".into(),
        vectors,
        xs,
        ys,
        x_range,
        y_range,
    };
    ensure_out_dir(&args.out)?;
    let files = draw_gradient_field(&args.out.join(&args.name), &spec)?;
    outln!(
        "−∇f of {} on a {}×{} grid (step {}), x0 in [{}, {}], x1 in [{}, {}]",
        formula
            .source()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        spec.xs.len(),
        spec.ys.len(),
        args.step,
        x_range.0,
        x_range.1,
        y_range.0,
        y_range.1,
    );
    if let Some(first) = first_error {
        let missing = spec
            .vectors
            .iter()
            .filter(|(u, v)| !(u.is_finite() && v.is_finite()))
            .count();
        outln!(
            "no arrow at {missing} of {} grid points, where the gradient is not finite \
             (the first {first})",
            spec.vectors.len()
        );
    }
    for file in files {
        outln!("{}", file.display());
    }
    Ok(())
}

/// `min + k·step` for `k = 0, 1, …` up to `max` (computed from `k`, not
/// accumulated, as NumPy's `arange` does).
fn grid(axis: &str, (min, max): (f64, f64), step: f64) -> Result<Vec<f64>> {
    let intervals = ((max - min) / step * (1.0 + 1e-12)).floor();
    let count = intervals + 1.0;
    ensure!(
        count <= MAX_POINTS_PER_AXIS as f64,
        "--step {} gives {} grid points along {axis}; expected at most \
         {MAX_POINTS_PER_AXIS} (use a larger --step)",
        short_number(step),
        if count.is_finite() {
            format!("{count:.0}")
        } else {
            "infinitely many".to_string()
        }
    );
    // `count` is a whole number in 1..=MAX_POINTS_PER_AXIS.
    let count = count as usize;
    Ok((0..count).map(|k| min + k as f64 * step).collect())
}

/// `−∇f` at every grid point (`[iy, ix]`), NaN where the numerical gradient
/// fails, and the first failure in words; an error if it fails everywhere.
fn descent_directions(
    formula: &Formula,
    xs: &[f64],
    ys: &[f64],
) -> Result<(Arrows, Option<String>)> {
    let mut first_error = None;
    let vectors = Array2::from_shape_fn((ys.len(), xs.len()), |(iy, ix)| {
        let point = array![xs[ix], ys[iy]];
        match numerical_gradient(|x| formula.evaluate(x), &point) {
            Ok(g) => (-g[0], -g[1]),
            Err(err) => {
                first_error.get_or_insert_with(|| format!("at ({}, {}): {err}", xs[ix], ys[iy]));
                (f64::NAN, f64::NAN)
            }
        }
    });
    if vectors
        .iter()
        .all(|(u, v)| !(u.is_finite() && v.is_finite()))
    {
        bail!(
            "the gradient of {} is not finite anywhere on the grid ({})",
            formula.source().trim(),
            first_error.unwrap_or_else(|| "it overflows".into())
        );
    }
    Ok((vectors, first_error))
}

/// The grid and ∇f at each of its points (`null` where not finite), as one
/// JSON object with one point a line, x0 varying fastest.
fn as_json(
    args: &Args,
    formula: &str,
    [x_range, y_range]: [(f64, f64); 2],
    [xs, ys]: [&[f64]; 2],
    vectors: &Arrows,
    first_error: Option<&str>,
) -> String {
    let mut missing = 0;
    let points: Vec<String> = vectors
        .indexed_iter()
        .map(|((iy, ix), &(u, v))| {
            let gradient = if u.is_finite() && v.is_finite() {
                json!([-u, -v])
            } else {
                missing += 1;
                Value::Null
            };
            json!({ "x0": xs[ix], "x1": ys[iy], "gradient": gradient }).to_string()
        })
        .collect();
    let head = json!({
        "formula": formula,
        "x0": [x_range.0, x_range.1],
        "x1": [y_range.0, y_range.1],
        "step": args.step,
        "h": kobai::BOOK_STEP,
        "xs": xs,
        "ys": ys,
        "missing": missing,
        "first_error": first_error,
    })
    .to_string();
    let head = head.strip_suffix('}').unwrap_or(&head);
    format!("{head},\"points\":[\n{}\n]}}\n", points.join(",\n"))
}

/// A picture name must be a plain file name.
fn check_name(name: &str) -> Result<()> {
    let plain = Path::new(name).file_name().is_some_and(|n| n == name);
    ensure!(
        plain && !name.starts_with('.'),
        "--name must be a plain file name such as field, got '{name}'"
    );
    Ok(())
}

fn shortened(formula: &str) -> String {
    if formula.chars().count() <= MAX_TITLE_FORMULA {
        return formula.to_string();
    }
    let cut: String = formula.chars().take(MAX_TITLE_FORMULA - 1).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_grid_is_the_books() -> Result<()> {
        let xs = grid("x0", (-2.0, 2.0), 0.25)?;
        assert_eq!(xs.len(), 17);
        assert_eq!((xs[0], xs[16]), (-2.0, 2.0));
        assert_eq!(
            grid("x0", (0.0, 1.0), 0.3)?,
            vec![0.0, 0.3, 0.6, 0.8999999999999999]
        );
        let err = grid("x1", (0.0, 1.0), 1e-3).expect_err("too many");
        assert!(
            err.to_string().contains("1001 grid points along x1"),
            "{err}"
        );
        Ok(())
    }

    #[test]
    fn names_are_plain() {
        assert!(check_name("field").is_ok());
        for bad in ["", "a/b", "..", ".hidden", "/abs"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_formula_undefined_everywhere_is_an_error() -> Result<()> {
        let f = Formula::parse("log(-1 - x^2)")?;
        let err = descent_directions(&f, &[0.0, 1.0], &[0.0]).expect_err("NaN everywhere");
        assert!(err.to_string().contains("not finite anywhere"), "{err}");
        let f = Formula::parse("log(x)")?;
        let (v, first) = descent_directions(&f, &[-1.0, 1.0], &[0.0])?;
        assert!(first.is_some_and(|e| e.starts_with("at (-1, 0): ")));
        assert!(v[[0, 0]].0.is_nan(), "log is undefined at -1");
        assert!((v[[0, 1]].0 + 1.0).abs() < 1e-6, "-d/dx log(x) at 1 is -1");
        Ok(())
    }
}
