//! The AVX-512 path of the sparse products: 512-bit fused multiply-adds, a
//! block of up to 7 such vectors of each output row (and one 256-bit vector
//! when a row has an odd number of them) held in registers.
//!
//! Rows are padded to whole 256-bit vectors
//! ([`crate::kernels::PaddedMatrix`]), so a row of `v` of them is `v / 2`
//! 512-bit vectors and, when `v` is odd, one 256-bit vector more. Each lane's chain of fused multiply-adds is the AVX2 path's,
//! so both paths give the same bits.

use pulp::{
    bytemuck,
    x86::{V3, V4},
};

use super::blocks::{BlockArgs, BlockKernels};
use super::in_range;
use crate::kernels::Real;

/// Calls `$kernel::<T, W, H>(args…)` for a block of `$block` 256-bit
/// vectors, 1 to 14: `W` 512-bit vectors and `H` (0 or 1) 256-bit ones.
macro_rules! by_block {
    ($block:expr, $kernel:ident, $($arg:expr),*) => {
        match $block {
            1 => $kernel::<T, 0, 1>($($arg),*),
            2 => $kernel::<T, 1, 0>($($arg),*),
            3 => $kernel::<T, 1, 1>($($arg),*),
            4 => $kernel::<T, 2, 0>($($arg),*),
            5 => $kernel::<T, 2, 1>($($arg),*),
            6 => $kernel::<T, 3, 0>($($arg),*),
            7 => $kernel::<T, 3, 1>($($arg),*),
            8 => $kernel::<T, 4, 0>($($arg),*),
            9 => $kernel::<T, 4, 1>($($arg),*),
            10 => $kernel::<T, 5, 0>($($arg),*),
            11 => $kernel::<T, 5, 1>($($arg),*),
            12 => $kernel::<T, 6, 0>($($arg),*),
            13 => $kernel::<T, 6, 1>($($arg),*),
            _ => $kernel::<T, 7, 0>($($arg),*),
        }
    };
}

impl BlockKernels for V4 {
    /// 7 512-bit vectors. Forward, two chains of 7 (or of 6 and a 256-bit
    /// one each, for an odd tail) and the broadcast values use at most 18 of
    /// AVX-512's 32 registers.
    const BLOCK: usize = 14;

    #[inline(always)]
    fn run<Op: pulp::NullaryFnOnce>(self, op: Op) -> Op::Output {
        self.vectorize(op)
    }

    #[inline(always)]
    fn forward_block<T: Real>(
        args: BlockArgs<'_, T, V4>,
        block: usize,
        bias: &[T::Vector],
        out: &mut [T::Vector],
    ) {
        by_block!(block, two_chain_block, args, bias, out);
    }

    #[inline(always)]
    fn scatter_block<T: Real>(
        args: BlockArgs<'_, T, V4>,
        block: usize,
        last: usize,
        out: &mut [T::Vector],
    ) {
        by_block!(block, scatter_block, args, last, out);
    }
}

/// The 512-bit vector made of `v[0]` and `v[1]`: one unaligned load.
#[inline(always)]
fn wide<T: Real>(v: &[T::Vector]) -> T::Wide {
    bytemuck::cast_slice::<T::Vector, T::Wide>(&v[..2])[0]
}

/// `v[0]` and `v[1]` become the halves of `value`: one unaligned store.
#[inline(always)]
fn set_wide<T: Real>(v: &mut [T::Vector], value: T::Wide) {
    bytemuck::cast_slice_mut::<T::Vector, T::Wide>(&mut v[..2])[0] = value;
}

/// 256-bit vectors `start..start + 2W + H` of every output row `i`: `bias`
/// plus the sum over the non-zero entries `(k, v)` of row `first + i` of
/// `x` of `v · w[k]`, in two register chains (even- and odd-numbered
/// entries) added at the end — the AVX2 path's order, lane for lane.
#[inline(always)]
fn two_chain_block<T: Real, const W: usize, const H: usize>(
    args: BlockArgs<'_, T, V4>,
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
    let half: V3 = *simd;
    let len = 2 * W + H;
    for (i, out_row) in out.chunks_exact_mut(vectors).enumerate() {
        let bias = &bias[start..][..len];
        let mut even: [T::Wide; W] = std::array::from_fn(|b| wide::<T>(&bias[2 * b..]));
        let mut even_tail: [T::Vector; H] = std::array::from_fn(|b| bias[2 * W + b]);
        let mut odd = [T::wsplat(simd, T::zero()); W];
        let mut odd_tail = [T::splat(half, T::zero()); H];
        let (cols, values) = x.row(first + i);
        for (k, v) in cols.chunks_exact(2).zip(values.chunks_exact(2)) {
            let row0 = &w[k[0] as usize * vectors + start..][..len];
            let row1 = &w[k[1] as usize * vectors + start..][..len];
            let (v0, v1) = (T::wsplat(simd, v[0]), T::wsplat(simd, v[1]));
            for b in 0..W {
                even[b] = T::wfma(simd, v0, wide::<T>(&row0[2 * b..]), even[b]);
                odd[b] = T::wfma(simd, v1, wide::<T>(&row1[2 * b..]), odd[b]);
            }
            if H == 1 {
                let (v0, v1) = (T::splat(half, v[0]), T::splat(half, v[1]));
                for b in 0..H {
                    even_tail[b] = T::vfma(half, v0, row0[2 * W + b], even_tail[b]);
                    odd_tail[b] = T::vfma(half, v1, row1[2 * W + b], odd_tail[b]);
                }
            }
        }
        if let (Some(&k), Some(&v)) = (cols.last(), values.last())
            && cols.len() % 2 == 1
        {
            let row = &w[k as usize * vectors + start..][..len];
            let vw = T::wsplat(simd, v);
            for b in 0..W {
                even[b] = T::wfma(simd, vw, wide::<T>(&row[2 * b..]), even[b]);
            }
            let v = T::splat(half, v);
            for b in 0..H {
                even_tail[b] = T::vfma(half, v, row[2 * W + b], even_tail[b]);
            }
        }
        let out_block = &mut out_row[start..][..len];
        for b in 0..W {
            set_wide::<T>(&mut out_block[2 * b..], T::wadd(simd, even[b], odd[b]));
        }
        for b in 0..H {
            out_block[2 * W + b] = T::vadd(half, even_tail[b], odd_tail[b]);
        }
    }
}

/// 256-bit vectors `start..start + 2W + H` of rows `first..last` of
/// `xᵀ · dz`: each row of `dz` is held in registers while its sample's
/// non-zero inputs in those columns add it to their rows — the AVX2 path's
/// order, lane for lane.
#[inline(always)]
fn scatter_block<T: Real, const W: usize, const H: usize>(
    args: BlockArgs<'_, T, V4>,
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
    let half: V3 = *simd;
    let len = 2 * W + H;
    for (s, dz_row) in dz.chunks_exact(vectors).enumerate() {
        let d = &dz_row[start..][..len];
        let d_wide: [T::Wide; W] = std::array::from_fn(|b| wide::<T>(&d[2 * b..]));
        let d_tail: [T::Vector; H] = std::array::from_fn(|b| d[2 * W + b]);
        for (&k, &v) in in_range(x.row(s), first, last) {
            let offset = (k as usize - first) * vectors + start;
            let Some(row) = out.get_mut(offset..offset + len) else {
                continue;
            };
            let vw = T::wsplat(simd, v);
            for b in 0..W {
                let o = wide::<T>(&row[2 * b..]);
                set_wide::<T>(&mut row[2 * b..], T::wfma(simd, vw, d_wide[b], o));
            }
            let v = T::splat(half, v);
            for b in 0..H {
                row[2 * W + b] = T::vfma(half, v, d_tail[b], row[2 * W + b]);
            }
        }
    }
}
