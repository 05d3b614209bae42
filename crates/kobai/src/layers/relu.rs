//! The ReLU layer.

use ndarray::{ArrayD, Zip};

use super::layer::{Backward, Cache, Forward, Layer, Mode, same_shape};
use crate::error::Result;
use crate::functions::activations::{relu_backward_of, relu_of};
use crate::nets::LayerSpec;
use crate::numerical_gradient::{Elementwise, Incremental};

/// Rectified linear units, element by element, on inputs of any shape.
///
/// ```text
/// forward:  y = max(0, x)
/// backward: dx = dout where x > 0, else 0
/// ```
///
/// ```
/// use kobai::layers::{Layer, Mode, Relu};
/// use ndarray::array;
/// let out = Relu.forward(array![[-1.0, 2.0]].into_dyn(), Mode::Train)?;
/// assert_eq!(out.output, array![[0.0, 2.0]].into_dyn());
/// let back = Relu.backward(&out.cache, array![[5.0, 5.0]].into_dyn())?;
/// assert_eq!(back.dx, array![[0.0, 5.0]].into_dyn());
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Relu;

impl Layer for Relu {
    fn kind(&self) -> &str {
        "relu"
    }

    fn forward(&self, x: ArrayD<f64>, _mode: Mode) -> Result<Forward> {
        // Book: out[x <= 0] = 0, so NaN passes through (and is caught by the loss).
        let y = x.mapv(relu_of);
        Ok(Forward::new(y, Cache::new(x)))
    }

    fn backward(&self, cache: &Cache, dout: ArrayD<f64>) -> Result<Backward> {
        let x: &ArrayD<f64> = cache.get(self.kind())?;
        same_shape("relu output gradient", x.shape(), dout.shape())?;
        // dx in dout's own buffer: no allocation for a large batch of images.
        let mut dx = dout;
        Zip::from(&mut dx)
            .and(x)
            .for_each(|d, &x| *d = relu_backward_of(x, *d));
        Ok(Backward::input_only(dx))
    }

    /// Element-wise, and piecewise linear: slope 1 where the input is
    /// positive, 0 elsewhere, unchanged while each input moves by less than
    /// its distance to 0.
    fn incremental(&self, input: &ArrayD<f64>, _mode: Mode) -> Option<Incremental<'_>> {
        let slope = input
            .iter()
            .map(|&v| if v > 0.0 { 1.0 } else { 0.0 })
            .collect();
        let reach = input.iter().map(|v| v.abs()).collect();
        Some(Incremental::Elementwise(
            Elementwise::new(|_, _, v| relu_of(v)).with_slopes(slope, reach),
        ))
    }

    fn spec(&self) -> LayerSpec {
        LayerSpec::Relu
    }
}
