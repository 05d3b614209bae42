//! Files written atomically: a temporary file beside the target, flushed to
//! disk, then renamed over it, and the folder flushed — so a reader (or a
//! power cut) never sees half a file, and a failed write loses nothing.
//!
//! Every file kobai writes (weights, checkpoints, IDX files, and the CLI's
//! pictures and reports) goes through [`write_atomically`] or
//! [`write_with_temp_path`]. A write that is killed half-way (`kill -9`, a full
//! disk) can leave its temporary file behind; the next write to the same path
//! removes it, once the process that made it has gone.
//!
//! ```
//! use kobai::atomic_file::write_atomically;
//!
//! let dir = std::env::temp_dir().join(format!("kobai-doc-atomic-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("notes.txt");
//! write_atomically(&path, b"first")?;
//! write_atomically(&path, b"second")?;
//! assert_eq!(std::fs::read(&path).unwrap(), b"second");
//! assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temporary file is left");
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), kobai::KobaiError>(())
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::error::{KobaiError, Result};

/// Writes `bytes` to `path` atomically: a fresh temporary file beside it,
/// `fsync`, rename over `path`, `fsync` of the folder.
///
/// # Errors
/// [`KobaiError::Io`] naming `path` if any step fails; `path` then keeps
/// what it held before and no temporary file is left.
///
/// ```
/// let path = std::env::temp_dir().join(format!("kobai-doc-write-{}.txt", std::process::id()));
/// kobai::atomic_file::write_atomically(&path, b"hello")?;
/// assert_eq!(std::fs::read(&path).unwrap(), b"hello");
/// # std::fs::remove_file(&path).ok();
/// assert!(kobai::atomic_file::write_atomically(std::path::Path::new("/no/such/folder/x"), b"x").is_err());
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with_temp_path(path, |temp| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(temp)?;
        file.write_all(bytes)?;
        Ok(())
    })
}

/// Lets `render` write the file itself at a temporary path beside `path`
/// (for writers that take a path, such as a plotting backend), then flushes
/// it, renames it over `path` and flushes the folder.
///
/// The temporary name keeps the target's extension
/// (`.NAME.<pid>-<n>.tmp.EXT`), so writers that choose the format by the
/// extension still work. If `render` fails or writes nothing, or the rename
/// fails, the temporary file is removed and `path` is untouched.
///
/// # Errors
/// [`KobaiError::Io`] naming `path`, with `render`'s error as the message.
///
/// ```
/// let path = std::env::temp_dir().join(format!("kobai-doc-render-{}.svg", std::process::id()));
/// kobai::atomic_file::write_with_temp_path(&path, |temp| {
///     assert_eq!(temp.extension().and_then(|e| e.to_str()), Some("svg"));
///     std::fs::write(temp, "<svg/>")?;
///     Ok(())
/// })?;
/// assert_eq!(std::fs::read_to_string(&path).unwrap(), "<svg/>");
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn write_with_temp_path<F>(path: &Path, render: F) -> Result<()>
where
    F: FnOnce(&Path) -> std::result::Result<(), Box<dyn std::error::Error + Send + Sync>>,
{
    let temp = temp_path(path)?;
    remove_stale_temporaries(path);
    let written = render(&temp)
        .and_then(|()| File::open(&temp)?.sync_all().map_err(Into::into))
        .and_then(|()| fs::rename(&temp, path).map_err(Into::into));
    match written {
        Ok(()) => {
            sync_folder(path);
            Ok(())
        }
        Err(e) => {
            // Best effort: the file may not exist if `render` failed early.
            let _ = fs::remove_file(&temp);
            Err(KobaiError::Io {
                path: path.display().to_string(),
                message: e.to_string(),
            })
        }
    }
}

/// A temporary name in the same folder as `path`, unique on this machine:
/// `.NAME.<pid>-<n>.tmp`, plus `.EXT` when `path` has an extension.
pub(crate) fn temp_path(path: &Path) -> Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let Some(name) = path.file_name() else {
        return Err(KobaiError::Io {
            path: path.display().to_string(),
            message: "is not a file name; expected a path ending in a file name".into(),
        });
    };
    let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut temp_name = format!(
        ".{}.{}-{unique}.tmp",
        name.to_string_lossy(),
        std::process::id()
    );
    if let Some(ext) = path.extension() {
        temp_name.push('.');
        temp_name.push_str(&ext.to_string_lossy());
    }
    Ok(path.with_file_name(temp_name))
}

/// How old a temporary file must be before it counts as stale where the
/// operating system cannot say whether its writer is still running.
const STALE_AFTER: Duration = Duration::from_secs(600);

/// Removes the temporary files that earlier writes to `path` left behind
/// when they were killed: those whose process has gone (best effort).
fn remove_stale_temporaries(path: &Path) {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    let Ok(entries) = fs::read_dir(folder_of(path)) else {
        return;
    };
    let prefix = format!(".{name}.");
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        let Some(pid) = file_name
            .strip_prefix(&prefix)
            .and_then(|rest| temporary_writer(rest, path))
        else {
            continue;
        };
        if pid != std::process::id() && writer_has_gone(pid, &entry.path()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// The process id in the rest of a temporary name (`<pid>-<n>.tmp[.EXT]`),
/// if it is one of `path`'s.
fn temporary_writer(rest: &str, path: &Path) -> Option<u32> {
    let rest = match path.extension() {
        Some(ext) => rest
            .strip_suffix(&*ext.to_string_lossy())
            .and_then(|r| r.strip_suffix('.'))
            .unwrap_or(rest),
        None => rest,
    };
    let (pid, n) = rest.strip_suffix(".tmp")?.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(pid) && digits(n)).then(|| pid.parse().ok())?
}

/// Whether the process `pid` that made the temporary file `temp` has ended:
/// asked of `/proc` where there is one, else judged by the file's age.
fn writer_has_gone(pid: u32, temp: &Path) -> bool {
    let proc = Path::new("/proc");
    if proc.join("self").exists() {
        return !proc.join(pid.to_string()).exists();
    }
    fs::metadata(temp)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > STALE_AFTER)
}

/// The folder `path` is in (`.` for a bare file name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Flushes the folder's entry of a renamed file (best effort, Unix only).
fn sync_folder(path: &Path) {
    #[cfg(unix)]
    if let Ok(handle) = File::open(folder_of(path)) {
        let _ = handle.sync_all();
    }
    #[cfg(not(unix))]
    let _ = path;
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

    /// A fresh, empty folder under the system temp dir.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kobai-atomic-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create scratch folder");
        dir
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("read folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// The id of a process that has ended.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("spawn true");
        let pid = child.id();
        child.wait().expect("wait");
        pid
    }

    #[test]
    fn writes_whole_files_and_leaves_no_temporary_behind() -> Result<()> {
        let dir = scratch("whole");
        let path = dir.join("out.bin");
        write_atomically(&path, b"first")?;
        write_atomically(&path, b"second")?;
        assert_eq!(fs::read(&path).map_err(|e| io_error(&path, &e))?, b"second");
        assert_eq!(entries(&dir), ["out.bin"]);
        let missing = dir.join("no-such-folder").join("x.bin");
        let err = write_atomically(&missing, b"x").unwrap_err();
        assert!(err.to_string().contains("no-such-folder"), "{err}");
        fs::remove_dir_all(&dir).ok();
        Ok(())
    }

    #[test]
    fn temp_names_keep_the_folder_and_the_extension() {
        let a = temp_path(Path::new("/tmp/x/field.png")).unwrap();
        let b = temp_path(Path::new("/tmp/x/field.png")).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.parent(), Some(Path::new("/tmp/x")));
        assert_eq!(a.extension().and_then(|e| e.to_str()), Some("png"));
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(".field.png."), "{name}");
        let rest = name.strip_prefix(".field.png.").unwrap();
        assert_eq!(
            temporary_writer(rest, Path::new("field.png")),
            Some(std::process::id())
        );
        assert!(temp_path(Path::new("/")).is_err());
    }

    #[test]
    fn a_failed_render_keeps_the_old_file_and_leaves_nothing() {
        let dir = scratch("fail");
        let target = dir.join("plot.png");
        fs::write(&target, b"old").unwrap();
        let err = write_with_temp_path(&target, |temp| {
            fs::write(temp, b"partial")?;
            Err("the renderer broke".into())
        })
        .unwrap_err();
        assert!(err.to_string().contains("plot.png"), "{err}");
        assert!(err.to_string().contains("the renderer broke"), "{err}");
        assert_eq!(fs::read(&target).unwrap(), b"old");
        assert_eq!(entries(&dir), ["plot.png"]);
        // A render that writes nothing is an error too, and leaves nothing.
        assert!(write_with_temp_path(&dir.join("nothing.png"), |_| Ok(())).is_err());
        assert_eq!(entries(&dir), ["plot.png"]);
        fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn the_next_write_removes_what_a_killed_write_left() {
        let dir = scratch("stale");
        let dead = dead_pid();
        let stale = [
            format!(".run.ckpt.npz.{dead}-3.tmp"),
            format!(".run.ckpt.npz.{dead}-4.tmp.npz"),
        ];
        // Not stale: a live writer's, another file's, and a name that only looks alike.
        let kept = [
            format!(".run.ckpt.npz.{}-9.tmp.npz", std::process::id()),
            format!(".other.npz.{dead}-1.tmp.npz"),
            ".run.ckpt.npz.notes".to_string(),
        ];
        for name in stale.iter().chain(&kept) {
            fs::write(dir.join(name), b"half").unwrap();
        }
        write_atomically(&dir.join("run.ckpt.npz"), b"whole").unwrap();
        let mut expected: Vec<String> = kept.to_vec();
        expected.push("run.ckpt.npz".into());
        expected.sort();
        assert_eq!(entries(&dir), expected);
        fs::remove_dir_all(&dir).ok();
    }
}
