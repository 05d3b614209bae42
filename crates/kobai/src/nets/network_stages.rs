//! [`Network`] as a [`StagedModel`]: one stage per layer, run in training
//! mode as [`Model::loss_with_delta`](crate::Model::loss_with_delta) runs it,
//! so that [`layered_numerical_gradient`] computes the brute force's numbers
//! for a network of any shape.
//!
//! [`layered_numerical_gradient`]: crate::numerical_gradient::layered_numerical_gradient

use ndarray::{ArrayD, ArrayRef2, ArrayViewD, IxDyn};

use super::network::Network;
use crate::check;
use crate::error::{KobaiError, Result};
use crate::layers::{Layer, Mode, ParamKind};
use crate::numerical_gradient::{Incremental, Stage, StagedModel};

/// Each layer is a stage, described by its [`Layer::incremental`]; weight
/// decay `½ λ Σ W²` is the penalty of the [`ParamKind::Weight`] parameters.
/// Errors are the network's own: a NaN or ±inf in `x`, a layer's error
/// prefixed with its name, scores that are not a matrix.
///
/// ```
/// use kobai::nets::MultiLayerNet;
/// use kobai::numerical_gradient::{layered_numerical_gradient, model_numerical_gradient};
/// use ndarray::array;
///
/// let net = MultiLayerNet::new(3, &[4], 2).batch_norm(true).seed(5).build()?;
/// let (x, t) = (array![[0.6, 0.9, -0.2], [0.1, -0.5, 0.3]], (&[1usize, 0]).into());
/// let layered = layered_numerical_gradient(&net, &x, &t, 1e-7)?;
/// let brute = model_numerical_gradient(&net, &x, &t, 1e-7)?;
/// assert!((&layered["batchnorm1.gamma"] - &brute["batchnorm1.gamma"]).iter().all(|d| d.abs() < 1e-9));
/// # Ok::<(), kobai::KobaiError>(())
/// ```
impl StagedModel for Network {
    fn stages(&self) -> Vec<Box<dyn Stage + '_>> {
        let count = self.layers().count();
        let decay = self.weight_decay();
        self.layers()
            .enumerate()
            .map(|(k, (name, layer))| {
                let weights = layer
                    .params()
                    .iter()
                    .map(|(_, kind, _)| *kind == ParamKind::Weight)
                    .collect();
                Box::new(LayerStage {
                    name,
                    layer,
                    decay,
                    weights,
                    last: k + 1 == count,
                }) as Box<dyn Stage + '_>
            })
            .collect()
    }

    fn check_input(&self, x: &ArrayRef2<f64>) -> Result<()> {
        check::finite("x", x)
    }
}

/// One layer of a network, as a stage of its loss.
struct LayerStage<'a> {
    name: &'a str,
    layer: &'a dyn Layer,
    /// The network's weight decay λ.
    decay: f64,
    /// Whether each parameter is a weight matrix (decayed).
    weights: Vec<bool>,
    /// Whether this is the last layer, whose output must be the scores.
    last: bool,
}

impl LayerStage<'_> {
    /// `layer`'s training output for `input`, with the network's errors.
    fn run(&self, layer: &dyn Layer, input: ArrayD<f64>) -> Result<ArrayD<f64>> {
        let output = layer
            .forward(input, Mode::Train)
            .map_err(|e| in_layer(self.name, e))?
            .output;
        if self.last && output.ndim() != 2 {
            return Err(KobaiError::Shape {
                what: "the network's scores".into(),
                expected: "expected one row of class scores per sample \
                           (end the network with an Affine layer)"
                    .into(),
                found: output.shape().to_vec(),
            });
        }
        Ok(output)
    }
}

impl Stage for LayerStage<'_> {
    fn params(&self) -> Vec<(String, ArrayViewD<'_, f64>)> {
        self.layer
            .params()
            .into_iter()
            .map(|(p, _, v)| (format!("{}.{p}", self.name), v))
            .collect()
    }

    fn forward(&self, input: ArrayD<f64>) -> Result<ArrayD<f64>> {
        self.run(self.layer, input)
    }

    /// A copy of the layer with the element changed (only probes that the
    /// layer's description cannot serve come here).
    fn forward_with(
        &self,
        param: usize,
        index: &[usize],
        value: f64,
        input: ArrayD<f64>,
    ) -> Result<ArrayD<f64>> {
        let mut layer = self.layer.clone_box();
        if let Some((_, mut p)) = layer.params_mut().into_iter().nth(param) {
            p[IxDyn(index)] = value;
        }
        self.run(&*layer, input)
    }

    fn penalty(&self, param: usize, value: f64) -> f64 {
        if self.decay != 0.0 && self.weights.get(param) == Some(&true) {
            0.5 * self.decay * value * value
        } else {
            0.0
        }
    }

    fn incremental(&self, input: &ArrayD<f64>) -> Option<Incremental<'_>> {
        self.layer.incremental(input, Mode::Train)
    }
}

/// Prefixes a layer's error with its name, as the network does.
fn in_layer(name: &str, e: KobaiError) -> KobaiError {
    match e {
        KobaiError::Layer { .. } | KobaiError::NonFinite { .. } => e,
        other => KobaiError::Layer {
            layer: name.to_string(),
            detail: other.to_string(),
        },
    }
}
