//! The fully connected layer `y = x · W + b`.

use ndarray::{
    Array1, Array2, ArrayD, ArrayRef2, ArrayView1, ArrayView2, ArrayViewD, ArrayViewMutD, Axis, Ix2,
};

use super::layer::{Backward, Cache, Forward, Layer, Mode, ParamKind, as_matrix, reshaped};
use crate::error::{KobaiError, Result};
use crate::nets::LayerSpec;
use crate::numerical_gradient::Incremental;

/// The arithmetic of a fully connected layer over a batch (one sample per
/// row), with weights borrowed from the model that owns them. [`Affine`] is
/// the layer that owns its weights; both compute with this.
///
/// ```text
/// forward:  y = x · W + b
/// backward: dx = dout · Wᵀ,  dW = xᵀ · dout,  db = Σ_rows dout
/// ```
///
/// ```
/// use kobai::layers::AffineView;
/// use ndarray::array;
/// let (w, b) = (array![[1.0, 2.0], [3.0, 4.0]], array![0.5, -0.5]);
/// let layer = AffineView { w: w.view(), b: b.view() };
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
pub struct AffineView<'p> {
    /// Weights, inputs × outputs.
    pub w: ArrayView2<'p, f64>,
    /// Bias, one per output.
    pub b: ArrayView1<'p, f64>,
}

/// What [`AffineView::backward`] needs from the forward pass: its input.
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

impl AffineView<'_> {
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

/// The fully connected layer `y = x · W + b` of a network, owning `W`
/// (inputs × outputs) and `b`. An input of more than two axes is flattened
/// to one row per sample first, as the book's `Affine` does, and its
/// gradient has the input's shape.
///
/// ```
/// use kobai::layers::{Affine, Layer, Mode};
/// use ndarray::array;
/// let layer = Affine::new(array![[1.0, 2.0], [3.0, 4.0]], array![0.5, -0.5])?;
/// let out = layer.forward(array![[1.0, 1.0]].into_dyn(), Mode::Eval)?;
/// assert_eq!(out.output, array![[4.5, 5.5]].into_dyn());
/// let back = layer.backward(&out.cache, array![[1.0, 0.0]].into_dyn())?;
/// assert_eq!(back.dx, array![[1.0, 3.0]].into_dyn());
/// assert_eq!(back.grads, [array![[1.0, 0.0], [1.0, 0.0]].into_dyn(), array![1.0, 0.0].into_dyn()]);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Affine {
    /// Weights, inputs × outputs.
    pub w: Array2<f64>,
    /// Bias, one per output.
    pub b: Array1<f64>,
}

impl Affine {
    /// A layer with these weights and bias.
    ///
    /// # Errors
    /// [`KobaiError::Shape`] unless `b` has one entry per column of `w`.
    pub fn new(w: Array2<f64>, b: Array1<f64>) -> Result<Self> {
        if b.len() != w.ncols() {
            return Err(KobaiError::Shape {
                what: "affine bias".into(),
                expected: format!(
                    "W has shape {:?}, so b needs {} entries",
                    w.shape(),
                    w.ncols()
                ),
                found: b.shape().to_vec(),
            });
        }
        Ok(Affine { w, b })
    }

    /// The layer's arithmetic on borrowed weights.
    pub fn view(&self) -> AffineView<'_> {
        AffineView {
            w: self.w.view(),
            b: self.b.view(),
        }
    }
}

/// What the owned [`Affine`] keeps: its input as a matrix, and its shape.
struct AffineInput {
    x: Array2<f64>,
    shape: Vec<usize>,
}

impl Layer for Affine {
    fn kind(&self) -> &str {
        "affine"
    }

    fn forward(&self, x: ArrayD<f64>, _mode: Mode) -> Result<Forward> {
        let shape = x.shape().to_vec();
        let x = as_matrix("affine input", x)?;
        let (y, _) = self.view().forward(x.view())?;
        Ok(Forward::new(
            y.into_dyn(),
            Cache::new(AffineInput { x, shape }),
        ))
    }

    fn backward(&self, cache: &Cache, dout: ArrayD<f64>) -> Result<Backward> {
        let input: &AffineInput = cache.get(self.kind())?;
        let found = dout.shape().to_vec();
        let dout = dout
            .into_dimensionality::<Ix2>()
            .map_err(|_| KobaiError::Shape {
                what: "affine output gradient".into(),
                expected: format!(
                    "expected the output's shape {:?}",
                    [input.x.nrows(), self.w.ncols()]
                ),
                found,
            })?;
        let view = self.view();
        let grads = view.backward(&AffineCache { x: input.x.view() }, &dout)?;
        let dx = reshaped("affine", grads.dx, &input.shape)?;
        Ok(Backward {
            dx,
            grads: vec![grads.dw.into_dyn(), grads.db.into_dyn()],
        })
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

    fn incremental(&self, _input: &ArrayD<f64>, _mode: Mode) -> Option<Incremental<'_>> {
        Some(Incremental::Affine {
            w: self.w.view(),
            b: self.b.view(),
        })
    }

    fn spec(&self) -> LayerSpec {
        LayerSpec::Affine {
            inputs: self.w.nrows(),
            outputs: self.w.ncols(),
        }
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
        let layer = AffineView {
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
        let layer = AffineView {
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
