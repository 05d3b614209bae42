//! The fast gradient check: directional derivatives along random ±1 directions,
//! and bisection to locate a bad element.
//!
//! ## The guarantee
//!
//! Let `e = g − ∇L` be the error of the gradient `g` under test. Along a
//! direction `v` the check compares `g·v` with a numerical directional
//! derivative `D` whose error is within its estimate, and flags `|g·v − D| > τ`
//! (`τ` = the estimate plus the rounding of `g·v`). So it flags every
//! direction with `|e·v| > 2τ`.
//!
//! - A single wrong element `e_i` with `|e_i| > 2τ` is **always** caught: with
//!   `v_i = ±1`, `|e·v| = |e_i|`.
//! - Any error whose largest element exceeds `2τ` is missed by one direction
//!   with probability at most 1/2 (flipping that element's sign moves `e·v` by
//!   more than `4τ`, so at most one of the two signs hides it), and by `k`
//!   independent directions with probability at most `2⁻ᵏ`.
//!
//! `τ` is reported per direction; on the book's 784-50-10 network it is about
//! 1e-9, far below a 1 % error in any element that matters.
//!
//! Cost: one numerical derivative (8 loss evaluations, 16 if redone) per
//! direction, whatever the number of parameters, and `⌈log₂ n⌉` more to
//! bisect. The bisection follows the half that disagrees; if several elements
//! are wrong it finds one of them.

use ndarray::ArrayRef2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{KobaiError, Result};
use crate::functions::Targets;
use crate::model::{Backprop, Grads, Model};
use crate::numerical_gradient::{Derivative, FiniteDiff, Status, Step, unravel};

/// The largest step along a direction: every parameter moves by it at once,
/// so it is smaller than [`CHECK_STEP`](super::CHECK_STEP) to stay clear of ReLU kinks.
pub const PROJECTION_STEP: f64 = 1e-6;

/// The step a direction is redone at when its derivative does not settle.
const PROJECTION_RECHECK_STEP: f64 = 1e-8;

/// One direction's comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    /// `g · v`, from the gradient under test.
    pub analytic: f64,
    /// The numerical directional derivative.
    pub numerical: f64,
    /// The difference allowed, `τ`: the numerical error estimate plus the rounding of `g · v`.
    pub allowed: f64,
    /// The numerical derivative's status.
    pub status: Status,
}

impl Projection {
    /// Whether `|analytic − numerical| ≤ allowed`.
    pub fn agreed(&self) -> bool {
        (self.analytic - self.numerical).abs() <= self.allowed
    }
}

/// The element the bisection ended at.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    /// The parameter's name.
    pub tensor: String,
    /// The element's index in it.
    pub index: Vec<usize>,
    /// The gradient under test there.
    pub analytic: f64,
    /// The numerical partial derivative there.
    pub numerical: f64,
    /// The difference allowed there.
    pub allowed: f64,
}

/// The result of [`projection_check`] / [`gradient_check_fast`].
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionCheck {
    /// The random directions, in order.
    pub projections: Vec<Projection>,
    /// Where the bisection ended, if a direction disagreed.
    pub located: Option<Located>,
    /// Loss evaluations in all.
    pub evaluations: usize,
    /// The number of parameters.
    pub parameters: usize,
}

impl ProjectionCheck {
    /// Whether every direction agreed.
    pub fn passed(&self) -> bool {
        self.projections.iter().all(Projection::agreed)
    }

    /// The bound on the probability that an error whose largest element
    /// exceeds [`threshold`](Self::threshold) went unnoticed: `2⁻ᵏ` for `k` directions.
    pub fn miss_probability(&self) -> f64 {
        0.5f64.powi(i32::try_from(self.projections.len()).unwrap_or(i32::MAX))
    }

    /// `2τ` for the least sensitive direction: errors larger than this in one
    /// element are always caught, and in general missed with at most
    /// [`miss_probability`](Self::miss_probability).
    pub fn threshold(&self) -> f64 {
        2.0 * self
            .projections
            .iter()
            .map(|p| p.allowed)
            .fold(0.0, f64::max)
    }
}

/// Checks a model's backprop gradient along `directions` random ±1 directions
/// drawn from ChaCha8 seeded with `seed`; see the module docs for the guarantee.
///
/// # Errors
/// The errors of the model's loss and backprop; [`KobaiError::Hyperparameter`]
/// if `directions` is 0.
///
/// ```
/// use kobai::{gradient_check_fast, TwoLayerNet};
/// use ndarray::array;
/// let net = TwoLayerNet::new(3, 5, 2, 0.5, 3)?;
/// let x = array![[0.1, 0.9, 0.4], [0.7, 0.2, 0.5]];
/// let report = gradient_check_fast(&net, &x, &(&[1usize, 0]).into(), 8, 0)?;
/// assert!(report.passed() && report.located.is_none());
/// assert!(report.miss_probability() <= 1.0 / 256.0);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn gradient_check_fast<M: Backprop>(
    model: &M,
    x: &ArrayRef2<f64>,
    t: &Targets<'_>,
    directions: usize,
    seed: u64,
) -> Result<ProjectionCheck> {
    let (_, analytic) = model.gradient(x, t)?;
    projection_check(model, x, t, &analytic, directions, seed)
}

/// [`gradient_check_fast`] for a gradient you computed yourself: `analytic`
/// must have the model's parameter names, order and shapes.
///
/// # Errors
/// [`KobaiError::Shape`] if `analytic` does not match the parameters; as
/// [`gradient_check_fast`] otherwise.
///
/// ```
/// use kobai::{Backprop, TwoLayerNet};
/// use kobai::gradient_check::projection_check;
/// use ndarray::array;
/// let net = TwoLayerNet::new(3, 5, 2, 0.5, 3)?;
/// let (x, t) = (array![[0.1, 0.9, 0.4], [0.7, 0.2, 0.5]], (&[1usize, 0]).into());
/// let (_, mut g) = net.gradient(&x, &t)?;
/// g.get_mut("W1").unwrap()[[2, 4]] *= 1.01; // a 1 % bug in one element
/// let report = projection_check(&net, &x, &t, &g, 1, 0)?;
/// let found = report.located.expect("the bug is found");
/// assert_eq!((found.tensor.as_str(), found.index.as_slice()), ("W1", &[2, 4][..]));
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn projection_check<M: Model>(
    model: &M,
    x: &ArrayRef2<f64>,
    t: &Targets<'_>,
    analytic: &Grads,
    directions: usize,
    seed: u64,
) -> Result<ProjectionCheck> {
    if directions == 0 {
        return Err(KobaiError::Hyperparameter {
            name: "directions",
            value: "0".into(),
            expected: "at least 1",
        });
    }
    let mut line = Line::new(model, x, t, analytic)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = line.base.len();
    let mut projections = Vec::with_capacity(directions);
    let mut located = None;
    for _ in 0..directions {
        let v: Vec<f64> = (0..n)
            .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
            .collect();
        let p = line.compare(&v)?;
        projections.push(p);
        if !p.agreed() && located.is_none() {
            located = Some(line.bisect(&v)?);
        }
    }
    Ok(ProjectionCheck {
        projections,
        located,
        evaluations: line.evaluations,
        parameters: n,
    })
}

/// The loss along a direction through the model's parameters.
struct Line<'a, 't, M> {
    probe: M,
    x: &'a ArrayRef2<f64>,
    t: &'a Targets<'t>,
    /// The parameters, flattened in parameter order, row-major.
    base: Vec<f64>,
    /// The gradient under test, flattened the same way.
    g: Vec<f64>,
    /// (name, shape, offset) of each parameter.
    layout: Vec<(String, Vec<usize>, usize)>,
    evaluations: usize,
}

impl<'a, 't, M: Model> Line<'a, 't, M> {
    fn new(model: &M, x: &'a ArrayRef2<f64>, t: &'a Targets<'t>, analytic: &Grads) -> Result<Self> {
        let (mut base, mut g, mut layout) = (Vec::new(), Vec::new(), Vec::new());
        for (name, p) in model.params() {
            let Some(a) = analytic.get(&name).filter(|a| a.shape() == p.shape()) else {
                return Err(KobaiError::Shape {
                    what: format!("the gradient of {name}"),
                    expected: format!("expected shape {:?}", p.shape()),
                    found: analytic.get(&name).map_or(vec![], |a| a.shape().to_vec()),
                });
            };
            crate::check::finite(&format!("the gradient of {name}"), a)?;
            layout.push((name, p.shape().to_vec(), base.len()));
            base.extend(p.iter());
            g.extend(a.iter());
        }
        Ok(Line {
            probe: model.clone(),
            x,
            t,
            base,
            g,
            layout,
            evaluations: 0,
        })
    }

    /// Sets the probe's parameters to `base + s · v`.
    fn set(&mut self, s: f64, v: &[f64]) {
        let mut k = 0;
        for (_, mut p) in self.probe.params_mut() {
            for value in p.iter_mut() {
                *value = self.base[k] + s * v[k];
                k += 1;
            }
        }
    }

    /// The directional derivative along `v`, redone at a smaller step if it does not settle.
    fn derivative(&mut self, v: &[f64]) -> Result<Derivative> {
        let mut best: Option<Derivative> = None;
        for step in [PROJECTION_STEP, PROJECTION_RECHECK_STEP] {
            let fd = FiniteDiff::accurate().step(Step::Fixed(step));
            let d = fd.derivative(
                |s| {
                    self.set(s, v);
                    self.probe.loss_with_delta(self.x, self.t, 0.0)
                },
                0.0,
            );
            self.set(0.0, v);
            let d = d?;
            self.evaluations += d.evaluations;
            if d.status.is_trusted() {
                return Ok(d);
            }
            if best.is_none_or(|b| d.error < b.error) {
                best = Some(d);
            }
        }
        Ok(best.expect("at least one step was tried"))
    }

    /// Compares `g · v` with the numerical directional derivative.
    fn compare(&mut self, v: &[f64]) -> Result<Projection> {
        let d = self.derivative(v)?;
        let (dot, magnitude) = self
            .g
            .iter()
            .zip(v)
            .fold((0.0, 0.0), |(s, m), (g, v)| (s + g * v, m + (g * v).abs()));
        let terms = v.iter().filter(|x| **x != 0.0).count() as f64;
        let rounding = (super::BACKPROP_ULPS + terms) * f64::EPSILON * magnitude;
        Ok(Projection {
            analytic: dot,
            numerical: d.value,
            allowed: d.error.unwrap_or(f64::INFINITY) + rounding,
            status: d.status,
        })
    }

    /// Halves the support of `v` until one element is left, keeping the half
    /// that disagrees.
    fn bisect(&mut self, v: &[f64]) -> Result<Located> {
        let (mut lo, mut hi) = (0, v.len());
        let mut part = vec![0.0; v.len()];
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            part.iter_mut().for_each(|p| *p = 0.0);
            part[lo..mid].copy_from_slice(&v[lo..mid]);
            if self.compare(&part)?.agreed() {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        part.iter_mut().for_each(|p| *p = 0.0);
        part[lo] = 1.0;
        let p = self.compare(&part)?;
        let (tensor, shape, offset) = self
            .layout
            .iter()
            .rev()
            .find(|(_, _, offset)| *offset <= lo)
            .expect("every element belongs to a parameter");
        Ok(Located {
            tensor: (*tensor).to_string(),
            index: unravel(lo - offset, shape),
            analytic: p.analytic,
            numerical: p.numerical,
            allowed: p.allowed,
        })
    }
}
