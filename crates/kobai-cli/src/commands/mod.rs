//! One subcommand per file, and what they share.

pub mod chapter6;
pub mod check;
mod check_fast;
pub mod descend;
mod descent_path;
pub mod evaluate;
pub mod field;
pub mod grad;
mod grad_report;
mod h_sweep;
mod network_choice;
pub mod notebook;
mod notebook_pictures;
pub(crate) mod optimizer_choice;
pub mod optimizers;
pub mod serve;
pub mod train;
mod train_checkpoint;
pub(crate) mod train_data;

use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// Prints a command-line syntax error as one line (help and version requests as
/// clap renders them) and returns the exit code.
pub fn report_usage_error(err: clap::Error) -> ExitCode {
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            match crate::output::write_stdout(&err.to_string()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.0.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(141),
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            eprint!("{err}");
            ExitCode::from(2)
        }
        _ => {
            eprintln!("error: {} (try 'kobai --help')", usage_error_line(&err));
            ExitCode::from(2)
        }
    }
}

/// A command-line syntax error in one line, without `error: `: clap's first
/// line, the argument it names on the next, and the valid values of a choice.
pub fn usage_error_line(err: &clap::Error) -> String {
    let text = err.to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines
        .next()
        .unwrap_or("invalid arguments")
        .trim_start_matches("error: ");
    // "the following required arguments were not provided:" names them on the next line.
    let detail = match (first.ends_with(':'), lines.next()) {
        (true, Some(next)) => format!("{first} {next}"),
        _ => first.to_string(),
    };
    // An unknown value of a choice (--scheme, --optimizer) lists the valid ones.
    let valid = match err.get(ContextKind::ValidValue) {
        Some(ContextValue::Strings(values)) if !values.is_empty() => {
            format!("; expected one of {}", values.join(", "))
        }
        _ => String::new(),
    };
    // clap's "did you mean": a misspelt subcommand or option.
    let suggested = [ContextKind::SuggestedSubcommand, ContextKind::SuggestedArg]
        .into_iter()
        .find_map(|kind| match err.get(kind) {
            Some(ContextValue::String(s)) => Some(s.clone()),
            Some(ContextValue::Strings(s)) if !s.is_empty() => Some(s.join("' or '")),
            _ => None,
        })
        .map_or(String::new(), |s| format!("; did you mean '{s}'?"));
    format!("{detail}{valid}{suggested}")
}
