//! The network options `kobai train` and `kobai check` share (`--model`,
//! `--hidden`, `--activation`, `--init`, `--weight-decay`, `--dropout`,
//! `--batchnorm`, and the convolution's `--filters`, `--filter-size`,
//! `--stride`, `--pad`, `--pool`), and the network they build: the book's
//! `TwoLayerNet` for one plain hidden layer, a `MultiLayerNet` for any other
//! dense network, a `SimpleConvNet` for `--model conv`.

use anyhow::{Result, bail, ensure};
use kobai::data::ImageShape;
use kobai::error::short_number;
use kobai::nets::{Activation, Compute, Init, MultiLayerNet, Network, SimpleConvNet};
use kobai::{Params, TwoLayerNet};
use serde_json::{Value, json};

#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Network")]
pub struct NetworkArgs {
    /// dense: fully connected layers (the book's chapters 4 to 6); conv: the
    /// book's SimpleConvNet (chapter 7) — conv, ReLU, max pool, Affine, ReLU,
    /// Affine — on image data.
    #[arg(long, value_enum, value_name = "KIND", default_value_t = ModelName::Dense)]
    pub model: ModelName,
    /// Hidden layer sizes, comma-separated: `50` is the book's two-layer
    /// network, `100,100,100` three hidden layers (the book's MultiLayerNet).
    #[arg(long, value_name = "N[,N...]")]
    pub hidden: Option<String>,
    /// The hidden layers' activation.
    #[arg(long, value_enum, value_name = "NAME")]
    pub activation: Option<ActivationName>,
    /// Weight init: he (√(2/n_in)), xavier (√(1/n_in)) or a standard
    /// deviation. Default: the per-data --weight-init-std for one plain hidden
    /// layer, otherwise the book's choice (he for relu, xavier for sigmoid/tanh).
    #[arg(long, value_name = "he|xavier|STD", conflicts_with = "weight_init_std")]
    pub init: Option<String>,
    /// Weights drawn as STD · N(0, 1) (the same as --init STD).
    #[arg(long, value_name = "STD", allow_negative_numbers = true)]
    pub weight_init_std: Option<f64>,
    /// Weight decay λ: the loss gains ½λΣW² over the weight matrices.
    #[arg(long, value_name = "λ", allow_negative_numbers = true)]
    pub weight_decay: Option<f64>,
    /// A Dropout layer after each activation, dropping this fraction in training.
    #[arg(long, value_name = "RATIO", allow_negative_numbers = true)]
    pub dropout: Option<f64>,
    /// A BatchNorm layer between each hidden Affine layer and its activation.
    #[arg(long)]
    pub batchnorm: bool,
    #[command(flatten)]
    pub conv: ConvArgs,
}

/// `--model`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelName {
    /// Fully connected: TwoLayerNet or MultiLayerNet.
    Dense,
    /// The book's SimpleConvNet.
    Conv,
}

/// The convolution's options (`--model conv`).
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Convolution (--model conv)")]
pub struct ConvArgs {
    /// Filters (output channels) of the convolution [default: 30].
    #[arg(long, value_name = "N")]
    pub filters: Option<usize>,
    /// Each filter is N × N pixels [default: 5].
    #[arg(long, value_name = "N")]
    pub filter_size: Option<usize>,
    /// The convolution's stride [default: 1].
    #[arg(long, value_name = "N")]
    pub stride: Option<usize>,
    /// Zeros added around each image before the convolution [default: 0].
    #[arg(long, value_name = "N")]
    pub pad: Option<usize>,
    /// Max pooling over N × N windows with stride N [default: 2].
    #[arg(long, value_name = "N")]
    pub pool: Option<usize>,
}

/// The book's SimpleConvNet settings, checked for 0 (the image size is
/// checked when the network is built).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvSpec {
    pub filters: usize,
    pub filter_size: usize,
    pub stride: usize,
    pub pad: usize,
    pub pool: usize,
}

/// The most filters and the largest filter side, pool, stride and padding
/// `--model conv` takes: far above anything the book trains, far below what
/// would exhaust memory before the network is built.
const MAX_CONV_SETTING: usize = 4096;

impl ConvArgs {
    /// The options given, by their flag.
    fn given(&self) -> Vec<&'static str> {
        [
            ("--filters", self.filters),
            ("--filter-size", self.filter_size),
            ("--stride", self.stride),
            ("--pad", self.pad),
            ("--pool", self.pool),
        ]
        .into_iter()
        .filter_map(|(flag, v)| v.map(|_| flag))
        .collect()
    }

    /// The settings with the book's defaults, each refused with one line.
    fn spec(&self) -> Result<ConvSpec> {
        let spec = ConvSpec {
            filters: self.filters.unwrap_or(30),
            filter_size: self.filter_size.unwrap_or(5),
            stride: self.stride.unwrap_or(1),
            pad: self.pad.unwrap_or(0),
            pool: self.pool.unwrap_or(2),
        };
        for (flag, value, least) in [
            ("--filters", spec.filters, 1),
            ("--filter-size", spec.filter_size, 1),
            ("--stride", spec.stride, 1),
            ("--pad", spec.pad, 0),
            ("--pool", spec.pool, 1),
        ] {
            ensure!(
                value >= least,
                "{flag} must be at least {least}, got {value}"
            );
            ensure!(
                value <= MAX_CONV_SETTING,
                "{flag} {value} is more than kobai's limit of {MAX_CONV_SETTING}"
            );
        }
        Ok(spec)
    }
}

/// The most parameters a network may have: 2^28 (2 GiB of f64 per copy;
/// training keeps several copies — gradients, optimizer state).
const MAX_PARAMETERS: usize = 1 << 28;

/// `--hidden 100,100,100` as sizes, every one checked.
fn parse_hidden(text: &str) -> Result<Vec<usize>> {
    let shown = shortened(text);
    let sizes = text
        .split(',')
        .map(|part| {
            let part = part.trim();
            match part.parse::<usize>() {
                Ok(0) => bail!("--hidden must be at least 1, got 0 (in {shown})"),
                Ok(n) => Ok(n),
                Err(_) if part.is_empty() => {
                    bail!("--hidden {shown} holds an empty size; expected sizes like 100,100,100")
                }
                Err(_) => bail!("--hidden {shown}: {} is not a layer size", shortened(part)),
            }
        })
        .collect::<Result<Vec<usize>>>()?;
    ensure!(
        sizes.len() <= MAX_HIDDEN_LAYERS,
        "--hidden lists {} layers, over the limit of {MAX_HIDDEN_LAYERS}: deeper plain networks \
         do not train (the book's deepest has 6)",
        sizes.len()
    );
    Ok(sizes)
}

/// The most hidden layers `--hidden` may list.
const MAX_HIDDEN_LAYERS: usize = 64;

/// `text` quoted for a message: whole if short, else the start and the end
/// of its quoted form around an ellipsis, so that a 100 kB argument is not
/// echoed back.
fn shortened(text: &str) -> String {
    const KEEP: usize = 24;
    let quoted: Vec<char> = format!("{text:?}").chars().collect();
    if quoted.len() <= 2 * KEEP + 3 {
        return quoted.into_iter().collect();
    }
    let head: String = quoted[..KEEP].iter().collect();
    let tail: String = quoted[quoted.len() - KEEP..].iter().collect();
    format!("{head}…{tail} ({} characters)", text.chars().count())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ActivationName {
    Relu,
    Sigmoid,
    Tanh,
}

impl ActivationName {
    fn activation(self) -> Activation {
        match self {
            ActivationName::Relu => Activation::Relu,
            ActivationName::Sigmoid => Activation::Sigmoid,
            ActivationName::Tanh => Activation::Tanh,
        }
    }
}

/// What the command would use without the options.
#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    pub hidden: usize,
    pub weight_init_std: f64,
}

/// The network a command runs, with the options it came from.
#[derive(Debug, Clone)]
pub enum Net {
    /// One plain hidden layer: the book's TwoLayerNet (and its fused engine).
    Two(TwoLayerNet),
    /// Any other dense network: a MultiLayerNet.
    Deep(Network),
    /// `--model conv`: the book's SimpleConvNet.
    Conv(Network),
}

/// The options, checked, with defaults filled in.
#[derive(Debug, Clone)]
pub struct Spec {
    pub hidden: Vec<usize>,
    pub activation: Activation,
    pub init: Init,
    pub weight_decay: f64,
    pub dropout: Option<f64>,
    pub batchnorm: bool,
    /// `Some` for `--model conv`.
    pub conv: Option<ConvSpec>,
}

impl NetworkArgs {
    /// The options with defaults, every bad value refused with one line.
    pub fn spec(&self, defaults: Defaults) -> Result<Spec> {
        if self.model == ModelName::Conv {
            return self.conv_spec();
        }
        if let Some(flag) = self.conv.given().first() {
            bail!("{flag} is an option of the convolutional network; add --model conv");
        }
        let hidden = match &self.hidden {
            Some(text) => parse_hidden(text)?,
            None => vec![defaults.hidden],
        };
        let activation = self
            .activation
            .map_or(Activation::Relu, ActivationName::activation);
        if let Some(std) = self.weight_init_std {
            ensure!(
                std.is_finite() && std > 0.0,
                "--weight-init-std must be a finite number above 0, got {}",
                short_number(std)
            );
        }
        let plain = hidden.len() == 1
            && self.weight_decay.unwrap_or(0.0) == 0.0
            && self.dropout.is_none()
            && !self.batchnorm;
        let init = match (&self.init, self.weight_init_std) {
            (Some(text), _) => match text.parse::<Init>() {
                Ok(init) => init,
                Err(_) => {
                    bail!("--init {text:?} is not he, xavier or a standard deviation above 0")
                }
            },
            (None, Some(std)) => Init::Std(std),
            (None, None) if plain => Init::Std(defaults.weight_init_std),
            (None, None) => Init::default_for(activation),
        };
        let weight_decay = self.weight_decay.unwrap_or(0.0);
        ensure!(
            weight_decay.is_finite() && weight_decay >= 0.0,
            "--weight-decay must be a finite number at least 0, got {}",
            short_number(weight_decay)
        );
        if let Some(r) = self.dropout {
            ensure!(
                (0.0..1.0).contains(&r),
                "--dropout must be a ratio in [0, 1), got {}",
                short_number(r)
            );
        }
        Ok(Spec {
            hidden,
            activation,
            init,
            weight_decay,
            dropout: self.dropout,
            batchnorm: self.batchnorm,
            conv: None,
        })
    }

    /// `--model conv`: the book's SimpleConvNet, with what of the dense
    /// options applies to it (one hidden size, a weight std, weight decay).
    fn conv_spec(&self) -> Result<Spec> {
        let conv = self.conv.spec()?;
        let hidden = match &self.hidden {
            Some(text) => parse_hidden(text)?,
            None => vec![100],
        };
        ensure!(
            hidden.len() == 1,
            "--model conv has one hidden Affine layer after the pooling; \
             --hidden takes one size, got {}",
            self.hidden.as_deref().unwrap_or_default()
        );
        ensure!(
            matches!(self.activation, None | Some(ActivationName::Relu)),
            "--model conv uses ReLU (the book's SimpleConvNet); --activation does not apply"
        );
        ensure!(
            !self.batchnorm && self.dropout.is_none(),
            "--batchnorm and --dropout are options of the dense networks, not of --model conv"
        );
        let std = match (&self.init, self.weight_init_std) {
            (Some(text), _) => match text.parse::<Init>() {
                Ok(Init::Std(std)) => std,
                _ => bail!(
                    "--model conv draws its weights as STD · N(0, 1) (the book's 0.01); \
                     --init takes a standard deviation above 0, got {text:?}"
                ),
            },
            (None, Some(std)) => std,
            (None, None) => 0.01,
        };
        ensure!(
            std.is_finite() && std > 0.0,
            "--weight-init-std must be a finite number above 0, got {}",
            short_number(std)
        );
        let weight_decay = self.weight_decay.unwrap_or(0.0);
        ensure!(
            weight_decay.is_finite() && weight_decay >= 0.0,
            "--weight-decay must be a finite number at least 0, got {}",
            short_number(weight_decay)
        );
        Ok(Spec {
            hidden,
            activation: Activation::Relu,
            init: Init::Std(std),
            weight_decay,
            dropout: None,
            batchnorm: false,
            conv: Some(conv),
        })
    }
}

impl Spec {
    /// One plain hidden layer with a fixed standard deviation: the book's
    /// TwoLayerNet, today's network.
    fn is_two_layer(&self) -> bool {
        self.hidden.len() == 1
            && self.weight_decay == 0.0
            && self.dropout.is_none()
            && !self.batchnorm
            && matches!(self.init, Init::Std(_))
    }

    /// The network for `input` features (images of `image`, if they are
    /// images) and `output` classes.
    pub fn build(
        &self,
        input: usize,
        image: Option<ImageShape>,
        output: usize,
        seed: u64,
        compute: Compute,
    ) -> Result<Net> {
        if let Some(conv) = self.conv {
            return self.build_conv(conv, input, image, output, seed, compute);
        }
        let sizes: Vec<usize> = std::iter::once(input)
            .chain(self.hidden.iter().copied())
            .chain(std::iter::once(output))
            .collect();
        let parameters = sizes.windows(2).try_fold(0usize, |sum, w| {
            w[0].checked_mul(w[1])
                .and_then(|n| n.checked_add(w[1]))
                .and_then(|n| sum.checked_add(n))
        });
        match parameters {
            Some(n) if n <= MAX_PARAMETERS => {}
            _ => bail!(
                "a {} network has {} parameters; kobai trains networks of at most {MAX_PARAMETERS}",
                sizes
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("-"),
                parameters.map_or_else(|| "more than 2^64".to_string(), |n| n.to_string())
            ),
        }
        if let (true, Init::Std(std)) = (self.is_two_layer(), self.init) {
            return Ok(Net::Two(
                TwoLayerNet::new(input, self.hidden[0], output, std, seed)?
                    .with_activation(self.activation)
                    .with_compute(compute),
            ));
        }
        let mut builder = MultiLayerNet::new(input, &self.hidden, output)
            .activation(self.activation)
            .init(self.init)
            .weight_decay(self.weight_decay)
            .batch_norm(self.batchnorm)
            .seed(seed);
        if let Some(r) = self.dropout {
            builder = builder.dropout(r);
        }
        Ok(Net::Deep(builder.build()?.with_compute(compute)))
    }

    /// The book's SimpleConvNet for images of `image`, backprop by `compute`.
    fn build_conv(
        &self,
        conv: ConvSpec,
        input: usize,
        image: Option<ImageShape>,
        output: usize,
        seed: u64,
        compute: Compute,
    ) -> Result<Net> {
        let Some(image) = image else {
            bail!(
                "--model conv needs images, and this data has {input} plain features \
                 (the built-in spiral has 2): give --data a folder of MNIST-format image files"
            );
        };
        let Init::Std(std) = self.init else {
            bail!("--model conv draws its weights as STD · N(0, 1)");
        };
        let builder = SimpleConvNet::new(image, output)
            .filters(conv.filters)
            .filter_size(conv.filter_size)
            .stride(conv.stride)
            .pad(conv.pad)
            .pool(conv.pool)
            .hidden(self.hidden[0])
            .weight_init_std(std)
            .seed(seed);
        let (_, (f, h, w)) = builder.shapes()?;
        let parameters = [
            conv.filters
                .checked_mul(image.0)
                .and_then(|n| n.checked_mul(conv.filter_size))
                .and_then(|n| n.checked_mul(conv.filter_size)),
            f.checked_mul(h)
                .and_then(|n| n.checked_mul(w))
                .and_then(|n| n.checked_mul(self.hidden[0])),
            self.hidden[0].checked_mul(output),
        ]
        .into_iter()
        .try_fold(0usize, |sum, n| n.and_then(|n| sum.checked_add(n)));
        match parameters {
            Some(n) if n <= MAX_PARAMETERS => {}
            _ => bail!(
                "this convolutional network has {} weights; kobai trains networks of at most \
                 {MAX_PARAMETERS}",
                parameters.map_or_else(|| "more than 2^64".to_string(), |n| n.to_string())
            ),
        }
        let net = builder
            .build()?
            .with_weight_decay(self.weight_decay)?
            .with_compute(compute);
        Ok(Net::Conv(net))
    }
}

impl Net {
    /// `TwoLayerNet` or `MultiLayerNet`.
    pub fn kind(&self) -> &'static str {
        match self {
            Net::Two(_) => "TwoLayerNet",
            Net::Deep(_) => "MultiLayerNet",
            Net::Conv(_) => "SimpleConvNet",
        }
    }

    /// The input features and output classes.
    pub fn sizes(&self) -> (usize, usize) {
        match self {
            Net::Two(n) => (n.w1.nrows(), n.w2.ncols()),
            Net::Deep(n) | Net::Conv(n) => {
                let params = n.params();
                let input = params.first().map_or(0, |(_, p)| p.shape()[0]);
                let output = params.last().map_or(0, |(_, p)| p.len());
                (input, output)
            }
        }
    }

    /// The layer sizes, `784-100-100-10`; for a convolutional network
    /// `1x28x28-conv30x5x5-pool2-100-10` (with `s2`/`p1` after the filter
    /// for a stride or padding other than the book's).
    pub fn shape(&self, spec: &Spec) -> String {
        let (input, output) = self.sizes();
        if let (Net::Conv(n), Some(c)) = (self, spec.conv) {
            let image = n
                .layers()
                .next()
                .and_then(|(_, l)| match l.spec() {
                    kobai::nets::LayerSpec::Convolution {
                        input: (c, h, w), ..
                    } => Some(format!("{c}x{h}x{w}")),
                    _ => None,
                })
                .unwrap_or_else(|| input.to_string());
            let stride = if c.stride == 1 {
                String::new()
            } else {
                format!("s{}", c.stride)
            };
            let pad = if c.pad == 0 {
                String::new()
            } else {
                format!("p{}", c.pad)
            };
            return format!(
                "{image}-conv{}x{k}x{k}{stride}{pad}-pool{}-{}-{output}",
                c.filters,
                c.pool,
                spec.hidden[0],
                k = c.filter_size
            );
        }
        let mut sizes = vec![input.to_string()];
        sizes.extend(spec.hidden.iter().map(ToString::to_string));
        sizes.push(output.to_string());
        sizes.join("-")
    }

    /// The backprop engine that really runs.
    pub fn engine(&self) -> Compute {
        match self {
            Net::Two(n) => n.compute,
            Net::Deep(n) | Net::Conv(n) => n.engine(),
        }
    }

    /// The architecture text.
    pub fn architecture(&self) -> String {
        match self {
            Net::Two(n) => n.architecture(),
            Net::Deep(n) | Net::Conv(n) => n.architecture(),
        }
        .unwrap_or_default()
    }

    /// One line for a header: `TwoLayerNet 784-50-10 (relu), weights 0.01 · N(0, 1)`.
    pub fn describe(&self, spec: &Spec) -> String {
        let init = match spec.init {
            Init::Std(s) => format!("weights {s} · N(0, 1)"),
            Init::He => "He init √(2/n_in)".to_string(),
            Init::Xavier => "Xavier init √(1/n_in)".to_string(),
        };
        let mut extras = Vec::new();
        if spec.batchnorm {
            extras.push("batch norm".to_string());
        }
        if let Some(r) = spec.dropout {
            extras.push(format!("dropout {r}"));
        }
        if spec.weight_decay != 0.0 {
            extras.push(format!("weight decay {}", spec.weight_decay));
        }
        let extras = if extras.is_empty() {
            String::new()
        } else {
            format!(", {}", extras.join(", "))
        };
        format!(
            "{} {} ({}), {init}{extras}",
            self.kind(),
            self.shape(spec),
            spec.activation.name()
        )
    }

    /// The whole network for `--json`.
    pub fn as_json(&self, spec: &Spec, compute_asked: Compute) -> Value {
        let layers: Vec<Value> = match self {
            Net::Two(_) => Vec::new(),
            Net::Deep(n) | Net::Conv(n) => n
                .layers()
                .map(|(name, layer)| json!({ "name": name, "spec": layer.spec().to_string() }))
                .collect(),
        };
        let (input, output) = self.sizes();
        json!({
            "kind": self.kind(),
            "input": input,
            "output": output,
            "shape": self.shape(spec),
            "hidden": spec.hidden,
            "activation": spec.activation.name(),
            "init": spec.init.to_string(),
            "weight_init_std": match spec.init { Init::Std(s) => Some(s), _ => None },
            "weight_decay": spec.weight_decay,
            "dropout": spec.dropout,
            "batchnorm": spec.batchnorm,
            "architecture": self.architecture(),
            "layers": layers,
            "parameters": match self { Net::Two(n) => n.param_count(), Net::Deep(n) | Net::Conv(n) => n.param_count() },
            "conv": spec.conv.map(|c| json!({
                "filters": c.filters,
                "filter_size": c.filter_size,
                "stride": c.stride,
                "pad": c.pad,
                "pool": c.pool,
            })),
            "compute": compute_name(compute_asked),
            "engine": compute_name(self.engine()),
        })
    }
}

/// The CLI's name of a compute mode.
pub fn compute_name(c: Compute) -> &'static str {
    match c {
        Compute::FusedF32 => "fused-f32",
        Compute::FusedF64 => "fused-f64",
        Compute::Layers => "layers",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> String {
        parse_hidden(text).map_or_else(|e| e.to_string(), |v| format!("{v:?}"))
    }

    #[test]
    fn hidden_sizes_are_parsed_or_refused_with_a_reason() {
        assert_eq!(message("100, 100,50"), "[100, 100, 50]");
        assert_eq!(message("7"), "[7]");
        assert!(message("100,,0").contains("holds an empty size"));
        assert!(message("0").contains("--hidden must be at least 1, got 0"));
        assert!(message("1e3").contains("is not a layer size"));
        assert!(message("18446744073709551616").contains("is not a layer size"));
    }

    #[test]
    fn long_lists_are_refused_and_quoted_short() {
        let deep = vec!["10"; 65].join(",");
        assert!(message(&deep).contains("lists 65 layers, over the limit of 64"));
        assert_eq!(message(&vec!["10"; 64].join(",")).matches("10").count(), 64);
        let junk = format!("100,{}", "x".repeat(100_000));
        let err = message(&junk);
        assert!(err.len() < 200, "{err}");
        assert!(err.contains("(100004 characters)"), "{err}");
    }

    proptest::proptest! {
        /// Any text gives sizes or one short line, never a panic.
        #[test]
        fn any_text_is_parsed_or_refused_in_one_short_line(text in "\\PC{0,300}") {
            if let Err(e) = parse_hidden(&text) {
                let e = e.to_string();
                proptest::prop_assert!(!e.contains('\n') && e.chars().count() < 240, "{}", e);
            }
        }

        /// Sizes written as a list read back as the same sizes.
        #[test]
        fn lists_of_sizes_read_back(sizes in proptest::collection::vec(1usize..100_000, 1..=64)) {
            let text = sizes.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
            proptest::prop_assert_eq!(parse_hidden(&text).ok(), Some(sizes));
        }
    }

    #[test]
    fn absurd_networks_are_refused_before_any_allocation() {
        let spec = |hidden: &str| {
            NetworkArgs {
                hidden: Some(hidden.into()),
                activation: None,
                init: None,
                weight_init_std: None,
                weight_decay: None,
                dropout: None,
                batchnorm: false,
                model: ModelName::Dense,
                conv: ConvArgs::default(),
            }
            .spec(Defaults {
                hidden: 1,
                weight_init_std: 0.1,
            })
        };
        for hidden in ["18446744073709551615", "100000000", "100000,100000"] {
            let err = spec(hidden)
                .and_then(|s| s.build(784, None, 10, 0, Compute::Layers))
                .map(|_| ())
                .expect_err("refused");
            assert!(
                err.to_string().contains("kobai trains networks of at most"),
                "{err}"
            );
        }
    }
}
