//! Several descent paths in one picture: a grid of panels, two a row, under a
//! common title, like the book's figure 6-8 (SGD, Momentum, AdaGrad, Adam).
//!
//! Each panel is drawn by `path.rs` on an area clipped to its cell but in
//! canvas coordinates (`Shift((0, 0))`), as `curves.rs` does, because a frame
//! places its ticks in canvas pixels; the panel titles are drawn here.

use std::path::{Path, PathBuf};

use anyhow::ensure;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::frame::Frame;
use super::path::{PathSpec, contours, draw_spec, frame, validate};
use super::render::{Figure, draw_err, write_png_and_svg};
use super::text::{Label, TextMode};

/// Panels a row.
const COLUMNS: usize = 2;
/// Longer side of a panel's plotting area, in pixels.
const PANEL_SIDE: u32 = 520;
/// Height of the band with the common title above the panels.
const TOP: u32 = 50;
/// Vertical centre of a panel title (inside the frame's title band).
const PANEL_TITLE_Y: i32 = 34;

/// Draws the specs in a grid of panels, two a row, under `title`, as
/// `<stem>.png` and `<stem>.svg`, and returns their paths.
///
/// No specs, or an invalid one (empty path, bad range), is an error and
/// writes nothing.
pub fn draw_descent_panels(
    stem: &Path,
    title: &str,
    panels: &[PathSpec<'_>],
) -> anyhow::Result<Vec<PathBuf>> {
    ensure!(!panels.is_empty(), "no paths to draw");
    for spec in panels {
        validate(spec)?;
    }
    let figure = PanelsFigure {
        title,
        panels: panels.iter().map(|spec| (spec, contours(spec))).collect(),
    };
    write_png_and_svg(stem, &figure)
}

/// Contour lines, each a polyline in data coordinates.
type Contours = Vec<Vec<(f64, f64)>>;

/// The specs with their contour lines computed once for both backends.
struct PanelsFigure<'s, 'a> {
    title: &'s str,
    panels: Vec<(&'s PathSpec<'a>, Contours)>,
}

impl PanelsFigure<'_, '_> {
    /// The size of one cell: the largest panel any spec needs.
    fn cell(&self) -> (u32, u32) {
        self.panels
            .iter()
            .map(|(spec, _)| frame(spec).canvas_size(PANEL_SIDE))
            .fold((0, 0), |(w, h), (pw, ph)| (w.max(pw), h.max(ph)))
    }

    fn grid(&self) -> (usize, usize) {
        let columns = self.panels.len().min(COLUMNS);
        (self.panels.len().div_ceil(columns), columns)
    }
}

impl Figure for PanelsFigure<'_, '_> {
    fn size(&self) -> (u32, u32) {
        let (w, h) = self.cell();
        let (rows, columns) = self.grid();
        (columns as u32 * w, TOP + rows as u32 * h)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        mode: TextMode,
    ) -> anyhow::Result<()> {
        root.fill(&WHITE).map_err(draw_err)?;
        let (w, _) = root.dim_in_pixel();
        let title = Label::new(self.title, 24).anchored(HPos::Center, VPos::Center);
        title.draw(root, ((w / 2) as i32, (TOP / 2 + 8) as i32), mode)?;
        let (_, body) = root.split_vertically(TOP);
        let cells = body.split_evenly(self.grid());
        for ((spec, contours), cell) in self.panels.iter().zip(&cells) {
            // Clipped to the cell, but in canvas coordinates like the frame's ticks.
            let absolute = cell.apply_coord_spec(Shift((0, 0)));
            let untitled = Frame {
                title: "",
                ..frame(spec)
            };
            draw_spec(&absolute, untitled, spec, contours, mode)?;
            let (x0, y0) = cell.get_base_pixel();
            let (cw, _) = cell.dim_in_pixel();
            let label = Label::new(&spec.title, 21).anchored(HPos::Center, VPos::Center);
            label.draw(root, (x0 + (cw / 2) as i32, y0 + PANEL_TITLE_Y), mode)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bowl(x: f64, y: f64) -> f64 {
        x * x / 20.0 + y * y
    }

    fn spec(title: &str, path: Vec<(f64, f64)>) -> PathSpec<'static> {
        PathSpec {
            title: title.into(),
            x_label: "x".into(),
            y_label: "y".into(),
            path,
            function: &bowl,
            x_range: (-10.0, 10.0),
            y_range: (-10.0, 10.0),
        }
    }

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kobai-panels-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    #[test]
    fn draws_every_panel_with_its_title() {
        let dir = scratch_dir("draw");
        let path = vec![(-7.0, 2.0), (-3.0, -1.0), (0.0, 0.0)];
        let specs: Vec<_> = ["SGD", "Momentum", "AdaGrad"]
            .iter()
            .map(|t| spec(t, path.clone()))
            .collect();
        let files = draw_descent_panels(&dir.join("panels"), "common", &specs).expect("draws");
        assert_eq!(files, vec![dir.join("panels.png"), dir.join("panels.svg")]);
        assert!(
            std::fs::read(&files[0])
                .expect("png")
                .starts_with(b"\x89PNG")
        );
        let svg = std::fs::read_to_string(&files[1]).expect("svg");
        for text in ["common", "SGD", "Momentum", "AdaGrad"] {
            assert!(svg.contains(text), "{text} missing from the SVG");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_input_is_an_error_and_writes_nothing() {
        let dir = scratch_dir("bad");
        let stem = dir.join("panels");
        assert!(draw_descent_panels(&stem, "t", &[]).is_err());
        let specs = [spec("ok", vec![(0.0, 0.0)]), spec("empty", Vec::new())];
        let err = draw_descent_panels(&stem, "t", &specs).expect_err("empty path");
        assert!(err.to_string().contains("no points"), "{err}");
        assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
