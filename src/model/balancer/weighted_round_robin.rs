//! Weighted round robin exactly as nginx's default `upstream` balancing: smooth weighted round
//! robin (`ngx_http_upstream_round_robin.c`), see [`super::smooth`]. O(k + log n) per pick, k
//! the number of distinct weights.
//!
//! A weight change keeps the target's current weight and uses the new weight from the next pick:
//! nginx's loop reads `peer->effective_weight` afresh on every pick (`current_weight +=
//! effective_weight; total += effective_weight`), and `current_weight` is never reset while the
//! peer exists. nginx open source changes a weight only through `effective_weight` after
//! failures, which recovers one unit per pick; nginx Plus's `slow_start` ("recover its weight from
//! zero to a nominal value") and its API change the weight of a running peer. Either way the
//! loop sees only the weight in force at each pick, which is what this does. O(k + log n).

use super::smooth::SmoothSet;

/// nginx smooth weighted round robin over the eligible targets.
#[derive(Debug, Clone)]
pub struct WeightedRoundRobin {
    set: SmoothSet,
    offsets: Vec<i64>,
    /// Current weights of targets out of the set, kept for their return (nginx keeps them).
    parked: Vec<i64>,
}

impl WeightedRoundRobin {
    /// All targets eligible, current weights zero, as nginx starts.
    pub fn new(weights: &[u32]) -> Self {
        let mut offsets = vec![0; weights.len()];
        let mut set = SmoothSet::default();
        for (t, &w) in weights.iter().enumerate() {
            set.insert(t as u32, w, 0, &mut offsets);
        }
        WeightedRoundRobin {
            set,
            offsets,
            parked: vec![0; weights.len()],
        }
    }

    /// The next target.
    #[inline]
    pub fn pick(&mut self) -> Option<u32> {
        self.set.pick(&mut self.offsets)
    }

    /// `target`, an eligible member, changes weight from `old` to `new`, keeping its current
    /// weight. O(k + log n).
    pub fn set_weight(&mut self, target: u32, old: u32, new: u32) {
        let current = self.set.remove(target, old, &self.offsets);
        self.set.insert(target, new, current, &mut self.offsets);
    }

    /// `target` (of `weight`) joins or leaves the eligible set.
    pub fn set_eligible(&mut self, target: u32, weight: u32, eligible: bool) {
        if eligible {
            self.set.insert(
                target,
                weight,
                self.parked[target as usize],
                &mut self.offsets,
            );
        } else {
            self.parked[target as usize] = self.set.remove(target, weight, &self.offsets);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::smooth::tests::nginx_picks;
    use super::*;

    #[test]
    fn agrees_with_nginx_when_weights_change() {
        // 30 targets of weights 1 to 5; every 5th pick one target's weight changes to a new
        // value from 1 to 1000 (a slow-start ramp's range at scale 1000) and every 7th pick one
        // leaves or returns. Every pick must be the one nginx's loop makes with the weights in
        // force at that pick, current weights carried over.
        let n = 30;
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut rand = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut weights: Vec<u32> = (0..n).map(|_| 1 + (rand() % 5) as u32).collect();
        let mut eligible = vec![true; n];
        let mut reference = vec![0i64; n];
        let mut wrr = WeightedRoundRobin::new(&weights);
        for step in 0..20_000 {
            if step % 5 == 0 {
                let i = (rand() % n as u64) as usize;
                let new = 1 + (rand() % 1000) as u32;
                if eligible[i] {
                    wrr.set_weight(i as u32, weights[i], new);
                }
                weights[i] = new;
            }
            if step % 7 == 0 {
                let i = (rand() % n as u64) as usize;
                eligible[i] = !eligible[i];
                wrr.set_eligible(i as u32, weights[i], eligible[i]);
            }
            let w64: Vec<i64> = weights.iter().map(|&w| i64::from(w)).collect();
            let expected = nginx_picks(&w64, &eligible, &mut reference);
            assert_eq!(wrr.pick().map(|t| t as usize), expected, "pick {step}");
        }
    }

    #[test]
    fn a_raised_weight_counts_from_the_next_pick() {
        // Weights a: 1, b: 1, c: 1; current weights after adding, winner, after subtracting:
        // (1,1,1) a → (-2,1,1). Now c's weight becomes 4 (total 6):
        // (-1,2,5) c → (-1,2,-1); (0,3,3) b (first of the largest) → (0,-3,3);
        // (1,-2,7) c → (1,-2,1); (2,-1,5) c → (2,-1,-1); (3,0,3) a (first) → (-3,0,3);
        // (-2,1,7) c → (-2,1,1).
        let mut wrr = WeightedRoundRobin::new(&[1, 1, 1]);
        let mut seq = String::new();
        seq.push((b'a' + wrr.pick().unwrap() as u8) as char);
        wrr.set_weight(2, 1, 4);
        for _ in 0..6 {
            seq.push((b'a' + wrr.pick().unwrap() as u8) as char);
        }
        assert_eq!(seq, "acbccac");
    }

    #[test]
    fn a_target_that_leaves_is_skipped_and_resumes_its_place() {
        let mut wrr = WeightedRoundRobin::new(&[5, 1, 1]);
        let mut seq = String::new();
        for i in 0..7 {
            if i == 2 {
                // b is marked down before the third pick: nginx skips it, a and c share.
                wrr.set_eligible(1, 1, false);
            }
            seq.push((b'a' + wrr.pick().unwrap() as u8) as char);
        }
        // Current weights (a, b, c) after adding, winner, after subtracting the total:
        // (5,1,1) a → (-2,1,1); (3,2,2) a → (-4,2,2); b leaves with 2, total 6:
        // (1,·,3) c → (1,·,-3); (6,·,-2) a → (0,·,-2); (5,·,-1) a → (-1,·,-1);
        // (4,·,0) a → (-2,·,0); (3,·,1) a → (-3,·,1).
        assert_eq!(seq, "aacaaaa");
    }
}
