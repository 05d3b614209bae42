//! Formulas typed as text — `"x0^2 + x1^2"` — to differentiate and plot.
//!
//! [`Formula::parse`] reads a formula once and compiles it into a flat postfix
//! program; [`Formula::evaluate`] runs the program (no allocation, no string
//! work), so a formula can be handed to [`numerical_gradient`](crate::numerical_gradient())
//! like any Rust function. [`Formula::gradient`] runs the same program on dual
//! numbers and returns the exact gradient, to set beside the numerical one.
//!
//! ```
//! use kobai::Formula;
//! use ndarray::array;
//!
//! let f = Formula::parse("x0^2 + x1^2")?;
//! let x = array![3.0, 4.0];
//! assert_eq!(f.evaluate(&x)?, 25.0);
//! let numerical = kobai::numerical_gradient(|x| f.evaluate(x), &x)?;
//! assert_eq!(f.gradient(&x)?, array![6.0, 8.0]);
//! assert!((&numerical - &array![6.0, 8.0]).iter().all(|d| d.abs() < 1e-9));
//! # Ok::<(), kobai::KobaiError>(())
//! ```
//!
//! # The language
//!
//! ```text
//! formula  = sum
//! sum      = product { ("+" | "-") product }           left-associative
//! product  = signed { ("*" | "/") signed }              left-associative
//! signed   = ("-" | "+") signed | power
//! power    = atom [ ("^" | "**") signed ]               right-associative
//! atom     = number | variable | constant | function "(" args ")" | "(" sum ")"
//! args     = sum { "," sum }
//! number   = 3 | 3. | .5 | 1e-3 | 2.5E+4 …              (read as f64)
//! variable = x0 | x1 | x2 | …  with x = x0 and y = x1
//! constant = pi | e
//! function = exp | log | sqrt | sin | cos | tan | tanh | abs     one argument
//!          | pow | min | max                                     two arguments
//! ```
//!
//! The precedence is the usual one, as in Python: `-2^2` is −4, `2^3^2` is
//! 512, `2^-1` is 0.5, `2*-3` is −6, and `1/2` is 0.5 (all arithmetic is `f64`).
//! `log` is the natural logarithm; `**` may be written for `^` (as in the
//! book's Python), `−` (U+2212) for `-` and `×` for `*`. Spaces are ignored.
//! There is no implicit product: write `2*x`, not `2x`.
//!
//! A formula that cannot be read is a [`KobaiError::Formula`] naming the column
//! (counted in characters from 1) and what was wrong:
//!
//! ```
//! let err = kobai::Formula::parse("x0^2 + foo(x1)").unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "cannot read formula \"x0^2 + foo(x1)\" at column 8: unknown function 'foo'; \
//!      expected one of exp, log, sqrt, sin, cos, tan, tanh, abs, pow, min, max"
//! );
//! ```
//!
//! Values follow IEEE arithmetic: `log(-1)` is NaN and `1/0` is infinite, as in
//! NumPy; [`numerical_gradient`](crate::numerical_gradient()) reports such a value
//! as an error naming the element.

mod dual;
mod lexer;
mod parser;
mod program;

use std::fmt;
use std::str::FromStr;

use ndarray::{Array1, ArrayRef1};

use self::dual::Dual;
use self::program::Program;
use crate::error::{KobaiError, Result};

/// A formula of the variables `x0, x1, …`, parsed and compiled once.
///
/// ```
/// use kobai::Formula;
/// use ndarray::array;
///
/// let f: Formula = "sin(x) * y + e^x0".parse()?;
/// assert_eq!(f.arity(), 2);
/// let v = f.evaluate(&array![0.0, 3.0])?;
/// assert_eq!(v, 1.0);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Formula {
    source: String,
    program: Program,
}

impl Formula {
    /// Reads `source` (see [the language](self#the-language)) and compiles it.
    ///
    /// # Errors
    /// [`KobaiError::Formula`] with the column of the problem: an empty
    /// formula, an unknown name, an unbalanced parenthesis, an operator with
    /// nothing after it, a function given the wrong number of arguments.
    ///
    /// ```
    /// use kobai::{Formula, KobaiError};
    ///
    /// assert_eq!(Formula::parse("2^3^2")?.evaluate(&ndarray::array![])?, 512.0);
    ///
    /// let err = Formula::parse("(x + 1").unwrap_err();
    /// assert!(matches!(err, KobaiError::Formula { position: 1, .. }));
    /// assert!(err.to_string().ends_with("at column 1: this '(' is never closed"));
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn parse(source: &str) -> Result<Formula> {
        Ok(Formula {
            source: source.to_owned(),
            program: parser::parse(source)?,
        })
    }

    /// The text the formula was parsed from.
    ///
    /// ```
    /// assert_eq!(kobai::Formula::parse("x^2")?.source(), "x^2");
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn source(&self) -> &str {
        &self.source
    }

    /// How many coordinates a point needs: 1 + the highest variable index
    /// used (0 for a constant formula). `y` counts as `x1`.
    ///
    /// ```
    /// use kobai::Formula;
    /// assert_eq!(Formula::parse("x0^2 + x1^2")?.arity(), 2);
    /// assert_eq!(Formula::parse("x3")?.arity(), 4);
    /// assert_eq!(Formula::parse("y")?.arity(), 2);
    /// assert_eq!(Formula::parse("pi")?.arity(), 0);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn arity(&self) -> usize {
        self.program.arity()
    }

    /// The value of the formula at `x` (`x[i]` is `x_i`). Coordinates beyond
    /// [`arity`](Self::arity) are ignored, so `"x^2"` is also a function of two
    /// variables. The length is checked once; the evaluation itself allocates
    /// nothing.
    ///
    /// # Errors
    /// [`KobaiError::Shape`] if `x` has fewer than [`arity`](Self::arity) elements.
    ///
    /// ```
    /// use kobai::Formula;
    /// use ndarray::array;
    ///
    /// let f = Formula::parse("-x^2 + 1/2")?;
    /// assert_eq!(f.evaluate(&array![3.0])?, -8.5);
    ///
    /// let err = Formula::parse("x0 * x1")?.evaluate(&array![1.0]).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "the point has shape [1] but the formula x0 * x1 uses x0..x1, so it needs at least 2 coordinates"
    /// );
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn evaluate(&self, x: &ArrayRef1<f64>) -> Result<f64> {
        self.check_len(x)?;
        Ok(match x.as_slice() {
            Some(x) => self.program.run(|i| x[i]),
            None => self.program.run(|i| x[i]),
        })
    }

    /// The exact gradient at `x` by forward-mode automatic differentiation:
    /// the program runs once per variable on dual numbers `x_i + ε`. The
    /// result has `x`'s length (0 for coordinates the formula does not use).
    ///
    /// Where the formula has a kink, the derivative is one-sided or a
    /// subgradient: `abs` has slope 0 at 0, and `min`/`max` follow their first
    /// argument at a tie. Where a derivative does not exist (`sqrt` at 0) it
    /// is infinite or NaN, as the arithmetic gives it.
    ///
    /// # Errors
    /// [`KobaiError::Shape`] if `x` has fewer than [`arity`](Self::arity) elements.
    ///
    /// ```
    /// use kobai::Formula;
    /// use ndarray::array;
    ///
    /// let f = Formula::parse("x0^2 * x1 + sin(x1)")?;
    /// let g = f.gradient(&array![3.0, 0.0])?;
    /// assert_eq!(g, array![0.0, 10.0]);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn gradient(&self, x: &ArrayRef1<f64>) -> Result<Array1<f64>> {
        self.check_len(x)?;
        let copy;
        let x = match x.as_slice() {
            Some(x) => x,
            None => {
                copy = x.to_vec();
                &copy
            }
        };
        let arity = self.arity();
        Ok(Array1::from_shape_fn(x.len(), |j| {
            if j >= arity {
                return 0.0;
            }
            let seeded = |i: usize| Dual {
                v: x[i],
                d: if i == j { 1.0 } else { 0.0 },
            };
            self.program.run(seeded).d
        }))
    }

    fn check_len(&self, x: &ArrayRef1<f64>) -> Result<()> {
        let arity = self.arity();
        if x.len() >= arity {
            return Ok(());
        }
        let uses = match arity {
            1 => "x0".to_string(),
            n => format!("x0..x{}", n - 1),
        };
        let plural = if arity == 1 { "" } else { "s" };
        Err(KobaiError::Shape {
            what: "the point".into(),
            expected: format!(
                "the formula {} uses {uses}, so it needs at least {arity} coordinate{plural}",
                self.source.trim()
            ),
            found: vec![x.len()],
        })
    }
}

impl FromStr for Formula {
    type Err = KobaiError;

    fn from_str(source: &str) -> Result<Formula> {
        Formula::parse(source)
    }
}

/// Shows the formula as it was written.
impl fmt::Display for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// A [`KobaiError::Formula`] at `column` of `source`.
fn syntax_error(source: &str, column: usize, message: String) -> KobaiError {
    KobaiError::Formula {
        formula: source.to_owned(),
        position: column,
        message,
    }
}

#[cfg(test)]
mod tests;
