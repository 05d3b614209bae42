//! The classic three-armed spiral (CS231n), generated from a seed: a dataset
//! that needs no download and that no linear classifier can separate.

use ndarray::{Array1, Array2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::data::dataset::Dataset;
use crate::error::{KobaiError, Result};

/// The number of arms (classes) of the spiral.
pub const SPIRAL_CLASSES: usize = 3;

/// The standard deviation of the noise added to each point's angle.
pub const SPIRAL_NOISE: f64 = 0.2;

/// All the spiral's points, class by class, in generation order: for class
/// `k`, `r = linspace(0, 1, n)`, `θ = linspace(4k, 4(k+1), n) + N(0, 0.2²)`,
/// and the point is `(r sin θ, r cos θ)`, as in CS231n's
/// `X[ix] = np.c_[r*np.sin(t), r*np.cos(t)]`. The noise comes from a ChaCha8
/// generator seeded with `seed`; the result is a pure function of
/// `(points_per_class, seed)`.
///
/// # Errors
/// [`KobaiError::Hyperparameter`] if `points_per_class` is 0.
///
/// ```
/// let all = kobai::data::spiral_points(100, 0)?;
/// assert_eq!((all.len(), all.features(), all.classes()), (300, 2, 3));
/// assert_eq!(all.labels()[250], 2);
/// assert_eq!(all, kobai::data::spiral_points(100, 0)?); // same seed, same bits
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn spiral_points(points_per_class: usize, seed: u64) -> Result<Dataset> {
    spiral_with_rng(points_per_class, &mut ChaCha8Rng::seed_from_u64(seed))
}

/// The spiral split into `(train, test)`: [`spiral_points`], then
/// [`Dataset::split`] with `test_fraction`, shuffled by a seed drawn from the
/// same generator. A pure function of its three arguments;
/// `spiral(300, 0.2, seed)` gives 720 training and 180 test points.
///
/// # Errors
/// [`KobaiError::Hyperparameter`] if `points_per_class` is 0, or if
/// `test_fraction` is outside `(0, 1)` or leaves either part empty.
///
/// ```
/// let (train, test) = kobai::data::spiral(300, 0.2, 42)?;
/// assert_eq!((train.len(), test.len()), (720, 180));
/// assert_eq!((train.features(), train.classes()), (2, 3));
/// assert!(train.images().iter().all(|v| v.abs() <= 1.0));
/// assert!(kobai::data::spiral(300, 1.5, 42).is_err());
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn spiral(
    points_per_class: usize,
    test_fraction: f64,
    seed: u64,
) -> Result<(Dataset, Dataset)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let all = spiral_with_rng(points_per_class, &mut rng)?;
    let split_seed: u64 = rng.random();
    all.split(test_fraction, split_seed)
}

/// Generates the points, drawing the angle noise from `rng` class by class.
fn spiral_with_rng(points_per_class: usize, rng: &mut ChaCha8Rng) -> Result<Dataset> {
    if points_per_class == 0 {
        return Err(KobaiError::Hyperparameter {
            name: "points_per_class",
            value: "0".into(),
            expected: "at least 1",
        });
    }
    let n = points_per_class;
    let Some(total) = n.checked_mul(SPIRAL_CLASSES * 2) else {
        return Err(KobaiError::Hyperparameter {
            name: "points_per_class",
            value: n.to_string(),
            expected: "a count whose points fit in memory",
        });
    };
    let mut images = Array2::zeros((total / 2, 2));
    let mut labels = Array1::zeros(total / 2);
    for class in 0..SPIRAL_CLASSES {
        let start = 4.0 * class as f64;
        for i in 0..n {
            let row = class * n + i;
            let r = linspace_at(0.0, 1.0, n, i);
            let noise: f64 = StandardNormal.sample(rng);
            let theta = linspace_at(start, start + 4.0, n, i) + noise * SPIRAL_NOISE;
            images[[row, 0]] = r * theta.sin();
            images[[row, 1]] = r * theta.cos();
            labels[row] = class;
        }
    }
    Dataset::new(images, labels, SPIRAL_CLASSES)
}

/// The `i`-th of `n` evenly spaced values from `start` to `stop` inclusive,
/// as `np.linspace` computes it (the last one is exactly `stop`).
fn linspace_at(start: f64, stop: f64, n: usize, i: usize) -> f64 {
    if n <= 1 {
        return start;
    }
    if i + 1 == n {
        return stop;
    }
    start + i as f64 * ((stop - start) / (n - 1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linspace_matches_numpy() {
        let xs: Vec<f64> = (0..5).map(|i| linspace_at(0.0, 1.0, 5, i)).collect();
        assert_eq!(xs, [0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(linspace_at(4.0, 8.0, 1, 0), 4.0);
    }

    #[test]
    fn radius_grows_along_each_arm() {
        let all = spiral_points(50, 3).unwrap();
        let images = all.images();
        for class in 0..SPIRAL_CLASSES {
            let first = images.row(class * 50);
            assert_eq!((first[0], first[1]), (0.0, 0.0));
            let last = images.row(class * 50 + 49);
            let radius = last[0].hypot(last[1]);
            assert!((radius - 1.0).abs() < 1e-12, "{radius}");
        }
    }

    #[test]
    fn classes_are_balanced_before_the_split() {
        let all = spiral_points(7, 0).unwrap();
        for class in 0..SPIRAL_CLASSES {
            assert_eq!(all.labels().iter().filter(|&&l| l == class).count(), 7);
        }
    }

    #[test]
    fn different_seeds_differ_and_the_split_is_a_partition() {
        assert_ne!(spiral_points(20, 0).unwrap(), spiral_points(20, 1).unwrap());
        let (train, test) = spiral(20, 0.25, 9).unwrap();
        assert_eq!((train.len(), test.len()), (45, 15));
        assert_eq!(spiral(20, 0.25, 9).unwrap(), (train, test));
    }

    #[test]
    fn zero_points_is_an_error() {
        let err = spiral_points(0, 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "points_per_class = 0 is invalid; expected at least 1"
        );
    }
}
