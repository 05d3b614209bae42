//! The loss end of the structure-aware numerical gradient: the softmax head,
//! row by row, and the linear tails that carry a one-column change straight to
//! the scores.

use ndarray::{Array2, ArrayView2};

use super::layered::{Change, words};
use crate::functions::{exp_shifted_row, softmax_entry};

/// The unperturbed softmax head, laid out for per-row updates.
///
/// The loss is `−(1/N) Σ_r log(softmax(scores[r])[t_r] + delta)`; a probe that
/// changes a few rows changes only their terms.
pub(super) struct Head {
    /// Rows (samples) N.
    pub(super) rows: usize,
    /// Classes C.
    pub(super) classes: usize,
    delta: f64,
    /// The scores, row-major: `scores[r·C + c]`.
    scores: Vec<f64>,
    labels: Vec<usize>,
    /// `log(softmax(scores[r])[t_r] + delta)`.
    base_terms: Vec<f64>,
    /// `exp(scores[r, c] − max_c scores[r, c])`, row-major.
    exps: Vec<f64>,
    /// `p / (p + delta)`, `p` the probability of row `r`'s label.
    shares: Vec<f64>,
}

impl Head {
    /// The head at finite `scores` with valid `labels`.
    pub(super) fn new(scores: ArrayView2<'_, f64>, labels: Vec<usize>, delta: f64) -> Self {
        let (rows, classes) = scores.dim();
        let scores: Vec<f64> = scores.iter().copied().collect();
        let base_terms = scores
            .chunks(classes)
            .zip(&labels)
            .map(|(row, &label)| log_prob(row, label, delta))
            .collect();
        let mut exps = scores.clone();
        exps.chunks_mut(classes).for_each(|row| {
            exp_shifted_row(row);
        });
        let shares = exps
            .chunks(classes)
            .zip(&labels)
            .map(|(row, &label)| {
                let p = row[label] / row.iter().fold(0.0, |s, &e| s + e);
                p / (p + delta)
            })
            .collect();
        Head {
            rows,
            classes,
            delta,
            scores,
            labels,
            base_terms,
            exps,
            shares,
        }
    }

    /// Every row's unperturbed term.
    pub(super) fn base_terms(&self) -> &[f64] {
        &self.base_terms
    }

    /// Row `r`'s unperturbed scores.
    #[inline]
    pub(super) fn scores(&self, r: usize) -> &[f64] {
        &self.scores[r * self.classes..(r + 1) * self.classes]
    }

    /// `term(r, row) − term(r, scores[r])` for row `r`'s new scores `row`, or
    /// `None` if a score or the term is not finite.
    #[inline]
    pub(super) fn change(&self, r: usize, row: &[f64]) -> Option<f64> {
        if row.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let term = log_prob(row, self.labels[r], self.delta);
        term.is_finite().then(|| term - self.base_terms[r])
    }
}

/// `log(softmax(row)[label] + delta)` for a row of finite scores, with the
/// book's operations: subtract the maximum, `exp`, a left-to-right sum, divide.
#[inline]
pub(super) fn log_prob(row: &[f64], label: usize, delta: f64) -> f64 {
    (softmax_entry(row, label) + delta).ln()
}

/// One stage of a linear tail, as [`Tail::build`] needs it.
pub(super) enum Link<'a> {
    /// `y = x · W + b`.
    Affine(ArrayView2<'a, f64>),
    /// `y = f(x)` element-wise, `f(x + d) = f(x) + slope·d` while `|d| < reach`
    /// (row-major over the stage's `width` columns).
    Slopes {
        slope: &'a [f64],
        reach: &'a [f64],
        width: usize,
    },
}

/// A run of stages from stage `t` to the scores that is, row by row, linear
/// near the unperturbed point: Affine stages and piecewise-linear element-wise
/// ones (ReLU, Dropout's mask).
///
/// For row `r` and input column `c` of stage `t` it holds
///
/// ```text
/// J_r[c, :]   ∂scores[r, :]/∂X_t[r, c]: the product of the W's and the slopes
/// ρ_r[c]      how far X_t[r, c] may move with every slope in row r unchanged:
///             min over the element-wise stages of reach / |∂(their input)/∂X_t[r, c]|
/// ```
///
/// so that a change `d` of `X_t[r, c]` with `|d| < ρ_r[c]` moves the scores of
/// row `r` by exactly `d · J_r[c, :]` (in real arithmetic: every kink is
/// farther than the change reaches), and the row's loss term follows from the
/// series below in O(1). Beyond `ρ` the caller carries the row through the
/// stages.
pub(super) struct Tail {
    width: usize,
    rows: usize,
    classes: usize,
    /// `J_r[c, j]` at `[(c·N + r)·C + j]`.
    jacobian: Vec<f64>,
    /// What a probe of row `r`, column `c` reads, together at
    /// `[(c·N + r)·ENTRY ..]`: `ρ_r[c]`, `max_j |J_r[c, j]|`, then the series
    /// coefficients of [`fill_moments`].
    entries: Vec<f64>,
    /// For each column `c`, the rows whose scores move with it (`J_r[c, :] ≠
    /// 0`), one bit each, [`words`] words per column.
    moving: Vec<u64>,
}

/// Values per row and column of a tail: radius, largest entry, coefficients.
const ENTRY: usize = 2 + STRIDE;

/// The Jacobian of one row so far: diagonal until the first Affine stage.
enum Partial {
    Diagonal(Vec<f64>),
    Dense(Array2<f64>),
}

impl Tail {
    /// The tail of `links` for a stage input `width` columns wide, or `None`
    /// if the links do not end in one column per class or a Jacobian entry
    /// is not finite.
    pub(super) fn build(head: &Head, width: usize, links: &[Link<'_>]) -> Option<Tail> {
        let (rows, classes) = (head.rows, head.classes);
        let mut radius = vec![f64::INFINITY; width * rows];
        let mut jacobian = vec![0.0; width * rows * classes];
        for r in 0..rows {
            let mut reach = vec![f64::INFINITY; width];
            let mut partial = Partial::Diagonal(vec![1.0; width]);
            for link in links {
                partial = step(partial, link, r, &mut reach)?;
            }
            let at = |c: usize| (c * rows + r) * classes;
            match partial {
                Partial::Diagonal(d) if d.len() == classes => {
                    for (c, &v) in d.iter().enumerate() {
                        jacobian[at(c) + c] = v;
                    }
                }
                Partial::Dense(m) if m.dim() == (width, classes) => {
                    for ((c, j), &v) in m.indexed_iter() {
                        jacobian[at(c) + j] = v;
                    }
                }
                _ => return None,
            }
            for (c, &rho) in reach.iter().enumerate() {
                radius[c * rows + r] = rho;
            }
        }
        if jacobian.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let mut entries = Vec::with_capacity(width * rows * ENTRY);
        let mut moving = vec![0u64; width * words(rows)];
        for (i, w) in jacobian.chunks(classes).enumerate() {
            let (c, r) = (i / rows, i % rows);
            let largest = w.iter().fold(0.0, |m: f64, &v| m.max(v.abs()));
            if largest != 0.0 {
                moving[c * words(rows) + r / 64] |= 1 << (r % 64);
            }
            entries.push(radius[i]);
            entries.push(largest);
            let exps = &head.exps[r * classes..(r + 1) * classes];
            fill_moments(exps, head.labels[r], w, &mut entries);
        }
        Some(Tail {
            width,
            rows,
            classes,
            jacobian,
            entries,
            moving,
        })
    }

    /// The input width of the tail's first stage.
    pub(super) fn width(&self) -> usize {
        self.width
    }

    /// `Σ_r (term_r' − term_r)` over `entries`: the rows `r` whose input
    /// column `c` of the tail now holds `v` instead of `old[r]`, each moved
    /// by `d = v − old[r]`. Rows where `d` reaches beyond `ρ_r[c]` are left
    /// to `outside(r, v)` (the caller carries them through the stages).
    /// `None` if a value, a score or a term is not finite.
    ///
    /// When `|d · J_r[c, j]| ≤ SMALL` for every class (the usual case: `d` is
    /// about `h·x`) a row's new term comes in O(1) from the series
    /// coefficients, with `p` the unperturbed probability of the label, `e_j`
    /// the max-shifted exponentials, `S = Σ_j e_j` and `w = J_r[c, :]`:
    ///
    /// ```text
    /// S' = Σ_j e_j·exp(d·w_j)                  = Σ_{k≤5} d^k/k! · M_k
    /// p' − p = p·(e^{d·w_l}·S − S') / S',   e^{d·w_l}·S − S' = Σ_{1≤k≤5} d^k/k! · D_k
    /// log(p' + δ) − log(p + δ) = log1p((p' − p)/(p + δ))
    /// ```
    ///
    /// with `log1p` by its series (its argument is below `2.1e-3`). Each
    /// truncation error is below 1e-21 relative: the same term to rounding.
    /// Otherwise
    /// the row's scores are rebuilt in `row` and scored with the book's
    /// max-subtracted softmax.
    #[inline]
    pub(super) fn column_change(
        &self,
        head: &Head,
        (c, old): (usize, &[f64]),
        entries: impl Iterator<Item = (usize, f64)>,
        row: &mut [f64],
        outside: &mut Change,
    ) -> Option<f64> {
        let column = &self.entries[c * self.rows * ENTRY..(c + 1) * self.rows * ENTRY];
        let mut sum = 0.0;
        for (r, v) in entries {
            let d = v - old[r];
            let entry = &column[r * ENTRY..(r + 1) * ENTRY];
            if !within(d, entry[0]) {
                if !v.is_finite() {
                    return None;
                }
                outside.push(r, v);
                continue;
            }
            if entry[1] == 0.0 {
                // The row's scores do not move.
                continue;
            }
            let share = head.shares[r];
            let reach = d.abs() * entry[1];
            if reach <= SMALL && share.is_finite() {
                sum += series_change(d, reach, &entry[2..], share);
            } else {
                sum += self.rescored(head, (c, r), d, row)?;
            }
        }
        Some(sum)
    }

    /// [`column_change`](Self::column_change) for the rows in the set
    /// `rows` (one bit each, see [`words`]), row `r` now holding `value(r)`:
    /// rows whose scores move are scored, the others only checked for a kink
    /// within reach, without a branch per row on which is which.
    #[inline]
    pub(super) fn masked_column_change(
        &self,
        head: &Head,
        (c, old): (usize, &[f64]),
        rows: &[u64],
        value: impl Fn(usize) -> f64,
        row: &mut [f64],
        outside: &mut Change,
    ) -> Option<f64> {
        let column = &self.entries[c * self.rows * ENTRY..(c + 1) * self.rows * ENTRY];
        let moving = &self.moving[c * words(self.rows)..(c + 1) * words(self.rows)];
        let mut sum = 0.0;
        for (word, (&set, &moves)) in rows.iter().zip(moving).enumerate() {
            let mut bits = set & moves;
            while bits != 0 {
                let r = word * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let v = value(r);
                let d = v - old[r];
                let entry = &column[r * ENTRY..(r + 1) * ENTRY];
                if !within(d, entry[0]) {
                    if !v.is_finite() {
                        return None;
                    }
                    outside.push(r, v);
                    continue;
                }
                let share = head.shares[r];
                let reach = d.abs() * entry[1];
                if reach <= SMALL && share.is_finite() {
                    sum += series_change(d, reach, &entry[2..], share);
                } else {
                    sum += self.rescored(head, (c, r), d, row)?;
                }
            }
            let mut bits = set & !moves;
            while bits != 0 {
                let r = word * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let v = value(r);
                if !within(v - old[r], column[r * ENTRY]) {
                    if !v.is_finite() {
                        return None;
                    }
                    outside.push(r, v);
                }
            }
        }
        Some(sum)
    }

    /// Row `r`'s term change when input column `c` moves by `d`, from its
    /// rebuilt scores `scores[r] + d · J_r[c, :]`.
    #[cold]
    fn rescored(
        &self,
        head: &Head,
        (c, r): (usize, usize),
        d: f64,
        row: &mut [f64],
    ) -> Option<f64> {
        let at = c * self.rows + r;
        let w = &self.jacobian[at * self.classes..(at + 1) * self.classes];
        for ((out, &s), &w) in row.iter_mut().zip(head.scores(r)).zip(w) {
            *out = s + d * w;
        }
        head.change(r, row)
    }
}

/// Whether a change `d` stays within `radius` (false for NaN).
#[inline]
fn within(d: f64, radius: f64) -> bool {
    d.abs() < radius
}

/// One link applied to row `r`'s partial Jacobian, narrowing `reach` at an
/// element-wise link; `None` if the widths do not chain.
fn step(partial: Partial, link: &Link<'_>, r: usize, reach: &mut [f64]) -> Option<Partial> {
    Some(match (partial, link) {
        (Partial::Diagonal(d), Link::Affine(w)) => {
            if d.len() != w.nrows() {
                return None;
            }
            Partial::Dense(Array2::from_shape_fn(w.dim(), |(c, k)| d[c] * w[[c, k]]))
        }
        (Partial::Dense(m), Link::Affine(w)) => {
            if m.ncols() != w.nrows() {
                return None;
            }
            Partial::Dense(m.dot(w))
        }
        (
            Partial::Diagonal(mut d),
            Link::Slopes {
                slope,
                reach: far,
                width,
            },
        ) => {
            if d.len() != *width {
                return None;
            }
            let row = r * width..(r + 1) * width;
            for ((dc, (&s, &f)), rho) in d
                .iter_mut()
                .zip(slope[row.clone()].iter().zip(&far[row]))
                .zip(reach.iter_mut())
            {
                if *dc != 0.0 {
                    *rho = rho.min(f / dc.abs());
                }
                *dc *= s;
            }
            Partial::Diagonal(d)
        }
        (
            Partial::Dense(mut m),
            Link::Slopes {
                slope,
                reach: far,
                width,
            },
        ) => {
            if m.ncols() != *width {
                return None;
            }
            let row = r * width..(r + 1) * width;
            let (slope, far) = (&slope[row.clone()], &far[row]);
            for (mut line, rho) in m.rows_mut().into_iter().zip(reach.iter_mut()) {
                for ((v, &s), &f) in line.iter_mut().zip(slope).zip(far) {
                    if *v != 0.0 {
                        *rho = rho.min(f / v.abs());
                    }
                    *v *= s;
                }
            }
            Partial::Dense(m)
        }
    })
}

/// The largest `|d·w_j|` for which the series are used.
pub(super) const SMALL: f64 = 1e-3;

/// The terms of the exponential series, `d⁰ … d⁵`: the first omitted one is
/// below `SMALL⁶/6! < 1.4e-21` relative.
const TERMS: usize = 6;

/// Coefficients per row and column: `M_0 … M_5`, `D_1 … D_5`.
const STRIDE: usize = 2 * TERMS - 1;

/// `k!` for `k = 0..=5`.
const FACTORIALS: [f64; TERMS] = [1.0, 1.0, 2.0, 6.0, 24.0, 120.0];

/// The series coefficients of one row and direction `w`, with `e_j` the row's
/// max-shifted exponentials and `l` its label, each divided by `k!`:
///
/// ```text
/// M_k = Σ_j e_j · w_j^k                (k = 0..5)
/// D_k = Σ_j e_j · (w_l^k − w_j^k)      (k = 1..5)
/// ```
fn fill_moments(exps: &[f64], label: usize, w: &[f64], moments: &mut Vec<f64>) {
    let mut w_label = [1.0; TERMS];
    for k in 1..TERMS {
        w_label[k] = w_label[k - 1] * w[label];
    }
    let mut m = [0.0; STRIDE];
    for (&e, &w) in exps.iter().zip(w) {
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

/// Below this `|d·w_j|` the series stop at `d⁴` and `log1p` at `u⁵`.
const TINY: f64 = 1e-4;

/// A row's term change `log1p(share · (e^{d·w_l}·S − S') / S')` from its
/// coefficients `m` (see [`fill_moments`]), for `|d·w_j| ≤ reach ≤ SMALL`:
/// to `d⁵` and `u⁷`, or, when `reach ≤ TINY` (the usual case), to `d⁴` and
/// `u⁵`, whose first omitted terms are below `TINY⁵/5! < 8.4e-23` (relative
/// to each exponential) and `(2.1·TINY)⁶/6 < 1.5e-23`.
#[inline(always)]
fn series_change(d: f64, reach: f64, m: &[f64], share: f64) -> f64 {
    if reach <= TINY {
        let total = m[0] + d * (m[1] + d * (m[2] + d * (m[3] + d * m[4])));
        let numerator = d * (m[TERMS] + d * (m[TERMS + 1] + d * (m[TERMS + 2] + d * m[TERMS + 3])));
        log1p_tiny(share * numerator / total)
    } else {
        let total = m[0] + d * series(d, &m[1..TERMS]);
        let numerator = d * series(d, &m[TERMS..]);
        log1p_small(share * numerator / total)
    }
}

/// `log(1 + u)` for `|u| <= 2.1e-4` by its series to `u⁵/5`.
#[inline]
fn log1p_tiny(u: f64) -> f64 {
    u * (1.0 + u * (-0.5 + u * (1.0 / 3.0 + u * (-0.25 + u * 0.2))))
}

/// `Σ_k d^k · coefficients[k]` by Horner's rule.
#[inline]
fn series(d: f64, coefficients: &[f64]) -> f64 {
    coefficients.iter().rev().fold(0.0, |acc, &a| a + d * acc)
}

/// `log(1 + u)` for `|u| <= 2.1e-3` by its series to `u⁷/7`: the first omitted
/// term is below `6e-23`.
#[inline]
fn log1p_small(u: f64) -> f64 {
    u * (1.0
        + u * (-0.5
            + u * (1.0 / 3.0 + u * (-0.25 + u * (0.2 + u * (-1.0 / 6.0 + u * (1.0 / 7.0)))))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

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
        for t in [-TINY, -3e-7, 0.0, 2e-9, TINY] {
            let short = 1.0 + t * (1.0 + t * (0.5 + t * (1.0 / 6.0 + t / 24.0)));
            assert!((short - t.exp()).abs() <= f64::EPSILON, "exp({t})");
            let u = 2.1 * t;
            let (series, libm) = (log1p_tiny(u), u.ln_1p());
            assert!(
                (series - libm).abs() <= f64::EPSILON * libm.abs(),
                "log1p({u})"
            );
        }
    }

    /// One row's term change by [`Tail::column_change`], `None` if the row is outside.
    fn one(tail: &Tail, head: &Head, (c, r): (usize, usize), d: f64) -> Option<f64> {
        let old = vec![0.0; head.rows];
        let mut row = vec![0.0; head.classes];
        let mut outside = Change::default();
        let change = tail
            .column_change(
                head,
                (c, &old),
                [(r, d)].into_iter(),
                &mut row,
                &mut outside,
            )
            .expect("finite");
        let mut rows = vec![0u64; words(head.rows)];
        rows[r / 64] |= 1 << (r % 64);
        let mut also = Change::default();
        let masked = tail
            .masked_column_change(head, (c, &old), &rows, |_| d, &mut row, &mut also)
            .expect("finite");
        assert_eq!(change.to_bits(), masked.to_bits());
        assert_eq!(outside.is_empty(), also.is_empty());
        outside.is_empty().then_some(change)
    }

    #[test]
    fn a_row_change_is_the_rescored_row_to_rounding() {
        let scores = array![[0.3, -1.2, 2.0], [1.0, 0.5, -0.5]];
        let head = Head::new(scores.view(), vec![2, 0], 1e-7);
        let w = array![[0.5, -1.0, 0.25], [2.0, 0.0, -3.0]];
        let tail = Tail::build(&head, 2, &[Link::Affine(w.view())]).expect("a tail");
        for (c, r) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            // The short series (|d·w| ≤ TINY), the long one, the rebuilt
            // row (|d·w| > SMALL).
            for d in [2e-5, -3e-5, 3e-4, -2e-4, 0.2] {
                let change = one(&tail, &head, (c, r), d).expect("an affine tail has no kink");
                let moved: Vec<f64> = (0..3).map(|j| scores[[r, j]] + d * w[[c, j]]).collect();
                let direct = log_prob(&moved, [2, 0][r], 1e-7) - head.base_terms()[r];
                assert!((change - direct).abs() < 1e-15, "{change} vs {direct}");
            }
        }
    }

    #[test]
    fn a_kink_within_reach_sends_the_row_back() {
        let head = Head::new(array![[0.0, 1.0]].view(), vec![1], 0.0);
        // ReLU at inputs 0.5 and −2e-4, then the identity to the two classes.
        let (slope, reach) = (vec![1.0, 0.0], vec![0.5, 2e-4]);
        let eye = array![[1.0, 0.0], [0.0, 1.0]];
        let links = [
            Link::Slopes {
                slope: &slope,
                reach: &reach,
                width: 2,
            },
            Link::Affine(eye.view()),
        ];
        let tail = Tail::build(&head, 2, &links).expect("a tail");
        // The inactive unit, moved less than its distance to the kink: exactly 0.
        assert_eq!(one(&tail, &head, (1, 0), 1e-4), Some(0.0));
        assert_eq!(one(&tail, &head, (1, 0), 3e-4), None);
        assert!(one(&tail, &head, (0, 0), 0.4).is_some_and(|c| c != 0.0));
        assert_eq!(one(&tail, &head, (0, 0), 0.5), None);
    }
}
