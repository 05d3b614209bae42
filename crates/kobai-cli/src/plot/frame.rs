//! The common frame of every chart: white canvas, title, a box around the
//! plotting area with outward ticks and tick labels, axis labels, no grid.
//!
//! The layout uses fixed pixel sizes, so the canvas size can be chosen such
//! that the plotting area has the aspect ratio of the data ranges (equal
//! aspect: circles look like circles).

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::clip::Bounds;
use super::render::draw_err;
use super::text::{Label, TextMode};
use super::ticks::{tick_label, ticks};
use super::validate::check_range;

/// Height of the title band at the top of the canvas.
const TITLE_HEIGHT: u32 = 56;
/// Blank border around the chart below the title.
const MARGIN: u32 = 24;
/// Room below the plotting area for tick labels and the x axis label.
const X_LABEL_AREA: u32 = 64;
/// Room left of the plotting area for tick labels and the y axis label.
const Y_LABEL_AREA: u32 = 76;
/// The most a plotting area's sides may differ by (keeps odd ranges usable).
const MAX_ASPECT: f64 = 4.0;
/// Length of a tick mark, outside the box.
const TICK: i32 = 6;
/// About one tick per this many pixels.
const PX_PER_TICK: u32 = 80;

/// A chart whose both axes are continuous `f64` ranges.
pub type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Title, axis labels and visible ranges of one chart.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    /// Text of the title band.
    pub title: &'a str,
    /// Label under the horizontal axis.
    pub x_label: &'a str,
    /// Label beside the vertical axis.
    pub y_label: &'a str,
    /// Visible horizontal range.
    pub x_range: (f64, f64),
    /// Visible vertical range.
    pub y_range: (f64, f64),
}

impl Frame<'_> {
    /// Checks that both ranges are finite with `min < max`.
    pub fn validate(&self) -> anyhow::Result<()> {
        check_range("x", self.x_range)?;
        check_range("y", self.y_range)
    }

    /// The visible rectangle in data coordinates.
    pub fn bounds(&self) -> Bounds {
        Bounds {
            x: self.x_range,
            y: self.y_range,
        }
    }

    /// Canvas size whose plotting area has the aspect of the ranges (clamped
    /// to at most [`MAX_ASPECT`]) and whose longer side is `long_side` pixels.
    pub fn canvas_size(&self, long_side: u32) -> (u32, u32) {
        let span = |(min, max): (f64, f64)| max - min;
        let aspect = (span(self.y_range) / span(self.x_range)).clamp(1.0 / MAX_ASPECT, MAX_ASPECT);
        let long = f64::from(long_side);
        let (w, h) = if aspect >= 1.0 {
            (long / aspect, long)
        } else {
            (long, long * aspect)
        };
        (
            w.round() as u32 + Y_LABEL_AREA + 2 * MARGIN,
            h.round() as u32 + TITLE_HEIGHT + X_LABEL_AREA + 2 * MARGIN,
        )
    }

    /// Paints the canvas white, draws title, box, ticks and axis labels, and
    /// returns the chart for the caller to draw data into.
    pub fn draw<'a, DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        mode: TextMode,
    ) -> anyhow::Result<Chart<'a, DB>> {
        root.fill(&WHITE).map_err(draw_err)?;
        let (w, _) = root.dim_in_pixel();
        let title = Label::new(self.title, 26).anchored(HPos::Center, VPos::Center);
        title.draw(root, ((w / 2) as i32, (TITLE_HEIGHT / 2 + 6) as i32), mode)?;
        let (_, body) = root.split_vertically(TITLE_HEIGHT);
        let chart = ChartBuilder::on(&body)
            .margin(MARGIN)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(Y_LABEL_AREA)
            .build_cartesian_2d(
                self.x_range.0..self.x_range.1,
                self.y_range.0..self.y_range.1,
            )
            .map_err(draw_err)?;
        let (x, y) = (self.x_range, self.y_range);
        let frame = Rectangle::new([(x.0, y.0), (x.1, y.1)], BLACK.stroke_width(1));
        chart.plotting_area().draw(&frame).map_err(draw_err)?;
        self.draw_x_axis(root, &chart, mode)?;
        self.draw_y_axis(root, &chart, mode)?;
        Ok(chart)
    }

    /// Ticks and tick labels below the box, and the x axis label.
    fn draw_x_axis<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        chart: &Chart<'_, DB>,
        mode: TextMode,
    ) -> anyhow::Result<()> {
        let (left, bottom) = chart.backend_coord(&(self.x_range.0, self.y_range.0));
        let (right, _) = chart.backend_coord(&(self.x_range.1, self.y_range.0));
        let t = ticks(self.x_range.0, self.x_range.1, tick_target(right - left));
        for &v in &t.values {
            let (px, _) = chart.backend_coord(&(v, self.y_range.0));
            let mark = PathElement::new(vec![(px, bottom), (px, bottom + TICK)], BLACK);
            root.draw(&mark).map_err(draw_err)?;
            let text = tick_label(v, t.decimals);
            let label = Label::new(&text, 17).anchored(HPos::Center, VPos::Top);
            label.draw(root, (px, bottom + TICK + 5), mode)?;
        }
        let label = Label::new(self.x_label, 21).anchored(HPos::Center, VPos::Top);
        label.draw(root, ((left + right) / 2, bottom + TICK + 34), mode)
    }

    /// Ticks and tick labels left of the box, and the y axis label.
    fn draw_y_axis<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        chart: &Chart<'_, DB>,
        mode: TextMode,
    ) -> anyhow::Result<()> {
        let (left, bottom) = chart.backend_coord(&(self.x_range.0, self.y_range.0));
        let (_, top) = chart.backend_coord(&(self.x_range.0, self.y_range.1));
        let t = ticks(self.y_range.0, self.y_range.1, tick_target(bottom - top));
        for &v in &t.values {
            let (_, py) = chart.backend_coord(&(self.x_range.0, v));
            let mark = PathElement::new(vec![(left - TICK, py), (left, py)], BLACK);
            root.draw(&mark).map_err(draw_err)?;
            let text = tick_label(v, t.decimals);
            let label = Label::new(&text, 17).anchored(HPos::Right, VPos::Center);
            label.draw(root, (left - TICK - 5, py), mode)?;
        }
        let label = Label::new(self.y_label, 21)
            .anchored(HPos::Center, VPos::Center)
            .vertical();
        label.draw(
            root,
            (left - Y_LABEL_AREA as i32 + 14, (top + bottom) / 2),
            mode,
        )
    }
}

/// How many tick intervals suit an axis `length_px` pixels long (at least 4).
fn tick_target(length_px: i32) -> usize {
    (length_px.max(0) as u32 / PX_PER_TICK).max(4) as usize
}
