//! What the page asks to train, read from the JSON body of `POST /api/net`
//! and checked against the limits before anything is built.
//!
//! ```json
//! {"data": "spiral", "points": 400, "noise": 0.1, "seed": 1, "test": 0.5,
//!  "features": ["x0", "x1"], "hidden": [8, 8], "activation": "tanh",
//!  "optimizer": "sgd", "lr": 0.03, "batch": 10, "l2": 0, "dropout": 0}
//! ```
//! `"data": "custom"` takes the points themselves instead: `"custom":
//! [[x0, x1, label], …]`. Every key may be left out; the defaults are the ones
//! above. An unknown key is an error, so a misspelt option is not ignored.

use kobai::data::Planar;
use kobai::nets::Activation;
use serde_json::{Map, Value};

use super::ApiError;
use crate::commands::optimizer_choice::OptimizerName;

/// The most points a dataset may have.
pub const MAX_POINTS: usize = 10_000;
/// The most hidden layers.
pub const MAX_HIDDEN_LAYERS: usize = 8;
/// The most units in one hidden layer.
pub const MAX_UNITS: usize = 64;
/// The most classes a custom dataset may use (labels 0 to 7).
pub const MAX_CLASSES: usize = 8;

/// Where the points come from.
#[derive(Debug, Clone, PartialEq)]
pub enum DataChoice {
    /// Generated: which, how many, how noisy.
    Generated {
        /// The kind.
        kind: Planar,
        /// How many points.
        points: usize,
        /// From 0 to 1.
        noise: f64,
    },
    /// The page's own points, `(x0, x1, label)`.
    Custom(Vec<(f64, f64, usize)>),
}

/// An input feature computed from the point `(x0, x1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    X0,
    X1,
    X0Squared,
    X1Squared,
    X0X1,
    SinX0,
    SinX1,
}

impl Feature {
    /// Every feature, as the page lists them.
    pub const ALL: [Feature; 7] = [
        Feature::X0,
        Feature::X1,
        Feature::X0Squared,
        Feature::X1Squared,
        Feature::X0X1,
        Feature::SinX0,
        Feature::SinX1,
    ];

    /// The name the page sends.
    pub fn name(self) -> &'static str {
        match self {
            Feature::X0 => "x0",
            Feature::X1 => "x1",
            Feature::X0Squared => "x0^2",
            Feature::X1Squared => "x1^2",
            Feature::X0X1 => "x0*x1",
            Feature::SinX0 => "sin(x0)",
            Feature::SinX1 => "sin(x1)",
        }
    }

    /// Its value at `(x0, x1)`.
    pub fn at(self, x0: f64, x1: f64) -> f64 {
        match self {
            Feature::X0 => x0,
            Feature::X1 => x1,
            Feature::X0Squared => x0 * x0,
            Feature::X1Squared => x1 * x1,
            Feature::X0X1 => x0 * x1,
            Feature::SinX0 => x0.sin(),
            Feature::SinX1 => x1.sin(),
        }
    }
}

/// A checked training request.
#[derive(Debug, Clone, PartialEq)]
pub struct NetConfig {
    pub data: DataChoice,
    /// The seed of the data, the split, the weights, the batches and dropout.
    pub seed: u64,
    /// The fraction of the points held out for testing, 0 to 0.9.
    pub test: f64,
    pub features: Vec<Feature>,
    pub hidden: Vec<usize>,
    pub activation: Activation,
    pub optimizer: OptimizerName,
    pub lr: f64,
    pub batch: usize,
    /// Weight decay λ.
    pub l2: f64,
    /// The dropout ratio after each activation; 0 for none.
    pub dropout: f64,
}

const KEYS: [&str; 14] = [
    "data",
    "points",
    "noise",
    "custom",
    "seed",
    "test",
    "features",
    "hidden",
    "activation",
    "optimizer",
    "lr",
    "batch",
    "l2",
    "dropout",
];

impl NetConfig {
    /// Reads and checks the request body.
    ///
    /// # Errors
    /// A 400 naming the first wrong key and why.
    pub fn from_json(body: &[u8]) -> Result<Self, ApiError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::bad(format!("the body is not JSON: {e}")))?;
        let Value::Object(map) = value else {
            return Err(ApiError::bad("the body must be a JSON object"));
        };
        if let Some(key) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(ApiError::bad(format!(
                "unknown key {key:?}; the keys are {}",
                KEYS.join(", ")
            )));
        }
        let q = Fields(&map);
        let data = match q.text("data")?.unwrap_or("spiral") {
            "custom" => DataChoice::Custom(custom_points(map.get("custom"))?),
            name => {
                let kind: Planar = name.parse().map_err(|_| {
                    ApiError::bad(format!(
                        "data {name:?} is not one of circles, xor, gaussians, spiral, custom"
                    ))
                })?;
                let points = q.whole("points")?.unwrap_or(400);
                if !(2..=MAX_POINTS).contains(&points) {
                    return Err(ApiError::bad(format!(
                        "points = {points} is outside 2 to {MAX_POINTS}"
                    )));
                }
                let noise = q.number("noise", 0.0, 1.0)?.unwrap_or(0.1);
                DataChoice::Generated {
                    kind,
                    points,
                    noise,
                }
            }
        };
        let hidden = match map.get("hidden") {
            None => vec![8, 8],
            Some(Value::Array(sizes)) => sizes
                .iter()
                .map(|v| {
                    v.as_u64()
                        .and_then(|n| usize::try_from(n).ok())
                        .filter(|n| (1..=MAX_UNITS).contains(n))
                        .ok_or_else(|| {
                            ApiError::bad(format!(
                                "hidden layer size {v} is not a whole number from 1 to {MAX_UNITS}"
                            ))
                        })
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(other) => {
                return Err(ApiError::bad(format!(
                    "hidden must be a list of layer sizes, not {other}"
                )));
            }
        };
        if hidden.len() > MAX_HIDDEN_LAYERS {
            return Err(ApiError::bad(format!(
                "{} hidden layers are over the limit of {MAX_HIDDEN_LAYERS}",
                hidden.len()
            )));
        }
        let features = match map.get("features") {
            None => vec![Feature::X0, Feature::X1],
            Some(Value::Array(names)) => names
                .iter()
                .map(|v| {
                    Feature::ALL
                        .into_iter()
                        .find(|f| v.as_str() == Some(f.name()))
                        .ok_or_else(|| {
                            let known: Vec<&str> = Feature::ALL.iter().map(|f| f.name()).collect();
                            ApiError::bad(format!("feature {v} is not one of {}", known.join(", ")))
                        })
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(other) => {
                return Err(ApiError::bad(format!(
                    "features must be a list of names, not {other}"
                )));
            }
        };
        if features.is_empty() {
            return Err(ApiError::bad("choose at least one input feature"));
        }
        let activation = match q.text("activation")?.unwrap_or("tanh") {
            "relu" => Activation::Relu,
            "tanh" => Activation::Tanh,
            "sigmoid" => Activation::Sigmoid,
            other => {
                return Err(ApiError::bad(format!(
                    "activation {other:?} is not one of relu, tanh, sigmoid"
                )));
            }
        };
        let optimizer = match q.text("optimizer")? {
            None => OptimizerName::Sgd,
            Some(name) => <OptimizerName as clap::ValueEnum>::from_str(name, false).map_err(|_| {
                ApiError::bad(format!(
                    "optimizer {name:?} is not one of sgd, momentum, nesterov, adagrad, rmsprop, adam"
                ))
            })?,
        };
        let lr = q.number("lr", 0.0, 10.0)?.unwrap_or(0.03);
        if lr <= 0.0 {
            return Err(ApiError::bad("lr must be above 0"));
        }
        let batch = q.whole("batch")?.unwrap_or(10);
        if !(1..=MAX_POINTS).contains(&batch) {
            return Err(ApiError::bad(format!(
                "batch = {batch} is outside 1 to {MAX_POINTS}"
            )));
        }
        Ok(NetConfig {
            data,
            seed: q.seed()?,
            test: q.number("test", 0.0, 0.9)?.unwrap_or(0.5),
            features,
            hidden,
            activation,
            optimizer,
            lr,
            batch,
            l2: q.number("l2", 0.0, 10.0)?.unwrap_or(0.0),
            dropout: q.number("dropout", 0.0, 0.9)?.unwrap_or(0.0),
        })
    }
}

/// The body's fields, read with messages that name them.
struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    fn text(&self, key: &str) -> Result<Option<&str>, ApiError> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(ApiError::bad(format!("{key} must be text, not {other}"))),
        }
    }

    /// A finite number in `lo..=hi`.
    fn number(&self, key: &str, lo: f64, hi: f64) -> Result<Option<f64>, ApiError> {
        let Some(value) = self.0.get(key) else {
            return Ok(None);
        };
        match value.as_f64() {
            Some(v) if (lo..=hi).contains(&v) => Ok(Some(v)),
            _ => Err(ApiError::bad(format!(
                "{key} = {value} is not a number from {lo} to {hi}"
            ))),
        }
    }

    fn whole(&self, key: &str) -> Result<Option<usize>, ApiError> {
        let Some(value) = self.0.get(key) else {
            return Ok(None);
        };
        value
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| ApiError::bad(format!("{key} = {value} is not a whole number")))
    }

    fn seed(&self) -> Result<u64, ApiError> {
        match self.0.get("seed") {
            None => Ok(1),
            Some(value) => value.as_u64().ok_or_else(|| {
                ApiError::bad(format!("seed = {value} is not a whole number from 0"))
            }),
        }
    }
}

/// `[[x0, x1, label], …]`: finite coordinates, labels below [`MAX_CLASSES`].
fn custom_points(value: Option<&Value>) -> Result<Vec<(f64, f64, usize)>, ApiError> {
    let Some(Value::Array(rows)) = value else {
        return Err(ApiError::bad(
            "data \"custom\" needs custom: [[x0, x1, label], …]",
        ));
    };
    if rows.len() < 2 {
        return Err(ApiError::bad(format!(
            "{} custom point{}: add at least 2",
            rows.len(),
            if rows.len() == 1 { "" } else { "s" }
        )));
    }
    if rows.len() > MAX_POINTS {
        return Err(ApiError::bad(format!(
            "{} custom points are over the limit of {MAX_POINTS}",
            rows.len()
        )));
    }
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let bad = || {
                ApiError::bad(format!(
                    "custom point {} is {row}; each must be [x0, x1, label] with finite x0, x1 \
                     and a label from 0 to {}",
                    i + 1,
                    MAX_CLASSES - 1
                ))
            };
            let Some([x0, x1, label]) = row.as_array().map(Vec::as_slice) else {
                return Err(bad());
            };
            let (Some(x0), Some(x1)) = (x0.as_f64(), x1.as_f64()) else {
                return Err(bad());
            };
            let label = label
                .as_u64()
                .and_then(|l| usize::try_from(l).ok())
                .filter(|&l| l < MAX_CLASSES)
                .ok_or_else(bad)?;
            if !(x0.is_finite() && x1.is_finite()) {
                return Err(bad());
            }
            Ok((x0, x1, label))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::strategy::Strategy;

    use super::*;

    fn read(body: &str) -> Result<NetConfig, String> {
        NetConfig::from_json(body.as_bytes()).map_err(|e| e.message)
    }

    #[test]
    fn an_empty_object_gives_the_defaults() {
        let c = read("{}").unwrap();
        assert_eq!(
            c.data,
            DataChoice::Generated {
                kind: Planar::Spiral,
                points: 400,
                noise: 0.1
            }
        );
        assert_eq!(
            (c.hidden.as_slice(), c.batch, c.test),
            (&[8, 8][..], 10, 0.5)
        );
        assert_eq!(c.features, [Feature::X0, Feature::X1]);
    }

    #[test]
    fn every_key_is_read() {
        let c = read(
            r#"{"data":"custom","custom":[[0,1,0],[2.5,-1,3]],"seed":9,"test":0,
                "features":["x0*x1","sin(x1)"],"hidden":[],"activation":"relu",
                "optimizer":"adam","lr":0.001,"batch":2,"l2":0.01,"dropout":0.2}"#,
        )
        .unwrap();
        assert_eq!(
            c.data,
            DataChoice::Custom(vec![(0.0, 1.0, 0), (2.5, -1.0, 3)])
        );
        assert_eq!((c.seed, c.test, c.batch), (9, 0.0, 2));
        assert_eq!(c.features, [Feature::X0X1, Feature::SinX1]);
        assert!(c.hidden.is_empty());
        assert_eq!(
            (c.activation, c.optimizer),
            (Activation::Relu, OptimizerName::Adam)
        );
        assert_eq!((c.lr, c.l2, c.dropout), (0.001, 0.01, 0.2));
    }

    #[test]
    fn bad_bodies_name_what_is_wrong() {
        for (body, says) in [
            ("[1]", "JSON object"),
            ("{", "not JSON"),
            (r#"{"lr":0.1,"epochs":3}"#, "unknown key \"epochs\""),
            (r#"{"data":"moons"}"#, "\"moons\" is not one of"),
            (r#"{"points":10001}"#, "outside 2 to 10000"),
            (r#"{"noise":2}"#, "noise = 2"),
            (
                r#"{"hidden":[8,65]}"#,
                "65 is not a whole number from 1 to 64",
            ),
            (r#"{"hidden":[1,1,1,1,1,1,1,1,1]}"#, "9 hidden layers"),
            (r#"{"hidden":"8,8"}"#, "list of layer sizes"),
            (r#"{"features":[]}"#, "at least one input feature"),
            (r#"{"features":["cos(x0)"]}"#, "\"cos(x0)\" is not one of"),
            (r#"{"activation":"gelu"}"#, "\"gelu\""),
            (r#"{"optimizer":"lbfgs"}"#, "\"lbfgs\""),
            (r#"{"lr":0}"#, "above 0"),
            (r#"{"lr":"fast"}"#, "lr = \"fast\""),
            (r#"{"batch":0}"#, "batch = 0"),
            (r#"{"seed":-1}"#, "seed = -1"),
            (r#"{"test":0.95}"#, "test = 0.95"),
            (r#"{"data":"custom"}"#, "needs custom"),
            (r#"{"data":"custom","custom":[[0,0,1]]}"#, "add at least 2"),
            (
                r#"{"data":"custom","custom":[[0,0,1],[0,0,8]]}"#,
                "custom point 2",
            ),
            (
                r#"{"data":"custom","custom":[[0,0,1],[0,"a",0]]}"#,
                "custom point 2",
            ),
            (
                r#"{"data":"custom","custom":[[0,0,1],[0,0]]}"#,
                "custom point 2",
            ),
        ] {
            let message = read(body).unwrap_err();
            assert!(message.contains(says), "{body}: {message}");
        }
    }

    /// A JSON value for `key`: sometimes sensible, often not.
    fn value_for(key: &'static str) -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let any = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_map(|v| serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)),
            "[a-z0-9^*()]{0,8}".prop_map(Value::from),
        ];
        let sensible: BoxedStrategy<Value> = match key {
            "data" => {
                proptest::sample::select(vec!["circles", "xor", "gaussians", "spiral", "custom"])
                    .prop_map(Value::from)
                    .boxed()
            }
            "points" => (0u64..60).prop_map(Value::from).boxed(),
            "noise" | "test" | "dropout" | "l2" => (0.0..1.0f64).prop_map(Value::from).boxed(),
            "custom" => proptest::collection::vec((-10.0..10.0f64, -10.0..10.0f64, 0u64..9), 0..12)
                .prop_map(|rows| json_rows(&rows))
                .boxed(),
            "features" => proptest::collection::vec(
                proptest::sample::select(vec!["x0", "x1", "x0^2", "sin(x1)", "cos"]),
                0..4,
            )
            .prop_map(Value::from)
            .boxed(),
            "hidden" => proptest::collection::vec(0u64..70, 0..10)
                .prop_map(Value::from)
                .boxed(),
            "lr" => (0.0..12.0f64).prop_map(Value::from).boxed(),
            "batch" => (0u64..40).prop_map(Value::from).boxed(),
            _ => any.clone().boxed(),
        };
        prop_oneof![3 => sensible, 1 => any]
    }

    fn json_rows(rows: &[(f64, f64, u64)]) -> Value {
        Value::from(
            rows.iter()
                .map(|&(a, b, l)| serde_json::json!([a, b, l]))
                .collect::<Vec<_>>(),
        )
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(300))]

        /// Any mix of keys and values is either refused with one line, or
        /// builds a network that trains an epoch and draws a frame.
        #[test]
        fn any_setup_is_refused_in_one_line_or_trains(
            chosen in proptest::collection::vec(proptest::sample::select(KEYS.to_vec()), 0..8)
                .prop_flat_map(|keys| keys.into_iter().map(|k| (proptest::strategy::Just(k), value_for(k))).collect::<Vec<_>>())
        ) {
            let body = Value::Object(chosen.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
            match NetConfig::from_json(body.to_string().as_bytes()) {
                Err(e) => proptest::prop_assert!(!e.message.contains('\n') && e.status.is_client_error(), "{}", e.message),
                Ok(config) => match super::super::net_session::Session::new(config) {
                    Err(e) => proptest::prop_assert!(e.status.is_client_error(), "{}", e.message),
                    Ok(mut session) => {
                        session.run_epoch();
                        let frame = session.frame();
                        proptest::prop_assert_eq!(frame["epoch"].as_u64().unwrap_or(0) + u64::from(frame["finished"] == true), 1);
                    }
                },
            }
        }

        /// Bytes that are not a setup never panic the reader.
        #[test]
        fn any_bytes_are_read_or_refused(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = NetConfig::from_json(&bytes);
        }
    }
}
