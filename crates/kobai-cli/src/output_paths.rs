//! Where output goes, checked before any work: the output folder exists (or
//! is created) and takes files, and a file to write (`--save`, `--checkpoint`)
//! names a file in a folder that takes files. A run that trains for an hour
//! must not find out at the end that it cannot save.

use std::fs::{self, OpenOptions};
use std::path::Path;

use anyhow::{Context, Result, ensure};

/// Creates `dir` (and its parents) if missing; an error if it cannot be
/// created, is something other than a folder, or does not take new files.
pub fn ensure_out_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the output folder {}", dir.display()))?;
    ensure!(dir.is_dir(), "{} is not a folder", dir.display());
    ensure_writable(dir)
        .with_context(|| format!("cannot write in the output folder {}", dir.display()))
}

/// A file to write (for `option`, e.g. `--save`) must name a file, not a
/// folder, in an existing folder that takes new files.
pub fn check_file_path(option: &str, path: &Path) -> Result<()> {
    ensure!(
        path.file_name().is_some() && !path.is_dir(),
        "{option} {} does not name a file",
        path.display()
    );
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    ensure!(
        parent.is_dir(),
        "{option} {}: the folder {} does not exist",
        path.display(),
        parent.display()
    );
    ensure_writable(parent).with_context(|| {
        format!(
            "{option} {}: cannot write in the folder {}",
            path.display(),
            parent.display()
        )
    })
}

/// Creates and removes an empty file in `dir`: the one sure test that a file
/// can be made there (permissions, a read-only mount, …).
fn ensure_writable(dir: &Path) -> Result<()> {
    let probe = dir.join(format!(".kobai-write-probe-{}", std::process::id()));
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    fs::remove_file(&probe)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_nested_folders_and_rejects_files() {
        let base = std::env::temp_dir().join(format!("kobai-out-dir-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let nested = base.join("a").join("b");
        ensure_out_dir(&nested).expect("creates");
        ensure_out_dir(&nested).expect("exists already");
        assert!(nested.is_dir());
        assert_eq!(
            fs::read_dir(&nested).unwrap().count(),
            0,
            "the probe is gone"
        );
        let file = base.join("file");
        fs::write(&file, b"x").expect("file");
        let err = ensure_out_dir(&file).expect_err("a file");
        assert!(format!("{err:#}").contains("file"), "{err:#}");
        let err = check_file_path("--save", &nested).expect_err("a folder");
        assert_eq!(
            err.to_string(),
            format!("--save {} does not name a file", nested.display())
        );
        let err = check_file_path("--save", &base.join("no").join("w.npz")).expect_err("no folder");
        assert!(err.to_string().contains("does not exist"), "{err}");
        check_file_path("--save", &nested.join("w.npz")).expect("fine");
        let _ = fs::remove_dir_all(&base);
    }
}
