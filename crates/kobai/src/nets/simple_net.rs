//! The notebook's `simpleNet`: one 2×3 weight matrix, softmax and cross-entropy.

use ndarray::{Array1, Array2, ArrayRef1, ArrayRef2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::check;
use crate::error::{KobaiError, Result};
use crate::functions::{Targets, cross_entropy_error, softmax};
use crate::numerical_gradient::numerical_gradient;

/// The notebook's `simpleNet`: inputs times a weight matrix `W`, then softmax and
/// the cross-entropy loss.
///
/// The weights are a plain public array that the network owns. Its gradient
/// `dW` is a separate value computed from `&self` — no aliasing between the
/// array being perturbed and the array the loss reads (see
/// [`SimpleNet::numerical_gradient`]).
///
/// ```
/// use ndarray::array;
/// use kobai::SimpleNet;
///
/// // The notebook's printed W (In[12]); its x and t (In[13], In[14]).
/// let net = SimpleNet::from_weights(array![
///     [0.42875037, -1.09670346, 0.24866542],
///     [-2.38228839, 0.47330153, -0.20017261],
/// ])?;
/// let x = array![0.6, 0.9];
/// let t = array![0.0, 0.0, 1.0];
/// let loss = net.loss(&x, &t)?;
/// assert!((loss - 0.6801400453747255).abs() < 3e-9);
/// let dw = net.numerical_gradient(&x, &t)?;
/// assert!((dw[[1, 2]] - -0.44410856).abs() < 5e-9);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleNet {
    /// The weights, one row per input and one column per class (2×3 in the notebook).
    pub w: Array2<f64>,
}

impl SimpleNet {
    /// A 2×3 network with weights drawn from the standard normal distribution,
    /// as `np.random.randn(2, 3)` does, from a ChaCha8 generator seeded with
    /// `seed`: the same seed gives the same weights on every platform.
    ///
    /// ```
    /// let a = kobai::SimpleNet::new(42);
    /// assert_eq!(a.w.dim(), (2, 3));
    /// assert_eq!(a, kobai::SimpleNet::new(42));
    /// assert_ne!(a, kobai::SimpleNet::new(43));
    /// ```
    pub fn new(seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let w = Array2::from_shape_fn((2, 3), |_| StandardNormal.sample(&mut rng));
        SimpleNet { w }
    }

    /// A network with the given weights, of any shape (inputs × classes).
    ///
    /// # Errors
    /// [`KobaiError::Empty`] if `w` has no element; [`KobaiError::NonFinite`] if
    /// it holds NaN or ±inf.
    ///
    /// ```
    /// use ndarray::array;
    /// let net = kobai::SimpleNet::from_weights(array![[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]])?;
    /// assert_eq!(net.w[[0, 2]], -1.0);
    /// assert!(kobai::SimpleNet::from_weights(array![[f64::NAN]]).is_err());
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn from_weights(w: Array2<f64>) -> Result<Self> {
        check::non_empty("W", &w)?;
        check::finite("W", &w)?;
        Ok(SimpleNet { w })
    }

    /// The scores `x · W`, one per class (the notebook's `p`).
    ///
    /// # Errors
    /// [`KobaiError::Shape`] if `x` does not have one element per row of `W`.
    ///
    /// ```
    /// use ndarray::array;
    /// let net = kobai::SimpleNet::from_weights(array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])?;
    /// assert_eq!(net.predict(&array![1.0, 0.5])?, array![3.0, 4.5, 6.0]);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn predict(&self, x: &ArrayRef1<f64>) -> Result<Array1<f64>> {
        predict_with(&self.w, x)
    }

    /// The loss `cross_entropy_error(softmax(x · W), t)`.
    ///
    /// # Errors
    /// As [`simple_net_loss`].
    ///
    /// ```
    /// use ndarray::array;
    /// let net = kobai::SimpleNet::from_weights(array![[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])?;
    /// // Equal scores: each class gets 1/3, so the loss is about ln 3.
    /// let loss = net.loss(&array![0.6, 0.9], &[2])?;
    /// assert!((loss - 3f64.ln()).abs() < 1e-6);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn loss<'t>(&self, x: &ArrayRef1<f64>, t: impl Into<Targets<'t>>) -> Result<f64> {
        simple_net_loss(&self.w, x, t)
    }

    /// The gradient of the loss with respect to `W` by the book's numerical
    /// gradient (notebook In\[15\]), with `W` the array being differentiated:
    /// `numerical_gradient(|w| simple_net_loss(w, x, t), &self.w)`. The network
    /// is not changed.
    ///
    /// # Errors
    /// As [`simple_net_loss`].
    ///
    /// ```
    /// use ndarray::array;
    /// let net = kobai::SimpleNet::new(7);
    /// let before = net.clone();
    /// let dw = net.numerical_gradient(&array![0.6, 0.9], &[2])?;
    /// assert_eq!(dw.dim(), (2, 3));
    /// assert_eq!(net, before);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn numerical_gradient<'t>(
        &self,
        x: &ArrayRef1<f64>,
        t: impl Into<Targets<'t>>,
    ) -> Result<Array2<f64>> {
        let t = t.into();
        numerical_gradient(|w| simple_net_loss(w, x, t.clone()), &self.w)
    }
}

/// The simpleNet loss as a function of the weights — the `f(W)` of notebook
/// In\[15\], written so that it really uses `W`.
///
/// ```text
/// L(W) = cross_entropy_error(softmax(x · W), t)
/// ```
///
/// # Errors
/// [`KobaiError::Shape`] if `x` does not have one element per row of `w` or `t`
/// does not fit the classes; the errors of [`cross_entropy_error`] for bad targets.
///
/// ```
/// use ndarray::array;
/// let w = array![[0.42875037, -1.09670346, 0.24866542], [-2.38228839, 0.47330153, -0.20017261]];
/// let x = array![0.6, 0.9];
/// let dw = kobai::numerical_gradient(|w| kobai::simple_net_loss(w, &x, &[2]), &w)?;
/// assert!((dw[[0, 0]] - 0.0475098).abs() < 5e-9);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn simple_net_loss<'t>(
    w: &ArrayRef2<f64>,
    x: &ArrayRef1<f64>,
    t: impl Into<Targets<'t>>,
) -> Result<f64> {
    let z = predict_with(w, x)?;
    let y = softmax(&z)?;
    cross_entropy_error(&y, t)
}

/// `x · W`, each score summed left to right over the inputs — what NumPy 2.4's
/// `np.dot` gives for the notebook's 2×3 product, bit for bit (checked by
/// `tests/notebook.rs`; a BLAS kernel that fuses multiply-adds would differ in the
/// last bit).
fn predict_with(w: &ArrayRef2<f64>, x: &ArrayRef1<f64>) -> Result<Array1<f64>> {
    if x.len() != w.nrows() {
        return Err(KobaiError::Shape {
            what: "x".into(),
            expected: format!(
                "W has shape {:?}, so x needs {} elements",
                w.shape(),
                w.nrows()
            ),
            found: x.shape().to_vec(),
        });
    }
    check::non_empty("x", x)?;
    Ok(Array1::from_shape_fn(w.ncols(), |j| {
        let column = w.column(j);
        let mut terms = x.iter().zip(column.iter());
        let first = terms.next().map_or(0.0, |(a, b)| a * b);
        terms.fold(first, |acc, (a, b)| acc + a * b)
    }))
}
