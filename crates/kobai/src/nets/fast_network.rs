//! The fused engines for a [`Network`] that is a stack of Affine and ReLU
//! layers: the sparse first-layer kernels of `fast_backprop.rs`, then dense
//! products, in `f32` or `f64`.
//!
//! ```text
//! affine1 → relu → affine2 → relu → … → affineL → softmax with cross-entropy
//! ```
//!
//! The first layer runs as `TwoLayerNet`'s does: the batch kept as its
//! non-zero inputs, `x · W1` and `xᵀ · δ1` on the sparse kernels (the same
//! bits whatever the thread count), no input gradient. Every later Affine is
//! a dense `general_mat_mul` on row-padded buffers in `T`, each layer's bias
//! written into its output before the product adds to it; the ReLUs run in
//! place. The last layer's buffers are unpadded, exactly as in
//! `fast_backprop.rs`, so a network of one hidden layer gives
//! `TwoLayerNet`'s fused gradients bit for bit. Every buffer but the last
//! layer's small ones is kept in the thread's [`Workspace`] from one step to
//! the next.
//!
//! Bad input gets the layers' errors, in their order: a non-finite input,
//! the first Affine's input width (named by the layer), an empty batch (at
//! the softmax), the targets, and non-finite scores.

use ndarray::linalg::general_mat_mul;
use ndarray::{
    Array1, Array2, ArrayD, ArrayRef2, ArrayView1, ArrayView2, ArrayViewD, ArrayViewMut2, Axis,
    Ix1, Ix2, Slice,
};

use super::fast_backprop::{
    activate, activation_backward, output_layer, shape_bug, softmax_loss_backward,
};
use super::network::Network;
use super::spec::LayerSpec;
use super::two_layer_net::Activation;
use crate::check;
use crate::data::Dataset;
use crate::error::{KobaiError, Result};
use crate::functions::{Targets, class_labels};
use crate::kernels::{
    PaddedMatrix, Real, Workspace, sparse_affine_forward, sparse_transpose_product, with_workspace,
};
use crate::layers::{AffineView, Layer, ParamKind};
use crate::model::Grads;

/// One Affine layer of a covered network: its name and its parameters.
struct AffineLayer<'n> {
    /// The layer's name in the network (`affine1`).
    name: &'n str,
    /// Weights, inputs × outputs.
    w: ArrayView2<'n, f64>,
    /// Bias, one per output.
    b: ArrayView1<'n, f64>,
}

/// Whether the fused engines cover `net`: Affine layers with ReLUs between
/// them (`Affine`, `Affine → ReLU → Affine`, …), each Affine taking the
/// previous one's outputs, and no weight decay.
pub(crate) fn covers(net: &Network) -> bool {
    affines(net).is_some()
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
    let affines = affines(net).ok_or_else(not_covered)?;
    with_workspace(|workspace: &mut Workspace<T>| {
        // The layers' first check: fill_from_dense reports a NaN or infinite
        // input as `check::finite("x", x)` does.
        workspace.x.fill_from_dense("x", x)?;
        let labels = check_batch(&affines, x.shape(), t)?;
        backprop(&affines, &labels, workspace)
    })
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
    let affines = affines(net).ok_or_else(not_covered)?;
    data.check_indices(indices)?;
    let labels = data.labels().select(Axis(0), indices);
    let labels = check_batch(
        &affines,
        &[indices.len(), pixels.ncols()],
        &Targets::from(&labels),
    )?;
    with_workspace(|workspace: &mut Workspace<T>| {
        workspace.x.fill_from_bytes(pixels, divisor, indices);
        backprop(&affines, &labels, workspace)
    })
}

/// The Affine layers of `net`, in order, if the fused engines cover it.
fn affines(net: &Network) -> Option<Vec<AffineLayer<'_>>> {
    if net.weight_decay() != 0.0 {
        return None;
    }
    let mut affines: Vec<AffineLayer<'_>> = Vec::new();
    let mut relu_before = false;
    for (name, layer) in net.layers() {
        let next_is_affine = affines.is_empty() || relu_before;
        match layer.spec() {
            LayerSpec::Affine { inputs, outputs } if next_is_affine && layer.kind() == "affine" => {
                if !layer.buffers().is_empty() {
                    return None;
                }
                let (w, b) = weight_and_bias(layer)?;
                let w = w.into_dimensionality::<Ix2>().ok()?;
                let b = b.into_dimensionality::<Ix1>().ok()?;
                let chained = affines.last().is_none_or(|a| a.w.ncols() == inputs);
                if !chained || w.dim() != (inputs, outputs) || b.len() != outputs {
                    return None;
                }
                affines.push(AffineLayer { name, w, b });
                relu_before = false;
            }
            LayerSpec::Relu
                if !next_is_affine
                    && layer.kind() == "relu"
                    && layer.params().is_empty()
                    && layer.buffers().is_empty() =>
            {
                relu_before = true;
            }
            _ => return None,
        }
    }
    // Ends with an Affine, not a ReLU.
    (!affines.is_empty() && !relu_before).then_some(affines)
}

/// A layer's parameters if they are exactly a weight `W` then a bias `b`
/// (an Affine layer's, a convolution's).
pub(super) fn weight_and_bias(
    layer: &dyn Layer,
) -> Option<(ArrayViewD<'_, f64>, ArrayViewD<'_, f64>)> {
    let mut params = layer.params().into_iter();
    match (params.next(), params.next(), params.next()) {
        (Some(("W", ParamKind::Weight, w)), Some(("b", ParamKind::Other, b)), None) => Some((w, b)),
        _ => None,
    }
}

/// The error for a network the fused engines do not cover (never reached
/// through [`Network::engine`]).
fn not_covered() -> KobaiError {
    KobaiError::Layer {
        layer: "network".into(),
        detail: "the fused engines cover only Affine layers with ReLUs between them and \
                 no weight decay; use Compute::Layers"
            .into(),
    }
}

/// The class labels of a batch of `shape`, after the checks the layers make
/// in their order (the first Affine's input width, at least one row, the
/// targets), with their errors.
fn check_batch(
    affines: &[AffineLayer<'_>],
    shape: &[usize],
    t: &Targets<'_>,
) -> Result<Vec<usize>> {
    let (first, last) = match (affines.first(), affines.last()) {
        (Some(first), Some(last)) => (first, last),
        _ => return Err(not_covered()),
    };
    AffineView {
        w: first.w,
        b: first.b,
    }
    .check_input(shape)
    // As the network names a layer's error.
    .map_err(|e| KobaiError::Layer {
        layer: first.name.to_string(),
        detail: e.to_string(),
    })?;
    if shape[0] == 0 {
        // The layers pass an empty batch through to the softmax.
        return Err(KobaiError::Empty {
            what: "softmax input".into(),
        });
    }
    class_labels((shape[0], last.w.ncols()), t)
}

/// Backprop through `affines` (ReLUs between them) for the batch in
/// `workspace.x` with `labels`.
fn backprop<T: Real>(
    affines: &[AffineLayer<'_>],
    labels: &[usize],
    Workspace {
        x: rows,
        w1,
        h,
        da1,
        dw1,
        dense,
    }: &mut Workspace<T>,
) -> Result<(f64, Grads)> {
    let n = labels.len();
    let (first, rest) = affines.split_first().ok_or_else(not_covered)?;
    // Forward, first layer: a1 = x · W1 + b1 on the sparse kernel.
    w1.assign_f64(&first.w);
    let width = first.w.ncols();
    h.reshape(n, width);
    sparse_affine_forward(rows, w1, &padded_bias(&first.b, w1.stride()), h);
    let mut grads: Vec<(ArrayD<f64>, ArrayD<f64>)> = Vec::with_capacity(affines.len());
    let Some((last, middle)) = rest.split_last() else {
        // A single Affine: its outputs are the scores.
        let loss = single_affine_backward(width, labels, h, da1)?;
        dw1.reshape(first.w.nrows(), width);
        sparse_transpose_product(rows, da1, dw1);
        grads.push((dw1.to_f64().into_dyn(), column_sums(da1, width).into_dyn()));
        return Ok((loss, named(affines, grads)));
    };
    activate(Activation::Relu, h.as_mut_slice(), w1.stride(), width);

    // Each hidden layer's activations and gradient, the first one's in the
    // workspace's `h` and `da1`; the middle layers' weights.
    dense.resize_with(middle.len(), Default::default);
    let mut hidden = vec![Hidden { h, delta: da1 }];
    let mut weights = Vec::with_capacity(middle.len());
    for buffers in dense.iter_mut() {
        hidden.push(Hidden {
            h: &mut buffers.h,
            delta: &mut buffers.delta,
        });
        weights.push((&mut buffers.w, &mut buffers.dw));
    }

    // Forward, middle layers: h_k = relu(h_{k−1} · W_k + b_k).
    for (k, (layer, (w, _))) in middle.iter().zip(weights.iter_mut()).enumerate() {
        let (before, after) = hidden.split_at_mut(k + 1);
        dense_forward(layer, before[k].h, w, after[0].h)?;
    }

    // The last layer, as in `fast_backprop.rs`: scores = h · W + b, with W's
    // padding rows zero; softmax with cross-entropy; then its gradients.
    let Hidden { h: top, delta } = hidden.last_mut().ok_or_else(not_covered)?;
    let (top, (inputs, classes)) = (&**top, last.w.dim());
    let stride = top.stride();
    let (w, mut scores) = output_layer(last.w, last.b, top, n)?;
    let top_view = ArrayView2::from_shape((n, stride), top.as_slice()).map_err(shape_bug)?;
    check_scores(&scores)?;
    let loss = softmax_loss_backward(&mut scores, labels);
    let ds = scores;
    let mut dw = Array2::<T>::zeros((stride, classes));
    general_mat_mul(T::one(), &top_view.t(), &ds, T::zero(), &mut dw);
    let db = ds.sum_axis(Axis(0));
    let last_grads = (
        dw.slice_axis(Axis(0), Slice::from(..inputs))
            .mapv(|v| v.to_f64())
            .into_dyn(),
        db.mapv(|v| v.to_f64()).into_dyn(),
    );
    delta.reshape(n, inputs);
    {
        let mut delta_view =
            ArrayViewMut2::from_shape((n, stride), delta.as_mut_slice()).map_err(shape_bug)?;
        general_mat_mul(T::one(), &ds, &w.t(), T::zero(), &mut delta_view);
    }
    activation_backward(Activation::Relu, delta.as_mut_slice(), top.as_slice());

    // Backward, middle layers, last to first.
    let mut middle_grads = Vec::with_capacity(middle.len());
    for (k, (layer, (w, dw))) in middle.iter().zip(weights.iter_mut()).enumerate().rev() {
        let (before, after) = hidden.split_at_mut(k + 1);
        let Hidden { h, delta } = &mut before[k];
        middle_grads.push(dense_backward(layer, h, delta, w, dw, &*after[0].delta)?);
    }

    // First layer: its weight gradient on the sparse kernel; its input
    // gradient is never needed.
    let da1: &PaddedMatrix<T> = &*hidden[0].delta;
    dw1.reshape(first.w.nrows(), width);
    sparse_transpose_product(rows, da1, dw1);
    grads.push((dw1.to_f64().into_dyn(), column_sums(da1, width).into_dyn()));
    grads.extend(middle_grads.into_iter().rev());
    grads.push(last_grads);
    Ok((loss, named(affines, grads)))
}

/// A hidden layer's buffers: its activations (after the ReLU) and the
/// gradient at its pre-activations, both `n × outputs`, padded.
struct Hidden<'w, T> {
    /// The activations.
    h: &'w mut PaddedMatrix<T>,
    /// The gradient at the pre-activations.
    delta: &'w mut PaddedMatrix<T>,
}

/// `out = relu(input · W + b)` for a middle layer, `W` rounded to `T` into
/// `w` (padded: one row per column of `input`, the rows beyond the layer's
/// inputs and the padding columns zero).
fn dense_forward<T: Real>(
    layer: &AffineLayer<'_>,
    input: &PaddedMatrix<T>,
    w: &mut PaddedMatrix<T>,
    out: &mut PaddedMatrix<T>,
) -> Result<()> {
    let (n, in_stride) = (input.rows(), input.stride());
    let outputs = layer.w.ncols();
    w.reshape(in_stride, outputs);
    let stride = w.stride();
    // Every element, each step: a buffer of this shape may hold another
    // network's weights in its padding rows.
    for (r, row) in w.as_mut_slice().chunks_exact_mut(stride).enumerate() {
        row.fill(T::zero());
        if r < layer.w.nrows() {
            row.iter_mut()
                .zip(layer.w.row(r))
                .for_each(|(d, &s)| *d = T::from_f64(s));
        }
    }
    let bias = padded_bias(&layer.b, stride);
    out.reshape(n, outputs);
    for row in out.as_mut_slice().chunks_exact_mut(stride) {
        row.copy_from_slice(&bias);
    }
    let input_view = ArrayView2::from_shape((n, in_stride), input.as_slice()).map_err(shape_bug)?;
    let w_view = ArrayView2::from_shape((in_stride, stride), w.as_slice()).map_err(shape_bug)?;
    let mut out_view =
        ArrayViewMut2::from_shape((n, stride), out.as_mut_slice()).map_err(shape_bug)?;
    general_mat_mul(T::one(), &input_view, &w_view, T::one(), &mut out_view);
    activate(Activation::Relu, out.as_mut_slice(), stride, outputs);
    Ok(())
}

/// A middle layer's backward pass, given `delta_out`, the gradient at its
/// pre-activations: its weight and bias gradients (`f64`), and the gradient
/// at the previous layer's pre-activations into `delta_in` (through that
/// layer's ReLU, whose output is `input`).
fn dense_backward<T: Real>(
    layer: &AffineLayer<'_>,
    input: &PaddedMatrix<T>,
    delta_in: &mut PaddedMatrix<T>,
    w: &PaddedMatrix<T>,
    dw: &mut PaddedMatrix<T>,
    delta_out: &PaddedMatrix<T>,
) -> Result<(ArrayD<f64>, ArrayD<f64>)> {
    let (n, in_stride) = (input.rows(), input.stride());
    let (inputs, outputs) = layer.w.dim();
    let stride = w.stride();
    let input_view = ArrayView2::from_shape((n, in_stride), input.as_slice()).map_err(shape_bug)?;
    let w_view = ArrayView2::from_shape((in_stride, stride), w.as_slice()).map_err(shape_bug)?;
    let delta_view =
        ArrayView2::from_shape((n, stride), delta_out.as_slice()).map_err(shape_bug)?;
    // dW = inputᵀ · δ.
    dw.reshape(in_stride, outputs);
    {
        let mut dw_view =
            ArrayViewMut2::from_shape((in_stride, stride), dw.as_mut_slice()).map_err(shape_bug)?;
        general_mat_mul(
            T::one(),
            &input_view.t(),
            &delta_view,
            T::zero(),
            &mut dw_view,
        );
    }
    let dw_f64 = Array2::from_shape_fn((inputs, outputs), |(r, c)| {
        dw.as_slice()[r * stride + c].to_f64()
    });
    // δ_in = relu'(input) ⊙ (δ · Wᵀ).
    delta_in.reshape(n, inputs);
    {
        let mut delta_in_view = ArrayViewMut2::from_shape((n, in_stride), delta_in.as_mut_slice())
            .map_err(shape_bug)?;
        general_mat_mul(
            T::one(),
            &delta_view,
            &w_view.t(),
            T::zero(),
            &mut delta_in_view,
        );
    }
    activation_backward(Activation::Relu, delta_in.as_mut_slice(), input.as_slice());
    Ok((
        dw_f64.into_dyn(),
        column_sums(delta_out, outputs).into_dyn(),
    ))
}

/// The loss of a network that is one Affine layer, whose outputs (the
/// scores) are in `out`; its gradient at the scores into `delta`.
fn single_affine_backward<T: Real>(
    classes: usize,
    labels: &[usize],
    out: &PaddedMatrix<T>,
    delta: &mut PaddedMatrix<T>,
) -> Result<f64> {
    let (n, stride) = (labels.len(), out.stride());
    let mut scores = Array2::from_shape_fn((n, classes), |(r, c)| out.as_slice()[r * stride + c]);
    check_scores(&scores)?;
    let loss = softmax_loss_backward(&mut scores, labels);
    delta.reshape(n, classes);
    for (row, ds) in delta
        .as_mut_slice()
        .chunks_exact_mut(stride)
        .zip(scores.rows())
    {
        let (used, padding) = row.split_at_mut(classes);
        used.iter_mut().zip(ds).for_each(|(d, &v)| *d = v);
        padding.fill(T::zero());
    }
    Ok(loss)
}

/// `b` rounded to `T`, zero-padded to `stride` elements.
fn padded_bias<T: Real>(b: &ArrayView1<'_, f64>, stride: usize) -> Vec<T> {
    let mut bias = vec![T::zero(); stride];
    bias.iter_mut()
        .zip(b)
        .for_each(|(d, &s)| *d = T::from_f64(s));
    bias
}

/// The sums of the first `cols` columns of `m` over its rows, row after row
/// in order (as `fast_backprop.rs` sums `db1`), as `f64`.
fn column_sums<T: Real>(m: &PaddedMatrix<T>, cols: usize) -> Array1<f64> {
    let mut sums = vec![T::zero(); m.stride()];
    for row in m.as_slice().chunks_exact(m.stride()) {
        sums.iter_mut().zip(row).for_each(|(d, &v)| *d = *d + v);
    }
    sums[..cols].iter().map(|v| v.to_f64()).collect()
}

/// The softmax's error for scores that are not all finite (the layers check
/// them there; an overflow or NaN weights).
fn check_scores<T: Real>(scores: &Array2<T>) -> Result<()> {
    if scores.iter().all(|v| v.to_f64().is_finite()) {
        return Ok(());
    }
    check::finite("softmax input", &scores.mapv(|v| v.to_f64()))
}

/// The gradients, one `(dW, db)` per Affine layer in order, under the
/// network's names (`affine1.W`, `affine1.b`, …).
fn named(affines: &[AffineLayer<'_>], grads: Vec<(ArrayD<f64>, ArrayD<f64>)>) -> Grads {
    let mut named = Grads::default();
    for (layer, (dw, db)) in affines.iter().zip(grads) {
        named.push(format!("{}.W", layer.name), dw);
        named.push(format!("{}.b", layer.name), db);
    }
    named
}
