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
mod rmsprop;
mod sgd;

pub use adagrad::AdaGrad;
pub use adam::Adam;
pub(crate) use minimize::descend_with;
pub use minimize::minimize;
pub use momentum::Momentum;
pub use rmsprop::RmsProp;
pub use sgd::Sgd;

use ndarray::{ArrayViewD, ArrayViewMutD};

use crate::check;
use crate::error::{KobaiError, Result};
use crate::model::{Grads, Params};

/// An update rule, applied one parameter array at a time; any state (momentum,
/// running averages) is kept per parameter name.
pub trait Optimizer {
    /// Updates `param` in place from `grad` (same shape, checked by [`step`]).
    fn update(&mut self, name: &str, param: ArrayViewMutD<'_, f64>, grad: ArrayViewD<'_, f64>);
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
    for (name, param) in model.params_mut() {
        if let Some(grad) = grads.get(name) {
            optimizer.update(name, param, grad.view());
        }
    }
    Ok(())
}

fn check_grads<M: Params>(model: &M, grads: &Grads) -> Result<()> {
    let params = model.params();
    let names: Vec<&str> = params.iter().map(|(n, _)| *n).collect();
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
        let grad = &grads[name];
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
