//! A disk that fills up mid-write, simulated with a file-size limit
//! (`ulimit -f`, with SIGXFSZ ignored so that a write past the limit fails
//! with "File too large" instead of killing the process): every file kobai
//! writes — weights, checkpoints, pictures, stdout — appears whole or not at
//! all, a file that was there stays byte for byte, no temporary file is left,
//! and the error is one line naming the file.

#![cfg(unix)]

use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::{kobai_in, scratch, stderr};

/// Runs `kobai ARGS` in `dir` under a file-size limit of `kib` KiB, with
/// stdout to `stdout` (a file in `dir`) if given.
fn limited(dir: &Path, kib: u32, args: &[&str], stdout: Option<&str>) -> Output {
    let redirect = stdout.map_or(String::new(), |f| format!(" > {f}"));
    let script = format!("trap '' XFSZ; ulimit -f {kib}; exec \"$0\" \"$@\"{redirect}");
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_kobai"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("bash runs")
}

/// The names in `dir` and its subfolders, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).expect("folder").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() {
            all.extend(
                names(&entry.path())
                    .into_iter()
                    .map(|n| format!("{name}/{n}")),
            );
        } else {
            all.push(name);
        }
    }
    all.sort();
    all
}

/// Exit 1 and one `error:` line naming `file` and the cause.
fn failed_on(out: &Output, file: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("error: {file}: File too large")),
        "{err}"
    );
}

#[test]
fn weights_that_do_not_fit_leave_the_old_file_byte_for_byte() {
    let dir = scratch("weights");
    std::fs::write(dir.join("w.npz"), b"the weights of before").expect("written");
    // A 2-1000-3 network is about 48 KiB of weights.
    let args = ["train", "--no-plots", "--iters", "5", "--hidden", "1000"];
    let out = limited(&dir, 16, &[&args[..], &["--save", "w.npz"]].concat(), None);
    failed_on(&out, "w.npz");
    assert_eq!(
        std::fs::read(dir.join("w.npz")).expect("there"),
        b"the weights of before"
    );
    assert_eq!(names(&dir), ["w.npz"], "no temporary file is left");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_checkpoint_that_does_not_fit_leaves_the_old_one_byte_for_byte() {
    let dir = scratch("checkpoint");
    let args = ["train", "--no-plots", "--iters", "5", "--hidden", "1000"];
    let first = kobai_in(&dir, &[&args[..], &["--checkpoint", "c.npz"]].concat());
    assert!(first.status.success(), "{}", stderr(&first));
    let before = std::fs::read(dir.join("c.npz")).expect("written");
    let again = [
        &args[..],
        &["--checkpoint", "c.npz", "--start-over", "--seed", "1"],
    ]
    .concat();
    failed_on(&limited(&dir, 16, &again, None), "c.npz");
    assert_eq!(std::fs::read(dir.join("c.npz")).expect("there"), before);
    assert_eq!(names(&dir), ["c.npz"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_picture_that_does_not_fit_is_named_and_the_weights_are_saved_first() {
    let dir = scratch("picture");
    std::fs::create_dir(dir.join("kobai-out")).expect("made");
    std::fs::write(dir.join("kobai-out/training.png"), b"old picture").expect("written");
    // The 2-100-3 weights (6 KiB) fit under 40 KiB; the picture does not.
    let out = limited(
        &dir,
        40,
        &["train", "--iters", "5", "--save", "w.npz"],
        None,
    );
    failed_on(&out, "kobai-out/training.png");
    let mut net = kobai::TwoLayerNet::new(2, 100, 3, 0.1, 9).expect("valid");
    kobai::model::load_npz(&mut net, &dir.join("w.npz")).expect("whole weights");
    assert_eq!(
        std::fs::read(dir.join("kobai-out/training.png")).expect("there"),
        b"old picture"
    );
    assert_eq!(names(&dir), ["kobai-out/training.png", "w.npz"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_full_stdout_file_is_one_error_line() {
    let dir = scratch("stdout");
    let out = limited(
        &dir,
        4,
        &["train", "--no-plots", "--json"],
        Some("out.json"),
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        err.trim_end(),
        "error: cannot write to standard output: File too large (os error 27)"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
