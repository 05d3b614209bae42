//! `kobai chapter6 activations`: histograms of each layer's activations for
//! four inits, no training (the book's weight_init_activation_histogram.py).

use std::fmt::Write as _;

use anyhow::{Result, ensure};
use kobai::layers::Mode;
use kobai::nets::{Activation, Init, MultiLayerNet, Network};
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde_json::json;

use super::{Experiment, Outcome, SMALL_CELL};
use crate::plot::{GridSpec, PALETTE, Panel, Series, histogram};

/// The histogram bins of weight_init_activation_histogram.py.
const HISTOGRAM_BINS: usize = 30;

/// weight_init_activation_histogram.py's sizes.
const ACT_SAMPLES: usize = 1000;
const ACT_NODES: usize = 100;
const ACT_LAYERS: usize = 5;

/// The four rows of the activation figure: the book's figures 6-10, 6-11,
/// 6-13 and 6-14.
const ACT_CONFIGS: [(&str, Init, Activation); 4] = [
    ("std=1, sigmoid", Init::Std(1.0), Activation::Sigmoid),
    ("std=0.01, sigmoid", Init::Std(0.01), Activation::Sigmoid),
    ("Xavier, sigmoid", Init::Xavier, Activation::Sigmoid),
    ("He, ReLU", Init::He, Activation::Relu),
];

pub(super) fn activations(seed: u64) -> Result<Outcome> {
    // The inputs from their own stream: the weights come from `seed` too.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(1);
    let x = Array2::from_shape_fn((ACT_SAMPLES, ACT_NODES), |_| {
        StandardNormal.sample(&mut rng)
    });
    let mut panels = Vec::new();
    let mut runs = Vec::new();
    let mut table = format!(
        "{ACT_SAMPLES} samples of N(0, 1) with {ACT_NODES} features through {ACT_LAYERS} \
         layers of {ACT_NODES} (no biases), weights std · N(0, 1)\n\
         Each layer's activations, mean ± std (share of zeros for ReLU):\n{:<18}",
        "init"
    );
    for k in 1..=ACT_LAYERS {
        let _ = write!(table, " {:>13}", format!("layer {k}"));
    }
    table.push('\n');
    for (row, (name, init, activation)) in ACT_CONFIGS.into_iter().enumerate() {
        let net = MultiLayerNet::new(ACT_NODES, &[ACT_NODES; ACT_LAYERS], ACT_NODES)
            .activation(activation)
            .init(init)
            .seed(seed)
            .build()?;
        let outputs = layer_outputs(&net, &x, activation)?;
        let _ = write!(table, "{name:<18}");
        let mut layers = Vec::new();
        for (k, values) in outputs.iter().enumerate() {
            let stats = Stats::of(values);
            let (edges, counts) = histogram(values.iter().copied(), HISTOGRAM_BINS, (0.0, 1.0))?;
            let _ = write!(
                table,
                " {:>13}",
                format!("{:.3}±{:.3}", stats.mean, stats.std)
            );
            layers.push(json!({
                "layer": k + 1,
                "mean": stats.mean,
                "std": stats.std,
                "zero_fraction": stats.zeros,
                "histogram": counts,
            }));
            let mut panel = Panel::new(
                format!("{name}: layer {}", k + 1),
                "activation",
                "count (×1000)",
            );
            panel.x_range = Some((0.0, 1.0));
            if activation == Activation::Relu {
                // The book's ylim for ReLU: the bar at 0 (half of all values) runs off the top.
                let rest = counts.iter().skip(1).copied().fold(0.0, f64::max);
                panel.y_range = Some((0.0, (rest / 1000.0 * 1.1).max(0.001)));
            }
            let thousands = counts.iter().map(|c| c / 1000.0).collect();
            panel.series = vec![Series::bars("activations", PALETTE[0], edges, thousands)];
            panels.push(panel);
        }
        if activation == Activation::Relu {
            let _ = write!(table, "\n{:<18}", "  share of zeros");
            for v in &outputs {
                let _ = write!(
                    table,
                    " {:>13}",
                    format!("{:.0}%", 100.0 * Stats::of(v).zeros)
                );
            }
        }
        table.push('\n');
        runs.push(json!({
            "name": name,
            "init": init.to_string(),
            "activation": activation.name(),
            "row": row + 1,
            "layers": layers,
        }));
    }
    let settings = json!({
        "samples": ACT_SAMPLES,
        "features": ACT_NODES,
        "layers": ACT_LAYERS,
        "nodes": ACT_NODES,
        "input": "N(0, 1) from ChaCha8 seeded with the seed, stream 1",
        "histogram_bins": HISTOGRAM_BINS,
        "histogram_range": [0.0, 1.0],
        "configs": ACT_CONFIGS.iter().map(|(n, i, a)| json!({"name": n, "init": i.to_string(), "activation": a.name()})).collect::<Vec<_>>(),
    });
    let figure = GridSpec {
        title: format!(
            "Activations of 5 layers of 100 for N(0,1) inputs, 30 bins over [0, 1], seed {seed} \
             (the book's {}; ReLU: the bar at 0 runs off the top)",
            Experiment::Activations.script()
        ),
        rows: ACT_CONFIGS.len(),
        columns: ACT_LAYERS,
        cell: SMALL_CELL,
        legend: false,
        panels,
    };
    Ok(Outcome {
        settings,
        runs,
        table,
        figure,
    })
}

/// The outputs of the hidden layers' activations for `x`, in order.
fn layer_outputs(net: &Network, x: &Array2<f64>, activation: Activation) -> Result<Vec<Vec<f64>>> {
    let outputs = net.activations(x.clone().into_dyn(), Mode::Eval)?;
    let layers: Vec<Vec<f64>> = outputs
        .into_iter()
        .filter(|(name, _)| name.starts_with(activation.name()))
        .map(|(_, a)| a.iter().copied().collect())
        .collect();
    ensure!(
        layers.len() == ACT_LAYERS,
        "expected {ACT_LAYERS} activation layers, found {}",
        layers.len()
    );
    Ok(layers)
}

/// Mean, standard deviation and share of zeros of some values.
struct Stats {
    mean: f64,
    std: f64,
    zeros: f64,
}

impl Stats {
    fn of(values: &[f64]) -> Self {
        let n = values.len().max(1) as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        let zeros = values.iter().filter(|&&v| v == 0.0).count() as f64 / n;
        Stats {
            mean,
            std: var.sqrt(),
            zeros,
        }
    }
}
