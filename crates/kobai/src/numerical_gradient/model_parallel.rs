//! [`model_numerical_gradient_par`]: the book's brute-force model gradient on
//! all cores, with the same bits as the serial one.

use ndarray::{ArrayD, ArrayRef2, IxDyn};
use rayon::prelude::*;

use super::central::{BOOK_STEP, unravel};
use super::model::model_partial;
use crate::error::Result;
use crate::functions::Targets;
use crate::model::{Grads, Model};

/// [`model_numerical_gradient`](super::model_numerical_gradient) with the
/// elements spread over rayon's threads, each thread perturbing its own clone
/// of the model. Every element is computed by the same code from the same
/// parameters, so the result is **bit-identical** to the serial one; on an
/// error the reported element is the first failing one in parameter order.
///
/// # Errors
/// As [`model_numerical_gradient`](super::model_numerical_gradient).
///
/// ```
/// use kobai::TwoLayerNet;
/// use kobai::numerical_gradient::{model_numerical_gradient, model_numerical_gradient_par};
/// use ndarray::array;
///
/// let net = TwoLayerNet::new(3, 4, 2, 0.5, 1)?;
/// let (x, t) = (array![[0.6, 0.9, 0.1]], (&[1usize]).into());
/// let serial = model_numerical_gradient(&net, &x, &t, 0.0)?;
/// let parallel = model_numerical_gradient_par(&net, &x, &t, 0.0)?;
/// assert_eq!(serial, parallel);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn model_numerical_gradient_par<M: Model + Send + Sync>(
    model: &M,
    x: &ArrayRef2<f64>,
    t: &Targets<'_>,
    delta: f64,
) -> Result<Grads> {
    let shapes: Vec<(String, Vec<usize>)> = model
        .params()
        .into_iter()
        .map(|(name, p)| (name, p.shape().to_vec()))
        .collect();
    let mut grads = Grads::default();
    for (k, (name, shape)) in shapes.iter().enumerate() {
        let len = shape.iter().product();
        let values: Vec<Result<f64>> = (0..len)
            .into_par_iter()
            .map_init(
                || model.clone(),
                |probe, i| {
                    model_partial(
                        probe,
                        (k, name),
                        &unravel(i, shape),
                        (x, t, delta),
                        BOOK_STEP,
                    )
                },
            )
            .collect();
        let values = values.into_iter().collect::<Result<Vec<f64>>>()?;
        let grad = ArrayD::from_shape_vec(IxDyn(shape), values).expect("one value per element");
        grads.push(name.as_str(), grad);
    }
    Ok(grads)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TwoLayerNet;
    use crate::numerical_gradient::model_numerical_gradient;

    #[test]
    fn parallel_equals_serial_bit_for_bit_and_reports_the_same_error() -> Result<()> {
        let net = TwoLayerNet::new(30, 8, 4, 0.3, 5)?;
        let x = ndarray::Array2::from_shape_fn((5, 30), |(i, j)| ((i * 30 + j) as f64).sin());
        let labels = [0usize, 3, 1, 2, 3];
        let t = Targets::from(&labels);
        let serial = model_numerical_gradient(&net, &x, &t, 1e-7)?;
        let parallel = model_numerical_gradient_par(&net, &x, &t, 1e-7)?;
        for ((_, a), (_, b)) in serial.iter().zip(parallel.iter()) {
            assert!(
                a.iter()
                    .zip(b.iter())
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            );
        }
        let bad = ndarray::Array2::from_elem((1, 30), f64::NAN);
        let one = Targets::from(&[0usize]);
        let e1 = model_numerical_gradient(&net, &bad, &one, 0.0).map(drop);
        let e2 = model_numerical_gradient_par(&net, &bad, &one, 0.0).map(drop);
        assert_eq!(format!("{e1:?}"), format!("{e2:?}"));
        Ok(())
    }
}
