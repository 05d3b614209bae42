//! `kobai chapter6 overfit` and `dropout`: a net overfitting 300 samples, with
//! and without weight decay or Dropout (the book's overfit_weight_decay.py and
//! overfit_dropout.py).

use std::fmt::Write as _;

use anyhow::Result;
use kobai::nets::MultiLayerNet;
use kobai::train::Length;
use serde_json::{Value, json};

use super::optimizers::plan_iterations;
use super::{Data, Experiment, Outcome, Plan, num, shape, with};
use crate::commands::optimizer_choice::OptimizerName;
use crate::plot::{GridSpec, PALETTE, Panel, Series, Shape};

/// The size of a panel of a two-panel figure.
const HALF_CELL: (u32, u32) = (640, 520);

/// overfit_weight_decay.py's and overfit_dropout.py's settings.
const OVERFIT_HIDDEN: [usize; 6] = [100; 6];
const OVERFIT_TRAIN: usize = 300;
const OVERFIT_BATCH: usize = 100;
const OVERFIT_EPOCHS: usize = 201;
const DROPOUT_EPOCHS: usize = 301;
const DROPOUT_RATIO: f64 = 0.2;

pub(super) fn overfit(data: &Data<'_>) -> Result<Outcome> {
    let variants = [0.0, 0.1].map(|lambda| {
        (
            format!("λ = {lambda}"),
            data.net(&OVERFIT_HIDDEN).weight_decay(lambda),
            json!({"weight_decay": lambda}),
        )
    });
    let outcome = train_vs_test(data, OVERFIT_EPOCHS, &variants, Experiment::Overfit)?;
    Ok(Outcome {
        settings: with(outcome.settings, json!({"weight_decay": [0.0, 0.1]})),
        ..outcome
    })
}

pub(super) fn dropout(data: &Data<'_>) -> Result<Outcome> {
    let variants = [
        (
            "no Dropout".to_string(),
            data.net(&OVERFIT_HIDDEN),
            json!({"dropout": Value::Null}),
        ),
        (
            format!("Dropout {DROPOUT_RATIO}"),
            data.net(&OVERFIT_HIDDEN).dropout(DROPOUT_RATIO),
            json!({"dropout": DROPOUT_RATIO}),
        ),
    ];
    let outcome = train_vs_test(data, DROPOUT_EPOCHS, &variants, Experiment::Dropout)?;
    Ok(Outcome {
        settings: with(
            outcome.settings,
            json!({"dropout": [Value::Null, json!(DROPOUT_RATIO)]}),
        ),
        ..outcome
    })
}

/// The overfitting experiments: each variant trained on the first 300
/// samples, train and test accuracy per epoch, one panel each.
fn train_vs_test(
    data: &Data<'_>,
    epochs: usize,
    variants: &[(String, MultiLayerNet, Value)],
    experiment: Experiment,
) -> Result<Outcome> {
    let train = data.first(OVERFIT_TRAIN)?;
    let plan = Plan {
        length: data.length(Length::Epochs(epochs)),
        batch_size: OVERFIT_BATCH,
        evaluate_at_start: true,
        test_each_epoch: true,
    };
    let lr = 0.01;
    let mut panels = Vec::new();
    let mut runs = Vec::new();
    let mut table = format!(
        "Network: {} ReLU, He init; SGD lr {lr}, batch {}, {} training samples, {} iterations\n\
         {:<12} {:>10} {:>10} {:>10}\n",
        shape(&OVERFIT_HIDDEN),
        plan.batch_size,
        train.len(),
        plan_iterations(plan, &train),
        "",
        "train acc",
        "test acc",
        "gap"
    );
    for (name, net, extra) in variants {
        let trained = data.train(net, OptimizerName::Sgd, lr, plan, &train)?;
        let gap = trained.last_train() - trained.last_test();
        let _ = writeln!(
            table,
            "{:<12} {:>10} {:>10} {:>10}{}",
            name,
            num(trained.last_train()),
            num(trained.last_test()),
            num(gap),
            trained.diverged_note()
        );
        runs.push(with(
            with(trained.as_json(name), extra.clone()),
            json!({
                "gap": gap,
            }),
        ));
        let title = match trained.diverged {
            Some((i, _)) => format!("{name}: diverged at iteration {i}"),
            None => format!(
                "{name}: train {:.3}, test {:.3}",
                trained.last_train(),
                trained.last_test()
            ),
        };
        let mut panel = Panel::new(title, "epochs", "accuracy");
        panel.y_range = Some((0.0, 1.0));
        panel.series = vec![
            Series::line("train", PALETTE[0], trained.train_curve()).with_markers(Shape::Dot),
            Series::line("test", PALETTE[1], trained.test_curve())
                .dashed()
                .with_markers(Shape::Ring),
        ];
        panels.push(panel);
    }
    let settings = json!({
        "hidden": OVERFIT_HIDDEN,
        "activation": "relu",
        "init": "he",
        "optimizer": "sgd",
        "lr": lr,
        "batch_size": plan.batch_size,
        "train_size": train.len(),
        "epochs": match plan.length { Length::Epochs(n) => Some(n), Length::Iterations(_) => None },
        "iterations": plan_iterations(plan, &train),
        "accuracy": "on the training samples and the whole test set, before the first step and after each epoch",
    });
    let figure = GridSpec {
        title: format!(
            "Overfitting on {}: {} ReLU net, first {} samples, SGD {lr}, batch {} (the book's {})",
            data.source.short(),
            shape(&OVERFIT_HIDDEN),
            train.len(),
            plan.batch_size,
            experiment.script()
        ),
        rows: 1,
        columns: variants.len(),
        cell: HALF_CELL,
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
