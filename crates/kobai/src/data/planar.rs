//! Two-class datasets of points in the plane, generated from a seed: the four
//! of TensorFlow Playground (circles, XOR, two Gaussians, a two-armed spiral),
//! on the same scale (coordinates about −6 to 6) and with the same noise
//! control, for watching a small network learn.

use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

use ndarray::{Array1, Array2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::data::dataset::Dataset;
use crate::error::{KobaiError, Result};

/// The radius of the circles and the spiral, and the half-width of the XOR
/// square.
const RADIUS: f64 = 5.0;

/// The most points [`planar_points`] makes (8 MB of `f64`).
pub const PLANAR_MAX_POINTS: usize = 500_000;

/// Which planar dataset.
///
/// ```
/// use kobai::data::Planar;
/// let kind: Planar = "xor".parse()?;
/// assert_eq!(kind, Planar::Xor);
/// assert_eq!(kind.to_string(), "xor");
/// assert!("moons".parse::<Planar>().is_err());
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Planar {
    /// Class 1 inside radius 2.5, class 0 in the ring from 3.5 to 5.
    Circles,
    /// Uniform in the square ±5 (pushed 0.3 off the axes); class 1 where
    /// `x0 · x1 ≥ 0`.
    Xor,
    /// Class 1 around (2, 2), class 0 around (−2, −2); the variance grows
    /// from 0.5 to 4 with the noise.
    Gaussians,
    /// Two interleaved arms, each turning 1.75 times around the origin (the
    /// same points for every seed when the noise is 0).
    Spiral,
}

impl Planar {
    /// Every kind, in the order the playground lists them.
    pub const ALL: [Planar; 4] = [
        Planar::Circles,
        Planar::Xor,
        Planar::Gaussians,
        Planar::Spiral,
    ];

    /// The name as it is typed and printed.
    pub fn name(self) -> &'static str {
        match self {
            Planar::Circles => "circles",
            Planar::Xor => "xor",
            Planar::Gaussians => "gaussians",
            Planar::Spiral => "spiral",
        }
    }
}

impl fmt::Display for Planar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Planar {
    type Err = KobaiError;

    fn from_str(text: &str) -> Result<Self> {
        Planar::ALL
            .into_iter()
            .find(|kind| kind.name() == text)
            .ok_or_else(|| KobaiError::Hyperparameter {
                name: "dataset",
                value: text.to_string(),
                expected: "circles, xor, gaussians or spiral",
            })
    }
}

/// `points` points of `kind` with two classes (labels 0 and 1, half each,
/// class 0 first), `noise` from 0 (clean) to 1, drawn from a ChaCha8
/// generator seeded with `seed`: a pure function of its arguments.
///
/// The noise moves each point by up to `noise × 5` in each coordinate
/// (circles, XOR), `noise` in each coordinate (spiral), or widens the
/// Gaussians; a point keeps the class it was drawn for, so noisy classes
/// overlap.
///
/// # Errors
/// [`KobaiError::Hyperparameter`] if `points` is below 2 or above
/// [`PLANAR_MAX_POINTS`], or `noise` is not in `[0, 1]`.
///
/// ```
/// use kobai::data::{planar_points, Planar};
/// let data = planar_points(Planar::Circles, 200, 0.0, 7)?;
/// assert_eq!((data.len(), data.features(), data.classes()), (200, 2, 2));
/// // Without noise, class 1 is inside radius 2.5 and class 0 outside 3.5.
/// let images = data.images();
/// for (row, &label) in images.rows().into_iter().zip(data.labels()) {
///     let r = row[0].hypot(row[1]);
///     assert!(if label == 1 { r <= 2.5 } else { (3.5..=5.0).contains(&r) });
/// }
/// assert_eq!(data, planar_points(Planar::Circles, 200, 0.0, 7)?); // same seed, same bits
/// assert!(planar_points(Planar::Xor, 200, 1.5, 7).is_err());
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn planar_points(kind: Planar, points: usize, noise: f64, seed: u64) -> Result<Dataset> {
    if !(2..=PLANAR_MAX_POINTS).contains(&points) {
        return Err(KobaiError::Hyperparameter {
            name: "points",
            value: points.to_string(),
            expected: "from 2 to 500000",
        });
    }
    if !(0.0..=1.0).contains(&noise) {
        return Err(KobaiError::Hyperparameter {
            name: "noise",
            value: noise.to_string(),
            expected: "from 0 to 1",
        });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut images = Array2::zeros((points, 2));
    let mut labels = Array1::zeros(points);
    let per_class = [points - points / 2, points / 2];
    let mut row = 0;
    for (class, &count) in per_class.iter().enumerate() {
        for i in 0..count {
            let (x, y) = match kind {
                Planar::Circles => circle_point(class, noise, &mut rng),
                Planar::Xor => xor_point(class, noise, &mut rng),
                Planar::Gaussians => gaussian_point(class, noise, &mut rng),
                Planar::Spiral => spiral_point(class, i, count, noise, &mut rng),
            };
            images[[row, 0]] = x;
            images[[row, 1]] = y;
            labels[row] = class;
            row += 1;
        }
    }
    Dataset::new(images, labels, 2)
}

/// A uniform shift in `±noise × RADIUS`.
fn jitter(noise: f64, rng: &mut ChaCha8Rng) -> f64 {
    rng.random_range(-RADIUS..=RADIUS) * noise
}

fn circle_point(class: usize, noise: f64, rng: &mut ChaCha8Rng) -> (f64, f64) {
    let r = if class == 1 {
        rng.random_range(0.0..=0.5 * RADIUS)
    } else {
        rng.random_range(0.7 * RADIUS..=RADIUS)
    };
    let angle = rng.random_range(0.0..2.0 * PI);
    let (x, y) = (r * angle.sin(), r * angle.cos());
    (x + jitter(noise, rng), y + jitter(noise, rng))
}

fn xor_point(class: usize, noise: f64, rng: &mut ChaCha8Rng) -> (f64, f64) {
    const PADDING: f64 = 0.3;
    let away = |v: f64| if v >= 0.0 { v + PADDING } else { v - PADDING };
    let x = away(rng.random_range(-RADIUS..=RADIUS));
    let mut y = away(rng.random_range(-RADIUS..=RADIUS));
    // Class 1 where x·y ≥ 0: flip y's side when the draw landed in the other class.
    if (x * y >= 0.0) != (class == 1) {
        y = -y;
    }
    (x + jitter(noise, rng), y + jitter(noise, rng))
}

fn gaussian_point(class: usize, noise: f64, rng: &mut ChaCha8Rng) -> (f64, f64) {
    let variance = 0.5 + (4.0 - 0.5) * noise;
    let centre = if class == 1 { 2.0 } else { -2.0 };
    let mut normal = || -> f64 { StandardNormal.sample(rng) };
    (
        centre + variance.sqrt() * normal(),
        centre + variance.sqrt() * normal(),
    )
}

fn spiral_point(
    class: usize,
    i: usize,
    count: usize,
    noise: f64,
    rng: &mut ChaCha8Rng,
) -> (f64, f64) {
    let along = i as f64 / count as f64;
    let r = along * RADIUS;
    let t = 1.75 * along * 2.0 * PI + if class == 1 { PI } else { 0.0 };
    let shift = |rng: &mut ChaCha8Rng| rng.random_range(-1.0..=1.0) * noise;
    (r * t.sin() + shift(rng), r * t.cos() + shift(rng))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(data: &Dataset, class: usize) -> usize {
        data.labels().iter().filter(|&&l| l == class).count()
    }

    #[test]
    fn classes_are_halves_and_odd_counts_favour_class_zero() {
        for kind in Planar::ALL {
            let data = planar_points(kind, 101, 0.2, 1).unwrap();
            assert_eq!((count(&data, 0), count(&data, 1)), (51, 50), "{kind}");
        }
    }

    #[test]
    fn clean_xor_is_labelled_by_the_sign_of_the_product() {
        let data = planar_points(Planar::Xor, 400, 0.0, 3).unwrap();
        let images = data.images();
        for (row, &label) in images.rows().into_iter().zip(data.labels()) {
            assert_eq!(row[0] * row[1] >= 0.0, label == 1);
            assert!(row[0].abs() >= 0.3 && row[1].abs() >= 0.3);
            assert!(row[0].abs() <= 5.3 && row[1].abs() <= 5.3);
        }
    }

    #[test]
    fn gaussians_sit_around_their_centres() {
        let data = planar_points(Planar::Gaussians, 2000, 0.0, 5).unwrap();
        let images = data.images();
        for class in 0..2 {
            let rows: Vec<_> = images
                .rows()
                .into_iter()
                .zip(data.labels())
                .filter(|(_, l)| **l == class)
                .map(|(r, _)| (r[0], r[1]))
                .collect();
            let mean = rows.iter().map(|p| p.0 + p.1).sum::<f64>() / (2 * rows.len()) as f64;
            let centre = if class == 1 { 2.0 } else { -2.0 };
            assert!((mean - centre).abs() < 0.1, "class {class}: mean {mean}");
        }
    }

    #[test]
    fn clean_spiral_arms_are_point_reflections() {
        let data = planar_points(Planar::Spiral, 200, 0.0, 0).unwrap();
        let images = data.images();
        for i in 0..100 {
            let (a, b) = (images.row(i), images.row(100 + i));
            assert!((a[0] + b[0]).abs() < 1e-12 && (a[1] + b[1]).abs() < 1e-12);
            assert!(a[0].hypot(a[1]) < RADIUS);
        }
    }

    #[test]
    fn noise_moves_points_and_seeds_differ() {
        for kind in Planar::ALL {
            let clean = planar_points(kind, 50, 0.0, 9).unwrap();
            let noisy = planar_points(kind, 50, 0.3, 9).unwrap();
            assert_ne!(noisy, clean, "{kind}");
            assert_ne!(planar_points(kind, 50, 0.3, 10).unwrap(), noisy, "{kind}");
        }
    }

    #[test]
    fn bad_sizes_and_noise_are_errors() {
        assert!(planar_points(Planar::Spiral, 1, 0.0, 0).is_err());
        assert!(planar_points(Planar::Spiral, PLANAR_MAX_POINTS + 1, 0.0, 0).is_err());
        assert!(planar_points(Planar::Spiral, 10, -0.1, 0).is_err());
        assert!(planar_points(Planar::Spiral, 10, f64::NAN, 0).is_err());
        let names: Vec<String> = Planar::ALL.iter().map(ToString::to_string).collect();
        for name in names {
            assert_eq!(name.parse::<Planar>().unwrap().name(), name);
        }
    }
}
