//! The structure-aware numerical gradient of a [`StagedModel`]: the book's
//! central difference, with each probe recomputing only what its parameter
//! element changes.

use ndarray::{ArrayD, ArrayRef2, ArrayView2, Ix2, IxDyn};

use super::central::BOOK_STEP;
use super::layered_tail::{Head, Link, Tail};
use super::staged::{Columnwise, Elementwise, Incremental, Stage, StagedModel};
use crate::check;
use crate::error::{KobaiError, Result};
use crate::functions::{Targets, class_labels, cross_entropy_error_with_delta, softmax};
use crate::model::Grads;

/// The book's numerical gradient of a model's loss — the central difference of
/// [`model_numerical_gradient`](super::model_numerical_gradient), `h = 1e-4`,
/// every parameter element in parameter order — computed stage by stage: one
/// forward pass, then each probe reruns only what its element changes.
///
/// ```text
/// ∂L/∂θ ≈ (L(θ + h) − L(θ − h)) / (2h)
/// ```
///
/// The model is a [`StagedModel`]: stages `X_{s+1} = stage_s(X_s)`, then
/// softmax with cross-entropy, plus a penalty. A probe of an element of stage
/// `k` starts from the cached input `X_k` and carries the change forward as
/// sparsely as the stages' [`Incremental`] descriptions allow:
///
/// ```text
/// Affine W[i, j] ± h   output column j, rows with x[r, i] ≠ 0:  y[r, j] += x[r, i]·(±h)
/// Affine b[j] ± h      output column j, every row
/// element-wise         the same entries, minus those whose output does not move
/// column-wise (BatchNorm in training)   the same column, every row
/// Affine, after        the changed rows only, each a row update
/// a stage without a description         rerun in full, then compared row by row
/// ```
///
/// and, when the change is one column entering a run of stages to the scores
/// that are Affine or piecewise-linear element-wise (ReLU, Dropout), in one
/// step: per row, the scores move by `Δ · J_r[c, :]` (the run's Jacobian,
/// computed once per row and column) as long as no ReLU kink lies within reach
/// — otherwise the row is carried through the stages — and the row's loss
/// term follows in O(1) from series whose coefficients are computed once per
/// row and column. Unchanged rows keep their terms. The penalty changes by
/// `penalty(θ ± h) − penalty(θ)`.
///
/// # What "the same numbers" means
/// Each probe computes what the brute force computes — the model's loss with
/// that one element set to `fl(θ ± h)` — by other arithmetic: updates of the
/// cached values instead of whole products; a run of Affine and ReLU stages
/// applied as the linear map it is as long as no ReLU input changes side (in
/// real arithmetic; where one could, the row goes through the stages); the
/// softmax terms by series truncated below 1e-21; the loss's change summed
/// over the changed rows' terms rather than as the difference of two sums of
/// `N` terms. So the quotient `(L(θ + h) − L(θ − h)) / 2h` is the brute
/// force's up to rounding in the two losses, about 1e-16 relative, which the
/// division by `2h` magnifies to some 1e-11: the largest difference from
/// [`model_numerical_gradient`](super::model_numerical_gradient) seen in the
/// tests is 6e-12, in the benchmarks (784-wide networks) 1.6e-11. Of the two,
/// this one has the smaller rounding error: on the book's 784-50-10 network,
/// against quotients computed from the exact score changes (`expm1`,
/// `log1p`), it erred by at most 2e-14, the brute force by 1.2e-11. Neither
/// is the derivative: both differ from it by about `h²/6 · L'''`.
///
/// Where the unperturbed pass fails or holds NaN or ±inf anywhere, or a probe
/// meets a value the shortcuts cannot handle (a non-finite score or loss),
/// that probe runs the brute force's way from stage `k` on, so that errors are
/// the brute force's own, for the same element, in the same order.
///
/// # Cost
/// One forward pass; for each run of linear stages that probes reach, the
/// per-row Jacobians, O(N·w·Σ w_l·w_{l+1}); then per probe O(rows changed) for
/// a weight or bias whose change reaches such a run directly or through
/// element-wise stages (in a ReLU network, every weight and bias), or
/// O(rows changed · work of the stages after it) otherwise (after a sigmoid
/// or tanh hidden layer, or BatchNorm). On ReLU networks with batch 100 and
/// inputs half zeros, `benches/numerical_gradient.rs` measured 784-50-10 at
/// 26 ms, 784-50-50-50-10 at 38 ms and 784-100-100-100-10 at 93 ms, against
/// a brute force of 30 s, 35 s and 151 s (one shared core): over 1000 times
/// faster.
///
/// # Errors
/// As [`model_numerical_gradient`](super::model_numerical_gradient): the
/// errors of [`StagedModel::check_input`], of the stages and of the head (an
/// empty batch, bad targets, a bad `delta`); [`KobaiError::NonFinite`] if the
/// loss is NaN or infinite at a probe point, naming the parameter and index.
///
/// ```
/// use kobai::nets::MultiLayerNet;
/// use kobai::numerical_gradient::{layered_numerical_gradient, model_numerical_gradient};
/// use ndarray::array;
///
/// let net = MultiLayerNet::new(3, &[4, 4], 2).seed(1).weight_decay(0.1).build()?;
/// let x = array![[0.6, 0.9, -0.2], [0.1, -0.5, 0.3]];
/// let t = (&[1usize, 0]).into();
/// let layered = layered_numerical_gradient(&net, &x, &t, 1e-7)?;
/// let brute = model_numerical_gradient(&net, &x, &t, 1e-7)?;
/// assert_eq!(layered.names().collect::<Vec<_>>(), brute.names().collect::<Vec<_>>());
/// for ((_, a), (_, b)) in layered.iter().zip(brute.iter()) {
///     assert!((a - b).iter().all(|d| d.abs() < 1e-9));
/// }
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn layered_numerical_gradient<M: StagedModel + ?Sized>(
    model: &M,
    x: &ArrayRef2<f64>,
    t: &Targets<'_>,
    delta: f64,
) -> Result<Grads> {
    let stages = model.stages();
    let params = Param::collect(&stages);
    let base = Base::run(model, &stages, x, t, delta);
    let probes = Probes::new(&stages, &params, &base);
    probes.assemble(probes.serial())
}

/// [`layered_numerical_gradient`] with the probes spread over rayon's threads.
///
/// The result is **bit-identical** to the serial one: every element is
/// computed by the same code from the same forward pass — only the thread
/// differs — and on an error the one reported is the first in parameter order,
/// as in the serial version. Below 100 000 row evaluations (`2·N` per element)
/// it runs serially.
///
/// # Errors
/// As [`layered_numerical_gradient`].
///
/// ```
/// use kobai::nets::MultiLayerNet;
/// use kobai::numerical_gradient::{layered_numerical_gradient, layered_numerical_gradient_par};
/// use ndarray::Array2;
///
/// let net = MultiLayerNet::new(20, &[8, 8], 4).seed(2).build()?;
/// let x = Array2::from_shape_fn((10, 20), |(r, c)| ((r * 20 + c) as f64).sin());
/// let labels: Vec<usize> = (0..10).map(|r| r % 4).collect();
/// let t = (&labels).into();
/// let parallel = layered_numerical_gradient_par(&net, &x, &t, 1e-7)?;
/// assert_eq!(parallel, layered_numerical_gradient(&net, &x, &t, 1e-7)?);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[cfg(feature = "parallel")]
pub fn layered_numerical_gradient_par<M: StagedModel + ?Sized>(
    model: &M,
    x: &ArrayRef2<f64>,
    t: &Targets<'_>,
    delta: f64,
) -> Result<Grads> {
    par_with_threshold(model, x, t, delta, MIN_PARALLEL_WORK)
}

/// Below this many row evaluations (each some 10–50 ns), threads cost more
/// than they save.
#[cfg(feature = "parallel")]
const MIN_PARALLEL_WORK: usize = 100_000;

/// [`layered_numerical_gradient_par`] with its threshold as a parameter.
#[cfg(feature = "parallel")]
fn par_with_threshold<M: StagedModel + ?Sized>(
    model: &M,
    x: &ArrayRef2<f64>,
    t: &Targets<'_>,
    delta: f64,
    min_work: usize,
) -> Result<Grads> {
    use rayon::prelude::*;

    let stages = model.stages();
    let params = Param::collect(&stages);
    let base = Base::run(model, &stages, x, t, delta);
    let probes = Probes::new(&stages, &params, &base);
    let elements: usize = params.iter().map(|p| p.values.len()).sum();
    let work = 2 * elements * x.nrows().max(1);
    let parts = if work < min_work {
        probes.serial()
    } else {
        probes
            .chunks()
            .into_par_iter()
            .map_init(Scratch::default, |scratch, chunk| {
                (chunk, probes.part(chunk, scratch))
            })
            .collect()
    };
    probes.assemble(parts)
}

/// One parameter of the model: where it lives and its values.
struct Param {
    /// The stage that owns it.
    stage: usize,
    /// Its position among the stage's parameters.
    local: usize,
    name: String,
    shape: Vec<usize>,
    /// Its elements, in row-major (logical) order.
    values: Vec<f64>,
}

impl Param {
    fn collect(stages: &[Box<dyn Stage + '_>]) -> Vec<Param> {
        let mut params = Vec::new();
        for (stage, s) in stages.iter().enumerate() {
            for (local, (name, view)) in s.params().into_iter().enumerate() {
                params.push(Param {
                    stage,
                    local,
                    name,
                    shape: view.shape().to_vec(),
                    values: view.iter().copied().collect(),
                });
            }
        }
        params
    }
}

/// The unperturbed forward pass: the input of every stage it reached, and
/// how it ended.
struct Base<'a, 'x> {
    /// `X_0 … X_m`, each in standard layout: all `L + 1` (the last the
    /// scores) unless a stage failed, up to the input of the failing stage
    /// otherwise (none if the input check failed).
    values: Vec<ArrayD<f64>>,
    /// The error of the input check, a stage or the head, if any.
    error: Option<KobaiError>,
    /// The head's loss at the unperturbed point, if it was reached and succeeded.
    head_loss: Option<f64>,
    /// Each of `values` column by column (see [`Matrix`]), when the pass
    /// succeeded.
    columns: Vec<Vec<f64>>,
    t: &'a Targets<'x>,
    delta: f64,
}

impl<'a, 'x> Base<'a, 'x> {
    fn run<M: StagedModel + ?Sized>(
        model: &M,
        stages: &[Box<dyn Stage + '_>],
        x: &ArrayRef2<f64>,
        t: &'a Targets<'x>,
        delta: f64,
    ) -> Self {
        let mut base = Base {
            values: Vec::with_capacity(stages.len() + 1),
            error: None,
            head_loss: None,
            columns: Vec::new(),
            t,
            delta,
        };
        if let Err(e) = model.check_input(x) {
            base.error = Some(e);
            return base;
        }
        base.values.push(standard(x.to_owned().into_dyn()));
        for stage in stages {
            let input = base.values.last().cloned().unwrap_or_default();
            match stage.forward(input) {
                Ok(output) => base.values.push(standard(output)),
                Err(e) => {
                    base.error = Some(e);
                    return base;
                }
            }
        }
        let scores = base.values.last().cloned().unwrap_or_default();
        match head_loss(scores, t, delta) {
            Ok(loss) => base.head_loss = Some(loss),
            Err(e) => base.error = Some(e),
        }
        if base.error.is_none() {
            base.columns = (0..base.values.len())
                .map(|s| match base.shape(s) {
                    Some((data, rows, cols)) => transpose(data, rows, cols),
                    None => Vec::new(),
                })
                .collect();
        }
        base
    }

    /// `X_s`'s row-major data, rows and columns, if it is standard and has
    /// two axes or more.
    fn shape(&self, s: usize) -> Option<(&[f64], usize, usize)> {
        let value = self.values.get(s)?;
        if value.ndim() < 2 {
            return None;
        }
        let rows = value.shape()[0];
        let cols = value.shape()[1..].iter().product();
        Some((value.as_slice()?, rows, cols))
    }

    /// `X_s` as a [`Matrix`], if [`shape`](Self::shape) allows and the pass
    /// succeeded.
    fn matrix(&self, s: usize) -> Option<Matrix<'_>> {
        let (data, rows, cols) = self.shape(s)?;
        let columns = self.columns.get(s)?;
        (columns.len() == data.len()).then_some(Matrix {
            data,
            columns,
            rows,
            cols,
        })
    }
}

/// The row-major `index` of element `e` of an array of `shape` (as
/// [`unravel`](super::central::unravel), into a reused buffer).
fn unravel_into(mut e: usize, shape: &[usize], index: &mut Vec<usize>) {
    index.clear();
    index.resize(shape.len(), 0);
    for (axis, &len) in shape.iter().enumerate().rev() {
        index[axis] = e % len.max(1);
        e /= len.max(1);
    }
}

/// `a` in standard (row-major) layout.
fn standard(a: ArrayD<f64>) -> ArrayD<f64> {
    if a.is_standard_layout() {
        a
    } else {
        a.as_standard_layout().into_owned()
    }
}

/// The head's loss, as the book's `SoftmaxWithLoss` computes it.
fn head_loss(scores: ArrayD<f64>, t: &Targets<'_>, delta: f64) -> Result<f64> {
    let found = scores.shape().to_vec();
    let scores = scores
        .into_dimensionality::<Ix2>()
        .map_err(|_| KobaiError::Shape {
            what: "the last stage's output".into(),
            expected: "expected one row of class scores per sample".into(),
            found,
        })?;
    let y = softmax(&scores)?;
    let labels = class_labels(y.dim(), t)?;
    cross_entropy_error_with_delta(&y, &labels, delta)
}

/// A stage's value as a matrix: the data row-major and column-major, rows
/// and columns.
#[derive(Clone, Copy)]
struct Matrix<'a> {
    data: &'a [f64],
    /// The same values column by column: `columns[c·rows + r]`.
    columns: &'a [f64],
    rows: usize,
    cols: usize,
}

impl<'a> Matrix<'a> {
    #[inline]
    fn row(&self, r: usize) -> &'a [f64] {
        &self.data[r * self.cols..(r + 1) * self.cols]
    }

    #[inline]
    fn col(&self, c: usize) -> &'a [f64] {
        &self.columns[c * self.rows..(c + 1) * self.rows]
    }
}

/// Words in a set of `rows` rows, one bit each.
pub(super) fn words(rows: usize) -> usize {
    rows.div_ceil(64)
}

/// `data` (rows × cols, row-major) column by column.
fn transpose(data: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    let mut columns = vec![0.0; data.len()];
    for (r, row) in data.chunks(cols.max(1)).enumerate() {
        for (c, &v) in row.iter().enumerate() {
            columns[c * rows + r] = v;
        }
    }
    columns
}

/// What a stage is, its [`Incremental`] description checked against its
/// parameters and the shapes of the forward pass.
enum Kind<'a> {
    /// `y = x · W + b`, `W` row-major; `nonzero` marks, for each input
    /// column `i`, the rows where `x[r, i] ≠ 0` (the rows a probe of
    /// `W[i, :]` moves), [`words`] per column.
    Affine {
        w: Vec<f64>,
        outputs: usize,
        b: Vec<f64>,
        nonzero: Vec<u64>,
    },
    /// Element-wise; `linear` if its slopes are usable.
    Elementwise {
        map: Elementwise<'a>,
        linear: bool,
    },
    Columnwise(Box<dyn Columnwise + 'a>),
    /// No usable description: rerun in full.
    Opaque,
}

impl<'a> Kind<'a> {
    /// `description` if it fits the stage's `params` and its `input` and
    /// `output`; `Opaque` otherwise.
    fn new(
        description: Option<Incremental<'a>>,
        params: &[&Param],
        input: Matrix<'_>,
        output: Matrix<'_>,
    ) -> Kind<'a> {
        let same_shape = input.rows == output.rows && input.cols == output.cols;
        match description {
            Some(Incremental::Affine { w, b }) => {
                let (inputs, outputs) = w.dim();
                let fits = params.len() == 2
                    && params[0].shape == [inputs, outputs]
                    && params[1].shape == [outputs]
                    && b.len() == outputs
                    && params[0].values.iter().eq(w.iter())
                    && params[1].values.iter().eq(b.iter())
                    && input.cols == inputs
                    && output.rows == input.rows
                    && output.cols == outputs;
                if !fits {
                    return Kind::Opaque;
                }
                let mut nonzero = vec![0u64; inputs * words(input.rows)];
                for i in 0..inputs {
                    let marks = &mut nonzero[i * words(input.rows)..(i + 1) * words(input.rows)];
                    for (r, &x) in input.col(i).iter().enumerate() {
                        if x != 0.0 {
                            marks[r / 64] |= 1 << (r % 64);
                        }
                    }
                }
                Kind::Affine {
                    w: w.iter().copied().collect(),
                    outputs,
                    b: b.to_vec(),
                    nonzero,
                }
            }
            Some(Incremental::Elementwise(map)) if params.is_empty() && same_shape => {
                let linear = map.slopes().is_some_and(|(slope, reach)| {
                    slope.len() == input.data.len() && reach.len() == input.data.len()
                });
                Kind::Elementwise { map, linear }
            }
            Some(Incremental::Columnwise(map))
                if same_shape && params.iter().all(|p| p.shape == [input.cols]) =>
            {
                Kind::Columnwise(map)
            }
            _ => Kind::Opaque,
        }
    }

    /// Whether the stage is linear near the unperturbed point, row by row.
    fn is_linear(&self) -> bool {
        matches!(
            self,
            Kind::Affine { .. } | Kind::Elementwise { linear: true, .. }
        )
    }

    /// Whether a one-column change stays in its column.
    fn keeps_columns(&self) -> bool {
        matches!(self, Kind::Elementwise { .. } | Kind::Columnwise(_))
    }

    /// The stage as a link of a linear tail.
    fn link(&self, input: Matrix<'_>) -> Option<Link<'_>> {
        match self {
            Kind::Affine { w, outputs, .. } => {
                let w = ArrayView2::from_shape((w.len() / outputs.max(&1), *outputs), w).ok()?;
                Some(Link::Affine(w))
            }
            Kind::Elementwise { map, linear: true } => {
                let (slope, reach) = map.slopes()?;
                Some(Link::Slopes {
                    slope,
                    reach,
                    width: input.cols,
                })
            }
            _ => None,
        }
    }
}

/// Everything the shortcuts need, built when the unperturbed pass is finite
/// everywhere.
struct Fast<'a> {
    kinds: Vec<Kind<'a>>,
    /// `X_0 … X_L`.
    arrays: &'a [ArrayD<f64>],
    /// `X_0 … X_L` as matrices.
    values: Vec<Matrix<'a>>,
    head: Head,
    /// The linear tail from each stage input, where probes reach one.
    tails: Vec<Option<Tail>>,
    /// The loss at the unperturbed point, head and penalty.
    loss: f64,
    /// One 1 per row: the factor of a bias's step.
    ones: Vec<f64>,
    /// Every row, as a set of rows (see [`words`]).
    all_rows: Vec<u64>,
}

impl<'a> Fast<'a> {
    /// The shortcuts, or `None` when the unperturbed pass failed or is not
    /// finite everywhere (every probe then runs the brute force's way).
    fn new(
        stages: &'a [Box<dyn Stage + 'a>],
        params: &[Param],
        base: &'a Base<'_, '_>,
        penalty: f64,
    ) -> Option<Fast<'a>> {
        if base.error.is_some() || base.values.len() != stages.len() + 1 {
            return None;
        }
        let values = (0..base.values.len())
            .map(|s| base.matrix(s))
            .collect::<Option<Vec<_>>>()?;
        if values.iter().any(|m| m.data.iter().any(|v| !v.is_finite())) {
            return None;
        }
        let loss = base.head_loss? + penalty;
        if !loss.is_finite() {
            return None;
        }
        let scores = values[stages.len()];
        let scores = ArrayView2::from_shape((scores.rows, scores.cols), scores.data).ok()?;
        let labels = class_labels(scores.dim(), base.t).ok()?;
        let head = Head::new(scores, labels, base.delta);
        if head.base_terms().iter().any(|v| !v.is_finite()) {
            return None;
        }
        let kinds: Vec<Kind<'a>> = stages
            .iter()
            .enumerate()
            .map(|(s, stage)| {
                let own: Vec<&Param> = params.iter().filter(|p| p.stage == s).collect();
                let description = stage.incremental(&base.values[s]);
                Kind::new(description, &own, values[s], values[s + 1])
            })
            .collect();
        let tails = tails(&kinds, params, &values, &head);
        let rows = values.iter().map(|m| m.rows).max().unwrap_or(0);
        let ones = vec![1.0; rows];
        let mut all_rows = vec![0u64; words(rows)];
        for r in 0..rows {
            all_rows[r / 64] |= 1 << (r % 64);
        }
        Some(Fast {
            kinds,
            arrays: &base.values,
            values,
            head,
            tails,
            loss,
            ones,
            all_rows,
        })
    }
}

/// The linear tails that probes reach: for a stage `k` whose probes change
/// one column, the first stage `t > k` from which every stage to the scores
/// is linear, if the stages between keep the change in its column.
fn tails(
    kinds: &[Kind<'_>],
    params: &[Param],
    values: &[Matrix<'_>],
    head: &Head,
) -> Vec<Option<Tail>> {
    let stages = kinds.len();
    let linear_from = (0..=stages)
        .rev()
        .take_while(|&t| t == stages || kinds[t].is_linear())
        .last()
        .unwrap_or(stages);
    let mut tails: Vec<Option<Tail>> = (0..=stages).map(|_| None).collect();
    for k in 0..stages {
        let probed = params.iter().any(|p| p.stage == k && !p.values.is_empty());
        if !probed || !matches!(kinds[k], Kind::Affine { .. } | Kind::Columnwise(_)) {
            continue;
        }
        let mut t = k + 1;
        while t < linear_from && kinds[t].keeps_columns() {
            t += 1;
        }
        if t < linear_from || tails[t].is_some() {
            continue;
        }
        let links: Option<Vec<Link<'_>>> = (t..stages).map(|s| kinds[s].link(values[s])).collect();
        tails[t] = links.and_then(|links| Tail::build(head, values[t].cols, &links));
    }
    tails
}

/// The penalty summed over every parameter element, with element `e` of
/// parameter `g` set to `v` when `with = Some((g, e, v))`.
fn total_penalty(
    stages: &[Box<dyn Stage + '_>],
    params: &[Param],
    with: Option<(usize, usize, f64)>,
) -> f64 {
    let mut sum = 0.0;
    for (g, p) in params.iter().enumerate() {
        let stage = &stages[p.stage];
        for (e, &v) in p.values.iter().enumerate() {
            let v = match with {
                Some((wg, we, wv)) if wg == g && we == e => wv,
                _ => v,
            };
            sum += stage.penalty(p.local, v);
        }
    }
    sum
}

/// How a stage value differs from its cached value.
#[derive(Default)]
pub(super) struct Change {
    /// `Some(c)`: column `c` of `rows` now holds `values`, one per row.
    /// `None`: `rows` now hold `values`, one full row each.
    column: Option<usize>,
    rows: Vec<usize>,
    values: Vec<f64>,
}

impl Change {
    fn clear(&mut self) {
        self.column = None;
        self.rows.clear();
        self.values.clear();
    }

    pub(super) fn push(&mut self, r: usize, v: f64) {
        self.rows.push(r);
        self.values.push(v);
    }

    fn finite(&self) -> bool {
        self.values.iter().all(|v| v.is_finite())
    }

    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Reusable buffers of one thread: no allocation per probe once warm.
#[derive(Default)]
struct Scratch {
    pool: Vec<Change>,
    index: Vec<usize>,
    row: Vec<f64>,
    column_in: Vec<f64>,
    column_out: Vec<f64>,
}

impl Scratch {
    fn take(&mut self) -> Change {
        let mut change = self.pool.pop().unwrap_or_default();
        change.clear();
        change
    }

    fn give(&mut self, change: Change) {
        self.pool.push(change);
    }
}

/// The probes of every parameter element, with what they share.
struct Probes<'a, 'x> {
    stages: &'a [Box<dyn Stage + 'a>],
    params: &'a [Param],
    base: &'a Base<'a, 'x>,
    /// The penalty at the unperturbed point.
    penalty: f64,
    fast: Option<Fast<'a>>,
}

/// A failed probe: its place in the brute force's order (parameter,
/// row-major element) and its error.
struct Failure {
    key: (usize, usize),
    error: KobaiError,
}

/// The values of one chunk of elements (in the chunk's order), or its first
/// failure.
type Part = std::result::Result<Vec<f64>, Failure>;

/// Elements of one parameter, `first + k·step` for `k < count`: in parameter
/// order, so the first is the chunk's first in the brute force's order too.
#[derive(Clone, Copy)]
struct Chunk {
    param: usize,
    first: usize,
    step: usize,
    count: usize,
}

impl Chunk {
    fn elements(self) -> impl Iterator<Item = usize> {
        (0..self.count).map(move |k| self.first + k * self.step)
    }
}

/// Elements per task, for parameters taken in row-major runs.
const CHUNK: usize = 64;

impl<'a, 'x> Probes<'a, 'x> {
    fn new(stages: &'a [Box<dyn Stage + 'a>], params: &'a [Param], base: &'a Base<'a, 'x>) -> Self {
        let penalty = total_penalty(stages, params, None);
        Probes {
            stages,
            params,
            base,
            penalty,
            fast: Fast::new(stages, params, base, penalty),
        }
    }

    /// The tasks: an Affine stage's `W` column by column (its probes share
    /// the output column and the tail's coefficients for that column), every
    /// other parameter in row-major runs of at most [`CHUNK`].
    fn chunks(&self) -> Vec<Chunk> {
        let mut chunks = Vec::new();
        for (param, p) in self.params.iter().enumerate() {
            let by_column = p.local == 0
                && p.shape.len() == 2
                && self
                    .fast
                    .as_ref()
                    .is_some_and(|f| matches!(f.kinds[p.stage], Kind::Affine { .. }));
            if by_column {
                let (rows, cols) = (p.shape[0], p.shape[1]);
                chunks.extend((0..cols).map(|first| Chunk {
                    param,
                    first,
                    step: cols,
                    count: rows,
                }));
            } else {
                let len = p.values.len();
                chunks.extend((0..len).step_by(CHUNK).map(|first| Chunk {
                    param,
                    first,
                    step: 1,
                    count: CHUNK.min(len - first),
                }));
            }
        }
        chunks
    }

    /// Every chunk on this thread, skipping those that cannot hold a failure
    /// earlier (in parameter order) than one already found.
    fn serial(&self) -> Vec<(Chunk, Part)> {
        let mut scratch = Scratch::default();
        let mut parts = Vec::new();
        let mut first_failure: Option<(usize, usize)> = None;
        for chunk in self.chunks() {
            if first_failure.is_some_and(|key| (chunk.param, chunk.first) >= key) {
                continue;
            }
            let part = self.part(chunk, &mut scratch);
            if let Err(failure) = &part
                && first_failure.is_none_or(|key| failure.key < key)
            {
                first_failure = Some(failure.key);
            }
            parts.push((chunk, part));
        }
        parts
    }

    /// One chunk's values, stopping at its first failure.
    fn part(&self, chunk: Chunk, scratch: &mut Scratch) -> Part {
        let mut index = std::mem::take(&mut scratch.index);
        let shape = &self.params[chunk.param].shape;
        let values = chunk
            .elements()
            .map(|e| {
                unravel_into(e, shape, &mut index);
                self.element(chunk.param, e, &index, scratch)
            })
            .collect();
        scratch.index = index;
        values
    }

    /// The gradients from the chunks' values, or the first failure in
    /// parameter order.
    fn assemble(&self, parts: Vec<(Chunk, Part)>) -> Result<Grads> {
        let mut values: Vec<Vec<f64>> = self
            .params
            .iter()
            .map(|p| vec![0.0; p.values.len()])
            .collect();
        let mut first: Option<Failure> = None;
        for (chunk, part) in parts {
            match part {
                Ok(v) => {
                    for (e, v) in chunk.elements().zip(v) {
                        values[chunk.param][e] = v;
                    }
                }
                Err(failure) => {
                    if first.as_ref().is_none_or(|f| failure.key < f.key) {
                        first = Some(failure);
                    }
                }
            }
        }
        if let Some(failure) = first {
            return Err(failure.error);
        }
        let mut grads = Grads::default();
        for (p, v) in self.params.iter().zip(values) {
            let grad = ArrayD::from_shape_vec(IxDyn(&p.shape), v).expect("one value per element");
            grads.push(p.name.as_str(), grad);
        }
        Ok(grads)
    }

    /// `∂L/∂θ` for element `e` of parameter `g` by the book's central
    /// difference: the shortcuts when both probes allow them, the brute
    /// force's way from the parameter's stage otherwise.
    fn element(
        &self,
        g: usize,
        e: usize,
        index: &[usize],
        scratch: &mut Scratch,
    ) -> std::result::Result<f64, Failure> {
        let h = BOOK_STEP;
        let p = &self.params[g];
        let value = p.values[e];
        let (plus, minus) = (value + h, value - h);
        if let Some(fast) = &self.fast {
            let up = fast.loss_change(self.stages, p, (index, e), plus, scratch);
            let down = fast.loss_change(self.stages, p, (index, e), minus, scratch);
            if let (Some(up), Some(down)) = (up, down)
                && (fast.loss + up).is_finite()
                && (fast.loss + down).is_finite()
            {
                return Ok((up - down) / (2.0 * h));
            }
        }
        let fail = |error| Failure { key: (g, e), error };
        let at = || format!("{} index {}", p.name, check::index_text(index));
        let fxh1 = self.loss_at(g, index, e, plus);
        let fxh2 = self.loss_at(g, index, e, minus);
        let fxh1 = check::finite_scalar("the loss at +h", at, fxh1.map_err(fail)?).map_err(fail)?;
        let fxh2 = check::finite_scalar("the loss at -h", at, fxh2.map_err(fail)?).map_err(fail)?;
        Ok((fxh1 - fxh2) / (2.0 * h))
    }

    /// The loss with element `e` (at `index`) of parameter `g` set to `value`,
    /// as the brute force computes it but from the cached input of the
    /// parameter's stage.
    fn loss_at(&self, g: usize, index: &[usize], e: usize, value: f64) -> Result<f64> {
        let p = &self.params[g];
        let Some(input) = self.base.values.get(p.stage) else {
            // An earlier stage (or the input check) failed, whatever θ holds.
            return Err(self
                .base
                .error
                .clone()
                .expect("the unperturbed pass failed"));
        };
        let mut a = self.stages[p.stage].forward_with(p.local, index, value, input.clone())?;
        for stage in &self.stages[p.stage + 1..] {
            a = stage.forward(a)?;
        }
        let loss = head_loss(a, self.base.t, self.base.delta)?;
        let stage = &self.stages[p.stage];
        let penalty = if self.penalty.is_finite() {
            self.penalty - stage.penalty(p.local, p.values[e]) + stage.penalty(p.local, value)
        } else {
            total_penalty(self.stages, self.params, Some((g, e, value)))
        };
        Ok(loss + penalty)
    }
}

impl Fast<'_> {
    /// `L(θ_e = value) − L(θ)` by the shortcuts, or `None` where they do not
    /// apply (a failing or non-finite stage, a non-finite score or term).
    fn loss_change(
        &self,
        stages: &[Box<dyn Stage + '_>],
        p: &Param,
        (index, e): (&[usize], usize),
        value: f64,
        scratch: &mut Scratch,
    ) -> Option<f64> {
        let k = p.stage;
        let terms = match (self.affine_probe(p, index, value), &self.tails[k + 1]) {
            // The usual case, without building the change: an Affine
            // stage's output column goes straight into a linear tail.
            (Some((j, rows, factors, step)), Some(tail)) => {
                let old = self.values[k + 1].col(j);
                let value = |r: usize| old[r] + factors[r] * step;
                let rows: &[u64] = if step == 0.0 { &[] } else { rows };
                self.with_rest(stages, (k + 1, j), scratch, |row, rest| {
                    tail.masked_column_change(&self.head, (j, old), rows, value, row, rest)
                })?
            }
            _ => {
                let mut change = scratch.take();
                if !self.probe(stages, p, index, value, &mut change, scratch) {
                    scratch.give(change);
                    return None;
                }
                self.carry(stages, k + 1, change, true, scratch)?
            }
        };
        let stage = &stages[k];
        let penalty = stage.penalty(p.local, value) - stage.penalty(p.local, p.values[e]);
        Some(-terms / self.head.rows as f64 + penalty)
    }

    /// The change of the output of `p`'s stage when its element `index` is
    /// `value`, into `out`; `false` if it is not finite or the stage fails.
    fn probe(
        &self,
        stages: &[Box<dyn Stage + '_>],
        p: &Param,
        index: &[usize],
        value: f64,
        out: &mut Change,
        scratch: &mut Scratch,
    ) -> bool {
        let k = p.stage;
        let (input, output) = (self.values[k], self.values[k + 1]);
        if let Some((j, _, factors, step)) = self.affine_probe(p, index, value) {
            out.column = Some(j);
            for (r, v) in column_entries(factors, output.col(j), step) {
                out.push(r, v);
            }
            return out.finite();
        }
        match (&self.kinds[k], p.local) {
            (Kind::Columnwise(map), local) => {
                let c = index[0];
                let Scratch {
                    column_in,
                    column_out,
                    ..
                } = scratch;
                column_in.clear();
                column_in.extend_from_slice(input.col(c));
                column_out.clear();
                column_out.resize(output.rows, 0.0);
                map.column(c, column_in, Some((local, value)), column_out);
                out.column = Some(c);
                for (r, (&v, &old)) in column_out.iter().zip(output.col(c)).enumerate() {
                    if v != old {
                        out.push(r, v);
                    }
                }
            }
            _ => {
                let new = stages[k].forward_with(p.local, index, value, self.owned(k));
                return rows_changed(new, output, out);
            }
        }
        out.finite()
    }

    /// For a probe of an Affine stage's `W[i, j]` or `b[j]`: the output
    /// column `j`, the rows it moves (those with a non-zero factor), each
    /// row's factor of the step (`x[:, i]`, or 1 for `b`) and the step
    /// `value − θ`.
    #[allow(clippy::type_complexity)]
    fn affine_probe(
        &self,
        p: &Param,
        index: &[usize],
        value: f64,
    ) -> Option<(usize, &[u64], &[f64], f64)> {
        match &self.kinds[p.stage] {
            Kind::Affine {
                w,
                outputs,
                nonzero,
                ..
            } if p.local == 0 => {
                let (i, j) = (index[0], index[1]);
                let input = self.values[p.stage];
                let rows = &nonzero[i * words(input.rows)..(i + 1) * words(input.rows)];
                Some((j, rows, input.col(i), value - w[i * outputs + j]))
            }
            Kind::Affine { b, .. } => {
                let j = index[0];
                Some((j, &self.all_rows, &self.ones, value - b[j]))
            }
            _ => None,
        }
    }

    /// Stage value `X_s`, owned.
    fn owned(&self, s: usize) -> ArrayD<f64> {
        self.arrays[s].clone()
    }

    /// `Σ_r (term_r − base_r)` over the rows of the scores that `change` (of
    /// the input of stage `s`) reaches; through a linear tail where one
    /// applies and `tails` allows it. `None` where the shortcuts do not apply.
    fn carry(
        &self,
        stages: &[Box<dyn Stage + '_>],
        mut s: usize,
        change: Change,
        tails: bool,
        scratch: &mut Scratch,
    ) -> Option<f64> {
        let last = self.kinds.len();
        let mut current = change;
        let result = loop {
            if current.rows.is_empty() {
                break Some(0.0);
            }
            if s == last {
                break self.head_change(&current, scratch);
            }
            if tails && let (Some(c), Some(tail)) = (current.column, &self.tails[s]) {
                let entries = current
                    .rows
                    .iter()
                    .copied()
                    .zip(current.values.iter().copied());
                break self.through_tail(stages, s, tail, c, entries, scratch);
            }
            let mut next = scratch.take();
            if !self.propagate(stages, s, &current, &mut next, scratch) {
                scratch.give(next);
                break None;
            }
            scratch.give(std::mem::replace(&mut current, next));
            s += 1;
        };
        scratch.give(current);
        result
    }

    /// [`carry`](Self::carry) of a one-column change through the linear
    /// tail from stage `s`; rows whose change reaches a kink go through the
    /// stages.
    fn through_tail(
        &self,
        stages: &[Box<dyn Stage + '_>],
        s: usize,
        tail: &Tail,
        c: usize,
        entries: impl Iterator<Item = (usize, f64)>,
        scratch: &mut Scratch,
    ) -> Option<f64> {
        let old = self.values[s].col(c);
        debug_assert_eq!(tail.width(), self.values[s].cols);
        self.with_rest(stages, (s, c), scratch, |row, rest| {
            tail.column_change(&self.head, (c, old), entries, row, rest)
        })
    }

    /// `run(row, rest)` — a tail's sum over a one-column change of the input
    /// of stage `s`, with a scratch row of scores and the rows it leaves
    /// (`rest`, column `c`) — plus those rows carried through the stages.
    fn with_rest(
        &self,
        stages: &[Box<dyn Stage + '_>],
        (s, c): (usize, usize),
        scratch: &mut Scratch,
        run: impl FnOnce(&mut [f64], &mut Change) -> Option<f64>,
    ) -> Option<f64> {
        let mut rest = scratch.take();
        rest.column = Some(c);
        let mut row = std::mem::take(&mut scratch.row);
        row.resize(self.head.classes, 0.0);
        let sum = run(&mut row, &mut rest);
        scratch.row = row;
        let Some(sum) = sum else {
            scratch.give(rest);
            return None;
        };
        Some(sum + self.carry(stages, s, rest, false, scratch)?)
    }

    /// The change of the output of stage `s` for the change `from` of its
    /// input, into `to`; `false` if it is not finite or the stage fails.
    fn propagate(
        &self,
        stages: &[Box<dyn Stage + '_>],
        s: usize,
        from: &Change,
        to: &mut Change,
        scratch: &mut Scratch,
    ) -> bool {
        let (input, output) = (self.values[s], self.values[s + 1]);
        match (&self.kinds[s], from.column) {
            (Kind::Elementwise { map, .. }, Some(c)) => {
                to.column = Some(c);
                let old = output.col(c);
                for (&r, &v) in from.rows.iter().zip(&from.values) {
                    let y = map.apply(r, c, v);
                    if y != old[r] {
                        to.push(r, y);
                    }
                }
            }
            (Kind::Elementwise { map, .. }, None) => {
                for (&r, values) in from.rows.iter().zip(from.values.chunks(input.cols)) {
                    let start = to.values.len();
                    let mut moved = false;
                    for ((c, &v), &old) in values.iter().enumerate().zip(output.row(r)) {
                        let y = map.apply(r, c, v);
                        moved |= y != old;
                        to.values.push(y);
                    }
                    if moved {
                        to.rows.push(r);
                    } else {
                        to.values.truncate(start);
                    }
                }
            }
            (Kind::Affine { w, outputs, .. }, Some(c)) => {
                let w = &w[c * outputs..(c + 1) * outputs];
                let old = input.col(c);
                for (&r, &v) in from.rows.iter().zip(&from.values) {
                    let d = v - old[r];
                    if d == 0.0 {
                        continue;
                    }
                    to.rows.push(r);
                    to.values
                        .extend(output.row(r).iter().zip(w).map(|(&y, &w)| y + d * w));
                }
            }
            (Kind::Affine { w, outputs, .. }, None) => {
                for (&r, values) in from.rows.iter().zip(from.values.chunks(input.cols)) {
                    let start = to.values.len();
                    to.values.extend_from_slice(output.row(r));
                    let row = &mut to.values[start..];
                    for ((i, &v), &old) in values.iter().enumerate().zip(input.row(r)) {
                        let d = v - old;
                        if d != 0.0 {
                            for (y, &w) in row.iter_mut().zip(&w[i * outputs..(i + 1) * outputs]) {
                                *y += d * w;
                            }
                        }
                    }
                    to.rows.push(r);
                }
            }
            (Kind::Columnwise(map), Some(c)) => {
                let Scratch {
                    column_in,
                    column_out,
                    ..
                } = scratch;
                column_in.clear();
                column_in.extend_from_slice(input.col(c));
                for (&r, &v) in from.rows.iter().zip(&from.values) {
                    column_in[r] = v;
                }
                column_out.clear();
                column_out.resize(output.rows, 0.0);
                map.column(c, column_in, None, column_out);
                to.column = Some(c);
                for (r, (&v, &old)) in column_out.iter().zip(output.col(c)).enumerate() {
                    if v != old {
                        to.push(r, v);
                    }
                }
            }
            _ => {
                let mut x = self.owned(s);
                {
                    let Some(data) = x.as_slice_mut() else {
                        return false;
                    };
                    let cols = input.cols;
                    match from.column {
                        Some(c) => {
                            for (&r, &v) in from.rows.iter().zip(&from.values) {
                                data[r * cols + c] = v;
                            }
                        }
                        None => {
                            for (&r, values) in from.rows.iter().zip(from.values.chunks(cols)) {
                                data[r * cols..(r + 1) * cols].copy_from_slice(values);
                            }
                        }
                    }
                }
                return rows_changed(stages[s].forward(x), output, to);
            }
        }
        to.finite()
    }

    /// `Σ_r (term_r − base_r)` over the rows of the scores that `change` moves.
    fn head_change(&self, change: &Change, scratch: &mut Scratch) -> Option<f64> {
        let classes = self.head.classes;
        let mut sum = 0.0;
        match change.column {
            Some(c) => {
                let mut row = std::mem::take(&mut scratch.row);
                row.resize(classes, 0.0);
                let mut finite = true;
                for (&r, &v) in change.rows.iter().zip(&change.values) {
                    row.copy_from_slice(self.head.scores(r));
                    row[c] = v;
                    match self.head.change(r, &row) {
                        Some(term) => sum += term,
                        None => {
                            finite = false;
                            break;
                        }
                    }
                }
                scratch.row = row;
                finite.then_some(sum)
            }
            None => {
                for (&r, row) in change.rows.iter().zip(change.values.chunks(classes)) {
                    sum += self.head.change(r, row)?;
                }
                Some(sum)
            }
        }
    }
}

/// The entries `(r, y[r] + x[r]·step)` of an output column `y` whose row
/// factor `x[r]` (and the step) are not zero: the rows an Affine probe moves.
fn column_entries<'s>(
    factors: &'s [f64],
    output: &'s [f64],
    step: f64,
) -> impl Iterator<Item = (usize, f64)> + 's {
    factors
        .iter()
        .zip(output)
        .enumerate()
        .filter(move |&(_, (&x, _))| x != 0.0 && step != 0.0)
        .map(move |(r, (&x, &y))| (r, y + x * step))
}

/// The rows of a stage's full new output that differ from the cached
/// `output`, into `to`; `false` if the stage failed, its output has another
/// shape, or a changed row is not finite.
fn rows_changed(new: Result<ArrayD<f64>>, output: Matrix<'_>, to: &mut Change) -> bool {
    let Ok(new) = new else {
        return false;
    };
    let new = standard(new);
    let fits =
        new.ndim() >= 2 && new.shape()[0] == output.rows && new.len() == output.rows * output.cols;
    let Some(data) = new.as_slice().filter(|_| fits) else {
        return false;
    };
    for (r, row) in data.chunks(output.cols.max(1)).enumerate() {
        if row != output.row(r) {
            to.rows.push(r);
            to.values.extend_from_slice(row);
        }
    }
    to.column = None;
    to.finite()
}

#[cfg(test)]
mod tests {
    //! The machinery on a toy staged model defined here (the networks'
    //! tests are beside their `StagedModel` implementations and in
    //! `tests/structured_gradient.rs`).

    use super::*;
    use crate::numerical_gradient::central::unravel;
    use ndarray::{Array1, Array2, ArrayViewD, array};

    /// `x · W + b`, described as Affine when `describe`.
    struct ToyAffine<'a> {
        w: &'a Array2<f64>,
        b: &'a Array1<f64>,
        describe: bool,
    }

    fn affine(w: &Array2<f64>, b: &Array1<f64>, input: ArrayD<f64>) -> Result<ArrayD<f64>> {
        let x = input
            .into_dimensionality::<Ix2>()
            .map_err(|_| KobaiError::Empty { what: "x".into() })?;
        if x.ncols() != w.nrows() {
            return Err(KobaiError::Shape {
                what: "toy input".into(),
                expected: format!("expected {} columns", w.nrows()),
                found: x.shape().to_vec(),
            });
        }
        Ok((x.dot(w) + b).into_dyn())
    }

    impl Stage for ToyAffine<'_> {
        fn params(&self) -> Vec<(String, ArrayViewD<'_, f64>)> {
            vec![
                ("W".into(), self.w.view().into_dyn()),
                ("b".into(), self.b.view().into_dyn()),
            ]
        }
        fn forward(&self, input: ArrayD<f64>) -> Result<ArrayD<f64>> {
            affine(self.w, self.b, input)
        }
        fn forward_with(
            &self,
            param: usize,
            index: &[usize],
            value: f64,
            input: ArrayD<f64>,
        ) -> Result<ArrayD<f64>> {
            let (mut w, mut b) = (self.w.clone(), self.b.clone());
            if param == 0 {
                w[[index[0], index[1]]] = value;
            } else {
                b[index[0]] = value;
            }
            affine(&w, &b, input)
        }
        fn penalty(&self, param: usize, value: f64) -> f64 {
            if param == 0 {
                0.05 * value * value
            } else {
                0.0
            }
        }
        fn incremental(&self, _input: &ArrayD<f64>) -> Option<Incremental<'_>> {
            self.describe.then(|| Incremental::Affine {
                w: self.w.view(),
                b: self.b.view(),
            })
        }
    }

    /// ReLU, described with its slopes when `describe`.
    struct ToyRelu {
        describe: bool,
    }

    impl Stage for ToyRelu {
        fn forward(&self, input: ArrayD<f64>) -> Result<ArrayD<f64>> {
            Ok(input.mapv(|v| if v <= 0.0 { 0.0 } else { v }))
        }
        fn forward_with(
            &self,
            _: usize,
            _: &[usize],
            _: f64,
            input: ArrayD<f64>,
        ) -> Result<ArrayD<f64>> {
            self.forward(input)
        }
        fn incremental(&self, input: &ArrayD<f64>) -> Option<Incremental<'_>> {
            let slope = input.iter().map(|&v| f64::from(v > 0.0)).collect();
            let reach = input.iter().map(|v| v.abs()).collect();
            self.describe.then(|| {
                Incremental::Elementwise(
                    Elementwise::new(|_, _, v| if v <= 0.0 { 0.0 } else { v })
                        .with_slopes(slope, reach),
                )
            })
        }
    }

    /// Each column centred and scaled by its own factor: column-wise.
    struct ToyCentre<'a> {
        s: &'a Array1<f64>,
        describe: bool,
    }

    impl ToyCentre<'_> {
        fn run(s: &Array1<f64>, input: ArrayD<f64>) -> ArrayD<f64> {
            let mean = input.mean_axis(ndarray::Axis(0)).unwrap_or_default();
            (input - mean) * s
        }
    }

    impl Columnwise for ToyCentre<'_> {
        fn column(&self, c: usize, x: &[f64], with: Option<(usize, f64)>, out: &mut [f64]) {
            let s = with.map_or(self.s[c], |(_, v)| v);
            let mean = x.iter().sum::<f64>() / x.len() as f64;
            for (o, v) in out.iter_mut().zip(x) {
                *o = (v - mean) * s;
            }
        }
    }

    impl Stage for ToyCentre<'_> {
        fn params(&self) -> Vec<(String, ArrayViewD<'_, f64>)> {
            vec![("s".into(), self.s.view().into_dyn())]
        }
        fn forward(&self, input: ArrayD<f64>) -> Result<ArrayD<f64>> {
            Ok(Self::run(self.s, input))
        }
        fn forward_with(
            &self,
            _: usize,
            index: &[usize],
            value: f64,
            input: ArrayD<f64>,
        ) -> Result<ArrayD<f64>> {
            let mut s = self.s.clone();
            s[index[0]] = value;
            Ok(Self::run(&s, input))
        }
        fn incremental(&self, _input: &ArrayD<f64>) -> Option<Incremental<'_>> {
            self.describe.then(|| {
                Incremental::Columnwise(Box::new(ToyCentre {
                    s: self.s,
                    describe: true,
                }))
            })
        }
    }

    /// Affine → centre → ReLU → Affine, with a penalty on the weights.
    struct Toy {
        w1: Array2<f64>,
        b1: Array1<f64>,
        s: Array1<f64>,
        w2: Array2<f64>,
        b2: Array1<f64>,
        describe: bool,
        /// Describe the first Affine with the wrong weights (it must be refused).
        misdescribe: Option<Array2<f64>>,
    }

    impl StagedModel for Toy {
        fn stages(&self) -> Vec<Box<dyn Stage + '_>> {
            let d = self.describe;
            vec![
                Box::new(ToyAffine {
                    w: &self.w1,
                    b: &self.b1,
                    describe: d,
                }),
                Box::new(ToyCentre {
                    s: &self.s,
                    describe: d,
                }),
                Box::new(ToyRelu { describe: d }),
                Box::new(ToyAffine {
                    w: &self.w2,
                    b: &self.b2,
                    describe: d,
                }),
            ]
        }

        fn check_input(&self, x: &ArrayRef2<f64>) -> Result<()> {
            check::finite("x", x)
        }
    }

    fn toy(describe: bool) -> Toy {
        let grid = |r: usize, c: usize, k: f64| ((r * 7 + c * 3) as f64 * k).sin();
        Toy {
            w1: Array2::from_shape_fn((5, 4), |(r, c)| grid(r, c, 0.7)),
            b1: Array1::from_shape_fn(4, |c| 0.1 * grid(c, 1, 1.3)),
            s: array![1.2, -0.7, 0.9, 1.5],
            w2: Array2::from_shape_fn((4, 3), |(r, c)| grid(r, c, 1.1)),
            b2: array![0.2, -0.1, 0.05],
            describe,
            misdescribe: None,
        }
    }

    fn inputs() -> (Array2<f64>, Vec<usize>) {
        let x = Array2::from_shape_fn((6, 5), |(r, c)| {
            let v = ((r * 5 + c) as f64 * 0.37).cos();
            if v < 0.0 { 0.0 } else { v }
        });
        (x, vec![0, 2, 1, 1, 0, 2])
    }

    /// The book's central difference by rerunning every stage from `x`.
    fn reference(model: &Toy, x: &Array2<f64>, labels: &[usize], delta: f64) -> Vec<f64> {
        let stages = model.stages();
        let loss = |owner: usize, p: usize, index: &[usize], value: f64| -> f64 {
            let mut a = x.clone().into_dyn();
            for (s, stage) in stages.iter().enumerate() {
                a = if s == owner {
                    stage.forward_with(p, index, value, a)
                } else {
                    stage.forward(a)
                }
                .expect("valid");
            }
            let t = Targets::from(labels);
            let mut penalty = 0.0;
            for (s, stage) in stages.iter().enumerate() {
                for (q, (_, v)) in stage.params().iter().enumerate() {
                    for (e, &w) in v.iter().enumerate() {
                        let own = s == owner && q == p && unravel(e, v.shape()) == index;
                        penalty += stage.penalty(q, if own { value } else { w });
                    }
                }
            }
            head_loss(a, &t, delta).expect("valid") + penalty
        };
        let mut out = Vec::new();
        for (s, stage) in stages.iter().enumerate() {
            for (p, (_, v)) in stage.params().iter().enumerate() {
                for (e, &w) in v.iter().enumerate() {
                    let index = unravel(e, v.shape());
                    let (up, down) = (
                        loss(s, p, &index, w + BOOK_STEP),
                        loss(s, p, &index, w - BOOK_STEP),
                    );
                    out.push((up - down) / (2.0 * BOOK_STEP));
                }
            }
        }
        out
    }

    fn flat(grads: &Grads) -> Vec<f64> {
        grads
            .iter()
            .flat_map(|(_, g)| g.iter().copied().collect::<Vec<_>>())
            .collect()
    }

    fn assert_close(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        let worst = a
            .iter()
            .zip(b)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-9, "max difference {worst:e}");
    }

    #[test]
    fn described_and_undescribed_stages_match_the_reruns() {
        let (x, labels) = inputs();
        for delta in [0.0, 1e-7] {
            let expected = reference(&toy(true), &x, &labels, delta);
            for describe in [true, false] {
                let model = toy(describe);
                let grads = layered_numerical_gradient(&model, &x, &(&labels).into(), delta)
                    .expect("valid");
                assert_eq!(grads.names().collect::<Vec<_>>(), ["W", "b", "s", "W", "b"]);
                assert_close(&flat(&grads), &expected);
            }
        }
    }

    #[test]
    fn the_shortcuts_apply_only_where_the_description_fits() {
        let (x, labels) = inputs();
        let model = toy(true);
        let stages = model.stages();
        let params = Param::collect(&stages);
        let t = Targets::from(&labels);
        let base = Base::run(&model, &stages, &x, &t, 1e-7);
        let probes = Probes::new(&stages, &params, &base);
        let fast = probes.fast.as_ref().expect("a finite pass");
        assert!(matches!(fast.kinds[0], Kind::Affine { .. }));
        assert!(matches!(fast.kinds[1], Kind::Columnwise(_)));
        assert!(matches!(
            fast.kinds[2],
            Kind::Elementwise { linear: true, .. }
        ));
        // The tail from the ReLU serves the centre's probes; the last
        // Affine's probes use the empty tail at the scores.
        assert!(fast.tails[2].is_some() && fast.tails[4].is_some());
        assert!(fast.tails[1].is_none() && fast.tails[3].is_none());
        // The head's terms are the loss.
        let terms: f64 = fast.head.base_terms().iter().sum();
        let loss = base.head_loss.expect("a loss");
        assert!((-terms / 6.0 - loss).abs() < 1e-15);
    }

    #[test]
    fn a_wrong_description_is_refused_not_trusted() {
        struct Liar(Toy);
        impl StagedModel for Liar {
            fn stages(&self) -> Vec<Box<dyn Stage + '_>> {
                let mut stages = self.0.stages();
                if let Some(w) = &self.0.misdescribe {
                    stages[0] = Box::new(Misdescribed {
                        honest: ToyAffine {
                            w: &self.0.w1,
                            b: &self.0.b1,
                            describe: false,
                        },
                        w,
                        b: &self.0.b1,
                    });
                }
                stages
            }
        }
        struct Misdescribed<'a> {
            honest: ToyAffine<'a>,
            w: &'a Array2<f64>,
            b: &'a Array1<f64>,
        }
        impl Stage for Misdescribed<'_> {
            fn params(&self) -> Vec<(String, ArrayViewD<'_, f64>)> {
                self.honest.params()
            }
            fn forward(&self, input: ArrayD<f64>) -> Result<ArrayD<f64>> {
                self.honest.forward(input)
            }
            fn forward_with(
                &self,
                p: usize,
                i: &[usize],
                v: f64,
                x: ArrayD<f64>,
            ) -> Result<ArrayD<f64>> {
                self.honest.forward_with(p, i, v, x)
            }
            fn penalty(&self, p: usize, v: f64) -> f64 {
                self.honest.penalty(p, v)
            }
            fn incremental(&self, _input: &ArrayD<f64>) -> Option<Incremental<'_>> {
                Some(Incremental::Affine {
                    w: self.w.view(),
                    b: self.b.view(),
                })
            }
        }
        let (x, labels) = inputs();
        let mut model = toy(true);
        model.misdescribe = Some(model.w1.mapv(|v| v + 1.0));
        let expected = reference(&model, &x, &labels, 1e-7);
        let grads =
            layered_numerical_gradient(&Liar(model), &x, &(&labels).into(), 1e-7).expect("valid");
        assert_close(&flat(&grads), &expected);
    }

    #[test]
    fn errors_come_in_the_brute_forces_order() {
        let (x, labels) = inputs();
        let model = toy(true);
        let mut bad = x.clone();
        bad[[1, 1]] = f64::INFINITY;
        let err = layered_numerical_gradient(&model, &bad, &(&labels).into(), 0.0)
            .expect_err("x is checked");
        assert_eq!(
            err.to_string(),
            "x is inf at index [1, 1]; expected a finite number"
        );
        let err = layered_numerical_gradient(
            &model,
            &Array2::from_shape_fn((6, 4), |(r, c)| x[[r, c]]),
            &(&labels).into(),
            0.0,
        )
        .expect_err("the first stage refuses");
        assert!(matches!(err, KobaiError::Shape { .. }));
        let err = layered_numerical_gradient(&model, &x, &(&labels[..5]).into(), 0.0)
            .expect_err("the head refuses");
        assert!(matches!(err, KobaiError::Shape { .. }));
        let err = layered_numerical_gradient(&model, &x, &(&labels).into(), -1.0)
            .expect_err("a bad delta");
        assert!(matches!(err, KobaiError::Hyperparameter { .. }));
    }

    #[cfg(feature = "parallel")]
    #[test]
    fn parallel_is_bit_identical_to_serial() {
        let (x, labels) = inputs();
        for describe in [true, false] {
            let model = toy(describe);
            let t = Targets::from(&labels);
            let serial = layered_numerical_gradient(&model, &x, &t, 1e-7).expect("valid");
            for min_work in [0, usize::MAX] {
                let parallel = par_with_threshold(&model, &x, &t, 1e-7, min_work).expect("valid");
                let bits = |g: &Grads| flat(g).iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&parallel), bits(&serial));
            }
            let mut bad = x.clone();
            bad[[0, 0]] = f64::NAN;
            let serial = layered_numerical_gradient(&model, &bad, &t, 1e-7).expect_err("NaN");
            let parallel = par_with_threshold(&model, &bad, &t, 1e-7, 0).expect_err("NaN");
            assert_eq!(parallel.to_string(), serial.to_string());
        }
    }
}
