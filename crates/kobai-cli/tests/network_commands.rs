//! Networks of any shape on the command line: `kobai train` and `kobai check`
//! with `--hidden 100,100,100` and the chapter-6 options, `kobai evaluate`,
//! and what bad options get.

mod common;
use common::{json, kobai, kobai_in, scratch, stderr};

/// Exit 1, one `error:` line containing `needle`, nothing on stdout.
fn refused(out: &std::process::Output, needle: &str, case: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{case}: {err}");
    assert_eq!(err.lines().count(), 1, "{case}: {err}");
    assert!(
        err.starts_with("error: ") && err.contains(needle),
        "{case}: {needle:?} not in {err}"
    );
    assert!(!err.contains("panicked"), "{case}: {err}");
    assert!(out.stdout.is_empty(), "{case}");
}

#[test]
fn a_deep_network_trains_on_the_spiral_and_reports_itself() {
    let args = [
        "train",
        "--hidden",
        "30,30",
        "--batchnorm",
        "--dropout",
        "0.1",
        "--weight-decay",
        "0.001",
        "--optimizer",
        "adam",
        "--lr",
        "0.01",
        "--epochs",
        "15",
        "--shuffle",
        "--no-plots",
        "--json",
    ];
    let v = json(&kobai(&args));
    let net = &v["network"];
    assert_eq!(net["kind"], "MultiLayerNet");
    assert_eq!(net["hidden"], serde_json::json!([30, 30]));
    assert_eq!(net["init"], "he", "the book's default for ReLU");
    assert_eq!(net["engine"], "layers", "batch norm: the layers run");
    assert_eq!(
        net["architecture"],
        "affine(2,30) batchnorm(30) relu dropout(0.1,seed=11400714819323198485) \
         affine(30,30) batchnorm(30) relu dropout(0.1,seed=4354685564936845354) \
         affine(30,3) | weight_decay=0.001"
    );
    assert_eq!(net["layers"].as_array().map(Vec::len), Some(9));
    assert_eq!(v["optimizer"]["name"], "adam");
    assert_eq!(v["optimizer"]["hyperparameters"]["beta2"], 0.999);
    assert_eq!(v["sampling"], "shuffled");
    let test = v["final_test_accuracy"].as_f64().expect("a number");
    assert!(test > 0.8, "{test}");
    // The same seed, the same run.
    let again = json(&kobai(&args));
    assert_eq!(again["final_test_accuracy"], v["final_test_accuracy"]);
    assert_eq!(again["final_batch_loss"], v["final_batch_loss"]);
}

#[test]
fn one_plain_hidden_size_is_the_two_layer_net() {
    let v = json(&kobai(&[
        "train",
        "--hidden",
        "20",
        "--epochs",
        "2",
        "--no-plots",
        "--json",
    ]));
    assert_eq!(v["network"]["kind"], "TwoLayerNet");
    assert_eq!(v["network"]["engine"], "fused-f32");
    assert_eq!(v["network"]["init"], "0.1");
    assert_eq!(v["optimizer"]["lr"], 1.0, "SGD's spiral default");
    let adam = json(&kobai(&[
        "train",
        "--optimizer",
        "adam",
        "--epochs",
        "1",
        "--no-plots",
        "--json",
    ]));
    assert_eq!(adam["optimizer"]["lr"], 0.001, "the book's Adam default");
    let small = json(&kobai(&[
        "train",
        "--train-size",
        "90",
        "--epochs",
        "1",
        "--batch-size",
        "30",
        "--no-plots",
        "--json",
    ]));
    assert_eq!(small["dataset"]["train_samples"], 90);
    assert_eq!(small["iterations"], 3);
}

#[test]
fn evaluate_reads_the_architecture_from_the_file() {
    let dir = scratch("evaluate");
    for extra in [
        &["--hidden", "16"][..],
        &["--hidden", "16,12", "--batchnorm", "--activation", "tanh"],
    ] {
        let args = [
            &[
                "train",
                "--epochs",
                "5",
                "--no-plots",
                "--json",
                "--save",
                "w.npz",
            ][..],
            extra,
        ]
        .concat();
        let trained = json(&kobai_in(&dir, &args));
        let v = json(&kobai_in(
            &dir,
            &["evaluate", "--weights", "w.npz", "--json"],
        ));
        assert_eq!(v["accuracy"], trained["final_test_accuracy"], "{extra:?}");
        assert_eq!(v["architecture"], trained["network"]["architecture"]);
        let confusion: Vec<Vec<u64>> =
            serde_json::from_value(v["confusion"].clone()).expect("a matrix");
        assert_eq!(confusion.len(), 3);
        let total: u64 = confusion.iter().flatten().sum();
        assert_eq!(total, 180, "every test sample counted once");
        let text =
            String::from_utf8_lossy(&kobai_in(&dir, &["evaluate", "--weights", "w.npz"]).stdout)
                .into_owned();
        assert!(text.contains("Confusion (row: true class"), "{text}");
    }
    refused(
        &kobai_in(&dir, &["evaluate", "--weights", "missing.npz"]),
        "missing.npz",
        "a missing file",
    );
    std::fs::write(dir.join("junk.npz"), b"not a zip").expect("written");
    refused(
        &kobai_in(&dir, &["evaluate", "--weights", "junk.npz"]),
        "junk.npz",
        "not an npz",
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn deep_networks_pass_the_gradient_check() {
    let v = json(&kobai(&[
        "check",
        "--hidden",
        "8,6,5",
        "--batchnorm",
        "--weight-decay",
        "0.1",
        "--dropout",
        "0.2",
        "--activation",
        "sigmoid",
        "--input",
        "10",
        "--batch",
        "4",
        "--json",
    ]));
    assert_eq!(v["passed"], true, "{v}");
    let names: Vec<&str> = v["tensors"]
        .as_array()
        .expect("tensors")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names.len(), 14);
    assert!(
        names.contains(&"batchnorm3.gamma") && names.contains(&"affine4.b"),
        "{names:?}"
    );
    let fast = kobai(&[
        "check",
        "--hidden",
        "8,6",
        "--input",
        "10",
        "--directions",
        "4",
    ]);
    assert!(fast.status.success(), "{}", stderr(&fast));
}

#[test]
fn bad_network_options_get_one_line() {
    for (args, needle) in [
        (&["train", "--hidden", "100,,0"][..], "holds an empty size"),
        (
            &["train", "--hidden", "0"],
            "--hidden must be at least 1, got 0",
        ),
        (&["train", "--hidden", "10,x"], "is not a layer size"),
        (
            &["train", "--hidden", "18446744073709551615"],
            "kobai trains networks of at most",
        ),
        (
            &["train", "--hidden", "100000000"],
            "kobai trains networks of at most",
        ),
        (
            &["train", "--dropout", "1.5"],
            "--dropout must be a ratio in [0, 1), got 1.5",
        ),
        (
            &["train", "--dropout", "-0.1"],
            "--dropout must be a ratio in [0, 1), got -0.1",
        ),
        (
            &["train", "--weight-decay", "-1"],
            "--weight-decay must be a finite number at least 0",
        ),
        (
            &["train", "--init", "foo"],
            "--init \"foo\" is not he, xavier",
        ),
        (&["train", "--init", "0"], "is not he, xavier"),
        (
            &["train", "--train-size", "0"],
            "--train-size must be at least 1, got 0",
        ),
        (
            &["train", "--train-size", "100000"],
            "--train-size 100000 is larger than the 720",
        ),
        (&["check", "--hidden", "5,,5"], "holds an empty size"),
        (&["check", "--dropout", "2"], "--dropout must be a ratio"),
    ] {
        refused(&kobai(args), needle, &format!("{args:?}"));
    }
    let out = kobai(&["train", "--optimizer", "foo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("expected one of sgd, momentum, nesterov"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_resume_with_another_network_or_optimizer_is_refused() {
    let dir = scratch("resume");
    let base = [
        "train",
        "--hidden",
        "10,10",
        "--epochs",
        "3",
        "--no-plots",
        "--json",
    ];
    json(&kobai_in(
        &dir,
        &[&base[..], &["--checkpoint", "c.npz"]].concat(),
    ));
    for (extra, needle) in [
        (
            &["--activation", "tanh"][..],
            "the network affine(2,10) relu affine(10,10) relu affine(10,3)",
        ),
        (
            &["--batchnorm"],
            "but this run has affine(2,10) batchnorm(10)",
        ),
        (
            &["--optimizer", "adam"],
            "optimizer SGD, but this run has Adam",
        ),
        (
            &["--compute", "layers"],
            "trained with --compute fused-f32, but this run has --compute layers",
        ),
    ] {
        let args = [&base[..], &["--resume", "c.npz"], extra].concat();
        refused(&kobai_in(&dir, &args), needle, &format!("{extra:?}"));
    }
    // The same options resume (here: a finished run, which ends at once).
    let same = json(&kobai_in(
        &dir,
        &[&base[..], &["--resume", "c.npz"]].concat(),
    ));
    assert_eq!(same["checkpoint"]["resumed_from"]["iteration"], 72);
    std::fs::remove_dir_all(&dir).ok();
}
