//! One drawing, two files: the same generic drawing code renders a PNG
//! (bitmap backend) and an SVG (vector backend), each written atomically.

use std::ffi::OsString;
use std::fmt::Display;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, ensure};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::font::ensure_font;
use super::text::TextMode;
use kobai::atomic_file::write_atomically;

/// Something that can draw itself on any plotters backend.
pub trait Figure {
    /// Canvas size in pixels (width, height).
    fn size(&self) -> (u32, u32);

    /// Draws the whole picture on `root`, placing text as `mode` says.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        mode: TextMode,
    ) -> anyhow::Result<()>;
}

/// Turns a plotters error (whose type depends on the backend) into anyhow.
pub fn draw_err(e: impl Display) -> anyhow::Error {
    anyhow!("drawing failed: {e}")
}

/// Renders `figure` to `<stem>.png` and `<stem>.svg`; returns both paths.
///
/// Both are rendered in memory first, so a drawing error writes nothing, and
/// a write that fails (a full disk) is one line naming the file.
pub fn write_png_and_svg(stem: &Path, figure: &impl Figure) -> anyhow::Result<Vec<PathBuf>> {
    ensure!(
        stem.file_name().is_some(),
        "output stem {} does not name a file",
        stem.display()
    );
    ensure_font()?;
    let (png, svg) = (with_suffix(stem, "png"), with_suffix(stem, "svg"));
    let svg_text = render_svg(figure)?;
    let png_bytes = render_png(figure)?;
    write_atomically(&png, &png_bytes)?;
    write_atomically(&svg, svg_text.as_bytes())?;
    Ok(vec![png, svg])
}

/// `stem` plus `.ext` (unlike `with_extension`, keeps dots already in the stem).
fn with_suffix(stem: &Path, ext: &str) -> PathBuf {
    let mut name = OsString::from(stem.as_os_str());
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}

/// The figure as SVG text.
fn render_svg(figure: &impl Figure) -> anyhow::Result<String> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, figure.size()).into_drawing_area();
        figure.draw(&root, TextMode::Whole)?;
        root.present().map_err(draw_err)?;
    }
    Ok(text)
}

/// The figure as the bytes of a PNG file (8-bit RGB).
fn render_png(figure: &impl Figure) -> anyhow::Result<Vec<u8>> {
    let (width, height) = figure.size();
    let mut pixels = vec![0_u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        figure.draw(&root, TextMode::Glyphs)?;
        root.present().map_err(draw_err)?;
    }
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .map_err(|e| anyhow!("PNG encoding failed: {e}"))?;
    writer
        .write_image_data(&pixels)
        .map_err(|e| anyhow!("PNG encoding failed: {e}"))?;
    writer
        .finish()
        .map_err(|e| anyhow!("PNG encoding failed: {e}"))?;
    Ok(bytes)
}
