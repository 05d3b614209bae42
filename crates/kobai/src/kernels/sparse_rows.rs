//! A batch of input rows kept as their non-zero entries (compressed sparse rows).

use ndarray::{ArrayRef2, ArrayView2};

use crate::check;
use crate::error::Result;
use crate::kernels::Real;
use crate::kernels::compact_bytes::{BytePath, ByteTable, compact_bytes};

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
        let table = ByteTable::<T>::new(divisor);
        let path = BytePath::best(&table);
        let width = pixels.ncols();
        self.starts.clear();
        self.starts.push(0);
        self.width = width;
        let len = indices.len() * width;
        if self.cols.len() < len {
            self.cols.resize(len, 0);
            self.values.resize(len, T::default());
        }
        touch_rows(pixels, indices);
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
                path,
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
    #[cfg(any(feature = "parallel", test))]
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

/// Reads one byte of every cache line of rows `indices` of `pixels`, so that
/// the compaction that follows finds them in cache. A loop of independent
/// loads keeps many memory requests in flight at once; the compaction's own
/// loads, spread among its other work, keep only a few. Rows picked at random
/// from a large dataset (a training batch) come in from memory about twice
/// as fast this way.
fn touch_rows(pixels: ArrayView2<'_, u8>, indices: &[usize]) {
    const LINE: usize = 64;
    let mut sum = 0u8;
    for &i in indices {
        let row = pixels.row(i);
        if let Some(row) = row.to_slice() {
            for line in row.chunks(LINE) {
                sum ^= line[0];
            }
        }
    }
    std::hint::black_box(sum);
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

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

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
