//! NumPy-style printing of `f64` arrays, so kobai can print exactly what a
//! NumPy notebook prints.
//!
//! This is a port of `numpy/_core/arrayprint.py` (NumPy 2.x) with the default
//! print options: `precision=8`, `floatmode='maxprec'`, `suppress=False`,
//! `sign='-'`, `linewidth=75`, `threshold=1000`, `edgeitems=3`,
//! `legacy=False`. Arrays of any dimension are supported, including 0-d and
//! empty arrays; arrays of more than 1000 elements are summarized with `...`.

use ndarray::{ArrayRef, ArrayViewD, Axis, Dimension};

const PRECISION: usize = 8;
const LINE_WIDTH: usize = 75;
const THRESHOLD: usize = 1000;
const EDGE_ITEMS: usize = 3;

/// What `print(a)` shows in NumPy (`str(a)`).
///
/// ```
/// use kobai::numpy_style::numpy_str;
/// use ndarray::array;
/// assert_eq!(numpy_str(&array![6.00000000000378, 7.999999999999119]), "[6. 8.]");
/// assert_eq!(numpy_str(&array![[1.0, -0.5], [2.0, 3.0]].view()), "[[ 1.  -0.5]\n [ 2.   3. ]]");
/// ```
pub fn numpy_str<D: Dimension>(a: &ArrayRef<f64, D>) -> String {
    let view = a.view().into_dyn();
    match view.first() {
        Some(&x) if view.ndim() == 0 => py_float_repr(x),
        _ => array_to_string(&view, " ", "", ""),
    }
}

/// What NumPy's `repr(a)` shows: `array(...)` with `", "` between elements,
/// continuation lines indented by 6 spaces, and `shape=`/`dtype=` added
/// where NumPy adds them (summarized and empty arrays).
///
/// ```
/// use kobai::numpy_style::numpy_repr;
/// use ndarray::array;
/// let a = array![-6.111107928998789e-10, 8.148143905314271e-10];
/// assert_eq!(numpy_repr(&a), "array([-6.11110793e-10,  8.14814391e-10])");
/// ```
pub fn numpy_repr<D: Dimension>(a: &ArrayRef<f64, D>) -> String {
    let view = a.view().into_dyn();
    let prefix = "array(";
    let body = array_to_string(&view, ", ", prefix, ")");
    let mut extras = Vec::new();
    if (view.is_empty() && view.shape() != [0]) || view.len() > THRESHOLD {
        extras.push(format!("shape={}", py_shape(view.shape())));
    }
    if view.is_empty() {
        extras.push("dtype=float64".to_string());
    }
    if extras.is_empty() {
        return format!("{prefix}{body})");
    }
    let arr_str = format!("{prefix}{body},");
    let extra_str = format!("{})", extras.join(", "));
    let last_line_len = arr_str.len() - arr_str.rfind('\n').map_or(0, |i| i + 1);
    let spacer = if last_line_len + extra_str.len() + 1 > LINE_WIDTH {
        format!("\n{}", " ".repeat(prefix.len()))
    } else {
        " ".to_string()
    };
    format!("{arr_str}{spacer}{extra_str}")
}

/// Python's `repr` of a float (a NumPy `float64` scalar prints the same):
/// the shortest digits that round-trip, positional when `1e-4 <= |x| < 1e16`
/// and scientific otherwise.
///
/// ```
/// use kobai::numpy_style::py_float_repr;
/// assert_eq!(py_float_repr(6.0), "6.0");
/// assert_eq!(py_float_repr(1e-10), "1e-10");
/// assert_eq!(py_float_repr(1.5e16), "1.5e+16");
/// assert_eq!(py_float_repr(-0.0), "-0.0");
/// ```
pub fn py_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let sci = format!("{x:e}");
    let (mantissa, exp) = split_exp(&sci);
    if x == 0.0 || (-4..16).contains(&exp) {
        let s = format!("{x}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        format!("{mantissa}e{}", exp_str(exp, 2))
    }
}

/// Python's repr of a shape tuple: `(3,)`, `(2, 3)`.
fn py_shape(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    match dims.as_slice() {
        [one] => format!("({one},)"),
        _ => format!("({})", dims.join(", ")),
    }
}

/// Splits Rust's `{:e}` output ("1.5e-7") into mantissa and exponent.
fn split_exp(s: &str) -> (&str, i32) {
    match s.split_once('e') {
        Some((m, e)) => (m, e.parse().unwrap_or(0)),
        None => (s, 0),
    }
}

/// NumPy's exponent: a sign, then at least `digits` digits ("+05", "-10").
fn exp_str(exp: i32, digits: usize) -> String {
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{sign}{:0digits$}", exp.unsigned_abs())
}

/// Splits "12.5" into ("12", "5") and "12" into ("12", "").
fn split_point(s: &str) -> (&str, &str) {
    s.split_once('.').unwrap_or((s, ""))
}

/// `_array2string`: summarize, fit the format to the shown values, format.
fn array_to_string(a: &ArrayViewD<f64>, sep: &str, prefix: &str, suffix: &str) -> String {
    if a.is_empty() {
        return "[]".to_string();
    }
    let summarize = a.len() > THRESHOLD;
    let mut shown = Vec::new();
    collect_shown(a.view(), summarize, &mut shown);
    let printer = Printer {
        format: FloatFormat::new(&shown),
        sep,
        summarize,
    };
    let hanging = " ".repeat(1 + prefix.len());
    printer.recurse(
        a.view(),
        &hanging,
        LINE_WIDTH as isize - suffix.len() as isize,
    )
}

/// The indices along an axis of length `len` that are printed; `None` marks
/// the `...` of a summarized axis.
fn shown_indices(len: usize, summarize: bool) -> Vec<Option<usize>> {
    if summarize && len > 2 * EDGE_ITEMS {
        let lead = (0..EDGE_ITEMS).map(Some);
        let trail = (len - EDGE_ITEMS..len).map(Some);
        lead.chain([None]).chain(trail).collect()
    } else {
        (0..len).map(Some).collect()
    }
}

/// `_leading_trailing`: the values that will be printed, in order.
fn collect_shown(a: ArrayViewD<f64>, summarize: bool, out: &mut Vec<f64>) {
    if a.ndim() == 0 {
        out.extend(a.first());
        return;
    }
    for i in shown_indices(a.len_of(Axis(0)), summarize)
        .into_iter()
        .flatten()
    {
        collect_shown(a.index_axis(Axis(0), i), summarize, out);
    }
}

/// `_formatArray`: the recursive layout of nested brackets.
struct Printer<'a> {
    format: FloatFormat,
    sep: &'a str,
    summarize: bool,
}

impl Printer<'_> {
    fn recurse(&self, a: ArrayViewD<f64>, hanging: &str, width: isize) -> String {
        if a.ndim() == 0 {
            return a
                .first()
                .map_or_else(String::new, |&x| self.format.format(x));
        }
        let items = shown_indices(a.len_of(Axis(0)), self.summarize);
        let words = items.iter().map(|item| match item {
            Some(i) => self.recurse(a.index_axis(Axis(0), *i), &format!("{hanging} "), width - 1),
            None => "...".to_string(),
        });
        let body = if a.ndim() == 1 {
            let elem_width = width - self.sep.trim_end().len().max(1) as isize;
            self.row(words, hanging, elem_width)
        } else {
            let line_sep = format!("{}{}", self.sep.trim_end(), "\n".repeat(a.ndim() - 1));
            let lines: Vec<String> = words.map(|w| format!("{hanging}{w}")).collect();
            lines.join(&line_sep)
        };
        format!("[{}]", &body[hanging.len()..])
    }

    /// The last axis: elements separated by `sep`, wrapped at `width`.
    fn row(&self, words: impl Iterator<Item = String>, hanging: &str, width: isize) -> String {
        let (mut s, mut line) = (String::new(), hanging.to_string());
        for (k, word) in words.enumerate() {
            if k > 0 {
                line.push_str(self.sep);
            }
            // `_extendLine`: wrap unless the line holds only the indent.
            if (line.len() + word.len()) as isize > width && line.len() > hanging.len() {
                s.push_str(line.trim_end());
                s.push('\n');
                line = hanging.to_string();
            }
            line.push_str(&word);
        }
        s + &line
    }
}

/// `FloatingFormat` for floatmode 'maxprec', precision 8, sign '-'.
struct FloatFormat {
    /// `Some((precision, exponent digits))` in scientific notation.
    scientific: Option<(usize, usize)>,
    pad_left: usize,
    pad_right: usize,
}

impl FloatFormat {
    /// `fillFormat`: choose the notation and padding from the shown values.
    fn new(values: &[f64]) -> Self {
        let finite: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        let (scientific, mut pad_left, pad_right) = if finite.is_empty() {
            (None, 0, 0)
        } else if use_scientific(&finite) {
            fill_scientific(&finite)
        } else {
            fill_positional(&finite)
        };
        if finite.len() != values.len() {
            // "nan", "inf" and "-inf" must fit in the width too.
            let neg_inf = usize::from(values.contains(&f64::NEG_INFINITY));
            pad_left = pad_left.max((3 + neg_inf).saturating_sub(pad_right + 1));
        }
        FloatFormat {
            scientific,
            pad_left,
            pad_right,
        }
    }

    /// `FloatingFormat.__call__`: one padded element.
    fn format(&self, x: f64) -> String {
        let width = self.pad_left + self.pad_right + 1;
        if !x.is_finite() {
            let word = if x.is_nan() {
                "nan"
            } else if x > 0.0 {
                "inf"
            } else {
                "-inf"
            };
            return format!("{word:>width$}");
        }
        let s = match self.scientific {
            Some((precision, _)) => format!("{x:.precision$e}"),
            None => positional(x),
        };
        let (mantissa, exp) = split_exp(&s);
        let (int, frac) = split_point(mantissa);
        let pad_left = self.pad_left;
        match self.scientific {
            Some((_, digits)) => format!("{int:>pad_left$}.{frac}e{}", exp_str(exp, digits)),
            None => format!("{int:>pad_left$}.{frac:<0$}", self.pad_right),
        }
    }
}

/// The notation chosen by `fillFormat` and its `pad_left`, `pad_right`.
type Fill = (Option<(usize, usize)>, usize, usize);

/// `fillFormat`'s positional branch.
fn fill_positional(finite: &[f64]) -> Fill {
    let strs: Vec<String> = finite.iter().map(|&x| positional(x)).collect();
    let parts = strs.iter().map(|s| split_point(s));
    let pad_left = parts.clone().map(|(i, _)| i.len()).max().unwrap_or(0);
    let pad_right = parts.map(|(_, f)| f.len()).max().unwrap_or(0);
    (None, pad_left, pad_right)
}

/// `fillFormat`'s scientific branch: all mantissas get the longest fraction.
fn fill_scientific(finite: &[f64]) -> Fill {
    let (mut pad_left, mut precision, mut exp_digits) = (0, 0, 2);
    for s in finite.iter().map(|&x| scientific(x)) {
        let (mantissa, exp) = split_exp(&s);
        let (int, frac) = split_point(mantissa);
        pad_left = pad_left.max(int.len());
        precision = precision.max(frac.len());
        exp_digits = exp_digits.max(exp.unsigned_abs().to_string().len());
    }
    let pad_right = exp_digits + 2 + precision;
    (Some((precision, exp_digits)), pad_left, pad_right)
}

/// NumPy's choice of scientific notation for the finite values.
fn use_scientific(finite: &[f64]) -> bool {
    let abs = finite.iter().map(|x| x.abs()).filter(|&x| x != 0.0);
    let max = abs.clone().fold(f64::NAN, f64::max);
    let min = abs.fold(f64::NAN, f64::min);
    // With no nonzero value, max and min are NaN and every test is false.
    max >= 1e8 || min < 1e-4 || max / min > 1e3
}

/// Dragon4 positional, unique digits, at most 8 fractional digits, trim '.'.
fn positional(x: f64) -> String {
    let shortest = format!("{x}");
    let s = if split_point(&shortest).1.len() > PRECISION {
        format!("{x:.PRECISION$}")
    } else {
        shortest
    };
    let (int, frac) = split_point(&s);
    format!("{int}.{}", frac.trim_end_matches('0'))
}

/// Dragon4 scientific, unique digits, at most 8 in the fraction, trim '.'.
fn scientific(x: f64) -> String {
    let shortest = format!("{x:e}");
    let s = if split_point(split_exp(&shortest).0).1.len() > PRECISION {
        format!("{x:.PRECISION$e}")
    } else {
        shortest
    };
    let (mantissa, exp) = split_exp(&s);
    let (int, frac) = split_point(mantissa);
    format!("{int}.{}e{exp}", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    // Every expected string below was pasted from NumPy 2.4's `str(a)` or
    // `repr(a)` for the same input (default print options).
    use super::*;
    use ndarray::{Array, Array1, Array2, arr0, array};

    fn str1(values: &[f64]) -> String {
        numpy_str(&Array1::from(values.to_vec()))
    }

    #[test]
    fn one_d() {
        // NumPy 2.x's str of each 1-D input (the first six from a notebook).
        let cases: [(&[f64], &str); 14] = [
            (&[6.00000000000378, 7.999999999999119], "[6. 8.]"),
            (&[0.0, 4.000000000004], "[0. 4.]"),
            (&[6.000000000012662, 0.0], "[6. 0.]"),
            (
                &[2342359711530.595, -3960910565406.869],
                "[ 2.34235971e+12 -3.96091057e+12]",
            ),
            (
                &[-1.88680933, -0.23205069, -0.0309561],
                "[-1.88680933 -0.23205069 -0.0309561 ]",
            ),
            (&[f64::NAN, 1.5, f64::NEG_INFINITY], "[ nan  1.5 -inf]"),
            (&[f64::NAN, f64::INFINITY], "[nan inf]"),
            (&[-0.0, 1.0, 100.0], "[ -0.   1. 100.]"),
            (&[1e-5, 1.0, 1000.0], "[1.e-05 1.e+00 1.e+03]"),
            (&[1e-10, 2e12], "[1.e-10 2.e+12]"),
            (&[1e-100, 1.5e200, -2.0], "[ 1.0e-100  1.5e+200 -2.0e+000]"),
            // Exact ties round half to even, as Dragon4 does.
            (&[0.001953125, 0.5], "[0.00195312 0.5       ]"),
            (
                &[1234567885.0, 1234567895.0],
                "[1.23456788e+09 1.23456790e+09]",
            ),
            (&[], "[]"),
        ];
        for (values, want) in cases {
            assert_eq!(str1(values), want);
        }
    }

    #[test]
    fn two_d_and_repr() {
        // NumPy 2.x output for arrays a notebook printed.
        let a = array![
            [0.42875037, -1.09670346, 0.24866542],
            [-2.38228839, 0.47330153, -0.20017261]
        ];
        let want =
            "[[ 0.42875037 -1.09670346  0.24866542]\n [-2.38228839  0.47330153 -0.20017261]]";
        assert_eq!(numpy_str(&a), want);
        let a = array![
            [0.0475098, 0.24856257, -0.29607237],
            [0.0712647, 0.37284386, -0.44410856]
        ];
        let want =
            "[[ 0.0475098   0.24856257 -0.29607237]\n [ 0.0712647   0.37284386 -0.44410856]]";
        assert_eq!(numpy_str(&a.view()), want);
        let a = array![-6.111107928998789e-10, 8.148143905314271e-10];
        assert_eq!(numpy_repr(&a), "array([-6.11110793e-10,  8.14814391e-10])");
        assert_eq!(
            numpy_str(&Array2::<f64>::zeros((2, 2))),
            "[[0. 0.]\n [0. 0.]]"
        );
    }

    #[test]
    fn wrapping() {
        // NumPy 2.x output for np.arange(30) / 7.
        let a = Array1::from_iter((0..30).map(|i| f64::from(i) / 7.0));
        let want = "[0.         0.14285714 0.28571429 0.42857143 0.57142857 0.71428571\n 0.85714286 1.         1.14285714 1.28571429 1.42857143 1.57142857\n 1.71428571 1.85714286 2.         2.14285714 2.28571429 2.42857143\n 2.57142857 2.71428571 2.85714286 3.         3.14285714 3.28571429\n 3.42857143 3.57142857 3.71428571 3.85714286 4.         4.14285714]";
        assert_eq!(numpy_str(&a), want);
        let want = "array([0.        , 0.14285714, 0.28571429, 0.42857143, 0.57142857,\n       0.71428571, 0.85714286, 1.        , 1.14285714, 1.28571429,\n       1.42857143, 1.57142857, 1.71428571, 1.85714286, 2.        ,\n       2.14285714, 2.28571429, 2.42857143, 2.57142857, 2.71428571,\n       2.85714286, 3.        , 3.14285714, 3.28571429, 3.42857143,\n       3.57142857, 3.71428571, 3.85714286, 4.        , 4.14285714])";
        assert_eq!(numpy_repr(&a), want);
    }

    #[test]
    fn summarized() {
        // NumPy 2.x output for np.arange(1500) * 0.5.
        let a = Array1::from_iter((0..1500).map(|i| f64::from(i) * 0.5));
        let want = "[0.000e+00 5.000e-01 1.000e+00 ... 7.485e+02 7.490e+02 7.495e+02]";
        assert_eq!(numpy_str(&a), want);
        let want = "array([0.000e+00, 5.000e-01, 1.000e+00, ..., 7.485e+02, 7.490e+02,\n       7.495e+02], shape=(1500,))";
        assert_eq!(numpy_repr(&a), want);
    }

    #[test]
    fn three_d() {
        // NumPy 2.x output for np.arange(24).reshape(2, 3, 4) / 4.
        let a = Array::from_shape_fn((2, 3, 4), |(i, j, k)| (i * 12 + j * 4 + k) as f64 / 4.0);
        let want = "[[[0.   0.25 0.5  0.75]\n  [1.   1.25 1.5  1.75]\n  [2.   2.25 2.5  2.75]]\n\n [[3.   3.25 3.5  3.75]\n  [4.   4.25 4.5  4.75]\n  [5.   5.25 5.5  5.75]]]";
        assert_eq!(numpy_str(&a.into_dyn()), want);
    }

    #[test]
    fn zero_d_and_empty() {
        // NumPy 2.x output for np.asarray(x) and np.zeros(shape).
        assert_eq!(numpy_str(&arr0(0.1 + 0.2)), "0.30000000000000004");
        assert_eq!(numpy_repr(&arr0(0.1 + 0.2)), "array(0.3)");
        assert_eq!(numpy_repr(&arr0(1e-10)), "array(1.e-10)");
        assert_eq!(
            numpy_repr(&Array1::<f64>::zeros(0)),
            "array([], dtype=float64)"
        );
        let want = "array([], shape=(0, 3), dtype=float64)";
        assert_eq!(numpy_repr(&Array2::<f64>::zeros((0, 3))), want);
    }

    #[test]
    fn python_float_repr() {
        // Python's repr (and NumPy 2.x's str of np.float64) of each value.
        let cases = [
            (1e16, "1e+16"),
            (1e-5, "1e-05"),
            (1e-4, "0.0001"),
            (5e-324, "5e-324"),
        ];
        for (x, want) in cases {
            assert_eq!(py_float_repr(x), want);
        }
        assert_eq!(py_float_repr(123456789012345.6), "123456789012345.6");
        assert_eq!(py_float_repr(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(py_float_repr(f64::NEG_INFINITY), "-inf");
    }
}
