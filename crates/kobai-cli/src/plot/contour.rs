//! Contour lines by marching squares.
//!
//! The grid is given by its coordinates `xs` (columns) and `ys` (rows) and a
//! table of values `values[[iy, ix]]`. Each grid cell whose corners straddle
//! the level contributes one segment (two for a saddle cell), with the ends
//! found by linear interpolation along the cell edges.

use ndarray::Array2;

/// A line segment between two points in data coordinates.
pub type Segment = ((f64, f64), (f64, f64));

/// A corner of a cell: its position and the function value there.
type Corner = ((f64, f64), f64);

/// The segments of the level set `{ (x, y) : f(x, y) = level }`.
///
/// `values` must have shape `(ys.len(), xs.len())`; otherwise (or with fewer
/// than two points on an axis) the result is empty. Cells with a non-finite
/// corner value are skipped. Saddle cells are resolved by the mean of the
/// four corners: the corners on the same side as the centre are joined.
pub fn contour_segments(xs: &[f64], ys: &[f64], values: &Array2<f64>, level: f64) -> Vec<Segment> {
    let (ny, nx) = values.dim();
    if nx != xs.len() || ny != ys.len() || nx < 2 || ny < 2 || !level.is_finite() {
        return Vec::new();
    }
    let mut segments = Vec::new();
    for iy in 0..ny - 1 {
        for ix in 0..nx - 1 {
            let corner = |dx: usize, dy: usize| -> Corner {
                let (cx, cy) = (ix + dx, iy + dy);
                ((xs[cx], ys[cy]), values[[cy, cx]])
            };
            // Counter-clockwise from the lower-left corner.
            let cell = [corner(0, 0), corner(1, 0), corner(1, 1), corner(0, 1)];
            cell_segments(&cell, level, &mut segments);
        }
    }
    segments
}

/// Appends the segments of one cell (corners counter-clockwise from (0, 0)).
fn cell_segments(cell: &[Corner; 4], level: f64, out: &mut Vec<Segment>) {
    let finite = cell
        .iter()
        .all(|&((x, y), v)| x.is_finite() && y.is_finite() && v.is_finite());
    if !finite {
        return;
    }
    // Crossing on edge k joins corner k to corner k+1: bottom, right, top, left.
    let crossings: Vec<Option<(f64, f64)>> = (0..4)
        .map(|k| edge_crossing(cell[k], cell[(k + 1) % 4], level))
        .collect();
    let found: Vec<(f64, f64)> = crossings.iter().flatten().copied().collect();
    // A level passing exactly through a corner gives zero-length pieces.
    let mut push = |a: (f64, f64), b: (f64, f64)| {
        if a != b {
            out.push((a, b));
        }
    };
    match found.as_slice() {
        [a, b] => push(*a, *b),
        [bottom, right, top, left] => {
            let centre = cell.iter().map(|c| c.1).sum::<f64>() / 4.0;
            if (centre > level) == (cell[0].1 > level) {
                // Lower-left and upper-right are joined through the centre.
                push(*bottom, *right);
                push(*top, *left);
            } else {
                push(*left, *bottom);
                push(*right, *top);
            }
        }
        _ => {}
    }
}

/// Where the level crosses the edge from `a` to `b`, if it does.
fn edge_crossing(a: Corner, b: Corner, level: f64) -> Option<(f64, f64)> {
    if (a.1 > level) == (b.1 > level) {
        return None;
    }
    // Interpolate from the same end whichever cell asks, so neighbouring
    // cells produce bit-identical points and segments can be joined.
    let (a, b) = if a.0 <= b.0 { (a, b) } else { (b, a) };
    let (((ax, ay), va), ((bx, by), vb)) = (a, b);
    // The sides differ, so va != vb and t lies in [0, 1].
    let t = (level - va) / (vb - va);
    Some((ax + t * (bx - ax), ay + t * (by - ay)))
}

/// `count` contour levels between `min` and `max`, spaced quadratically:
/// `min + (k / count)^2 * (max - min)` for `k = 1..=count`.
///
/// For a quadratic bowl such as `x^2 + y^2` this gives evenly spaced circles.
/// Empty when `count` is zero, a bound is not finite, or `max <= min`.
pub fn contour_levels(min: f64, max: f64, count: usize) -> Vec<f64> {
    if count == 0 || !min.is_finite() || !max.is_finite() || max <= min {
        return Vec::new();
    }
    (1..=count)
        .map(|k| {
            let s = k as f64 / count as f64;
            min + s * s * (max - min)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| a + (b - a) * i as f64 / (n - 1) as f64)
            .collect()
    }

    fn grid(xs: &[f64], ys: &[f64], f: impl Fn(f64, f64) -> f64) -> Array2<f64> {
        Array2::from_shape_fn((ys.len(), xs.len()), |(iy, ix)| f(xs[ix], ys[iy]))
    }

    fn length(s: &Segment) -> f64 {
        let ((x0, y0), (x1, y1)) = *s;
        (x1 - x0).hypot(y1 - y0)
    }

    #[test]
    fn circle_level_set_lies_on_the_circle() {
        let xs = linspace(-3.0, 3.0, 121);
        let ys = linspace(-3.0, 3.0, 101);
        let values = grid(&xs, &ys, |x, y| x * x + y * y);
        let segments = contour_segments(&xs, &ys, &values, 4.0);
        assert!(segments.len() > 100);
        for ((x0, y0), (x1, y1)) in &segments {
            for (x, y) in [(x0, y0), (x1, y1)] {
                assert!(
                    (x.hypot(*y) - 2.0).abs() < 1e-2,
                    "({x}, {y}) off the circle"
                );
            }
        }
        let total: f64 = segments.iter().map(length).sum();
        let circumference = 4.0 * std::f64::consts::PI;
        assert!(
            (total - circumference).abs() < 0.01 * circumference,
            "{total}"
        );
        // Neighbouring cells agree exactly on shared points: one closed loop.
        let lines = super::super::polyline::join_segments(&segments);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].first(), lines[0].last());
    }

    #[test]
    fn non_finite_values_are_skipped() {
        let xs = linspace(-3.0, 3.0, 31);
        let ys = linspace(-3.0, 3.0, 31);
        let mut values = grid(&xs, &ys, |x, y| x * x + y * y);
        values[[15, 25]] = f64::NAN;
        values[[5, 5]] = f64::INFINITY;
        values[[20, 10]] = f64::NEG_INFINITY;
        let segments = contour_segments(&xs, &ys, &values, 4.0);
        assert!(!segments.is_empty());
        for ((x0, y0), (x1, y1)) in segments {
            assert!([x0, y0, x1, y1].iter().all(|v| v.is_finite()));
        }
        let all_nan = Array2::from_elem((31, 31), f64::NAN);
        assert!(contour_segments(&xs, &ys, &all_nan, 1.0).is_empty());
        assert!(contour_segments(&xs, &ys, &values, f64::NAN).is_empty());
    }

    #[test]
    fn mismatched_shapes_give_nothing() {
        let xs = linspace(-1.0, 1.0, 5);
        let ys = linspace(-1.0, 1.0, 4);
        let values = grid(&xs, &ys, |x, y| x + y);
        assert!(contour_segments(&ys, &xs, &values, 0.0).is_empty());
        assert!(contour_segments(&[], &[], &Array2::zeros((0, 0)), 0.0).is_empty());
        let segments = contour_segments(&xs, &ys, &values, 0.1);
        assert!(!segments.is_empty());
        for ((x0, y0), (x1, y1)) in segments {
            // A linear function is interpolated exactly.
            assert!((x0 + y0 - 0.1).abs() < 1e-12 && (x1 + y1 - 0.1).abs() < 1e-12);
        }
    }

    #[test]
    fn saddle_keeps_the_hyperbola_branches_apart() {
        let xs = [-1.0, 1.0];
        let ys = [-1.0, 1.0];
        let values = grid(&xs, &ys, |x, y| x * y);
        let segments = contour_segments(&xs, &ys, &values, 0.1);
        assert_eq!(segments.len(), 2);
        for ((x0, _), (x1, _)) in segments {
            assert_eq!(x0 > 0.0, x1 > 0.0, "segment crosses between branches");
        }
    }

    #[test]
    fn levels_are_quadratically_spaced() {
        let levels = contour_levels(1.0, 5.0, 4);
        let expected = [1.25, 2.0, 3.25, 5.0];
        assert_eq!(levels.len(), 4);
        for (got, want) in levels.iter().zip(expected) {
            assert!((got - want).abs() < 1e-12);
        }
        assert!(contour_levels(0.0, 1.0, 0).is_empty());
        assert!(contour_levels(2.0, 1.0, 3).is_empty());
        assert!(contour_levels(f64::NAN, 1.0, 3).is_empty());
    }
}
