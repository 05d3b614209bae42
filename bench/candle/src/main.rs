//! candle's side of the kobai / NumPy benchmarks: the book's two-layer net
//! (784-50-10, Affine → ReLU → Affine → softmax cross-entropy, SGD lr 0.1)
//! trained with candle on the CPU, f32, the way a candle user writes it:
//! `Var` parameters, candle-nn's `cross_entropy`, `loss.backward()` and
//! candle-nn's `SGD` (which does `var.set(&(var - grad * lr)?)` per Var).
//! `deep` trains the deeper 784-100-100-100-10 (He init) with candle-nn's
//! `AdamW` (weight decay 0) instead. `conv` trains the book's SimpleConvNet
//! (chapter 7: conv 30×5×5 → ReLU → max pool 2×2 → Affine 100 → ReLU →
//! Affine 10) with candle-nn's `Conv2d`, `max_pool2d` and the same `AdamW`.
//!
//! Every measurement is one JSON line on stdout:
//! `{"item": ..., "impl": "candle <version>", "median_s": ..., "runs": ..., "extra": {...}}`
//!
//! Subcommands:
//!   step  [--reps N] [--warmup N] [--data DIR]   train_step on a fixed batch of 100
//!   epoch [--iters N] [--repeat N] [--data DIR]  train_epoch: 600 iterations, batch 100
//!                                                sampled with replacement
//!   run   [--iters N] [--seed S] [--data DIR]    train_run: the whole run a user waits for,
//!                                                loading, 6000 iterations, and after every
//!                                                epoch the accuracy on the whole training
//!                                                and test sets; wall time of the process
//!   deep  [--iters N] [--seed S] [--data DIR]    deep_run: the same whole run for the
//!                                                deeper net 784-100-100-100-10 (ReLU, He
//!                                                init, candle-nn's AdamW with weight
//!                                                decay 0, lr 0.001)
//!   conv  [--iters N] [--seed S] [--data DIR]    conv_run: the book's SimpleConvNet,
//!         [--eval-size N]                        200 iterations (default) of AdamW
//!                                                (weight decay 0, lr 0.001), then the
//!                                                accuracy on the whole training and test
//!                                                sets once (--eval-size: the first N
//!                                                images of each only, a smoke test)
//!
//! Threads (candle-core 0.11.1, `utils.rs`): candle's CPU matmul calls gemm with
//! `candle_core::utils::get_num_threads()` threads, which is `RAYON_NUM_THREADS` if
//! set (> 0), else the number of physical cores; gemm runs them on rayon's global
//! pool (also sized by `RAYON_NUM_THREADS`). Element-wise ops on ≥ 64 Ki elements
//! use candle's own spinning "barrier pool" of `CANDLE_NUM_THREADS`, else
//! `RAYON_NUM_THREADS`, else physical cores, minus one worker threads (the caller
//! is the last). So `RAYON_NUM_THREADS=1` gives one thread in all (`os_threads`
//! in the output counts the process's threads at the end to show it).

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use candle_core::{D, DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, SGD};

/// The candle-core version this program is built against (kept in step with Cargo.toml).
const CANDLE_VERSION: &str = "0.11.1";
const DEFAULT_DATA: &str = "/usr/share/datasets/fashion-mnist";
const SEED: u64 = 0;
const BATCH: usize = 100;
const LR: f64 = 0.1;
const INPUT: usize = 784;
const HIDDEN: usize = 50;
const OUTPUT: usize = 10;
const WEIGHT_INIT_STD: f32 = 0.01;
/// deep_run: the hidden layers of the deeper network and its Adam.
const DEEP_HIDDEN: [usize; 3] = [100, 100, 100];
const ADAM_LR: f64 = 0.001;
/// The book's Adam adds 1e-7 to sqrt(v) (common/optimizer.py).
const ADAM_EPS: f64 = 1e-7;
/// conv_run: the book's SimpleConvNet (ch07/simple_convnet.py).
const CONV_FILTERS: usize = 30;
const CONV_FILTER_SIZE: usize = 5;
const CONV_HIDDEN: usize = 100;
/// 30 channels of 12 × 12 after the 24 × 24 convolution and the 2 × 2 pool.
const CONV_POOLED: usize = CONV_FILTERS * 12 * 12;
const CONV_ITERS: usize = 200;

// ---------------------------------------------------------------- random numbers

/// splitmix64: a tiny seeded generator (weights and batch indices).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed)
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1) with 53 bits.
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// Uniform integer in [0, n) (Lemire's multiply-shift; bias < n / 2^64).
    fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }
    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

// ---------------------------------------------------------------- data

struct Split {
    /// (n, 784) f32, pixels / 255.
    images: Tensor,
    /// (n,) u32 class labels.
    labels: Tensor,
}

fn read_gz(path: &Path) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::io::BufReader::new(file))
        .read_to_end(&mut bytes)
        .with_context(|| format!("decompressing {}", path.display()))?;
    Ok(bytes)
}

fn be_u32(bytes: &[u8], at: usize) -> Result<usize> {
    let b = bytes.get(at..at + 4).context("IDX header truncated")?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

/// Loads one IDX image/label pair as candle tensors on `dev`. `limit` keeps
/// only the first `limit` samples (the fixed batch of `step`).
fn load_split(dir: &Path, prefix: &str, limit: Option<usize>, dev: &Device) -> Result<Split> {
    let img_path = dir.join(format!("{prefix}-images-idx3-ubyte.gz"));
    let lbl_path = dir.join(format!("{prefix}-labels-idx1-ubyte.gz"));
    let img = read_gz(&img_path)?;
    let lbl = read_gz(&lbl_path)?;
    if be_u32(&img, 0)? != 2051 || be_u32(&lbl, 0)? != 2049 {
        bail!(
            "bad IDX magic in {} / {}",
            img_path.display(),
            lbl_path.display()
        );
    }
    let (n, rows, cols) = (be_u32(&img, 4)?, be_u32(&img, 8)?, be_u32(&img, 12)?);
    if rows * cols != INPUT
        || be_u32(&lbl, 4)? != n
        || img.len() != 16 + n * INPUT
        || lbl.len() != 8 + n
    {
        bail!(
            "unexpected IDX shapes in {} / {}",
            img_path.display(),
            lbl_path.display()
        );
    }
    let n = limit.map_or(n, |l| l.min(n));
    let pixels: Vec<f32> = img[16..16 + n * INPUT]
        .iter()
        .map(|&p| p as f32 / 255.0)
        .collect();
    drop(img);
    let labels: Vec<u32> = lbl[8..8 + n].iter().map(|&l| l as u32).collect();
    Ok(Split {
        images: Tensor::from_vec(pixels, (n, INPUT), dev)?,
        labels: Tensor::from_vec(labels, n, dev)?,
    })
}

// ---------------------------------------------------------------- the networks

/// What the training loops need of a network: its logits; the accuracy
/// follows from them.
trait Net {
    /// The logits of a batch.
    fn forward(&self, x: &Tensor) -> Result<Tensor>;

    /// The trainable parameters, for the optimizer.
    fn vars(&self) -> Vec<Var>;

    /// Softmax cross-entropy, mean over the batch.
    fn loss(&self, x: &Tensor, t: &Tensor) -> Result<Tensor> {
        Ok(candle_nn::loss::cross_entropy(&self.forward(x)?, t)?)
    }

    fn accuracy(&self, x: &Tensor, t: &Tensor) -> Result<f64> {
        let pred = self.forward(x)?.argmax(D::Minus1)?;
        let correct = pred
            .eq(t)?
            .to_dtype(DType::F32)?
            .sum_all()?
            .to_scalar::<f32>()?;
        Ok(correct as f64 / t.dim(0)? as f64)
    }

    /// The accuracy over a whole split, `chunk` images at a time (views of
    /// the split, so only one chunk's activations exist at once).
    fn accuracy_chunked(&self, x: &Tensor, t: &Tensor, chunk: usize) -> Result<f64> {
        let n = x.dim(0)?;
        let mut correct = 0.0f64;
        let mut start = 0;
        while start < n {
            let len = chunk.min(n - start);
            let xs = x.narrow(0, start, len)?;
            let ts = t.narrow(0, start, len)?;
            correct += self.accuracy(&xs, &ts)? * len as f64;
            start += len;
        }
        Ok(correct.round() / n as f64)
    }
}

/// `rows × cols` weights drawn as `std · N(0, 1)` from `rng`, as a `Var`.
fn randn_var(rng: &mut Rng, rows: usize, cols: usize, std: f32, dev: &Device) -> Result<Var> {
    let v: Vec<f32> = (0..rows * cols)
        .map(|_| rng.normal() as f32 * std)
        .collect();
    Ok(Var::from_tensor(&Tensor::from_vec(v, (rows, cols), dev)?)?)
}

/// Weights of any `shape` drawn as `std · N(0, 1)` from `rng`, as a `Var`.
fn randn_var_shaped(rng: &mut Rng, shape: &[usize], std: f32, dev: &Device) -> Result<Var> {
    let v: Vec<f32> = (0..shape.iter().product::<usize>())
        .map(|_| rng.normal() as f32 * std)
        .collect();
    Ok(Var::from_tensor(&Tensor::from_vec(v, shape, dev)?)?)
}

struct TwoLayerNet {
    w1: Var,
    b1: Var,
    w2: Var,
    b2: Var,
}

impl TwoLayerNet {
    /// The book's init: W ~ N(0, 1) · 0.01 (seeded), b = 0.
    fn new(seed: u64, dev: &Device) -> Result<Self> {
        let mut rng = Rng::new(seed);
        let w1 = randn_var(&mut rng, INPUT, HIDDEN, WEIGHT_INIT_STD, dev)?;
        let w2 = randn_var(&mut rng, HIDDEN, OUTPUT, WEIGHT_INIT_STD, dev)?;
        Ok(TwoLayerNet {
            w1,
            b1: Var::zeros(HIDDEN, DType::F32, dev)?,
            w2,
            b2: Var::zeros(OUTPUT, DType::F32, dev)?,
        })
    }
}

impl Net for TwoLayerNet {
    fn vars(&self) -> Vec<Var> {
        vec![
            self.w1.clone(),
            self.b1.clone(),
            self.w2.clone(),
            self.b2.clone(),
        ]
    }

    /// Affine → ReLU → Affine: the logits.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = x
            .matmul(self.w1.as_tensor())?
            .broadcast_add(self.b1.as_tensor())?
            .relu()?;
        Ok(h.matmul(self.w2.as_tensor())?
            .broadcast_add(self.b2.as_tensor())?)
    }
}

/// deep_run's network, the book's MultiLayerNetExtend without its extras:
/// (Affine → ReLU) per hidden layer, then Affine; He init
/// (`sqrt(2 / fan_in) · N(0, 1)`, the book's `weight_init_std='relu'`), zero
/// biases.
struct DeepNet {
    /// (weight, bias) per Affine layer.
    layers: Vec<(Var, Var)>,
}

impl DeepNet {
    fn new(hidden: &[usize], seed: u64, dev: &Device) -> Result<Self> {
        let mut rng = Rng::new(seed);
        let sizes: Vec<usize> = std::iter::once(INPUT)
            .chain(hidden.iter().copied())
            .chain(std::iter::once(OUTPUT))
            .collect();
        let layers = sizes
            .windows(2)
            .map(|w| {
                let std = (2.0 / w[0] as f64).sqrt() as f32;
                Ok((
                    randn_var(&mut rng, w[0], w[1], std, dev)?,
                    Var::zeros(w[1], DType::F32, dev)?,
                ))
            })
            .collect::<Result<_>>()?;
        Ok(DeepNet { layers })
    }

    fn shape(&self) -> String {
        let mut s = INPUT.to_string();
        for (w, _) in &self.layers {
            s += &format!("-{}", w.dim(1).unwrap_or(0));
        }
        s
    }
}

impl Net for DeepNet {
    fn vars(&self) -> Vec<Var> {
        self.layers
            .iter()
            .flat_map(|(w, b)| [w.clone(), b.clone()])
            .collect()
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let last = self.layers.len() - 1;
        let mut h = x.clone();
        for (i, (w, b)) in self.layers.iter().enumerate() {
            h = h.matmul(w.as_tensor())?.broadcast_add(b.as_tensor())?;
            if i < last {
                h = h.relu()?;
            }
        }
        Ok(h)
    }
}

/// conv_run's network, the book's SimpleConvNet: Conv (30 filters 5 × 5,
/// stride 1, pad 0; candle-nn's `Conv2d`) → ReLU → max pool 2 × 2 stride 2
/// (`max_pool2d`) → Affine 4320 × 100 → ReLU → Affine 100 × 10. Weights
/// `0.01 · N(0, 1)` in the book's order (W1, W2, W3), zero biases. Images
/// arrive as (n, 784) rows and are viewed as (n, 1, 28, 28).
struct ConvNet {
    w1: Var,
    b1: Var,
    w2: Var,
    b2: Var,
    w3: Var,
    b3: Var,
    conv: candle_nn::Conv2d,
}

impl ConvNet {
    fn new(seed: u64, dev: &Device) -> Result<Self> {
        let mut rng = Rng::new(seed);
        let k = CONV_FILTER_SIZE;
        let w1 = randn_var_shaped(&mut rng, &[CONV_FILTERS, 1, k, k], WEIGHT_INIT_STD, dev)?;
        let w2 = randn_var(&mut rng, CONV_POOLED, CONV_HIDDEN, WEIGHT_INIT_STD, dev)?;
        let w3 = randn_var(&mut rng, CONV_HIDDEN, OUTPUT, WEIGHT_INIT_STD, dev)?;
        let b1 = Var::zeros(CONV_FILTERS, DType::F32, dev)?;
        // The module holds the Vars' tensors: the optimizer's in-place
        // updates of the Vars are what it computes with.
        let conv = candle_nn::Conv2d::new(
            w1.as_tensor().clone(),
            Some(b1.as_tensor().clone()),
            candle_nn::Conv2dConfig::default(),
        );
        Ok(ConvNet {
            w1,
            b1,
            w2,
            b2: Var::zeros(CONV_HIDDEN, DType::F32, dev)?,
            w3,
            b3: Var::zeros(OUTPUT, DType::F32, dev)?,
            conv,
        })
    }
}

impl Net for ConvNet {
    fn vars(&self) -> Vec<Var> {
        vec![
            self.w1.clone(),
            self.b1.clone(),
            self.w2.clone(),
            self.b2.clone(),
            self.w3.clone(),
            self.b3.clone(),
        ]
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        use candle_nn::Module;
        let n = x.dim(0)?;
        let h = self
            .conv
            .forward(&x.reshape((n, 1, 28, 28))?)?
            .relu()?
            .max_pool2d(2)?
            .flatten_from(1)?;
        let h = h
            .matmul(self.w2.as_tensor())?
            .broadcast_add(self.b2.as_tensor())?
            .relu()?;
        Ok(h.matmul(self.w3.as_tensor())?
            .broadcast_add(self.b3.as_tensor())?)
    }
}

/// One training step: forward, backward, the optimizer's update. Returns the
/// loss tensor (already computed: candle's CPU backend is eager).
fn train_step<N: Net, O: Optimizer>(
    net: &N,
    opt: &mut O,
    x: &Tensor,
    t: &Tensor,
) -> Result<Tensor> {
    let loss = net.loss(x, t)?;
    opt.backward_step(&loss)?;
    Ok(loss)
}

// ---------------------------------------------------------------- output

fn median(times: &mut [f64]) -> f64 {
    times.sort_by(|a, b| a.total_cmp(b));
    let n = times.len();
    if n % 2 == 1 {
        times[n / 2]
    } else {
        (times[n / 2 - 1] + times[n / 2]) / 2.0
    }
}

/// Threads this process has right now (main + rayon pool + candle's own pool).
fn os_threads() -> Option<usize> {
    std::fs::read_dir("/proc/self/task").ok().map(|d| d.count())
}

fn emit(
    item: &str,
    median_s: f64,
    runs: usize,
    mut extra: serde_json::Map<String, serde_json::Value>,
) {
    extra.insert(
        "threads".into(),
        candle_core::utils::get_num_threads().into(),
    );
    // CANDLE_NUM_THREADS (if set) sizes only candle's own pool for large
    // element-wise ops; record it so a run with it set is not misread.
    if let Ok(v) = std::env::var("CANDLE_NUM_THREADS") {
        extra.insert("candle_num_threads".into(), v.into());
    }
    if let Some(n) = os_threads() {
        extra.insert("os_threads".into(), n.into());
    }
    let line = serde_json::json!({
        "item": item,
        "impl": format!("candle {CANDLE_VERSION}"),
        "median_s": median_s,
        "runs": runs,
        "extra": extra,
    });
    println!("{line}");
}

// ---------------------------------------------------------------- commands

struct Args {
    cmd: String,
    opts: HashMap<String, String>,
}

impl Args {
    fn parse() -> Result<Self> {
        let mut it = std::env::args().skip(1);
        let cmd = it.next().unwrap_or_default();
        let mut opts = HashMap::new();
        while let Some(a) = it.next() {
            let Some(key) = a.strip_prefix("--") else {
                bail!("unexpected argument {a:?}")
            };
            let (key, value) = match key.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (
                    key.to_string(),
                    it.next()
                        .with_context(|| format!("--{key} needs a value"))?,
                ),
            };
            opts.insert(key, value);
        }
        Ok(Args { cmd, opts })
    }

    fn usize(&mut self, key: &str, default: usize) -> Result<usize> {
        match self.opts.remove(key) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .with_context(|| format!("--{key} {v:?} is not a count")),
        }
    }

    fn data_dir(&mut self) -> PathBuf {
        self.opts
            .remove("data")
            .or_else(|| std::env::var("FASHION_MNIST_DIR").ok())
            .unwrap_or_else(|| DEFAULT_DATA.into())
            .into()
    }

    fn finish(&self) -> Result<()> {
        if let Some(k) = self.opts.keys().next() {
            bail!("unknown option --{k} for {}", self.cmd);
        }
        Ok(())
    }
}

fn quick() -> bool {
    std::env::var("BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
}

fn cmd_step(mut args: Args) -> Result<()> {
    let q = quick();
    let reps = args.usize("reps", if q { 50 } else { 500 })?;
    let warmup = args.usize("warmup", if q { 5 } else { 20 })?;
    let dir = args.data_dir();
    args.finish()?;
    if reps == 0 {
        bail!("--reps must be at least 1");
    }
    let dev = Device::Cpu;
    // The fixed batch: the first 100 training images, as the NumPy benchmark.
    let batch = load_split(&dir, "train", Some(BATCH), &dev)?;
    let net = TwoLayerNet::new(SEED, &dev)?;
    let mut opt = SGD::new(net.vars(), LR)?;
    for _ in 0..warmup {
        train_step(&net, &mut opt, &batch.images, &batch.labels)?;
    }
    let mut times = Vec::with_capacity(reps);
    let mut loss = None;
    for _ in 0..reps {
        let start = Instant::now();
        let l = train_step(&net, &mut opt, &batch.images, &batch.labels)?;
        times.push(start.elapsed().as_secs_f64());
        loss = Some(l);
    }
    let loss_last = loss.context("no steps")?.to_scalar::<f32>()?;
    let mut extra = serde_json::Map::new();
    extra.insert("batch".into(), BATCH.into());
    extra.insert("warmup".into(), warmup.into());
    extra.insert("loss_last".into(), (loss_last as f64).into());
    emit("train_step", median(&mut times), reps, extra);
    Ok(())
}

fn cmd_epoch(mut args: Args) -> Result<()> {
    let iters = args.usize("iters", 600)?;
    let repeat = args.usize("repeat", 1)?;
    let dir = args.data_dir();
    args.finish()?;
    if iters == 0 || repeat == 0 {
        bail!("--iters and --repeat must be at least 1");
    }
    let dev = Device::Cpu;
    let train = load_split(&dir, "train", None, &dev)?;
    let test = load_split(&dir, "t10k", None, &dev)?;
    let train_size = train.images.dim(0)?;

    let mut times = Vec::with_capacity(repeat);
    let mut accuracy = f64::NAN;
    let mut loss_last = f32::NAN;
    for _ in 0..repeat {
        // Fresh weights and the same index stream every repeat: identical work.
        let net = TwoLayerNet::new(SEED, &dev)?;
        let mut opt = SGD::new(net.vars(), LR)?;
        let mut rng = Rng::new(SEED ^ 0x5EED_BA7C);
        let mut loss = None;
        let start = Instant::now();
        for _ in 0..iters {
            let idx: Vec<u32> = (0..BATCH).map(|_| rng.below(train_size) as u32).collect();
            let idx = Tensor::from_vec(idx, BATCH, &dev)?;
            let x = train.images.index_select(&idx, 0)?;
            let t = train.labels.index_select(&idx, 0)?;
            loss = Some(train_step(&net, &mut opt, &x, &t)?);
        }
        times.push(start.elapsed().as_secs_f64());
        loss_last = loss.context("no iterations")?.to_scalar::<f32>()?;
        accuracy = net.accuracy(&test.images, &test.labels)?;
    }
    let mut extra = serde_json::Map::new();
    extra.insert("iterations".into(), iters.into());
    extra.insert("batch".into(), BATCH.into());
    extra.insert("test_accuracy".into(), accuracy.into());
    extra.insert("train_loss_last".into(), (loss_last as f64).into());
    emit("train_epoch", median(&mut times), repeat, extra);
    Ok(())
}

/// The options of `run` and `deep`: iterations, seed, data folder.
struct WholeRunArgs {
    iters: usize,
    seed: u64,
    dir: PathBuf,
    /// Evaluate on the first `eval_size` images of each split only (`conv`'s
    /// smoke tests); None: all of them.
    eval_size: Option<usize>,
}

impl WholeRunArgs {
    fn parse(args: Args) -> Result<Self> {
        Self::parse_with(args, 6000, false)
    }

    /// `default_iters` when --iters is not given; `eval_size`: whether
    /// --eval-size is accepted.
    fn parse_with(mut args: Args, default_iters: usize, eval_size: bool) -> Result<Self> {
        let iters = args.usize("iters", default_iters)?;
        let seed = args.usize("seed", 1)? as u64;
        let eval_size = if eval_size && args.opts.contains_key("eval-size") {
            Some(args.usize("eval-size", 0)?)
        } else {
            None
        };
        let dir = args.data_dir();
        args.finish()?;
        if iters == 0 {
            bail!("--iters must be at least 1");
        }
        Ok(WholeRunArgs {
            iters,
            seed,
            dir,
            eval_size,
        })
    }
}

/// The whole run, as a user runs it, timed from the start of the process
/// (`start`): the two splits (loaded by the caller before it built the
/// network), `run.iters` iterations of batch 100 drawn with replacement, and
/// after every epoch (600 iterations) the accuracy on the whole training set
/// and the whole test set (`chunk` images at a time), as the book's
/// train_neuralnet.py does. Prints `item`'s JSON line, `extra` included, with
/// `step_ms_median`: the median time of one training step (forward, backward,
/// update; candle's CPU backend is eager, so the step is done when it
/// returns).
#[allow(clippy::too_many_arguments)]
fn whole_run<N: Net, O: Optimizer>(
    item: &str,
    net: &N,
    opt: &mut O,
    (train, test): (&Split, &Split),
    run: &WholeRunArgs,
    chunk: usize,
    mut extra: serde_json::Map<String, serde_json::Value>,
    start: Instant,
) -> Result<()> {
    let dev = Device::Cpu;
    let mut step_s = Vec::with_capacity(run.iters);
    let iters = run.iters;
    let train_size = train.images.dim(0)?;
    let iters_per_epoch = (train_size / BATCH).max(1);
    let mut rng = Rng::new(run.seed ^ 0x5EED_BA7C);
    let mut epoch_losses: Vec<Tensor> = Vec::with_capacity(iters_per_epoch);
    let mut loss_last = f32::NAN;
    let mut epochs = Vec::new();
    let (mut train_acc, mut test_acc) = (f64::NAN, f64::NAN);
    for i in 0..iters {
        let idx: Vec<u32> = (0..BATCH).map(|_| rng.below(train_size) as u32).collect();
        let idx = Tensor::from_vec(idx, BATCH, &dev)?;
        let x = train.images.index_select(&idx, 0)?;
        let t = train.labels.index_select(&idx, 0)?;
        let step_start = Instant::now();
        // detach: the loss kept for the epoch's mean must not keep the
        // step's whole graph (its activations) alive until the epoch ends.
        epoch_losses.push(train_step(net, opt, &x, &t)?.detach());
        step_s.push(step_start.elapsed().as_secs_f64());
        if (i + 1) % iters_per_epoch == 0 || i + 1 == iters {
            let (train_x, train_t, test_x, test_t) = match run.eval_size {
                None => (
                    train.images.clone(),
                    train.labels.clone(),
                    test.images.clone(),
                    test.labels.clone(),
                ),
                Some(n) => {
                    let (a, b) = (n.min(train_size), n.min(test.images.dim(0)?));
                    (
                        train.images.narrow(0, 0, a)?,
                        train.labels.narrow(0, 0, a)?,
                        test.images.narrow(0, 0, b)?,
                        test.labels.narrow(0, 0, b)?,
                    )
                }
            };
            train_acc = net.accuracy_chunked(&train_x, &train_t, chunk)?;
            test_acc = net.accuracy_chunked(&test_x, &test_t, chunk)?;
            let losses: Vec<f32> = epoch_losses
                .iter()
                .map(|l| l.to_scalar::<f32>())
                .collect::<candle_core::Result<_>>()?;
            loss_last = *losses.last().context("no iterations")?;
            let mean_loss = losses.iter().map(|&l| l as f64).sum::<f64>() / losses.len() as f64;
            epoch_losses.clear();
            eprintln!("train acc, test acc | {train_acc}, {test_acc}");
            epochs.push(serde_json::json!({
                "epoch": epochs.len() + 1,
                "iteration": i + 1,
                "mean_loss": mean_loss,
                "train_accuracy": train_acc,
                "test_accuracy": test_acc,
            }));
        }
    }
    extra.insert("test_accuracy".into(), test_acc.into());
    extra.insert("train_accuracy".into(), train_acc.into());
    extra.insert("iterations".into(), iters.into());
    extra.insert("batch".into(), BATCH.into());
    extra.insert("seed".into(), run.seed.into());
    extra.insert("final_batch_loss".into(), (loss_last as f64).into());
    extra.insert(
        "step_ms_median".into(),
        (median(&mut step_s) * 1000.0).into(),
    );
    extra.insert("epochs".into(), epochs.into());
    emit(item, start.elapsed().as_secs_f64(), 1, extra);
    Ok(())
}

/// Both splits of the data, on the CPU.
fn load_both(dir: &Path) -> Result<(Split, Split)> {
    let dev = Device::Cpu;
    Ok((
        load_split(dir, "train", None, &dev)?,
        load_split(dir, "t10k", None, &dev)?,
    ))
}

/// train_run: the book's two-layer net and SGD lr 0.1, the whole run
/// (`whole_run`).
fn cmd_run(args: Args, start: Instant) -> Result<()> {
    let run = WholeRunArgs::parse(args)?;
    let (train, test) = load_both(&run.dir)?;
    let net = TwoLayerNet::new(run.seed, &Device::Cpu)?;
    let mut opt = SGD::new(net.vars(), LR)?;
    let extra = serde_json::Map::new();
    whole_run(
        "train_run",
        &net,
        &mut opt,
        (&train, &test),
        &run,
        10_000,
        extra,
        start,
    )
}

/// deep_run: 784-100-100-100-10 with ReLU and He init, trained with
/// candle-nn's Adam (`AdamW` with weight decay 0, the optimizer a candle user
/// reaches for; lr 0.001, beta1 0.9, beta2 0.999, eps 1e-7 as the book's), the
/// whole run (`whole_run`). AdamW adds eps to sqrt(v̂), the bias-corrected v,
/// where the book adds it to sqrt(v): the same update but for that eps.
fn cmd_deep(args: Args, start: Instant) -> Result<()> {
    let run = WholeRunArgs::parse(args)?;
    let (train, test) = load_both(&run.dir)?;
    let net = DeepNet::new(&DEEP_HIDDEN, run.seed, &Device::Cpu)?;
    let params = ParamsAdamW {
        lr: ADAM_LR,
        beta1: 0.9,
        beta2: 0.999,
        eps: ADAM_EPS,
        weight_decay: 0.0,
    };
    let mut opt = AdamW::new(net.vars(), params)?;
    let mut extra = serde_json::Map::new();
    extra.insert("network".into(), net.shape().into());
    extra.insert(
        "optimizer".into(),
        "candle_nn::AdamW, weight decay 0".into(),
    );
    extra.insert("lr".into(), ADAM_LR.into());
    whole_run(
        "deep_run",
        &net,
        &mut opt,
        (&train, &test),
        &run,
        10_000,
        extra,
        start,
    )
}

/// conv_run: the book's SimpleConvNet (`ConvNet`), candle-nn's `AdamW` with
/// weight decay 0 (lr 0.001, beta1 0.9, beta2 0.999, eps 1e-7; eps on
/// sqrt(v̂) where the book's is on sqrt(v)), 200 iterations by default, then
/// the accuracy on the whole training and test sets, 1000 images at a time
/// (`whole_run`: 200 < 600 iterations, so that one evaluation only).
fn cmd_conv(args: Args, start: Instant) -> Result<()> {
    let run = WholeRunArgs::parse_with(args, CONV_ITERS, true)?;
    let (train, test) = load_both(&run.dir)?;
    let net = ConvNet::new(run.seed, &Device::Cpu)?;
    let params = ParamsAdamW {
        lr: ADAM_LR,
        beta1: 0.9,
        beta2: 0.999,
        eps: ADAM_EPS,
        weight_decay: 0.0,
    };
    let mut opt = AdamW::new(net.vars(), params)?;
    let mut extra = serde_json::Map::new();
    extra.insert(
        "network".into(),
        "SimpleConvNet conv30x5x5-pool2-100-10 (candle_nn::Conv2d, max_pool2d)".into(),
    );
    extra.insert(
        "optimizer".into(),
        "candle_nn::AdamW, weight decay 0".into(),
    );
    extra.insert("lr".into(), ADAM_LR.into());
    extra.insert("dtype".into(), "float32".into());
    if let Some(n) = run.eval_size {
        extra.insert("eval_size".into(), n.into());
    }
    whole_run(
        "conv_run",
        &net,
        &mut opt,
        (&train, &test),
        &run,
        1000,
        extra,
        start,
    )
}

fn main() -> Result<()> {
    let start = Instant::now();
    let args = Args::parse()?;
    match args.cmd.as_str() {
        "step" => cmd_step(args),
        "epoch" => cmd_epoch(args),
        "run" => cmd_run(args, start),
        "deep" => cmd_deep(args, start),
        "conv" => cmd_conv(args, start),
        other => bail!(
            "usage: candle-bench step [--reps N] [--warmup N] [--data DIR]\n       \
             candle-bench epoch [--iters N] [--repeat N] [--data DIR]\n       \
             candle-bench run [--iters N] [--seed S] [--data DIR]\n       \
             candle-bench deep [--iters N] [--seed S] [--data DIR]\n       \
             candle-bench conv [--iters N] [--seed S] [--data DIR] [--eval-size N]\n(got {other:?})"
        ),
    }
}
