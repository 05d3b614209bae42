//! The AVX2 path of the sparse products: 256-bit fused multiply-adds, a
//! block of up to 7 vectors of each output row held in registers.

use pulp::{bytemuck, x86::V3};

use super::in_range;
use crate::kernels::{PaddedMatrix, Real, SparseRows};

/// Rows `first..` of `x · w + bias` into `out` (see
/// [`super::sparse_affine_forward`]).
pub(super) fn forward_rows<T: Real>(
    simd: V3,
    x: &SparseRows<T>,
    w: &PaddedMatrix<T>,
    bias: &[T],
    first: usize,
    out: &mut [T],
) {
    simd.vectorize(ForwardAvx2 {
        simd,
        x,
        w,
        bias,
        first,
        out,
    });
}

/// Rows `first..` of `xᵀ · dz` into `out`, zeroed before (see
/// [`super::sparse_transpose_product`]).
pub(super) fn transpose_rows<T: Real>(
    simd: V3,
    x: &SparseRows<T>,
    dz: &PaddedMatrix<T>,
    first: usize,
    out: &mut [T],
) {
    simd.vectorize(TransposeAvx2 {
        simd,
        x,
        dz,
        first,
        out,
    });
}

/// [`forward_rows_avx2`]'s arguments, as a call that `V3::vectorize` inlines
/// into its AVX2 + FMA function (a closure may stay out of line, and its
/// intrinsics then become function calls: measured 20× slower).
struct ForwardAvx2<'a, T> {
    simd: V3,
    x: &'a SparseRows<T>,
    w: &'a PaddedMatrix<T>,
    bias: &'a [T],
    first: usize,
    out: &'a mut [T],
}

impl<T: Real> pulp::NullaryFnOnce for ForwardAvx2<'_, T> {
    type Output = ();

    #[inline(always)]
    fn call(self) {
        forward_rows_avx2(self.simd, self.x, self.w, self.bias, self.first, self.out);
    }
}

/// [`transpose_rows_avx2`]'s arguments, as [`ForwardAvx2`].
struct TransposeAvx2<'a, T> {
    simd: V3,
    x: &'a SparseRows<T>,
    dz: &'a PaddedMatrix<T>,
    first: usize,
    out: &'a mut [T],
}

impl<T: Real> pulp::NullaryFnOnce for TransposeAvx2<'_, T> {
    type Output = ();

    #[inline(always)]
    fn call(self) {
        transpose_rows_avx2(self.simd, self.x, self.dz, self.first, self.out);
    }
}

/// Vectors of a row held in registers at a time: forward, two chains of 7
/// accumulators and two broadcast values fill AVX2's 16 registers.
const BLOCK: usize = 7;

/// Calls `$kernel::<T, B>(args…)` with `B` the block width, 1 to 7.
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
#[derive(Clone, Copy)]
struct BlockArgs<'a, T: Real> {
    simd: V3,
    x: &'a SparseRows<T>,
    dense: &'a [T::Vector],
    first: usize,
    start: usize,
    vectors: usize,
}

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
