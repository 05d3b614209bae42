//! Checkpoints whose contents are wrong in one way each, written with a valid
//! checksum: loading or resuming names the file and what is wrong.

use std::io::Cursor;
use std::path::PathBuf;

use ndarray::{ArrayD, IxDyn, arr0};
use ndarray_npy::NpzWriter;

use super::{Checkpoint, Checkpoints, Length, Trainer};
use crate::data::{Dataset, spiral};
use crate::error::KobaiError;
use crate::{Adam, TwoLayerNet};

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("kobai-ckpt-unit-{}-{name}", std::process::id()))
}

fn data() -> Dataset {
    spiral(20, 0.2, 0).expect("valid").0 // 48 samples: 6 iterations per epoch of 8
}

fn trainer() -> Trainer {
    Trainer::new(Length::Iterations(20), 8, 0).expect("valid")
}

fn net() -> TwoLayerNet {
    TwoLayerNet::new(2, 4, 3, 0.5, 0).expect("valid")
}

/// A finished run's checkpoint, read back.
fn finished(name: &str) -> Checkpoint {
    let path = temp(name);
    trainer()
        .train_with_checkpoints(
            &mut net(),
            &mut Adam::new(0.05, 0.9, 0.999).expect("valid"),
            &data(),
            None,
            &mut (),
            &Checkpoints::new(&path, 5).expect("valid"),
        )
        .expect("trains");
    let checkpoint = Checkpoint::load(&path).expect("a valid checkpoint");
    std::fs::remove_file(&path).ok();
    checkpoint
}

/// Saves `checkpoint` as `name`, loads it, resumes from it; the error.
fn error(name: &str, checkpoint: &Checkpoint) -> KobaiError {
    let path = temp(name);
    checkpoint.save(&path).expect("written");
    let result = Checkpoint::load(&path).and_then(|from| {
        let plan = Checkpoints::new(&path, 5)?.resume_from(from);
        let mut adam = Adam::new(0.05, 0.9, 0.999)?;
        trainer().train_with_checkpoints(&mut net(), &mut adam, &data(), None, &mut (), &plan)
    });
    std::fs::remove_file(&path).ok();
    let err = result.expect_err("refused");
    assert!(
        err.to_string().contains(name),
        "{err} does not name the file"
    );
    err
}

#[test]
fn a_saved_checkpoint_reads_back_the_same() {
    let checkpoint = finished("same.npz");
    let path = temp("same-again.npz");
    checkpoint.save(&path).expect("written");
    let mut read = Checkpoint::load(&path).expect("valid");
    read.path.clone_from(&checkpoint.path);
    assert_eq!(read, checkpoint);
    assert_eq!(
        checkpoint.optimizer_state().len(),
        12,
        "m, v, t of 4 parameters"
    );
    std::fs::remove_file(&path).ok();
}

/// A change that makes a checkpoint wrong.
type Spoil = fn(&mut Checkpoint);

#[test]
fn inconsistent_contents_are_format_errors() {
    let good = finished("inconsistent.npz");
    let cases: Vec<(&str, Spoil, &str)> = vec![
        ("late.npz", |c| c.iterations = 19, "iteration 20 of 19"),
        (
            "losses.npz",
            |c| {
                c.history.losses.pop();
            },
            "one loss per iteration",
        ),
        (
            "reports.npz",
            |c| c.history.epochs[1].iteration = 11,
            "epoch reports",
        ),
        (
            "numbered.npz",
            |c| c.history.epochs[0].epoch = 2,
            "numbered from 1",
        ),
        ("sampler.npz", |c| c.sampler.produced = 3, "drew 3 batches"),
        (
            "accuracy.npz",
            |c| c.history.epochs[0].train_accuracy = 1.5,
            "outside [0, 1]",
        ),
        ("no-params.npz", |c| c.params.clear(), "no model/ entries"),
        (
            "missing.npz",
            |c| drop(c.params.pop()),
            "model/b2 is missing",
        ),
        (
            "extra.npz",
            |c| c.params.push(("W3".into(), arr0(1.0).into_dyn())),
            "W3",
        ),
        (
            "field.npz",
            |c| c.optimizer_state[0].0 = "W1/x".into(),
            "W1/x is unexpected",
        ),
        (
            "orphan.npz",
            |c| c.optimizer_state[0].0 = "W9/m".into(),
            "names no parameter",
        ),
        (
            "rng.npz",
            |c| c.sampler.rng_seed[0] ^= 1,
            "does not come from seed 0",
        ),
    ];
    for (name, spoil, expected) in cases {
        let mut checkpoint = good.clone();
        spoil(&mut checkpoint);
        let err = error(name, &checkpoint);
        assert!(matches!(err, KobaiError::Format { .. }), "{name}: {err}");
        assert!(err.to_string().contains(expected), "{name}: {err}");
    }
}

#[test]
fn wrong_numbers_and_shapes_are_named() {
    let good = finished("numbers.npz");
    let mut nan = good.clone();
    nan.params[0].1[[1, 2]] = f64::NAN;
    let err = error("nan.npz", &nan);
    assert!(matches!(err, KobaiError::NonFinite { .. }), "{err}");
    assert!(err.to_string().contains("model/W1"), "{err}");
    let mut state = good.clone();
    state.optimizer_state[0].1 = ArrayD::zeros(IxDyn(&[3]));
    let err = error("state-shape.npz", &state);
    assert!(matches!(err, KobaiError::Shape { .. }), "{err}");
    let mut negative = good;
    let v = negative
        .optimizer_state
        .iter_mut()
        .find(|(n, _)| n == "W1/v");
    v.expect("Adam keeps v").1.fill(-1.0);
    let err = error("negative.npz", &negative);
    assert!(
        err.to_string().contains("Adam state: W1/v holds -1"),
        "{err}"
    );
}

#[test]
fn other_format_versions_and_foreign_archives_are_refused() {
    let write = |name: &str, entries: &[(&str, u64)]| {
        let mut npz = NpzWriter::new(Cursor::new(Vec::new()));
        for (entry, value) in entries {
            npz.add_array(*entry, &arr0(*value)).expect("in memory");
        }
        let path = temp(name);
        let bytes = npz.finish().expect("in memory").into_inner();
        std::fs::write(&path, bytes).expect("written");
        let err = Checkpoint::load(&path).expect_err("refused");
        std::fs::remove_file(&path).ok();
        assert!(matches!(err, KobaiError::Format { .. }), "{err}");
        err.to_string()
    };
    let err = write("v2.npz", &[("kobai_checkpoint", 2)]);
    assert!(
        err.contains("format version 2; this kobai reads version 1"),
        "{err}"
    );
    let err = write("other.npz", &[("W1", 2)]);
    assert!(err.contains("not a kobai checkpoint"), "{err}");
    let err = write("bare.npz", &[("kobai_checkpoint", 1)]);
    assert!(err.contains("\"iteration\" is missing"), "{err}");
}

/// Stops training after iteration `.0`.
struct StopAt(usize);

impl crate::Observer for StopAt {
    fn on_iteration(&mut self, i: usize, _loss: f64) -> std::ops::ControlFlow<()> {
        if i == self.0 {
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(())
        }
    }
}

#[test]
fn when_stopped_saves_only_a_stopped_run_which_resumes_to_the_same_bits() {
    let path = temp("when-stopped.npz");
    let adam = || Adam::new(0.05, 0.9, 0.999).expect("valid");
    let plan = Checkpoints::when_stopped(&path);
    let mut whole = net();
    let expected = trainer()
        .train_with_checkpoints(&mut whole, &mut adam(), &data(), None, &mut (), &plan)
        .expect("trains");
    assert!(!path.exists(), "a run that ends writes nothing");

    let mut first = net();
    let stopped = trainer()
        .train_with_checkpoints(
            &mut first,
            &mut adam(),
            &data(),
            None,
            &mut StopAt(7),
            &plan,
        )
        .expect("trains");
    assert!(stopped.stopped_early);
    let checkpoint = Checkpoint::load(&path).expect("saved on the stop");
    assert_eq!(checkpoint.iteration(), 7);
    let mut resumed = net();
    let history = trainer()
        .train_with_checkpoints(
            &mut resumed,
            &mut adam(),
            &data(),
            None,
            &mut (),
            &Checkpoints::when_stopped(&path).resume_from(checkpoint),
        )
        .expect("resumes");
    assert_eq!(resumed, whole, "the same weights, bit for bit");
    assert_eq!(history, expected);
    std::fs::remove_file(&path).ok();
}
