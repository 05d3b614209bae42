//! The accuracy table of kobai's numerical derivatives: for each test function,
//! the largest relative error and the calls of `f` per method, the book's
//! central difference (h = 1e-4) beside kobai's schemes and its exact mode.
//!
//! Run: `cargo run --release -p kobai --example accuracy_table`

#[path = "accuracy/cases.rs"]
mod cases;

use kobai::numerical_gradient::{Dual64, FiniteDiff, Scheme, exact_gradient};
use ndarray::ArrayRef1;

fn main() -> Result<(), kobai::KobaiError> {
    let methods = [
        ("book (h = 1e-4)", FiniteDiff::book()),
        ("central, auto h", FiniteDiff::new(Scheme::Central)),
        ("five-point", FiniteDiff::new(Scheme::FivePoint)),
        ("accurate", FiniteDiff::accurate()),
    ];
    print!("| case | n |");
    for (name, _) in &methods {
        print!(" {name}: rel. error | calls/n |");
    }
    println!(
        " accurate: estimate / true error | status | exact (dual numbers): rel. error | calls/n |"
    );
    print!("|---|---|");
    for _ in &methods {
        print!("---|---|");
    }
    println!("---|---|---|---|");
    for case in cases::all() {
        let n = case.x.len();
        print!("| {} | {n} |", case.name);
        let mut last = None;
        for (_, method) in &methods {
            let g = method.gradient(&case.f, &case.x)?;
            let rel = cases::max_relative_error(&g.value, &case.exact);
            print!(" {rel:.1e} | {:.1} |", g.evaluations as f64 / n as f64);
            last = Some(g);
        }
        let g = last.expect("at least one method");
        let ratio = g
            .value
            .iter()
            .zip(&case.exact)
            .zip(g.error.as_ref().expect("accurate mode estimates errors"))
            .map(|((v, e), est)| est / (v - e).abs())
            .fold(f64::INFINITY, f64::min);
        let status = g.worst_status().map_or("-", |s| s.name());
        let calls = std::cell::Cell::new(0usize);
        let exact = exact_gradient(
            |v: &ArrayRef1<Dual64>| {
                calls.set(calls.get() + 1);
                (case.dual)(v)
            },
            &case.x,
        )?;
        let exact_rel = cases::max_relative_error(&exact, &case.exact);
        let per = calls.get() as f64 / n as f64;
        println!(" {ratio:.1e} | {status} | {exact_rel:.1e} | {per:.1} |");
    }
    Ok(())
}
