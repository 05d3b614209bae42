//! Files written atomically: a temporary file beside the target, then a rename,
//! so a reader never sees half a file and a failed write loses nothing.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{KobaiError, Result};

/// Writes `bytes` to a fresh temporary file beside `path`, then renames it over `path`.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let temp = temp_path(path)?;
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    written.map_err(|e| {
        // Best effort: the temporary file may not exist if `open` failed.
        let _ = fs::remove_file(&temp);
        io_error(path, &e)
    })
}

/// A temporary name in the same folder as `path`, unique within this machine.
pub(crate) fn temp_path(path: &Path) -> Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let Some(name) = path.file_name() else {
        return Err(KobaiError::Io {
            path: path.display().to_string(),
            message: "is not a file name; expected a path ending in a file name".into(),
        });
    };
    let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp_name = format!(
        ".{}.{}-{unique}.tmp",
        name.to_string_lossy(),
        std::process::id()
    );
    Ok(path.with_file_name(temp_name))
}

/// [`KobaiError::Io`] for `path`.
pub(crate) fn io_error(path: &Path, e: &io::Error) -> KobaiError {
    KobaiError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_files_and_leaves_no_temporary_behind() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("kobai-atomic-{}", std::process::id()));
        fs::create_dir_all(&dir).map_err(|e| io_error(&dir, &e))?;
        let path = dir.join("out.bin");
        write_atomically(&path, b"first")?;
        write_atomically(&path, b"second")?;
        assert_eq!(fs::read(&path).map_err(|e| io_error(&path, &e))?, b"second");
        let entries = fs::read_dir(&dir).map_err(|e| io_error(&dir, &e))?.count();
        assert_eq!(entries, 1);
        let missing = dir.join("no-such-folder").join("x.bin");
        assert!(matches!(
            write_atomically(&missing, b"x"),
            Err(KobaiError::Io { .. })
        ));
        fs::remove_dir_all(&dir).ok();
        Ok(())
    }
}
