//! The per-evaluation overhead of the numerical gradient: the book's central
//! difference of a sum of squares at n = 1 000 and 40 000, beside one call of
//! the function. The goal: a gradient costs at most 1.1 × (2n × one call).
//!
//! Run: `cargo bench -p kobai --bench finite_diff`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kobai::numerical_gradient;
use kobai::numerical_gradient::FiniteDiff;
use ndarray::{Array1, ArrayRef1};

fn sum_of_squares(x: &ArrayRef1<f64>) -> f64 {
    x.iter().map(|v| v * v).sum()
}

fn point(n: usize) -> Array1<f64> {
    Array1::linspace(-1.0, 1.0, n)
}

fn overhead(c: &mut Criterion) {
    for n in [1_000, 40_000] {
        let x = point(n);
        let mut group = c.benchmark_group(format!("sum of squares, n = {n}"));
        if n > 1_000 {
            group.sample_size(10);
        }
        group.bench_function("one call of f", |b| {
            b.iter(|| sum_of_squares(black_box(&x)))
        });
        group.bench_function("numerical_gradient (book, 2n calls)", |b| {
            b.iter(|| numerical_gradient(sum_of_squares, black_box(&x)).expect("finite"))
        });
        group.bench_function("FiniteDiff::book (2n calls)", |b| {
            b.iter(|| {
                FiniteDiff::book()
                    .gradient(sum_of_squares, black_box(&x))
                    .expect("finite")
            })
        });
        group.finish();
    }
}

fn accurate_and_parallel(c: &mut Criterion) {
    let x = point(1_000);
    let mut group = c.benchmark_group("sum of squares, n = 1000, accurate");
    group.bench_function("FiniteDiff::accurate (serial)", |b| {
        b.iter(|| {
            FiniteDiff::accurate()
                .gradient(sum_of_squares, black_box(&x))
                .expect("finite")
        })
    });
    #[cfg(feature = "parallel")]
    group.bench_function("FiniteDiff::accurate (gradient_par)", |b| {
        b.iter(|| {
            FiniteDiff::accurate()
                .gradient_par(sum_of_squares, black_box(&x))
                .expect("finite")
        })
    });
    group.finish();
}

criterion_group!(benches, overhead, accurate_and_parallel);
criterion_main!(benches);
