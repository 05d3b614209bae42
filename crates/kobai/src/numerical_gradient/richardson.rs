//! Central differences at halving steps, extrapolated (Richardson) to cancel the
//! `h²`, `h⁴`, `h⁶` error terms, with an error estimate from the tableau.
//!
//! The step adapts to the function; 8 evaluations when the first tableau settles:
//! 1. A probe at `h = 1e-5 · |x|` (`1e-5` at `x = 0`; `|x|` is floored at
//!    √(smallest normal) so that no step is subnormal) gives the size of the
//!    derivative and of `f` near `x`.
//! 2. If rounding (`≈ 4ε·|f| / h`) would cost more than `1e-12` of the
//!    derivative at the smallest step, the largest step grows until it does not
//!    (at most to `0.1 · max(|x|, 1)`): the step comes out proportional to
//!    `|f / f'|`, the length over which `f` changes by its own size. Three
//!    levels are spent at that step, and the probe checks them. Otherwise the
//!    probe is the first of four levels.
//! 3. A tableau has settled when the differences between levels shrink as the
//!    theory says and keep their sign, for the quotients and for the even parts
//!    `(f(x + h) + f(x − h)) / 2`, and it agrees with the probe. If not, it is
//!    redone once at a step 32 times smaller (16 evaluations in all), and
//!    otherwise reported [`Status::Unreliable`].
//!
//! When `f` is NaN or infinite at a probe point the step shrinks; when it stays
//! so on one side, forward or backward differences (with `f(x)`) are used.

use super::estimate::{Derivative, Status};
use super::jacobian::{FIRST_DIFFERENCES, Level, adaptive};
use crate::error::{KobaiError, Result};

/// The relative probe step of stage 1.
pub(crate) const PROBE: f64 = 1e-5;
/// The relative rounding error aimed for at the smallest step.
pub(crate) const ROUNDING_TARGET: f64 = 1e-12;
/// How many ulps of `|f|` one evaluation of `f` is assumed to be off by.
pub(crate) const F_ULPS: f64 = 4.0;
/// How much larger than the probe's own error bound a grown table's error
/// estimate may be before a smaller step is tried (the estimates are
/// conservative, so a fair comparison allows some slack).
pub(crate) const PROBE_MARGIN: f64 = 100.0;
/// The largest step, relative to `max(|x|, 1)`.
pub(crate) const MAX_RELATIVE_STEP: f64 = 0.1;

/// A value of `f` that was NaN or infinite at a probe point.
#[derive(Debug)]
pub(crate) enum Failure {
    /// `f` returned an error.
    Function(KobaiError),
    /// `f` was not finite at `point` (written as `what`, e.g. `"f(x + h)"`).
    NonFinite { what: &'static str, value: f64 },
}

impl From<KobaiError> for Failure {
    fn from(e: KobaiError) -> Self {
        Failure::Function(e)
    }
}

/// Evaluations of `f` along one coordinate, counted; `f(x)` is shared.
pub(crate) struct Line<'a, E> {
    pub(crate) eval: &'a mut E,
    pub(crate) x: f64,
    pub(crate) evaluations: usize,
    pub(crate) fx: &'a mut Option<f64>,
}

impl<E: FnMut(f64) -> Result<f64>> Line<'_, E> {
    /// `f` with the coordinate set to `point`.
    pub(crate) fn at(&mut self, point: f64) -> Result<f64> {
        self.evaluations += 1;
        (self.eval)(point)
    }

    /// `f(x)`, evaluated at most once per gradient.
    pub(crate) fn center(&mut self) -> Result<f64> {
        match *self.fx {
            Some(v) => Ok(v),
            None => {
                let v = self.at(self.x)?;
                *self.fx = Some(v);
                Ok(v)
            }
        }
    }
}

/// Which way the differences look from `x`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Side {
    Both,
    Plus,
    Minus,
}

/// One difference quotient: its value, its rounding bound, and whether `f` was finite.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Quotient {
    pub(crate) value: f64,
    pub(crate) noise: f64,
    /// `(f(x + h) + f(x − h)) / 2` for central differences: the even part,
    /// which must also change smoothly with `h` if `f` is smooth.
    even: Option<f64>,
    /// The larger of `|f|` at the two points.
    scale: f64,
}

impl Quotient {
    /// The central quotient `(f_hi − f_lo) / width` of two finite values, with
    /// the same arithmetic as the scalar algorithm's.
    pub(crate) fn central(f_hi: f64, f_lo: f64, width: f64) -> Self {
        let scale = f_hi.abs().max(f_lo.abs());
        Quotient {
            value: (f_hi - f_lo) / width,
            noise: 2.0 * F_ULPS * f64::EPSILON * scale / width,
            even: Some(0.5 * (f_hi + f_lo)),
            scale,
        }
    }

    /// A quotient with a known rounding bound and no even part (e.g. a
    /// second difference).
    pub(crate) fn plain(value: f64, noise: f64) -> Self {
        Quotient {
            value,
            noise,
            even: None,
            scale: 0.0,
        }
    }
}

/// The result of trying one difference: finite, or which side failed.
#[derive(Clone, Copy)]
enum Probe {
    Finite(Quotient),
    PlusFailed(f64),
    MinusFailed(f64),
}

fn quotient<E: FnMut(f64) -> Result<f64>>(
    line: &mut Line<'_, E>,
    side: Side,
    h: f64,
) -> Result<Probe> {
    let x = line.x;
    let (lo, hi) = match side {
        Side::Both => (x - h, x + h),
        Side::Plus => (x, x + h),
        Side::Minus => (x - h, x),
    };
    let f_hi = if side == Side::Minus {
        line.center()?
    } else {
        line.at(hi)?
    };
    if !f_hi.is_finite() {
        return Ok(Probe::PlusFailed(f_hi));
    }
    let f_lo = if side == Side::Plus {
        line.center()?
    } else {
        line.at(lo)?
    };
    if !f_lo.is_finite() {
        return Ok(Probe::MinusFailed(f_lo));
    }
    let width = hi - lo;
    let scale = f_hi.abs().max(f_lo.abs());
    Ok(Probe::Finite(Quotient {
        value: (f_hi - f_lo) / width,
        noise: 2.0 * F_ULPS * f64::EPSILON * scale / width,
        even: (side == Side::Both).then_some(0.5 * (f_hi + f_lo)),
        scale,
    }))
}

/// The nearest power of two, so that halving is exact.
pub(crate) fn power_of_two(h: f64) -> f64 {
    2f64.powi(h.log2().round() as i32)
}

/// The accurate derivative along one coordinate (see the module docs): the
/// step search of [`adaptive`] on one output, with forward or backward
/// differences when `f` stays not finite on one side of `x`.
pub(crate) fn accurate<E: FnMut(f64) -> Result<f64>>(
    line: &mut Line<'_, E>,
    first_step: Option<f64>,
) -> std::result::Result<Derivative, Failure> {
    let x = line.x;
    // Below √(smallest normal) a step relative to |x| would be subnormal.
    let scale = if x.abs() < f64::MIN_POSITIVE.sqrt() {
        if x == 0.0 {
            1.0
        } else {
            f64::MIN_POSITIVE.sqrt()
        }
    } else {
        x.abs()
    };
    // What the search saw: the last step tried, whether any level was
    // finite, and the last difference that was not.
    let (mut last_step, mut any_finite, mut failed) = (0.0, false, None);
    let result = {
        let mut level = |h: f64| -> Result<Level> {
            last_step = h;
            match quotient(line, Side::Both, h)? {
                Probe::Finite(q) => {
                    any_finite = true;
                    Ok(Ok(vec![q]))
                }
                probe => {
                    let error = match finite_or_fail(probe) {
                        Err(Failure::NonFinite { what, value }) => KobaiError::NonFinite {
                            what: what.into(),
                            at: "the step search".into(),
                            value,
                        },
                        _ => unreachable!("a failed probe is not finite"),
                    };
                    failed = Some(probe);
                    Ok(Err(error))
                }
            }
        };
        let probe_step = power_of_two(PROBE * scale);
        adaptive(&FIRST_DIFFERENCES, x, probe_step, first_step, &mut level)
    };
    match result {
        Ok(entries) => {
            let entry = &entries[0];
            Ok(Derivative {
                value: entry.value,
                error: Some(entry.error),
                status: entry.status,
                evaluations: line.evaluations,
            })
        }
        // The probe was never finite, even at steps a million times smaller.
        Err(KobaiError::NonFinite { .. }) if !any_finite && first_step.is_none() => {
            let probe = failed.ok_or(Failure::NonFinite {
                what: "f(x + h)",
                value: f64::NAN,
            })?;
            one_sided(line, probe, last_step, scale)
        }
        Err(KobaiError::NonFinite { .. }) => match failed.map(finite_or_fail) {
            Some(Err(failure)) => Err(failure),
            _ => Err(Failure::NonFinite {
                what: "f(x + h)",
                value: f64::NAN,
            }),
        },
        Err(e) => Err(Failure::Function(e)),
    }
}

/// Forward or backward differences when `f` is not finite on one side of `x`.
fn one_sided<E: FnMut(f64) -> Result<f64>>(
    line: &mut Line<'_, E>,
    failed: Probe,
    h: f64,
    scale: f64,
) -> std::result::Result<Derivative, Failure> {
    let (side, what, value) = match failed {
        Probe::PlusFailed(v) => (Side::Minus, "f(x + h)", v),
        Probe::MinusFailed(v) => (Side::Plus, "f(x - h)", v),
        Probe::Finite(_) => unreachable!("one_sided is called after a failure"),
    };
    let mut step = power_of_two(1e-3 * scale);
    while step >= h {
        if let Some(t) = try_tableau(line, side, &halvings(step, 4))? {
            return Ok(finish(line, t, Status::OneSided));
        }
        step /= 64.0;
    }
    Err(Failure::NonFinite { what, value })
}

pub(crate) fn halvings(h: f64, n: usize) -> Vec<f64> {
    (0..n).map(|k| h / f64::from(1u32 << k)).collect()
}

fn finite_or_fail(p: Probe) -> std::result::Result<Quotient, Failure> {
    match p {
        Probe::Finite(q) => Ok(q),
        Probe::PlusFailed(value) => Err(Failure::NonFinite {
            what: "f(x + h)",
            value,
        }),
        Probe::MinusFailed(value) => Err(Failure::NonFinite {
            what: "f(x - h)",
            value,
        }),
    }
}

/// A tableau at the given steps; an error if `f` is not finite at any of them.
fn tableau<E: FnMut(f64) -> Result<f64>>(
    line: &mut Line<'_, E>,
    side: Side,
    steps: &[f64],
) -> std::result::Result<Table, Failure> {
    let mut levels = Vec::with_capacity(steps.len());
    for &h in steps {
        levels.push(finite_or_fail(quotient(line, side, h)?)?);
    }
    Ok(Table::new(
        levels,
        steps.to_vec(),
        if side == Side::Both { 2 } else { 1 },
    ))
}

/// A tableau at the given steps; `None` if `f` is not finite at one of them.
fn try_tableau<E: FnMut(f64) -> Result<f64>>(
    line: &mut Line<'_, E>,
    side: Side,
    steps: &[f64],
) -> std::result::Result<Option<Table>, Failure> {
    match tableau(line, side, steps) {
        Ok(t) => Ok(Some(t)),
        Err(Failure::NonFinite { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

fn finish<E>(line: &Line<'_, E>, t: Table, found: Status) -> Derivative {
    let (value, error) = t.best();
    Derivative {
        value,
        error: Some(error),
        status: if t.settled() {
            found
        } else {
            Status::Unreliable
        },
        evaluations: line.evaluations,
    }
}

/// The Richardson tableau: `t[k][j]` is level `k` after `j` extrapolations,
/// `noise[k][j]` its rounding bound.
pub(crate) struct Table {
    steps: Vec<f64>,
    /// The even parts of the central levels (empty for one-sided tables).
    even: Vec<(f64, f64)>,
    t: Vec<Vec<f64>>,
    noise: Vec<Vec<f64>>,
    /// The exponent of the leading error term: 2 (central) or 1 (one-sided).
    order: i32,
    /// False when an outside check (the probe) disagrees with the table.
    consistent: bool,
}

impl Table {
    pub(crate) fn new(levels: Vec<Quotient>, steps: Vec<f64>, order: i32) -> Self {
        let even = levels
            .iter()
            .filter_map(|q| q.even.map(|e| (e, F_ULPS * f64::EPSILON * q.scale)))
            .collect();
        let mut t: Vec<Vec<f64>> = Vec::with_capacity(levels.len());
        let mut noise: Vec<Vec<f64>> = Vec::with_capacity(levels.len());
        for (k, q) in levels.iter().enumerate() {
            let mut row = vec![q.value];
            let mut nrow = vec![q.noise];
            for j in 1..=k {
                let factor = 2f64.powi(order * j as i32) - 1.0;
                let prev = &t[k - 1];
                row.push(row[j - 1] + (row[j - 1] - prev[j - 1]) / factor);
                nrow.push(nrow[j - 1] * (1.0 + 1.0 / factor) + noise[k - 1][j - 1] / factor);
            }
            t.push(row);
            noise.push(nrow);
        }
        Table {
            steps,
            even,
            t,
            noise,
            order,
            consistent: true,
        }
    }

    /// The coefficient `c` of `D(h) ≈ f' + c·h²`, from the first two levels.
    pub(crate) fn curvature(&self) -> f64 {
        let (h0, h1) = (self.steps[0], self.steps[1]);
        (self.t[1][0] - self.t[0][0]) / (h1 * h1 - h0 * h0)
    }

    /// Marks the table unsettled if the central difference `probe` at step `h`
    /// disagrees with it by more than the table's error estimate, the probe's
    /// rounding bound and its truncation `|c|·h²` allow (`c` from the
    /// largest-step table: see [`curvature`](Self::curvature)).
    pub(crate) fn check_against(&mut self, h: f64, probe: &Quotient, curvature: f64) {
        let (value, error) = self.best();
        let truncation = curvature.abs() * h * h;
        let allowed = error + 4.0 * probe.noise + 2.0 * truncation;
        self.consistent &= (value - probe.value).abs() <= allowed;
    }

    /// The entry with the smallest error estimate: (value, error).
    pub(crate) fn best(&self) -> (f64, f64) {
        let mut best = (self.t[0][0], f64::INFINITY);
        for k in 1..self.t.len() {
            for j in 1..=k {
                let v = self.t[k][j];
                let diff = (v - self.t[k][j - 1])
                    .abs()
                    .max((v - self.t[k - 1][j - 1]).abs());
                let err = diff + self.noise[k][j];
                if err < best.1 {
                    best = (v, err);
                }
            }
        }
        best
    }

    /// Whether successive differences shrink as the theory says (by 4× for
    /// central, 2× for one-sided, allowing a factor 2), ignoring differences
    /// already at the rounding level. Both the quotients and, for central
    /// differences, the even parts `(f(x + h) + f(x − h)) / 2` are checked, so
    /// that noise in `f` rarely passes for convergence.
    pub(crate) fn settled(&self) -> bool {
        let allowed = 2f64.powi(-self.order) * 2.0;
        let quotients: Vec<(f64, f64)> = (0..self.t.len())
            .map(|k| (self.t[k][0], self.noise[k][0]))
            .collect();
        self.consistent && shrinking(&quotients, allowed) && shrinking(&self.even, 0.5)
    }
}

/// Whether the differences of successive `(value, rounding)` pairs keep their
/// sign and shrink by at least `1 / allowed` each time (a leading `c·hᵖ` term
/// does both), or are within the rounding.
fn shrinking(levels: &[(f64, f64)], allowed: f64) -> bool {
    let diffs: Vec<(f64, f64)> = levels
        .windows(2)
        .map(|w| (w[1].0 - w[0].0, 4.0 * (w[0].1 + w[1].1)))
        .collect();
    diffs.windows(2).all(|w| {
        let (before, (now, rounding)) = (w[0].0, w[1]);
        now.abs() <= rounding || (now * before > 0.0 && now.abs() <= allowed * before.abs())
    })
}
