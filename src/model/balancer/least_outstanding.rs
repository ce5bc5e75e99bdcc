//! Least outstanding requests, as AWS ALB's `least_outstanding_requests` routing algorithm:
//! "routes requests to the targets with the lowest number of in progress requests" (Elastic
//! Load Balancing, target group attributes, routing algorithm). Weights play no part. The docs
//! do not say how ties are broken; here a tied target is chosen uniformly at random, as Envoy's
//! full-scan least request does (reservoir sampling in `least_request_lb.cc`).
//!
//! Targets sit in buckets by in-progress count; the lowest non-empty bucket is tracked, so a
//! pick and a load change are O(1) (amortized: the minimum moves one bucket per change).

use rand::Rng;

use crate::engine::StreamRng;

/// Marks a target in no bucket (not eligible).
const ABSENT: u32 = u32::MAX;

/// ALB least outstanding requests over the eligible targets.
#[derive(Debug, Clone)]
pub struct LeastOutstanding {
    /// `buckets[k]`: eligible targets with `k` requests in progress.
    buckets: Vec<Vec<u32>>,
    /// Each target's position in its bucket, or `ABSENT`.
    slot: Vec<u32>,
    /// No eligible target has fewer than `min` in progress.
    min: usize,
    len: usize,
}

impl LeastOutstanding {
    /// All `n` targets eligible and idle.
    pub fn new(n: usize) -> Self {
        LeastOutstanding {
            buckets: vec![(0..n as u32).collect()],
            slot: (0..n as u32).collect(),
            min: 0,
            len: n,
        }
    }

    fn insert(&mut self, target: u32, active: u32) {
        let k = active as usize;
        if self.buckets.len() <= k {
            self.buckets.resize_with(k + 1, Vec::new);
        }
        self.slot[target as usize] = self.buckets[k].len() as u32;
        self.buckets[k].push(target);
        self.min = self.min.min(k);
        self.len += 1;
    }

    fn remove(&mut self, target: u32, active: u32) {
        let bucket = &mut self.buckets[active as usize];
        let s = self.slot[target as usize];
        debug_assert_ne!(s, ABSENT, "target {target} is not eligible");
        bucket.swap_remove(s as usize);
        if let Some(&moved) = bucket.get(s as usize) {
            self.slot[moved as usize] = s;
        }
        self.slot[target as usize] = ABSENT;
        self.len -= 1;
    }

    /// A target with the fewest requests in progress, ties at random.
    pub fn pick(&mut self, rng: &mut StreamRng) -> Option<u32> {
        if self.len == 0 {
            return None;
        }
        while self.buckets[self.min].is_empty() {
            self.min += 1;
        }
        let bucket = &self.buckets[self.min];
        let i = if bucket.len() == 1 {
            0
        } else {
            rng.random_range(0..bucket.len())
        };
        Some(bucket[i])
    }

    /// `target`'s requests in progress went from `from` to `to`.
    pub fn load_changed(&mut self, target: u32, from: u32, to: u32) {
        if self.slot[target as usize] != ABSENT {
            self.remove(target, from);
            self.insert(target, to);
        }
    }

    /// `target` (with `active` requests in progress) joins or leaves the eligible set.
    pub fn set_eligible(&mut self, target: u32, active: u32, eligible: bool) {
        let present = self.slot[target as usize] != ABSENT;
        if eligible && !present {
            self.insert(target, active);
        } else if !eligible && present {
            self.remove(target, active);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RandomStreams;

    #[test]
    fn always_picks_a_least_loaded_target_and_spreads_ties() {
        let mut rng = RandomStreams::new(1).stream("t");
        let mut lor = LeastOutstanding::new(4);
        let mut active = [0u32; 4];
        // Load targets to (2, 0, 1, 0): the pick must be 1 or 3, and both must occur.
        for (t, n) in [(0u32, 2u32), (2, 1)] {
            for _ in 0..n {
                lor.load_changed(t, active[t as usize], active[t as usize] + 1);
                active[t as usize] += 1;
            }
        }
        let mut seen = [0; 4];
        for _ in 0..1000 {
            seen[lor.pick(&mut rng).unwrap() as usize] += 1;
        }
        assert_eq!((seen[0], seen[2]), (0, 0));
        // Binomial(1000, 1/2): P(count < 400) ≈ 1e-10.
        assert!(seen[1] > 400 && seen[3] > 400, "{seen:?}");
        // Finishing requests lowers the minimum.
        lor.load_changed(0, 2, 0);
        lor.load_changed(1, 0, 1);
        lor.load_changed(3, 0, 1);
        assert_eq!(lor.pick(&mut rng), Some(0));
        // Without target 0 the rest tie at one request each.
        lor.set_eligible(0, 0, false);
        for _ in 0..100 {
            assert_ne!(lor.pick(&mut rng), Some(0));
        }
        for t in 1..4 {
            lor.set_eligible(t, 1, false);
        }
        assert_eq!(lor.pick(&mut rng), None);
    }
}
