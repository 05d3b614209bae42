//! Networks of any shape: the layer design seen from outside — presets that
//! match the old networks bit for bit, every parameter gradient-checked,
//! buffers that only the optimizer step moves, errors that name the layer.

use kobai::layers::{Affine, Backward, Cache, Forward, Layer, Mode, Relu};
use kobai::nets::{Activation, Init, MultiLayerNet, Network};
use kobai::{Backprop, Grads, KobaiError, Model, Params, Result, Sgd, TwoLayerNet};
use kobai::{gradient_check, step};
use ndarray::{Array1, Array2, ArrayD, array};
use proptest::prelude::*;

fn batch(rows: usize, features: usize, classes: usize, seed: u64) -> (Array2<f64>, Vec<usize>) {
    let x = Array2::from_shape_fn((rows, features), |(r, c)| {
        let v = ((r * 7 + c * 13 + seed as usize * 5) % 17) as f64 / 8.0 - 1.0;
        v + 0.01 * (r as f64)
    });
    let labels = (0..rows)
        .map(|r| (r * 5 + seed as usize) % classes)
        .collect();
    (x, labels)
}

fn bits(grads: &Grads) -> Vec<(String, Vec<u64>)> {
    grads
        .iter()
        .map(|(n, g)| (n.to_string(), g.iter().map(|v| v.to_bits()).collect()))
        .collect()
}

#[test]
fn one_hidden_layer_is_two_layer_net_bit_for_bit() -> Result<()> {
    for activation in [Activation::Relu, Activation::Sigmoid, Activation::Tanh] {
        let old = TwoLayerNet::new(5, 7, 3, 0.3, 11)?.with_activation(activation);
        let new = MultiLayerNet::new(5, &[7], 3)
            .activation(activation)
            .init(Init::Std(0.3))
            .seed(11)
            .build()?;
        let old_params: Vec<_> = old
            .params()
            .into_iter()
            .map(|(_, p)| p.to_owned())
            .collect();
        let new_params: Vec<_> = new
            .params()
            .into_iter()
            .map(|(_, p)| p.to_owned())
            .collect();
        assert_eq!(old_params, new_params, "{activation:?}: same draws");
        let (x, labels) = batch(6, 5, 3, 1);
        let t = (&labels).into();
        let (old_loss, old_grads) = old.gradient(&x, &t)?;
        let (new_loss, new_grads) = new.gradient(&x, &t)?;
        assert_eq!(old_loss.to_bits(), new_loss.to_bits(), "{activation:?}");
        let strip = |b: Vec<(String, Vec<u64>)>| b.into_iter().map(|(_, v)| v).collect::<Vec<_>>();
        assert_eq!(
            strip(bits(&old_grads)),
            strip(bits(&new_grads)),
            "{activation:?}"
        );
        assert_eq!(old.predict(&x)?, new.predict(&x)?);
    }
    Ok(())
}

#[test]
fn names_follow_the_layers() -> Result<()> {
    let net = MultiLayerNet::new(4, &[3, 3], 2)
        .batch_norm(true)
        .dropout(0.5)
        .build()?;
    let params: Vec<String> = net.params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        params,
        [
            "affine1.W",
            "affine1.b",
            "batchnorm1.gamma",
            "batchnorm1.beta",
            "affine2.W",
            "affine2.b",
            "batchnorm2.gamma",
            "batchnorm2.beta",
            "affine3.W",
            "affine3.b"
        ]
    );
    let buffers: Vec<String> = net.buffers().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        buffers,
        [
            "batchnorm1.running_mean",
            "batchnorm1.running_var",
            "dropout1.draws",
            "batchnorm2.running_mean",
            "batchnorm2.running_var",
            "dropout2.draws"
        ]
    );
    Ok(())
}

/// Every parameter's worst relative error, with the accurate scheme.
fn assert_checks(net: &Network, rows: usize, seed: u64, bound: f64) -> Result<()> {
    let inputs = net.params()[0].1.shape()[0];
    let classes = net.params().last().expect("parameters").1.len();
    let (x, labels) = batch(rows, inputs, classes, seed);
    let check = gradient_check(net, &x, &(&labels).into())?;
    for tensor in &check.tensors {
        assert!(
            tensor.passed && tensor.max_rel_error <= bound,
            "{}: {} (worst {:?}: backprop {} numerical {})\n{}",
            tensor.name,
            tensor.max_rel_error,
            tensor.worst_index,
            tensor.analytic_at_worst,
            tensor.numerical_at_worst,
            net.architecture().unwrap_or_default()
        );
    }
    assert_eq!(
        check.tensors.len(),
        net.params().len(),
        "every parameter checked"
    );
    Ok(())
}

#[test]
fn three_hidden_layers_with_batch_norm_and_weight_decay_pass_the_check() -> Result<()> {
    for activation in [Activation::Relu, Activation::Sigmoid, Activation::Tanh] {
        let net = MultiLayerNet::new(6, &[5, 4, 5], 3)
            .activation(activation)
            .batch_norm(true)
            .weight_decay(0.1)
            .seed(3)
            .build()?;
        assert_checks(&net, 8, 2, 1e-6)?;
    }
    Ok(())
}

#[test]
fn dropout_is_checked_with_its_mask_fixed() -> Result<()> {
    let net = MultiLayerNet::new(5, &[6, 6], 3)
        .dropout(0.3)
        .init(Init::Xavier)
        .seed(4)
        .build()?;
    assert_checks(&net, 7, 1, 1e-6)
}

#[test]
fn the_loss_and_gradient_move_no_buffer_and_the_step_does() -> Result<()> {
    let mut net = MultiLayerNet::new(4, &[3], 2)
        .batch_norm(true)
        .dropout(0.2)
        .seed(9)
        .build()?;
    let (x, labels) = batch(5, 4, 2, 0);
    let t = (&labels).into();
    let before: Vec<_> = net
        .buffers()
        .into_iter()
        .map(|(n, b)| (n, b.to_owned()))
        .collect();
    let (loss, grads) = net.gradient(&x, &t)?;
    assert_eq!(
        net.loss(&x, &t)?,
        loss,
        "the same mask, the same batch statistics"
    );
    let after_gradient: Vec<_> = net
        .buffers()
        .into_iter()
        .map(|(n, b)| (n, b.to_owned()))
        .collect();
    assert_eq!(before, after_gradient);
    step(&mut Sgd::new(0.1)?, &mut net, &grads)?;
    let moved: Vec<_> = net
        .buffers()
        .into_iter()
        .map(|(n, b)| (n, b.to_owned()))
        .collect();
    for ((name, old), (_, new)) in before.iter().zip(&moved) {
        assert_ne!(old, new, "{name} moved by the step");
    }
    let draws = &moved[2].1;
    assert_eq!(draws[ndarray::IxDyn(&[])], 1.0, "one mask drawn");
    // After the step, loss and gradient agree again, on the next mask.
    let (next, _) = net.gradient(&x, &t)?;
    assert_eq!(next, net.loss(&x, &t)?);
    Ok(())
}

#[test]
fn predict_uses_the_running_statistics_and_no_dropout() -> Result<()> {
    let net = MultiLayerNet::new(3, &[4], 2)
        .batch_norm(true)
        .dropout(0.5)
        .seed(1)
        .build()?;
    let (x, _) = batch(4, 3, 2, 0);
    // Eval mode is deterministic and row by row: one row alone scores the same.
    let all = net.predict(&x)?;
    let one = net.predict(&x.select(ndarray::Axis(0), &[1]))?;
    assert_eq!(all.row(1), one.row(0));
    Ok(())
}

/// A layer whose backward pass gets its parameter gradient's shape wrong.
#[derive(Debug, Clone)]
struct Broken {
    scale: Array1<f64>,
}

impl Layer for Broken {
    fn kind(&self) -> &str {
        "broken"
    }
    fn forward(&self, x: ArrayD<f64>, _mode: Mode) -> Result<Forward> {
        Ok(Forward::new(x.clone(), Cache::new(x)))
    }
    fn backward(&self, _cache: &Cache, dout: ArrayD<f64>) -> Result<Backward> {
        Ok(Backward {
            dx: dout,
            grads: vec![ArrayD::zeros(vec![self.scale.len() + 1])],
        })
    }
    fn params(
        &self,
    ) -> Vec<(
        &'static str,
        kobai::layers::ParamKind,
        ndarray::ArrayViewD<'_, f64>,
    )> {
        vec![(
            "s",
            kobai::layers::ParamKind::Other,
            self.scale.view().into_dyn(),
        )]
    }
    fn params_mut(&mut self) -> Vec<(&'static str, ndarray::ArrayViewMutD<'_, f64>)> {
        vec![("s", self.scale.view_mut().into_dyn())]
    }
}

#[test]
fn a_wrong_gradient_shape_names_the_layer() -> Result<()> {
    let net = Network::new(vec![
        Box::new(Affine::new(Array2::eye(2), Array1::zeros(2))?),
        Box::new(Broken {
            scale: Array1::ones(2),
        }),
        Box::new(Relu),
        Box::new(Affine::new(Array2::eye(2), Array1::zeros(2))?),
    ])?;
    let err = net
        .gradient(&array![[1.0, 2.0]], &(&[0usize]).into())
        .unwrap_err();
    assert!(matches!(err, KobaiError::Layer { .. }));
    assert_eq!(
        err.to_string(),
        "layer broken1: the gradient of s has shape [3] but s has shape [2]"
    );
    Ok(())
}

#[test]
fn bad_networks_are_refused() -> Result<()> {
    assert!(matches!(
        Network::new(Vec::new()),
        Err(KobaiError::Empty { .. })
    ));
    for bad in [
        MultiLayerNet::new(4, &[0], 2).build(),
        MultiLayerNet::new(4, &[3], 2).dropout(1.5).build(),
        MultiLayerNet::new(4, &[3], 2).dropout(-0.1).build(),
        MultiLayerNet::new(4, &[3], 2).weight_decay(-1.0).build(),
        MultiLayerNet::new(4, &[3], 2).init(Init::Std(0.0)).build(),
    ] {
        assert!(
            matches!(bad, Err(KobaiError::Hyperparameter { .. })),
            "{bad:?}"
        );
    }
    // Features that do not fit the first layer: a shape error naming the layer.
    let net = MultiLayerNet::new(4, &[3], 2).build()?;
    let err = net.predict(&Array2::zeros((2, 5))).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("layer affine1: affine input has shape [2, 5]"),
        "{err}"
    );
    // NaN in, an error out (not a silently zeroed ReLU).
    assert!(matches!(
        net.predict(&array![[f64::NAN, 0.0, 0.0, 0.0]]),
        Err(KobaiError::NonFinite { .. })
    ));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// Random small architectures pass the gradient check.
    #[test]
    fn random_architectures_pass_the_gradient_check(
        input in 1usize..5,
        hidden in proptest::collection::vec(1usize..5, 1..4),
        output in 2usize..4,
        activation in prop_oneof![Just(Activation::Relu), Just(Activation::Sigmoid), Just(Activation::Tanh)],
        batch_norm in any::<bool>(),
        dropout in prop_oneof![Just(None), Just(Some(0.25))],
        decay in prop_oneof![Just(0.0), Just(0.05)],
        seed in 0u64..1000,
    ) {
        let mut builder = MultiLayerNet::new(input, &hidden, output)
            .activation(activation)
            .batch_norm(batch_norm)
            .weight_decay(decay)
            .seed(seed);
        if let Some(r) = dropout {
            builder = builder.dropout(r);
        }
        let mut net = builder.build().expect("valid");
        // Biases start at 0, so a dead unit would put the next ReLU exactly
        // on its kink, where no derivative exists: shift every parameter.
        for (k, (_, mut p)) in net.params_mut().into_iter().enumerate() {
            let len = p.len();
            for (i, v) in p.iter_mut().enumerate() {
                *v += 0.1 * (((i * 31 + k * 17 + seed as usize) % 13) as f64 / 6.0 - 1.0) + 0.01 / (len as f64);
            }
        }
        assert_checks(&net, 5, seed, 1e-5).expect("checks");
    }
}
