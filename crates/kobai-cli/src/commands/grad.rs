//! `kobai grad`: the gradient of a formula at a point, numerical (the book's
//! central difference, or another finite-difference scheme) beside exact (dual
//! numbers).

use std::path::PathBuf;

use anyhow::{Result, ensure};
use kobai::Formula;
use kobai::error::short_number;
use kobai::numerical_gradient::{FiniteDiff, GradientEstimate, Scheme, Step};
use kobai::numpy_style::numpy_str;
use ndarray::{Array1, Ix1};

use super::grad_report::{as_json, as_text, warning};
use crate::formula_input::formula_text;
use crate::output_paths::ensure_out_dir;
use crate::point::parse_numbers;

/// Options of `kobai grad`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Formulas use x0, x1, … (x and y for x0 and x1), numbers such as 3, .5, 1e-3,
+ - * / ^ (or **) with the usual precedence (-2^2 is -4, 2^3^2 is 512), the
constants pi and e, and exp, log, sqrt, sin, cos, tan, tanh, abs, pow(a, b),
min(a, b), max(a, b).

Schemes (--scheme), with the step they take when --h is not given:
  book        the book's central difference (f(x + h·e_i) - f(x - h·e_i)) / 2h
              with h = 1e-4 (the default; the notebook's numbers, bit for bit)
  central     the same formula, h = eps^(1/3)·max(|x_i|, 1)
  forward     (f(x + h·e_i) - f(x)) / h, h = eps^(1/2)·max(|x_i|, 1)
  backward    (f(x) - f(x - h·e_i)) / h, h = eps^(1/2)·max(|x_i|, 1)
  five-point  the fourth-order stencil at x ± h, x ± 2h, h = eps^(1/5)·max(|x_i|, 1)
  richardson  central differences at h, h/2, h/4, h/8 extrapolated, with a step
              that adapts to f; prints an error estimate and a status per
              component (converged, step shrunk, one-sided, unreliable) and the
              calls of f. An unreliable component gets a 'warning:' line on
              stderr; the exit code stays 0.
--h fixes the step for any scheme (for richardson it is the largest of the four).

The exact gradient comes from forward-mode dual numbers run over the same
compiled formula. --json prints formula, point, value, numerical, exact,
largest_difference, scheme, h (null for an automatic step), error (null unless
richardson), status and evaluations.

Examples:
  kobai grad \"x0^2 + x1^2\" --at 3,4                      prints [6. 8.]
  kobai grad \"1/x\" --at 0.001 --scheme richardson        -1e6 with its error")]
pub struct Args {
    /// The function, e.g. "x0^2 + x1^2" (quote it for the shell); - reads it
    /// from standard input, @FILE from a file.
    #[arg(value_name = "FORMULA", allow_hyphen_values = true)]
    pub(super) formula: String,
    /// The point, one number per variable: 3,4 is x0 = 3, x1 = 4.
    #[arg(long, value_name = "X0,X1,…", allow_hyphen_values = true)]
    at: String,
    /// The finite-difference scheme (see below).
    #[arg(long, value_enum, default_value_t = SchemeName::Book)]
    pub(super) scheme: SchemeName,
    /// A fixed step for any scheme, above 0 [default: 1e-4 for book, automatic otherwise].
    #[arg(long, value_name = "STEP", allow_negative_numbers = true)]
    h: Option<f64>,
    /// Print the results as one JSON object, for scripts.
    #[arg(long)]
    pub(super) json: bool,
    /// Instead: the error of the forward, central (the book's), five-point
    /// and Richardson schemes for every step h from 1e-16 to 1 (4 a decade),
    /// against the exact gradient, drawn as h_sweep.png/.svg in --out.
    #[arg(long, conflicts_with_all = ["scheme", "h"])]
    h_sweep: bool,
    /// Folder for the --h-sweep picture (created if missing).
    #[arg(
        long,
        value_name = "DIR",
        default_value = "kobai-out",
        requires = "h_sweep"
    )]
    out: PathBuf,
    /// With --h-sweep: print only, draw nothing.
    #[arg(long, requires = "h_sweep")]
    no_plots: bool,
}

/// A finite-difference scheme, as `--scheme` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemeName {
    /// The book's central difference, h = 1e-4.
    Book,
    /// Central difference, automatic step.
    Central,
    /// Forward difference, automatic step.
    Forward,
    /// Backward difference, automatic step.
    Backward,
    /// Five-point stencil, automatic step.
    FivePoint,
    /// Richardson extrapolation with an error estimate.
    Richardson,
}

impl SchemeName {
    /// The differentiator, with its own step rule (1e-4 for the book's).
    fn finite_diff(self) -> FiniteDiff {
        match self {
            SchemeName::Book => FiniteDiff::book(),
            SchemeName::Central => FiniteDiff::new(Scheme::Central),
            SchemeName::Forward => FiniteDiff::new(Scheme::Forward),
            SchemeName::Backward => FiniteDiff::new(Scheme::Backward),
            SchemeName::FivePoint => FiniteDiff::new(Scheme::FivePoint),
            SchemeName::Richardson => FiniteDiff::accurate(),
        }
    }

    /// The name `--scheme` takes.
    pub(super) fn name(self) -> &'static str {
        match self {
            SchemeName::Book => "book",
            other => other.finite_diff().scheme_in_use().name(),
        }
    }
}

/// The numbers `kobai grad` reports.
pub(super) struct Report {
    /// The formula as given (read from `-` or `@FILE` if so).
    pub formula: String,
    pub point: Array1<f64>,
    pub value: f64,
    /// The fixed step, `None` when the scheme chose it.
    pub h: Option<f64>,
    pub numerical: GradientEstimate<Ix1>,
    pub exact: Array1<f64>,
    pub largest_difference: f64,
}

/// `--h-sweep`: the error against the step, printed and drawn.
fn h_sweep_run(args: &Args, formula: &Formula, point: &Array1<f64>) -> Result<()> {
    let value = formula.evaluate(point)?;
    ensure!(
        value.is_finite(),
        "f is {} at x = {}; the gradient is defined only where f is finite",
        short_number(value),
        numpy_str(point)
    );
    let sweep = super::h_sweep::sweep(formula, point)?;
    let pictures = if args.no_plots {
        Vec::new()
    } else {
        ensure_out_dir(&args.out)?;
        let title = format!(
            "f = {} at x = {}",
            formula
                .source()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            numpy_str(point)
        );
        sweep.draw(&args.out.join("h_sweep"), &title)?
    };
    let files: Vec<String> = pictures.iter().map(|p| p.display().to_string()).collect();
    if args.json {
        let mut v = sweep.as_json();
        v["formula"] = formula.source().into();
        v["point"] = point.to_vec().into();
        v["pictures"] = files.into();
        outln!("{v}");
    } else {
        outln!(
            "The error of each scheme against the step h, at x = {} (exact gradient {}):",
            numpy_str(point),
            numpy_str(&sweep.exact)
        );
        out!("{}", sweep.as_text());
        for file in files {
            outln!("Picture: {file}");
        }
    }
    Ok(())
}

/// Checks the formula, the point and the step, then differentiates.
pub fn run(args: &Args) -> Result<()> {
    let formula = Formula::parse(&formula_text(&args.formula)?)?;
    let point = Array1::from(parse_numbers("--at", &args.at)?);
    check_point(&formula, point.len())?;
    if let Some(h) = args.h {
        ensure!(
            h.is_finite() && h > 0.0,
            "--h must be a finite number above 0, got {}",
            short_number(h)
        );
    }
    if args.h_sweep {
        return h_sweep_run(args, &formula, &point);
    }
    let report = differentiate(&formula, point, args.scheme, args.h)?;
    if args.json {
        outln!("{}", as_json(args, &report));
    } else {
        out!("{}", as_text(args, &report));
    }
    if let Some(line) = warning(&report) {
        eprintln!("{line}");
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

fn differentiate(
    formula: &Formula,
    point: Array1<f64>,
    scheme: SchemeName,
    h: Option<f64>,
) -> Result<Report> {
    let mut finite_diff = scheme.finite_diff();
    if let Some(h) = h {
        finite_diff = finite_diff.step(Step::Fixed(h));
    }
    let h = h.or((scheme == SchemeName::Book).then_some(kobai::BOOK_STEP));
    // A gradient exists only where f is finite: 1/x at 0 is an error, as 1/0
    // is, not a large number beside an exact -inf.
    let value = formula.evaluate(&point)?;
    ensure!(
        value.is_finite(),
        "f is {} at x = {}; the gradient is defined only where f is finite",
        short_number(value),
        numpy_str(&point)
    );
    // Where f is finite but not differentiable (sqrt at 0) the report says
    // so honestly: an infinite exact gradient and a warning.
    let exact = formula.gradient(&point)?;
    let numerical = finite_diff.gradient(|x| formula.evaluate(x), &point)?;
    // NaN in, NaN out: a numerical gradient that is not finite never shows
    // a difference of 0 (f64::max would drop the NaN).
    let largest_difference = numerical
        .value
        .iter()
        .zip(&exact)
        .map(|(n, e)| (n - e).abs())
        .fold(0.0, |m: f64, d| {
            if m.is_nan() || d.is_nan() {
                f64::NAN
            } else {
                m.max(d)
            }
        });
    Ok(Report {
        formula: formula.source().to_string(),
        value,
        point,
        h,
        numerical,
        exact,
        largest_difference,
    })
}
