//! Learning curves: the training loss per iteration (the book's figure 4-11)
//! beside the train and test accuracy per epoch (figure 4-12), one picture of
//! two panels under a common title.
//!
//! Each panel is a [`Frame`]. A frame places its ticks in canvas pixels, so
//! each panel is drawn on an area that is clipped to its half of the canvas but
//! keeps canvas coordinates (`Shift((0, 0))`); the panel titles, which a frame
//! would place relative to its area, are drawn here instead.

use std::path::{Path, PathBuf};

use anyhow::ensure;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::frame::{Chart, Frame};
use super::legend::{Entry, Marker, draw_legend, draw_marker};
use super::render::{Figure, draw_err, write_png_and_svg};
use super::text::{Label, TextMode};

/// Size of one panel in pixels.
const PANEL: (u32, u32) = (720, 580);
/// Height of the band with the common title above the panels.
const TOP: u32 = 50;
/// Vertical centre of a panel title (inside the frame's title band).
const PANEL_TITLE_Y: i32 = 34;
/// The most loss points drawn; longer runs are drawn as their envelope.
const MAX_LOSS_POINTS: usize = 4000;
/// The most markers on an accuracy curve; more epochs get every k-th marked.
const MAX_MARKERS: usize = 20;
/// Legend geometry (see `legend.rs`): padding 10 above and below, 26 a row.
const LEGEND_HEIGHT: i32 = 2 * 10 + 2 * 26;
/// Gap between a legend and the frame.
const LEGEND_INSET: i32 = 12;
/// matplotlib's C0 and C1, as in the book's figures.
const BLUE: RGBColor = RGBColor(0x1F, 0x77, 0xB4);
const ORANGE: RGBColor = RGBColor(0xFF, 0x7F, 0x0E);

/// One evaluation of the accuracies.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AccuracyPoint {
    /// When, in epochs (fractional for a final partial epoch).
    pub epoch: f64,
    /// Accuracy on the training set.
    pub train: f64,
    /// Accuracy on the test set, if there is one.
    pub test: Option<f64>,
}

/// Everything the learning-curve picture shows.
#[derive(Clone, Debug)]
pub struct CurvesSpec {
    /// The common title above both panels.
    pub title: String,
    /// The loss of every iteration, in order (iteration 1 first).
    pub losses: Vec<f64>,
    /// The accuracies after each epoch, in order.
    pub accuracy: Vec<AccuracyPoint>,
}

/// Draws the curves as `<stem>.png` and `<stem>.svg` and returns their paths.
///
/// An empty history, or one with no finite loss, is an error and writes nothing.
pub fn draw_training_curves(stem: &Path, spec: &CurvesSpec) -> anyhow::Result<Vec<PathBuf>> {
    ensure!(
        spec.losses.iter().any(|l| l.is_finite()),
        "no finite loss to draw"
    );
    ensure!(!spec.accuracy.is_empty(), "no accuracy to draw");
    let figure = CurvesFigure {
        spec,
        loss_line: loss_line(&spec.losses, MAX_LOSS_POINTS),
    };
    figure.loss_frame().validate()?;
    figure.accuracy_frame().validate()?;
    write_png_and_svg(stem, &figure)
}

/// A spec with its loss line prepared once for both backends.
struct CurvesFigure<'s> {
    spec: &'s CurvesSpec,
    loss_line: Vec<(f64, f64)>,
}

impl CurvesFigure<'_> {
    fn loss_frame(&self) -> Frame<'static> {
        let last = self.loss_line.last().map_or(1.0, |p| p.0);
        let top = self.loss_line.iter().map(|p| p.1).fold(0.0, f64::max);
        Frame {
            title: "",
            x_label: "iterations",
            y_label: "loss",
            x_range: (0.0, last.max(1.0)),
            y_range: (0.0, if top > 0.0 { top * 1.05 } else { 1.0 }),
        }
    }

    fn accuracy_frame(&self) -> Frame<'static> {
        let last = self
            .spec
            .accuracy
            .iter()
            .map(|a| a.epoch)
            .fold(0.0, f64::max);
        Frame {
            title: "",
            x_label: "epochs",
            y_label: "accuracy",
            x_range: (0.0, if last > 0.0 { last } else { 1.0 }),
            y_range: (0.0, 1.0),
        }
    }
}

impl Figure for CurvesFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (2 * PANEL.0, TOP + PANEL.1)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        mode: TextMode,
    ) -> anyhow::Result<()> {
        root.fill(&WHITE).map_err(draw_err)?;
        let (w, _) = root.dim_in_pixel();
        let title = Label::new(&self.spec.title, 24).anchored(HPos::Center, VPos::Center);
        title.draw(root, ((w / 2) as i32, (TOP / 2 + 8) as i32), mode)?;
        let (_, body) = root.split_vertically(TOP);
        let halves = body.split_evenly((1, 2));
        let [left, right] = halves.as_slice() else {
            anyhow::bail!("cannot split the canvas into two panels");
        };
        let loss = self.loss_frame();
        let chart = panel(root, left, &loss, "Training loss per iteration", mode)?;
        let style = BLUE.stroke_width(1);
        let line = PathElement::new(self.loss_line.clone(), style);
        chart.plotting_area().draw(&line).map_err(draw_err)?;
        let accuracy = self.accuracy_frame();
        let chart = panel(root, right, &accuracy, "Accuracy per epoch", mode)?;
        draw_accuracy(root, &chart, &accuracy, &self.spec.accuracy, mode)
    }
}

/// Draws `frame` on `area` (a part of `root`) with `title` above it, and
/// returns the chart to draw data into.
fn panel<'a, DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    area: &DrawingArea<DB, Shift>,
    frame: &Frame<'_>,
    title: &str,
    mode: TextMode,
) -> anyhow::Result<Chart<'a, DB>> {
    // Clipped to the panel, but in canvas coordinates like the frame's ticks.
    let absolute = area.apply_coord_spec(Shift((0, 0)));
    let chart = frame.draw(&absolute, mode)?;
    let (x0, y0) = area.get_base_pixel();
    let (w, _) = area.dim_in_pixel();
    let label = Label::new(title, 21).anchored(HPos::Center, VPos::Center);
    label.draw(root, (x0 + (w / 2) as i32, y0 + PANEL_TITLE_Y), mode)?;
    Ok(chart)
}

/// The train and test curves (the test curve dashed), their markers and the legend.
fn draw_accuracy<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &Chart<'_, DB>,
    frame: &Frame<'_>,
    points: &[AccuracyPoint],
    mode: TextMode,
) -> anyhow::Result<()> {
    let bounds = frame.bounds();
    let train: Vec<(f64, f64)> = points.iter().map(|p| (p.epoch, p.train)).collect();
    let test: Vec<(f64, f64)> = points
        .iter()
        .filter_map(|p| p.test.map(|t| (p.epoch, t)))
        .collect();
    let area = chart.plotting_area();
    area.draw(&PathElement::new(train.clone(), BLUE.stroke_width(2)))
        .map_err(draw_err)?;
    let dashes = DashedLineSeries::new(test.clone(), 9, 5, ORANGE.stroke_width(2));
    for dash in dashes {
        area.draw(&dash).map_err(draw_err)?;
    }
    let mut entries = vec![Entry {
        marker: Marker::Dot(BLUE),
        label: "train acc".into(),
    }];
    let marked = [(&train, Marker::Dot(BLUE)), (&test, Marker::Ring(ORANGE))];
    for (curve, marker) in marked {
        for &p in thinned(curve, MAX_MARKERS) {
            if bounds.contains(p) {
                draw_marker(root, chart.backend_coord(&p), marker)?;
            }
        }
    }
    if !test.is_empty() {
        entries.push(Entry {
            marker: Marker::Ring(ORANGE),
            label: "test acc".into(),
        });
    }
    // Lower right, where rising curves leave room; upper right if they end low.
    let last_high = points.last().is_some_and(|p| p.train > 0.5);
    let (right, bottom) = chart.backend_coord(&(frame.x_range.1, frame.y_range.0));
    let (_, top) = chart.backend_coord(&(frame.x_range.1, frame.y_range.1));
    let corner_y = if last_high {
        bottom - LEGEND_INSET - LEGEND_HEIGHT
    } else {
        top + LEGEND_INSET
    };
    draw_legend(root, (right - LEGEND_INSET, corner_y), &entries, mode)
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

/// The losses as points `(iteration, loss)`, non-finite ones left out; more
/// than `max` points become their envelope: the lowest and the highest loss
/// of each of `max / 2` runs of iterations, in order, so the noise band of a
/// long run looks as it would drawn in full.
fn loss_line(losses: &[f64], max: usize) -> Vec<(f64, f64)> {
    let points: Vec<(f64, f64)> = losses
        .iter()
        .enumerate()
        .filter(|(_, l)| l.is_finite())
        .map(|(i, &l)| ((i + 1) as f64, l))
        .collect();
    if points.len() <= max.max(2) {
        return points;
    }
    let chunk = points.len().div_ceil(max / 2);
    let mut line = Vec::with_capacity(max);
    for run in points.chunks(chunk) {
        let lowest = run
            .iter()
            .copied()
            .reduce(|a, b| if b.1 < a.1 { b } else { a });
        let highest = run
            .iter()
            .copied()
            .reduce(|a, b| if b.1 > a.1 { b } else { a });
        if let (Some(lo), Some(hi)) = (lowest, highest) {
            if lo.0 <= hi.0 {
                line.extend([lo, hi]);
            } else {
                line.extend([hi, lo]);
            }
        }
    }
    line.dedup();
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kobai-curves-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    fn spec(iterations: usize, epochs: usize) -> CurvesSpec {
        let losses = (0..iterations)
            .map(|i| 2.3 * (-(i as f64) / 300.0).exp() + 0.1 * ((i % 7) as f64 / 7.0))
            .collect();
        let accuracy = (1..=epochs)
            .map(|e| {
                let x = e as f64;
                AccuracyPoint {
                    epoch: x,
                    train: 1.0 - 0.9 * (-x / 3.0).exp(),
                    test: Some(0.98 - 0.9 * (-x / 3.0).exp()),
                }
            })
            .collect();
        CurvesSpec {
            title: "test".into(),
            losses,
            accuracy,
        }
    }

    #[test]
    fn draws_png_and_svg_with_labels() {
        let dir = scratch_dir("draw");
        let files = draw_training_curves(&dir.join("training"), &spec(1000, 16)).expect("draws");
        assert_eq!(
            files,
            vec![dir.join("training.png"), dir.join("training.svg")]
        );
        let png = std::fs::read(&files[0]).expect("png");
        assert!(png.starts_with(b"\x89PNG"));
        let svg = std::fs::read_to_string(&files[1]).expect("svg");
        for text in [
            "iterations",
            "epochs",
            "loss",
            "accuracy",
            "train acc",
            "test acc",
        ] {
            assert!(svg.contains(text), "{text} missing from the SVG");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn empty_history_is_an_error_and_writes_nothing() {
        let dir = scratch_dir("empty");
        let mut s = spec(10, 1);
        s.losses = vec![f64::NAN];
        assert!(draw_training_curves(&dir.join("training"), &s).is_err());
        let mut s = spec(10, 1);
        s.accuracy.clear();
        assert!(draw_training_curves(&dir.join("training"), &s).is_err());
        assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn long_runs_become_an_envelope_that_keeps_the_extremes() {
        let losses: Vec<f64> = (0..100_000)
            .map(|i| {
                if i == 54_321 {
                    9.0
                } else {
                    1.0 + (i % 3) as f64
                }
            })
            .collect();
        let line = loss_line(&losses, 1000);
        assert!(line.len() <= 1000, "{}", line.len());
        assert!(
            line.windows(2).all(|w| w[0].0 < w[1].0),
            "in iteration order"
        );
        assert!(line.contains(&(54_322.0, 9.0)), "the spike survives");
        assert_eq!(
            loss_line(&[1.0, f64::NAN, 0.5], 1000),
            vec![(1.0, 1.0), (3.0, 0.5)]
        );
    }

    #[test]
    fn markers_are_thinned_but_keep_the_last_point() {
        let points: Vec<(f64, f64)> = (0..100).map(|i| (i as f64, 0.5)).collect();
        let kept = thinned(&points, 20);
        assert!(kept.len() <= 21, "{}", kept.len());
        assert_eq!(kept.last(), Some(&&(99.0, 0.5)));
        assert_eq!(thinned(&points[..5], 20).len(), 5);
    }
}
