//! The numerical gradient of a model's loss with respect to all its parameters.

use ndarray::{ArrayD, ArrayRef2, IxDyn};

use super::central::{BOOK_STEP, unravel};
use super::estimate::Derivative;
use super::finite_diff::FiniteDiff;
use crate::check;
use crate::error::{KobaiError, Result};
use crate::functions::Targets;
use crate::model::{Grads, Model, Params};

/// The book's `TwoLayerNet.numerical_gradient`: the central difference
/// (h = 1e-4) of the model's loss with `delta` inside the log, with respect to
/// every parameter, in parameter order.
///
/// The model is cloned once and the clone perturbed one element at a time (save
/// the value, set `v + h`, evaluate, set `v − h`, evaluate, restore the saved
/// value); `model` itself is only read. It costs two loss evaluations per
/// parameter — use it to check backprop on small batches, not to train.
///
/// # Errors
/// The errors of the model's loss; [`KobaiError::NonFinite`](crate::KobaiError::NonFinite)
/// if the loss is NaN or infinite at a probe point (naming the parameter and index).
///
/// ```
/// use kobai::{Backprop, TwoLayerNet};
/// use kobai::numerical_gradient::model_numerical_gradient;
/// use ndarray::array;
///
/// let net = TwoLayerNet::new(2, 3, 2, 0.5, 1)?;
/// let (x, t) = (array![[0.6, 0.9]], (&[1usize]).into());
/// let numeric = model_numerical_gradient(&net, &x, &t, 0.0)?;
/// let (_, exact) = net.gradient(&x, &t)?;
/// let diff = (&numeric["W2"] - &exact["W2"]).mapv(f64::abs);
/// assert!(diff.iter().all(|d| *d < 1e-8));
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn model_numerical_gradient<M: Model>(
    model: &M,
    x: &ArrayRef2<f64>,
    t: &Targets<'_>,
    delta: f64,
) -> Result<Grads> {
    let h = BOOK_STEP;
    let mut probe = model.clone();
    let shapes: Vec<(String, Vec<usize>)> = model
        .params()
        .into_iter()
        .map(|(name, p)| (name, p.shape().to_vec()))
        .collect();
    let mut grads = Grads::default();
    for (k, (name, shape)) in shapes.iter().enumerate() {
        let mut grad = ArrayD::zeros(IxDyn(shape));
        for (i, g) in grad.iter_mut().enumerate() {
            *g = model_partial(&mut probe, (k, name), &unravel(i, shape), (x, t, delta), h)?;
        }
        grads.push(name.as_str(), grad);
    }
    Ok(grads)
}

/// The central difference of the loss with respect to one element (parameter
/// `k`, at `index`) with step `h`, perturbing `probe` and restoring it.
pub(crate) fn model_partial<M: Model>(
    probe: &mut M,
    (k, name): (usize, &str),
    index: &[usize],
    (x, t, delta): (&ArrayRef2<f64>, &Targets<'_>, f64),
    h: f64,
) -> Result<f64> {
    let tmp_val = get(probe, k, index);
    set(probe, k, index, tmp_val + h);
    let fxh1 = probe.loss_with_delta(x, t, delta);
    set(probe, k, index, tmp_val - h);
    let fxh2 = probe.loss_with_delta(x, t, delta);
    set(probe, k, index, tmp_val);
    let at = || format!("{name} index {}", check::index_text(index));
    let fxh1 = check::finite_scalar("the loss at +h", at, fxh1?)?;
    let fxh2 = check::finite_scalar("the loss at -h", at, fxh2?)?;
    Ok((fxh1 - fxh2) / (2.0 * h))
}

/// Element `index` of parameter `k`.
fn get<M: Params>(model: &M, k: usize, index: &[usize]) -> f64 {
    model.params()[k].1[IxDyn(index)]
}

/// Sets element `index` of parameter `k`.
fn set<M: Params>(model: &mut M, k: usize, index: &[usize], value: f64) {
    model.params_mut()[k].1[IxDyn(index)] = value;
}

/// The derivative of the loss with respect to one element (parameter `k`, at
/// `index`) by `fd`, perturbing `probe` and restoring the element afterwards.
pub(crate) fn model_partial_estimate<M: Model>(
    probe: &mut M,
    (k, name): (usize, &str),
    index: &[usize],
    (x, t, delta): (&ArrayRef2<f64>, &Targets<'_>, f64),
    fd: &FiniteDiff,
) -> Result<Derivative> {
    let saved = get(probe, k, index);
    let result = fd.derivative(
        |v| {
            set(probe, k, index, v);
            probe.loss_with_delta(x, t, delta)
        },
        saved,
    );
    set(probe, k, index, saved);
    result.map_err(|e| match e {
        KobaiError::NonFinite { what, value, .. } => KobaiError::NonFinite {
            what: format!("the loss at {what}"),
            at: format!("{name} index {}", check::index_text(index)),
            value,
        },
        other => other,
    })
}
