//! The learning loop end to end: it learns, it is reproducible, it can be
//! stopped, and a bad step changes nothing.

use std::ops::ControlFlow;

use kobai::data::spiral;
use kobai::train::{EpochReport, Length, Trainer};
use kobai::{Backprop, Grads, KobaiError, Model, Observer, Sgd, Targets, TwoLayerNet, step};
use ndarray::{Array2, array};

fn train_spiral(seed: u64) -> (TwoLayerNet, kobai::History) {
    let (train, test) = spiral(100, 0.2, 0).expect("valid spiral");
    let mut net = TwoLayerNet::new(2, 50, 3, 0.5, seed).expect("valid sizes");
    let trainer = Trainer::new(Length::Epochs(60), 20, seed).expect("valid trainer");
    let history = trainer
        .train(
            &mut net,
            &mut Sgd::new(1.0).expect("valid lr"),
            &train,
            Some(&test),
            &mut (),
        )
        .expect("training runs");
    (net, history)
}

#[test]
fn a_two_layer_net_learns_the_spiral() {
    let (_, history) = train_spiral(0);
    let first = &history.epochs[0];
    let last = history.epochs.last().expect("60 epochs");
    assert_eq!(history.epochs.len(), 60);
    assert!(
        last.mean_loss < first.mean_loss / 3.0,
        "{first:?} → {last:?}"
    );
    // A linear classifier gets about 1/3 on three interleaved spirals.
    let test_accuracy = last.test_accuracy.expect("a test set was given");
    assert!(test_accuracy >= 0.9, "test accuracy {test_accuracy}");
}

#[test]
fn the_same_seed_gives_the_same_weights_bit_for_bit() {
    let (a, history_a) = train_spiral(3);
    let (b, history_b) = train_spiral(3);
    assert_eq!(a, b);
    assert_eq!(history_a, history_b);
    let (c, _) = train_spiral(4);
    assert_ne!(a, c);
}

#[test]
fn an_observer_can_stop_training() {
    struct StopAfterFirstEpoch(usize);
    impl Observer for StopAfterFirstEpoch {
        fn on_epoch(&mut self, report: &EpochReport) -> ControlFlow<()> {
            self.0 = report.iteration;
            ControlFlow::Break(())
        }
    }
    let (train, _) = spiral(50, 0.2, 0).expect("valid spiral");
    let mut net = TwoLayerNet::new(2, 10, 3, 0.1, 0).expect("valid sizes");
    let mut observer = StopAfterFirstEpoch(0);
    let trainer = Trainer::new(Length::Iterations(1000), 10, 0).expect("valid trainer");
    let history = trainer
        .train(
            &mut net,
            &mut Sgd::new(0.1).expect("valid lr"),
            &train,
            None,
            &mut observer,
        )
        .expect("runs");
    assert!(history.stopped_early);
    assert_eq!(history.iterations, train.len() / 10);
    assert_eq!(observer.0, history.iterations);
}

#[test]
fn a_step_with_wrong_gradients_changes_nothing() {
    let mut net = TwoLayerNet::new(4, 3, 2, 0.1, 0).expect("valid sizes");
    let before = net.clone();
    let (_, mut grads) = net
        .gradient(&array![[0.1, 0.2, 0.3, 0.4]], &Targets::from(&[1usize]))
        .expect("valid");
    // A transposed W2 gradient: the step must refuse before touching W1.
    let w2 = grads.get_mut("W2").expect("W2");
    *w2 = w2.t().to_owned();
    let err = step(&mut Sgd::new(0.1).expect("valid lr"), &mut net, &grads).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the gradient of W2 has shape [2, 3] but W2 has shape [3, 2]"
    );
    assert_eq!(net, before);

    let mut missing = Grads::default();
    missing.push("W1", Array2::<f64>::zeros((4, 3)).into_dyn());
    assert!(matches!(
        step(&mut Sgd::new(0.1).expect("valid"), &mut net, &missing),
        Err(KobaiError::Shape { .. })
    ));
    assert_eq!(net, before);
}

#[test]
fn training_data_must_fit_the_model() {
    let (train, _) = spiral(20, 0.2, 0).expect("valid spiral");
    let mut net = TwoLayerNet::new(3, 5, 3, 0.1, 0).expect("valid sizes");
    let trainer = Trainer::new(Length::Iterations(5), 4, 0).expect("valid trainer");
    let err = trainer
        .train(
            &mut net,
            &mut Sgd::new(0.1).expect("valid"),
            &train,
            None,
            &mut (),
        )
        .unwrap_err();
    assert!(matches!(err, KobaiError::Shape { .. }), "{err}");
    assert!(
        net.accuracy(&train.images(), &Targets::from(train.labels()))
            .is_err()
    );
}
