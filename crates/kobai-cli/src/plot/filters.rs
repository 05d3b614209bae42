//! Convolution filters as small grayscale images: one grid of tiles for each
//! panel (say, before and after training), the panels stacked under a common
//! title (the book's figure 7-24).
//!
//! Each filter is a tile of `FH × FW` square cells, shaded like matplotlib's
//! `imshow(filter, cmap="gray_r")`: scaled by the filter's own minimum and
//! maximum, the lowest value white and the highest black. Everything is drawn
//! in canvas pixels; tiles sit on whole pixels so the grid stays aligned in
//! both the PNG and the SVG.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, ensure};
use ndarray::Array2;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::render::{Figure, draw_err, write_png_and_svg};
use super::text::{Label, TextMode};

/// The most tiles a row of a panel.
const MAX_COLUMNS: usize = 10;
/// The most filters one panel may hold.
const MAX_FILTERS: usize = 1024;
/// The longest filter side.
const MAX_SIDE: usize = 64;
/// The most filter values one picture may hold in all (every value is one
/// SVG rectangle; this keeps the SVG to a few tens of megabytes at most).
const MAX_VALUES: usize = 1 << 18;
/// The largest canvas side, in pixels.
const MAX_CANVAS: u32 = 20_000;
/// The longer side of a tile the cell size aims at, in pixels.
const TILE_TARGET: usize = 72;
/// Space between neighbouring tiles (frames included), in pixels.
const GAP: u32 = 10;
/// Blank space left and right of the widest grid.
const MARGIN: u32 = 24;
/// The narrowest canvas (room for titles over a grid of a tile or two).
const MIN_WIDTH: u32 = 360;
/// The widest a canvas grows to fit a title at its full size.
const MAX_TITLE_WIDTH: u32 = 960;
/// Height of the band with the common title above the panels.
const TOP: u32 = 50;
/// Height of the band with a panel's title above its grid.
const PANEL_TITLE_BAND: u32 = 36;
/// Blank space below each panel's grid.
const PANEL_GAP: u32 = 22;
/// The common title's font size (smaller if it does not fit).
const TITLE_SIZE: u32 = 24;
/// A panel title's font size (smaller if it does not fit).
const PANEL_TITLE_SIZE: u32 = 19;
/// The frame around each tile.
const FRAME: RGBColor = RGBColor(0xA0, 0xA0, 0xA0);
/// The shade of a filter whose values are all equal.
const MID_GRAY: u8 = 128;

/// One labelled grid of filters, e.g. `("before training", filters)`.
#[derive(Clone, Debug, PartialEq)]
pub struct FilterPanel {
    /// Above the panel's grid.
    pub title: String,
    /// The filters, drawn row by row, each an `FH × FW` array (row 0 on top).
    pub filters: Vec<Array2<f64>>,
}

/// The whole picture: panels of filters under a common title.
#[derive(Clone, Debug, PartialEq)]
pub struct FilterSpec {
    /// Above all panels.
    pub title: String,
    /// The panels, top to bottom; every filter of every panel has one shape.
    pub panels: Vec<FilterPanel>,
}

/// Draws the filters as `<stem>.png` and `<stem>.svg` and returns their paths.
///
/// Each panel shows its filters in rows of up to ten tiles; each tile is one
/// filter shaded from its own minimum (white) to its maximum (black), a
/// constant filter mid gray.
///
/// # Errors
/// No panels, a panel without filters or with more than 1024, filters of
/// different shapes, an empty filter, a side over 64, more than 262 144 values
/// in all, or a value that is not finite — and nothing is written.
pub fn draw_filters(stem: &Path, spec: &FilterSpec) -> anyhow::Result<Vec<PathBuf>> {
    let figure = FilterFigure::new(spec)?;
    write_png_and_svg(stem, &figure)
}

/// Checks the spec; returns the filters' common shape `(FH, FW)`.
fn validate(spec: &FilterSpec) -> anyhow::Result<(usize, usize)> {
    ensure!(!spec.panels.is_empty(), "no panels of filters to draw");
    let mut shape = None;
    let mut values = 0_usize;
    for panel in &spec.panels {
        let title = &panel.title;
        let count = panel.filters.len();
        ensure!(count > 0, "panel {title:?} has no filters");
        ensure!(
            count <= MAX_FILTERS,
            "panel {title:?} has {count} filters, more than the {MAX_FILTERS} that can be drawn"
        );
        for (i, filter) in panel.filters.iter().enumerate() {
            let (h, w) = filter.dim();
            ensure!(
                h > 0 && w > 0,
                "filter #{i} of {title:?} is empty ({h}×{w})"
            );
            match shape {
                None => {
                    ensure!(
                        h <= MAX_SIDE && w <= MAX_SIDE,
                        "filters of {h}×{w} are too large to draw (sides at most {MAX_SIDE})"
                    );
                    shape = Some((h, w));
                }
                Some((fh, fw)) => ensure!(
                    (h, w) == (fh, fw),
                    "filter #{i} of {title:?} is {h}×{w}, unlike the first filter's {fh}×{fw}"
                ),
            }
            if let Some(v) = filter.iter().find(|v| !v.is_finite()) {
                bail!("filter #{i} of {title:?} holds {v}");
            }
            values += h * w;
        }
    }
    ensure!(
        values <= MAX_VALUES,
        "the filters hold {values} values in all, more than the {MAX_VALUES} that can be drawn"
    );
    shape.ok_or_else(|| anyhow!("no filters to draw"))
}

/// The shade of `value` in a filter whose values span `(min, max)`, as
/// matplotlib's `gray_r` colour map after per-image normalisation: `min`
/// white, `max` black, 256 levels between; a constant filter mid gray.
fn shade(value: f64, (min, max): (f64, f64)) -> RGBColor {
    let level = if max > min {
        // Halved so that a span near f64::MAX does not overflow.
        let t = ((value / 2.0 - min / 2.0) / (max / 2.0 - min / 2.0)).clamp(0.0, 1.0);
        // matplotlib's lookup: index floor(t × 256), the top value in the last bin.
        let index = (t * 256.0).floor().min(255.0) as u8;
        255 - index
    } else {
        MID_GRAY
    };
    RGBColor(level, level, level)
}

/// Smallest and largest value of a (non-empty, finite) filter.
fn span(filter: &Array2<f64>) -> (f64, f64) {
    filter
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}

/// Where one panel's grid goes.
struct PanelLayout {
    /// Tiles a row.
    columns: usize,
    /// Left edge of the grid (of its first tile), in canvas pixels.
    left: u32,
    /// Top edge of the panel's title band, in canvas pixels.
    top: u32,
}

/// The checked spec with its layout computed once for both backends.
struct FilterFigure<'s> {
    spec: &'s FilterSpec,
    /// Side of one filter cell, in pixels.
    cell: u32,
    /// Size of one tile (without its frame), in pixels.
    tile: (u32, u32),
    panels: Vec<PanelLayout>,
    size: (u32, u32),
}

impl<'s> FilterFigure<'s> {
    fn new(spec: &'s FilterSpec) -> anyhow::Result<Self> {
        let (fh, fw) = validate(spec)?;
        // Sides ≤ 64, so cell ≤ 72 and a tile is at most 72 × 64 = 4608 pixels.
        let cell = ((TILE_TARGET as f64 / fh.max(fw) as f64).round() as u32).max(1);
        let tile = (fw as u32 * cell, fh as u32 * cell);
        let grid_width = |columns: usize| columns as u32 * (tile.0 + GAP) - GAP;
        let widest = spec
            .panels
            .iter()
            .map(|p| grid_width(p.filters.len().min(MAX_COLUMNS)))
            .max()
            .unwrap_or(0);
        let titles = std::iter::once(Label::new(&spec.title, TITLE_SIZE).width())
            .chain(
                spec.panels
                    .iter()
                    .map(|p| Label::new(&p.title, PANEL_TITLE_SIZE).width()),
            )
            .fold(0.0, f64::max);
        let for_titles = ((titles.ceil() as u32).saturating_add(2 * MARGIN)).min(MAX_TITLE_WIDTH);
        let width = (widest + 2 * MARGIN).max(MIN_WIDTH).max(for_titles);
        let mut panels = Vec::with_capacity(spec.panels.len());
        let mut top = u64::from(TOP);
        for panel in &spec.panels {
            let count = panel.filters.len();
            let columns = count.min(MAX_COLUMNS);
            let rows = count.div_ceil(columns) as u64;
            panels.push(PanelLayout {
                columns,
                left: (width - grid_width(columns)) / 2,
                top: top.min(u64::from(MAX_CANVAS)) as u32,
            });
            let grid_height = rows * u64::from(tile.1 + GAP) - u64::from(GAP);
            top += u64::from(PANEL_TITLE_BAND) + grid_height + u64::from(PANEL_GAP);
        }
        ensure!(
            width <= MAX_CANVAS && top <= u64::from(MAX_CANVAS),
            "a picture of {width} × {top} pixels is too large (at most {MAX_CANVAS} a side); \
             draw fewer filters or panels"
        );
        Ok(FilterFigure {
            spec,
            cell,
            tile,
            panels,
            size: (width, top as u32),
        })
    }
}

/// The largest font size up to `max` at which `text` fits in `width` pixels
/// (at least 10).
fn fitted_size(text: &str, max: u32, width: u32) -> u32 {
    let mut size = max;
    while size > 10 && Label::new(text, size).width() > f64::from(width) {
        size -= 1;
    }
    size
}

impl Figure for FilterFigure<'_> {
    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        mode: TextMode,
    ) -> anyhow::Result<()> {
        root.fill(&WHITE).map_err(draw_err)?;
        let (w, _) = self.size;
        let room = w.saturating_sub(2 * MARGIN);
        let centre = (w / 2) as i32;
        let size = fitted_size(&self.spec.title, TITLE_SIZE, room);
        let title = Label::new(&self.spec.title, size).anchored(HPos::Center, VPos::Center);
        title.draw(root, (centre, (TOP / 2 + 8) as i32), mode)?;
        for (panel, layout) in self.spec.panels.iter().zip(&self.panels) {
            let size = fitted_size(&panel.title, PANEL_TITLE_SIZE, room);
            let label = Label::new(&panel.title, size).anchored(HPos::Center, VPos::Center);
            let y = layout.top + PANEL_TITLE_BAND / 2 + 4;
            label.draw(root, (centre, y as i32), mode)?;
            let grid_top = layout.top + PANEL_TITLE_BAND;
            for (i, filter) in panel.filters.iter().enumerate() {
                let (row, column) = (i / layout.columns, i % layout.columns);
                let x = layout.left + column as u32 * (self.tile.0 + GAP);
                let y = grid_top + row as u32 * (self.tile.1 + GAP);
                self.draw_tile(root, (x as i32, y as i32), filter)?;
            }
        }
        Ok(())
    }
}

impl FilterFigure<'_> {
    /// One filter with its left top corner at `(x, y)`, framed just outside.
    fn draw_tile<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        (x, y): (i32, i32),
        filter: &Array2<f64>,
    ) -> anyhow::Result<()> {
        let (tw, th) = (self.tile.0 as i32, self.tile.1 as i32);
        // A filled rectangle covers its corners' pixels up to, not including,
        // the right and bottom ones in both backends: a one-pixel frame.
        let frame = Rectangle::new([(x - 1, y - 1), (x + tw + 1, y + th + 1)], FRAME.filled());
        root.draw(&frame).map_err(draw_err)?;
        let range = span(filter);
        let c = self.cell as i32;
        for ((r, k), &v) in filter.indexed_iter() {
            let (cx, cy) = (x + k as i32 * c, y + r as i32 * c);
            let cell = Rectangle::new([(cx, cy), (cx + c, cy + c)], shade(v, range).filled());
            root.draw(&cell).map_err(draw_err)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kobai-filters-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    fn random_filters(count: usize, side: usize, seed: u64) -> Vec<Array2<f64>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..count)
            .map(|_| Array2::from_shape_fn((side, side), |_| StandardNormal.sample(&mut rng)))
            .collect()
    }

    fn two_panels(count: usize, side: usize) -> FilterSpec {
        FilterSpec {
            title: "conv1 filters".into(),
            panels: vec![
                FilterPanel {
                    title: "before training".into(),
                    filters: random_filters(count, side, 1),
                },
                FilterPanel {
                    title: "after training".into(),
                    filters: random_filters(count, side, 2),
                },
            ],
        }
    }

    /// Width and height from a PNG's IHDR chunk.
    fn png_size(bytes: &[u8]) -> (u32, u32) {
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
        assert_eq!(&bytes[12..16], b"IHDR");
        let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        (be(16), be(20))
    }

    #[test]
    fn draws_png_and_svg_of_the_figure_size() {
        let dir = scratch_dir("draw");
        let spec = two_panels(30, 5);
        let files = draw_filters(&dir.join("filters"), &spec).expect("draws");
        assert_eq!(
            files,
            vec![dir.join("filters.png"), dir.join("filters.svg")]
        );
        let png = std::fs::read(&files[0]).expect("png");
        let figure = FilterFigure::new(&spec).expect("valid");
        assert_eq!(png_size(&png), figure.size());
        let svg = std::fs::read_to_string(&files[1]).expect("svg");
        assert!(!svg.is_empty());
        for text in ["conv1 filters", "before training", "after training"] {
            assert!(svg.contains(text), "{text} missing from the SVG");
        }
        // 30 filters of 25 cells in each panel, one rectangle a cell.
        assert!(svg.matches("<rect").count() >= 2 * 30 * 26, "cells missing");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn layout_has_square_aligned_tiles_of_readable_size() {
        for side in [3, 5, 7, 11] {
            let spec = two_panels(30, side);
            let figure = FilterFigure::new(&spec).expect("valid");
            assert_eq!(figure.tile.0, figure.tile.1, "square tiles");
            assert!(
                (60..=80).contains(&figure.tile.0),
                "{side}: {:?}",
                figure.tile
            );
            assert_eq!(figure.panels[0].columns, 10);
            assert_eq!(
                figure.panels[0].left, figure.panels[1].left,
                "grids aligned"
            );
            let (w, h) = figure.size();
            let layout = &figure.panels[1];
            let right = layout.left + 10 * (figure.tile.0 + GAP) - GAP;
            assert!(right + MARGIN <= w, "the grid fits across");
            let bottom = layout.top + PANEL_TITLE_BAND + 3 * (figure.tile.1 + GAP) - GAP;
            assert!(bottom < h, "the grid fits down");
        }
        // A few filters: as many columns as filters; the canvas keeps room
        // for the titles.
        let spec = two_panels(3, 5);
        let figure = FilterFigure::new(&spec).expect("valid");
        assert_eq!(figure.panels[0].columns, 3);
        assert!(figure.size().0 >= MIN_WIDTH);
        // The largest allowed filters still make tiles.
        let spec = two_panels(2, MAX_SIDE);
        let figure = FilterFigure::new(&spec).expect("valid");
        assert_eq!(figure.tile, (64, 64));
    }

    #[test]
    fn shading_is_gray_r_over_each_filter_range() {
        assert_eq!(
            shade(-2.0, (-2.0, 3.0)),
            RGBColor(255, 255, 255),
            "min white"
        );
        assert_eq!(shade(3.0, (-2.0, 3.0)), RGBColor(0, 0, 0), "max black");
        let middle = shade(0.5, (-2.0, 3.0));
        assert!((126..=129).contains(&middle.0), "{middle:?}");
        assert_eq!(
            shade(4.0, (4.0, 4.0)),
            RGBColor(128, 128, 128),
            "constant gray"
        );
        // Spans near the largest f64 do not overflow.
        assert_eq!(shade(f64::MAX, (-f64::MAX, f64::MAX)), RGBColor(0, 0, 0));
        assert_eq!(shade(-f64::MAX, (-f64::MAX, f64::MAX)).0, 255);
        // Darker for larger values.
        let levels: Vec<u8> = (0..=10)
            .map(|i| shade(f64::from(i), (0.0, 10.0)).0)
            .collect();
        assert!(levels.windows(2).all(|w| w[0] > w[1]), "{levels:?}");
        assert_eq!(span(&ndarray::array![[1.0, -3.0], [7.0, 0.0]]), (-3.0, 7.0));
    }

    #[test]
    fn bad_specs_are_errors_and_write_nothing() {
        let dir = scratch_dir("bad");
        let stem = dir.join("filters");
        let with = |edit: &dyn Fn(&mut FilterSpec)| {
            let mut spec = two_panels(4, 5);
            edit(&mut spec);
            spec
        };
        let cases = [
            (
                with(&|s| s.panels[1].filters[3][[2, 2]] = f64::NAN),
                "filter #3 of \"after training\" holds NaN",
            ),
            (
                with(&|s| s.panels[0].filters[0][[0, 1]] = f64::NEG_INFINITY),
                "holds -inf",
            ),
            (
                with(&|s| s.panels[1].filters[2] = Array2::zeros((3, 3))),
                "is 3×3, unlike the first filter's 5×5",
            ),
            (
                with(&|s| s.panels[0].filters[0] = Array2::zeros((0, 5))),
                "is empty (0×5)",
            ),
            (
                with(&|s| s.panels[1].filters.clear()),
                "panel \"after training\" has no filters",
            ),
            (with(&|s| s.panels.clear()), "no panels"),
            (
                with(&|s| s.panels[0].filters = vec![Array2::zeros((1, 1)); MAX_FILTERS + 1]),
                "more than the 1024",
            ),
            (
                with(&|s| {
                    for panel in &mut s.panels {
                        panel.filters = vec![Array2::zeros((MAX_SIDE + 1, 2))];
                    }
                }),
                "too large",
            ),
            (
                with(&|s| {
                    for panel in &mut s.panels {
                        panel.filters = vec![Array2::zeros((64, 64)); 40];
                    }
                }),
                "values in all",
            ),
        ];
        for (bad, expected) in cases {
            let err = draw_filters(&stem, &bad).expect_err(expected);
            let text = err.to_string();
            assert!(text.contains(expected), "{text} lacks {expected:?}");
            assert!(!text.contains('\n'), "one line: {text}");
        }
        assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
