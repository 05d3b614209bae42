//! Parameters saved as NumPy `.npz` archives, under the book's names.

use std::fs::File;
use std::io::Cursor;
use std::path::Path;

use ndarray::ArrayD;
use ndarray_npy::{NpzReader, NpzWriter};

use super::Params;
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
    let mut writer = NpzWriter::new(Cursor::new(Vec::new()));
    for (name, param) in model.params() {
        writer
            .add_array(name, &param)
            .map_err(|e| npz_error(path, &e))?;
    }
    let bytes = writer
        .finish()
        .map_err(|e| npz_error(path, &e))?
        .into_inner();
    write_atomically(path, &bytes)
}

/// Loads the parameters of `model` from an `.npz` archive written by
/// [`save_npz`] (or by NumPy's `np.savez` with the same names, as float64).
/// Every array is read and checked — present, the right shape, finite —
/// before any parameter changes: on error, `model` is as it was.
///
/// # Errors
/// [`KobaiError::Io`] if the file cannot be opened; [`KobaiError::Format`] if it
/// is not an `.npz` archive or lacks a parameter; [`KobaiError::Shape`] if a
/// shape differs; [`KobaiError::NonFinite`] for NaN or ±inf.
pub fn load_npz<M: Params>(model: &mut M, path: &Path) -> Result<()> {
    let file = File::open(path).map_err(|e| io_error(path, &e))?;
    let mut reader = NpzReader::new(file).map_err(|e| npz_error(path, &e))?;
    let mut loaded = Vec::new();
    for (name, param) in model.params() {
        let array: ArrayD<f64> = reader.by_name(name).map_err(|e| KobaiError::Format {
            path: path.display().to_string(),
            detail: format!("cannot read the array {name:?}: {e}"),
        })?;
        if array.shape() != param.shape() {
            return Err(KobaiError::Shape {
                what: format!("{name} in {}", path.display()),
                expected: format!("the model's {name} has shape {:?}", param.shape()),
                found: array.shape().to_vec(),
            });
        }
        check::finite(&format!("{name} in {}", path.display()), &array)?;
        loaded.push(array);
    }
    for ((_, mut param), array) in model.params_mut().into_iter().zip(loaded) {
        param.assign(&array);
    }
    Ok(())
}

fn npz_error(path: &Path, e: &dyn std::error::Error) -> KobaiError {
    KobaiError::Format {
        path: path.display().to_string(),
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
    fn a_shape_mismatch_changes_nothing() -> Result<()> {
        let path = temp("shape.npz");
        save_npz(&TwoLayerNet::new(4, 3, 2, 0.1, 0)?, &path)?;
        let mut other = TwoLayerNet::new(5, 3, 2, 0.1, 1)?;
        let before = other.clone();
        let err = load_npz(&mut other, &path).unwrap_err();
        assert!(err.to_string().contains("W1"), "{err}");
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
