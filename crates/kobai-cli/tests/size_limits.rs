//! Sizes a user types that would take more memory or time than any machine
//! has: each is refused before any work with one line naming the limit and
//! why — never an allocation failure, an abort or a run that never ends.

mod common;
use common::{kobai_in, scratch, stderr};

#[test]
fn absurd_sizes_are_one_line_errors_before_any_work() {
    let dir = scratch("sizes");
    let cases: &[(&[&str], &str)] = &[
        (
            &["train", "--hidden", "18446744073709551615"],
            "has more than 2^64 parameters; kobai trains networks of at most 268435456",
        ),
        (
            &["train", "--hidden", "100000000"],
            "a 2-100000000-3 network has 600000003 parameters",
        ),
        (
            &["train", "--hidden", "10,100000000,10"],
            "parameters; kobai trains networks of at most",
        ),
        (
            &["train", "--epochs", "100000000000"],
            "2400000000000 iterations are over the limit of 100000000",
        ),
        (
            &["train", "--iters", "18446744073709551615"],
            "over the limit of 100000000",
        ),
        (
            &["check", "--batch", "100000000"],
            "is 78400000000 values, over the limit of 67108864",
        ),
        (
            &["check", "--input", "100000000000"],
            "over the limit of 67108864",
        ),
        (
            &["check", "--directions", "100000"],
            "--directions 100000 is over the limit of 1000",
        ),
        (
            &["chapter6", "optimizers", "--iters", "100000000000"],
            "--iters 100000000000 is over the limit of 1000000",
        ),
    ];
    for (args, expected) in cases {
        let out = kobai_in(&dir, args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(expected),
            "{args:?}: {err}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    assert_eq!(
        std::fs::read_dir(&dir).expect("folder").count(),
        0,
        "nothing written"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
