//! Glyph placement metrics, read with `ab_glyph` (the font crate plotters'
//! own text drawing uses): advance, left side bearing, pair kerning and the
//! scale plotters applies to a font size.
//!
//! plotters 0.3.7 draws each glyph's ink at the pen position, ignoring the
//! glyph's left side bearing, which makes text look unevenly spaced
//! ("descen t"). With these metrics, text can be drawn glyph by glyph at the
//! right places instead (see `text.rs`).

use ab_glyph::{Font, FontRef};

/// Horizontal metrics of one font, read from its bytes.
#[derive(Clone, Debug)]
pub struct FontMetrics<'f> {
    font: FontRef<'f>,
}

/// A placed glyph: where its ink starts, relative to the pen, in font units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Advance {
    /// Left side bearing (from the pen to the left edge of the ink).
    pub bearing: f64,
    /// Pen movement to the next glyph, kerning with it included.
    pub advance: f64,
}

impl<'f> FontMetrics<'f> {
    /// Parses the font; `None` if it is invalid or has no vertical extent.
    pub fn parse(data: &'f [u8]) -> Option<Self> {
        let font = FontRef::try_from_slice(data).ok()?;
        (font.height_unscaled() > 0.0).then_some(Self { font })
    }

    /// Pixels per font unit at plotters' font size `size` (plotters hands the
    /// size to `ab_glyph` as a pixel height, which spans ascent − descent).
    pub fn px_per_unit(&self, size: f64) -> f64 {
        size / f64::from(self.font.height_unscaled())
    }

    /// Bearing and advance of each character of `text`, in font units.
    pub fn layout(&self, text: &str) -> Vec<Advance> {
        let glyphs: Vec<_> = text.chars().map(|c| self.font.glyph_id(c)).collect();
        let next = glyphs.iter().skip(1).map(Some).chain([None]);
        glyphs
            .iter()
            .zip(next)
            .map(|(&g, n)| {
                let kern = n.map_or(0.0, |&n| self.font.kern_unscaled(g, n));
                Advance {
                    bearing: f64::from(self.font.h_side_bearing_unscaled(g)),
                    advance: f64::from(self.font.h_advance_unscaled(g)) + f64::from(kern),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use ab_glyph::GlyphId;

    use super::*;

    fn dejavu() -> FontMetrics<'static> {
        FontMetrics::parse(dejavu::sans::regular()).expect("DejaVu Sans parses")
    }

    #[test]
    fn reads_dejavu_sans_metrics() {
        let m = dejavu();
        // DejaVu Sans: hhea ascender 1901, descender -483.
        assert!((m.px_per_unit(2384.0) - 1.0).abs() < 1e-12);
        let n = m.layout("n")[0];
        // 'n' is 1298 units wide with a 186 unit left side bearing.
        assert_eq!((n.advance, n.bearing), (1298.0, 186.0));
        assert_eq!(m.font.glyph_id(' '), GlyphId(3));
        assert_ne!(m.font.glyph_id('∇'), GlyphId(0));
        // Beyond the Basic Multilingual Plane too (DejaVu Sans has emoticons),
        // like the glyphs plotters draws.
        assert_ne!(m.font.glyph_id('\u{1F600}'), GlyphId(0));
        // A character the font lacks gets the missing glyph.
        assert_eq!(m.font.glyph_id('\u{E000}'), GlyphId(0));
    }

    #[test]
    fn kerning_pulls_pairs_together() {
        let m = dejavu();
        let plain = m.layout("A")[0].advance;
        let kerned = m.layout("AV")[0].advance;
        assert!(kerned < plain, "{kerned} vs {plain}");
        assert_eq!(m.layout("ab")[0].advance, m.layout("a")[0].advance);
    }

    #[test]
    fn garbage_is_rejected() {
        assert!(FontMetrics::parse(&[]).is_none());
        assert!(FontMetrics::parse(&[0; 64]).is_none());
    }
}
