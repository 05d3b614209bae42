//! Training progress for people: a progress bar on stderr (iteration, loss,
//! the latest accuracies) and, if asked, the book's line per epoch on stdout.
//!
//! The bar draws only when stderr is a terminal: indicatif's
//! `ProgressDrawTarget::stderr()` turns itself into a hidden target when stderr
//! is redirected (or `TERM` is `dumb`), so pipes, files and tests see no escape
//! codes. The epoch lines are printed with the bar suspended, so the two never
//! garble each other on a terminal.

use std::io::Write as _;
use std::ops::ControlFlow;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kobai::Observer;
use kobai::gradient_check::CheckWatch;
use kobai::train::EpochReport;

use crate::interrupt::StopRequest;

/// The bar's layout: elapsed time, a bar as wide as the terminal leaves room
/// for, iterations, the time left at the recent rate (a convolutional epoch
/// takes minutes), then the message (about 78 columns without the bar).
const TEMPLATE: &str =
    "[{elapsed_precise}] {wide_bar:.cyan/blue} {pos:>6}/{len} it  ETA {eta_precise}  {msg}";

/// A [`kobai::Observer`] that shows training progress.
pub struct TrainingProgress {
    bar: ProgressBar,
    /// Whether to print the book's `train acc, test acc | …` line per epoch.
    epoch_lines: bool,
    /// The latest accuracies, shown beside the loss.
    accuracy: Option<(f64, Option<f64>)>,
    /// Whether the message is worth formatting (the bar is visible).
    visible: bool,
    /// Lines for stdout when training starts (what is about to happen).
    header: Option<String>,
}

impl TrainingProgress {
    /// A bar for `iterations` steps on stderr (hidden unless stderr is a
    /// terminal); `epoch_lines` prints one line per epoch on stdout.
    pub fn new(iterations: usize, epoch_lines: bool) -> Self {
        let bar =
            ProgressBar::with_draw_target(Some(iterations as u64), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(TEMPLATE) {
            bar.set_style(style.progress_chars("=> "));
        }
        let visible = !bar.is_hidden();
        Self {
            bar,
            epoch_lines,
            accuracy: None,
            visible,
            header: None,
        }
    }

    /// Prints `text` on stdout when training starts: after a resumed run's
    /// checkpoint has been checked, so a refused one prints nothing.
    pub fn with_header(mut self, text: String) -> Self {
        self.header = Some(text);
        self
    }

    /// Removes the bar from the terminal (call once training has ended).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn message(&self, loss: f64) -> String {
        let mut text = format!("loss {loss:.4}");
        if let Some((train, test)) = self.accuracy {
            text.push_str(&format!("  train {train:.4}"));
            if let Some(test) = test {
                text.push_str(&format!("  test {test:.4}"));
            }
        }
        text
    }
}

impl Observer for TrainingProgress {
    fn on_start(&mut self, start: usize, _iterations: usize) {
        self.bar.set_position(start as u64);
        if let Some(text) = self.header.take() {
            self.bar.suspend(|| {
                let mut out = std::io::stdout().lock();
                let _ = write!(out, "{text}");
                let _ = out.flush();
            });
        }
    }

    fn on_iteration(&mut self, iteration: usize, loss: f64) -> ControlFlow<()> {
        if self.visible {
            self.bar.set_message(self.message(loss));
        }
        self.bar.set_position(iteration as u64);
        ControlFlow::Continue(())
    }

    fn on_epoch(&mut self, report: &EpochReport) -> ControlFlow<()> {
        self.accuracy = Some((report.train_accuracy, report.test_accuracy));
        if self.epoch_lines {
            let line = epoch_line(report);
            self.bar.suspend(|| {
                let mut out = std::io::stdout().lock();
                // A closed stdout (e.g. `| head`) must not stop the training.
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            });
        }
        ControlFlow::Continue(())
    }
}

/// A gradient check's progress: a bar of elements compared on stderr (hidden
/// unless stderr is a terminal), and a stop at Ctrl-C.
pub struct CheckProgress<'a> {
    bar: ProgressBar,
    stop: &'a StopRequest,
}

/// The check bar's layout.
const CHECK_TEMPLATE: &str =
    "[{elapsed_precise}] {wide_bar:.cyan/blue} {pos:>7}/{len} elements  ETA {eta_precise}";

impl<'a> CheckProgress<'a> {
    /// A bar that stops the check once `stop` has caught a signal.
    pub fn new(stop: &'a StopRequest) -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(CHECK_TEMPLATE) {
            bar.set_style(style.progress_chars("=> "));
        }
        Self { bar, stop }
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl CheckWatch for CheckProgress<'_> {
    fn on_start(&self, elements: usize) {
        self.bar.set_length(elements as u64);
    }

    fn on_element(&self) -> ControlFlow<()> {
        self.bar.inc(1);
        match self.stop.received() {
            Some(_) => ControlFlow::Break(()),
            None => ControlFlow::Continue(()),
        }
    }
}

/// The line the book's `train_neuralnet.py` prints after each epoch.
pub fn epoch_line(report: &EpochReport) -> String {
    match report.test_accuracy {
        Some(test) => format!(
            "train acc, test acc | {:.4}, {test:.4}",
            report.train_accuracy
        ),
        None => format!("train acc | {:.4}", report.train_accuracy),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(test: Option<f64>) -> EpochReport {
        EpochReport {
            epoch: 1,
            iteration: 600,
            mean_loss: 0.5,
            train_accuracy: 0.10446,
            test_accuracy: test,
        }
    }

    #[test]
    fn the_bar_layout_parses_and_shows_the_time_left() {
        assert!(ProgressStyle::with_template(TEMPLATE).is_ok());
        assert!(ProgressStyle::with_template(CHECK_TEMPLATE).is_ok());
        assert!(TEMPLATE.contains("{eta_precise}") && TEMPLATE.contains("{elapsed_precise}"));
    }

    #[test]
    fn epoch_lines_read_like_the_book() {
        assert_eq!(
            epoch_line(&report(Some(0.1011))),
            "train acc, test acc | 0.1045, 0.1011"
        );
        assert_eq!(epoch_line(&report(None)), "train acc | 0.1045");
    }

    #[test]
    fn the_bar_never_stops_training() {
        // Whether stderr is a terminal depends on who runs the tests; the
        // integration tests check that a piped stderr stays empty.
        let mut progress = TrainingProgress::new(10, false);
        assert_eq!(progress.on_iteration(1, 2.3), ControlFlow::Continue(()));
        assert_eq!(
            progress.on_epoch(&report(Some(0.2))),
            ControlFlow::Continue(())
        );
        assert_eq!(progress.bar.position(), 1);
        progress.finish();
    }

    #[test]
    fn the_message_shows_loss_and_latest_accuracies() {
        let mut progress = TrainingProgress::new(10, false);
        assert_eq!(progress.message(1.23456), "loss 1.2346");
        let _ = progress.on_epoch(&report(Some(0.2)));
        assert_eq!(
            progress.message(0.5),
            "loss 0.5000  train 0.1045  test 0.2000"
        );
    }
}
