//! Just enough of a TrueType reader to place glyphs: character to glyph
//! (`cmap` format 4), advance and left side bearing (`hmtx`), pair kerning
//! (`kern` format 0) and the scale plotters' `ab_glyph` text uses.
//!
//! plotters 0.3.7 draws each glyph's ink at the pen position, ignoring the
//! glyph's left side bearing, which makes text look unevenly spaced
//! ("descen t"). With these metrics, text can be drawn glyph by glyph at the
//! right places instead (see `text.rs`).

/// Horizontal metrics of one font, read from its bytes.
#[derive(Clone, Copy, Debug)]
pub struct FontMetrics<'f> {
    data: &'f [u8],
    /// Offset of the `hmtx` table and the number of full entries in it.
    hmtx: (usize, usize),
    /// Offset of a format 4 `cmap` subtable.
    cmap4: usize,
    /// Offset and count of the format 0 `kern` pairs, if any.
    kern: Option<(usize, usize)>,
    /// ascent − descent in font units: what a pixel size scales to.
    height: f64,
}

/// A placed glyph: where its ink starts, relative to the pen, in font units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Advance {
    /// Left side bearing (from the pen to the left edge of the ink).
    pub bearing: f64,
    /// Pen movement to the next glyph, kerning with it included.
    pub advance: f64,
}

fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(at)?, *d.get(at + 1)?]))
}

fn i16_at(d: &[u8], at: usize) -> Option<i16> {
    u16_at(d, at).map(|v| v as i16)
}

fn u32_at(d: &[u8], at: usize) -> Option<usize> {
    let hi = usize::from(u16_at(d, at)?);
    Some((hi << 16) | usize::from(u16_at(d, at + 2)?))
}

/// Offset of the table named `tag`.
fn table(d: &[u8], tag: &[u8; 4]) -> Option<usize> {
    let count = usize::from(u16_at(d, 4)?);
    (0..count)
        .map(|i| 12 + 16 * i)
        .find(|&rec| d.get(rec..rec + 4) == Some(tag.as_slice()))
        .and_then(|rec| u32_at(d, rec + 8))
}

impl<'f> FontMetrics<'f> {
    /// Reads the tables; `None` if the font lacks one of them.
    pub fn parse(data: &'f [u8]) -> Option<Self> {
        let hhea = table(data, b"hhea")?;
        let hmtx = (table(data, b"hmtx")?, usize::from(u16_at(data, hhea + 34)?));
        let height = vertical_extent(data, hhea)?;
        let cmap4 = find_cmap4(data, table(data, b"cmap")?)?;
        let kern = table(data, b"kern").and_then(|k| find_kern0(data, k));
        Some(Self {
            data,
            hmtx,
            cmap4,
            kern,
            height,
        })
    }

    /// Pixels per font unit at plotters' font size `size`.
    pub fn px_per_unit(&self, size: f64) -> f64 {
        size / self.height
    }

    /// Bearing and advance of each character of `text`, in font units.
    pub fn layout(&self, text: &str) -> Vec<Advance> {
        let glyphs: Vec<u16> = text.chars().map(|c| self.glyph(c)).collect();
        let next = glyphs.iter().skip(1).map(Some).chain([None]);
        glyphs
            .iter()
            .zip(next)
            .map(|(&g, n)| {
                let (advance, bearing) = self.h_metrics(g);
                let kern = n.map_or(0.0, |&n| self.kerning(g, n));
                Advance {
                    bearing,
                    advance: advance + kern,
                }
            })
            .collect()
    }

    /// Advance width and left side bearing of a glyph.
    fn h_metrics(&self, glyph: u16) -> (f64, f64) {
        let (at, full) = self.hmtx;
        let g = usize::from(glyph);
        let last = full.saturating_sub(1);
        let advance = u16_at(self.data, at + 4 * g.min(last)).unwrap_or(0);
        let bearing = if g < full {
            i16_at(self.data, at + 4 * g + 2)
        } else {
            i16_at(self.data, at + 4 * full + 2 * (g - full))
        };
        (f64::from(advance), f64::from(bearing.unwrap_or(0)))
    }
}

/// ascent − descent as `ttf-parser` (used by `ab_glyph`) computes it.
fn vertical_extent(d: &[u8], hhea: usize) -> Option<f64> {
    let os2 = table(d, b"OS/2");
    let typo = os2.filter(|&o| u16_at(d, o + 62).is_some_and(|f| f & 0x80 != 0));
    let (asc, desc) = match typo {
        Some(o) => (i16_at(d, o + 68)?, i16_at(d, o + 70)?),
        None => (i16_at(d, hhea + 4)?, i16_at(d, hhea + 6)?),
    };
    let height = f64::from(asc) - f64::from(desc);
    (height > 0.0).then_some(height)
}

/// The format 4 subtable of the Unicode (3, 1) or (0, x) `cmap` encodings.
fn find_cmap4(d: &[u8], cmap: usize) -> Option<usize> {
    let count = usize::from(u16_at(d, cmap + 2)?);
    (0..count).find_map(|i| {
        let rec = cmap + 4 + 8 * i;
        let (platform, encoding) = (u16_at(d, rec)?, u16_at(d, rec + 2)?);
        let sub = cmap + u32_at(d, rec + 4)?;
        let unicode = platform == 0 || (platform == 3 && encoding == 1);
        (unicode && u16_at(d, sub)? == 4).then_some(sub)
    })
}

/// The pairs of a horizontal format 0 `kern` subtable: (offset, count).
fn find_kern0(d: &[u8], kern: usize) -> Option<(usize, usize)> {
    let sub = kern + 4;
    let coverage = u16_at(d, sub + 4)?;
    let (format, horizontal) = (coverage >> 8, coverage & 1 == 1);
    (u16_at(d, kern)? == 0 && format == 0 && horizontal)
        .then(|| Some((sub + 14, usize::from(u16_at(d, sub + 6)?))))
        .flatten()
}

impl FontMetrics<'_> {
    /// The glyph of a character (0, the missing glyph, when there is none).
    fn glyph(&self, c: char) -> u16 {
        u16::try_from(u32::from(c))
            .ok()
            .and_then(|code| self.cmap4_lookup(code))
            .unwrap_or(0)
    }

    /// Segment search in a format 4 `cmap` subtable.
    fn cmap4_lookup(&self, code: u16) -> Option<u16> {
        let (d, sub) = (self.data, self.cmap4);
        let segs = usize::from(u16_at(d, sub + 6)? / 2);
        let ends = sub + 14;
        let starts = ends + 2 * segs + 2;
        let deltas = starts + 2 * segs;
        let ranges = deltas + 2 * segs;
        let seg = (0..segs).find(|&i| u16_at(d, ends + 2 * i).is_some_and(|end| end >= code))?;
        let start = u16_at(d, starts + 2 * seg)?;
        if start > code {
            return None;
        }
        let delta = u16_at(d, deltas + 2 * seg)?;
        let range_at = ranges + 2 * seg;
        let range = usize::from(u16_at(d, range_at)?);
        let glyph = if range == 0 {
            code
        } else {
            let g = u16_at(d, range_at + range + 2 * usize::from(code - start))?;
            if g == 0 {
                return None;
            }
            g
        };
        Some(glyph.wrapping_add(delta))
    }

    /// Kerning between two glyphs in font units (binary search of the pairs).
    fn kerning(&self, left: u16, right: u16) -> f64 {
        let Some((pairs, count)) = self.kern else {
            return 0.0;
        };
        let key = (u32::from(left) << 16) | u32::from(right);
        let pair_key = |i: usize| -> Option<u32> {
            let l = u32::from(u16_at(self.data, pairs + 6 * i)?);
            Some((l << 16) | u32::from(u16_at(self.data, pairs + 6 * i + 2)?))
        };
        let (mut lo, mut hi) = (0, count);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match pair_key(mid) {
                Some(k) if k == key => {
                    return f64::from(i16_at(self.data, pairs + 6 * mid + 4).unwrap_or(0));
                }
                Some(k) if k < key => lo = mid + 1,
                Some(_) => hi = mid,
                None => return 0.0,
            }
        }
        0.0
    }
}

#[cfg(test)]
mod tests {
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
        assert_eq!(m.glyph(' '), 3);
        assert_ne!(m.glyph('∇'), 0);
        assert_eq!(m.glyph('\u{1F600}'), 0);
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
