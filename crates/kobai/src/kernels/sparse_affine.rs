//! `x · W + b` and `xᵀ · δ` with `x` sparse and `W`, `δ` dense, padded rows.

use ndarray::{Array2, ArrayRef2};
#[cfg(target_arch = "x86_64")]
use pulp::{bytemuck, x86::V3};

use crate::kernels::{Real, SparseRows};

/// A dense row-major matrix whose rows are padded with zeros to a whole
/// number of SIMD vectors.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct PaddedMatrix<T> {
    data: Vec<T>,
    rows: usize,
    cols: usize,
    stride: usize,
}

impl<T: Real> PaddedMatrix<T> {
    /// A `rows × cols` matrix of zeros.
    pub(crate) fn zeros(rows: usize, cols: usize) -> Self {
        let stride = cols.div_ceil(T::LANES) * T::LANES;
        PaddedMatrix {
            data: vec![T::default(); rows * stride],
            rows,
            cols,
            stride,
        }
    }

    /// `a` rounded to `T`.
    #[cfg(test)]
    pub(crate) fn from_f64(a: &ArrayRef2<f64>) -> Self {
        let mut m = Self::default();
        m.assign_f64(a);
        m
    }

    /// Makes this a `rows × cols` matrix. Its contents are unspecified unless
    /// the shape changed (then all zeros); padding columns stay zero as long as
    /// only the first `cols` columns are written.
    pub(crate) fn reshape(&mut self, rows: usize, cols: usize) {
        if (self.rows, self.cols) != (rows, cols) {
            *self = Self::zeros(rows, cols);
        }
    }

    /// Becomes `a` rounded to `T`, with zero padding.
    pub(crate) fn assign_f64(&mut self, a: &ArrayRef2<f64>) {
        self.reshape(a.nrows(), a.ncols());
        for (row, source) in self.data.chunks_exact_mut(self.stride).zip(a.rows()) {
            for (d, &s) in row.iter_mut().zip(source) {
                *d = T::from_f64(s);
            }
        }
    }

    /// The number of rows.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// The elements per stored row: the columns rounded up to whole vectors.
    pub(crate) fn stride(&self) -> usize {
        self.stride
    }

    /// All rows, padding included.
    pub(crate) fn as_slice(&self) -> &[T] {
        &self.data
    }

    /// All rows, padding included.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// The first `cols` columns of each row, as `f64`.
    pub(crate) fn to_f64(&self) -> Array2<f64> {
        Array2::from_shape_fn((self.rows, self.cols), |(r, c)| {
            self.data[r * self.stride + c].to_f64()
        })
    }
}

/// Sparse work above which the kernels split over two threads (multiply-adds).
#[cfg(feature = "parallel")]
const PARALLEL_WORK: usize = 1 << 18;

/// `out[s] = bias + Σₖ x[s, k] · w[k]` for every row `s` of `x`: the affine
/// layer's forward pass. `bias` has `w.stride()` elements; `out` must be
/// `x.rows() × w.stride()`. Each output element is one chain of fused
/// multiply-adds in ascending `k`, so threads and vector width don't change it.
pub(crate) fn sparse_affine_forward<T: Real>(
    x: &SparseRows<T>,
    w: &PaddedMatrix<T>,
    bias: &[T],
    out: &mut PaddedMatrix<T>,
) {
    debug_assert_eq!(
        (x.width(), out.rows(), out.stride()),
        (w.rows(), x.rows(), w.stride())
    );
    let stride = w.stride();
    #[cfg(feature = "parallel")]
    if x.nonzeros() * stride >= PARALLEL_WORK && x.rows() >= 2 {
        let half = x.rows() / 2;
        let (top, bottom) = out.as_mut_slice().split_at_mut(half * stride);
        rayon::join(
            || forward_rows(x, w, bias, 0, top),
            || forward_rows(x, w, bias, half, bottom),
        );
        return;
    }
    forward_rows(x, w, bias, 0, out.as_mut_slice());
}

/// `dw = xᵀ · dz`: the affine layer's weight gradient. `dz` is
/// `x.rows() × stride`, `dw` is `x.width() × stride`. Each element sums over
/// the rows of `x` in order, so threads and vector width don't change it.
pub(crate) fn sparse_transpose_product<T: Real>(
    x: &SparseRows<T>,
    dz: &PaddedMatrix<T>,
    dw: &mut PaddedMatrix<T>,
) {
    debug_assert_eq!(
        (dz.rows(), dw.rows(), dw.stride()),
        (x.rows(), x.width(), dz.stride())
    );
    dw.as_mut_slice().fill(T::default());
    let stride = dz.stride();
    #[cfg(feature = "parallel")]
    if x.nonzeros() * stride >= PARALLEL_WORK && x.width() >= 2 {
        let half = x.width() / 2;
        let (top, bottom) = dw.as_mut_slice().split_at_mut(half * stride);
        rayon::join(
            || transpose_rows(x, dz, 0, top),
            || transpose_rows(x, dz, half, bottom),
        );
        return;
    }
    transpose_rows(x, dz, 0, dw.as_mut_slice());
}

/// The rows of `out` starting at row `first` of `x`.
fn forward_rows<T: Real>(
    x: &SparseRows<T>,
    w: &PaddedMatrix<T>,
    bias: &[T],
    first: usize,
    out: &mut [T],
) {
    #[cfg(target_arch = "x86_64")]
    if let Some(simd) = V3::try_new() {
        simd.vectorize(|| forward_rows_avx2(simd, x, w, bias, first, out));
        return;
    }
    let stride = w.stride();
    for (i, out) in out.chunks_exact_mut(stride).enumerate() {
        out.copy_from_slice(bias);
        let (cols, values) = x.row(first + i);
        for (&k, &v) in cols.iter().zip(values) {
            let w_row = &w.as_slice()[k as usize * stride..][..stride];
            for (o, &wv) in out.iter_mut().zip(w_row) {
                *o = v.fma(wv, *o);
            }
        }
    }
}

/// The rows `first..` of `xᵀ · dz` that `out` holds.
fn transpose_rows<T: Real>(x: &SparseRows<T>, dz: &PaddedMatrix<T>, first: usize, out: &mut [T]) {
    #[cfg(target_arch = "x86_64")]
    if let Some(simd) = V3::try_new() {
        simd.vectorize(|| transpose_rows_avx2(simd, x, dz, first, out));
        return;
    }
    let stride = dz.stride();
    let last = first + out.len() / stride;
    for s in 0..x.rows() {
        let d = &dz.as_slice()[s * stride..][..stride];
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

/// Accumulators kept in registers: up to 8 vectors of a row at a time.
#[cfg(target_arch = "x86_64")]
const BLOCK: usize = 8;

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn forward_rows_avx2<T: Real>(
    simd: V3,
    x: &SparseRows<T>,
    w: &PaddedMatrix<T>,
    bias: &[T],
    first: usize,
    out: &mut [T],
) {
    let w: &[T::Vector] = bytemuck::cast_slice(w.as_slice());
    let bias: &[T::Vector] = bytemuck::cast_slice(bias);
    let out: &mut [T::Vector] = bytemuck::cast_slice_mut(out);
    let vectors = bias.len();
    let mut start = 0;
    while start < vectors {
        let block = (vectors - start).min(BLOCK);
        let args = (simd, x, w, bias, first, start, vectors);
        match block {
            1 => forward_block::<T, 1>(args, out),
            2 => forward_block::<T, 2>(args, out),
            3 => forward_block::<T, 3>(args, out),
            4 => forward_block::<T, 4>(args, out),
            5 => forward_block::<T, 5>(args, out),
            6 => forward_block::<T, 6>(args, out),
            7 => forward_block::<T, 7>(args, out),
            _ => forward_block::<T, BLOCK>(args, out),
        }
        start += block;
    }
}

#[cfg(target_arch = "x86_64")]
type BlockArgs<'a, T> = (
    V3,
    &'a SparseRows<T>,
    &'a [<T as Real>::Vector],
    &'a [<T as Real>::Vector],
    usize,
    usize,
    usize,
);

#[cfg(target_arch = "x86_64")]
type TransposeArgs<'a, T> = (
    V3,
    &'a SparseRows<T>,
    &'a [<T as Real>::Vector],
    usize,
    usize,
    usize,
    usize,
);

/// Vectors `start..start + B` of every output row, held in registers while
/// the row's non-zero inputs stream past.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn forward_block<T: Real, const B: usize>(
    (simd, x, w, bias, first, start, vectors): BlockArgs<'_, T>,
    out: &mut [T::Vector],
) {
    for (i, out_row) in out.chunks_exact_mut(vectors).enumerate() {
        let mut acc = [T::splat(simd, T::default()); B];
        acc.copy_from_slice(&bias[start..start + B]);
        let (cols, values) = x.row(first + i);
        for (&k, &v) in cols.iter().zip(values) {
            let w_row = &w[k as usize * vectors + start..][..B];
            let v = T::splat(simd, v);
            for (a, &wv) in acc.iter_mut().zip(w_row) {
                *a = T::vfma(simd, v, wv, *a);
            }
        }
        out_row[start..start + B].copy_from_slice(&acc);
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn transpose_rows_avx2<T: Real>(
    simd: V3,
    x: &SparseRows<T>,
    dz: &PaddedMatrix<T>,
    first: usize,
    out: &mut [T],
) {
    let vectors = dz.stride() / T::LANES;
    let last = first + out.len() / dz.stride();
    let dz: &[T::Vector] = bytemuck::cast_slice(dz.as_slice());
    let out: &mut [T::Vector] = bytemuck::cast_slice_mut(out);
    let mut start = 0;
    while start < vectors {
        let block = (vectors - start).min(BLOCK);
        let args: TransposeArgs<'_, T> = (simd, x, dz, first, last, start, vectors);
        match block {
            1 => transpose_block::<T, 1>(args, out),
            2 => transpose_block::<T, 2>(args, out),
            3 => transpose_block::<T, 3>(args, out),
            4 => transpose_block::<T, 4>(args, out),
            5 => transpose_block::<T, 5>(args, out),
            6 => transpose_block::<T, 6>(args, out),
            7 => transpose_block::<T, 7>(args, out),
            _ => transpose_block::<T, BLOCK>(args, out),
        }
        start += block;
    }
}

/// Vectors `start..start + B` of `xᵀ · dz`: each row of `dz` is held in
/// registers while its sample's non-zero inputs add it to their rows.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn transpose_block<T: Real, const B: usize>(
    (simd, x, dz, first, last, start, vectors): TransposeArgs<'_, T>,
    out: &mut [T::Vector],
) {
    for (s, dz_row) in dz.chunks_exact(vectors).enumerate() {
        let mut d = [T::splat(simd, T::default()); B];
        d.copy_from_slice(&dz_row[start..start + B]);
        for (&k, &v) in in_range(x.row(s), first, last) {
            let offset = (k as usize - first) * vectors + start;
            let Some(row) = out.get_mut(offset..offset + B) else {
                continue;
            };
            let v = T::splat(simd, v);
            for (o, &dv) in row.iter_mut().zip(&d) {
                *o = T::vfma(simd, v, dv, *o);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2};

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
        // Scalar fused multiply-adds in the kernels' order give the same bits.
        let (n, p, h) = (9, 33, 13);
        let x = sample(n, p, 4);
        let w = sample(p, h, 5);
        let rows = SparseRows::<f32>::from_dense("x", &x).expect("finite");
        let wp = PaddedMatrix::<f32>::from_f64(&w);
        let bias = vec![0.25f32; wp.stride()];
        let mut out = PaddedMatrix::zeros(n, h);
        sparse_affine_forward(&rows, &wp, &bias, &mut out);
        for s in 0..n {
            for j in 0..h {
                let mut acc = 0.25f32;
                for k in 0..p {
                    if x[[s, k]] != 0.0 {
                        acc = (x[[s, k]] as f32).mul_add(w[[k, j]] as f32, acc);
                    }
                }
                assert_eq!(acc.to_bits(), out.as_slice()[s * wp.stride() + j].to_bits());
            }
        }
    }

    #[test]
    fn threads_do_not_change_a_bit() {
        // 100 × 784 at half zeros is above the threshold for two threads.
        let (n, p, h) = (100, 784, 50);
        let x = sample(n, p, 6);
        let rows = SparseRows::<f32>::from_dense("x", &x).expect("finite");
        let w = PaddedMatrix::<f32>::from_f64(&sample(p, h, 7));
        let dz = PaddedMatrix::<f32>::from_f64(&sample(n, h, 8));
        let bias = vec![0.5f32; w.stride()];
        let (mut split, mut whole) = (PaddedMatrix::zeros(n, h), PaddedMatrix::zeros(n, h));
        sparse_affine_forward(&rows, &w, &bias, &mut split);
        forward_rows(&rows, &w, &bias, 0, whole.as_mut_slice());
        assert_eq!(bits(split.as_slice()), bits(whole.as_slice()));
        let (mut split, mut whole) = (PaddedMatrix::zeros(p, h), PaddedMatrix::zeros(p, h));
        sparse_transpose_product(&rows, &dz, &mut split);
        transpose_rows(&rows, &dz, 0, whole.as_mut_slice());
        assert_eq!(bits(split.as_slice()), bits(whole.as_slice()));
    }

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|x| x.to_bits()).collect()
    }
}
