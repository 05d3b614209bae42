//! A network of any shape: layers in sequence, then softmax with cross-entropy.

use ndarray::{Array2, ArrayD, ArrayRef2, ArrayViewD, ArrayViewMutD};

use super::spec::LayerSpec;
use super::two_layer_net::Compute;
use super::{fast_conv, fast_network};
use crate::check;
use crate::data::Dataset;
use crate::error::{KobaiError, Result};
use crate::functions::Targets;
use crate::layers::{Cache, Layer, Mode, ParamKind, SoftmaxWithLoss};
use crate::model::{Backprop, Grads, Model, Params};

/// Layers applied in order, with the softmax-with-cross-entropy loss as its
/// head (the book's `MultiLayerNet`, made of any [`Layer`]s).
///
/// Each layer is named `{kind}{k}` — the k-th of its kind (`affine1`,
/// `relu1`, `affine2`) — and each parameter `{layer}.{name}` (`affine1.W`,
/// `batchnorm1.gamma`); buffers the same way (`batchnorm1.running_mean`).
/// Every tool that takes a [`Params`], [`Model`] or [`Backprop`] — the
/// optimizers, [`gradient_check()`](crate::gradient_check()), the numerical
/// gradient, `.npz` files, the [`Trainer`](crate::Trainer) and checkpoints —
/// works through these names.
///
/// - [`Model::predict`] runs the layers in [`Mode::Eval`] and stops before
///   the softmax.
/// - [`Model::loss`] and [`Backprop::gradient`] run them in [`Mode::Train`]
///   (the book's `loss(x, t, train_flg=True)`), adding the weight decay
///   `½ λ Σ W²` over the weight matrices ([`ParamKind::Weight`]) to the loss
///   and `λ W` to their gradients. Neither changes the network: the new
///   values of the buffers are returned with the gradients and applied by
///   [`step`](crate::step).
///
/// ```
/// use kobai::layers::{Affine, Relu};
/// use kobai::nets::Network;
/// use kobai::{Backprop, Model, Params};
/// use ndarray::{array, Array1, Array2};
///
/// let net = Network::new(vec![
///     Box::new(Affine::new(array![[0.5, -0.2], [0.1, 0.4]], Array1::zeros(2))?),
///     Box::new(Relu),
///     Box::new(Affine::new(Array2::eye(2), Array1::zeros(2))?),
/// ])?;
/// let names: Vec<String> = net.params().into_iter().map(|(name, _)| name).collect();
/// assert_eq!(names, ["affine1.W", "affine1.b", "affine2.W", "affine2.b"]);
/// assert_eq!(net.architecture().as_deref(), Some("affine(2,2) relu affine(2,2)"));
///
/// let (x, t) = (array![[1.0, 2.0]], (&[1usize]).into());
/// let (loss, grads) = net.gradient(&x, &t)?;
/// assert_eq!(loss, net.loss(&x, &t)?);
/// assert_eq!(grads["affine1.W"].shape(), &[2, 2]);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Network {
    layers: Vec<Box<dyn Layer>>,
    names: Vec<String>,
    weight_decay: f64,
    compute: Compute,
}

/// A training forward pass: each layer's cache, the scores, and the buffer
/// updates, named.
struct Trace {
    caches: Vec<Cache>,
    input_shapes: Vec<Vec<usize>>,
    scores: ArrayD<f64>,
    updates: Vec<(String, ArrayD<f64>)>,
}

/// The most weights and buffer values a network built from a description
/// ([`Network::from_architecture`]) may hold: 2 GiB of `f64`.
pub const MAX_ARCHITECTURE_VALUES: usize = 1 << 28;

/// The most layers a network built from a description may have.
pub const MAX_ARCHITECTURE_LAYERS: usize = 10_000;

impl Network {
    /// A network of `layers`, in order, without weight decay.
    ///
    /// # Errors
    /// [`KobaiError::Empty`] if there is no layer; [`KobaiError::Layer`] if a
    /// layer's kind is not a lower-case name (letters, digits, `_`) or a
    /// layer's parameters are named twice.
    pub fn new(layers: Vec<Box<dyn Layer>>) -> Result<Self> {
        if layers.is_empty() {
            return Err(KobaiError::Empty {
                what: "the network's layers".into(),
            });
        }
        let mut names = Vec::with_capacity(layers.len());
        let mut counts: Vec<(String, usize)> = Vec::new();
        for layer in &layers {
            let kind = layer.kind();
            let good = !kind.is_empty()
                && kind
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !good {
                return Err(KobaiError::Layer {
                    layer: kind.to_string(),
                    detail: "its kind must be a lower-case name (letters, digits and _), \
                             from which the network names it"
                        .into(),
                });
            }
            let count = match counts.iter_mut().find(|(k, _)| k == kind) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    counts.push((kind.to_string(), 1));
                    1
                }
            };
            let name = format!("{kind}{count}");
            let mut seen: Vec<&str> = layer.params().iter().map(|(n, _, _)| *n).collect();
            seen.extend(layer.buffers().iter().map(|(n, _)| *n));
            seen.sort_unstable();
            if let Some(w) = seen.windows(2).find(|w| w[0] == w[1]) {
                return Err(KobaiError::Layer {
                    layer: name,
                    detail: format!("names {:?} twice among its parameters and buffers", w[0]),
                });
            }
            names.push(name);
        }
        Ok(Network {
            layers,
            names,
            weight_decay: 0.0,
            compute: Compute::Layers,
        })
    }

    /// The same network with weight decay `λ`: the loss gains `½ λ Σ W²` over
    /// every weight matrix, and their gradients `λ W` (the book's
    /// `weight_decay_lambda`).
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`] unless `λ` is finite and at least 0.
    ///
    /// ```
    /// # use kobai::nets::MultiLayerNet;
    /// let net = MultiLayerNet::new(4, &[3], 2).build()?.with_weight_decay(0.1)?;
    /// assert_eq!(net.weight_decay(), 0.1);
    /// assert!(net.clone().with_weight_decay(-1.0).is_err());
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn with_weight_decay(mut self, lambda: f64) -> Result<Self> {
        if !(lambda.is_finite() && lambda >= 0.0) {
            return Err(KobaiError::Hyperparameter {
                name: "weight decay",
                value: check::number_text(lambda),
                expected: "a finite number at least 0",
            });
        }
        self.weight_decay = lambda;
        Ok(self)
    }

    /// The weight decay λ.
    pub fn weight_decay(&self) -> f64 {
        self.weight_decay
    }

    /// The same network with backprop computed by `compute`. The fused
    /// engines cover, without weight decay, stacks of Affine and ReLU layers
    /// and the convolutional networks of [`SimpleConvNet`](super::SimpleConvNet)'s
    /// shape (a convolution, ReLU, unpadded max pooling, then Affine layers
    /// with ReLUs between them: im2col and matrix products image by image,
    /// ReLU and pooling in one pass, no gradient for the input images). For
    /// any other network backprop runs the layers whatever `compute` says —
    /// [`Network::engine`] tells which runs. A fused convolutional network
    /// also counts its accuracy on the engine, handing near-ties to the
    /// layers, so the count is the `f64` layers' one.
    ///
    /// ```
    /// use kobai::nets::{Compute, MultiLayerNet, SimpleConvNet};
    /// let net = MultiLayerNet::new(4, &[3, 3], 2).build()?.with_compute(Compute::FusedF32);
    /// assert_eq!(net.compute(), Compute::FusedF32);
    /// let with_bn = MultiLayerNet::new(4, &[3], 2).batch_norm(true).build()?.with_compute(Compute::FusedF32);
    /// assert_eq!(with_bn.engine(), Compute::Layers, "BatchNorm: the layers run");
    /// let conv = SimpleConvNet::new((1, 8, 8), 3).filters(2).filter_size(3).hidden(4).build()?;
    /// assert_eq!(conv.with_compute(Compute::FusedF32).engine(), Compute::FusedF32);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn with_compute(mut self, compute: Compute) -> Self {
        self.compute = compute;
        self
    }

    /// The compute mode asked for.
    pub fn compute(&self) -> Compute {
        self.compute
    }

    /// The compute mode that backprop really runs: [`Network::compute`] when
    /// the fused engines cover this network, [`Compute::Layers`] otherwise.
    pub fn engine(&self) -> Compute {
        if self.compute != Compute::Layers
            && (fast_network::covers(self) || fast_conv::covers(self))
        {
            self.compute
        } else {
            Compute::Layers
        }
    }

    /// The layers, with their names, in order.
    pub fn layers(&self) -> impl Iterator<Item = (&str, &dyn Layer)> {
        self.names
            .iter()
            .map(String::as_str)
            .zip(self.layers.iter().map(|l| &**l))
    }

    /// The layers as data.
    pub fn specs(&self) -> Vec<LayerSpec> {
        self.layers.iter().map(|l| l.spec()).collect()
    }

    /// A network from its [`architecture`](Params::architecture) text, with
    /// zero weights: load its parameters with
    /// [`load_npz`](crate::model::load_npz).
    ///
    /// # Errors
    /// [`KobaiError::Format`] for text that is not an architecture, or that
    /// describes more than [`MAX_ARCHITECTURE_VALUES`] weights or
    /// [`MAX_ARCHITECTURE_LAYERS`] layers (checked before anything is
    /// allocated), and the errors of [`LayerSpec::build`].
    ///
    /// ```
    /// use kobai::nets::{MultiLayerNet, Network};
    /// use kobai::Params;
    /// let net = MultiLayerNet::new(4, &[3, 3], 2).batch_norm(true).weight_decay(0.5).build()?;
    /// let text = net.architecture().expect("a network describes itself");
    /// let empty = Network::from_architecture(&text)?;
    /// assert_eq!(empty.architecture(), Some(text));
    /// assert!(Network::from_architecture("affine(2,3) wobble").is_err());
    /// // Refused before allocating 8 EB, or 3 TB:
    /// assert!(Network::from_architecture("affine(1000000000,1000000000)").is_err());
    /// assert!(Network::from_architecture("conv(100000,3x28x28,1000x1000,stride=1,pad=0)").is_err());
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn from_architecture(text: &str) -> Result<Self> {
        let (layers, options) = match text.split_once(" | ") {
            Some((layers, options)) => (layers, Some(options)),
            None => (text, None),
        };
        let specs = layers
            .split_whitespace()
            .map(str::parse::<LayerSpec>)
            .collect::<Result<Vec<_>>>()?;
        // Refused before anything is allocated: a description decides what
        // kobai allocates, so it must not ask for more than a network may be.
        let values = specs
            .iter()
            .try_fold(0usize, |sum, spec| sum.checked_add(spec.values()?))
            .filter(|&n| n <= MAX_ARCHITECTURE_VALUES);
        if values.is_none() || specs.len() > MAX_ARCHITECTURE_LAYERS {
            return Err(KobaiError::Format {
                path: "architecture".into(),
                detail: format!(
                    "describes {} layers of more than {MAX_ARCHITECTURE_VALUES} weights in all or \
                     more than {MAX_ARCHITECTURE_LAYERS} layers; kobai builds networks of at most \
                     those",
                    specs.len()
                ),
            });
        }
        let layers = specs
            .iter()
            .map(LayerSpec::build)
            .collect::<Result<Vec<_>>>()?;
        let net = Network::new(layers)?;
        match options {
            None => Ok(net),
            Some(options) => {
                let lambda = options
                    .strip_prefix("weight_decay=")
                    .and_then(|v| v.parse::<f64>().ok())
                    .ok_or_else(|| KobaiError::Format {
                        path: "architecture".into(),
                        detail: format!("cannot read {options:?}; expected weight_decay=λ"),
                    })?;
                net.with_weight_decay(lambda)
            }
        }
    }

    /// The scores for `x` (first axis: samples) in `mode`.
    ///
    /// # Errors
    /// [`KobaiError::NonFinite`] for NaN or ±inf in `x`; the layers' errors.
    pub fn forward(&self, x: ArrayD<f64>, mode: Mode) -> Result<ArrayD<f64>> {
        check::finite("x", &x)?;
        let mut a = x;
        for (name, layer) in self.layers() {
            a = layer
                .forward(a, mode)
                .map_err(|e| in_layer(name, e))?
                .output;
        }
        Ok(a)
    }

    /// Each layer's output for `x` in `mode`, by layer name (for the book's
    /// activation histograms).
    ///
    /// # Errors
    /// As [`Network::forward`].
    pub fn activations(&self, x: ArrayD<f64>, mode: Mode) -> Result<Vec<(String, ArrayD<f64>)>> {
        check::finite("x", &x)?;
        let mut outputs = Vec::with_capacity(self.layers.len());
        let mut a = x;
        for (name, layer) in self.layers() {
            a = layer
                .forward(a, mode)
                .map_err(|e| in_layer(name, e))?
                .output;
            outputs.push((name.to_string(), a.clone()));
        }
        Ok(outputs)
    }

    fn trace(&self, x: &ArrayRef2<f64>) -> Result<Trace> {
        check::finite("x", x)?;
        let mut caches = Vec::with_capacity(self.layers.len());
        let mut input_shapes = Vec::with_capacity(self.layers.len());
        let mut updates = Vec::new();
        let mut a = x.to_owned().into_dyn();
        for (name, layer) in self.layers() {
            input_shapes.push(a.shape().to_vec());
            let out = layer
                .forward(a, Mode::Train)
                .map_err(|e| in_layer(name, e))?;
            caches.push(out.cache);
            updates.extend(
                out.updates
                    .into_iter()
                    .map(|(buffer, v)| (format!("{name}.{buffer}"), v)),
            );
            a = out.output;
        }
        Ok(Trace {
            caches,
            input_shapes,
            scores: a,
            updates,
        })
    }

    /// `½ λ Σ W²` over the weight matrices.
    fn decay_loss(&self) -> f64 {
        if self.weight_decay == 0.0 {
            return 0.0;
        }
        let mut sum = 0.0;
        for layer in &self.layers {
            for (_, kind, p) in layer.params() {
                if kind == ParamKind::Weight {
                    sum += 0.5 * self.weight_decay * p.iter().map(|w| w * w).sum::<f64>();
                }
            }
        }
        sum
    }

    /// Errors unless layer `k`'s input gradient `dx` (when asked for) has
    /// its input's shape and `grads` one gradient of each parameter's shape.
    fn check_backward(
        &self,
        k: usize,
        dx: Option<&ArrayD<f64>>,
        grads: &[ArrayD<f64>],
        input_shape: &[usize],
    ) -> Result<()> {
        let (name, layer) = (&self.names[k], &self.layers[k]);
        let params = layer.params();
        let bad = |detail: String| KobaiError::Layer {
            layer: name.clone(),
            detail,
        };
        if let Some(dx) = dx.filter(|dx| dx.shape() != input_shape) {
            return Err(bad(format!(
                "its input gradient has shape {:?} but its input had shape {:?}",
                dx.shape(),
                input_shape
            )));
        }
        if grads.len() != params.len() {
            return Err(bad(format!(
                "its backward pass returned {} parameter gradients for its {} parameters",
                grads.len(),
                params.len()
            )));
        }
        for ((pname, _, p), g) in params.iter().zip(grads) {
            if g.shape() != p.shape() {
                return Err(bad(format!(
                    "the gradient of {pname} has shape {:?} but {pname} has shape {:?}",
                    g.shape(),
                    p.shape()
                )));
            }
        }
        Ok(())
    }
}

/// Prefixes a layer's error with its name in the network.
pub(super) fn in_layer(name: &str, e: KobaiError) -> KobaiError {
    match e {
        KobaiError::Layer { .. } | KobaiError::NonFinite { .. } => e,
        other => KobaiError::Layer {
            layer: name.to_string(),
            detail: other.to_string(),
        },
    }
}

fn scores_matrix(scores: ArrayD<f64>) -> Result<Array2<f64>> {
    let found = scores.shape().to_vec();
    scores.into_dimensionality().map_err(|_| KobaiError::Shape {
        what: "the network's scores".into(),
        expected:
            "expected one row of class scores per sample (end the network with an Affine layer)"
                .into(),
        found,
    })
}

impl Params for Network {
    fn params(&self) -> Vec<(String, ArrayViewD<'_, f64>)> {
        self.layers()
            .flat_map(|(name, layer)| {
                layer
                    .params()
                    .into_iter()
                    .map(move |(p, _, v)| (format!("{name}.{p}"), v))
            })
            .collect()
    }

    fn params_mut(&mut self) -> Vec<(String, ArrayViewMutD<'_, f64>)> {
        self.names
            .iter()
            .zip(self.layers.iter_mut())
            .flat_map(|(name, layer)| {
                layer
                    .params_mut()
                    .into_iter()
                    .map(move |(p, v)| (format!("{name}.{p}"), v))
            })
            .collect()
    }

    fn buffers(&self) -> Vec<(String, ArrayViewD<'_, f64>)> {
        self.layers()
            .flat_map(|(name, layer)| {
                layer
                    .buffers()
                    .into_iter()
                    .map(move |(p, v)| (format!("{name}.{p}"), v))
            })
            .collect()
    }

    fn params_and_buffers_mut(&mut self) -> Vec<(String, ArrayViewMutD<'_, f64>)> {
        let mut params = Vec::new();
        let mut buffers = Vec::new();
        for (name, layer) in self.names.iter().zip(self.layers.iter_mut()) {
            // One mutable borrow of the layer gives both lists: split it.
            let (p, b) = layer.params_and_buffers_mut();
            params.extend(p.into_iter().map(|(p, v)| (format!("{name}.{p}"), v)));
            buffers.extend(b.into_iter().map(|(p, v)| (format!("{name}.{p}"), v)));
        }
        params.extend(buffers);
        params
    }

    fn architecture(&self) -> Option<String> {
        let layers: Vec<String> = self.specs().iter().map(ToString::to_string).collect();
        let mut text = layers.join(" ");
        if self.weight_decay != 0.0 {
            text.push_str(&format!(" | weight_decay={}", self.weight_decay));
        }
        Some(text)
    }
}

/// The most bytes one image-shaped activation of a prediction block may
/// take: blocks this small are reused by the allocator instead of being
/// mapped and faulted in afresh (a convolution's output for 1000 images of
/// 28×28 is 138 MB; evaluating 70 000 images in such blocks spent a third
/// of a training run in the kernel).
const PREDICT_BLOCK_BYTES: usize = 4 << 20;

impl Network {
    /// Rows per block for [`Model::predict`]: all of them, unless a
    /// convolution makes a row's activation large.
    fn predict_block_rows(&self) -> usize {
        let widest = self
            .layers
            .iter()
            .filter_map(|layer| match layer.spec() {
                LayerSpec::Convolution {
                    filters,
                    input: (_, h, w),
                    filter: (fh, fw),
                    stride,
                    pad,
                } => crate::layers::Window::new(fh, fw, stride, pad)
                    .and_then(|window| window.output_size(h, w))
                    .ok()
                    .map(|(oh, ow)| filters.saturating_mul(oh).saturating_mul(ow)),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        match widest.saturating_mul(std::mem::size_of::<f64>()) {
            0 => usize::MAX,
            bytes => (PREDICT_BLOCK_BYTES / bytes).max(1),
        }
    }
}

impl Model for Network {
    /// The scores in eval mode, computed in blocks of rows where the
    /// activations are large (the same numbers: rows do not interact in
    /// eval mode).
    fn predict(&self, x: &ArrayRef2<f64>) -> Result<Array2<f64>> {
        let block = self.predict_block_rows();
        if x.nrows() <= block {
            return scores_matrix(self.forward(x.to_owned().into_dyn(), Mode::Eval)?);
        }
        let mut scores: Option<Array2<f64>> = None;
        for rows in x.axis_chunks_iter(ndarray::Axis(0), block) {
            let part = scores_matrix(self.forward(rows.to_owned().into_dyn(), Mode::Eval)?)?;
            let all = scores.get_or_insert_with(|| Array2::zeros((0, part.ncols())));
            all.append(ndarray::Axis(0), part.view())
                .map_err(|e| KobaiError::Layer {
                    layer: "network".into(),
                    detail: format!("cannot stack its scores ({e})"),
                })?;
        }
        Ok(scores.unwrap_or_else(|| Array2::zeros((0, 0))))
    }

    fn loss_with_delta(&self, x: &ArrayRef2<f64>, t: &Targets<'_>, delta: f64) -> Result<f64> {
        let mut a = x.to_owned().into_dyn();
        check::finite("x", &a)?;
        for (name, layer) in self.layers() {
            a = layer
                .forward(a, Mode::Train)
                .map_err(|e| in_layer(name, e))?
                .output;
        }
        let scores = scores_matrix(a)?;
        let (loss, _) = SoftmaxWithLoss.forward(&scores, t, delta)?;
        Ok(loss + self.decay_loss())
    }

    /// The count of the `f64` layers, sample for sample. A convolutional
    /// network on a fused engine ([`Network::engine`]) computes its scores
    /// there, straight from the dataset's bytes, and sends the samples whose
    /// top two scores are too close for that rounding to the layers.
    fn correct_count(&self, data: &Dataset, indices: &[usize]) -> Result<usize> {
        let conv = fast_conv::covers(self);
        match (self.engine(), data.pixel_bytes()) {
            (Compute::FusedF64, Some(bytes)) if conv => {
                fast_conv::correct_count::<f64>(self, data, bytes, indices)
            }
            (Compute::FusedF32, Some(bytes)) if conv => {
                fast_conv::correct_count::<f32>(self, data, bytes, indices)
            }
            _ => crate::model::count_on_f64_batch(self, data, indices),
        }
    }
}

impl Backprop for Network {
    fn gradient(&self, x: &ArrayRef2<f64>, t: &Targets<'_>) -> Result<(f64, Grads)> {
        match self.engine() {
            Compute::Layers => {}
            Compute::FusedF64 if fast_conv::covers(self) => {
                return fast_conv::gradient::<f64>(self, x, t);
            }
            Compute::FusedF32 if fast_conv::covers(self) => {
                return fast_conv::gradient::<f32>(self, x, t);
            }
            Compute::FusedF64 => return fast_network::gradient::<f64>(self, x, t),
            Compute::FusedF32 => return fast_network::gradient::<f32>(self, x, t),
        }
        let Trace {
            caches,
            input_shapes,
            scores,
            updates,
        } = self.trace(x)?;
        let scores = scores_matrix(scores)?;
        let (loss, head) = SoftmaxWithLoss.forward(&scores, t, crate::CROSS_ENTROPY_DELTA)?;
        let mut dout = SoftmaxWithLoss.backward(&head).into_dyn();
        let mut per_layer: Vec<Vec<ArrayD<f64>>> = vec![Vec::new(); self.layers.len()];
        for k in (1..self.layers.len()).rev() {
            let back = self.layers[k]
                .backward(&caches[k], dout)
                .map_err(|e| in_layer(&self.names[k], e))?;
            self.check_backward(k, Some(&back.dx), &back.grads, &input_shapes[k])?;
            per_layer[k] = back.grads;
            dout = back.dx;
        }
        // Nothing uses the gradient with respect to the input batch.
        if let Some(first) = self.layers.first() {
            let grads = first
                .backward_params(&caches[0], dout)
                .map_err(|e| in_layer(&self.names[0], e))?;
            self.check_backward(0, None, &grads, &input_shapes[0])?;
            per_layer[0] = grads;
        }
        let mut grads = Grads::default();
        for (k, layer_grads) in per_layer.into_iter().enumerate() {
            let params = self.layers[k].params();
            for ((pname, kind, p), mut g) in params.into_iter().zip(layer_grads) {
                if kind == ParamKind::Weight && self.weight_decay != 0.0 {
                    g.zip_mut_with(&p, |g, &w| *g += self.weight_decay * w);
                }
                grads.push(format!("{}.{pname}", self.names[k]), g);
            }
        }
        for (name, value) in updates {
            grads.push_update(name, value);
        }
        Ok((loss + self.decay_loss(), grads))
    }

    fn batch_gradient(&self, data: &Dataset, indices: &[usize]) -> Result<(f64, Grads)> {
        let conv = fast_conv::covers(self);
        match (self.engine(), data.pixel_bytes()) {
            (Compute::FusedF64, Some(bytes)) if conv => {
                fast_conv::batch_gradient::<f64>(self, data, bytes, indices)
            }
            (Compute::FusedF32, Some(bytes)) if conv => {
                fast_conv::batch_gradient::<f32>(self, data, bytes, indices)
            }
            (Compute::FusedF64, Some(bytes)) => {
                fast_network::batch_gradient::<f64>(self, data, bytes, indices)
            }
            (Compute::FusedF32, Some(bytes)) => {
                fast_network::batch_gradient::<f32>(self, data, bytes, indices)
            }
            _ => {
                let (x, labels) = data.batch(indices)?;
                self.gradient(&x, &Targets::from(&labels))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::{Affine, Convolution, Relu};
    use ndarray::{Array1, Array4};

    #[test]
    fn predictions_in_blocks_are_those_of_the_whole_batch() -> Result<()> {
        // 64 filters of 1x1 over 64x64 images: 2 MB of activation per row,
        // so predict works in blocks of 2 rows.
        let w = Array4::from_shape_fn((64, 1, 1, 1), |(f, ..)| (f as f64 * 0.3).sin());
        let conv = Convolution::new(w, Array1::zeros(64), 1, 0, (1, 64, 64))?;
        let width = 64 * 64 * 64;
        let affine = Affine::new(
            Array2::from_shape_fn((width, 3), |(i, j)| {
                ((i * 3 + j) as f64 * 1e-3).cos() * 1e-3
            }),
            Array1::zeros(3),
        )?;
        let net = Network::new(vec![Box::new(conv), Box::new(Relu), Box::new(affine)])?;
        assert_eq!(net.predict_block_rows(), 2);
        let x = Array2::from_shape_fn((5, 64 * 64), |(n, p)| ((n * 4096 + p) as f64 * 0.01).sin());
        let whole = scores_matrix(net.forward(x.clone().into_dyn(), Mode::Eval)?)?;
        assert_eq!(net.predict(&x)?, whole);
        let dense = Network::new(vec![Box::new(Affine::new(
            Array2::ones((4, 2)),
            Array1::zeros(2),
        )?)])?;
        assert_eq!(
            dense.predict_block_rows(),
            usize::MAX,
            "no blocks without a convolution"
        );
        Ok(())
    }
}
