//! Numbers and messages a person reads: a NaN or infinite result is shown as
//! such, a point where f is not finite is an error, huge numbers print short,
//! a long formula is quoted around its error, clap's "did you mean" stays, and
//! a formula can come from a file or stdin.

use std::io::Write;
use std::process::{Command, Stdio};

mod common;
use common::{json, kobai, kobai_in, scratch, stderr, stdout};

/// Exit 1 and one `error:` line equal to `expected`.
fn refused(args: &[&str], expected: &str) {
    let out = kobai(args);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
    assert_eq!(stderr(&out).trim_end(), expected, "{args:?}");
    assert!(out.stdout.is_empty(), "{args:?}");
}

#[test]
fn a_numerical_gradient_that_is_not_finite_is_never_a_difference_of_0() {
    let args = [
        "grad",
        "x^2",
        "--at",
        "1",
        "--scheme",
        "richardson",
        "--h",
        "1e-300",
    ];
    let out = kobai(&args);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("numerical gradient  [nan]"), "{text}");
    assert!(
        text.contains("largest difference  nan  (the numerical gradient is not finite)"),
        "{text}"
    );
    assert!(
        stderr(&out)
            .starts_with("warning: the numerical gradient at [1.] is not finite ([0] is nan)"),
        "{}",
        stderr(&out)
    );
    let v = json(&kobai(&[&args[..], &["--json"]].concat()));
    assert_eq!(v["numerical_finite"], false);
    assert_eq!(v["largest_difference"], serde_json::Value::Null);
    assert_eq!(v["numerical"][0], serde_json::Value::Null);
}

#[test]
fn points_where_f_is_not_finite_are_errors() {
    refused(
        &["grad", "1/x", "--at", "0"],
        "error: f is inf at x = [0.]; the gradient is defined only where f is finite",
    );
    refused(
        &["grad", "log(x)", "--at", "-1"],
        "error: f is NaN at x = [-1.]; the gradient is defined only where f is finite",
    );
    refused(
        &["descend", "1/x", "--from", "0"],
        "error: f is inf at the start [0.]; start where f is finite",
    );
    let out = kobai(&[
        "descend", "exp(x^2)", "--from", "3", "--lr", "1", "--steps", "50",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("error: the descent left the finite numbers at step "),
        "{}",
        stderr(&out)
    );
}

#[test]
fn numbers_in_messages_are_short_and_long_formulas_are_quoted_around_the_error() {
    refused(
        &["train", "--lr", "-1e308"],
        "error: --lr must be a finite number above 0, got -1e308",
    );
    refused(
        &["grad", "x", "--at", "1", "--h", "-1e300"],
        "error: --h must be a finite number above 0, got -1e300",
    );
    refused(
        &["field", "x", "--step", "1e-320"],
        "error: --step 1e-320 gives infinitely many grid points along x0; expected at most 200 \
         (use a larger --step)",
    );
    let long = format!("{}foo(x)", "x + ".repeat(25_000));
    let out = kobai(&["grad", &long, "--at", "1"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.len() < 300,
        "{} bytes: {}",
        err.len(),
        &err[..300.min(err.len())]
    );
    assert!(
        err.contains("(100006 characters) at column 100001: unknown function 'foo'"),
        "{err}"
    );
}

#[test]
fn clap_still_says_did_you_mean() {
    let out = kobai(&["trian"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).trim_end(),
        "error: unrecognized subcommand 'trian'; did you mean 'train'? (try 'kobai --help')"
    );
    let out = kobai(&["train", "--hiden", "5"]);
    assert!(
        stderr(&out).contains("did you mean '--hidden'?"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_formula_can_come_from_a_file_or_standard_input() {
    let dir = scratch("formula-input");
    std::fs::write(dir.join("f.txt"), "x0^2 +\n  x1\n").expect("written");
    let from_file = json(&kobai_in(
        &dir,
        &["grad", "@f.txt", "--at", "1,2", "--json"],
    ));
    assert_eq!(from_file["formula"], "x0^2 +\n  x1");
    assert_eq!(from_file["exact"], serde_json::json!([2.0, 1.0]));
    let mut child = Command::new(env!("CARGO_BIN_EXE_kobai"))
        .args(["descend", "-", "--from", "3", "--steps", "5", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("kobai starts");
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(b"x^2\n")
        .expect("written");
    let out = child.wait_with_output().expect("ends");
    let v = json(&out);
    assert_eq!(v["formula"], "x^2");
    let out = kobai_in(&dir, &["grad", "@missing.txt", "--at", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("error: cannot read the formula file missing.txt: "),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_long_descent_draws_a_thinned_path_and_keeps_little() {
    let dir = scratch("thinned");
    let out = kobai_in(&dir, &["optimizers", "--steps", "200000", "--json"]);
    let v = json(&out);
    assert_eq!(v["steps"], 200_000);
    let svg = std::fs::metadata(dir.join("kobai-out/optimizers.svg")).expect("drawn");
    assert!(svg.len() < 3_000_000, "{} bytes", svg.len());
    let out = kobai(&[
        "descend",
        "x^2 + y^2",
        "--from",
        "1,2",
        "--steps",
        "5000",
        "--json",
    ]);
    let v = json(&out);
    let path = v["path"].as_array().expect("a path");
    assert_eq!(path.len(), 1001);
    assert_eq!(
        (path[1]["step"].as_u64(), path[1000]["step"].as_u64()),
        (Some(5), Some(5000))
    );
    let _ = std::fs::remove_dir_all(&dir);
}
