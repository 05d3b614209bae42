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
use crate::atomic_write::{with_temp_path, write_atomically};

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
/// The SVG is rendered in memory first, so a drawing error writes nothing.
pub fn write_png_and_svg(stem: &Path, figure: &impl Figure) -> anyhow::Result<Vec<PathBuf>> {
    ensure!(
        stem.file_name().is_some(),
        "output stem {} does not name a file",
        stem.display()
    );
    ensure_font()?;
    let (png, svg) = (with_suffix(stem, "png"), with_suffix(stem, "svg"));
    let svg_text = render_svg(figure)?;
    with_temp_path(&png, |temp| render_png(figure, temp))?;
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

/// The figure as a PNG file at `path` (format chosen by its extension).
fn render_png(figure: &impl Figure, path: &Path) -> anyhow::Result<()> {
    let root = BitMapBackend::new(path, figure.size()).into_drawing_area();
    figure.draw(&root, TextMode::Glyphs)?;
    root.present().map_err(draw_err)?;
    // The backend must be gone (file closed) before the caller renames it.
    drop(root);
    Ok(())
}
