//! Ctrl-C and SIGTERM during long work: the first asks the work to stop at
//! the next safe point (the end of a training step), so that it can save
//! itself and say how to go on; a second one ends the process at once.
//!
//! The signal only sets a flag ([`signal_hook::flag`]); the work polls it.
//! Every file kobai writes is written atomically, so even the second signal
//! leaves each file whole: the old content or the new.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use anyhow::{Context, Result};
use kobai::Observer;
use kobai::train::EpochReport;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::flag;

/// The signal that asked the work to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Ctrl-C.
    Interrupt,
    /// `kill` (SIGTERM).
    Terminate,
}

impl Signal {
    /// The exit status a shell gives a process ended by this signal.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }

    /// As people call it.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "Ctrl-C (SIGINT)",
            Signal::Terminate => "SIGTERM",
        }
    }
}

/// While alive, Ctrl-C and SIGTERM set a flag instead of ending the process
/// (a second one still ends it at once). Dropping it lets a signal end the
/// process at once again.
pub struct StopRequest {
    which: Arc<AtomicUsize>,
    /// Set when this guard is dropped: from then on a signal ends the process.
    released: Arc<AtomicBool>,
}

impl StopRequest {
    /// Catches Ctrl-C and SIGTERM from now on.
    pub fn catch() -> Result<Self> {
        let which = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let released = Arc::new(AtomicBool::new(false));
        for (signal, code) in [(SIGINT, 130), (SIGTERM, 143)] {
            // In this order: a signal that finds a flag set (a second Ctrl-C,
            // or one after the guard is gone) ends the process first.
            flag::register_conditional_shutdown(signal, code, Arc::clone(&stop))
                .and_then(|_| {
                    flag::register_conditional_shutdown(signal, code, Arc::clone(&released))
                })
                .and_then(|_| flag::register_usize(signal, Arc::clone(&which), signal as usize))
                .and_then(|_| flag::register(signal, Arc::clone(&stop)))
                .context("cannot catch Ctrl-C")?;
        }
        Ok(StopRequest { which, released })
    }

    /// The signal received, if one was.
    pub fn received(&self) -> Option<Signal> {
        match self.which.load(Ordering::SeqCst) {
            0 => None,
            s if s == SIGTERM as usize => Some(Signal::Terminate),
            _ => Some(Signal::Interrupt),
        }
    }
}

impl Drop for StopRequest {
    fn drop(&mut self) {
        // The handlers stay registered (signal-hook cannot restore the
        // default), but now end the process at once, as the default would.
        self.released.store(true, Ordering::SeqCst);
    }
}

/// An [`Observer`] that passes everything to `inner` and stops training
/// after the step during which a signal came.
pub struct StopOnSignal<'a> {
    /// The observer that shows progress.
    pub inner: &'a mut dyn Observer,
    /// The signals caught.
    pub request: &'a StopRequest,
    /// A folder to create when a signal comes (where the run is saved).
    pub folder: Option<&'a std::path::Path>,
}

impl Observer for StopOnSignal<'_> {
    fn on_start(&mut self, start: usize, iterations: usize) {
        self.inner.on_start(start, iterations);
    }

    fn on_iteration(&mut self, iteration: usize, loss: f64) -> ControlFlow<()> {
        self.inner.on_iteration(iteration, loss)?;
        match self.request.received() {
            Some(_) => {
                if let Some(folder) = self.folder {
                    // If this fails, saving the run says so, naming the file.
                    let _ = std::fs::create_dir_all(folder);
                }
                ControlFlow::Break(())
            }
            None => ControlFlow::Continue(()),
        }
    }

    fn on_epoch(&mut self, report: &EpochReport) -> ControlFlow<()> {
        self.inner.on_epoch(report)
    }
}

/// Work stopped by a signal, after saving what it had: `message` says where
/// and how to go on; the process exits with the signal's status.
#[derive(Debug)]
pub struct Stopped {
    /// The signal.
    pub signal: Signal,
    /// What was saved and the command that goes on (printed as is).
    pub message: String,
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Stopped {}

/// This process's command line with `--resume FILE` in place of any
/// `--resume` and `--start-over`, quoted for a POSIX shell.
pub fn resume_command(file: &std::path::Path) -> String {
    let mut args: Vec<String> = vec!["kobai".into()];
    let mut given = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = given.next() {
        if arg == "--resume" {
            given.next();
        } else if !(arg.starts_with("--resume=") || arg == "--start-over") {
            args.push(arg);
        }
    }
    args.push("--resume".into());
    args.push(file.display().to_string());
    args.iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `arg` as a POSIX shell reads it back: bare if it is made of safe
/// characters only, else in single quotes.
fn shell_quote(arg: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-./=,:+@%".contains(c);
    if !arg.is_empty() && arg.chars().all(safe) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_reads_back_as_the_same_words() {
        assert_eq!(shell_quote("--hidden"), "--hidden");
        assert_eq!(shell_quote("100,100"), "100,100");
        assert_eq!(shell_quote("my runs/a.npz"), "'my runs/a.npz'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
