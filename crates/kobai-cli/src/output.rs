//! Standard output that never panics: `println!` panics when the reader of
//! a pipe has gone (`kobai train | head -2`) or the disk behind it is full
//! (`> /dev/full`). [`outln!`] and [`out!`] return the failure instead, as an
//! [`StdoutError`]; `main` ends quietly with 141 (the shell's code for a
//! broken pipe) when the reader has gone, and with one line otherwise.

use std::fmt;
use std::io::{self, Write};

/// Writing to standard output failed.
#[derive(Debug)]
pub struct StdoutError(pub io::Error);

impl fmt::Display for StdoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot write to standard output: {}", self.0)
    }
}

impl std::error::Error for StdoutError {}

thread_local! {
    /// Where this thread's output goes instead of stdout, while [`capture`] runs.
    static CAPTURED: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Runs `work` with everything it prints through [`outln!`] and [`out!`] on
/// this thread kept in a string instead of going to stdout: the playground
/// server answers with exactly what a command prints.
pub fn capture<T>(work: impl FnOnce() -> T) -> (T, String) {
    let outer = CAPTURED.with(|c| c.borrow_mut().replace(String::new()));
    let result = work();
    let text = CAPTURED.with(|c| std::mem::replace(&mut *c.borrow_mut(), outer));
    (result, text.unwrap_or_default())
}

/// Writes `text` to standard output and flushes it (or keeps it, inside
/// [`capture`]).
///
/// # Errors
/// [`StdoutError`] when the write or the flush fails.
pub fn write_stdout(text: &str) -> Result<(), StdoutError> {
    let kept = CAPTURED.with(|c| match c.borrow_mut().as_mut() {
        Some(buffer) => {
            buffer.push_str(text);
            true
        }
        None => false,
    });
    if kept {
        return Ok(());
    }
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(StdoutError)
}

/// Whether `err` is a write to standard output whose reader has gone.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<StdoutError>()
            .is_some_and(|e| e.0.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// `println!` that returns from the enclosing function with the error
/// (an `anyhow::Result` function) instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(&format!("{}\n", format_args!($($arg)*)))?
    };
}

/// `print!` that returns from the enclosing function with the error.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(&format!($($arg)*))?
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_output_is_kept_not_printed() {
        let (result, text) = capture(|| -> anyhow::Result<u8> {
            outln!("one {}", 1);
            out!("two");
            Ok(7)
        });
        assert_eq!((result.ok(), text.as_str()), (Some(7), "one 1\ntwo"));
        let (_, outer) = capture(|| {
            let (_, inner) = capture(|| write_stdout("inner"));
            let _ = write_stdout("outer");
            assert_eq!(inner, "inner");
        });
        assert_eq!(outer, "outer");
    }

    #[test]
    fn a_broken_pipe_is_told_apart_from_other_failures() {
        let pipe = anyhow::Error::new(StdoutError(io::Error::from(io::ErrorKind::BrokenPipe)));
        let full = anyhow::Error::new(StdoutError(io::Error::from_raw_os_error(28)));
        assert!(is_broken_pipe(&pipe));
        assert!(is_broken_pipe(&pipe.context("printing the report")));
        assert!(!is_broken_pipe(&full));
        assert!(
            full.to_string()
                .starts_with("cannot write to standard output: ")
        );
        assert!(!is_broken_pipe(&anyhow::anyhow!("something else")));
    }
}
