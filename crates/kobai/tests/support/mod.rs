//! What the library's integration tests share, in one place: a small
//! checkpointed run and bits to compare, sparse images like MNIST's, the
//! largest relative difference of two gradients, zip's CRC-32.

#![allow(dead_code)] // each test crate uses its own part

use std::ops::ControlFlow;
use std::path::PathBuf;

use kobai::data::{Dataset, Sampling, spiral};
use kobai::train::{History, Length, Trainer};
use kobai::{Observer, Params, TwoLayerNet};

/// 144 training and 36 test points; 9 iterations per epoch of 16.
pub fn data() -> (Dataset, Dataset) {
    spiral(60, 0.2, 0).expect("valid spiral")
}

/// 50 iterations: 5 epochs of 9, then a partial one of 5.
pub fn trainer(sampling: Sampling) -> Trainer {
    let mut trainer = Trainer::new(Length::Iterations(50), 16, 3).expect("valid trainer");
    trainer.sampling = sampling;
    trainer
}

pub fn net() -> TwoLayerNet {
    TwoLayerNet::new(2, 10, 3, 0.5, 1).expect("valid net")
}

pub const SAMPLINGS: [Sampling; 2] = [Sampling::WithReplacement, Sampling::Shuffled];

pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kobai-checkpoint-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// Every parameter's bits, by name.
pub fn bits(model: &impl Params) -> Vec<(String, Vec<u64>)> {
    model
        .params()
        .into_iter()
        .map(|(name, p)| (name, p.iter().map(|v| v.to_bits()).collect()))
        .collect()
}

/// Every number of a history as bits (so that -0.0 ≠ 0.0 and NaN = NaN).
pub fn history_bits(h: &History) -> (Vec<u64>, Vec<[u64; 5]>, usize, bool) {
    let reports = h.epochs.iter().map(|r| {
        [
            r.epoch as u64,
            r.iteration as u64,
            r.mean_loss.to_bits(),
            r.train_accuracy.to_bits(),
            r.test_accuracy.map_or(u64::MAX, f64::to_bits),
        ]
    });
    let losses = h.losses.iter().map(|v| v.to_bits()).collect();
    (losses, reports.collect(), h.iterations, h.stopped_early)
}

/// Stops training after iteration `at`; first copies the checkpoint file as
/// it is then (the last periodic save) to `keep`, as a kill would leave it.
pub struct Interrupt {
    pub at: usize,
    pub keep: Option<(PathBuf, PathBuf)>,
}

impl Observer for Interrupt {
    fn on_iteration(&mut self, i: usize, _loss: f64) -> ControlFlow<()> {
        if i < self.at {
            return ControlFlow::Continue(());
        }
        if let Some((from, to)) = &self.keep {
            std::fs::copy(from, to).expect("a checkpoint exists");
        }
        ControlFlow::Break(())
    }
}

/// `rows` × `cols` values, half of them 0 and the rest uniform in [0.5, 1):
/// sparse like MNIST pixels, seeded.
pub fn images(rows: usize, cols: usize, seed: u64) -> ndarray::Array2<f64> {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Uniform};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let uniform = Uniform::new(0.0, 1.0).expect("valid range");
    ndarray::Array2::from_shape_fn((rows, cols), |_| {
        let v: f64 = uniform.sample(&mut rng);
        if v < 0.5 { 0.0 } else { v }
    })
}

/// A dataset of `rows` samples of `width` bytes held as bytes, about half
/// of them 0, with labels below `classes`: seeded.
pub fn byte_dataset(rows: usize, width: usize, classes: usize, seed: u64) -> Dataset {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let pixels = ndarray::Array2::from_shape_fn((rows, width), |_| {
        if rng.random_bool(0.5) {
            0
        } else {
            rng.random::<u8>()
        }
    });
    let labels = ndarray::Array1::from_shape_fn(rows, |_| rng.random_range(0..classes));
    Dataset::from_bytes(pixels, 255.0, labels, classes).expect("valid dataset")
}

/// The largest |a − b| over all parameters, relative to the largest |a|;
/// the two must name the same tensors of the same shapes, in order.
pub fn relative_difference(a: &kobai::Grads, b: &kobai::Grads) -> f64 {
    assert_eq!(a.len(), b.len());
    let mut diff = 0.0f64;
    let mut scale = 0.0f64;
    for ((name_a, ga), (name_b, gb)) in a.iter().zip(b.iter()) {
        assert_eq!(name_a, name_b);
        assert_eq!(ga.shape(), gb.shape(), "{name_a}");
        for (x, y) in ga.iter().zip(gb) {
            diff = diff.max((x - y).abs());
            scale = scale.max(x.abs());
        }
    }
    diff / scale.max(f64::MIN_POSITIVE)
}

/// CRC-32 (IEEE), as a zip archive stores it for each member.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(bytes);
    crc.sum()
}
