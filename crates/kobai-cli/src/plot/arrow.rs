//! Arrow geometry for quiver plots, computed in pixel units so that heads
//! look the same whatever the data ranges, then mapped back to data units.

/// Pixels per data unit along x and along y.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PixelScale {
    /// Pixels per unit of x.
    pub x: f64,
    /// Pixels per unit of y.
    pub y: f64,
}

impl PixelScale {
    /// Length in pixels of a data-space vector.
    pub fn length(&self, (dx, dy): (f64, f64)) -> f64 {
        (dx * self.x).hypot(dy * self.y)
    }
}

/// An arrow in data coordinates: a shaft and a filled triangular head.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Arrow {
    /// From the tail to the base of the head.
    pub shaft: ((f64, f64), (f64, f64)),
    /// Tip, then the two back corners.
    pub head: [(f64, f64); 3],
    /// Length from tail to tip, in pixels.
    pub length_px: f64,
}

/// Longest head, in pixels; shorter arrows get proportionally smaller heads.
const HEAD_LENGTH: f64 = 9.0;
/// Head half-width as a fraction of the head length.
const HEAD_HALF_WIDTH: f64 = 0.45;
/// Below this length in pixels an arrow is not drawn as an arrow.
pub const MIN_ARROW_PX: f64 = 2.0;

/// The common factor for all vectors so that the longest is `longest_px`
/// pixels long (like matplotlib's quiver autoscale). `None` if every vector
/// is zero or not finite.
pub fn quiver_scale(
    vectors: impl IntoIterator<Item = (f64, f64)>,
    px: PixelScale,
    longest_px: f64,
) -> Option<f64> {
    let max = vectors
        .into_iter()
        .map(|v| px.length(v))
        .filter(|l| l.is_finite())
        .fold(0.0_f64, f64::max);
    (max > 0.0).then(|| longest_px / max)
}

/// The arrow from `tail` along the (already scaled) data vector `v`, or
/// `None` if it is shorter than [`MIN_ARROW_PX`] or not finite.
pub fn arrow(tail: (f64, f64), v: (f64, f64), px: PixelScale) -> Option<Arrow> {
    let (dx, dy) = (v.0 * px.x, v.1 * px.y);
    let len = dx.hypot(dy);
    if !len.is_finite() || len < MIN_ARROW_PX {
        return None;
    }
    let (ux, uy) = (dx / len, dy / len);
    let head_len = HEAD_LENGTH.min(0.5 * len);
    let half = HEAD_HALF_WIDTH * head_len;
    // Offsets from the tail in pixels (y up), mapped back to data units.
    let at = |ox: f64, oy: f64| (tail.0 + ox / px.x, tail.1 + oy / px.y);
    let (bx, by) = (dx - ux * head_len, dy - uy * head_len);
    Some(Arrow {
        // The shaft runs a pixel into the head so no gap shows between them.
        shaft: (tail, at(bx + ux, by + uy)),
        head: [
            at(dx, dy),
            at(bx - uy * half, by + ux * half),
            at(bx + uy * half, by - ux * half),
        ],
        length_px: len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PX: PixelScale = PixelScale { x: 100.0, y: 50.0 };

    fn close(a: (f64, f64), b: (f64, f64)) -> bool {
        (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9
    }

    #[test]
    fn tip_is_tail_plus_vector() {
        let a = arrow((1.0, 2.0), (0.5, -1.0), PX).expect("long enough");
        assert!(close(a.head[0], (1.5, 1.0)));
        assert!(close(a.shaft.0, (1.0, 2.0)));
    }

    #[test]
    fn head_is_symmetric_in_pixels() {
        let a = arrow((0.0, 0.0), (1.0, 1.0), PX).expect("long enough");
        let to_px = |(x, y): (f64, f64)| (x * PX.x, y * PX.y);
        let (tip, l, r) = (to_px(a.head[0]), to_px(a.head[1]), to_px(a.head[2]));
        let d = |p: (f64, f64), q: (f64, f64)| (p.0 - q.0).hypot(p.1 - q.1);
        assert!((d(tip, l) - d(tip, r)).abs() < 1e-9);
    }

    #[test]
    fn tiny_or_bad_vectors_give_no_arrow() {
        assert!(arrow((0.0, 0.0), (0.0, 0.0), PX).is_none());
        assert!(arrow((0.0, 0.0), (0.001, 0.0), PX).is_none());
        assert!(arrow((0.0, 0.0), (f64::NAN, 1.0), PX).is_none());
    }

    #[test]
    fn scale_makes_the_longest_arrow_the_given_length() {
        let vs = [(1.0, 0.0), (0.0, 4.0), (f64::INFINITY, 0.0)];
        let k = quiver_scale(vs, PX, 40.0).expect("non-zero");
        assert!((PX.length((0.0, 4.0 * k)) - 40.0).abs() < 1e-9);
        assert!(quiver_scale([(0.0, 0.0)], PX, 40.0).is_none());
    }
}
