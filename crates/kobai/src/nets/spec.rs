//! A network's architecture as data: what the CLI builds from its flags, what
//! JSON reports, and what `.npz` files and checkpoints store and compare.

use std::fmt;
use std::str::FromStr;

use ndarray::{Array1, Array2};

use crate::error::{KobaiError, Result};
use crate::layers::{
    Affine, BatchNorm, Convolution, Dropout, Layer, PoolKind, Pooling, Relu, Sigmoid, Tanh,
};

/// One layer of an architecture. Its text form is what
/// [`Network::architecture`](super::Network) joins with spaces:
/// `affine(784,100)`, `batchnorm(100)`, `relu`, `sigmoid`, `tanh`,
/// `dropout(0.5,seed=7)`, `conv(30,1x28x28,5x5,stride=1,pad=0)` (filters,
/// input channels × height × width, filter height × width, stride, padding),
/// `pool(max,2x2,stride=2,pad=0)` (`max` or `avg`, window height × width,
/// stride, padding), and `custom(name)` for a layer kobai does not know.
/// Every argument is required, in this order; the text is written without
/// spaces, since an architecture separates its layers by spaces.
///
/// ```
/// use kobai::layers::PoolKind;
/// use kobai::nets::LayerSpec;
/// let spec: LayerSpec = "dropout(0.25,seed=3)".parse()?;
/// assert_eq!(spec, LayerSpec::Dropout { ratio: 0.25, seed: 3 });
/// assert_eq!(spec.to_string(), "dropout(0.25,seed=3)");
/// assert!("affine(0,3)".parse::<LayerSpec>().is_err());
///
/// let conv: LayerSpec = "conv(30,1x28x28,5x5,stride=1,pad=0)".parse()?;
/// assert_eq!(conv, LayerSpec::Convolution { filters: 30, input: (1, 28, 28), filter: (5, 5), stride: 1, pad: 0 });
/// let pool: LayerSpec = "pool(max,2x2,stride=2,pad=0)".parse()?;
/// assert_eq!(pool, LayerSpec::Pooling { kind: PoolKind::Max, pool: (2, 2), stride: 2, pad: 0 });
/// assert_eq!(pool.to_string(), "pool(max,2x2,stride=2,pad=0)");
/// assert!("conv(30,1x28x28,29x29,stride=1,pad=0)".parse::<LayerSpec>().is_err(), "too large");
/// # Ok::<(), kobai::KobaiError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum LayerSpec {
    /// [`Affine`] from `inputs` to `outputs`.
    Affine {
        /// Input features.
        inputs: usize,
        /// Output features.
        outputs: usize,
    },
    /// [`BatchNorm`] over `features`.
    BatchNorm {
        /// Features normalised.
        features: usize,
    },
    /// [`Relu`].
    Relu,
    /// [`Sigmoid`].
    Sigmoid,
    /// [`Tanh`].
    Tanh,
    /// [`Dropout`] with its ratio and mask seed.
    Dropout {
        /// The fraction dropped in training.
        ratio: f64,
        /// The seed of the masks.
        seed: u64,
    },
    /// [`Convolution`]: `filters` filters of `filter` over images of `input`.
    Convolution {
        /// Filters (output channels), FN.
        filters: usize,
        /// One input image: channels, height, width (C, H, W).
        input: (usize, usize, usize),
        /// The filter's height and width (FH, FW).
        filter: (usize, usize),
        /// The stride.
        stride: usize,
        /// Zeros added on each side of each image.
        pad: usize,
    },
    /// [`Pooling`] of `kind` over windows of `pool`.
    Pooling {
        /// Max or average.
        kind: PoolKind,
        /// The window's height and width.
        pool: (usize, usize),
        /// The stride.
        stride: usize,
        /// Zeros added on each side of each image.
        pad: usize,
    },
    /// A layer kobai does not ship, by its kind.
    Custom(String),
}

impl LayerSpec {
    /// How many values the layer's parameters and buffers hold (`None` if
    /// more than `usize` counts): what building it allocates.
    ///
    /// ```
    /// use kobai::nets::LayerSpec;
    /// assert_eq!(LayerSpec::Affine { inputs: 784, outputs: 50 }.values(), Some(784 * 50 + 50));
    /// assert_eq!(LayerSpec::Relu.values(), Some(0));
    /// assert_eq!(LayerSpec::Affine { inputs: usize::MAX, outputs: 2 }.values(), None);
    /// ```
    pub fn values(&self) -> Option<usize> {
        match self {
            LayerSpec::Affine { inputs, outputs } => {
                inputs.checked_mul(*outputs)?.checked_add(*outputs)
            }
            // gamma, beta, running mean and variance.
            LayerSpec::BatchNorm { features } => features.checked_mul(4),
            LayerSpec::Convolution {
                filters,
                input: (c, _, _),
                filter: (fh, fw),
                ..
            } => filters
                .checked_mul(*c)?
                .checked_mul(*fh)?
                .checked_mul(*fw)?
                .checked_add(*filters),
            _ => Some(0),
        }
    }

    /// A layer of this spec with zero weights (ready for
    /// [`load_npz`](crate::model::load_npz)), or the book's initial values for
    /// BatchNorm.
    ///
    /// # Errors
    /// [`KobaiError::Layer`] for a [`LayerSpec::Custom`] layer, which kobai
    /// cannot build; the constructors' errors for bad sizes.
    pub fn build(&self) -> Result<Box<dyn Layer>> {
        Ok(match self {
            LayerSpec::Affine { inputs, outputs } => {
                check_size("affine inputs", *inputs)?;
                check_size("affine outputs", *outputs)?;
                Box::new(Affine::new(
                    Array2::zeros((*inputs, *outputs)),
                    Array1::zeros(*outputs),
                )?)
            }
            LayerSpec::BatchNorm { features } => Box::new(BatchNorm::new(*features)?),
            LayerSpec::Relu => Box::new(Relu),
            LayerSpec::Sigmoid => Box::new(Sigmoid),
            LayerSpec::Tanh => Box::new(Tanh),
            LayerSpec::Dropout { ratio, seed } => Box::new(Dropout::new(*ratio, *seed)?),
            LayerSpec::Convolution {
                filters,
                input,
                filter,
                stride,
                pad,
            } => Box::new(Convolution::zeros(
                *filters, *input, *filter, *stride, *pad,
            )?),
            LayerSpec::Pooling {
                kind,
                pool,
                stride,
                pad,
            } => Box::new(Pooling::new(*kind, *pool, *stride, *pad)?),
            LayerSpec::Custom(kind) => {
                return Err(KobaiError::Layer {
                    layer: kind.clone(),
                    detail: "is not one of kobai's layers, so it cannot be built from a \
                             description; build the network in Rust and load the weights into it"
                        .into(),
                });
            }
        })
    }
}

fn check_size(name: &'static str, value: usize) -> Result<()> {
    if value == 0 {
        return Err(KobaiError::Hyperparameter {
            name,
            value: "0".into(),
            expected: "at least 1",
        });
    }
    Ok(())
}

impl fmt::Display for LayerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayerSpec::Affine { inputs, outputs } => write!(f, "affine({inputs},{outputs})"),
            LayerSpec::BatchNorm { features } => write!(f, "batchnorm({features})"),
            LayerSpec::Relu => f.write_str("relu"),
            LayerSpec::Sigmoid => f.write_str("sigmoid"),
            LayerSpec::Tanh => f.write_str("tanh"),
            LayerSpec::Dropout { ratio, seed } => write!(f, "dropout({ratio},seed={seed})"),
            LayerSpec::Convolution {
                filters,
                input: (c, h, w),
                filter: (fh, fw),
                stride,
                pad,
            } => write!(
                f,
                "conv({filters},{c}x{h}x{w},{fh}x{fw},stride={stride},pad={pad})"
            ),
            LayerSpec::Pooling {
                kind,
                pool: (ph, pw),
                stride,
                pad,
            } => write!(f, "pool({kind},{ph}x{pw},stride={stride},pad={pad})"),
            LayerSpec::Custom(kind) => write!(f, "custom({kind})"),
        }
    }
}

impl FromStr for LayerSpec {
    type Err = KobaiError;

    fn from_str(text: &str) -> Result<Self> {
        let bad = |detail: &str| KobaiError::Format {
            path: "architecture".into(),
            detail: format!("cannot read layer {text:?}: {detail}"),
        };
        let (kind, args) = match text.split_once('(') {
            Some((kind, rest)) => {
                let args = rest
                    .strip_suffix(')')
                    .ok_or_else(|| bad("no closing ')'"))?;
                (kind, args.split(',').map(str::trim).collect::<Vec<_>>())
            }
            None => (text, Vec::new()),
        };
        let number = |s: &str| -> Result<usize> {
            s.parse::<usize>()
                .map_err(|_| bad(&format!("{s:?} is not a size")))
        };
        let sizes = |s: &str, n: usize| -> Result<Vec<usize>> {
            let parts = s.split('x').map(number).collect::<Result<Vec<_>>>()?;
            if parts.len() == n {
                Ok(parts)
            } else {
                let form = if n == 3 { "CxHxW" } else { "HxW" };
                Err(bad(&format!("{s:?} is not {form}")))
            }
        };
        let keyword = |s: &str, key: &str| -> Result<usize> {
            s.strip_prefix(key)
                .and_then(|s| s.strip_prefix('='))
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad(&format!("{s:?} is not {key}=N")))
        };
        let spec = match (kind.trim(), args.as_slice()) {
            ("affine", [i, o]) => LayerSpec::Affine {
                inputs: number(i)?,
                outputs: number(o)?,
            },
            ("batchnorm", [n]) => LayerSpec::BatchNorm {
                features: number(n)?,
            },
            ("relu", []) => LayerSpec::Relu,
            ("sigmoid", []) => LayerSpec::Sigmoid,
            ("tanh", []) => LayerSpec::Tanh,
            ("dropout", [r, s]) => LayerSpec::Dropout {
                ratio: r
                    .parse()
                    .map_err(|_| bad(&format!("{r:?} is not a ratio")))?,
                seed: s
                    .strip_prefix("seed=")
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| bad(&format!("{s:?} is not seed=N")))?,
            },
            ("conv", [f, input, filter, stride, pad]) => {
                let input = sizes(input, 3)?;
                let filter = sizes(filter, 2)?;
                LayerSpec::Convolution {
                    filters: number(f)?,
                    input: (input[0], input[1], input[2]),
                    filter: (filter[0], filter[1]),
                    stride: keyword(stride, "stride")?,
                    pad: keyword(pad, "pad")?,
                }
            }
            ("pool", [kind, pool, stride, pad]) => {
                let pool = sizes(pool, 2)?;
                LayerSpec::Pooling {
                    kind: kind
                        .parse()
                        .map_err(|_| bad(&format!("{kind:?} is not max or avg")))?,
                    pool: (pool[0], pool[1]),
                    stride: keyword(stride, "stride")?,
                    pad: keyword(pad, "pad")?,
                }
            }
            ("custom", [kind]) if !kind.is_empty() => LayerSpec::Custom(kind.to_string()),
            _ => {
                return Err(bad(
                    "expected affine(I,O), batchnorm(N), relu, sigmoid, tanh, dropout(R,seed=S), \
                     conv(FN,CxHxW,FHxFW,stride=S,pad=P), pool(max|avg,PHxPW,stride=S,pad=P) \
                     or custom(NAME)",
                ));
            }
        };
        // Never more than a network may hold: checked before building, which
        // would allocate it.
        if spec
            .values()
            .is_none_or(|n| n > super::network::MAX_ARCHITECTURE_VALUES)
        {
            return Err(bad(&format!(
                "it holds more than {} weights, kobai's limit for one network",
                super::network::MAX_ARCHITECTURE_VALUES
            )));
        }
        // Reject what build would reject, so a parsed spec is a buildable one.
        if !matches!(spec, LayerSpec::Custom(_)) {
            spec.build()?;
        }
        Ok(spec)
    }
}
