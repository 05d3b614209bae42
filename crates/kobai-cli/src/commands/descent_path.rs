//! A descent of a formula, step by step, keeping only what is shown: at most
//! [`KEPT_POINTS`] evenly spaced steps (the start and the end among them) for
//! the JSON, and for the picture the path thinned by its shape
//! ([`ThinPath`]: every corner wider than the picture shows, at most 2000
//! points), so a million steps need neither a million points in memory nor a
//! million-point SVG.

use anyhow::{Context, Result, ensure};
use kobai::error::short_number;
use kobai::numpy_style::{numpy_str, py_float_repr};
use kobai::{Formula, Optimizer, minimize};

use crate::plot::ThinPath;
use ndarray::Array1;

/// The most points a descent keeps, besides its start.
pub const KEPT_POINTS: usize = 1000;

/// The most steps a descent may take: seconds to minutes of work.
pub const MAX_STEPS: usize = 100_000_000;

/// What a descent kept: `(step, point)` pairs from step 0 to the last.
#[derive(Debug)]
pub struct Descent {
    pub kept: Vec<(usize, Array1<f64>)>,
    /// The (x0, x1) path thinned for drawing (empty for one coordinate).
    drawn: Vec<(f64, f64)>,
}

impl Descent {
    /// The point after the last step.
    pub fn end(&self) -> &Array1<f64> {
        &self.kept[self.kept.len() - 1].1
    }

    /// The path as (x0, x1) pairs thinned for drawing: its shape at the
    /// scale of a picture, the first and the last point among them.
    pub fn plane(&self) -> Vec<(f64, f64)> {
        self.drawn.clone()
    }
}

/// `--steps` must be from 1 to [`MAX_STEPS`].
pub fn check_steps(steps: usize) -> Result<()> {
    ensure!(steps > 0, "--steps must be at least 1, got 0");
    ensure!(
        steps <= MAX_STEPS,
        "--steps {steps} is over the limit of {MAX_STEPS}: each step evaluates f twice per \
         coordinate, and more steps would take hours"
    );
    Ok(())
}

/// `steps` steps of `optimizer` down `formula` from `start` (the same bits
/// as one [`minimize`] call), with `--steps`, the start and every step
/// checked: f must stay finite, and a descent that leaves the finite
/// numbers says at which step.
pub fn descend(
    formula: &Formula,
    start: &Array1<f64>,
    optimizer: &mut dyn Optimizer,
    steps: usize,
) -> Result<Descent> {
    check_steps(steps)?;
    let f0 = formula.evaluate(start)?;
    ensure!(
        f0.is_finite(),
        "f is {} at the start {}; start where f is finite",
        short_number(f0),
        numpy_str(start)
    );
    let every = steps.div_ceil(KEPT_POINTS).max(1);
    let mut kept = vec![(0, start.clone())];
    let mut drawn = ThinPath::default();
    let plane = |p: &Array1<f64>| (p.len() >= 2).then(|| (p[0], p[1]));
    if let Some(p) = plane(start) {
        drawn.push(p);
    }
    let mut x = start.clone();
    for step in 1..=steps {
        let diverged = || {
            format!(
                "the descent left the finite numbers at step {step} of {steps} (from x = {}); \
                 try a smaller learning rate",
                numpy_str(&x)
            )
        };
        let mut path =
            minimize(|p| formula.evaluate(p), &x, optimizer, 1).with_context(diverged)?;
        let next = path.pop().context("minimize returns the path")?;
        let value = formula.evaluate(&next)?;
        ensure!(
            value.is_finite(),
            "{} (f is {})",
            diverged(),
            py_float_repr(value)
        );
        x = next;
        if let Some(p) = plane(&x) {
            drawn.push(p);
        }
        if step % every == 0 || step == steps {
            kept.push((step, x.clone()));
        }
    }
    Ok(Descent {
        kept,
        drawn: drawn.into_points(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kobai::Momentum;

    #[test]
    fn step_by_step_is_one_minimize_call_to_the_bit_and_keeps_few_points() -> Result<()> {
        let formula = Formula::parse("x^2/20 + y^2")?;
        let start = Array1::from(vec![-7.0, 2.0]);
        let whole = minimize(
            |p| formula.evaluate(p),
            &start,
            &mut Momentum::new(0.1, 0.9)?,
            2500,
        )?;
        let descent = descend(&formula, &start, &mut Momentum::new(0.1, 0.9)?, 2500)?;
        assert_eq!(descent.end(), &whole[2500]);
        assert_eq!(descent.kept.len(), 1 + 834, "every third step and the last");
        let drawn = descent.plane();
        assert!(drawn.len() <= 2000 && drawn.len() > 100, "{}", drawn.len());
        assert_eq!(drawn[0], (-7.0, 2.0));
        assert_eq!(drawn[drawn.len() - 1], (whole[2500][0], whole[2500][1]));
        for (step, point) in &descent.kept {
            assert_eq!(point, &whole[*step], "step {step}");
        }
        Ok(())
    }

    #[test]
    fn bad_starts_sizes_and_divergence_are_errors() -> Result<()> {
        let sgd = || Momentum::new(0.1, 0.0);
        let f = Formula::parse("1/x")?;
        let err = descend(&f, &Array1::from(vec![0.0]), &mut sgd()?, 3).unwrap_err();
        assert_eq!(
            err.to_string(),
            "f is inf at the start [0.]; start where f is finite"
        );
        let err = descend(&f, &Array1::from(vec![1.0]), &mut sgd()?, MAX_STEPS + 1).unwrap_err();
        assert!(
            err.to_string().contains("over the limit of 100000000"),
            "{err}"
        );
        let steep = Formula::parse("exp(x^2)")?;
        let err = descend(
            &steep,
            &Array1::from(vec![3.0]),
            &mut Momentum::new(1.0, 0.0)?,
            50,
        )
        .unwrap_err();
        assert!(
            format!("{err:#}").starts_with("the descent left the finite numbers at step "),
            "{err:#}"
        );
        Ok(())
    }
}
