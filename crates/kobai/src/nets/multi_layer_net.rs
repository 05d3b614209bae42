//! The book's `MultiLayerNetExtend` (chapter 6) as a builder of [`Network`]s.

use std::fmt;
use std::str::FromStr;

use ndarray::{Array1, Array2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::network::Network;
use super::two_layer_net::Activation;
use crate::error::{KobaiError, Result};
use crate::layers::{Affine, BatchNorm, Dropout, Layer};

/// How the weights of each Affine layer are drawn: `scale · N(0, 1)`, with
/// `scale` a fixed standard deviation, Xavier's `√(1/n_in)` or He's
/// `√(2/n_in)` (`n_in`: the layer's inputs).
///
/// ```
/// use kobai::nets::Init;
/// assert_eq!("he".parse::<Init>()?, Init::He);
/// assert_eq!("0.01".parse::<Init>()?, Init::Std(0.01));
/// assert_eq!(Init::Xavier.scale(100), 0.1);
/// assert!("foo".parse::<Init>().is_err());
/// assert!("-1".parse::<Init>().is_err());
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// A fixed standard deviation (the book's `weight_init_std=0.01`).
    Std(f64),
    /// `√(1/n_in)`, the book's choice for sigmoid and tanh.
    Xavier,
    /// `√(2/n_in)`, the book's choice for ReLU.
    He,
}

impl Init {
    /// The book's default for an activation: He for ReLU, Xavier otherwise.
    pub fn default_for(activation: Activation) -> Self {
        match activation {
            Activation::Relu => Init::He,
            Activation::Sigmoid | Activation::Tanh => Init::Xavier,
        }
    }

    /// The standard deviation for a layer with `inputs` inputs.
    pub fn scale(self, inputs: usize) -> f64 {
        match self {
            Init::Std(s) => s,
            Init::Xavier => (1.0 / inputs as f64).sqrt(),
            Init::He => (2.0 / inputs as f64).sqrt(),
        }
    }
}

impl fmt::Display for Init {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Init::Std(s) => write!(f, "{s}"),
            Init::Xavier => f.write_str("xavier"),
            Init::He => f.write_str("he"),
        }
    }
}

impl FromStr for Init {
    type Err = KobaiError;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "he" | "relu" => Ok(Init::He),
            "xavier" | "sigmoid" => Ok(Init::Xavier),
            other => match other.parse::<f64>() {
                Ok(v) if v.is_finite() && v > 0.0 => Ok(Init::Std(v)),
                _ => Err(KobaiError::Hyperparameter {
                    name: "weight init",
                    value: format!("{s:?}"),
                    expected: "he, xavier, or a standard deviation above 0",
                }),
            },
        }
    }
}

/// A builder for the book's `MultiLayerNetExtend`:
///
/// ```text
/// (Affine → [BatchNorm] → activation → [Dropout]) × hidden layers → Affine → softmax
/// ```
///
/// Weights are `scale · N(0, 1)` from ChaCha8 seeded with `seed`, layer by
/// layer and row by row (so one hidden layer with [`Init::Std`] draws exactly
/// [`TwoLayerNet::new`](crate::TwoLayerNet::new)'s weights); biases start at
/// 0, BatchNorm at γ = 1, β = 0. The k-th Dropout layer's masks are seeded
/// with `seed + k · 0x9E3779B97F4A7C15` (wrapping).
///
/// ```
/// use kobai::nets::{Init, MultiLayerNet};
/// use kobai::Params;
/// let net = MultiLayerNet::new(784, &[100, 100], 10)
///     .init(Init::He)
///     .batch_norm(true)
///     .dropout(0.15)
///     .weight_decay(0.1)
///     .seed(1)
///     .build()?;
/// assert_eq!(
///     net.architecture().unwrap(),
///     "affine(784,100) batchnorm(100) relu dropout(0.15,seed=11400714819323198486) \
///      affine(100,100) batchnorm(100) relu dropout(0.15,seed=4354685564936845355) \
///      affine(100,10) | weight_decay=0.1"
/// );
/// assert!(MultiLayerNet::new(784, &[100, 0], 10).build().is_err());
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MultiLayerNet {
    input: usize,
    hidden: Vec<usize>,
    output: usize,
    activation: Activation,
    init: Option<Init>,
    weight_decay: f64,
    dropout: Option<f64>,
    batch_norm: bool,
    seed: u64,
}

impl MultiLayerNet {
    /// `input` features, hidden layers of the given sizes, `output` classes;
    /// ReLU, the book's default init, no decay, dropout or batch norm, seed 0.
    pub fn new(input: usize, hidden: &[usize], output: usize) -> Self {
        MultiLayerNet {
            input,
            hidden: hidden.to_vec(),
            output,
            activation: Activation::Relu,
            init: None,
            weight_decay: 0.0,
            dropout: None,
            batch_norm: false,
            seed: 0,
        }
    }

    /// The hidden layers' activation.
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// The weight init (by default He for ReLU, Xavier for sigmoid and tanh).
    pub fn init(mut self, init: Init) -> Self {
        self.init = Some(init);
        self
    }

    /// Weight decay λ (see [`Network::with_weight_decay`]).
    pub fn weight_decay(mut self, lambda: f64) -> Self {
        self.weight_decay = lambda;
        self
    }

    /// A Dropout layer after each activation, dropping the fraction `ratio`.
    pub fn dropout(mut self, ratio: f64) -> Self {
        self.dropout = Some(ratio);
        self
    }

    /// A BatchNorm layer between each hidden Affine and its activation.
    pub fn batch_norm(mut self, on: bool) -> Self {
        self.batch_norm = on;
        self
    }

    /// The seed of the weights and the Dropout masks.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The init in effect: the one given, or the book's default for the activation.
    pub fn effective_init(&self) -> Init {
        self.init
            .unwrap_or_else(|| Init::default_for(self.activation))
    }

    /// The network.
    ///
    /// # Errors
    /// [`KobaiError::Hyperparameter`] for a size of 0, a standard deviation
    /// that is not above 0, a dropout ratio outside `[0, 1)` or a negative
    /// weight decay.
    pub fn build(&self) -> Result<Network> {
        let sizes: Vec<usize> = std::iter::once(self.input)
            .chain(self.hidden.iter().copied())
            .chain(std::iter::once(self.output))
            .collect();
        for (k, &size) in sizes.iter().enumerate() {
            if size == 0 {
                return Err(KobaiError::Hyperparameter {
                    name: if k == 0 {
                        "input size"
                    } else if k == sizes.len() - 1 {
                        "output size"
                    } else {
                        "hidden size"
                    },
                    value: "0".into(),
                    expected: "at least 1",
                });
            }
        }
        let init = self.effective_init();
        if let Init::Std(s) = init {
            crate::check::positive("weight_init_std", s)?;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut layers: Vec<Box<dyn Layer>> = Vec::new();
        let mut dropouts = 0u64;
        for (k, pair) in sizes.windows(2).enumerate() {
            let (inputs, outputs) = (pair[0], pair[1]);
            let scale = init.scale(inputs);
            let w = Array2::from_shape_fn((inputs, outputs), |_| {
                let z: f64 = StandardNormal.sample(&mut rng);
                scale * z
            });
            layers.push(Box::new(Affine::new(w, Array1::zeros(outputs))?));
            if k + 2 == sizes.len() {
                break;
            }
            if self.batch_norm {
                layers.push(Box::new(BatchNorm::new(outputs)?));
            }
            layers.push(self.activation.layer());
            if let Some(ratio) = self.dropout {
                dropouts += 1;
                let seed = self
                    .seed
                    .wrapping_add(dropouts.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                layers.push(Box::new(Dropout::new(ratio, seed)?));
            }
        }
        Network::new(layers)?.with_weight_decay(self.weight_decay)
    }
}
