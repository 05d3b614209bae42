//! `kobai train --model conv` and `kobai check --model conv` (the book's
//! chapter 7), run as a user runs them, on small image folders written here:
//! 8×8 single-channel images and 6×6 three-channel ones, never 28×28.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

mod common;
use common::{json, kobai_in, scratch, stderr, write_idx};

/// Asserts a one-line error on stderr that contains `needle`, no panic.
fn one_line_error(out: &Output, needle: &str) {
    let err = stderr(out);
    assert!(!out.status.success(), "should fail: {err}");
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(needle), "expected {needle:?} in {err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Class `k` of 3: a bright horizontal bar, a vertical bar or a diagonal,
/// somewhere in the image, over a faint hash of the sample's index: a
/// pattern a filter finds wherever it is, and a dense net less easily.
fn pattern(class: usize, i: usize, c: usize, h: usize, w: usize) -> Vec<u8> {
    let offset = (i / 3) % (h - 2) + 1;
    let mut image = Vec::with_capacity(c * h * w);
    for ch in 0..c {
        for y in 0..h {
            for x in 0..w {
                let on = match class {
                    0 => y == offset,
                    1 => x == offset,
                    _ => (x + h - y + offset).is_multiple_of(h),
                };
                let noise = ((i * 31 + ch * 7 + y * 13 + x * 5) % 17) as u8 * 3;
                image.push(if on { 200 + noise } else { noise });
            }
        }
    }
    image
}

/// An MNIST-layout folder of images (N, c, h, w) in 3 classes: 3-d IDX
/// files for one channel, 4-d for more.
fn image_folder(dir: &Path, (c, h, w): (usize, usize, usize), train: usize, test: usize) {
    for (prefix, n, shift) in [("train", train, 0), ("t10k", test, 1000)] {
        let labels: Vec<u8> = (0..n).map(|i| (i % 3) as u8).collect();
        let images: Vec<u8> = (0..n)
            .flat_map(|i| pattern(i % 3, i + shift, c, h, w))
            .collect();
        let dims: Vec<u32> = if c == 1 {
            vec![n as u32, h as u32, w as u32]
        } else {
            vec![n as u32, c as u32, h as u32, w as u32]
        };
        write_idx(
            &dir.join(format!("{prefix}-images-idx3-ubyte")),
            &dims,
            &images,
        );
        write_idx(
            &dir.join(format!("{prefix}-labels-idx1-ubyte")),
            &[n as u32],
            &labels,
        );
    }
}

fn small_conv_run<'a>(data: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "train",
        "--data",
        data,
        "--model",
        "conv",
        "--filters",
        "4",
        "--filter-size",
        "3",
        "--hidden",
        "12",
        "--optimizer",
        "adam",
        "--lr",
        "0.01",
        "--batch-size",
        "10",
        "--epochs",
        "40",
        "--weight-init-std",
        "0.1",
        "--seed",
        "3",
        "--out",
        out,
        "--json",
    ];
    args.extend_from_slice(extra);
    args
}

fn without_time(mut v: Value) -> Value {
    v["seconds"] = Value::Null;
    v
}

#[test]
fn a_small_conv_net_learns_draws_its_filters_and_repeats_itself() {
    let dir = scratch("learns");
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    image_folder(&data, (1, 8, 8), 90, 30);
    let (data, out) = (data.to_str().unwrap(), dir.join("out"));
    let out = out.to_str().unwrap();
    let v = json(&kobai_in(&dir, &small_conv_run(data, out, &[])));
    assert_eq!(v["network"]["kind"], "SimpleConvNet");
    assert_eq!(
        v["network"]["architecture"],
        "conv(4,1x8x8,3x3,stride=1,pad=0) relu pool(max,2x2,stride=2,pad=0) \
         affine(36,12) relu affine(12,10)"
    );
    assert_eq!(v["network"]["conv"]["filters"], 4);
    assert_eq!(
        v["network"]["engine"], "fused-f32",
        "the default engine covers conv nets"
    );
    assert_eq!(v["dataset"]["features"], 64);
    let accuracy = v["final_test_accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.9, "test accuracy {accuracy}");
    for name in ["training.png", "training.svg", "filters.png", "filters.svg"] {
        let file = Path::new(out).join(name);
        assert!(
            std::fs::metadata(&file)
                .map(|m| m.len() > 0)
                .unwrap_or(false),
            "{name} written"
        );
    }
    let again = json(&kobai_in(&dir, &small_conv_run(data, out, &["--no-plots"])));
    let mut first = without_time(v);
    first["pictures"] = Value::Null;
    let mut second = without_time(again);
    second["pictures"] = Value::Null;
    assert_eq!(first, second, "the same seed gives the same numbers");
    let layers = json(&kobai_in(
        &dir,
        &small_conv_run(data, out, &["--no-plots", "--compute", "layers"]),
    ));
    assert_eq!(layers["network"]["engine"], "layers");
    let accuracy = layers["final_test_accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.9, "layers: test accuracy {accuracy}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn three_channel_images_with_padding_and_stride_train_and_save() {
    let dir = scratch("channels");
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    image_folder(&data, (3, 6, 6), 60, 15);
    let weights = dir.join("w.npz");
    let v = json(&kobai_in(
        &dir,
        &[
            "train",
            "--data",
            data.to_str().unwrap(),
            "--model",
            "conv",
            "--filters",
            "5",
            "--filter-size",
            "3",
            "--stride",
            "2",
            "--pad",
            "1",
            "--pool",
            "1",
            "--hidden",
            "8",
            "--optimizer",
            "adam",
            "--epochs",
            "2",
            "--batch-size",
            "10",
            "--no-plots",
            "--json",
            "--save",
            weights.to_str().unwrap(),
        ],
    ));
    assert_eq!(
        v["network"]["architecture"],
        "conv(5,3x6x6,3x3,stride=2,pad=1) relu pool(max,1x1,stride=1,pad=0) \
         affine(45,8) relu affine(8,10)"
    );
    let evaluated = json(&kobai_in(
        &dir,
        &[
            "evaluate",
            "--weights",
            weights.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--json",
        ],
    ));
    assert_eq!(
        evaluated["accuracy"].as_f64(),
        v["final_test_accuracy"].as_f64(),
        "the saved network scores what training reported"
    );
    // The same weights on one-channel 8x8 images: refused, not misread.
    let other = dir.join("other");
    std::fs::create_dir_all(&other).unwrap();
    image_folder(&other, (1, 8, 8), 9, 9);
    one_line_error(
        &kobai_in(
            &dir,
            &[
                "evaluate",
                "--weights",
                weights.to_str().unwrap(),
                "--data",
                other.to_str().unwrap(),
            ],
        ),
        "3x6x6",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_gradient_check_passes_for_conv_nets() {
    let dir = scratch("check");
    for extra in [
        &["--image", "1x8x8", "--filters", "3", "--filter-size", "3"][..],
        &[
            "--image",
            "2x7x9",
            "--filters",
            "2",
            "--filter-size",
            "3",
            "--stride",
            "2",
            "--pad",
            "1",
            "--pool",
            "2",
        ][..],
    ] {
        let mut args = vec![
            "check",
            "--model",
            "conv",
            "--hidden",
            "6",
            "--batch",
            "2",
            "--weight-init-std",
            "0.3",
            "--json",
        ];
        args.extend_from_slice(extra);
        let v = json(&kobai_in(&dir, &args));
        assert_eq!(v["passed"], true, "{extra:?}: {v}");
        let names: Vec<&str> = v["tensors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "conv1.W",
                "conv1.b",
                "affine1.W",
                "affine1.b",
                "affine2.W",
                "affine2.b"
            ]
        );
    }
    // A sample of each large tensor: the worst of 20 elements, all of a small one.
    let v = json(&kobai_in(
        &dir,
        &[
            "check",
            "--model",
            "conv",
            "--image",
            "1x8x8",
            "--filters",
            "3",
            "--filter-size",
            "3",
            "--hidden",
            "6",
            "--batch",
            "2",
            "--weight-init-std",
            "0.3",
            "--elements",
            "20",
            "--json",
        ],
    ));
    assert_eq!(v["passed"], true, "{v}");
    let checked: Vec<u64> = v["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["checked"].as_u64().unwrap())
        .collect();
    assert_eq!(checked, [20, 3, 20, 6, 20, 10]);
    // ... and every element the structure-aware way.
    let every = v["every_element"]
        .as_array()
        .expect("every element compared");
    assert_eq!(every.len(), 6);
    assert!(
        every
            .iter()
            .all(|t| t["max_abs_diff"].as_f64().unwrap() < 1e-6),
        "no kinks at this init: {every:?}"
    );
    one_line_error(
        &kobai_in(&dir, &["check", "--model", "conv", "--elements", "0"]),
        "--elements must be at least 1",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_conv_settings_are_one_line_errors_and_write_nothing() {
    let dir = scratch("bad");
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    image_folder(&data, (1, 8, 8), 12, 6);
    let data = data.to_str().unwrap();
    let conv = |extra: &[&'static str]| -> Vec<String> {
        let mut args: Vec<String> = [
            "train",
            "--data",
            data,
            "--model",
            "conv",
            "--iters",
            "1",
            "--batch-size",
            "4",
            "--out",
            "pics",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let run = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        kobai_in(&dir, &args)
    };
    one_line_error(
        &run(conv(&["--filter-size", "9"])),
        "convolution input image has shape [1, 8, 8]",
    );
    one_line_error(
        &run(conv(&["--filter-size", "11", "--pad", "1"])),
        "needs an image of at least 9x9",
    );
    one_line_error(
        &run(conv(&["--stride", "0"])),
        "--stride must be at least 1",
    );
    one_line_error(&run(conv(&["--filter-size", "3", "--pool", "7"])), "pool");
    one_line_error(
        &run(conv(&["--filters", "0"])),
        "--filters must be at least 1",
    );
    one_line_error(&run(conv(&["--hidden", "10,10"])), "one size");
    one_line_error(&run(conv(&["--batchnorm"])), "--batchnorm");
    one_line_error(&run(conv(&["--init", "he"])), "standard deviation");
    one_line_error(
        &kobai_in(&dir, &["train", "--model", "conv", "--iters", "1"]),
        "needs images",
    );
    one_line_error(
        &kobai_in(
            &dir,
            &["train", "--data", data, "--filters", "8", "--iters", "1"],
        ),
        "--model conv",
    );
    one_line_error(
        &kobai_in(&dir, &["check", "--model", "conv", "--image", "1x8"]),
        "CxHxW",
    );
    assert!(!dir.join("pics").exists(), "nothing drawn");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_conv_checkpoint_does_not_resume_as_a_dense_run() {
    let dir = scratch("resume");
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    image_folder(&data, (1, 8, 8), 30, 6);
    let data = data.to_str().unwrap();
    let ckpt = dir.join("run.ckpt.npz");
    let ckpt = ckpt.to_str().unwrap();
    let first = kobai_in(
        &dir,
        &[
            "train",
            "--data",
            data,
            "--model",
            "conv",
            "--filters",
            "3",
            "--filter-size",
            "3",
            "--hidden",
            "5",
            "--iters",
            "9",
            "--batch-size",
            "10",
            "--checkpoint",
            ckpt,
            "--checkpoint-every",
            "3",
            "--no-plots",
        ],
    );
    assert!(first.status.success(), "{}", stderr(&first));
    let before = std::fs::read(ckpt).expect("checkpoint written");
    one_line_error(
        &kobai_in(
            &dir,
            &[
                "train",
                "--data",
                data,
                "--hidden",
                "5",
                "--iters",
                "9",
                "--batch-size",
                "10",
                "--resume",
                ckpt,
                "--no-plots",
            ],
        ),
        "conv",
    );
    assert_eq!(
        std::fs::read(ckpt).unwrap(),
        before,
        "the checkpoint is untouched"
    );
    let resumed = kobai_in(
        &dir,
        &[
            "train",
            "--data",
            data,
            "--model",
            "conv",
            "--filters",
            "3",
            "--filter-size",
            "3",
            "--hidden",
            "5",
            "--iters",
            "9",
            "--batch-size",
            "10",
            "--resume",
            ckpt,
            "--no-plots",
            "--json",
        ],
    );
    let v = json(&resumed);
    assert_eq!(v["iterations"], 9);
    let _ = std::fs::remove_dir_all(&dir);
}
