//! Recreates the book's `ch04/gradient_1d.py` (section 4.3, the step before the
//! notebook): the numerical derivative of `function_1` at 5 and at 10.
//!
//! ```python
//! def numerical_diff(f, x):
//!     h = 1e-4 # 0.0001
//!     return (f(x+h) - f(x-h)) / (2*h)
//!
//! def function_1(x):
//!     return 0.01*x**2 + 0.1*x
//!
//! print(numerical_diff(function_1, 5))    # 0.1999999999990898
//! print(numerical_diff(function_1, 10))   # 0.2999999999986347
//! ```
//!
//! Run: `cargo run -p kobai --example ch04_gradient_1d`

use kobai::numpy_style::py_float_repr;
use kobai::{function_1, function_1_derivative, numerical_diff};

fn main() -> kobai::Result<()> {
    for x in [5.0, 10.0] {
        let numeric = numerical_diff(function_1, x)?;
        let exact = function_1_derivative(x);
        println!(
            "numerical_diff(function_1, {x}) = {}   (exact: {}, error {:.1e})",
            py_float_repr(numeric),
            py_float_repr(exact),
            (numeric - exact).abs()
        );
        // The tangent line at x, as the book draws it: y = f'(x)·(t − x) + f(x).
        let intercept = function_1(x) - numeric * x;
        let sign = if intercept < 0.0 { '-' } else { '+' };
        println!(
            "  tangent at {x}: y = {numeric:.4}·t {sign} {:.4}",
            intercept.abs()
        );
    }
    Ok(())
}
