//! Stochastic gradient descent.

use ndarray::{ArrayViewD, ArrayViewMutD, Zip};

use super::Optimizer;
use crate::check;
use crate::error::Result;

/// Plain stochastic gradient descent, the book's `SGD`.
///
/// ```text
/// W ← W − lr · ∂L/∂W
/// ```
///
/// ```
/// use kobai::{Optimizer, Sgd};
/// use ndarray::array;
/// let mut w = array![1.0, -2.0].into_dyn();
/// let g = array![0.5, -1.0].into_dyn();
/// Sgd::new(0.1)?.update("W", w.view_mut(), g.view());
/// assert_eq!(w, array![0.95, -1.9].into_dyn());
/// assert!(Sgd::new(0.0).is_err());
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sgd {
    lr: f64,
}

impl Sgd {
    /// SGD with learning rate `lr`.
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`](crate::KobaiError::Hyperparameter) unless
    /// `lr` is a finite number above 0.
    pub fn new(lr: f64) -> Result<Self> {
        Ok(Sgd {
            lr: check::positive("lr", lr)?,
        })
    }

    /// The learning rate.
    pub fn lr(&self) -> f64 {
        self.lr
    }
}

impl Optimizer for Sgd {
    fn update(&mut self, _name: &str, param: ArrayViewMutD<'_, f64>, grad: ArrayViewD<'_, f64>) {
        let lr = self.lr;
        Zip::from(param).and(&grad).for_each(|p, &g| *p -= lr * g);
    }

    fn name(&self) -> &str {
        "SGD"
    }

    fn hyperparameters(&self) -> Vec<(&'static str, f64)> {
        vec![("lr", self.lr)]
    }
}
