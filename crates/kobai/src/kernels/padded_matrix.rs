//! A dense row-major matrix padded to whole SIMD vectors, for the kernels.

use ndarray::{Array2, ArrayRef2};

use crate::kernels::Real;

/// A dense row-major matrix whose rows are padded with zeros to a whole
/// number of SIMD vectors, its first element on a cache line.
///
/// The alignment matters: a large allocation starts 16 bytes past a page
/// boundary, so without it every other 32-byte vector of the weight rows
/// straddles two cache lines and costs two loads.
#[derive(Debug, Default)]
pub(crate) struct PaddedMatrix<T> {
    /// The elements from `offset` on; before it, fewer than a cache line's
    /// worth of unused zeros.
    storage: Vec<T>,
    offset: usize,
    rows: usize,
    cols: usize,
    stride: usize,
}

/// Bytes of a cache line.
const CACHE_LINE: usize = 64;

impl<T: Real> PaddedMatrix<T> {
    /// A `rows × cols` matrix of zeros.
    pub(crate) fn zeros(rows: usize, cols: usize) -> Self {
        let stride = cols.div_ceil(T::LANES) * T::LANES;
        let (storage, offset) = aligned_zeros(rows * stride);
        PaddedMatrix {
            storage,
            offset,
            rows,
            cols,
            stride,
        }
    }

    /// `a` rounded to `T`.
    #[cfg(test)]
    pub(crate) fn from_f64(a: &ArrayRef2<f64>) -> Self {
        let mut m = Self::default();
        m.assign_f64(a);
        m
    }

    /// Makes this a `rows × cols` matrix. Its contents are unspecified unless
    /// the shape changed (then all zeros); padding columns stay zero as long as
    /// only the first `cols` columns are written.
    pub(crate) fn reshape(&mut self, rows: usize, cols: usize) {
        if (self.rows, self.cols) != (rows, cols) {
            *self = Self::zeros(rows, cols);
        }
    }

    /// Becomes `a` rounded to `T`, with zero padding.
    pub(crate) fn assign_f64(&mut self, a: &ArrayRef2<f64>) {
        self.reshape(a.nrows(), a.ncols());
        let stride = self.stride;
        for (row, source) in self.as_mut_slice().chunks_exact_mut(stride).zip(a.rows()) {
            match source.as_slice() {
                Some(source) => row
                    .iter_mut()
                    .zip(source)
                    .for_each(|(d, &s)| *d = T::from_f64(s)),
                None => row
                    .iter_mut()
                    .zip(source)
                    .for_each(|(d, &s)| *d = T::from_f64(s)),
            }
        }
    }

    /// The number of rows.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// The elements per stored row: the columns rounded up to whole vectors.
    pub(crate) fn stride(&self) -> usize {
        self.stride
    }

    /// All rows, padding included.
    pub(crate) fn as_slice(&self) -> &[T] {
        &self.storage[self.offset..][..self.rows * self.stride]
    }

    /// All rows, padding included.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.storage[self.offset..][..self.rows * self.stride]
    }

    /// The first `cols` columns of each row, as `f64`.
    pub(crate) fn to_f64(&self) -> Array2<f64> {
        let mut values = Vec::with_capacity(self.rows * self.cols);
        for row in self.as_slice().chunks_exact(self.stride) {
            values.extend(row[..self.cols].iter().map(|v| v.to_f64()));
        }
        Array2::from_shape_vec((self.rows, self.cols), values)
            .expect("rows × cols values, collected row by row")
    }
}

/// `len` zeros starting on a cache line: the storage and the offset of the
/// first of them. (The address is read, never written through: safe.)
fn aligned_zeros<T: Real>(len: usize) -> (Vec<T>, usize) {
    let slack = CACHE_LINE / size_of::<T>();
    let storage = vec![T::default(); len + slack];
    let misalignment = storage.as_ptr() as usize % CACHE_LINE;
    let offset = ((CACHE_LINE - misalignment) % CACHE_LINE) / size_of::<T>();
    (storage, offset)
}

impl<T: Real> Clone for PaddedMatrix<T> {
    /// A copy in storage of its own, aligned in turn.
    fn clone(&self) -> Self {
        let mut copy = Self::zeros(self.rows, self.cols);
        copy.as_mut_slice().copy_from_slice(self.as_slice());
        copy
    }
}

impl<T: Real> PartialEq for PaddedMatrix<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.rows, self.cols) == (other.rows, other.cols) && self.as_slice() == other.as_slice()
    }
}
