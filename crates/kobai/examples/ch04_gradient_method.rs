//! Recreates notebook cells In[7]–In[9] (the book's `ch04/gradient_method.py`):
//! gradient descent on `function_2` from (-3, 4).
//!
//! ```python
//! def gradient_descent(f, init_x, lr=0.01, step_num=100):
//!     x = init_x
//!     for i in range(step_num):
//!         grad = numerical_gradient(f, x)
//!         x -= lr * grad
//!     return x
//!
//! init_x = np.array([-3.0, 4.0])
//! gradient_descent(function_2, init_x=init_x, lr=0.1, step_num=100)
//! # array([-6.11110793e-10,  8.14814391e-10])
//! print(gradient_descent(function_2, init_x=init_x, lr=10.0, step_num=100))
//! print(gradient_descent(function_2, init_x=init_x, lr=1e-10, step_num=100))
//! # [ 2.34235971e+12 -3.96091057e+12]   (twice)
//! ```
//!
//! The notebook's `x -= …` changed `init_x` in place, so In[9] continued from
//! In[8]'s result. kobai returns a new array: this example shows both the
//! fresh-start results and the notebook's chained ones.
//! Run: `cargo run -p kobai --example ch04_gradient_method`

use kobai::numpy_style::{numpy_repr, numpy_str};
use kobai::{function_2, gradient_descent};
use ndarray::array;

fn main() -> kobai::Result<()> {
    let init_x = array![-3.0, 4.0];
    let x = gradient_descent(function_2, &init_x, 0.1, 100)?;
    println!("lr=0.1:   {}", numpy_repr(&x));

    println!("from a fresh init_x = {}:", numpy_str(&init_x));
    for lr in [10.0, 1e-10] {
        println!(
            "  lr={lr:<6} {}",
            numpy_str(&gradient_descent(function_2, &init_x, lr, 100)?)
        );
    }

    println!("chained, as the notebook ran it (each call starts where the last stopped):");
    let mut x = x;
    for lr in [10.0, 1e-10] {
        x = gradient_descent(function_2, &x, lr, 100)?;
        println!("  lr={lr:<6} {}", numpy_str(&x));
    }
    Ok(())
}
