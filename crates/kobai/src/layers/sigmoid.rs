//! The sigmoid layer.

use ndarray::{ArrayD, Zip};

use super::layer::{Backward, Cache, Forward, Layer, Mode, same_shape};
use crate::error::Result;
use crate::functions::activations::{sigmoid_backward_of, sigmoid_of};
use crate::nets::LayerSpec;
use crate::numerical_gradient::{Elementwise, Incremental};

/// The logistic sigmoid, element by element, on inputs of any shape.
///
/// ```text
/// forward:  y = 1 / (1 + e^(−x))
/// backward: dx = dout · (1 − y) · y
/// ```
///
/// ```
/// use kobai::layers::{Layer, Mode, Sigmoid};
/// use ndarray::array;
/// let out = Sigmoid.forward(array![[0.0]].into_dyn(), Mode::Train)?;
/// assert_eq!(out.output, array![[0.5]].into_dyn());
/// assert_eq!(Sigmoid.backward(&out.cache, array![[1.0]].into_dyn())?.dx, array![[0.25]].into_dyn());
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Sigmoid;

impl Layer for Sigmoid {
    fn kind(&self) -> &str {
        "sigmoid"
    }

    fn forward(&self, x: ArrayD<f64>, _mode: Mode) -> Result<Forward> {
        let y = x.mapv(sigmoid_of);
        Ok(Forward::new(y.clone(), Cache::new(y)))
    }

    fn backward(&self, cache: &Cache, dout: ArrayD<f64>) -> Result<Backward> {
        let y: &ArrayD<f64> = cache.get(self.kind())?;
        same_shape("sigmoid output gradient", y.shape(), dout.shape())?;
        let dx = Zip::from(y)
            .and(&dout)
            .map_collect(|&y, &d| sigmoid_backward_of(y, d));
        Ok(Backward::input_only(dx))
    }

    fn incremental(&self, _input: &ArrayD<f64>, _mode: Mode) -> Option<Incremental<'_>> {
        Some(Incremental::Elementwise(Elementwise::new(
            |_, _, v: f64| sigmoid_of(v),
        )))
    }

    fn spec(&self) -> LayerSpec {
        LayerSpec::Sigmoid
    }
}
