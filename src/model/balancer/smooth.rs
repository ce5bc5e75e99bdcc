//! nginx's smooth weighted round robin over a set of targets, in O(k + log n) per pick (k the
//! number of distinct weights), where nginx scans every peer.
//!
//! nginx (`ngx_http_upstream_get_peer` in `ngx_http_upstream_round_robin.c`), per pick: every
//! eligible peer's `current_weight += weight`; the peer with the largest `current_weight` wins
//! (the first in list order on ties); the winner's `current_weight -= total`, the sum of the
//! weights. A peer left out (down, failed) keeps its `current_weight` frozen meanwhile.
//!
//! Here, after `step` picks, a member's current weight is `offset + step × weight`: adding the
//! weights is a counter increment, and only the winner's offset changes. Members of equal weight
//! keep their relative order between picks, so each weight class is an ordered set by
//! `(offset desc, index asc)`; the winner is the best of the k class heads. A member leaving the
//! set takes its current weight with it and brings it back when it returns, as in nginx.
//!
//! Not modelled: nginx's `effective_weight`, lowered after a peer's failures and recovered one
//! unit per pick; passive failures are handled by removing the peer instead.

use std::cmp::Reverse;
use std::collections::BTreeSet;

/// Members of one weight.
#[derive(Debug, Clone)]
struct WeightClass {
    weight: i64,
    /// `(Reverse(offset), target)`: the first element has the largest offset, lowest index.
    members: BTreeSet<(Reverse<i64>, u32)>,
}

/// A set of targets picked by smooth weighted round robin. Offsets live in a slice owned by
/// the caller, indexed by target, so that many sets (least connections keeps one per load
/// level) share one array.
#[derive(Debug, Clone, Default)]
pub struct SmoothSet {
    classes: Vec<WeightClass>,
    total: i64,
    step: i64,
    len: usize,
}

impl SmoothSet {
    /// True when the set has no member.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The only member of a set of one; `None` otherwise.
    pub fn only(&self) -> Option<u32> {
        if self.len == 1 {
            self.classes
                .iter()
                .find_map(|c| c.members.first().map(|&(_, t)| t))
        } else {
            None
        }
    }

    fn class(&mut self, weight: i64) -> &mut WeightClass {
        let k = match self.classes.iter().position(|c| c.weight == weight) {
            Some(k) => k,
            None => {
                self.classes.push(WeightClass {
                    weight,
                    members: BTreeSet::new(),
                });
                self.classes.len() - 1
            }
        };
        &mut self.classes[k]
    }

    /// Adds `target` of `weight` with current weight `current`.
    pub fn insert(&mut self, target: u32, weight: u32, current: i64, offsets: &mut [i64]) {
        let w = i64::from(weight);
        let offset = current - self.step * w;
        offsets[target as usize] = offset;
        self.class(w).members.insert((Reverse(offset), target));
        self.total += w;
        self.len += 1;
    }

    /// Removes `target` of `weight`; returns its current weight.
    pub fn remove(&mut self, target: u32, weight: u32, offsets: &[i64]) -> i64 {
        let w = i64::from(weight);
        let offset = offsets[target as usize];
        let k = self
            .classes
            .iter()
            .position(|c| c.weight == w)
            .expect("the target's weight class");
        let removed = self.classes[k].members.remove(&(Reverse(offset), target));
        debug_assert!(removed, "target {target} is not in the set");
        // An empty class goes: a slow-start ramp passes through a new weight every step, and
        // every pick visits every class. (Class order does not matter: ties are broken by
        // target index, not by class.)
        if self.classes[k].members.is_empty() {
            self.classes.swap_remove(k);
        }
        self.total -= w;
        self.len -= 1;
        offset + self.step * w
    }

    /// One nginx pick: every member's current weight grows by its weight, the largest wins
    /// (lowest index on ties) and loses the total. `None` when empty.
    pub fn pick(&mut self, offsets: &mut [i64]) -> Option<u32> {
        if self.len == 0 {
            return None;
        }
        self.step += 1;
        let mut best: Option<(i64, u32, usize)> = None;
        for (k, class) in self.classes.iter().enumerate() {
            if let Some(&(Reverse(offset), target)) = class.members.first() {
                let current = offset + self.step * class.weight;
                let better = match best {
                    None => true,
                    Some((c, t, _)) => current > c || (current == c && target < t),
                };
                if better {
                    best = Some((current, target, k));
                }
            }
        }
        let (_, target, k) = best?;
        let class = &mut self.classes[k];
        let offset = offsets[target as usize];
        class.members.remove(&(Reverse(offset), target));
        let new_offset = offset - self.total;
        offsets[target as usize] = new_offset;
        class.members.insert((Reverse(new_offset), target));
        Some(target)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// nginx's loop, written as nginx writes it: the reference the set must agree with.
    /// `weights` are read afresh on every pick, as nginx reads `effective_weight`.
    #[allow(clippy::needless_range_loop)] // written index by index, as nginx's C loop is
    pub(in crate::model::balancer) fn nginx_picks(
        weights: &[i64],
        eligible: &[bool],
        current: &mut [i64],
    ) -> Option<usize> {
        let mut best: Option<usize> = None;
        let mut total = 0;
        for i in 0..weights.len() {
            if !eligible[i] {
                continue;
            }
            current[i] += weights[i];
            total += weights[i];
            if best.is_none_or(|b| current[i] > current[b]) {
                best = Some(i);
            }
        }
        let b = best?;
        current[b] -= total;
        Some(b)
    }

    fn sequence(weights: &[u32], picks: usize) -> String {
        let mut set = SmoothSet::default();
        let mut offsets = vec![0; weights.len()];
        for (i, &w) in weights.iter().enumerate() {
            set.insert(i as u32, w, 0, &mut offsets);
        }
        (0..picks)
            .map(|_| (b'a' + set.pick(&mut offsets).unwrap() as u8) as char)
            .collect()
    }

    #[test]
    fn nginx_documented_sequence_5_1_1() {
        // The sequence in nginx's commit introducing smooth WRR (52327e0627f4, 2012):
        // weights { a: 5, b: 1, c: 1 } give "a a b a c a a", then repeat.
        assert_eq!(sequence(&[5, 1, 1], 14), "aabacaaaabacaa");
    }

    #[test]
    fn sequences_worked_out_by_hand() {
        // {a: 2, b: 1}, current weights after adding, winner, after subtracting the total 3:
        // (2,1) a → (-1,1); (1,2) b → (1,-1); (3,0) a → (0,0). Period 3: a b a.
        assert_eq!(sequence(&[2, 1], 6), "abaaba");
        // {a: 3, b: 2}: (3,2) a → (-2,2); (1,4) b → (1,-1); (4,1) a → (-1,1); (2,3) b → (2,-2);
        // (5,0) a → (0,0). Period 5: a b a b a.
        assert_eq!(sequence(&[3, 2], 10), "ababaababa");
        // {a: 1, b: 1, c: 1}: equal weights are plain round robin in list order.
        assert_eq!(sequence(&[1, 1, 1], 6), "abcabc");
        // {a: 4, b: 2, c: 1}: (4,2,1) a → (-3,2,1); (1,4,2) b → (1,-3,2); (5,-1,3) a → (-2,-1,3);
        // (2,1,4) c → (2,1,-3); (6,3,-2) a → (-1,3,-2); (3,5,-1) b → (3,-2,-1);
        // (7,0,0) a → (0,0,0). Period 7: a b a c a b a.
        assert_eq!(sequence(&[4, 2, 1], 7), "abacaba");
    }

    #[test]
    fn emptied_weight_classes_are_dropped() {
        // A ramp: target 0 goes through weights 1..=500 one at a time; the set must keep only
        // the classes in use (the ramping weight and the others' 1000), not 501 of them.
        let mut set = SmoothSet::default();
        let mut offsets = vec![0; 3];
        set.insert(0, 1, 0, &mut offsets);
        set.insert(1, 1000, 0, &mut offsets);
        set.insert(2, 1000, 0, &mut offsets);
        for w in 1..500u32 {
            set.pick(&mut offsets);
            let current = set.remove(0, w, &offsets);
            set.insert(0, w + 1, current, &mut offsets);
        }
        assert_eq!(set.classes.len(), 2);
    }

    #[test]
    fn agrees_with_nginx_under_membership_changes() {
        // Random weights from 1 to 4 over 40 targets, targets leaving and returning: every pick
        // must be nginx's.
        let n = 40;
        let mut x = 0x1234_5678_9abc_def1u64;
        let mut rand = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let weights: Vec<u32> = (0..n).map(|_| 1 + (rand() % 4) as u32).collect();
        let w64: Vec<i64> = weights.iter().map(|&w| i64::from(w)).collect();
        let mut eligible = vec![true; n];
        let mut reference = vec![0i64; n];
        let mut set = SmoothSet::default();
        let mut offsets = vec![0; n];
        let mut frozen = vec![0i64; n];
        for (i, &w) in weights.iter().enumerate() {
            set.insert(i as u32, w, 0, &mut offsets);
        }
        for step in 0..20_000 {
            if step % 7 == 0 {
                let i = (rand() % n as u64) as usize;
                if eligible[i] {
                    frozen[i] = set.remove(i as u32, weights[i], &offsets);
                    assert_eq!(frozen[i], reference[i], "current weight of {i}");
                } else {
                    set.insert(i as u32, weights[i], frozen[i], &mut offsets);
                }
                eligible[i] = !eligible[i];
            }
            let expected = nginx_picks(&w64, &eligible, &mut reference);
            assert_eq!(
                set.pick(&mut offsets).map(|t| t as usize),
                expected,
                "pick {step}"
            );
        }
    }
}
