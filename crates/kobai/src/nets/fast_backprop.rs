//! `TwoLayerNet`'s backprop on the sparse kernels, in `f32` or `f64`.
//!
//! The same algebra as the layer-by-layer path in `two_layer_net.rs`, fused
//! into one pass over padded buffers: the first layer's products skip the
//! input's zeros, the first layer's input gradient is never formed (nothing
//! needs it), and bias + activation are applied in place.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayRef2, ArrayView1, ArrayView2, ArrayViewMut2, Axis, Slice};

use crate::CROSS_ENTROPY_DELTA;
use crate::data::Dataset;
use crate::error::{KobaiError, Result};
use crate::functions::activations::{
    relu_backward_of, relu_of, sigmoid_backward_of, sigmoid_of, tanh_backward_of,
};
use crate::functions::{Targets, class_labels, softmax_row};
use crate::kernels::{
    PaddedMatrix, Real, SparseRows, Workspace, sparse_affine_forward, sparse_transpose_product,
    with_workspace,
};
use crate::layers::AffineView;
use crate::model::Grads;
use crate::nets::{Activation, TwoLayerNet};

/// The loss and the gradients of `net` on `(x, t)`, computed in `T`.
pub(crate) fn gradient<T: Real>(
    net: &TwoLayerNet,
    x: &ArrayRef2<f64>,
    t: &Targets<'_>,
) -> Result<(f64, Grads)> {
    let labels = check_batch(net, x.shape(), t)?;
    with_workspace(|workspace: &mut Workspace<T>| {
        workspace.x.fill_from_dense("x", x)?;
        backprop(net, &labels, workspace)
    })
}

/// [`gradient`] on the samples `indices` of a dataset held as bytes, read
/// straight from them (no `f64` batch): the same bits.
pub(crate) fn batch_gradient<T: Real>(
    net: &TwoLayerNet,
    data: &Dataset,
    (pixels, divisor): (ArrayView2<'_, u8>, f64),
    indices: &[usize],
) -> Result<(f64, Grads)> {
    data.check_indices(indices)?;
    let labels = data.labels().select(Axis(0), indices);
    let labels = check_batch(
        net,
        &[indices.len(), pixels.ncols()],
        &Targets::from(&labels),
    )?;
    with_workspace(|workspace: &mut Workspace<T>| {
        workspace.x.fill_from_bytes(pixels, divisor, indices);
        backprop(net, &labels, workspace)
    })
}

/// The class labels of a batch of `shape` for `net`, after the checks the
/// layers make (the input width, at least one row, the targets).
fn check_batch(net: &TwoLayerNet, shape: &[usize], t: &Targets<'_>) -> Result<Vec<usize>> {
    AffineView {
        w: net.w1.view(),
        b: net.b1.view(),
    }
    .check_input(shape)?;
    if shape[0] == 0 {
        return Err(KobaiError::Empty { what: "x".into() });
    }
    class_labels((shape[0], net.w2.ncols()), t)
}

/// Backprop through `net` for the batch in `workspace.x` with `labels`.
fn backprop<T: Real>(
    net: &TwoLayerNet,
    labels: &[usize],
    Workspace {
        x: rows,
        w1,
        h,
        da1,
        dw1,
        ..
    }: &mut Workspace<T>,
) -> Result<(f64, Grads)> {
    let n = labels.len();
    hidden_layer(net, rows, w1, h);
    let stride = w1.stride();
    let hidden = net.w1.ncols();
    let (w2, mut scores) = output_layer(net.w2.view(), net.b2.view(), h, n)?;
    let h_view = ArrayView2::from_shape((n, stride), h.as_slice()).map_err(shape_bug)?;
    let classes = net.w2.ncols();

    // Softmax with cross-entropy; scores become dL/dscores.
    let loss = softmax_loss_backward(&mut scores, labels);

    // Second layer's gradients and dL/dh, then dL/da1 in place.
    let ds = scores;
    let mut dw2 = Array2::<T>::zeros((stride, classes));
    general_mat_mul(T::one(), &h_view.t(), &ds, T::zero(), &mut dw2);
    let db2 = ds.sum_axis(Axis(0));
    da1.reshape(n, hidden);
    {
        let mut da1_view =
            ArrayViewMut2::from_shape((n, stride), da1.as_mut_slice()).map_err(shape_bug)?;
        general_mat_mul(T::one(), &ds, &w2.t(), T::zero(), &mut da1_view);
    }
    activation_backward(net.activation, da1.as_mut_slice(), h.as_slice());

    // First layer's gradients; its input gradient is never needed.
    dw1.reshape(net.w1.nrows(), hidden);
    sparse_transpose_product(rows, da1, dw1);
    let mut db1 = vec![T::zero(); stride];
    for row in da1.as_slice().chunks_exact(stride) {
        db1.iter_mut().zip(row).for_each(|(d, &v)| *d = *d + v);
    }

    let mut grads = Grads::default();
    grads.push("W1", dw1.to_f64().into_dyn());
    grads.push(
        "b1",
        Array1::from_iter(db1[..hidden].iter().map(|v| v.to_f64())).into_dyn(),
    );
    grads.push(
        "W2",
        dw2.slice_axis(Axis(0), Slice::from(..hidden))
            .mapv(|v| v.to_f64())
            .into_dyn(),
    );
    grads.push("b2", db2.mapv(|v| v.to_f64()).into_dyn());
    Ok((loss, grads))
}

/// `h = activation(x · W1 + b1)` for the rows in `rows`, with `W1` rounded
/// to `T` into `w1`.
fn hidden_layer<T: Real>(
    net: &TwoLayerNet,
    rows: &SparseRows<T>,
    w1: &mut PaddedMatrix<T>,
    h: &mut PaddedMatrix<T>,
) {
    w1.assign_f64(&net.w1);
    let stride = w1.stride();
    let hidden = net.w1.ncols();
    let mut b1 = vec![T::zero(); stride];
    b1.iter_mut()
        .zip(&net.b1)
        .for_each(|(d, &s)| *d = T::from_f64(s));
    h.reshape(rows.rows(), hidden);
    sparse_affine_forward(rows, w1, &b1, h);
    activate(net.activation, h.as_mut_slice(), stride, hidden);
}

/// The last Affine layer in `T`: its weights `w` rounded to `T` with one
/// zero row for each padding column of `h`, and the scores `h · w + b` of the
/// first `n` rows of `h`.
pub(super) fn output_layer<T: Real>(
    w: ArrayView2<'_, f64>,
    b: ArrayView1<'_, f64>,
    h: &PaddedMatrix<T>,
    n: usize,
) -> Result<(Array2<T>, Array2<T>)> {
    let stride = h.stride();
    let (inputs, classes) = w.dim();
    let mut padded = Array2::<T>::zeros((stride, classes));
    padded
        .slice_axis_mut(Axis(0), Slice::from(..inputs))
        .zip_mut_with(&w, |d, &s| *d = T::from_f64(s));
    let h_view = ArrayView2::from_shape((n, stride), h.as_slice()).map_err(shape_bug)?;
    let mut scores = Array2::<T>::zeros((n, classes));
    for mut row in scores.rows_mut() {
        row.iter_mut()
            .zip(&b)
            .for_each(|(d, &s)| *d = T::from_f64(s));
    }
    general_mat_mul(T::one(), &h_view, &padded, T::one(), &mut scores);
    Ok((padded, scores))
}

/// How many of the samples `indices` of a dataset held as bytes `net`
/// classifies correctly, as the `f64` layers count them.
///
/// The scores are computed in `T` on the sparse kernels. A row whose two
/// highest scores are further apart than `T`'s rounding could move them
/// (`10⁴ ε (1 + |top score|)`: over 100 times the error bound of these
/// products for the book's sizes) is decided by them; the rest — near-ties,
/// non-finite scores — are recomputed by the `f64` layers, so the count is
/// the `f64` one, sample for sample.
pub(crate) fn correct_count<T: Real>(
    net: &TwoLayerNet,
    data: &Dataset,
    (pixels, divisor): (ArrayView2<'_, u8>, f64),
    indices: &[usize],
) -> Result<usize> {
    data.check_indices(indices)?;
    AffineView {
        w: net.w1.view(),
        b: net.b1.view(),
    }
    .check_input(&[indices.len(), pixels.ncols()])?;
    if indices.is_empty() {
        return Ok(0);
    }
    let scores = with_workspace(|workspace: &mut Workspace<T>| {
        workspace.x.fill_from_bytes(pixels, divisor, indices);
        hidden_layer(net, &workspace.x, &mut workspace.w1, &mut workspace.h);
        output_layer(net.w2.view(), net.b2.view(), &workspace.h, indices.len())
            .map(|(_, scores)| scores)
    })?;
    let mut unsure = Vec::new();
    let mut correct = count_decided(&scores, indices, data, &mut unsure);
    // `predict`, hence this count, runs the f64 layers whatever the engine.
    correct += crate::model::count_on_f64_batch(net, data, &unsure)?;
    Ok(correct)
}

/// How many rows of `scores` (the samples `indices` of `data`) are decided
/// in `T` ([`decided`]) and right; the indices of the rows left undecided
/// are pushed to `unsure`, for the `f64` layers.
pub(super) fn count_decided<T: Real>(
    scores: &Array2<T>,
    indices: &[usize],
    data: &Dataset,
    unsure: &mut Vec<usize>,
) -> usize {
    let mut correct = 0;
    for (row, &i) in scores.rows().into_iter().zip(indices) {
        match decided(row.iter().map(|v| v.to_f64()), T::EPSILON) {
            Some(best) => correct += usize::from(best == data.labels()[i]),
            None => unsure.push(i),
        }
    }
    correct
}

/// The index of the highest of `scores` if it beats every other by more
/// than `10⁴ epsilon (1 + |highest|)`; `None` for a near-tie or a
/// non-finite score.
fn decided(scores: impl Iterator<Item = f64>, epsilon: f64) -> Option<usize> {
    let (mut best, mut top, mut second) = (None, f64::NEG_INFINITY, f64::NEG_INFINITY);
    for (k, v) in scores.enumerate() {
        if !v.is_finite() {
            return None;
        }
        if v > top {
            (second, top, best) = (top, v, Some(k));
        } else if v > second {
            second = v;
        }
    }
    let margin = 1e4 * epsilon * (1.0 + top.abs());
    best.filter(|_| top - second > margin)
}

/// The activation, in place on the first `hidden` columns of each row (the
/// padding stays 0, which W2's zero padding rows ignore anyway).
pub(super) fn activate<T: Real>(activation: Activation, a: &mut [T], stride: usize, hidden: usize) {
    for row in a.chunks_exact_mut(stride) {
        let (used, padding) = row.split_at_mut(hidden);
        match activation {
            Activation::Relu => used.iter_mut().for_each(|v| *v = relu_of(*v)),
            Activation::Sigmoid => used.iter_mut().for_each(|v| *v = sigmoid_of(*v)),
            Activation::Tanh => used.iter_mut().for_each(|v| *v = v.tanh()),
        }
        padding.fill(T::zero());
    }
}

/// `dh` becomes `dL/da1` given the activation's output `h`.
pub(super) fn activation_backward<T: Real>(activation: Activation, dh: &mut [T], h: &[T]) {
    match activation {
        // h > 0 exactly where a1 > 0.
        Activation::Relu => dh
            .iter_mut()
            .zip(h)
            .for_each(|(d, &h)| *d = relu_backward_of(h, *d)),
        Activation::Sigmoid => dh
            .iter_mut()
            .zip(h)
            .for_each(|(d, &h)| *d = sigmoid_backward_of(h, *d)),
        Activation::Tanh => dh
            .iter_mut()
            .zip(h)
            .for_each(|(d, &h)| *d = tanh_backward_of(h, *d)),
    }
}

/// Replaces each row of scores by `(softmax − one-hot) / n` and returns the
/// mean cross-entropy with the book's δ, in `f64`.
pub(super) fn softmax_loss_backward<T: Real>(scores: &mut Array2<T>, labels: &[usize]) -> f64 {
    let n = T::from_f64(labels.len() as f64);
    let mut loss = 0.0;
    for (mut row, &label) in scores.rows_mut().into_iter().zip(labels) {
        match row.as_slice_mut() {
            Some(row) => softmax_row(row),
            None => {
                let mut copy = row.to_vec();
                softmax_row(&mut copy);
                row.iter_mut().zip(copy).for_each(|(v, c)| *v = c);
            }
        }
        loss -= (row[label].to_f64() + CROSS_ENTROPY_DELTA).ln();
        row[label] = row[label] - T::one();
        row.iter_mut().for_each(|v| *v = *v / n);
    }
    loss / labels.len() as f64
}

/// A padded buffer that does not have its declared shape: a bug, reported
/// as an error rather than a panic.
pub(super) fn shape_bug(e: ndarray::ShapeError) -> KobaiError {
    KobaiError::Shape {
        what: "padded buffer".into(),
        expected: format!("a buffer of its declared shape ({e})"),
        found: Vec::new(),
    }
}
