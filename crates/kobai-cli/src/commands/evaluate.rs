//! `kobai evaluate`: a saved network's accuracy and confusion matrix on a
//! dataset; the architecture comes from the weights file itself.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail, ensure};
use kobai::data::Dataset;
use kobai::model::{load_npz, read_architecture};
use kobai::nets::{LayerSpec, Network};
use kobai::{Model, TwoLayerNet};
use ndarray::Array2;
use serde_json::{Value, json};

use super::train_data::Source;

/// Options of `kobai evaluate`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Reads the network's architecture and weights from FILE (written by
`kobai train --save FILE`), then scores every sample of the test set (or of the
training set with --split train) and prints the accuracy and the confusion
matrix: row = true class, column = predicted class. Dropout scales and
BatchNorm uses its running statistics, as in the book's predict(train_flg=False).")]
pub struct Args {
    /// The .npz file that `kobai train --save` wrote.
    #[arg(long, value_name = "FILE")]
    weights: PathBuf,
    /// Folder with MNIST-format files; without it, the built-in spiral.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Which set to score.
    #[arg(long, value_enum, default_value_t = Split::Test)]
    split: Split,
    /// Print the results as one JSON object, for scripts.
    #[arg(long)]
    json: bool,
}

/// The set to score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Split {
    /// The test set.
    Test,
    /// The training set.
    Train,
}

/// A network read back from a file: either kind kobai saves.
enum Saved {
    Two(TwoLayerNet),
    Deep(Network),
}

impl Saved {
    fn load(path: &Path) -> Result<(Saved, String)> {
        let text = read_architecture(path)?;
        let Some(text) = text else {
            bail!(
                "{} holds no architecture (it was not written by kobai train --save); \
                 cannot tell which network to build",
                path.display()
            );
        };
        let saved = if text.starts_with("two_layer_net(") {
            let mut net = TwoLayerNet::from_architecture(&text)?;
            load_npz(&mut net, path)?;
            Saved::Two(net)
        } else {
            let mut net = Network::from_architecture(&text)?;
            load_npz(&mut net, path)?;
            Saved::Deep(net)
        };
        Ok((saved, text))
    }

    /// The image shape (C, H, W) a convolutional network was built for.
    fn image_shape(&self) -> Option<(usize, usize, usize)> {
        let Saved::Deep(n) = self else {
            return None;
        };
        match n.layers().next()?.1.spec() {
            LayerSpec::Convolution { input, .. } => Some(input),
            _ => None,
        }
    }

    fn predict(&self, x: &Array2<f64>) -> kobai::Result<Array2<f64>> {
        match self {
            Saved::Two(n) => n.predict(x),
            Saved::Deep(n) => n.predict(x),
        }
    }
}

/// Loads the network and the data, scores, prints.
pub fn run(args: &Args) -> Result<()> {
    let (net, architecture) = Saved::load(&args.weights)?;
    let source = Source::new(args.data.as_deref());
    let (train, test) = source.load()?;
    let data = match args.split {
        Split::Test => &test,
        Split::Train => &train,
    };
    if let Some((c, h, w)) = net.image_shape() {
        match data.image_shape() {
            Some(shape) if shape == (c, h, w) => {}
            found => bail!(
                "{} holds a convolutional network for images of {c}x{h}x{w}, but the data \
                 holds {}",
                args.weights.display(),
                found.map_or_else(
                    || format!("{} plain features", data.features()),
                    |(c, h, w)| format!("images of {c}x{h}x{w}")
                )
            ),
        }
    }
    let classes = train.classes().max(test.classes());
    let confusion = confusion(&net, data, classes)?;
    let correct: usize = (0..classes).map(|c| confusion[[c, c]]).sum();
    let accuracy = correct as f64 / data.len().max(1) as f64;
    let split = match args.split {
        Split::Test => "test",
        Split::Train => "train",
    };
    if args.json {
        let rows: Vec<Vec<usize>> = confusion.rows().into_iter().map(|r| r.to_vec()).collect();
        let json: Value = json!({
            "weights": args.weights.display().to_string(),
            "architecture": architecture,
            "dataset": {
                "name": source.name(),
                "path": args.data.as_ref().map(|d| d.display().to_string()),
                "split": split,
                "samples": data.len(),
                "classes": classes,
            },
            "correct": correct,
            "accuracy": accuracy,
            "confusion": rows,
            "recall": recall(&confusion),
        });
        outln!("{json}");
    } else {
        outln!("Network: {architecture} (from {})", args.weights.display());
        outln!("Data: {}, {split} set", source.describe());
        outln!(
            "Accuracy: {accuracy:.4} ({correct} of {} {split} samples)",
            data.len()
        );
        out!("{}", table(&confusion));
    }
    Ok(())
}

/// Counts of (true class, predicted class), scored 1000 rows at a time.
fn confusion(net: &Saved, data: &Dataset, classes: usize) -> Result<Array2<usize>> {
    let mut counts = Array2::<usize>::zeros((classes, classes));
    let mut start = 0;
    while start < data.len() {
        let rows: Vec<usize> = (start..data.len().min(start + 1000)).collect();
        let (x, labels) = data.batch(&rows)?;
        let scores = net
            .predict(&x)
            .map_err(|e| anyhow::anyhow!("the network does not fit the data: {e}"))?;
        ensure!(
            scores.ncols() == classes,
            "the network scores {} classes but the data has {classes}",
            scores.ncols()
        );
        // A dataset's labels are below its classes, and `classes` is the
        // larger of the two sets'.
        for (row, &label) in scores.rows().into_iter().zip(&labels) {
            let predicted = row
                .iter()
                .enumerate()
                .fold((0, f64::NEG_INFINITY), |best, (i, &v)| {
                    if v > best.1 { (i, v) } else { best }
                })
                .0;
            counts[[label, predicted]] += 1;
        }
        start += rows.len();
    }
    Ok(counts)
}

/// Per true class: the fraction predicted right (NaN-free: `null` for an
/// absent class in JSON).
fn recall(confusion: &Array2<usize>) -> Vec<Option<f64>> {
    confusion
        .rows()
        .into_iter()
        .enumerate()
        .map(|(c, row)| {
            let total: usize = row.sum();
            (total > 0).then(|| row[c] as f64 / total as f64)
        })
        .collect()
}

/// The confusion matrix for people, with each class's recall.
fn table(confusion: &Array2<usize>) -> String {
    let width = confusion
        .iter()
        .map(|v| v.to_string().len())
        .max()
        .unwrap_or(1)
        .max(4);
    let mut out = String::from("Confusion (row: true class, column: predicted):\n");
    let _ = write!(out, "{:>5}", "");
    for c in 0..confusion.ncols() {
        let _ = write!(out, " {c:>width$}");
    }
    out.push_str("  recall\n");
    for (c, (row, r)) in confusion
        .rows()
        .into_iter()
        .zip(recall(confusion))
        .enumerate()
    {
        let _ = write!(out, "{c:>5}");
        for v in row {
            let _ = write!(out, " {v:>width$}");
        }
        match r {
            Some(r) => {
                let _ = writeln!(out, "  {r:.4}");
            }
            None => out.push_str("  -\n"),
        }
    }
    out
}
