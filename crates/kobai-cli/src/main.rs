//! `kobai`: play with gradients from the command line.
//!
//! A thin shell over the `kobai` library: each subcommand lives in its own file
//! under `commands/`, checks its arguments, calls the library and prints. Any
//! error ends the program with one line on stderr (`error: …`) and exit code 1
//! (2 for bad command-line syntax).

#[macro_use]
mod output;

mod commands;
mod formula_input;
mod interrupt;
mod output_paths;
mod plot;
mod point;
mod progress;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Gradients from scratch: numerical differentiation, gradient descent and small
/// neural networks, following "Deep Learning from Scratch".
#[derive(Debug, Parser)]
#[command(name = "kobai", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Replay the notebook on section 4.4 "Gradients" cell by cell, and draw its pictures.
    Notebook(commands::notebook::Args),
    /// Train a network — the book's two-layer net or any depth — on the
    /// built-in spiral or MNIST-format files (--data), and draw its learning curves.
    Train(commands::train::Args),
    /// Check backprop against the numerical gradient on a small batch; exit 1 if it fails.
    Check(commands::check::Args),
    /// A saved network's accuracy and confusion matrix (the architecture comes from the file).
    Evaluate(commands::evaluate::Args),
    /// The gradient of a formula at a point: numerical (a choice of schemes, with an error estimate) beside exact.
    Grad(commands::grad::Args),
    /// Draw the gradient field (arrows of -∇f) of a formula of x0 and x1.
    Field(commands::field::Args),
    /// Minimise a formula from a starting point with SGD, Momentum, AdaGrad, RMSprop or Adam, and draw the path.
    Descend(commands::descend::Args),
    /// The book's figure 6-8: SGD, Momentum, AdaGrad and Adam on x²/20 + y² from (-7, 2).
    Optimizers(commands::optimizers::Args),
    /// The book's chapter-6 experiments, one command each, with pictures: optimizers, weight-init, activations, batchnorm, overfit, dropout.
    Chapter6(commands::chapter6::Args),
    /// The playground: a local web page to type a formula, click a start and watch optimizers descend.
    Serve(commands::serve::Args),
}

/// Runs one command.
fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Notebook(args) => commands::notebook::run(&args),
        Command::Train(args) => commands::train::run(&args),
        Command::Check(args) => commands::check::run(&args),
        Command::Evaluate(args) => commands::evaluate::run(&args),
        Command::Grad(args) => commands::grad::run(&args),
        Command::Field(args) => commands::field::run(&args),
        Command::Descend(args) => commands::descend::run(&args),
        Command::Optimizers(args) => commands::optimizers::run(&args),
        Command::Chapter6(args) => commands::chapter6::run(&args),
        Command::Serve(args) => commands::serve::run(&args),
    }
}

/// Runs `kobai ARGS` in this process (the playground's API does): its
/// error, if any, as the one line the command line would print after
/// `error: `.
fn run_args(args: &[String]) -> Result<(), String> {
    let cli = Cli::try_parse_from(std::iter::once("kobai").chain(args.iter().map(String::as_str)))
        .map_err(|e| commands::usage_error_line(&e))?;
    run(cli.command).map_err(|e| format!("{e:#}"))
}

/// `KOBAI_SIMD`, when set and not empty, must name a kernel level: the
/// library quietly ignores anything else, the command line says so.
fn check_simd_env() -> anyhow::Result<()> {
    let Some(value) = std::env::var_os(kobai::SIMD_ENV) else {
        return Ok(());
    };
    let value = value
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("{} is not valid UTF-8", kobai::SIMD_ENV))?;
    if !value.is_empty() {
        value.parse::<kobai::SimdLevel>()?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return commands::report_usage_error(err),
    };
    let result = check_simd_env().and_then(|()| run(cli.command));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of a pipe has gone (`kobai train | head`): nothing to say.
        Err(err) if output::is_broken_pipe(&err) => ExitCode::from(141),
        // Ctrl-C or SIGTERM: the work saved itself and says how to go on.
        Err(err) if err.is::<interrupt::Stopped>() => {
            eprintln!("{err}");
            err.downcast_ref::<interrupt::Stopped>()
                .map_or(ExitCode::FAILURE, |s| ExitCode::from(s.signal.exit_code()))
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
