//! The sigmoid layer.

use ndarray::{Array2, ArrayRef2, ArrayView2, Zip};

use super::relu::same_shape;
use crate::error::Result;
use crate::functions::sigmoid;

/// The logistic sigmoid, element by element (the book's chapter 4 network uses it).
///
/// ```text
/// forward:  y = 1 / (1 + exp(−x))
/// backward: dx = dout · (1 − y) · y
/// ```
///
/// ```
/// use kobai::layers::Sigmoid;
/// use ndarray::array;
/// let (y, cache) = Sigmoid.forward(array![[0.0]].view());
/// assert_eq!(y, array![[0.5]]);
/// assert_eq!(Sigmoid.backward(&cache, &array![[1.0]])?, array![[0.25]]);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Sigmoid;

/// What [`Sigmoid::backward`] needs: the forward output.
#[derive(Debug, Clone)]
pub struct SigmoidCache {
    y: Array2<f64>,
}

impl Sigmoid {
    /// The sigmoid of `x` and the cache.
    pub fn forward(&self, x: ArrayView2<'_, f64>) -> (Array2<f64>, SigmoidCache) {
        let y = sigmoid(&x);
        (y.clone(), SigmoidCache { y })
    }

    /// `dout · (1 − y) · y`.
    ///
    /// # Errors
    /// [`KobaiError::Shape`](crate::KobaiError::Shape) if `dout` does not have the output's shape.
    pub fn backward(&self, cache: &SigmoidCache, dout: &ArrayRef2<f64>) -> Result<Array2<f64>> {
        same_shape("sigmoid output gradient", cache.y.shape(), dout.shape())?;
        Ok(Zip::from(&cache.y)
            .and(dout)
            .map_collect(|&y, &d| d * (1.0 - y) * y))
    }
}
