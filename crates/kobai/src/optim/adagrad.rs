//! AdaGrad: a learning rate that shrinks, element by element, with the
//! gradients seen so far.

use std::collections::BTreeMap;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Zip};

use super::Optimizer;
use super::momentum::{single_field, zeros_slot};
use super::state::{Field, flatten};
use crate::check;
use crate::error::Result;

/// The book's `1e-7`, added to `√h` so that an element with no gradient yet
/// does not divide by zero.
const EPSILON: f64 = 1e-7;

/// AdaGrad, the book's `AdaGrad`: each element's step is divided by the root
/// of the sum of its squared gradients so far.
///
/// ```text
/// h ← h + ∂L/∂W ⊙ ∂L/∂W
/// W ← W − lr · ∂L/∂W / (√h + 1e-7)
/// ```
///
/// `h` is kept per parameter name and starts at zero the first time a name is
/// seen (or when that name's shape changes). The operations are the book's, in
/// its order, so a run matches NumPy bit for bit.
///
/// ```
/// use kobai::{AdaGrad, Optimizer};
/// use ndarray::array;
/// let mut opt = AdaGrad::new(0.5)?;
/// let mut w = array![1.0, -2.0].into_dyn();
/// opt.update("W", w.view_mut(), array![3.0, -4.0].into_dyn().view());
/// // The first step is lr·sign(g), whatever the size of g (up to the 1e-7).
/// assert!((w[0] - 0.5).abs() < 1e-7 && (w[1] + 1.5).abs() < 1e-7);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AdaGrad {
    lr: f64,
    h: BTreeMap<String, ArrayD<f64>>,
}

impl AdaGrad {
    /// AdaGrad with learning rate `lr` (the book's default is 0.01; see
    /// [`AdaGrad::default`]).
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`](crate::KobaiError::Hyperparameter) unless
    /// `lr` is a finite number above 0.
    ///
    /// ```
    /// use kobai::AdaGrad;
    /// assert_eq!(AdaGrad::new(1.5)?.lr(), 1.5);
    /// let err = AdaGrad::new(-1.0).unwrap_err();
    /// assert_eq!(err.to_string(), "lr = -1 is invalid; expected a finite number above 0");
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn new(lr: f64) -> Result<Self> {
        Ok(AdaGrad {
            lr: check::positive("lr", lr)?,
            h: BTreeMap::new(),
        })
    }

    /// The learning rate.
    ///
    /// ```
    /// assert_eq!(kobai::AdaGrad::new(0.1)?.lr(), 0.1);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// The sum of squared gradients of parameter `name` (the book's `h[name]`),
    /// or `None` before its first update.
    ///
    /// ```
    /// use kobai::{AdaGrad, Optimizer};
    /// use ndarray::array;
    /// let mut opt = AdaGrad::new(0.1)?;
    /// let mut w = array![1.0].into_dyn();
    /// opt.update("W", w.view_mut(), array![2.0].into_dyn().view());
    /// opt.update("W", w.view_mut(), array![3.0].into_dyn().view());
    /// assert_eq!(opt.h("W"), Some(array![13.0].into_dyn().view()));
    /// assert!(opt.h("b").is_none());
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn h(&self, name: &str) -> Option<ArrayViewD<'_, f64>> {
        self.h.get(name).map(|a| a.view())
    }
}

impl Default for AdaGrad {
    /// The book's default: `lr = 0.01`.
    ///
    /// ```
    /// assert_eq!(kobai::AdaGrad::default().lr(), 0.01);
    /// ```
    fn default() -> Self {
        AdaGrad {
            lr: 0.01,
            h: BTreeMap::new(),
        }
    }
}

impl Optimizer for AdaGrad {
    fn update(&mut self, name: &str, param: ArrayViewMutD<'_, f64>, grad: ArrayViewD<'_, f64>) {
        let lr = self.lr;
        let h = zeros_slot(&mut self.h, name, param.shape());
        Zip::from(param).and(h).and(&grad).for_each(|p, h, &g| {
            // h += grad*grad; param -= lr * grad / (sqrt(h) + 1e-7)
            *h += g * g;
            *p -= lr * g / (h.sqrt() + EPSILON);
        });
    }

    fn name(&self) -> &str {
        "AdaGrad"
    }

    fn hyperparameters(&self) -> Vec<(&'static str, f64)> {
        vec![("lr", self.lr)]
    }

    fn state(&self) -> Vec<(String, ArrayD<f64>)> {
        flatten(&self.h, "h").collect()
    }

    fn load_state(&mut self, state: Vec<(String, ArrayD<f64>)>) -> Result<()> {
        self.h = single_field(self.name(), state, ("h", Field::NonNegative))?;
        Ok(())
    }
}
