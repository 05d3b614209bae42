//! The accuracy goals of kobai's numerical derivatives, on the test functions of
//! the accuracy table (`examples/accuracy/cases.rs`; the table itself:
//! `cargo run --release -p kobai --example accuracy_table`).

#[path = "../examples/accuracy/cases.rs"]
mod cases;

use kobai::numerical_gradient::{FiniteDiff, Status, exact_gradient};

#[test]
fn accurate_mode_is_within_1e_10_with_at_most_8n_calls_and_an_honest_estimate() {
    for case in cases::all() {
        let n = case.x.len();
        let g = FiniteDiff::accurate()
            .gradient(&case.f, &case.x)
            .expect("every case is finite near its point");
        let rel = cases::max_relative_error(&g.value, &case.exact);
        assert!(rel <= 1e-10, "{}: relative error {rel:e}", case.name);
        assert!(
            g.evaluations <= 8 * n,
            "{}: {} calls",
            case.name,
            g.evaluations
        );
        let error = g.error.as_ref().expect("accurate mode estimates errors");
        for ((v, e), est) in g.value.iter().zip(&case.exact).zip(error) {
            let true_error = (v - e).abs();
            assert!(
                *est >= true_error,
                "{}: estimate {est:e} below the true error {true_error:e}",
                case.name
            );
        }
        assert!(
            g.status.iter().all(|s| *s == Status::Converged),
            "{}: {:?}",
            case.name,
            g.status
        );
    }
}

#[test]
fn the_book_method_gives_the_book_functions_bits() {
    for case in cases::all() {
        let fd = FiniteDiff::book()
            .gradient(&case.f, &case.x)
            .expect("finite");
        let book = kobai::numerical_gradient(&case.f, &case.x).expect("finite");
        assert_eq!(fd.value, book, "{}", case.name);
        assert_eq!(fd.evaluations, 2 * case.x.len());
        assert!(fd.error.is_none() && fd.worst_status() == Some(Status::NotEstimated));
    }
}

/// The cases where the book's fixed step is far off, so that the accurate
/// mode's gain is real: 1/x at 1e-3 is off by 1e-2 and log at 0.01 by 3e-5.
#[test]
fn the_book_method_is_far_off_where_the_step_does_not_fit() {
    for (name, at_least) in [("1/x at 1e-3", 1e-3), ("log at 0.01", 1e-5)] {
        let case = cases::all()
            .into_iter()
            .find(|c| c.name == name)
            .expect("the case exists");
        let book = kobai::numerical_gradient(&case.f, &case.x).expect("finite");
        let rel = cases::max_relative_error(&book, &case.exact);
        assert!(rel >= at_least, "{name}: {rel:e}");
    }
}

#[cfg(feature = "parallel")]
#[test]
fn parallel_gradients_are_bit_identical_to_serial_ones() {
    for fd in [FiniteDiff::accurate(), FiniteDiff::book()] {
        for case in cases::all() {
            let serial = fd.gradient(&case.f, &case.x).expect("finite");
            let parallel = fd.gradient_par(&case.f, &case.x).expect("finite");
            assert_eq!(serial, parallel, "{}", case.name);
        }
    }
}

#[test]
fn exact_mode_is_within_1e_15_with_n_calls() {
    for case in cases::all() {
        let calls = std::cell::Cell::new(0usize);
        let g = exact_gradient(
            |v: &ndarray::ArrayRef1<kobai::numerical_gradient::Dual64>| {
                calls.set(calls.get() + 1);
                (case.dual)(v)
            },
            &case.x,
        )
        .expect("finite");
        let rel = cases::max_relative_error(&g, &case.exact);
        assert!(rel <= 1e-15, "{}: {rel:e}", case.name);
        assert_eq!(calls.get(), case.x.len(), "{}", case.name);
    }
}
