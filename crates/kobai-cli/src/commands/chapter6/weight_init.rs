//! `kobai chapter6 weight-init`: init std 0.01, Xavier and He on one ReLU net
//! (the book's weight_init_compare.py).

use anyhow::Result;
use kobai::nets::Init;
use kobai::train::Length;
use serde_json::json;

use super::optimizers::{Comparison, Contender, compare_losses, loss_figure, plan_iterations};
use super::{
    COMPARE_BATCH, COMPARE_HIDDEN, COMPARE_ITERATIONS, Data, Experiment, Outcome, Plan, shape,
};
use crate::commands::optimizer_choice::OptimizerName;

/// The book's three inits of weight_init_compare.py (ReLU for all three).
const INITS: [(&str, Init); 3] = [
    ("std=0.01", Init::Std(0.01)),
    ("Xavier", Init::Xavier),
    ("He", Init::He),
];

pub(super) fn weight_init(data: &Data<'_>) -> Result<Outcome> {
    let plan = Plan {
        length: data.length(Length::Iterations(COMPARE_ITERATIONS)),
        batch_size: COMPARE_BATCH,
        evaluate_at_start: false,
        test_each_epoch: false,
    };
    let lr = 0.01;
    let contenders: Vec<Contender> = INITS
        .iter()
        .map(|&(name, init)| Contender {
            label: name.to_string(),
            net: data.net(&COMPARE_HIDDEN).init(init),
            optimizer: OptimizerName::Sgd,
            lr,
            extra: json!({"init": init.to_string()}),
        })
        .collect();
    let header = format!(
        "Network: {} ReLU; SGD lr {lr}, batch {}, {} iterations\n",
        shape(&COMPARE_HIDDEN),
        plan.batch_size,
        plan_iterations(plan, &data.train),
    );
    let Comparison {
        runs,
        table,
        curves,
    } = compare_losses(data, plan, &contenders, "init", header)?;
    let settings = json!({
        "hidden": COMPARE_HIDDEN,
        "activation": "relu",
        "inits": INITS.iter().map(|(n, i)| json!({"name": n, "init": i.to_string()})).collect::<Vec<_>>(),
        "optimizer": "sgd",
        "lr": lr,
        "batch_size": plan.batch_size,
        "iterations": plan_iterations(plan, &data.train),
        "curves": "the book's smooth_curve of the batch losses",
        "accuracy": "on the whole training and test sets after the last step",
    });
    let title = format!(
        "Weight init on {}: {} ReLU net, SGD {lr}, batch {} (the book's {})",
        data.source.short(),
        shape(&COMPARE_HIDDEN),
        plan.batch_size,
        Experiment::WeightInit.script()
    );
    Ok(Outcome {
        settings,
        runs,
        table,
        figure: loss_figure(title, curves),
    })
}
