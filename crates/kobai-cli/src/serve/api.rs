//! The JSON API: `/api/grad`, `/api/descend` (the CLI's own JSON) and
//! `/api/surface` (f and ∇f on a grid, for the contour lines and arrows).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State as Shared};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use kobai::Formula;
use ndarray::Array1;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, watch};

use super::net_api::Networks;
use super::{ApiError, Limits};

/// What every request shares: the limits and the permits to compute.
#[derive(Clone)]
pub struct State {
    limits: Limits,
    pub(super) permits: Arc<Semaphore>,
    pub(super) networks: Arc<Networks>,
}

impl State {
    /// `stopping` turns true when the server stops, ending training streams.
    pub fn new(limits: Limits, stopping: watch::Receiver<bool>) -> Self {
        Self {
            limits,
            permits: Arc::new(Semaphore::new(limits.concurrent)),
            networks: Arc::new(Networks::new(stopping)),
        }
    }

    /// Runs `work` on a blocking thread once a permit is free, within the
    /// time limit.
    pub(super) async fn compute<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let limit = self.limits.time;
        let late = || {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request took longer than {} s; ask for less",
                    limit.as_secs()
                ),
            )
        };
        let permit = tokio::time::timeout(limit, Arc::clone(&self.permits).acquire_owned())
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "the server is busy; try again",
                )
            })?
            .map_err(|_| {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the server is stopping")
            })?;
        let task = tokio::task::spawn_blocking(move || {
            let result = work();
            drop(permit);
            result
        });
        match tokio::time::timeout(limit, task).await {
            Err(_) => Err(late()),
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(ApiError::bad("the request could not be computed")),
        }
    }

    /// `kobai ARGS --json` as the answer: the very bytes it prints, or its
    /// error as a 400.
    async fn command(&self, args: Vec<String>) -> Response {
        let answer = self
            .compute(move || {
                let (result, printed) = crate::output::capture(|| crate::run_args(&args));
                result.map_err(ApiError::bad)?;
                // Sent as printed: parsing and printing again could change a
                // float's last digit.
                serde_json::from_str::<Value>(&printed)
                    .map_err(|_| ApiError::bad("the command printed no JSON"))?;
                Ok(printed)
            })
            .await;
        match answer {
            Ok(text) => ([(header::CONTENT_TYPE, "application/json")], text).into_response(),
            Err(e) => e.into_response(),
        }
    }

    /// The formula in `f`, checked for size.
    fn formula<'q>(&self, q: &'q HashMap<String, String>) -> Result<&'q str, ApiError> {
        let f = required(q, "f")?;
        if f == "-" || f.starts_with('@') {
            // The command line reads `-` and `@FILE`; the server must not.
            return Err(ApiError::bad(
                "a formula from standard input or a file (- or @FILE) is for the command line",
            ));
        }
        if f.len() > self.limits.formula_bytes {
            return Err(ApiError::bad(format!(
                "the formula is {} bytes, over the limit of {}",
                f.len(),
                self.limits.formula_bytes
            )));
        }
        Ok(f)
    }
}

pub(super) type Params = Result<Query<HashMap<String, String>>, QueryRejection>;

/// The query's parameters, or a 400 saying why they cannot be read.
pub(super) fn params(query: Params) -> Result<HashMap<String, String>, ApiError> {
    query
        .map(|Query(q)| q)
        .map_err(|e| ApiError::bad(format!("malformed query: {}", e.body_text())))
}

fn required<'q>(q: &'q HashMap<String, String>, key: &str) -> Result<&'q str, ApiError> {
    q.get(key)
        .map(String::as_str)
        .ok_or_else(|| ApiError::bad(format!("the query needs {key}=…")))
}

/// `--name=value` for each of `keys` given in the query.
fn options(q: &HashMap<String, String>, keys: &[(&str, &str)]) -> Vec<String> {
    keys.iter()
        .filter_map(|(key, option)| q.get(*key).map(|v| format!("--{option}={v}")))
        .collect()
}

/// `GET /api/grad?f=…&at=…[&scheme=…][&h=…]`: `kobai grad F --at … --json`.
pub async fn grad(Shared(state): Shared<State>, query: Params) -> Response {
    let run = || -> Result<Vec<String>, ApiError> {
        let q = params(query)?;
        let f = state.formula(&q)?;
        required(&q, "at")?;
        let mut args = vec!["grad".to_string(), "--json".to_string()];
        args.extend(options(
            &q,
            &[("at", "at"), ("scheme", "scheme"), ("h", "h")],
        ));
        args.extend(["--".to_string(), f.to_string()]);
        Ok(args)
    };
    match run() {
        Ok(args) => state.command(args).await,
        Err(e) => e.into_response(),
    }
}

/// `GET /api/hsweep?f=…&at=…`: `kobai grad F --at … --h-sweep --no-plots
/// --json`, the error of each scheme against the step.
pub async fn hsweep(Shared(state): Shared<State>, query: Params) -> Response {
    let run = || -> Result<Vec<String>, ApiError> {
        let q = params(query)?;
        let f = state.formula(&q)?;
        required(&q, "at")?;
        let mut args = ["grad", "--json", "--h-sweep", "--no-plots"]
            .map(String::from)
            .to_vec();
        args.extend(options(&q, &[("at", "at")]));
        args.extend(["--".to_string(), f.to_string()]);
        Ok(args)
    };
    match run() {
        Ok(args) => state.command(args).await,
        Err(e) => e.into_response(),
    }
}

/// `GET /api/descend?f=…&from=…[&optimizer=…][&lr=…][&steps=…]`:
/// `kobai descend F --from … --json`.
pub async fn descend(Shared(state): Shared<State>, query: Params) -> Response {
    let run = || -> Result<Vec<String>, ApiError> {
        let q = params(query)?;
        let f = state.formula(&q)?;
        required(&q, "from")?;
        if let Some(steps) = q.get("steps") {
            let n: usize = steps
                .parse()
                .map_err(|_| ApiError::bad(format!("steps={steps} is not a whole number")))?;
            if n > state.limits.steps {
                return Err(ApiError::bad(format!(
                    "steps={n} is over the limit of {}",
                    state.limits.steps
                )));
            }
        }
        let mut args = vec!["descend".to_string(), "--json".to_string()];
        args.extend(options(
            &q,
            &[
                ("from", "from"),
                ("optimizer", "optimizer"),
                ("lr", "lr"),
                ("steps", "steps"),
            ],
        ));
        args.extend(["--".to_string(), f.to_string()]);
        Ok(args)
    };
    match run() {
        Ok(args) => state.command(args).await,
        Err(e) => e.into_response(),
    }
}

/// A checked `/api/surface` query: the formula, the two ranges, the side.
type SurfaceQuery = (String, (f64, f64), (f64, f64), usize);

/// `GET /api/surface?f=…&x0=MIN,MAX&x1=MIN,MAX&n=N`: f and its exact
/// gradient on an n×n grid (x0 varying fastest); null where not finite.
pub async fn surface(Shared(state): Shared<State>, query: Params) -> Response {
    let prepared = || -> Result<SurfaceQuery, ApiError> {
        let q = params(query)?;
        let f = state.formula(&q)?.to_string();
        let range = |key: &str| -> Result<(f64, f64), ApiError> {
            let text = q.get(key).map_or("-3,3", String::as_str);
            crate::point::parse_range(&format!("{key}="), text)
                .map_err(|e| ApiError::bad(e.to_string()))
        };
        let n = match q.get("n") {
            None => 60,
            Some(text) => text
                .parse::<usize>()
                .map_err(|_| ApiError::bad(format!("n={text} is not a whole number")))?,
        };
        if !(2..=state.limits.grid_side).contains(&n) {
            return Err(ApiError::bad(format!(
                "n={n} is outside 2 to {}",
                state.limits.grid_side
            )));
        }
        Ok((f, range("x0")?, range("x1")?, n))
    };
    let (f, x0, x1, n) = match prepared() {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let answer = state.compute(move || surface_json(&f, x0, x1, n)).await;
    match answer {
        Ok(value) => Json(value).into_response(),
        Err(e) => e.into_response(),
    }
}

fn surface_json(f: &str, x0: (f64, f64), x1: (f64, f64), n: usize) -> Result<Value, ApiError> {
    let formula = Formula::parse(f).map_err(|e| ApiError::bad(e.to_string()))?;
    if formula.arity() > 2 {
        return Err(ApiError::bad(format!(
            "the formula uses {} variables; the plot shows formulas of x0 and x1",
            formula.arity()
        )));
    }
    let axis = |(lo, hi): (f64, f64)| -> Vec<f64> {
        (0..n)
            .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
            .collect()
    };
    let (xs, ys) = (axis(x0), axis(x1));
    let finite = |v: f64| if v.is_finite() { json!(v) } else { Value::Null };
    let mut values = Vec::with_capacity(n * n);
    let mut gradients = Vec::with_capacity(n * n);
    for &y in &ys {
        for &x in &xs {
            let mut point = vec![x, y];
            point.truncate(formula.arity());
            let point = Array1::from(point);
            values.push(formula.evaluate(&point).map_or(Value::Null, finite));
            gradients.push(match formula.gradient(&point) {
                Ok(g) if g.iter().all(|v| v.is_finite()) => {
                    let mut g = g.to_vec();
                    g.resize(2, 0.0);
                    json!(g)
                }
                _ => Value::Null,
            });
        }
    }
    Ok(json!({
        "formula": formula.source(),
        "n": n,
        "xs": xs,
        "ys": ys,
        "values": values,
        "gradients": gradients,
    }))
}
