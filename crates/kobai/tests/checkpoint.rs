//! Checkpoints: a run interrupted and resumed ends with the very bits of a run
//! that never stopped.

#![cfg(feature = "npz")]

mod support;

use std::path::Path;

use kobai::data::{Dataset, Sampling};
use kobai::train::{Checkpoint, Checkpoints, History};
use kobai::{AdaGrad, Adam, Momentum, Optimizer, RmsProp, Sgd};
use kobai::{Result, TwoLayerNet};
use support::*;

type MakeOptimizer = fn() -> Box<dyn Optimizer>;

const OPTIMIZERS: [(&str, MakeOptimizer); 5] = [
    ("SGD", || Box::new(Sgd::new(0.5).expect("valid"))),
    ("Momentum", || {
        Box::new(Momentum::new(0.1, 0.9).expect("valid"))
    }),
    ("AdaGrad", || Box::new(AdaGrad::new(0.1).expect("valid"))),
    ("RMSprop", || {
        Box::new(RmsProp::new(0.01, 0.99).expect("valid"))
    }),
    ("Adam", || {
        Box::new(Adam::new(0.05, 0.9, 0.999).expect("valid"))
    }),
];

/// What an uninterrupted run ends with.
fn uninterrupted(
    make: MakeOptimizer,
    sampling: Sampling,
    (train, test): (&Dataset, &Dataset),
) -> (TwoLayerNet, History) {
    let mut model = net();
    let history = trainer(sampling)
        .train(&mut model, &mut *make(), train, Some(test), &mut ())
        .expect("trains");
    (model, history)
}

/// Trains with checkpoints every `every`, interrupted after `at` iterations,
/// then resumes from the checkpoint file (`kill`: the last periodic one, as a
/// kill leaves it; otherwise the one saved when the observer stopped).
fn interrupted(
    make: MakeOptimizer,
    sampling: Sampling,
    (train, test): (&Dataset, &Dataset),
    dir: &Path,
    (every, at, kill): (usize, usize, bool),
) -> Result<(TwoLayerNet, History, usize)> {
    let path = dir.join("run.ckpt.npz");
    let killed = dir.join("killed.ckpt.npz");
    let _ = std::fs::remove_file(&path);
    let checkpoints = Checkpoints::new(&path, every)?;
    let mut observer = Interrupt {
        at,
        keep: kill.then(|| (path.clone(), killed.clone())),
    };
    let trainer = trainer(sampling);
    let mut first = net();
    let stopped = trainer.train_with_checkpoints(
        &mut first,
        &mut *make(),
        train,
        Some(test),
        &mut observer,
        &checkpoints,
    )?;
    assert!(stopped.stopped_early && stopped.iterations == at);
    let from = Checkpoint::load(if kill { &killed } else { &path })?;
    let resumed_at = from.iteration();
    // A new model with other weights, a new optimizer: all comes from the file.
    let mut model = TwoLayerNet::new(2, 10, 3, 0.5, 99)?;
    let history = trainer.train_with_checkpoints(
        &mut model,
        &mut *make(),
        train,
        Some(test),
        &mut (),
        &checkpoints.resume_from(from),
    )?;
    Ok((model, history, resumed_at))
}

#[test]
fn interrupted_and_resumed_runs_end_with_the_same_bits() -> Result<()> {
    let (train, test) = data();
    let dir = scratch("bits");
    // (checkpoint every, interrupt after, from the last periodic checkpoint)
    let cuts = [
        (4, 13, false), // mid-epoch, saved on the stop
        (9, 18, false), // at an epoch's end
        (4, 14, true),  // killed: resumes from iteration 12
        (9, 10, true),  // killed just after an epoch's end: from 9
        (1, 1, false),  // after the first step
        (7, 49, true),  // killed in the last epoch: from 49
    ];
    for (name, make) in OPTIMIZERS {
        for sampling in SAMPLINGS {
            let (whole, expected) = uninterrupted(make, sampling, (&train, &test));
            for cut in cuts {
                let (model, history, at) = interrupted(make, sampling, (&train, &test), &dir, cut)?;
                let case = format!("{name}, {sampling:?}, {cut:?}, resumed at {at}");
                assert_eq!(bits(&model), bits(&whole), "weights: {case}");
                assert_eq!(history_bits(&history), history_bits(&expected), "{case}");
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

#[test]
fn checkpointing_changes_nothing_and_the_last_checkpoint_is_the_end() -> Result<()> {
    let (train, test) = data();
    let dir = scratch("end");
    let path = dir.join("run.ckpt.npz");
    for sampling in SAMPLINGS {
        let (whole, expected) = uninterrupted(OPTIMIZERS[4].1, sampling, (&train, &test));
        let mut model = net();
        let checkpoints = Checkpoints::new(&path, 8)?;
        let history = trainer(sampling).train_with_checkpoints(
            &mut model,
            &mut Adam::new(0.05, 0.9, 0.999)?,
            &train,
            Some(&test),
            &mut (),
            &checkpoints,
        )?;
        assert_eq!(bits(&model), bits(&whole));
        assert_eq!(history_bits(&history), history_bits(&expected));
        let last = Checkpoint::load(&path)?;
        assert!(last.is_complete());
        assert_eq!((last.iteration(), last.iterations()), (50, 50));
        assert_eq!(history_bits(last.history()), history_bits(&expected));
        // Resuming a finished run trains no more and returns its history.
        let mut again = net();
        let history = trainer(sampling).train_with_checkpoints(
            &mut again,
            &mut Adam::new(0.05, 0.9, 0.999)?,
            &train,
            Some(&test),
            &mut (),
            &checkpoints.resume_from(last),
        )?;
        assert_eq!(bits(&again), bits(&whole));
        assert_eq!(history_bits(&history), history_bits(&expected));
    }
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

#[test]
fn a_run_resumed_twice_still_ends_with_the_same_bits() -> Result<()> {
    let (train, test) = data();
    let dir = scratch("twice");
    let path = dir.join("run.ckpt.npz");
    let (whole, expected) = uninterrupted(OPTIMIZERS[1].1, Sampling::Shuffled, (&train, &test));
    let trainer = trainer(Sampling::Shuffled);
    let checkpoints = Checkpoints::new(&path, 5)?;
    let mut model = net();
    let mut stops = [17, 33].into_iter();
    let mut resume: Option<Checkpoint> = None;
    let history = loop {
        let plan = match resume.take() {
            Some(from) => checkpoints.clone().resume_from(from),
            None => checkpoints.clone(),
        };
        let mut observer = Interrupt {
            at: stops.next().unwrap_or(usize::MAX),
            keep: None,
        };
        let mut momentum = Momentum::new(0.1, 0.9)?;
        let history = trainer.train_with_checkpoints(
            &mut model,
            &mut momentum,
            &train,
            Some(&test),
            &mut observer,
            &plan,
        )?;
        if !history.stopped_early {
            break history;
        }
        model = net(); // as a new process would start
        resume = Some(Checkpoint::load(&path)?);
    };
    assert_eq!(bits(&model), bits(&whole));
    assert_eq!(history_bits(&history), history_bits(&expected));
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
