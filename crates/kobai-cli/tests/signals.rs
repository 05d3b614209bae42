//! Ctrl-C and SIGTERM during `kobai train`, sent as a user (or a job
//! scheduler) sends them: the run finishes its step, saves itself, prints the
//! command that goes on, and exits 130 / 143; going on gives the very bits of
//! a run that was never interrupted. A second Ctrl-C ends it at once and
//! leaves every file whole.

#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

mod common;
use common::{kobai_in, scratch, stderr, weight_bits};

/// A spiral run long enough (about 14 000 steps) to be interrupted.
const RUN: [&str; 5] = ["train", "--epochs", "600", "--no-plots", "--seed"];

/// Starts `kobai ARGS` in `dir` and returns once it has printed its first
/// epoch line: training is under way.
fn started(dir: &Path, args: &[&str]) -> (Child, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kobai"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kobai starts");
    let mut lines = Vec::new();
    let mut reader = BufReader::new(child.stdout.take().expect("piped"));
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).expect("reads stdout");
        assert!(n > 0, "kobai ended before training: {lines:?}");
        lines.push(line);
        if lines.last().is_some_and(|l| l.starts_with("train acc")) {
            break;
        }
    }
    // Keep reading in the background so that a full pipe never blocks it.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    (child, lines)
}

fn send(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// The words of the command the message says goes on (after "To go on: kobai").
fn resume_words(err: &str) -> Vec<String> {
    let line = err
        .lines()
        .find_map(|l| l.strip_prefix("To go on: kobai "))
        .unwrap_or_else(|| panic!("no command to go on in {err}"));
    line.split_whitespace().map(str::to_string).collect()
}

fn ended(child: Child) -> Output {
    child.wait_with_output().expect("kobai ends")
}

#[test]
fn ctrl_c_saves_the_run_and_going_on_gives_the_bits_of_an_unbroken_run() {
    let dir = scratch("sigint");
    let whole = kobai_in(&dir, &[&RUN[..], &["3", "--save", "whole.npz"]].concat());
    assert!(whole.status.success(), "{}", stderr(&whole));

    let (child, _) = started(&dir, &[&RUN[..], &["3", "--save", "broken.npz"]].concat());
    send(&child, "-INT");
    let out = ended(child);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        err.starts_with("Stopped by Ctrl-C (SIGINT) after iteration "),
        "{err}"
    );
    assert!(
        err.contains("the run is saved in kobai-out/interrupted.ckpt.npz"),
        "{err}"
    );
    assert!(
        !dir.join("broken.npz").exists(),
        "no weights of a broken run"
    );
    let words = resume_words(&err);
    assert_eq!(
        words[words.len() - 2..],
        ["--resume", "kobai-out/interrupted.ckpt.npz"]
    );

    let args: Vec<&str> = words.iter().map(String::as_str).collect();
    let resumed = kobai_in(&dir, &args);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_eq!(
        weight_bits(&dir.join("broken.npz")),
        weight_bits(&dir.join("whole.npz")),
        "the very bits of the run that was not interrupted"
    );

    // A second interrupted run does not overwrite the first one's file.
    let (child, _) = started(&dir, &[&RUN[..], &["4"]].concat());
    send(&child, "-INT");
    let err = stderr(&ended(child));
    assert!(
        err.contains("saved in kobai-out/interrupted-2.ckpt.npz"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigterm_saves_to_the_checkpoint_file_and_exits_143() {
    let dir = scratch("sigterm");
    let args = [&RUN[..], &["5", "--checkpoint", "run.ckpt.npz", "--json"]].concat();
    // With --json there are no epoch lines to wait for: wait for the file.
    let child = Command::new(env!("CARGO_BIN_EXE_kobai"))
        .args(&args)
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kobai starts");
    let file = dir.join("run.ckpt.npz");
    while !file.exists() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    send(&child, "-TERM");
    let out = ended(child);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(143), "{err}");
    assert!(
        err.starts_with("Stopped by SIGTERM after iteration "),
        "{err}"
    );
    assert!(err.contains("saved in run.ckpt.npz"), "{err}");
    assert!(out.stdout.is_empty(), "no JSON for a run that did not end");
    let words = resume_words(&err);
    assert!(words.contains(&"--checkpoint".to_string()), "{words:?}");
    assert_eq!(words[words.len() - 2..], ["--resume", "run.ckpt.npz"]);
    let checkpoint = kobai::train::Checkpoint::load(&file).expect("a whole checkpoint");
    assert!(checkpoint.iteration() < checkpoint.iterations());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_second_ctrl_c_ends_at_once_and_leaves_every_file_whole() {
    let dir = scratch("twice");
    std::fs::write(dir.join("w.npz"), b"weights from before").expect("written");
    let (child, _) = started(&dir, &[&RUN[..], &["6", "--save", "w.npz"]].concat());
    send(&child, "-INT");
    send(&child, "-INT");
    let out = ended(child);
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(dir.join("w.npz")).expect("still there"),
        b"weights from before"
    );
    // If the run got to save itself before the second signal, the file is whole.
    let saved = dir.join("kobai-out").join("interrupted.ckpt.npz");
    if saved.exists() {
        kobai::train::Checkpoint::load(&saved).expect("a whole checkpoint");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ctrl_c_stops_a_long_gradient_check_cleanly() {
    let dir = scratch("check");
    // 79 510 elements, 8 loss evaluations each on a 784-100-10 network: minutes.
    let mut child = Command::new(env!("CARGO_BIN_EXE_kobai"))
        .args(["check", "--hidden", "100"])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kobai starts");
    let mut reader = BufReader::new(child.stdout.take().expect("piped"));
    let mut header = String::new();
    reader.read_line(&mut header).expect("the header line");
    assert!(
        header.starts_with("Gradient check: TwoLayerNet 784-100-10"),
        "{header}"
    );
    send(&child, "-INT");
    let out = ended(child);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        err.starts_with("Stopped by Ctrl-C (SIGINT) after comparing "),
        "{err}"
    );
    assert!(
        err.trim_end()
            .ends_with("of 79510 elements; nothing was written"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&dir).expect("folder").count(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}
