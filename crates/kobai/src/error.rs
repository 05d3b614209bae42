//! The one error type of kobai.

use thiserror::Error;

/// Everything that can go wrong when kobai is given bad input.
///
/// Every message says what was expected and what was found, so that one line is
/// enough to fix the call. Checks run before any arithmetic: a call that returns
/// an error has changed nothing.
///
/// ```
/// use kobai::{softmax, KobaiError};
/// use ndarray::Array1;
///
/// let empty = Array1::<f64>::zeros(0);
/// let err = softmax(&empty).unwrap_err();
/// assert!(matches!(err, KobaiError::Empty { .. }));
/// assert_eq!(err.to_string(), "softmax input is empty; expected at least one element");
/// ```
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum KobaiError {
    /// An array had a shape other than the one the operation needs.
    #[error("{what} has shape {found:?} but {expected}")]
    Shape {
        /// The array that was wrong, e.g. `"targets"`.
        what: String,
        /// What was needed, in words, e.g. `"the predictions have shape [1, 3]"`.
        expected: String,
        /// The shape that was given.
        found: Vec<usize>,
    },

    /// An array that must hold at least one element held none.
    #[error("{what} is empty; expected at least one element")]
    Empty {
        /// The array that was empty.
        what: String,
    },

    /// A value that must be finite was NaN or infinite.
    #[error("{what} is {value} at {at}; expected a finite number")]
    NonFinite {
        /// What held the value, e.g. `"x"` or `"f(x + h)"`.
        what: String,
        /// Where, e.g. `"index [1, 2]"`.
        at: String,
        /// The value found (NaN or ±inf).
        value: f64,
    },

    /// A class label was not below the number of classes.
    #[error("label {label} at row {row} is out of range; expected a class index below {classes}")]
    LabelOutOfRange {
        /// The label found.
        label: usize,
        /// The row (sample) it belongs to.
        row: usize,
        /// The number of classes (columns of the predictions).
        classes: usize,
    },

    /// An index into a collection was not below its length.
    #[error("{what} {index} at position {position} is out of range; expected an index below {len}")]
    IndexOutOfRange {
        /// What was indexed, e.g. `"batch index"`.
        what: &'static str,
        /// The index found.
        index: usize,
        /// Where in the list of indices it was.
        position: usize,
        /// The length of the collection.
        len: usize,
    },

    /// A row of one-hot targets was not all zeros with a single one.
    #[error("targets row {row} is not one-hot ({detail}); expected zeros and a single 1")]
    NotOneHot {
        /// The row that was wrong.
        row: usize,
        /// What was wrong with it.
        detail: String,
    },

    /// A prediction fed to a loss was not a probability.
    #[error(
        "predictions hold {value} at {at}; expected probabilities in [0, 1] (apply softmax first)"
    )]
    NotProbability {
        /// Where, e.g. `"index [0, 2]"`.
        at: String,
        /// The value found.
        value: f64,
    },

    /// A file could not be opened, read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What the operating system said, e.g. `"No such file or directory"`.
        message: String,
    },

    /// A data file's contents are not what its format requires (bad magic
    /// number, a header that claims more data than the file holds, …).
    #[error("{path}: {detail}")]
    Format {
        /// The file.
        path: String,
        /// What is wrong, with the expected and the found value.
        detail: String,
    },

    /// A hyperparameter (learning rate, step count, step size, …) was out of its range.
    #[error("{name} = {value} is invalid; expected {expected}")]
    Hyperparameter {
        /// Its name, e.g. `"lr"`.
        name: &'static str,
        /// The value given, as text.
        value: String,
        /// The valid range, in words.
        expected: &'static str,
    },

    /// Saved state (an optimizer's, a batch sampler's) cannot be restored: a
    /// part is missing, unexpected or out of its range.
    ///
    /// ```
    /// use kobai::{KobaiError, Optimizer, Sgd};
    /// use ndarray::ArrayD;
    ///
    /// let err = Sgd::new(0.1)?
    ///     .load_state(vec![("W1/v".into(), ArrayD::zeros(vec![2]))])
    ///     .unwrap_err();
    /// assert!(matches!(err, KobaiError::State { .. }));
    /// assert_eq!(err.to_string(), "SGD state: W1/v is unexpected; SGD keeps no state");
    /// # Ok::<(), KobaiError>(())
    /// ```
    #[error("{what}: {detail}")]
    State {
        /// Whose state, e.g. `"Adam state"`.
        what: String,
        /// What is wrong, e.g. `"W1/v is missing (W1/m is there)"`.
        detail: String,
    },

    /// A checkpoint does not belong to the run that tries to resume from it:
    /// it was written with other settings (iterations, batch size, seed, data,
    /// optimizer, hyperparameters).
    #[error(
        "{path}: the checkpoint was written with {what} {saved}, but this run has {given}; \
         resume with the settings of the interrupted run"
    )]
    CheckpointMismatch {
        /// The checkpoint file.
        path: String,
        /// The setting that differs, e.g. `"batch size"`.
        what: String,
        /// Its value in the checkpoint.
        saved: String,
        /// Its value in this run.
        given: String,
    },

    /// A layer of a network misbehaved or was misused: its backward pass
    /// returned a gradient of the wrong shape, its cache was not the one its
    /// forward pass made, or the network around it does not fit.
    ///
    /// ```
    /// use kobai::KobaiError;
    /// let err = KobaiError::Layer { layer: "leaky_relu1".into(), detail: "its input gradient has shape [2] but its input had shape [3]".into() };
    /// assert_eq!(err.to_string(), "layer leaky_relu1: its input gradient has shape [2] but its input had shape [3]");
    /// ```
    #[error("layer {layer}: {detail}")]
    Layer {
        /// The layer's name in its network (`affine2`), or its kind.
        layer: String,
        /// What went wrong.
        detail: String,
    },

    /// Long work (a gradient check, say) was stopped before its end by its
    /// watcher (Ctrl-C in the CLI); nothing it would have returned is kept.
    ///
    /// ```
    /// let err = kobai::KobaiError::Stopped { what: "gradient check".into(), done: 10, total: 40 };
    /// assert_eq!(err.to_string(), "gradient check stopped after 10 of 40 steps");
    /// ```
    #[error("{what} stopped after {done} of {total} steps")]
    Stopped {
        /// The work, e.g. `"gradient check"`.
        what: String,
        /// Steps done (for a gradient check: elements compared).
        done: usize,
        /// Steps in all.
        total: usize,
    },

    /// A formula could not be read; the message names the column (and
    /// quotes a long formula only around it).
    ///
    /// ```
    /// let long = format!("{}x +", "x + ".repeat(5000));
    /// let err = kobai::Formula::parse(&long).unwrap_err();
    /// let message = err.to_string();
    /// assert!(message.len() < 200, "{message}");
    /// assert!(message.starts_with("cannot read formula \"…"), "{message}");
    /// assert!(message.contains("at column 20003"), "{message}");
    /// ```
    #[error(
        "cannot read formula {} at column {position}: {message}",
        excerpt(formula, *position)
    )]
    Formula {
        /// The formula as given.
        formula: String,
        /// Where the problem is: the column, counted in characters from 1.
        position: usize,
        /// What is wrong there and what was expected.
        message: String,
    },
}

/// A number as messages print it: as Rust prints it (`0.1`, `-1`, `NaN`,
/// `inf`), except very large or very small magnitudes, which take an exponent
/// (`1e308`, not 309 digits).
///
/// ```
/// use kobai::error::short_number;
/// assert_eq!(short_number(-1e308), "-1e308");
/// assert_eq!(short_number(1e-320), "1e-320");
/// assert_eq!(short_number(0.1), "0.1");
/// assert_eq!(short_number(-1.0), "-1");
/// assert_eq!(short_number(f64::NAN), "NaN");
/// assert_eq!(short_number(123456.0), "123456");
/// ```
pub fn short_number(value: f64) -> String {
    let magnitude = value.abs();
    if value.is_finite() && value != 0.0 && !(1e-5..1e16).contains(&magnitude) {
        format!("{value:e}")
    } else {
        format!("{value}")
    }
}

/// A formula quoted for a message: whole when short, else the characters
/// around `column` (counted from 1) with ellipses.
fn excerpt(formula: &str, column: usize) -> String {
    const AROUND: usize = 30;
    let chars: Vec<char> = formula.chars().collect();
    if chars.len() <= 2 * AROUND {
        return format!("{formula:?}");
    }
    let at = column.saturating_sub(1).min(chars.len());
    let from = at.saturating_sub(AROUND);
    let to = (at + AROUND).min(chars.len());
    let mut text: String = chars[from..to].iter().collect();
    if from > 0 {
        text.insert(0, '…');
    }
    if to < chars.len() {
        text.push('…');
    }
    format!("{text:?} ({} characters)", chars.len())
}

/// `Result` with [`KobaiError`].
pub type Result<T, E = KobaiError> = std::result::Result<T, E>;
