//! `kobai grad` and `kobai field`, run as a user runs them: the real binary,
//! its output, its exit code, its files.

use std::process::Output;

use serde_json::Value;

mod common;
use common::{kobai, missing_folder, stderr, stdout};

/// The run failed with exit code 1 and one line `error: …` containing `needle`.
fn assert_one_error_line(out: &Output, needle: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty(), "nothing on stdout: {}", stdout(out));
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(needle), "{needle:?} not in {err}");
}

fn grad_json(args: &[&str]) -> Value {
    let mut all = vec!["grad"];
    all.extend_from_slice(args);
    all.push("--json");
    let out = kobai(&all);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).expect("one JSON object")
}

#[test]
fn grad_prints_the_notebooks_gradient_and_the_exact_one() {
    let out = kobai(&["grad", "x0^2 + x1^2", "--at", "3,4"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let line = |label: &str| {
        text.lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no {label} line in:\n{text}"))
            .to_string()
    };
    assert!(line("numerical gradient").contains("[6. 8.]"), "{text}");
    assert!(line("exact gradient").contains("[6. 8.]"), "{text}");
    assert!(line("largest difference").contains("e-12"), "{text}");
    assert!(text.contains("is 25.0"), "{text}");
}

#[test]
fn grad_json_holds_the_exact_numbers() {
    let v = grad_json(&["x0^2 + x1^2", "--at", "3,4"]);
    // The notebook's In[6], bit for bit.
    assert_eq!(
        v["numerical"],
        serde_json::json!([6.00000000000378, 7.999999999999119])
    );
    assert_eq!(v["exact"], serde_json::json!([6.0, 8.0]));
    assert_eq!(v["value"], 25.0);
    assert_eq!(v["h"], 1e-4);
    assert_eq!(v["point"], serde_json::json!([3.0, 4.0]));
}

#[test]
fn grad_follows_the_usual_precedence() {
    for (formula, at, value, slope) in [
        ("-2^2 + x", "1", -3.0, 1.0),
        ("2^3^2 * x", "1", 512.0, 512.0),
        ("-x^2", "3", -9.0, -6.0),
        ("2^-x", "1", 0.5, -0.5 * 2f64.ln()),
        ("2*-x + 1/2", "1", -1.5, -2.0),
    ] {
        let v = grad_json(&[formula, "--at", at]);
        assert_eq!(v["value"], value, "{formula}");
        let exact = v["exact"][0].as_f64().expect("a number");
        assert!((exact - slope).abs() < 1e-12, "{formula}: {exact}");
    }
    // A leading minus and a negative point are not taken for options.
    let v = grad_json(&["-x^2", "--at", "-3"]);
    assert_eq!(v["exact"], serde_json::json!([6.0]));
}

#[test]
fn grad_with_another_step() {
    let v = grad_json(&["x^3", "--at", "1", "--h", "0.1"]);
    // (1.1^3 - 0.9^3) / 0.2 = 3.01: the central difference's error h² is visible.
    let numerical = v["numerical"][0].as_f64().expect("a number");
    assert!((numerical - 3.01).abs() < 1e-12, "{numerical}");
    assert_eq!(v["exact"], serde_json::json!([3.0]));
    assert_eq!(v["h"], 0.1);
}

#[test]
fn grad_errors_are_one_line() {
    for (args, needle) in [
        (
            &["grad", "x0^2 + foo(x1)", "--at", "3,4"][..],
            "at column 8: unknown function 'foo'; expected one of exp, log",
        ),
        (
            &["grad", "(x0^2 + x1^2", "--at", "3,4"],
            "at column 1: this '(' is never closed",
        ),
        (
            &["grad", "x0^2 + x1^2)", "--at", "3,4"],
            "at column 12: ')' has no matching '('",
        ),
        (&["grad", "x0^2 +", "--at", "3"], "'+' at the end"),
        (
            &["grad", "x0^2 + x1^2", "--at", "3,4,5"],
            "the formula uses x0..x1 (2 coordinates) but --at has 3",
        ),
        (
            &["grad", "x0^2 + x1^2", "--at", "3,four"],
            "--at item 2 of 2, 'four', is not a number",
        ),
        (
            &["grad", "x^2", "--at", "3", "--h", "0"],
            "--h must be a finite number above 0",
        ),
        (
            &["grad", "log(x)", "--at", "0"],
            "f is -inf at x = [0.]; the gradient is defined only where f is finite",
        ),
    ] {
        assert_one_error_line(&kobai(args), needle);
    }
}

#[test]
fn grad_usage_errors_exit_2() {
    let out = kobai(&["grad", "x^2", "--at", "1", "--h", "small"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn grad_richardson_reports_its_error_and_status() {
    let v = grad_json(&["1/x", "--at", "0.001", "--scheme", "richardson"]);
    let d = v["numerical"][0].as_f64().expect("a number");
    assert!((d / -1e6 - 1.0).abs() < 1e-6, "{d}");
    let error = v["error"][0].as_f64().expect("an error estimate");
    assert!(
        error.is_finite() && error > 0.0 && (d + 1e6).abs() <= error,
        "{v}"
    );
    assert_eq!(v["status"], serde_json::json!(["converged"]));
    assert_eq!(v["scheme"], "richardson");
    assert_eq!(v["h"], Value::Null, "an automatic step");
    let calls = v["evaluations"].as_u64().expect("a count");
    assert!((2..=20).contains(&calls), "{calls}");

    let out = kobai(&["grad", "1/x", "--at", "0.001", "--scheme", "richardson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stderr.is_empty(), "no warning: {}", stderr(&out));
    let text = stdout(&out);
    for label in [
        "error estimate  ",
        "status  ",
        "calls of f  ",
        "exact gradient  ",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(label)),
            "{label:?} in:\n{text}"
        );
    }
    assert!(text.contains("[converged]"), "{text}");
    assert!(text.contains("within the error estimate"), "{text}");
}

#[test]
fn grad_warns_when_richardson_does_not_settle() {
    // sqrt has no derivative at 0: reported honestly, with a warning, exit 0.
    let out = kobai(&["grad", "sqrt(x)", "--at", "0", "--scheme", "richardson"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("warning: ") && err.contains("unreliable"),
        "{err}"
    );
    assert!(stdout(&out).contains("[unreliable]"), "{}", stdout(&out));
}

#[test]
fn grad_json_names_the_scheme_and_step() {
    let v = grad_json(&["x0^2 + x1^2", "--at", "3,4"]);
    assert_eq!(v["scheme"], "book");
    assert_eq!(v["h"], 1e-4);
    assert_eq!(v["error"], Value::Null);
    assert_eq!(
        v["status"],
        serde_json::json!(["not estimated", "not estimated"])
    );
    assert_eq!(v["evaluations"], 4);
    for scheme in ["central", "forward", "backward", "five-point", "richardson"] {
        let v = grad_json(&["x^3", "--at", "1", "--scheme", scheme]);
        assert_eq!(v["scheme"], scheme);
        assert_eq!(v["h"], Value::Null, "{scheme}: an automatic step");
        let d = v["numerical"][0].as_f64().expect("a number");
        assert!((d - 3.0).abs() < 1e-6, "{scheme}: {d}");
        assert_eq!(v["error"].is_array(), scheme == "richardson", "{v}");
        assert!(v["evaluations"].as_u64().is_some_and(|n| n >= 2), "{v}");
        let v = grad_json(&["x^3", "--at", "1", "--scheme", scheme, "--h", "0.01"]);
        assert_eq!(v["h"], 0.01, "{scheme}");
    }
}

#[test]
fn grad_rejects_bad_steps_and_schemes() {
    for h in ["0", "-0.0001", "nan", "inf"] {
        let out = kobai(&["grad", "x^2", "--at", "1", "--scheme", "central", "--h", h]);
        assert_one_error_line(&out, "--h must be a finite number above 0");
    }
    let out = kobai(&["grad", "x^2", "--at", "1", "--scheme", "simpson"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty());
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains("'simpson'"), "{err}");
    assert!(
        err.contains("book, central, forward, backward, five-point, richardson"),
        "{err}"
    );
}

#[test]
fn field_json_lists_the_grid_and_writes_nothing() {
    let dir = missing_folder("json");
    let out = kobai(&[
        "field",
        "log(x) + y^2",
        "--json",
        "--out",
        dir.to_str().expect("utf-8 path"),
        "--x1",
        "0,1",
        "--step",
        "0.5",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!dir.exists(), "--json draws nothing");
    let v: Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
    assert_eq!(v["formula"], "log(x) + y^2");
    assert_eq!(v["x0"], serde_json::json!([-2.0, 2.0]));
    assert_eq!(v["x1"], serde_json::json!([0.0, 1.0]));
    assert_eq!(v["step"], 0.5);
    let points = v["points"].as_array().expect("points");
    // 9 values of x0 times 3 of x1, x0 varying fastest.
    assert_eq!(points.len(), 27);
    assert_eq!(points[1]["x0"], -1.5);
    assert_eq!(points[1]["x1"], 0.0);
    // x0 ≤ 0: 5 of the 9 columns have no gradient.
    assert_eq!(v["missing"], 15);
    assert!(points[0]["gradient"].is_null());
    let last = &points[26];
    assert_eq!((&last["x0"], &last["x1"]), (&2.0.into(), &1.0.into()));
    let g = last["gradient"].as_array().expect("∇f, not −∇f");
    let (gx, gy) = (g[0].as_f64().expect("x0"), g[1].as_f64().expect("x1"));
    assert!((gx - 0.5).abs() < 1e-6 && (gy - 2.0).abs() < 1e-6, "{g:?}");
    assert!(v["first_error"].as_str().is_some_and(|e| e.contains("NaN")));
}

#[test]
fn field_json_of_the_default_grid() {
    let out = kobai(&["field", "x^2+y^2", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
    assert_eq!(v["points"].as_array().map(Vec::len), Some(17 * 17));
    assert_eq!(v["xs"].as_array().map(Vec::len), Some(17));
    assert_eq!(v["missing"], 0);
    assert_eq!(v["first_error"], Value::Null);
}

#[test]
fn field_draws_png_and_svg() {
    let dir = missing_folder("saddle");
    let out = kobai(&[
        "field",
        "x^2 - y^2",
        "--out",
        dir.to_str().expect("utf-8 path"),
        "--name",
        "saddle",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("17×17 grid"), "{text}");
    let png = dir.join("saddle.png");
    let svg = dir.join("saddle.svg");
    assert!(text.contains(&*png.to_string_lossy()), "{text}");
    let bytes = std::fs::read(&png).expect("png written");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let svg = std::fs::read_to_string(&svg).expect("svg written");
    assert!(svg.contains("<svg") && svg.contains("x1"), "an axis label");
    let names = std::fs::read_dir(&dir).expect("folder").count();
    assert_eq!(names, 2, "only the two pictures");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn field_leaves_out_points_where_the_gradient_is_not_finite() {
    let dir = missing_folder("log");
    let out = kobai(&[
        "field",
        "log(x) + y^2",
        "--out",
        dir.to_str().expect("utf-8 path"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    // x0 ≤ 0: 9 of the 17 columns.
    assert!(
        stdout(&out).contains("no arrow at 153 of 289 grid points"),
        "{}",
        stdout(&out)
    );
    assert!(dir.join("field.png").is_file() && dir.join("field.svg").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn field_with_bad_input_writes_nothing() {
    for (args, needle) in [
        (&["x0 + x1 + x2"][..], "uses x0..x2 (3 variables)"),
        (&["x^2 + sin(y"], "this '(' is never closed"),
        (&["bar(x)"], "unknown function 'bar'"),
        (&["x^2", "--x0", "2,-2"], "--x0 2,-2 is empty"),
        (&["x^2", "--x1", "-2,2,3"], "--x1 takes two numbers"),
        (
            &["x^2", "--step", "-0.5"],
            "--step must be a finite number above 0",
        ),
        (&["x^2", "--step", "0.0001"], "grid points along x0"),
        (
            &["x^2", "--name", "../escape"],
            "--name must be a plain file name",
        ),
        (&["sqrt(-1 - x^2)"], "not finite anywhere on the grid"),
    ] {
        let dir = missing_folder("bad");
        let mut all = vec!["field", "--out", dir.to_str().expect("utf-8 path")];
        all.extend_from_slice(args);
        assert_one_error_line(&kobai(&all), needle);
        assert!(!dir.exists(), "{args:?} created {}", dir.display());
    }
}
