//! A batch of input rows kept as their non-zero entries (compressed sparse rows).

use ndarray::{ArrayRef2, ArrayView2};

use crate::check;
use crate::error::Result;
use crate::kernels::Real;

/// The non-zero entries of each row of a matrix, row after row, columns
/// ascending: row `r` is `cols[starts[r]..starts[r + 1]]` with `values` beside.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SparseRows<T> {
    starts: Vec<usize>,
    cols: Vec<u32>,
    values: Vec<T>,
    width: usize,
}

impl<T: Real> SparseRows<T> {
    /// The non-zero entries of `x`, rounded to `T`.
    ///
    /// # Errors
    /// [`crate::KobaiError::NonFinite`] at the first NaN or infinite element,
    /// named `what`.
    #[cfg(test)]
    pub(crate) fn from_dense(what: &str, x: &ArrayRef2<f64>) -> Result<Self> {
        let mut rows = SparseRows::default();
        rows.fill_from_dense(what, x)?;
        Ok(rows)
    }

    /// Refills these rows with the non-zero entries of `x`, reusing the
    /// buffers. On error the rows are left empty.
    ///
    /// # Errors
    /// As [`SparseRows::from_dense`].
    pub(crate) fn fill_from_dense(&mut self, what: &str, x: &ArrayRef2<f64>) -> Result<()> {
        self.starts.clear();
        self.starts.push(0);
        self.width = x.ncols();
        // Room for every entry (kept from call to call, so no refill).
        if self.cols.len() < x.len() {
            self.cols.resize(x.len(), 0);
            self.values.resize(x.len(), T::default());
        }
        let mut next = 0;
        let mut finite = true;
        let mut row_buffer = Vec::new();
        for row in x.rows() {
            let row = match row.as_slice() {
                Some(slice) => slice,
                None => {
                    row_buffer.clear();
                    row_buffer.extend(row.iter().copied());
                    &row_buffer
                }
            };
            let (kept, row_finite) = compact_row(
                row,
                &mut self.cols[next..next + row.len()],
                &mut self.values[next..next + row.len()],
            );
            finite &= row_finite;
            next += kept;
            self.starts.push(next);
        }
        if !finite {
            self.starts.truncate(1);
            check::finite(what, x)?;
        }
        Ok(())
    }

    /// Refills these rows with rows `indices` of `pixels`, each byte `b`
    /// standing for `f64::from(b) / divisor` rounded to `T` — the same bits
    /// as [`crate::data::Dataset::batch`] followed by [`SparseRows::fill_from_dense`].
    /// The indices must be in range.
    pub(crate) fn fill_from_bytes(
        &mut self,
        pixels: ArrayView2<'_, u8>,
        divisor: f64,
        indices: &[usize],
    ) {
        let table: [T; 256] = std::array::from_fn(|b| T::from_f64(f64::from(b as u8) / divisor));
        let width = pixels.ncols();
        self.starts.clear();
        self.starts.push(0);
        self.width = width;
        let len = indices.len() * width;
        if self.cols.len() < len {
            self.cols.resize(len, 0);
            self.values.resize(len, T::default());
        }
        let mut next = 0;
        let mut row_buffer = Vec::new();
        for &i in indices {
            let row = pixels.row(i);
            let row = match row.to_slice() {
                Some(slice) => slice,
                None => {
                    row_buffer.clear();
                    row_buffer.extend(row.iter().copied());
                    &row_buffer
                }
            };
            next += compact_bytes(
                row,
                &table,
                &mut self.cols[next..next + width],
                &mut self.values[next..next + width],
            );
            self.starts.push(next);
        }
    }

    /// The number of rows.
    pub(crate) fn rows(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// The number of columns of the dense matrix.
    pub(crate) fn width(&self) -> usize {
        self.width
    }

    /// The number of stored (non-zero) entries.
    pub(crate) fn nonzeros(&self) -> usize {
        self.starts.last().copied().unwrap_or(0)
    }

    /// Row `r`: its non-zero columns and their values.
    #[inline(always)]
    pub(crate) fn row(&self, r: usize) -> (&[u32], &[T]) {
        let range = self.starts[r]..self.starts[r + 1];
        (&self.cols[range.clone()], &self.values[range])
    }
}

/// Writes the non-zero entries of `row` (column, value) to the front of
/// `cols` and `values`; returns how many, and whether every entry was finite.
/// Runs of eight zeros (an image's background) cost one test.
fn compact_row<T: Real>(row: &[f64], cols: &mut [u32], values: &mut [T]) -> (usize, bool) {
    let mut kept = 0;
    let mut finite = true;
    let chunks = row.chunks_exact(8);
    let tail_start = row.len() - chunks.remainder().len();
    for (c, chunk) in chunks.enumerate() {
        let mut mask = 0u32;
        for (i, &v) in chunk.iter().enumerate() {
            mask |= u32::from(v != 0.0) << i;
            finite &= v.is_finite();
        }
        while mask != 0 {
            let i = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            // Columns beyond u32 cannot occur: W would not fit in memory.
            cols[kept] = (c * 8 + i) as u32;
            values[kept] = T::from_f64(chunk[i]);
            kept += 1;
        }
    }
    for (i, &v) in row[tail_start..].iter().enumerate() {
        finite &= v.is_finite();
        if v != 0.0 {
            cols[kept] = (tail_start + i) as u32;
            values[kept] = T::from_f64(v);
            kept += 1;
        }
    }
    (kept, finite)
}

/// As [`compact_row`] for bytes through `table`; eight zero bytes (an
/// image's background) cost one test. Within a word every byte is written
/// and the count moves on only past a non-zero one: no branch on the
/// pixels, whose zeros and non-zeros mix unpredictably inside an image.
fn compact_bytes<T: Real>(
    row: &[u8],
    table: &[T; 256],
    cols: &mut [u32],
    values: &mut [T],
) -> usize {
    let mut kept = 0;
    let mut keep = |kept: &mut usize, col: usize, b: u8| {
        // kept ≤ col < row.len() ≤ the slices' length.
        cols[*kept] = col as u32;
        values[*kept] = table[usize::from(b)];
        *kept += usize::from(b != 0);
    };
    let chunks = row.chunks_exact(8);
    let tail_start = row.len() - chunks.remainder().len();
    for (c, chunk) in chunks.enumerate() {
        let word = u64::from_le_bytes([
            chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
        ]);
        if word == 0 {
            continue;
        }
        for (i, &b) in chunk.iter().enumerate() {
            keep(&mut kept, c * 8 + i, b);
        }
    }
    for (i, &b) in row[tail_start..].iter().enumerate() {
        keep(&mut kept, tail_start + i, b);
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn bytes_keep_their_non_zero_entries_in_order_whatever_the_pattern() {
        let table: [f32; 256] = std::array::from_fn(|b| (f64::from(b as u8) / 255.0) as f32);
        // Every length to 19 (whole words and tails), zeros and non-zeros mixed.
        for len in 0..20 {
            for pattern in 0u32..64 {
                let row: Vec<u8> = (0..len)
                    .map(|i| {
                        if (pattern >> (i % 6)) & 1 == 1 {
                            (i * 37 + 1) as u8
                        } else {
                            0
                        }
                    })
                    .collect();
                let (mut cols, mut values) = (vec![7u32; len], vec![-1.0f32; len]);
                let kept = compact_bytes(&row, &table, &mut cols, &mut values);
                let expected: Vec<(u32, f32)> = row
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b != 0)
                    .map(|(i, &b)| (i as u32, table[usize::from(b)]))
                    .collect();
                let got: Vec<(u32, f32)> = cols[..kept]
                    .iter()
                    .copied()
                    .zip(values[..kept].iter().copied())
                    .collect();
                assert_eq!(got, expected, "{row:?}");
            }
        }
    }

    #[test]
    fn keeps_the_non_zero_entries_in_order() -> Result<()> {
        let x = array![[0.0, 1.5, 0.0], [0.0, 0.0, 0.0], [2.0, 0.0, -3.0]];
        let rows = SparseRows::<f64>::from_dense("x", &x)?;
        assert_eq!((rows.rows(), rows.width(), rows.nonzeros()), (3, 3, 3));
        assert_eq!(rows.row(0), (&[1u32][..], &[1.5][..]));
        assert_eq!(rows.row(1), (&[][..], &[][..]));
        assert_eq!(rows.row(2), (&[0u32, 2][..], &[2.0, -3.0][..]));
        Ok(())
    }

    #[test]
    fn names_the_first_non_finite_element() {
        let x = array![[0.0, 1.0], [f64::NAN, 0.0]];
        let err = SparseRows::<f32>::from_dense("x", &x).unwrap_err();
        assert!(err.to_string().starts_with("x is NaN at index [1, 0]"));
    }
}
