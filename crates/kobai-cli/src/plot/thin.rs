//! Thinning a long path for drawing, as it is made: a picture of a million
//! descent steps is not a million-point SVG. Points closer than a tolerance to
//! the last point kept are dropped; when more than [`MAX_DRAWN_POINTS`] are
//! kept, the tolerance doubles and the kept points are thinned again. The
//! first and the last point are always kept, and so is every turn wider than
//! the tolerance, so the drawn path has the shape of the whole one at the
//! scale of the picture. Memory stays bounded whatever the number of steps.

/// The most points of one path that a picture draws.
pub const MAX_DRAWN_POINTS: usize = 2000;

/// A path thinned as it grows; see the module docs.
#[derive(Debug, Clone)]
pub struct ThinPath {
    kept: Vec<(f64, f64)>,
    /// The point pushed last, kept or not: the path's end.
    last: Option<(f64, f64)>,
    /// Whether `last` is also the last of `kept`.
    last_kept: bool,
    tolerance: f64,
    cap: usize,
    pushed: usize,
}

impl Default for ThinPath {
    fn default() -> Self {
        ThinPath::with_cap(MAX_DRAWN_POINTS)
    }
}

impl ThinPath {
    /// An empty path that keeps at most `cap` points (at least 4).
    pub fn with_cap(cap: usize) -> ThinPath {
        ThinPath {
            kept: Vec::new(),
            last: None,
            last_kept: false,
            tolerance: 0.0,
            cap: cap.max(4),
            pushed: 0,
        }
    }

    /// Adds the next point of the path.
    pub fn push(&mut self, p: (f64, f64)) {
        self.pushed += 1;
        self.last = Some(p);
        let keep = match self.kept.last() {
            None => true,
            Some(&q) => far(q, p, self.tolerance),
        };
        self.last_kept = keep;
        if keep {
            self.kept.push(p);
            if self.kept.len() >= self.cap {
                self.coarsen();
            }
        }
    }

    /// How many points were pushed.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.pushed
    }

    /// The thinned path: at most `cap` points, the first and the last pushed
    /// among them.
    pub fn into_points(mut self) -> Vec<(f64, f64)> {
        if let (false, Some(last)) = (self.last_kept, self.last) {
            self.kept.push(last);
        }
        self.kept
    }

    /// Doubles the tolerance (starting from a 1/cap of the kept points'
    /// extent) and thins the kept points again, until at most half the cap
    /// remain.
    fn coarsen(&mut self) {
        while self.kept.len() > self.cap / 2 {
            self.tolerance = if self.tolerance > 0.0 {
                self.tolerance * 2.0
            } else {
                extent(&self.kept) / self.cap as f64
            };
            if !(self.tolerance > 0.0 && self.tolerance.is_finite()) {
                // Only points that are not finite differ: keep the first.
                self.tolerance = f64::INFINITY;
                self.kept.truncate(1);
                break;
            }
            let mut thinned: Vec<(f64, f64)> = Vec::with_capacity(self.kept.len());
            for &p in &self.kept {
                match thinned.last() {
                    Some(&q) if !far(q, p, self.tolerance) => {}
                    _ => thinned.push(p),
                }
            }
            self.kept = thinned;
        }
        // The last kept point may now differ from the last pushed one.
        self.last_kept = self.kept.last().copied() == self.last;
    }
}

/// Whether `p` differs from `q` and is at least `tolerance` from it in the
/// larger coordinate difference (a point that is not finite is always far: it
/// marks a break in the path).
fn far(q: (f64, f64), p: (f64, f64), tolerance: f64) -> bool {
    let d = (p.0 - q.0).abs().max((p.1 - q.1).abs());
    d.is_nan() || (d > 0.0 && d >= tolerance)
}

/// The larger side of the finite points' bounding box.
fn extent(points: &[(f64, f64)]) -> f64 {
    let finite = points
        .iter()
        .filter(|(x, y)| x.is_finite() && y.is_finite());
    let (lo, hi) = finite.fold(
        ((f64::MAX, f64::MAX), (f64::MIN, f64::MIN)),
        |(lo, hi), &(x, y)| ((lo.0.min(x), lo.1.min(y)), (hi.0.max(x), hi.1.max(y))),
    );
    (hi.0 - lo.0).max(hi.1 - lo.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thin(points: impl IntoIterator<Item = (f64, f64)>) -> (Vec<(f64, f64)>, usize) {
        let mut path = ThinPath::default();
        for p in points {
            path.push(p);
        }
        let pushed = path.len();
        (path.into_points(), pushed)
    }

    #[test]
    fn short_paths_are_kept_whole() {
        let points: Vec<(f64, f64)> = (0..100).map(|i| (i as f64, (i * i) as f64)).collect();
        let (kept, pushed) = thin(points.clone());
        assert_eq!(kept, points);
        assert_eq!(pushed, 100);
    }

    /// The distance from `p` to the polyline through `line`.
    fn distance_to(line: &[(f64, f64)], p: (f64, f64)) -> f64 {
        line.windows(2)
            .map(|w| {
                let (a, b) = (w[0], w[1]);
                let (dx, dy) = (b.0 - a.0, b.1 - a.1);
                let len2 = dx * dx + dy * dy;
                let t = if len2 > 0.0 {
                    (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                (p.0 - a.0 - t * dx).hypot(p.1 - a.1 - t * dy)
            })
            .fold(f64::INFINITY, f64::min)
    }

    #[test]
    fn a_million_steps_keep_at_most_the_cap_with_both_ends_and_the_shape() {
        // A descent spiralling into the origin in 16 turns: shrunk by
        // 0.99999 and turned by 0.0001 rad a step.
        let n = 1_000_000;
        let (mut x, mut y) = (-7.0f64, 2.0f64);
        let (c, s) = (0.0001f64.cos(), 0.0001f64.sin());
        let mut points = Vec::with_capacity(n + 1);
        points.push((x, y));
        for _ in 0..n {
            (x, y) = (0.99999 * (c * x - s * y), 0.99999 * (s * x + c * y));
            points.push((x, y));
        }
        let (kept, pushed) = thin(points.iter().copied());
        assert_eq!(pushed, n + 1);
        assert!(kept.len() <= MAX_DRAWN_POINTS, "{}", kept.len());
        assert!(kept.len() >= MAX_DRAWN_POINTS / 4, "{}", kept.len());
        assert_eq!(kept.first(), points.first());
        assert_eq!(kept.last(), points.last());
        // Every point of the path lies within 1/500 of the picture's width of
        // the drawn line.
        let width = 2.0 * 7.3;
        for (i, &p) in points.iter().enumerate().step_by(4999) {
            let d = distance_to(&kept, p);
            assert!(d < width / 500.0, "point {i} {p:?} is {d} from the drawing");
        }
    }

    #[test]
    fn sgd_zigzag_keeps_every_corner() {
        // SGD with lr 0.95 on x²/20 + y² (figure 6-3) for a million steps:
        // the zigzag is all in the first steps, then the path stands still.
        let (mut x, mut y) = (-7.0f64, 2.0f64);
        let mut points = vec![(x, y)];
        for _ in 0..1_000_000 {
            (x, y) = (x - 0.95 * x / 10.0, y - 0.95 * 2.0 * y);
            points.push((x, y));
        }
        let (kept, _) = thin(points.iter().copied());
        assert!(kept.len() <= MAX_DRAWN_POINTS, "{}", kept.len());
        assert_eq!(
            kept[..30],
            points[..30],
            "the first 30 steps, corner by corner"
        );
        assert_eq!(kept.last(), points.last());
    }

    #[test]
    fn a_path_standing_still_is_its_two_ends() {
        let (kept, pushed) = thin(std::iter::repeat_n((3.0, 4.0), 10_000));
        assert_eq!(pushed, 10_000);
        assert!(kept.len() <= 2, "{kept:?}");
        assert_eq!(kept.first(), Some(&(3.0, 4.0)));
    }
}
