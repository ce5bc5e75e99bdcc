//! Weighted random: a target chosen with probability weight / total weight of the eligible
//! targets (HAProxy's `balance random` with weights; Envoy's `RANDOM` with host weights).
//!
//! Weights sit in a Fenwick (binary indexed) tree, so a pick (a descent to the prefix sum
//! passing a uniform draw) and a change of weight or eligibility are both O(log n).

use rand::Rng;

use crate::engine::StreamRng;

/// Weighted random choice over targets whose weights can change.
#[derive(Debug, Clone)]
pub struct WeightedRandom {
    /// Fenwick tree, 1-based: `tree[i]` sums the weights of `(i - lowbit(i), i]`.
    tree: Vec<u64>,
    weight: Vec<u64>,
    total: u64,
}

impl WeightedRandom {
    /// Targets with these weights, all eligible.
    pub fn new(weights: &[u32]) -> Self {
        let n = weights.len();
        let mut tree = vec![0u64; n + 1];
        for (i, &w) in weights.iter().enumerate() {
            tree[i + 1] += u64::from(w);
            let parent = (i + 1) + ((i + 1) & (i + 1).wrapping_neg());
            if parent <= n {
                tree[parent] += tree[i + 1];
            }
        }
        WeightedRandom {
            tree,
            weight: weights.iter().map(|&w| u64::from(w)).collect(),
            total: weights.iter().map(|&w| u64::from(w)).sum(),
        }
    }

    /// Sets `target`'s weight (zero takes it out).
    pub fn set_weight(&mut self, target: u32, weight: u32) {
        let t = target as usize;
        let new = u64::from(weight);
        let old = self.weight[t];
        if new == old {
            return;
        }
        self.weight[t] = new;
        self.total = self.total - old + new;
        let mut i = t + 1;
        while i < self.tree.len() {
            self.tree[i] = self.tree[i] - old + new;
            i += i & i.wrapping_neg();
        }
    }

    /// A target drawn with probability proportional to its weight.
    pub fn pick(&self, rng: &mut StreamRng) -> Option<u32> {
        if self.total == 0 {
            return None;
        }
        // The target whose cumulative weight range holds r.
        let mut r = rng.random_range(0..self.total);
        let n = self.tree.len() - 1;
        let mut pos = 0;
        let mut step = n.next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next <= n && self.tree[next] <= r {
                r -= self.tree[next];
                pos = next;
            }
            step >>= 1;
        }
        Some(pos as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RandomStreams;

    #[test]
    fn frequencies_follow_weights() {
        let mut rng = RandomStreams::new(2).stream("t");
        let mut wr = WeightedRandom::new(&[3, 1, 0, 6, 2]);
        wr.set_weight(4, 0);
        let n = 100_000;
        let mut seen = [0u32; 5];
        for _ in 0..n {
            seen[wr.pick(&mut rng).unwrap() as usize] += 1;
        }
        assert_eq!((seen[2], seen[4]), (0, 0));
        // Shares 0.3, 0.1, 0.6; binomial sd ≤ sqrt(0.25 / n) = 0.0016: 5 sd = 0.008.
        for (t, p) in [(0, 0.3), (1, 0.1), (3, 0.6)] {
            let share = f64::from(seen[t]) / f64::from(n);
            assert!((share - p).abs() < 0.008, "target {t}: {share} vs {p}");
        }
        for t in [0, 1, 3] {
            wr.set_weight(t, 0);
        }
        assert_eq!(wr.pick(&mut rng), None);
    }
}
