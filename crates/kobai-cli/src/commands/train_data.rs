//! The data `kobai train` (and the chapter-6 experiments) learn from: the
//! built-in spiral, or MNIST-format files.

use std::path::Path;

use anyhow::{Result, ensure};
use kobai::data::{Dataset, SPIRAL_CLASSES, load_mnist_dir, spiral};

pub const SPIRAL_POINTS: usize = 300;
pub const SPIRAL_TEST_FRACTION: f64 = 0.2;
pub const SPIRAL_SEED: u64 = 0;

/// Where the data came from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    Spiral,
    Folder(&'a Path),
}

impl<'a> Source<'a> {
    /// The spiral without a folder, the folder's files with one.
    pub fn new(dir: Option<&'a Path>) -> Self {
        match dir {
            Some(dir) => Source::Folder(dir),
            None => Source::Spiral,
        }
    }

    /// `spiral` or `mnist-format`.
    pub fn name(&self) -> &'static str {
        match self {
            Source::Spiral => "spiral",
            Source::Folder(_) => "mnist-format",
        }
    }

    /// A sentence for people.
    pub fn describe(&self) -> String {
        match self {
            Source::Spiral => format!(
                "the built-in spiral ({SPIRAL_CLASSES} arms of {SPIRAL_POINTS} points, \
                 {:.0}% held out for testing, data seed {SPIRAL_SEED})",
                SPIRAL_TEST_FRACTION * 100.0
            ),
            Source::Folder(dir) => format!("MNIST-format files in {}", dir.display()),
        }
    }

    /// A short name for titles: `the spiral`, or the folder's name.
    pub fn short(&self) -> String {
        match self {
            Source::Spiral => "the spiral".to_string(),
            Source::Folder(dir) => dir.file_name().map_or_else(
                || dir.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
        }
    }

    /// The training and test sets, checked to have the same features.
    pub fn load(&self) -> Result<(Dataset, Dataset)> {
        if let Source::Folder(dir) = self {
            ensure!(
                dir.is_dir(),
                "the data folder {} does not exist or is not a folder",
                dir.display()
            );
        }
        let (train, test) = match self {
            Source::Spiral => spiral(SPIRAL_POINTS, SPIRAL_TEST_FRACTION, SPIRAL_SEED)?,
            Source::Folder(dir) => load_mnist_dir(dir)?,
        };
        ensure!(
            train.features() == test.features(),
            "the training images have {} features but the test images {}",
            train.features(),
            test.features()
        );
        Ok((train, test))
    }
}

/// The first `n` training samples (the book's overfitting experiments), or
/// all of them.
pub fn first(train: Dataset, n: Option<usize>) -> Result<Dataset> {
    let Some(n) = n else {
        return Ok(train);
    };
    ensure!(n >= 1, "--train-size must be at least 1, got 0");
    ensure!(
        n <= train.len(),
        "--train-size {n} is larger than the {} training samples",
        train.len()
    );
    if n == train.len() {
        return Ok(train);
    }
    let indices: Vec<usize> = (0..n).collect();
    Ok(train.subset(&indices)?)
}
