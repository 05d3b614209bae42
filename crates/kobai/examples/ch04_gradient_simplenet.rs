//! Recreates notebook cells In[11]–In[15] (the book's `ch04/gradient_simplenet.py`):
//! the gradient of a one-layer network's loss with respect to its weights.
//!
//! ```python
//! class simpleNet:
//!     def __init__(self):
//!         self.W = np.random.randn(2, 3)
//!     def predict(self, x):
//!         return np.dot(x, self.W)
//!     def loss(self, x, t):
//!         z = self.predict(x)
//!         y = softmax(z)
//!         return cross_entropy_error(y, t)
//!
//! net = simpleNet(); print(net.W)
//! x = np.array([0.6, 0.9]); p = net.predict(x); print(p)
//! t = np.array([0, 0, 1]); net.loss(x, t)
//! def f(W):
//!     return net.loss(x, t)
//! dW = numerical_gradient(f, net.W); print(dW)
//! ```
//!
//! The notebook's `f` ignores its argument and works only because
//! `numerical_gradient` writes into `net.W` itself. In kobai `f` really is a
//! function of `W`, and the network is never changed.
//! Run: `cargo run -p kobai --example ch04_gradient_simplenet [SEED]`

use kobai::numpy_style::{numpy_str, py_float_repr};
use kobai::{SimpleNet, numerical_gradient, simple_net_loss};
use ndarray::array;

fn main() -> kobai::Result<()> {
    let seed = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let net = SimpleNet::new(seed);
    println!("W (seed {seed}):\n{}", numpy_str(&net.w));

    let x = array![0.6, 0.9];
    let p = net.predict(&x)?;
    println!("p = {}", numpy_str(&p));
    let predicted = p
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i);
    println!("np.argmax(p) = {}", predicted.unwrap_or(0));

    let t = array![0.0, 0.0, 1.0];
    println!("loss = {}", py_float_repr(net.loss(&x, &t)?));

    let dw = numerical_gradient(|w| simple_net_loss(w, &x, &t), &net.w)?;
    println!("dW =\n{}", numpy_str(&dw));
    Ok(())
}
