//! Bad data files get a typed error that names the file and says what was
//! expected and what was found — never a panic, never a huge allocation.

use std::path::{Path, PathBuf};

use kobai::KobaiError;
use kobai::data::{
    Batches, Dataset, IdxArray, load_mnist_dir, permutation, read_idx_u8, spiral, spiral_points,
    write_idx_u8,
};

mod support;
#[cfg(feature = "npz")]
use support::crc32;

/// A fresh folder under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("kobai-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        TempDir(dir)
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).expect("write a test file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn header(ty: u8, dims: &[u32]) -> Vec<u8> {
    let mut bytes = vec![0, 0, ty, dims.len() as u8];
    for d in dims {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes
}

fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = header(8, dims);
    bytes.extend_from_slice(data);
    bytes
}

fn format_detail(err: KobaiError, path: &Path) -> String {
    match err {
        KobaiError::Format { path: p, detail } => {
            assert_eq!(p, path.display().to_string());
            detail
        }
        other => panic!("expected a Format error, got {other:?}"),
    }
}

#[test]
fn a_truncated_file_is_an_error_naming_it() {
    let dir = TempDir::new("truncated");
    let full = idx(&[2, 3], &[1, 2, 3, 4, 5, 6]);
    let path = dir.file("images", &full[..full.len() - 2]);
    let detail = format_detail(read_idx_u8(&path).unwrap_err(), &path);
    assert_eq!(
        detail,
        "header says 2×3 = 6 bytes of data but the file holds 4"
    );
    for cut in [0, 1, 3, 5, 9] {
        let path = dir.file("cut", &full[..cut]);
        let err = read_idx_u8(&path).unwrap_err();
        assert!(matches!(err, KobaiError::Format { .. }), "{cut}: {err}");
    }
    let path = dir.file("header-only", &full[..6]);
    let detail = format_detail(read_idx_u8(&path).unwrap_err(), &path);
    assert!(detail.starts_with("ends inside the header"), "{detail}");
}

#[test]
fn trailing_bytes_are_an_error() {
    let dir = TempDir::new("trailing");
    let path = dir.file("labels", &idx(&[3], &[1, 2, 3, 0, 0]));
    let detail = format_detail(read_idx_u8(&path).unwrap_err(), &path);
    assert_eq!(
        detail,
        "header says 3 = 3 bytes of data but the file holds 5"
    );
}

#[test]
fn a_corrupt_magic_number_is_an_error() {
    let dir = TempDir::new("magic");
    let mut bytes = idx(&[2], &[1, 2]);
    bytes[0] = 0x08;
    bytes[1] = 0x03;
    let path = dir.file("bad", &bytes);
    let detail = format_detail(read_idx_u8(&path).unwrap_err(), &path);
    assert_eq!(
        detail,
        "starts with 08 03; expected 00 00 (the magic number of an IDX file)"
    );
}

#[test]
fn a_wrong_type_byte_is_named() {
    let dir = TempDir::new("type");
    let mut bytes = header(0x0c, &[2]);
    bytes.extend_from_slice(&[0; 8]);
    let path = dir.file("i32", &bytes);
    let detail = format_detail(read_idx_u8(&path).unwrap_err(), &path);
    assert_eq!(
        detail,
        "has data type 0x0c (i32); expected 0x08 (unsigned byte), the only type kobai reads"
    );
}

#[test]
fn a_header_claiming_more_than_the_file_holds_allocates_nothing() {
    let dir = TempDir::new("huge");
    // 4294967295² fits in a 64-bit usize (≈1.8e19 bytes): allocating it would
    // abort the process, so this passing proves the check comes first.
    let path = dir.file("huge", &idx(&[u32::MAX, u32::MAX], &[0; 1234]));
    let detail = format_detail(read_idx_u8(&path).unwrap_err(), &path);
    assert_eq!(
        detail,
        format!(
            "header says 4294967295×4294967295 = {} bytes of data but the file holds 1234",
            u64::from(u32::MAX) * u64::from(u32::MAX)
        )
    );
    // Whose product overflows even 64 bits.
    let path = dir.file("overflow", &idx(&[u32::MAX; 4], &[0; 16]));
    let detail = format_detail(read_idx_u8(&path).unwrap_err(), &path);
    assert!(detail.contains("= more than"), "{detail}");
    // MNIST's header with a stub of data.
    let path = dir.file("mnist-stub", &idx(&[60000, 28, 28], &[0; 1234]));
    let detail = format_detail(read_idx_u8(&path).unwrap_err(), &path);
    assert_eq!(
        detail,
        "header says 60000×28×28 = 47040000 bytes of data but the file holds 1234"
    );
}

#[test]
fn an_empty_array_whose_other_dimensions_overflow_is_an_error() {
    // Found by fuzzing: 0 × 151060480 × 33554432 × 16824568 holds no bytes,
    // but no ndarray array has that shape, and `to_array` panicked.
    let dir = TempDir::new("zero-overflow");
    let dims = [0, 0x0901_0000, 0x0200_0000, 0x0100_b8f8];
    let path = dir.file("empty-but-huge", &idx(&dims, &[]));
    let detail = format_detail(read_idx_u8(&path).unwrap_err(), &path);
    assert_eq!(
        detail,
        format!(
            "header says 0×151060480×33554432×16824568: its dimensions other than 0 multiply \
             to more than {}, more than an array can index; expected at most that",
            isize::MAX
        )
    );
    let dims: Vec<usize> = dims.iter().map(|&d| d as usize).collect();
    assert!(matches!(
        IdxArray::new(dims.clone(), vec![]),
        Err(KobaiError::Shape { .. })
    ));
    assert!(write_idx_u8(&dir.0.join("out"), &dims, &[]).is_err());
    // An empty array of a shape ndarray can hold is fine.
    let fine = dir.file("fine", &idx(&[0, 65536, 65536], &[]));
    assert_eq!(
        read_idx_u8(&fine).unwrap().to_array().shape(),
        &[0, 65536, 65536]
    );
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let dir = TempDir::new("missing");
    let path = dir.0.join("nope");
    match read_idx_u8(&path).unwrap_err() {
        KobaiError::Io { path: p, .. } => assert_eq!(p, path.display().to_string()),
        other => panic!("expected Io, got {other:?}"),
    }
}

#[test]
fn load_mnist_dir_names_the_missing_file() {
    let dir = TempDir::new("mnist-missing");
    write_idx_u8(&dir.0.join("train-images-idx3-ubyte"), &[1, 2, 2], &[0; 4]).unwrap();
    match load_mnist_dir(&dir.0).unwrap_err() {
        KobaiError::Io { path, message } => {
            let looked_for = dir.0.join("train-labels-idx1-ubyte");
            assert_eq!(path, looked_for.display().to_string());
            assert!(message.contains("train-labels-idx1-ubyte.gz"), "{message}");
        }
        other => panic!("expected Io, got {other:?}"),
    }
}

#[cfg(feature = "gzip")]
#[test]
fn load_mnist_dir_reads_raw_and_gz_and_prefers_raw() {
    let dir = TempDir::new("mnist-ok");
    let d = &dir.0;
    write_idx_u8(
        &d.join("train-images-idx3-ubyte.gz"),
        &[4, 3, 3],
        &[255; 36],
    )
    .unwrap();
    write_idx_u8(&d.join("train-labels-idx1-ubyte.gz"), &[4], &[0, 1, 2, 9]).unwrap();
    write_idx_u8(&d.join("t10k-images-idx3-ubyte"), &[2, 3, 3], &[0; 18]).unwrap();
    write_idx_u8(&d.join("t10k-labels-idx1-ubyte"), &[2], &[5, 5]).unwrap();
    // A broken .gz beside a good raw file is never opened.
    std::fs::write(d.join("t10k-labels-idx1-ubyte.gz"), b"\x1f\x8bjunk").unwrap();
    let (train, test) = load_mnist_dir(d).unwrap();
    assert_eq!((train.len(), train.features(), train.classes()), (4, 9, 10));
    assert!(train.images().iter().all(|&v| v == 1.0));
    assert_eq!(test.labels().to_vec(), [5, 5]);
}

#[cfg(feature = "gzip")]
#[test]
fn idx_data_is_held_as_bytes_and_converted_bit_for_bit() {
    let dir = TempDir::new("bytes");
    let d = &dir.0;
    let pixels: Vec<u8> = (0..=255)
        .chain((0..=255).rev())
        .chain([0, 1, 127, 128])
        .collect();
    let samples = pixels.len() / 4; // 129 images of 2×2
    let labels: Vec<u8> = (0..samples).map(|i| (i % 10) as u8).collect();
    write_idx_u8(
        &d.join("train-images-idx3-ubyte"),
        &[samples, 2, 2],
        &pixels,
    )
    .unwrap();
    write_idx_u8(&d.join("train-labels-idx1-ubyte.gz"), &[samples], &labels).unwrap();
    write_idx_u8(
        &d.join("t10k-images-idx3-ubyte.gz"),
        &[1, 2, 2],
        &pixels[..4],
    )
    .unwrap();
    write_idx_u8(&d.join("t10k-labels-idx1-ubyte"), &[1], &labels[..1]).unwrap();
    let (train, test) = load_mnist_dir(d).unwrap();
    let from_idx = Dataset::from_idx(
        &d.join("train-images-idx3-ubyte"),
        &d.join("train-labels-idx1-ubyte.gz"),
        10,
    )
    .unwrap();
    assert_eq!(from_idx, train);
    for data in [&train, &test, &from_idx] {
        let (bytes, divisor) = data.pixel_bytes().expect("IDX data is held as bytes");
        assert_eq!((bytes.dim(), divisor), ((data.len(), 4), 255.0));
    }
    // What the loaders stored before they kept bytes: every pixel as f64 / 255.
    let old = ndarray::Array2::from_shape_vec(
        (samples, 4),
        pixels.iter().map(|&b| f64::from(b) / 255.0).collect(),
    )
    .unwrap();
    let rows = Dataset::new(old.clone(), train.labels().clone(), 10).unwrap();
    assert_ne!(train, rows); // the image shape is part of the dataset
    let floats = rows.with_image_shape((1, 2, 2)).unwrap();
    assert!(floats.pixel_bytes().is_none());
    let bits = |a: &ndarray::Array2<f64>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&train.images().to_owned()), bits(&old));
    assert_eq!(bits(&floats.images().to_owned()), bits(&old));
    assert_eq!(train, floats); // equal values, however stored
    let indices = [128, 0, 63, 63, 64, 5];
    let (x, t) = train.batch(&indices).unwrap();
    let (x_old, t_old) = floats.batch(&indices).unwrap();
    assert_eq!((bits(&x), t), (bits(&x_old), t_old));
    // Subsets and splits keep the storage, and the values.
    let (part, rest) = train.split(0.25, 9).unwrap();
    let (part_old, rest_old) = floats.split(0.25, 9).unwrap();
    assert!(part.pixel_bytes().is_some() && rest.pixel_bytes().is_some());
    assert!(part_old.pixel_bytes().is_none());
    assert_eq!(
        bits(&part.images().to_owned()),
        bits(&part_old.images().to_owned())
    );
    assert_eq!((part, rest), (part_old, rest_old));
    assert!(train.subset(&[3, 1]).unwrap().pixel_bytes().is_some());
}

#[test]
fn from_bytes_checks_as_new_does() {
    use ndarray::{Array1, Array2, array};
    let err = |r: Result<Dataset, KobaiError>| r.unwrap_err().to_string();
    assert_eq!(
        err(Dataset::from_bytes(array![[0], [1]], 255.0, array![0], 2)),
        err(Dataset::new(array![[0.0], [1.0]], array![0], 2))
    );
    assert!(matches!(
        Dataset::from_bytes(array![[0], [1]], 255.0, array![0, 3], 3),
        Err(KobaiError::LabelOutOfRange {
            label: 3,
            row: 1,
            classes: 3
        })
    ));
    assert!(matches!(
        Dataset::from_bytes(Array2::zeros((0, 3)), 255.0, Array1::zeros(0), 2),
        Err(KobaiError::Empty { .. })
    ));
    assert!(matches!(
        Dataset::from_bytes(array![[0]], 255.0, array![0], 0),
        Err(KobaiError::Hyperparameter {
            name: "classes",
            ..
        })
    ));
    for divisor in [0.0, -255.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            Dataset::from_bytes(array![[0]], divisor, array![0], 1),
            Err(KobaiError::Hyperparameter {
                name: "divisor",
                ..
            })
        ));
    }
    // 200 / 5e-324 overflows: a feature would be infinite.
    let tiny = f64::from_bits(1);
    assert_eq!(
        err(Dataset::from_bytes(
            array![[0, 0], [0, 200]],
            tiny,
            array![0, 0],
            1
        )),
        "images is inf at index [1, 1]; expected a finite number"
    );
    assert!(Dataset::from_bytes(array![[0, 0], [0, 0]], tiny, array![0, 0], 1).is_ok());
}

#[test]
fn labels_and_images_with_different_counts_are_an_error() {
    let dir = TempDir::new("counts");
    let images = dir.0.join("x");
    let labels = dir.0.join("t");
    write_idx_u8(&images, &[3, 2, 2], &[0; 12]).unwrap();
    write_idx_u8(&labels, &[2], &[0, 1]).unwrap();
    let err = Dataset::from_idx(&images, &labels, 10).unwrap_err();
    assert!(matches!(err, KobaiError::Shape { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("has shape [2]"), "{text}");
    assert!(text.contains("each of the 3 images"), "{text}");
    // A labels file with two dimensions.
    write_idx_u8(&labels, &[3, 1], &[0, 1, 2]).unwrap();
    let detail = format_detail(
        Dataset::from_idx(&images, &labels, 10).unwrap_err(),
        &labels,
    );
    assert!(detail.contains("expected 1 dimension"), "{detail}");
}

#[test]
fn a_label_not_below_classes_is_out_of_range() {
    let dir = TempDir::new("label-range");
    let images = dir.0.join("x");
    let labels = dir.0.join("t");
    write_idx_u8(&images, &[3, 2], &[0; 6]).unwrap();
    write_idx_u8(&labels, &[3], &[0, 10, 2]).unwrap();
    let err = Dataset::from_idx(&images, &labels, 10).unwrap_err();
    assert_eq!(
        err,
        KobaiError::LabelOutOfRange {
            label: 10,
            row: 1,
            classes: 10
        }
    );
    assert!(Dataset::from_idx(&images, &labels, 11).is_ok());
}

#[test]
fn empty_idx_files_make_no_dataset() {
    let dir = TempDir::new("empty");
    let images = dir.file("x", &idx(&[0, 28, 28], &[]));
    let labels = dir.file("t", &idx(&[0], &[]));
    assert_eq!(read_idx_u8(&images).unwrap().dims(), &[0, 28, 28]);
    let err = Dataset::from_idx(&images, &labels, 10).unwrap_err();
    assert!(matches!(err, KobaiError::Empty { .. }), "{err:?}");
}

#[test]
fn round_trip_raw() {
    let dir = TempDir::new("round-raw");
    let path = dir.0.join("data.idx");
    let data: Vec<u8> = (0..=255).cycle().take(5 * 7 * 3).collect();
    write_idx_u8(&path, &[5, 7, 3], &data).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..4], &[0, 0, 8, 3]);
    assert_eq!(bytes.len(), 4 + 12 + data.len());
    assert_eq!(
        read_idx_u8(&path).unwrap(),
        IdxArray::new(vec![5, 7, 3], data).unwrap()
    );
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(&dir.0).unwrap().collect();
    assert_eq!(names.len(), 1);
}

#[test]
fn write_replaces_an_existing_file_and_rejects_bad_shapes() {
    let dir = TempDir::new("overwrite");
    let path = dir.0.join("data.idx");
    write_idx_u8(&path, &[2], &[1, 2]).unwrap();
    write_idx_u8(&path, &[3], &[7, 8, 9]).unwrap();
    assert_eq!(read_idx_u8(&path).unwrap().data(), &[7, 8, 9]);
    for (dims, len) in [(vec![], 0), (vec![1; 5], 1), (vec![2, 2], 3)] {
        let err = write_idx_u8(&path, &dims, &vec![0; len]).unwrap_err();
        assert!(matches!(err, KobaiError::Shape { .. }), "{err:?}");
    }
    assert_eq!(read_idx_u8(&path).unwrap().data(), &[7, 8, 9]);
    let err = write_idx_u8(&dir.0.join("no-such-dir").join("f"), &[1], &[0]).unwrap_err();
    assert!(matches!(err, KobaiError::Io { .. }), "{err:?}");
}

#[cfg(feature = "gzip")]
mod gzip {
    use super::*;
    use std::io::Write;

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).expect("gzip into memory");
        enc.finish().expect("gzip into memory")
    }

    #[test]
    fn round_trip_gz_detected_by_magic_not_name() {
        let dir = TempDir::new("round-gz");
        let path = dir.0.join("data.gz");
        let data: Vec<u8> = (0..=255).cycle().take(6 * 4 * 4).collect();
        write_idx_u8(&path, &[6, 4, 4], &data).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..2], &[0x1f, 0x8b]);
        assert_eq!(read_idx_u8(&path).unwrap().data(), &data[..]);
        // The same gzip bytes under a name without .gz, and raw bytes under .gz.
        let renamed = dir.file("plain-name", &bytes);
        assert_eq!(read_idx_u8(&renamed).unwrap().dims(), &[6, 4, 4]);
        let raw = dir.file("raw.gz", &idx(&[2], &[1, 2]));
        assert_eq!(read_idx_u8(&raw).unwrap().data(), &[1, 2]);
    }

    #[test]
    fn a_corrupt_gz_is_an_error() {
        let dir = TempDir::new("corrupt-gz");
        let good = gz(&idx(&[100], &[7; 100]));
        // Garbage after the magic.
        let path = dir.file("junk.gz", b"\x1f\x8b\x08\x00garbage garbage");
        let detail = format_detail(read_idx_u8(&path).unwrap_err(), &path);
        assert!(detail.starts_with("is not a valid gzip stream"), "{detail}");
        // A cut stream.
        let path = dir.file("cut.gz", &good[..good.len() / 2]);
        let detail = format_detail(read_idx_u8(&path).unwrap_err(), &path);
        assert!(detail.starts_with("is not a valid gzip stream"), "{detail}");
        // A flipped byte in the checksum trailer.
        let mut bad_crc = good.clone();
        let at = bad_crc.len() - 6;
        bad_crc[at] ^= 0xff;
        let path = dir.file("crc.gz", &bad_crc);
        let detail = format_detail(read_idx_u8(&path).unwrap_err(), &path);
        assert!(detail.contains("checksum"), "{detail}");
        // Only the two magic bytes.
        let path = dir.file("magic-only.gz", b"\x1f\x8b");
        format_detail(read_idx_u8(&path).unwrap_err(), &path);
    }

    #[test]
    fn gz_with_a_lying_header_is_capped() {
        let dir = TempDir::new("gz-lies");
        let path = dir.file("huge.gz", &gz(&idx(&[u32::MAX, u32::MAX], &[0; 1000])));
        let detail = format_detail(read_idx_u8(&path).unwrap_err(), &path);
        assert!(
            detail.ends_with("but the decompressed data holds 1000"),
            "{detail}"
        );
        let path = dir.file("long.gz", &gz(&idx(&[10], &[0; 11])));
        let detail = format_detail(read_idx_u8(&path).unwrap_err(), &path);
        assert!(detail.contains("trailing bytes"), "{detail}");
        let path = dir.file("wrong-type.gz", &gz(&header(0x0d, &[1])));
        let detail = format_detail(read_idx_u8(&path).unwrap_err(), &path);
        assert!(detail.contains("0x0d (f32)"), "{detail}");
    }

    #[test]
    fn garbage_after_the_gzip_stream_is_an_error() {
        let dir = TempDir::new("gz-trailing");
        let mut bytes = gz(&idx(&[3], &[1, 2, 3]));
        bytes.extend_from_slice(b"trailing junk");
        let path = dir.file("trailing.gz", &bytes);
        let detail = format_detail(read_idx_u8(&path).unwrap_err(), &path);
        assert!(detail.starts_with("is not a valid gzip stream"), "{detail}");
        // A second gzip member is read as more data, so it is trailing data.
        let mut two = gz(&idx(&[3], &[1, 2, 3]));
        two.extend_from_slice(&gz(b"more"));
        let path = dir.file("two-members.gz", &two);
        let detail = format_detail(read_idx_u8(&path).unwrap_err(), &path);
        assert!(detail.contains("trailing bytes"), "{detail}");
    }
}

#[test]
fn batches_are_reproducible_bit_for_bit() {
    for seed in [0, 1, u64::MAX] {
        let a: Vec<_> = Batches::shuffled(1000, 64, seed)
            .unwrap()
            .take(40)
            .collect();
        let b: Vec<_> = Batches::shuffled(1000, 64, seed)
            .unwrap()
            .take(40)
            .collect();
        assert_eq!(a, b);
        let a: Vec<_> = Batches::with_replacement(1000, 64, seed)
            .unwrap()
            .take(40)
            .collect();
        let b: Vec<_> = Batches::with_replacement(1000, 64, seed)
            .unwrap()
            .take(40)
            .collect();
        assert_eq!(a, b);
    }
    assert_ne!(permutation(100, 0), permutation(100, 1));
}

#[test]
fn seeded_sampling_is_pinned_across_versions() {
    // A regression pin, not a reference: ChaCha8 seeded with 42 through rand
    // 0.10's shuffle and random_range. If a dependency update changes these,
    // stored runs would change too — bump deliberately and say so.
    assert_eq!(permutation(10, 42), PINNED_PERMUTATION_10_SEED_42);
    let drawn = Batches::with_replacement(10, 8, 42).unwrap().next_batch();
    assert_eq!(drawn, PINNED_CHOICE_10_8_SEED_42);
}

const PINNED_PERMUTATION_10_SEED_42: [usize; 10] = [7, 1, 5, 4, 6, 9, 3, 8, 2, 0];
const PINNED_CHOICE_10_8_SEED_42: [usize; 8] = [2, 6, 1, 9, 7, 4, 3, 6];

#[test]
fn spiral_is_a_pure_function_of_its_arguments() {
    let (train, test) = spiral(300, 0.2, 7).unwrap();
    assert_eq!((train.len(), test.len()), (720, 180));
    assert_eq!((train.features(), train.classes()), (2, 3));
    assert_eq!(spiral(300, 0.2, 7).unwrap(), (train.clone(), test));
    assert_ne!(spiral(300, 0.2, 8).unwrap().0, train);
    let all = spiral_points(300, 7).unwrap();
    assert_eq!(all.len(), 900);
    // Every class appears in the held-out set.
    let (_, test) = spiral(300, 0.2, 7).unwrap();
    for class in 0..3 {
        assert!(test.labels().iter().any(|&l| l == class));
    }
}

#[cfg(not(feature = "gzip"))]
#[test]
fn without_the_gzip_feature_gz_is_a_clear_error() {
    let dir = TempDir::new("no-gzip");
    let path = dir.file("x.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00");
    let detail = format_detail(read_idx_u8(&path).unwrap_err(), &path);
    assert!(detail.contains("`gzip` feature"), "{detail}");
    let err = write_idx_u8(&dir.0.join("y.gz"), &[1], &[0]).unwrap_err();
    assert!(err.to_string().contains("`gzip` feature"), "{err}");
}

/// Loads a real MNIST-layout folder named by `KOBAI_MNIST_DIR` (e.g. Debian's
/// `dataset-fashion-mnist` at `/usr/share/datasets/fashion-mnist`). Ignored by
/// default: run with `cargo test -p kobai --test data_files -- --ignored`.
#[test]
#[ignore = "needs KOBAI_MNIST_DIR pointing at the four MNIST files"]
fn loads_a_real_mnist_dir() {
    let Some(dir) = std::env::var_os("KOBAI_MNIST_DIR") else {
        eprintln!("KOBAI_MNIST_DIR is not set; nothing to load");
        return;
    };
    let start = std::time::Instant::now();
    let (train, test) = load_mnist_dir(Path::new(&dir)).unwrap();
    eprintln!(
        "loaded {} in {:.2?}",
        Path::new(&dir).display(),
        start.elapsed()
    );
    assert_eq!((train.len(), test.len()), (60000, 10000));
    assert_eq!((train.features(), test.features()), (784, 784));
    assert_eq!(train.classes(), 10);
    for d in [&train, &test] {
        // Held as bytes over 255: every feature is in [0, 1].
        let (_, divisor) = d.pixel_bytes().expect("held as bytes");
        assert_eq!(divisor, 255.0);
        for class in 0..10 {
            assert!(
                d.labels().iter().any(|&l| l == class),
                "class {class} missing"
            );
        }
    }
}

/// An `.npz` archive of `net`'s parameters, as bytes.
#[cfg(feature = "npz")]
fn npz_bytes(net: &kobai::TwoLayerNet, dir: &TempDir) -> Vec<u8> {
    let path = dir.0.join("net.npz");
    kobai::model::save_npz(net, &path).expect("save");
    std::fs::read(&path).expect("read back")
}

/// Replaces `from` by `to` in the first `.npy` member of the archive `bytes`,
/// padding or trimming the spaces before the header's newline so that the
/// member keeps its length, and updates the member's CRC: the archive stays
/// valid and only the `.npy` header says something new.
#[cfg(feature = "npz")]
fn patch_npy_header(bytes: &mut Vec<u8>, from: &[u8], to: &[u8]) {
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let start = find(bytes, b"\x93NUMPY").expect("an .npy member");
    let end = start
        + [&b"PK\x03\x04"[..], b"PK\x01\x02"]
            .iter()
            .filter_map(|sig| find(&bytes[start..], sig))
            .min()
            .expect("a next zip record");
    let old_crc = crc32(&bytes[start..end]).to_le_bytes();
    let at = start + find(&bytes[start..end], from).expect("pattern in the header");
    let newline = at
        + bytes[at..]
            .iter()
            .position(|&b| b == b'\n')
            .expect("newline");
    let mut header = bytes[at..newline].to_vec();
    header.splice(..from.len(), to.iter().copied());
    let old_len = newline - at;
    while header.len() > old_len && header.last() == Some(&b' ') {
        header.pop();
    }
    header.resize(old_len, b' ');
    assert_eq!(header.len(), old_len, "room in the header's padding");
    bytes.splice(at..newline, header);
    let new_crc = crc32(&bytes[start..end]).to_le_bytes();
    let mut patched = 0;
    let mut i = 0;
    while let Some(k) = find(&bytes[i..], &old_crc) {
        bytes[i + k..i + k + 4].copy_from_slice(&new_crc);
        patched += 1;
        i += k + 4;
    }
    assert!(patched >= 2, "the CRC in the local and the central header");
}

#[cfg(feature = "npz")]
#[test]
fn an_npz_header_claiming_a_huge_array_is_an_error_not_an_allocation() {
    use kobai::model::load_npz_from_reader;
    use std::io::Cursor;

    let dir = TempDir::new("npz-huge");
    let net = kobai::TwoLayerNet::new(4, 3, 2, 0.1, 0).expect("valid");
    let valid = npz_bytes(&net, &dir);
    let mut other = kobai::TwoLayerNet::new(4, 3, 2, 0.1, 1).expect("valid");
    let before = other.clone();

    // Found by fuzzing: W1's header claiming 4×300000000000000 float64s
    // (9.6 PB) made ndarray-npy allocate that much up front, and the process
    // aborted. The shape is now checked against the model's first.
    let mut huge = valid.clone();
    patch_npy_header(&mut huge, b"(4, 3)", b"(4, 300000000000000)");
    let err = load_npz_from_reader(&mut other, Cursor::new(&huge)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "W1 in (reader) has shape [4, 300000000000000] but the model's W1 has shape [4, 3]"
    );
    assert_eq!(other, before);
    let path = dir.file("huge.npz", &huge);
    let err = kobai::model::load_npz(&mut other, &path).unwrap_err();
    assert!(matches!(err, KobaiError::Shape { .. }), "{err}");

    // A shape that overflows is an error too.
    let mut overflow = valid.clone();
    patch_npy_header(&mut overflow, b"(4, 3)", b"(18446744073709551615, 2)");
    assert!(load_npz_from_reader(&mut other, Cursor::new(&overflow)).is_err());

    // So is a header nested deeper than any real one (its parser recurses).
    let mut nested = valid.clone();
    patch_npy_header(&mut nested, b"(4, 3)", &[b'['; 40]);
    let err = load_npz_from_reader(&mut other, Cursor::new(&nested)).unwrap_err();
    assert!(err.to_string().contains("nests brackets"), "{err}");
    assert_eq!(other, before);

    // The untouched archive loads.
    load_npz_from_reader(&mut other, Cursor::new(&valid)).expect("the valid archive loads");
    assert_eq!(other, net);
}

#[cfg(feature = "npz")]
#[test]
fn an_npy_header_length_beyond_the_member_is_an_error() {
    use kobai::model::load_npz_from_reader;
    use std::io::Cursor;

    let dir = TempDir::new("npz-header-len");
    let net = kobai::TwoLayerNet::new(4, 3, 2, 0.1, 0).expect("valid");
    let mut bytes = npz_bytes(&net, &dir);
    let start = bytes
        .windows(6)
        .position(|w| w == b"\x93NUMPY")
        .expect("an .npy member");
    // Version 2 with a header length of 4 GiB − 1: once allocated up front.
    bytes[start + 6] = 2;
    bytes[start + 8..start + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut other = net.clone();
    let err = load_npz_from_reader(&mut other, Cursor::new(&bytes)).unwrap_err();
    assert!(matches!(err, KobaiError::Format { .. }), "{err}");
    assert_eq!(other, net);
}
