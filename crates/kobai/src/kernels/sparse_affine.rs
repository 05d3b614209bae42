//! `x · W + b` and `xᵀ · δ` with `x` sparse and `W`, `δ` dense, padded rows.

use ndarray::{Array2, ArrayRef2};
#[cfg(target_arch = "x86_64")]
use pulp::{bytemuck, x86::V3};

use crate::kernels::{Real, SparseRows};

/// A dense row-major matrix whose rows are padded with zeros to a whole
/// number of SIMD vectors, its first element on a cache line.
///
/// The alignment matters: a large allocation starts 16 bytes past a page
/// boundary, so without it every other 32-byte vector of the weight rows
/// straddles two cache lines and costs two loads.
#[derive(Debug, Default)]
pub(crate) struct PaddedMatrix<T> {
    /// The elements from `offset` on; before it, fewer than a cache line's
    /// worth of unused zeros.
    storage: Vec<T>,
    offset: usize,
    rows: usize,
    cols: usize,
    stride: usize,
}

/// Bytes of a cache line.
const CACHE_LINE: usize = 64;

impl<T: Real> PaddedMatrix<T> {
    /// A `rows × cols` matrix of zeros.
    pub(crate) fn zeros(rows: usize, cols: usize) -> Self {
        let stride = cols.div_ceil(T::LANES) * T::LANES;
        let (storage, offset) = aligned_zeros(rows * stride);
        PaddedMatrix {
            storage,
            offset,
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
        let stride = self.stride;
        for (row, source) in self.as_mut_slice().chunks_exact_mut(stride).zip(a.rows()) {
            match source.as_slice() {
                Some(source) => row
                    .iter_mut()
                    .zip(source)
                    .for_each(|(d, &s)| *d = T::from_f64(s)),
                None => row
                    .iter_mut()
                    .zip(source)
                    .for_each(|(d, &s)| *d = T::from_f64(s)),
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
        &self.storage[self.offset..][..self.rows * self.stride]
    }

    /// All rows, padding included.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.storage[self.offset..][..self.rows * self.stride]
    }

    /// The first `cols` columns of each row, as `f64`.
    pub(crate) fn to_f64(&self) -> Array2<f64> {
        let mut values = Vec::with_capacity(self.rows * self.cols);
        for row in self.as_slice().chunks_exact(self.stride) {
            values.extend(row[..self.cols].iter().map(|v| v.to_f64()));
        }
        Array2::from_shape_vec((self.rows, self.cols), values)
            .expect("rows × cols values, collected row by row")
    }
}

/// `len` zeros starting on a cache line: the storage and the offset of the
/// first of them. (The address is read, never written through: safe.)
fn aligned_zeros<T: Real>(len: usize) -> (Vec<T>, usize) {
    let slack = CACHE_LINE / size_of::<T>();
    let storage = vec![T::default(); len + slack];
    let misalignment = storage.as_ptr() as usize % CACHE_LINE;
    let offset = ((CACHE_LINE - misalignment) % CACHE_LINE) / size_of::<T>();
    (storage, offset)
}

impl<T: Real> Clone for PaddedMatrix<T> {
    /// A copy in storage of its own, aligned in turn.
    fn clone(&self) -> Self {
        let mut copy = Self::zeros(self.rows, self.cols);
        copy.as_mut_slice().copy_from_slice(self.as_slice());
        copy
    }
}

impl<T: Real> PartialEq for PaddedMatrix<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.rows, self.cols) == (other.rows, other.cols) && self.as_slice() == other.as_slice()
    }
}

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
            || forward_rows(x, w, bias, 0, top),
            || forward_rows(x, w, bias, half, bottom),
        );
        return;
    }
    forward_rows(x, w, bias, 0, out.as_mut_slice());
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
            || transpose_rows(x, dz, 0, top),
            || transpose_rows(x, dz, half, bottom),
        );
        return;
    }
    transpose_rows(x, dz, 0, dw.as_mut_slice());
}

/// The rows of `out`, starting at row `first` of `x`.
fn forward_rows<T: Real>(
    x: &SparseRows<T>,
    w: &PaddedMatrix<T>,
    bias: &[T],
    first: usize,
    out: &mut [T],
) {
    #[cfg(target_arch = "x86_64")]
    if let Some(simd) = avx2() {
        simd.vectorize(ForwardAvx2 {
            simd,
            x,
            w,
            bias,
            first,
            out,
        });
        return;
    }
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

/// Rows `first..` of `xᵀ · dz`, as many as `out` holds (zeroed before).
fn transpose_rows<T: Real>(x: &SparseRows<T>, dz: &PaddedMatrix<T>, first: usize, out: &mut [T]) {
    #[cfg(target_arch = "x86_64")]
    if let Some(simd) = avx2() {
        simd.vectorize(TransposeAvx2 {
            simd,
            x,
            dz,
            first,
            out,
        });
        return;
    }
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

/// AVX2 and FMA, if this CPU has them (and a test has not asked for the
/// scalar code).
#[cfg(target_arch = "x86_64")]
fn avx2() -> Option<V3> {
    #[cfg(test)]
    if tests::SCALAR_ONLY.get() {
        return None;
    }
    V3::try_new()
}

/// [`forward_rows_avx2`]'s arguments, as a call that `V3::vectorize` inlines
/// into its AVX2 + FMA function (a closure may stay out of line, and its
/// intrinsics then become function calls: measured 20× slower).
#[cfg(target_arch = "x86_64")]
struct ForwardAvx2<'a, T> {
    simd: V3,
    x: &'a SparseRows<T>,
    w: &'a PaddedMatrix<T>,
    bias: &'a [T],
    first: usize,
    out: &'a mut [T],
}

#[cfg(target_arch = "x86_64")]
impl<T: Real> pulp::NullaryFnOnce for ForwardAvx2<'_, T> {
    type Output = ();

    #[inline(always)]
    fn call(self) {
        forward_rows_avx2(self.simd, self.x, self.w, self.bias, self.first, self.out);
    }
}

/// [`transpose_rows_avx2`]'s arguments, as [`ForwardAvx2`].
#[cfg(target_arch = "x86_64")]
struct TransposeAvx2<'a, T> {
    simd: V3,
    x: &'a SparseRows<T>,
    dz: &'a PaddedMatrix<T>,
    first: usize,
    out: &'a mut [T],
}

#[cfg(target_arch = "x86_64")]
impl<T: Real> pulp::NullaryFnOnce for TransposeAvx2<'_, T> {
    type Output = ();

    #[inline(always)]
    fn call(self) {
        transpose_rows_avx2(self.simd, self.x, self.dz, self.first, self.out);
    }
}

/// Vectors of a row held in registers at a time: forward, two chains of 7
/// accumulators and two broadcast values fill AVX2's 16 registers.
#[cfg(target_arch = "x86_64")]
const BLOCK: usize = 7;

/// Calls `$kernel::<T, B>(args…)` with `B` the block width, 1 to 7.
#[cfg(target_arch = "x86_64")]
macro_rules! by_block {
    ($block:expr, $kernel:ident, $($arg:expr),*) => {
        match $block {
            1 => $kernel::<T, 1>($($arg),*),
            2 => $kernel::<T, 2>($($arg),*),
            3 => $kernel::<T, 3>($($arg),*),
            4 => $kernel::<T, 4>($($arg),*),
            5 => $kernel::<T, 5>($($arg),*),
            6 => $kernel::<T, 6>($($arg),*),
            _ => $kernel::<T, BLOCK>($($arg),*),
        }
    };
}

/// What a block kernel needs: the SIMD token, `x`, the dense operand (`W`
/// forward, `dz` backward) as vectors, where the call starts (forward: the
/// first row of `x` it computes; backward: the first column of `x`, i.e.
/// row of the output, it owns), the block's first vector and the vectors
/// per row.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct BlockArgs<'a, T: Real> {
    simd: V3,
    x: &'a SparseRows<T>,
    dense: &'a [T::Vector],
    first: usize,
    start: usize,
    vectors: usize,
}

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
    let bias: &[T::Vector] = bytemuck::cast_slice(bias);
    let out: &mut [T::Vector] = bytemuck::cast_slice_mut(out);
    let mut args = BlockArgs {
        simd,
        x,
        dense: bytemuck::cast_slice(w.as_slice()),
        first,
        start: 0,
        vectors: bias.len(),
    };
    while args.start < args.vectors {
        let block = (args.vectors - args.start).min(BLOCK);
        by_block!(block, two_chain_block, args, bias, out);
        args.start += block;
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
    let last = first + out.len() / dz.stride();
    let out: &mut [T::Vector] = bytemuck::cast_slice_mut(out);
    let mut args = BlockArgs {
        simd,
        x,
        dense: bytemuck::cast_slice(dz.as_slice()),
        first,
        start: 0,
        vectors: dz.stride() / T::LANES,
    };
    while args.start < args.vectors {
        let block = (args.vectors - args.start).min(BLOCK);
        by_block!(block, scatter_block, args, last, out);
        args.start += block;
    }
}

/// Vectors `start..start + B` of rows `first..last` of `xᵀ · dz`: each row
/// of `dz` is held in registers while its sample's non-zero inputs in those
/// columns add it to their rows.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn scatter_block<T: Real, const B: usize>(
    args: BlockArgs<'_, T>,
    last: usize,
    out: &mut [T::Vector],
) {
    let BlockArgs {
        simd,
        x,
        dense: dz,
        first,
        start,
        vectors,
    } = args;
    for (s, dz_row) in dz.chunks_exact(vectors).enumerate() {
        let mut d = [T::splat(simd, T::zero()); B];
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

/// Vectors `start..start + B` of every output row `i`: `bias` plus the sum
/// over the non-zero entries `(k, v)` of row `first + i` of `x` of
/// `v · w[k]`, in two register chains (even- and odd-numbered entries)
/// added at the end.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn two_chain_block<T: Real, const B: usize>(
    args: BlockArgs<'_, T>,
    bias: &[T::Vector],
    out: &mut [T::Vector],
) {
    let BlockArgs {
        simd,
        x,
        dense: w,
        first,
        start,
        vectors,
    } = args;
    for (i, out_row) in out.chunks_exact_mut(vectors).enumerate() {
        let mut even = [T::splat(simd, T::zero()); B];
        even.copy_from_slice(&bias[start..start + B]);
        let mut odd = [T::splat(simd, T::zero()); B];
        let (cols, values) = x.row(first + i);
        for (k, v) in cols.chunks_exact(2).zip(values.chunks_exact(2)) {
            let (row0, row1) = (
                &w[k[0] as usize * vectors + start..][..B],
                &w[k[1] as usize * vectors + start..][..B],
            );
            let (v0, v1) = (T::splat(simd, v[0]), T::splat(simd, v[1]));
            for b in 0..B {
                even[b] = T::vfma(simd, v0, row0[b], even[b]);
                odd[b] = T::vfma(simd, v1, row1[b], odd[b]);
            }
        }
        if let (Some(&k), Some(&v)) = (cols.last(), values.last())
            && cols.len() % 2 == 1
        {
            let row = &w[k as usize * vectors + start..][..B];
            let v = T::splat(simd, v);
            for b in 0..B {
                even[b] = T::vfma(simd, v, row[b], even[b]);
            }
        }
        for b in 0..B {
            out_row[start + b] = T::vadd(simd, even[b], odd[b]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2};
    use std::cell::Cell;

    thread_local! {
        /// Makes this thread's kernels take the scalar path.
        pub(super) static SCALAR_ONLY: Cell<bool> = const { Cell::new(false) };
    }

    #[test]
    fn the_scalar_fallback_gives_the_bits_of_the_avx2_path() {
        let (n, p, h) = (13, 45, 37);
        let x = sample(n, p, 10);
        let rows = SparseRows::<f64>::from_dense("x", &x).expect("finite");
        let w = PaddedMatrix::<f64>::from_f64(&sample(p, h, 11));
        let dz = PaddedMatrix::<f64>::from_f64(&sample(n, h, 12));
        let bias = vec![0.125; w.stride()];
        let run = |scalar: bool| {
            SCALAR_ONLY.set(scalar);
            let mut out = PaddedMatrix::zeros(n, h);
            sparse_affine_forward(&rows, &w, &bias, &mut out);
            let mut dw = PaddedMatrix::zeros(p, h);
            sparse_transpose_product(&rows, &dz, &mut dw);
            SCALAR_ONLY.set(false);
            let bits = |m: &PaddedMatrix<f64>| {
                m.as_slice().iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            };
            (bits(&out), bits(&dw))
        };
        assert_eq!(run(true), run(false));
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
