//! Seeded mini-batch sampling: the same seed gives the same batches, bit for bit.

use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{KobaiError, Result};

/// How [`Batches`] picks the samples of each batch.
///
/// ```
/// use kobai::data::{Batches, Sampling};
///
/// let batches = Batches::new(10, 4, Sampling::Shuffled, 0)?;
/// assert_eq!(batches.sampling(), Sampling::Shuffled);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// Epoch by epoch: every epoch is a fresh shuffle of all the samples, cut
    /// into batches, so every sample is seen exactly once per epoch. The last
    /// batch of an epoch is **kept** even when it is shorter (it holds the
    /// remainder `len % batch_size`); no batch mixes two epochs.
    Shuffled,
    /// The book's `np.random.choice(train_size, batch_size)`: every batch is
    /// drawn independently, uniformly and with replacement, so a batch may hold
    /// a sample twice and an epoch is only a count of batches.
    WithReplacement,
}

/// An endless stream of index batches into a dataset of `len` samples, from a
/// ChaCha8 generator seeded with a `u64`.
///
/// It is an [`Iterator`] that never ends: take as many batches as you train
/// for. The same `(len, batch_size, sampling, seed)` gives the same batches on
/// every platform.
///
/// ```
/// use kobai::data::Batches;
///
/// // Two epochs of 5 samples in batches of 2: sizes 2, 2, 1, then again.
/// let batches: Vec<Vec<usize>> = Batches::shuffled(5, 2, 7)?.take(6).collect();
/// let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
/// assert_eq!(sizes, [2, 2, 1, 2, 2, 1]);
/// let mut first_epoch: Vec<usize> = batches[..3].concat();
/// first_epoch.sort();
/// assert_eq!(first_epoch, [0, 1, 2, 3, 4]);
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Batches {
    pub(super) rng: ChaCha8Rng,
    pub(super) len: usize,
    pub(super) batch_size: usize,
    pub(super) sampling: Sampling,
    /// This epoch's order (shuffled sampling only).
    pub(super) order: Vec<usize>,
    /// Where the next batch starts in `order`; `len` means a new epoch is due.
    pub(super) next: usize,
    /// Batches handed out so far.
    pub(super) produced: u64,
}

impl Batches {
    /// Batches of `batch_size` indices below `len`, drawn as `sampling` says,
    /// from a ChaCha8 generator seeded with `seed`.
    ///
    /// With [`Sampling::Shuffled`], a `batch_size` above `len` gives one batch
    /// of all the samples per epoch.
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`] if `batch_size` is 0;
    /// [`KobaiError::Empty`] if `len` is 0.
    ///
    /// ```
    /// use kobai::data::{Batches, Sampling};
    ///
    /// let mut b = Batches::new(100, 8, Sampling::WithReplacement, 1)?;
    /// assert!(b.next_batch().iter().all(|&i| i < 100));
    /// assert!(Batches::new(100, 0, Sampling::Shuffled, 1).is_err());
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn new(len: usize, batch_size: usize, sampling: Sampling, seed: u64) -> Result<Self> {
        if batch_size == 0 {
            return Err(KobaiError::Hyperparameter {
                name: "batch_size",
                value: "0".into(),
                expected: "at least 1",
            });
        }
        if len == 0 {
            return Err(KobaiError::Empty {
                what: "the dataset to draw batches from".into(),
            });
        }
        let order = match sampling {
            Sampling::Shuffled => (0..len).collect(),
            Sampling::WithReplacement => Vec::new(),
        };
        Ok(Batches {
            rng: ChaCha8Rng::seed_from_u64(seed),
            len,
            batch_size,
            sampling,
            order,
            next: len,
            produced: 0,
        })
    }

    /// Shorthand for [`Batches::new`] with [`Sampling::Shuffled`].
    ///
    /// ```
    /// let mut b = kobai::data::Batches::shuffled(3, 3, 0)?;
    /// let mut all = b.next_batch();
    /// all.sort();
    /// assert_eq!(all, [0, 1, 2]);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    ///
    /// # Errors
    /// As [`Batches::new`].
    pub fn shuffled(len: usize, batch_size: usize, seed: u64) -> Result<Self> {
        Self::new(len, batch_size, Sampling::Shuffled, seed)
    }

    /// Shorthand for [`Batches::new`] with [`Sampling::WithReplacement`], the
    /// book's `np.random.choice(train_size, batch_size)`.
    ///
    /// ```
    /// let mut b = kobai::data::Batches::with_replacement(60000, 100, 0)?;
    /// assert_eq!(b.next_batch().len(), 100);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    ///
    /// # Errors
    /// As [`Batches::new`].
    pub fn with_replacement(len: usize, batch_size: usize, seed: u64) -> Result<Self> {
        Self::new(len, batch_size, Sampling::WithReplacement, seed)
    }

    /// The number of samples the indices are drawn from.
    ///
    /// ```
    /// assert_eq!(kobai::data::Batches::shuffled(10, 3, 0)?.len(), 10);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    #[allow(clippy::len_without_is_empty)] // never empty: `new` rejects len 0
    pub fn len(&self) -> usize {
        self.len
    }

    /// The (largest) batch size.
    ///
    /// ```
    /// assert_eq!(kobai::data::Batches::shuffled(10, 3, 0)?.batch_size(), 3);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// How batches are drawn.
    ///
    /// ```
    /// use kobai::data::{Batches, Sampling};
    /// let b = Batches::with_replacement(10, 3, 0)?;
    /// assert_eq!(b.sampling(), Sampling::WithReplacement);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn sampling(&self) -> Sampling {
        self.sampling
    }

    /// Batches per epoch: `ceil(len / batch_size)` when shuffled (the short
    /// last batch counts); the book's `max(train_size / batch_size, 1)` with
    /// replacement.
    ///
    /// ```
    /// use kobai::data::Batches;
    /// assert_eq!(Batches::shuffled(10, 3, 0)?.batches_per_epoch(), 4);
    /// assert_eq!(Batches::with_replacement(10, 3, 0)?.batches_per_epoch(), 3);
    /// assert_eq!(Batches::with_replacement(10, 30, 0)?.batches_per_epoch(), 1);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn batches_per_epoch(&self) -> usize {
        match self.sampling {
            Sampling::Shuffled => self.len.div_ceil(self.batch_size),
            Sampling::WithReplacement => (self.len / self.batch_size).max(1),
        }
    }

    /// How many batches have been handed out so far.
    ///
    /// ```
    /// let mut b = kobai::data::Batches::shuffled(10, 3, 0)?;
    /// b.next_batch();
    /// b.next_batch();
    /// assert_eq!(b.batches_done(), 2);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn batches_done(&self) -> u64 {
        self.produced
    }

    /// The next batch of indices.
    ///
    /// ```
    /// let mut a = kobai::data::Batches::shuffled(50, 10, 42)?;
    /// let mut b = kobai::data::Batches::shuffled(50, 10, 42)?;
    /// assert_eq!(a.next_batch(), b.next_batch()); // same seed, same batch
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn next_batch(&mut self) -> Vec<usize> {
        self.produced += 1;
        match self.sampling {
            Sampling::WithReplacement => (0..self.batch_size)
                .map(|_| self.rng.random_range(0..self.len))
                .collect(),
            Sampling::Shuffled => {
                if self.next >= self.len {
                    reset_and_shuffle(&mut self.order, &mut self.rng);
                    self.next = 0;
                }
                let end = self.len.min(self.next + self.batch_size);
                let batch = self.order[self.next..end].to_vec();
                self.next = end;
                batch
            }
        }
    }
}

impl Iterator for Batches {
    type Item = Vec<usize>;

    /// Always `Some`: the stream of batches never ends.
    fn next(&mut self) -> Option<Vec<usize>> {
        Some(self.next_batch())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

/// A random order of `0..len`, from a ChaCha8 generator seeded with `seed`: a
/// pure function of its arguments, and the first epoch of
/// [`Batches::shuffled`] with the same seed.
///
/// ```
/// use kobai::data::{permutation, Batches};
///
/// let p = permutation(6, 3);
/// let mut sorted = p.clone();
/// sorted.sort();
/// assert_eq!(sorted, [0, 1, 2, 3, 4, 5]);
/// assert_eq!(p, Batches::shuffled(6, 6, 3)?.next_batch());
/// # Ok::<(), kobai::KobaiError>(())
/// ```
pub fn permutation(len: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    reset_and_shuffle(&mut order, &mut ChaCha8Rng::seed_from_u64(seed));
    order
}

/// Sets `order` to `0..len` and shuffles it, so each epoch depends only on the generator.
fn reset_and_shuffle(order: &mut [usize], rng: &mut ChaCha8Rng) {
    for (i, slot) in order.iter_mut().enumerate() {
        *slot = i;
    }
    order.shuffle(rng);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_once_per_epoch() {
        let mut b = Batches::shuffled(103, 10, 5).unwrap();
        for _ in 0..3 {
            let mut seen: Vec<usize> = (0..b.batches_per_epoch())
                .flat_map(|_| b.next_batch())
                .collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..103).collect::<Vec<_>>());
        }
    }

    #[test]
    fn epochs_differ() {
        let mut b = Batches::shuffled(20, 20, 5).unwrap();
        assert_ne!(b.next_batch(), b.next_batch());
    }

    #[test]
    fn a_batch_larger_than_the_data_is_all_of_it() {
        let mut b = Batches::shuffled(3, 10, 0).unwrap();
        assert_eq!(b.next_batch().len(), 3);
        assert_eq!(b.batches_per_epoch(), 1);
        let mut r = Batches::with_replacement(3, 10, 0).unwrap();
        assert_eq!(r.next_batch().len(), 10);
    }

    #[test]
    fn with_replacement_covers_the_range() {
        let mut b = Batches::with_replacement(5, 1000, 9).unwrap();
        let batch = b.next_batch();
        for i in 0..5 {
            assert!(batch.contains(&i));
        }
        assert!(batch.iter().all(|&i| i < 5));
    }

    #[test]
    fn bad_sizes_are_errors() {
        let err = Batches::shuffled(10, 0, 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "batch_size = 0 is invalid; expected at least 1"
        );
        assert!(matches!(
            Batches::with_replacement(0, 1, 0),
            Err(KobaiError::Empty { .. })
        ));
    }
}
