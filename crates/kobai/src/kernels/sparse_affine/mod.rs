//! `x · W + b` and `xᵀ · δ` with `x` sparse and `W`, `δ` dense, padded rows.
//!
//! Three paths compute them, chosen at run time ([`SimdLevel::in_use`]):
//! AVX-512 ([`avx512`]), AVX2 ([`avx2`]) and a portable one (here). Each
//! output element is the same sequence of fused multiply-adds on every path,
//! so all three give the same bits (tested).

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(target_arch = "x86_64")]
mod blocks;

#[cfg(target_arch = "x86_64")]
use pulp::x86::{V3, V4};

use crate::kernels::{PaddedMatrix, Real, SimdLevel, SparseRows};

/// Multiply-adds above which the kernels split over two threads. On this
/// project's 2-core machine, splitting the book's batch (100 × 784 at half
/// zeros, hidden 50: 2.2 million) over two threads was no faster than one:
/// waking the second thread cost what it saved.
#[cfg(feature = "parallel")]
const PARALLEL_WORK: usize = 1 << 24;

/// `out[s] = bias + Σₖ x[s, k] · w[k]` for every row `s` of `x`: the affine
/// layer's forward pass. `bias` has `w.stride()` elements; `out` must be
/// `x.rows() × w.stride()`.
///
/// Each output element is the sum of two chains of fused multiply-adds, over
/// the row's even-numbered and odd-numbered non-zero entries (two chains keep
/// the FMA units busy), `(bias + even) + odd`: the same order on every CPU,
/// vector width and thread count.
pub(crate) fn sparse_affine_forward<T: Real>(
    x: &SparseRows<T>,
    w: &PaddedMatrix<T>,
    bias: &[T],
    out: &mut PaddedMatrix<T>,
) {
    forward_on(SimdLevel::in_use(), x, w, bias, out);
}

/// `dw = xᵀ · dz`: the affine layer's weight gradient. `dz` is
/// `x.rows() × stride`, `dw` is `x.width() × stride`. Each element is one
/// chain of fused multiply-adds over the rows of `x` in order (each row of
/// `dz`, held in registers, is added to the weight rows of its sample's
/// non-zero inputs): the same order on every CPU, vector width and thread
/// count.
pub(crate) fn sparse_transpose_product<T: Real>(
    x: &SparseRows<T>,
    dz: &PaddedMatrix<T>,
    dw: &mut PaddedMatrix<T>,
) {
    transpose_on(SimdLevel::in_use(), x, dz, dw);
}

/// [`sparse_affine_forward`] on the path of `level`.
fn forward_on<T: Real>(
    level: SimdLevel,
    x: &SparseRows<T>,
    w: &PaddedMatrix<T>,
    bias: &[T],
    out: &mut PaddedMatrix<T>,
) {
    debug_assert_eq!(
        (x.width(), out.rows(), out.stride()),
        (w.rows(), x.rows(), w.stride())
    );
    #[cfg(feature = "parallel")]
    if x.nonzeros() * w.stride() >= PARALLEL_WORK && x.rows() >= 2 {
        let stride = w.stride();
        let half = x.rows() / 2;
        let (top, bottom) = out.as_mut_slice().split_at_mut(half * stride);
        rayon::join(
            || forward_rows(level, x, w, bias, 0, top),
            || forward_rows(level, x, w, bias, half, bottom),
        );
        return;
    }
    forward_rows(level, x, w, bias, 0, out.as_mut_slice());
}

/// [`sparse_transpose_product`] on the path of `level`.
fn transpose_on<T: Real>(
    level: SimdLevel,
    x: &SparseRows<T>,
    dz: &PaddedMatrix<T>,
    dw: &mut PaddedMatrix<T>,
) {
    debug_assert_eq!(
        (dz.rows(), dw.rows(), dw.stride()),
        (x.rows(), x.width(), dz.stride())
    );
    dw.as_mut_slice().fill(T::zero());
    #[cfg(feature = "parallel")]
    if x.nonzeros() * dz.stride() >= PARALLEL_WORK && x.width() >= 2 {
        let stride = dz.stride();
        let half = x.width() / 2;
        let (top, bottom) = dw.as_mut_slice().split_at_mut(half * stride);
        rayon::join(
            || transpose_rows(level, x, dz, 0, top),
            || transpose_rows(level, x, dz, half, bottom),
        );
        return;
    }
    transpose_rows(level, x, dz, 0, dw.as_mut_slice());
}

/// The rows of `out`, starting at row `first` of `x`, on the path of
/// `level` (the portable one if this CPU lacks it).
fn forward_rows<T: Real>(
    level: SimdLevel,
    x: &SparseRows<T>,
    w: &PaddedMatrix<T>,
    bias: &[T],
    first: usize,
    out: &mut [T],
) {
    #[cfg(target_arch = "x86_64")]
    match level {
        SimdLevel::Avx512 => {
            if let Some(simd) = V4::try_new() {
                return blocks::forward_rows(simd, x, w, bias, first, out);
            }
        }
        SimdLevel::Avx2 => {
            if let Some(simd) = V3::try_new() {
                return blocks::forward_rows(simd, x, w, bias, first, out);
            }
        }
        SimdLevel::Portable => {}
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = level;
    let stride = w.stride();
    let mut odd = vec![T::zero(); stride];
    for (i, out) in out.chunks_exact_mut(stride).enumerate() {
        out.copy_from_slice(bias);
        odd.fill(T::zero());
        let (cols, values) = x.row(first + i);
        for (n, (&k, &v)) in cols.iter().zip(values).enumerate() {
            let w_row = &w.as_slice()[k as usize * stride..][..stride];
            let acc: &mut [T] = if n % 2 == 0 { out } else { &mut odd };
            for (a, &wv) in acc.iter_mut().zip(w_row) {
                *a = v.fma(wv, *a);
            }
        }
        out.iter_mut().zip(&odd).for_each(|(o, &d)| *o = *o + d);
    }
}

/// Rows `first..` of `xᵀ · dz`, as many as `out` holds (zeroed before), on
/// the path of `level` (the portable one if this CPU lacks it).
fn transpose_rows<T: Real>(
    level: SimdLevel,
    x: &SparseRows<T>,
    dz: &PaddedMatrix<T>,
    first: usize,
    out: &mut [T],
) {
    #[cfg(target_arch = "x86_64")]
    match level {
        SimdLevel::Avx512 => {
            if let Some(simd) = V4::try_new() {
                return blocks::transpose_rows(simd, x, dz, first, out);
            }
        }
        SimdLevel::Avx2 => {
            if let Some(simd) = V3::try_new() {
                return blocks::transpose_rows(simd, x, dz, first, out);
            }
        }
        SimdLevel::Portable => {}
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = level;
    let stride = dz.stride();
    let last = first + out.len() / stride;
    for (s, d) in dz.as_slice().chunks_exact(stride).enumerate() {
        for (&k, &v) in in_range(x.row(s), first, last) {
            let row = &mut out[(k as usize - first) * stride..][..stride];
            for (o, &dv) in row.iter_mut().zip(d) {
                *o = v.fma(dv, *o);
            }
        }
    }
}

/// The entries of a sparse row whose column lies in `first..last`.
#[inline(always)]
fn in_range<'a, T>(
    (cols, values): (&'a [u32], &'a [T]),
    first: usize,
    last: usize,
) -> impl Iterator<Item = (&'a u32, &'a T)> {
    let lo = cols.partition_point(|&k| (k as usize) < first);
    let hi = cols.partition_point(|&k| (k as usize) < last);
    cols[lo..hi].iter().zip(&values[lo..hi])
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2};

    /// Forward and backward products on `level`, as bits.
    fn products_on<T: Real>(
        level: SimdLevel,
        rows: &SparseRows<T>,
        w: &PaddedMatrix<T>,
        bias: &[T],
        dz: &PaddedMatrix<T>,
    ) -> (Vec<u64>, Vec<u64>) {
        let mut out = PaddedMatrix::zeros(rows.rows(), w.stride());
        forward_on(level, rows, w, bias, &mut out);
        let mut dw = PaddedMatrix::zeros(rows.width(), dz.stride());
        transpose_on(level, rows, dz, &mut dw);
        let bits = |m: &PaddedMatrix<T>| {
            m.as_slice()
                .iter()
                .map(|v| v.to_f64().to_bits())
                .collect::<Vec<_>>()
        };
        (bits(&out), bits(&dw))
    }

    /// The same bits on every path this CPU has, for every block width
    /// (hidden sizes whose padded rows are 1 to 31 vectors: every AVX2 block
    /// and every AVX-512 block, with and without a 256-bit tail), with rows
    /// of even, odd and no non-zero entries, and on the threaded split.
    fn every_path_gives_the_same_bits<T: Real>() {
        let levels = SimdLevel::available();
        if cfg!(target_arch = "x86_64") && !levels.contains(&SimdLevel::Avx512) {
            eprintln!("note: this CPU has no AVX-512: that path is not tested here");
        }
        let shapes = (1..=31)
            .map(|v| (13, 45, v * T::LANES - 1))
            .chain([(1000, 784, 50)]);
        for (n, p, h) in shapes {
            let mut x = sample(n, p, 10 + h as u64);
            x.row_mut(1).fill(0.0);
            x[[2, 3]] = 0.5;
            let rows = SparseRows::<T>::from_dense("x", &x).expect("finite");
            let w = PaddedMatrix::<T>::from_f64(&sample(p, h, 11));
            let dz = PaddedMatrix::<T>::from_f64(&sample(n, h, 12));
            let bias: Vec<T> = (0..w.stride())
                .map(|j| T::from_f64(0.125 - j as f64 / 64.0))
                .collect();
            let portable = products_on(SimdLevel::Portable, &rows, &w, &bias, &dz);
            for &level in &levels[1..] {
                assert!(
                    products_on(level, &rows, &w, &bias, &dz) == portable,
                    "{level} differs from the portable path, hidden {h}"
                );
            }
        }
    }

    #[test]
    fn every_path_gives_the_bits_of_the_portable_path() {
        every_path_gives_the_same_bits::<f32>();
        every_path_gives_the_same_bits::<f64>();
    }

    fn sample(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
        let mut state = seed;
        Array2::from_shape_fn((rows, cols), |_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (state >> 33) as f64 / (1u64 << 31) as f64;
            if u < 0.5 { 0.0 } else { u - 0.75 }
        })
    }

    fn check<T: Real>(n: usize, p: usize, h: usize, tolerance: f64) {
        let x = sample(n, p, 1);
        let w = sample(p, h, 2);
        let b = Array1::from_shape_fn(h, |j| j as f64 * 0.01);
        let dz = sample(n, h, 3);
        let rows = SparseRows::<T>::from_dense("x", &x).expect("finite");
        let wp = PaddedMatrix::<T>::from_f64(&w);
        let mut bias = vec![T::default(); wp.stride()];
        for (d, &s) in bias.iter_mut().zip(&b) {
            *d = T::from_f64(s);
        }
        let mut out = PaddedMatrix::zeros(n, h);
        sparse_affine_forward(&rows, &wp, &bias, &mut out);
        let expected = x.dot(&w) + &b;
        let got = out.to_f64();
        assert!(
            (&got - &expected).iter().all(|d| d.abs() < tolerance),
            "forward"
        );

        let dzp = PaddedMatrix::<T>::from_f64(&dz);
        let mut dw = PaddedMatrix::zeros(p, h);
        sparse_transpose_product(&rows, &dzp, &mut dw);
        let expected = x.t().dot(&dz);
        assert!(
            (&dw.to_f64() - &expected)
                .iter()
                .all(|d| d.abs() < tolerance),
            "backward"
        );
    }

    #[test]
    fn products_match_ndarray_for_every_block_width() {
        for h in [1, 3, 8, 9, 31, 50, 64, 65, 100] {
            check::<f64>(7, 40, h, 1e-12);
            check::<f32>(7, 40, h, 1e-4);
        }
        // Large enough to take the threaded path.
        check::<f32>(100, 784, 50, 1e-3);
        check::<f64>(100, 784, 50, 1e-11);
    }

    #[test]
    fn the_scalar_order_is_the_vector_order() {
        // Forward: two chains of scalar fused multiply-adds, even- and
        // odd-numbered entries, added at the end; backward: one chain over the
        // samples in order. The same bits as the kernels.
        let (n, p, h) = (9, 33, 13);
        let x = sample(n, p, 4);
        let w = sample(p, h, 5);
        let dz = sample(n, h, 9);
        let rows = SparseRows::<f32>::from_dense("x", &x).expect("finite");
        let wp = PaddedMatrix::<f32>::from_f64(&w);
        let bias = vec![0.25f32; wp.stride()];
        let mut out = PaddedMatrix::zeros(n, h);
        sparse_affine_forward(&rows, &wp, &bias, &mut out);
        let two_chains = |init: f32, terms: &[(f32, f32)]| {
            let (mut even, mut odd) = (init, 0.0f32);
            for (i, &(a, b)) in terms.iter().enumerate() {
                if i % 2 == 0 {
                    even = a.mul_add(b, even);
                } else {
                    odd = a.mul_add(b, odd);
                }
            }
            even + odd
        };
        for s in 0..n {
            for j in 0..h {
                let terms: Vec<(f32, f32)> = (0..p)
                    .filter(|&k| x[[s, k]] != 0.0)
                    .map(|k| (x[[s, k]] as f32, w[[k, j]] as f32))
                    .collect();
                let expected = two_chains(0.25, &terms);
                assert_eq!(
                    expected.to_bits(),
                    out.as_slice()[s * wp.stride() + j].to_bits()
                );
            }
        }
        let dzp = PaddedMatrix::<f32>::from_f64(&dz);
        let mut dw = PaddedMatrix::zeros(p, h);
        sparse_transpose_product(&rows, &dzp, &mut dw);
        for k in 0..p {
            for j in 0..h {
                let terms: Vec<(f32, f32)> = (0..n)
                    .filter(|&s| x[[s, k]] != 0.0)
                    .map(|s| (x[[s, k]] as f32, dz[[s, j]] as f32))
                    .collect();
                let expected = terms.iter().fold(0.0f32, |acc, &(a, b)| a.mul_add(b, acc));
                assert_eq!(
                    expected.to_bits(),
                    dw.as_slice()[k * wp.stride() + j].to_bits()
                );
            }
        }
    }

    #[test]
    fn threads_do_not_change_a_bit() {
        // 1000 × 784 at half zeros, hidden 50: above the threshold for two threads.
        let (n, p, h) = (1000, 784, 50);
        let x = sample(n, p, 6);
        let rows = SparseRows::<f32>::from_dense("x", &x).expect("finite");
        let w = PaddedMatrix::<f32>::from_f64(&sample(p, h, 7));
        let dz = PaddedMatrix::<f32>::from_f64(&sample(n, h, 8));
        let bias = vec![0.5f32; w.stride()];
        for level in SimdLevel::available() {
            let (mut split, mut whole) = (PaddedMatrix::zeros(n, h), PaddedMatrix::zeros(n, h));
            forward_on(level, &rows, &w, &bias, &mut split);
            forward_rows(level, &rows, &w, &bias, 0, whole.as_mut_slice());
            assert_eq!(bits(split.as_slice()), bits(whole.as_slice()), "{level}");
            let (mut split, mut whole) = (PaddedMatrix::zeros(p, h), PaddedMatrix::zeros(p, h));
            transpose_on(level, &rows, &dz, &mut split);
            transpose_rows(level, &rows, &dz, 0, whole.as_mut_slice());
            assert_eq!(bits(split.as_slice()), bits(whole.as_slice()), "{level}");
        }
    }

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|x| x.to_bits()).collect()
    }
}
