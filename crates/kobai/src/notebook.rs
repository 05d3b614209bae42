//! The notebook (section 4.4 "Gradients"), cell by cell, as data.
//!
//! [`replay`] runs every cell that prints a number and returns what each one
//! computed; `kobai notebook` prints it side by side with the notebook's output,
//! and `tests/notebook.rs` asserts every number.
//!
//! ## Why In\[9\] printed the same numbers twice
//!
//! The notebook's `gradient_descent` did `x = init_x; x -= lr * grad`, which
//! changes the caller's array in place. So In\[8\] left `init_x` at about
//! `[-6e-10, 8e-10]`, and In\[9\]'s first call (lr = 10) started there, not at
//! `[-3, 4]`. With lr = 10 each step multiplies x by −19, until |x| passes
//! 2⁴⁰ ≈ 1.1e12: there `x + 1e-4` rounds back to `x`, the central difference is
//! exactly 0, and x freezes. The second call (lr = 1e-10) started from that
//! frozen point and could not move either. kobai's [`gradient_descent()`] returns a
//! new array; [`replay`] chains the calls on purpose to reproduce the output, and
//! also reports what each call gives from a fresh `[-3, 4]`.

use ndarray::{Array1, Array2, array};

use crate::error::Result;
use crate::{SimpleNet, function_2, gradient_descent, numerical_gradient};

/// simpleNet's weights as the notebook printed them in In\[12\] (it never seeded
/// NumPy, so the printed, 8-decimal matrix is all there is).
///
/// ```
/// assert_eq!(kobai::notebook::printed_w()[[1, 0]], -2.38228839);
/// ```
pub fn printed_w() -> Array2<f64> {
    array![
        [0.42875037, -1.09670346, 0.24866542],
        [-2.38228839, 0.47330153, -0.20017261]
    ]
}

/// The input of In\[13\]: `x = np.array([0.6, 0.9])`.
pub const X: [f64; 2] = [0.6, 0.9];

/// The label of In\[14\]: `t = np.array([0, 0, 1])`, class 2.
pub const T: [f64; 3] = [0.0, 0.0, 1.0];

/// The points of In\[6\].
pub const GRADIENT_POINTS: [[f64; 2]; 3] = [[3.0, 4.0], [0.0, 2.0], [3.0, 0.0]];

/// The start of In\[8\]: `init_x = np.array([-3.0, 4.0])`.
pub const INIT_X: [f64; 2] = [-3.0, 4.0];

/// What each printing cell of the notebook computed.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// In\[6\]: the gradient of `function_2` at each of [`GRADIENT_POINTS`].
    pub in6_gradients: Vec<Array1<f64>>,
    /// In\[8\]: gradient descent from [`INIT_X`], lr = 0.1, 100 steps.
    pub in8_descent: Array1<f64>,
    /// In\[9\], as the notebook ran it: lr = 10 from In\[8\]'s result, then
    /// lr = 1e-10 from that.
    pub in9_chained: [Array1<f64>; 2],
    /// In\[9\] from a fresh [`INIT_X`]: lr = 10, then lr = 1e-10.
    pub in9_fresh: [Array1<f64>; 2],
    /// In\[12\]: simpleNet's weights ([`printed_w`]).
    pub in12_w: Array2<f64>,
    /// In\[13\]: `p = net.predict(x)`.
    pub in13_p: Array1<f64>,
    /// In\[14\]: `net.loss(x, t)`.
    pub in14_loss: f64,
    /// In\[15\]: `dW`, the numerical gradient of the loss with respect to `W`.
    pub in15_dw: Array2<f64>,
}

/// The learning rates of In\[9\].
pub const IN9_LEARNING_RATES: [f64; 2] = [10.0, 1e-10];

/// Runs the notebook's cells and returns every number they print.
///
/// # Errors
/// None in practice: every input is fixed. The `Result` carries kobai's own
/// checks through.
///
/// ```
/// let replay = kobai::notebook::replay()?;
/// assert_eq!(replay.in9_chained[0], replay.in9_chained[1]);
/// assert_ne!(replay.in9_fresh[0], replay.in9_fresh[1]);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn replay() -> Result<Replay> {
    let in6_gradients = GRADIENT_POINTS
        .iter()
        .map(|p| numerical_gradient(function_2, &Array1::from(p.to_vec())))
        .collect::<Result<Vec<_>>>()?;
    let init_x = Array1::from(INIT_X.to_vec());
    let in8_descent = gradient_descent(function_2, &init_x, 0.1, 100)?;
    let [lr_big, lr_small] = IN9_LEARNING_RATES;
    let chained_big = gradient_descent(function_2, &in8_descent, lr_big, 100)?;
    let chained_small = gradient_descent(function_2, &chained_big, lr_small, 100)?;
    let fresh_big = gradient_descent(function_2, &init_x, lr_big, 100)?;
    let fresh_small = gradient_descent(function_2, &init_x, lr_small, 100)?;
    let net = SimpleNet::from_weights(printed_w())?;
    let (x, t) = (Array1::from(X.to_vec()), Array1::from(T.to_vec()));
    Ok(Replay {
        in6_gradients,
        in8_descent,
        in9_chained: [chained_big, chained_small],
        in9_fresh: [fresh_big, fresh_small],
        in13_p: net.predict(&x)?,
        in14_loss: net.loss(&x, &t)?,
        in15_dw: net.numerical_gradient(&x, &t)?,
        in12_w: net.w,
    })
}
