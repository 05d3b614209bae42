//! The work behind the per-evaluation overhead check, for counting
//! instructions with `valgrind --tool=callgrind` (see `bench/overhead.sh`).
//!
//! `overhead_count calls N K` calls `f` (a sum of N squares) K times;
//! `overhead_count gradient N` runs the book's numerical gradient once (2N calls).
//! Without arguments it runs a small gradient, so it also works as an example.

use std::hint::black_box;

use kobai::numerical_gradient;
use ndarray::{Array1, ArrayRef1};

fn sum_of_squares(x: &ArrayRef1<f64>) -> f64 {
    x.iter().map(|v| v * v).sum()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map_or("gradient", String::as_str);
    let n: usize = args.get(1).map_or(Ok(1000), |s| s.parse())?;
    let x = Array1::linspace(-1.0, 1.0, n);
    match mode {
        "calls" => {
            let k: usize = args.get(2).map_or(Ok(1), |s| s.parse())?;
            let total: f64 = (0..k).map(|_| sum_of_squares(black_box(&x))).sum();
            println!("{total}");
        }
        "gradient" => {
            let g = numerical_gradient(sum_of_squares, black_box(&x))?;
            println!("{}", g[0]);
        }
        other => return Err(format!("unknown mode {other:?}; expected calls or gradient").into()),
    }
    Ok(())
}
