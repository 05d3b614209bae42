//! Optimizer state as named arrays (`"W1/m"`), for checkpoints: flattening a
//! per-parameter map into entries, and checking entries before they are loaded.

use std::collections::BTreeMap;

use ndarray::ArrayD;

use crate::check;
use crate::error::{KobaiError, Result};

/// What one field of a parameter's state must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    /// An array of the parameter's shape, any finite values.
    Array,
    /// An array of the parameter's shape, finite and ≥ 0 (a sum of squares).
    NonNegative,
    /// A scalar (no dimension) holding a whole number of steps ≥ 1.
    Count,
}

/// The largest step count an `f64` holds exactly.
const MAX_COUNT: f64 = 9_007_199_254_740_992.0; // 2^53

/// `(name/field, array)` entries for one field kept per parameter name.
pub(super) fn flatten<'a>(
    map: impl IntoIterator<Item = (&'a String, &'a ArrayD<f64>)>,
    field: &str,
) -> impl Iterator<Item = (String, ArrayD<f64>)> {
    map.into_iter()
        .map(move |(name, array)| (format!("{name}/{field}"), array.clone()))
}

/// Groups `state` by parameter name, each group holding one array per field
/// of `fields`, in that order — after checking that every entry is a known
/// field, that none is missing or repeated, and that each holds what its
/// [`Field`] says. `owner` names the optimizer in errors (`"Adam"`).
pub(super) fn grouped(
    owner: &str,
    state: Vec<(String, ArrayD<f64>)>,
    fields: &[(&str, Field)],
) -> Result<BTreeMap<String, Vec<ArrayD<f64>>>> {
    let what = format!("{owner} state");
    let bad = |detail: String| KobaiError::State {
        what: what.clone(),
        detail,
    };
    let mut groups: BTreeMap<String, Vec<Option<ArrayD<f64>>>> = BTreeMap::new();
    for (entry, array) in state {
        let known = entry.rsplit_once('/').and_then(|(param, field)| {
            let index = fields.iter().position(|(f, _)| *f == field)?;
            Some((param.to_owned(), index))
        });
        let Some((param, index)) = known else {
            let names: Vec<&str> = fields.iter().map(|(f, _)| *f).collect();
            return Err(bad(format!(
                "{entry} is unexpected; expected entries named PARAMETER/FIELD with FIELD one of {names:?}"
            )));
        };
        check::finite(&format!("{entry} of the {what}"), &array)?;
        check_field(&entry, &array, fields[index].1).map_err(&bad)?;
        let slots = groups
            .entry(param)
            .or_insert_with(|| vec![None; fields.len()]);
        if slots[index].replace(array).is_some() {
            return Err(bad(format!("{entry} appears twice")));
        }
    }
    groups
        .into_iter()
        .map(|(param, slots)| {
            let arrays = complete(&param, slots, fields).map_err(&bad)?;
            Ok((param, arrays))
        })
        .collect()
}

/// Checks one entry against what its field must hold.
fn check_field(entry: &str, array: &ArrayD<f64>, field: Field) -> Result<(), String> {
    match field {
        Field::Array => Ok(()),
        Field::NonNegative => match array.iter().find(|v| **v < 0.0) {
            Some(v) => Err(format!(
                "{entry} holds {v}; expected a sum of squares, 0 or more"
            )),
            None => Ok(()),
        },
        Field::Count => match array.first() {
            Some(&t) if array.ndim() == 0 && (1.0..=MAX_COUNT).contains(&t) && t.fract() == 0.0 => {
                Ok(())
            }
            _ if array.ndim() != 0 => Err(format!(
                "{entry} has shape {:?}; expected a scalar step count (shape [])",
                array.shape()
            )),
            _ => Err(format!(
                "{entry} is {}; expected a whole number of steps, 1 or more",
                array.first().copied().unwrap_or(f64::NAN)
            )),
        },
    }
}

/// The arrays of one parameter, once every field is present and the arrays
/// (not the scalars) share one shape.
fn complete(
    param: &str,
    slots: Vec<Option<ArrayD<f64>>>,
    fields: &[(&str, Field)],
) -> Result<Vec<ArrayD<f64>>, String> {
    let present = slots
        .iter()
        .zip(fields)
        .find_map(|(s, (f, _))| s.as_ref().map(|_| *f))
        .unwrap_or_default();
    let mut arrays = Vec::with_capacity(slots.len());
    let mut shape: Option<Vec<usize>> = None;
    for (slot, (field, kind)) in slots.into_iter().zip(fields) {
        let Some(array) = slot else {
            return Err(format!(
                "{param}/{field} is missing ({param}/{present} is there)"
            ));
        };
        if *kind != Field::Count {
            match &shape {
                Some(s) if s.as_slice() != array.shape() => {
                    return Err(format!(
                        "{param}/{field} has shape {:?} but the other arrays of {param} have shape {s:?}",
                        array.shape()
                    ));
                }
                Some(_) => {}
                None => shape = Some(array.shape().to_vec()),
            }
        }
        arrays.push(array);
    }
    Ok(arrays)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayD, IxDyn, arr0, array};

    const ADAM: [(&str, Field); 3] = [
        ("m", Field::Array),
        ("v", Field::NonNegative),
        ("t", Field::Count),
    ];

    fn entry(name: &str, array: ArrayD<f64>) -> (String, ArrayD<f64>) {
        (name.to_owned(), array)
    }

    fn error(state: Vec<(String, ArrayD<f64>)>) -> String {
        grouped("Adam", state, &ADAM)
            .expect_err("invalid state")
            .to_string()
    }

    #[test]
    fn a_complete_state_is_grouped_in_field_order() {
        let state = vec![
            entry("W/t", arr0(3.0).into_dyn()),
            entry("W/v", array![1.0].into_dyn()),
            entry("W/m", array![-1.0].into_dyn()),
        ];
        let groups = grouped("Adam", state, &ADAM).expect("valid");
        assert_eq!(groups["W"][2], arr0(3.0).into_dyn());
        assert_eq!(groups["W"][0], array![-1.0].into_dyn());
    }

    #[test]
    fn every_flaw_is_named() {
        let m = || entry("W/m", array![1.0].into_dyn());
        let v = || entry("W/v", array![1.0].into_dyn());
        let t = |x: f64| entry("W/t", arr0(x).into_dyn());
        assert!(error(vec![m(), t(1.0)]).contains("W/v is missing (W/m is there)"));
        assert!(error(vec![m(), v(), t(1.0), t(1.0)]).contains("appears twice"));
        assert!(error(vec![m(), v(), t(0.5)]).contains("whole number"));
        assert!(error(vec![m(), v(), t(0.0)]).contains("whole number"));
        assert!(error(vec![entry("W/x", array![1.0].into_dyn())]).contains("W/x is unexpected"));
        assert!(error(vec![entry("W", array![1.0].into_dyn())]).contains("W is unexpected"));
        let vector_t = entry("W/t", array![1.0].into_dyn());
        assert!(error(vec![m(), v(), vector_t]).contains("expected a scalar"));
        let negative = entry("W/v", array![-1.0].into_dyn());
        assert!(error(vec![m(), negative, t(1.0)]).contains("0 or more"));
        let long = entry("W/v", ArrayD::zeros(IxDyn(&[2])));
        assert!(error(vec![m(), long, t(1.0)]).contains("shape [2]"));
        let nan = entry("W/m", array![f64::NAN].into_dyn());
        assert!(matches!(
            grouped("Adam", vec![nan, v(), t(1.0)], &ADAM),
            Err(KobaiError::NonFinite { .. })
        ));
    }
}
