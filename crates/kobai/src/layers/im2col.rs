//! `im2col` and `col2im` (the book's `common/util.py`): a batch of images
//! unrolled into one row per filter position, so that a convolution or a
//! pooling is a matrix operation, and back.

use std::borrow::Cow;

use ndarray::{Array2, Array4, ArrayRef, ArrayRef2, ArrayRef4, Dimension};

use crate::error::{KobaiError, Result};

/// Where a filter (or a pooling window) of `height × width` visits an image:
/// every `stride` pixels, over the image framed by `pad` zeros on each side.
///
/// The output has `(H + 2·pad − height) / stride + 1` rows of positions
/// (rounded down, as the book's `//`), and as many columns by the same rule.
///
/// ```
/// use kobai::layers::Window;
/// let window = Window::new(3, 3, 2, 1)?;
/// assert_eq!(window.output_size(8, 6)?, (4, 3));
/// assert!(Window::new(3, 3, 0, 0).is_err(), "stride 0");
/// assert!(window.output_size(0, 0).is_err(), "a 3x3 window needs 3x3 after padding");
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    height: usize,
    width: usize,
    stride: usize,
    pad: usize,
}

impl Window {
    /// A window of `height × width` moved by `stride` over images padded
    /// with `pad` zeros.
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`] if `height`, `width` or `stride` is 0.
    ///
    /// ```
    /// use kobai::layers::Window;
    /// let window = Window::new(5, 3, 1, 2)?;
    /// assert_eq!((window.height(), window.width(), window.stride(), window.pad()), (5, 3, 1, 2));
    /// assert!(Window::new(0, 3, 1, 0).is_err());
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn new(height: usize, width: usize, stride: usize, pad: usize) -> Result<Self> {
        for (name, value) in [
            ("window height", height),
            ("window width", width),
            ("stride", stride),
        ] {
            if value == 0 {
                return Err(KobaiError::Hyperparameter {
                    name,
                    value: "0".into(),
                    expected: "at least 1",
                });
            }
        }
        Ok(Window {
            height,
            width,
            stride,
            pad,
        })
    }

    /// The window's height (the book's `filter_h`, `pool_h`).
    ///
    /// ```
    /// assert_eq!(kobai::layers::Window::new(5, 3, 1, 0)?.height(), 5);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn height(&self) -> usize {
        self.height
    }

    /// The window's width (the book's `filter_w`, `pool_w`).
    ///
    /// ```
    /// assert_eq!(kobai::layers::Window::new(5, 3, 1, 0)?.width(), 3);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn width(&self) -> usize {
        self.width
    }

    /// How far the window moves each step, down and across.
    ///
    /// ```
    /// assert_eq!(kobai::layers::Window::new(2, 2, 2, 0)?.stride(), 2);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// The zeros added on each side of the image.
    ///
    /// ```
    /// assert_eq!(kobai::layers::Window::new(3, 3, 1, 1)?.pad(), 1);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn pad(&self) -> usize {
        self.pad
    }

    /// The output's height and width for an image of `height × width`:
    /// `(H + 2·pad − FH) / stride + 1` rows, `(W + 2·pad − FW) / stride + 1`
    /// columns, rounded down.
    ///
    /// # Errors
    /// [`KobaiError::Shape`] if the window is larger than the padded image.
    ///
    /// ```
    /// use kobai::layers::Window;
    /// assert_eq!(Window::new(5, 5, 1, 0)?.output_size(28, 28)?, (24, 24));
    /// assert_eq!(Window::new(2, 2, 2, 0)?.output_size(7, 7)?, (3, 3), "the last row is left out");
    /// let err = Window::new(5, 5, 1, 1)?.output_size(2, 9).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "image has shape [2, 9] but a 5x5 window with pad 1 needs an image of at least 3x3"
    /// );
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn output_size(&self, height: usize, width: usize) -> Result<(usize, usize)> {
        let padded = |size: usize| self.pad.checked_mul(2).and_then(|p| p.checked_add(size));
        let fits = |size: usize, window: usize| padded(size).is_some_and(|p| p >= window);
        if padded(height).is_none() || padded(width).is_none() {
            return Err(KobaiError::Shape {
                what: "image".into(),
                expected: format!("pad {} is too large to add to it", self.pad),
                found: vec![height, width],
            });
        }
        if !(fits(height, self.height) && fits(width, self.width)) {
            let need = |window: usize| window.saturating_sub(self.pad.saturating_mul(2));
            return Err(KobaiError::Shape {
                what: "image".into(),
                expected: format!(
                    "a {}x{} window with pad {} needs an image of at least {}x{}",
                    self.height,
                    self.width,
                    self.pad,
                    need(self.height),
                    need(self.width)
                ),
                found: vec![height, width],
            });
        }
        // Both padded sizes exist: `fits` checked them.
        let out =
            |size: usize, window: usize| padded(size).map_or(0, |p| (p - window) / self.stride + 1);
        Ok((out(height, self.height), out(width, self.width)))
    }

    /// [`output_size`](Self::output_size), its error naming `what` of shape `found`.
    pub(crate) fn output_size_of(
        &self,
        what: &str,
        found: &[usize],
        (height, width): (usize, usize),
    ) -> Result<(usize, usize)> {
        self.output_size(height, width).map_err(|e| match e {
            KobaiError::Shape { expected, .. } => KobaiError::Shape {
                what: what.into(),
                expected,
                found: found.to_vec(),
            },
            other => other,
        })
    }

    /// The matrix shape of [`im2col`] for a batch of `shape` (N, C, H, W).
    fn col_shape(&self, what: &str, shape: [usize; 4]) -> Result<(usize, usize, usize, usize)> {
        let [n, c, h, w] = shape;
        let (oh, ow) = self.output_size_of(what, &shape, (h, w))?;
        let rows = n.checked_mul(oh).and_then(|r| r.checked_mul(ow));
        let cols = c
            .checked_mul(self.height)
            .and_then(|k| k.checked_mul(self.width));
        match (rows, cols) {
            (Some(rows), Some(cols)) if rows.checked_mul(cols).is_some() => {
                Ok((oh, ow, rows, cols))
            }
            _ => Err(KobaiError::Shape {
                what: what.into(),
                expected: "its unrolled matrix would have more elements than memory can address"
                    .into(),
                found: shape.to_vec(),
            }),
        }
    }
}

/// For output column `x0` (in padded coordinates), the range of window
/// columns that land inside an image `size` wide, and the image column of
/// the first: `None` when the whole window row lies in the padding.
fn inside(x0: usize, pad: usize, window: usize, size: usize) -> Option<(usize, usize, usize)> {
    let lo = pad.saturating_sub(x0);
    let hi = window.min((size + pad).saturating_sub(x0));
    (lo < hi).then(|| (lo, hi, x0 + lo - pad))
}

/// The elements of `x` in row-major order, borrowed when they already are.
fn contiguous<D: Dimension>(x: &ArrayRef<f64, D>) -> Cow<'_, [f64]> {
    match x.as_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(x.iter().copied().collect()),
    }
}

/// Visits every (matrix row, image offset, row offset, length) run that
/// [`im2col`] copies and [`col2im`] adds back.
fn for_each_run(
    (n, c, h, w): (usize, usize, usize, usize),
    (oh, ow): (usize, usize),
    window: &Window,
    mut visit: impl FnMut(usize, usize, usize, usize),
) {
    let (fh, fw, s, pad) = (window.height, window.width, window.stride, window.pad);
    let mut row = 0;
    for img in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                if let Some((lo, hi, ix)) = inside(ox * s, pad, fw, w) {
                    for ch in 0..c {
                        for ky in 0..fh {
                            let iy = oy * s + ky;
                            if iy < pad || iy - pad >= h {
                                continue;
                            }
                            let image = ((img * c + ch) * h + iy - pad) * w + ix;
                            visit(row, image, (ch * fh + ky) * fw + lo, hi - lo);
                        }
                    }
                }
                row += 1;
            }
        }
    }
}

/// Unrolls a batch of images (N, C, H, W) into a matrix with one row per
/// image and window position — rows in the order (n, out_y, out_x) — and
/// one column per (channel, window row, window column): the book's
/// `im2col(input_data, filter_h, filter_w, stride, pad)`, shape
/// (N·OH·OW, C·FH·FW). Padding pixels are 0.
///
/// # Errors
/// [`KobaiError::Shape`] if the window is larger than the padded images.
///
/// ```
/// use kobai::layers::{Window, im2col};
/// use ndarray::Array;
/// let x = Array::from_shape_vec((1, 1, 3, 3), (1..=9).map(f64::from).collect())?;
/// let col = im2col(&x, &Window::new(2, 2, 1, 0)?)?;
/// assert_eq!(col, ndarray::array![
///     [1.0, 2.0, 4.0, 5.0],
///     [2.0, 3.0, 5.0, 6.0],
///     [4.0, 5.0, 7.0, 8.0],
///     [5.0, 6.0, 8.0, 9.0],
/// ]);
/// // The book's shapes: 10 images of 3x7x7, a 5x5 filter → (10·3·3, 3·5·5).
/// let big = ndarray::Array4::<f64>::zeros((10, 3, 7, 7));
/// assert_eq!(im2col(&big, &Window::new(5, 5, 1, 0)?)?.dim(), (90, 75));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn im2col(x: &ArrayRef4<f64>, window: &Window) -> Result<Array2<f64>> {
    let (n, c, h, w) = x.dim();
    let (_, _, rows, cols) = window.col_shape("im2col input", [n, c, h, w])?;
    let mut col = vec![0.0; rows * cols];
    im2col_into(x, window, &mut col)?;
    Array2::from_shape_vec((rows, cols), col).map_err(|e| KobaiError::Shape {
        what: "im2col output".into(),
        expected: format!("expected ({rows}, {cols}) ({e})"),
        found: vec![rows * cols],
    })
}

/// [`im2col`] into `col`, row-major, which must have its size and hold 0
/// wherever the padding falls: zeros, or what an earlier call of the same
/// geometry left there (it writes every element that is not padding). A
/// convolution reuses one such buffer for every image of a batch.
pub(crate) fn im2col_into(x: &ArrayRef4<f64>, window: &Window, col: &mut [f64]) -> Result<()> {
    let (n, c, h, w) = x.dim();
    let (oh, ow, rows, cols) = window.col_shape("im2col input", [n, c, h, w])?;
    if col.len() != rows * cols {
        return Err(KobaiError::Shape {
            what: "im2col buffer".into(),
            expected: format!("expected ({rows}, {cols}) elements"),
            found: vec![col.len()],
        });
    }
    let src = contiguous(x);
    for_each_run((n, c, h, w), (oh, ow), window, |row, image, at, len| {
        let dst = row * cols + at;
        col[dst..dst + len].copy_from_slice(&src[image..image + len]);
    });
    Ok(())
}

/// Folds a matrix laid out as [`im2col`]'s back into images of `shape`
/// (N, C, H, W), *adding* the entries that fall on the same pixel and
/// dropping those that fall on the padding: the book's `col2im`, and the
/// transpose of `im2col` (so it carries a gradient back).
///
/// # Errors
/// [`KobaiError::Shape`] if the window is larger than the padded images, or
/// `col` does not have `im2col`'s shape for them.
///
/// ```
/// use kobai::layers::{Window, col2im};
/// use ndarray::{Array2, array};
/// // Four 2x2 windows of ones over a 3x3 image: the centre is in all four.
/// let img = col2im(&Array2::ones((4, 4)), (1, 1, 3, 3), &Window::new(2, 2, 1, 0)?)?;
/// assert_eq!(img.into_shape_with_order((3, 3))?, array![[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]);
/// assert!(col2im(&Array2::ones((3, 4)), (1, 1, 3, 3), &Window::new(2, 2, 1, 0)?).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn col2im(
    col: &ArrayRef2<f64>,
    shape: (usize, usize, usize, usize),
    window: &Window,
) -> Result<Array4<f64>> {
    let (n, c, h, w) = shape;
    let (oh, ow, rows, cols) = window.col_shape("col2im image", [n, c, h, w])?;
    if col.dim() != (rows, cols) {
        return Err(KobaiError::Shape {
            what: "col2im input".into(),
            expected: format!(
                "images of {:?} under a {}x{} window (stride {}, pad {}) unroll to ({rows}, {cols})",
                [n, c, h, w],
                window.height,
                window.width,
                window.stride,
                window.pad
            ),
            found: col.shape().to_vec(),
        });
    }
    let mut img = Array4::<f64>::zeros(shape);
    let src = contiguous(col);
    if let Some(dst) = img.as_slice_mut() {
        for_each_run(shape, (oh, ow), window, |row, image, at, len| {
            let from = row * cols + at;
            for (d, s) in dst[image..image + len]
                .iter_mut()
                .zip(&src[from..from + len])
            {
                *d += s;
            }
        });
    }
    Ok(img)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array, Axis, Slice};

    fn images(shape: (usize, usize, usize, usize)) -> Array4<f64> {
        Array::from_shape_fn(shape, |(n, c, y, x)| {
            (n * 1000 + c * 100 + y * 10 + x) as f64
        })
    }

    /// The book's im2col, slice by slice on a padded copy.
    fn book_im2col(x: &Array4<f64>, win: &Window) -> Array2<f64> {
        let (n, c, h, w) = x.dim();
        let (fh, fw, st, p) = (win.height, win.width, win.stride, win.pad);
        let (oh, ow) = win.output_size(h, w).expect("fits");
        let mut img = Array4::<f64>::zeros((n, c, h + 2 * p, w + 2 * p));
        let mut inner = img.view_mut();
        inner.slice_axis_inplace(Axis(2), Slice::from(p..p + h));
        inner.slice_axis_inplace(Axis(3), Slice::from(p..p + w));
        inner.assign(x);
        let mut col = Array::<f64, _>::zeros((n, c, fh, fw, oh, ow));
        for y in 0..fh {
            for xx in 0..fw {
                // img[:, :, y:y_max:stride, x:x_max:stride]
                // (NumPy clips the slice's end to the axis; ndarray must be told.)
                let (ph, pw) = (h + 2 * p, w + 2 * p);
                let mut src = img.view();
                let rows = Slice::new(
                    y as isize,
                    Some((y + st * oh).min(ph) as isize),
                    st as isize,
                );
                let cols = Slice::new(
                    xx as isize,
                    Some((xx + st * ow).min(pw) as isize),
                    st as isize,
                );
                src.slice_axis_inplace(Axis(2), rows);
                src.slice_axis_inplace(Axis(3), cols);
                col.index_axis_mut(Axis(2), y)
                    .index_axis_move(Axis(2), xx)
                    .assign(&src);
            }
        }
        let col = col.permuted_axes([0, 4, 5, 1, 2, 3]);
        let col = col.as_standard_layout().into_owned();
        col.into_shape_with_order((n * oh * ow, c * fh * fw))
            .expect("reshape")
    }

    #[test]
    fn im2col_is_the_books() -> Result<()> {
        for (shape, (fh, fw, st, p)) in [
            ((2, 3, 5, 5), (3, 3, 1, 0)),
            ((1, 2, 8, 6), (3, 2, 2, 1)),
            ((2, 1, 7, 7), (2, 2, 2, 0)),
            ((1, 1, 4, 5), (5, 5, 3, 2)),
            ((3, 2, 6, 4), (1, 1, 1, 0)),
        ] {
            let x = images(shape);
            let win = Window::new(fh, fw, st, p)?;
            assert_eq!(
                im2col(&x, &win)?,
                book_im2col(&x, &win),
                "{shape:?} {win:?}"
            );
            // A non-standard layout gives the same matrix.
            let t = x.clone().reversed_axes();
            let t = t.as_standard_layout().into_owned().reversed_axes();
            assert_eq!(im2col(&t, &win)?, book_im2col(&x, &win));
        }
        Ok(())
    }

    #[test]
    fn col2im_is_the_transpose_of_im2col() -> Result<()> {
        // <im2col(x), y> = <x, col2im(y)> for any x, y.
        let shape = (2, 2, 5, 4);
        let win = Window::new(3, 2, 2, 1)?;
        let x = images(shape).mapv(|v| (v * 0.37).sin());
        let col = im2col(&x, &win)?;
        let y = Array2::from_shape_fn(col.dim(), |(r, c)| ((r * 7 + c * 3) as f64).cos());
        let left: f64 = (&col * &y).sum();
        let right: f64 = (&x * &col2im(&y, shape, &win)?).sum();
        assert!((left - right).abs() < 1e-10, "{left} vs {right}");
        Ok(())
    }

    #[test]
    fn col2im_adds_overlaps_and_drops_padding() -> Result<()> {
        // A 1x1 image under a 3x3 window with pad 1: one position, and only
        // its centre column lands on the image.
        let win = Window::new(3, 3, 1, 1)?;
        let col = Array2::from_shape_fn((1, 9), |(_, k)| k as f64);
        let img = col2im(&col, (1, 1, 1, 1), &win)?;
        assert_eq!(img[[0, 0, 0, 0]], 4.0);
        assert_eq!(im2col(&img, &win)?.sum_axis(Axis(0))[4], 4.0);
        Ok(())
    }

    #[test]
    fn sizes_that_do_not_fit_are_errors() -> Result<()> {
        let win = Window::new(3, 3, 1, 0)?;
        let err = im2col(&Array4::zeros((1, 1, 2, 5)), &win).unwrap_err();
        assert_eq!(
            err.to_string(),
            "im2col input has shape [1, 1, 2, 5] but a 3x3 window with pad 0 needs an image \
             of at least 3x3"
        );
        assert!(col2im(&Array2::zeros((9, 9)), (1, 1, 2, 5), &win).is_err());
        assert!(Window::new(1, 1, 1, usize::MAX).is_ok());
        assert!(
            Window::new(1, 1, 1, usize::MAX)?.output_size(1, 1).is_err(),
            "overflowing padding is an error, not a panic"
        );
        // No images, no rows.
        assert_eq!(im2col(&Array4::zeros((0, 2, 3, 3)), &win)?.dim(), (0, 18));
        Ok(())
    }
}
