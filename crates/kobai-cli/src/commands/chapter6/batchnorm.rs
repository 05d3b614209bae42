//! `kobai chapter6 batchnorm`: training with and without Batch Normalization
//! for a range of init scales (the book's batch_norm_test.py).

use std::fmt::Write as _;

use anyhow::Result;
use kobai::nets::Init;
use kobai::train::Length;
use serde_json::json;

use super::optimizers::plan_iterations;
use super::{Data, Experiment, Outcome, Plan, SMALL_CELL, num, shape, with};
use crate::commands::optimizer_choice::OptimizerName;
use crate::plot::{GridSpec, PALETTE, Panel, Series};

/// batch_norm_test.py's settings.
const BN_HIDDEN: [usize; 5] = [100; 5];
const BN_TRAIN: usize = 1000;
const BN_BATCH: usize = 100;
const BN_EPOCHS: usize = 20;

/// NumPy's `np.logspace(0, -4, n)`: `10^y` for `y` = `np.linspace(0, -4, n)`
/// (`i · step`, the last one −4).
fn logspace(n: usize) -> Vec<f64> {
    match n {
        0 => Vec::new(),
        1 => vec![1.0],
        _ => {
            let step = -4.0 / (n - 1) as f64;
            (0..n)
                .map(|i| {
                    let y = if i == n - 1 { -4.0 } else { i as f64 * step };
                    10_f64.powf(y)
                })
                .collect()
        }
    }
}

/// A scale with three significant digits (`0.541`, `0.0464`, `0.0001`).
fn scale_text(v: f64) -> String {
    let decimals = (2.0 - v.log10().floor()).max(0.0) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

pub(super) fn batchnorm(data: &Data<'_>, scales: usize) -> Result<Outcome> {
    let train = data.first(BN_TRAIN)?;
    let plan = Plan {
        length: data.length(Length::Epochs(BN_EPOCHS)),
        batch_size: BN_BATCH,
        evaluate_at_start: true,
        test_each_epoch: false,
    };
    let lr = 0.01;
    let mut panels = Vec::new();
    let mut runs = Vec::new();
    let mut table = format!(
        "Network: {} ReLU; SGD lr {lr}, batch {}, {} training samples, {} iterations\n\
         {:<8} {:>14} {:>14} {:>14} {:>14}\n",
        shape(&BN_HIDDEN),
        plan.batch_size,
        train.len(),
        plan_iterations(plan, &train),
        "init std",
        "BN train acc",
        "BN test acc",
        "train acc",
        "test acc"
    );
    for scale in logspace(scales) {
        let label = scale_text(scale);
        let net = data.net(&BN_HIDDEN).init(Init::Std(scale));
        let with_bn = data.train(
            &net.clone().batch_norm(true),
            OptimizerName::Sgd,
            lr,
            plan,
            &train,
        )?;
        let without = data.train(&net, OptimizerName::Sgd, lr, plan, &train)?;
        let _ = writeln!(
            table,
            "{:<8} {:>14} {:>14} {:>14} {:>14}{}{}",
            label,
            num(with_bn.last_train()),
            num(with_bn.last_test()),
            num(without.last_train()),
            num(without.last_test()),
            with_bn
                .diverged
                .as_ref()
                .map_or_else(String::new, |(i, _)| format!(
                    " (BN diverged at iteration {i})"
                )),
            without.diverged_note(),
        );
        for (trained, batchnorm) in [(&with_bn, true), (&without, false)] {
            let name = if batchnorm {
                format!("W={label} BatchNorm")
            } else {
                format!("W={label}")
            };
            runs.push(with(
                trained.as_json(&name),
                json!({
                    "scale": scale,
                    "batchnorm": batchnorm,
                }),
            ));
        }
        let mut title = format!("W: {label}");
        for (trained, who) in [(&with_bn, "BN"), (&without, "normal")] {
            if let Some((i, _)) = trained.diverged {
                let _ = write!(title, ", {who} diverged at it. {i}");
            }
        }
        let mut panel = Panel::new(title, "epochs", "accuracy");
        panel.y_range = Some((0.0, 1.0));
        panel.series = vec![
            Series::line("Batch Normalization", PALETTE[0], with_bn.train_curve()),
            Series::line(
                "Normal (without BatchNorm)",
                PALETTE[1],
                without.train_curve(),
            )
            .dashed(),
        ];
        panels.push(panel);
    }
    let settings = json!({
        "hidden": BN_HIDDEN,
        "activation": "relu",
        "optimizer": "sgd",
        "lr": lr,
        "batch_size": plan.batch_size,
        "train_size": train.len(),
        "epochs": match plan.length { Length::Epochs(n) => Some(n), Length::Iterations(_) => None },
        "iterations": plan_iterations(plan, &train),
        "scales": logspace(scales),
        "curves": "training accuracy before the first step and after each epoch",
        "accuracy": "the training accuracy on the training samples after each epoch, the test accuracy on the whole test set after the last step",
    });
    let columns = scales.min(4);
    let figure = GridSpec {
        title: format!(
            "Batch Normalization on {}: train accuracy, {} ReLU net, first {} samples, SGD {lr}, \
             batch {} (the book's {})",
            data.source.short(),
            shape(&BN_HIDDEN),
            train.len(),
            plan.batch_size,
            Experiment::Batchnorm.script()
        ),
        rows: scales.div_ceil(columns),
        columns,
        cell: SMALL_CELL,
        legend: true,
        panels,
    };
    Ok(Outcome {
        settings,
        runs,
        table,
        figure,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logspace_and_scale_labels() {
        let s = logspace(16);
        assert_eq!(s.len(), 16);
        assert_eq!(s[0], 1.0);
        assert!((s[15] - 1e-4).abs() < 1e-18);
        assert_eq!(logspace(1), vec![1.0]);
        assert_eq!(scale_text(1.0), "1");
        assert_eq!(scale_text(s[1]), "0.541");
        assert_eq!(scale_text(s[5]), "0.0464");
        assert_eq!(scale_text(1e-4), "0.0001");
    }
}
