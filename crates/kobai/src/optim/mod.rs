//! Optimizers: rules that update one parameter array from its gradient.
//!
//! [`step`] applies an optimizer to every parameter of a model. It checks that
//! the gradients name exactly the model's parameters, with the same shapes and
//! finite values, *before* changing anything: a failed step leaves the model as
//! it was.

mod adagrad;
mod adam;
mod minimize;
mod momentum;
mod nesterov;
mod rmsprop;
mod sgd;
mod state;

pub use adagrad::AdaGrad;
pub use adam::Adam;
pub(crate) use minimize::descend_with;
pub use minimize::minimize;
pub use momentum::Momentum;
pub use nesterov::Nesterov;
pub use rmsprop::RmsProp;
pub use sgd::Sgd;

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};

use crate::check;
use crate::error::{KobaiError, Result};
use crate::model::{Grads, Params};

/// An update rule, applied one parameter array at a time; any state (momentum,
/// running averages) is kept per parameter name.
///
/// Only [`update`](Optimizer::update) is required. The other methods let a
/// [checkpoint](crate::train::Checkpoint) save and restore the optimizer; a
/// stateful optimizer of your own must implement [`state`](Optimizer::state)
/// and [`load_state`](Optimizer::load_state) for a resumed run to match an
/// uninterrupted one.
///
/// ```
/// use kobai::{Adam, Optimizer};
/// use ndarray::array;
///
/// let mut opt = Adam::new(0.1, 0.9, 0.999)?;
/// let mut w = array![1.0, -2.0].into_dyn();
/// opt.update("W", w.view_mut(), array![0.5, 0.25].into_dyn().view());
/// assert_eq!(opt.name(), "Adam");
/// assert_eq!(opt.hyperparameters(), [("lr", 0.1), ("beta1", 0.9), ("beta2", 0.999)]);
/// // Copy the state into a fresh Adam: both now take the same next step.
/// let mut copy = Adam::new(0.1, 0.9, 0.999)?;
/// copy.load_state(opt.state())?;
/// assert_eq!(copy, opt);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub trait Optimizer {
    /// Updates `param` in place from `grad` (same shape, checked by [`step`]).
    fn update(&mut self, name: &str, param: ArrayViewMutD<'_, f64>, grad: ArrayViewD<'_, f64>);

    /// The optimizer's name, the book's (`"SGD"`, `"Adam"`, …); `"custom"`
    /// unless implemented. A checkpoint stores it, and a run resumes only with
    /// an optimizer of the same name.
    ///
    /// ```
    /// use kobai::{Optimizer, Sgd};
    /// assert_eq!(Sgd::new(0.1)?.name(), "SGD");
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    fn name(&self) -> &str {
        "custom"
    }

    /// The hyperparameters, by name, in a fixed order (none unless
    /// implemented). A checkpoint stores them, and a run resumes only with the
    /// same values.
    ///
    /// ```
    /// use kobai::{Momentum, Optimizer};
    /// let opt = Momentum::new(0.1, 0.9)?;
    /// assert_eq!(opt.hyperparameters(), [("lr", 0.1), ("momentum", 0.9)]);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    fn hyperparameters(&self) -> Vec<(&'static str, f64)> {
        Vec::new()
    }

    /// A copy of the state kept between steps, one array per parameter and
    /// field, named `"{parameter}/{field}"` (`"W1/v"`). An array has the
    /// parameter's shape, or no dimension for a scalar such as Adam's step
    /// count `"W1/t"`. Empty for a stateless optimizer (the default) and before
    /// the first update.
    ///
    /// ```
    /// use kobai::{Momentum, Optimizer};
    /// use ndarray::array;
    /// let mut opt = Momentum::new(0.1, 0.9)?;
    /// assert!(opt.state().is_empty());
    /// let mut w = array![1.0].into_dyn();
    /// opt.update("W", w.view_mut(), array![2.0].into_dyn().view());
    /// assert_eq!(opt.state(), [("W/v".to_string(), array![-0.2].into_dyn())]);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    fn state(&self) -> Vec<(String, ArrayD<f64>)> {
        Vec::new()
    }

    /// Replaces the whole state with `state`, as [`state`](Optimizer::state)
    /// returned it. Every entry is checked first; on error nothing changes.
    /// The default accepts only an empty state.
    ///
    /// # Errors
    /// [`KobaiError::State`] for an unknown, missing or duplicated entry, a
    /// scalar where an array belongs (or the reverse), arrays of one parameter
    /// whose shapes differ, a negative running sum of squares or a step count
    /// that is not a whole number above 0; [`KobaiError::NonFinite`] for NaN or
    /// ±inf.
    ///
    /// ```
    /// use kobai::{AdaGrad, Optimizer};
    /// use ndarray::array;
    /// let mut opt = AdaGrad::new(0.1)?;
    /// opt.load_state(vec![("W/h".into(), array![4.0, 9.0].into_dyn())])?;
    /// assert_eq!(opt.h("W"), Some(array![4.0, 9.0].into_dyn().view()));
    /// assert!(opt.load_state(vec![("W/h".into(), array![-1.0].into_dyn())]).is_err());
    /// assert_eq!(opt.h("W"), Some(array![4.0, 9.0].into_dyn().view()), "unchanged");
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    fn load_state(&mut self, state: Vec<(String, ArrayD<f64>)>) -> Result<()> {
        match state.first() {
            None => Ok(()),
            Some((entry, _)) => Err(KobaiError::State {
                what: format!("{} state", self.name()),
                detail: format!("{entry} is unexpected; {} keeps no state", self.name()),
            }),
        }
    }
}

/// Updates every parameter of `model` with `optimizer` and `grads`.
///
/// # Errors
/// [`KobaiError::Shape`] if `grads` does not name exactly the model's parameters
/// in order, or a shape differs ("`W1` has shape [784, 50] but its gradient has
/// shape [50, 784]"); [`KobaiError::NonFinite`] if a gradient holds NaN or ±inf.
/// On error, the model is unchanged.
///
/// ```
/// use kobai::{step, Backprop, Sgd, TwoLayerNet};
/// use ndarray::array;
/// let mut net = TwoLayerNet::new(2, 3, 2, 0.1, 0)?;
/// let (x, t) = (array![[0.6, 0.9]], (&[1usize]).into());
/// let (before, grads) = net.gradient(&x, &t)?;
/// step(&mut Sgd::new(0.5)?, &mut net, &grads)?;
/// let (after, _) = net.gradient(&x, &t)?;
/// assert!(after < before);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn step<O: Optimizer + ?Sized, M: Params>(
    optimizer: &mut O,
    model: &mut M,
    grads: &Grads,
) -> Result<()> {
    check_grads(model, grads)?;
    check_updates(model, grads)?;
    for (name, param) in model.params_mut() {
        if let Some(grad) = grads.get(&name) {
            optimizer.update(&name, param, grad.view());
        }
    }
    for (name, mut buffer) in model.params_and_buffers_mut() {
        if let Some((_, value)) = grads.updates().find(|(n, _)| *n == name) {
            buffer.assign(value);
        }
    }
    Ok(())
}

/// Errors unless every buffer update names one of the model's buffers, with
/// its shape and finite values.
fn check_updates<M: Params>(model: &M, grads: &Grads) -> Result<()> {
    let buffers = model.buffers();
    for (name, value) in grads.updates() {
        let Some((_, buffer)) = buffers.iter().find(|(n, _)| n == name) else {
            return Err(KobaiError::State {
                what: "the buffer updates".into(),
                detail: format!(
                    "{name} is not a buffer of the model (its buffers: {:?})",
                    buffers.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>()
                ),
            });
        };
        if buffer.shape() != value.shape() {
            return Err(KobaiError::Shape {
                what: format!("the new value of {name}"),
                expected: format!("{name} has shape {:?}", buffer.shape()),
                found: value.shape().to_vec(),
            });
        }
        check::finite(&format!("the new value of {name}"), value)?;
    }
    Ok(())
}

fn check_grads<M: Params>(model: &M, grads: &Grads) -> Result<()> {
    let params = model.params();
    let names: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
    if grads.names().collect::<Vec<_>>() != names {
        return Err(KobaiError::Shape {
            what: "the gradients".into(),
            expected: format!(
                "expected one per parameter, named {names:?}, found {:?}",
                grads.names().collect::<Vec<_>>()
            ),
            found: vec![grads.len()],
        });
    }
    for (name, param) in &params {
        let grad = &grads[name.as_str()];
        if grad.shape() != param.shape() {
            return Err(KobaiError::Shape {
                what: format!("the gradient of {name}"),
                expected: format!("{name} has shape {:?}", param.shape()),
                found: grad.shape().to_vec(),
            });
        }
        check::finite(&format!("the gradient of {name}"), grad)?;
    }
    Ok(())
}
