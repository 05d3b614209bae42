//! The convolution layer (the book's `Convolution`), by [`im2col`](crate::layers::im2col) and one
//! matrix product.

use ndarray::linalg::general_mat_mul;
use ndarray::{
    Array1, Array2, Array4, ArrayD, ArrayView2, ArrayViewD, ArrayViewMut2, ArrayViewMutD, Axis,
    Slice,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::im2col::{Window, col2im, im2col_into};
use super::layer::{Backward, Cache, Forward, Layer, Mode, ParamKind, same_shape};
use crate::error::{KobaiError, Result};
use crate::nets::LayerSpec;

/// A convolution: `FN` filters of `C × FH × FW` slid over images of
/// `C × H × W` every `stride` pixels, the images framed by `pad` zeros, plus
/// one bias per filter. Its output has shape (N, FN, OH, OW) with
/// `OH = (H + 2·pad − FH) / stride + 1` (rounded down), and `OW` likewise.
///
/// ```text
/// forward:  col = im2col(x),  out = col · W_matᵀ + b      (W_mat: FN × C·FH·FW)
/// backward: db = Σ dout,  dW = doutᵀ · col,  dx = col2im(dout · W_mat)
/// ```
///
/// (`dout` here is the book's, one row per output pixel; the layer computes
/// the same products image by image, in the layout (N, FN, OH, OW), so
/// that neither output nor gradient is ever transposed in memory.)
///
/// The input may be rows of `C·H·W` values — how a [`Network`](crate::nets::Network)
/// feeds a batch — or an array (N, C, H, W); its gradient comes back in
/// the input's own shape. The kind is `"conv"`, so a network names the
/// layers `conv1`, `conv2` and their parameters `conv1.W` (a
/// [`ParamKind::Weight`]: weight decay applies) and `conv1.b`.
///
/// `w` and `b` are public, as [`Affine`](super::Affine)'s are; each pass
/// checks them against the layer's input shape again, so replacing them
/// with arrays that do not fit gives an error, never a panic.
///
/// ```
/// use kobai::layers::{Convolution, Layer, Mode};
/// use ndarray::{Array, Array1, Array4};
///
/// // One 2x2 filter of ones over a 3x3 image: sums of 2x2 blocks.
/// let conv = Convolution::new(Array4::ones((1, 1, 2, 2)), Array1::zeros(1), 1, 0, (1, 3, 3))?;
/// let x = Array::from_shape_vec((1, 9), (1..=9).map(f64::from).collect())?.into_dyn();
/// let out = conv.forward(x, Mode::Train)?;
/// assert_eq!(out.output.shape(), &[1, 1, 2, 2]);
/// assert_eq!(out.output.iter().copied().collect::<Vec<_>>(), [12.0, 16.0, 24.0, 28.0]);
/// let back = conv.backward(&out.cache, Array4::ones((1, 1, 2, 2)).into_dyn())?;
/// assert_eq!(back.dx.shape(), &[1, 9], "the input's shape");
/// assert_eq!(back.grads[1], ndarray::array![4.0].into_dyn(), "db");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Convolution {
    /// The filters, (FN, C, FH, FW).
    pub w: Array4<f64>,
    /// One bias per filter, (FN).
    pub b: Array1<f64>,
    stride: usize,
    pad: usize,
    input: (usize, usize, usize),
}

/// The layer's shapes, checked.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Geometry {
    filters: usize,
    /// C·FH·FW: one filter, unrolled.
    unrolled: usize,
    window: Window,
}

/// The input gradient (when asked for) and the parameter gradients (dW, db).
type ConvGradients = (Option<ArrayD<f64>>, Vec<ArrayD<f64>>);

/// What the backward pass needs: the input as images, and its own shape.
struct ConvCache {
    x: Array4<f64>,
    shape: Vec<usize>,
    geometry: Geometry,
}

/// Unrolls image `i` of `x` into `col` (see [`im2col_into`]).
fn unroll(x: &Array4<f64>, i: usize, window: &Window, col: &mut Array2<f64>) -> Result<()> {
    let image = x.slice_axis(Axis(0), Slice::from(i..i + 1));
    let col = col.as_slice_mut().ok_or_else(|| {
        layout("the unrolled image")(ndarray::ShapeError::from_kind(
            ndarray::ErrorKind::IncompatibleLayout,
        ))
    })?;
    im2col_into(&image, window, col)
}

impl Convolution {
    /// A layer with these filters `w` (FN, C, FH, FW) and biases `b` (FN),
    /// for images of `input` = (C, H, W).
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`] for a stride of 0 or an input size of
    /// 0; [`KobaiError::Shape`] if `b` does not have one entry per filter,
    /// `w`'s channels are not the input's, `w` has no filter (or an empty
    /// one), or the filter is larger than the padded image.
    ///
    /// ```
    /// use kobai::layers::Convolution;
    /// use ndarray::{Array1, Array4};
    /// let conv = Convolution::new(Array4::zeros((30, 1, 5, 5)), Array1::zeros(30), 1, 0, (1, 28, 28))?;
    /// assert_eq!(conv.output_shape(), (30, 24, 24));
    /// assert!(Convolution::new(Array4::zeros((30, 3, 5, 5)), Array1::zeros(30), 1, 0, (1, 28, 28)).is_err());
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn new(
        w: Array4<f64>,
        b: Array1<f64>,
        stride: usize,
        pad: usize,
        input: (usize, usize, usize),
    ) -> Result<Self> {
        check_input_size(input)?;
        let conv = Convolution {
            w,
            b,
            stride,
            pad,
            input,
        };
        conv.geometry()?;
        Ok(conv)
    }

    /// A layer of `filters` zero filters of `filter` = (FH, FW) and zero
    /// biases, for images of `input` = (C, H, W): what
    /// [`LayerSpec::build`] makes for [`load_npz`](crate::model::load_npz).
    ///
    /// # Errors
    /// As [`Convolution::new`]; also [`KobaiError::Hyperparameter`] for 0
    /// filters or a filter side of 0, checked before anything is allocated.
    ///
    /// ```
    /// use kobai::layers::Convolution;
    /// let conv = Convolution::zeros(16, (3, 8, 6), (3, 3), 2, 1)?;
    /// assert_eq!(conv.w.dim(), (16, 3, 3, 3));
    /// assert_eq!(conv.output_shape(), (16, 4, 3));
    /// assert!(Convolution::zeros(16, (3, 8, 6), (3, 3), 0, 1).is_err(), "stride 0");
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn zeros(
        filters: usize,
        input: (usize, usize, usize),
        filter: (usize, usize),
        stride: usize,
        pad: usize,
    ) -> Result<Self> {
        check_input_size(input)?;
        if filters == 0 {
            return Err(KobaiError::Hyperparameter {
                name: "convolution filters",
                value: "0".into(),
                expected: "at least 1",
            });
        }
        Window::new(filter.0, filter.1, stride, pad)?.output_size_of(
            "convolution input image",
            &[input.0, input.1, input.2],
            (input.1, input.2),
        )?;
        let shape = (filters, input.0, filter.0, filter.1);
        checked_len(
            &[filters, input.0, filter.0, filter.1],
            "convolution weights",
        )?;
        Convolution::new(
            Array4::zeros(shape),
            Array1::zeros(filters),
            stride,
            pad,
            input,
        )
    }

    /// The same layer with every weight drawn as `std · N(0, 1)` from
    /// ChaCha8 seeded with `seed` (row-major order), the biases left as
    /// they are: the book's `weight_init_std * np.random.randn(...)`.
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`] unless `std` is finite and above 0.
    ///
    /// ```
    /// use kobai::layers::Convolution;
    /// let conv = Convolution::zeros(4, (1, 6, 6), (3, 3), 1, 0)?.with_normal_init(0.01, 7)?;
    /// assert!(conv.w.iter().all(|w| w.abs() < 0.1) && conv.w.iter().any(|&w| w != 0.0));
    /// assert_eq!(conv, Convolution::zeros(4, (1, 6, 6), (3, 3), 1, 0)?.with_normal_init(0.01, 7)?);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn with_normal_init(mut self, std: f64, seed: u64) -> Result<Self> {
        crate::check::positive("weight_init_std", std)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        self.w.iter_mut().for_each(|w| {
            let z: f64 = StandardNormal.sample(&mut rng);
            *w = std * z;
        });
        Ok(self)
    }

    /// The stride.
    ///
    /// ```
    /// use kobai::layers::Convolution;
    /// assert_eq!(Convolution::zeros(2, (1, 8, 8), (3, 3), 2, 1)?.stride(), 2);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// The zeros added on each side of each image.
    ///
    /// ```
    /// use kobai::layers::Convolution;
    /// assert_eq!(Convolution::zeros(2, (1, 8, 8), (3, 3), 2, 1)?.pad(), 1);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn pad(&self) -> usize {
        self.pad
    }

    /// The shape (C, H, W) of one input image.
    ///
    /// ```
    /// use kobai::layers::Convolution;
    /// assert_eq!(Convolution::zeros(2, (3, 8, 6), (3, 3), 1, 1)?.input_shape(), (3, 8, 6));
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn input_shape(&self) -> (usize, usize, usize) {
        self.input
    }

    /// The shape (FN, OH, OW) of one output image (for the next layer's
    /// size). When `w` has been replaced by an array that does not fit,
    /// (FN, 0, 0).
    ///
    /// ```
    /// use kobai::layers::Convolution;
    /// assert_eq!(Convolution::zeros(2, (3, 8, 6), (3, 3), 2, 1)?.output_shape(), (2, 4, 3));
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn output_shape(&self) -> (usize, usize, usize) {
        let (_, h, w) = self.input;
        let (oh, ow) = self
            .geometry()
            .and_then(|g| g.window.output_size(h, w))
            .unwrap_or((0, 0));
        (self.w.dim().0, oh, ow)
    }

    /// The shapes of `w`, `b` and the input, checked against each other.
    fn geometry(&self) -> Result<Geometry> {
        let (filters, channels, fh, fw) = self.w.dim();
        let (c, h, w) = self.input;
        if filters == 0 || fh == 0 || fw == 0 || channels != c {
            return Err(KobaiError::Shape {
                what: "convolution weights".into(),
                expected: format!(
                    "the input images have {c} channels, so W needs shape \
                     [filters, {c}, height, width], each at least 1"
                ),
                found: self.w.shape().to_vec(),
            });
        }
        if self.b.len() != filters {
            return Err(KobaiError::Shape {
                what: "convolution bias".into(),
                expected: format!("W has {filters} filters, so b needs {filters} entries"),
                found: self.b.shape().to_vec(),
            });
        }
        let window = Window::new(fh, fw, self.stride, self.pad)?;
        window.output_size_of("convolution input image", &[c, h, w], (h, w))?;
        Ok(Geometry {
            filters,
            unrolled: channels * fh * fw,
            window,
        })
    }

    /// `x` as a batch of images (N, C, H, W): rows of C·H·W values, or
    /// images of the layer's shape already.
    fn images(&self, x: ArrayD<f64>) -> Result<Array4<f64>> {
        let (c, h, w) = self.input;
        let shape = x.shape().to_vec();
        let n = match shape.as_slice() {
            [n, d] if Some(*d) == c.checked_mul(h).and_then(|p| p.checked_mul(w)) => *n,
            [n, cc, hh, ww] if (*cc, *hh, *ww) == (c, h, w) => *n,
            _ => {
                return Err(KobaiError::Shape {
                    what: "convolution input".into(),
                    expected: format!(
                        "the layer takes images of {c}x{h}x{w}: rows of {} values or an \
                         array of shape [N, {c}, {h}, {w}]",
                        c.saturating_mul(h).saturating_mul(w)
                    ),
                    found: shape,
                });
            }
        };
        let x = if x.is_standard_layout() {
            x
        } else {
            x.as_standard_layout().into_owned()
        };
        x.into_shape_with_order((n, c, h, w))
            .map_err(|e| KobaiError::Shape {
                what: "convolution input".into(),
                expected: format!("expected images of {c}x{h}x{w} ({e})"),
                found: shape,
            })
    }

    /// The gradients of the parameters (dW, db) and, if `want_dx`, of the
    /// input, as images (N, C, H, W).
    fn backward_with(
        &self,
        cache: &Cache,
        dout: ArrayD<f64>,
        want_dx: bool,
    ) -> Result<ConvGradients> {
        let c: &ConvCache = cache.get(self.kind())?;
        let g = self.geometry()?;
        if g != c.geometry {
            return Err(KobaiError::Layer {
                layer: self.kind().into(),
                detail: "its weights changed shape between the forward and backward passes".into(),
            });
        }
        let (channels, h, w) = self.input;
        let (oh, ow) = g.window.output_size(h, w)?;
        let images = c.x.dim().0;
        same_shape(
            "convolution output gradient",
            &[images, g.filters, oh, ow],
            dout.shape(),
        )?;
        let pixels = oh * ow;
        let dout = dout.as_standard_layout();
        let dout = dout.as_slice().unwrap_or_default();
        let filters = self.filter_rows(&g)?;
        let mut dw = Array2::<f64>::zeros((g.filters, g.unrolled));
        let mut db = Array1::<f64>::zeros(g.filters);
        let mut col = Array2::<f64>::zeros((pixels, g.unrolled));
        let mut dcol = Array2::<f64>::zeros((pixels, g.unrolled));
        let mut dx = want_dx.then(|| Array4::<f64>::zeros((images, channels, h, w)));
        for (i, d) in dout.chunks_exact(g.filters * pixels).enumerate() {
            let d = ArrayView2::from_shape((g.filters, pixels), d)
                .map_err(layout("an output gradient image"))?;
            db += &d.sum_axis(Axis(1));
            unroll(&c.x, i, &g.window, &mut col)?;
            general_mat_mul(1.0, &d, &col, 1.0, &mut dw);
            if let Some(dx) = dx.as_mut() {
                general_mat_mul(1.0, &d.t(), &filters, 0.0, &mut dcol);
                let image = col2im(&dcol, (1, channels, h, w), &g.window)?;
                dx.slice_axis_mut(Axis(0), Slice::from(i..i + 1))
                    .assign(&image);
            }
        }
        let dw = dw
            .into_shape_with_order(self.w.raw_dim())
            .map_err(layout("dW as the filters"))?;
        Ok((dx.map(Array4::into_dyn), vec![dw.into_dyn(), db.into_dyn()]))
    }

    /// `w` as a matrix, one row per filter.
    fn filter_rows(&self, g: &Geometry) -> Result<Array2<f64>> {
        self.w
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order((g.filters, g.unrolled))
            .map_err(|e| KobaiError::Layer {
                layer: "conv".into(),
                detail: format!("cannot unroll its filters ({e})"),
            })
    }
}

/// Errors unless the input images have at least one channel and pixel.
fn check_input_size((c, h, w): (usize, usize, usize)) -> Result<()> {
    if c == 0 || h == 0 || w == 0 {
        return Err(KobaiError::Hyperparameter {
            name: "convolution input",
            value: format!("{c}x{h}x{w}"),
            expected: "channels, height and width of at least 1",
        });
    }
    checked_len(&[c, h, w], "convolution input")
}

/// Errors unless an array of `shape` can be addressed.
fn checked_len(shape: &[usize], what: &str) -> Result<()> {
    let len = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    match len {
        Some(len) if len <= isize::MAX as usize / std::mem::size_of::<f64>() => Ok(()),
        _ => Err(KobaiError::Shape {
            what: what.into(),
            expected: "expected an array that fits in memory".into(),
            found: shape.to_vec(),
        }),
    }
}

/// The error for an arrangement of arrays that cannot happen.
fn layout(what: &str) -> impl FnOnce(ndarray::ShapeError) -> KobaiError + '_ {
    move |e| KobaiError::Layer {
        layer: "conv".into(),
        detail: format!("cannot lay out {what} ({e})"),
    }
}

impl Layer for Convolution {
    fn kind(&self) -> &str {
        "conv"
    }

    /// Image by image, `W_mat · col_nᵀ + b` lands in the output's own
    /// layout (N, FN, OH·OW): the book's product, transposed, with no
    /// reordering of the result. Each image is unrolled into one reused
    /// buffer of OH·OW × C·FH·FW values, so the batch is never unrolled
    /// whole (the book's `col` for 100 images of 28×28 is 11.5 MB).
    fn forward(&self, x: ArrayD<f64>, _mode: Mode) -> Result<Forward> {
        let g = self.geometry()?;
        let shape = x.shape().to_vec();
        let x = self.images(x)?;
        let (n, _, h, w) = x.dim();
        let (oh, ow) = g.window.output_size(h, w)?;
        let pixels = oh * ow;
        let filters = self.filter_rows(&g)?;
        let mut col = Array2::<f64>::zeros((pixels, g.unrolled));
        let mut out = vec![0.0; n * g.filters * pixels];
        for (i, image) in out.chunks_exact_mut(g.filters * pixels).enumerate() {
            for (plane, &bias) in image.chunks_exact_mut(pixels).zip(&self.b) {
                plane.fill(bias);
            }
            let mut image = ArrayViewMut2::from_shape((g.filters, pixels), image)
                .map_err(layout("an output image"))?;
            unroll(&x, i, &g.window, &mut col)?;
            general_mat_mul(1.0, &filters, &col.t(), 1.0, &mut image);
        }
        let output =
            Array4::from_shape_vec((n, g.filters, oh, ow), out).map_err(layout("the output"))?;
        Ok(Forward::new(
            output.into_dyn(),
            Cache::new(ConvCache {
                x,
                shape,
                geometry: g,
            }),
        ))
    }

    /// Image by image: `db += Σ dout_n`, `dW += dout_n · col_n` (the image
    /// unrolled again), `dcol_n = dout_nᵀ · W_mat`, `dx_n = col2im(dcol_n)`.
    fn backward(&self, cache: &Cache, dout: ArrayD<f64>) -> Result<Backward> {
        let (dx, grads) = self.backward_with(cache, dout, true)?;
        let c: &ConvCache = cache.get(self.kind())?;
        let dx = dx
            .unwrap_or_default()
            .into_shape_with_order(c.shape.clone())
            .map_err(layout("dx as the input"))?;
        Ok(Backward { dx, grads })
    }

    /// dW and db without dx: a third less arithmetic, for the first layer
    /// of a network (nothing uses the gradient with respect to the images).
    fn backward_params(&self, cache: &Cache, dout: ArrayD<f64>) -> Result<Vec<ArrayD<f64>>> {
        Ok(self.backward_with(cache, dout, false)?.1)
    }

    fn params(&self) -> Vec<(&'static str, ParamKind, ArrayViewD<'_, f64>)> {
        vec![
            ("W", ParamKind::Weight, self.w.view().into_dyn()),
            ("b", ParamKind::Other, self.b.view().into_dyn()),
        ]
    }

    fn params_mut(&mut self) -> Vec<(&'static str, ArrayViewMutD<'_, f64>)> {
        vec![
            ("W", self.w.view_mut().into_dyn()),
            ("b", self.b.view_mut().into_dyn()),
        ]
    }

    fn spec(&self) -> LayerSpec {
        let (filters, _, fh, fw) = self.w.dim();
        LayerSpec::Convolution {
            filters,
            input: self.input,
            filter: (fh, fw),
            stride: self.stride,
            pad: self.pad,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array, array};

    fn conv(stride: usize, pad: usize) -> Result<Convolution> {
        let w = Array::from_shape_fn((2, 2, 3, 2), |(f, c, y, x)| {
            ((f * 24 + c * 6 + y * 2 + x) as f64 * 0.7).sin()
        });
        Convolution::new(w, array![0.1, -0.2], stride, pad, (2, 5, 4))
    }

    #[test]
    fn backward_params_gives_backwards_parameter_gradients_bit_for_bit() -> Result<()> {
        for (stride, pad) in [(1, 0), (2, 1), (1, 2)] {
            let layer = conv(stride, pad)?;
            let x = Array::from_shape_fn((3, 2, 5, 4), |(n, c, y, x)| {
                ((n * 40 + c * 20 + y * 4 + x) as f64 * 0.37).cos()
            });
            let out = layer.forward(x.into_dyn(), Mode::Train)?;
            let dout = out.output.mapv(|v| (v * 3.1).sin());
            let full = layer.backward(&out.cache, dout.clone())?;
            let params = layer.backward_params(&out.cache, dout)?;
            assert_eq!(full.grads, params, "stride {stride}, pad {pad}");
        }
        Ok(())
    }

    #[test]
    fn rows_and_images_give_the_same_output() -> Result<()> {
        let layer = conv(2, 1)?;
        let x = Array::from_shape_fn((3, 40), |(n, i)| ((n * 40 + i) as f64).cos());
        let from_rows = layer.forward(x.clone().into_dyn(), Mode::Train)?;
        let images = x
            .into_shape_with_order((3, 2, 5, 4))
            .map_err(|e| KobaiError::Layer {
                layer: "test".into(),
                detail: e.to_string(),
            })?;
        let from_images = layer.forward(images.into_dyn(), Mode::Train)?;
        assert_eq!(from_rows.output, from_images.output);
        assert_eq!(from_rows.output.shape(), &[3, 2, 3, 3]);
        let dout = from_rows.output.mapv(|v| v * 0.5);
        let a = layer.backward(&from_rows.cache, dout.clone())?;
        let b = layer.backward(&from_images.cache, dout)?;
        assert_eq!(a.grads, b.grads);
        assert_eq!(a.dx.shape(), &[3, 40]);
        assert_eq!(b.dx.shape(), &[3, 2, 5, 4]);
        assert_eq!(
            a.dx.iter().collect::<Vec<_>>(),
            b.dx.iter().collect::<Vec<_>>()
        );
        Ok(())
    }

    #[test]
    fn the_product_is_the_filters_rows() -> Result<()> {
        // A 1x1 convolution is an affine map of each pixel's channels.
        let w = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let layer = Convolution::new(
            w.clone()
                .into_shape_with_order((3, 2, 1, 1))
                .map_err(|e| KobaiError::Layer {
                    layer: "test".into(),
                    detail: e.to_string(),
                })?,
            array![0.0, 1.0, 2.0],
            1,
            0,
            (2, 1, 1),
        )?;
        let x = array![[1.0, -1.0], [0.5, 2.0]];
        let out = layer.forward(x.clone().into_dyn(), Mode::Eval)?;
        let expected = x.dot(&w.t()) + array![0.0, 1.0, 2.0];
        assert_eq!(
            out.output.iter().copied().collect::<Vec<_>>(),
            expected.iter().copied().collect::<Vec<_>>()
        );
        Ok(())
    }

    #[test]
    fn replaced_weights_that_do_not_fit_are_errors() -> Result<()> {
        let mut layer = conv(1, 0)?;
        let x = Array::zeros((1, 40)).into_dyn();
        let out = layer.forward(x.clone(), Mode::Train)?;
        layer.w = Array4::zeros((2, 2, 2, 2));
        assert!(matches!(
            layer.backward(&out.cache, out.output.clone()),
            Err(KobaiError::Layer { .. })
        ));
        layer.w = Array4::zeros((2, 3, 2, 2));
        assert!(matches!(
            layer.forward(x.clone(), Mode::Train),
            Err(KobaiError::Shape { .. })
        ));
        layer.w = Array4::zeros((2, 2, 9, 2));
        assert!(layer.forward(x.clone(), Mode::Train).is_err());
        assert_eq!(layer.output_shape(), (2, 0, 0));
        layer.w = Array4::zeros((3, 2, 2, 2));
        assert!(
            layer.forward(x, Mode::Train).is_err(),
            "b has 2 entries for 3 filters"
        );
        Ok(())
    }

    #[test]
    fn absurd_sizes_are_errors_not_panics() {
        assert!(Convolution::zeros(usize::MAX, (1, 4, 4), (2, 2), 1, 0).is_err());
        assert!(Convolution::zeros(1, (usize::MAX, usize::MAX, 1), (1, 1), 1, 0).is_err());
        assert!(Convolution::zeros(1, (1, 4, 4), (2, 2), 1, usize::MAX).is_err());
    }
}
