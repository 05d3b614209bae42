//! Small multiples: a grid of panels (rows × columns) under a common title,
//! each panel a [`Frame`] with its own title and axis labels holding named
//! series — lines (solid or dashed, with or without markers) or histogram
//! bars — and one legend for the whole figure, right of the grid (the book's
//! chapter-6 figures: 6-9 to 6-20).
//!
//! As in `curves.rs` and `panels.rs`, each panel is drawn on an area clipped
//! to its cell but in canvas coordinates (a frame places its ticks in canvas
//! pixels), and the panel titles are drawn here. Lines are clipped to the
//! panel's ranges in data coordinates (`clip.rs`) and bars are cut at them,
//! so a fixed range (the book's `ylim`) may hide part of a series.

use std::path::{Path, PathBuf};

use anyhow::{bail, ensure};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::clip::Bounds;
use super::frame::{Chart, Frame};
use super::legend::{Entry, Marker, draw_legend, draw_marker};
use super::render::{Figure, draw_err, write_png_and_svg};
use super::text::{Label, TextMode};
use super::validate::check_range;

/// matplotlib's colour cycle C0…C9, as in the book's figures.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(0x1F, 0x77, 0xB4),
    RGBColor(0xFF, 0x7F, 0x0E),
    RGBColor(0x2C, 0xA0, 0x2C),
    RGBColor(0xD6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xBD),
    RGBColor(0x8C, 0x56, 0x4B),
    RGBColor(0xE3, 0x77, 0xC2),
    RGBColor(0x7F, 0x7F, 0x7F),
    RGBColor(0xBC, 0xBD, 0x22),
    RGBColor(0x17, 0xBE, 0xCF),
];

/// Height of the band with the common title above the panels.
const TOP: u32 = 50;
/// Vertical centre of a panel title, from the top of its cell (inside the
/// frame's title band).
const PANEL_TITLE_Y: i32 = 34;
/// The largest panel title font; longer titles get a smaller one, to fit.
const PANEL_TITLE_SIZE: u32 = 19;
/// The common title's font size (smaller if it does not fit).
const TITLE_SIZE: u32 = 24;
/// The smallest cell a frame's fixed margins leave a plotting area in.
const MIN_CELL: (u32, u32) = (240, 220);
/// Legend geometry (see `legend.rs`): label size, padding and marker column.
const LEGEND_FONT: u32 = 17;
const LEGEND_BOX_EXTRA: f64 = 2.0 * 10.0 + 30.0;
/// Blank space each side of the legend column.
const LEGEND_GAP: u32 = 16;
/// The legend's top, from the canvas top: level with the first row's
/// plotting areas (title band, frame title band and margin).
const LEGEND_TOP: i32 = TOP as i32 + 56 + 24;
/// The most markers drawn on one line; longer lines get every k-th marked.
const MAX_MARKERS: usize = 16;
/// Dash and gap lengths of a dashed line, in pixels.
const DASH: (u32, u32) = (9, 5);

/// The marker drawn on a line's points (and beside its name in the legend).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A filled dot.
    Dot,
    /// An open ring.
    Ring,
}

/// What a series holds and how it is drawn.
#[derive(Clone, Debug, PartialEq)]
pub enum SeriesData {
    /// Points joined in order.
    Line {
        /// The points `(x, y)`.
        points: Vec<(f64, f64)>,
        /// Dashed instead of solid.
        dashed: bool,
        /// Markers on (at most about [`MAX_MARKERS`] of) the points.
        markers: Option<Shape>,
    },
    /// Histogram bars: bar `i` spans `edges[i]..edges[i + 1]` with height
    /// `heights[i]`.
    Bars {
        /// Bin edges, increasing, one more than the heights.
        edges: Vec<f64>,
        /// Bar heights, finite and at least 0.
        heights: Vec<f64>,
    },
}

/// One named series of a panel.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The name in the legend (series of several panels share a legend row
    /// by name).
    pub name: String,
    /// Its colour.
    pub color: RGBColor,
    /// Its data.
    pub data: SeriesData,
}

impl Series {
    /// A solid line without markers.
    pub fn line(name: impl Into<String>, color: RGBColor, points: Vec<(f64, f64)>) -> Self {
        Series {
            name: name.into(),
            color,
            data: SeriesData::Line {
                points,
                dashed: false,
                markers: None,
            },
        }
    }

    /// Histogram bars (see [`histogram`]).
    pub fn bars(
        name: impl Into<String>,
        color: RGBColor,
        edges: Vec<f64>,
        heights: Vec<f64>,
    ) -> Self {
        Series {
            name: name.into(),
            color,
            data: SeriesData::Bars { edges, heights },
        }
    }

    /// The same line, dashed (bars are unchanged).
    pub fn dashed(mut self) -> Self {
        if let SeriesData::Line { dashed, .. } = &mut self.data {
            *dashed = true;
        }
        self
    }

    /// The same line with markers (bars are unchanged).
    pub fn with_markers(mut self, shape: Shape) -> Self {
        if let SeriesData::Line { markers, .. } = &mut self.data {
            *markers = Some(shape);
        }
        self
    }

    /// The legend's symbol: the line's marker; a ring for a dashed line
    /// without markers; a dot otherwise.
    fn legend_marker(&self) -> Marker {
        match &self.data {
            SeriesData::Line {
                markers: Some(Shape::Ring),
                ..
            }
            | SeriesData::Line {
                dashed: true,
                markers: None,
                ..
            } => Marker::Ring(self.color),
            _ => Marker::Dot(self.color),
        }
    }

    /// Checks the data: present, finite, bars well formed.
    fn validate(&self) -> anyhow::Result<()> {
        let name = &self.name;
        match &self.data {
            SeriesData::Line { points, .. } => {
                ensure!(!points.is_empty(), "series {name:?} has no points");
                if let Some((i, p)) = points
                    .iter()
                    .enumerate()
                    .find(|(_, p)| !(p.0.is_finite() && p.1.is_finite()))
                {
                    bail!(
                        "series {name:?}: point #{i} ({}, {}) is not finite",
                        p.0,
                        p.1
                    );
                }
            }
            SeriesData::Bars { edges, heights } => {
                ensure!(!heights.is_empty(), "series {name:?} has no bars");
                ensure!(
                    edges.len() == heights.len() + 1,
                    "series {name:?}: {} bars need {} edges, got {}",
                    heights.len(),
                    heights.len() + 1,
                    edges.len()
                );
                ensure!(
                    edges.iter().all(|e| e.is_finite()) && edges.windows(2).all(|w| w[0] < w[1]),
                    "series {name:?}: the bin edges must be finite and increasing"
                );
                if let Some((i, h)) = heights
                    .iter()
                    .enumerate()
                    .find(|(_, h)| !(h.is_finite() && **h >= 0.0))
                {
                    bail!("series {name:?}: bar #{i} has height {h}, not a finite number ≥ 0");
                }
            }
        }
        Ok(())
    }

    /// Smallest and largest x and y of the data (bars from 0 to their height).
    fn extent(&self) -> ((f64, f64), (f64, f64)) {
        let mut x = (f64::INFINITY, f64::NEG_INFINITY);
        let mut y = (f64::INFINITY, f64::NEG_INFINITY);
        let mut take = |(px, py): (f64, f64)| {
            x = (x.0.min(px), x.1.max(px));
            y = (y.0.min(py), y.1.max(py));
        };
        match &self.data {
            SeriesData::Line { points, .. } => points.iter().copied().for_each(&mut take),
            SeriesData::Bars { edges, heights } => {
                for (i, &h) in heights.iter().enumerate() {
                    take((edges[i], 0.0));
                    take((edges[i + 1], h));
                }
            }
        }
        (x, y)
    }
}

/// One panel: a frame with a title, axis labels and series.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    /// Above the frame.
    pub title: String,
    /// Under the horizontal axis.
    pub x_label: String,
    /// Beside the vertical axis.
    pub y_label: String,
    /// The visible x range; `None`: the data's.
    pub x_range: Option<(f64, f64)>,
    /// The visible y range; `None`: the data's with 5% room (from 0 for bars).
    pub y_range: Option<(f64, f64)>,
    /// What the panel shows, drawn in order (bars before lines).
    pub series: Vec<Series>,
}

impl Panel {
    /// A panel without series, with ranges from the data.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        Panel {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            x_range: None,
            y_range: None,
            series: Vec::new(),
        }
    }

    /// The visible ranges: those given, or the data's.
    ///
    /// # Errors
    /// No series, a series with no or non-finite data, or a range that is not
    /// finite with min < max.
    pub fn ranges(&self) -> anyhow::Result<((f64, f64), (f64, f64))> {
        ensure!(
            !self.series.is_empty(),
            "panel {:?} has no series",
            self.title
        );
        for series in &self.series {
            series.validate()?;
        }
        let (mut x, mut y) = (
            (f64::INFINITY, f64::NEG_INFINITY),
            (f64::INFINITY, f64::NEG_INFINITY),
        );
        for (sx, sy) in self.series.iter().map(Series::extent) {
            x = (x.0.min(sx.0), x.1.max(sx.1));
            y = (y.0.min(sy.0), y.1.max(sy.1));
        }
        let x = self.x_range.unwrap_or_else(|| widen(x, 0.0));
        let y = self.y_range.unwrap_or_else(|| {
            let has_bars = self
                .series
                .iter()
                .any(|s| matches!(s.data, SeriesData::Bars { .. }));
            let y = if has_bars { (y.0.min(0.0), y.1) } else { y };
            let padded = widen(y, 0.05);
            // Bars stand on the axis: no room below 0.
            if has_bars && y.0 >= 0.0 {
                (0.0, padded.1)
            } else {
                padded
            }
        });
        check_range(&format!("panel {:?}: x", self.title), x)?;
        check_range(&format!("panel {:?}: y", self.title), y)?;
        Ok((x, y))
    }
}

/// `(min, max)` with `room` of its span added each side; an empty span
/// becomes one unit wide (or ±5% of the value).
fn widen((min, max): (f64, f64), room: f64) -> (f64, f64) {
    let span = max - min;
    if span > 0.0 {
        (min - room * span, max + room * span)
    } else {
        let half = if min == 0.0 { 0.5 } else { 0.05 * min.abs() };
        (min - half, max + half)
    }
}

/// The whole picture.
#[derive(Clone, Debug, PartialEq)]
pub struct GridSpec {
    /// Above all panels.
    pub title: String,
    /// Panel rows.
    pub rows: usize,
    /// Panels a row.
    pub columns: usize,
    /// The size of one cell (a panel with its title), in pixels.
    pub cell: (u32, u32),
    /// Whether to draw the shared legend (one row per series name).
    pub legend: bool,
    /// The panels, row by row; fewer than `rows × columns` leave the last
    /// cells blank.
    pub panels: Vec<Panel>,
}

/// Draws the grid as `<stem>.png` and `<stem>.svg` and returns their paths.
///
/// # Errors
/// No panels, more panels than cells, a cell too small for a frame, a panel
/// without series, a series without data or with a non-finite number, bad
/// bars or a bad range — and nothing is written.
pub fn draw_grid(stem: &Path, spec: &GridSpec) -> anyhow::Result<Vec<PathBuf>> {
    let figure = GridFigure::new(spec)?;
    write_png_and_svg(stem, &figure)
}

/// The spec with every panel's ranges computed and checked once.
struct GridFigure<'s> {
    spec: &'s GridSpec,
    ranges: Vec<((f64, f64), (f64, f64))>,
    legend: Vec<Entry>,
}

impl<'s> GridFigure<'s> {
    fn new(spec: &'s GridSpec) -> anyhow::Result<Self> {
        ensure!(
            spec.rows >= 1 && spec.columns >= 1,
            "a grid needs at least one row and one column, got {} × {}",
            spec.rows,
            spec.columns
        );
        ensure!(!spec.panels.is_empty(), "no panels to draw");
        let cells = spec.rows.saturating_mul(spec.columns);
        ensure!(
            spec.panels.len() <= cells,
            "{} panels do not fit in {} × {} cells",
            spec.panels.len(),
            spec.rows,
            spec.columns
        );
        ensure!(
            spec.cell.0 >= MIN_CELL.0 && spec.cell.1 >= MIN_CELL.1,
            "a cell of {} × {} pixels is too small (at least {} × {})",
            spec.cell.0,
            spec.cell.1,
            MIN_CELL.0,
            MIN_CELL.1
        );
        let width = u64::from(spec.cell.0) * spec.columns as u64;
        let height = u64::from(spec.cell.1) * spec.rows as u64;
        ensure!(
            width <= 20_000 && height <= 20_000,
            "a picture of {width} × {height} pixels is too large"
        );
        let ranges = spec
            .panels
            .iter()
            .map(Panel::ranges)
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(GridFigure {
            spec,
            ranges,
            legend: if spec.legend {
                legend_entries(&spec.panels)
            } else {
                Vec::new()
            },
        })
    }

    /// Width of the legend column (0 without a legend).
    fn legend_width(&self) -> u32 {
        if self.legend.is_empty() {
            return 0;
        }
        let text = self
            .legend
            .iter()
            .map(|e| Label::new(&e.label, LEGEND_FONT).width())
            .fold(0.0, f64::max);
        (text + LEGEND_BOX_EXTRA).ceil() as u32 + 2 * LEGEND_GAP
    }
}

/// One legend row per series name, in order of first appearance, drawn as
/// the name's first series.
fn legend_entries(panels: &[Panel]) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    for series in panels.iter().flat_map(|p| &p.series) {
        if !entries.iter().any(|e| e.label == series.name) {
            entries.push(Entry {
                marker: series.legend_marker(),
                label: series.name.clone(),
            });
        }
    }
    entries
}

impl Figure for GridFigure<'_> {
    fn size(&self) -> (u32, u32) {
        let (w, h) = self.spec.cell;
        (
            self.spec.columns as u32 * w + self.legend_width(),
            TOP + self.spec.rows as u32 * h,
        )
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        mode: TextMode,
    ) -> anyhow::Result<()> {
        root.fill(&WHITE).map_err(draw_err)?;
        let (w, _) = root.dim_in_pixel();
        let size = fitted_size(&self.spec.title, TITLE_SIZE, w.saturating_sub(20));
        let title = Label::new(&self.spec.title, size).anchored(HPos::Center, VPos::Center);
        title.draw(root, ((w / 2) as i32, (TOP / 2 + 8) as i32), mode)?;
        let (_, body) = root.split_vertically(TOP);
        let grid_width = self.spec.columns as u32 * self.spec.cell.0;
        let (panels_area, _) = body.split_horizontally(grid_width);
        let cells = panels_area.split_evenly((self.spec.rows, self.spec.columns));
        for ((panel, &ranges), cell) in self.spec.panels.iter().zip(&self.ranges).zip(&cells) {
            draw_panel(root, cell, panel, ranges, mode)?;
        }
        if !self.legend.is_empty() {
            let corner = ((w - LEGEND_GAP) as i32, LEGEND_TOP);
            draw_legend(root, corner, &self.legend, mode)?;
        }
        Ok(())
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

/// One panel: its frame on `cell`, its title, its bars, lines and markers.
fn draw_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    cell: &DrawingArea<DB, Shift>,
    panel: &Panel,
    (x_range, y_range): ((f64, f64), (f64, f64)),
    mode: TextMode,
) -> anyhow::Result<()> {
    let frame = Frame {
        title: "",
        x_label: &panel.x_label,
        y_label: &panel.y_label,
        x_range,
        y_range,
    };
    // Clipped to the cell, but in canvas coordinates like the frame's ticks.
    let absolute = cell.apply_coord_spec(Shift((0, 0)));
    let chart = frame.draw(&absolute, mode)?;
    let (x0, y0) = cell.get_base_pixel();
    let (cw, _) = cell.dim_in_pixel();
    let size = fitted_size(&panel.title, PANEL_TITLE_SIZE, cw.saturating_sub(16));
    let label = Label::new(&panel.title, size).anchored(HPos::Center, VPos::Center);
    label.draw(root, (x0 + (cw / 2) as i32, y0 + PANEL_TITLE_Y), mode)?;
    let bounds = frame.bounds();
    for series in &panel.series {
        if let SeriesData::Bars { edges, heights } = &series.data {
            draw_bars(&chart, bounds, edges, heights, series.color)?;
        }
    }
    for series in &panel.series {
        if let SeriesData::Line {
            points,
            dashed,
            markers,
        } = &series.data
        {
            draw_line(&chart, bounds, points, *dashed, series.color)?;
            let marker = match (markers, points.len()) {
                (Some(Shape::Dot), _) => Some(Marker::Dot(series.color)),
                (Some(Shape::Ring), _) => Some(Marker::Ring(series.color)),
                // A line of one point would not show at all: its legend symbol.
                (None, 1) => Some(series.legend_marker()),
                (None, _) => None,
            };
            if let Some(marker) = marker {
                for &p in thinned(points, MAX_MARKERS) {
                    if bounds.contains(p) {
                        draw_marker(root, chart.backend_coord(&p), marker)?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Filled bars, cut at the visible ranges.
fn draw_bars<DB: DrawingBackend>(
    chart: &Chart<'_, DB>,
    bounds: Bounds,
    edges: &[f64],
    heights: &[f64],
    color: RGBColor,
) -> anyhow::Result<()> {
    let area = chart.plotting_area();
    for (i, &h) in heights.iter().enumerate() {
        let left = edges[i].max(bounds.x.0);
        let right = edges[i + 1].min(bounds.x.1);
        let bottom = 0.0_f64.max(bounds.y.0);
        let top = h.min(bounds.y.1);
        if left < right && bottom < top {
            let bar = Rectangle::new([(left, bottom), (right, top)], color.filled());
            area.draw(&bar).map_err(draw_err)?;
        }
    }
    Ok(())
}

/// The line, clipped to `bounds`, solid or dashed.
fn draw_line<DB: DrawingBackend>(
    chart: &Chart<'_, DB>,
    bounds: Bounds,
    points: &[(f64, f64)],
    dashed: bool,
    color: RGBColor,
) -> anyhow::Result<()> {
    let area = chart.plotting_area();
    let style = color.stroke_width(2);
    for run in clipped_runs(bounds, points) {
        if dashed {
            for dash in DashedLineSeries::new(run, DASH.0, DASH.1, style) {
                area.draw(&dash).map_err(draw_err)?;
            }
        } else {
            area.draw(&PathElement::new(run, style)).map_err(draw_err)?;
        }
    }
    Ok(())
}

/// The visible pieces of the polyline through `points`: each a run of at
/// least two points inside `bounds`.
fn clipped_runs(bounds: Bounds, points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    for pair in points.windows(2) {
        let Some((a, b)) = bounds.clip(pair[0], pair[1]) else {
            continue;
        };
        match runs.last_mut() {
            Some(run) if run.last() == Some(&a) => run.push(b),
            _ => runs.push(vec![a, b]),
        }
    }
    runs
}

/// At most about `max` of the points, evenly spaced, always with the last one.
fn thinned(points: &[(f64, f64)], max: usize) -> Vec<&(f64, f64)> {
    let step = points.len().div_ceil(max.max(1)).max(1);
    let last = points.len().saturating_sub(1);
    points
        .iter()
        .enumerate()
        .filter(|&(i, _)| i % step == 0 || i == last)
        .map(|(_, p)| p)
        .collect()
}

/// NumPy's `np.histogram(values, bins, range)`: `bins` equal bins from
/// `range.0` to `range.1` (the last one closed), values outside (and NaN)
/// left out. Returns the `bins + 1` edges and the counts.
///
/// # Errors
/// No bins, or a range that is not finite with min < max.
pub fn histogram(
    values: impl IntoIterator<Item = f64>,
    bins: usize,
    (lo, hi): (f64, f64),
) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    ensure!(bins >= 1, "a histogram needs at least one bin");
    check_range("histogram", (lo, hi))?;
    // np.linspace(lo, hi, bins + 1): i · step + lo, the last one hi.
    let step = (hi - lo) / bins as f64;
    let edges: Vec<f64> = (0..=bins)
        .map(|i| if i == bins { hi } else { i as f64 * step + lo })
        .collect();
    let norm = bins as f64 / (hi - lo);
    let mut counts = vec![0.0; bins];
    for v in values {
        if !(v >= lo && v <= hi) {
            continue;
        }
        // NumPy's: scale, then correct at the edges computed as above.
        let mut i = (((v - lo) * norm) as usize).min(bins - 1);
        if v < edges[i] {
            i = i.saturating_sub(1);
        } else if i + 1 < bins && v >= edges[i + 1] {
            i += 1;
        }
        counts[i] += 1.0;
    }
    Ok((edges, counts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kobai-grid-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    fn curve_panel(title: &str) -> Panel {
        let mut panel = Panel::new(title, "epochs", "accuracy");
        panel.y_range = Some((0.0, 1.0));
        let train: Vec<(f64, f64)> = (1..=20)
            .map(|e| (e as f64, 1.0 - 0.8 * (-(e as f64) / 5.0).exp()))
            .collect();
        let test: Vec<(f64, f64)> = train.iter().map(|&(x, y)| (x, y - 0.1)).collect();
        panel.series = vec![
            Series::line("train", PALETTE[0], train).with_markers(Shape::Dot),
            Series::line("test", PALETTE[1], test)
                .dashed()
                .with_markers(Shape::Ring),
        ];
        panel
    }

    fn spec(panels: Vec<Panel>) -> GridSpec {
        GridSpec {
            title: "common title".into(),
            rows: 2,
            columns: 2,
            cell: (420, 340),
            legend: true,
            panels,
        }
    }

    #[test]
    fn draws_png_and_svg_with_every_title_and_one_legend() {
        let dir = scratch_dir("draw");
        let (edges, counts) = histogram(
            (0..1000).map(|i| (i as f64 / 999.0).powi(2)),
            30,
            (0.0, 1.0),
        )
        .expect("a histogram");
        let mut bars = Panel::new("bars panel", "value", "count");
        bars.series = vec![Series::bars("values", PALETTE[2], edges, counts)];
        let panels = vec![
            curve_panel("first panel"),
            curve_panel("second panel"),
            bars,
        ];
        let files = draw_grid(&dir.join("grid"), &spec(panels)).expect("draws");
        assert_eq!(files, vec![dir.join("grid.png"), dir.join("grid.svg")]);
        let png = std::fs::read(&files[0]).expect("png");
        assert!(png.starts_with(b"\x89PNG"));
        let svg = std::fs::read_to_string(&files[1]).expect("svg");
        for text in [
            "common title",
            "first panel",
            "second panel",
            "bars panel",
            "epochs",
            "accuracy",
            "count",
        ] {
            assert!(svg.contains(text), "{text} missing from the SVG");
        }
        // The shared legend names each series once, though two panels hold it.
        let texts = |t: &str| svg.lines().filter(|l| l.trim() == t).count();
        assert_eq!(texts("train"), 1, "one legend row for train");
        assert_eq!(texts("test"), 1);
        assert_eq!(texts("values"), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn ranges_come_from_the_data_unless_given() {
        let mut panel = Panel::new("t", "x", "y");
        panel.series = vec![Series::line("a", PALETTE[0], vec![(1.0, 2.0), (3.0, 4.0)])];
        assert_eq!(panel.ranges().expect("valid"), ((1.0, 3.0), (1.9, 4.1)));
        panel.y_range = Some((0.0, 10.0));
        panel.x_range = Some((-1.0, 5.0));
        assert_eq!(panel.ranges().expect("valid"), ((-1.0, 5.0), (0.0, 10.0)));
        // A single point gets a range around it.
        let mut point = Panel::new("t", "x", "y");
        point.series = vec![Series::line("a", PALETTE[0], vec![(0.0, 2.0)])];
        assert_eq!(point.ranges().expect("valid"), ((-0.5, 0.5), (1.9, 2.1)));
        // Bars stand on 0 and reach a little above the highest.
        let mut bars = Panel::new("t", "x", "y");
        bars.series = vec![Series::bars(
            "b",
            PALETTE[0],
            vec![0.0, 0.5, 1.0],
            vec![10.0, 20.0],
        )];
        assert_eq!(bars.ranges().expect("valid"), ((0.0, 1.0), (0.0, 21.0)));
        let mut zero = bars.clone();
        zero.series[0].data = SeriesData::Bars {
            edges: vec![0.0, 1.0],
            heights: vec![0.0],
        };
        assert_eq!(zero.ranges().expect("valid").1, (0.0, 0.5));
        // A given range must be a range.
        bars.y_range = Some((1.0, 1.0));
        assert!(bars.ranges().is_err());
        bars.y_range = Some((0.0, f64::NAN));
        assert!(bars.ranges().is_err());
    }

    #[test]
    fn bad_series_are_errors_not_panics_and_write_nothing() {
        let dir = scratch_dir("bad");
        let stem = dir.join("grid");
        let with = |series: Series| {
            let mut panel = Panel::new("p", "x", "y");
            panel.series = vec![series];
            spec(vec![panel])
        };
        let cases = [
            (
                with(Series::line("empty", PALETTE[0], Vec::new())),
                "no points",
            ),
            (
                with(Series::line(
                    "nan",
                    PALETTE[0],
                    vec![(0.0, 1.0), (1.0, f64::NAN)],
                )),
                "not finite",
            ),
            (
                with(Series::line("inf", PALETTE[0], vec![(f64::INFINITY, 1.0)])),
                "not finite",
            ),
            (
                with(Series::bars("b", PALETTE[0], vec![0.0], Vec::new())),
                "no bars",
            ),
            (
                with(Series::bars(
                    "b",
                    PALETTE[0],
                    vec![0.0, 1.0],
                    vec![1.0, 2.0],
                )),
                "edges",
            ),
            (
                with(Series::bars("b", PALETTE[0], vec![1.0, 0.0], vec![1.0])),
                "increasing",
            ),
            (
                with(Series::bars("b", PALETTE[0], vec![0.0, 1.0], vec![-1.0])),
                "height",
            ),
            (spec(vec![Panel::new("lonely", "x", "y")]), "no series"),
            (spec(Vec::new()), "no panels"),
            (spec(vec![curve_panel("a"); 5]), "do not fit"),
            (
                GridSpec {
                    cell: (10, 10),
                    ..spec(vec![curve_panel("a")])
                },
                "too small",
            ),
            (
                GridSpec {
                    rows: 0,
                    ..spec(vec![curve_panel("a")])
                },
                "at least one row",
            ),
        ];
        for (bad, expected) in cases {
            let err = draw_grid(&stem, &bad).expect_err(expected);
            assert!(
                err.to_string().contains(expected),
                "{err} lacks {expected:?}"
            );
        }
        assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn histograms_count_like_numpy() {
        // np.histogram([0, 0.1, 0.5, 0.99, 1, 1.5, -0.1, nan], 4, (0, 1))
        let values = [0.0, 0.1, 0.5, 0.99, 1.0, 1.5, -0.1, f64::NAN];
        let (edges, counts) = histogram(values, 4, (0.0, 1.0)).expect("valid");
        assert_eq!(edges, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(counts, vec![2.0, 0.0, 1.0, 2.0]);
        // Values on inner edges go to the bin above, as NumPy's.
        let (edges, counts) = histogram([0.3, 0.6, 0.9], 3, (0.0, 0.9)).expect("valid");
        assert_eq!(edges, vec![0.0, 0.3, 0.6, 0.9]);
        assert_eq!(counts, vec![0.0, 1.0, 2.0], "np.histogram's [0, 1, 2]");
        assert!(histogram([1.0], 0, (0.0, 1.0)).is_err());
        assert!(histogram([1.0], 3, (1.0, 0.0)).is_err());
    }

    #[test]
    fn lines_are_cut_at_the_ranges() {
        let bounds = Bounds {
            x: (0.0, 10.0),
            y: (0.0, 1.0),
        };
        let points = [
            (0.0, 0.5),
            (2.0, 0.5),
            (4.0, 3.0),
            (6.0, 3.0),
            (8.0, 0.5),
            (10.0, 0.5),
        ];
        let runs = clipped_runs(bounds, &points);
        assert_eq!(runs.len(), 2, "{runs:?}");
        assert_eq!(runs[0].first(), Some(&(0.0, 0.5)));
        assert_eq!(runs[1].last(), Some(&(10.0, 0.5)));
        assert!(runs.iter().flatten().all(|&p| bounds.contains(p)));
        assert!(clipped_runs(bounds, &[(0.0, 0.5)]).is_empty());
    }

    #[test]
    fn markers_are_thinned_but_keep_the_last_point() {
        let points: Vec<(f64, f64)> = (0..201).map(|i| (i as f64, 0.5)).collect();
        let kept = thinned(&points, MAX_MARKERS);
        assert!(kept.len() <= MAX_MARKERS + 1, "{}", kept.len());
        assert_eq!(kept.last(), Some(&&(200.0, 0.5)));
    }
}
