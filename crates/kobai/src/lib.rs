//! # kobai — gradients from scratch
//!
//! kobai (勾配, *kōbai*, "gradient") follows section 4.4 "Gradients" of *Deep
//! Learning from Scratch* (Koki Saitoh) in Rust: the numerical gradient, the
//! gradient method, and the gradient of a small network's loss with respect to
//! its weights. Arrays are [`ndarray`] arrays of `f64`, of any dimension; every
//! function that can be handed bad input returns [`Result`] with a
//! [`KobaiError`] that says what was expected and what was found.
//!
//! ## The notebook, cell by cell
//!
//! **In\[4\]–In\[6\]: the gradient.** [`numerical_gradient()`] takes the
//! function and the point, like the book's, and returns a new array of the
//! point's shape. The function receives the perturbed array; kobai perturbs its
//! own copy, so your array is never changed. The operations are the book's, in
//! its order, so the numbers are NumPy's to the last bit.
//!
//! **In\[7\]–In\[9\]: the gradient method.** [`gradient_descent()`] returns the
//! final point as a new array ([`gradient_descent_path`] returns every point).
//! The notebook's version changed its `init_x` in place, which is why In\[9\]
//! printed the same numbers twice; [`notebook`] explains and replays it.
//!
//! **In\[11\]–In\[15\]: the gradient of a network.** [`SimpleNet`] owns its
//! weights `w`; its loss is [`softmax`] then [`cross_entropy_error`]. The
//! notebook's `f(W)` ignored `W` and relied on `numerical_gradient` writing into
//! `net.W`; in kobai, `f` really is a function of `W` ([`simple_net_loss`]).
//!
//! ```
//! use kobai::{function_2, gradient_descent, numerical_gradient, simple_net_loss, SimpleNet};
//! use ndarray::array;
//!
//! // In[6]: the gradient of x0² + x1² at (3, 4).
//! let grad = numerical_gradient(function_2, &array![3.0, 4.0])?;
//! assert!((grad[0] - 6.0).abs() < 1e-9 && (grad[1] - 8.0).abs() < 1e-9);
//!
//! // In[8]: 100 steps of gradient descent from (-3, 4) reach the minimum at the origin.
//! let x = gradient_descent(function_2, &array![-3.0, 4.0], 0.1, 100)?;
//! assert!(x.iter().all(|v| v.abs() < 1e-9));
//!
//! // In[15]: dW of simpleNet, with f a real function of W.
//! let net = SimpleNet::new(0);
//! let (x, t) = (array![0.6, 0.9], array![0.0, 0.0, 1.0]);
//! let dw = numerical_gradient(|w| simple_net_loss(w, &x, &t), &net.w)?;
//! assert_eq!(dw.dim(), (2, 3));
//! # Ok::<(), kobai::KobaiError>(())
//! ```
//!
//! ## After the notebook: networks of any shape
//!
//! The book's chapters 5 and 6 build networks out of layers. In kobai a
//! [`layers::Layer`] has a forward pass (in [`Mode::Train`](layers::Mode) or
//! `Eval`), a backward pass, and its parameters by name; a
//! [`Network`] is layers in sequence with the softmax
//! cross-entropy loss as its head, and [`MultiLayerNet`]
//! builds the book's `MultiLayerNetExtend` (He/Xavier init, weight decay,
//! Dropout, Batch Normalization). Every tool — the optimizers, the gradient
//! check, the numerical gradient, `.npz` files, checkpoints — goes through the
//! parameter names (`affine1.W`), so a layer you write gets them all.
//!
//! ```
//! use kobai::nets::MultiLayerNet;
//! use kobai::{Adam, Backprop, gradient_check, step};
//! use ndarray::array;
//!
//! let mut net = MultiLayerNet::new(2, &[6, 6], 2).batch_norm(true).weight_decay(0.01).seed(3).build()?;
//! let (x, t) = (array![[0.2, -0.4], [0.9, 0.1], [-0.5, 0.7]], (&[0usize, 1, 1]).into());
//! assert!(gradient_check(&net, &x, &t)?.passed()); // every parameter, BatchNorm's γ and β too
//! let (before, grads) = net.gradient(&x, &t)?;
//! step(&mut Adam::new(0.05, 0.9, 0.999)?, &mut net, &grads)?;
//! assert!(net.gradient(&x, &t)?.0 < before);
//! # Ok::<(), kobai::KobaiError>(())
//! ```
//!
//! Chapter 7's convolutional network is layers too:
//! [`Convolution`](layers::Convolution) and [`Pooling`](layers::Pooling)
//! take images (N, C, H, W) — or rows of C·H·W values, as a
//! [`Dataset`] of images holds them — and
//! [`SimpleConvNet`](nets::SimpleConvNet) builds the book's network, which
//! every tool above handles as it handles the others.
//!
//! ```
//! use kobai::nets::SimpleConvNet;
//! use kobai::gradient_check;
//! use ndarray::Array2;
//!
//! // Two 6x6 images, three 3x3 filters, a 2x2 max pool, 5 hidden units, 3 classes.
//! let net = SimpleConvNet::new((1, 6, 6), 3).filters(3).filter_size(3).hidden(5).weight_init_std(0.3).build()?;
//! let x = Array2::from_shape_fn((2, 36), |(n, p)| ((n * 36 + p) as f64 * 0.7).sin());
//! assert!(gradient_check(&net, &x, &(&[0usize, 2]).into())?.passed()); // conv1.W, conv1.b, affine1.W, ...
//! # Ok::<(), kobai::KobaiError>(())
//! ```
//!
//! ## Beyond the notebook: derivatives you can trust
//!
//! The book's fixed step is 1 % off for 1/x at 1e-3. [`FiniteDiff::accurate`]
//! adapts the step to the function, extrapolates, and returns an error
//! estimate and a status with every component;
//! [`exact_gradient`](numerical_gradient::exact_gradient) uses dual numbers
//! for functions written over any number type. [`gradient_check()`] judges
//! backprop against those error estimates. Which to use when, with the
//! measured table: [`doc::numerical_derivatives`].
//!
//! ```
//! use kobai::FiniteDiff;
//! use ndarray::array;
//!
//! let g = FiniteDiff::accurate().gradient(|x: &ndarray::ArrayRef1<f64>| 1.0 / x[0], &array![1e-3])?;
//! let error = g.error.as_ref().expect("the accurate mode estimates its error")[0];
//! assert!((g.value[0] + 1e6).abs() <= error && error < 1e-3);
//! # Ok::<(), kobai::KobaiError>(())
//! ```
//!
//! ## Where things are
//! - [`numerical_gradient`](mod@numerical_gradient): [`numerical_diff`], [`numerical_gradient()`];
//!   [`FiniteDiff`] (schemes, adaptive steps, error estimates, parallel), exact
//!   (dual-number) gradients, Jacobians and Hessians
//! - [`gradient_descent`](mod@gradient_descent): [`gradient_descent()`], [`gradient_descent_path`]
//! - [`functions`] — [`softmax`], [`cross_entropy_error`], [`sigmoid`], [`relu`], [`Targets`]
//! - [`objectives`] — [`function_1`], [`function_2`], [`sphere`], [`rosenbrock`], each with its exact gradient
//! - [`nets`] — [`SimpleNet`], [`TwoLayerNet`], [`Network`], [`MultiLayerNet`],
//!   [`SimpleConvNet`](nets::SimpleConvNet); [`layers`] — the [`Layer`](layers::Layer) trait and the
//!   book's layers (convolution and pooling too), forward and backward
//! - [`model`] — [`Params`], [`Grads`], [`Model`], [`Backprop`]; [`gradient_check()`], [`gradient_check_fast`]
//! - [`optim`] — [`Sgd`], [`Momentum`], [`Nesterov`], [`AdaGrad`], [`RmsProp`], [`Adam`], [`step`], [`minimize`]
//! - [`train`] — [`Trainer`], [`Observer`], checkpoints to resume a run bit for bit
//!   ([`train::Checkpoint`]); [`data`] — MNIST-format files, batches, the spiral
//! - [`formula`] — [`Formula`]: formulas typed as text, with exact gradients
//! - [`notebook`] — the notebook's cells as data, for replaying and for tests
//! - [`numpy_style`] — print arrays the way NumPy does, to compare with the book
//! - [`doc::for_book_readers`] — the book's idioms next to kobai's;
//!   [`doc::numerical_derivatives`] — which derivative mode when, with the accuracy table;
//!   [`doc::bad_input`] — what every kind of bad input gets

pub mod atomic_file;
pub mod data;
pub mod doc;
pub mod error;
pub mod formula;
pub mod functions;
pub mod gradient_check;
pub mod gradient_descent;
pub mod layers;
pub mod model;
pub mod nets;
pub mod notebook;
pub mod numerical_gradient;
pub mod numpy_style;
pub mod objectives;
pub mod optim;
pub mod train;

mod kernels;

mod check;

pub use data::{Batches, Dataset, IdxArray, load_mnist_dir, read_idx_u8, spiral, write_idx_u8};
pub use error::{KobaiError, Result};
pub use formula::Formula;
pub use functions::{CROSS_ENTROPY_DELTA, Targets, cross_entropy_error, relu, sigmoid, softmax};
pub use gradient_check::{
    GradientCheck, TensorCheck, compare_gradients, gradient_check, gradient_check_fast,
};
pub use gradient_descent::{gradient_descent, gradient_descent_path};
pub use kernels::{SIMD_ENV, SimdLevel};
pub use model::{Backprop, Grads, Model, Params};
pub use nets::{MultiLayerNet, Network, SimpleNet, TwoLayerNet, simple_net_loss};
pub use numerical_gradient::{
    BOOK_STEP, FiniteDiff, FunctionValue, numerical_diff, numerical_gradient,
};
pub use objectives::{
    function_1, function_1_derivative, function_2, function_2_gradient, rosenbrock,
    rosenbrock_gradient, sphere, sphere_gradient,
};
pub use optim::{AdaGrad, Adam, Momentum, Nesterov, Optimizer, RmsProp, Sgd, minimize, step};
pub use train::{History, Observer, Trainer};

/// The README's example, compiled and run as a doctest so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
