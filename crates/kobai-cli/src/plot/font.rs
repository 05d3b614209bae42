//! The one font every chart uses: DejaVu Sans, embedded in the binary.
//!
//! plotters' `ab_glyph` feature has no system font lookup; a family must be
//! registered before any text is drawn, or text drawing fails.

use std::sync::OnceLock;

use anyhow::anyhow;
use plotters::style::{FontStyle, register_font};

use super::metrics::FontMetrics;

/// The family name charts ask for; it is also written into SVG `<text>`.
pub const FAMILY: &str = "sans-serif";

/// Registers DejaVu Sans as [`FAMILY`] (once per process); call before drawing.
pub fn ensure_font() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            register_font(FAMILY, FontStyle::Normal, dejavu::sans::regular())
                .map_err(|_| "the embedded DejaVu Sans font is invalid".to_string())
        })
        .clone()
        .map_err(|msg| anyhow!(msg))
}

/// Glyph metrics of the registered font (`None` if they cannot be read, in
/// which case text is drawn by plotters in one piece).
pub fn metrics() -> Option<&'static FontMetrics<'static>> {
    static METRICS: OnceLock<Option<FontMetrics<'static>>> = OnceLock::new();
    METRICS
        .get_or_init(|| FontMetrics::parse(dejavu::sans::regular()))
        .as_ref()
}
