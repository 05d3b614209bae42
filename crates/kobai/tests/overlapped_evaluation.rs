//! `Evaluation::Overlapped`: the epoch reports computed on a second thread
//! while training goes on are those of the blocking evaluation, bit for bit,
//! reach the observer once each and in order, go into every checkpoint, and
//! a stop from `on_epoch` ends the run soon after, with consistent results.

use std::ops::ControlFlow;

use kobai::data::Dataset;
use kobai::nets::MultiLayerNet;
#[cfg(feature = "npz")]
use kobai::train::{Checkpoint, Checkpoints};
use kobai::train::{EpochReport, Evaluation, Length, Trainer};
use kobai::{Backprop, History, Observer, Sgd, TwoLayerNet};
use ndarray::{Array1, Array2};

/// A dataset held as bytes (as IDX files are), so that `TwoLayerNet`'s fused
/// engine reads it directly: `samples` rows of 36 pixels, 4 classes, the
/// class visible in the pixels.
fn bytes(samples: usize, salt: usize) -> Dataset {
    let labels = Array1::from_shape_fn(samples, |r| (r * 7 + r / 5 + salt) % 4);
    let pixels = Array2::from_shape_fn((samples, 36), |(r, c)| {
        let noise = (r * 31 + c * 17 + r * c + salt) % 97;
        if c % 4 == labels[r] {
            (150 + noise) as u8
        } else if noise < 50 {
            0
        } else {
            noise as u8
        }
    });
    Dataset::from_bytes(pixels, 255.0, labels, 4).expect("valid dataset")
}

/// Records every call, in order.
#[derive(Default)]
struct Log {
    iterations: Vec<usize>,
    reports: Vec<(usize, EpochReport)>,
    stop_at_epoch: Option<usize>,
    stop_at_iteration: Option<usize>,
}

impl Observer for Log {
    fn on_iteration(&mut self, iteration: usize, _loss: f64) -> ControlFlow<()> {
        self.iterations.push(iteration);
        if self.stop_at_iteration == Some(iteration) {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    fn on_epoch(&mut self, report: &EpochReport) -> ControlFlow<()> {
        let seen = self.iterations.last().copied().unwrap_or(0);
        self.reports.push((seen, report.clone()));
        if self.stop_at_epoch == Some(report.epoch) {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}

fn train<M: Backprop>(
    mut model: M,
    trainer: Trainer,
    (train, test): (&Dataset, &Dataset),
    log: &mut Log,
) -> (M, History) {
    let mut sgd = Sgd::new(0.5).expect("valid lr");
    let history = trainer
        .train(&mut model, &mut sgd, train, Some(test), log)
        .expect("trains");
    (model, history)
}

#[test]
fn overlapped_reports_are_the_blocking_ones_and_come_in_order() {
    let data = (&bytes(400, 0), &bytes(150, 1));
    // 400 / 20 = 20 iterations per epoch; 130 ends with a partial epoch.
    let trainer = Trainer::new(Length::Iterations(130), 20, 3).expect("valid trainer");
    let net = TwoLayerNet::new(36, 16, 4, 0.1, 5).expect("valid sizes");
    let (mut blocking_log, mut overlapped_log) = (Log::default(), Log::default());
    let blocking = train(net.clone(), trainer, data, &mut blocking_log);
    let overlapped = train(
        net,
        trainer.with_evaluation(Evaluation::Overlapped),
        data,
        &mut overlapped_log,
    );
    assert_eq!(overlapped, blocking, "the same weights and history");
    assert_eq!(blocking.1.epochs.len(), 7);
    assert!(blocking.1.epochs[6].mean_loss < blocking.1.epochs[0].mean_loss);

    // The observer hears every report once, in order, never before its
    // epoch's last iteration, and no later than the next epoch's end.
    let heard: Vec<&EpochReport> = overlapped_log.reports.iter().map(|(_, r)| r).collect();
    let expected: Vec<&EpochReport> = blocking.1.epochs.iter().collect();
    assert_eq!(heard, expected);
    for (seen, report) in &overlapped_log.reports {
        assert!(
            (report.iteration..=report.iteration + 20).contains(seen),
            "epoch {} (iteration {}) heard at iteration {seen}",
            report.epoch,
            report.iteration
        );
    }
    assert_eq!(overlapped_log.iterations, (1..=130).collect::<Vec<_>>());
    // Blocking: right after the epoch's last iteration.
    assert!(
        blocking_log
            .reports
            .iter()
            .all(|(seen, r)| *seen == r.iteration)
    );
}

#[test]
fn a_deep_network_gives_the_same_run_either_way() {
    let data = (&bytes(300, 2), &bytes(100, 3));
    let trainer = Trainer::new(Length::Epochs(4), 25, 1).expect("valid trainer");
    let net = MultiLayerNet::new(36, &[12, 8], 4)
        .build()
        .expect("valid sizes");
    let blocking = train(net.clone(), trainer, data, &mut Log::default());
    let overlapped = train(
        net,
        trainer.with_evaluation(Evaluation::Overlapped),
        data,
        &mut Log::default(),
    );
    let weights = |net: &kobai::Network| -> Vec<Vec<u64>> {
        use kobai::Params;
        net.params()
            .into_iter()
            .map(|(_, p)| p.iter().map(|v| v.to_bits()).collect())
            .collect()
    };
    assert_eq!(weights(&overlapped.0), weights(&blocking.0));
    assert_eq!(overlapped.1, blocking.1);
}

#[test]
fn a_stop_from_on_epoch_ends_the_run_soon_after_with_consistent_results() {
    let data = (&bytes(400, 0), &bytes(150, 1));
    let trainer = Trainer::new(Length::Iterations(200), 20, 3)
        .expect("valid trainer")
        .with_evaluation(Evaluation::Overlapped);
    let net = TwoLayerNet::new(36, 16, 4, 0.1, 5).expect("valid sizes");
    let mut log = Log {
        stop_at_epoch: Some(2),
        ..Log::default()
    };
    let (stopped, history) = train(net.clone(), trainer, data, &mut log);
    assert!(history.stopped_early);
    // Epoch 2 ends at iteration 40; its report is heard by the end of epoch 3.
    assert!(
        (40..=60).contains(&history.iterations),
        "{}",
        history.iterations
    );
    assert_eq!(log.reports.len(), 2, "nothing is heard after the stop");
    assert_eq!(history.losses.len(), history.iterations);
    // The weights are those of a run of that many iterations, and the
    // reports up to epoch 2 are that run's.
    let shorter = Trainer::new(Length::Iterations(history.iterations), 20, 3).expect("valid");
    let (expected, expected_history) = train(net, shorter, data, &mut Log::default());
    assert_eq!(stopped, expected);
    assert_eq!(history.epochs[..2], expected_history.epochs[..2]);
    assert_eq!(history.losses, expected_history.losses);
    // The last report is the partial epoch where the run stopped (if it did
    // not stop exactly at an epoch's end).
    let last = history.epochs.last().expect("reports");
    assert_eq!(last.iteration, history.iterations);
}

#[cfg(feature = "npz")]
#[test]
fn checkpoints_hold_every_report_up_to_their_iteration() {
    let (train_data, test_data) = (bytes(400, 0), bytes(150, 1));
    let path =
        std::env::temp_dir().join(format!("kobai-overlapped-{}.ckpt.npz", std::process::id()));
    let trainer = Trainer::new(Length::Iterations(130), 20, 3).expect("valid trainer");
    let net = || TwoLayerNet::new(36, 16, 4, 0.1, 5).expect("valid sizes");
    let adam = || kobai::Adam::new(0.01, 0.9, 0.999).expect("valid");
    let run = |trainer: Trainer, checkpoints: &Checkpoints, observer: &mut dyn Observer| {
        let mut model = net();
        let history = trainer
            .train_with_checkpoints(
                &mut model,
                &mut adam(),
                &train_data,
                Some(&test_data),
                observer,
                checkpoints,
            )
            .expect("trains");
        (model, history)
    };
    // An uninterrupted blocking run …
    let whole = {
        let mut model = net();
        let history = trainer
            .train(
                &mut model,
                &mut adam(),
                &train_data,
                Some(&test_data),
                &mut (),
            )
            .expect("trains");
        (model, history)
    };
    // … against an overlapped one checkpointed every 7 iterations (never at
    // an epoch's end before 140) and stopped after 67, then resumed.
    let every_7 = Checkpoints::new(&path, 7).expect("valid");
    let mut stop = Log {
        stop_at_iteration: Some(67),
        ..Log::default()
    };
    let overlapped = trainer.with_evaluation(Evaluation::Overlapped);
    run(overlapped, &every_7, &mut stop);
    let checkpoint = Checkpoint::load(&path).expect("saved");
    assert_eq!(checkpoint.iteration(), 67);
    let resumed = run(overlapped, &every_7.resume_from(checkpoint), &mut ());
    std::fs::remove_file(&path).ok();
    assert_eq!(resumed, whole, "the same weights and history");
}
