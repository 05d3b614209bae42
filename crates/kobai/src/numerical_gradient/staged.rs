//! [`StagedModel`]: a model whose loss is computed in stages, described so
//! that [`layered_numerical_gradient`](super::layered_numerical_gradient) can
//! perturb one parameter, reuse every stage before the one that owns it, and
//! recompute only what the perturbation really changes.
//!
//! The numerical gradient sees a model only through these traits: stages that
//! run forward, name their parameters, and optionally say what kind of map they
//! are ([`Incremental`]), so that a change confined to a few entries can be
//! carried forward without rerunning the whole stage.

use ndarray::{ArrayD, ArrayRef2, ArrayView1, ArrayView2, ArrayViewD};

use crate::error::Result;

/// A model whose loss on a batch is computed in stages, the output of each the
/// input of the next, followed by the book's softmax-with-cross-entropy head and
/// a penalty that is a sum over parameter elements:
///
/// ```text
/// X_0 = x,  X_{s+1} = stage_s(X_s),  scores = X_L
/// loss = −(1/N) Σ_n log(softmax(scores)[n, t_n] + delta)  +  Σ_s Σ_p Σ_e penalty_{s,p}(θ_e)
/// ```
///
/// The head is [`softmax`](crate::softmax) then
/// [`cross_entropy_error_with_delta`](crate::functions::cross_entropy_error_with_delta),
/// with their errors; the last stage's output must be a matrix, one row of
/// class scores per sample. The parameters, in the model's parameter order,
/// are those of stage 0, then stage 1, and so on.
///
/// For [`layered_numerical_gradient`](super::layered_numerical_gradient) to
/// compute what the brute force
/// [`model_numerical_gradient`](super::model_numerical_gradient) computes, the
/// stages, the head and the penalty must together be the model's
/// `loss_with_delta`, and [`check_input`](StagedModel::check_input) must give
/// the errors the model gives before its first stage runs.
///
/// Softmax regression, `scores = x · W + b`: one stage, described as Affine
/// so that a probe of `W[i, j]` only moves score column `j` by `x[:, i]·step`:
///
/// ```
/// use kobai::numerical_gradient::{Incremental, Stage, StagedModel, layered_numerical_gradient};
/// use kobai::{KobaiError, Result};
/// use ndarray::{Array1, Array2, ArrayD, ArrayViewD, Ix2, array};
///
/// struct SoftmaxRegression { w: Array2<f64>, b: Array1<f64> }
///
/// /// Its one stage, on the model's arrays.
/// struct Linear<'a> { w: &'a Array2<f64>, b: &'a Array1<f64> }
///
/// fn scores(w: &Array2<f64>, b: &Array1<f64>, input: ArrayD<f64>) -> Result<ArrayD<f64>> {
///     let found = input.shape().to_vec();
///     let x = input.into_dimensionality::<Ix2>().map_err(|_| KobaiError::Shape {
///         what: "x".into(),
///         expected: "expected a matrix".into(),
///         found,
///     })?;
///     Ok((x.dot(w) + b).into_dyn())
/// }
///
/// impl Stage for Linear<'_> {
///     fn params(&self) -> Vec<(String, ArrayViewD<'_, f64>)> {
///         vec![("W".into(), self.w.view().into_dyn()), ("b".into(), self.b.view().into_dyn())]
///     }
///     fn forward(&self, input: ArrayD<f64>) -> Result<ArrayD<f64>> {
///         scores(self.w, self.b, input)
///     }
///     fn forward_with(&self, param: usize, index: &[usize], value: f64, input: ArrayD<f64>) -> Result<ArrayD<f64>> {
///         let (mut w, mut b) = (self.w.clone(), self.b.clone());
///         match param {
///             0 => w[[index[0], index[1]]] = value,
///             _ => b[index[0]] = value,
///         }
///         scores(&w, &b, input)
///     }
///     fn incremental(&self, _input: &ArrayD<f64>) -> Option<Incremental<'_>> {
///         Some(Incremental::Affine { w: self.w.view(), b: self.b.view() })
///     }
/// }
///
/// impl StagedModel for SoftmaxRegression {
///     fn stages(&self) -> Vec<Box<dyn Stage + '_>> {
///         vec![Box::new(Linear { w: &self.w, b: &self.b })]
///     }
/// }
///
/// let model = SoftmaxRegression { w: array![[0.5, -0.2], [0.1, 0.4]], b: array![0.1, -0.1] };
/// let (x, labels) = (array![[1.0, 2.0], [0.5, -1.0]], [1usize, 0]);
/// let grads = layered_numerical_gradient(&model, &x, &(&labels).into(), 0.0)?;
///
/// // The same central difference, by the book's numerical_gradient of W ↦ loss.
/// let loss = |w: &ndarray::ArrayRef2<f64>| {
///     let y = kobai::softmax(&(x.dot(w) + &model.b))?;
///     kobai::functions::cross_entropy_error_with_delta(&y, &labels, 0.0)
/// };
/// let book = kobai::numerical_gradient(loss, &model.w)?;
/// assert!((&grads["W"] - &book.into_dyn()).iter().all(|d| d.abs() < 1e-9));
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub trait StagedModel: Sync {
    /// The stages, in order.
    fn stages(&self) -> Vec<Box<dyn Stage + '_>>;

    /// Checks `x` as the model's loss does before its first stage (by
    /// default: nothing). Networks refuse NaN and ±inf here.
    ///
    /// # Errors
    /// The model's errors for a bad `x`.
    fn check_input(&self, x: &ArrayRef2<f64>) -> Result<()> {
        let _ = x;
        Ok(())
    }
}

/// One stage of a [`StagedModel`]: a map from one array (one sample per
/// row of its first axis) to the next.
///
/// Only [`forward`](Stage::forward) and
/// [`forward_with`](Stage::forward_with) are required; with them alone every
/// probe of a parameter reruns its stage and every later one (the brute force,
/// minus the stages before). [`incremental`](Stage::incremental) lets the
/// numerical gradient do much less. See [`StagedModel`] for an example.
///
/// ```
/// use kobai::numerical_gradient::Stage;
/// use kobai::Result;
/// use ndarray::{ArrayD, array};
///
/// /// Doubles its input; no parameters, no description.
/// struct Double;
///
/// impl Stage for Double {
///     fn forward(&self, input: ArrayD<f64>) -> Result<ArrayD<f64>> { Ok(input * 2.0) }
///     fn forward_with(&self, _: usize, _: &[usize], _: f64, input: ArrayD<f64>) -> Result<ArrayD<f64>> {
///         self.forward(input)
///     }
/// }
///
/// let x = array![[1.0, -0.5]].into_dyn();
/// assert_eq!(Double.forward(x.clone())?, array![[2.0, -1.0]].into_dyn());
/// assert!(Double.params().is_empty() && Double.incremental(&x).is_none());
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub trait Stage: Sync {
    /// The stage's parameters, named as the model names them, in the model's
    /// parameter order (by default none).
    fn params(&self) -> Vec<(String, ArrayViewD<'_, f64>)> {
        Vec::new()
    }

    /// The stage's output for `input`.
    ///
    /// # Errors
    /// The errors the model's loss gives for this stage.
    fn forward(&self, input: ArrayD<f64>) -> Result<ArrayD<f64>>;

    /// The stage's output for `input` with element `index` of parameter
    /// `param` (its position in [`params`](Stage::params)) set to `value`, the
    /// other parameters unchanged. Only called for stages with parameters.
    ///
    /// # Errors
    /// As [`forward`](Stage::forward).
    fn forward_with(
        &self,
        param: usize,
        index: &[usize],
        value: f64,
        input: ArrayD<f64>,
    ) -> Result<ArrayD<f64>>;

    /// What one element of parameter `param` adds to the loss when it holds
    /// `value` (by default 0). Weight decay `½ λ Σ W²` is `½ λ v²` per element.
    fn penalty(&self, param: usize, value: f64) -> f64 {
        let _ = (param, value);
        0.0
    }

    /// What kind of map the stage is, given its (unperturbed) `input`, so that
    /// a change in a few entries of its input or of one parameter element can
    /// be carried to its output without rerunning it (by default `None`: every
    /// probe that reaches the stage reruns it in full).
    ///
    /// The description must be exact: the numerical gradient trusts it, and a
    /// wrong one gives wrong numbers (the tests compare with the brute force).
    fn incremental(&self, input: &ArrayD<f64>) -> Option<Incremental<'_>> {
        let _ = input;
        None
    }
}

/// A stage's description for incremental updates: what a probe of one of its
/// parameter elements changes, and how a change of its input reaches its
/// output. Arrays are seen as matrices: the first axis is the row (the
/// sample), the other axes are flattened, row-major, into columns.
///
/// | description      | a probe of                  | changes output          | a change in column `c` of some rows |
/// |------------------|-----------------------------|-------------------------|-------------------------------------|
/// | `Affine`         | `W[i, j]` by `s`            | column `j` by `x[:, i]·s` (rows with `x[r, i] ≠ 0`) | those rows, all columns |
/// |                  | `b[j]` by `s`               | column `j` by `s`, every row |                                |
/// | `Elementwise`    | —                           |                         | the same entries (fewer, where the map does not move) |
/// | `Columnwise`     | element `c` of a parameter  | column `c`, every row   | column `c`, every row               |
///
/// Piecewise-linear element-wise stages (ReLU, Dropout's fixed mask) also say
/// where they are linear ([`Elementwise::with_slopes`]); a run of stages to
/// the scores made only of those and `Affine` stages is, row by row and in a
/// known neighbourhood, a linear map, which the numerical gradient applies
/// instead of the stages.
///
/// ```
/// use kobai::numerical_gradient::{Elementwise, Incremental};
/// use ndarray::array;
///
/// let (w, b) = (array![[1.0, 2.0], [3.0, 4.0]], array![0.5, -0.5]);
/// let affine = Incremental::Affine { w: w.view(), b: b.view() };
/// let relu = Incremental::Elementwise(Elementwise::new(|_row, _col, v| v.max(0.0)));
/// assert!(matches!(affine, Incremental::Affine { .. }));
/// assert!(matches!(relu, Incremental::Elementwise(_)));
/// ```
pub enum Incremental<'a> {
    /// `y = x · W + b`, row by row. The stage's parameters must be exactly
    /// `W` (inputs × outputs) and then `b` (one per output), these arrays.
    Affine {
        /// The weights, inputs × outputs.
        w: ArrayView2<'a, f64>,
        /// The bias, one per output.
        b: ArrayView1<'a, f64>,
    },
    /// `y[r, c] = f(r, c, x[r, c])`; the stage has no parameters.
    Elementwise(Elementwise<'a>),
    /// Column `c` of the output depends only on column `c` of the input (all
    /// rows) and on element `c` of each parameter (each a vector with one
    /// element per column): BatchNorm in training.
    Columnwise(Box<dyn Columnwise + 'a>),
}

/// An element-wise map `y[r, c] = f(r, c, x[r, c])`, and optionally where it
/// is linear.
///
/// ```
/// use kobai::numerical_gradient::Elementwise;
///
/// // ReLU at the input [[-1.0, 2.0]]: slope 0 then 1; linear while each
/// // input moves by less than its distance to 0.
/// let input = [-1.0, 2.0];
/// let relu = Elementwise::new(|_, _, v: f64| if v <= 0.0 { 0.0 } else { v })
///     .with_slopes(
///         input.iter().map(|&v| if v > 0.0 { 1.0 } else { 0.0 }).collect(),
///         input.iter().map(|v: &f64| v.abs()).collect(),
///     );
/// assert_eq!(relu.apply(0, 1, 3.0), 3.0);
/// assert_eq!(relu.slopes(), Some((&[0.0, 1.0][..], &[1.0, 2.0][..])));
/// ```
pub struct Elementwise<'a> {
    map: Box<dyn Fn(usize, usize, f64) -> f64 + Send + Sync + 'a>,
    slopes: Option<(Vec<f64>, Vec<f64>)>,
}

impl<'a> Elementwise<'a> {
    /// The map `f(row, column, x)`, exactly as the stage computes each element.
    pub fn new(map: impl Fn(usize, usize, f64) -> f64 + Send + Sync + 'a) -> Self {
        Elementwise {
            map: Box::new(map),
            slopes: None,
        }
    }

    /// The same map, piecewise linear: at the stage's input, element `e`
    /// (row-major) has slope `slope[e]`, and `f(x + d) = f(x) + slope[e]·d`
    /// holds exactly (in real arithmetic) for every `|d| < reach[e]`. ReLU:
    /// slope 1 where `x > 0`, else 0, and reach `|x|`; a fixed mask: slope the
    /// mask, reach infinite.
    pub fn with_slopes(mut self, slope: Vec<f64>, reach: Vec<f64>) -> Self {
        self.slopes = Some((slope, reach));
        self
    }

    /// `f(row, column, x)`.
    pub fn apply(&self, row: usize, column: usize, x: f64) -> f64 {
        (self.map)(row, column, x)
    }

    /// The slopes and reaches, if the map is piecewise linear.
    pub fn slopes(&self) -> Option<(&[f64], &[f64])> {
        self.slopes
            .as_ref()
            .map(|(slope, reach)| (slope.as_slice(), reach.as_slice()))
    }
}

/// A stage whose output column `c` is a function of its input column `c`
/// alone (all rows together) and of element `c` of each of its parameters.
///
/// ```
/// use kobai::numerical_gradient::Columnwise;
///
/// /// Each column scaled by its own factor and centred.
/// struct Centre { scale: Vec<f64> }
///
/// impl Columnwise for Centre {
///     fn column(&self, c: usize, x: &[f64], with: Option<(usize, f64)>, out: &mut [f64]) {
///         let scale = match with { Some((0, v)) => v, _ => self.scale[c] };
///         let mean = x.iter().sum::<f64>() / x.len() as f64;
///         for (o, v) in out.iter_mut().zip(x) { *o = scale * (v - mean); }
///     }
/// }
///
/// let mut out = [0.0; 2];
/// Centre { scale: vec![2.0] }.column(0, &[1.0, 3.0], None, &mut out);
/// assert_eq!(out, [-2.0, 2.0]);
/// ```
pub trait Columnwise: Sync {
    /// Output column `c` for input column `x` (one value per row), written to
    /// `out`; with `with = Some((p, v))`, element `c` of parameter `p` is `v`
    /// instead of its own value.
    fn column(&self, c: usize, x: &[f64], with: Option<(usize, f64)>, out: &mut [f64]);
}
