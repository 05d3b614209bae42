//! Recreates notebook cells In[4]–In[6] (the book's `ch04/gradient_2d.py`): the
//! gradient of `function_2` at three points.
//!
//! ```python
//! def function_2(x):
//!     return x[0]**2 + x[1]**2
//!
//! print(numerical_gradient(function_2, np.array([3.0, 4.0])))   # [6. 8.]
//! print(numerical_gradient(function_2, np.array([0.0, 2.0])))   # [0. 4.]
//! print(numerical_gradient(function_2, np.array([3.0, 0.0])))   # [6. 0.]
//! ```
//!
//! kobai's `numerical_gradient` perturbs its own copy of the point, so the
//! caller's array is never changed. Run: `cargo run -p kobai --example ch04_gradient_2d`
//! (`kobai notebook` also draws the gradient field).

use kobai::numpy_style::numpy_str;
use kobai::{function_2, numerical_gradient};
use ndarray::array;

fn main() -> kobai::Result<()> {
    for point in [array![3.0, 4.0], array![0.0, 2.0], array![3.0, 0.0]] {
        let grad = numerical_gradient(function_2, &point)?;
        println!("{}   (exact bits: {:?})", numpy_str(&grad), grad.to_vec());
    }
    Ok(())
}
