//! Every command, with and without `--json`, when its standard output
//! cannot be written: the reader of the pipe has gone (`kobai … | head`),
//! or the disk behind it is full (`> /dev/full`). Never a panic.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

mod common;
use common::scratch;

/// A weights file for `kobai evaluate`, made once (its absolute path).
fn weights() -> &'static str {
    static WEIGHTS: OnceLock<String> = OnceLock::new();
    WEIGHTS.get_or_init(|| {
        let path: PathBuf = scratch("weights").join("w.npz");
        let out = Command::new(env!("CARGO_BIN_EXE_kobai"))
            .args(["train", "--epochs", "1", "--no-plots", "--save"])
            .arg(&path)
            .output()
            .expect("the kobai binary runs");
        assert!(out.status.success());
        path.display().to_string()
    })
}

/// Commands that print, each run in its own folder (pictures go there).
fn commands() -> Vec<Vec<&'static str>> {
    let mut all = Vec::new();
    for json in [false, true] {
        let mut with = |args: &[&'static str]| {
            let mut args = args.to_vec();
            if json {
                args.push("--json");
            }
            all.push(args);
        };
        with(&["evaluate", "--weights", weights()]);
        with(&["chapter6", "activations"]);
        with(&["chapter6", "optimizers", "--iters", "2"]);
        with(&["notebook", "--no-plots"]);
        with(&["train", "--epochs", "2", "--no-plots"]);
        with(&["check", "--input", "4", "--hidden", "3", "--output", "2"]);
        with(&[
            "check",
            "--input",
            "4",
            "--hidden",
            "3",
            "--output",
            "2",
            "--directions",
            "3",
        ]);
        with(&["grad", "x0^2 + x1", "--at", "1,2"]);
        with(&["descend", "x0^2 + x1^2", "--from", "1,2", "--steps", "3"]);
        with(&["field", "x0^2 + x1^2", "--step", "1"]);
        with(&["optimizers", "--steps", "3", "--no-plots"]);
    }
    all.push(vec!["--help"]);
    all.push(vec!["train", "--help"]);
    all
}

fn run(args: &[&str], stdout: Stdio, name: &str) -> Output {
    let dir = scratch(name);
    let out = Command::new(env!("CARGO_BIN_EXE_kobai"))
        .args(args)
        .current_dir(&dir)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .expect("the kobai binary runs");
    let _ = std::fs::remove_dir_all(&dir);
    out
}

#[test]
fn a_reader_that_has_gone_ends_every_command_quietly() {
    for (k, args) in commands().into_iter().enumerate() {
        // The read end is closed before kobai starts: its first write fails.
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let out = run(&args, Stdio::from(writer), &format!("pipe{k}"));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(141), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?} wrote to stderr: {err}");
    }
}

#[test]
fn a_full_disk_behind_stdout_is_one_line_never_a_panic() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return; // not on this system
    };
    for (k, args) in commands().into_iter().enumerate() {
        let out = run(
            &args,
            Stdio::from(full.try_clone().expect("a second handle")),
            &format!("full{k}"),
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("error: cannot write to standard output"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn training_whose_reader_has_gone_still_saves_its_weights() {
    let dir = scratch("save");
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_kobai"))
        .args(["train", "--epochs", "3", "--no-plots", "--save", "w.npz"])
        .current_dir(&dir)
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .expect("the kobai binary runs");
    assert_eq!(out.status.code(), Some(141));
    let saved = std::fs::metadata(dir.join("w.npz")).expect("the weights were saved");
    assert!(saved.len() > 0);
    let _ = std::fs::remove_dir_all(&dir);
}
