//! The IDX file format of MNIST (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, …),
//! raw or gzip-compressed.
//!
//! An IDX file is a 4-byte header — two zero bytes, a type byte (`0x08` for
//! unsigned bytes) and the number of dimensions — then each dimension as a
//! big-endian `u32`, then the data, row-major. The header is never trusted: the
//! size it claims is checked against the bytes actually present before anything
//! is allocated for them.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use ndarray::{ArrayD, IxDyn};

use crate::atomic_file::{io_error, write_atomically};
use crate::error::{KobaiError, Result};

/// The most dimensions kobai accepts in an IDX header (MNIST uses 1 for labels, 3 for images).
pub const IDX_MAX_DIMS: usize = 4;

/// The type byte of an IDX file of unsigned bytes, the only type kobai reads.
const TYPE_U8: u8 = 0x08;

/// The first two bytes of every gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The contents of an IDX file of unsigned bytes: its dimensions and its data,
/// row-major, with `data.len()` always the product of `dims`.
///
/// ```
/// use kobai::data::IdxArray;
///
/// let idx = IdxArray::new(vec![2, 3], vec![0, 1, 2, 3, 4, 5])?;
/// assert_eq!(idx.dims(), &[2, 3]);
/// assert_eq!(idx.to_array()[[1, 0]], 3);
/// assert!(IdxArray::new(vec![2, 3], vec![0; 5]).is_err());
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    dims: Vec<usize>,
    data: Vec<u8>,
}

impl IdxArray {
    /// An array with the given dimensions and row-major data.
    ///
    /// # Errors
    /// [`KobaiError::Shape`] unless there are 1 to [`IDX_MAX_DIMS`] dimensions,
    /// each at most `u32::MAX` (what the header can hold), those other than 0
    /// multiplying to at most `isize::MAX` (what an array can index), and
    /// `data` holds exactly their product.
    ///
    /// ```
    /// let idx = kobai::data::IdxArray::new(vec![4], vec![7, 8, 9, 10])?;
    /// assert_eq!(idx.data(), &[7, 8, 9, 10]);
    /// assert!(kobai::data::IdxArray::new(vec![], vec![]).is_err());
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn new(dims: Vec<usize>, data: Vec<u8>) -> Result<Self> {
        check_dims(&dims)?;
        let needed = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        if needed != Some(data.len()) {
            return Err(KobaiError::Shape {
                what: "IDX data".into(),
                expected: format!(
                    "dimensions {} need {} bytes",
                    dims_text(&dims),
                    product_text(needed)
                ),
                found: vec![data.len()],
            });
        }
        Ok(IdxArray { dims, data })
    }

    /// The dimensions, outermost first (`[60000, 28, 28]` for MNIST's training images).
    ///
    /// ```
    /// let idx = kobai::data::IdxArray::new(vec![1, 2, 2], vec![0; 4])?;
    /// assert_eq!(idx.dims(), &[1, 2, 2]);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// The data, row-major.
    ///
    /// ```
    /// let idx = kobai::data::IdxArray::new(vec![2], vec![5, 6])?;
    /// assert_eq!(idx.data(), &[5, 6]);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The dimensions and the data, taken apart without copying.
    ///
    /// ```
    /// let (dims, data) = kobai::data::IdxArray::new(vec![2], vec![5, 6])?.into_parts();
    /// assert_eq!((dims, data), (vec![2], vec![5, 6]));
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn into_parts(self) -> (Vec<usize>, Vec<u8>) {
        (self.dims, self.data)
    }

    /// A copy as an n-dimensional [`ndarray`] array of the same shape.
    ///
    /// ```
    /// let idx = kobai::data::IdxArray::new(vec![2, 2], vec![1, 2, 3, 4])?;
    /// assert_eq!(idx.to_array().shape(), &[2, 2]);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn to_array(&self) -> ArrayD<u8> {
        ArrayD::from_shape_vec(IxDyn(&self.dims), self.data.clone())
            .expect("IdxArray invariant: the data fills the dimensions")
    }
}

/// Reads an IDX file of unsigned bytes, raw or gzip-compressed.
///
/// Gzip is recognised by its first two bytes (`1f 8b`), whatever the file is
/// called; reading it needs the `gzip` feature (on by default). The header is
/// checked before anything is allocated for the data: the size it claims must
/// match the bytes in the file exactly, so a truncated file, a file with
/// trailing bytes, or a header claiming `4294967295×4294967295` bytes is an
/// error, not an allocation. For gzip, decompression stops at the size the
/// header claims, and the stream must end there.
///
/// # Errors
/// [`KobaiError::Io`] if the file cannot be opened or read;
/// [`KobaiError::Format`] if it is not a valid IDX file of unsigned bytes. Both
/// name the file.
///
/// ```
/// use kobai::data::{read_idx_u8, write_idx_u8};
///
/// let path = std::env::temp_dir().join("kobai-doc-read-idx-u8");
/// write_idx_u8(&path, &[2, 3], &[1, 2, 3, 4, 5, 6])?;
/// let idx = read_idx_u8(&path)?;
/// assert_eq!(idx.dims(), &[2, 3]);
/// assert_eq!(idx.data(), &[1, 2, 3, 4, 5, 6]);
///
/// std::fs::write(&path, b"not an idx file")?;
/// let err = read_idx_u8(&path).unwrap_err();
/// assert!(err.to_string().contains("expected 00 00"));
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_idx_u8(path: &Path) -> Result<IdxArray> {
    let mut file = File::open(path).map_err(|e| io_error(path, &e))?;
    let mut magic = [0u8; 2];
    let got = read_full(&mut file, &mut magic).map_err(|e| io_error(path, &e))?;
    let head = &magic[..got];
    if head == GZIP_MAGIC {
        return read_gzip(path, head.chain(file));
    }
    let meta = file.metadata().map_err(|e| io_error(path, &e))?;
    // Only a regular file's length is its content's; a pipe's says nothing.
    let known_len = meta.is_file().then_some(meta.len());
    let what = if known_len.is_some() {
        "the file"
    } else {
        "the stream"
    };
    read_idx_from(
        &Source {
            path,
            known_len,
            what,
        },
        head.chain(file),
    )
}

/// Reads an IDX array of unsigned bytes from memory, raw or gzip-compressed:
/// [`read_idx_u8`] for bytes already at hand (a download, an archive member, a
/// fuzzer's input). The same checks apply — gzip by its magic bytes, the header
/// against the length — and errors name the source `(in memory)`.
///
/// # Errors
/// [`KobaiError::Format`] if `bytes` are not a valid IDX file of unsigned bytes.
///
/// ```
/// use kobai::data::read_idx_u8_from_bytes;
///
/// let idx = read_idx_u8_from_bytes(&[0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9])?;
/// assert_eq!((idx.dims(), idx.data()), (&[3][..], &[7, 8, 9][..]));
///
/// let err = read_idx_u8_from_bytes(&[0, 0, 8, 1, 0, 0, 0, 4, 7, 8, 9]).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "(in memory): header says 4 = 4 bytes of data but the data holds 3"
/// );
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn read_idx_u8_from_bytes(bytes: &[u8]) -> Result<IdxArray> {
    let path = Path::new(IN_MEMORY);
    if bytes.starts_with(&GZIP_MAGIC) {
        return read_gzip(path, bytes);
    }
    let source = Source {
        path,
        known_len: Some(bytes.len() as u64),
        what: "the data",
    };
    read_idx_from(&source, bytes)
}

/// How errors name bytes read by [`read_idx_u8_from_bytes`].
const IN_MEMORY: &str = "(in memory)";

/// Reads a gzip-compressed IDX stream (`reader` starts at the gzip magic).
#[cfg(feature = "gzip")]
fn read_gzip(path: &Path, reader: impl Read) -> Result<IdxArray> {
    let source = Source {
        path,
        known_len: None,
        what: "the decompressed data",
    };
    read_idx_from(&source, flate2::read::MultiGzDecoder::new(reader))
}

/// Without the `gzip` feature, a gzip file is a clear error.
#[cfg(not(feature = "gzip"))]
fn read_gzip(path: &Path, _reader: impl Read) -> Result<IdxArray> {
    Err(format_error(
        path,
        "is gzip-compressed (starts with 1f 8b) but kobai was built without its `gzip` feature; \
         expected a raw IDX file (decompress it first, or enable the feature)"
            .into(),
    ))
}

/// Where the bytes of an IDX stream come from, for the size checks and messages.
struct Source<'a> {
    /// The file, named in every error.
    path: &'a Path,
    /// The size of the whole stream (header included), when known up front:
    /// a lying header is then caught before anything is allocated.
    known_len: Option<u64>,
    /// The data, in words: `"the file"`, `"the decompressed data"`, ….
    what: &'static str,
}

/// Parses an IDX stream: header, then exactly the data it announces.
fn read_idx_from(src: &Source<'_>, mut reader: impl Read) -> Result<IdxArray> {
    let dims = read_header(src.path, &mut reader)?;
    let header_len = 4 + 4 * dims.len() as u64;
    let claimed = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let holds = src.known_len.map(|len| len.saturating_sub(header_len));
    let Some(expected) = claimed else {
        let found = match holds {
            Some(holds) => format!("{} holds {holds}", src.what),
            None => "no memory can hold that".into(),
        };
        return Err(size_mismatch(src.path, &dims, None, &found));
    };
    if let Some(holds) = holds.filter(|&h| u64::try_from(expected).ok() != Some(h)) {
        let found = format!("{} holds {holds}", src.what);
        return Err(size_mismatch(src.path, &dims, claimed, &found));
    }
    let data = read_body(src, &mut reader, &dims, expected)?;
    // Only an empty array gets here unindexable (a 0 among huge dimensions):
    // every other size that cannot be indexed cannot be held either.
    if !indexable(&dims) {
        return Err(format_error(
            src.path,
            format!(
                "header says {}: its dimensions other than 0 multiply to more than {}, \
                 more than an array can index; expected at most that",
                dims_text(&dims),
                isize::MAX
            ),
        ));
    }
    Ok(IdxArray { dims, data })
}

/// Reads and checks the magic number, the type byte and the dimensions.
fn read_header(path: &Path, reader: &mut impl Read) -> Result<Vec<usize>> {
    let mut head = [0u8; 4];
    let got = read_full(reader, &mut head).map_err(|e| read_error(path, &e))?;
    if got < head.len() {
        return Err(format_error(
            path,
            format!(
                "holds only {got} byte(s); expected a 4-byte IDX header (00 00, type, dimension count)"
            ),
        ));
    }
    if head[..2] != [0, 0] {
        return Err(format_error(
            path,
            format!(
                "starts with {:02x} {:02x}; expected 00 00 (the magic number of an IDX file)",
                head[0], head[1]
            ),
        ));
    }
    if head[2] != TYPE_U8 {
        return Err(format_error(
            path,
            format!(
                "has data type 0x{:02x} ({}); expected 0x08 (unsigned byte), the only type kobai reads",
                head[2],
                type_name(head[2])
            ),
        ));
    }
    let ndims = usize::from(head[3]);
    if ndims == 0 || ndims > IDX_MAX_DIMS {
        return Err(format_error(
            path,
            format!("has {ndims} dimensions; expected 1 to {IDX_MAX_DIMS}"),
        ));
    }
    read_dims(path, reader, ndims)
}

/// Reads `ndims` big-endian `u32` dimensions.
fn read_dims(path: &Path, reader: &mut impl Read, ndims: usize) -> Result<Vec<usize>> {
    let mut raw = [0u8; 4 * IDX_MAX_DIMS];
    let raw = &mut raw[..4 * ndims];
    let got = read_full(reader, raw).map_err(|e| read_error(path, &e))?;
    if got < raw.len() {
        return Err(format_error(
            path,
            format!(
                "ends inside the header: {ndims} dimensions need {} bytes after the first 4, found {got}",
                raw.len()
            ),
        ));
    }
    raw.chunks_exact(4)
        .map(|c| {
            let d = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
            usize::try_from(d).map_err(|_| {
                format_error(
                    path,
                    format!("dimension {d} does not fit in memory addresses"),
                )
            })
        })
        .collect()
}

/// Reads exactly `expected` data bytes and checks that nothing follows them.
/// When the length was checked against the file, the buffer is allocated up
/// front; otherwise (gzip, pipes) it grows with the data actually read, never
/// past `expected`.
fn read_body(
    src: &Source<'_>,
    reader: &mut impl Read,
    dims: &[usize],
    expected: usize,
) -> Result<Vec<u8>> {
    let mut data = Vec::with_capacity(if src.known_len.is_some() { expected } else { 0 });
    let limit = u64::try_from(expected).unwrap_or(u64::MAX);
    reader
        .by_ref()
        .take(limit)
        .read_to_end(&mut data)
        .map_err(|e| read_error(src.path, &e))?;
    if data.len() != expected {
        let found = format!("{} holds {}", src.what, data.len());
        return Err(size_mismatch(src.path, dims, Some(expected), &found));
    }
    let mut extra = [0u8; 1];
    let more = read_full(reader, &mut extra).map_err(|e| read_error(src.path, &e))?;
    if more > 0 {
        let found = format!("{} holds more (trailing bytes after {expected})", src.what);
        return Err(size_mismatch(src.path, dims, Some(expected), &found));
    }
    Ok(data)
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Writes an IDX file of unsigned bytes, gzip-compressed when `path` ends in `.gz`.
///
/// The write is atomic: the bytes go to a temporary file in the same folder,
/// which is then renamed over `path`, so a reader never sees half a file and a
/// failed write leaves any previous file as it was.
///
/// # Errors
/// [`KobaiError::Shape`] unless `dims` and `data` make a valid [`IdxArray`];
/// [`KobaiError::Io`] (naming the file) if it cannot be written;
/// [`KobaiError::Format`] for a `.gz` path without the `gzip` feature.
///
/// ```
/// use kobai::data::{read_idx_u8, write_idx_u8};
///
/// let path = std::env::temp_dir().join("kobai-doc-write-idx-u8");
/// write_idx_u8(&path, &[3], &[7, 8, 9])?;
/// assert_eq!(std::fs::read(&path)?, [0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]);
/// assert!(write_idx_u8(&path, &[4], &[7, 8, 9]).is_err()); // 4 ≠ 3 bytes
/// # std::fs::remove_file(&path)?;
///
/// if cfg!(feature = "gzip") {
///     let gz = std::env::temp_dir().join("kobai-doc-write-idx-u8.gz");
///     write_idx_u8(&gz, &[3], &[7, 8, 9])?;
///     assert_eq!(&std::fs::read(&gz)?[..2], &[0x1f, 0x8b]); // gzip magic
///     assert_eq!(read_idx_u8(&gz)?.data(), &[7, 8, 9]);
///     # std::fs::remove_file(&gz)?;
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_idx_u8(path: &Path, dims: &[usize], data: &[u8]) -> Result<()> {
    check_dims(dims)?;
    let needed = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    if needed != Some(data.len()) {
        return Err(KobaiError::Shape {
            what: "IDX data".into(),
            expected: format!(
                "dimensions {} need {} bytes",
                dims_text(dims),
                product_text(needed)
            ),
            found: vec![data.len()],
        });
    }
    let gzip = path.extension().is_some_and(|e| e == "gz");
    let bytes = encode(path, dims, data, gzip)?;
    write_atomically(path, &bytes)
}

/// The whole file's bytes: header and data, compressed when `gzip`.
fn encode(path: &Path, dims: &[usize], data: &[u8], gzip: bool) -> Result<Vec<u8>> {
    let mut raw = Vec::with_capacity(4 + 4 * dims.len() + data.len());
    raw.extend_from_slice(&[0, 0, TYPE_U8, dims.len() as u8]);
    for &d in dims {
        // `check_dims` has bounded every dimension by u32::MAX.
        raw.extend_from_slice(&u32::try_from(d).unwrap_or(u32::MAX).to_be_bytes());
    }
    raw.extend_from_slice(data);
    if gzip {
        gzip_bytes(path, &raw)
    } else {
        Ok(raw)
    }
}

#[cfg(feature = "gzip")]
fn gzip_bytes(path: &Path, raw: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut encoder, raw).map_err(|e| io_error(path, &e))?;
    encoder.finish().map_err(|e| io_error(path, &e))
}

#[cfg(not(feature = "gzip"))]
fn gzip_bytes(path: &Path, _raw: &[u8]) -> Result<Vec<u8>> {
    Err(format_error(
        path,
        "ends in .gz but kobai was built without its `gzip` feature; expected a path without .gz"
            .into(),
    ))
}

/// Errors with [`KobaiError::Shape`] unless there are 1 to 4 dimensions, each
/// fitting a `u32`, that an [`ndarray`] array can have.
fn check_dims(dims: &[usize]) -> Result<()> {
    let bad = if dims.is_empty() || dims.len() > IDX_MAX_DIMS {
        Some(format!("expected 1 to {IDX_MAX_DIMS} dimensions"))
    } else if dims.iter().any(|&d| u32::try_from(d).is_err()) {
        Some(format!(
            "expected every dimension to be at most {}",
            u32::MAX
        ))
    } else if !indexable(dims) {
        Some(format!(
            "expected the dimensions other than 0 to multiply to at most {}",
            isize::MAX
        ))
    } else {
        None
    };
    match bad {
        None => Ok(()),
        Some(expected) => Err(KobaiError::Shape {
            what: "IDX dimensions".into(),
            expected,
            found: dims.to_vec(),
        }),
    }
}

/// Whether an [`ndarray`] array can have these dimensions: the product of
/// those other than 0 must fit an `isize`, even when a 0 makes the array empty
/// (`[0, 4294967295, 4294967295, 4294967295]` holds nothing, yet no array has
/// that shape).
fn indexable(dims: &[usize]) -> bool {
    dims.iter()
        .filter(|&&d| d != 0)
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .is_some_and(|size| isize::try_from(size).is_ok())
}

/// The error for a header whose claimed data size differs from what is there;
/// `found` says what is there, e.g. `"the file holds 1234"`.
fn size_mismatch(path: &Path, dims: &[usize], claimed: Option<usize>, found: &str) -> KobaiError {
    format_error(
        path,
        format!(
            "header says {} = {} bytes of data but {found}",
            dims_text(dims),
            product_text(claimed)
        ),
    )
}

/// `60000×28×28`.
fn dims_text(dims: &[usize]) -> String {
    let parts: Vec<String> = dims.iter().map(usize::to_string).collect();
    parts.join("×")
}

/// The product of the dimensions, or words for one that overflows.
fn product_text(product: Option<usize>) -> String {
    product.map_or_else(|| format!("more than {}", usize::MAX), |p| p.to_string())
}

/// The IDX name of a type byte, for error messages.
fn type_name(byte: u8) -> &'static str {
    match byte {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0b => "i16",
        0x0c => "i32",
        0x0d => "f32",
        0x0e => "f64",
        _ => "not an IDX type",
    }
}

/// The error for a failed read. Only the gzip decoder reports corrupt data
/// (`InvalidData`, `InvalidInput`) or a cut stream (`UnexpectedEof`; raw reads
/// go through [`read_full`], which reports a short read as a count, not an
/// error), so those are [`KobaiError::Format`]; anything else is the system's
/// [`KobaiError::Io`].
fn read_error(path: &Path, e: &io::Error) -> KobaiError {
    use io::ErrorKind::{InvalidData, InvalidInput, UnexpectedEof};
    if matches!(e.kind(), InvalidData | InvalidInput | UnexpectedEof) {
        format_error(
            path,
            format!(
                "is not a valid gzip stream ({e}); expected a complete gzip-compressed IDX file"
            ),
        )
    } else {
        io_error(path, e)
    }
}

fn format_error(path: &Path, detail: String) -> KobaiError {
    KobaiError::Format {
        path: path.display().to_string(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(ty: u8, dims: &[u32]) -> Vec<u8> {
        let mut bytes = vec![0, 0, ty, dims.len() as u8];
        for d in dims {
            bytes.extend_from_slice(&d.to_be_bytes());
        }
        bytes
    }

    fn parse(bytes: &[u8]) -> Result<IdxArray> {
        let src = Source {
            path: Path::new("mem"),
            known_len: Some(bytes.len() as u64),
            what: "the file",
        };
        read_idx_from(&src, bytes)
    }

    fn parse_stream(bytes: &[u8]) -> Result<IdxArray> {
        let src = Source {
            path: Path::new("mem"),
            known_len: None,
            what: "the stream",
        };
        read_idx_from(&src, bytes)
    }

    #[test]
    fn parses_a_small_file() {
        let mut bytes = header(8, &[2, 2]);
        bytes.extend_from_slice(&[1, 2, 3, 4]);
        let idx = parse(&bytes).unwrap();
        assert_eq!(idx.dims(), &[2, 2]);
        assert_eq!(idx.data(), &[1, 2, 3, 4]);
    }

    #[test]
    fn the_header_is_checked_against_the_length() {
        let mut bytes = header(8, &[60000, 28, 28]);
        bytes.extend_from_slice(&[0; 1234]);
        let err = parse(&bytes).unwrap_err();
        assert_eq!(
            err.to_string(),
            "mem: header says 60000×28×28 = 47040000 bytes of data but the file holds 1234"
        );
    }

    #[test]
    fn an_unknown_length_stream_is_capped_and_must_end() {
        let mut bytes = header(8, &[3]);
        bytes.extend_from_slice(&[1, 2, 3, 4]);
        let err = parse_stream(&bytes).unwrap_err();
        assert!(err.to_string().contains("trailing bytes after 3"), "{err}");
        let err = parse_stream(&bytes[..9]).unwrap_err();
        assert!(err.to_string().ends_with("but the stream holds 1"), "{err}");
    }

    #[test]
    fn dimension_counts_outside_one_to_four_are_rejected() {
        assert!(
            parse(&header(8, &[]))
                .unwrap_err()
                .to_string()
                .contains("has 0 dimensions")
        );
        let five = header(8, &[1, 1, 1, 1, 1]);
        assert!(
            parse(&five)
                .unwrap_err()
                .to_string()
                .contains("has 5 dimensions")
        );
    }

    #[test]
    fn type_names_are_reported() {
        let err = parse(&header(0x0d, &[1])).unwrap_err();
        assert!(err.to_string().contains("0x0d (f32)"), "{err}");
    }

    #[test]
    fn dims_are_validated_before_writing() {
        assert!(check_dims(&[1, 2, 3, 4]).is_ok());
        assert!(check_dims(&[]).is_err());
        assert!(check_dims(&[1, 2, 3, 4, 5]).is_err());
        assert!(check_dims(&[u32::MAX as usize + 1]).is_err());
        assert!(check_dims(&[0, u32::MAX as usize, u32::MAX as usize, 2]).is_err());
        assert!(check_dims(&[0, u32::MAX as usize, u32::MAX as usize]).is_err());
        assert!(check_dims(&[0, u32::MAX as usize, i32::MAX as usize]).is_ok());
    }
}
