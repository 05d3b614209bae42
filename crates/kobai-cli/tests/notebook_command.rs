//! `kobai notebook`, run as a user runs it: the real binary, its output, its files.

use std::path::Path;

mod common;
use common::{kobai, scratch, stderr, stdout};

#[test]
fn prints_every_cell_as_numpy_does_and_draws_four_pictures() {
    let dir = scratch("text");
    let out = kobai(&["notebook", "--out", dir.to_str().expect("utf-8 path")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    // The notebook's printed outputs, cell by cell.
    for expected in [
        "[6. 8.]\n[0. 4.]\n[6. 0.]",                 // In[6]
        "array([-6.11110793e-10,  8.14814391e-10])", // In[8]
        "[ 2.34235971e+12 -3.96091057e+12]\n[ 2.34235971e+12 -3.96091057e+12]", // In[9]
        "[[ 0.42875037 -1.09670346  0.24866542]\n [-2.38228839  0.47330153 -0.20017261]]", // In[12]
        "[-1.88680933 -0.2320507  -0.0309561 ]",     // In[13], from the printed W
        "0.6801400424618705",                        // In[14], from the printed W
        "[[ 0.0475098   0.24856257 -0.29607237]\n [ 0.0712647   0.37284386 -0.44410856]]", // In[15]
        "[-2.58983747e+13 -1.29524862e+12]",         // In[9] from a fresh start
        "[-2.99999994  3.99999992]",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    for name in ["gradient_field", "gradient_descent"] {
        let png = std::fs::read(dir.join(format!("{name}.png"))).expect("png written");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{name}.png is a PNG");
        let svg = std::fs::read_to_string(dir.join(format!("{name}.svg"))).expect("svg written");
        assert!(
            svg.contains("<svg") && svg.contains("x0"),
            "{name}.svg has an axis label"
        );
    }
    assert_no_temporary_files(&dir);
    let _ = std::fs::remove_dir_all(&dir);
}

fn assert_no_temporary_files(dir: &Path) {
    let names: Vec<String> = std::fs::read_dir(dir)
        .expect("folder exists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 4, "only the four pictures: {names:?}");
}

#[test]
fn json_holds_the_exact_numbers() {
    let out = kobai(&["notebook", "--json", "--no-plots"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
    // In[6] and In[8], bit for bit (shortest round-trip digits).
    assert_eq!(
        v["in6_gradients"][0],
        serde_json::json!([6.00000000000378, 7.999999999999119])
    );
    assert_eq!(
        v["in8_descent"],
        serde_json::json!([-6.111107928998789e-10, 8.148143905314271e-10])
    );
    assert_eq!(
        v["in9"]["chained"][1],
        serde_json::json!([2342359711530.595, -3960910565406.869])
    );
    assert_eq!(v["in14_loss"], serde_json::json!(0.6801400424618705));
    assert_eq!(v["pictures"], serde_json::json!([]));
}

#[test]
fn an_output_path_that_is_a_file_is_one_line_error() {
    let dir = scratch("file");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let file = dir.join("not-a-folder");
    std::fs::write(&file, b"keep me").expect("file");
    let out = kobai(&["notebook", "--out", file.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("error: ") && err.lines().count() == 1,
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(std::fs::read(&file).expect("still there"), b"keep me");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_arguments_are_one_line_errors() {
    let out = kobai(&["notebook", "--colour"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with("error: ") && err.lines().count() == 1,
        "{err}"
    );
    assert!(err.contains("--colour"), "{err}");
}

#[test]
fn no_plots_writes_nothing() {
    let dir = scratch("noplots").join("out");
    let out = kobai(&[
        "notebook",
        "--no-plots",
        "--out",
        dir.to_str().expect("utf-8 path"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!dir.exists(), "the output folder is not even made");
}
