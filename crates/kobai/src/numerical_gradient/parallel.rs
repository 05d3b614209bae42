//! [`FiniteDiff::gradient_par`]: the gradient's components on all cores, with
//! the same bits as the serial [`FiniteDiff::gradient`].

use std::time::{Duration, Instant};

use ndarray::{ArrayRef, Dimension};
use rayon::prelude::*;

use super::estimate::GradientEstimate;
use super::finite_diff::{FiniteDiff, assemble};
use super::function_value::FunctionValue;
use crate::check;
use crate::error::Result;

/// Below this much estimated work, threads cost more than they save.
const MIN_PARALLEL_WORK: Duration = Duration::from_micros(500);

impl FiniteDiff {
    /// [`gradient`](Self::gradient) with the components spread over rayon's
    /// threads, for a function that can be shared between threads (`Fn + Sync`).
    ///
    /// The result is **bit-identical** to the serial one: every component is
    /// computed by the same code from the same private copy of `x`, only on
    /// another thread. The first component is timed; if all of them would take
    /// less than about half a millisecond, the rest run serially too. Each
    /// thread keeps one copy of `x` (memory `O(n · threads)`). On an error the
    /// reported component is the first failing one in row-major order, as in
    /// the serial version. When one-sided differences need `f(x)` and the first
    /// component did not compute it, each thread computes it once, so
    /// `evaluations` can exceed the serial count (the values cannot differ).
    ///
    /// # Errors
    /// As [`gradient`](Self::gradient).
    ///
    /// ```
    /// use kobai::numerical_gradient::FiniteDiff;
    /// use ndarray::Array1;
    /// let x = Array1::linspace(-1.0, 1.0, 1000);
    /// let f = |v: &ndarray::ArrayRef1<f64>| v.iter().map(|a| a.sin()).sum::<f64>();
    /// let fd = FiniteDiff::accurate();
    /// let parallel = fd.gradient_par(f, &x)?;
    /// let serial = fd.gradient(f, &x)?;
    /// assert_eq!(parallel, serial);
    /// # Ok::<(), kobai::KobaiError>(())
    /// ```
    pub fn gradient_par<F, R, D>(&self, f: F, x: &ArrayRef<f64, D>) -> Result<GradientEstimate<D>>
    where
        F: Fn(&ArrayRef<f64, D>) -> R + Sync,
        R: FunctionValue,
        D: Dimension,
    {
        self.step.validate()?;
        check::finite("x", x)?;
        let n = x.len();
        if n == 0 {
            return self.gradient(f, x);
        }
        let shape = x.shape().to_vec();
        let probe = x.as_standard_layout().into_owned();
        let mut f_ref = &f;
        // f(x), shared by forward/backward differences, is computed once up front
        // when the scheme needs it, so that no thread depends on another.
        let mut fx = None;
        let mut first_probe = probe.clone();
        let started = Instant::now();
        let first = self.gradient_component(&mut f_ref, &mut first_probe, 0, &mut fx, &shape);
        let work = started.elapsed() * u32::try_from(n).unwrap_or(u32::MAX);
        let first = first?;
        let rest: Vec<Result<_>> = if work < MIN_PARALLEL_WORK {
            (1..n)
                .map(|i| self.gradient_component(&mut f_ref, &mut first_probe, i, &mut fx, &shape))
                .collect()
        } else {
            (1..n)
                .into_par_iter()
                .map_init(
                    || probe.clone(),
                    |local, i| {
                        let mut f_ref = &f;
                        let mut fx = fx;
                        self.gradient_component(&mut f_ref, local, i, &mut fx, &shape)
                    },
                )
                .collect()
        };
        let mut parts = Vec::with_capacity(n);
        parts.push(first);
        for part in rest {
            parts.push(part?);
        }
        Ok(assemble(self.scheme, x, parts))
    }
}
