//! One subcommand per file, and what they share.

pub mod check;
pub mod notebook;
mod notebook_pictures;
pub mod train;

use std::process::ExitCode;

use clap::error::ErrorKind;

/// Prints a command-line syntax error as one line (help and version requests as
/// clap renders them) and returns the exit code.
pub fn report_usage_error(err: clap::Error) -> ExitCode {
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            print!("{err}");
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            eprint!("{err}");
            ExitCode::from(2)
        }
        _ => {
            let text = err.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            let first = first.trim_start_matches("error: ");
            eprintln!("error: {first} (try 'kobai --help')");
            ExitCode::from(2)
        }
    }
}
