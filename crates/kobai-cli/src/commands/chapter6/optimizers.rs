//! `kobai chapter6 optimizers`: SGD, Momentum, AdaGrad and Adam on one net (the
//! book's optimizer_compare_mnist.py), and the loss comparison and its figure,
//! which weight-init shares.

use std::fmt::Write as _;

use anyhow::Result;
use kobai::data::Dataset;
use kobai::nets::{Init, MultiLayerNet};
use kobai::train::Length;
use serde_json::{Value, json};

use super::smoothing::smooth_curve;
use super::{
    COMPARE_BATCH, COMPARE_HIDDEN, COMPARE_ITERATIONS, Data, Experiment, Outcome, Plan, num, shape,
    with,
};
use crate::commands::optimizer_choice::OptimizerName;
use crate::plot::{GridSpec, PALETTE, Panel, Series};

/// The size of the panel of a one-panel figure.
const LARGE_CELL: (u32, u32) = (900, 600);

/// The book's four optimizers with its learning rates.
const OPTIMIZERS: [(OptimizerName, f64); 4] = [
    (OptimizerName::Sgd, 0.01),
    (OptimizerName::Momentum, 0.01),
    (OptimizerName::Adagrad, 0.01),
    (OptimizerName::Adam, 0.001),
];

pub(super) fn optimizers(data: &Data<'_>) -> Result<Outcome> {
    let plan = Plan {
        length: data.length(Length::Iterations(COMPARE_ITERATIONS)),
        batch_size: COMPARE_BATCH,
        evaluate_at_start: false,
        test_each_epoch: false,
    };
    let net = data.net(&COMPARE_HIDDEN).init(Init::He);
    let contenders: Vec<Contender> = OPTIMIZERS
        .iter()
        .map(|&(name, lr)| Contender {
            label: name.label().to_string(),
            net: net.clone(),
            optimizer: name,
            lr,
            extra: json!({"optimizer": name.cli_name(), "lr": lr}),
        })
        .collect();
    let header = format!(
        "Network: {} ReLU, He init; batch {}, {} iterations\n",
        shape(&COMPARE_HIDDEN),
        plan.batch_size,
        plan_iterations(plan, &data.train),
    );
    let Comparison {
        runs,
        table,
        curves,
    } = compare_losses(data, plan, &contenders, "optimizer", header)?;
    let settings = json!({
        "hidden": COMPARE_HIDDEN,
        "activation": "relu",
        "init": "he",
        "batch_size": plan.batch_size,
        "iterations": plan_iterations(plan, &data.train),
        "optimizers": OPTIMIZERS.iter().map(|(n, lr)| json!({"name": n.cli_name(), "lr": lr})).collect::<Vec<_>>(),
        "curves": "the book's smooth_curve of the batch losses",
        "accuracy": "on the whole training and test sets after the last step",
    });
    let title = format!(
        "Optimizers on {}: {} ReLU net, He init, batch {} (the book's {})",
        data.source.short(),
        shape(&COMPARE_HIDDEN),
        plan.batch_size,
        Experiment::Optimizers.script()
    );
    Ok(Outcome {
        settings,
        runs,
        table,
        figure: loss_figure(title, curves),
    })
}

/// One run of a loss comparison: a network and its optimizer.
pub(super) struct Contender {
    pub(super) label: String,
    pub(super) net: MultiLayerNet,
    pub(super) optimizer: OptimizerName,
    pub(super) lr: f64,
    /// More fields for the run's JSON.
    pub(super) extra: Value,
}

/// What a loss comparison measured.
pub(super) struct Comparison {
    /// One JSON object per contender.
    pub(super) runs: Vec<Value>,
    /// The table for people.
    pub(super) table: String,
    /// The smoothed loss curves, named.
    pub(super) curves: Vec<(String, Vec<f64>)>,
}

/// Trains each contender as `plan` says: their JSON runs, the table (after
/// `header`, first column `what`) and the smoothed loss curves.
pub(super) fn compare_losses(
    data: &Data<'_>,
    plan: Plan,
    contenders: &[Contender],
    what: &str,
    header: String,
) -> Result<Comparison> {
    let mut table = header;
    let _ = writeln!(
        table,
        "{what:<10} {:>10} {:>15} {:>10} {:>10}",
        "last loss", "last-100 mean", "train acc", "test acc"
    );
    let mut runs = Vec::new();
    let mut curves = Vec::new();
    for c in contenders {
        let trained = data.train(&c.net, c.optimizer, c.lr, plan, &data.train)?;
        let _ = writeln!(
            table,
            "{:<10} {:>10} {:>15} {:>10} {:>10}{}",
            c.label,
            num(trained.last_loss()),
            num(trained.last_100_mean()),
            num(trained.last_train()),
            num(trained.last_test()),
            trained.diverged_note()
        );
        let smoothed = smooth_curve(&trained.history.losses);
        runs.push(with(
            with(trained.as_json(&c.label), c.extra.clone()),
            json!({"final_smoothed_loss": smoothed.last()}),
        ));
        let name = match trained.diverged {
            Some((i, _)) => format!("{} (diverged at {i})", c.label),
            None => c.label.clone(),
        };
        curves.push((name, smoothed));
    }
    Ok(Comparison {
        runs,
        table,
        curves,
    })
}

pub(super) fn plan_iterations(plan: Plan, train: &Dataset) -> usize {
    match plan.length {
        Length::Iterations(n) => n,
        Length::Epochs(n) => n * (train.len() / plan.batch_size).max(1),
    }
}

/// One panel of smoothed loss curves, one line each.
pub(super) fn loss_figure(title: String, curves: Vec<(String, Vec<f64>)>) -> GridSpec {
    let top = curves
        .iter()
        .flat_map(|(_, c)| c.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let mut panel = Panel::new(
        "Training loss (smoothed) per iteration",
        "iterations",
        "loss",
    );
    panel.y_range = Some((0.0, if top > 0.0 { top * 1.05 } else { 1.0 }));
    let last = curves.iter().map(|(_, c)| c.len()).max().unwrap_or(1);
    panel.x_range = Some((0.0, last.max(2) as f64));
    panel.series = curves
        .into_iter()
        .enumerate()
        .map(|(i, (name, curve))| {
            let points = curve
                .iter()
                .enumerate()
                .map(|(k, &l)| ((k + 1) as f64, l))
                .collect();
            Series::line(name, PALETTE[i % PALETTE.len()], points)
        })
        .collect();
    GridSpec {
        title,
        rows: 1,
        columns: 1,
        cell: LARGE_CELL,
        legend: true,
        panels: vec![panel],
    }
}
