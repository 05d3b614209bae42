//! A labelled dataset held in memory, and the MNIST loader.

use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2, Array4, ArrayView2, Axis, CowArray, Ix2};

use crate::check;
use crate::data::batches::permutation;
use crate::data::features::{Features, scale};
use crate::data::idx::{IdxArray, read_idx_u8};
use crate::error::{KobaiError, Result};

/// The number of classes of MNIST and Fashion-MNIST.
pub const MNIST_CLASSES: usize = 10;

/// What IDX pixels are divided by, to scale them to `[0, 1]`.
const IDX_DIVISOR: f64 = 255.0;

/// The shape of one image sample, `(channels, height, width)`: `(1, 28, 28)`
/// for MNIST. See [`Dataset::image_shape`].
pub type ImageShape = (usize, usize, usize);

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
/// (`==`) when their values, labels, classes and [image
/// shapes](Dataset::image_shape) are, however stored.
///
/// A dataset may know that each row is an image of `(channels, height,
/// width)` ([`Dataset::image_shape`]): the IDX loaders read it from the file's
/// header, and [`Dataset::with_image_shape`] sets it. Rows are still rows
/// ([`Dataset::batch`], for fully connected nets); [`Dataset::batch_images`]
/// and [`Dataset::images_nchw`] give the same values as the book's
/// `(N, C, H, W)` arrays, for convolutions.
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
    /// `(channels, height, width)` whose product is the feature count, when known.
    image_shape: Option<ImageShape>,
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
            image_shape: None,
        })
    }

    /// A dataset of byte `pixels` (one sample per row) whose features are
    /// `f64::from(byte) / divisor`, and their `labels`. It holds the bytes, an
    /// eighth of the memory of [`Dataset::new`]'s `f64`, and converts rows when
    /// they are asked for ([`Dataset::batch`]); [`Dataset::pixel_bytes`] gives
    /// the bytes back. It has no [image shape](Dataset::image_shape) until
    /// [`Dataset::with_image_shape`] gives it one.
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
            image_shape: None,
        })
    }

    /// Reads an IDX images file and an IDX labels file (raw or `.gz`, see
    /// [`read_idx_u8`]), flattening each sample into a row. The sample shape
    /// comes from the images header (`28×28` for MNIST, but any shape is read).
    /// The pixels are kept as bytes ([`Dataset::from_bytes`]) and scaled to
    /// `[0, 1]`, `f64::from(byte) / 255.0`, as rows are taken.
    ///
    /// The header also gives the [image shape](Dataset::image_shape): images
    /// of dimensions `(N, H, W)` are `(1, H, W)` (one channel), `(N, C, H, W)`
    /// are `(C, H, W)`; samples of `(N, F)` or `(N,)` have none.
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
    /// assert_eq!(data.image_shape(), Some((1, 2, 3))); // from the header [2, 2, 3]
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
        let image_shape = idx_image_shape(images.dims());
        let data = Dataset::from_bytes(pixel_rows(images)?, IDX_DIVISOR, labels, classes)?;
        // The header's dimensions after the first multiply to the row length,
        // and `from_bytes` has rejected a length of 0.
        Ok(Dataset {
            image_shape,
            ..data
        })
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

    /// The shape of each sample as an image, `(channels, height, width)`, when
    /// known: read from an IDX file's header by [`Dataset::from_idx`] and
    /// [`load_mnist_dir`] (`(1, 28, 28)` for MNIST), or set by
    /// [`Dataset::with_image_shape`]; `None` otherwise. Its product is
    /// [`Dataset::features`], and [`Dataset::subset`] and [`Dataset::split`]
    /// keep it.
    ///
    /// ```
    /// use kobai::data::{write_idx_u8, Dataset};
    ///
    /// let dir = std::env::temp_dir();
    /// let (images, labels) = (dir.join("kobai-doc-image-shape-x"), dir.join("kobai-doc-image-shape-t"));
    /// write_idx_u8(&labels, &[2], &[0, 1])?;
    /// write_idx_u8(&images, &[2, 5, 7], &[0; 70])?; // two 5×7 images
    /// assert_eq!(Dataset::from_idx(&images, &labels, 2)?.image_shape(), Some((1, 5, 7)));
    /// write_idx_u8(&images, &[2, 3, 4, 4], &[0; 96])?; // two 3-channel 4×4 images
    /// assert_eq!(Dataset::from_idx(&images, &labels, 2)?.image_shape(), Some((3, 4, 4)));
    /// write_idx_u8(&images, &[2, 6], &[0; 12])?; // two rows of 6 features
    /// assert_eq!(Dataset::from_idx(&images, &labels, 2)?.image_shape(), None);
    ///
    /// let rows = Dataset::new(ndarray::array![[0.1, 0.2]], ndarray::array![0], 1)?;
    /// assert_eq!(rows.image_shape(), None);
    /// # std::fs::remove_file(&images)?;
    /// # std::fs::remove_file(&labels)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn image_shape(&self) -> Option<ImageShape> {
        self.image_shape
    }

    /// This dataset, its rows taken as images of `(channels, height, width)`
    /// (row-major: channel by channel, each row of pixels after the other, as
    /// NumPy's `reshape(N, C, H, W)`). Replaces any image shape it had.
    ///
    /// # Errors
    /// [`KobaiError::Shape`] if a dimension is 0 or their product is not
    /// [`Dataset::features`].
    ///
    /// ```
    /// use kobai::{data::Dataset, KobaiError};
    /// use ndarray::{Array1, Array2};
    ///
    /// let data = Dataset::new(Array2::zeros((3, 12)), Array1::zeros(3), 1)?;
    /// let images = data.clone().with_image_shape((1, 3, 4))?;
    /// assert_eq!(images.image_shape(), Some((1, 3, 4)));
    /// assert_eq!(images.with_image_shape((3, 2, 2))?.image_shape(), Some((3, 2, 2)));
    /// let err = data.clone().with_image_shape((1, 3, 3)).unwrap_err();
    /// assert!(matches!(err, KobaiError::Shape { .. }));
    /// assert!(data.with_image_shape((0, 3, 4)).is_err());
    /// # Ok::<(), KobaiError>(())
    /// ```
    pub fn with_image_shape(self, shape: ImageShape) -> Result<Self> {
        let (c, h, w) = shape;
        let what = || "image (channels, height, width)".to_string();
        if c == 0 || h == 0 || w == 0 {
            return Err(KobaiError::Shape {
                what: what(),
                expected: "expected every dimension to be at least 1".into(),
                found: vec![c, h, w],
            });
        }
        let product = c.checked_mul(h).and_then(|ch| ch.checked_mul(w));
        if product != Some(self.features()) {
            return Err(KobaiError::Shape {
                what: what(),
                expected: format!(
                    "expected channels × height × width to be the {} features of each sample",
                    self.features()
                ),
                found: vec![c, h, w],
            });
        }
        Ok(Dataset {
            image_shape: Some(shape),
            ..self
        })
    }

    /// Copies of the samples at `indices`, in that order (repeats allowed), as
    /// images `(N, C, H, W)`, and their labels: [`Dataset::batch`] for
    /// convolutions, the book's `x_train[batch_mask]` of
    /// `load_mnist(flatten=False)`. The same values as [`Dataset::batch`]'s
    /// rows, reshaped; of a dataset stored as bytes, only these samples are
    /// converted to `f64`.
    ///
    /// # Errors
    /// [`KobaiError::Shape`] if the dataset has no [image
    /// shape](Dataset::image_shape); then those of [`Dataset::batch`].
    ///
    /// ```
    /// use kobai::{data::Dataset, KobaiError};
    /// use ndarray::array;
    ///
    /// let rows = Dataset::new(array![[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8]], array![1, 0], 2)?;
    /// let err = rows.batch_images(&[0]).unwrap_err(); // no image shape yet
    /// assert!(matches!(err, KobaiError::Shape { .. }));
    /// let images = rows.with_image_shape((1, 2, 2))?;
    /// let (x, t) = images.batch_images(&[1, 1, 0])?;
    /// assert_eq!(x.dim(), (3, 1, 2, 2));
    /// assert_eq!(x[[0, 0, 1, 0]], 0.7); // sample 1, channel 0, row 1, column 0
    /// assert_eq!(t, array![0, 0, 1]);
    /// # Ok::<(), KobaiError>(())
    /// ```
    pub fn batch_images(&self, indices: &[usize]) -> Result<(Array4<f64>, Array1<usize>)> {
        let shape = self.require_image_shape()?;
        let (rows, labels) = self.batch(indices)?;
        Ok((to_nchw(rows, shape), labels))
    }

    /// Every sample as an image, `(N, C, H, W)`: the book's `x_test` of
    /// `load_mnist(flatten=False)`. Like [`Dataset::images`] of a dataset
    /// stored as bytes, this **allocates the whole `f64` array** (63 MB for
    /// Fashion-MNIST's 10 000 test images); [`Dataset::batch_images`] takes a
    /// part.
    ///
    /// # Errors
    /// [`KobaiError::Shape`] if the dataset has no [image
    /// shape](Dataset::image_shape).
    ///
    /// ```
    /// use kobai::data::Dataset;
    /// use ndarray::{array, Array2};
    ///
    /// let data = Dataset::from_bytes(Array2::from_elem((2, 6), 51), 255.0, array![0, 1], 2)?;
    /// assert!(data.images_nchw().is_err()); // rows only
    /// let x = data.with_image_shape((2, 1, 3))?.images_nchw()?;
    /// assert_eq!(x.dim(), (2, 2, 1, 3));
    /// assert!(x.iter().all(|&v| v == 0.2));
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn images_nchw(&self) -> Result<Array4<f64>> {
        let shape = self.require_image_shape()?;
        Ok(to_nchw(self.images().into_owned(), shape))
    }

    /// The image shape, or the error that says there is none.
    fn require_image_shape(&self) -> Result<ImageShape> {
        self.image_shape.ok_or_else(|| KobaiError::Shape {
            what: "dataset".into(),
            expected: "expected samples with an image shape (channels, height, width); \
                       load them from a 3- or 4-dimensional IDX images file, \
                       or set one with Dataset::with_image_shape"
                .into(),
            found: vec![self.len(), self.features()],
        })
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
    #[cfg(feature = "npz")]
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
    /// this one is (`f64` or bytes), with its [image shape](Dataset::image_shape).
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
            image_shape: self.image_shape,
        })
    }

    /// Splits into `(train, test)` at random: `round(len × test_fraction)`
    /// samples, chosen by a ChaCha8 generator seeded with `seed`, go to the
    /// test set, the rest to the training set, each in shuffled order. A pure
    /// function of the dataset, the fraction and the seed. (Not stratified.)
    /// Both parts keep the [image shape](Dataset::image_shape).
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

/// The image shape of IDX samples of dimensions `dims` (the first is the
/// sample count): `(1, H, W)` for `(N, H, W)`, `(C, H, W)` for `(N, C, H, W)`,
/// none for fewer dimensions (or more, which the reader does not accept).
fn idx_image_shape(dims: &[usize]) -> Option<ImageShape> {
    match *dims {
        [_, h, w] => Some((1, h, w)),
        [_, c, h, w] => Some((c, h, w)),
        _ => None,
    }
}

/// Rows of `c·h·w` features (standard layout, as [`Dataset::batch`] and
/// [`Dataset::images`] make them) as `(N, C, H, W)`, without copying.
fn to_nchw(rows: Array2<f64>, (c, h, w): ImageShape) -> Array4<f64> {
    let n = rows.nrows();
    rows.into_shape_with_order((n, c, h, w))
        .expect("Dataset invariant: the image shape's product is the feature count")
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
/// held as bytes (see [`Dataset::from_idx`]), with the [image
/// shape](Dataset::image_shape) of the files' headers (`(1, 28, 28)` for
/// MNIST) for [`Dataset::batch_images`].
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
/// assert_eq!((train.image_shape(), test.image_shape()), (Some((1, 2, 2)), Some((1, 2, 2))));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_mnist_dir(dir: &Path) -> Result<(Dataset, Dataset)> {
    let [train_x, train_t, test_x, test_t] = MNIST_FILES;
    let all = "the four MNIST files";
    let train = Dataset::from_idx(
        &find(dir, train_x, all)?,
        &find(dir, train_t, all)?,
        MNIST_CLASSES,
    )?;
    let test = Dataset::from_idx(
        &find(dir, test_x, all)?,
        &find(dir, test_t, all)?,
        MNIST_CLASSES,
    )?;
    Ok((train, test))
}

/// [`load_mnist_dir`]'s training set alone: only `train-images-idx3-ubyte`
/// and `train-labels-idx1-ubyte` (raw or `.gz`) need be in `dir`.
///
/// # Errors
/// As [`load_mnist_dir`], for the two training files.
///
/// ```
/// use kobai::data::{load_mnist_train, write_idx_u8};
///
/// let dir = std::env::temp_dir().join("kobai-doc-load-mnist-train");
/// std::fs::create_dir_all(&dir)?;
/// write_idx_u8(&dir.join("train-images-idx3-ubyte"), &[3, 2, 2], &[255; 12])?;
/// let err = load_mnist_train(&dir).unwrap_err();
/// assert!(err.to_string().contains("train-labels-idx1-ubyte"));
/// write_idx_u8(&dir.join("train-labels-idx1-ubyte"), &[3], &[0, 5, 9])?;
/// assert_eq!(load_mnist_train(&dir)?.len(), 3);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_mnist_train(dir: &Path) -> Result<Dataset> {
    let [train_x, train_t, _, _] = MNIST_FILES;
    let both = "train-images-idx3-ubyte and train-labels-idx1-ubyte";
    Dataset::from_idx(
        &find(dir, train_x, both)?,
        &find(dir, train_t, both)?,
        MNIST_CLASSES,
    )
}

/// `dir/name` if it is a file, else `dir/name.gz`, else an error naming
/// both and the `expected` files.
fn find(dir: &Path, name: &str, expected: &str) -> Result<PathBuf> {
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
            "no such file, nor {name}.gz beside it; expected {expected} (raw or .gz) in {}",
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
    fn idx_dimensions_give_the_image_shape() {
        assert_eq!(idx_image_shape(&[7]), None);
        assert_eq!(idx_image_shape(&[7, 784]), None);
        assert_eq!(idx_image_shape(&[7, 28, 28]), Some((1, 28, 28)));
        assert_eq!(idx_image_shape(&[7, 5, 8]), Some((1, 5, 8)));
        assert_eq!(idx_image_shape(&[7, 3, 5, 8]), Some((3, 5, 8)));
        assert_eq!(idx_image_shape(&[7, 1, 1, 1, 1]), None);
    }

    #[test]
    fn to_nchw_is_numpys_reshape() {
        // x.reshape(2, 2, 2, 3)[n, c, h, w] == x[n, c*6 + h*3 + w]
        let rows = Array2::from_shape_fn((2, 12), |(n, f)| (n * 100 + f) as f64);
        let images = to_nchw(rows.clone(), (2, 2, 3));
        for ((n, c, h, w), &v) in images.indexed_iter() {
            assert_eq!(v, rows[[n, c * 6 + h * 3 + w]]);
        }
    }

    #[test]
    fn derived_datasets_keep_the_image_shape() {
        let data = Dataset::new(Array2::zeros((6, 6)), array![0, 1, 2, 0, 1, 2], 3)
            .unwrap()
            .with_image_shape((1, 2, 3))
            .unwrap();
        assert_eq!(data.subset(&[5, 0]).unwrap().image_shape(), Some((1, 2, 3)));
        let (train, test) = data.split(0.5, 3).unwrap();
        assert_eq!(train.image_shape(), Some((1, 2, 3)));
        assert_eq!(test.image_shape(), Some((1, 2, 3)));
        assert_eq!(data.clone().image_shape(), Some((1, 2, 3)));
        assert_ne!(data.clone().with_image_shape((1, 3, 2)).unwrap(), data);
    }

    #[test]
    fn image_shape_errors_say_what_is_wrong() {
        let rows = small(); // 2 features
        let err = rows.clone().with_image_shape((1, 1, 3)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "image (channels, height, width) has shape [1, 1, 3] but expected \
             channels × height × width to be the 2 features of each sample"
        );
        let err = rows.clone().with_image_shape((2, 0, 1)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "image (channels, height, width) has shape [2, 0, 1] but expected \
             every dimension to be at least 1"
        );
        // A product past usize::MAX is a mismatch, not an overflow.
        let huge = usize::MAX / 2 + 1;
        assert!(matches!(
            rows.clone().with_image_shape((2, huge, 2)),
            Err(KobaiError::Shape { .. })
        ));
        let err = rows.batch_images(&[0]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "dataset has shape [5, 2] but expected samples with an image shape \
             (channels, height, width); load them from a 3- or 4-dimensional IDX \
             images file, or set one with Dataset::with_image_shape"
        );
        assert_eq!(rows.images_nchw().unwrap_err(), err);
        // The missing shape is reported before a bad index.
        assert_eq!(rows.batch_images(&[99]).unwrap_err(), err);
        let images = rows.with_image_shape((2, 1, 1)).unwrap();
        assert!(matches!(
            images.batch_images(&[0, 5]),
            Err(KobaiError::IndexOutOfRange { index: 5, .. })
        ));
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
