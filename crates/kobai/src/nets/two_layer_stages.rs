//! [`TwoLayerNet`] as a [`StagedModel`]: Affine, the activation, Affine — the
//! stages of its loss — so that
//! [`layered_numerical_gradient`](crate::numerical_gradient::layered_numerical_gradient)
//! computes its numerical gradient hundreds of times faster than the brute
//! force, with the brute force's numbers.

use ndarray::{Array1, Array2, ArrayD, ArrayRef2, ArrayViewD, Ix2};

use super::two_layer_net::TwoLayerNet;
use crate::check;
use crate::error::{KobaiError, Result};
use crate::layers::{AffineView, Layer, Mode};
use crate::numerical_gradient::{Incremental, Stage, StagedModel};

/// Three stages: `x · W1 + b1`, the activation, `· W2 + b2`. Before them, as
/// the net's own loss: `b1` must fit `W1` and `b2` fit `W2` (where the net
/// itself would panic), and `x` must be finite.
///
/// With ReLU the run from the activation to the scores is piecewise linear,
/// so a probe of `W1[i, j]` costs O(1) per row with `x[r, i] ≠ 0` (the
/// activation's kink permitting); with the sigmoid or tanh the activation is
/// applied to the changed entries and the last Affine stage does the same.
///
/// ```
/// use kobai::TwoLayerNet;
/// use kobai::numerical_gradient::{layered_numerical_gradient, model_numerical_gradient};
/// use ndarray::array;
///
/// let net = TwoLayerNet::new(3, 4, 2, 0.5, 1)?;
/// let x = array![[0.6, 0.9, -0.2], [0.1, -0.5, 0.3]];
/// let t = (&[1usize, 0]).into();
/// let layered = layered_numerical_gradient(&net, &x, &t, 1e-7)?;
/// let brute = model_numerical_gradient(&net, &x, &t, 1e-7)?;
/// assert_eq!(layered.names().collect::<Vec<_>>(), ["W1", "b1", "W2", "b2"]);
/// for ((_, a), (_, b)) in layered.iter().zip(brute.iter()) {
///     assert!((a - b).iter().all(|d| d.abs() < 1e-9));
/// }
/// # Ok::<(), kobai::KobaiError>(())
/// ```
impl StagedModel for TwoLayerNet {
    fn stages(&self) -> Vec<Box<dyn Stage + '_>> {
        vec![
            Box::new(AffineStage {
                names: ("W1", "b1"),
                w: &self.w1,
                b: &self.b1,
            }),
            Box::new(ActivationStage(self.activation.layer())),
            Box::new(AffineStage {
                names: ("W2", "b2"),
                w: &self.w2,
                b: &self.b2,
            }),
        ]
    }

    fn check_input(&self, x: &ArrayRef2<f64>) -> Result<()> {
        check::shape_is("b1", &self.b1, &[self.w1.ncols()])?;
        check::shape_is("b2", &self.b2, &[self.w2.ncols()])?;
        check::finite("x", x)
    }
}

/// `x · W + b` on the net's own arrays.
struct AffineStage<'a> {
    names: (&'static str, &'static str),
    w: &'a Array2<f64>,
    b: &'a Array1<f64>,
}

impl AffineStage<'_> {
    fn run(w: &Array2<f64>, b: &Array1<f64>, input: ArrayD<f64>) -> Result<ArrayD<f64>> {
        let found = input.shape().to_vec();
        let x = input
            .into_dimensionality::<Ix2>()
            .map_err(|_| KobaiError::Shape {
                what: "affine input".into(),
                expected: "expected a matrix".into(),
                found,
            })?;
        let view = AffineView {
            w: w.view(),
            b: b.view(),
        };
        Ok(view.forward(x.view())?.0.into_dyn())
    }
}

impl Stage for AffineStage<'_> {
    fn params(&self) -> Vec<(String, ArrayViewD<'_, f64>)> {
        vec![
            (self.names.0.into(), self.w.view().into_dyn()),
            (self.names.1.into(), self.b.view().into_dyn()),
        ]
    }

    fn forward(&self, input: ArrayD<f64>) -> Result<ArrayD<f64>> {
        Self::run(self.w, self.b, input)
    }

    fn forward_with(
        &self,
        param: usize,
        index: &[usize],
        value: f64,
        input: ArrayD<f64>,
    ) -> Result<ArrayD<f64>> {
        let (mut w, mut b) = (self.w.clone(), self.b.clone());
        match (param, index) {
            (0, &[i, j]) => w[[i, j]] = value,
            (_, &[j]) => b[j] = value,
            _ => {}
        }
        Self::run(&w, &b, input)
    }

    fn incremental(&self, _input: &ArrayD<f64>) -> Option<Incremental<'_>> {
        Some(Incremental::Affine {
            w: self.w.view(),
            b: self.b.view(),
        })
    }
}

/// The hidden activation, as the layer the net runs.
struct ActivationStage(Box<dyn Layer>);

impl Stage for ActivationStage {
    fn forward(&self, input: ArrayD<f64>) -> Result<ArrayD<f64>> {
        Ok(self.0.forward(input, Mode::Train)?.output)
    }

    fn forward_with(
        &self,
        _param: usize,
        _index: &[usize],
        _value: f64,
        input: ArrayD<f64>,
    ) -> Result<ArrayD<f64>> {
        self.forward(input)
    }

    fn incremental(&self, input: &ArrayD<f64>) -> Option<Incremental<'_>> {
        self.0.incremental(input, Mode::Train)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::Targets;
    use crate::model::{Grads, Model};
    use crate::nets::Activation;
    use crate::numerical_gradient::{layered_numerical_gradient, model_numerical_gradient};
    use ndarray::{Array2, array};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    /// A net with random (non-zero) biases too.
    fn net(
        sizes: (usize, usize, usize),
        std: f64,
        activation: Activation,
        seed: u64,
    ) -> TwoLayerNet {
        let mut net = TwoLayerNet::new(sizes.0, sizes.1, sizes.2, std, seed)
            .expect("valid sizes")
            .with_activation(activation);
        let mut rng = ChaCha8Rng::seed_from_u64(seed + 100);
        let mut normal = || -> f64 { StandardNormal.sample(&mut rng) };
        net.b1.mapv_inplace(|_| 0.3 * normal());
        net.b2.mapv_inplace(|_| 0.3 * normal());
        net
    }

    fn inputs(batch: usize, features: usize, seed: u64) -> Array2<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Array2::from_shape_fn((batch, features), |_| {
            let z: f64 = StandardNormal.sample(&mut rng);
            z
        })
    }

    fn labels(batch: usize, classes: usize) -> Vec<usize> {
        (0..batch).map(|r| (r * 7 + 3) % classes).collect()
    }

    fn one_hot(labels: &[usize], classes: usize) -> Array2<f64> {
        Array2::from_shape_fn((labels.len(), classes), |(r, c)| f64::from(labels[r] == c))
    }

    /// The largest |layered − brute force| over all elements; also checks names and shapes.
    fn max_difference(a: &Grads, b: &Grads) -> f64 {
        assert_eq!(a.names().collect::<Vec<_>>(), b.names().collect::<Vec<_>>());
        let mut worst = 0.0f64;
        for ((_, x), (_, y)) in a.iter().zip(b.iter()) {
            assert_eq!(x.shape(), y.shape());
            for (p, q) in x.iter().zip(y.iter()) {
                worst = worst.max((p - q).abs());
            }
        }
        worst
    }

    fn compare(net: &TwoLayerNet, x: &Array2<f64>, t: &Targets<'_>, delta: f64) -> f64 {
        let layered = layered_numerical_gradient(net, x, t, delta).expect("layered");
        let brute = model_numerical_gradient(net, x, t, delta).expect("brute force");
        let worst = max_difference(&layered, &brute);
        assert!(worst < 1e-9, "max |layered − brute| = {worst:e}");
        worst
    }

    const ACTIVATIONS: [Activation; 3] = [Activation::Relu, Activation::Sigmoid, Activation::Tanh];

    #[test]
    fn matches_the_brute_force_on_small_nets() {
        let x = inputs(6, 5, 1);
        let labels = labels(6, 3);
        let hot = one_hot(&labels, 3);
        let mut worst = 0.0f64;
        for activation in ACTIVATIONS {
            for std in [0.01, 0.5, 2.0] {
                let net = net((5, 4, 3), std, activation, 3);
                for delta in [0.0, 1e-7, 0.1] {
                    worst = worst.max(compare(&net, &x, &(&labels).into(), delta));
                    worst = worst.max(compare(&net, &x, &(&hot).into(), delta));
                }
            }
        }
        eprintln!("max |layered − brute| = {worst:e}");
    }

    #[test]
    fn matches_the_brute_force_on_a_wider_net_with_sparse_inputs() {
        // About half the inputs zero, as in MNIST.
        let x = inputs(20, 30, 2).mapv(|v| v.max(0.0));
        let labels = labels(20, 10);
        for activation in ACTIVATIONS {
            let net = net((30, 8, 10), 0.1, activation, 4);
            for delta in [0.0, 1e-7] {
                compare(&net, &x, &(&labels).into(), delta);
            }
        }
    }

    #[test]
    fn matches_the_brute_force_when_the_series_does_not_apply() {
        // Large inputs: |Δ · W2| above the series' bound, and ReLU kinks
        // within reach of the probes.
        let x = inputs(6, 5, 20).mapv(|v| 300.0 * v);
        let labels = labels(6, 3);
        for activation in ACTIVATIONS {
            let net = net((5, 4, 3), 0.05, activation, 21);
            compare(&net, &x, &(&labels).into(), 1e-7);
        }
    }

    #[test]
    fn names_and_order_are_the_nets() {
        use crate::model::Params;
        let net = net((3, 2, 2), 0.5, Activation::Relu, 0);
        let grads = layered_numerical_gradient(&net, &inputs(2, 3, 0), &(&[0usize, 1]).into(), 0.0)
            .expect("valid");
        let names: Vec<_> = net.params().into_iter().map(|(name, _)| name).collect();
        assert_eq!(grads.names().collect::<Vec<_>>(), names);
        for ((_, g), (_, p)) in grads.iter().zip(net.params()) {
            assert_eq!(g.shape(), p.shape());
        }
    }

    #[test]
    fn non_standard_layouts_give_the_same_result() {
        let net = net((4, 3, 3), 0.5, Activation::Sigmoid, 5);
        let x = inputs(4, 5, 5);
        let transposed = x.t();
        let standard = transposed.as_standard_layout().into_owned();
        let t: Targets<'_> = (&[0usize, 1, 2, 0, 1]).into();
        assert_eq!(
            layered_numerical_gradient(&net, &transposed, &t, 1e-7).expect("valid"),
            layered_numerical_gradient(&net, &standard, &t, 1e-7).expect("valid")
        );
    }

    /// Both gradients fail with the same error.
    fn same_error(net: &TwoLayerNet, x: &Array2<f64>, t: &Targets<'_>, delta: f64) -> KobaiError {
        let layered = layered_numerical_gradient(net, x, t, delta).expect_err("layered fails");
        let brute = model_numerical_gradient(net, x, t, delta).expect_err("brute force fails");
        // The errors' text, as NaN != NaN for `KobaiError::NonFinite`.
        assert_eq!(layered.to_string(), brute.to_string());
        assert_eq!(
            std::mem::discriminant(&layered),
            std::mem::discriminant(&brute)
        );
        layered
    }

    #[test]
    fn bad_inputs_give_the_brute_forces_errors() {
        let net = net((5, 4, 3), 0.5, Activation::Relu, 6);
        let x = inputs(6, 5, 6);
        let t = labels(6, 3);
        let err = same_error(&net, &inputs(6, 4, 0), &(&t).into(), 0.0);
        assert!(matches!(err, KobaiError::Shape { .. }));
        let err = same_error(&net, &Array2::zeros((0, 5)), &(&[] as &[usize]).into(), 0.0);
        assert!(matches!(err, KobaiError::Empty { .. }));
        let err = same_error(&net, &x, &(&t[..5]).into(), 0.0);
        assert!(matches!(err, KobaiError::Shape { .. }));
        let err = same_error(&net, &x, &(&[0usize, 1, 2, 3, 0, 1]).into(), 0.0);
        assert!(matches!(err, KobaiError::LabelOutOfRange { .. }));
        let mut hot = one_hot(&t, 3);
        hot[[2, 0]] = 0.5;
        let err = same_error(&net, &x, &(&hot).into(), 0.0);
        assert!(matches!(err, KobaiError::NotOneHot { .. }));
        let narrow = Array2::<f64>::zeros((6, 2));
        let err = same_error(&net, &x, &(&narrow).into(), 0.0);
        assert!(matches!(err, KobaiError::Shape { .. }));
        for delta in [-1e-7, f64::NAN] {
            let err = same_error(&net, &x, &(&t).into(), delta);
            assert!(matches!(
                err,
                KobaiError::Hyperparameter { name: "delta", .. }
            ));
        }
    }

    #[test]
    fn nan_or_inf_in_x_gives_the_brute_forces_error() {
        for activation in ACTIVATIONS {
            let net = net((5, 4, 3), 0.5, activation, 7);
            let t = labels(6, 3);
            let mut x = inputs(6, 5, 7);
            x[[3, 2]] = f64::NAN;
            let err = same_error(&net, &x, &(&t).into(), 1e-7);
            assert_eq!(
                err.to_string(),
                "x is NaN at index [3, 2]; expected a finite number"
            );
            let mut x = inputs(6, 5, 8);
            x[[4, 1]] = f64::NEG_INFINITY;
            let err = same_error(&net, &x, &(&t).into(), 1e-7);
            assert_eq!(
                err.to_string(),
                "x is -inf at index [4, 1]; expected a finite number"
            );
        }
    }

    #[test]
    fn a_non_finite_loss_at_a_probe_is_reported_as_the_brute_force_reports_it() {
        // delta = 0 and a label whose probability underflows to 0: log(0).
        let mut net = net((3, 2, 2), 1.0, Activation::Relu, 10);
        net.b2 = array![2000.0, 0.0];
        let x = inputs(2, 3, 11);
        let err = same_error(&net, &x, &(&[0usize, 1]).into(), 0.0);
        assert_eq!(
            err.to_string(),
            "the loss at +h is inf at W1 index [0, 0]; expected a finite number"
        );
    }

    #[test]
    fn overflowing_scores_are_reported_as_the_brute_force_reports_them() {
        // Weights so large that the scores overflow: the brute force names the
        // first non-finite score of its first probe.
        let mut net = net((3, 2, 2), 1.0, Activation::Relu, 16);
        net.w1.mapv_inplace(f64::abs);
        net.b1.fill(1.0);
        net.w2.fill(1e308);
        let x = inputs(2, 3, 16).mapv(|v| 10.0 + v.abs());
        let err = same_error(&net, &x, &(&[0usize, 1]).into(), 1e-7);
        assert!(matches!(err, KobaiError::NonFinite { .. }), "{err}");
    }

    #[test]
    fn the_net_must_be_consistent() {
        let mut net = net((3, 2, 2), 1.0, Activation::Relu, 12);
        net.b1 = array![0.0, 0.0, 0.0];
        let err = layered_numerical_gradient(&net, &inputs(2, 3, 0), &(&[0usize, 1]).into(), 0.0)
            .expect_err("b1 does not fit W1");
        assert_eq!(err.to_string(), "b1 has shape [3] but expected shape [2]");
    }

    #[test]
    fn the_stages_are_the_nets_loss() {
        // The stages, run in order and scored by the head, give the net's loss.
        let net = net((6, 5, 4), 0.5, Activation::Sigmoid, 13);
        let x = inputs(7, 6, 13);
        let labels = labels(7, 4);
        let t: Targets<'_> = (&labels).into();
        let mut a = x.clone().into_dyn();
        for stage in net.stages() {
            a = stage.forward(a).expect("valid");
        }
        let scores = a.into_dimensionality::<Ix2>().expect("scores");
        let y = crate::softmax(&scores).expect("finite");
        let loss =
            crate::functions::cross_entropy_error_with_delta(&y, &labels, 1e-7).expect("valid");
        assert_eq!(loss, net.loss_with_delta(&x, &t, 1e-7).expect("valid"));
    }

    #[cfg(feature = "parallel")]
    mod parallel {
        use super::*;
        use crate::numerical_gradient::layered_numerical_gradient_par;

        fn bits(grads: &Grads) -> Vec<u64> {
            grads
                .iter()
                .flat_map(|(_, g)| g.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
                .collect()
        }

        #[test]
        fn parallel_is_bit_identical_to_serial() {
            for activation in ACTIVATIONS {
                // 2·P·N above the threshold: the parallel path runs.
                let net = net((60, 30, 10), 0.1, activation, 14);
                let x = inputs(40, 60, 14);
                let t = labels(40, 10);
                let serial =
                    layered_numerical_gradient(&net, &x, &(&t).into(), 1e-7).expect("valid");
                let parallel =
                    layered_numerical_gradient_par(&net, &x, &(&t).into(), 1e-7).expect("valid");
                assert_eq!(bits(&parallel), bits(&serial));
                assert_eq!(
                    parallel.names().collect::<Vec<_>>(),
                    serial.names().collect::<Vec<_>>()
                );
            }
        }

        #[test]
        fn parallel_reports_the_first_failure_in_parameter_order() {
            let mut net = net((3, 2, 2), 1.0, Activation::Relu, 10);
            net.b2 = array![2000.0, 0.0];
            let x = inputs(2, 3, 11);
            let t = [0usize, 1];
            let serial =
                layered_numerical_gradient(&net, &x, &(&t).into(), 0.0).expect_err("fails");
            let parallel =
                layered_numerical_gradient_par(&net, &x, &(&t).into(), 0.0).expect_err("fails");
            assert_eq!(parallel.to_string(), serial.to_string());
        }
    }
}
