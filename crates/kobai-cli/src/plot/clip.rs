//! Clipping in data coordinates, so that no far-away or non-finite point ever
//! reaches the pixel rasterizer (which would overflow or loop for ages).

use super::contour::Segment;

/// An axis-aligned rectangle in data coordinates (the visible plot range).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    /// Smallest and largest visible x.
    pub x: (f64, f64),
    /// Smallest and largest visible y.
    pub y: (f64, f64),
}

impl Bounds {
    /// Whether the point is finite and inside (edges included).
    pub fn contains(&self, (x, y): (f64, f64)) -> bool {
        x >= self.x.0 && x <= self.x.1 && y >= self.y.0 && y <= self.y.1
    }

    /// The part of the segment `a`-`b` inside the rectangle (Liang–Barsky);
    /// `None` if it misses the rectangle or an end is not finite.
    pub fn clip(&self, a: (f64, f64), b: (f64, f64)) -> Option<Segment> {
        if ![a.0, a.1, b.0, b.1].iter().all(|v| v.is_finite()) {
            return None;
        }
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let mut t = (0.0_f64, 1.0_f64);
        let edges = [
            (-dx, a.0 - self.x.0),
            (dx, self.x.1 - a.0),
            (-dy, a.1 - self.y.0),
            (dy, self.y.1 - a.1),
        ];
        for (p, q) in edges {
            t = narrow(t, p, q)?;
        }
        let at = |s: f64| (a.0 + s * dx, a.1 + s * dy);
        Some((at(t.0), at(t.1)))
    }
}

/// One Liang–Barsky step: restrict the parameter interval by `p * t <= q`.
fn narrow((t0, t1): (f64, f64), p: f64, q: f64) -> Option<(f64, f64)> {
    if p == 0.0 {
        return (q >= 0.0).then_some((t0, t1));
    }
    let r = q / p;
    let (t0, t1) = if p < 0.0 {
        (t0.max(r), t1)
    } else {
        (t0, t1.min(r))
    };
    (t0 <= t1).then_some((t0, t1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNIT: Bounds = Bounds {
        x: (-1.0, 1.0),
        y: (-1.0, 1.0),
    };

    #[test]
    fn inside_segment_is_unchanged() {
        let s = UNIT.clip((-0.5, 0.0), (0.5, 0.5));
        assert_eq!(s, Some(((-0.5, 0.0), (0.5, 0.5))));
    }

    #[test]
    fn crossing_segment_is_cut_at_the_edges() {
        let ((x0, y0), (x1, y1)) = UNIT.clip((-3.0, 0.0), (1e300, 0.0)).expect("crosses");
        assert_eq!((x0, y0, x1, y1), (-1.0, 0.0, 1.0, 0.0));
        let ((_, y0), (_, y1)) = UNIT.clip((0.0, 0.0), (0.0, 5.0)).expect("crosses");
        assert_eq!((y0, y1), (0.0, 1.0));
    }

    #[test]
    fn missing_or_non_finite_segments_are_dropped() {
        assert_eq!(UNIT.clip((2.0, 2.0), (3.0, 5.0)), None);
        assert_eq!(UNIT.clip((2.0, -5.0), (2.0, 5.0)), None);
        assert_eq!(UNIT.clip((0.0, 0.0), (f64::NAN, 0.0)), None);
        assert_eq!(UNIT.clip((f64::INFINITY, 0.0), (0.0, 0.0)), None);
    }

    #[test]
    fn contains_rejects_nan() {
        assert!(UNIT.contains((1.0, -1.0)));
        assert!(!UNIT.contains((f64::NAN, 0.0)));
        assert!(!UNIT.contains((0.0, 1.5)));
    }
}
