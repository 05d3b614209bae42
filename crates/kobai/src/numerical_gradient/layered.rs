//! A structure-aware numerical gradient of [`TwoLayerNet`]: the book's central
//! difference, with each probe's loss updated from one forward pass instead of
//! recomputed from scratch.

use ndarray::{Array1, Array2, ArrayRef2, ArrayView2};

use super::central::BOOK_STEP;
use super::model::model_numerical_gradient;
use crate::check;
use crate::error::{KobaiError, Result};
use crate::functions::activations::{relu_of, sigmoid_of};
use crate::functions::{Targets, class_labels};
use crate::layers::{AffineView, SoftmaxWithLoss};
use crate::model::Grads;
use crate::nets::{Activation, TwoLayerNet};

/// The book's numerical gradient of a [`TwoLayerNet`]'s loss — the central
/// difference of [`model_numerical_gradient`] — computed layer by layer: one
/// forward pass, then each probe updates only what its parameter changes.
///
/// ```text
/// ∂L/∂θ ≈ (L(θ + h) − L(θ − h)) / (2h),   h = 1e-4
/// L = −(1/N) Σ_n log(softmax(scores)[n, t_n] + delta)
///
/// W1[i, j] ± h:  a1[:, j] += x[:, i]·(±h),   Δz = act(a1[:, j]) − z1[:, j],
///                scores  += Δz ⊗ W2[j, :]                    (a rank-one update)
/// b1[j] ± h:     the same with x[:, i] replaced by 1
/// W2[j, k] ± h:  scores[:, k] += z1[:, j]·(±h)
/// b2[k] ± h:     scores[:, k] += ±h
/// ```
///
/// A probe leaves a row's loss term alone when it leaves the row's scores alone
/// (an inactive ReLU, a zero input). For a changed row the term is evaluated
/// from the unperturbed softmax: for `W1` and `b1`, from series in `Δz` whose
/// coefficients (sums over the classes) are computed once per hidden unit and
/// row, as long as `|Δz·W2[j, c]| ≤ 1e-3` — the usual case, `Δz` being about
/// `h·x` — with truncation errors below 1e-21 relative; otherwise, and for `W2`
/// and `b2`, the row's scores are rebuilt in a scratch row and scored with the
/// book's max-subtracted softmax and `delta` inside the log. No allocation per
/// probe. `±h` is the step the brute force really takes, `(θ ± h) − θ` in
/// floating point, and the quotient is the same `(f(θ + h) − f(θ − h)) / (2h)`:
/// the results agree with [`model_numerical_gradient`] to its own rounding
/// noise (at most 9e-12 in the tests, 4e-12 on the book's network).
///
/// Cost, for batch N, D inputs, H hidden units, C classes and
/// P = D·H + H + H·C + C parameters: one forward pass, O(N·D·H); the series
/// coefficients, O(N·H·C); then per probe O(N) for `W1` and `b1` (a few dozen
/// flops per changed row, no `exp` or `log`) and O(N·C) for `W2` and `b2`. In
/// all O(N·(D·H + H·C²)), against the brute force's whole forward pass per
/// probe, O(N·(D·H + H·C)·P). On the book's 784-50-10 network with batch 100
/// (`benches/numerical_gradient.rs`, release build, one shared core) that
/// measured 0.11–0.22 s against 40–50 s: about 300 times faster.
///
/// Inputs are checked as the brute force checks them, with the same errors in
/// the same order: `x`'s width, an empty batch, the targets, `delta`. Where the
/// unperturbed scores already hold NaN or ±inf (overflowing weights, say)
/// the brute force itself runs, so that the error names the very
/// element it names. Like the network's own forward pass, a NaN or ±inf in
/// `x` is an error.
///
/// # Errors
/// - [`KobaiError::Shape`] if `x` does not have one column per row of `W1`, or
///   the net's own shapes disagree (`b1` must have one entry per column of
///   `W1`, `b2` one per column of `W2` — where the brute force would panic);
/// - the errors of [`SoftmaxWithLoss::forward`] for an empty batch, bad targets
///   or a bad `delta`;
/// - [`KobaiError::NonFinite`] if the scores or the loss are NaN or infinite at
///   a probe point (the first such probe in parameter order, naming the
///   parameter and index, as [`model_numerical_gradient`] reports it).
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
pub fn layered_numerical_gradient(
    net: &TwoLayerNet,
    x: &ArrayRef2<f64>,
    t: &Targets<'_>,
    delta: f64,
) -> Result<Grads> {
    let base = match Base::prepare(net, x, t, delta)? {
        Prepared::Ready(base) => base,
        Prepared::Done(grads) => return Ok(grads),
    };
    let mut scratch = Scratch::new(&base);
    let parts = (0..base.parts())
        .map(|part| base.part(part, &mut scratch))
        .collect();
    base.assemble(parts)
}

/// [`layered_numerical_gradient`] with the hidden units spread over rayon's
/// threads.
///
/// ```text
/// one task per hidden unit j:  W1[:, j], b1[j], W2[j, :];   one more for b2
/// ```
///
/// The result is **bit-identical** to the serial one: every element is computed
/// by the same code, in the same order, from the same forward pass — only the
/// thread differs — and on an error the one reported is the first in parameter
/// order, as in the serial version. Below 100 000 row evaluations (`2P·N`,
/// a millisecond or two) it runs serially. Each thread keeps its own scratch
/// memory, O(C + N).
///
/// # Errors
/// As [`layered_numerical_gradient`].
///
/// ```
/// use kobai::TwoLayerNet;
/// use kobai::numerical_gradient::{layered_numerical_gradient, layered_numerical_gradient_par};
/// use ndarray::Array2;
///
/// let net = TwoLayerNet::new(20, 8, 4, 0.3, 2)?;
/// let x = Array2::from_shape_fn((10, 20), |(r, c)| ((r * 20 + c) as f64).sin());
/// let labels: Vec<usize> = (0..10).map(|r| r % 4).collect();
/// let t = (&labels).into();
/// let parallel = layered_numerical_gradient_par(&net, &x, &t, 1e-7)?;
/// assert_eq!(parallel, layered_numerical_gradient(&net, &x, &t, 1e-7)?);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[cfg(feature = "parallel")]
pub fn layered_numerical_gradient_par(
    net: &TwoLayerNet,
    x: &ArrayRef2<f64>,
    t: &Targets<'_>,
    delta: f64,
) -> Result<Grads> {
    par_with_threshold(net, x, t, delta, MIN_PARALLEL_WORK)
}

/// Below this many row evaluations (each some 10–50 ns), threads cost more
/// than they save.
#[cfg(feature = "parallel")]
const MIN_PARALLEL_WORK: usize = 100_000;

/// [`layered_numerical_gradient_par`] with its threshold as a parameter.
#[cfg(feature = "parallel")]
fn par_with_threshold(
    net: &TwoLayerNet,
    x: &ArrayRef2<f64>,
    t: &Targets<'_>,
    delta: f64,
    min_work: usize,
) -> Result<Grads> {
    use rayon::prelude::*;

    let base = match Base::prepare(net, x, t, delta)? {
        Prepared::Ready(base) => base,
        Prepared::Done(grads) => return Ok(grads),
    };
    let parts = if base.work() < min_work {
        let mut scratch = Scratch::new(&base);
        (0..base.parts())
            .map(|part| base.part(part, &mut scratch))
            .collect()
    } else {
        (0..base.parts())
            .into_par_iter()
            .map_init(
                || Scratch::new(&base),
                |scratch, part| base.part(part, scratch),
            )
            .collect()
    };
    base.assemble(parts)
}

/// A task's working memory, reused by all its probes.
struct Scratch {
    /// One row of perturbed scores.
    row: Vec<f64>,
    /// The current hidden unit's series coefficients, `STRIDE` per row.
    moments: Vec<f64>,
}

impl Scratch {
    fn new(base: &Base<'_>) -> Self {
        Scratch {
            row: vec![0.0; base.classes],
            moments: Vec::with_capacity(base.batch * STRIDE),
        }
    }
}

/// What [`Base::prepare`] found: a forward pass to probe from, or the whole answer.
enum Prepared<'a> {
    Ready(Box<Base<'a>>),
    Done(Grads),
}

/// A failed probe: its place in the brute force's order (parameter, row-major
/// element) and its error.
struct Failure {
    key: (usize, usize),
    error: KobaiError,
}

/// The values one task computes: for hidden unit `j`, `W1[:, j]` then `b1[j]`
/// then `W2[j, :]`; for the last task, `b2`.
type Part = std::result::Result<Vec<f64>, Failure>;

/// The unperturbed forward pass, laid out for the probes.
struct Base<'a> {
    net: &'a TwoLayerNet,
    x: ArrayView2<'a, f64>,
    delta: f64,
    batch: usize,
    inputs: usize,
    hidden: usize,
    classes: usize,
    /// `xᵀ`, so that column `i` of `x` is contiguous: `xt[i·N + r]`.
    xt: Vec<f64>,
    /// `a1ᵀ` (pre-activations), `a1t[j·N + r]`.
    a1t: Vec<f64>,
    /// `z1ᵀ` (hidden outputs), `z1t[j·N + r]`.
    z1t: Vec<f64>,
    /// The scores, row-major: `scores[r·C + c]`.
    scores: Vec<f64>,
    /// `W2`, row-major: `w2[j·C + c]`.
    w2: Vec<f64>,
    labels: Vec<usize>,
    /// `log(softmax(scores[r])[t_r] + delta)`, for rows a probe leaves unchanged.
    base_terms: Vec<f64>,
    /// `exp(scores[r, c] − max_c scores[r, c])`, row-major.
    exps: Vec<f64>,
    /// `p / (p + delta)`, with `p` the probability of row `r`'s label.
    label_shares: Vec<f64>,
    /// `max_c |W2[j, c]|`, per hidden unit.
    w2_max: Vec<f64>,
}

impl<'a> Base<'a> {
    /// Checks the inputs in the brute force's order and runs the forward pass.
    fn prepare(
        net: &'a TwoLayerNet,
        x: &'a ArrayRef2<f64>,
        t: &Targets<'_>,
        delta: f64,
    ) -> Result<Prepared<'a>> {
        check::shape_is("b1", &net.b1, &[net.w1.ncols()])?;
        check::shape_is("b2", &net.b2, &[net.w2.ncols()])?;
        let sizes = [net.w1.len(), net.b1.len(), net.w2.len(), net.b2.len()];
        if sizes.iter().all(|&n| n == 0) {
            // No parameter, no probe: the brute force evaluates nothing.
            return model_numerical_gradient(net, x, t, delta).map(Prepared::Done);
        }
        // As the network's forward pass: a NaN or ±inf input is an error.
        check::finite("x", x)?;
        let x = x.view();
        let affine1 = AffineView {
            w: net.w1.view(),
            b: net.b1.view(),
        };
        let (a1, _) = affine1.forward(x)?;
        let z1 = match net.activation {
            Activation::Relu => a1.mapv(relu_of),
            Activation::Sigmoid => a1.mapv(sigmoid_of),
            Activation::Tanh => a1.mapv(f64::tanh),
        };
        let affine2 = AffineView {
            w: net.w2.view(),
            b: net.b2.view(),
        };
        let (scores, _) = affine2.forward(z1.view())?;
        if scores.iter().any(|v| !v.is_finite()) {
            // The brute force names the first non-finite score of its first
            // probe (or, rarely, finds that the perturbation cures it).
            return model_numerical_gradient(net, &x, t, delta).map(Prepared::Done);
        }
        SoftmaxWithLoss.forward(&scores, t, delta)?;
        let labels = class_labels(scores.dim(), t)?;
        let (batch, classes) = scores.dim();
        let scores: Vec<f64> = scores.iter().copied().collect();
        let mut scratch = vec![0.0; classes];
        let base_terms = (0..batch)
            .map(|r| {
                scratch.copy_from_slice(&scores[r * classes..(r + 1) * classes]);
                log_prob(&scratch, labels[r], delta)
            })
            .collect();
        let exps: Vec<f64> = scores
            .chunks(classes)
            .flat_map(|row| {
                let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
                row.iter().map(move |&v| (v - max).exp())
            })
            .collect();
        let label_shares = exps
            .chunks(classes)
            .zip(&labels)
            .map(|(row, &label): (&[f64], _)| {
                let p = row[label] / row.iter().fold(0.0, |s, &e| s + e);
                p / (p + delta)
            })
            .collect();
        let w2_max = net
            .w2
            .rows()
            .into_iter()
            .map(|row| row.iter().fold(0.0, |m: f64, &v| m.max(v.abs())))
            .collect();
        Ok(Prepared::Ready(Box::new(Base {
            net,
            x,
            delta,
            batch,
            inputs: net.w1.nrows(),
            hidden: net.w1.ncols(),
            classes,
            xt: x.t().iter().copied().collect(),
            a1t: a1.t().iter().copied().collect(),
            z1t: z1.t().iter().copied().collect(),
            scores,
            w2: net.w2.iter().copied().collect(),
            labels,
            base_terms,
            exps,
            label_shares,
            w2_max,
        })))
    }

    /// The number of tasks: one per hidden unit, one for `b2`.
    fn parts(&self) -> usize {
        self.hidden + 1
    }

    /// Row evaluations over all probes: `2P·N`.
    #[cfg(feature = "parallel")]
    fn work(&self) -> usize {
        let params = self.inputs * self.hidden + self.hidden + self.hidden * self.classes;
        2 * (params + self.classes) * self.batch
    }

    /// Task `part`: a hidden unit's column of `W1`, its `b1` and its row of
    /// `W2`, or (the last task) `b2`. Stops at the task's first failure, the
    /// first in parameter order among its elements.
    fn part(&self, part: usize, scratch: &mut Scratch) -> Part {
        if part == self.hidden {
            return (0..self.classes)
                .map(|k| self.b2_partial(k, scratch))
                .collect();
        }
        match self.net.activation {
            Activation::Relu => self.unit(part, relu_of, scratch),
            Activation::Sigmoid => self.unit(part, sigmoid_of, scratch),
            Activation::Tanh => self.unit(part, f64::tanh, scratch),
        }
    }

    /// Hidden unit `j`: `W1[:, j]`, `b1[j]`, `W2[j, :]`.
    fn unit(&self, j: usize, act: impl Fn(f64) -> f64 + Copy, scratch: &mut Scratch) -> Part {
        let n = self.batch;
        self.fill_moments(j, &mut scratch.moments);
        let a1 = &self.a1t[j * n..(j + 1) * n];
        let mut out = Vec::with_capacity(self.inputs + 1 + self.classes);
        for i in 0..self.inputs {
            let x = &self.xt[i * n..(i + 1) * n];
            let value = self.net.w1[[i, j]];
            let at = (0, "W1", &[i, j][..], i * self.hidden + j);
            out.push(self.central(at, value, |new, step| {
                self.hidden_probe(j, act, scratch, |r| {
                    if a1[r].is_finite() {
                        a1[r] + x[r] * step
                    } else {
                        self.exact_a1(r, j, Some((i, new)), self.net.b1[j])
                    }
                })
            })?);
        }
        let value = self.net.b1[j];
        out.push(self.central((1, "b1", &[j][..], j), value, |new, step| {
            self.hidden_probe(j, act, scratch, |r| {
                if a1[r].is_finite() {
                    a1[r] + step
                } else {
                    self.exact_a1(r, j, None, new)
                }
            })
        })?);
        let z1 = &self.z1t[j * n..(j + 1) * n];
        for k in 0..self.classes {
            let value = self.net.w2[[j, k]];
            let at = (2, "W2", &[j, k][..], j * self.classes + k);
            out.push(self.central(at, value, |_, step| {
                self.column_probe(k, &mut scratch.row, |r| z1[r] * step)
            })?);
        }
        Ok(out)
    }

    /// `∂L/∂b2[k]`.
    fn b2_partial(&self, k: usize, scratch: &mut Scratch) -> std::result::Result<f64, Failure> {
        let value = self.net.b2[k];
        self.central((3, "b2", &[k][..], k), value, |_, step| {
            self.column_probe(k, &mut scratch.row, |_| step)
        })
    }

    /// The book's central difference for one element, as the brute force
    /// reports it. `loss_at(new, step)` is the loss with the element set to
    /// `new`, which is `step` away from its value.
    ///
    /// `at` is (parameter number, name, index, row-major position).
    fn central(
        &self,
        (k, name, index, position): (usize, &str, &[usize], usize),
        value: f64,
        mut loss_at: impl FnMut(f64, f64) -> Result<f64>,
    ) -> std::result::Result<f64, Failure> {
        let h = BOOK_STEP;
        let fail = |error| Failure {
            key: (k, position),
            error,
        };
        let at = || format!("{name} index {}", check::index_text(index));
        let (plus, minus) = (value + h, value - h);
        let fxh1 = loss_at(plus, plus - value).map_err(fail)?;
        let fxh1 = check::finite_scalar("the loss at +h", at, fxh1).map_err(fail)?;
        let fxh2 = loss_at(minus, minus - value).map_err(fail)?;
        let fxh2 = check::finite_scalar("the loss at -h", at, fxh2).map_err(fail)?;
        Ok((fxh1 - fxh2) / (2.0 * h))
    }

    /// Hidden unit `j`'s series coefficients for each row `r`, with
    /// `e_c = exp(scores[r, c] − max_r)`, `w = W2[j, :]` and `l = t_r`:
    ///
    /// ```text
    /// M_k = Σ_c e_c · w_c^k                (k = 0..5)
    /// D_k = Σ_c e_c · (w_l^k − w_c^k)      (k = 1..5)
    /// ```
    ///
    /// `STRIDE` values per row, each divided by `k!`: the `M`s then the `D`s.
    fn fill_moments(&self, j: usize, moments: &mut Vec<f64>) {
        let c = self.classes;
        let w2 = &self.w2[j * c..(j + 1) * c];
        moments.clear();
        for (exps, &label) in self.exps.chunks(c).zip(&self.labels) {
            let mut w_label = [1.0; TERMS];
            for k in 1..TERMS {
                w_label[k] = w_label[k - 1] * w2[label];
            }
            let mut m = [0.0; STRIDE];
            for (&e, &w) in exps.iter().zip(w2) {
                let mut power = 1.0;
                for k in 0..TERMS {
                    m[k] += e * power;
                    if k > 0 {
                        m[TERMS + k - 1] += e * (w_label[k] - power);
                    }
                    power *= w;
                }
            }
            for k in 1..TERMS {
                m[k] /= FACTORIALS[k];
                m[TERMS + k - 1] /= FACTORIALS[k];
            }
            moments.extend_from_slice(&m);
        }
    }

    /// The loss when hidden unit `j`'s pre-activation in row `r` becomes
    /// `a1_at(r)`: each changed row's scores get `Δz · W2[j, :]`.
    ///
    /// When every `|Δz · W2[j, c]|` is at most [`SMALL`] (the usual case:
    /// `Δz` is about `h·x`), the row's term comes in O(1) from the
    /// coefficients of [`fill_moments`](Self::fill_moments), with `p` the
    /// unperturbed probability of the label and `S = M_0`:
    ///
    /// ```text
    /// S' = Σ_c e_c·exp(Δz·w_c)                 = Σ_{k≤5} Δz^k/k! · M_k
    /// p' − p = p·(e^{Δz·w_l}·S − S') / S',   e^{Δz·w_l}·S − S' = Σ_{1≤k≤5} Δz^k/k! · D_k
    /// log(p' + δ) = log(p + δ) + log1p((p' − p)/(p + δ))
    /// ```
    ///
    /// with `log1p` by its series (the argument is below `2.1e-3`). Each
    /// truncation error is below 1e-21 relative: the same loss to rounding, with
    /// no `exp` or `log` call. Otherwise the row's scores are rebuilt and
    /// re-scored with the book's softmax, O(C).
    fn hidden_probe(
        &self,
        j: usize,
        act: impl Fn(f64) -> f64,
        scratch: &mut Scratch,
        a1_at: impl Fn(usize) -> f64,
    ) -> Result<f64> {
        let c = self.classes;
        let z1 = &self.z1t[j * self.batch..(j + 1) * self.batch];
        let w2 = &self.w2[j * c..(j + 1) * c];
        let w2_max = self.w2_max[j];
        let Scratch { row, moments } = scratch;
        self.mean_loss(|r| {
            let dz = act(a1_at(r)) - z1[r];
            if dz == 0.0 {
                return Ok(self.base_terms[r]);
            }
            let share = self.label_shares[r];
            if dz.abs() * w2_max <= SMALL && share.is_finite() {
                let m = &moments[r * STRIDE..(r + 1) * STRIDE];
                let sum = m[0] + dz * series(dz, &m[1..TERMS]);
                let numerator = dz * series(dz, &m[TERMS..]);
                return Ok(self.base_terms[r] + log1p_small(share * numerator / sum));
            }
            let scores = &self.scores[r * c..(r + 1) * c];
            for ((out, &s), &w) in row.iter_mut().zip(scores).zip(w2) {
                *out = s + dz * w;
            }
            self.row_term(r, row)
        })
    }

    /// The loss when score column `k` of row `r` moves by `ds_at(r)`.
    fn column_probe(
        &self,
        k: usize,
        scratch: &mut [f64],
        ds_at: impl Fn(usize) -> f64,
    ) -> Result<f64> {
        let c = self.classes;
        self.mean_loss(|r| {
            let ds = ds_at(r);
            if ds == 0.0 {
                return Ok(self.base_terms[r]);
            }
            scratch.copy_from_slice(&self.scores[r * c..(r + 1) * c]);
            scratch[k] += ds;
            self.row_term(r, scratch)
        })
    }

    /// The cross-entropy over the batch from each row's `log(p + delta)`, summed
    /// in row order as the book sums it.
    fn mean_loss(&self, mut term: impl FnMut(usize) -> Result<f64>) -> Result<f64> {
        let mut sum = 0.0;
        for r in 0..self.batch {
            sum += term(r)?;
        }
        Ok(-sum / self.batch as f64)
    }

    /// `log(softmax(row)[t_r] + delta)` for row `r`'s perturbed scores, or the
    /// error softmax gives for a non-finite score.
    fn row_term(&self, r: usize, row: &[f64]) -> Result<f64> {
        if let Some(c) = row.iter().position(|v| !v.is_finite()) {
            return Err(KobaiError::NonFinite {
                what: "softmax input".into(),
                at: format!("index {}", check::index_text(&[r, c])),
                value: row[c],
            });
        }
        Ok(log_prob(row, self.labels[r], self.delta))
    }

    /// `a1[r, j]` recomputed from `x` with `W1[i, j]` (if given) and `b1[j]`
    /// replaced: for pre-activations that are already NaN or ±inf, where adding
    /// a step is not the same as recomputing.
    fn exact_a1(&self, r: usize, j: usize, w1: Option<(usize, f64)>, b1: f64) -> f64 {
        let mut sum = 0.0;
        for i in 0..self.inputs {
            let w = match w1 {
                Some((at, value)) if at == i => value,
                _ => self.net.w1[[i, j]],
            };
            sum += self.x[[r, i]] * w;
        }
        sum + b1
    }

    /// The gradients from the tasks' values, or the first failure in parameter
    /// order.
    fn assemble(&self, parts: Vec<Part>) -> Result<Grads> {
        let (d, h, c) = (self.inputs, self.hidden, self.classes);
        let mut w1 = Array2::zeros((d, h));
        let mut b1 = Array1::zeros(h);
        let mut w2 = Array2::zeros((h, c));
        let mut b2 = Array1::zeros(c);
        let mut first: Option<Failure> = None;
        for (j, part) in parts.into_iter().enumerate() {
            match part {
                Err(failure) => {
                    if first.as_ref().is_none_or(|f| failure.key < f.key) {
                        first = Some(failure);
                    }
                }
                Ok(values) if j == h => b2.assign(&Array1::from(values)),
                Ok(values) => {
                    for (i, &v) in values[..d].iter().enumerate() {
                        w1[[i, j]] = v;
                    }
                    b1[j] = values[d];
                    for (k, &v) in values[d + 1..].iter().enumerate() {
                        w2[[j, k]] = v;
                    }
                }
            }
        }
        if let Some(failure) = first {
            return Err(failure.error);
        }
        let mut grads = Grads::default();
        grads.push("W1", w1.into_dyn());
        grads.push("b1", b1.into_dyn());
        grads.push("W2", w2.into_dyn());
        grads.push("b2", b2.into_dyn());
        Ok(grads)
    }
}

/// The largest `|Δz·W2[j, c]|` for which the series are used.
const SMALL: f64 = 1e-3;

/// The terms of the exponential series, `Δz⁰ … Δz⁵`: the first omitted one is
/// below `SMALL⁶/6! < 1.4e-21` relative.
const TERMS: usize = 6;

/// Coefficients per row: `M_0 … M_5`, `D_1 … D_5`.
const STRIDE: usize = 2 * TERMS - 1;

/// `Σ_k dz^k · coefficients[k]` by Horner's rule.
fn series(dz: f64, coefficients: &[f64]) -> f64 {
    coefficients.iter().rev().fold(0.0, |acc, &a| a + dz * acc)
}

/// `k!` for `k = 0..=5`.
const FACTORIALS: [f64; TERMS] = [1.0, 1.0, 2.0, 6.0, 24.0, 120.0];

/// `log(1 + u)` for `|u| <= 2.1e-3` by its series to `u⁷/7`: the first omitted
/// term is below `6e-23`.
fn log1p_small(u: f64) -> f64 {
    u * (1.0
        + u * (-0.5
            + u * (1.0 / 3.0 + u * (-0.25 + u * (0.2 + u * (-1.0 / 6.0 + u * (1.0 / 7.0)))))))
}

/// `log(softmax(row)[label] + delta)` for a row of finite scores, with the
/// book's operations: subtract the maximum, `exp`, a left-to-right sum, divide.
fn log_prob(row: &[f64], label: usize, delta: f64) -> f64 {
    let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    let sum = row.iter().fold(0.0, |s, &v| s + (v - max).exp());
    let p = (row[label] - max).exp() / sum;
    (p + delta).ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;
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
        eprintln!("max |layered − brute| = {worst:e}");
        worst
    }

    #[test]
    fn matches_the_brute_force_on_small_nets() {
        let x = inputs(6, 5, 1);
        let labels = labels(6, 3);
        let hot = one_hot(&labels, 3);
        for activation in [Activation::Relu, Activation::Sigmoid] {
            for std in [0.01, 0.5, 2.0] {
                let net = net((5, 4, 3), std, activation, 3);
                for delta in [0.0, 1e-7, 0.1] {
                    compare(&net, &x, &(&labels).into(), delta);
                    compare(&net, &x, &(&hot).into(), delta);
                }
            }
        }
    }

    #[test]
    fn matches_the_brute_force_on_a_wider_net() {
        let x = inputs(20, 30, 2).mapv(f64::abs);
        let labels = labels(20, 10);
        for activation in [Activation::Relu, Activation::Sigmoid] {
            let net = net((30, 8, 10), 0.1, activation, 4);
            for delta in [0.0, 1e-7] {
                compare(&net, &x, &(&labels).into(), delta);
            }
        }
    }

    #[test]
    fn matches_the_brute_force_when_the_series_does_not_apply() {
        // Large inputs and weights: |Δz · W2| above SMALL, the libm path.
        let x = inputs(6, 5, 20).mapv(|v| 300.0 * v);
        let labels = labels(6, 3);
        for activation in [Activation::Relu, Activation::Sigmoid] {
            let net = net((5, 4, 3), 0.05, activation, 21);
            let base = match Base::prepare(&net, &x, &(&labels).into(), 1e-7) {
                Ok(Prepared::Ready(base)) => base,
                _ => panic!("a finite forward pass"),
            };
            let dz_max = 300.0 * 3.0 * BOOK_STEP;
            assert!(base.w2_max.iter().any(|w| dz_max * w > SMALL));
            compare(&net, &x, &(&labels).into(), 1e-7);
        }
    }

    #[test]
    fn the_series_are_exp_and_log1p_to_rounding() {
        let coefficients: Vec<f64> = FACTORIALS[1..].iter().map(|f| 1.0 / f).collect();
        for t in [-SMALL, -1e-4, -3e-7, 0.0, 2e-9, 5e-5, SMALL] {
            let (series, libm) = (1.0 + t * series(t, &coefficients), t.exp());
            assert!((series - libm).abs() <= f64::EPSILON * libm, "exp({t})");
            let u = 2.1 * t;
            let (series, libm) = (log1p_small(u), u.ln_1p());
            assert!(
                (series - libm).abs() <= f64::EPSILON * libm.abs(),
                "log1p({u})"
            );
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
        for activation in [Activation::Sigmoid, Activation::Relu] {
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
    fn the_net_must_be_consistent() {
        let mut net = net((3, 2, 2), 1.0, Activation::Relu, 12);
        net.b1 = array![0.0, 0.0, 0.0];
        let err = layered_numerical_gradient(&net, &inputs(2, 3, 0), &(&[0usize, 1]).into(), 0.0)
            .expect_err("b1 does not fit W1");
        assert_eq!(err.to_string(), "b1 has shape [3] but expected shape [2]");
    }

    #[test]
    fn agrees_with_the_nets_own_loss_at_the_base_point() {
        // The cached per-row terms reproduce the loss of the forward pass.
        let net = net((6, 5, 4), 0.5, Activation::Sigmoid, 13);
        let x = inputs(7, 6, 13);
        let labels = labels(7, 4);
        let t: Targets<'_> = (&labels).into();
        let Ok(Prepared::Ready(base)) = Base::prepare(&net, &x, &t, 1e-7) else {
            panic!("a finite forward pass");
        };
        let sum: f64 = base.base_terms.iter().sum();
        let loss = net.loss_with_delta(&x, &t, 1e-7).expect("valid");
        assert!((-sum / 7.0 - loss).abs() < 1e-15);
    }

    #[cfg(feature = "parallel")]
    mod parallel {
        use super::*;

        fn bits(grads: &Grads) -> Vec<u64> {
            grads
                .iter()
                .flat_map(|(_, g)| g.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
                .collect()
        }

        #[test]
        fn parallel_is_bit_identical_to_serial() {
            for activation in [Activation::Relu, Activation::Sigmoid] {
                let net = net((30, 8, 10), 0.1, activation, 14);
                let x = inputs(20, 30, 14);
                let t = labels(20, 10);
                let serial =
                    layered_numerical_gradient(&net, &x, &(&t).into(), 1e-7).expect("valid");
                for min_work in [0, usize::MAX] {
                    let parallel =
                        par_with_threshold(&net, &x, &(&t).into(), 1e-7, min_work).expect("valid");
                    assert_eq!(bits(&parallel), bits(&serial));
                    assert_eq!(
                        parallel.names().collect::<Vec<_>>(),
                        serial.names().collect::<Vec<_>>()
                    );
                }
                let public =
                    layered_numerical_gradient_par(&net, &x, &(&t).into(), 1e-7).expect("valid");
                assert_eq!(bits(&public), bits(&serial));
            }
        }

        #[test]
        fn parallel_reports_the_first_failure_in_parameter_order() {
            let mut net = net((5, 4, 3), 0.5, Activation::Relu, 15);
            net.w1.row_mut(2).fill(0.0);
            let mut x = inputs(6, 5, 15);
            x[[4, 2]] = f64::INFINITY;
            let t = labels(6, 3);
            let serial =
                layered_numerical_gradient(&net, &x, &(&t).into(), 1e-7).expect_err("fails");
            let parallel = par_with_threshold(&net, &x, &(&t).into(), 1e-7, 0).expect_err("fails");
            assert_eq!(parallel, serial);
        }
    }
}
