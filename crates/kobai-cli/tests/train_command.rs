//! `kobai train` and `kobai check`, run as a user runs them: the real binary,
//! its output, its exit code, its files.

use std::path::Path;

use serde_json::Value;

mod common;
use common::{json, kobai_in, scratch, stderr, stdout};

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("folder exists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The default run: the built-in spiral, 100 epochs, the picture in `out`.
#[test]
fn default_training_on_the_spiral_reaches_the_stated_accuracy_and_draws() {
    let dir = scratch("default");
    let v = json(&kobai_in(&dir, &["train", "--json", "--out", "pictures"]));
    assert_eq!(v["dataset"]["name"], "spiral");
    assert_eq!(v["dataset"]["train_samples"], 720);
    assert_eq!(v["dataset"]["test_samples"], 180);
    assert_eq!(
        (
            &v["network"]["input"],
            &v["network"]["hidden"],
            &v["network"]["output"]
        ),
        (&Value::from(2), &serde_json::json!([100]), &Value::from(3))
    );
    assert_eq!(v["iterations"], 2400);
    assert_eq!(v["epochs"], 100);
    assert_eq!(v["epoch_reports"].as_array().map(Vec::len), Some(100));
    let test = v["final_test_accuracy"].as_f64().expect("a number");
    let train = v["final_train_accuracy"].as_f64().expect("a number");
    assert!(test >= 0.95, "test accuracy {test}");
    assert!(train >= 0.95, "train accuracy {train}");
    assert!(v["final_loss"].as_f64().expect("a number") < 0.2, "{v}");
    assert!(v["seconds"].as_f64().expect("a number") >= 0.0);
    let png = std::fs::read(dir.join("pictures/training.png")).expect("png written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let svg = std::fs::read_to_string(dir.join("pictures/training.svg")).expect("svg written");
    for text in ["<svg", "iterations", "epochs", "train acc", "test acc"] {
        assert!(svg.contains(text), "{text} missing from the SVG");
    }
    assert_eq!(
        entries(&dir.join("pictures")),
        ["training.png", "training.svg"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Everything but the wall-clock time, for comparing runs.
fn without_time(mut v: Value) -> Value {
    v.as_object_mut().expect("an object").remove("seconds");
    v
}

#[test]
fn the_same_seed_gives_the_same_numbers_and_another_seed_does_not() {
    let dir = scratch("seed");
    let args = [
        "train",
        "--json",
        "--no-plots",
        "--epochs",
        "20",
        "--seed",
        "7",
    ];
    let first = without_time(json(&kobai_in(&dir, &args)));
    let second = without_time(json(&kobai_in(&dir, &args)));
    assert_eq!(first, second);
    let other = [
        "train",
        "--json",
        "--no-plots",
        "--epochs",
        "20",
        "--seed",
        "8",
    ];
    let other = without_time(json(&kobai_in(&dir, &other)));
    assert_ne!(first["final_batch_loss"], other["final_batch_loss"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn no_plots_writes_nothing_and_text_output_reads_like_the_book() {
    let dir = scratch("no-plots");
    let out = kobai_in(&dir, &["train", "--no-plots", "--epochs", "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(entries(&dir).is_empty(), "wrote {:?}", entries(&dir));
    let text = stdout(&out);
    assert!(text.contains("built-in spiral"), "{text}");
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("train acc, test acc | "))
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(text.contains("Done in"), "{text}");
    // Off a terminal the progress bar hides itself: stderr stays empty.
    assert_eq!(stderr(&out), "");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_arguments_are_one_line_errors_and_write_nothing() {
    let dir = scratch("bad");
    let cases: &[&[&str]] = &[
        &["train", "--lr", "0"],
        &["train", "--lr", "-1"],
        &["train", "--lr", "nan"],
        &["train", "--lr", "inf"],
        &["train", "--lr", "fast"],
        &["train", "--hidden", "0"],
        &["train", "--batch-size", "0"],
        &["train", "--iters", "0"],
        &["train", "--epochs", "0"],
        &["train", "--weight-init-std", "0"],
        &["train", "--iters", "5", "--epochs", "5"],
        &["train", "--data", "no-such-folder"],
        &["train", "--save", "no-such-folder/w.npz"],
        &["check", "--hidden", "0"],
        &["check", "--batch", "0"],
        &["check", "--weight-init-std", "-0.5"],
        &["check", "--data", "no-such-folder"],
    ];
    for args in cases {
        let out = kobai_in(&dir, args);
        let err = stderr(&out);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(
            entries(&dir).is_empty(),
            "{args:?} wrote {:?}",
            entries(&dir)
        );
    }
    let out = kobai_in(&dir, &["train", "--data", "no-such-folder"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no-such-folder"), "{}", stderr(&out));
    let out = kobai_in(&dir, &["train", "--lr", "-1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--lr"), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn save_writes_an_npz_archive() {
    let dir = scratch("save");
    let v = json(&kobai_in(
        &dir,
        &[
            "train",
            "--json",
            "--no-plots",
            "--iters",
            "10",
            "--save",
            "w.npz",
        ],
    ));
    assert_eq!(v["iterations"], 10);
    assert_eq!(v["saved"], "w.npz");
    let bytes = std::fs::read(dir.join("w.npz")).expect("weights written");
    assert_eq!(&bytes[..2], b"PK", "an .npz is a zip archive");
    assert_eq!(entries(&dir), ["w.npz"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes an IDX file of unsigned bytes (the MNIST format).
fn write_idx(path: &Path, dims: &[u32], data: &[u8]) {
    let mut bytes = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        bytes.extend(d.to_be_bytes());
    }
    bytes.extend(data);
    std::fs::write(path, bytes).expect("idx written");
}

/// A tiny MNIST-layout folder: 4×4 images whose bright pixel is the label.
fn tiny_mnist(dir: &Path) {
    for (prefix, n) in [("train", 40u32), ("t10k", 10)] {
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let images: Vec<u8> = labels
            .iter()
            .flat_map(|&l| (0..16u8).map(move |p| if p == l { 255 } else { 0 }))
            .collect();
        write_idx(
            &dir.join(format!("{prefix}-images-idx3-ubyte")),
            &[n, 4, 4],
            &images,
        );
        write_idx(
            &dir.join(format!("{prefix}-labels-idx1-ubyte")),
            &[n],
            &labels,
        );
    }
}

#[test]
fn data_folders_in_mnist_layout_are_read() {
    let dir = scratch("data");
    tiny_mnist(&dir);
    let v = json(&kobai_in(
        &dir,
        &[
            "train",
            "--data",
            ".",
            "--json",
            "--no-plots",
            "--iters",
            "30",
            "--batch-size",
            "10",
        ],
    ));
    assert_eq!(v["dataset"]["name"], "mnist-format");
    assert_eq!(v["dataset"]["features"], 16);
    assert_eq!(v["dataset"]["classes"], 10);
    assert_eq!(
        v["network"]["hidden"],
        serde_json::json!([50]),
        "the book's default"
    );
    assert_eq!(v["iterations_per_epoch"], 4);
    assert_eq!(v["epochs"], 8, "7 full epochs and a partial one");
    // The check reads the training files only.
    for test_file in ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
        std::fs::remove_file(dir.join(test_file)).expect("there");
    }
    let out = kobai_in(&dir, &["check", "--data", ".", "--hidden", "6", "--json"]);
    let v = json(&out);
    assert_eq!(v["network"]["input"], 16);
    assert_eq!(v["passed"], true, "{v}");
    // A folder without the files: one line naming the missing file.
    let empty = scratch("data-empty");
    let out = kobai_in(&empty, &["train", "--data", "."]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("train-images-idx3-ubyte"),
        "{}",
        stderr(&out)
    );
    assert!(entries(&empty).is_empty(), "{:?}", entries(&empty));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&empty);
}

#[test]
fn check_passes_on_a_small_network() {
    let dir = scratch("check");
    let out = kobai_in(
        &dir,
        &["check", "--input", "20", "--hidden", "8", "--output", "4"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("TwoLayerNet 20-8-4"), "{text}");
    for tensor in ["W1", "b1", "W2", "b2"] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(tensor) && l.ends_with("pass")),
            "{tensor} in {text}"
        );
    }
    assert!(text.contains("PASSED"), "{text}");
    let args = [
        "check", "--input", "20", "--hidden", "8", "--output", "4", "--json",
    ];
    let v = json(&kobai_in(&dir, &args));
    assert_eq!(v["passed"], true);
    assert_eq!(v["tensors"].as_array().map(Vec::len), Some(4));
    assert!(v["tensors"][0]["rechecked"].is_u64(), "{v}");
    assert_eq!(v, json(&kobai_in(&dir, &args)), "deterministic");
    assert!(entries(&dir).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `kobai train` with `KOBAI_SIMD` set to `level`, in `dir`.
fn train_on_level(dir: &Path, level: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_kobai"))
        .current_dir(dir)
        .env("KOBAI_SIMD", level)
        .args(args)
        .output()
        .expect("kobai runs")
}

#[test]
fn every_kernel_level_trains_to_the_same_bits() {
    let dir = scratch("simd-levels");
    tiny_mnist(&dir);
    for hidden in ["50", "100,37"] {
        let args = [
            "train",
            "--data",
            ".",
            "--json",
            "--no-plots",
            "--iters",
            "40",
            "--batch-size",
            "10",
            "--hidden",
            hidden,
        ];
        let runs: Vec<Value> = ["portable", "avx2", "avx512"]
            .iter()
            .map(|level| {
                let mut v = without_time(json(&train_on_level(&dir, level, &args)));
                let simd = v.as_object_mut().expect("object").remove("simd");
                assert!(simd.is_some_and(|s| s.is_string()));
                v
            })
            .collect();
        assert_eq!(runs[0]["network"]["engine"], "fused-f32");
        assert_eq!(runs[0], runs[1], "portable against avx2, hidden {hidden}");
        assert_eq!(runs[0], runs[2], "portable against avx512, hidden {hidden}");
    }
    let portable = json(&train_on_level(
        &dir,
        "Portable",
        &["train", "--json", "--no-plots", "--epochs", "1"],
    ));
    assert_eq!(portable["simd"], "portable");
    // A level the program does not know: one line, nothing written.
    let out = train_on_level(&dir, "sse9", &["train", "--epochs", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim_end(),
        "error: KOBAI_SIMD = sse9 is invalid; expected portable, avx2 or avx512"
    );
    assert!(stdout(&out).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
