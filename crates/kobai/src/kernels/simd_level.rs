//! Which instruction set kobai's hand-vectorised kernels run on: chosen at
//! run time from what the processor has, optionally capped by the
//! `KOBAI_SIMD` environment variable.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

#[cfg(target_arch = "x86_64")]
use pulp::x86::{V3, V4};

use crate::error::{KobaiError, Result};

/// An instruction set kobai's kernels can run on, narrowest first.
///
/// The kernels (the sparse first-layer products of the fused training
/// engines, and packing an image's bytes into them) have one path per
/// level. Every path gives the same bits: each output element is the same
/// sequence of fused multiply-adds whatever the vector width (tested on
/// every level the testing processor has).
///
/// [`SimdLevel::in_use`] is the widest level this processor has, capped by
/// the environment variable `KOBAI_SIMD` (`portable`, `avx2` or `avx512`)
/// when it is set to one of them — to compare the paths' speed, or to check
/// a run on a narrower machine's path. An unrecognised or empty value is ignored
/// here; the `kobai` command refuses it.
///
/// ```
/// use kobai::SimdLevel;
///
/// let in_use = SimdLevel::in_use();
/// assert!(in_use <= SimdLevel::detected());
/// assert!(SimdLevel::available().contains(&in_use));
/// assert_eq!("avx2".parse::<SimdLevel>()?, SimdLevel::Avx2);
/// assert!("sse9".parse::<SimdLevel>().is_err());
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SimdLevel {
    /// Plain Rust, on any processor.
    Portable,
    /// x86-64 with AVX2 and FMA: 256-bit vectors.
    Avx2,
    /// x86-64 with AVX-512 (F, BW, CD, DQ and VL): 512-bit vectors.
    Avx512,
}

/// The environment variable that caps [`SimdLevel::in_use`].
///
/// ```
/// // `KOBAI_SIMD=avx2 kobai train …` runs the AVX2 kernels on an AVX-512 machine.
/// assert_eq!(kobai::SIMD_ENV, "KOBAI_SIMD");
/// ```
pub const SIMD_ENV: &str = "KOBAI_SIMD";

impl SimdLevel {
    /// Every level, narrowest first.
    pub const ALL: [SimdLevel; 3] = [SimdLevel::Portable, SimdLevel::Avx2, SimdLevel::Avx512];

    /// The widest level this processor runs.
    ///
    /// ```
    /// assert!(kobai::SimdLevel::detected() >= kobai::SimdLevel::Portable);
    /// ```
    pub fn detected() -> SimdLevel {
        Self::available()
            .last()
            .copied()
            .unwrap_or(SimdLevel::Portable)
    }

    /// Every level this processor runs, narrowest first (always starting
    /// with [`SimdLevel::Portable`]).
    ///
    /// ```
    /// assert_eq!(kobai::SimdLevel::available()[0], kobai::SimdLevel::Portable);
    /// ```
    pub fn available() -> Vec<SimdLevel> {
        Self::ALL
            .into_iter()
            .filter(|level| level.is_supported())
            .collect()
    }

    /// The level the kernels run on: [`SimdLevel::detected`], lowered to
    /// `KOBAI_SIMD` when that names a narrower level. Read once per process.
    ///
    /// ```
    /// let level = kobai::SimdLevel::in_use();
    /// println!("kernels run on {level}");
    /// ```
    pub fn in_use() -> SimdLevel {
        static IN_USE: OnceLock<SimdLevel> = OnceLock::new();
        *IN_USE.get_or_init(|| {
            let cap = std::env::var(SIMD_ENV)
                .ok()
                .and_then(|v| v.parse::<SimdLevel>().ok());
            match cap {
                Some(cap) => Self::detected().min(cap),
                None => Self::detected(),
            }
        })
    }

    /// Whether this processor runs this level.
    ///
    /// ```
    /// assert!(kobai::SimdLevel::Portable.is_supported());
    /// ```
    pub fn is_supported(self) -> bool {
        match self {
            SimdLevel::Portable => true,
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx2 => V3::try_new().is_some(),
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx512 => V4::try_new().is_some(),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The name `KOBAI_SIMD` takes for this level.
    ///
    /// ```
    /// assert_eq!(kobai::SimdLevel::Avx512.name(), "avx512");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            SimdLevel::Portable => "portable",
            SimdLevel::Avx2 => "avx2",
            SimdLevel::Avx512 => "avx512",
        }
    }
}

impl fmt::Display for SimdLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SimdLevel {
    type Err = KobaiError;

    /// `portable`, `avx2` or `avx512`, in any case.
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|level| level.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| KobaiError::Hyperparameter {
                name: SIMD_ENV,
                value: s.to_string(),
                expected: "portable, avx2 or avx512",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_order_by_width() {
        for level in SimdLevel::ALL {
            assert_eq!(level.name().parse::<SimdLevel>().unwrap(), level);
            assert_eq!(
                level.name().to_uppercase().parse::<SimdLevel>().unwrap(),
                level
            );
        }
        assert!(SimdLevel::Portable < SimdLevel::Avx2 && SimdLevel::Avx2 < SimdLevel::Avx512);
        let err = "avx".parse::<SimdLevel>().unwrap_err().to_string();
        assert_eq!(
            err,
            "KOBAI_SIMD = avx is invalid; expected portable, avx2 or avx512"
        );
    }

    #[test]
    fn available_levels_are_supported_and_ordered() {
        let levels = SimdLevel::available();
        assert_eq!(levels[0], SimdLevel::Portable);
        assert!(levels.windows(2).all(|w| w[0] < w[1]));
        assert!(levels.iter().all(|l| l.is_supported()));
        assert_eq!(SimdLevel::detected(), *levels.last().unwrap());
        assert!(SimdLevel::in_use() <= SimdLevel::detected());
    }
}
