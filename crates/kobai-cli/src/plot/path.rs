//! Descent path pictures: the path of an optimiser over the contour lines of
//! the function, with the axes x = 0 and y = 0 dashed in blue, like the
//! book's `gradient_method.py` (figure 4-10).

use std::path::{Path, PathBuf};

use anyhow::ensure;
use ndarray::Array2;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::contour::{contour_levels, contour_segments};
use super::frame::{Chart, Frame};
use super::legend::{Entry, Marker, draw_legend, draw_marker};
use super::polyline::join_segments;
use super::render::{Figure, draw_err, write_png_and_svg};
use super::text::TextMode;

/// Grid points per axis for the contour lines.
const CONTOUR_GRID: usize = 200;
/// Number of contour levels.
const CONTOUR_LEVELS: usize = 10;
/// Longer side of the plotting area, in pixels.
const PLOT_SIDE: u32 = 780;
/// Contour line colour: light, so the path stands out.
const CONTOUR: RGBColor = RGBColor(0x8F, 0xA6, 0xC6);
/// matplotlib's first colour (C0), used for the path.
const PATH_BLUE: RGBColor = RGBColor(0x1F, 0x77, 0xB4);
/// matplotlib's "b": the dashed axes.
const AXIS_BLUE: RGBColor = RGBColor(0, 0, 0xFF);
const START_GREEN: RGBColor = RGBColor(0x2C, 0xA0, 0x2C);
const END_RED: RGBColor = RGBColor(0xD6, 0x27, 0x28);

/// Everything a descent path picture shows.
pub struct PathSpec<'a> {
    /// Title above the chart.
    pub title: String,
    /// Label of the horizontal axis (e.g. "x0").
    pub x_label: String,
    /// Label of the vertical axis (e.g. "x1").
    pub y_label: String,
    /// The visited points, in order; non-finite or out-of-range points are
    /// clipped away, not errors.
    pub path: Vec<(f64, f64)>,
    /// The function whose contour lines form the background.
    pub function: &'a dyn Fn(f64, f64) -> f64,
    /// Visible horizontal range.
    pub x_range: (f64, f64),
    /// Visible vertical range.
    pub y_range: (f64, f64),
}

/// Draws the path as `<stem>.png` and `<stem>.svg` and returns their paths.
///
/// Invalid input (empty path, bad range) is an error and writes nothing.
pub fn draw_descent_path(stem: &Path, spec: &PathSpec<'_>) -> anyhow::Result<Vec<PathBuf>> {
    validate(spec)?;
    let figure = PathFigure {
        spec,
        contours: contours(spec),
    };
    write_png_and_svg(stem, &figure)
}

/// Checks the spec's ranges and that its path has points.
pub(super) fn validate(spec: &PathSpec<'_>) -> anyhow::Result<()> {
    frame(spec).validate()?;
    ensure!(!spec.path.is_empty(), "the path has no points");
    Ok(())
}

/// A spec with its contour lines computed once for both backends.
struct PathFigure<'s, 'a> {
    spec: &'s PathSpec<'a>,
    contours: Vec<Vec<(f64, f64)>>,
}

pub(super) fn frame<'s>(spec: &'s PathSpec<'_>) -> Frame<'s> {
    Frame {
        title: &spec.title,
        x_label: &spec.x_label,
        y_label: &spec.y_label,
        x_range: spec.x_range,
        y_range: spec.y_range,
    }
}

/// Contour lines of the spec's function over its visible range.
pub(super) fn contours(spec: &PathSpec<'_>) -> Vec<Vec<(f64, f64)>> {
    let axis = |(lo, hi): (f64, f64)| -> Vec<f64> {
        let step = (hi - lo) / (CONTOUR_GRID - 1) as f64;
        (0..CONTOUR_GRID).map(|i| lo + step * i as f64).collect()
    };
    let (xs, ys) = (axis(spec.x_range), axis(spec.y_range));
    let f = spec.function;
    let values = Array2::from_shape_fn((ys.len(), xs.len()), |(iy, ix)| f(xs[ix], ys[iy]));
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (min, max) = finite.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    contour_levels(min, max, CONTOUR_LEVELS)
        .into_iter()
        .flat_map(|level| join_segments(&contour_segments(&xs, &ys, &values, level)))
        .collect()
}

impl Figure for PathFigure<'_, '_> {
    fn size(&self) -> (u32, u32) {
        frame(self.spec).canvas_size(PLOT_SIDE)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        mode: TextMode,
    ) -> anyhow::Result<()> {
        draw_spec(root, frame(self.spec), self.spec, &self.contours, mode)
    }
}

/// Draws `frame` on `area`, then the contour lines, the dashed axes, the path
/// and the legend of `spec` into it. `area` must use canvas coordinates (the
/// root, or a part of it with `Shift((0, 0))`): markers and the legend are
/// placed in canvas pixels.
pub(super) fn draw_spec<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    frame: Frame<'_>,
    spec: &PathSpec<'_>,
    contours: &[Vec<(f64, f64)>],
    mode: TextMode,
) -> anyhow::Result<()> {
    let mut chart = frame.draw(area, mode)?;
    let contour = CONTOUR.stroke_width(1);
    let lines = contours
        .iter()
        .map(|line| PathElement::new(line.clone(), contour));
    chart.draw_series(lines).map_err(draw_err)?;
    draw_zero_axes(&mut chart, frame)?;
    draw_path(area, &chart, spec)?;
    let corner = chart.backend_coord(&(frame.x_range.1, frame.y_range.1));
    draw_legend(area, (corner.0 - 12, corner.1 + 12), &legend(spec), mode)
}

/// The dashed lines x = 0 and y = 0, where visible.
fn draw_zero_axes<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    frame: Frame<'_>,
) -> anyhow::Result<()> {
    let bounds = frame.bounds();
    let (x, y) = (bounds.x, bounds.y);
    let style = AXIS_BLUE.stroke_width(2);
    for (a, b) in [((x.0, 0.0), (x.1, 0.0)), ((0.0, y.0), (0.0, y.1))] {
        if bounds.contains(a) || bounds.contains(b) {
            let dashes = DashedLineSeries::new([a, b], 9, 5, style);
            chart.draw_series(dashes).map_err(draw_err)?;
        }
    }
    Ok(())
}

/// The path: a thin line through the points (clipped), a dot per visible
/// point, and rings around the first and last points.
fn draw_path<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &Chart<'_, DB>,
    spec: &PathSpec<'_>,
) -> anyhow::Result<()> {
    let bounds = frame(spec).bounds();
    let line = PATH_BLUE.mix(0.7).stroke_width(1);
    for (p, q) in spec.path.windows(2).filter_map(|w| bounds.clip(w[0], w[1])) {
        let segment =
            PathElement::new(vec![chart.backend_coord(&p), chart.backend_coord(&q)], line);
        root.draw(&segment).map_err(draw_err)?;
    }
    let ends = end_markers(spec);
    let markers = spec.path.iter().map(|&p| (p, Marker::Dot(PATH_BLUE)));
    for (p, marker) in markers.chain(ends.iter().map(|(_, p, m)| (*p, *m))) {
        if bounds.contains(p) {
            draw_marker(root, chart.backend_coord(&p), marker)?;
        }
    }
    Ok(())
}

/// The first and (for longer paths) last point, named and marked.
fn end_markers(spec: &PathSpec<'_>) -> Vec<(&'static str, (f64, f64), Marker)> {
    let mut ends = Vec::new();
    if let Some(&first) = spec.path.first() {
        ends.push(("start", first, Marker::Ring(START_GREEN)));
    }
    if let (true, Some(&last)) = (spec.path.len() > 1, spec.path.last()) {
        ends.push(("end", last, Marker::Ring(END_RED)));
    }
    ends
}

/// Legend rows: the path, then its start and end with their coordinates.
fn legend(spec: &PathSpec<'_>) -> Vec<Entry> {
    let path = Entry {
        marker: Marker::Dot(PATH_BLUE),
        label: format!("path ({} points)", spec.path.len()),
    };
    let ends = end_markers(spec)
        .into_iter()
        .map(|(name, p, marker)| Entry {
            marker,
            label: format!("{name} {}", point_label(p)),
        });
    std::iter::once(path).chain(ends).collect()
}

/// `(x, y)` with at most three decimals and true minus signs, e.g. `(−3, 4)`.
fn point_label((x, y): (f64, f64)) -> String {
    let num = |v: f64| {
        if !v.is_finite() {
            return v.to_string();
        }
        let s = format!("{v:.3}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        match s.strip_prefix('-') {
            Some("0") => "0".to_string(),
            Some(rest) => format!("\u{2212}{rest}"),
            None => s.to_string(),
        }
    };
    format!("({}, {})", num(x), num(y))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bowl(x: f64, y: f64) -> f64 {
        x * x + y * y
    }

    fn spec(path: Vec<(f64, f64)>) -> PathSpec<'static> {
        PathSpec {
            title: "path".into(),
            x_label: "x0".into(),
            y_label: "x1".into(),
            path,
            function: &bowl,
            x_range: (-3.5, 3.5),
            y_range: (-4.5, 4.5),
        }
    }

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kobai-path-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    #[test]
    fn wild_points_are_clipped_not_errors() {
        let dir = scratch_dir("wild");
        let path = vec![
            (-3.0, 4.0),
            (1e300, 0.0),
            (f64::NAN, 1.0),
            (1.0, 1.0),
            (2.0, -1e9),
        ];
        let files = draw_descent_path(&dir.join("descent"), &spec(path)).expect("draws");
        assert_eq!(
            files,
            vec![dir.join("descent.png"), dir.join("descent.svg")]
        );
        assert!(
            std::fs::read(&files[0])
                .expect("png")
                .starts_with(b"\x89PNG")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_input_is_an_error_and_writes_nothing() {
        let dir = scratch_dir("bad");
        let stem = dir.join("descent");
        let err = draw_descent_path(&stem, &spec(Vec::new())).expect_err("empty");
        assert!(err.to_string().contains("no points"), "{err}");
        let mut s = spec(vec![(0.0, 0.0)]);
        s.y_range = (f64::NAN, 1.0);
        let err = draw_descent_path(&stem, &s).expect_err("nan range");
        assert!(err.to_string().contains("y range"), "{err}");
        assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn point_labels_are_short() {
        assert_eq!(point_label((-3.0, 4.0)), "(\u{2212}3, 4)");
        assert_eq!(point_label((-0.03458, 0.04611)), "(\u{2212}0.035, 0.046)");
        assert_eq!(point_label((-0.0001, f64::NAN)), "(0, NaN)");
    }
}
