//! Momentum SGD, and the helpers every stateful optimizer of chapter 6 shares.

use std::collections::BTreeMap;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Zip};

use super::Optimizer;
use super::state::{Field, flatten, grouped};
use crate::check;
use crate::error::{KobaiError, Result};

/// Momentum SGD, the book's `Momentum`: each parameter keeps a velocity `v`
/// that the gradient accelerates and `momentum` slows down.
///
/// ```text
/// v ← momentum · v − lr · ∂L/∂W
/// W ← W + v
/// ```
///
/// `v` is kept per parameter name and starts at zero the first time a name is
/// seen (or when that name's shape changes). The operations are the book's, in
/// its order, so a run matches NumPy bit for bit. With `momentum = 0` it is
/// [`Sgd`](crate::Sgd), to the bit.
///
/// ```
/// use kobai::{Momentum, Optimizer};
/// use ndarray::array;
/// let mut opt = Momentum::new(0.1, 0.9)?;
/// let mut w = array![1.0, -2.0].into_dyn();
/// let g = array![0.5, -1.0].into_dyn();
/// opt.update("W", w.view_mut(), g.view()); // v = -0.1·g
/// opt.update("W", w.view_mut(), g.view()); // v = 0.9·v - 0.1·g
/// // v = -0.05 then 0.9·(-0.05) - 0.05 = -0.095, so w[0] = 1 - 0.05 - 0.095
/// assert!((w[0] - 0.855).abs() < 1e-12 && (w[1] + 1.71).abs() < 1e-12);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Momentum {
    lr: f64,
    momentum: f64,
    v: BTreeMap<String, ArrayD<f64>>,
}

impl Momentum {
    /// Momentum SGD with learning rate `lr` and `momentum` (the book's default
    /// is 0.9; see [`Momentum::default`]).
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`] unless `lr` is a finite number above 0 and
    /// `momentum` is in [0, 1).
    ///
    /// ```
    /// use kobai::Momentum;
    /// assert_eq!(Momentum::new(0.1, 0.9)?.momentum(), 0.9);
    /// let err = Momentum::new(0.1, 1.0).unwrap_err();
    /// assert_eq!(err.to_string(), "momentum = 1 is invalid; expected a number in [0, 1)");
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn new(lr: f64, momentum: f64) -> Result<Self> {
        Ok(Momentum {
            lr: check::positive("lr", lr)?,
            momentum: fraction("momentum", momentum)?,
            v: BTreeMap::new(),
        })
    }

    /// The learning rate.
    ///
    /// ```
    /// assert_eq!(kobai::Momentum::new(0.1, 0.9)?.lr(), 0.1);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// The momentum: the fraction of the velocity kept from one step to the next.
    ///
    /// ```
    /// assert_eq!(kobai::Momentum::new(0.1, 0.5)?.momentum(), 0.5);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn momentum(&self) -> f64 {
        self.momentum
    }

    /// The velocity of parameter `name` (the book's `v[name]`), or `None`
    /// before its first update.
    ///
    /// ```
    /// use kobai::{Momentum, Optimizer};
    /// use ndarray::array;
    /// let mut opt = Momentum::new(0.1, 0.9)?;
    /// assert!(opt.v("W").is_none());
    /// let mut w = array![1.0].into_dyn();
    /// opt.update("W", w.view_mut(), array![2.0].into_dyn().view());
    /// assert_eq!(opt.v("W"), Some(array![-0.2].into_dyn().view()));
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    #[doc(alias = "velocity")]
    pub fn v(&self, name: &str) -> Option<ArrayViewD<'_, f64>> {
        self.v.get(name).map(|a| a.view())
    }
}

impl Default for Momentum {
    /// The book's defaults: `lr = 0.01`, `momentum = 0.9`.
    ///
    /// ```
    /// let opt = kobai::Momentum::default();
    /// assert_eq!((opt.lr(), opt.momentum()), (0.01, 0.9));
    /// ```
    fn default() -> Self {
        Momentum {
            lr: 0.01,
            momentum: 0.9,
            v: BTreeMap::new(),
        }
    }
}

impl Optimizer for Momentum {
    fn update(&mut self, name: &str, param: ArrayViewMutD<'_, f64>, grad: ArrayViewD<'_, f64>) {
        let (lr, momentum) = (self.lr, self.momentum);
        let v = zeros_slot(&mut self.v, name, param.shape());
        Zip::from(param).and(v).and(&grad).for_each(|p, v, &g| {
            // v = momentum*v - lr*grad; param += v
            *v = momentum * *v - lr * g;
            *p += *v;
        });
    }

    fn name(&self) -> &str {
        "Momentum"
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

/// The state of an optimizer that keeps one array per parameter (`field`),
/// checked and keyed by parameter name.
pub(super) fn single_field(
    owner: &str,
    state: Vec<(String, ArrayD<f64>)>,
    field: (&str, Field),
) -> Result<BTreeMap<String, ArrayD<f64>>> {
    Ok(grouped(owner, state, &[field])?
        .into_iter()
        .filter_map(|(name, arrays)| arrays.into_iter().next().map(|a| (name, a)))
        .collect())
}

/// Errors with [`KobaiError::Hyperparameter`] unless `value` is in [0, 1)
/// (a momentum, a decay rate, a β of Adam).
pub(super) fn fraction(name: &'static str, value: f64) -> Result<f64> {
    if (0.0..1.0).contains(&value) {
        Ok(value)
    } else {
        Err(KobaiError::Hyperparameter {
            name,
            value: crate::error::short_number(value),
            expected: "a number in [0, 1)",
        })
    }
}

/// The state kept for `name`: created by `fresh` the first time, and again
/// whenever `fits` says the one kept no longer fits (the parameter's shape
/// changed).
pub(super) fn slot<'a, S>(
    states: &'a mut BTreeMap<String, S>,
    name: &str,
    fits: impl Fn(&S) -> bool,
    fresh: impl Fn() -> S,
) -> &'a mut S {
    let state = states.entry(name.to_owned()).or_insert_with(&fresh);
    if !fits(state) {
        *state = fresh();
    }
    state
}

/// A zero-initialised array of `shape` kept for `name`, as the book's
/// `np.zeros_like(val)`.
pub(super) fn zeros_slot<'a>(
    states: &'a mut BTreeMap<String, ArrayD<f64>>,
    name: &str,
    shape: &[usize],
) -> &'a mut ArrayD<f64> {
    slot(
        states,
        name,
        |s| s.shape() == shape,
        || ArrayD::zeros(shape),
    )
}
