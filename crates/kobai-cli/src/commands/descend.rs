//! `kobai descend`: minimise any formula from a starting point with one of the
//! book's optimizers, and draw the path over the contour lines.

use std::path::PathBuf;

use anyhow::{Result, ensure};
use kobai::Formula;
use kobai::numpy_style::{numpy_str, py_float_repr};
use ndarray::Array1;
use serde_json::{Value, json};

use super::descent_path::{Descent, check_steps, descend};
use super::optimizer_choice::OptimizerName;
use crate::formula_input::formula_text;
use crate::output_paths::ensure_out_dir;
use crate::plot::{PathSpec, draw_descent_path};
use crate::point::parse_numbers;

/// Options of `kobai descend`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The function of x0 … xn (x, y for x0, x1), e.g. "x0^2 + x1^2"; - reads
    /// it from standard input, @FILE from a file.
    formula: String,
    /// The starting point, e.g. -3,4.
    #[arg(long, value_name = "X0,X1,…", allow_hyphen_values = true)]
    from: String,
    /// Learning rate.
    #[arg(long, value_name = "RATE", default_value_t = 0.1)]
    lr: f64,
    /// Number of steps.
    #[arg(long, value_name = "N", default_value_t = 100)]
    steps: usize,
    /// The update rule.
    #[arg(long, value_enum, default_value_t = OptimizerName::Sgd)]
    optimizer: OptimizerName,
    /// Draw the path over contour lines into DIR as descent.png and descent.svg (2-variable formulas).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print the result as one JSON object: the end point and its value, and
    /// the path (at most 1001 evenly spaced steps, the first and last among
    /// them), each with step, x, value and gradient_norm (of the exact gradient).
    #[arg(long)]
    json: bool,
}

/// Parses, validates, minimises, prints, draws.
pub fn run(args: &Args) -> Result<()> {
    let formula = Formula::parse(&formula_text(&args.formula)?)?;
    let start = Array1::from(parse_numbers("--from", &args.from)?);
    ensure!(
        start.len() == formula.arity(),
        "the formula uses {} coordinate(s) but --from has {}",
        formula.arity(),
        start.len()
    );
    check_steps(args.steps)?;
    let mut optimizer = args.optimizer.build(args.lr)?;
    if let Some(dir) = &args.out {
        ensure!(
            start.len() == 2,
            "--out draws 2-variable formulas; --from has {} coordinates",
            start.len()
        );
        ensure_out_dir(dir)?;
    }
    let descent = descend(&formula, &start, optimizer.as_mut(), args.steps)?;
    let last = descent.end().clone();
    let value = formula.evaluate(&last)?;
    let pictures = match &args.out {
        Some(dir) => draw(args, &formula, &descent, dir)?,
        None => Vec::new(),
    };
    if args.json {
        let files: Vec<String> = pictures.iter().map(|p| p.display().to_string()).collect();
        let out = json!({ "formula": formula.source(), "optimizer": args.optimizer.label(), "lr": args.lr,
            "steps": args.steps, "from": start.to_vec(), "x": last.to_vec(), "value": value, "pictures": files,
            "path": path_json(&formula, &descent)? });
        outln!("{out}");
    } else {
        outln!(
            "{} from {} with {}, lr {}, {} steps:",
            formula.source(),
            numpy_str(&start),
            args.optimizer.label(),
            py_float_repr(args.lr),
            args.steps
        );
        outln!("x = {}\nf(x) = {}", numpy_str(&last), py_float_repr(value));
        for p in &pictures {
            outln!("wrote {}", p.display());
        }
    }
    Ok(())
}

/// The kept path (at most [`KEPT_POINTS`](super::descent_path::KEPT_POINTS)
/// evenly spaced steps, the start and the end among them) as JSON: for each,
/// the step, the point, f there and the length of its exact gradient.
fn path_json(formula: &Formula, descent: &Descent) -> Result<Value> {
    descent
        .kept
        .iter()
        .map(|(step, x)| {
            let norm = formula
                .gradient(x)?
                .iter()
                .map(|g| g * g)
                .sum::<f64>()
                .sqrt();
            Ok(json!({
                "step": step,
                "x": x.to_vec(),
                "value": formula.evaluate(x)?,
                "gradient_norm": norm,
            }))
        })
        .collect::<Result<Vec<Value>>>()
        .map(Value::Array)
}

/// The path over the contour lines, framed to hold the start and the origin.
fn draw(
    args: &Args,
    formula: &Formula,
    descent: &Descent,
    dir: &std::path::Path,
) -> Result<Vec<PathBuf>> {
    let points = descent.plane();
    let reach = points
        .iter()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .fold(1.0f64, |m, (x, y)| m.max(x.abs()).max(y.abs()));
    let half = reach * 1.15;
    let f = |x0: f64, x1: f64| {
        formula
            .evaluate(&ndarray::array![x0, x1])
            .unwrap_or(f64::NAN)
    };
    let spec = PathSpec {
        title: format!(
            "{} on f = {}, lr = {}",
            args.optimizer.label(),
            formula.source(),
            py_float_repr(args.lr)
        ),
        x_label: "x0".into(),
        y_label: "x1".into(),
        path: points,
        function: &f,
        x_range: (-half, half),
        y_range: (-half, half),
    };
    draw_descent_path(&dir.join("descent"), &spec)
}
