//! Text placement that works around plotters' bitmap glyph spacing.
//!
//! For PNG output each glyph is drawn on its own at the position the font's
//! metrics give (bearing, advance, kerning); SVG output keeps whole strings,
//! which the SVG viewer lays out itself.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontTransform;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::font::{FAMILY, metrics};
use super::render::draw_err;

/// How text is handed to the backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextMode {
    /// One text element per string (vector output).
    Whole,
    /// One text element per glyph, placed by the font metrics (bitmaps).
    Glyphs,
}

/// A piece of black text: content, pixel size, anchor and direction.
#[derive(Clone, Copy)]
pub struct Label<'t> {
    text: &'t str,
    size: f64,
    anchor: Pos,
    vertical: bool,
}

impl<'t> Label<'t> {
    /// Horizontal text of `size` pixels anchored at its left top corner.
    pub fn new(text: &'t str, size: u32) -> Self {
        let anchor = Pos::new(HPos::Left, VPos::Top);
        let size = f64::from(size);
        Self {
            text,
            size,
            anchor,
            vertical: false,
        }
    }

    /// Which point of the text the drawing position refers to.
    pub fn anchored(self, h: HPos, v: VPos) -> Self {
        Self {
            anchor: Pos::new(h, v),
            ..self
        }
    }

    /// Text running upwards (rotated by 270°), like a y axis label.
    pub fn vertical(self) -> Self {
        Self {
            vertical: true,
            ..self
        }
    }

    /// Width of the text in pixels.
    pub fn width(&self) -> f64 {
        match metrics() {
            Some(m) => {
                let units: f64 = m.layout(self.text).iter().map(|a| a.advance).sum();
                units * m.px_per_unit(self.size)
            }
            None => 0.6 * self.size * self.text.chars().count() as f64,
        }
    }

    fn transform(&self) -> FontTransform {
        if self.vertical {
            FontTransform::Rotate270
        } else {
            FontTransform::None
        }
    }

    fn style(&self, anchor: Pos) -> TextStyle<'static> {
        (FAMILY, self.size)
            .into_font()
            .color(&BLACK)
            .pos(anchor)
            .transform(self.transform())
    }

    /// Draws the text at `pos` (pixels of `area`).
    pub fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        pos: (i32, i32),
        mode: TextMode,
    ) -> anyhow::Result<()> {
        match (mode, metrics()) {
            (TextMode::Glyphs, Some(_)) => self.draw_glyphs(area, pos),
            _ => {
                let text = Text::new(self.text, pos, self.style(self.anchor));
                area.draw(&text).map_err(draw_err)
            }
        }
    }

    /// One element per glyph, each at its ink position.
    fn draw_glyphs<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        pos: (i32, i32),
    ) -> anyhow::Result<()> {
        let Some(m) = metrics() else { return Ok(()) };
        let scale = m.px_per_unit(self.size);
        let (dx, dy) = self.anchor_offset();
        let trans = self.transform();
        let style = self.style(Pos::new(HPos::Left, VPos::Top));
        let mut pen = 0.0_f64;
        for (c, glyph) in self.text.chars().zip(m.layout(self.text)) {
            if !c.is_whitespace() {
                let ink = pen.round() as i32 + (glyph.bearing * scale).floor() as i32;
                let (ox, oy) = trans.transform(ink + dx, dy);
                let text = Text::new(c.to_string(), (pos.0 + ox, pos.1 + oy), style.clone());
                area.draw(&text).map_err(draw_err)?;
            }
            pen += glyph.advance * scale;
        }
        Ok(())
    }

    /// Offset from the anchor to the left top corner, as plotters computes it.
    fn anchor_offset(&self) -> (i32, i32) {
        let width = self.width().round() as i32;
        let height = (self.size / 1.24) as i32;
        let dx = match self.anchor.h_pos {
            HPos::Left => 0,
            HPos::Center => -width / 2,
            HPos::Right => -width,
        };
        let dy = match self.anchor.v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        (dx, dy)
    }
}
