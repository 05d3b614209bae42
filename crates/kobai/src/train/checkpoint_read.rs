//! Reading a [`Checkpoint`] back: every entry checked for presence, type,
//! shape and finiteness, then for consistency with the others and the checksum.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;
use std::path::Path;

use ndarray::ArrayD;
use ndarray_npy::{NpzReader, ReadableElement};

use super::checkpoint::Checkpoint;
use super::checkpoint_file::{Word, checksum, entry_hash, unreadable};
use super::resume::DataPrint;
use super::{EpochReport, History};
use crate::check;
use crate::data::{BatchesState, Sampling};
use crate::error::{KobaiError, Result};

/// The checkpoint in `bytes`, read from `path`.
pub(super) fn read(path: &Path, bytes: Vec<u8>) -> Result<Checkpoint> {
    let mut reader = NpzReader::new(Cursor::new(bytes)).map_err(|e| unreadable(path, &e))?;
    let names = reader.names().map_err(|e| unreadable(path, &e))?;
    let mut e = Entries {
        path,
        reader,
        left: names.into_iter().collect(),
        digest: BTreeMap::new(),
    };
    if !e.left.contains("kobai_checkpoint") {
        return Err(e.bad("not a kobai checkpoint (it has no kobai_checkpoint entry)"));
    }
    let version = e.scalar("kobai_checkpoint")?;
    if version != Checkpoint::FORMAT_VERSION {
        return Err(e.bad(format!(
            "checkpoint format version {version}; this kobai reads version {}",
            Checkpoint::FORMAT_VERSION
        )));
    }
    decode(&mut e)
}

/// Everything after the version check: the entries, then their consistency.
fn decode(e: &mut Entries<'_>) -> Result<Checkpoint> {
    let iteration = e.size("iteration")?;
    let iterations = e.size("iterations")?;
    let batch_size = e.size("batch_size")?;
    let seed = e.scalar("seed")?;
    let sampling = match e.scalar("sampling")? {
        0 => Sampling::WithReplacement,
        1 => Sampling::Shuffled,
        other => return Err(e.bad(format!("sampling is {other}; expected 0 or 1"))),
    };
    if iterations == 0 || batch_size == 0 || iteration > iterations {
        return Err(e.bad(format!(
            "iteration {iteration} of {iterations}, batch size {batch_size}; expected \
             iterations and batch size of 1 or more, and iteration ≤ iterations"
        )));
    }
    let data = DataPrint {
        train: e.data_print("data/train")?,
        test: match e.left.contains("data/test") {
            true => Some(e.data_print("data/test")?),
            false => None,
        },
    };
    let params = e.prefixed("model/")?;
    if params.is_empty() {
        return Err(e.bad("no model/ entries; expected the model's parameters"));
    }
    let architecture = match e.left.contains("model_architecture") {
        true => {
            let text = e.read::<u8>("model_architecture")?;
            Some(
                String::from_utf8(text.iter().copied().collect())
                    .map_err(|_| e.bad("model_architecture is not UTF-8 text"))?,
            )
        }
        false => None,
    };
    let name = e.read::<u8>("optimizer/name")?;
    let optimizer = String::from_utf8(name.iter().copied().collect())
        .map_err(|_| e.bad("optimizer/name is not UTF-8 text"))?;
    let hyperparameters = e.prefixed_scalars("optimizer/hyperparameters/")?;
    let optimizer_state = e.prefixed("optimizer/state/")?;
    let sampler = e.sampler()?;
    let history = e.history(iteration, data.test.is_some())?;
    let settings = e.prefixed_scalars("settings/")?;
    e.left.remove("checksum");
    if let Some(extra) = e.left.first() {
        return Err(e.bad(format!("unexpected entry {extra:?}")));
    }
    e.check_sum()?;
    let checkpoint = Checkpoint {
        path: e.path.to_path_buf(),
        iterations,
        batch_size,
        seed,
        sampling,
        data,
        history,
        params,
        architecture,
        optimizer,
        hyperparameters,
        optimizer_state,
        sampler,
        settings,
    };
    e.check_consistency(&checkpoint)?;
    Ok(checkpoint)
}

/// The archive being read, and the entries not read yet.
struct Entries<'a> {
    path: &'a Path,
    reader: NpzReader<Cursor<Vec<u8>>>,
    left: BTreeSet<String>,
    /// The hash of each entry read.
    digest: BTreeMap<String, u64>,
}

impl Entries<'_> {
    fn bad(&self, detail: impl Into<String>) -> KobaiError {
        KobaiError::Format {
            path: self.path.display().to_string(),
            detail: detail.into(),
        }
    }

    /// The entry `name` (marking it read), of element type `T`.
    fn read<T: ReadableElement + Word>(&mut self, name: &str) -> Result<ArrayD<T>> {
        if !self.left.remove(name) {
            return Err(self.bad(format!("the entry {name:?} is missing")));
        }
        let kind = std::any::type_name::<T>();
        let array: ArrayD<T> = self
            .reader
            .by_name(name)
            .map_err(|err| self.bad(format!("cannot read {name:?} as {kind}: {err}")))?;
        let hash = entry_hash(name, array.shape(), array.iter().map(|v| v.word()));
        self.digest.insert(name.to_owned(), hash);
        Ok(array)
    }

    /// Compares the `checksum` entry with the entries read.
    fn check_sum(&mut self) -> Result<()> {
        let expected = checksum(&self.digest);
        self.left.insert("checksum".into());
        let found = self.words("checksum", &[])?[0];
        if found != expected {
            return Err(self.bad(format!(
                "the checksum is {found:016x} but the contents give {expected:016x}; \
                 the file is corrupt"
            )));
        }
        Ok(())
    }

    /// The entry `name` as f64, finite.
    fn floats(&mut self, name: &str) -> Result<ArrayD<f64>> {
        let array = self.read::<f64>(name)?;
        check::finite(&format!("{name} in {}", self.path.display()), &array)?;
        Ok(array)
    }

    /// The entry `name` as u64 of exactly `shape`.
    fn words(&mut self, name: &str, shape: &[usize]) -> Result<Vec<u64>> {
        let array = self.read::<u64>(name)?;
        if array.shape() != shape {
            return Err(self.bad(format!(
                "{name} has shape {:?}; expected {shape:?}",
                array.shape()
            )));
        }
        Ok(array.iter().copied().collect())
    }

    fn scalar(&mut self, name: &str) -> Result<u64> {
        Ok(self.words(name, &[])?[0])
    }

    fn size(&mut self, name: &str) -> Result<usize> {
        let value = self.scalar(name)?;
        self.to_size(name, value)
    }

    fn to_size(&self, name: &str, value: u64) -> Result<usize> {
        usize::try_from(value).map_err(|_| self.bad(format!("{name} is {value}, too large")))
    }

    fn data_print(&mut self, name: &str) -> Result<(usize, u64)> {
        let v = self.words(name, &[2])?;
        match self.to_size(name, v[0])? {
            0 => Err(self.bad(format!("{name} counts 0 samples"))),
            len => Ok((len, v[1])),
        }
    }

    /// Every entry under `prefix`, finite, named without the prefix, in order.
    fn prefixed(&mut self, prefix: &str) -> Result<Vec<(String, ArrayD<f64>)>> {
        let names: Vec<String> = self.reader.names().unwrap_or_default();
        let names = names.into_iter().filter(|n| n.starts_with(prefix));
        names
            .map(|name| Ok((name[prefix.len()..].to_owned(), self.floats(&name)?)))
            .collect()
    }

    /// Every entry under `prefix`, each a finite f64 scalar.
    fn prefixed_scalars(&mut self, prefix: &str) -> Result<Vec<(String, f64)>> {
        let entries = self.prefixed(prefix)?;
        entries
            .into_iter()
            .map(|(name, array)| match array.first() {
                Some(&v) if array.ndim() == 0 => Ok((name, v)),
                _ => Err(self.bad(format!(
                    "{prefix}{name} has shape {:?}; expected a scalar (shape [])",
                    array.shape()
                ))),
            })
            .collect()
    }

    fn sampler(&mut self) -> Result<BatchesState> {
        let rng = self.words("sampler/rng", &[7])?;
        let order = self.read::<u64>("sampler/order")?;
        if order.ndim() != 1 {
            return Err(self.bad("sampler/order is not one-dimensional"));
        }
        let order = order
            .iter()
            .map(|&i| self.to_size("sampler/order", i))
            .collect::<Result<Vec<usize>>>()?;
        let position = self.words("sampler/position", &[2])?;
        let mut rng_seed = [0u8; 32];
        for (chunk, word) in rng_seed.chunks_exact_mut(8).zip(&rng) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        Ok(BatchesState {
            rng_seed,
            rng_stream: rng[4],
            rng_word_pos: u128::from(rng[5]) | u128::from(rng[6]) << 64,
            order,
            next: self.to_size("sampler/position", position[0])?,
            produced: position[1],
        })
    }

    fn history(&mut self, iteration: usize, with_test: bool) -> Result<History> {
        let losses = self.floats("history/losses")?;
        if losses.shape() != [iteration] {
            return Err(self.bad(format!(
                "history/losses has shape {:?}; expected one loss per iteration, [{iteration}]",
                losses.shape()
            )));
        }
        let index = self.read::<u64>("history/epochs")?;
        let n = match index.shape() {
            [n, 2] => *n,
            other => {
                return Err(self.bad(format!(
                    "history/epochs has shape {other:?}; expected [reports, 2]"
                )));
            }
        };
        let mut column = |name: &str, present: bool| -> Result<Vec<Option<f64>>> {
            if !present {
                return Ok(vec![None; n]);
            }
            let values = self.floats(name)?;
            if values.shape() != [n] {
                return Err(self.bad(format!(
                    "{name} has shape {:?}; expected one number per report, [{n}]",
                    values.shape()
                )));
            }
            Ok(values.iter().map(|&v| Some(v)).collect())
        };
        let mean_loss = column("history/mean_loss", true)?;
        let train_accuracy = column("history/train_accuracy", true)?;
        let test_accuracy = column("history/test_accuracy", with_test)?;
        let mut epochs = Vec::with_capacity(n);
        for k in 0..n {
            let accuracies = [train_accuracy[k], test_accuracy[k]];
            if accuracies
                .iter()
                .flatten()
                .any(|a| !(0.0..=1.0).contains(a))
            {
                return Err(self.bad(format!("report {k} has an accuracy outside [0, 1]")));
            }
            epochs.push(EpochReport {
                epoch: self.to_size("history/epochs", index[[k, 0]])?,
                iteration: self.to_size("history/epochs", index[[k, 1]])?,
                mean_loss: mean_loss[k].unwrap_or_default(),
                train_accuracy: train_accuracy[k].unwrap_or_default(),
                test_accuracy: test_accuracy[k],
            });
        }
        Ok(History {
            losses: losses.iter().copied().collect(),
            epochs,
            iterations: iteration,
            stopped_early: false,
        })
    }

    /// What the entries must agree on: the sampler drew one batch per
    /// iteration, and the reports are numbered 1, 2, … and fall where the
    /// trainer puts them (every epoch of `max(samples / batch_size, 1)`
    /// iterations, and after the last).
    fn check_consistency(&self, c: &Checkpoint) -> Result<()> {
        if c.sampler.produced != c.iteration() as u64 {
            return Err(self.bad(format!(
                "the sampler drew {} batches in {} iterations; expected one per iteration",
                c.sampler.produced,
                c.iteration()
            )));
        }
        let per_epoch = (c.data.train.0 / c.batch_size).max(1);
        let mut expected: Vec<usize> = (1..=c.iteration() / per_epoch)
            .map(|k| k * per_epoch)
            .collect();
        if c.is_complete() && !c.iterations.is_multiple_of(per_epoch) {
            expected.push(c.iterations);
        }
        let reports = &c.history.epochs;
        let numbered = reports.iter().enumerate().all(|(k, r)| r.epoch == k + 1);
        let found: Vec<usize> = reports.iter().map(|r| r.iteration).collect();
        if !numbered || found != expected {
            return Err(self.bad(format!(
                "the epoch reports are at iterations {found:?}; expected {expected:?}, \
                 numbered from 1"
            )));
        }
        Ok(())
    }
}
