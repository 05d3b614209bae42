//! Batch normalization (the book's `BatchNormalization`).

use ndarray::{Array1, Array2, ArrayD, ArrayViewD, ArrayViewMutD, Axis};

use super::layer::{Backward, Cache, Forward, Layer, Mode, ParamKind, as_matrix, reshaped};
use crate::error::{KobaiError, Result};
use crate::nets::LayerSpec;
use crate::numerical_gradient::{Columnwise, Incremental};

/// The book's ε under the square root: `10e-7`, that is 1e-6.
pub const BATCH_NORM_EPSILON: f64 = 10e-7;

/// The book's momentum of the running statistics.
pub const BATCH_NORM_MOMENTUM: f64 = 0.9;

/// Batch normalization: each feature normalised over the batch, then scaled
/// by `gamma` and shifted by `beta` (both learned).
///
/// In training the batch's own mean and variance are used, and new running
/// statistics `momentum · running + (1 − momentum) · batch` are proposed as
/// buffer updates (applied by the optimizer step, so a loss or a gradient
/// check never moves them). In evaluation the running statistics are used.
/// An input of more than two axes is flattened to one row per sample, as in
/// the book.
///
/// ```
/// use kobai::layers::{BatchNorm, Layer, Mode};
/// use ndarray::array;
/// let layer = BatchNorm::new(2)?;
/// let out = layer.forward(array![[1.0, 10.0], [3.0, 30.0]].into_dyn(), Mode::Train)?;
/// // Each column now has mean 0 and variance just under 1.
/// assert!((out.output[[0, 0]] + 1.0).abs() < 1e-5 && (out.output[[1, 1]] - 1.0).abs() < 1e-5);
/// // New running means: 0.9 · 0 + 0.1 · (2, 20).
/// assert_eq!(out.updates[0].0, "running_mean");
/// assert!((&out.updates[0].1 - &array![0.2, 2.0].into_dyn()).iter().all(|d| d.abs() < 1e-12));
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BatchNorm {
    /// The scale, one per feature (starts at 1).
    pub gamma: Array1<f64>,
    /// The shift, one per feature (starts at 0).
    pub beta: Array1<f64>,
    /// The running mean used in evaluation (starts at 0).
    pub running_mean: Array1<f64>,
    /// The running variance used in evaluation (starts at 0, as in the book).
    pub running_var: Array1<f64>,
    /// The weight of the old running statistics in each update.
    pub momentum: f64,
}

/// What the backward pass needs from a training forward pass.
struct BatchNormCache {
    shape: Vec<usize>,
    xc: Array2<f64>,
    xn: Array2<f64>,
    std: Array1<f64>,
    train: bool,
}

impl BatchNorm {
    /// A layer for `features` features, with the book's initial values.
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`] if `features` is 0.
    pub fn new(features: usize) -> Result<Self> {
        if features == 0 {
            return Err(KobaiError::Hyperparameter {
                name: "batch norm features",
                value: "0".into(),
                expected: "at least 1",
            });
        }
        Ok(BatchNorm {
            gamma: Array1::ones(features),
            beta: Array1::zeros(features),
            running_mean: Array1::zeros(features),
            running_var: Array1::zeros(features),
            momentum: BATCH_NORM_MOMENTUM,
        })
    }

    fn check_width(&self, x: &Array2<f64>) -> Result<()> {
        if x.ncols() == self.gamma.len() && x.nrows() > 0 {
            return Ok(());
        }
        Err(KobaiError::Shape {
            what: "batch norm input".into(),
            expected: format!(
                "the layer normalises {} features, so it needs at least one row of {}",
                self.gamma.len(),
                self.gamma.len()
            ),
            found: x.shape().to_vec(),
        })
    }
}

/// A training forward pass, one column at a time (for the structure-aware
/// numerical gradient): the column's batch mean and variance, then
/// `(x − μ) / √(σ² + ε) · γ + β`, as [`BatchNorm::forward`] computes it.
struct TrainColumns<'a> {
    gamma: &'a Array1<f64>,
    beta: &'a Array1<f64>,
}

impl Columnwise for TrainColumns<'_> {
    fn column(&self, c: usize, x: &[f64], with: Option<(usize, f64)>, out: &mut [f64]) {
        let (gamma, beta) = match with {
            Some((0, v)) => (v, self.beta[c]),
            Some((_, v)) => (self.gamma[c], v),
            None => (self.gamma[c], self.beta[c]),
        };
        let n = x.len() as f64;
        let mu = x.iter().sum::<f64>() / n;
        let var = x.iter().map(|v| (v - mu) * (v - mu)).sum::<f64>() / n;
        let std = (var + BATCH_NORM_EPSILON).sqrt();
        for (o, &v) in out.iter_mut().zip(x) {
            *o = (v - mu) / std * gamma + beta;
        }
    }
}

impl Layer for BatchNorm {
    fn kind(&self) -> &str {
        "batchnorm"
    }

    fn forward(&self, x: ArrayD<f64>, mode: Mode) -> Result<Forward> {
        let shape = x.shape().to_vec();
        let x = as_matrix("batch norm input", x)?;
        self.check_width(&x)?;
        let n = x.nrows() as f64;
        let (mu, var) = match mode {
            Mode::Train => {
                let mu = x.sum_axis(Axis(0)) / n;
                let xc = &x - &mu;
                let var = (&xc * &xc).sum_axis(Axis(0)) / n;
                (mu, var)
            }
            Mode::Eval => (self.running_mean.clone(), self.running_var.clone()),
        };
        let xc = &x - &mu;
        let std = var.mapv(|v| (v + BATCH_NORM_EPSILON).sqrt());
        let xn = &xc / &std;
        let out = &xn * &self.gamma + &self.beta;
        let out = reshaped("batchnorm", out, &shape)?;
        let train = mode == Mode::Train;
        let mut forward = Forward::new(
            out,
            Cache::new(BatchNormCache {
                shape,
                xc,
                xn,
                std,
                train,
            }),
        );
        if train {
            let m = self.momentum;
            let mean = &self.running_mean * m + &mu * (1.0 - m);
            let var = &self.running_var * m + &var * (1.0 - m);
            forward = forward
                .with_update("running_mean", mean.into_dyn())
                .with_update("running_var", var.into_dyn());
        }
        Ok(forward)
    }

    fn backward(&self, cache: &Cache, dout: ArrayD<f64>) -> Result<Backward> {
        let c: &BatchNormCache = cache.get(self.kind())?;
        if dout.shape() != c.shape.as_slice() {
            return Err(KobaiError::Shape {
                what: "batch norm output gradient".into(),
                expected: format!("expected the output's shape {:?}", c.shape),
                found: dout.shape().to_vec(),
            });
        }
        let dout = as_matrix("batch norm output gradient", dout)?;
        let n = dout.nrows() as f64;
        let dbeta = dout.sum_axis(Axis(0));
        let dgamma = (&c.xn * &dout).sum_axis(Axis(0));
        let dxn = &dout * &self.gamma;
        let dx = if c.train {
            // The book's backward, step by step.
            let mut dxc = &dxn / &c.std;
            let dstd = -(&dxn * &c.xc / (&c.std * &c.std)).sum_axis(Axis(0));
            let dvar = 0.5 * dstd / &c.std;
            dxc = dxc + (2.0 / n) * &c.xc * &dvar;
            let dmu = dxc.sum_axis(Axis(0));
            dxc - dmu / n
        } else {
            // Running statistics are constants of an evaluation pass.
            &dxn / &c.std
        };
        let dx = reshaped("batchnorm", dx, &c.shape)?;
        Ok(Backward {
            dx,
            grads: vec![dgamma.into_dyn(), dbeta.into_dyn()],
        })
    }

    /// In training, column-wise: each output column is its input column
    /// normalised over the batch, times its `gamma`, plus its `beta`. In
    /// evaluation, `None` (the layer reruns).
    fn incremental(&self, _input: &ArrayD<f64>, mode: Mode) -> Option<Incremental<'_>> {
        match mode {
            Mode::Train => Some(Incremental::Columnwise(Box::new(TrainColumns {
                gamma: &self.gamma,
                beta: &self.beta,
            }))),
            Mode::Eval => None,
        }
    }

    fn params(&self) -> Vec<(&'static str, ParamKind, ArrayViewD<'_, f64>)> {
        vec![
            ("gamma", ParamKind::Other, self.gamma.view().into_dyn()),
            ("beta", ParamKind::Other, self.beta.view().into_dyn()),
        ]
    }

    fn params_mut(&mut self) -> Vec<(&'static str, ArrayViewMutD<'_, f64>)> {
        vec![
            ("gamma", self.gamma.view_mut().into_dyn()),
            ("beta", self.beta.view_mut().into_dyn()),
        ]
    }

    fn buffers(&self) -> Vec<(&'static str, ArrayViewD<'_, f64>)> {
        vec![
            ("running_mean", self.running_mean.view().into_dyn()),
            ("running_var", self.running_var.view().into_dyn()),
        ]
    }

    fn params_and_buffers_mut(
        &mut self,
    ) -> (
        Vec<(&'static str, ArrayViewMutD<'_, f64>)>,
        Vec<(&'static str, ArrayViewMutD<'_, f64>)>,
    ) {
        (
            vec![
                ("gamma", self.gamma.view_mut().into_dyn()),
                ("beta", self.beta.view_mut().into_dyn()),
            ],
            vec![
                ("running_mean", self.running_mean.view_mut().into_dyn()),
                ("running_var", self.running_var.view_mut().into_dyn()),
            ],
        )
    }

    fn spec(&self) -> LayerSpec {
        LayerSpec::BatchNorm {
            features: self.gamma.len(),
        }
    }
}
