//! Parameters saved as NumPy `.npz` archives, under the book's names.

use std::fs::File;
use std::io::{Cursor, Read, Seek};
use std::path::Path;

use ndarray::{Array1, ArrayD};
use ndarray_npy::npy::header::Header;
use ndarray_npy::{NpzWriter, ReadNpyExt};
use zip::ZipArchive;

use super::{Params, saved, saved_mut};
use crate::atomic_file::{io_error, write_atomically};
use crate::check;
use crate::error::{KobaiError, Result};

/// Saves every parameter of `model` into an `.npz` archive, one array per name
/// (`W1`, `b1`, …), so NumPy reads it with `np.load(path)["W1"]`. The file is
/// written atomically: a temporary file beside it, then a rename.
///
/// # Errors
/// [`KobaiError::Io`] if the file cannot be written.
///
/// ```
/// use kobai::model::{load_npz, save_npz};
/// let net = kobai::TwoLayerNet::new(4, 3, 2, 0.1, 0)?;
/// let path = std::env::temp_dir().join("kobai-doc-save.npz");
/// save_npz(&net, &path)?;
/// let mut other = kobai::TwoLayerNet::new(4, 3, 2, 0.1, 99)?;
/// load_npz(&mut other, &path)?;
/// assert_eq!(other, net);
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn save_npz<M: Params>(model: &M, path: &Path) -> Result<()> {
    let bytes = npz_archive(model, &path.display().to_string())?;
    write_atomically(path, &bytes)
}

/// The bytes of the `.npz` archive [`save_npz`] writes, in memory (for
/// sending over a network, or into a file of your own).
///
/// # Errors
/// [`KobaiError::Format`] if an array cannot be encoded.
///
/// ```
/// use kobai::model::{load_npz_from_reader, npz_bytes};
/// let net = kobai::TwoLayerNet::new(4, 3, 2, 0.1, 0)?;
/// let bytes = npz_bytes(&net)?;
/// let mut other = kobai::TwoLayerNet::new(4, 3, 2, 0.1, 99)?;
/// load_npz_from_reader(&mut other, std::io::Cursor::new(bytes))?;
/// assert_eq!(other, net);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn npz_bytes<M: Params>(model: &M) -> Result<Vec<u8>> {
    npz_archive(model, "the .npz archive")
}

/// The archive of `model`'s saved arrays and architecture; `what` names it in errors.
fn npz_archive<M: Params>(model: &M, what: &str) -> Result<Vec<u8>> {
    let mut writer = NpzWriter::new(Cursor::new(Vec::new()));
    for (name, param) in saved(model) {
        writer
            .add_array(name, &param)
            .map_err(|e| npz_error(what, &e))?;
    }
    if let Some(text) = model.architecture() {
        writer
            .add_array(ARCHITECTURE, &Array1::from(text.into_bytes()))
            .map_err(|e| npz_error(what, &e))?;
    }
    Ok(writer
        .finish()
        .map_err(|e| npz_error(what, &e))?
        .into_inner())
}

/// Loads the parameters of `model` from an `.npz` archive written by
/// [`save_npz`] (or by NumPy's `np.savez` with the same names, as float64).
/// Every array is read and checked — present, the right shape, finite —
/// before any parameter changes: on error, `model` is as it was. The archive
/// is never trusted: each `.npy` header's shape is checked against the
/// model's before its data is read, and no member is read past what an array
/// of that shape needs, so a corrupt or hostile file costs no more memory
/// than the model itself.
///
/// # Errors
/// [`KobaiError::Io`] if the file cannot be opened; [`KobaiError::Format`] if it
/// is not an `.npz` archive or lacks a parameter; [`KobaiError::Shape`] if a
/// shape differs; [`KobaiError::NonFinite`] for NaN or ±inf.
pub fn load_npz<M: Params>(model: &mut M, path: &Path) -> Result<()> {
    let file = File::open(path).map_err(|e| io_error(path, &e))?;
    load_from(model, file, &path.display().to_string())
}

/// [`load_npz`] from any seekable reader — bytes in memory through
/// [`std::io::Cursor`], an archive member, a fuzzer's input — with the same
/// checks; errors name the source `(reader)`.
///
/// # Errors
/// [`KobaiError::Format`] if it is not an `.npz` archive or lacks a parameter;
/// [`KobaiError::Shape`] if a shape differs; [`KobaiError::NonFinite`] for NaN
/// or ±inf. On error, `model` is as it was.
///
/// ```
/// use std::io::{Cursor, Read, Seek};
/// use kobai::model::{load_npz_from_reader, save_npz};
///
/// let net = kobai::TwoLayerNet::new(4, 3, 2, 0.1, 0)?;
/// let path = std::env::temp_dir().join("kobai-doc-load-reader.npz");
/// save_npz(&net, &path)?;
/// let bytes = std::fs::read(&path).expect("just written");
/// let mut other = kobai::TwoLayerNet::new(4, 3, 2, 0.1, 99)?;
/// load_npz_from_reader(&mut other, Cursor::new(&bytes))?;
/// assert_eq!(other, net);
///
/// let err = load_npz_from_reader(&mut other, Cursor::new(b"not a zip")).unwrap_err();
/// assert!(err.to_string().starts_with("(reader): not a readable .npz archive"));
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn load_npz_from_reader<M: Params, R: Read + Seek>(model: &mut M, reader: R) -> Result<()> {
    load_from(model, reader, "(reader)")
}

/// Reads and checks every parameter of `model` from the archive in `reader`
/// (`source` names it in errors), then assigns them all.
fn load_from<M: Params, R: Read + Seek>(model: &mut M, reader: R, source: &str) -> Result<()> {
    let mut archive = ZipArchive::new(reader).map_err(|e| npz_error(source, &e))?;
    if let (Some(ours), Some(theirs)) = (model.architecture(), read_text(&mut archive, source)?)
        && ours != theirs
    {
        return Err(KobaiError::Format {
            path: source.to_owned(),
            detail: format!(
                "holds the weights of the network {theirs:?}, not of this one ({ours:?})"
            ),
        });
    }
    let mut loaded = Vec::new();
    for (name, param) in saved(model) {
        let what = format!("{name} in {source}");
        let bytes = read_member(&mut archive, &name, param.len(), source)?;
        let array = parse_npy(&bytes, &name, param.shape(), source)?;
        check::finite(&what, &array)?;
        loaded.push(array);
    }
    for ((_, mut param), array) in saved_mut(model).into_iter().zip(loaded) {
        param.assign(&array);
    }
    Ok(())
}

/// The member that holds a network's architecture, as UTF-8 bytes.
const ARCHITECTURE: &str = "architecture";

/// The longest architecture text kobai reads.
const MAX_ARCHITECTURE_BYTES: usize = 1 << 16;

/// The architecture that [`save_npz`] wrote into the `.npz` file at `path`,
/// if it wrote one (a [`Network`](crate::nets::Network) describes itself; a
/// `TwoLayerNet` does not). Build the network from it with
/// [`Network::from_architecture`](crate::nets::Network::from_architecture),
/// then [`load_npz`] its weights.
///
/// # Errors
/// [`KobaiError::Io`] if the file cannot be opened; [`KobaiError::Format`] if
/// it is not an `.npz` archive or its architecture is not UTF-8 text.
///
/// ```
/// use kobai::model::{load_npz, read_architecture, save_npz};
/// use kobai::nets::{MultiLayerNet, Network};
/// let net = MultiLayerNet::new(4, &[3, 3], 2).seed(5).build()?;
/// let path = std::env::temp_dir().join("kobai-doc-architecture.npz");
/// save_npz(&net, &path)?;
/// let text = read_architecture(&path)?.expect("a network writes its architecture");
/// let mut copy = Network::from_architecture(&text)?;
/// load_npz(&mut copy, &path)?;
/// assert_eq!(kobai::Params::params(&copy)[0].1, kobai::Params::params(&net)[0].1);
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn read_architecture(path: &Path) -> Result<Option<String>> {
    let file = File::open(path).map_err(|e| io_error(path, &e))?;
    let source = path.display().to_string();
    let mut archive = ZipArchive::new(file).map_err(|e| npz_error(&source, &e))?;
    read_text(&mut archive, &source)
}

/// [`read_architecture`] of an archive already in memory (or any reader).
///
/// # Errors
/// [`KobaiError::Format`] for bytes that are not an `.npz` archive, or an
/// architecture member that is not UTF-8 bytes.
///
/// ```
/// use std::io::Cursor;
/// use kobai::model::read_architecture_from_reader;
/// assert!(read_architecture_from_reader(Cursor::new(b"not a zip")).is_err());
/// ```
pub fn read_architecture_from_reader<R: Read + Seek>(reader: R) -> Result<Option<String>> {
    let source = "the archive";
    let mut archive = ZipArchive::new(reader).map_err(|e| npz_error(source, &e))?;
    read_text(&mut archive, source)
}

fn read_text<R: Read + Seek>(archive: &mut ZipArchive<R>, source: &str) -> Result<Option<String>> {
    let present = archive.index_for_name(ARCHITECTURE).is_some()
        || archive
            .index_for_name(&format!("{ARCHITECTURE}.npy"))
            .is_some();
    if !present {
        return Ok(None);
    }
    let bytes = read_member(archive, ARCHITECTURE, MAX_ARCHITECTURE_BYTES / 8, source)?;
    let text = Array1::<u8>::read_npy(Cursor::new(bytes))
        .ok()
        .and_then(|a| String::from_utf8(a.to_vec()).ok())
        .ok_or_else(|| KobaiError::Format {
            path: source.to_owned(),
            detail: "its architecture member is not an array of UTF-8 bytes".into(),
        })?;
    Ok(Some(text))
}

/// The longest `.npy` header kobai reads. NumPy writes about 128 bytes for a
/// float64 array; the format allows 65535 (version 1) or 4 GiB (versions 2
/// and 3), which a header must never make kobai allocate.
const MAX_NPY_HEADER: usize = 1 << 16;

/// The bytes before an `.npy` header: magic (6), version (2), length (2 or 4).
const MAX_NPY_PREAMBLE: usize = 12;

/// How deeply brackets may nest in an `.npy` header: `{'shape': (4, 3)}` needs
/// 2, and a cap keeps the header's parser far from a stack overflow.
const MAX_NPY_NESTING: usize = 8;

/// The bytes of the member `name` (or `name.npy`, as NumPy looks it up),
/// refused when longer than a float64 array of `len` elements can be: a member
/// decides nothing about what kobai allocates.
fn read_member<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    name: &str,
    len: usize,
    source: &str,
) -> Result<Vec<u8>> {
    let member = if archive.index_for_name(name).is_some() {
        name.to_owned()
    } else {
        format!("{name}.npy")
    };
    let cannot_read = |detail: String| KobaiError::Format {
        path: source.to_owned(),
        detail: format!("cannot read the array {name:?}: {detail}"),
    };
    let limit = len
        .checked_mul(size_of::<f64>())
        .and_then(|data| data.checked_add(MAX_NPY_PREAMBLE + MAX_NPY_HEADER))
        .unwrap_or(usize::MAX);
    let mut file = archive
        .by_name(&member)
        .map_err(|e| cannot_read(e.to_string()))?;
    let mut bytes = Vec::new();
    file.by_ref()
        .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| cannot_read(e.to_string()))?;
    if bytes.len() > limit {
        return Err(cannot_read(format!(
            "the member holds more than the {limit} bytes that an .npy file of {len} \
             float64 values can take"
        )));
    }
    Ok(bytes)
}

/// Parses the `.npy` file in `bytes` as a float64 array of shape `expected`.
/// The header is checked — its length against `bytes`, its nesting, its shape
/// against `expected` — before ndarray-npy allocates anything from it.
fn parse_npy(bytes: &[u8], name: &str, expected: &[usize], source: &str) -> Result<ArrayD<f64>> {
    let cannot_read = |detail: String| KobaiError::Format {
        path: source.to_owned(),
        detail: format!("cannot read the array {name:?}: {detail}"),
    };
    if let Some((preamble, header_len)) = declared_header_len(bytes) {
        let end = preamble + header_len;
        if header_len > MAX_NPY_HEADER || end > bytes.len() {
            return Err(cannot_read(format!(
                "its .npy header claims {header_len} bytes; expected at most {MAX_NPY_HEADER}, \
                 within the {} bytes of the member",
                bytes.len()
            )));
        }
        if nesting(&bytes[preamble..end]) > MAX_NPY_NESTING {
            return Err(cannot_read(format!(
                "its .npy header nests brackets more than {MAX_NPY_NESTING} deep"
            )));
        }
    }
    let header = Header::from_reader(&mut &bytes[..]).map_err(|e| cannot_read(e.to_string()))?;
    if header.shape != expected {
        return Err(KobaiError::Shape {
            what: format!("{name} in {source}"),
            expected: format!("the model's {name} has shape {expected:?}"),
            found: header.shape,
        });
    }
    // The shape is the model's, so ndarray-npy allocates what the model holds.
    ArrayD::<f64>::read_npy(bytes).map_err(|e| cannot_read(e.to_string()))
}

/// The length of an `.npy` file's preamble and the header length it
/// declares, when it has one of the known versions (1, 2, 3); otherwise
/// ndarray-npy reports the problem.
fn declared_header_len(bytes: &[u8]) -> Option<(usize, usize)> {
    let width = match bytes.get(6)? {
        1 => 2,
        2 | 3 => 4,
        _ => return None,
    };
    let field = bytes.get(8..8 + width)?;
    let header_len = field
        .iter()
        .rev()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    Some((8 + width, header_len))
}

/// The deepest nesting of brackets in `text`, counted without regard to quotes
/// (an over-count only ever rejects a header kobai would not read anyway).
fn nesting(text: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for &b in text {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

fn npz_error(source: &str, e: &dyn std::error::Error) -> KobaiError {
    KobaiError::Format {
        path: source.to_owned(),
        detail: format!("not a readable .npz archive: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TwoLayerNet;

    fn temp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("kobai-npz-{}-{name}", std::process::id()))
    }

    #[test]
    fn another_architecture_changes_nothing() -> Result<()> {
        let path = temp("shape.npz");
        save_npz(&TwoLayerNet::new(4, 3, 2, 0.1, 0)?, &path)?;
        let mut other = TwoLayerNet::new(5, 3, 2, 0.1, 1)?;
        let before = other.clone();
        let err = load_npz(&mut other, &path).unwrap_err();
        assert!(err.to_string().contains("not of this one"), "{err}");
        assert_eq!(other, before);
        std::fs::remove_file(&path).ok();
        Ok(())
    }

    #[test]
    fn garbage_and_missing_files_are_errors() {
        let path = temp("garbage.npz");
        std::fs::write(&path, b"not a zip").ok();
        let mut net = TwoLayerNet::new(2, 2, 2, 0.1, 0).expect("valid");
        assert!(matches!(
            load_npz(&mut net, &path),
            Err(KobaiError::Format { .. })
        ));
        std::fs::remove_file(&path).ok();
        assert!(matches!(
            load_npz(&mut net, &temp("missing.npz")),
            Err(KobaiError::Io { .. })
        ));
    }
}
