//! The book's `smooth_curve` (common/util.py), with the Kaiser window it uses.

/// The book's `smooth_curve` (common/util.py): a moving average weighted by
/// a Kaiser window of 11 (β = 2), the ends mirrored as NumPy's `np.r_` there
/// mirrors them (without the first value at the start, with the last at the
/// end). Curves shorter than the window come back as they are (the book's
/// function returns nothing for them).
pub(super) fn smooth_curve(x: &[f64]) -> Vec<f64> {
    const WINDOW: usize = 11;
    let n = x.len();
    if n < WINDOW {
        return x.to_vec();
    }
    let w = kaiser(WINDOW, 2.0);
    let sum: f64 = w.iter().sum();
    let half = WINDOW / 2;
    (0..n)
        .map(|k| {
            w.iter()
                .enumerate()
                .map(|(j, wj)| {
                    // Position in x of the j-th value under the window.
                    let p = (k + j) as isize - half as isize;
                    let v = if p < 0 {
                        x[p.unsigned_abs()]
                    } else if p as usize >= n {
                        x[2 * n - 1 - p as usize]
                    } else {
                        x[p as usize]
                    };
                    wj / sum * v
                })
                .sum()
        })
        .collect()
}

/// NumPy's `np.kaiser(m, beta)`.
fn kaiser(m: usize, beta: f64) -> Vec<f64> {
    if m == 1 {
        return vec![1.0];
    }
    let alpha = (m - 1) as f64 / 2.0;
    (0..m)
        .map(|n| {
            let r = (n as f64 - alpha) / alpha;
            bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / bessel_i0(beta)
        })
        .collect()
}

/// The modified Bessel function of the first kind, order 0, by its series
/// (ample for the small arguments of a Kaiser window).
fn bessel_i0(x: f64) -> f64 {
    let q = x * x / 4.0;
    let (mut term, mut sum) = (1.0, 1.0);
    for k in 1..60 {
        term *= q / (k as f64 * k as f64);
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smooth_curve_is_the_books() {
        // NumPy: smooth_curve(np.arange(30.0) ** 1.5) with the book's function.
        let expected = [
            4.131856944838187,
            4.490413819888171,
            5.5544081922213415,
            7.2898438931825185,
            9.643312314201845,
            12.546053662329353,
            15.91524110038045,
            19.636716462068637,
            23.665579595457416,
            27.975045022332885,
            32.54534911997217,
            37.36084084146567,
            42.40861841309814,
            47.677757801924656,
            53.1588276347682,
            58.84356248685202,
            64.72463174794085,
            70.79546991254053,
            77.05014827034893,
            83.48327556735036,
            90.08991956592936,
            96.86554406666654,
            103.8059576157504,
            110.90727120721836,
            118.16586301974128,
            125.15107853748944,
            131.26437114376407,
            136.18273248276154,
            139.6306923216094,
            141.40754026551753,
        ];
        let x: Vec<f64> = (0..30).map(|i| (i as f64).powf(1.5)).collect();
        let y = smooth_curve(&x);
        assert_eq!(y.len(), expected.len());
        for (a, b) in y.iter().zip(expected) {
            assert!((a - b).abs() <= 1e-12 * b.abs(), "{a} vs {b}");
        }
        assert_eq!(smooth_curve(&[1.0, 2.0]), vec![1.0, 2.0]);
    }

    #[test]
    fn kaiser_window_is_numpys() {
        // np.kaiser(11, 2) / its sum
        let w = kaiser(11, 2.0);
        let sum: f64 = w.iter().sum();
        let expected = [
            0.052445173948605796,
            0.07309418069653321,
            0.11955324771170016,
        ];
        for (i, e) in [(0, expected[0]), (1, expected[1]), (5, expected[2])] {
            assert!((w[i] / sum - e).abs() < 1e-15, "w[{i}]");
        }
    }
}
