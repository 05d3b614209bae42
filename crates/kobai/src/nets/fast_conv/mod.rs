//! The fused engine for convolutional networks of the book's shape
//! (`SimpleConvNet`, chapter 7), in `f32` or `f64`:
//!
//! ```text
//! conv → relu → max pool → affine → relu → affine → … → softmax with cross-entropy
//! ```
//!
//! The layers' algebra, fused image by image: each image is unrolled
//! (im2col, as `C·FH·FW × OH·OW` so the product lands in the output's own
//! layout), multiplied by the filters in one matrix product, and the ReLU and
//! the max pooling are taken in one pass that keeps, for each pooled value,
//! where its gradient goes. The gradient with respect to the input images is
//! never formed (nothing needs it). The Affine layers after the pooling are
//! dense products on the whole batch.
//!
//! The images are taken in fixed groups of [`IMAGES_PER_GROUP`], each group's
//! filter gradient summed on its own and the groups' sums added in order,
//! and each dense product is computed as the same two halves, so the bits
//! are the same whatever the number of threads; the groups and the halves
//! run on rayon's threads (feature `parallel`) when the work is large
//! enough to pay for it. Counting correct classifications runs on the
//! calling thread: its caller spreads blocks of samples over the threads.
//!
//! Bad input gets the layers' errors, in their order: a non-finite input,
//! the convolution's input width, an empty batch (at the softmax), the
//! targets, and non-finite scores.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayRef2, ArrayView1, ArrayView2, ArrayViewMut2, Axis, Ix1, Ix2};

use super::fast_backprop::{count_decided, shape_bug, softmax_loss_backward};
use super::fast_network::weight_and_bias;
use super::network::{Network, in_layer};
use super::spec::LayerSpec;
use crate::check;
use crate::data::Dataset;
use crate::error::{KobaiError, Result};
use crate::functions::activations::{relu_backward_of, relu_of};
use crate::functions::{Targets, class_labels};
use crate::kernels::Real;
use crate::layers::{Layer, Mode, PoolKind};
use crate::model::Grads;

mod per_image;
use per_image::{convolve, im2col, relu_max_pool, unpool};

/// Images per group: the unit of work of one thread, and of the filter
/// gradient's partial sums.
pub(crate) const IMAGES_PER_GROUP: usize = 10;

/// Multiply-adds of convolution below which a batch runs on one thread.
const PARALLEL_WORK: usize = 1 << 21;

/// Images per block when counting correct classifications.
const COUNT_BLOCK: usize = 100;

/// The sizes of the convolution and of the pooling.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    /// One input image: channels, height, width.
    image: (usize, usize, usize),
    /// Filters, FN.
    filters: usize,
    /// Filter height and width.
    filter: (usize, usize),
    /// The convolution's stride.
    stride: usize,
    /// Zeros on each side of each image.
    pad: usize,
    /// The convolution's output plane, OH × OW.
    out: (usize, usize),
    /// The pooling window.
    pool: (usize, usize),
    /// The pooling's stride.
    pool_stride: usize,
    /// The pooled plane.
    pooled: (usize, usize),
}

impl Geometry {
    /// Values in one input image, C·H·W.
    fn pixels(&self) -> usize {
        let (c, h, w) = self.image;
        c * h * w
    }

    /// Rows of an unrolled image, C·FH·FW.
    fn unrolled(&self) -> usize {
        self.image.0 * self.filter.0 * self.filter.1
    }

    /// Positions in the convolution's output plane, OH·OW.
    fn positions(&self) -> usize {
        self.out.0 * self.out.1
    }

    /// Values in one image's pooled output, FN·PH·PW.
    fn width(&self) -> usize {
        self.filters * self.pooled.0 * self.pooled.1
    }

    /// Multiply-adds of one image's convolution.
    fn work(&self) -> usize {
        self.filters * self.unrolled() * self.positions()
    }
}

/// One Affine layer after the pooling.
struct Dense<'n> {
    /// Its name in the network.
    name: &'n str,
    /// Weights, inputs × outputs.
    w: ArrayView2<'n, f64>,
    /// Bias.
    b: ArrayView1<'n, f64>,
}

/// A network the engine covers, as it reads it.
struct Plan<'n> {
    /// The convolution layer.
    conv: (&'n str, &'n dyn Layer),
    /// The filters as rows of C·FH·FW values, FN × C·FH·FW.
    filters: ArrayView2<'n, f64>,
    /// The filters' bias.
    bias: ArrayView1<'n, f64>,
    geometry: Geometry,
    /// The Affine layers, with ReLUs between them.
    dense: Vec<Dense<'n>>,
}

/// Whether the engine covers `net`: a convolution, a ReLU, an unpadded max
/// pooling, then Affine layers with ReLUs between them, and no weight decay.
pub(crate) fn covers(net: &Network) -> bool {
    plan(net).is_some()
}

/// The network as the engine reads it, if it covers it.
fn plan(net: &Network) -> Option<Plan<'_>> {
    if net.weight_decay() != 0.0 {
        return None;
    }
    let mut layers = net.layers();
    let plain = |layer: &dyn Layer| layer.buffers().is_empty();
    let (conv_name, conv) = layers.next()?;
    let LayerSpec::Convolution {
        filters,
        input,
        filter,
        stride,
        pad,
    } = conv.spec()
    else {
        return None;
    };
    let (_, relu) = layers.next()?;
    let (_, pool) = layers.next()?;
    let LayerSpec::Pooling {
        kind: PoolKind::Max,
        pool: window,
        stride: pool_stride,
        pad: 0,
    } = pool.spec()
    else {
        return None;
    };
    let relu_ok = |layer: &dyn Layer| {
        layer.spec() == LayerSpec::Relu && layer.kind() == "relu" && layer.params().is_empty()
    };
    if conv.kind() != "conv" || pool.kind() != "pool" || !relu_ok(relu) {
        return None;
    }
    if !(plain(conv) && plain(relu) && plain(pool)) {
        return None;
    }
    let out = crate::layers::Window::new(filter.0, filter.1, stride, pad)
        .and_then(|w| w.output_size(input.1, input.2))
        .ok()?;
    let pooled = crate::layers::Window::new(window.0, window.1, pool_stride, 0)
        .and_then(|w| w.output_size(out.0, out.1))
        .ok()?;
    let geometry = Geometry {
        image: input,
        filters,
        filter,
        stride,
        pad,
        out,
        pool: window,
        pool_stride,
        pooled,
    };
    // Pooling positions are kept as u32.
    u32::try_from(geometry.positions()).ok()?;
    let (w, b) = weight_and_bias(conv)?;
    let w = w
        .into_shape_with_order((filters, geometry.unrolled()))
        .ok()?
        .into_dimensionality::<Ix2>()
        .ok()?;
    let b = b.into_dimensionality::<Ix1>().ok()?;
    if b.len() != filters {
        return None;
    }
    let mut dense: Vec<Dense<'_>> = Vec::new();
    let mut relu_before = true;
    for (name, layer) in layers {
        match layer.spec() {
            LayerSpec::Affine { inputs, outputs }
                if relu_before && layer.kind() == "affine" && plain(layer) =>
            {
                let (w, b) = weight_and_bias(layer)?;
                let w = w.into_dimensionality::<Ix2>().ok()?;
                let b = b.into_dimensionality::<Ix1>().ok()?;
                let takes = dense.last().map_or(geometry.width(), |d| d.w.ncols());
                if w.dim() != (inputs, outputs) || inputs != takes || b.len() != outputs {
                    return None;
                }
                dense.push(Dense { name, w, b });
                relu_before = false;
            }
            LayerSpec::Relu if !relu_before && relu_ok(layer) && plain(layer) => {
                relu_before = true;
            }
            _ => return None,
        }
    }
    // Ends with an Affine.
    (!dense.is_empty() && !relu_before).then_some(Plan {
        conv: (conv_name, conv),
        filters: w,
        bias: b,
        geometry,
        dense,
    })
}

/// The error for a network the engine does not cover (never reached through
/// [`Network::engine`]).
fn not_covered() -> KobaiError {
    KobaiError::Layer {
        layer: "network".into(),
        detail: "the fused convolution engine covers conv → relu → max pool → affine \
                 (→ relu → affine …) without weight decay; use Compute::Layers"
            .into(),
    }
}

impl Plan<'_> {
    /// The convolution's error for a batch whose rows do not have one
    /// image's values: the layer's own (it checks the shape first).
    fn check_width(&self, shape: (usize, usize)) -> Result<()> {
        if shape.1 == self.geometry.pixels() {
            return Ok(());
        }
        let (name, layer) = self.conv;
        match layer.forward(ndarray::ArrayD::zeros(vec![shape.0, shape.1]), Mode::Train) {
            Err(e) => Err(in_layer(name, e)),
            Ok(_) => Err(not_covered()),
        }
    }

    /// The class labels of a batch of `n` rows, after the checks the layers
    /// make in their order (at least one row, then the targets).
    fn labels(&self, n: usize, t: &Targets<'_>) -> Result<Vec<usize>> {
        if n == 0 {
            // The layers pass an empty batch through to the softmax.
            return Err(KobaiError::Empty {
                what: "softmax input".into(),
            });
        }
        let classes = self.dense.last().map_or(0, |d| d.w.ncols());
        class_labels((n, classes), t)
    }
}

/// The loss and gradients of `net` on `(x, t)`, computed in `T`.
///
/// # Errors
/// The errors of the layers ([`Compute::Layers`](super::Compute)) for the
/// same input; [`KobaiError::Layer`] for a network that [`covers`] rejects.
pub(crate) fn gradient<T: Real>(
    net: &Network,
    x: &ArrayRef2<f64>,
    t: &Targets<'_>,
) -> Result<(f64, Grads)> {
    let plan = plan(net).ok_or_else(not_covered)?;
    check::finite("x", x)?;
    plan.check_width(x.dim())?;
    let labels = plan.labels(x.nrows(), t)?;
    let images = x.mapv(T::from_f64);
    backprop(&plan, images.view(), &labels)
}

/// [`gradient`] on the samples `indices` of a dataset held as bytes, read
/// straight from them (no `f64` batch): the same bits.
///
/// # Errors
/// As [`gradient`] on [`Dataset::batch`]'s result, after its errors.
pub(crate) fn batch_gradient<T: Real>(
    net: &Network,
    data: &Dataset,
    (pixels, divisor): (ArrayView2<'_, u8>, f64),
    indices: &[usize],
) -> Result<(f64, Grads)> {
    let plan = plan(net).ok_or_else(not_covered)?;
    data.check_indices(indices)?;
    plan.check_width((indices.len(), pixels.ncols()))?;
    let labels = data.labels().select(Axis(0), indices);
    let labels = plan.labels(indices.len(), &Targets::from(&labels))?;
    let images = images_from_bytes::<T>(pixels, divisor, indices);
    backprop(&plan, images.view(), &labels)
}

/// How many of the samples `indices` of a dataset held as bytes `net`
/// classifies correctly, as the `f64` layers count them.
///
/// The scores are computed in `T`, a block of images at a time; a row whose
/// two highest scores are too close for `T`'s rounding to decide between
/// them (or that has a non-finite score) is recomputed by the `f64` layers,
/// so the count is the `f64` one, sample for sample (as `TwoLayerNet`'s
/// fused count; the margin is `10⁴ ε (1 + |top score|)`).
///
/// # Errors
/// Indices out of range; images that do not fit the network.
pub(crate) fn correct_count<T: Real>(
    net: &Network,
    data: &Dataset,
    (pixels, divisor): (ArrayView2<'_, u8>, f64),
    indices: &[usize],
) -> Result<usize> {
    let plan = plan(net).ok_or_else(not_covered)?;
    data.check_indices(indices)?;
    plan.check_width((indices.len(), pixels.ncols()))?;
    let mut correct = 0;
    let mut unsure = Vec::new();
    let weights = Weights::of(&plan);
    for block in indices.chunks(COUNT_BLOCK) {
        let images = images_from_bytes::<T>(pixels, divisor, block);
        // The caller spreads its blocks over the threads.
        let scores = forward(&plan, &weights, images.view(), Pass::Count)?.scores;
        correct += count_decided(&scores, block, data, &mut unsure);
    }
    correct += crate::model::count_on_f64_batch(net, data, &unsure)?;
    Ok(correct)
}

/// The images `indices` of a dataset held as bytes, as rows of `T`: each
/// byte divided by `divisor` in `f64` (as [`Dataset::batch`] does), then
/// rounded to `T`.
fn images_from_bytes<T: Real>(
    pixels: ArrayView2<'_, u8>,
    divisor: f64,
    indices: &[usize],
) -> Array2<T> {
    let table: Vec<T> = (0..=255u8)
        .map(|b| T::from_f64(f64::from(b) / divisor))
        .collect();
    let mut images = Array2::<T>::zeros((indices.len(), pixels.ncols()));
    for (mut row, &i) in images.rows_mut().into_iter().zip(indices) {
        row.iter_mut()
            .zip(pixels.row(i))
            .for_each(|(d, &b)| *d = table[usize::from(b)]);
    }
    images
}

/// What the forward pass keeps for the backward pass.
struct Forward<T> {
    /// Each Affine layer's input: the pooled images, then each hidden
    /// layer's activations (after its ReLU).
    inputs: Vec<Array2<T>>,
    /// For each pooled value, the position in its image's convolution
    /// output that its gradient goes to, or [`NO_GRADIENT`].
    argmax: Vec<u32>,
    /// The scores.
    scores: Array2<T>,
}

/// The network's parameters rounded to `T`, once per batch (or per count).
struct Weights<T> {
    /// The filters, FN × C·FH·FW.
    filters: Array2<T>,
    /// The filters' bias.
    bias: Vec<T>,
    /// Each Affine layer's weights and bias.
    dense: Vec<(Array2<T>, Vec<T>)>,
}

impl<T: Real> Weights<T> {
    fn of(plan: &Plan<'_>) -> Self {
        let round = |b: &ArrayView1<'_, f64>| b.iter().map(|&v| T::from_f64(v)).collect();
        Weights {
            filters: plan.filters.mapv(T::from_f64),
            bias: round(&plan.bias),
            dense: plan
                .dense
                .iter()
                .map(|layer| (layer.w.mapv(T::from_f64), round(&layer.b)))
                .collect(),
        }
    }
}

/// What a forward pass is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// A training step: the backward pass follows.
    Train,
    /// Counting correct classifications: the scores alone.
    Count,
}

/// The marker of a pooled value whose window held no positive value: ReLU
/// passes no gradient back.
const NO_GRADIENT: u32 = u32::MAX;

/// The forward pass over a batch of `images` (rows of C·H·W values); for
/// `Pass::Train` on rayon's threads and keeping where the pooled values'
/// gradients go.
fn forward<T: Real>(
    plan: &Plan<'_>,
    weights: &Weights<T>,
    images: ArrayView2<'_, T>,
    pass: Pass,
) -> Result<Forward<T>> {
    let g = plan.geometry;
    let n = images.nrows();
    let (filters, bias) = (&weights.filters, &weights.bias[..]);
    let width = g.width();
    let mut pooled = Array2::<T>::zeros((n, width));
    let mut argmax = match pass {
        Pass::Train => vec![NO_GRADIENT; n * width],
        Pass::Count => Vec::new(),
    };
    {
        let pooled_rows = pooled
            .as_slice_mut()
            .ok_or_else(|| shape_bug_of("pooled"))?;
        let images = images.as_slice().ok_or_else(|| shape_bug_of("images"))?;
        let group_values = IMAGES_PER_GROUP * width;
        let argmax_groups = argmax
            .chunks_mut(group_values)
            .map(Some)
            .chain(std::iter::repeat_with(|| None));
        let groups: Vec<_> = images
            .chunks(IMAGES_PER_GROUP * g.pixels())
            .zip(pooled_rows.chunks_mut(group_values))
            .zip(argmax_groups)
            .collect();
        let parallel = pass == Pass::Train && n.saturating_mul(g.work()) >= PARALLEL_WORK;
        map_groups(groups, parallel, |((images, pooled), mut argmax)| {
            let mut col = vec![T::zero(); g.unrolled() * g.positions()];
            let mut out = vec![T::zero(); g.filters * g.positions()];
            for (k, (image, pooled)) in images
                .chunks_exact(g.pixels())
                .zip(pooled.chunks_exact_mut(width))
                .enumerate()
            {
                im2col(image, &g, &mut col);
                convolve(filters, bias, &g, &col, &mut out)?;
                let positions = argmax.as_deref_mut().map(|a| &mut a[k * width..][..width]);
                relu_max_pool(&out, &g, pooled, positions);
            }
            Ok(())
        })
        .into_iter()
        .collect::<Result<Vec<()>>>()?;
    }
    let mut inputs = vec![pooled];
    for (k, (w, b)) in weights.dense.iter().enumerate() {
        let input = inputs.last().ok_or_else(not_covered)?;
        let mut out = Array2::<T>::zeros((n, w.ncols()));
        for mut row in out.rows_mut() {
            row.iter_mut().zip(b).for_each(|(d, &b)| *d = b);
        }
        let parallel = pass == Pass::Train;
        product_in_halves(
            input.view(),
            w.view(),
            T::one(),
            out.view_mut(),
            Axis(0),
            parallel,
        );
        if k + 1 < weights.dense.len() {
            out.mapv_inplace(relu_of);
            inputs.push(out);
        } else {
            return Ok(Forward {
                inputs,
                argmax,
                scores: out,
            });
        }
    }
    Err(not_covered())
}

/// The loss and gradients for a batch of `images` with `labels`.
fn backprop<T: Real>(
    plan: &Plan<'_>,
    images: ArrayView2<'_, T>,
    labels: &[usize],
) -> Result<(f64, Grads)> {
    let g = plan.geometry;
    let weights = Weights::of(plan);
    let Forward {
        inputs,
        argmax,
        mut scores,
    } = forward(plan, &weights, images, Pass::Train)?;
    if !scores.iter().all(|v| v.to_f64().is_finite()) {
        check::finite("softmax input", &scores.mapv(|v| v.to_f64()))?;
    }
    let loss = softmax_loss_backward(&mut scores, labels);

    // The Affine layers, last to first: dW = inputᵀ · δ, db = Σ δ, and δ at
    // the layer's input (through the ReLU before it, if any).
    let mut delta = scores;
    let mut dense_grads = Vec::with_capacity(plan.dense.len());
    for (k, (input, (w, _))) in inputs.iter().zip(&weights.dense).enumerate().rev() {
        let mut dw = Array2::<T>::zeros(w.dim());
        product_in_halves(
            input.t(),
            delta.view(),
            T::zero(),
            dw.view_mut(),
            Axis(0),
            true,
        );
        let db = delta.sum_axis(Axis(0));
        dense_grads.push((dw.mapv(|v| v.to_f64()), db.mapv(|v| v.to_f64())));
        let mut below = Array2::<T>::zeros(input.dim());
        product_in_halves(
            delta.view(),
            w.t(),
            T::zero(),
            below.view_mut(),
            Axis(1),
            true,
        );
        if k > 0 {
            below.zip_mut_with(input, |d, &h| *d = relu_backward_of(h, *d));
        }
        delta = below;
    }
    dense_grads.reverse();

    // The convolution: each pooled value's gradient goes to its maximum
    // (through the ReLU), then dW = Σ_images δ_conv · colᵀ, group by group.
    let width = g.width();
    let dpooled = delta
        .as_slice()
        .ok_or_else(|| shape_bug_of("pooled gradient"))?;
    let images = images.as_slice().ok_or_else(|| shape_bug_of("images"))?;
    let group_values = IMAGES_PER_GROUP * width;
    let groups: Vec<_> = images
        .chunks(IMAGES_PER_GROUP * g.pixels())
        .zip(dpooled.chunks(group_values))
        .zip(argmax.chunks(group_values))
        .collect();
    let parallel = labels.len().saturating_mul(g.work()) >= PARALLEL_WORK;
    let partials = map_groups(groups, parallel, |((images, dpooled), argmax)| {
        let mut col = vec![T::zero(); g.unrolled() * g.positions()];
        let mut dout = vec![T::zero(); g.filters * g.positions()];
        let mut dw = Array2::<T>::zeros((g.filters, g.unrolled()));
        let mut db = vec![T::zero(); g.filters];
        for ((image, dpooled), argmax) in images
            .chunks_exact(g.pixels())
            .zip(dpooled.chunks_exact(width))
            .zip(argmax.chunks_exact(width))
        {
            unpool(dpooled, argmax, &g, &mut dout);
            for (sum, plane) in db.iter_mut().zip(dout.chunks_exact(g.positions())) {
                *sum = plane.iter().fold(*sum, |s, &v| s + v);
            }
            im2col(image, &g, &mut col);
            let dout_view =
                ArrayView2::from_shape((g.filters, g.positions()), &dout[..]).map_err(shape_bug)?;
            let col_view = ArrayView2::from_shape((g.unrolled(), g.positions()), &col[..])
                .map_err(shape_bug)?;
            general_mat_mul(T::one(), &dout_view, &col_view.t(), T::one(), &mut dw);
        }
        Ok((dw, db))
    });
    let mut dw = Array2::<T>::zeros(weights.filters.dim());
    let mut db = vec![T::zero(); g.filters];
    for partial in partials {
        let (part_w, part_b) = partial?;
        dw.zip_mut_with(&part_w, |d, &v| *d = *d + v);
        db.iter_mut().zip(part_b).for_each(|(d, v)| *d = *d + v);
    }

    let (c, (fh, fw)) = (g.image.0, g.filter);
    let mut grads = Grads::default();
    let conv_name = plan.conv.0;
    grads.push(
        format!("{conv_name}.W"),
        dw.mapv(|v| v.to_f64())
            .into_shape_with_order((g.filters, c, fh, fw))
            .map_err(shape_bug)?
            .into_dyn(),
    );
    grads.push(
        format!("{conv_name}.b"),
        db.iter()
            .map(|v| v.to_f64())
            .collect::<Array1<f64>>()
            .into_dyn(),
    );
    for (layer, (dw, db)) in plan.dense.iter().zip(dense_grads) {
        grads.push(format!("{}.W", layer.name), dw.into_dyn());
        grads.push(format!("{}.b", layer.name), db.into_dyn());
    }
    Ok((loss, grads))
}

/// `c = a · b + beta c`, computed as two halves of `c` split along `axis`
/// (the rows of `a` and `c`, or the columns of `b` and `c`), always, so
/// that the bits do not depend on the threads; the halves run on two of
/// rayon's threads if `parallel` and the product is large enough to pay.
fn product_in_halves<T: Real>(
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    beta: T,
    c: ArrayViewMut2<'_, T>,
    axis: Axis,
    parallel: bool,
) {
    let mid = c.len_of(axis) / 2;
    let ((a1, a2), (b1, b2)) = if axis == Axis(0) {
        (a.split_at(axis, mid), (b.view(), b))
    } else {
        ((a.view(), a), b.split_at(axis, mid))
    };
    let (mut c1, mut c2) = c.split_at(axis, mid);
    let work = a1
        .nrows()
        .saturating_mul(a1.ncols())
        .saturating_mul(b.ncols());
    let mut first = move || general_mat_mul(T::one(), &a1, &b1, beta, &mut c1);
    let mut second = move || general_mat_mul(T::one(), &a2, &b2, beta, &mut c2);
    #[cfg(feature = "parallel")]
    if parallel && work >= PARALLEL_WORK {
        rayon::join(first, second);
        return;
    }
    let _ = (parallel, work);
    first();
    second();
}

/// `f` over each group, on rayon's threads if `parallel` (feature
/// `parallel`), the results in the groups' order.
fn map_groups<I: Send, R: Send>(
    groups: Vec<I>,
    parallel: bool,
    f: impl Fn(I) -> R + Sync + Send,
) -> Vec<R> {
    #[cfg(feature = "parallel")]
    if parallel {
        use rayon::prelude::*;
        return groups.into_par_iter().map(f).collect();
    }
    let _ = parallel;
    groups.into_iter().map(f).collect()
}

/// A buffer that is not laid out as the engine made it: a bug, reported as
/// an error rather than a panic.
fn shape_bug_of(what: &str) -> KobaiError {
    KobaiError::Shape {
        what: format!("{what} buffer"),
        expected: "a contiguous buffer".into(),
        found: Vec::new(),
    }
}
