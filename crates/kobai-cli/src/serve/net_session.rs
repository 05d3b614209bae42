//! One network the page trains: its data, its weights and optimizer, where it
//! is, and the frame the page draws (losses, the decision regions, each
//! hidden unit's map).

use std::time::{Duration, Instant};

use kobai::data::{Batches, Dataset, planar_points};
use kobai::layers::Mode;
use kobai::nets::{MultiLayerNet, Network};
use kobai::{Backprop, Model, Optimizer, Params, cross_entropy_error, softmax};
use ndarray::{Array1, Array2, Axis};
use serde_json::{Value, json};

use super::ApiError;
use super::net_config::{DataChoice, Feature, NetConfig};

/// The decision-region heat map is this many points on a side.
pub const HEAT_SIDE: usize = 64;
/// Each hidden unit's map is this many points on a side.
pub const UNIT_SIDE: usize = 16;
/// The most units of one layer whose maps a frame carries.
pub const UNITS_SHOWN: usize = 16;
/// The most epochs one network may train.
pub const MAX_EPOCHS: u64 = 1_000_000;

/// The square the generated datasets live in, and the default view.
const VIEW: (f64, f64) = (-6.0, 6.0);

/// A point and its class.
type Point = (f64, f64, usize);

/// A network in training.
pub struct Session {
    config: NetConfig,
    net: Network,
    optimizer: Box<dyn Optimizer + Send>,
    train: Dataset,
    test: Option<Dataset>,
    train_points: Vec<Point>,
    test_points: Vec<Point>,
    classes: usize,
    /// `(x0 from, x0 to, x1 from, x1 to)` of the maps.
    domain: [f64; 4],
    batches: Batches,
    epoch: u64,
    steps: u64,
    diverged: Option<String>,
}

impl Session {
    /// Builds the data, the network and the optimizer `config` asks for.
    ///
    /// # Errors
    /// A 400 if the data cannot be split as asked or the network not built.
    pub fn new(config: NetConfig) -> Result<Self, ApiError> {
        let bad = |e: kobai::KobaiError| ApiError::bad(e.to_string());
        let points: Vec<Point> = match &config.data {
            DataChoice::Generated {
                kind,
                points,
                noise,
            } => {
                let data = planar_points(*kind, *points, *noise, config.seed).map_err(bad)?;
                let images = data.images();
                images
                    .rows()
                    .into_iter()
                    .zip(data.labels())
                    .map(|(r, &l)| (r[0], r[1], l))
                    .collect()
            }
            DataChoice::Custom(points) => points.clone(),
        };
        let classes = points.iter().map(|p| p.2 + 1).max().unwrap_or(0).max(2);
        let domain = domain_of(&points);
        let all = dataset(&points, &config.features, classes)?;
        let (train_idx, test_idx) = split(points.len(), config.test, config.seed)?;
        let train = all.subset(&train_idx).map_err(bad)?;
        let test = if test_idx.is_empty() {
            None
        } else {
            Some(all.subset(&test_idx).map_err(bad)?)
        };
        let pick = |idx: &[usize]| idx.iter().map(|&i| points[i]).collect::<Vec<_>>();
        let mut builder = MultiLayerNet::new(config.features.len(), &config.hidden, classes)
            .activation(config.activation)
            .weight_decay(config.l2)
            .seed(config.seed);
        if config.dropout > 0.0 {
            builder = builder.dropout(config.dropout);
        }
        let net = builder.build().map_err(bad)?;
        let optimizer = config
            .optimizer
            .build(config.lr)
            .map_err(|e| ApiError::bad(e.to_string()))?;
        let batch = config.batch.min(train.len());
        let batches = Batches::shuffled(train.len(), batch, config.seed).map_err(bad)?;
        Ok(Session {
            train_points: pick(&train_idx),
            test_points: pick(&test_idx),
            config,
            net,
            optimizer,
            train,
            test,
            classes,
            domain,
            batches,
            epoch: 0,
            steps: 0,
            diverged: None,
        })
    }

    /// What the page needs once: the points, the classes, the domain and
    /// the network's description.
    pub fn description(&self) -> Value {
        let points =
            |p: &[Point]| -> Vec<Value> { p.iter().map(|&(x, y, l)| json!([x, y, l])).collect() };
        json!({
            "train": points(&self.train_points),
            "test": points(&self.test_points),
            "classes": self.classes,
            "domain": self.domain,
            "architecture": self.net.architecture(),
            "features": self.config.features.iter().map(|f| f.name()).collect::<Vec<_>>(),
            "batch": self.batches.batch_size(),
            "parameters": self.net.params().iter().map(|(_, p)| p.len()).sum::<usize>(),
        })
    }

    /// Whether training has stopped for good (diverged or at the epoch limit).
    pub fn finished(&self) -> bool {
        self.diverged.is_some() || self.epoch >= MAX_EPOCHS
    }

    /// The network, for its weights.
    pub fn network(&self) -> &Network {
        &self.net
    }

    /// Trains up to `epochs` whole epochs (at least one), stopping early once
    /// `budget` has passed, at `until_epoch`, or when training diverges.
    pub fn train_for(&mut self, epochs: u64, budget: Duration, until_epoch: u64) {
        let start = Instant::now();
        let until = until_epoch.min(MAX_EPOCHS);
        for _ in 0..epochs.max(1) {
            if self.finished() || self.epoch >= until {
                break;
            }
            self.run_epoch();
            if start.elapsed() >= budget {
                break;
            }
        }
    }

    /// The epochs trained so far.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// One pass over the training points in shuffled batches. A NaN or
    /// infinite loss or gradient stops training and is remembered.
    pub fn run_epoch(&mut self) {
        if self.finished() {
            return;
        }
        for _ in 0..self.batches.batches_per_epoch() {
            let indices = self.batches.next_batch();
            let outcome =
                self.net
                    .batch_gradient(&self.train, &indices)
                    .and_then(|(loss, grads)| {
                        if !loss.is_finite() {
                            return Err(kobai::KobaiError::NonFinite {
                                what: "the loss".into(),
                                at: "this batch".into(),
                                value: loss,
                            });
                        }
                        kobai::step(self.optimizer.as_mut(), &mut self.net, &grads)
                    });
            self.steps += 1;
            if let Err(e) = outcome {
                self.diverged = Some(format!(
                    "training diverged at epoch {}, step {}: {e}. Lower the learning rate and reset.",
                    self.epoch + 1,
                    self.steps
                ));
                return;
            }
        }
        self.epoch += 1;
    }

    /// What the page draws now.
    pub fn frame(&self) -> Value {
        let (train_loss, train_acc) = self.score(&self.train);
        let test = self.test.as_ref().map(|t| self.score(t));
        let metrics = |(loss, accuracy): (f64, f64)| json!({ "loss": finite(loss), "accuracy": finite(accuracy) });
        json!({
            "epoch": self.epoch,
            "steps": self.steps,
            "train": metrics((train_loss, train_acc)),
            "test": test.map(metrics),
            "heat": self.heat_map(),
            "units": self.unit_maps(),
            "diverged": self.diverged,
            "finished": self.finished(),
        })
    }

    /// The loss (softmax cross-entropy, weights as they are, no dropout) and
    /// the accuracy on `data`.
    fn score(&self, data: &Dataset) -> (f64, f64) {
        let x = data.images();
        let Ok(scores) = self.net.predict(&x) else {
            return (f64::NAN, f64::NAN);
        };
        let loss = softmax(&scores)
            .and_then(|p| cross_entropy_error(&p, data.labels()))
            .unwrap_or(f64::NAN);
        let accuracy = self
            .net
            .accuracy(&x, &data.labels().into())
            .unwrap_or(f64::NAN);
        (loss, accuracy)
    }

    /// The grid's points, `side × side`, x0 varying fastest and x1 rising.
    fn grid(&self, side: usize) -> Vec<(f64, f64)> {
        let [x0a, x0b, x1a, x1b] = self.domain;
        let at = |a: f64, b: f64, i: usize| a + (b - a) * (i as f64 + 0.5) / side as f64;
        (0..side)
            .flat_map(|j| (0..side).map(move |i| (at(x0a, x0b, i), at(x1a, x1b, j))))
            .collect()
    }

    /// Each grid point's predicted class and its probability in percent.
    fn heat_map(&self) -> Value {
        let grid = self.grid(HEAT_SIDE);
        let probabilities = self
            .net
            .predict(&inputs(&grid, &self.config.features))
            .and_then(|scores| softmax(&scores));
        let Ok(p) = probabilities else {
            return Value::Null;
        };
        let mut class = Vec::with_capacity(grid.len());
        let mut confidence = Vec::with_capacity(grid.len());
        for row in p.rows() {
            let (best, value) =
                row.iter()
                    .enumerate()
                    .fold(
                        (0, f64::NEG_INFINITY),
                        |acc, (k, &v)| if v > acc.1 { (k, v) } else { acc },
                    );
            class.push(best);
            confidence.push(if value.is_finite() {
                (value * 100.0).round() as i64
            } else {
                0
            });
        }
        json!({ "side": HEAT_SIDE, "class": class, "confidence": confidence })
    }

    /// The output of each hidden unit over the grid, scaled to −100…100 by
    /// its largest magnitude (`scale`).
    fn unit_maps(&self) -> Vec<Value> {
        let grid = self.grid(UNIT_SIDE);
        let x = inputs(&grid, &self.config.features).into_dyn();
        let Ok(outputs) = self.net.activations(x, Mode::Eval) else {
            return Vec::new();
        };
        let kind = self.config.activation.name();
        let mut maps = Vec::new();
        for (layer, output) in outputs {
            if layer
                .strip_prefix(kind)
                .is_none_or(|k| k.parse::<usize>().is_err())
            {
                continue;
            }
            let Ok(output) = output.into_dimensionality::<ndarray::Ix2>() else {
                continue;
            };
            let units = output.ncols();
            for (unit, column) in output.axis_iter(Axis(1)).enumerate().take(UNITS_SHOWN) {
                let scale = column.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
                let values: Vec<i64> = column
                    .iter()
                    .map(|&v| {
                        if scale > 0.0 && scale.is_finite() && v.is_finite() {
                            (v / scale * 100.0).round() as i64
                        } else {
                            0
                        }
                    })
                    .collect();
                maps.push(json!({
                    "layer": layer, "unit": unit, "units": units,
                    "scale": finite(scale), "side": UNIT_SIDE, "values": values,
                }));
            }
        }
        maps
    }
}

/// `v`, or null if it is not finite (JSON has no NaN).
fn finite(v: f64) -> Value {
    if v.is_finite() { json!(v) } else { Value::Null }
}

/// The network's input rows for points `(x0, x1)`.
fn inputs(points: &[(f64, f64)], features: &[Feature]) -> Array2<f64> {
    Array2::from_shape_fn((points.len(), features.len()), |(i, k)| {
        features[k].at(points[i].0, points[i].1)
    })
}

fn dataset(points: &[Point], features: &[Feature], classes: usize) -> Result<Dataset, ApiError> {
    let xy: Vec<(f64, f64)> = points.iter().map(|p| (p.0, p.1)).collect();
    let labels = Array1::from_iter(points.iter().map(|p| p.2));
    Dataset::new(inputs(&xy, features), labels, classes).map_err(|e| ApiError::bad(e.to_string()))
}

/// The indices of the training and test points: `round(n × test)` test points
/// drawn by the seed; the rest train. Errors if either side would be empty
/// (only the test side may be, when `test` is 0).
fn split(n: usize, test: f64, seed: u64) -> Result<(Vec<usize>, Vec<usize>), ApiError> {
    let order = kobai::data::permutation(n, seed ^ 0x9e37_79b9_7f4a_7c15);
    let held = (n as f64 * test).round() as usize;
    if held >= n || (test > 0.0 && held == 0) {
        return Err(ApiError::bad(format!(
            "{n} points with a test fraction of {test} leave {} for training and {held} for \
             testing; add points or change the fraction",
            n.saturating_sub(held)
        )));
    }
    let (test_idx, train_idx) = order.split_at(held);
    Ok((train_idx.to_vec(), test_idx.to_vec()))
}

/// Where the maps are drawn: the generated data's square, or the custom
/// points' box with a tenth added on each side (the square if they fit in it).
fn domain_of(points: &[Point]) -> [f64; 4] {
    let inside = |v: f64| (VIEW.0..=VIEW.1).contains(&v);
    if points.iter().all(|p| inside(p.0) && inside(p.1)) {
        return [VIEW.0, VIEW.1, VIEW.0, VIEW.1];
    }
    let span = |values: &mut dyn Iterator<Item = f64>| {
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        let pad = ((hi - lo) * 0.1).max(0.5);
        (lo - pad, hi + pad)
    };
    let (a, b) = span(&mut points.iter().map(|p| p.0));
    let (c, d) = span(&mut points.iter().map(|p| p.1));
    [a, b, c, d]
}
