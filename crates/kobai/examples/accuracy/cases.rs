//! The test functions of the accuracy table, each with its exact derivative.
//! Shared by `examples/accuracy_table.rs` and `tests/accuracy.rs`.

use kobai::functions::cross_entropy_error_with_delta;
use kobai::numerical_gradient::{Dual64, DualNum};
use kobai::{rosenbrock, rosenbrock_gradient, softmax};
use ndarray::{Array1, Array2, ArrayRef1, array};

/// A test function of a flat vector.
pub type TestFn = Box<dyn Fn(&ArrayRef1<f64>) -> f64 + Sync>;

/// The same function over dual numbers, for the exact mode.
pub type DualFn = Box<dyn Fn(&ArrayRef1<Dual64>) -> Dual64 + Sync>;

/// A function of a flat vector, its point, and its exact gradient there.
pub struct Case {
    pub name: &'static str,
    pub f: TestFn,
    pub dual: DualFn,
    pub x: Array1<f64>,
    pub exact: Array1<f64>,
}

/// A scalar function, the same over dual numbers, and its exact derivative.
type Scalar = (fn(f64) -> f64, fn(Dual64) -> Dual64, fn(f64) -> f64);

fn scalar(name: &'static str, (f, dual, df): Scalar, x: f64) -> Case {
    Case {
        name,
        f: Box::new(move |v: &ArrayRef1<f64>| f(v[0])),
        dual: Box::new(move |v: &ArrayRef1<Dual64>| dual(v[0])),
        x: array![x],
        exact: array![df(x)],
    }
}

/// The notebook's simpleNet weights (In[12]) and input.
pub fn simple_net_w() -> Array2<f64> {
    array![
        [0.47355232, 0.9977393, 0.84668094],
        [0.85557411, 0.03563661, 0.69422093]
    ]
}

/// The loss of simpleNet as a function of its flattened 2×3 weights, without
/// the 1e-7 inside the log, so that its exact gradient is outer(x, softmax(xW) − t).
fn simple_net_case() -> Case {
    let x = array![0.6, 0.9];
    let t = array![0.0, 0.0, 1.0];
    let w = simple_net_w();
    let y = softmax(&x.dot(&w)).expect("finite scores");
    let exact = Array2::from_shape_fn((2, 3), |(i, j)| x[i] * (y[j] - t[j]));
    let (x2, t2) = (x.clone(), t.clone());
    assert_eq!(
        t,
        array![0.0, 0.0, 1.0],
        "the dual version below assumes label 2"
    );
    Case {
        name: "simpleNet loss, 2×3 W",
        f: Box::new(move |flat: &ArrayRef1<f64>| {
            let w = flat.to_shape((2, 3)).expect("six weights");
            let y = softmax(&x2.dot(&w)).expect("finite scores");
            cross_entropy_error_with_delta(&y, &t2, 0.0).expect("valid targets")
        }),
        dual: Box::new(move |flat: &ArrayRef1<Dual64>| {
            let scores: Vec<Dual64> = (0..3)
                .map(|j| flat[j] * x[0] + flat[3 + j] * x[1])
                .collect();
            let max = scores
                .iter()
                .map(|s| s.re)
                .fold(f64::NEG_INFINITY, f64::max);
            let exps: Vec<Dual64> = scores.iter().map(|s| (*s - max).exp()).collect();
            let sum = exps.iter().fold(Dual64::from(0.0), |a, b| a + *b);
            -(exps[2] / sum).ln()
        }),
        x: w.flatten().to_owned(),
        exact: exact.flatten().to_owned(),
    }
}

fn rosenbrock_case(name: &'static str, n: usize) -> Case {
    let x = Array1::from_shape_fn(n, |i| if i % 2 == 0 { -1.2 } else { 1.0 });
    let exact = rosenbrock_gradient(&x).expect("n ≥ 2");
    Case {
        name,
        f: Box::new(|v: &ArrayRef1<f64>| rosenbrock(v).expect("n ≥ 2")),
        dual: Box::new(|v: &ArrayRef1<Dual64>| {
            v.iter()
                .zip(v.iter().skip(1))
                .fold(Dual64::from(0.0), |sum, (a, b)| {
                    let (p, q) = (*b - *a * *a, -*a + 1.0);
                    sum + p * p * 100.0 + q * q
                })
        }),
        x,
        exact,
    }
}

/// Every case of the table, in its order.
pub fn all() -> Vec<Case> {
    vec![
        Case {
            name: "x0² + x1² at (3, 4)",
            f: Box::new(|v: &ArrayRef1<f64>| v[0] * v[0] + v[1] * v[1]),
            dual: Box::new(|v: &ArrayRef1<Dual64>| v[0] * v[0] + v[1] * v[1]),
            x: array![3.0, 4.0],
            exact: array![6.0, 8.0],
        },
        scalar("exp at 1e-8", (f64::exp, |x| x.exp(), f64::exp), 1e-8),
        scalar("exp at 0", (f64::exp, |x| x.exp(), f64::exp), 0.0),
        scalar("exp at 1", (f64::exp, |x| x.exp(), f64::exp), 1.0),
        scalar("exp at -20", (f64::exp, |x| x.exp(), f64::exp), -20.0),
        scalar("exp at 20", (f64::exp, |x| x.exp(), f64::exp), 20.0),
        scalar("sin at 1", (f64::sin, |x| x.sin(), f64::cos), 1.0),
        scalar("sin at 1e4", (f64::sin, |x| x.sin(), f64::cos), 1e4),
        scalar("log at 0.01", (f64::ln, |x| x.ln(), |x| 1.0 / x), 0.01),
        scalar(
            "x^10 at 2",
            (|x| x.powi(10), |x| x.powi(10), |x| 10.0 * x.powi(9)),
            2.0,
        ),
        scalar(
            "1/x at 1e-3",
            (|x| 1.0 / x, |x| x.recip(), |x| -1.0 / (x * x)),
            1e-3,
        ),
        rosenbrock_case("Rosenbrock, 2-D", 2),
        rosenbrock_case("Rosenbrock, 10-D", 10),
        simple_net_case(),
    ]
}

/// The largest relative error over the components, `|g − exact| / |exact|`
/// (absolute where the exact value is 0).
pub fn max_relative_error(g: &Array1<f64>, exact: &Array1<f64>) -> f64 {
    g.iter()
        .zip(exact)
        .map(|(g, e)| (g - e).abs() / if *e == 0.0 { 1.0 } else { e.abs() })
        .fold(0.0, f64::max)
}
