//! The command line's bad-input catalogue: every case is run on the real
//! binary and must fail with exit code 1 (2 for clap's own usage errors), one
//! line `error: …` on stderr naming what was wrong, nothing on stdout, and no
//! panic. The library's catalogue is `crates/kobai/tests/bad_input.rs`.

use std::path::Path;

mod common;
use common::{kobai, scratch};

/// Runs `args` and checks the failure; `code` is 1 for kobai's errors, 2 for clap's.
fn fails(args: &[&str], code: i32, needle: &str) {
    let out = kobai(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
    assert!(
        out.stdout.is_empty(),
        "{args:?}: stdout {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    let first = err.lines().next().unwrap_or_default();
    assert!(first.starts_with("error: "), "{args:?}: {err}");
    assert!(err.contains(needle), "{args:?}: {needle:?} not in {err}");
    if code == 1 {
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
    }
}

#[test]
fn hyperparameters() {
    for (args, needle) in [
        (
            &["train", "--lr", "0"][..],
            "--lr must be a finite number above 0, got 0",
        ),
        (&["train", "--lr", "nan"], "got NaN"),
        (&["train", "--lr", "-1"], "got -1"),
        (
            &["train", "--batch-size", "0"],
            "--batch-size must be at least 1, got 0",
        ),
        (
            &["train", "--hidden", "0"],
            "--hidden must be at least 1, got 0",
        ),
        (
            &["train", "--iters", "0"],
            "--iters must be at least 1, got 0",
        ),
        (
            &["train", "--epochs", "0"],
            "--epochs must be at least 1, got 0",
        ),
        (
            &["grad", "x", "--at", "1", "--h", "0"],
            "--h must be a finite number above 0",
        ),
        (&["grad", "x", "--at", "1", "--h", "nan"], "got NaN"),
        (
            &["descend", "x^2", "--from", "1", "--lr", "0"],
            "lr = 0 is invalid",
        ),
        (
            &["descend", "x^2", "--from", "1", "--steps", "0"],
            "--steps must be at least 1, got 0",
        ),
        (
            &["optimizers", "--steps", "0"],
            "--steps must be at least 1, got 0",
        ),
        (
            &["optimizers", "--lrs", "1,2"],
            "--lrs needs 4 learning rates",
        ),
        (
            &["field", "x^2", "--step", "0"],
            "--step must be a finite number above 0",
        ),
        (&["field", "x^2", "--x0", "1,1"], "expected MIN below MAX"),
        (
            &["check", "--hidden", "0"],
            "--hidden must be at least 1, got 0",
        ),
        (
            &["check", "--batch", "0"],
            "--batch must be at least 1, got 0",
        ),
        (
            &["check", "--directions", "0"],
            "--directions must be at least 1, got 0",
        ),
        (
            &["check", "--weight-init-std", "-1"],
            "--weight-init-std must be a finite number above 0",
        ),
    ] {
        fails(args, 1, needle);
    }
    fails(
        &["descend", "x^2", "--from", "1", "--optimizer", "foo"],
        2,
        "expected one of sgd",
    );
    fails(
        &["grad", "x", "--at", "1", "--scheme", "simpson"],
        2,
        "expected one of book",
    );
}

#[test]
fn formulas_and_points() {
    for (args, needle) in [
        (&["grad", "x0+", "--at", "1"][..], "at column 3"),
        (&["grad", "(x+1", "--at", "1"], "this '(' is never closed"),
        (&["grad", "foo(x)", "--at", "1"], "unknown function 'foo'"),
        (&["grad", "pow(x)", "--at", "1"], "pow takes 2 arguments"),
        (&["field", "x^2+y^2+z"], "unknown variable 'z'"),
        (
            &["grad", "x0*x1", "--at", "1,2,3"],
            "the formula uses x0..x1 (2 coordinates) but --at has 3",
        ),
        (&["grad", "x", "--at", "abc"], "'abc', is not a number"),
        (&["descend", "x^2", "--from", "1,2"], "--from has 2"),
        (
            &["grad", "log(x)", "--at", "0"],
            "f is -inf at x = [0.]; the gradient is defined only where f is finite",
        ),
        (
            &["descend", "sqrt(x)", "--from", "-1"],
            "f is NaN at the start [-1.]; start where f is finite",
        ),
    ] {
        fails(args, 1, needle);
    }
}

/// An MNIST-format folder whose training images have the wrong magic number.
fn folder_with_bad_magic(dir: &Path) {
    for (name, bytes) in [
        (
            "train-images-idx3-ubyte",
            vec![0, 0, 9, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 7],
        ),
        ("train-labels-idx1-ubyte", vec![0, 0, 8, 1, 0, 0, 0, 1, 3]),
        (
            "t10k-images-idx3-ubyte",
            vec![0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 7],
        ),
        ("t10k-labels-idx1-ubyte", vec![0, 0, 8, 1, 0, 0, 0, 1, 3]),
    ] {
        std::fs::write(dir.join(name), bytes).expect("temp dir is writable");
    }
}

#[test]
fn files_and_folders() {
    let empty = scratch("empty");
    let bad = scratch("bad-magic");
    folder_with_bad_magic(&bad);
    let missing_parent = empty.join("no-such-folder").join("w.npz");
    let (empty_s, bad_s) = (empty.to_string_lossy(), bad.to_string_lossy());
    let missing_s = missing_parent.to_string_lossy();
    for (args, needle) in [
        (
            &["train", "--data", "/nonexistent-kobai"][..],
            "does not exist or is not a folder",
        ),
        (
            &["train", "--data", &empty_s],
            "expected the four MNIST files",
        ),
        (&["train", "--data", &bad_s], "train-images-idx3-ubyte"),
        (
            &["check", "--data", "/nonexistent-kobai"],
            "does not exist or is not a folder",
        ),
        (
            &["train", "--iters", "1", "--save", &missing_s],
            "does not exist",
        ),
        // /proc refuses new folders even to root: an output folder that cannot be written.
        (
            &["train", "--iters", "1", "--out", "/proc/kobai"],
            "cannot create the output folder /proc/kobai",
        ),
        (
            &["notebook", "--out", "/proc/kobai"],
            "cannot create the output folder /proc/kobai",
        ),
    ] {
        fails(args, 1, needle);
    }
    let _ = std::fs::remove_dir_all(&empty);
    let _ = std::fs::remove_dir_all(&bad);
}
