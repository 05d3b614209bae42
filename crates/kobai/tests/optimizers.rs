//! Chapter 6's optimizers against the book's NumPy code, bit for bit.
//!
//! The pinned numbers come from `tests/reference/optimizers_numpy.py`: the
//! classes of the book's `common/optimizer.py`, run by its
//! `ch06/optimizer_compare_naive.py` (figure 6-8) on f(x, y) = x²/20 + y² with
//! the analytic gradient (x/10, 2y), from (-7, 2), for 30 updates. Every update
//! here does the same IEEE operations in the same order as NumPy, so the final
//! points are compared with `assert_eq!`, not a tolerance.

use kobai::{
    AdaGrad, Adam, Backprop, KobaiError, Momentum, Nesterov, Optimizer, RmsProp, Sgd, TwoLayerNet,
    function_2, minimize, step,
};
use ndarray::{ArrayD, ArrayRef1, arr0, array};

/// The script's loop: two parameters `x` and `y` (0-d arrays, as the book's
/// scalars), updated in the order of its `params` dict.
///
/// ```python
/// def df(x, y):
///     return x / 10.0, 2.0*y
/// init_pos = (-7.0, 2.0)
///     for i in range(30):
///         grads['x'], grads['y'] = df(params['x'], params['y'])
///         optimizer.update(params, grads)
/// ```
fn figure_6_8(optimizer: &mut impl Optimizer) -> (f64, f64) {
    let (mut x, mut y) = (arr0(-7.0).into_dyn(), arr0(2.0).into_dyn());
    for _ in 0..30 {
        let (gx, gy) = (arr0(x[[]] / 10.0).into_dyn(), arr0(2.0 * y[[]]).into_dyn());
        optimizer.update("x", x.view_mut(), gx.view());
        optimizer.update("y", y.view_mut(), gy.view());
    }
    (x[[]], y[[]])
}

/// The same run with one parameter array `[x, y]`, which the script checks
/// gives the same bits ("one array [x, y]: same bits").
fn figure_6_8_one_array(optimizer: &mut impl Optimizer) -> (f64, f64) {
    let mut xy: ArrayD<f64> = array![-7.0, 2.0].into_dyn();
    for _ in 0..30 {
        let grad = array![xy[[0]] / 10.0, 2.0 * xy[[1]]].into_dyn();
        optimizer.update("xy", xy.view_mut(), grad.view());
    }
    (xy[[0]], xy[[1]])
}

#[test]
fn sgd_matches_the_book_bit_for_bit() -> kobai::Result<()> {
    // optimizers["SGD"] = SGD(lr=0.95)
    //   params[key] -= self.lr * grads[key]
    // SGD: x = -0.3503929957523197, y = 0.0847823165504322
    let expected = (-0.3503929957523197, 0.0847823165504322);
    assert_eq!(figure_6_8(&mut Sgd::new(0.95)?), expected);
    assert_eq!(figure_6_8_one_array(&mut Sgd::new(0.95)?), expected);
    Ok(())
}

#[test]
fn momentum_matches_the_book_bit_for_bit() -> kobai::Result<()> {
    // optimizers["Momentum"] = Momentum(lr=0.1)      (momentum=0.9)
    //   self.v[key] = self.momentum*self.v[key] - self.lr*grads[key]
    //   params[key] += self.v[key]
    // Momentum: x = 0.896413858493733, y = 0.08808560171506971
    let expected = (0.896413858493733, 0.08808560171506971);
    assert_eq!(figure_6_8(&mut Momentum::new(0.1, 0.9)?), expected);
    assert_eq!(
        figure_6_8_one_array(&mut Momentum::new(0.1, 0.9)?),
        expected
    );
    Ok(())
}

#[test]
fn adagrad_matches_the_book_bit_for_bit() -> kobai::Result<()> {
    // optimizers["AdaGrad"] = AdaGrad(lr=1.5)
    //   self.h[key] += grads[key] * grads[key]
    //   params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)
    // AdaGrad: x = -0.12016232231416045, y = 2.486389893984459e-17
    let expected = (-0.12016232231416045, 2.486389893984459e-17);
    assert_eq!(figure_6_8(&mut AdaGrad::new(1.5)?), expected);
    assert_eq!(figure_6_8_one_array(&mut AdaGrad::new(1.5)?), expected);
    Ok(())
}

#[test]
fn rmsprop_matches_the_book_bit_for_bit() -> kobai::Result<()> {
    // optimizers["RMSprop"] = RMSprop(lr=0.1)   # not in figure 6-8   (decay_rate=0.99)
    //   self.h[key] *= self.decay_rate
    //   self.h[key] += (1 - self.decay_rate) * grads[key] * grads[key]
    //   params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)
    // RMSprop: x = -0.6974203096807907, y = 1.4834621508315574e-08
    let expected = (-0.6974203096807907, 1.4834621508315574e-08);
    assert_eq!(figure_6_8(&mut RmsProp::new(0.1, 0.99)?), expected);
    assert_eq!(
        figure_6_8_one_array(&mut RmsProp::new(0.1, 0.99)?),
        expected
    );
    Ok(())
}

#[test]
fn adam_matches_the_book_bit_for_bit() -> kobai::Result<()> {
    // optimizers["Adam"] = Adam(lr=0.3)      (beta1=0.9, beta2=0.999)
    //   self.iter += 1
    //   lr_t  = self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)
    //   self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
    //   self.v[key] += (1 - self.beta2) * (grads[key]**2 - self.v[key])
    //   params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)
    // Adam: x = 0.13600685239498186, y = 0.31824537553721943
    let expected = (0.13600685239498186, 0.31824537553721943);
    let mut adam = Adam::new(0.3, 0.9, 0.999)?;
    assert_eq!(figure_6_8(&mut adam), expected);
    // One `iter` per update(params, grads) in the book; one count per name here.
    assert_eq!((adam.steps("x"), adam.steps("y")), (30, 30));
    assert_eq!(
        figure_6_8_one_array(&mut Adam::new(0.3, 0.9, 0.999)?),
        expected
    );
    Ok(())
}

#[test]
fn momentum_zero_is_sgd_to_the_bit() -> kobai::Result<()> {
    // v = 0·v − lr·g = −(lr·g) exactly, and W + (−(lr·g)) = W − lr·g.
    assert_eq!(
        figure_6_8(&mut Momentum::new(0.95, 0.0)?),
        figure_6_8(&mut Sgd::new(0.95)?)
    );
    Ok(())
}

#[test]
fn bad_hyperparameters_are_rejected_with_a_clear_message() {
    let bad_lr = [0.0, -0.1, f64::NAN, f64::INFINITY];
    let bad_fraction = [1.0, 1.5, -0.1, f64::NAN, f64::NEG_INFINITY];
    for lr in bad_lr {
        for err in [
            Momentum::new(lr, 0.9).err(),
            AdaGrad::new(lr).err(),
            RmsProp::new(lr, 0.99).err(),
            Adam::new(lr, 0.9, 0.999).err(),
        ] {
            assert!(
                matches!(err, Some(KobaiError::Hyperparameter { name: "lr", .. })),
                "lr = {lr}: {err:?}"
            );
        }
    }
    for value in bad_fraction {
        for (name, err) in [
            ("momentum", Momentum::new(0.1, value).err()),
            ("decay_rate", RmsProp::new(0.1, value).err()),
            ("beta1", Adam::new(0.1, value, 0.999).err()),
            ("beta2", Adam::new(0.1, 0.9, value).err()),
        ] {
            let Some(err) = err else {
                panic!("{name} = {value} was accepted")
            };
            let message = format!("{name} = {value} is invalid; expected a number in [0, 1)");
            assert_eq!(err.to_string(), message);
        }
    }
    let err = Adam::new(0.0, 0.9, 0.999).err().map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("lr = 0 is invalid; expected a finite number above 0")
    );
    // The edges that are allowed.
    assert!(Momentum::new(1e-300, 0.0).is_ok());
    assert!(RmsProp::new(0.1, 0.0).is_ok() && Adam::new(0.1, 0.0, 0.0).is_ok());
}

#[test]
fn the_defaults_are_the_books() {
    let (m, a, r, adam) = (
        Momentum::default(),
        AdaGrad::default(),
        RmsProp::default(),
        Adam::default(),
    );
    assert_eq!((m.lr(), m.momentum()), (0.01, 0.9));
    assert_eq!(a.lr(), 0.01);
    assert_eq!((r.lr(), r.decay_rate()), (0.01, 0.99));
    assert_eq!((adam.lr(), adam.beta1(), adam.beta2()), (0.001, 0.9, 0.999));
}

#[test]
fn state_is_kept_per_name() {
    let g = array![1.0, -2.0].into_dyn();
    let (mut a, mut b) = (array![0.0, 0.0].into_dyn(), array![0.0, 0.0].into_dyn());
    let mut momentum = Momentum::default();
    let mut adagrad = AdaGrad::default();
    let mut rmsprop = RmsProp::default();
    let mut adam = Adam::default();
    let optimizers: [&mut dyn Optimizer; 4] =
        [&mut momentum, &mut adagrad, &mut rmsprop, &mut adam];
    for opt in optimizers {
        opt.update("b", b.view_mut(), g.view());
        opt.update("a", a.view_mut(), g.view());
        opt.update("a", a.view_mut(), g.view());
    }
    // After one update of "b", whatever "a" did since.
    assert_eq!(momentum.v("b"), Some(array![-0.01, 0.02].into_dyn().view()));
    assert_eq!(adagrad.h("b"), Some(array![1.0, 4.0].into_dyn().view()));
    assert_eq!(adagrad.h("a"), Some(array![2.0, 8.0].into_dyn().view()));
    assert_eq!(rmsprop.h("b"), Some(((1.0 - 0.99) * &g * &g).view()));
    assert_eq!(
        (adam.steps("a"), adam.steps("b"), adam.steps("c")),
        (2, 1, 0)
    );
    assert_eq!(adam.m("b"), Some(((1.0 - 0.9) * &g).view())); // m += (1 - beta1) * (g - 0)
    assert!(adam.v("c").is_none());
}

#[test]
fn a_new_shape_under_the_same_name_starts_afresh() {
    let mut adam = Adam::default();
    let mut w = array![1.0, 2.0].into_dyn();
    adam.update("W", w.view_mut(), array![0.5, 0.5].into_dyn().view());
    adam.update("W", w.view_mut(), array![0.5, 0.5].into_dyn().view());
    let mut w = array![[1.0], [2.0], [3.0]].into_dyn();
    adam.update(
        "W",
        w.view_mut(),
        array![[0.5], [0.5], [0.5]].into_dyn().view(),
    );
    assert_eq!(adam.steps("W"), 1);
    assert_eq!(adam.m("W").map(|m| m.shape().to_vec()), Some(vec![3, 1]));
}

#[test]
fn a_two_layer_net_trains_with_adam() -> kobai::Result<()> {
    // Two well-separated classes of four points each.
    let x = array![
        [0.0, 0.1],
        [0.2, 0.0],
        [0.1, 0.3],
        [0.3, 0.2],
        [1.0, 0.9],
        [0.8, 1.0],
        [0.9, 0.7],
        [0.7, 0.8]
    ];
    let t = (&[0usize, 0, 0, 0, 1, 1, 1, 1]).into();
    let mut net = TwoLayerNet::new(2, 8, 2, 0.1, 7)?;
    let mut adam = Adam::new(0.05, 0.9, 0.999)?;
    let (first, _) = net.gradient(&x, &t)?;
    let mut loss = first;
    for _ in 0..100 {
        let (l, grads) = net.gradient(&x, &t)?;
        loss = l;
        step(&mut adam, &mut net, &grads)?;
    }
    assert!(loss < first / 10.0, "loss {first} → {loss}");
    // One `iter` per step, as the book's single counter.
    for name in ["W1", "b1", "W2", "b2"] {
        assert_eq!(adam.steps(name), 100, "{name}");
    }
    Ok(())
}

#[test]
fn minimize_with_sgd_is_the_books_gradient_descent_to_the_bit() -> kobai::Result<()> {
    // Notebook In[8]: gradient_descent(function_2, init_x=[-3.0, 4.0], lr=0.1, step_num=100)
    //   → [-6.111107928998789e-10, 8.148143905314271e-10] (NumPy's bits)
    let init_x = array![-3.0, 4.0];
    let path = minimize(function_2, &init_x, &mut Sgd::new(0.1)?, 100)?;
    assert_eq!(path.len(), 101);
    assert_eq!(
        path[100],
        array![-6.111107928998789e-10, 8.148143905314271e-10]
    );
    assert_eq!(init_x, array![-3.0, 4.0]);
    // Any dimension, against the book's loop written out: x -= lr * numerical_gradient(f, x).
    let start = array![[2.0, -1.0], [0.5, 3.0]];
    let f = |x: &ndarray::ArrayRef2<f64>| x.iter().map(|v| v * v).sum::<f64>();
    let path = minimize(f, &start, &mut Sgd::new(0.05)?, 7)?;
    let mut x = start.clone();
    for (k, point) in path.iter().enumerate().skip(1) {
        let grad = kobai::numerical_gradient(f, &x)?;
        x.zip_mut_with(&grad, |xi, g| *xi -= 0.05 * g);
        assert_eq!(*point, x, "step {k}");
    }
    Ok(())
}

#[test]
fn minimize_with_adam_follows_the_analytic_run() -> kobai::Result<()> {
    // The central difference of a quadratic is exact but for rounding, so the
    // path stays near the analytic run's NumPy pin (Adam: x = 0.13600685239498186,
    // y = 0.31824537553721943) — not bit for bit: (f(x+h) − f(x−h))/2h rounds
    // differently from x/10, and 30 steps carry that along (2.3e-12 in x here).
    let f = |p: &ArrayRef1<f64>| p[0] * p[0] / 20.0 + p[1] * p[1];
    let path = minimize(f, &array![-7.0, 2.0], &mut Adam::new(0.3, 0.9, 0.999)?, 30)?;
    let last = &path[30];
    assert!((last[0] - 0.13600685239498186).abs() < 1e-10, "{last}");
    assert!((last[1] - 0.31824537553721943).abs() < 1e-10, "{last}");
    Ok(())
}

#[test]
fn minimize_rejects_a_non_finite_start_and_zero_steps_return_it() -> kobai::Result<()> {
    let err = minimize(function_2, &array![f64::NAN, 1.0], &mut Sgd::new(0.1)?, 3).unwrap_err();
    assert!(matches!(err, KobaiError::NonFinite { .. }), "{err}");
    let path = minimize(function_2, &array![1.5, -2.0], &mut Adam::default(), 0)?;
    assert_eq!(path, vec![array![1.5, -2.0]]);
    Ok(())
}

#[test]
fn nesterov_is_the_books_update_and_saves_its_velocity() -> kobai::Result<()> {
    let (lr, mu) = (0.1, 0.9);
    let mut opt = Nesterov::new(lr, mu)?;
    let mut w = array![1.0, -2.0].into_dyn();
    let (mut v, mut expected) = (array![0.0, 0.0], array![1.0, -2.0]);
    for g in [array![0.5, -1.0], array![0.25, 0.5], array![-1.0, 0.0]] {
        opt.update("W", w.view_mut(), g.view().into_dyn());
        // The book, line by line.
        v = mu * &v - lr * &g;
        expected = expected + mu * mu * &v - (1.0 + mu) * lr * &g;
    }
    assert!(
        (&w - &expected.into_dyn()).iter().all(|d| d.abs() < 1e-15),
        "{w}"
    );
    let mut copy = Nesterov::new(lr, mu)?;
    copy.load_state(opt.state())?;
    assert_eq!(copy, opt);
    assert_eq!(opt.name(), "Nesterov");
    assert_eq!(
        Nesterov::default().hyperparameters(),
        [("lr", 0.01), ("momentum", 0.9)]
    );
    Ok(())
}
