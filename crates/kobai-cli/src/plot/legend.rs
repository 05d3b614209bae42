//! A small legend box: one row per entry, a marker and its label.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::render::draw_err;
use super::text::{Label, TextMode};

/// Label size in pixels.
const FONT_SIZE: u32 = 17;
/// Height of one row.
const ROW: i32 = 26;
/// Inner padding of the box.
const PAD: i32 = 10;
/// Width reserved for the marker column.
const MARKER_COLUMN: i32 = 30;

/// How an entry is drawn in the chart (and so in the legend).
#[derive(Clone, Copy, Debug)]
pub enum Marker {
    /// A filled dot.
    Dot(RGBColor),
    /// An open ring.
    Ring(RGBColor),
}

/// One legend row.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The symbol shown left of the label.
    pub marker: Marker,
    /// The text.
    pub label: String,
}

/// Draws the legend with its top right corner at `corner` (pixels of `area`).
pub fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    corner: (i32, i32),
    entries: &[Entry],
    mode: TextMode,
) -> anyhow::Result<()> {
    let text_width = entries
        .iter()
        .map(|e| Label::new(&e.label, FONT_SIZE).width())
        .fold(0.0, f64::max)
        .ceil() as i32;
    let width = PAD + MARKER_COLUMN + text_width + PAD;
    let height = 2 * PAD + ROW * entries.len() as i32;
    let (x0, y0) = (corner.0 - width, corner.1);
    let back = Rectangle::new(
        [(x0, y0), corner_plus(corner, height)],
        WHITE.mix(0.9).filled(),
    );
    let border = Rectangle::new([(x0, y0), corner_plus(corner, height)], BLACK.mix(0.4));
    area.draw(&back).map_err(draw_err)?;
    area.draw(&border).map_err(draw_err)?;
    for (i, entry) in entries.iter().enumerate() {
        let y = y0 + PAD + ROW * i as i32 + ROW / 2;
        draw_marker(area, (x0 + PAD + MARKER_COLUMN / 2 - 3, y), entry.marker)?;
        let label = Label::new(&entry.label, FONT_SIZE).anchored(HPos::Left, VPos::Center);
        label.draw(area, (x0 + PAD + MARKER_COLUMN, y), mode)?;
    }
    Ok(())
}

fn corner_plus((x, y): (i32, i32), height: i32) -> (i32, i32) {
    (x, y + height)
}

/// The marker as drawn in the chart, centred on `at`.
pub fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    at: (i32, i32),
    marker: Marker,
) -> anyhow::Result<()> {
    match marker {
        Marker::Dot(c) => area.draw(&Circle::new(at, 5, c.filled())),
        Marker::Ring(c) => area.draw(&Circle::new(at, 8, c.stroke_width(2))),
    }
    .map_err(draw_err)
}
