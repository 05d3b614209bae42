//! A labelled dataset held in memory, and the MNIST loader.

use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2, ArrayView2, Axis, CowArray, Ix2};

use crate::check;
use crate::data::batches::permutation;
use crate::data::features::{Features, scale};
use crate::data::idx::{IdxArray, read_idx_u8};
use crate::error::{KobaiError, Result};

/// The number of classes of MNIST and Fashion-MNIST.
pub const MNIST_CLASSES: usize = 10;

/// What IDX pixels are divided by, to scale them to `[0, 1]`.
const IDX_DIVISOR: f64 = 255.0;

/// Samples as rows of features, with one class label each.
///
/// The fields are checked once, by the constructors, and private after that:
/// every `Dataset` has at least one sample and one feature, as many labels as
/// samples, every label below `classes`, and only finite features.
///
/// The features are stored either as `f64` ([`Dataset::new`]) or as bytes with
/// a divisor, each feature being `byte / divisor` ([`Dataset::from_bytes`],
/// and the IDX loaders [`Dataset::from_idx`] and [`load_mnist_dir`]). Bytes
/// take an eighth of the memory: Fashion-MNIST's 60 000 training images of 784
/// pixels hold 47 MB instead of 376 MB of `f64` (or 188 MB of NumPy's
/// `float32`). Either way the same `f64` values come out, bit for bit, of
/// [`Dataset::batch`] and [`Dataset::images`], and two datasets are equal
/// (`==`) when their values and labels are, however stored.
///
/// ```
/// use kobai::data::Dataset;
/// use ndarray::array;
///
/// let data = Dataset::new(array![[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]], array![0, 1, 1], 2)?;
/// assert_eq!((data.len(), data.features(), data.classes()), (3, 2, 2));
/// let (x, t) = data.batch(&[2, 0])?;
/// assert_eq!(x, array![[1.0, 0.0], [0.0, 1.0]]);
/// assert_eq!(t, array![1, 0]);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    images: Features,
    labels: Array1<usize>,
    classes: usize,
}

impl Dataset {
    /// A dataset of `images` (one sample per row) and their `labels`.
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`] if `classes` is 0;
    /// [`KobaiError::Empty`] if there is no sample or no feature;
    /// [`KobaiError::Shape`] if the label count differs from the row count;
    /// [`KobaiError::LabelOutOfRange`] for a label not below `classes`;
    /// [`KobaiError::NonFinite`] for a NaN or infinite feature.
    ///
    /// ```
    /// use kobai::{data::Dataset, KobaiError};
    /// use ndarray::array;
    ///
    /// let err = Dataset::new(array![[0.0], [1.0]], array![0, 3], 3).unwrap_err();
    /// assert_eq!(err, KobaiError::LabelOutOfRange { label: 3, row: 1, classes: 3 });
    /// assert!(Dataset::new(array![[0.0], [1.0]], array![0], 3).is_err());
    /// ```
    pub fn new(images: Array2<f64>, labels: Array1<usize>, classes: usize) -> Result<Self> {
        check_labels(images.dim(), &labels, classes)?;
        check::finite("images", &images)?;
        Ok(Dataset {
            images: Features::Floats(images),
            labels,
            classes,
        })
    }

    /// A dataset of byte `pixels` (one sample per row) whose features are
    /// `f64::from(byte) / divisor`, and their `labels`. It holds the bytes, an
    /// eighth of the memory of [`Dataset::new`]'s `f64`, and converts rows when
    /// they are asked for ([`Dataset::batch`]); [`Dataset::pixel_bytes`] gives
    /// the bytes back.
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`] if `divisor` is not finite and above 0;
    /// then those of [`Dataset::new`], in its order ([`KobaiError::NonFinite`]
    /// if a byte divided by a tiny `divisor` overflows).
    ///
    /// ```
    /// use kobai::data::Dataset;
    /// use ndarray::array;
    ///
    /// let data = Dataset::from_bytes(array![[0, 255], [51, 102]], 255.0, array![1, 0], 2)?;
    /// let (x, t) = data.batch(&[1])?;
    /// assert_eq!((x, t), (array![[0.2, 0.4]], array![0]));
    /// assert_eq!(data.pixel_bytes().map(|(_, divisor)| divisor), Some(255.0));
    /// assert!(Dataset::from_bytes(array![[0]], 0.0, array![0], 1).is_err());
    /// assert!(Dataset::from_bytes(array![[0]], 255.0, array![1], 1).is_err());
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn from_bytes(
        pixels: Array2<u8>,
        divisor: f64,
        labels: Array1<usize>,
        classes: usize,
    ) -> Result<Self> {
        check::positive("divisor", divisor)?;
        check_labels(pixels.dim(), &labels, classes)?;
        // `scale` grows with the byte, so only the largest can overflow.
        let largest = pixels.iter().copied().max().unwrap_or(0);
        if !scale(largest, divisor).is_finite() {
            let first = pixels
                .indexed_iter()
                .find(|(_, b)| !scale(**b, divisor).is_finite());
            if let Some(((row, column), &b)) = first {
                let at = || format!("index {}", check::index_text(&[row, column]));
                check::finite_scalar("images", at, scale(b, divisor))?;
            }
        }
        Ok(Dataset {
            images: Features::Bytes { pixels, divisor },
            labels,
            classes,
        })
    }

    /// Reads an IDX images file and an IDX labels file (raw or `.gz`, see
    /// [`read_idx_u8`]), flattening each sample into a row. The sample shape
    /// comes from the images header (`28×28` for MNIST, but any shape is read).
    /// The pixels are kept as bytes ([`Dataset::from_bytes`]) and scaled to
    /// `[0, 1]`, `f64::from(byte) / 255.0`, as rows are taken.
    ///
    /// # Errors
    /// Those of [`read_idx_u8`], naming the file; [`KobaiError::Format`] if the
    /// labels file has more than one dimension; then those of [`Dataset::new`]
    /// (the counts must match and every label must be below `classes`).
    ///
    /// ```
    /// use kobai::data::{write_idx_u8, Dataset};
    ///
    /// let dir = std::env::temp_dir();
    /// let (images, labels) = (dir.join("kobai-doc-from-idx-x"), dir.join("kobai-doc-from-idx-t"));
    /// write_idx_u8(&images, &[2, 2, 3], &[0, 51, 102, 153, 204, 255, 0, 0, 0, 0, 0, 0])?;
    /// write_idx_u8(&labels, &[2], &[4, 9])?;
    /// let data = Dataset::from_idx(&images, &labels, 10)?;
    /// assert_eq!((data.len(), data.features()), (2, 6));
    /// assert_eq!(data.images()[[0, 1]], 0.2);
    /// assert!(data.pixel_bytes().is_some()); // held as bytes
    /// assert!(Dataset::from_idx(&images, &labels, 5).is_err()); // label 9 ≥ 5
    /// # std::fs::remove_file(&images)?;
    /// # std::fs::remove_file(&labels)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_idx(images_path: &Path, labels_path: &Path, classes: usize) -> Result<Self> {
        let images = read_idx_u8(images_path)?;
        let labels = read_idx_u8(labels_path)?;
        if labels.dims().len() != 1 {
            return Err(KobaiError::Format {
                path: labels_path.display().to_string(),
                detail: format!(
                    "labels have dimensions {:?}; expected 1 dimension (one label per sample)",
                    labels.dims()
                ),
            });
        }
        let samples = images.dims()[0];
        if labels.dims()[0] != samples {
            return Err(KobaiError::Shape {
                what: format!("labels in {}", labels_path.display()),
                expected: format!(
                    "expected one label for each of the {samples} images in {}",
                    images_path.display()
                ),
                found: labels.dims().to_vec(),
            });
        }
        let (_, label_bytes) = labels.into_parts();
        let labels = label_bytes.into_iter().map(usize::from).collect();
        Dataset::from_bytes(pixel_rows(images)?, IDX_DIVISOR, labels, classes)
    }

    /// The number of samples (always at least 1).
    ///
    /// ```
    /// let data = kobai::data::Dataset::new(ndarray::array![[0.1], [0.2]], ndarray::array![0, 0], 1)?;
    /// assert_eq!(data.len(), 2);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    #[allow(clippy::len_without_is_empty)] // never empty: the constructors reject it
    pub fn len(&self) -> usize {
        self.images.dim().0
    }

    /// The number of features per sample (784 for MNIST).
    ///
    /// ```
    /// let data = kobai::data::Dataset::new(ndarray::array![[0.1, 0.2, 0.3]], ndarray::array![0], 1)?;
    /// assert_eq!(data.features(), 3);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn features(&self) -> usize {
        self.images.dim().1
    }

    /// The number of classes; every label is below it.
    ///
    /// ```
    /// let data = kobai::data::Dataset::new(ndarray::array![[0.1]], ndarray::array![0], 10)?;
    /// assert_eq!(data.classes(), 10);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The samples, one per row (`(len, features)`), as `f64`.
    ///
    /// Borrowed when the dataset stores `f64`. When it stores bytes
    /// ([`Dataset::from_bytes`], the IDX loaders) this **allocates and fills
    /// the whole `f64` matrix**, 8 bytes a feature (376 MB for Fashion-MNIST's
    /// training set): for part of the data, [`Dataset::batch`] converts only
    /// the rows asked for.
    ///
    /// ```
    /// let data = kobai::data::Dataset::new(ndarray::array![[0.1, 0.2]], ndarray::array![0], 1)?;
    /// assert_eq!(data.images().dim(), (1, 2));
    /// assert!(data.images().is_view()); // f64 storage: borrowed
    /// let bytes = kobai::data::Dataset::from_bytes(ndarray::array![[51, 0]], 255.0, ndarray::array![0], 1)?;
    /// assert_eq!(bytes.images(), ndarray::array![[0.2, 0.0]]);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn images(&self) -> CowArray<'_, f64, Ix2> {
        self.images.to_f64()
    }

    /// The bytes and the divisor of a dataset stored as bytes (each feature is
    /// `f64::from(byte) / divisor`); `None` for one stored as `f64`. For code
    /// that works on the bytes directly, without the `f64` copy.
    ///
    /// ```
    /// use kobai::data::Dataset;
    /// use ndarray::array;
    ///
    /// let bytes = Dataset::from_bytes(array![[51, 255]], 255.0, array![0], 1)?;
    /// let (pixels, divisor) = bytes.pixel_bytes().unwrap();
    /// assert_eq!((pixels, divisor), (array![[51, 255]].view(), 255.0));
    /// assert!(Dataset::new(array![[0.2, 1.0]], array![0], 1)?.pixel_bytes().is_none());
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn pixel_bytes(&self) -> Option<(ArrayView2<'_, u8>, f64)> {
        self.images.bytes()
    }

    /// Every feature value as `f64`, row after row, without building the matrix.
    pub(crate) fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.images.values()
    }

    /// The class labels, one per sample.
    ///
    /// ```
    /// let data = kobai::data::Dataset::new(ndarray::array![[0.1], [0.2]], ndarray::array![1, 0], 2)?;
    /// assert_eq!(data.labels(), ndarray::array![1, 0]);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn labels(&self) -> &Array1<usize> {
        &self.labels
    }

    /// The labels as one-hot rows (`(len, classes)`), the book's `one_hot_label=True`.
    ///
    /// ```
    /// let data = kobai::data::Dataset::new(ndarray::array![[0.1], [0.2]], ndarray::array![2, 0], 3)?;
    /// assert_eq!(data.one_hot_labels(), ndarray::array![[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn one_hot_labels(&self) -> Array2<f64> {
        let mut one_hot = Array2::zeros((self.len(), self.classes));
        for (row, &label) in self.labels.iter().enumerate() {
            one_hot[[row, label]] = 1.0;
        }
        one_hot
    }

    /// Copies of the rows and labels at `indices`, in that order (repeats allowed):
    /// `x_train[batch_mask], t_train[batch_mask]` in the book. Of a dataset
    /// stored as bytes, only these rows are converted to `f64`.
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`] for an index not below [`Dataset::len`].
    ///
    /// ```
    /// let data = kobai::data::Dataset::new(ndarray::array![[0.1], [0.2]], ndarray::array![1, 0], 2)?;
    /// let (x, t) = data.batch(&[1, 1])?;
    /// assert_eq!(x, ndarray::array![[0.2], [0.2]]);
    /// assert_eq!(t, ndarray::array![0, 0]);
    /// assert!(data.batch(&[2]).is_err());
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn batch(&self, indices: &[usize]) -> Result<(Array2<f64>, Array1<usize>)> {
        self.check_indices(indices)?;
        Ok((
            self.images.rows_f64(indices),
            self.labels.select(Axis(0), indices),
        ))
    }

    /// [`KobaiError::IndexOutOfRange`] for the first index not below [`Dataset::len`].
    pub(crate) fn check_indices(&self, indices: &[usize]) -> Result<()> {
        match indices.iter().enumerate().find(|(_, i)| **i >= self.len()) {
            None => Ok(()),
            Some((position, &index)) => Err(KobaiError::IndexOutOfRange {
                what: "batch index",
                index,
                position,
                len: self.len(),
            }),
        }
    }

    /// A new dataset of the samples at `indices`, in that order, stored as
    /// this one is (`f64` or bytes).
    ///
    /// # Errors
    /// As [`Dataset::batch`]; [`KobaiError::Empty`] if `indices` is empty.
    ///
    /// ```
    /// let data = kobai::data::Dataset::new(ndarray::array![[0.1], [0.2], [0.3]], ndarray::array![0, 1, 0], 2)?;
    /// let odd = data.subset(&[1])?;
    /// assert_eq!((odd.len(), odd.classes()), (1, 2));
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn subset(&self, indices: &[usize]) -> Result<Dataset> {
        self.check_indices(indices)?;
        let labels = self.labels.select(Axis(0), indices);
        check_labels((indices.len(), self.features()), &labels, self.classes)?;
        Ok(Dataset {
            images: self.images.select(indices),
            labels,
            classes: self.classes,
        })
    }

    /// Splits into `(train, test)` at random: `round(len × test_fraction)`
    /// samples, chosen by a ChaCha8 generator seeded with `seed`, go to the
    /// test set, the rest to the training set, each in shuffled order. A pure
    /// function of the dataset, the fraction and the seed. (Not stratified.)
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`] unless `test_fraction` is in `(0, 1)` and
    /// leaves at least one sample on each side.
    ///
    /// ```
    /// use ndarray::{Array1, Array2};
    /// let data = kobai::data::Dataset::new(Array2::zeros((10, 2)), Array1::zeros(10), 1)?;
    /// let (train, test) = data.split(0.2, 0)?;
    /// assert_eq!((train.len(), test.len()), (8, 2));
    /// assert!(data.split(0.01, 0).is_err()); // round(0.1) = 0 test samples
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn split(&self, test_fraction: f64, seed: u64) -> Result<(Dataset, Dataset)> {
        let bad = || KobaiError::Hyperparameter {
            name: "test_fraction",
            value: format!("{test_fraction} (of {} samples)", self.len()),
            expected: "a fraction in (0, 1) that leaves at least one sample in each part",
        };
        if !(test_fraction > 0.0 && test_fraction < 1.0) {
            return Err(bad());
        }
        let test_len = (self.len() as f64 * test_fraction).round() as usize;
        if test_len == 0 || test_len >= self.len() {
            return Err(bad());
        }
        let order = permutation(self.len(), seed);
        let (test, train) = order.split_at(test_len);
        Ok((self.subset(train)?, self.subset(test)?))
    }
}

/// The checks of [`Dataset::new`] but the finite features, for features of
/// shape `(samples, features)`.
fn check_labels(
    (samples, features): (usize, usize),
    labels: &Array1<usize>,
    classes: usize,
) -> Result<()> {
    if classes == 0 {
        return Err(KobaiError::Hyperparameter {
            name: "classes",
            value: "0".into(),
            expected: "at least 1",
        });
    }
    if samples == 0 || features == 0 {
        return Err(KobaiError::Empty {
            what: "images".into(),
        });
    }
    if labels.len() != samples {
        return Err(KobaiError::Shape {
            what: "labels".into(),
            expected: format!("expected one label for each of the {samples} samples"),
            found: labels.shape().to_vec(),
        });
    }
    if let Some((row, &label)) = labels.iter().enumerate().find(|(_, l)| **l >= classes) {
        return Err(KobaiError::LabelOutOfRange {
            label,
            row,
            classes,
        });
    }
    Ok(())
}

/// Each sample of an IDX array flattened into a row of bytes.
fn pixel_rows(images: IdxArray) -> Result<Array2<u8>> {
    let samples = images.dims()[0];
    let features: usize = images.dims()[1..].iter().product();
    let (dims, bytes) = images.into_parts();
    Array2::from_shape_vec((samples, features), bytes).map_err(|_| KobaiError::Shape {
        what: "images".into(),
        expected: "expected the data to fill the header's dimensions".into(),
        found: dims,
    })
}

/// The four MNIST file names, in the order train images, train labels, test images, test labels.
pub const MNIST_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Loads MNIST (or Fashion-MNIST, or anything in its layout) from `dir`:
/// `(train, test)`, 10 classes, pixels scaled to `[0, 1]`, each image a row,
/// held as bytes (see [`Dataset::from_idx`]).
///
/// Each of the four [`MNIST_FILES`] may be raw or gzip-compressed (`.gz`); when
/// both exist, the raw file is read.
///
/// # Errors
/// [`KobaiError::Io`] naming the path looked for when a file is missing; those
/// of [`Dataset::from_idx`] otherwise.
///
/// ```
/// use kobai::data::{load_mnist_dir, write_idx_u8, MNIST_FILES};
///
/// let dir = std::env::temp_dir().join("kobai-doc-load-mnist-dir");
/// std::fs::create_dir_all(&dir)?;
/// write_idx_u8(&dir.join("train-images-idx3-ubyte"), &[3, 2, 2], &[255; 12])?;
/// write_idx_u8(&dir.join("train-labels-idx1-ubyte"), &[3], &[0, 5, 9])?;
/// write_idx_u8(&dir.join("t10k-images-idx3-ubyte"), &[1, 2, 2], &[0; 4])?;
/// let err = load_mnist_dir(&dir).unwrap_err(); // no test labels yet
/// assert!(err.to_string().contains("t10k-labels-idx1-ubyte"));
/// write_idx_u8(&dir.join("t10k-labels-idx1-ubyte"), &[1], &[3])?;
/// let (train, test) = load_mnist_dir(&dir)?;
/// assert_eq!((train.len(), test.len(), train.features()), (3, 1, 4));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_mnist_dir(dir: &Path) -> Result<(Dataset, Dataset)> {
    let [train_x, train_t, test_x, test_t] = MNIST_FILES;
    let train = Dataset::from_idx(&find(dir, train_x)?, &find(dir, train_t)?, MNIST_CLASSES)?;
    let test = Dataset::from_idx(&find(dir, test_x)?, &find(dir, test_t)?, MNIST_CLASSES)?;
    Ok((train, test))
}

/// `dir/name` if it is a file, else `dir/name.gz`, else an error naming both.
fn find(dir: &Path, name: &str) -> Result<PathBuf> {
    let raw = dir.join(name);
    if raw.is_file() {
        return Ok(raw);
    }
    let gz = dir.join(format!("{name}.gz"));
    if gz.is_file() {
        return Ok(gz);
    }
    Err(KobaiError::Io {
        path: raw.display().to_string(),
        message: format!(
            "no such file, nor {name}.gz beside it; expected the four MNIST files (raw or .gz) in {}",
            dir.display()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn small() -> Dataset {
        Dataset::new(
            array![[0.0, 0.1], [1.0, 1.1], [2.0, 2.1], [3.0, 3.1], [4.0, 4.1]],
            array![0, 1, 2, 0, 1],
            3,
        )
        .unwrap()
    }

    #[test]
    fn split_partitions_the_samples() {
        let data = small();
        let (train, test) = data.split(0.4, 11).unwrap();
        assert_eq!((train.len(), test.len()), (3, 2));
        let mut firsts: Vec<f64> = train.images().column(0).iter().copied().collect();
        firsts.extend(test.images().column(0).iter());
        firsts.sort_by(f64::total_cmp);
        assert_eq!(firsts, [0.0, 1.0, 2.0, 3.0, 4.0]);
        for d in [&train, &test] {
            for (row, &label) in d.labels().iter().enumerate() {
                let original = d.images()[[row, 0]] as usize;
                assert_eq!(label, data.labels()[original]);
            }
        }
        assert_eq!(data.split(0.4, 11).unwrap(), (train, test));
    }

    #[test]
    fn split_rejects_fractions_out_of_range() {
        let data = small();
        for f in [0.0, 1.0, -0.5, f64::NAN, 0.05, 0.95] {
            assert!(
                matches!(data.split(f, 0), Err(KobaiError::Hyperparameter { .. })),
                "{f}"
            );
        }
    }

    #[test]
    fn constructor_checks() {
        assert!(matches!(
            Dataset::new(Array2::zeros((0, 3)), Array1::zeros(0), 2),
            Err(KobaiError::Empty { .. })
        ));
        assert!(matches!(
            Dataset::new(Array2::zeros((2, 0)), Array1::zeros(2), 2),
            Err(KobaiError::Empty { .. })
        ));
        assert!(matches!(
            Dataset::new(array![[f64::NAN]], array![0], 2),
            Err(KobaiError::NonFinite { .. })
        ));
        assert!(matches!(
            Dataset::new(array![[0.0]], array![0], 0),
            Err(KobaiError::Hyperparameter { .. })
        ));
        let err = Dataset::new(array![[0.0], [1.0]], array![0], 2).unwrap_err();
        assert_eq!(
            err.to_string(),
            "labels has shape [1] but expected one label for each of the 2 samples"
        );
    }

    #[test]
    fn batch_index_errors_name_the_index() {
        let err = small().batch(&[0, 7]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "batch index 7 at position 1 is out of range; expected an index below 5"
        );
    }

    #[test]
    fn pixel_rows_flattens_any_shape() {
        let idx = IdxArray::new(vec![2, 1, 2, 2], vec![0, 255, 0, 255, 51, 51, 51, 51]).unwrap();
        let rows = pixel_rows(idx).unwrap();
        assert_eq!(rows, array![[0, 255, 0, 255], [51, 51, 51, 51]]);
        let labels_only = IdxArray::new(vec![3], vec![0, 0, 0]).unwrap();
        assert_eq!(pixel_rows(labels_only).unwrap().dim(), (3, 1));
    }
}
