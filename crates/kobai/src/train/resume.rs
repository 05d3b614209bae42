//! Resuming: checking that a [`Checkpoint`] belongs to the run at hand, then
//! restoring the model, the optimizer, the sampler and the history — in that
//! order of checks, so that a refused checkpoint changes nothing.

use std::fmt::Display;

use ndarray::ArrayD;

use super::Trainer;
use super::checkpoint::Checkpoint;
use super::run::Progress;
use super::saver::Saver;
use crate::data::{Batches, Dataset, Sampling};
use crate::error::{KobaiError, Result};
use crate::model::Params;
use crate::optim::Optimizer;

/// The data a run was trained on, as `(samples, fingerprint)` per set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct DataPrint {
    pub(super) train: (usize, u64),
    pub(super) test: Option<(usize, u64)>,
}

/// `(samples, FNV-1a hash)` of a dataset: its shape, every pixel's bits and
/// every label. Not cryptographic: it tells a resumed run that it was given
/// other data by mistake.
pub(super) fn fingerprint(data: &Dataset) -> (usize, u64) {
    let mut hash = Fnv::default();
    hash.mix(data.len() as u64);
    hash.mix(data.features() as u64);
    // Row by row from the storage, bytes or f64: no f64 copy of the matrix.
    data.values().for_each(|v| hash.mix(v.to_bits()));
    data.labels().iter().for_each(|&l| hash.mix(l as u64));
    (data.len(), hash.0)
}

/// FNV-1a over 64-bit words: a fast hash, stable across platforms and
/// versions (unlike `std`'s), to notice corruption or other data — not attacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fnv(pub(super) u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    pub(super) fn mix(&mut self, word: u64) {
        self.0 = (self.0 ^ word).wrapping_mul(0x0000_0100_0000_01b3);
    }
}

/// Checks `from` against this run and, if it belongs, loads it into `model`
/// and `optimizer` and returns where the run goes on. On error nothing changed.
pub(super) fn restore<M: Params, O: Optimizer + ?Sized>(
    from: &Checkpoint,
    trainer: &Trainer,
    model: &mut M,
    optimizer: &mut O,
    train: &Dataset,
    saver: &Saver<'_>,
) -> Result<Progress> {
    let mismatch = |what: &str, saved: &dyn Display, given: &dyn Display| {
        Err(KobaiError::CheckpointMismatch {
            path: from.path.display().to_string(),
            what: what.into(),
            saved: saved.to_string(),
            given: given.to_string(),
        })
    };
    let iterations = trainer.iterations(train.len());
    if from.iterations != iterations {
        return mismatch("iterations", &from.iterations, &iterations);
    }
    if from.batch_size != trainer.batch_size {
        return mismatch("batch size", &from.batch_size, &trainer.batch_size);
    }
    if from.seed != trainer.seed {
        return mismatch("seed", &from.seed, &trainer.seed);
    }
    if from.sampling != trainer.sampling {
        let name = |s: Sampling| format!("{s:?}");
        return mismatch("sampling", &name(from.sampling), &name(trainer.sampling));
    }
    // A checkpoint of an older kobai holds no architecture: its parameters'
    // names and shapes are still checked below.
    if let Some(saved) = &from.architecture {
        let ours = model.architecture();
        if ours.as_deref() != Some(saved.as_str()) {
            let ours = ours.unwrap_or_else(|| "a model that does not describe itself".into());
            return mismatch("the network", saved, &ours);
        }
    }
    check_data(from, saver.data())?;
    let settings = saver.checkpoints().settings();
    if from.settings != settings {
        return mismatch("settings", &pairs(&from.settings), &pairs(settings));
    }
    let params = checked_params(from, model)?;
    if from.optimizer != optimizer.name() {
        return mismatch("optimizer", &from.optimizer, &optimizer.name());
    }
    let hyper: Vec<(String, f64)> = optimizer
        .hyperparameters()
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v))
        .collect();
    if from.hyperparameters != hyper {
        let what = format!("{} hyperparameters", from.optimizer);
        return mismatch(&what, &pairs(&from.hyperparameters), &pairs(&hyper));
    }
    check_state_shapes(from, model)?;
    let batches = Batches::restore(
        train.len(),
        trainer.batch_size,
        trainer.sampling,
        trainer.seed,
        from.sampler.clone(),
    )
    .map_err(|detail| in_file(from, detail))?;
    // The last check and the first change: the optimizer checks its state
    // before it takes it.
    optimizer
        .load_state(from.optimizer_state.clone())
        .map_err(|e| in_file(from, e.to_string()))?;
    for ((_, mut param), array) in crate::model::saved_mut(model).into_iter().zip(params) {
        param.assign(array);
    }
    Ok(Progress {
        batches,
        history: from.history.clone(),
    })
}

/// A [`KobaiError::Format`] naming the checkpoint's file.
fn in_file(from: &Checkpoint, detail: String) -> KobaiError {
    KobaiError::Format {
        path: from.path.display().to_string(),
        detail,
    }
}

/// `name = value, …`, for messages.
fn pairs(values: &[(String, f64)]) -> String {
    let parts: Vec<String> = values.iter().map(|(n, v)| format!("{n} = {v}")).collect();
    match parts.is_empty() {
        true => "none".into(),
        false => parts.join(", "),
    }
}

fn check_data(from: &Checkpoint, given: &DataPrint) -> Result<()> {
    let describe = |print: Option<(usize, u64)>| match print {
        None => "none".to_string(),
        Some((len, hash)) => format!("{len} samples (fingerprint {hash:016x})"),
    };
    for (what, saved, now) in [
        ("training data", Some(from.data.train), Some(given.train)),
        ("test data", from.data.test, given.test),
    ] {
        if saved != now {
            return Err(KobaiError::CheckpointMismatch {
                path: from.path.display().to_string(),
                what: what.into(),
                saved: describe(saved),
                given: describe(now),
            });
        }
    }
    Ok(())
}

/// The checkpoint's parameters in the model's order, once their names and
/// shapes are the model's.
fn checked_params<'c, M: Params>(from: &'c Checkpoint, model: &M) -> Result<Vec<&'c ArrayD<f64>>> {
    let params = crate::model::saved(model);
    let mut found = Vec::with_capacity(params.len());
    for (name, param) in &params {
        let Some((_, array)) = from.params.iter().find(|(n, _)| n == name) else {
            return Err(in_file(
                from,
                format!(
                    "model/{name} is missing; the model's parameters are {:?}",
                    names(&params)
                ),
            ));
        };
        if array.shape() != param.shape() {
            return Err(KobaiError::Shape {
                what: format!("model/{name} in {}", from.path.display()),
                expected: format!("the model's {name} has shape {:?}", param.shape()),
                found: array.shape().to_vec(),
            });
        }
        found.push(array);
    }
    if let Some((extra, _)) = from
        .params
        .iter()
        .find(|(n, _)| !names(&params).contains(&n.as_str()))
    {
        return Err(in_file(
            from,
            format!(
                "model/{extra} is not a parameter of the model; its parameters are {:?}",
                names(&params)
            ),
        ));
    }
    Ok(found)
}

fn names<T>(params: &[(String, T)]) -> Vec<&str> {
    params.iter().map(|(n, _)| n.as_str()).collect()
}

/// Each optimizer state entry `PARAM/FIELD` belongs to a parameter of the
/// model and has its shape, or is a scalar.
fn check_state_shapes<M: Params>(from: &Checkpoint, model: &M) -> Result<()> {
    let params = model.params();
    for (entry, array) in &from.optimizer_state {
        let param = entry
            .rsplit_once('/')
            .and_then(|(p, _)| params.iter().find(|(n, _)| n == p));
        let Some((_, param)) = param else {
            return Err(in_file(
                from,
                format!("optimizer/state/{entry} names no parameter of the model"),
            ));
        };
        if array.ndim() != 0 && array.shape() != param.shape() {
            return Err(KobaiError::Shape {
                what: format!("optimizer/state/{entry} in {}", from.path.display()),
                expected: format!("its parameter has shape {:?}", param.shape()),
                found: array.shape().to_vec(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn fingerprint_is_of_the_values_however_stored() {
        let pixels = array![[0u8, 51, 255], [7, 128, 254]];
        let bytes = Dataset::from_bytes(pixels.clone(), 255.0, array![1, 0], 2).expect("valid");
        let floats = pixels.mapv(|b| f64::from(b) / 255.0);
        let floats = Dataset::new(floats, array![1, 0], 2).expect("valid");
        // The hash of the f64 bits, row-major, as when datasets held only f64.
        assert_eq!(fingerprint(&bytes), (2, 0xea2d_5909_a33b_4b29));
        assert_eq!(fingerprint(&floats), fingerprint(&bytes));
    }
}
