//! What a loss compares its predictions with: one-hot rows or class labels.

use ndarray::{Array, Array1, ArrayView, ArrayView1, ArrayViewD, Dimension};

/// The correct answers for a loss: one-hot rows (the notebook's `t = [0, 0, 1]`) or
/// class indices (`t = [2]`), one per sample.
///
/// Build one with `.into()` from an `f64` array (one-hot) or from a `usize`
/// array, slice or `Vec` (labels); every function that takes targets accepts
/// `impl Into<Targets>`.
///
/// ```
/// use kobai::Targets;
/// use ndarray::array;
///
/// let one_hot = array![0.0, 0.0, 1.0];
/// assert!(matches!(Targets::from(&one_hot), Targets::OneHot(_)));
/// assert!(matches!(Targets::from(&[2usize][..]), Targets::Labels(_)));
/// ```
#[derive(Debug, Clone)]
pub enum Targets<'a> {
    /// One-hot rows with the predictions' shape: zeros and a single `1.0` per row.
    OneHot(ArrayViewD<'a, f64>),
    /// One class index per sample, each below the number of classes.
    Labels(ArrayView1<'a, usize>),
}

impl<'a, D: Dimension> From<&'a Array<f64, D>> for Targets<'a> {
    fn from(t: &'a Array<f64, D>) -> Self {
        Targets::OneHot(t.view().into_dyn())
    }
}

impl<'a, D: Dimension> From<ArrayView<'a, f64, D>> for Targets<'a> {
    fn from(t: ArrayView<'a, f64, D>) -> Self {
        Targets::OneHot(t.into_dyn())
    }
}

impl<'a> From<&'a Array1<usize>> for Targets<'a> {
    fn from(t: &'a Array1<usize>) -> Self {
        Targets::Labels(t.view())
    }
}

impl<'a> From<ArrayView1<'a, usize>> for Targets<'a> {
    fn from(t: ArrayView1<'a, usize>) -> Self {
        Targets::Labels(t)
    }
}

impl<'a> From<&'a [usize]> for Targets<'a> {
    fn from(t: &'a [usize]) -> Self {
        Targets::Labels(ArrayView1::from(t))
    }
}

impl<'a, const N: usize> From<&'a [usize; N]> for Targets<'a> {
    fn from(t: &'a [usize; N]) -> Self {
        Targets::Labels(ArrayView1::from(&t[..]))
    }
}

impl<'a> From<&'a Vec<usize>> for Targets<'a> {
    fn from(t: &'a Vec<usize>) -> Self {
        Targets::Labels(ArrayView1::from(t.as_slice()))
    }
}

impl<'a> From<&Targets<'a>> for Targets<'a> {
    fn from(t: &Targets<'a>) -> Self {
        t.clone()
    }
}

impl Targets<'_> {
    /// The number of samples these targets describe.
    ///
    /// ```
    /// use ndarray::array;
    /// assert_eq!(kobai::Targets::from(&[0usize, 2, 1][..]).len(), 3);
    /// assert_eq!(kobai::Targets::from(&array![[0.0, 1.0], [1.0, 0.0]]).len(), 2);
    /// assert_eq!(kobai::Targets::from(&array![0.0, 1.0]).len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        match self {
            Targets::Labels(labels) => labels.len(),
            Targets::OneHot(t) if t.ndim() == 1 => 1,
            Targets::OneHot(t) => t.shape().first().copied().unwrap_or(0),
        }
    }

    /// Whether there are no samples.
    ///
    /// ```
    /// assert!(kobai::Targets::from(&[][..]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
