//! Checkpoints that are missing, cut short, corrupt, or of another run: an
//! error naming the file and what is wrong, and nothing changed.

#![cfg(feature = "npz")]

mod support;

use std::path::{Path, PathBuf};

use kobai::data::{Dataset, Sampling, spiral};
use kobai::model::save_npz;
use kobai::train::{Checkpoint, Checkpoints, Length, Trainer};
use kobai::{Adam, KobaiError, Optimizer, Result, Sgd, TwoLayerNet};
use support::*;

/// Whether two checkpoints hold the same run (wherever they were read from).
fn same_contents(a: &Checkpoint, b: &Checkpoint) -> bool {
    let params = |c: &Checkpoint| {
        let all = c.params().iter().chain(c.optimizer_state());
        all.map(|(n, p)| (n.clone(), p.iter().map(|v| v.to_bits()).collect::<Vec<_>>()))
            .collect::<Vec<_>>()
    };
    (
        a.iteration(),
        a.iterations(),
        a.batch_size(),
        a.seed(),
        a.sampling(),
    ) == (
        b.iteration(),
        b.iterations(),
        b.batch_size(),
        b.seed(),
        b.sampling(),
    ) && history_bits(a.history()) == history_bits(b.history())
        && params(a) == params(b)
        && (a.optimizer(), a.hyperparameters(), a.settings())
            == (b.optimizer(), b.hyperparameters(), b.settings())
}

/// A model and an optimizer with a history of their own, to see that a
/// refused checkpoint leaves both as they were.
fn trained_pair(train: &Dataset) -> (TwoLayerNet, Adam) {
    let mut model = TwoLayerNet::new(2, 10, 3, 0.5, 5).expect("valid");
    let mut adam = Adam::new(0.05, 0.9, 0.999).expect("valid");
    Trainer::new(Length::Iterations(3), 16, 0)
        .expect("valid")
        .train(&mut model, &mut adam, train, None, &mut ())
        .expect("trains");
    (model, adam)
}

/// Resumes `trainer` with `adam` and `model` from `path` (loaded first) and
/// returns the error, after checking that nothing changed.
fn refused(
    path: &Path,
    trainer: &Trainer,
    (mut model, mut adam): (TwoLayerNet, Adam),
    (train, test): (&Dataset, &Dataset),
) -> KobaiError {
    let (model_before, adam_before) = (model.clone(), adam.clone());
    let result = Checkpoint::load(path).and_then(|from| {
        let checkpoints = Checkpoints::new(path, 4)?.resume_from(from);
        trainer.train_with_checkpoints(
            &mut model,
            &mut adam,
            train,
            Some(test),
            &mut (),
            &checkpoints,
        )
    });
    let err = result.expect_err("the checkpoint is refused");
    assert_eq!(model, model_before, "the model changed: {err}");
    assert_eq!(adam, adam_before, "the optimizer changed: {err}");
    err
}

/// A checkpoint of the test's Adam run after 13 iterations.
fn adam_checkpoint(dir: &Path, (train, test): (&Dataset, &Dataset)) -> Result<PathBuf> {
    let path = dir.join("adam.ckpt.npz");
    let mut observer = Interrupt { at: 13, keep: None };
    trainer(Sampling::Shuffled).train_with_checkpoints(
        &mut net(),
        &mut Adam::new(0.05, 0.9, 0.999)?,
        train,
        Some(test),
        &mut observer,
        &Checkpoints::new(&path, 4)?,
    )?;
    Ok(path)
}

#[test]
fn missing_truncated_and_corrupt_files_are_errors_that_change_nothing() -> Result<()> {
    let (train, test) = data();
    let dir = scratch("corrupt");
    let good = adam_checkpoint(&dir, (&train, &test))?;
    let bytes = std::fs::read(&good).expect("written");
    let trainer = trainer(Sampling::Shuffled);
    let data = (&train, &test);

    let missing = dir.join("missing.npz");
    let err = refused(&missing, &trainer, trained_pair(&train), data);
    assert!(matches!(err, KobaiError::Io { .. }), "{err}");
    assert!(err.to_string().contains("missing.npz"), "{err}");

    let cases: [(&str, Vec<u8>); 4] = [
        ("truncated.npz", bytes[..bytes.len() / 2].to_vec()),
        ("cut-short.npz", bytes[..bytes.len() - 10].to_vec()),
        ("empty.npz", Vec::new()),
        (
            "garbage.npz",
            b"PK\x03\x04 not really a zip archive".to_vec(),
        ),
    ];
    for (name, content) in cases {
        let path = dir.join(name);
        std::fs::write(&path, content).expect("written");
        let err = refused(&path, &trainer, trained_pair(&train), data);
        assert!(matches!(err, KobaiError::Format { .. }), "{name}: {err}");
        assert!(
            err.to_string().starts_with(&path.display().to_string()),
            "{err}"
        );
    }

    // A flipped bit anywhere: refused, or (in a byte the format ignores, such
    // as a file time in the archive's directory) read as the very same checkpoint.
    let original = Checkpoint::load(&good)?;
    let (mut refusals, mut harmless) = (0, Vec::new());
    for at in (0..bytes.len()).step_by(bytes.len() / 64) {
        let path = dir.join("flipped.npz");
        let mut content = bytes.clone();
        content[at] ^= 0x10;
        std::fs::write(&path, content).expect("written");
        match Checkpoint::load(&path) {
            Ok(read) => {
                assert!(
                    same_contents(&read, &original),
                    "byte {at} changed the contents"
                );
                harmless.push(at);
            }
            Err(_) => {
                let err = refused(&path, &trainer, trained_pair(&train), data);
                assert!(matches!(err, KobaiError::Format { .. }), "byte {at}: {err}");
                refusals += 1;
            }
        }
    }
    eprintln!(
        "flipped bits: {refusals} refused, harmless at {harmless:?} of {}",
        bytes.len()
    );
    assert!(
        refusals >= 50,
        "{refusals} refusals, harmless at {harmless:?}"
    );

    // A weights file is not a checkpoint.
    let weights = dir.join("weights.npz");
    save_npz(&net(), &weights)?;
    let err = refused(&weights, &trainer, trained_pair(&train), data);
    assert!(err.to_string().contains("not a kobai checkpoint"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

#[test]
fn a_checkpoint_of_another_network_or_run_is_refused() -> Result<()> {
    let (train, test) = data();
    let dir = scratch("foreign");
    let path = adam_checkpoint(&dir, (&train, &test))?;
    let data = (&train, &test);
    let base = trainer(Sampling::Shuffled);

    // Another hidden size: refused by the architecture the checkpoint
    // records, naming both networks and the file.
    let wider = {
        let mut model = TwoLayerNet::new(2, 12, 3, 0.5, 5).expect("valid");
        let mut adam = Adam::new(0.05, 0.9, 0.999).expect("valid");
        Trainer::new(Length::Iterations(2), 16, 0)
            .expect("valid")
            .train(&mut model, &mut adam, &train, None, &mut ())
            .expect("trains");
        (model, adam)
    };
    let err = refused(&path, &base, wider, data);
    assert!(
        matches!(err, KobaiError::CheckpointMismatch { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("two_layer_net(2,10,3,relu)"),
        "{err}"
    );
    assert!(
        err.to_string().contains("two_layer_net(2,12,3,relu)"),
        "{err}"
    );
    assert!(err.to_string().contains("adam.ckpt.npz"), "{err}");

    // Other settings of the run: a mismatch naming the setting.
    let other = |f: fn(&mut Trainer)| {
        let mut t = base;
        f(&mut t);
        t
    };
    let runs: [(Trainer, &str); 4] = [
        (
            other(|t| t.length = Length::Iterations(60)),
            "iterations 50",
        ),
        (other(|t| t.batch_size = 15), "batch size 16"),
        (other(|t| t.seed = 4), "seed 3"),
        (
            other(|t| t.sampling = Sampling::WithReplacement),
            "sampling Shuffled",
        ),
    ];
    for (trainer, expected) in runs {
        let err = refused(&path, &trainer, trained_pair(&train), data);
        assert!(
            matches!(err, KobaiError::CheckpointMismatch { .. }),
            "{err}"
        );
        assert!(err.to_string().contains(expected), "{expected}: {err}");
    }
    // Other data, another optimizer, other hyperparameters.
    let (moved, _) = spiral(60, 0.2, 1)?;
    let err = refused(&path, &base, trained_pair(&train), (&moved, &test));
    assert!(err.to_string().contains("training data"), "{err}");
    let mut model = net();
    let before = model.clone();
    let checkpoints = Checkpoints::new(&path, 4)?.resume_from(Checkpoint::load(&path)?);
    for (optimizer, expected) in [
        (
            Box::new(Sgd::new(0.05)?) as Box<dyn Optimizer>,
            "optimizer Adam",
        ),
        (Box::new(Adam::new(0.05, 0.8, 0.999)?), "beta1 = 0.9"),
    ] {
        let mut optimizer = optimizer;
        let err = base
            .train_with_checkpoints(
                &mut model,
                &mut *optimizer,
                &train,
                Some(&test),
                &mut (),
                &checkpoints,
            )
            .expect_err("refused");
        assert!(
            matches!(err, KobaiError::CheckpointMismatch { .. }),
            "{err}"
        );
        assert!(err.to_string().contains(expected), "{expected}: {err}");
        assert_eq!(model, before);
        assert!(optimizer.state().is_empty());
    }
    // Settings of one's own must match too.
    let with_setting = Checkpoints::new(&path, 4)?
        .with_setting("weight_init_std", 0.5)?
        .resume_from(Checkpoint::load(&path)?);
    let err = base
        .train_with_checkpoints(
            &mut model,
            &mut Adam::new(0.05, 0.9, 0.999)?,
            &train,
            Some(&test),
            &mut (),
            &with_setting,
        )
        .expect_err("refused");
    assert!(err.to_string().contains("weight_init_std = 0.5"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

#[test]
fn a_checkpoint_that_cannot_be_written_stops_training_with_an_error() -> Result<()> {
    let (train, _) = data();
    let nowhere = std::env::temp_dir()
        .join("kobai-no-such-folder-7f3a")
        .join("run.npz");
    let err = trainer(Sampling::WithReplacement)
        .train_with_checkpoints(
            &mut net(),
            &mut Sgd::new(0.5)?,
            &train,
            None,
            &mut (),
            &Checkpoints::new(&nowhere, 4)?,
        )
        .expect_err("cannot write");
    assert!(matches!(err, KobaiError::Io { .. }), "{err}");
    Ok(())
}
