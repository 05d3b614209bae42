//! `kobai grad`: the gradient of a formula at a point, numerical (the book's
//! central difference) beside exact (dual numbers).

use anyhow::{Result, ensure};
use kobai::numpy_style::{numpy_str, py_float_repr};
use kobai::{BOOK_STEP, Formula, numerical_gradient};
use ndarray::Array1;
use serde_json::{Value, json};

use crate::point::parse_numbers;

/// Options of `kobai grad`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Formulas use x0, x1, … (x and y for x0 and x1), numbers such as 3, .5, 1e-3,
+ - * / ^ (or **) with the usual precedence (-2^2 is -4, 2^3^2 is 512), the
constants pi and e, and exp, log, sqrt, sin, cos, tan, tanh, abs, pow(a, b),
min(a, b), max(a, b).

The numerical gradient is the book's central difference
(f(x + h·e_i) - f(x - h·e_i)) / 2h; the exact one comes from forward-mode
dual numbers run over the same compiled formula.

Example: kobai grad \"x0^2 + x1^2\" --at 3,4   prints [6. 8.]")]
pub struct Args {
    /// The function, e.g. "x0^2 + x1^2" (quote it for the shell).
    #[arg(value_name = "FORMULA", allow_hyphen_values = true)]
    formula: String,
    /// The point, one number per variable: 3,4 is x0 = 3, x1 = 4.
    #[arg(long, value_name = "X0,X1,…", allow_hyphen_values = true)]
    at: String,
    /// Step of the central difference (the book's 1e-4).
    #[arg(long, value_name = "STEP", default_value_t = BOOK_STEP, allow_negative_numbers = true)]
    h: f64,
    /// Print the results as one JSON object, for scripts.
    #[arg(long)]
    json: bool,
}

/// The numbers `kobai grad` reports.
struct Report {
    value: f64,
    numerical: Array1<f64>,
    exact: Array1<f64>,
    largest_difference: f64,
}

/// Checks the formula, the point and the step, then differentiates.
pub fn run(args: &Args) -> Result<()> {
    let formula = Formula::parse(&args.formula)?;
    let point = Array1::from(parse_numbers("--at", &args.at)?);
    check_point(&formula, point.len())?;
    ensure!(
        args.h.is_finite() && args.h > 0.0,
        "--h must be a finite number above 0, got {}",
        args.h
    );
    let report = differentiate(&formula, &point, args.h)?;
    if args.json {
        println!("{}", as_json(args, &point, &report));
    } else {
        print!("{}", as_text(args, &point, &report));
    }
    Ok(())
}

/// One coordinate per variable (any number for a formula without variables).
fn check_point(formula: &Formula, len: usize) -> Result<()> {
    let arity = formula.arity();
    if arity == 0 {
        return Ok(());
    }
    let uses = match arity {
        1 => "x0 (1 coordinate)".to_string(),
        n => format!("x0..x{} ({n} coordinates)", n - 1),
    };
    ensure!(len == arity, "the formula uses {uses} but --at has {len}");
    Ok(())
}

fn differentiate(formula: &Formula, point: &Array1<f64>, h: f64) -> Result<Report> {
    let f = |x: &ndarray::ArrayRef1<f64>| formula.evaluate(x);
    // The library's numerical_gradient is the book's, with h = 1e-4; another
    // step takes the same central difference here.
    let numerical = if h == BOOK_STEP {
        numerical_gradient(f, point)?
    } else {
        central_difference(f, point, h)?
    };
    let exact = formula.gradient(point)?;
    let largest_difference = numerical
        .iter()
        .zip(&exact)
        .map(|(n, e)| (n - e).abs())
        .fold(0.0, f64::max);
    Ok(Report {
        value: formula.evaluate(point)?,
        numerical,
        exact,
        largest_difference,
    })
}

/// The book's central difference with step `h`, in the book's order of
/// operations (set `x_i + h`, evaluate, set `x_i − h`, evaluate, restore).
fn central_difference(
    f: impl Fn(&ndarray::ArrayRef1<f64>) -> kobai::Result<f64>,
    point: &Array1<f64>,
    h: f64,
) -> Result<Array1<f64>> {
    let mut probe = point.clone();
    let mut grad = Array1::zeros(point.len());
    for i in 0..point.len() {
        let tmp_val = probe[i];
        probe[i] = tmp_val + h;
        let fxh1 = finite(f(&probe)?, "f(x + h)", i)?;
        probe[i] = tmp_val - h;
        let fxh2 = finite(f(&probe)?, "f(x - h)", i)?;
        probe[i] = tmp_val;
        grad[i] = (fxh1 - fxh2) / (2.0 * h);
    }
    Ok(grad)
}

fn finite(value: f64, what: &str, i: usize) -> Result<f64> {
    ensure!(
        value.is_finite(),
        "{what} is {value} at index [{i}]; expected a finite number"
    );
    Ok(value)
}

fn as_text(args: &Args, point: &Array1<f64>, r: &Report) -> String {
    let step = py_float_repr(args.h);
    format!(
        "f(x) = {} at x = {} is {}\n\
         numerical gradient  {}  (central difference, h = {step})\n\
         exact gradient      {}  (dual numbers)\n\
         largest difference  {:.3e}\n",
        args.formula.trim(),
        numpy_str(point),
        py_float_repr(r.value),
        numpy_str(&r.numerical),
        numpy_str(&r.exact),
        r.largest_difference,
    )
}

fn as_json(args: &Args, point: &Array1<f64>, r: &Report) -> Value {
    json!({
        "formula": args.formula,
        "point": point.to_vec(),
        "value": r.value,
        "numerical": r.numerical.to_vec(),
        "exact": r.exact.to_vec(),
        "largest_difference": r.largest_difference,
        "h": args.h,
    })
}
