//! Hand-vectorised kernels for the two-layer network's training step.
//!
//! An MNIST-style batch is about half zeros (Fashion-MNIST: 50.2 % of all
//! pixels), so the first layer's two products, `x · W1` forward and `xᵀ · δ`
//! backward, skip them: each input row is kept as its non-zero entries
//! ([`SparseRows`]) and every non-zero pixel adds its row of `W1` (or `δ`)
//! at once, one SIMD fused multiply-add per 8 (f32) or 4 (f64) hidden units.
//!
//! Every output element is one chain of fused multiply-adds in a fixed order
//! (the pixel order forward, the sample order backward), whatever the CPU, the
//! vector width or the number of threads: the AVX2 path, the scalar fallback
//! and the threaded split give the same bits.

mod real;
mod sparse_affine;
mod sparse_rows;
mod workspace;

pub(crate) use real::Real;
pub(crate) use sparse_affine::{PaddedMatrix, sparse_affine_forward, sparse_transpose_product};
pub(crate) use sparse_rows::SparseRows;
pub(crate) use workspace::{Workspace, with_workspace};
