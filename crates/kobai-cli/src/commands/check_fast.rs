//! `kobai check --directions K`: the fast gradient check, printed.

use anyhow::{Result, bail};
use kobai::gradient_check::ProjectionCheck;
use kobai::{Backprop, gradient_check_fast};
use ndarray::{Array1, Array2};
use serde_json::json;

/// Runs the fast check on `net` and prints it; fails when a direction disagrees.
pub fn run<M: Backprop>(
    net: &M,
    (x, labels): (&Array2<f64>, &Array1<usize>),
    directions: usize,
    seed: u64,
    as_json: bool,
) -> Result<()> {
    let report = gradient_check_fast(net, x, &labels.into(), directions, seed)?;
    if as_json {
        outln!("{}", to_json(&report));
    } else {
        print_report(&report)?;
    }
    if !report.passed() {
        let at = report.located.as_ref().map_or(String::new(), |l| {
            format!(
                "; bisection ends at {}{:?}: backprop {:.8e}, numerical {:.8e}",
                l.tensor, l.index, l.analytic, l.numerical
            )
        });
        bail!("gradient check failed along a random direction{at}");
    }
    Ok(())
}

fn print_report(report: &ProjectionCheck) -> Result<()> {
    outln!(
        "Fast gradient check: {} random ±1 directions through {} parameters",
        report.projections.len(),
        report.parameters
    );
    outln!(
        "{:>3} {:>18} {:>18} {:>11} {:>11}  verdict",
        "#",
        "backprop · v",
        "numerical",
        "|diff|",
        "allowed"
    );
    for (k, p) in report.projections.iter().enumerate() {
        outln!(
            "{:>3} {:>18.10e} {:>18.10e} {:>11.3e} {:>11.3e}  {}",
            k + 1,
            p.analytic,
            p.numerical,
            (p.analytic - p.numerical).abs(),
            p.allowed,
            if p.agreed() { "agree" } else { "DISAGREE" }
        );
    }
    if let Some(l) = &report.located {
        outln!(
            "bisection: the first disagreeing direction leads to {}{:?} \
             (backprop {:.8e}, numerical {:.8e}, allowed {:.3e})",
            l.tensor,
            l.index,
            l.analytic,
            l.numerical,
            l.allowed
        );
    }
    outln!(
        "{} in {} loss evaluations. An error larger than {:.1e} in one element is always \
         caught; any error whose largest element exceeds it goes unnoticed with probability \
         at most {:.1e}.",
        if report.passed() { "PASSED" } else { "FAILED" },
        report.evaluations,
        report.threshold(),
        report.miss_probability()
    );
    Ok(())
}

fn to_json(report: &ProjectionCheck) -> serde_json::Value {
    json!({
        "passed": report.passed(),
        "parameters": report.parameters,
        "evaluations": report.evaluations,
        "threshold": report.threshold(),
        "miss_probability": report.miss_probability(),
        "directions": report.projections.iter().map(|p| json!({
            "analytic": p.analytic,
            "numerical": p.numerical,
            "allowed": p.allowed,
            "status": p.status.name(),
            "agreed": p.agreed(),
        })).collect::<Vec<_>>(),
        "located": report.located.as_ref().map(|l| json!({
            "tensor": l.tensor,
            "index": l.index,
            "analytic": l.analytic,
            "numerical": l.numerical,
            "allowed": l.allowed,
        })),
    })
}
