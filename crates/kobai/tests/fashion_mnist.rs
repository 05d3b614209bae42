//! Real learning on real data: the book's 784-50-10 network on Fashion-MNIST.
//!
//! The data comes from Debian's `dataset-fashion-mnist` package (installed by
//! `.ci/run`) or from the folder in `KOBAI_MNIST_DIR`. Without either (or with
//! gzipped files only, and kobai built without its `gzip` feature), the test
//! says so and passes — except under CI (`CI=true`), where the data must be there.

use std::path::PathBuf;

use kobai::data::load_mnist_dir;
use kobai::train::{Length, Trainer};
use kobai::{Sgd, TwoLayerNet};

fn data_dir() -> Option<PathBuf> {
    let candidates = std::env::var_os("KOBAI_MNIST_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from("/usr/share/datasets/fashion-mnist")]);
    // Gzipped files load only with the `gzip` feature.
    candidates.into_iter().find(|dir| {
        (cfg!(feature = "gzip") && dir.join("train-labels-idx1-ubyte.gz").exists())
            || dir.join("train-labels-idx1-ubyte").exists()
    })
}

#[test]
fn two_thousand_iterations_reach_80_percent_test_accuracy() {
    let Some(dir) = data_dir() else {
        assert!(
            !cfg!(feature = "gzip") || std::env::var("CI").as_deref() != Ok("true"),
            "CI must install dataset-fashion-mnist"
        );
        eprintln!(
            "skipped: no Fashion-MNIST (apt-get install dataset-fashion-mnist, or set KOBAI_MNIST_DIR)"
        );
        return;
    };
    let (train, test) = load_mnist_dir(&dir).expect("Fashion-MNIST loads");
    assert_eq!(
        (train.len(), test.len(), train.features()),
        (60_000, 10_000, 784)
    );
    // The book's setup (hidden 50, batch 100, lr 0.1, init std 0.01), 2 000 of its 10 000 iterations.
    let mut net = TwoLayerNet::new(784, 50, 10, 0.01, 0).expect("valid sizes");
    let trainer = Trainer::new(Length::Iterations(2_000), 100, 0).expect("valid trainer");
    let history = trainer
        .train(
            &mut net,
            &mut Sgd::new(0.1).expect("valid lr"),
            &train,
            Some(&test),
            &mut (),
        )
        .expect("training runs");
    let last = history.epochs.last().expect("at least one epoch");
    let test_accuracy = last.test_accuracy.expect("test set given");
    eprintln!("after {} iterations: {last:?}", history.iterations);
    assert!(test_accuracy >= 0.80, "test accuracy {test_accuracy}");
}
