//! kobai for readers of *Deep Learning from Scratch*: each idiom of the book's
//! NumPy code next to its kobai call.
//!
//! | book (Python, NumPy)                                   | kobai (Rust, ndarray)                                             |
//! |--------------------------------------------------------|-------------------------------------------------------------------|
//! | `np.array([3.0, 4.0])`                                 | `array![3.0, 4.0]`                                                |
//! | `def function_2(x): return x[0]**2 + x[1]**2`          | [`function_2`](crate::function_2) (an error unless `x` has 2 elements) |
//! | `numerical_diff(function_1, 5)`                        | `numerical_diff(function_1, 5.0)?`                                |
//! | `numerical_gradient(function_2, x)`                    | `numerical_gradient(function_2, &x)?`                             |
//! | `numerical_gradient(lambda x: …, x)`                   | `numerical_gradient(\|x\| …, &x)?` (the closure may return `f64`) |
//! | `gradient_descent(f, init_x, lr=0.1, step_num=100)`    | `gradient_descent(f, &init_x, 0.1, 100)?` (returns a new array)    |
//! | the book's `x_history`                                 | `gradient_descent_path(f, &init_x, 0.1, 20)?`                     |
//! | `net = simpleNet()` (unseeded `np.random.randn`)       | `SimpleNet::new(seed)` (ChaCha8, same bits everywhere)            |
//! | `net.W`                                                | `net.w`                                                           |
//! | `np.dot(x, net.W)`                                     | `net.predict(&x)?`                                                |
//! | `net.loss(x, t)`                                       | `net.loss(&x, &t)?` — `t` one-hot (`&array![0.0, 0.0, 1.0]`) or labels (`&[2]`) |
//! | `f = lambda W: net.loss(x, t)`; `numerical_gradient(f, net.W)` | `numerical_gradient(\|w\| simple_net_loss(w, &x, &t), &net.w)?` |
//! | `softmax(a)`, `cross_entropy_error(y, t)`              | `softmax(&a)?`, `cross_entropy_error(&y, &t)?`                    |
//! | `print(a)`                                             | `println!("{}", numpy_str(&a))` ([`numpy_style`](crate::numpy_style)) |
//! | `MultiLayerNetExtend(784, [100, 100], 10, weight_init_std='relu', use_batchnorm=True)` | `MultiLayerNet::new(784, &[100, 100], 10).init(Init::He).batch_norm(true).build()?` ([`MultiLayerNet`](crate::nets::MultiLayerNet)) |
//! | `weight_decay_lambda=0.1`, `use_dropout=True, dropout_ration=0.2` | `.weight_decay(0.1)`, `.dropout(0.2)` |
//! | `network.params['W1']`, `grads['W1']`                  | `net.params()` by name: `"affine1.W"`; `grads["affine1.W"]` |
//! | `network.predict(x, train_flg=False)`                  | `net.predict(&x)?` ([`Mode::Eval`](crate::layers::Mode)) |
//! | `network.gradient(x, t)`                               | `net.gradient(&x, &t)?` (train mode; new running statistics are applied by [`step`](crate::step)) |
//! | `optimizer.update(params, grads)` (`Nesterov()` too)   | `step(&mut Nesterov::default(), &mut net, &grads)?`               |
//! | a class with `forward`/`backward` (`common/layers.py`) | `impl Layer for …` ([`Layer`](crate::layers::Layer)); see `examples/custom_layer.rs` |
//!
//! ## Three differences that matter
//!
//! **Nothing is changed behind your back.** The book's `numerical_gradient`
//! writes `x[idx] = tmp_val + h` into *your* array and restores it afterwards;
//! its `gradient_descent` does `x = init_x; x -= …`, so `init_x` itself moves.
//! kobai perturbs a private copy and returns new arrays: `&x` is a shared
//! borrow, so the compiler guarantees it.
//!
//! **`f(W)` is a real function of `W`.** The notebook's
//! `def f(W): return net.loss(x, t)` ignores `W` and works only because
//! `numerical_gradient` writes into the very array `net.loss` reads. In kobai,
//! `f` receives the perturbed weights and computes the loss from them
//! ([`simple_net_loss`](crate::simple_net_loss)).
//!
//! **Bad input is an error, not a surprise.** Where NumPy would broadcast,
//! index out of range, or quietly return `nan`, kobai returns a
//! [`KobaiError`](crate::KobaiError) naming what was expected and what was
//! found: a point of the wrong length, a label past the last class, a NaN
//! reached while differentiating (with the element's index).
//!
//! ## The same numbers, to the last bit
//!
//! The notebook's arithmetic is `+ − × ÷` on `f64` (`x[0]**2` is `x0 * x0`),
//! and kobai does the same operations in the same order, so In\[6\], In\[8\]
//! and In\[9\] come out bit for bit. Functions that go through `exp` and `log`
//! (softmax, the loss) agree to about 1e-16, since libm implementations may
//! round their last bit differently.
//!
//! ```
//! use kobai::{function_2, numerical_gradient};
//! use ndarray::array;
//!
//! let x = array![3.0, 4.0];
//! let grad = numerical_gradient(function_2, &x)?;
//! assert_eq!(grad.to_vec(), vec![6.00000000000378, 7.999999999999119]); // NumPy's bits
//! assert_eq!(x, array![3.0, 4.0]);                                        // x untouched
//! # Ok::<(), kobai::KobaiError>(())
//! ```
