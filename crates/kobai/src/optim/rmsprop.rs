//! RMSprop: AdaGrad with a forgetting, exponentially decaying, sum.

use std::collections::BTreeMap;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Zip};

use super::Optimizer;
use super::momentum::{fraction, single_field, zeros_slot};
use super::state::{Field, flatten};
use crate::check;
use crate::error::Result;

/// The book's `1e-7`, added to `√h` so that an element with no gradient yet
/// does not divide by zero.
const EPSILON: f64 = 1e-7;

/// RMSprop, the book's `RMSprop`: like [`AdaGrad`](crate::AdaGrad), but old
/// squared gradients fade by `decay_rate` at every step.
///
/// ```text
/// h ← decay_rate · h
/// h ← h + (1 − decay_rate) · ∂L/∂W ⊙ ∂L/∂W
/// W ← W − lr · ∂L/∂W / (√h + 1e-7)
/// ```
///
/// `h` is kept per parameter name and starts at zero the first time a name is
/// seen (or when that name's shape changes). The operations are the book's, in
/// its order, so a run matches NumPy bit for bit.
///
/// ```
/// use kobai::{Optimizer, RmsProp};
/// use ndarray::array;
/// let mut opt = RmsProp::new(0.01, 0.99)?;
/// let mut w = array![1.0].into_dyn();
/// opt.update("W", w.view_mut(), array![2.0].into_dyn().view());
/// // h = 0.01·4, so the first step is 0.01·2/(0.2 + 1e-7), about 0.1.
/// assert!((w[0] - 0.9).abs() < 1e-6);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RmsProp {
    lr: f64,
    decay_rate: f64,
    h: BTreeMap<String, ArrayD<f64>>,
}

impl RmsProp {
    /// RMSprop with learning rate `lr` and `decay_rate` (the book's default is
    /// 0.99; see [`RmsProp::default`]).
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`](crate::KobaiError::Hyperparameter) unless
    /// `lr` is a finite number above 0 and `decay_rate` is in [0, 1).
    ///
    /// ```
    /// use kobai::RmsProp;
    /// assert_eq!(RmsProp::new(0.1, 0.9)?.decay_rate(), 0.9);
    /// let err = RmsProp::new(0.1, f64::NAN).unwrap_err();
    /// assert_eq!(err.to_string(), "decay_rate = NaN is invalid; expected a number in [0, 1)");
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn new(lr: f64, decay_rate: f64) -> Result<Self> {
        Ok(RmsProp {
            lr: check::positive("lr", lr)?,
            decay_rate: fraction("decay_rate", decay_rate)?,
            h: BTreeMap::new(),
        })
    }

    /// The learning rate.
    ///
    /// ```
    /// assert_eq!(kobai::RmsProp::new(0.1, 0.99)?.lr(), 0.1);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// The decay rate: the fraction of `h` kept from one step to the next.
    ///
    /// ```
    /// assert_eq!(kobai::RmsProp::new(0.1, 0.5)?.decay_rate(), 0.5);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn decay_rate(&self) -> f64 {
        self.decay_rate
    }

    /// The decaying sum of squared gradients of parameter `name` (the book's
    /// `h[name]`), or `None` before its first update.
    ///
    /// ```
    /// use kobai::{Optimizer, RmsProp};
    /// use ndarray::array;
    /// let mut opt = RmsProp::new(0.1, 0.5)?;
    /// let mut w = array![1.0].into_dyn();
    /// opt.update("W", w.view_mut(), array![2.0].into_dyn().view());
    /// assert_eq!(opt.h("W"), Some(array![2.0].into_dyn().view())); // 0.5·2·2
    /// assert!(opt.h("b").is_none());
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn h(&self, name: &str) -> Option<ArrayViewD<'_, f64>> {
        self.h.get(name).map(|a| a.view())
    }
}

impl Default for RmsProp {
    /// The book's defaults: `lr = 0.01`, `decay_rate = 0.99`.
    ///
    /// ```
    /// let opt = kobai::RmsProp::default();
    /// assert_eq!((opt.lr(), opt.decay_rate()), (0.01, 0.99));
    /// ```
    fn default() -> Self {
        RmsProp {
            lr: 0.01,
            decay_rate: 0.99,
            h: BTreeMap::new(),
        }
    }
}

impl Optimizer for RmsProp {
    fn update(&mut self, name: &str, param: ArrayViewMutD<'_, f64>, grad: ArrayViewD<'_, f64>) {
        let (lr, decay_rate) = (self.lr, self.decay_rate);
        let h = zeros_slot(&mut self.h, name, param.shape());
        Zip::from(param).and(h).and(&grad).for_each(|p, h, &g| {
            // h *= decay_rate; h += (1 - decay_rate) * grad * grad
            *h *= decay_rate;
            *h += (1.0 - decay_rate) * g * g;
            // param -= lr * grad / (sqrt(h) + 1e-7)
            *p -= lr * g / (h.sqrt() + EPSILON);
        });
    }

    fn name(&self) -> &str {
        "RMSprop"
    }

    fn hyperparameters(&self) -> Vec<(&'static str, f64)> {
        vec![("lr", self.lr), ("decay_rate", self.decay_rate)]
    }

    fn state(&self) -> Vec<(String, ArrayD<f64>)> {
        flatten(&self.h, "h").collect()
    }

    fn load_state(&mut self, state: Vec<(String, ArrayD<f64>)>) -> Result<()> {
        self.h = single_field(self.name(), state, ("h", Field::NonNegative))?;
        Ok(())
    }
}
