//! Gradients: named arrays, separate from the model they belong to.

use std::ops::Index;

use ndarray::ArrayD;

/// The gradient of a loss with respect to each named parameter, in the model's
/// parameter order; index it by name like the book's `grads["W1"]`.
///
/// ```
/// use kobai::Grads;
/// use ndarray::{array, IxDyn};
/// let mut grads = Grads::default();
/// grads.push("W", array![[0.5, -0.5]].into_dyn());
/// assert_eq!(grads["W"][IxDyn(&[0, 1])], -0.5);
/// assert_eq!(grads.names().collect::<Vec<_>>(), ["W"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grads {
    entries: Vec<(String, ArrayD<f64>)>,
    updates: Vec<(String, ArrayD<f64>)>,
}

impl Grads {
    /// Appends the gradient of the parameter `name`.
    pub fn push(&mut self, name: impl Into<String>, gradient: ArrayD<f64>) {
        self.entries.push((name.into(), gradient));
    }

    /// The gradient of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&ArrayD<f64>> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, g)| g)
    }

    /// Mutable access to the gradient of `name`, if present.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut ArrayD<f64>> {
        self.entries
            .iter_mut()
            .find(|(n, _)| n == name)
            .map(|(_, g)| g)
    }

    /// The names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    /// `(name, gradient)` pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ArrayD<f64>)> {
        self.entries.iter().map(|(n, g)| (n.as_str(), g))
    }

    /// The number of named gradients.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Records the new value of the buffer `name` that the training forward
    /// pass computed (BatchNorm's running statistics, Dropout's draw
    /// counter); [`crate::optim::step`] assigns it after the update.
    ///
    /// ```
    /// use kobai::Grads;
    /// use ndarray::array;
    /// let mut grads = Grads::default();
    /// grads.push_update("batchnorm1.running_mean", array![0.1].into_dyn());
    /// assert_eq!(grads.updates().count(), 1);
    /// assert!(grads.is_empty(), "updates are not gradients");
    /// ```
    pub fn push_update(&mut self, name: impl Into<String>, value: ArrayD<f64>) {
        self.updates.push((name.into(), value));
    }

    /// The buffer updates, by name, in the order they were pushed.
    pub fn updates(&self) -> impl Iterator<Item = (&str, &ArrayD<f64>)> {
        self.updates.iter().map(|(n, v)| (n.as_str(), v))
    }
}

impl Index<&str> for Grads {
    type Output = ArrayD<f64>;

    /// # Panics
    /// If there is no gradient called `name` (use [`Grads::get`] to avoid it).
    fn index(&self, name: &str) -> &ArrayD<f64> {
        match self.get(name) {
            Some(g) => g,
            None => panic!("no gradient named {name:?}"),
        }
    }
}
