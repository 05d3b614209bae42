//! The element types the kernels run in: `f32` (8 lanes under AVX2, 16
//! under AVX-512) and `f64` (4 and 8).

#[cfg(target_arch = "x86_64")]
use pulp::bytemuck;
#[cfg(target_arch = "x86_64")]
use pulp::x86::{V3, V4};

/// A floating-point element type with a fused multiply-add and, on x86-64,
/// its AVX2 and AVX-512 vectors.
pub(crate) trait Real:
    ndarray::LinalgScalar
    + Default
    + PartialOrd
    + Send
    + Sync
    + std::fmt::Debug
    + pulp::bytemuck::Pod
    + crate::kernels::workspace::ThreadWorkspace
{
    /// Elements per AVX2 vector; rows are padded to a multiple of it.
    const LANES: usize;
    /// The machine epsilon, as `f64`.
    const EPSILON: f64;
    /// The AVX2 vector of `LANES` elements.
    #[cfg(target_arch = "x86_64")]
    type Vector: Copy + pulp::bytemuck::Pod;
    /// The AVX-512 vector of `2 * LANES` elements: two [`Real::Vector`]s.
    #[cfg(target_arch = "x86_64")]
    type Wide: Copy + pulp::bytemuck::Pod;

    /// `v` rounded to this type.
    fn from_f64(v: f64) -> Self;
    /// This value as `f64` (exact).
    fn to_f64(self) -> f64;
    /// `self * b + c` with one rounding (the same bits as the vector lanes).
    fn fma(self, b: Self, c: Self) -> Self;
    /// Whether this is NaN.
    fn is_nan(self) -> bool;
    /// `e^self`.
    fn exp(self) -> Self;
    /// `tanh(self)`.
    fn tanh(self) -> Self;
    /// `v` in every lane.
    #[cfg(target_arch = "x86_64")]
    fn splat(simd: V3, v: Self) -> Self::Vector;
    /// Lane-wise `a * b + c` with one rounding.
    #[cfg(target_arch = "x86_64")]
    fn vfma(simd: V3, a: Self::Vector, b: Self::Vector, c: Self::Vector) -> Self::Vector;
    /// Lane-wise `a + b`.
    #[cfg(target_arch = "x86_64")]
    fn vadd(simd: V3, a: Self::Vector, b: Self::Vector) -> Self::Vector;
    /// `v` in every lane of an AVX-512 vector.
    #[cfg(target_arch = "x86_64")]
    fn wsplat(simd: V4, v: Self) -> Self::Wide;
    /// Lane-wise `a * b + c` with one rounding, 512 bits wide.
    #[cfg(target_arch = "x86_64")]
    fn wfma(simd: V4, a: Self::Wide, b: Self::Wide, c: Self::Wide) -> Self::Wide;
    /// Lane-wise `a + b`, 512 bits wide.
    #[cfg(target_arch = "x86_64")]
    fn wadd(simd: V4, a: Self::Wide, b: Self::Wide) -> Self::Wide;
}

/// `impl Real` for a float type, its lane count and its pulp vector ops.
macro_rules! impl_real {
    (
        $t:ty,
        $lanes:expr,
        $vector:ty,
        $splat:ident,
        $mul_add:ident,
        $add:ident,
        $wide:ty,
        $wsplat:ident,
        $wmul_add:ident,
        $wadd:ident
    ) => {
        impl Real for $t {
            const LANES: usize = $lanes;
            const EPSILON: f64 = <$t>::EPSILON as f64;
            #[cfg(target_arch = "x86_64")]
            type Vector = $vector;
            #[cfg(target_arch = "x86_64")]
            type Wide = $wide;

            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                f64::from(self)
            }
            #[inline(always)]
            fn fma(self, b: Self, c: Self) -> Self {
                self.mul_add(b, c)
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            #[inline(always)]
            fn exp(self) -> Self {
                self.exp()
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                self.tanh()
            }
            #[cfg(target_arch = "x86_64")]
            #[inline(always)]
            fn splat(simd: V3, v: Self) -> Self::Vector {
                simd.$splat(v)
            }
            #[cfg(target_arch = "x86_64")]
            #[inline(always)]
            fn vfma(simd: V3, a: Self::Vector, b: Self::Vector, c: Self::Vector) -> Self::Vector {
                simd.$mul_add(a, b, c)
            }
            #[cfg(target_arch = "x86_64")]
            #[inline(always)]
            fn vadd(simd: V3, a: Self::Vector, b: Self::Vector) -> Self::Vector {
                simd.$add(a, b)
            }
            #[cfg(target_arch = "x86_64")]
            #[inline(always)]
            fn wsplat(simd: V4, v: Self) -> Self::Wide {
                simd.$wsplat(v)
            }
            #[cfg(target_arch = "x86_64")]
            #[inline(always)]
            fn wfma(simd: V4, a: Self::Wide, b: Self::Wide, c: Self::Wide) -> Self::Wide {
                simd.$wmul_add(a, b, c)
            }
            #[cfg(target_arch = "x86_64")]
            #[inline(always)]
            fn wadd(simd: V4, a: Self::Wide, b: Self::Wide) -> Self::Wide {
                bytemuck::cast(simd.avx512f.$wadd(bytemuck::cast(a), bytemuck::cast(b)))
            }
        }
    };
}

impl_real!(
    f32,
    8,
    pulp::f32x8,
    splat_f32x8,
    mul_add_f32x8,
    add_f32x8,
    pulp::f32x16,
    splat_f32x16,
    mul_add_f32x16,
    _mm512_add_ps
);
impl_real!(
    f64,
    4,
    pulp::f64x4,
    splat_f64x4,
    mul_add_f64x4,
    add_f64x4,
    pulp::f64x8,
    splat_f64x8,
    mul_add_f64x8,
    _mm512_add_pd
);
