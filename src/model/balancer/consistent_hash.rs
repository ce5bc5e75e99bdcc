//! Consistent hashing on the user id with a Maglev table, as Envoy's `MAGLEV` load balancer
//! (`source/extensions/load_balancing_policies/maglev/maglev_lb.cc`, after Eisenbud et al.,
//! "Maglev: A Fast and Reliable Software Network Load Balancer", NSDI 2016).
//!
//! Each target has a permutation of the table's `M` slots (M prime, Envoy's default 65,537):
//! `offset = h0(target) mod M`, `skip = h1(target) mod (M − 1) + 1`, the j-th preference
//! `(offset + j × skip) mod M`. Targets take turns claiming their next free preferred slot until
//! the table is full; with weights, as Envoy does, a target takes a turn in round `r` only while
//! its claims stay within `r × weight / max weight`. A request goes to `table[h(user) mod M]`:
//! O(1), and the same user keeps the same target while it stays eligible; when the set changes
//! the table is rebuilt (O(M)) and Maglev's permutations move few users.
//!
//! Hashes: Envoy hashes host addresses and header values with xxHash; here targets and users are
//! numbers, hashed with the fixed SplitMix64 mix ([`mix64`]).

use crate::engine::mix64;

/// Envoy's default Maglev table size (a prime).
pub const DEFAULT_TABLE_SIZE: u32 = 65_537;

/// A Maglev lookup table over the eligible targets.
#[derive(Debug, Clone)]
pub struct Maglev {
    size: u64,
    weights: Vec<u32>,
    eligible: Vec<bool>,
    table: Vec<u32>,
}

/// The two per-target hashes behind its permutation.
fn target_hashes(target: u32) -> (u64, u64) {
    let h = mix64(0x6d61_676c_6576 ^ u64::from(target));
    (h, mix64(h))
}

impl Maglev {
    /// A table of `size` slots (prime, at least the number of targets) over all targets.
    pub fn new(weights: &[u32], size: u32) -> Self {
        let mut m = Maglev {
            size: u64::from(size),
            weights: weights.to_vec(),
            eligible: vec![true; weights.len()],
            table: Vec::new(),
        };
        m.rebuild();
        m
    }

    fn rebuild(&mut self) {
        let members: Vec<u32> = (0..self.weights.len() as u32)
            .filter(|&t| self.eligible[t as usize] && self.weights[t as usize] > 0)
            .collect();
        self.table.clear();
        if members.is_empty() {
            return;
        }
        let m = self.size;
        let max_weight = members
            .iter()
            .map(|&t| u64::from(self.weights[t as usize]))
            .max()
            .unwrap_or(1);
        let (mut offset, mut skip) = (Vec::new(), Vec::new());
        for &t in &members {
            let (h0, h1) = target_hashes(t);
            offset.push(h0 % m);
            skip.push(h1 % (m - 1) + 1);
        }
        let mut next = vec![0u64; members.len()];
        let mut claimed_weight = vec![0u64; members.len()];
        const EMPTY: u32 = u32::MAX;
        let mut table = vec![EMPTY; m as usize];
        let mut filled = 0u64;
        let mut round = 1u64;
        while filled < m {
            for (k, &t) in members.iter().enumerate() {
                if filled == m {
                    break;
                }
                // Envoy: skip this round while round × weight < claimed so far.
                let w = u64::from(self.weights[t as usize]);
                if round * w < claimed_weight[k] {
                    continue;
                }
                claimed_weight[k] += max_weight;
                let mut slot = (offset[k] + skip[k] * next[k]) % m;
                while table[slot as usize] != EMPTY {
                    next[k] += 1;
                    slot = (offset[k] + skip[k] * next[k]) % m;
                }
                table[slot as usize] = t;
                next[k] += 1;
                filled += 1;
            }
            round += 1;
        }
        self.table = table;
    }

    /// The target for `user`.
    #[inline]
    pub fn pick(&self, user: u64) -> Option<u32> {
        if self.table.is_empty() {
            return None;
        }
        Some(self.table[(mix64(user) % self.size) as usize])
    }

    /// `target`'s weight becomes `weight`; the table is rebuilt when the target is in it. O(M):
    /// Envoy rebuilds the whole Maglev table whenever the host set or a host weight changes
    /// (`ThreadAwareLoadBalancerBase::refresh`, and host weight changes trigger a full load
    /// balancer rebuild since Envoy 1.18: "host weight changes now cause a full load balancer
    /// rebuild", release notes). With the default 65,537 slots a rebuild costs about as much as
    /// tens of thousands of picks, so a ramp that updates weights every second on many targets is
    /// the expensive case. Envoy offers no slow start for Maglev.
    pub fn set_weight(&mut self, target: u32, weight: u32) {
        if self.weights[target as usize] != weight {
            self.weights[target as usize] = weight;
            if self.eligible[target as usize] {
                self.rebuild();
            }
        }
    }

    /// `target` joins or leaves the eligible set (the table is rebuilt).
    pub fn set_eligible(&mut self, target: u32, eligible: bool) {
        if self.eligible[target as usize] != eligible {
            self.eligible[target as usize] = eligible;
            self.rebuild();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shares(m: &Maglev, n: usize) -> Vec<f64> {
        let mut count = vec![0u32; n];
        for &t in &m.table {
            count[t as usize] += 1;
        }
        count
            .iter()
            .map(|&c| f64::from(c) / m.table.len() as f64)
            .collect()
    }

    #[test]
    fn table_shares_follow_weights() {
        // Maglev's guarantee: equal-weight targets' table shares differ by very little; weights
        // scale them (Envoy's weighted build). 10 targets on 65,537 slots.
        let m = Maglev::new(&[1; 10], DEFAULT_TABLE_SIZE);
        for s in shares(&m, 10) {
            assert!((s - 0.1).abs() < 0.001, "{s}");
        }
        let m = Maglev::new(&[3, 1, 1, 1], DEFAULT_TABLE_SIZE);
        let s = shares(&m, 4);
        assert!((s[0] - 0.5).abs() < 0.002, "{s:?}");
        assert!((s[1] - 1.0 / 6.0).abs() < 0.002, "{s:?}");
    }

    #[test]
    fn a_weight_change_rebuilds_the_table_with_the_new_shares() {
        // Four equal targets, then target 0 to weight 3: Envoy's weighted build gives it
        // 3/6 of the slots and 1/6 to each other (as in `table_shares_follow_weights`).
        let mut m = Maglev::new(&[1; 4], DEFAULT_TABLE_SIZE);
        assert!((shares(&m, 4)[0] - 0.25).abs() < 0.002);
        m.set_weight(0, 3);
        let s = shares(&m, 4);
        assert!((s[0] - 0.5).abs() < 0.002, "{s:?}");
        assert!((s[3] - 1.0 / 6.0).abs() < 0.002, "{s:?}");
        // An ineligible target's weight is kept for its return, with no rebuild meanwhile.
        m.set_eligible(1, false);
        let before = m.table.clone();
        m.set_weight(1, 3);
        assert_eq!(m.table, before);
        m.set_eligible(1, true);
        let s = shares(&m, 4);
        assert!((s[1] - 3.0 / 8.0).abs() < 0.002, "{s:?}");
    }

    #[test]
    fn users_stick_and_few_move_when_a_target_leaves() {
        let mut m = Maglev::new(&[1; 10], DEFAULT_TABLE_SIZE);
        let before: Vec<u32> = (0..10_000u64).map(|u| m.pick(u).unwrap()).collect();
        assert!((0..10_000u64).all(|u| m.pick(u) == Some(before[u as usize])));
        m.set_eligible(3, false);
        let after: Vec<u32> = (0..10_000u64).map(|u| m.pick(u).unwrap()).collect();
        assert!(after.iter().all(|&t| t != 3));
        // Users of the other nine targets: Maglev moves only a few of them (the paper reports
        // a few percent); a modulo hash would move ~90 %.
        let kept: Vec<usize> = (0..10_000).filter(|&u| before[u] != 3).collect();
        let moved = kept.iter().filter(|&&u| before[u] != after[u]).count();
        assert!(
            (moved as f64) < 0.05 * kept.len() as f64,
            "{moved} of {}",
            kept.len()
        );
        m.set_eligible(3, true);
        assert!((0..10_000u64).all(|u| m.pick(u) == Some(before[u as usize])));
    }
}
