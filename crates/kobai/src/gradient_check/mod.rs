//! The book's `gradient_check.py`, done properly: backprop against the
//! numerical gradient, per parameter tensor, each element judged against the
//! numerical derivative's own error estimate, the worst element located.
//!
//! ## What is compared
//!
//! The book's loss has `1e-7` inside the log; backprop
//! ([`SoftmaxWithLoss::backward`](crate::layers::SoftmaxWithLoss::backward))
//! differentiates the loss *without* it. The two gradients differ by a relative
//! `1e-7 / y_t` per sample — about 1e-6 at initialisation, far more for a
//! confidently wrong sample. So the check differentiates the loss with
//! `delta = 0` numerically: the very function backprop differentiates.
//!
//! ## How each element is judged: [`gradient_check`]
//!
//! Every element's partial derivative comes from
//! [`FiniteDiff::accurate`](crate::numerical_gradient::FiniteDiff::accurate)
//! started at the book's step [`CHECK_STEP`] = 1e-4 (central differences at
//! 1e-4, 5e-5, 2.5e-5, 1.25e-5, Richardson-extrapolated: 8 loss evaluations),
//! which comes with an error estimate. An element passes when
//!
//! ```text
//! |backprop − numerical| ≤ error estimate + 1000 ε · (|backprop| + max |backprop| in the tensor)
//! ```
//!
//! — the second term is backprop's own rounding. There is no fixed tolerance
//! to tune: on the book's 784-50-10 network the allowed difference is around
//! 1e-11, so an error of one part in a million in one element fails.
//!
//! ## Kinks
//!
//! ReLU's derivative jumps at 0. When a hidden pre-activation lies within the
//! step of 0, the differences straddle the kink and the extrapolation does not
//! settle ([`Status::Unreliable`](crate::numerical_gradient::Status)). Such
//! elements are differentiated again starting at [`RECHECK_STEP`] = 1e-6 and
//! counted in [`TensorCheck::rechecked`]; the few that still do not settle are
//! counted in [`TensorCheck::unreliable`] and judged with their rough estimate.
//!
//! ## A fast check: [`gradient_check_fast`]
//!
//! Instead of every element, compare directional derivatives along random ±1
//! directions: one numerical derivative per direction, whatever the number of
//! parameters, and bisection to find a bad element. See [`ProjectionCheck`].

mod compare;
mod projection;
mod report;

pub use compare::{Tolerance, compare_gradients};
pub use projection::{Located, Projection, ProjectionCheck, gradient_check_fast, projection_check};
pub use report::{Criterion, GradientCheck, TensorCheck};

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::{ArrayD, ArrayRef2};

use crate::error::{KobaiError, Result};
use crate::functions::Targets;
use crate::model::{Backprop, Grads};
use crate::numerical_gradient::{Derivative, FiniteDiff, Step, model_partial_estimate, unravel};
use report::tensor_check;

/// The largest of the four steps of each element's numerical derivative: the book's.
pub const CHECK_STEP: f64 = 1e-4;

/// The largest step for elements whose derivative at [`CHECK_STEP`] did not settle.
pub const RECHECK_STEP: f64 = 1e-6;

/// Backprop's rounding allowance, in units of ε times the magnitudes involved.
const BACKPROP_ULPS: f64 = 1000.0;

/// Checks a model's backprop gradient against the numerical gradient of the
/// same (delta-free) loss, element by element, each within its numerical
/// error estimate (see the module docs). Costs 8 loss evaluations per
/// parameter (16 for a rechecked one): use a small batch.
///
/// # Errors
/// The errors of the model's loss and backprop (shapes, labels, non-finite values).
///
/// ```
/// use kobai::{gradient_check, TwoLayerNet};
/// use ndarray::array;
/// let net = TwoLayerNet::new(3, 5, 2, 0.5, 3)?;
/// let x = array![[0.1, 0.9, 0.4], [0.7, 0.2, 0.5]];
/// let report = gradient_check(&net, &x, &(&[1usize, 0]).into())?;
/// assert!(report.passed(), "{report}");
/// assert!(report.tensors[0].allowed_at_worst < 1e-9);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn gradient_check<M: Backprop + Send + Sync>(
    model: &M,
    x: &ArrayRef2<f64>,
    t: &Targets<'_>,
) -> Result<GradientCheck> {
    gradient_check_sampled(model, x, t, usize::MAX, 0)
}

/// [`gradient_check`] on at most `per_tensor` elements of each parameter
/// tensor: all of a smaller tensor, a sample of a larger one — distinct
/// elements drawn by ChaCha8 seeded with `seed` and the tensor's position,
/// compared in row-major order. For networks too large to check every
/// element (the book's SimpleConvNet on 28×28 images has 432 000 weights in
/// its first Affine layer, 8 loss evaluations each). Each
/// [`TensorCheck::checked`] says how many elements were compared, and
/// `worst_index` is the worst of them, in the tensor's own indices.
///
/// # Errors
/// As [`gradient_check`]; [`KobaiError::Hyperparameter`] for `per_tensor` = 0.
///
/// ```
/// use kobai::gradient_check::gradient_check_sampled;
/// use kobai::TwoLayerNet;
/// use ndarray::array;
/// let net = TwoLayerNet::new(3, 50, 2, 0.5, 3)?;
/// let x = array![[0.1, 0.9, 0.4], [0.7, 0.2, 0.5]];
/// let report = gradient_check_sampled(&net, &x, &(&[1usize, 0]).into(), 40, 7)?;
/// assert!(report.passed(), "{report}");
/// assert_eq!(report.tensors[0].checked, 40, "40 of W1's 150 elements");
/// assert_eq!(report.tensors[3].checked, 2, "all of b2");
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn gradient_check_sampled<M: Backprop + Send + Sync>(
    model: &M,
    x: &ArrayRef2<f64>,
    t: &Targets<'_>,
    per_tensor: usize,
    seed: u64,
) -> Result<GradientCheck> {
    gradient_check_watched(model, x, t, per_tensor, seed, &())
}

/// Watches a long [`gradient_check_watched`]: told how many elements there
/// are, then of each element compared (from whichever thread compared it),
/// and can stop the check. Every method has a default that does nothing.
pub trait CheckWatch: Sync {
    /// Once, before the first element: the number of elements to compare.
    fn on_start(&self, elements: usize) {
        let _ = elements;
    }

    /// After each element; `ControlFlow::Break(())` stops the check.
    fn on_element(&self) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

/// A watch that does nothing.
impl CheckWatch for () {}

/// [`gradient_check_sampled`], telling `watch` of its progress; `watch` can
/// stop it (Ctrl-C on a check of a large network).
///
/// # Errors
/// As [`gradient_check_sampled`]; [`KobaiError::Stopped`] if `watch` stopped it.
///
/// ```
/// use std::ops::ControlFlow;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use kobai::gradient_check::{CheckWatch, gradient_check_watched};
/// use kobai::{KobaiError, TwoLayerNet};
/// use ndarray::array;
///
/// /// Counts the elements, and stops after `.1`.
/// struct StopAfter(AtomicUsize, usize);
/// impl CheckWatch for StopAfter {
///     fn on_element(&self) -> ControlFlow<()> {
///         let done = self.0.fetch_add(1, Ordering::SeqCst) + 1;
///         if done >= self.1 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
///     }
/// }
///
/// let net = TwoLayerNet::new(3, 5, 2, 0.5, 3)?;
/// let x = array![[0.1, 0.9, 0.4]];
/// let all = StopAfter(AtomicUsize::new(0), usize::MAX);
/// assert!(gradient_check_watched(&net, &x, &(&[1usize]).into(), usize::MAX, 0, &all)?.passed());
/// assert_eq!(all.0.into_inner(), 3 * 5 + 5 + 5 * 2 + 2);
/// let err = gradient_check_watched(&net, &x, &(&[1usize]).into(), usize::MAX, 0, &StopAfter(AtomicUsize::new(0), 4));
/// assert!(matches!(err, Err(KobaiError::Stopped { total: 32, .. })));
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn gradient_check_watched<M: Backprop + Send + Sync>(
    model: &M,
    x: &ArrayRef2<f64>,
    t: &Targets<'_>,
    per_tensor: usize,
    seed: u64,
    watch: &dyn CheckWatch,
) -> Result<GradientCheck> {
    if per_tensor == 0 {
        return Err(crate::KobaiError::Hyperparameter {
            name: "elements per tensor",
            value: "0".into(),
            expected: "at least 1",
        });
    }
    let (_, analytic) = model.gradient(x, t)?;
    let first = FiniteDiff::accurate().step(Step::Fixed(CHECK_STEP));
    let again = FiniteDiff::accurate().step(Step::Fixed(RECHECK_STEP));
    let names: Vec<String> = model.params().into_iter().map(|(name, _)| name).collect();
    let total = names
        .iter()
        .filter_map(|name| analytic.get(name))
        .map(|a| a.len().min(per_tensor))
        .sum();
    watch.on_start(total);
    let progress = Progress {
        watch,
        done: AtomicUsize::new(0),
        total,
    };
    let mut tensors = Vec::with_capacity(names.len());
    for (k, name) in names.into_iter().enumerate() {
        let Some(a) = analytic.get(&name) else {
            continue;
        };
        let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let elements = sample(a.len(), per_tensor, seed, k);
        let (numerical, error, rechecked, unreliable) = element_derivatives(
            model,
            (k, &name),
            (a, elements.as_deref()),
            (x, t),
            (&first, &again),
            &progress,
        )?;
        let allowed = |i: usize, av: f64, _: f64| {
            error.as_slice().map_or(f64::NAN, |e| e[i])
                + BACKPROP_ULPS * f64::EPSILON * (av.abs() + scale)
        };
        let mut check = match &elements {
            None => tensor_check(&name, a, &numerical, allowed),
            Some(elements) => {
                let flat: Vec<f64> = a.iter().copied().collect();
                let picked = ArrayD::from_shape_vec(
                    ndarray::IxDyn(&[elements.len()]),
                    elements.iter().map(|&i| flat[i]).collect(),
                )
                .map_err(|e| crate::KobaiError::Layer {
                    layer: name.clone(),
                    detail: format!("cannot gather its sampled elements ({e})"),
                })?;
                let mut check = tensor_check(&name, &picked, &numerical, allowed);
                let worst = check.worst_index.first().copied().unwrap_or(0);
                check.worst_index = unravel(elements.get(worst).copied().unwrap_or(0), a.shape());
                check
            }
        };
        check.rechecked = rechecked;
        check.unreliable = unreliable;
        tensors.push(check);
    }
    Ok(GradientCheck {
        tensors,
        criterion: Criterion::Estimated,
    })
}

/// A check's [`CheckWatch`] and its count of elements compared.
struct Progress<'a> {
    watch: &'a dyn CheckWatch,
    done: AtomicUsize,
    total: usize,
}

impl Progress<'_> {
    /// Counts one element compared; an error if the watch says stop.
    fn element_done(&self) -> Result<()> {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        match self.watch.on_element() {
            ControlFlow::Continue(()) => Ok(()),
            ControlFlow::Break(()) => Err(self.stopped(done)),
        }
    }

    fn stopped(&self, done: usize) -> KobaiError {
        KobaiError::Stopped {
            what: "gradient check".into(),
            done,
            total: self.total,
        }
    }
}

/// The flat indices of the elements to check of a tensor of `len`
/// elements: `None` for all of them, else `per_tensor` distinct ones drawn
/// from a generator seeded by `seed` and the tensor's position `k`, sorted.
fn sample(len: usize, per_tensor: usize, seed: u64, k: usize) -> Option<Vec<usize>> {
    use rand::SeedableRng;
    if len <= per_tensor {
        return None;
    }
    let stream = seed ^ (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(stream);
    let mut picked = rand::seq::index::sample(&mut rng, len, per_tensor).into_vec();
    picked.sort_unstable();
    Some(picked)
}

/// Numerical derivatives and error estimates of the `elements` (all if
/// `None`) of parameter `k`, with the recheck at the smaller step; also the recheck and unreliable
/// counts. Elements are spread over rayon's threads (feature `parallel`), each
/// thread with its own copy of the model: the numbers do not depend on it.
fn element_derivatives<M: Backprop + Send + Sync>(
    model: &M,
    (k, name): (usize, &str),
    (a, elements): (&ArrayD<f64>, Option<&[usize]>),
    (x, t): (&ArrayRef2<f64>, &Targets<'_>),
    (first, again): (&FiniteDiff, &FiniteDiff),
    progress: &Progress<'_>,
) -> Result<(ArrayD<f64>, ArrayD<f64>, usize, usize)> {
    let all: Vec<usize>;
    let elements = match elements {
        Some(e) => e,
        None => {
            all = (0..a.len()).collect();
            &all
        }
    };
    let shape: Vec<usize> = if elements.len() == a.len() {
        a.shape().to_vec()
    } else {
        vec![elements.len()]
    };
    let compare = |probe: &mut M, i: usize| -> Result<(Derivative, bool)> {
        let index = unravel(i, a.shape());
        let d = model_partial_estimate(probe, (k, name), &index, (x, t, 0.0), first)?;
        if d.status.is_trusted() {
            return Ok((d, false));
        }
        let small = model_partial_estimate(probe, (k, name), &index, (x, t, 0.0), again)?;
        let better = small.status.is_trusted() || small.error < d.error;
        Ok((if better { small } else { d }, true))
    };
    // Once one element is told to stop, the others return at once.
    let stopping = std::sync::atomic::AtomicBool::new(false);
    let one = |probe: &mut M, i: usize| -> Result<(Derivative, bool)> {
        if stopping.load(Ordering::Relaxed) {
            return Err(progress.stopped(progress.done.load(Ordering::Relaxed)));
        }
        let result = compare(probe, i)?;
        progress
            .element_done()
            .inspect_err(|_| stopping.store(true, Ordering::Relaxed))?;
        Ok(result)
    };
    #[cfg(feature = "parallel")]
    let results: Vec<Result<(Derivative, bool)>> = {
        use rayon::prelude::*;
        elements
            .par_iter()
            .map_init(|| model.clone(), |probe, &i| one(probe, i))
            .collect()
    };
    #[cfg(not(feature = "parallel"))]
    let results: Vec<Result<(Derivative, bool)>> = {
        let mut probe = model.clone();
        elements.iter().map(|&i| one(&mut probe, i)).collect()
    };
    let mut numerical = ArrayD::zeros(ndarray::IxDyn(&shape));
    let mut error = ArrayD::zeros(ndarray::IxDyn(&shape));
    let (mut rechecked, mut unreliable) = (0, 0);
    for ((n, e), result) in numerical.iter_mut().zip(error.iter_mut()).zip(results) {
        let (d, redone) = result?;
        *n = d.value;
        *e = d.error.unwrap_or(f64::INFINITY);
        rechecked += usize::from(redone);
        unreliable += usize::from(!d.status.is_trusted());
    }
    Ok((numerical, error, rechecked, unreliable))
}

/// The numerical gradient that [`gradient_check`] compares with, as [`Grads`]
/// (useful for plotting or for [`compare_gradients`]).
///
/// # Errors
/// As [`gradient_check`].
///
/// ```
/// use kobai::{Backprop, TwoLayerNet};
/// use kobai::gradient_check::estimated_gradient;
/// use ndarray::array;
/// let net = TwoLayerNet::new(2, 3, 2, 0.5, 1)?;
/// let (x, t) = (array![[0.6, 0.9]], (&[1usize]).into());
/// let (numerical, errors) = estimated_gradient(&net, &x, &t)?;
/// let (_, exact) = net.gradient(&x, &t)?;
/// let diff = (&numerical["W2"] - &exact["W2"]).mapv(f64::abs);
/// assert!(diff.iter().zip(errors["W2"].iter()).all(|(d, e)| d <= e));
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn estimated_gradient<M: Backprop + Send + Sync>(
    model: &M,
    x: &ArrayRef2<f64>,
    t: &Targets<'_>,
) -> Result<(Grads, Grads)> {
    let first = FiniteDiff::accurate().step(Step::Fixed(CHECK_STEP));
    let again = FiniteDiff::accurate().step(Step::Fixed(RECHECK_STEP));
    let (mut values, mut errors) = (Grads::default(), Grads::default());
    let params: Vec<(String, ArrayD<f64>)> = model
        .params()
        .into_iter()
        .map(|(name, p)| (name, ArrayD::zeros(p.raw_dim())))
        .collect();
    for (k, (name, shape_of)) in params.iter().enumerate() {
        let progress = Progress {
            watch: &(),
            done: AtomicUsize::new(0),
            total: shape_of.len(),
        };
        let (n, e, _, _) = element_derivatives(
            model,
            (k, name),
            (shape_of, None),
            (x, t),
            (&first, &again),
            &progress,
        )?;
        values.push(name.as_str(), n);
        errors.push(name.as_str(), e);
    }
    Ok((values, errors))
}
