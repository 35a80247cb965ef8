//! Exact designs of N runs (`--runs N`): the approximate optimum rounded by
//! efficient rounding (Pukelsheim & Rieder 1992, Biometrika 79, 763–770),
//! then improved by exchanges — one run moved from a point to another
//! candidate (the approximate support and the best candidates by
//! sensitivity) while the criterion grows.

use super::criterion::Criterion;
use super::fim::Packed;

/// Efficient rounding of `weights` to counts summing to `n`.
pub fn efficient_rounding(weights: &[f64], n: usize) -> Vec<usize> {
    let l = weights.len();
    let mut counts: Vec<usize> = weights
        .iter()
        .map(|w| ((n as f64 - l as f64 / 2.0) * w).ceil().max(0.0) as usize)
        .collect();
    loop {
        let total: usize = counts.iter().sum();
        if total == n {
            return counts;
        }
        if total < n {
            // Increase the count with the smallest n_j / w_j.
            let j = (0..l)
                .filter(|&j| weights[j] > 0.0)
                .min_by(|&a, &b| {
                    (counts[a] as f64 / weights[a]).total_cmp(&(counts[b] as f64 / weights[b]))
                })
                .expect("a positive weight");
            counts[j] += 1;
        } else {
            // Decrease the count with the largest (n_j − 1) / w_j.
            let j = (0..l)
                .filter(|&j| counts[j] > 0)
                .max_by(|&a, &b| {
                    ((counts[a] as f64 - 1.0) / weights[a])
                        .total_cmp(&((counts[b] as f64 - 1.0) / weights[b]))
                })
                .expect("a positive count");
            counts[j] -= 1;
        }
    }
}

/// Exchange runs between the candidates `fims` (counts in `counts`) while
/// Φ grows; returns the improved counts and Φ (`None`: singular).
pub fn improve(
    fims: &Packed,
    crit: &Criterion,
    mut counts: Vec<usize>,
) -> (Vec<usize>, Option<f64>) {
    let n: usize = counts.iter().sum();
    let weights = |c: &[usize]| c.iter().map(|&k| k as f64 / n as f64).collect::<Vec<f64>>();
    let mut phi = crit.phi(&fims.weighted_sum(&weights(&counts)));
    for _ in 0..10_000 {
        let mut best: Option<(usize, usize, f64)> = None;
        for from in 0..counts.len() {
            if counts[from] == 0 {
                continue;
            }
            for to in 0..counts.len() {
                if to == from {
                    continue;
                }
                counts[from] -= 1;
                counts[to] += 1;
                let v = crit.phi(&fims.weighted_sum(&weights(&counts)));
                counts[from] += 1;
                counts[to] -= 1;
                if let Some(v) = v {
                    let base = best.map_or(phi.unwrap_or(0.0), |b| b.2);
                    if v > base * (1.0 + 1e-12) {
                        best = Some((from, to, v));
                    }
                }
            }
        }
        match best {
            Some((from, to, v)) => {
                counts[from] -= 1;
                counts[to] += 1;
                phi = Some(v);
            }
            None => break,
        }
    }
    (counts, phi)
}

#[cfg(test)]
mod tests {
    use super::efficient_rounding;

    #[test]
    fn efficient_rounding_sums_to_n_and_follows_the_weights() {
        assert_eq!(
            efficient_rounding(&[1.0 / 3.0; 3], 7).iter().sum::<usize>(),
            7
        );
        assert_eq!(efficient_rounding(&[0.5, 0.5], 10), vec![5, 5]);
        assert_eq!(efficient_rounding(&[0.25, 0.5, 0.25], 8), vec![2, 4, 2]);
        // w = (0.2, 0.3, 0.5), n = 7: ⌈(7 − 3/2)·w⌉ = (2, 2, 3), already 7.
        assert_eq!(efficient_rounding(&[0.2, 0.3, 0.5], 7), vec![2, 2, 3]);
        // n = 4: ⌈2.5·w⌉ = (1, 1, 2); n = 3: ⌈1.5·w⌉ = (1, 1, 1).
        assert_eq!(efficient_rounding(&[0.2, 0.3, 0.5], 4), vec![1, 1, 2]);
        assert_eq!(efficient_rounding(&[0.2, 0.3, 0.5], 3), vec![1, 1, 1]);
        // n = 10: ⌈8.5·w⌉ = (2, 3, 5), sum 10.
        assert_eq!(efficient_rounding(&[0.2, 0.3, 0.5], 10), vec![2, 3, 5]);
        // Too many at first: w = (0.5, 0.5), n = 3: ⌈2·w⌉ = (1, 1), one added.
        assert_eq!(efficient_rounding(&[0.5, 0.5], 3).iter().sum::<usize>(), 3);
    }
}
