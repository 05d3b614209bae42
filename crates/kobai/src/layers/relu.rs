//! The ReLU layer.

use ndarray::{Array2, ArrayRef2, ArrayView2, Zip};

use crate::error::{KobaiError, Result};

/// Rectified linear units, element by element.
///
/// ```text
/// forward:  y = max(0, x)
/// backward: dx = dout where x > 0, else 0
/// ```
///
/// ```
/// use kobai::layers::Relu;
/// use ndarray::array;
/// let x = array![[-1.0, 2.0]];
/// let (y, cache) = Relu.forward(x.view());
/// assert_eq!(y, array![[0.0, 2.0]]);
/// assert_eq!(Relu.backward(&cache, &array![[5.0, 5.0]])?, array![[0.0, 5.0]]);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Relu;

/// What [`Relu::backward`] needs: the forward input.
#[derive(Debug, Clone)]
pub struct ReluCache<'x> {
    x: ArrayView2<'x, f64>,
}

impl Relu {
    /// `max(0, x)` and the cache.
    pub fn forward<'x>(&self, x: ArrayView2<'x, f64>) -> (Array2<f64>, ReluCache<'x>) {
        (x.mapv(|v| if v > 0.0 { v } else { 0.0 }), ReluCache { x })
    }

    /// `dout` where the input was positive, else 0.
    ///
    /// # Errors
    /// [`KobaiError::Shape`] if `dout` does not have the input's shape.
    pub fn backward(&self, cache: &ReluCache<'_>, dout: &ArrayRef2<f64>) -> Result<Array2<f64>> {
        same_shape("relu output gradient", cache.x.shape(), dout.shape())?;
        Ok(Zip::from(&cache.x)
            .and(dout)
            .map_collect(|&x, &d| if x > 0.0 { d } else { 0.0 }))
    }
}

/// Errors unless a backward `dout` has the forward output's shape.
pub(crate) fn same_shape(what: &str, expected: &[usize], found: &[usize]) -> Result<()> {
    if expected == found {
        Ok(())
    } else {
        Err(KobaiError::Shape {
            what: what.into(),
            expected: format!("expected the output's shape {expected:?}"),
            found: found.to_vec(),
        })
    }
}
