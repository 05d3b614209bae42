//! The AVX2 path of the sparse products: 256-bit fused multiply-adds, a
//! block of up to 7 vectors of each output row held in registers.

use pulp::x86::V3;

use super::blocks::{BlockArgs, BlockKernels};
use super::in_range;
use crate::kernels::Real;

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
            _ => $kernel::<T, 7>($($arg),*),
        }
    };
}

impl BlockKernels for V3 {
    /// Forward, two chains of 7 accumulators and two broadcast values fill
    /// AVX2's 16 registers.
    const BLOCK: usize = 7;

    #[inline(always)]
    fn run<Op: pulp::NullaryFnOnce>(self, op: Op) -> Op::Output {
        self.vectorize(op)
    }

    #[inline(always)]
    fn forward_block<T: Real>(
        args: BlockArgs<'_, T, V3>,
        block: usize,
        bias: &[T::Vector],
        out: &mut [T::Vector],
    ) {
        by_block!(block, two_chain_block, args, bias, out);
    }

    #[inline(always)]
    fn scatter_block<T: Real>(
        args: BlockArgs<'_, T, V3>,
        block: usize,
        last: usize,
        out: &mut [T::Vector],
    ) {
        by_block!(block, scatter_block, args, last, out);
    }
}

/// Vectors `start..start + B` of rows `first..last` of `xᵀ · dz`: each row
/// of `dz` is held in registers while its sample's non-zero inputs in those
/// columns add it to their rows.
#[inline(always)]
fn scatter_block<T: Real, const B: usize>(
    args: BlockArgs<'_, T, V3>,
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
    args: BlockArgs<'_, T, V3>,
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
