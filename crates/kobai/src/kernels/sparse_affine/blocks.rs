//! What the SIMD paths share: each output row is cut into blocks of vectors
//! that one kernel call keeps in registers, and the call runs inside the
//! instruction set's target-feature function.

use pulp::bytemuck;

use crate::kernels::{PaddedMatrix, Real, SparseRows};

/// An instruction set's block kernels (AVX2's [`pulp::x86::V3`],
/// AVX-512's [`pulp::x86::V4`]).
pub(super) trait BlockKernels: Copy {
    /// The most 256-bit vectors of a row one block holds.
    const BLOCK: usize;

    /// Runs `op` inside this instruction set's target-feature function.
    fn run<Op: pulp::NullaryFnOnce>(self, op: Op) -> Op::Output;

    /// Forward: vectors `args.start..args.start + block` of every output
    /// row, `bias` plus the row's non-zero inputs times their rows of `W`.
    fn forward_block<T: Real>(
        args: BlockArgs<'_, T, Self>,
        block: usize,
        bias: &[T::Vector],
        out: &mut [T::Vector],
    );

    /// Backward: vectors `args.start..args.start + block` of rows
    /// `args.first..last` of `xᵀ · dz`.
    fn scatter_block<T: Real>(
        args: BlockArgs<'_, T, Self>,
        block: usize,
        last: usize,
        out: &mut [T::Vector],
    );
}

/// What a block kernel needs: the SIMD token, `x`, the dense operand (`W`
/// forward, `dz` backward) as 256-bit vectors, where the call starts
/// (forward: the first row of `x` it computes; backward: the first column
/// of `x`, i.e. row of the output, it owns), the block's first vector and
/// the vectors per row.
#[derive(Clone, Copy)]
pub(super) struct BlockArgs<'a, T: Real, S> {
    pub(super) simd: S,
    pub(super) x: &'a SparseRows<T>,
    pub(super) dense: &'a [T::Vector],
    pub(super) first: usize,
    pub(super) start: usize,
    pub(super) vectors: usize,
}

/// Rows `first..` of `x · w + bias` into `out` (see
/// [`super::sparse_affine_forward`]), block after block.
pub(super) fn forward_rows<T: Real, S: BlockKernels>(
    simd: S,
    x: &SparseRows<T>,
    w: &PaddedMatrix<T>,
    bias: &[T],
    first: usize,
    out: &mut [T],
) {
    simd.run(Forward {
        simd,
        x,
        w,
        bias,
        first,
        out,
    });
}

/// Rows `first..` of `xᵀ · dz` into `out`, zeroed before (see
/// [`super::sparse_transpose_product`]), block after block.
pub(super) fn transpose_rows<T: Real, S: BlockKernels>(
    simd: S,
    x: &SparseRows<T>,
    dz: &PaddedMatrix<T>,
    first: usize,
    out: &mut [T],
) {
    simd.run(Transpose {
        simd,
        x,
        dz,
        first,
        out,
    });
}

/// [`forward_rows`]'s arguments, as a call that `vectorize` inlines into its
/// target-feature function (a closure may stay out of line, and its
/// intrinsics then become function calls: measured 20× slower).
struct Forward<'a, T, S> {
    simd: S,
    x: &'a SparseRows<T>,
    w: &'a PaddedMatrix<T>,
    bias: &'a [T],
    first: usize,
    out: &'a mut [T],
}

impl<T: Real, S: BlockKernels> pulp::NullaryFnOnce for Forward<'_, T, S> {
    type Output = ();

    #[inline(always)]
    fn call(self) {
        let Forward {
            simd,
            x,
            w,
            bias,
            first,
            out,
        } = self;
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
            let block = (args.vectors - args.start).min(S::BLOCK);
            S::forward_block(args, block, bias, out);
            args.start += block;
        }
    }
}

/// [`transpose_rows`]'s arguments, as [`Forward`].
struct Transpose<'a, T, S> {
    simd: S,
    x: &'a SparseRows<T>,
    dz: &'a PaddedMatrix<T>,
    first: usize,
    out: &'a mut [T],
}

impl<T: Real, S: BlockKernels> pulp::NullaryFnOnce for Transpose<'_, T, S> {
    type Output = ();

    #[inline(always)]
    fn call(self) {
        let Transpose {
            simd,
            x,
            dz,
            first,
            out,
        } = self;
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
            let block = (args.vectors - args.start).min(S::BLOCK);
            S::scatter_block(args, block, last, out);
            args.start += block;
        }
    }
}
