//! How a [`Dataset`](super::Dataset) holds its features: as `f64`, or as the
//! bytes of an IDX file with the divisor that turns each into an `f64` — an
//! eighth of the memory (47 MB instead of 376 MB for Fashion-MNIST's 60 000
//! training images).
//!
//! Bytes become `f64` in one place, [`scale`], so every path — a batch, the
//! whole matrix, the data's fingerprint — gives the same bits.

use ndarray::{Array2, ArrayView2, Axis, CowArray, Ix2};

/// The feature a byte stands for: `byte / divisor`, exactly the expression
/// (`f64::from(b) / 255.0` for IDX files) that filled the `f64` matrix when
/// datasets were always stored as `f64`.
pub(super) fn scale(byte: u8, divisor: f64) -> f64 {
    f64::from(byte) / divisor
}

/// The features of a dataset, one sample per row. The checks (non-empty,
/// finite) are the dataset's constructors'.
#[derive(Debug, Clone)]
pub(super) enum Features {
    /// `f64` values.
    Floats(Array2<f64>),
    /// Bytes; the feature is [`scale`]`(byte, divisor)`.
    Bytes {
        /// The bytes, as read.
        pixels: Array2<u8>,
        /// What each byte is divided by.
        divisor: f64,
    },
}

impl Features {
    /// `(samples, features)`.
    pub(super) fn dim(&self) -> (usize, usize) {
        match self {
            Features::Floats(values) => values.dim(),
            Features::Bytes { pixels, .. } => pixels.dim(),
        }
    }

    /// The whole matrix as `f64`: borrowed, or converted (allocated) from bytes.
    pub(super) fn to_f64(&self) -> CowArray<'_, f64, Ix2> {
        match self {
            Features::Floats(values) => CowArray::from(values.view()),
            Features::Bytes { pixels, divisor } => {
                CowArray::from(pixels.mapv(|b| scale(b, *divisor)))
            }
        }
    }

    /// The bytes and their divisor, for byte storage.
    pub(super) fn bytes(&self) -> Option<(ArrayView2<'_, u8>, f64)> {
        match self {
            Features::Floats(_) => None,
            Features::Bytes { pixels, divisor } => Some((pixels.view(), *divisor)),
        }
    }

    /// The rows at `indices` (each below the row count), as `f64`, converting
    /// only those rows from bytes.
    pub(super) fn rows_f64(&self, indices: &[usize]) -> Array2<f64> {
        match self {
            Features::Floats(values) => values.select(Axis(0), indices),
            Features::Bytes { pixels, divisor } => {
                // 256 divisions instead of one per pixel; the same bits.
                let table: [f64; 256] = std::array::from_fn(|b| scale(b as u8, *divisor));
                let mut rows = Array2::zeros((indices.len(), pixels.ncols()));
                for (mut row, &i) in rows.rows_mut().into_iter().zip(indices) {
                    row.zip_mut_with(&pixels.row(i), |x, &b| *x = table[usize::from(b)]);
                }
                rows
            }
        }
    }

    /// The rows at `indices` (each below the row count), stored as these are.
    pub(super) fn select(&self, indices: &[usize]) -> Features {
        match self {
            Features::Floats(values) => Features::Floats(values.select(Axis(0), indices)),
            Features::Bytes { pixels, divisor } => Features::Bytes {
                pixels: pixels.select(Axis(0), indices),
                divisor: *divisor,
            },
        }
    }

    /// Every value as `f64`, row by row, without building the matrix.
    pub(super) fn values(&self) -> impl Iterator<Item = f64> + '_ {
        let (floats, bytes) = match self {
            Features::Floats(values) => (Some(values.iter().copied()), None),
            Features::Bytes { pixels, divisor } => {
                (None, Some(pixels.iter().map(|&b| scale(b, *divisor))))
            }
        };
        floats
            .into_iter()
            .flatten()
            .chain(bytes.into_iter().flatten())
    }
}

/// Equal when the values are, however they are stored.
impl PartialEq for Features {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Features::Floats(a), Features::Floats(b)) => a == b,
            (
                Features::Bytes { pixels, divisor },
                Features::Bytes {
                    pixels: other_pixels,
                    divisor: other_divisor,
                },
            ) if divisor == other_divisor => pixels == other_pixels,
            _ => self.dim() == other.dim() && self.values().eq(other.values()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn bytes() -> Features {
        Features::Bytes {
            pixels: array![[0, 51, 255], [7, 128, 254]],
            divisor: 255.0,
        }
    }

    /// The same values as [`bytes`], converted the way IDX files were before
    /// datasets could hold bytes.
    fn floats() -> Features {
        Features::Floats(array![[0u8, 51, 255], [7, 128, 254]].mapv(|b| f64::from(b) / 255.0))
    }

    fn bits(a: &Array2<f64>) -> Vec<u64> {
        a.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn every_path_gives_the_same_bits() {
        let (b, f) = (bytes(), floats());
        assert_eq!(bits(&b.to_f64().to_owned()), bits(&f.to_f64().to_owned()));
        for indices in [&[1, 0, 1][..], &[0], &[]] {
            assert_eq!(bits(&b.rows_f64(indices)), bits(&f.rows_f64(indices)));
        }
        let b_values: Vec<u64> = b.values().map(f64::to_bits).collect();
        let f_values: Vec<u64> = f.values().map(f64::to_bits).collect();
        assert_eq!(b_values, f_values);
        assert_eq!(b.dim(), (2, 3));
    }

    #[test]
    fn select_keeps_the_storage() {
        let picked = bytes().select(&[1]);
        assert_eq!(
            picked.bytes().map(|(p, d)| (p.to_owned(), d)),
            Some((array![[7, 128, 254]], 255.0))
        );
        assert!(floats().select(&[1]).bytes().is_none());
        assert!(floats().to_f64().is_view());
        assert!(bytes().to_f64().is_owned());
    }

    #[test]
    fn equality_is_by_value() {
        assert_eq!(bytes(), floats());
        assert_eq!(floats(), bytes());
        // 102 / 510 and 51 / 255 are both the f64 nearest 0.2.
        let doubled = Features::Bytes {
            pixels: array![[0, 102]],
            divisor: 510.0,
        };
        let single = Features::Bytes {
            pixels: array![[0, 51]],
            divisor: 255.0,
        };
        assert_eq!(doubled, single);
        assert_ne!(doubled, bytes());
        assert_ne!(bytes().select(&[0]), bytes());
        assert_ne!(bytes().select(&[0, 0]), floats().select(&[0, 1]));
    }
}
