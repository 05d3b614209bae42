//! `kobai chapter6 EXPERIMENT`, run as a user runs it: the real binary on the
//! built-in spiral, with few iterations so that the whole file takes seconds.

use std::path::Path;

use serde_json::Value;

mod common;
use common::{json, kobai_in, scratch, stderr};

/// `kobai chapter6 EXPERIMENT --json --out pictures` plus `extra`, in `dir`.
fn run_json(dir: &Path, experiment: &str, extra: &[&str]) -> Value {
    let mut args = vec!["chapter6", experiment, "--json", "--out", "pictures"];
    args.extend_from_slice(extra);
    json(&kobai_in(dir, &args))
}

fn number(v: &Value, what: &str) -> f64 {
    let x = v[what]
        .as_f64()
        .unwrap_or_else(|| panic!("{what} is not a number in {v}"));
    assert!(x.is_finite(), "{what} = {x}");
    x
}

/// Checks both pictures: named in the JSON, present, non-empty, the right format.
fn check_pictures(dir: &Path, v: &Value, experiment: &str) {
    let stem = format!("pictures/chapter6_{experiment}");
    let listed: Vec<&str> = v["pictures"]
        .as_array()
        .expect("pictures")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        listed,
        [format!("{stem}.png"), format!("{stem}.svg")],
        "{v}"
    );
    let png = std::fs::read(dir.join(format!("{stem}.png"))).expect("png written");
    assert!(png.len() > 1000, "{} bytes", png.len());
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let svg = std::fs::read_to_string(dir.join(format!("{stem}.svg"))).expect("svg written");
    assert!(svg.contains("<svg"), "not an SVG");
    assert!(
        svg.contains("the book"),
        "the title names the book's script"
    );
}

/// The runs of a training experiment: as many as expected, each with finite
/// numbers — or, for a run that diverged, no accuracies and the error.
fn check_training_runs(v: &Value, expected: usize) -> &Vec<Value> {
    let runs = v["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), expected, "{v}");
    for run in runs {
        assert!(run["name"].is_string(), "{run}");
        assert!(number(run, "iterations") >= 1.0, "{run}");
        number(run, "final_loss");
        if run["diverged_at_iteration"].is_null() {
            let train = number(run, "final_train_accuracy");
            let test = number(run, "final_test_accuracy");
            assert!((0.0..=1.0).contains(&train) && (0.0..=1.0).contains(&test));
        } else {
            assert!(run["final_test_accuracy"].is_null(), "{run}");
            assert!(
                run["error"].as_str().is_some_and(|e| e.contains("finite")),
                "{run}"
            );
        }
    }
    runs
}

#[test]
fn optimizers_and_weight_init_compare_loss_curves() {
    let dir = scratch("loss");
    let v = run_json(&dir, "optimizers", &["--iters", "30"]);
    assert_eq!(v["experiment"], "optimizers");
    assert_eq!(v["book_script"], "optimizer_compare_mnist.py");
    assert_eq!(v["dataset"]["name"], "spiral");
    assert_eq!(v["settings"]["iterations"], 30);
    let runs = check_training_runs(&v, 4);
    let names: Vec<&str> = runs.iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(names, ["SGD", "Momentum", "AdaGrad", "Adam"]);
    for run in runs {
        assert_eq!(run["iterations"], 30);
        number(run, "final_smoothed_loss");
    }
    check_pictures(&dir, &v, "optimizers");

    let v = run_json(&dir, "weight-init", &["--iters", "30"]);
    let runs = check_training_runs(&v, 3);
    let names: Vec<&str> = runs.iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(names, ["std=0.01", "Xavier", "He"]);
    check_pictures(&dir, &v, "weight-init");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn activations_histograms_every_layer_of_every_init() {
    let dir = scratch("activations");
    let v = run_json(&dir, "activations", &[]);
    assert!(v["dataset"].is_null(), "random inputs, no data");
    let runs = v["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 4);
    for run in runs {
        let layers = run["layers"].as_array().expect("layers");
        assert_eq!(layers.len(), 5, "{run}");
        for layer in layers {
            let mean = number(layer, "mean");
            let std = number(layer, "std");
            assert!(mean >= 0.0 && std >= 0.0, "{layer}");
            let counts = layer["histogram"].as_array().expect("counts");
            assert_eq!(counts.len(), 30);
            let total: f64 = counts.iter().filter_map(Value::as_f64).sum();
            assert!(total > 0.0 && total <= 100_000.0, "{total}");
        }
    }
    // The book's findings: std 1 pushes the sigmoid's outputs to 0 and 1,
    // std 0.01 squeezes them all to about 0.5.
    let spread = &runs[0]["layers"][4];
    assert!(number(spread, "std") > 0.3, "{spread}");
    let squeezed = &runs[1]["layers"][4];
    assert!((number(squeezed, "mean") - 0.5).abs() < 0.01, "{squeezed}");
    assert!(number(squeezed, "std") < 0.05, "{squeezed}");
    check_pictures(&dir, &v, "activations");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn batchnorm_trains_with_and_without_for_each_scale() {
    let dir = scratch("batchnorm");
    let v = run_json(&dir, "batchnorm", &["--iters", "14", "--scales", "2"]);
    assert_eq!(v["settings"]["scales"], serde_json::json!([1.0, 0.0001]));
    assert_eq!(v["settings"]["train_size"], 720, "the spiral has 720");
    let runs = check_training_runs(&v, 4);
    let flags: Vec<bool> = runs
        .iter()
        .filter_map(|r| r["batchnorm"].as_bool())
        .collect();
    assert_eq!(flags, [true, false, true, false]);
    for run in runs {
        // Measured before the first step, as the book's loop does.
        number(run, "initial_train_accuracy");
    }
    check_pictures(&dir, &v, "batchnorm");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn overfit_and_dropout_report_the_gap() {
    let dir = scratch("overfit");
    for (experiment, key, values) in [
        (
            "overfit",
            "weight_decay",
            [Value::from(0.0), Value::from(0.1)],
        ),
        ("dropout", "dropout", [Value::Null, Value::from(0.2)]),
    ] {
        let v = run_json(&dir, experiment, &["--iters", "12"]);
        assert_eq!(v["settings"]["train_size"], 300);
        let runs = check_training_runs(&v, 2);
        for (run, value) in runs.iter().zip(&values) {
            assert_eq!(&run[key], value, "{run}");
            let gap = number(run, "gap");
            let expected = number(run, "final_train_accuracy") - number(run, "final_test_accuracy");
            assert!((gap - expected).abs() < 1e-12);
            // 12 iterations of 3 an epoch: epochs 1 to 4.
            assert_eq!(
                run["train_accuracy_per_epoch"].as_array().map(Vec::len),
                Some(4)
            );
        }
        check_pictures(&dir, &v, experiment);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Everything but the wall-clock time.
fn without_time(mut v: Value) -> Value {
    v.as_object_mut().expect("an object").remove("seconds");
    v
}

#[test]
fn the_same_seed_gives_the_same_numbers_and_another_seed_does_not() {
    let dir = scratch("seed");
    let run = |experiment: &str, seed: &str| {
        without_time(run_json(
            &dir,
            experiment,
            &["--iters", "9", "--seed", seed],
        ))
    };
    for experiment in ["dropout", "activations"] {
        let first = run(experiment, "3");
        assert_eq!(first["seed"], 3);
        assert_eq!(first, run(experiment, "3"), "{experiment}");
        assert_ne!(first["runs"], run(experiment, "4")["runs"], "{experiment}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn text_output_is_a_short_table() {
    let dir = scratch("text");
    let out = kobai_in(
        &dir,
        &["chapter6", "optimizers", "--iters", "12", "--out", "."],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "optimizer_compare_mnist.py",
        "SGD",
        "Momentum",
        "AdaGrad",
        "Adam",
        "test acc",
        "Picture: ./chapter6_optimizers.png, ./chapter6_optimizers.svg",
    ] {
        assert!(text.contains(needle), "{needle:?} not in\n{text}");
    }
    assert!(text.lines().count() < 15, "short:\n{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_gets_one_line_and_exit_1() {
    let dir = scratch("bad");
    std::fs::write(dir.join("a-file"), b"x").expect("a file");
    for (args, needle) in [
        (
            &["chapter6", "overfit", "--iters", "0"][..],
            "--iters must be at least 1, got 0",
        ),
        (
            &["chapter6", "dropout", "--out", "a-file/pictures"],
            "cannot create the output folder",
        ),
        (
            &["chapter6", "optimizers", "--data", "no-such-folder"],
            "no-such-folder does not exist",
        ),
        (
            &["chapter6", "activations", "--data", "no-such-folder"],
            "no-such-folder does not exist",
        ),
        (
            &["chapter6", "optimizers", "--scales", "2"],
            "--scales applies to the batchnorm experiment only",
        ),
        (
            &["chapter6", "batchnorm", "--scales", "17"],
            "--scales must be from 1 to 16, got 17",
        ),
    ] {
        let out = kobai_in(&dir, args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {needle:?} not in {err}");
    }
    // An unknown experiment is clap's usage error: one line, exit 2.
    let out = kobai_in(&dir, &["chapter6", "wobble"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("optimizers, weight-init, activations"),
        "{err}"
    );
    // Nothing was drawn anywhere.
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["a-file"]);
    let _ = std::fs::remove_dir_all(&dir);
}
