//! The structure-aware numerical gradient of networks of any shape: the brute
//! force's numbers (within 1e-9) for ReLU, sigmoid and tanh networks of one to
//! three hidden layers, with BatchNorm, Dropout and weight decay, and with
//! layers of one's own that describe nothing; the same bits on all cores; the
//! brute force's errors.

use kobai::layers::{Affine, Backward, Cache, Forward, Layer, Mode, ParamKind, Relu};
use kobai::nets::{Activation, Init, MultiLayerNet, Network};
use kobai::numerical_gradient::{layered_numerical_gradient, model_numerical_gradient};
use kobai::{Grads, KobaiError, Params, Result, Targets, TwoLayerNet};
use ndarray::{Array1, Array2, ArrayD, ArrayViewD, ArrayViewMutD, array};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// `rows` samples of `features` inputs, about half of them 0 (as in MNIST),
/// the rest in (0, 1]; labels cycle through the classes.
fn batch(rows: usize, features: usize, classes: usize, seed: u64) -> (Array2<f64>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = Array2::from_shape_fn((rows, features), |_| {
        let z: f64 = StandardNormal.sample(&mut rng);
        if z < 0.0 { 0.0 } else { z.min(3.0) / 3.0 }
    });
    let labels = (0..rows).map(|r| (r * 7 + 3) % classes).collect();
    (x, labels)
}

/// Every parameter moved by a little noise (biases and BatchNorm's γ, β start
/// at 0 and 1 otherwise), so that no probe is special.
fn jitter<P: Params>(model: &mut P, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for (_, mut p) in model.params_mut() {
        p.mapv_inplace(|v| {
            let z: f64 = StandardNormal.sample(&mut rng);
            v + 0.2 * z
        });
    }
}

/// The largest |layered − brute force|; also checks names and shapes.
fn max_difference(a: &Grads, b: &Grads) -> f64 {
    assert_eq!(a.names().collect::<Vec<_>>(), b.names().collect::<Vec<_>>());
    let mut worst = 0.0f64;
    for ((name, x), (_, y)) in a.iter().zip(b.iter()) {
        assert_eq!(x.shape(), y.shape(), "{name}");
        for (p, q) in x.iter().zip(y.iter()) {
            worst = worst.max((p - q).abs());
        }
    }
    worst
}

/// Checks the layered gradient against the brute force; returns the largest
/// difference.
fn compare(net: &Network, x: &Array2<f64>, labels: &[usize], delta: f64) -> f64 {
    let t = Targets::from(labels);
    let layered = layered_numerical_gradient(net, x, &t, delta).expect("layered");
    let brute = model_numerical_gradient(net, x, &t, delta).expect("brute force");
    let worst = max_difference(&layered, &brute);
    assert!(
        worst < 1e-9,
        "max |layered − brute| = {worst:e} for {}",
        net.architecture().unwrap_or_default()
    );
    worst
}

const ACTIVATIONS: [Activation; 3] = [Activation::Relu, Activation::Sigmoid, Activation::Tanh];

const DEPTHS: [&[usize]; 3] = [&[7], &[6, 5], &[6, 5, 4]];

/// Builds, jitters and compares; returns the largest difference.
fn check(builder: &MultiLayerNet, rows: usize, seed: u64) -> f64 {
    let mut net = builder.build().expect("valid");
    jitter(&mut net, seed);
    let inputs = net.params()[0].1.shape()[0];
    let classes = net.params().last().expect("parameters").1.len();
    let (x, labels) = batch(rows, inputs, classes, seed);
    let mut worst = 0.0f64;
    for delta in [0.0, 1e-7] {
        worst = worst.max(compare(&net, &x, &labels, delta));
    }
    worst
}

#[test]
fn one_two_and_three_hidden_layers_match_the_brute_force() {
    let mut worst = 0.0f64;
    for activation in ACTIVATIONS {
        for (k, hidden) in DEPTHS.iter().enumerate() {
            let builder = MultiLayerNet::new(9, hidden, 4)
                .activation(activation)
                .seed(k as u64);
            worst = worst.max(check(&builder, 8, 10 + k as u64));
        }
    }
    eprintln!("plain: max |layered − brute| = {worst:e}");
}

#[test]
fn batch_norm_dropout_and_weight_decay_match_the_brute_force() {
    let mut worst = 0.0f64;
    for activation in ACTIVATIONS {
        for (k, hidden) in DEPTHS.iter().enumerate() {
            let seed = 20 + k as u64;
            for (batch_norm, dropout, decay) in [
                (true, 0.0, 0.0),
                (false, 0.3, 0.0),
                (false, 0.0, 0.1),
                (true, 0.25, 0.05),
            ] {
                let builder = MultiLayerNet::new(8, hidden, 3)
                    .activation(activation)
                    .batch_norm(batch_norm)
                    .dropout(dropout)
                    .weight_decay(decay)
                    .seed(seed);
                worst = worst.max(check(&builder, 7, seed));
            }
        }
    }
    eprintln!("BatchNorm, Dropout, weight decay: max |layered − brute| = {worst:e}");
}

#[test]
fn large_inputs_cross_relu_kinks_and_leave_the_series() {
    // Inputs ×300: the probes' changes reach ReLU kinks (rows carried through
    // the stages) and move scores by more than the series allow.
    let mut worst = 0.0f64;
    for activation in ACTIVATIONS {
        let mut net = MultiLayerNet::new(6, &[5, 5, 5], 3)
            .activation(activation)
            .init(Init::Std(0.05))
            .seed(30)
            .build()
            .expect("valid");
        jitter(&mut net, 30);
        let (x, labels) = batch(8, 6, 3, 30);
        let x = x.mapv(|v| 300.0 * (v - 0.3));
        worst = worst.max(compare(&net, &x, &labels, 1e-7));
    }
    eprintln!("large inputs: max |layered − brute| = {worst:e}");
}

#[test]
fn one_hot_targets_match_the_brute_force() {
    let mut net = MultiLayerNet::new(5, &[4, 4], 3)
        .seed(31)
        .build()
        .expect("valid");
    jitter(&mut net, 31);
    let (x, labels) = batch(6, 5, 3, 31);
    let hot = Array2::from_shape_fn((6, 3), |(r, c)| f64::from(labels[r] == c));
    let t = Targets::from(&hot);
    let layered = layered_numerical_gradient(&net, &x, &t, 1e-7).expect("layered");
    let brute = model_numerical_gradient(&net, &x, &t, 1e-7).expect("brute force");
    assert!(max_difference(&layered, &brute) < 1e-9);
}

#[test]
fn a_two_layer_net_and_its_network_give_the_same_bits() {
    for activation in ACTIVATIONS {
        let mut old = TwoLayerNet::new(10, 6, 4, 0.3, 32)
            .expect("valid")
            .with_activation(activation);
        jitter(&mut old, 32);
        let mut new = MultiLayerNet::new(10, &[6], 4)
            .activation(activation)
            .init(Init::Std(0.3))
            .seed(32)
            .build()
            .expect("valid");
        for ((_, mut n), (_, o)) in new.params_mut().into_iter().zip(old.params()) {
            n.assign(&o);
        }
        let (x, labels) = batch(9, 10, 4, 32);
        let t = Targets::from(&labels);
        let a = layered_numerical_gradient(&old, &x, &t, 1e-7).expect("valid");
        let b = layered_numerical_gradient(&new, &x, &t, 1e-7).expect("valid");
        for ((_, p), (_, q)) in a.iter().zip(b.iter()) {
            assert!(
                p.iter()
                    .zip(q.iter())
                    .all(|(u, v)| u.to_bits() == v.to_bits())
            );
        }
    }
}

/// Leaky ReLU, implementing none of the optional hooks.
#[derive(Debug, Clone)]
struct LeakyRelu;

impl Layer for LeakyRelu {
    fn kind(&self) -> &str {
        "leaky_relu"
    }
    fn forward(&self, x: ArrayD<f64>, _mode: Mode) -> Result<Forward> {
        let y = x.mapv(|v| if v > 0.0 { v } else { 0.01 * v });
        Ok(Forward::new(y, Cache::new(x)))
    }
    fn backward(&self, cache: &Cache, dout: ArrayD<f64>) -> Result<Backward> {
        let x: &ArrayD<f64> = cache.get(self.kind())?;
        let dx = ndarray::Zip::from(x)
            .and(&dout)
            .map_collect(|&x, &d| if x > 0.0 { d } else { 0.01 * d });
        Ok(Backward::input_only(dx))
    }
}

/// Each column times its own learned factor, also without the hooks.
#[derive(Debug, Clone)]
struct Scale {
    s: Array1<f64>,
}

impl Layer for Scale {
    fn kind(&self) -> &str {
        "scale"
    }
    fn forward(&self, x: ArrayD<f64>, _mode: Mode) -> Result<Forward> {
        let y = &x * &self.s;
        Ok(Forward::new(y, Cache::new(x)))
    }
    fn backward(&self, cache: &Cache, dout: ArrayD<f64>) -> Result<Backward> {
        let x: &ArrayD<f64> = cache.get(self.kind())?;
        let ds = (x * &dout).sum_axis(ndarray::Axis(0));
        Ok(Backward {
            dx: &dout * &self.s,
            grads: vec![ds],
        })
    }
    fn params(&self) -> Vec<(&'static str, ParamKind, ArrayViewD<'_, f64>)> {
        vec![("s", ParamKind::Weight, self.s.view().into_dyn())]
    }
    fn params_mut(&mut self) -> Vec<(&'static str, ArrayViewMutD<'_, f64>)> {
        vec![("s", self.s.view_mut().into_dyn())]
    }
}

fn affine(inputs: usize, outputs: usize, seed: u64) -> Box<dyn Layer> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut normal = || -> f64 { StandardNormal.sample(&mut rng) };
    let w = Array2::from_shape_fn((inputs, outputs), |_| 0.5 * normal());
    let b = Array1::from_shape_fn(outputs, |_| 0.2 * normal());
    Box::new(Affine::new(w, b).expect("b fits W"))
}

#[test]
fn layers_without_hooks_rerun_and_match_the_brute_force() {
    let scale = || -> Box<dyn Layer> {
        Box::new(Scale {
            s: array![1.5, -0.5, 0.8, 1.1, 0.3],
        })
    };
    let nets = [
        // A custom activation between Affine layers.
        vec![affine(6, 5, 1), Box::new(LeakyRelu), affine(5, 3, 2)],
        // A custom layer with a parameter (weight-decayed), between ReLUs.
        vec![
            affine(6, 5, 3),
            scale(),
            Box::new(Relu),
            affine(5, 5, 4),
            Box::new(LeakyRelu),
            affine(5, 3, 5),
        ],
        // A custom layer last but one: the scores come out of a layer with no hook.
        vec![affine(6, 5, 6), Box::new(Relu), affine(5, 5, 7), scale()],
    ];
    let mut worst = 0.0f64;
    for layers in nets {
        let classes = if layers.len() == 4 { 5 } else { 3 };
        let net = Network::new(layers)
            .expect("valid")
            .with_weight_decay(0.1)
            .expect("valid");
        let (x, labels) = batch(7, 6, classes, 40);
        for delta in [0.0, 1e-7] {
            worst = worst.max(compare(&net, &x, &labels, delta));
        }
    }
    eprintln!("custom layers: max |layered − brute| = {worst:e}");
}

#[cfg(feature = "parallel")]
#[test]
fn serial_and_parallel_are_the_same_bits() {
    use kobai::numerical_gradient::layered_numerical_gradient_par;
    let bits = |g: &Grads| -> Vec<u64> {
        g.iter()
            .flat_map(|(_, a)| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
            .collect()
    };
    // 2·P·N well above the parallel threshold.
    for (activation, batch_norm, dropout) in [
        (Activation::Relu, false, 0.0),
        (Activation::Tanh, true, 0.2),
    ] {
        let mut net = MultiLayerNet::new(40, &[16, 12, 8], 5)
            .activation(activation)
            .batch_norm(batch_norm)
            .dropout(dropout)
            .weight_decay(0.01)
            .seed(50)
            .build()
            .expect("valid");
        jitter(&mut net, 50);
        let (x, labels) = batch(30, 40, 5, 50);
        let t = Targets::from(&labels);
        let serial = layered_numerical_gradient(&net, &x, &t, 1e-7).expect("valid");
        let parallel = layered_numerical_gradient_par(&net, &x, &t, 1e-7).expect("valid");
        assert_eq!(bits(&serial), bits(&parallel));
        assert_eq!(
            serial.names().collect::<Vec<_>>(),
            parallel.names().collect::<Vec<_>>()
        );
    }
}

/// Both gradients fail, with the same error.
fn same_error(net: &Network, x: &Array2<f64>, t: &Targets<'_>, delta: f64) -> KobaiError {
    let layered = layered_numerical_gradient(net, x, t, delta).expect_err("layered fails");
    let brute = model_numerical_gradient(net, x, t, delta).expect_err("brute force fails");
    // The text, as NaN != NaN in `KobaiError::NonFinite`.
    assert_eq!(layered.to_string(), brute.to_string());
    assert_eq!(
        std::mem::discriminant(&layered),
        std::mem::discriminant(&brute)
    );
    #[cfg(feature = "parallel")]
    {
        let parallel = kobai::numerical_gradient::layered_numerical_gradient_par(net, x, t, delta)
            .expect_err("parallel fails");
        assert_eq!(parallel.to_string(), brute.to_string());
    }
    layered
}

#[test]
fn bad_inputs_give_the_brute_forces_errors() {
    let mut net = MultiLayerNet::new(5, &[4, 4], 3)
        .batch_norm(true)
        .seed(60)
        .build()
        .expect("valid");
    jitter(&mut net, 60);
    let (x, t) = batch(6, 5, 3, 60);
    let err = same_error(&net, &batch(6, 4, 3, 0).0, &(&t).into(), 0.0);
    assert!(matches!(err, KobaiError::Layer { .. }), "{err}");
    let err = same_error(&net, &Array2::zeros((0, 5)), &(&[] as &[usize]).into(), 0.0);
    assert!(
        matches!(err, KobaiError::Layer { .. } | KobaiError::Empty { .. }),
        "{err}"
    );
    let err = same_error(&net, &x, &(&t[..5]).into(), 0.0);
    assert!(matches!(err, KobaiError::Shape { .. }));
    let err = same_error(&net, &x, &(&[0usize, 1, 2, 3, 0, 1]).into(), 0.0);
    assert!(matches!(err, KobaiError::LabelOutOfRange { .. }));
    let mut hot = Array2::from_shape_fn((6, 3), |(r, c)| f64::from(t[r] == c));
    hot[[2, 0]] = 0.5;
    let err = same_error(&net, &x, &(&hot).into(), 0.0);
    assert!(matches!(err, KobaiError::NotOneHot { .. }));
    for delta in [-1e-7, f64::NAN] {
        let err = same_error(&net, &x, &(&t).into(), delta);
        assert!(matches!(
            err,
            KobaiError::Hyperparameter { name: "delta", .. }
        ));
    }
    let mut bad = x.clone();
    bad[[3, 2]] = f64::NAN;
    let err = same_error(&net, &bad, &(&t).into(), 1e-7);
    assert_eq!(
        err.to_string(),
        "x is NaN at index [3, 2]; expected a finite number"
    );
}

#[test]
fn a_non_finite_loss_at_a_probe_is_the_brute_forces_error() {
    // delta = 0 and a label whose probability underflows to 0: log(0).
    let mut net = MultiLayerNet::new(3, &[4, 4], 2)
        .seed(61)
        .build()
        .expect("valid");
    let last = net.params_mut().len() - 1;
    net.params_mut()[last]
        .1
        .assign(&array![2000.0, 0.0].into_dyn());
    let (x, _) = batch(2, 3, 2, 61);
    let err = same_error(&net, &x, &(&[0usize, 1]).into(), 0.0);
    assert_eq!(
        err.to_string(),
        "the loss at +h is inf at affine1.W index [0, 0]; expected a finite number"
    );
}

#[test]
fn overflowing_activations_give_the_brute_forces_error() {
    // Weights so large that a hidden layer overflows to ±inf.
    let mut net = MultiLayerNet::new(3, &[4, 4], 2)
        .seed(62)
        .build()
        .expect("valid");
    net.params_mut()[0].1.mapv_inplace(f64::abs);
    net.params_mut()[2].1.fill(1e308);
    let x = Array2::from_elem((3, 3), 2.0);
    let err = same_error(&net, &x, &(&[0usize, 1, 1]).into(), 1e-7);
    assert!(matches!(err, KobaiError::NonFinite { .. }), "{err}");
}

#[test]
fn a_network_without_parameters_has_an_empty_gradient() {
    let net = Network::new(vec![Box::new(Relu)]).expect("valid");
    let x = array![[0.5, -1.0]];
    let t = Targets::from(&[1usize]);
    let layered = layered_numerical_gradient(&net, &x, &t, 0.0).expect("nothing to probe");
    assert_eq!(
        layered,
        model_numerical_gradient(&net, &x, &t, 0.0).expect("nothing")
    );
    assert!(layered.is_empty());
}
