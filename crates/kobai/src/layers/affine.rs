//! The fully connected layer `y = x · W + b`.

use ndarray::{Array1, Array2, ArrayRef2, ArrayView1, ArrayView2, Axis};

use crate::error::{KobaiError, Result};

/// A fully connected layer over a batch (one sample per row), with weights
/// borrowed from the model.
///
/// ```text
/// forward:  y = x · W + b
/// backward: dx = dout · Wᵀ,  dW = xᵀ · dout,  db = Σ_rows dout
/// ```
///
/// ```
/// use kobai::layers::Affine;
/// use ndarray::array;
/// let (w, b) = (array![[1.0, 2.0], [3.0, 4.0]], array![0.5, -0.5]);
/// let layer = Affine { w: w.view(), b: b.view() };
/// let x = array![[1.0, 1.0]];
/// let (y, cache) = layer.forward(x.view())?;
/// assert_eq!(y, array![[4.5, 5.5]]);
/// let grads = layer.backward(&cache, &array![[1.0, 0.0]])?;
/// assert_eq!(grads.dx, array![[1.0, 3.0]]);
/// assert_eq!(grads.dw, array![[1.0, 0.0], [1.0, 0.0]]);
/// assert_eq!(grads.db, array![1.0, 0.0]);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Affine<'p> {
    /// Weights, inputs × outputs.
    pub w: ArrayView2<'p, f64>,
    /// Bias, one per output.
    pub b: ArrayView1<'p, f64>,
}

/// What [`Affine::backward`] needs from the forward pass: its input.
#[derive(Debug, Clone)]
pub struct AffineCache<'x> {
    x: ArrayView2<'x, f64>,
}

/// The gradients of an affine layer.
#[derive(Debug, Clone, PartialEq)]
pub struct AffineGrads {
    /// With respect to the input.
    pub dx: Array2<f64>,
    /// With respect to the weights.
    pub dw: Array2<f64>,
    /// With respect to the bias.
    pub db: Array1<f64>,
}

impl Affine<'_> {
    /// `x · W + b`, and the cache for the backward pass.
    ///
    /// # Errors
    /// [`KobaiError::Shape`] if `x` does not have one column per row of `W`.
    pub fn forward<'x>(&self, x: ArrayView2<'x, f64>) -> Result<(Array2<f64>, AffineCache<'x>)> {
        self.check_input(x.shape())?;
        let y = x.dot(&self.w) + self.b;
        Ok((y, AffineCache { x }))
    }

    /// Errors with [`KobaiError::Shape`] unless an input of `shape` has one
    /// feature per row of W.
    pub(crate) fn check_input(&self, shape: &[usize]) -> Result<()> {
        if shape.len() == 2 && shape[1] == self.w.nrows() {
            return Ok(());
        }
        Err(KobaiError::Shape {
            what: "affine input".into(),
            expected: format!(
                "W has shape {:?}, so each row needs {} features",
                self.w.shape(),
                self.w.nrows()
            ),
            found: shape.to_vec(),
        })
    }

    /// The gradients, given the gradient `dout` of the loss with respect to the output.
    ///
    /// # Errors
    /// [`KobaiError::Shape`] if `dout` does not have the output's shape.
    pub fn backward(&self, cache: &AffineCache<'_>, dout: &ArrayRef2<f64>) -> Result<AffineGrads> {
        let expected = [cache.x.nrows(), self.w.ncols()];
        if dout.shape() != expected {
            return Err(KobaiError::Shape {
                what: "affine output gradient".into(),
                expected: format!("expected the output's shape {expected:?}"),
                found: dout.shape().to_vec(),
            });
        }
        Ok(AffineGrads {
            dx: dout.dot(&self.w.t()),
            dw: cache.x.t().dot(dout),
            db: dout.sum_axis(Axis(0)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numerical_gradient;
    use ndarray::array;

    #[test]
    fn backward_matches_the_numerical_gradient() -> Result<()> {
        let w = array![[0.2, -0.4, 0.1], [0.7, 0.3, -0.5]];
        let b = array![0.1, 0.0, -0.2];
        let x = array![[1.0, -2.0], [0.5, 0.25]];
        let dout = array![[1.0, -1.0, 0.5], [0.3, 0.2, -0.1]];
        // L = Σ dout ⊙ y, so dL/dy = dout.
        let loss = |w: &ArrayRef2<f64>| {
            (x.dot(w) + &b)
                .iter()
                .zip(dout.iter())
                .map(|(y, d)| y * d)
                .sum::<f64>()
        };
        let layer = Affine {
            w: w.view(),
            b: b.view(),
        };
        let (_, cache) = layer.forward(x.view())?;
        let grads = layer.backward(&cache, &dout)?;
        let numeric = numerical_gradient(loss, &w)?;
        assert!(
            grads
                .dw
                .iter()
                .zip(&numeric)
                .all(|(a, n)| (a - n).abs() < 1e-9)
        );
        Ok(())
    }

    #[test]
    fn shapes_are_checked() {
        let (w, b) = (Array2::<f64>::zeros((3, 2)), Array1::<f64>::zeros(2));
        let layer = Affine {
            w: w.view(),
            b: b.view(),
        };
        let err = layer.forward(Array2::zeros((4, 2)).view()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "affine input has shape [4, 2] but W has shape [3, 2], so each row needs 3 features"
        );
    }
}
