//! What `kobai grad` prints: text for people, JSON for scripts, and a warning
//! when an error estimate cannot be trusted.

use kobai::numpy_style::{numpy_str, py_float_repr};
use serde_json::{Value, json};

use super::grad::{Args, Report, SchemeName};

/// The report in words, one quantity a line.
pub(super) fn as_text(args: &Args, r: &Report) -> String {
    let g = &r.numerical;
    let mut text = format!(
        "f(x) = {} at x = {} is {}\n\
         numerical gradient  {}  ({})\n",
        r.formula.split_whitespace().collect::<Vec<_>>().join(" "),
        numpy_str(&r.point),
        py_float_repr(r.value),
        numpy_str(&g.value),
        method(args.scheme, r.h),
    );
    if let Some(error) = &g.error {
        let status: Vec<&str> = g.status.iter().map(|s| s.name()).collect();
        text += &format!(
            "error estimate      {}\n\
             status              [{}]\n\
             calls of f          {}\n",
            numpy_str(error),
            status.join(", "),
            g.evaluations,
        );
    }
    let difference = if r.largest_difference.is_finite() {
        format!("{:.3e}{}", r.largest_difference, against_estimate(r))
    } else {
        format!(
            "{}  (the numerical gradient is not finite)",
            py_float_repr(r.largest_difference)
        )
    };
    text += &format!(
        "exact gradient      {}  (dual numbers)\n\
         largest difference  {difference}\n",
        numpy_str(&r.exact),
    );
    text
}

/// How the numerical gradient was taken, e.g. `central difference, h = 0.0001`.
fn method(scheme: SchemeName, h: Option<f64>) -> String {
    let name = match scheme {
        SchemeName::Book | SchemeName::Central => "central difference",
        SchemeName::Forward => "forward difference",
        SchemeName::Backward => "backward difference",
        SchemeName::FivePoint => "five-point stencil",
        SchemeName::Richardson => "richardson extrapolation",
    };
    let step = match (h, scheme) {
        (Some(h), SchemeName::Richardson) => format!("largest h = {}", py_float_repr(h)),
        (Some(h), _) => format!("h = {}", py_float_repr(h)),
        (None, _) => "automatic step".to_string(),
    };
    format!("{name}, {step}")
}

/// Whether the true errors (numerical − exact) lie within the estimated ones,
/// allowing a few ulps for the rounding of the exact gradient itself. Empty
/// without estimates or where the exact gradient is not finite.
fn against_estimate(r: &Report) -> String {
    let Some(error) = &r.numerical.error else {
        return String::new();
    };
    let mut beyond = Vec::new();
    for (i, ((n, e), est)) in r
        .numerical
        .value
        .iter()
        .zip(&r.exact)
        .zip(error)
        .enumerate()
    {
        if !e.is_finite() {
            return String::new();
        }
        let slack = 8.0 * f64::EPSILON * n.abs().max(e.abs());
        let within = (n - e).abs() <= est + slack;
        if !within {
            beyond.push(i.to_string());
        }
    }
    match beyond.as_slice() {
        [] => "  (within the error estimate)".to_string(),
        _ => format!(
            "  (larger than the error estimate at index {})",
            beyond.join(", ")
        ),
    }
}

/// A `warning: …` line when the numerical gradient is not finite, or a
/// component's error estimate is not to be trusted (only schemes that
/// estimate errors are judged).
pub(super) fn warning(r: &Report) -> Option<String> {
    let bad: Vec<String> = r
        .numerical
        .value
        .iter()
        .enumerate()
        .filter(|(_, v)| !v.is_finite())
        .map(|(i, v)| format!("[{i}] is {}", py_float_repr(*v)))
        .collect();
    if !bad.is_empty() {
        return Some(format!(
            "warning: the numerical gradient at {} is not finite ({}): the step is too small \
             (or too large) for f's rounding; try the default step",
            numpy_str(&r.point),
            bad.join(", ")
        ));
    }
    r.numerical.error.as_ref()?;
    let doubtful: Vec<String> = r
        .numerical
        .status
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.is_trusted())
        .map(|(i, s)| format!("[{i}] is {}", s.name()))
        .collect();
    if doubtful.is_empty() {
        return None;
    }
    Some(format!(
        "warning: the numerical gradient at {} did not settle ({}): the value may be \
         wrong and its error estimate is a guess",
        numpy_str(&r.point),
        doubtful.join(", ")
    ))
}

/// The report as one JSON object.
pub(super) fn as_json(args: &Args, r: &Report) -> Value {
    let g = &r.numerical;
    let status: Vec<&str> = g.status.iter().map(|s| s.name()).collect();
    json!({
        "formula": r.formula,
        "point": r.point.to_vec(),
        "value": r.value,
        "numerical": g.value.to_vec(),
        "exact": r.exact.to_vec(),
        "largest_difference": r.largest_difference,
        "numerical_finite": g.value.iter().all(|v| v.is_finite()),
        "scheme": args.scheme.name(),
        "h": r.h,
        "error": g.error.as_ref().map(|e| e.to_vec()),
        "status": status,
        "evaluations": g.evaluations,
    })
}
