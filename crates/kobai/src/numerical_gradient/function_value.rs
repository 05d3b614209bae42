//! What a function being differentiated may return.

use crate::error::Result;

/// The value of a function being differentiated: a plain `f64`, or a `Result`
/// for functions that can reject their input.
///
/// ```
/// use kobai::FunctionValue;
/// assert_eq!(2.5.into_result(), Ok(2.5));
/// let failed: kobai::Result<f64> = Err(kobai::KobaiError::Empty { what: "x".into() });
/// assert!(failed.into_result().is_err());
/// ```
pub trait FunctionValue {
    /// The value, or the error that stops the differentiation.
    fn into_result(self) -> Result<f64>;
}

impl FunctionValue for f64 {
    fn into_result(self) -> Result<f64> {
        Ok(self)
    }
}

impl FunctionValue for Result<f64> {
    fn into_result(self) -> Result<f64> {
        self
    }
}
