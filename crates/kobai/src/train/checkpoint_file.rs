//! A [`Checkpoint`] as an `.npz` archive: its layout, writing it atomically,
//! and the checksum over its entries.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::Path;

use ndarray::{Array1, Array2, ArrayBase, Data, Dimension, arr0};
use ndarray_npy::{NpzWriter, WritableElement, WriteNpzError};

use super::EpochReport;
use super::checkpoint::Checkpoint;
use super::checkpoint_read;
use super::resume::Fnv;
use crate::atomic_file::{io_error, write_atomically};
use crate::data::Sampling;
use crate::error::{KobaiError, Result};

impl Checkpoint {
    /// Writes the checkpoint to `path` atomically (a temporary file beside it,
    /// then a rename): a reader, or a run killed while saving, never sees half
    /// a checkpoint. The archive holds, NumPy-readable (`np.load(path)["iteration"]`):
    ///
    /// | entry | type, shape | what |
    /// |---|---|---|
    /// | `kobai_checkpoint` | u64, `[]` | format version ([`Checkpoint::FORMAT_VERSION`]) |
    /// | `iteration`, `iterations` | u64, `[]` | iterations done, and in all |
    /// | `batch_size`, `seed` | u64, `[]` | the trainer's |
    /// | `sampling` | u64, `[]` | 0 with replacement, 1 shuffled |
    /// | `data/train`, `data/test` | u64, `[2]` | samples and a fingerprint (no `data/test` without a test set) |
    /// | `model/NAME` | f64 | each parameter and buffer (`affine1.W`, `batchnorm1.running_mean`) |
    /// | `model_architecture` | u8, `[n]` | UTF-8, the network's architecture (only for a network that describes itself) |
    /// | `optimizer/name` | u8, `[n]` | UTF-8, e.g. `Adam` |
    /// | `optimizer/hyperparameters/NAME` | f64, `[]` | e.g. `lr` |
    /// | `optimizer/state/PARAM/FIELD` | f64 | e.g. `W1/m`; `W1/t` is `[]` |
    /// | `sampler/rng` | u64, `[7]` | ChaCha8 key (4 little-endian words), stream, word position (low, high) |
    /// | `sampler/order`, `sampler/position` | u64, `[n]`, `[2]` | this epoch's order (shuffled only); next index in it, batches drawn |
    /// | `history/losses` | f64, `[iteration]` | every batch's loss |
    /// | `history/epochs` | u64, `[n, 2]` | epoch, iteration of each report |
    /// | `history/mean_loss`, `history/train_accuracy`, `history/test_accuracy` | f64, `[n]` | the reports' numbers |
    /// | `settings/NAME` | f64, `[]` | [`Checkpoints::with_setting`](super::Checkpoints::with_setting) |
    /// | `checksum` | u64, `[]` | FNV-1a of every other entry's name, shape and values |
    ///
    /// The checksum is kobai's own: the archive's CRC-32s go unchecked when
    /// an array is read, so a flipped bit in the numbers would pass unseen.
    ///
    /// # Errors
    /// [`KobaiError::Io`] if the file cannot be written.
    ///
    /// ```
    /// # use kobai::train::Checkpoint;
    /// # fn copy(from: &std::path::Path, to: &std::path::Path) -> kobai::Result<()> {
    /// Checkpoint::load(from)?.save(to)
    /// # }
    /// ```
    pub fn save(&self, path: &Path) -> Result<()> {
        let bytes = self.encode().map_err(|e| unreadable(path, &e))?;
        write_atomically(path, &bytes)
    }

    /// Reads a checkpoint written by [`Checkpoint::save`], checking every
    /// entry — present, of its type and shape, finite, consistent with the
    /// others (iteration ≤ iterations, one loss per iteration, epoch reports
    /// where the trainer puts them, a sampler at the same iteration), that
    /// nothing else is in the archive, and the checksum.
    ///
    /// # Errors
    /// [`KobaiError::Io`] if the file cannot be read; [`KobaiError::Format`]
    /// if it is not an `.npz` archive, not a checkpoint, of another format
    /// version, or an entry is missing, unexpected or wrong;
    /// [`KobaiError::NonFinite`] for NaN or ±inf. Each names the file.
    ///
    /// ```
    /// use kobai::KobaiError;
    /// use kobai::train::Checkpoint;
    /// let err = Checkpoint::load("no-such-checkpoint.npz".as_ref()).unwrap_err();
    /// assert!(matches!(err, KobaiError::Io { .. }));
    /// assert!(err.to_string().starts_with("no-such-checkpoint.npz: "));
    /// ```
    pub fn load(path: &Path) -> Result<Checkpoint> {
        let bytes = std::fs::read(path).map_err(|e| io_error(path, &e))?;
        checkpoint_read::read(path, bytes)
    }

    fn encode(&self) -> Result<Vec<u8>, WriteNpzError> {
        let mut w = Writer {
            npz: NpzWriter::new(Cursor::new(Vec::new())),
            digest: BTreeMap::new(),
        };
        let scalars = [
            ("kobai_checkpoint", Self::FORMAT_VERSION),
            ("iteration", self.iteration() as u64),
            ("iterations", self.iterations as u64),
            ("batch_size", self.batch_size as u64),
            ("seed", self.seed),
            ("sampling", u64::from(self.sampling == Sampling::Shuffled)),
        ];
        for (name, value) in scalars {
            w.add_array(name, &arr0(value))?;
        }
        let print = |(len, hash): (usize, u64)| Array1::from(vec![len as u64, hash]);
        w.add_array("data/train", &print(self.data.train))?;
        if let Some(test) = self.data.test {
            w.add_array("data/test", &print(test))?;
        }
        for (name, param) in &self.params {
            w.add_array(format!("model/{name}"), param)?;
        }
        if let Some(text) = &self.architecture {
            w.add_array(
                "model_architecture",
                &Array1::from(text.as_bytes().to_vec()),
            )?;
        }
        let name = Array1::from(self.optimizer.as_bytes().to_vec());
        w.add_array("optimizer/name", &name)?;
        for (name, value) in &self.hyperparameters {
            w.add_array(format!("optimizer/hyperparameters/{name}"), &arr0(*value))?;
        }
        for (name, array) in &self.optimizer_state {
            w.add_array(format!("optimizer/state/{name}"), array)?;
        }
        let s = &self.sampler;
        let mut rng: Vec<u64> = s
            .rng_seed
            .chunks_exact(8)
            .map(|c| c.iter().rev().fold(0, |acc, &b| acc << 8 | u64::from(b)))
            .collect();
        rng.extend([
            s.rng_stream,
            s.rng_word_pos as u64,
            (s.rng_word_pos >> 64) as u64,
        ]);
        w.add_array("sampler/rng", &Array1::from(rng))?;
        let order: Vec<u64> = s.order.iter().map(|&i| i as u64).collect();
        w.add_array("sampler/order", &Array1::from(order))?;
        w.add_array(
            "sampler/position",
            &Array1::from(vec![s.next as u64, s.produced]),
        )?;
        let h = &self.history;
        w.add_array("history/losses", &Array1::from(h.losses.clone()))?;
        let epochs: Vec<u64> = h
            .epochs
            .iter()
            .flat_map(|r| [r.epoch as u64, r.iteration as u64])
            .collect();
        let epochs = Array2::from_shape_vec((h.epochs.len(), 2), epochs).unwrap_or_default();
        w.add_array("history/epochs", &epochs)?;
        let column = |f: fn(&EpochReport) -> f64| h.epochs.iter().map(f).collect::<Array1<f64>>();
        w.add_array("history/mean_loss", &column(|r| r.mean_loss))?;
        w.add_array("history/train_accuracy", &column(|r| r.train_accuracy))?;
        if self.data.test.is_some() {
            let test = column(|r| r.test_accuracy.unwrap_or(f64::NAN));
            w.add_array("history/test_accuracy", &test)?;
        }
        for (name, value) in &self.settings {
            w.add_array(format!("settings/{name}"), &arr0(*value))?;
        }
        let checksum = checksum(&w.digest);
        w.npz.add_array("checksum", &arr0(checksum))?;
        Ok(w.npz.finish()?.into_inner())
    }
}

/// The archive being written, and the hash of each entry so far.
struct Writer {
    npz: NpzWriter<Cursor<Vec<u8>>>,
    digest: BTreeMap<String, u64>,
}

impl Writer {
    fn add_array<A, S, D>(
        &mut self,
        name: impl Into<String>,
        array: &ArrayBase<S, D>,
    ) -> Result<(), WriteNpzError>
    where
        A: WritableElement + Word,
        S: Data<Elem = A>,
        D: Dimension,
    {
        let name = name.into();
        let hash = entry_hash(&name, array.shape(), array.iter().map(|v| v.word()));
        self.digest.insert(name.clone(), hash);
        self.npz.add_array(name, array)
    }
}

/// An element as the 64-bit word the checksum hashes.
pub(super) trait Word: Copy {
    fn word(self) -> u64;
}

impl Word for f64 {
    fn word(self) -> u64 {
        self.to_bits()
    }
}

impl Word for u64 {
    fn word(self) -> u64 {
        self
    }
}

impl Word for u8 {
    fn word(self) -> u64 {
        u64::from(self)
    }
}

/// The hash of one entry: its name, shape and values.
pub(super) fn entry_hash(name: &str, shape: &[usize], values: impl Iterator<Item = u64>) -> u64 {
    let mut hash = Fnv::default();
    name.bytes().for_each(|b| hash.mix(u64::from(b)));
    hash.mix(shape.len() as u64);
    shape.iter().for_each(|&d| hash.mix(d as u64));
    values.for_each(|v| hash.mix(v));
    hash.0
}

/// The checksum of all entries, in name order (whatever order they were read in).
pub(super) fn checksum(digest: &BTreeMap<String, u64>) -> u64 {
    let mut hash = Fnv::default();
    digest.values().for_each(|&h| hash.mix(h));
    hash.0
}

pub(super) fn unreadable(path: &Path, e: &dyn std::error::Error) -> KobaiError {
    KobaiError::Format {
        path: path.display().to_string(),
        detail: format!("not a readable .npz archive: {e}"),
    }
}
