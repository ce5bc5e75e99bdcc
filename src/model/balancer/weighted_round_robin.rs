//! Weighted round robin exactly as nginx's default `upstream` balancing: smooth weighted round
//! robin (`ngx_http_upstream_round_robin.c`), see [`super::smooth`]. O(k + log n) per pick, k
//! the number of distinct weights.

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
    use super::*;

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
