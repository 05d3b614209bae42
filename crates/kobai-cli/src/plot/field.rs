//! Gradient field pictures: one arrow per grid point, like matplotlib's
//! `quiver(X, Y, U, V, angles="xy", color="#666666")` in the book's
//! `gradient_2d.py` (figure 4-9).

use std::path::{Path, PathBuf};

use anyhow::ensure;
use ndarray::Array2;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::arrow::{Arrow, PixelScale, arrow, quiver_scale};
use super::frame::{Chart, Frame};
use super::render::{Figure, draw_err, write_png_and_svg};
use super::text::TextMode;
use super::validate::check_coords;

/// Arrow colour of the book's figure.
const ARROW_GREY: RGBColor = RGBColor(0x66, 0x66, 0x66);
/// The longest visible arrow, in grid spacings.
const LONGEST_IN_SPACINGS: f64 = 1.2;
/// Arrows shorter than this (pixels) get a one pixel shaft.
const THIN_BELOW_PX: f64 = 16.0;
/// Longer side of the plotting area, in pixels.
const PLOT_SIDE: u32 = 680;

/// Everything a gradient field picture shows.
#[derive(Clone, Debug)]
pub struct FieldSpec {
    /// Title above the chart.
    pub title: String,
    /// Label of the horizontal axis (e.g. "x0").
    pub x_label: String,
    /// Label of the vertical axis (e.g. "x1").
    pub y_label: String,
    /// Grid x coordinates (columns).
    pub xs: Vec<f64>,
    /// Grid y coordinates (rows).
    pub ys: Vec<f64>,
    /// `vectors[[iy, ix]]` is the arrow drawn at `(xs[ix], ys[iy])`, e.g.
    /// `-∇f` there. Shape `(ys.len(), xs.len())`; non-finite ones are skipped.
    pub vectors: Array2<(f64, f64)>,
    /// Visible horizontal range.
    pub x_range: (f64, f64),
    /// Visible vertical range.
    pub y_range: (f64, f64),
}

/// Draws the field as `<stem>.png` and `<stem>.svg` and returns their paths.
///
/// All arrows share one scale factor (the longest visible one is about 1.2
/// grid spacings); zero vectors are drawn as dots. Invalid input (empty or
/// non-finite grid, bad range, shape mismatch) is an error and writes nothing.
pub fn draw_gradient_field(stem: &Path, spec: &FieldSpec) -> anyhow::Result<Vec<PathBuf>> {
    validate(spec)?;
    write_png_and_svg(stem, spec)
}

/// Checks the spec before anything is drawn.
fn validate(spec: &FieldSpec) -> anyhow::Result<()> {
    frame(spec).validate()?;
    check_coords("x", &spec.xs)?;
    check_coords("y", &spec.ys)?;
    let (rows, cols) = spec.vectors.dim();
    ensure!(
        (rows, cols) == (spec.ys.len(), spec.xs.len()),
        "the vectors form a {rows}×{cols} table but the grid is {}×{} (ys × xs)",
        spec.ys.len(),
        spec.xs.len()
    );
    Ok(())
}

fn frame(spec: &FieldSpec) -> Frame<'_> {
    Frame {
        title: &spec.title,
        x_label: &spec.x_label,
        y_label: &spec.y_label,
        x_range: spec.x_range,
        y_range: spec.y_range,
    }
}

impl Figure for FieldSpec {
    fn size(&self) -> (u32, u32) {
        frame(self).canvas_size(PLOT_SIDE)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        mode: TextMode,
    ) -> anyhow::Result<()> {
        let mut chart = frame(self).draw(root, mode)?;
        let px = pixel_scale(&chart, self);
        let (arrows, dots) = self.layout_arrows(px);
        draw_arrows(&mut chart, &arrows, frame(self))?;
        let dot = |p: (f64, f64)| Circle::new(p, 2, ARROW_GREY.filled());
        chart
            .draw_series(dots.into_iter().map(dot))
            .map_err(draw_err)?;
        Ok(())
    }
}

impl FieldSpec {
    /// Grid points inside the visible range with their vectors.
    fn visible(&self) -> impl Iterator<Item = ((f64, f64), (f64, f64))> + '_ {
        let bounds = frame(self).bounds();
        self.vectors
            .indexed_iter()
            .map(|((iy, ix), &v)| ((self.xs[ix], self.ys[iy]), v))
            .filter(move |&(p, _)| bounds.contains(p))
    }

    /// The arrows to draw and the points whose vector is (nearly) zero.
    fn layout_arrows(&self, px: PixelScale) -> (Vec<Arrow>, Vec<(f64, f64)>) {
        let longest = LONGEST_IN_SPACINGS * grid_spacing_px(self, px);
        let scale = quiver_scale(self.visible().map(|(_, v)| v), px, longest).unwrap_or(0.0);
        let (mut arrows, mut dots) = (Vec::new(), Vec::new());
        for (p, (vx, vy)) in self.visible() {
            if !(vx.is_finite() && vy.is_finite()) {
                continue;
            }
            match arrow(p, (vx * scale, vy * scale), px) {
                Some(a) => arrows.push(a),
                None => dots.push(p),
            }
        }
        (arrows, dots)
    }
}

/// Shafts clipped to the range (thin for short arrows); heads only where
/// wholly visible.
fn draw_arrows<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    arrows: &[Arrow],
    frame: Frame<'_>,
) -> anyhow::Result<()> {
    let bounds = frame.bounds();
    let shaft = |a: &Arrow| {
        let width = if a.length_px < THIN_BELOW_PX { 1 } else { 2 };
        let (p, q) = bounds.clip(a.shaft.0, a.shaft.1)?;
        Some(PathElement::new(vec![p, q], ARROW_GREY.stroke_width(width)))
    };
    chart
        .draw_series(arrows.iter().filter_map(shaft))
        .map_err(draw_err)?;
    let heads = arrows
        .iter()
        .filter(|a| a.head.iter().all(|&p| bounds.contains(p)))
        .map(|a| Polygon::new(a.head.to_vec(), ARROW_GREY.filled()));
    chart.draw_series(heads).map_err(draw_err)?;
    Ok(())
}

/// Pixels per data unit of the chart's plotting area.
fn pixel_scale<DB: DrawingBackend>(chart: &Chart<'_, DB>, spec: &FieldSpec) -> PixelScale {
    let (w, h) = chart.plotting_area().dim_in_pixel();
    PixelScale {
        x: f64::from(w) / (spec.x_range.1 - spec.x_range.0),
        y: f64::from(h) / (spec.y_range.1 - spec.y_range.0),
    }
}

/// The smaller mean grid spacing of the two axes, in pixels (a tenth of the
/// plot if the grid is a single point).
fn grid_spacing_px(spec: &FieldSpec, px: PixelScale) -> f64 {
    let mean_step = |c: &[f64]| {
        let (lo, hi) = c
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        (c.len() > 1 && hi > lo).then(|| (hi - lo) / (c.len() - 1) as f64)
    };
    let steps = [
        mean_step(&spec.xs).map(|s| s * px.x),
        mean_step(&spec.ys).map(|s| s * px.y),
    ];
    let fallback = 0.1 * (spec.x_range.1 - spec.x_range.0) * px.x;
    steps
        .into_iter()
        .flatten()
        .reduce(f64::min)
        .unwrap_or(fallback)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> FieldSpec {
        let xs: Vec<f64> = (0..9).map(|i| -2.0 + 0.5 * f64::from(i)).collect();
        let ys = xs.clone();
        let vectors = Array2::from_shape_fn((ys.len(), xs.len()), |(iy, ix)| {
            (-2.0 * xs[ix], -2.0 * ys[iy])
        });
        FieldSpec {
            title: "field".into(),
            x_label: "x0".into(),
            y_label: "x1".into(),
            xs,
            ys,
            vectors,
            x_range: (-2.0, 2.0),
            y_range: (-2.0, 2.0),
        }
    }

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kobai-field-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    #[test]
    fn writes_png_and_svg() {
        let dir = scratch_dir("ok");
        let mut spec = spec();
        spec.vectors[[0, 0]] = (f64::NAN, 1.0);
        let files = draw_gradient_field(&dir.join("grad"), &spec).expect("draws");
        assert_eq!(files, vec![dir.join("grad.png"), dir.join("grad.svg")]);
        let png = std::fs::read(&files[0]).expect("png");
        assert!(png.starts_with(b"\x89PNG"));
        let svg = std::fs::read_to_string(&files[1]).expect("svg");
        assert!(svg.starts_with("<svg") && svg.contains("x0"));
        assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_input_is_an_error_and_writes_nothing() {
        let dir = scratch_dir("bad");
        let stem = dir.join("grad");
        let mut cases = Vec::new();
        let mut s = spec();
        s.xs.clear();
        cases.push((s, "no x"));
        let mut s = spec();
        s.ys[3] = f64::INFINITY;
        cases.push((s, "coordinate #3"));
        let mut s = spec();
        s.x_range = (1.0, -1.0);
        cases.push((s, "x range"));
        let mut s = spec();
        s.vectors = Array2::from_elem((2, 3), (0.0, 0.0));
        cases.push((s, "2×3"));
        for (s, needle) in cases {
            let err = draw_gradient_field(&stem, &s).expect_err("invalid");
            assert!(format!("{err:#}").contains(needle), "{err:#}");
        }
        assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
