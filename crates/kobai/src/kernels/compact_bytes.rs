//! A row of bytes (an image's pixels) to its non-zero entries: each one's
//! column, and the value its byte stands for.
//!
//! Three paths give the same entries, bit for bit (tested): AVX-512 (16
//! bytes at a time, the non-zero lanes packed by `vcompressps`), AVX2 (8 at a
//! time, packed by a permutation looked up from the 8-bit mask of non-zero
//! bytes) and a portable one. The vector paths run for `f32` values when
//! `byte as f32 / divisor` reproduces the table of all 256 values exactly
//! (checked when the table is made; true for the usual 255); otherwise, and
//! for `f64`, the portable path runs.

#[cfg(target_arch = "x86_64")]
use pulp::bytemuck;
#[cfg(target_arch = "x86_64")]
use pulp::x86::{V3, V4};
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{__m128i, __m256i, __m512i};

use crate::kernels::{Real, SimdLevel};

/// What each byte stands for, `byte / divisor` rounded to `T`, and whether
/// the vector paths compute the same.
#[derive(Debug, Clone)]
pub(crate) struct ByteTable<T> {
    values: [T; 256],
    /// The divisor as `f32`, when `byte as f32 / divisor` gives every entry
    /// of `values` (which are then `f32`).
    vector_divisor: Option<f32>,
}

impl<T: Real> ByteTable<T> {
    /// The table of `f64::from(byte) / divisor` rounded to `T`.
    pub(crate) fn new(divisor: f64) -> Self {
        let values: [T; 256] = std::array::from_fn(|b| T::from_f64(f64::from(b as u8) / divisor));
        let vector_divisor = (size_of::<T>() == size_of::<f32>())
            .then_some(divisor as f32)
            .filter(|&d| {
                let table: &[f32] = pulp::bytemuck::cast_slice(&values);
                table
                    .iter()
                    .enumerate()
                    .all(|(b, v)| (b as f32 / d).to_bits() == v.to_bits())
            });
        ByteTable {
            values,
            vector_divisor,
        }
    }

    /// What `byte` stands for.
    #[inline(always)]
    pub(crate) fn value(&self, byte: u8) -> T {
        self.values[usize::from(byte)]
    }
}

/// The ways [`compact_bytes`] can run, narrowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum BytePath {
    /// Byte by byte, on any CPU.
    Portable,
    /// 8 bytes at a time (x86-64 with AVX2).
    Avx2,
    /// 16 bytes at a time (x86-64 with AVX-512F/BW/CD/DQ/VL).
    Avx512,
}

impl BytePath {
    /// The widest path this CPU runs for `table`, within
    /// [`SimdLevel::in_use`].
    pub(crate) fn best<T: Real>(table: &ByteTable<T>) -> Self {
        let cap = match SimdLevel::in_use() {
            SimdLevel::Portable => Self::Portable,
            SimdLevel::Avx2 => Self::Avx2,
            SimdLevel::Avx512 => Self::Avx512,
        };
        Self::available(table)
            .into_iter()
            .rfind(|&path| path <= cap)
            .unwrap_or(Self::Portable)
    }

    /// Every path this CPU runs for `table`, narrowest first.
    pub(crate) fn available<T: Real>(table: &ByteTable<T>) -> Vec<Self> {
        let mut paths = vec![Self::Portable];
        #[cfg(target_arch = "x86_64")]
        if table.vector_divisor.is_some() {
            if V3::try_new().is_some() {
                paths.push(Self::Avx2);
            }
            if V4::try_new().is_some() {
                paths.push(Self::Avx512);
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = table;
        paths
    }
}

/// Writes the non-zero entries of `row` (column, value through `table`) to
/// the front of `cols` and `values`, columns ascending; returns how many.
/// Both slices must be at least as long as `row`. `path` must be one of
/// [`BytePath::available`] (another falls back to the portable path).
pub(crate) fn compact_bytes<T: Real>(
    path: BytePath,
    row: &[u8],
    table: &ByteTable<T>,
    cols: &mut [u32],
    values: &mut [T],
) -> usize {
    #[cfg(target_arch = "x86_64")]
    if let Some(divisor) = table.vector_divisor
        && size_of::<T>() == size_of::<f32>()
    {
        // `T` is `f32` (the only 4-byte `Real`): the same bits.
        let values32: &mut [f32] = bytemuck::cast_slice_mut(values);
        let vector = match path {
            BytePath::Avx512 => V4::try_new().map(|simd| {
                simd.vectorize(Avx512 {
                    simd,
                    row,
                    divisor,
                    cols,
                    values: values32,
                })
            }),
            BytePath::Avx2 => V3::try_new().map(|simd| {
                simd.vectorize(Avx2 {
                    simd,
                    row,
                    divisor,
                    cols,
                    values: values32,
                })
            }),
            BytePath::Portable => None,
        };
        if let Some((kept, done)) = vector {
            return kept
                + portable(
                    &row[done..],
                    done,
                    table,
                    &mut cols[kept..],
                    &mut values[kept..],
                );
        }
    }
    let _ = path;
    portable(row, 0, table, cols, values)
}

/// The portable path, for bytes at columns `first..`. Eight zero bytes (an
/// image's background) cost one test. Within a word every byte is written
/// and the count moves on only past a non-zero one: no branch on the
/// pixels, whose zeros and non-zeros mix unpredictably inside an image.
fn portable<T: Real>(
    row: &[u8],
    first: usize,
    table: &ByteTable<T>,
    cols: &mut [u32],
    values: &mut [T],
) -> usize {
    let mut kept = 0;
    let mut keep = |kept: &mut usize, col: usize, b: u8| {
        // kept ≤ col − first < row.len() ≤ the slices' length.
        cols[*kept] = (first + col) as u32;
        values[*kept] = table.value(b);
        *kept += usize::from(b != 0);
    };
    let (words, tail) = row.as_chunks::<8>();
    for (c, word) in words.iter().enumerate() {
        if u64::from_le_bytes(*word) == 0 {
            continue;
        }
        for (i, &b) in word.iter().enumerate() {
            keep(&mut kept, c * 8 + i, b);
        }
    }
    let tail_start = words.len() * 8;
    for (i, &b) in tail.iter().enumerate() {
        keep(&mut kept, tail_start + i, b);
    }
    kept
}

/// The AVX-512 path over the whole 16-byte blocks of a row: (entries kept,
/// bytes done). A call `V4::vectorize` inlines into its target-feature
/// function (a closure may stay out of line, and its intrinsics become calls).
#[cfg(target_arch = "x86_64")]
struct Avx512<'a> {
    simd: V4,
    row: &'a [u8],
    divisor: f32,
    cols: &'a mut [u32],
    values: &'a mut [f32],
}

#[cfg(target_arch = "x86_64")]
impl pulp::NullaryFnOnce for Avx512<'_> {
    type Output = (usize, usize);

    #[inline(always)]
    fn call(self) -> (usize, usize) {
        let Avx512 {
            simd,
            row,
            divisor,
            cols,
            values,
        } = self;
        let f = simd.avx512f;
        let iota: __m512i = bytemuck::cast(std::array::from_fn::<u32, 16, _>(|i| i as u32));
        let divisor = f._mm512_set1_ps(divisor);
        let (blocks, _) = row.as_chunks::<16>();
        let mut kept = 0;
        for (c, block) in blocks.iter().enumerate() {
            if u128::from_le_bytes(*block) == 0 {
                continue;
            }
            let wide = f._mm512_cvtepu8_epi32(bytemuck::cast::<[u8; 16], __m128i>(*block));
            let nonzero = f._mm512_test_epi32_mask(wide, wide);
            let col = f._mm512_add_epi32(iota, f._mm512_set1_epi32((c * 16) as i32));
            let value = f._mm512_div_ps(f._mm512_cvtepi32_ps(wide), divisor);
            let col: [u32; 16] = bytemuck::cast(f._mm512_maskz_compress_epi32(nonzero, col));
            let value: [f32; 16] = bytemuck::cast(f._mm512_maskz_compress_ps(nonzero, value));
            // kept ≤ 16c, so kept + 16 ≤ the bytes so far ≤ the slices' length.
            cols[kept..kept + 16].copy_from_slice(&col);
            values[kept..kept + 16].copy_from_slice(&value);
            kept += nonzero.count_ones() as usize;
        }
        (kept, blocks.len() * 16)
    }
}

/// For each 8-bit mask of non-zero lanes, the lanes to keep in order, then
/// zeros: the permutation that packs them to the front.
#[cfg(target_arch = "x86_64")]
static PACK8: [[u32; 8]; 256] = {
    let mut table = [[0u32; 8]; 256];
    let mut mask = 0;
    while mask < 256 {
        let (mut lane, mut kept) = (0, 0);
        while lane < 8 {
            if mask & (1 << lane) != 0 {
                table[mask][kept] = lane as u32;
                kept += 1;
            }
            lane += 1;
        }
        mask += 1;
    }
    table
};

/// The AVX2 path over the whole 8-byte words of a row, as [`Avx512`].
#[cfg(target_arch = "x86_64")]
struct Avx2<'a> {
    simd: V3,
    row: &'a [u8],
    divisor: f32,
    cols: &'a mut [u32],
    values: &'a mut [f32],
}

#[cfg(target_arch = "x86_64")]
impl pulp::NullaryFnOnce for Avx2<'_> {
    type Output = (usize, usize);

    #[inline(always)]
    fn call(self) -> (usize, usize) {
        let Avx2 {
            simd,
            row,
            divisor,
            cols,
            values,
        } = self;
        let (avx, avx2) = (simd.avx, simd.avx2);
        let zero = avx._mm256_setzero_si256();
        let divisor = avx._mm256_set1_ps(divisor);
        let (words, _) = row.as_chunks::<8>();
        let mut kept = 0;
        for (c, word) in words.iter().enumerate() {
            let word = u64::from_le_bytes(*word);
            if word == 0 {
                continue;
            }
            let wide = avx2._mm256_cvtepu8_epi32(bytemuck::cast::<[u64; 2], __m128i>([word, 0]));
            let zeros = avx2._mm256_cmpeq_epi32(wide, zero);
            let nonzero = !avx._mm256_movemask_ps(avx._mm256_castsi256_ps(zeros)) as u8;
            let lanes: __m256i = bytemuck::cast(PACK8[usize::from(nonzero)]);
            let col = avx2._mm256_add_epi32(lanes, avx._mm256_set1_epi32((c * 8) as i32));
            let value = avx._mm256_div_ps(avx._mm256_cvtepi32_ps(wide), divisor);
            let value = avx2._mm256_permutevar8x32_ps(value, lanes);
            let col: [u32; 8] = bytemuck::cast(col);
            let value: [f32; 8] = bytemuck::cast(value);
            // kept ≤ 8c, so kept + 8 ≤ the bytes so far ≤ the slices' length.
            cols[kept..kept + 8].copy_from_slice(&col);
            values[kept..kept + 8].copy_from_slice(&value);
            kept += nonzero.count_ones() as usize;
        }
        (kept, words.len() * 8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The entries of `row` by definition.
    fn expected<T: Real>(row: &[u8], table: &ByteTable<T>) -> Vec<(u32, T)> {
        row.iter()
            .enumerate()
            .filter(|(_, b)| **b != 0)
            .map(|(i, &b)| (i as u32, table.value(b)))
            .collect()
    }

    fn compacted<T: Real>(path: BytePath, row: &[u8], table: &ByteTable<T>) -> Vec<(u32, T)> {
        let (mut cols, mut values) = (vec![7u32; row.len()], vec![T::one(); row.len()]);
        let kept = compact_bytes(path, row, table, &mut cols, &mut values);
        cols[..kept]
            .iter()
            .copied()
            .zip(values[..kept].iter().copied())
            .collect()
    }

    /// Rows of every length to 40 (whole blocks of 8 and 16, tails), zeros
    /// and non-zeros mixed in every way within a word.
    fn rows() -> impl Iterator<Item = Vec<u8>> {
        (0..40).flat_map(|len| {
            (0u32..64).map(move |pattern| {
                (0..len)
                    .map(|i| {
                        if (pattern >> (i % 6)) & 1 == 1 {
                            (i * 37 + 1) as u8
                        } else {
                            0
                        }
                    })
                    .collect()
            })
        })
    }

    #[test]
    fn every_path_keeps_the_non_zero_entries_in_order() {
        let table = ByteTable::<f32>::new(255.0);
        let paths = BytePath::available(&table);
        if cfg!(target_arch = "x86_64") && !paths.contains(&BytePath::Avx512) {
            eprintln!("note: this CPU has no AVX-512: that path is not tested here");
        }
        for path in paths {
            for row in rows() {
                assert_eq!(
                    compacted(path, &row, &table),
                    expected(&row, &table),
                    "{path:?} {row:?}"
                );
            }
        }
        let table = ByteTable::<f64>::new(255.0);
        assert_eq!(BytePath::available(&table), [BytePath::Portable]);
        for row in rows() {
            assert_eq!(
                compacted(BytePath::Portable, &row, &table),
                expected(&row, &table)
            );
        }
    }

    #[test]
    fn the_vector_paths_give_the_tables_bits_for_every_byte() {
        for divisor in [255.0, 1.0, 256.0, 100.0] {
            let table = ByteTable::<f32>::new(divisor);
            let row: Vec<u8> = (0..=255).collect();
            for path in BytePath::available(&table) {
                let got = compacted(path, &row, &table);
                let want = expected(&row, &table);
                let bits =
                    |v: &[(u32, f32)]| v.iter().map(|(c, v)| (*c, v.to_bits())).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "{path:?} divisor {divisor}");
            }
        }
    }

    #[test]
    fn a_divisor_the_vectors_cannot_reproduce_keeps_the_portable_path() {
        // 1/3 ≈ 0.33: `b as f32 / 0.33f32` differs from `(b / 0.33) as f32` somewhere.
        let table = ByteTable::<f32>::new(1.0 / 3.0 + 1e-12);
        if table.vector_divisor.is_none() {
            assert_eq!(BytePath::available(&table), [BytePath::Portable]);
        }
        let row: Vec<u8> = (0..=255).collect();
        assert_eq!(
            compacted(BytePath::best(&table), &row, &table),
            expected(&row, &table)
        );
    }
}
