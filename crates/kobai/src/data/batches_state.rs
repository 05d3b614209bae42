//! Where a [`Batches`] stream is, exactly, so that a checkpoint can restore it
//! and the restored stream hands out the very batches the original would have.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{Batches, Sampling};

/// Everything a [`Batches`] needs beyond `(len, batch_size, sampling)` to go
/// on as if it had never stopped: the ChaCha8 generator's full state (seed,
/// stream, position in 32-bit words) and, when shuffled, this epoch's order
/// and where the next batch starts in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BatchesState {
    /// The generator's 32-byte key.
    pub(crate) rng_seed: [u8; 32],
    /// The generator's stream number (0 for a seeded [`Batches`]).
    pub(crate) rng_stream: u64,
    /// The generator's position in its stream, in 32-bit words.
    pub(crate) rng_word_pos: u128,
    /// This epoch's order (shuffled sampling only; empty with replacement).
    pub(crate) order: Vec<usize>,
    /// Where the next batch starts in `order`.
    pub(crate) next: usize,
    /// Batches handed out so far.
    pub(crate) produced: u64,
}

impl Batches {
    /// A copy of where this stream is.
    pub(crate) fn state(&self) -> BatchesState {
        BatchesState {
            rng_seed: self.rng.get_seed(),
            rng_stream: self.rng.get_stream(),
            rng_word_pos: self.rng.get_word_pos(),
            order: match self.sampling {
                Sampling::Shuffled => self.order.clone(),
                Sampling::WithReplacement => Vec::new(),
            },
            next: self.next,
            produced: self.produced,
        }
    }

    /// The stream `Batches::new(len, batch_size, sampling, _)` was at when
    /// [`Batches::state`] returned `state`.
    ///
    /// # Errors
    /// What is inconsistent, in words: an order that is not a permutation of
    /// `0..len` (or one at all, with replacement), a position past its end.
    pub(crate) fn restore(
        len: usize,
        batch_size: usize,
        sampling: Sampling,
        seed: u64,
        state: BatchesState,
    ) -> Result<Batches, String> {
        let mut batches =
            Batches::new(len, batch_size, sampling, seed).map_err(|e| e.to_string())?;
        let expected_seed = batches.rng.get_seed();
        if state.rng_seed != expected_seed || state.rng_stream != 0 {
            return Err(format!(
                "the sampler's generator does not come from seed {seed} (stream {})",
                state.rng_stream
            ));
        }
        match sampling {
            Sampling::Shuffled => {
                if !is_permutation(&state.order, len) {
                    return Err(format!(
                        "the sampler's order is not a permutation of 0..{len} (it holds {} indices)",
                        state.order.len()
                    ));
                }
                if state.next > len {
                    return Err(format!(
                        "the sampler's position {} is past the end of its order ({len})",
                        state.next
                    ));
                }
                batches.order = state.order;
                batches.next = state.next;
            }
            Sampling::WithReplacement => {
                if !state.order.is_empty() {
                    return Err(format!(
                        "the sampler draws with replacement but holds an order of {} indices",
                        state.order.len()
                    ));
                }
            }
        }
        let mut rng = ChaCha8Rng::from_seed(state.rng_seed);
        rng.set_word_pos(state.rng_word_pos);
        batches.rng = rng;
        batches.produced = state.produced;
        Ok(batches)
    }
}

/// Whether `order` holds each of `0..len` exactly once.
fn is_permutation(order: &[usize], len: usize) -> bool {
    let mut seen = vec![false; len];
    order.len() == len
        && order
            .iter()
            .all(|&i| i < len && !std::mem::replace(&mut seen[i], true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resumed_equals_uninterrupted(sampling: Sampling, len: usize, batch: usize) {
        for cut in [0, 1, 3, 7, 10] {
            let mut original = Batches::new(len, batch, sampling, 11).expect("valid");
            let head: Vec<Vec<usize>> = original.by_ref().take(cut).collect();
            assert_eq!(head.len(), cut);
            let mut resumed =
                Batches::restore(len, batch, sampling, 11, original.state()).expect("valid state");
            assert_eq!(resumed.batches_done(), cut as u64);
            for _ in 0..25 {
                assert_eq!(resumed.next_batch(), original.next_batch(), "cut {cut}");
            }
            assert_eq!(resumed.state(), original.state());
        }
    }

    #[test]
    fn a_restored_stream_continues_with_the_same_batches() {
        resumed_equals_uninterrupted(Sampling::Shuffled, 10, 3);
        resumed_equals_uninterrupted(Sampling::Shuffled, 7, 7);
        resumed_equals_uninterrupted(Sampling::WithReplacement, 10, 3);
        resumed_equals_uninterrupted(Sampling::WithReplacement, 1000, 100);
    }

    #[test]
    fn inconsistent_states_are_refused() {
        let mut b = Batches::shuffled(5, 2, 0).expect("valid");
        b.next_batch();
        let good = b.state();
        let restore = |state: BatchesState, seed: u64| {
            Batches::restore(5, 2, Sampling::Shuffled, seed, state).expect_err("refused")
        };
        let mut twice = good.clone();
        twice.order[0] = twice.order[1];
        assert!(restore(twice, 0).contains("not a permutation"));
        let mut short = good.clone();
        short.order.pop();
        assert!(restore(short, 0).contains("not a permutation"));
        let mut past = good.clone();
        past.next = 6;
        assert!(restore(past, 0).contains("past the end"));
        assert!(restore(good.clone(), 1).contains("seed 1"));
        let err = Batches::restore(5, 2, Sampling::WithReplacement, 0, good).expect_err("refused");
        assert!(err.contains("with replacement"), "{err}");
    }
}
