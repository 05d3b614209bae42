//! A batch of input rows kept as their non-zero entries (compressed sparse rows).

use ndarray::ArrayRef2;

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
        // Branch-free compaction: every entry is written, only non-zeros advance.
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
            let cols = &mut self.cols[next..next + row.len()];
            let values = &mut self.values[next..next + row.len()];
            let mut kept = 0;
            for (col, &v) in row.iter().enumerate() {
                finite &= v.is_finite();
                // Columns beyond u32 cannot occur: W would not fit in memory.
                cols[kept] = col as u32;
                values[kept] = T::from_f64(v);
                // kept ≤ col, so the next write stays inside the row.
                kept += usize::from(v != 0.0);
            }
            next += kept;
            self.starts.push(next);
        }
        if !finite {
            self.starts.truncate(1);
            check::finite(what, x)?;
        }
        Ok(())
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
