//! The fused convolution engine's work on one image: unrolling it
//! (im2col), the filters' product, ReLU with max pooling (remembering where
//! each pooled gradient goes), and the way back to the convolution's output.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use super::super::fast_backprop::shape_bug;
use super::{Geometry, NO_GRADIENT};
use crate::error::Result;
use crate::functions::activations::relu_of;
use crate::kernels::Real;

/// One image (C·H·W values) unrolled into `col`, C·FH·FW rows of OH·OW
/// values: row `(c, ky, kx)` holds, for each output position, the input
/// value under filter tap `(ky, kx)` of channel `c` (0 on the padding).
pub(super) fn im2col<T: Real>(image: &[T], g: &Geometry, col: &mut [T]) {
    let (c, h, w) = g.image;
    let ((fh, fw), (oh, ow), s, pad) = (g.filter, g.out, g.stride, g.pad);
    let mut rows = col.chunks_exact_mut(oh * ow);
    for channel in image.chunks_exact(h * w).take(c) {
        for ky in 0..fh {
            for kx in 0..fw {
                let Some(row) = rows.next() else { return };
                for (oy, out) in row.chunks_exact_mut(ow).enumerate() {
                    let iy = oy * s + ky;
                    if iy < pad || iy - pad >= h {
                        out.fill(T::zero());
                        continue;
                    }
                    let src = &channel[(iy - pad) * w..][..w];
                    if s == 1 && kx >= pad && kx - pad + ow <= w {
                        out.copy_from_slice(&src[kx - pad..kx - pad + ow]);
                    } else {
                        for (ox, v) in out.iter_mut().enumerate() {
                            let ix = ox * s + kx;
                            *v = if ix < pad || ix - pad >= w {
                                T::zero()
                            } else {
                                src[ix - pad]
                            };
                        }
                    }
                }
            }
        }
    }
}

/// One image's convolution, `filters · col + bias`, into `out` (FN planes
/// of OH·OW).
pub(super) fn convolve<T: Real>(
    filters: &Array2<T>,
    bias: &[T],
    g: &Geometry,
    col: &[T],
    out: &mut [T],
) -> Result<()> {
    for (plane, &b) in out.chunks_exact_mut(g.positions()).zip(bias) {
        plane.fill(b);
    }
    let col = ArrayView2::from_shape((g.unrolled(), g.positions()), col).map_err(shape_bug)?;
    let mut out = ArrayViewMut2::from_shape((g.filters, g.positions()), out).map_err(shape_bug)?;
    general_mat_mul(T::one(), filters, &col, T::one(), &mut out);
    Ok(())
}

/// ReLU then max pooling of one image's convolution `out`, into `pooled`
/// (FN·PH·PW values, in the layers' order) and, if `argmax` is given, for
/// each pooled value the position of the first maximum in its window, or
/// [`NO_GRADIENT`] when the maximum is not positive.
///
/// The maxima are taken without branches; an output holding a NaN (which
/// the layers' pooling lets win) goes through [`relu_max_pool_exact`].
pub(super) fn relu_max_pool<T: Real>(
    out: &[T],
    g: &Geometry,
    pooled: &mut [T],
    argmax: Option<&mut [u32]>,
) {
    if out.iter().fold(false, |nan, &v| nan | v.is_nan()) {
        let mut positions = vec![NO_GRADIENT; pooled.len()];
        relu_max_pool_exact(out, g, pooled, &mut positions);
        if let Some(argmax) = argmax {
            argmax.copy_from_slice(&positions);
        }
        return;
    }
    let ((ph, pw), s, (qh, qw), ow) = (g.pool, g.pool_stride, g.pooled, g.out.1);
    let per_plane = qh * qw;
    // Column by column over a band of window rows: the maximum (ReLU: from
    // 0) and the first row holding it; then across each window's columns,
    // the largest, the one of the earliest row among equals, then the
    // leftmost: the first maximum in row-major order, as the layer finds it.
    let mut columns = vec![T::zero(); ow];
    let mut rows = vec![0u32; ow];
    let mut slots = argmax.map(|a| a.chunks_exact_mut(qw));
    for (plane, maxima) in out
        .chunks_exact(g.positions())
        .zip(pooled.chunks_exact_mut(per_plane))
    {
        for (qy, maxima) in maxima.chunks_exact_mut(qw).enumerate() {
            columns.fill(T::zero());
            let top = qy * s;
            match slots.as_mut().and_then(Iterator::next) {
                None => {
                    for ky in 0..ph {
                        let row = &plane[(top + ky) * ow..][..ow];
                        for (m, &v) in columns.iter_mut().zip(row) {
                            *m = if v > *m { v } else { *m };
                        }
                    }
                    let widest = |window: &[T]| {
                        window
                            .iter()
                            .fold(T::zero(), |m, &v| if v > m { v } else { m })
                    };
                    if s == pw {
                        // Windows side by side (the book's 2×2, stride 2).
                        for (m, window) in maxima.iter_mut().zip(columns.chunks_exact(pw)) {
                            *m = widest(window);
                        }
                    } else {
                        for (qx, m) in maxima.iter_mut().enumerate() {
                            *m = widest(&columns[qx * s..qx * s + pw]);
                        }
                    }
                }
                Some(slots) => {
                    rows.fill(0);
                    for ky in 0..ph {
                        let row = &plane[(top + ky) * ow..][..ow];
                        // Window heights are far below u32::MAX.
                        let ky = ky as u32;
                        for ((m, r), &v) in columns.iter_mut().zip(rows.iter_mut()).zip(row) {
                            let better = v > *m;
                            *m = if better { v } else { *m };
                            *r = if better { ky } else { *r };
                        }
                    }
                    for (qx, (m, slot)) in maxima.iter_mut().zip(slots.iter_mut()).enumerate() {
                        let left = qx * s;
                        let (mut best, mut row, mut at) = (columns[left], rows[left], left);
                        for x in left + 1..left + pw {
                            let (v, r) = (columns[x], rows[x]);
                            let better = v > best || (v == best && r < row);
                            best = if better { v } else { best };
                            row = if better { r } else { row };
                            at = if better { x } else { at };
                        }
                        *m = best;
                        // Positions fit in u32: `plan` checks it.
                        let position = ((top + row as usize) * ow + at) as u32;
                        *slot = if best > T::zero() {
                            position
                        } else {
                            NO_GRADIENT
                        };
                    }
                }
            }
        }
    }
}

/// [`relu_max_pool`] window by window, scanning in order: a value replaces
/// the maximum only when larger, so ties keep the first; NaN counts as the
/// largest and, once found, stays (the pooling layer's rule).
fn relu_max_pool_exact<T: Real>(out: &[T], g: &Geometry, pooled: &mut [T], argmax: &mut [u32]) {
    let ((ph, pw), s, (qh, qw), ow) = (g.pool, g.pool_stride, g.pooled, g.out.1);
    let mut slots = pooled.iter_mut().zip(argmax.iter_mut());
    for plane in out.chunks_exact(g.positions()) {
        for qy in 0..qh {
            for qx in 0..qw {
                let first = qy * s * ow + qx * s;
                let (mut at, mut best) = (first, relu_of(plane[first]));
                for ky in 0..ph {
                    let row = first + ky * ow;
                    for (kx, &v) in plane[row..row + pw].iter().enumerate() {
                        let v = relu_of(v);
                        if !best.is_nan() && (v > best || v.is_nan()) {
                            (at, best) = (row + kx, v);
                        }
                    }
                }
                let Some((value, slot)) = slots.next() else {
                    return;
                };
                *value = best;
                *slot = if best > T::zero() {
                    at as u32
                } else {
                    NO_GRADIENT
                };
            }
        }
    }
}

/// The gradient at one image's convolution output: each pooled value's
/// gradient added at its maximum, zero elsewhere.
pub(super) fn unpool<T: Real>(dpooled: &[T], argmax: &[u32], g: &Geometry, dout: &mut [T]) {
    dout.fill(T::zero());
    let per_plane = g.pooled.0 * g.pooled.1;
    for ((plane, d), at) in dout
        .chunks_exact_mut(g.positions())
        .zip(dpooled.chunks_exact(per_plane))
        .zip(argmax.chunks_exact(per_plane))
    {
        for (&d, &at) in d.iter().zip(at) {
            if at != NO_GRADIENT {
                plane[at as usize] = plane[at as usize] + d;
            }
        }
    }
}
