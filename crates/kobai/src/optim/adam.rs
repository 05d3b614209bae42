//! Adam: momentum and RMSprop together, with bias correction.

use std::collections::BTreeMap;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Zip};

use super::Optimizer;
use super::momentum::{fraction, slot};
use super::state::{Field, grouped};
use crate::check;
use crate::error::Result;

/// The book's `1e-7`, added to `√v` so that an element with no gradient yet
/// does not divide by zero.
const EPSILON: f64 = 1e-7;

/// The fields of Adam's state, per parameter, as checkpoints name them.
const FIELDS: [(&str, Field); 3] = [
    ("m", Field::Array),
    ("v", Field::NonNegative),
    ("t", Field::Count),
];

/// What Adam keeps for one parameter.
#[derive(Debug, Clone, PartialEq)]
struct AdamState {
    m: ArrayD<f64>,
    v: ArrayD<f64>,
    steps: u64,
}

impl AdamState {
    fn zeros(shape: &[usize]) -> Self {
        AdamState {
            m: ArrayD::zeros(shape),
            v: ArrayD::zeros(shape),
            steps: 0,
        }
    }
}

/// Adam, the book's `Adam` (Kingma & Ba, arXiv:1412.6980v8): a running mean
/// `m` of the gradients and `v` of their squares, with the bias correction
/// folded into the learning rate.
///
/// ```text
/// t    ← t + 1
/// lr_t ← lr · √(1 − β₂ᵗ) / (1 − β₁ᵗ)
/// m    ← m + (1 − β₁) · (∂L/∂W − m)
/// v    ← v + (1 − β₂) · (∂L/∂W ⊙ ∂L/∂W − v)
/// W    ← W − lr_t · m / (√v + 1e-7)
/// ```
///
/// `m`, `v` and the step count `t` are kept per parameter name and start at
/// zero the first time a name is seen (or when that name's shape changes). The
/// book keeps one `iter` for the whole optimizer and adds 1 per call of
/// `update(params, grads)`, which updates every parameter; kobai counts the
/// updates of each name, which is the same count whenever every parameter is
/// updated once per step — as [`step`](crate::step) does. The operations are
/// the book's, in its order (`β^t` by `powf`, like Python's `beta**iter`), so a
/// run matches NumPy bit for bit.
///
/// ```
/// use kobai::{Adam, Optimizer};
/// use ndarray::array;
/// let mut opt = Adam::new(0.1, 0.9, 0.999)?;
/// let mut w = array![1.0, -2.0].into_dyn();
/// opt.update("W", w.view_mut(), array![3.0, -0.5].into_dyn().view());
/// // The first step is about lr·sign(g), whatever the size of g.
/// assert!((w[0] - 0.9).abs() < 1e-6 && (w[1] + 1.9).abs() < 1e-6);
/// assert_eq!(opt.steps("W"), 1);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Adam {
    lr: f64,
    beta1: f64,
    beta2: f64,
    states: BTreeMap<String, AdamState>,
}

impl Adam {
    /// Adam with learning rate `lr` and decay rates `beta1` (of `m`) and
    /// `beta2` (of `v`); the book's defaults are 0.001, 0.9 and 0.999 (see
    /// [`Adam::default`]).
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`](crate::KobaiError::Hyperparameter) unless
    /// `lr` is a finite number above 0 and `beta1`, `beta2` are in [0, 1).
    ///
    /// ```
    /// use kobai::Adam;
    /// assert_eq!(Adam::new(0.3, 0.9, 0.999)?.beta2(), 0.999);
    /// let err = Adam::new(0.3, 0.9, 1.0).unwrap_err();
    /// assert_eq!(err.to_string(), "beta2 = 1 is invalid; expected a number in [0, 1)");
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn new(lr: f64, beta1: f64, beta2: f64) -> Result<Self> {
        Ok(Adam {
            lr: check::positive("lr", lr)?,
            beta1: fraction("beta1", beta1)?,
            beta2: fraction("beta2", beta2)?,
            states: BTreeMap::new(),
        })
    }

    /// The learning rate (before bias correction).
    ///
    /// ```
    /// assert_eq!(kobai::Adam::new(0.3, 0.9, 0.999)?.lr(), 0.3);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// β₁, the decay rate of the running mean of the gradients.
    ///
    /// ```
    /// assert_eq!(kobai::Adam::new(0.3, 0.8, 0.999)?.beta1(), 0.8);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn beta1(&self) -> f64 {
        self.beta1
    }

    /// β₂, the decay rate of the running mean of the squared gradients.
    ///
    /// ```
    /// assert_eq!(kobai::Adam::new(0.3, 0.9, 0.99)?.beta2(), 0.99);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn beta2(&self) -> f64 {
        self.beta2
    }

    /// How many times parameter `name` has been updated (the book's `iter`);
    /// 0 before its first update.
    ///
    /// ```
    /// use kobai::{Adam, Optimizer};
    /// use ndarray::array;
    /// let mut opt = Adam::default();
    /// let mut w = array![1.0].into_dyn();
    /// opt.update("W", w.view_mut(), array![2.0].into_dyn().view());
    /// assert_eq!((opt.steps("W"), opt.steps("b")), (1, 0));
    /// ```
    pub fn steps(&self, name: &str) -> u64 {
        self.states.get(name).map_or(0, |s| s.steps)
    }

    /// The running mean of the gradients of parameter `name` (the book's
    /// `m[name]`), or `None` before its first update.
    ///
    /// ```
    /// use kobai::{Adam, Optimizer};
    /// use ndarray::array;
    /// let mut opt = Adam::new(0.1, 0.5, 0.5)?;
    /// let mut w = array![1.0].into_dyn();
    /// opt.update("W", w.view_mut(), array![2.0].into_dyn().view());
    /// assert_eq!(opt.m("W"), Some(array![1.0].into_dyn().view())); // 0.5·(2 − 0)
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn m(&self, name: &str) -> Option<ArrayViewD<'_, f64>> {
        self.states.get(name).map(|s| s.m.view())
    }

    /// The running mean of the squared gradients of parameter `name` (the
    /// book's `v[name]`), or `None` before its first update.
    ///
    /// ```
    /// use kobai::{Adam, Optimizer};
    /// use ndarray::array;
    /// let mut opt = Adam::new(0.1, 0.5, 0.5)?;
    /// let mut w = array![1.0].into_dyn();
    /// opt.update("W", w.view_mut(), array![2.0].into_dyn().view());
    /// assert_eq!(opt.v("W"), Some(array![2.0].into_dyn().view())); // 0.5·(4 − 0)
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn v(&self, name: &str) -> Option<ArrayViewD<'_, f64>> {
        self.states.get(name).map(|s| s.v.view())
    }
}

impl Default for Adam {
    /// The book's defaults: `lr = 0.001`, `beta1 = 0.9`, `beta2 = 0.999`.
    ///
    /// ```
    /// let opt = kobai::Adam::default();
    /// assert_eq!((opt.lr(), opt.beta1(), opt.beta2()), (0.001, 0.9, 0.999));
    /// ```
    fn default() -> Self {
        Adam {
            lr: 0.001,
            beta1: 0.9,
            beta2: 0.999,
            states: BTreeMap::new(),
        }
    }
}

impl Optimizer for Adam {
    fn update(&mut self, name: &str, param: ArrayViewMutD<'_, f64>, grad: ArrayViewD<'_, f64>) {
        let (lr, beta1, beta2) = (self.lr, self.beta1, self.beta2);
        let shape = param.shape();
        let state = slot(
            &mut self.states,
            name,
            |s| s.m.shape() == shape,
            || AdamState::zeros(shape),
        );
        // iter += 1; lr_t = lr * sqrt(1.0 - beta2**iter) / (1.0 - beta1**iter)
        state.steps += 1;
        let t = state.steps as f64;
        let lr_t = lr * (1.0 - beta2.powf(t)).sqrt() / (1.0 - beta1.powf(t));
        Zip::from(param)
            .and(&mut state.m)
            .and(&mut state.v)
            .and(&grad)
            .for_each(|p, m, v, &g| {
                // m += (1 - beta1) * (grad - m); v += (1 - beta2) * (grad**2 - v)
                *m += (1.0 - beta1) * (g - *m);
                *v += (1.0 - beta2) * (g * g - *v);
                // param -= lr_t * m / (sqrt(v) + 1e-7)
                *p -= lr_t * *m / (v.sqrt() + EPSILON);
            });
    }

    fn name(&self) -> &str {
        "Adam"
    }

    fn hyperparameters(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("lr", self.lr),
            ("beta1", self.beta1),
            ("beta2", self.beta2),
        ]
    }

    /// `"{name}/m"`, `"{name}/v"` and the step count `"{name}/t"` (a scalar)
    /// for every parameter updated so far.
    fn state(&self) -> Vec<(String, ArrayD<f64>)> {
        self.states
            .iter()
            .flat_map(|(name, s)| {
                [
                    (format!("{name}/m"), s.m.clone()),
                    (format!("{name}/v"), s.v.clone()),
                    (
                        format!("{name}/t"),
                        ArrayD::from_elem(vec![], s.steps as f64),
                    ),
                ]
            })
            .collect()
    }

    fn load_state(&mut self, state: Vec<(String, ArrayD<f64>)>) -> Result<()> {
        let groups = grouped(self.name(), state, &FIELDS)?;
        self.states = groups
            .into_iter()
            .filter_map(|(name, arrays)| {
                let [m, v, t]: [ArrayD<f64>; 3] = arrays.try_into().ok()?;
                // A whole number in [1, 2^53], checked by `grouped`.
                let steps = t.first().copied().unwrap_or(1.0) as u64;
                Some((name, AdamState { m, v, steps }))
            })
            .collect();
        Ok(())
    }
}
