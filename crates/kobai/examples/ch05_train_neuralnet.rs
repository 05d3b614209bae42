//! Recreates the book's `ch05/train_neuralnet.py`: a TwoLayerNet trained by
//! backprop and mini-batch SGD, with the accuracy printed every epoch.
//!
//! ```python
//! network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
//! iters_num = 10000; batch_size = 100; learning_rate = 0.1
//! iter_per_epoch = max(train_size / batch_size, 1)
//! for i in range(iters_num):
//!     batch_mask = np.random.choice(train_size, batch_size)
//!     grad = network.gradient(x_batch, t_batch)
//!     for key in ('W1', 'b1', 'W2', 'b2'):
//!         network.params[key] -= learning_rate * grad[key]
//!     if i % iter_per_epoch == 0:
//!         print(train_acc, test_acc)
//! ```
//!
//! Run: `cargo run --release -p kobai --example ch05_train_neuralnet -- [MNIST_DIR]`.
//! With a folder holding the four MNIST (or Fashion-MNIST) files it trains the
//! book's 784-50-10 network for 10 000 iterations; without one it trains on the
//! built-in spiral instead (2-50-3, 2 000 iterations), which needs no download.

use std::ops::ControlFlow;
use std::path::PathBuf;

use kobai::data::{load_mnist_dir, spiral};
use kobai::train::{EpochReport, Length, Trainer};
use kobai::{Observer, Sgd, TwoLayerNet};

/// Prints a line every `n`-th epoch, like the book (which prints every epoch).
struct PrintEpochs(usize);

impl Observer for PrintEpochs {
    fn on_epoch(&mut self, r: &EpochReport) -> ControlFlow<()> {
        if !r.epoch.is_multiple_of(self.0) {
            return ControlFlow::Continue(());
        }
        let test = r.test_accuracy.unwrap_or(f64::NAN);
        println!(
            "epoch {:>3}  loss {:.4}  train acc, test acc | {:.4}, {:.4}",
            r.epoch, r.mean_loss, r.train_accuracy, test
        );
        ControlFlow::Continue(())
    }
}

fn main() -> kobai::Result<()> {
    let dir = std::env::args().nth(1).map(PathBuf::from);
    let ((train, test), iterations, lr, every) = match &dir {
        Some(dir) => (load_mnist_dir(dir)?, 10_000, 0.1, 1),
        None => (spiral(300, 0.2, 0)?, 2_000, 1.0, 25),
    };
    let hidden = 50;
    println!(
        "training {}-{hidden}-{} on {} samples",
        train.features(),
        train.classes(),
        train.len()
    );
    let mut net = TwoLayerNet::new(
        train.features(),
        hidden,
        train.classes(),
        if dir.is_some() { 0.01 } else { 0.5 },
        0,
    )?;
    let trainer = Trainer::new(Length::Iterations(iterations), 100, 0)?;
    let history = trainer.train(
        &mut net,
        &mut Sgd::new(lr)?,
        &train,
        Some(&test),
        &mut PrintEpochs(every),
    )?;
    println!(
        "{} iterations, final loss {:.4}",
        history.iterations,
        history.losses.last().copied().unwrap_or(f64::NAN)
    );
    Ok(())
}
