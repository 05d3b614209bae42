//! `kobai optimizers`: the book's figure 6-8 — SGD, Momentum, AdaGrad and Adam
//! on f(x, y) = x²/20 + y² from (−7, 2), 30 steps each.

use std::path::PathBuf;

use anyhow::{Context, Result, ensure};
use kobai::Formula;
use kobai::numpy_style::py_float_repr;
use ndarray::Array1;
use serde_json::{Value, json};

use super::descent_path::{Descent, check_steps, descend};
use super::optimizer_choice::OptimizerName;
use crate::formula_input::formula_text;
use crate::output_paths::ensure_out_dir;
use crate::plot::{PathSpec, draw_descent_panels};
use crate::point::parse_numbers;

/// Options of `kobai optimizers`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The function of x, y (- reads it from standard input, @FILE from a file).
    #[arg(long, value_name = "FORMULA", default_value = "x^2/20 + y^2")]
    function: String,
    /// The starting point.
    #[arg(
        long,
        value_name = "X,Y",
        default_value = "-7,2",
        allow_hyphen_values = true
    )]
    from: String,
    /// Steps per optimizer.
    #[arg(long, value_name = "N", default_value_t = 30)]
    steps: usize,
    /// Learning rates of SGD, Momentum, AdaGrad and Adam (the book's 0.95, 0.1, 1.5, 0.3).
    #[arg(
        long,
        value_name = "SGD,MOM,ADA,ADAM",
        default_value = "0.95,0.1,1.5,0.3"
    )]
    lrs: String,
    /// Folder for optimizers.png/.svg: one picture, a panel per optimizer.
    #[arg(long, value_name = "DIR", default_value = "kobai-out")]
    out: PathBuf,
    /// Skip the pictures.
    #[arg(long)]
    no_plots: bool,
    /// Print the final points as one JSON object.
    #[arg(long)]
    json: bool,
}

const ORDER: [OptimizerName; 4] = [
    OptimizerName::Sgd,
    OptimizerName::Momentum,
    OptimizerName::Adagrad,
    OptimizerName::Adam,
];

/// Runs the four optimizers, prints where each ends, draws the four paths in one picture.
pub fn run(args: &Args) -> Result<()> {
    let formula = Formula::parse(&formula_text(&args.function)?)?;
    ensure!(
        formula.arity() <= 2,
        "--function must use x and y only; it uses {} coordinates",
        formula.arity()
    );
    let start = Array1::from(parse_numbers("--from", &args.from)?);
    ensure!(
        start.len() == 2,
        "--from needs 2 coordinates, got {}",
        start.len()
    );
    check_steps(args.steps)?;
    let lrs = parse_numbers("--lrs", &args.lrs)?;
    ensure!(
        lrs.len() == 4,
        "--lrs needs 4 learning rates (SGD, Momentum, AdaGrad, Adam), got {}",
        lrs.len()
    );
    let mut optimizers = ORDER
        .iter()
        .zip(&lrs)
        .map(|(name, &lr)| Ok((*name, lr, name.build(lr)?)))
        .collect::<Result<Vec<_>>>()?;
    if !args.no_plots {
        ensure_out_dir(&args.out)?;
    }
    let mut results = Vec::new();
    for (name, lr, optimizer) in optimizers.iter_mut() {
        let descent = descend(&formula, &start, optimizer.as_mut(), args.steps)
            .with_context(|| name.label().to_string())?;
        results.push((*name, *lr, descent));
    }
    let pictures = if args.no_plots {
        Vec::new()
    } else {
        draw(args, &formula, &start, &results)?
    };
    if args.json {
        let rows: Vec<Value> = results
            .iter()
            .map(|(name, lr, descent)| {
                let end = descent.end().to_vec();
                json!({ "optimizer": name.label(), "lr": lr, "x": end })
            })
            .collect();
        let pictures: Vec<String> = pictures.iter().map(|p| p.display().to_string()).collect();
        outln!(
            "{}",
            json!({ "function": formula.source(), "from": start.to_vec(), "steps": args.steps,
                "results": rows, "pictures": pictures })
        );
    } else {
        outln!(
            "f = {} from ({}, {}), {} steps:",
            formula.source(),
            start[0],
            start[1],
            args.steps
        );
        for (name, lr, descent) in &results {
            let end = (descent.end()[0], descent.end()[1]);
            outln!(
                "{:<9} lr {:<5} → ({}, {})",
                name.label(),
                py_float_repr(*lr),
                py_float_repr(end.0),
                py_float_repr(end.1)
            );
        }
        for p in &pictures {
            outln!("wrote {}", p.display());
        }
    }
    Ok(())
}

/// One picture of four panels, the book's figure 6-8.
fn draw(
    args: &Args,
    formula: &Formula,
    start: &Array1<f64>,
    results: &[(OptimizerName, f64, Descent)],
) -> Result<Vec<PathBuf>> {
    let f = |x: f64, y: f64| formula.evaluate(&ndarray::array![x, y]).unwrap_or(f64::NAN);
    let specs: Vec<PathSpec<'_>> = results
        .iter()
        .map(|(name, lr, descent)| PathSpec {
            title: format!("{} (lr {})", name.label(), py_float_repr(*lr)),
            x_label: "x".into(),
            y_label: "y".into(),
            path: descent.plane(),
            function: &f,
            // The book's figure 6-8 view.
            x_range: (-10.0, 10.0),
            y_range: (-10.0, 10.0),
        })
        .collect();
    let title = format!(
        "f = {} from ({}, {}), {} steps",
        formula.source(),
        start[0],
        start[1],
        args.steps
    );
    draw_descent_panels(&args.out.join("optimizers"), &title, &specs)
}
