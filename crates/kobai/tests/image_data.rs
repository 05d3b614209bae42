//! Datasets keep the image shape of their IDX files, for convolutions (the
//! book's chapter 7): `(N, H, W)` images are one channel, `(N, C, H, W)` keep
//! their channels, and a batch comes out as `(N, C, H, W)` holding the same
//! values, bit for bit, as the flattened rows.

use std::path::{Path, PathBuf};

use kobai::KobaiError;
use kobai::data::{Batches, Dataset, load_mnist_dir, write_idx_u8};
use ndarray::Array2;

/// A fresh folder under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("kobai-test-image-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `count` bytes that differ from their neighbours.
fn pixels(count: usize) -> Vec<u8> {
    (0..count).map(|i| (i * 37 % 256) as u8).collect()
}

/// Writes an images file of `dims` and labels `i % 10` beside it; loads both.
fn load(dir: &Path, dims: &[usize]) -> Dataset {
    let samples = dims[0];
    let (images, labels) = (dir.join("images"), dir.join("labels"));
    write_idx_u8(&images, dims, &pixels(dims.iter().product())).expect("write the images");
    let label_bytes: Vec<u8> = (0..samples).map(|i| (i % 10) as u8).collect();
    write_idx_u8(&labels, &[samples], &label_bytes).expect("write the labels");
    Dataset::from_idx(&images, &labels, 10).expect("valid IDX files")
}

fn bits<'a>(values: impl IntoIterator<Item = &'a f64>) -> Vec<u64> {
    values.into_iter().map(|v| v.to_bits()).collect()
}

#[test]
fn the_header_gives_the_image_shape() {
    let dir = TempDir::new("header");
    assert_eq!(load(&dir.0, &[3, 8, 8]).image_shape(), Some((1, 8, 8)));
    assert_eq!(load(&dir.0, &[3, 5, 7]).image_shape(), Some((1, 5, 7)));
    assert_eq!(load(&dir.0, &[3, 2, 5, 7]).image_shape(), Some((2, 5, 7)));
    assert_eq!(load(&dir.0, &[3, 1, 1, 1]).image_shape(), Some((1, 1, 1)));
    // Rows of features, and one value per sample, are no images.
    assert_eq!(load(&dir.0, &[3, 35]).image_shape(), None);
    let scalars = load(&dir.0, &[3]);
    assert_eq!((scalars.features(), scalars.image_shape()), (1, None));
}

#[cfg(feature = "gzip")]
#[test]
fn load_mnist_dir_keeps_the_image_shape() {
    let dir = TempDir::new("mnist");
    let d = &dir.0;
    write_idx_u8(
        &d.join("train-images-idx3-ubyte.gz"),
        &[4, 5, 7],
        &pixels(140),
    )
    .unwrap();
    write_idx_u8(&d.join("train-labels-idx1-ubyte"), &[4], &[0, 1, 2, 9]).unwrap();
    write_idx_u8(&d.join("t10k-images-idx3-ubyte"), &[2, 5, 7], &pixels(70)).unwrap();
    write_idx_u8(&d.join("t10k-labels-idx1-ubyte.gz"), &[2], &[5, 5]).unwrap();
    let (train, test) = load_mnist_dir(d).unwrap();
    assert_eq!(train.image_shape(), Some((1, 5, 7)));
    assert_eq!(test.image_shape(), Some((1, 5, 7)));
    let (x, t) = test.batch_images(&[1, 0]).unwrap();
    assert_eq!((x.dim(), t.to_vec()), ((2, 1, 5, 7), vec![5, 5]));
}

#[test]
fn batch_images_are_the_rows_reshaped_as_numpy_does() {
    let dir = TempDir::new("reshape");
    let (n, c, h, w) = (6, 3, 5, 7);
    let data = load(&dir.0, &[n, c, h, w]);
    let bytes = pixels(n * c * h * w);
    let indices = [5, 0, 2, 2];
    let (x, t) = data.batch_images(&indices).unwrap();
    let (rows, t_rows) = data.batch(&indices).unwrap();
    assert_eq!(x.dim(), (4, c, h, w));
    assert_eq!(t, t_rows);
    assert_eq!(bits(&x), bits(&rows));
    // x[i, ch, y, z] is the byte at [indices[i], ch, y, z] of the file, / 255.
    for ((i, ch, y, z), &v) in x.indexed_iter() {
        let at = ((indices[i] * c + ch) * h + y) * w + z;
        assert_eq!(v.to_bits(), (f64::from(bytes[at]) / 255.0).to_bits());
    }
    let all = data.images_nchw().unwrap();
    assert_eq!(all.dim(), (n, c, h, w));
    assert_eq!(bits(&all), bits(&data.images()));
}

#[test]
fn bytes_and_floats_give_the_same_images() {
    let dir = TempDir::new("storage");
    let bytes = load(&dir.0, &[4, 1, 3, 3]);
    let floats = Dataset::new(bytes.images().to_owned(), bytes.labels().clone(), 10)
        .unwrap()
        .with_image_shape((1, 3, 3))
        .unwrap();
    assert!(bytes.pixel_bytes().is_some() && floats.pixel_bytes().is_none());
    assert_eq!(bytes, floats);
    let (xb, _) = bytes.batch_images(&[3, 1]).unwrap();
    let (xf, _) = floats.batch_images(&[3, 1]).unwrap();
    assert_eq!(bits(&xb), bits(&xf));
}

#[test]
fn subsets_splits_and_batches_keep_the_shape() {
    let dir = TempDir::new("derived");
    let data = load(&dir.0, &[20, 4, 6]);
    let (train, test) = data.split(0.25, 7).unwrap();
    for part in [&train, &test, &data.subset(&[19, 3]).unwrap()] {
        assert_eq!(part.image_shape(), Some((1, 4, 6)));
        assert!(part.pixel_bytes().is_some());
    }
    let mut batches = Batches::shuffled(train.len(), 4, 1).unwrap();
    for mask in batches.by_ref().take(5) {
        let (x, t) = train.batch_images(&mask).unwrap();
        assert_eq!((x.dim(), t.len()), ((mask.len(), 1, 4, 6), mask.len()));
    }
}

#[test]
fn rows_need_an_image_shape() {
    let dir = TempDir::new("rows");
    let rows = load(&dir.0, &[3, 12]);
    for err in [
        rows.batch_images(&[0]).unwrap_err(),
        rows.images_nchw().unwrap_err(),
    ] {
        match err {
            KobaiError::Shape { what, found, .. } => {
                assert_eq!((what.as_str(), found), ("dataset", vec![3, 12]));
            }
            other => panic!("expected a shape error, got {other}"),
        }
    }
    for bad in [(1, 3, 3), (0, 3, 4), (1, 12, 0), (13, 1, 1)] {
        assert!(
            matches!(
                rows.clone().with_image_shape(bad),
                Err(KobaiError::Shape { .. })
            ),
            "{bad:?}"
        );
    }
    let images = rows.with_image_shape((3, 2, 2)).unwrap();
    assert_eq!(images.batch_images(&[2]).unwrap().0.dim(), (1, 3, 2, 2));
    // Datasets made from rows start without one.
    let floats = Dataset::new(Array2::zeros((2, 4)), ndarray::array![0, 1], 2).unwrap();
    let bytes = Dataset::from_bytes(Array2::zeros((2, 4)), 255.0, ndarray::array![0, 1], 2);
    assert_eq!(floats.image_shape(), None);
    assert_eq!(bytes.unwrap().image_shape(), None);
}

/// Fashion-MNIST, when installed (Debian's `dataset-fashion-mnist`, or the
/// folder in `KOBAI_MNIST_DIR`): `(1, 28, 28)` images.
#[test]
fn fashion_mnist_is_one_channel_of_28_by_28() {
    let dir = std::env::var_os("KOBAI_MNIST_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from("/usr/share/datasets/fashion-mnist")])
        .find(|dir| {
            (cfg!(feature = "gzip") && dir.join("t10k-labels-idx1-ubyte.gz").exists())
                || dir.join("t10k-labels-idx1-ubyte").exists()
        });
    let Some(dir) = dir else {
        eprintln!("skipped: no Fashion-MNIST");
        return;
    };
    let (train, test) = load_mnist_dir(&dir).expect("Fashion-MNIST loads");
    assert_eq!(train.image_shape(), Some((1, 28, 28)));
    assert_eq!(test.image_shape(), Some((1, 28, 28)));
    let mask: Vec<usize> = (0..100).map(|i| i * 97).collect();
    let (x, t) = train.batch_images(&mask).unwrap();
    let (rows, t_rows) = train.batch(&mask).unwrap();
    assert_eq!(x.dim(), (100, 1, 28, 28));
    assert_eq!((bits(&x), t), (bits(&rows), t_rows));
}
