//! The pooling layer (the book's `Pooling`): the maximum, or the mean, of
//! each window of each channel.

use std::fmt;
use std::str::FromStr;

use ndarray::{Array4, ArrayD, Ix4};

use super::im2col::Window;
use super::layer::{Backward, Cache, Forward, Layer, Mode, same_shape};
use crate::error::{KobaiError, Result};
use crate::nets::LayerSpec;

/// What a [`Pooling`] layer takes of each window. Its text form is `max` or
/// `avg`.
///
/// ```
/// use kobai::layers::PoolKind;
/// assert_eq!("avg".parse::<PoolKind>()?, PoolKind::Average);
/// assert_eq!(PoolKind::Max.to_string(), "max");
/// assert!("min".parse::<PoolKind>().is_err());
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PoolKind {
    /// The largest value (the book's `Pooling`); its gradient goes to the
    /// first largest entry, as NumPy's `argmax` picks it.
    Max,
    /// The mean, padding zeros included; its gradient is shared equally.
    Average,
}

impl fmt::Display for PoolKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PoolKind::Max => "max",
            PoolKind::Average => "avg",
        })
    }
}

impl FromStr for PoolKind {
    type Err = KobaiError;

    fn from_str(text: &str) -> Result<Self> {
        match text {
            "max" => Ok(PoolKind::Max),
            "avg" => Ok(PoolKind::Average),
            _ => Err(KobaiError::Format {
                path: "architecture".into(),
                detail: format!("cannot read pooling kind {text:?}: expected max or avg"),
            }),
        }
    }
}

/// Pooling over each channel of images (N, C, H, W): for every position of
/// a `pool_h × pool_w` window moved by `stride` over the images framed by
/// `pad` zeros, the maximum ([`PoolKind::Max`], the book's `Pooling`) or
/// the mean ([`PoolKind::Average`]) of the window. The output has shape
/// (N, C, OH, OW), sized as [`Window::output_size`] says.
///
/// As in the book the padding is zeros, so with `pad > 0` a zero takes part
/// in every window that reaches the border (a max pooling of negative
/// values may then give 0, whose gradient goes to no input). The input must
/// be 4-D: put pooling after a [`Convolution`](super::Convolution). The
/// kind is `"pool"` for both kinds (a network names the layers `pool1`,
/// `pool2`); the kind of pooling is in the [`LayerSpec`] text,
/// `pool(max,2x2,stride=2,pad=0)`. No parameters.
///
/// ```
/// use kobai::layers::{Layer, Mode, PoolKind, Pooling};
/// use ndarray::{Array, Array4};
///
/// let pool = Pooling::new(PoolKind::Max, (2, 2), 2, 0)?;
/// let x = Array::from_shape_vec((1, 1, 2, 4), vec![1.0, 5.0, 2.0, 0.0, 3.0, 4.0, 7.0, 6.0])?;
/// let out = pool.forward(x.into_dyn(), Mode::Train)?;
/// assert_eq!(out.output.iter().copied().collect::<Vec<_>>(), [5.0, 7.0]);
/// let back = pool.backward(&out.cache, Array4::ones((1, 1, 1, 2)).into_dyn())?;
/// assert_eq!(back.dx.iter().copied().collect::<Vec<_>>(), [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
///
/// let mean = Pooling::new(PoolKind::Average, (2, 2), 2, 0)?;
/// let x = Array::from_shape_vec((1, 1, 2, 2), vec![1.0, 2.0, 3.0, 6.0])?;
/// assert_eq!(mean.forward(x.into_dyn(), Mode::Eval)?.output.iter().next(), Some(&3.0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pooling {
    kind: PoolKind,
    window: Window,
}

/// What the backward pass needs: the input's shape and, for max pooling,
/// where each maximum was.
struct PoolCache {
    shape: [usize; 4],
    out: (usize, usize),
    /// For each output pixel of a max pooling, the index of its maximum
    /// among the input's elements, or [`ON_PADDING`].
    argmax: Vec<usize>,
}

impl Pooling {
    /// A pooling of `kind` over windows of `pool` = (pool_h, pool_w), moved
    /// by `stride` over images padded with `pad` zeros.
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`] if a window side or the stride is 0.
    /// A window larger than the padded images is an error of the forward
    /// pass, which sees the images.
    ///
    /// ```
    /// use kobai::layers::{PoolKind, Pooling};
    /// let pool = Pooling::new(PoolKind::Average, (3, 2), 1, 1)?;
    /// assert_eq!(pool.pool_kind(), PoolKind::Average);
    /// assert_eq!((pool.window().height(), pool.window().width()), (3, 2));
    /// assert!(Pooling::new(PoolKind::Max, (2, 2), 0, 0).is_err());
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn new(kind: PoolKind, pool: (usize, usize), stride: usize, pad: usize) -> Result<Self> {
        Ok(Pooling {
            kind,
            window: Window::new(pool.0, pool.1, stride, pad)?,
        })
    }

    /// Max or average (named so as not to hide [`Layer::kind`], which is
    /// `"pool"` for both).
    ///
    /// ```
    /// use kobai::layers::{Layer, PoolKind, Pooling};
    /// let pool = Pooling::new(PoolKind::Max, (2, 2), 2, 0)?;
    /// assert_eq!((pool.pool_kind(), pool.kind()), (PoolKind::Max, "pool"));
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn pool_kind(&self) -> PoolKind {
        self.kind
    }

    /// The window: its size, stride and padding.
    ///
    /// ```
    /// use kobai::layers::{PoolKind, Pooling, Window};
    /// let pool = Pooling::new(PoolKind::Average, (3, 2), 1, 1)?;
    /// assert_eq!(pool.window(), Window::new(3, 2, 1, 1)?);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn window(&self) -> Window {
        self.window
    }

    /// `x` as images (N, C, H, W), and the output's height and width.
    fn images(&self, x: ArrayD<f64>) -> Result<(Array4<f64>, (usize, usize))> {
        let found = x.shape().to_vec();
        let x = x
            .into_dimensionality::<Ix4>()
            .map_err(|_| KobaiError::Shape {
                what: "pooling input".into(),
                expected: "expected images of shape [N, C, H, W] (put pooling after a convolution)"
                    .into(),
                found: found.clone(),
            })?;
        let (_, _, h, w) = x.dim();
        let out = self
            .window
            .output_size_of("pooling input", &found, (h, w))?;
        Ok((x, out))
    }
}

/// Whether `v` replaces `best` as a window's maximum, scanning in order:
/// only when larger, so ties keep the first; NaN counts as the largest and,
/// once found, stays (NumPy's `argmax` and `max`).
fn beats(v: f64, best: f64) -> bool {
    !best.is_nan() && (v > best || v.is_nan())
}

/// Visits the window of output pixel `(oy, ox)` over the image plane that
/// starts at `plane` in the batch's elements: for each window position in
/// (row, column) order, the input element's index, or `None` on padding.
fn visit_window(
    window: &Window,
    (h, w): (usize, usize),
    plane: usize,
    (oy, ox): (usize, usize),
    mut visit: impl FnMut(Option<usize>),
) {
    let (s, pad) = (window.stride(), window.pad());
    for ky in 0..window.height() {
        let iy = oy * s + ky;
        let row = (iy >= pad && iy - pad < h).then(|| plane + (iy - pad) * w);
        for kx in 0..window.width() {
            let ix = ox * s + kx;
            visit(
                row.filter(|_| ix >= pad && ix - pad < w)
                    .map(|r| r + ix - pad),
            );
        }
    }
}

/// Visits every output pixel of a batch `(n, c, h, w)` pooled to
/// `(oh, ow)`, in the output's order, with its window.
fn for_each_window(
    (n, c, h, w): (usize, usize, usize, usize),
    (oh, ow): (usize, usize),
    mut visit: impl FnMut(usize, (usize, usize)),
) {
    for plane in 0..n * c {
        for oy in 0..oh {
            for ox in 0..ow {
                visit(plane * h * w, (oy, ox));
            }
        }
    }
}

/// Max pooling without padding, where every window lies inside its image:
/// the same maxima and positions as the general route (the first maximum
/// in row-major order, a NaN winning), in direct loops over the rows.
/// Calls `emit(index, value)` for each output pixel in the output's order.
fn max_pool_unpadded(
    src: &[f64],
    (planes, h, w): (usize, usize, usize),
    (oh, ow): (usize, usize),
    window: &Window,
    mut emit: impl FnMut(usize, f64),
) {
    let (fh, fw, s) = (window.height(), window.width(), window.stride());
    for (p, plane) in src.chunks_exact(h * w).take(planes).enumerate() {
        let offset = p * h * w;
        for oy in 0..oh {
            for ox in 0..ow {
                let first = oy * s * w + ox * s;
                let (mut at, mut best) = (first, plane[first]);
                for ky in 0..fh {
                    let row = first + ky * w;
                    for (kx, &v) in plane[row..row + fw].iter().enumerate() {
                        // `beats` without branches: maxima of real data are
                        // unpredictable, and a mispredicted jump costs more
                        // than the comparison.
                        let better = !best.is_nan() & ((v > best) | v.is_nan());
                        at = if better { row + kx } else { at };
                        best = if better { v } else { best };
                    }
                }
                emit(offset + at, best);
            }
        }
    }
}

/// The marker, in [`PoolCache::argmax`], of a maximum on the padding.
const ON_PADDING: usize = usize::MAX;

impl Layer for Pooling {
    fn kind(&self) -> &str {
        "pool"
    }

    /// Window by window over the images (the numbers of the book's route
    /// through `im2col`, without unrolling the batch).
    fn forward(&self, x: ArrayD<f64>, _mode: Mode) -> Result<Forward> {
        let (x, (oh, ow)) = self.images(x)?;
        let (n, c, h, w) = x.dim();
        let x = x.as_standard_layout();
        let src = x.as_slice().unwrap_or_default();
        let size = (self.window.height() * self.window.width()) as f64;
        let count = n * c * oh * ow;
        let mut values = Vec::with_capacity(count);
        let mut argmax = Vec::new();
        match self.kind {
            PoolKind::Max if self.window.pad() == 0 => {
                argmax.reserve(count);
                max_pool_unpadded(src, (n * c, h, w), (oh, ow), &self.window, |i, v| {
                    argmax.push(i);
                    values.push(v);
                });
            }
            PoolKind::Max => {
                argmax.reserve(count);
                for_each_window((n, c, h, w), (oh, ow), |plane, at| {
                    let mut best: Option<(usize, f64)> = None;
                    visit_window(&self.window, (h, w), plane, at, |i| {
                        let v = i.map_or(0.0, |i| src[i]);
                        if best.is_none_or(|(_, b)| beats(v, b)) {
                            best = Some((i.unwrap_or(ON_PADDING), v));
                        }
                    });
                    let (i, v) = best.unwrap_or((ON_PADDING, 0.0));
                    argmax.push(i);
                    values.push(v);
                });
            }
            PoolKind::Average => {
                for_each_window((n, c, h, w), (oh, ow), |plane, at| {
                    let mut sum = 0.0;
                    visit_window(&self.window, (h, w), plane, at, |i| {
                        sum += i.map_or(0.0, |i| src[i]);
                    });
                    values.push(sum / size);
                });
            }
        }
        let output =
            Array4::from_shape_vec((n, c, oh, ow), values).map_err(|e| KobaiError::Layer {
                layer: self.kind().into(),
                detail: format!("cannot lay out its output as images ({e})"),
            })?;
        Ok(Forward::new(
            output.into_dyn(),
            Cache::new(PoolCache {
                shape: [n, c, h, w],
                out: (oh, ow),
                argmax,
            }),
        ))
    }

    fn backward(&self, cache: &Cache, dout: ArrayD<f64>) -> Result<Backward> {
        let cache: &PoolCache = cache.get(self.kind())?;
        let [n, c, h, w] = cache.shape;
        let (oh, ow) = cache.out;
        same_shape("pooling output gradient", &[n, c, oh, ow], dout.shape())?;
        let dout = dout.as_standard_layout();
        let grads = dout.as_slice().unwrap_or_default();
        let mut dx = vec![0.0; n * c * h * w];
        match self.kind {
            PoolKind::Max => {
                if cache.argmax.len() != grads.len() {
                    return Err(KobaiError::Layer {
                        layer: self.kind().into(),
                        detail: "its cache was made by an average pooling".into(),
                    });
                }
                for (&i, &g) in cache.argmax.iter().zip(grads) {
                    // A maximum on the padding (ON_PADDING) reaches no input.
                    if let Some(slot) = dx.get_mut(i) {
                        *slot += g;
                    }
                }
            }
            PoolKind::Average => {
                let size = (self.window.height() * self.window.width()) as f64;
                let mut grads = grads.iter();
                for_each_window((n, c, h, w), (oh, ow), |plane, at| {
                    let g = grads.next().map_or(0.0, |g| g / size);
                    visit_window(&self.window, (h, w), plane, at, |i| {
                        if let Some(slot) = i.and_then(|i| dx.get_mut(i)) {
                            *slot += g;
                        }
                    });
                });
            }
        }
        let dx = Array4::from_shape_vec((n, c, h, w), dx).map_err(|e| KobaiError::Layer {
            layer: self.kind().into(),
            detail: format!("cannot give dx the input's shape ({e})"),
        })?;
        Ok(Backward::input_only(dx.into_dyn()))
    }

    fn spec(&self) -> LayerSpec {
        LayerSpec::Pooling {
            kind: self.kind,
            pool: (self.window.height(), self.window.width()),
            stride: self.window.stride(),
            pad: self.window.pad(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array;

    #[test]
    fn ties_go_to_the_first_and_nan_wins() -> Result<()> {
        let pool = Pooling::new(PoolKind::Max, (1, 4), 1, 0)?;
        let route = |values: [f64; 4]| -> Result<(f64, Vec<f64>)> {
            let x = Array::from_shape_vec((1, 1, 1, 4), values.to_vec()).map_err(|e| {
                KobaiError::Layer {
                    layer: "test".into(),
                    detail: e.to_string(),
                }
            })?;
            let out = pool.forward(x.into_dyn(), Mode::Train)?;
            let back = pool.backward(&out.cache, Array4::ones((1, 1, 1, 1)).into_dyn())?;
            Ok((out.output.sum(), back.dx.iter().copied().collect()))
        };
        assert_eq!(
            route([1.0, 3.0, 3.0, 2.0])?,
            (3.0, vec![0.0, 1.0, 0.0, 0.0])
        );
        let (max, dx) = route([1.0, f64::NAN, 5.0, f64::NAN])?;
        assert!(max.is_nan());
        assert_eq!(dx, [0.0, 1.0, 0.0, 0.0]);
        assert_eq!(route([f64::NEG_INFINITY; 4])?.1, [1.0, 0.0, 0.0, 0.0]);
        Ok(())
    }

    #[test]
    fn padding_zeros_take_part() -> Result<()> {
        let pool = Pooling::new(PoolKind::Max, (2, 2), 2, 1)?;
        let x = Array4::from_elem((1, 1, 2, 2), -1.0).into_dyn();
        let out = pool.forward(x, Mode::Train)?;
        assert_eq!(out.output, Array4::zeros((1, 1, 2, 2)).into_dyn());
        let back = pool.backward(&out.cache, Array4::ones((1, 1, 2, 2)).into_dyn())?;
        assert_eq!(
            back.dx,
            Array4::zeros((1, 1, 2, 2)).into_dyn(),
            "the maxima were padding"
        );
        Ok(())
    }

    #[test]
    fn channels_stay_apart() -> Result<()> {
        let pool = Pooling::new(PoolKind::Max, (2, 2), 2, 0)?;
        let x = Array::from_shape_fn((2, 3, 2, 2), |(n, c, y, x)| {
            (n * 100 + c * 10 + y * 2 + x) as f64
        });
        let out = pool.forward(x.into_dyn(), Mode::Train)?;
        assert_eq!(
            out.output.iter().copied().collect::<Vec<_>>(),
            [3.0, 13.0, 23.0, 103.0, 113.0, 123.0]
        );
        Ok(())
    }

    #[test]
    fn bad_inputs_are_errors() -> Result<()> {
        let pool = Pooling::new(PoolKind::Average, (3, 3), 1, 0)?;
        let err = pool
            .forward(Array::zeros((2, 9)).into_dyn(), Mode::Train)
            .unwrap_err();
        assert!(matches!(err, KobaiError::Shape { .. }), "{err}");
        let err = pool
            .forward(Array::zeros((1, 1, 2, 5)).into_dyn(), Mode::Train)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "pooling input has shape [1, 1, 2, 5] but a 3x3 window with pad 0 needs an image \
             of at least 3x3"
        );
        let out = pool.forward(Array::zeros((1, 1, 3, 3)).into_dyn(), Mode::Train)?;
        assert!(
            pool.backward(&out.cache, Array::zeros((1, 1, 2, 1)).into_dyn())
                .is_err()
        );
        assert!(
            pool.backward(&Cache::empty(), Array::zeros((1, 1, 1, 1)).into_dyn())
                .is_err()
        );
        Ok(())
    }
}
