//! Atomic file output: write beside the target, flush to disk, rename over it.
//!
//! A reader never sees a half-written file: either the old content or the new
//! one. On failure the temporary file is removed and the target is untouched.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, anyhow};

/// Distinguishes temporary files made by different threads of one process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    with_temp_path(path, |temp| {
        let mut file = File::create(temp)?;
        file.write_all(bytes)?;
        Ok(())
    })
}

/// Lets `render` write the file itself at a temporary path in the target's
/// directory, then fsyncs it and renames it over `path`.
///
/// The temporary name keeps the target's extension (`.name.tmp-<pid>-<n>.png`)
/// so that writers which choose the format by extension still work. If
/// `render` fails, or the rename does, the temporary file is removed.
pub fn with_temp_path(
    path: &Path,
    render: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let temp = temp_path_for(path)?;
    let result = render(&temp)
        .and_then(|()| sync_file(&temp))
        .and_then(|()| fs::rename(&temp, path).map_err(anyhow::Error::from));
    if result.is_err() {
        // Best effort: the file may not even exist if `render` failed early.
        let _ = fs::remove_file(&temp);
    } else {
        sync_parent_dir(path);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// The temporary sibling of `path`: `.stem.tmp-<pid>-<n>[.ext]`.
fn temp_path_for(path: &Path) -> anyhow::Result<PathBuf> {
    let stem = path
        .file_stem()
        .ok_or_else(|| anyhow!("{} does not name a file", path.display()))
        .with_context(|| format!("cannot write {}", path.display()))?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut name = format!(".{}.tmp-{}-{n}", stem.to_string_lossy(), std::process::id());
    if let Some(ext) = path.extension() {
        name.push('.');
        name.push_str(&ext.to_string_lossy());
    }
    Ok(path.with_file_name(name))
}

/// Flushes a finished file to disk.
fn sync_file(path: &Path) -> anyhow::Result<()> {
    File::open(path)?.sync_all()?;
    Ok(())
}

/// Flushes the directory entry of a renamed file (best effort, Unix only).
fn sync_parent_dir(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(handle) = File::open(dir) {
            let _ = handle.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh, empty directory under the system temp dir.
    fn scratch_dir(name: &str) -> PathBuf {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("kobai-atomic-{name}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create scratch dir");
        dir
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_and_replaces_content() {
        let dir = scratch_dir("replace");
        let target = dir.join("out.svg");
        write_atomically(&target, b"first").expect("first write");
        write_atomically(&target, b"second").expect("second write");
        assert_eq!(fs::read(&target).expect("read back"), b"second");
        assert_eq!(entries(&dir), vec!["out.svg".to_string()]);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn temp_path_keeps_extension_and_directory() {
        let dir = scratch_dir("name");
        let temp = temp_path_for(&dir.join("field.png")).expect("temp name");
        assert_eq!(temp.parent(), Some(dir.as_path()));
        assert_eq!(temp.extension().and_then(|e| e.to_str()), Some("png"));
        let name = temp
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        assert!(name.starts_with(".field.tmp-"), "{name}");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn failed_render_leaves_nothing_and_keeps_old_file() {
        let dir = scratch_dir("fail");
        let target = dir.join("plot.png");
        fs::write(&target, b"old").expect("seed");
        let err = with_temp_path(&target, |temp| {
            fs::write(temp, b"partial")?;
            Err(anyhow!("renderer broke"))
        })
        .expect_err("must fail");
        assert!(format!("{err:#}").contains("cannot write"), "{err:#}");
        assert!(format!("{err:#}").contains("plot.png"), "{err:#}");
        assert_eq!(fs::read(&target).expect("old kept"), b"old");
        assert_eq!(entries(&dir), vec!["plot.png".to_string()]);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn render_that_writes_nothing_is_an_error() {
        let dir = scratch_dir("empty");
        let target = dir.join("nothing.png");
        assert!(with_temp_path(&target, |_| Ok(())).is_err());
        assert!(entries(&dir).is_empty());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_directory_is_reported_with_the_path() {
        let dir = scratch_dir("missing");
        let target = dir.join("no-such-dir").join("x.svg");
        let err = write_atomically(&target, b"x").expect_err("must fail");
        assert!(format!("{err:#}").contains("no-such-dir"), "{err:#}");
        let _ = fs::remove_dir_all(&dir);
    }
}
