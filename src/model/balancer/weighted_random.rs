//! Weighted random: a target chosen with probability weight / total weight of the eligible
//! targets (HAProxy's `balance random` with weights; Envoy's `RANDOM` with host weights).
//!
//! Weights sit in a Fenwick tree ([`super::fenwick`]), so a pick (the range holding a uniform
//! draw) and a change of weight or eligibility are both O(log n).

use rand::Rng;

use super::fenwick::Fenwick;
use crate::engine::StreamRng;

/// Weighted random choice over targets whose weights can change.
#[derive(Debug, Clone)]
pub struct WeightedRandom {
    weights: Fenwick,
}

impl WeightedRandom {
    /// Targets with these weights, all eligible.
    pub fn new(weights: &[u32]) -> Self {
        WeightedRandom {
            weights: Fenwick::new(weights),
        }
    }

    /// Sets `target`'s weight (zero takes it out). O(log n); the next pick uses it.
    pub fn set_weight(&mut self, target: u32, weight: u32) {
        self.weights.set(target, weight);
    }

    /// A target drawn with probability proportional to its weight.
    pub fn pick(&self, rng: &mut StreamRng) -> Option<u32> {
        let total = self.weights.total();
        if total == 0 {
            return None;
        }
        Some(self.weights.find(rng.random_range(0..total)))
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

    #[test]
    fn frequencies_follow_a_changed_weight_at_once() {
        // Four targets of weight 1000; target 3 drops to 250 (slow start at 25 %): shares
        // 4/13, 4/13, 4/13, 1/13 = 0.0769. Binomial sd at n = 100,000: sqrt(0.077 × 0.923 / n)
        // = 0.00084; 6 sd = 0.005. Before the change target 3 had 1/4; the two ranges do not
        // overlap, so the test fails if the change is ignored.
        let mut rng = RandomStreams::new(5).stream("t");
        let mut wr = WeightedRandom::new(&[1000; 4]);
        wr.set_weight(3, 250);
        let n = 100_000;
        let mut seen = [0u32; 4];
        for _ in 0..n {
            seen[wr.pick(&mut rng).unwrap() as usize] += 1;
        }
        for (t, p) in [
            (0, 4.0 / 13.0),
            (1, 4.0 / 13.0),
            (2, 4.0 / 13.0),
            (3, 1.0 / 13.0),
        ] {
            let share = f64::from(seen[t]) / f64::from(n);
            assert!((share - p).abs() < 0.005, "target {t}: {share} vs {p}");
        }
    }
}
