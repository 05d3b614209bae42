//! The output folder for pictures.

use std::path::Path;

use anyhow::{Context, ensure};

/// Creates `dir` (and its parents) if missing; an error if it cannot be
/// created or is something other than a folder.
pub fn ensure_out_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the output folder {}", dir.display()))?;
    ensure!(dir.is_dir(), "{} is not a folder", dir.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_nested_folders_and_rejects_files() {
        let base = std::env::temp_dir().join(format!("kobai-out-dir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let nested = base.join("a").join("b");
        ensure_out_dir(&nested).expect("creates");
        ensure_out_dir(&nested).expect("exists already");
        assert!(nested.is_dir());
        let file = base.join("file");
        std::fs::write(&file, b"x").expect("file");
        let err = ensure_out_dir(&file).expect_err("a file");
        assert!(format!("{err:#}").contains("file"), "{err:#}");
        let _ = std::fs::remove_dir_all(&base);
    }
}
