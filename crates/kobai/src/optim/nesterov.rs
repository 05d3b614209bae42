//! Nesterov's accelerated gradient, in the book's form.

use std::collections::BTreeMap;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Zip};

use super::Optimizer;
use super::momentum::{fraction, single_field, zeros_slot};
use super::state::{Field, flatten};
use crate::check;
use crate::error::Result;

/// Nesterov's accelerated gradient, the book's `Nesterov`
/// (`common/optimizer.py`): momentum whose step looks ahead along the
/// velocity.
///
/// ```text
/// v ← momentum · v − lr · ∂L/∂W
/// W ← W + momentum² · v − (1 + momentum) · lr · ∂L/∂W
/// ```
///
/// `v` is kept per parameter name and starts at zero. The operations are the
/// book's, in its order.
///
/// ```
/// use kobai::{Nesterov, Optimizer};
/// use ndarray::array;
/// let mut opt = Nesterov::new(0.1, 0.9)?;
/// let mut w = array![1.0].into_dyn();
/// opt.update("W", w.view_mut(), array![1.0].into_dyn().view());
/// // v = -0.1; w = 1 + 0.81·(-0.1) - 1.9·0.1 = 0.729
/// assert!((w[0] - 0.729).abs() < 1e-12);
/// assert_eq!(opt.v("W"), Some(array![-0.1].into_dyn().view()));
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Nesterov {
    lr: f64,
    momentum: f64,
    v: BTreeMap<String, ArrayD<f64>>,
}

impl Nesterov {
    /// Nesterov with learning rate `lr` and `momentum` (the book's defaults:
    /// 0.01 and 0.9, [`Nesterov::default`]).
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`](crate::KobaiError::Hyperparameter) unless
    /// `lr` is a finite number above 0 and `momentum` is in [0, 1).
    ///
    /// ```
    /// assert!(kobai::Nesterov::new(0.1, 1.0).is_err());
    /// assert!(kobai::Nesterov::new(0.0, 0.9).is_err());
    /// ```
    pub fn new(lr: f64, momentum: f64) -> Result<Self> {
        Ok(Nesterov {
            lr: check::positive("lr", lr)?,
            momentum: fraction("momentum", momentum)?,
            v: BTreeMap::new(),
        })
    }

    /// The learning rate.
    ///
    /// ```
    /// assert_eq!(kobai::Nesterov::new(0.1, 0.9)?.lr(), 0.1);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// The momentum.
    ///
    /// ```
    /// assert_eq!(kobai::Nesterov::new(0.1, 0.5)?.momentum(), 0.5);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn momentum(&self) -> f64 {
        self.momentum
    }

    /// The velocity of parameter `name`, or `None` before its first update.
    ///
    /// ```
    /// assert!(kobai::Nesterov::default().v("W").is_none());
    /// ```
    pub fn v(&self, name: &str) -> Option<ArrayViewD<'_, f64>> {
        self.v.get(name).map(|a| a.view())
    }
}

impl Default for Nesterov {
    /// The book's defaults: `lr = 0.01`, `momentum = 0.9`.
    ///
    /// ```
    /// let opt = kobai::Nesterov::default();
    /// assert_eq!((opt.lr(), opt.momentum()), (0.01, 0.9));
    /// ```
    fn default() -> Self {
        Nesterov {
            lr: 0.01,
            momentum: 0.9,
            v: BTreeMap::new(),
        }
    }
}

impl Optimizer for Nesterov {
    fn update(&mut self, name: &str, param: ArrayViewMutD<'_, f64>, grad: ArrayViewD<'_, f64>) {
        let (lr, momentum) = (self.lr, self.momentum);
        let v = zeros_slot(&mut self.v, name, param.shape());
        Zip::from(param).and(v).and(&grad).for_each(|p, v, &g| {
            // v *= momentum; v -= lr*grad
            *v *= momentum;
            *v -= lr * g;
            // params += momentum*momentum*v; params -= (1+momentum)*lr*grad
            *p += momentum * momentum * *v;
            *p -= (1.0 + momentum) * lr * g;
        });
    }

    fn name(&self) -> &str {
        "Nesterov"
    }

    fn hyperparameters(&self) -> Vec<(&'static str, f64)> {
        vec![("lr", self.lr), ("momentum", self.momentum)]
    }

    fn state(&self) -> Vec<(String, ArrayD<f64>)> {
        flatten(&self.v, "v").collect()
    }

    fn load_state(&mut self, state: Vec<(String, ArrayD<f64>)>) -> Result<()> {
        self.v = single_field(self.name(), state, ("v", Field::Array))?;
        Ok(())
    }
}
