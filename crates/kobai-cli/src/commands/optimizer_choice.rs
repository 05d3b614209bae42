//! The optimizers a command-line user can pick by name.

use anyhow::Result;
use kobai::{AdaGrad, Adam, Momentum, Nesterov, Optimizer, RmsProp, Sgd};

/// An optimizer of the book's chapter 6, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OptimizerName {
    /// Plain gradient descent, `x ← x − lr·∇f`.
    Sgd,
    /// Momentum 0.9.
    Momentum,
    /// Nesterov's accelerated gradient, momentum 0.9 (the book's form).
    Nesterov,
    /// AdaGrad.
    Adagrad,
    /// RMSprop, decay 0.99.
    Rmsprop,
    /// Adam, β1 0.9, β2 0.999.
    Adam,
}

impl OptimizerName {
    /// The optimizer with learning rate `lr` and the book's other defaults.
    pub fn build(self, lr: f64) -> Result<Box<dyn Optimizer + Send>> {
        Ok(match self {
            OptimizerName::Sgd => Box::new(Sgd::new(lr)?),
            OptimizerName::Momentum => Box::new(Momentum::new(lr, 0.9)?),
            OptimizerName::Nesterov => Box::new(Nesterov::new(lr, 0.9)?),
            OptimizerName::Adagrad => Box::new(AdaGrad::new(lr)?),
            OptimizerName::Rmsprop => Box::new(RmsProp::new(lr, 0.99)?),
            OptimizerName::Adam => Box::new(Adam::new(lr, 0.9, 0.999)?),
        })
    }

    /// The book's name, e.g. `"AdaGrad"`.
    pub fn label(self) -> &'static str {
        match self {
            OptimizerName::Sgd => "SGD",
            OptimizerName::Momentum => "Momentum",
            OptimizerName::Nesterov => "Nesterov",
            OptimizerName::Adagrad => "AdaGrad",
            OptimizerName::Rmsprop => "RMSprop",
            OptimizerName::Adam => "Adam",
        }
    }

    /// The learning rate of the book's class (`common/optimizer.py`) when none is given.
    pub fn book_lr(self) -> f64 {
        match self {
            OptimizerName::Adam => 0.001,
            _ => 0.01,
        }
    }

    /// The name as the CLI spells it.
    pub fn cli_name(self) -> &'static str {
        match self {
            OptimizerName::Sgd => "sgd",
            OptimizerName::Momentum => "momentum",
            OptimizerName::Nesterov => "nesterov",
            OptimizerName::Adagrad => "adagrad",
            OptimizerName::Rmsprop => "rmsprop",
            OptimizerName::Adam => "adam",
        }
    }
}
