//! The tanh layer.

use ndarray::{ArrayD, Zip};

use super::layer::{Backward, Cache, Forward, Layer, Mode, same_shape};
use crate::error::Result;
use crate::functions::activations::tanh_backward_of;
use crate::nets::LayerSpec;
use crate::numerical_gradient::{Elementwise, Incremental};

/// The hyperbolic tangent, element by element, on inputs of any shape.
///
/// ```text
/// forward:  y = tanh(x)
/// backward: dx = dout · (1 − y²)
/// ```
///
/// ```
/// use kobai::layers::{Layer, Mode, Tanh};
/// use ndarray::array;
/// let out = Tanh.forward(array![[0.0, 1.0]].into_dyn(), Mode::Train)?;
/// assert_eq!(out.output[[0, 1]], 1f64.tanh());
/// assert_eq!(Tanh.backward(&out.cache, array![[2.0, 0.0]].into_dyn())?.dx, array![[2.0, 0.0]].into_dyn());
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Tanh;

impl Layer for Tanh {
    fn kind(&self) -> &str {
        "tanh"
    }

    fn forward(&self, x: ArrayD<f64>, _mode: Mode) -> Result<Forward> {
        let y = x.mapv(f64::tanh);
        Ok(Forward::new(y.clone(), Cache::new(y)))
    }

    fn backward(&self, cache: &Cache, dout: ArrayD<f64>) -> Result<Backward> {
        let y: &ArrayD<f64> = cache.get(self.kind())?;
        same_shape("tanh output gradient", y.shape(), dout.shape())?;
        let dx = Zip::from(y)
            .and(&dout)
            .map_collect(|&y, &d| tanh_backward_of(y, d));
        Ok(Backward::input_only(dx))
    }

    fn incremental(&self, _input: &ArrayD<f64>, _mode: Mode) -> Option<Incremental<'_>> {
        Some(Incremental::Elementwise(Elementwise::new(
            |_, _, v: f64| v.tanh(),
        )))
    }

    fn spec(&self) -> LayerSpec {
        LayerSpec::Tanh
    }
}
