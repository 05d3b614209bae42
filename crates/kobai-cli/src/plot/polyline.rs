//! Joins loose segments that share end points into polylines: fewer, longer
//! lines (smaller SVG files, proper line joins).

use std::collections::{HashMap, VecDeque};

use super::contour::Segment;

/// Exact identity of a point (with -0.0 folded into 0.0).
type Key = (u64, u64);

fn key((x, y): (f64, f64)) -> Key {
    ((x + 0.0).to_bits(), (y + 0.0).to_bits())
}

/// Chains segments whose ends coincide exactly into polylines. Every segment
/// is used once; a closed loop ends where it started.
pub fn join_segments(segments: &[Segment]) -> Vec<Vec<(f64, f64)>> {
    let mut ends: HashMap<Key, Vec<usize>> = HashMap::new();
    for (i, &(a, b)) in segments.iter().enumerate() {
        ends.entry(key(a)).or_default().push(i);
        ends.entry(key(b)).or_default().push(i);
    }
    let mut used = vec![false; segments.len()];
    let mut lines = Vec::new();
    for (i, &(a, b)) in segments.iter().enumerate() {
        if std::mem::replace(&mut used[i], true) {
            continue;
        }
        let mut line = VecDeque::from([a, b]);
        while let Some(p) = next_point(line.back(), segments, &ends, &mut used) {
            line.push_back(p);
        }
        while let Some(p) = next_point(line.front(), segments, &ends, &mut used) {
            line.push_front(p);
        }
        lines.push(line.into_iter().collect());
    }
    lines
}

/// The far end of an unused segment touching `at` (marking it used).
fn next_point(
    at: Option<&(f64, f64)>,
    segments: &[Segment],
    ends: &HashMap<Key, Vec<usize>>,
    used: &mut [bool],
) -> Option<(f64, f64)> {
    let at = *at?;
    let &j = ends.get(&key(at))?.iter().find(|&&j| !used[j])?;
    used[j] = true;
    let (a, b) = segments[j];
    Some(if key(a) == key(at) { b } else { a })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_in_any_order_and_direction() {
        let segs = [
            ((1.0, 0.0), (2.0, 0.0)),
            ((0.0, 0.0), (1.0, 0.0)),
            ((3.0, 0.0), (2.0, 0.0)),
        ];
        let lines = join_segments(&segs);
        assert_eq!(lines.len(), 1);
        let xs: Vec<f64> = lines[0].iter().map(|p| p.0).collect();
        assert!(
            xs == [0.0, 1.0, 2.0, 3.0] || xs == [3.0, 2.0, 1.0, 0.0],
            "{xs:?}"
        );
    }

    #[test]
    fn separate_pieces_stay_separate() {
        let segs = [
            ((0.0, 0.0), (1.0, 0.0)),
            ((5.0, 5.0), (6.0, 5.0)),
            ((-0.0, 1.0), (0.0, 0.0)),
        ];
        let lines = join_segments(&segs);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines.iter().map(Vec::len).sum::<usize>(), 5);
        assert!(join_segments(&[]).is_empty());
    }
}
