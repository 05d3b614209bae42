//! `kobai descend` and `kobai optimizers`, run as a user runs them.

use std::process::Output;

mod common;
use common::{json, kobai};

fn one_line_error(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        err.starts_with("error: ") && err.lines().count() == 1,
        "{err}"
    );
    err
}

#[test]
fn descend_with_sgd_is_the_notebooks_gradient_descent() {
    // Notebook In[8]: gradient_descent(function_2, init_x=[-3.0, 4.0], lr=0.1, step_num=100)
    let v = json(&kobai(&[
        "descend",
        "x0^2 + x1^2",
        "--from",
        "-3,4",
        "--lr",
        "0.1",
        "--steps",
        "100",
        "--json",
    ]));
    assert_eq!(
        v["x"],
        serde_json::json!([-6.111107928998789e-10, 8.148143905314271e-10])
    );
}

#[test]
fn descend_rejects_bad_input_in_one_line() {
    let err = one_line_error(&kobai(&["descend", "x0^2 + x1^2", "--from", "-3,4,5"]));
    assert!(err.contains("2 coordinate(s) but --from has 3"), "{err}");
    let err = one_line_error(&kobai(&[
        "descend",
        "x0^2 + x1^2",
        "--from",
        "-3,4",
        "--lr",
        "0",
    ]));
    assert!(err.contains("lr"), "{err}");
    let err = one_line_error(&kobai(&["descend", "sqrt(x0", "--from", "1"]));
    assert!(err.contains("column"), "{err}");
}

#[test]
fn optimizers_reproduce_the_books_figure_6_8_end_points() {
    // tests/reference/optimizers_numpy.py (the book's optimizer classes, analytic gradient):
    // SGD (-0.3503929957523197, 0.0847823165504322), Momentum (0.896413858493733, 0.08808560171506971),
    // AdaGrad (-0.12016232231416045, ~0), Adam (0.13600685239498186, 0.31824537553721943).
    // kobai differentiates the formula numerically, so the ends agree to about 1e-11, not bit for bit.
    let v = json(&kobai(&["optimizers", "--no-plots", "--json"]));
    let expected = [
        (-0.3503929957523197, 0.0847823165504322),
        (0.896413858493733, 0.08808560171506971),
        (-0.12016232231416045, 0.0),
        (0.13600685239498186, 0.31824537553721943),
    ];
    for (row, (x, y)) in v["results"]
        .as_array()
        .expect("four results")
        .iter()
        .zip(expected)
    {
        let got = (
            row["x"][0].as_f64().expect("x"),
            row["x"][1].as_f64().expect("y"),
        );
        assert!(
            (got.0 - x).abs() < 1e-9 && (got.1 - y).abs() < 1e-9,
            "{row} vs ({x}, {y})"
        );
    }
}

#[test]
fn optimizers_draw_one_picture_of_four_panels() {
    let dir = std::env::temp_dir().join(format!("kobai-optimizers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let v = json(&kobai(&[
        "optimizers",
        "--steps",
        "5",
        "--out",
        dir.to_str().expect("utf-8"),
        "--json",
    ]));
    let (png, svg) = (dir.join("optimizers.png"), dir.join("optimizers.svg"));
    assert_eq!(
        v["pictures"],
        serde_json::json!([png.display().to_string(), svg.display().to_string()])
    );
    assert_eq!(&std::fs::read(&png).expect("png")[..4], b"\x89PNG");
    let svg = std::fs::read_to_string(&svg).expect("svg");
    for title in [
        "SGD (lr 0.95)",
        "Momentum (lr 0.1)",
        "AdaGrad (lr 1.5)",
        "Adam (lr 0.3)",
    ] {
        assert!(svg.contains(title), "{title} missing from the SVG");
    }
    assert_eq!(
        std::fs::read_dir(&dir).expect("out dir").count(),
        2,
        "one picture, two files"
    );
    let err = one_line_error(&kobai(&["optimizers", "--lrs", "0.1,0.2", "--no-plots"]));
    assert!(err.contains("4 learning rates"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
