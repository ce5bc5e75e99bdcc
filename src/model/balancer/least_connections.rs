//! Least connections exactly as nginx's `least_conn`
//! (`ngx_http_upstream_least_conn_module.c`, `ngx_http_upstream_get_least_conn_peer`): the peer
//! with the fewest active requests relative to its weight (`conns × best.weight <
//! best.conns × weight`); if several share that ratio, smooth weighted round robin among them
//! alone: only the tied peers' current weights grow, and the winner's drops by their total.
//!
//! Targets are grouped by load ratio in an ordered map; each group is a [`SmoothSet`], so the
//! tie-break costs what one smooth-WRR pick costs: O(log n + k). A request starting or ending
//! moves one target between two groups, carrying its current weight, O(log n).
//!
//! A weight change takes effect from the next pick in both places nginx uses the weight: the
//! load ratio (`peer->weight`) and the tie-break's smooth WRR (`effective_weight`); the target
//! keeps its current weight (see [`super::weighted_round_robin`]). It moves the target between
//! groups as a load change does: O(k + log n).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::smooth::SmoothSet;

/// `active / weight`, ordered by cross-multiplication as nginx compares it; equal ratios (1/1,
/// 2/2) are one key.
#[derive(Debug, Clone, Copy)]
struct Ratio {
    active: u32,
    weight: u32,
}

impl Ord for Ratio {
    fn cmp(&self, other: &Self) -> Ordering {
        (u64::from(self.active) * u64::from(other.weight))
            .cmp(&(u64::from(other.active) * u64::from(self.weight)))
    }
}
impl PartialOrd for Ratio {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Ratio {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Ratio {}

/// nginx least connections over the eligible targets.
#[derive(Debug, Clone)]
pub struct LeastConnections {
    groups: BTreeMap<Ratio, SmoothSet>,
    offsets: Vec<i64>,
    /// Current weights of targets out of the set (nginx keeps them).
    parked: Vec<i64>,
}

impl LeastConnections {
    /// All targets eligible and idle.
    pub fn new(weights: &[u32]) -> Self {
        let mut lc = LeastConnections {
            groups: BTreeMap::new(),
            offsets: vec![0; weights.len()],
            parked: vec![0; weights.len()],
        };
        for (t, &w) in weights.iter().enumerate() {
            lc.insert(t as u32, w, 0, 0);
        }
        lc
    }

    fn insert(&mut self, target: u32, weight: u32, active: u32, current: i64) {
        self.groups
            .entry(Ratio { active, weight })
            .or_default()
            .insert(target, weight, current, &mut self.offsets);
    }

    fn remove(&mut self, target: u32, weight: u32, active: u32) -> i64 {
        let key = Ratio { active, weight };
        let group = self.groups.get_mut(&key).expect("target in its group");
        let current = group.remove(target, weight, &self.offsets);
        if group.is_empty() {
            self.groups.remove(&key);
        }
        current
    }

    /// The target for the next request.
    pub fn pick(&mut self) -> Option<u32> {
        let (_, least) = self.groups.iter_mut().next()?;
        // nginx runs the weighted round robin only when several peers tie ("many").
        least.only().or_else(|| least.pick(&mut self.offsets))
    }

    /// `target`'s active requests went from `from` to `to`.
    pub fn load_changed(&mut self, target: u32, weight: u32, from: u32, to: u32) {
        let current = self.remove(target, weight, from);
        self.insert(target, weight, to, current);
    }

    /// `target`, eligible with `active` requests, changes weight from `old` to `new`.
    pub fn set_weight(&mut self, target: u32, active: u32, old: u32, new: u32) {
        let current = self.remove(target, old, active);
        self.insert(target, new, active, current);
    }

    /// `target` (of `weight`, with `active` requests) joins or leaves the eligible set.
    pub fn set_eligible(&mut self, target: u32, weight: u32, active: u32, eligible: bool) {
        if eligible {
            self.insert(target, weight, active, self.parked[target as usize]);
        } else {
            self.parked[target as usize] = self.remove(target, weight, active);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Picks and starts a request: `active` is the test's record of each target's load.
    fn pick_and_start(lc: &mut LeastConnections, weights: &[u32], active: &mut [u32]) -> u32 {
        let t = lc.pick().unwrap();
        let i = t as usize;
        lc.load_changed(t, weights[i], active[i], active[i] + 1);
        active[i] += 1;
        t
    }

    #[test]
    fn fewest_active_requests_wins() {
        let w = [1, 1, 1];
        let mut lc = LeastConnections::new(&w);
        let mut active = [0; 3];
        for (t, n) in [(0u32, 3u32), (1, 1), (2, 2)] {
            for _ in 0..n {
                lc.load_changed(t, 1, active[t as usize], active[t as usize] + 1);
                active[t as usize] += 1;
            }
        }
        assert_eq!(pick_and_start(&mut lc, &w, &mut active), 1);
        // Now (3, 2, 2): 1 and 2 tie; smooth WRR among them. Their current weights: 1 won
        // nothing yet in a tie, both 0 → (1, 1), the lower index wins.
        assert_eq!(pick_and_start(&mut lc, &w, &mut active), 1);
        assert_eq!(pick_and_start(&mut lc, &w, &mut active), 2);
    }

    #[test]
    fn ties_between_idle_peers_go_round_robin() {
        // Idle peers of equal weight, each request finishing before the next: every pick is a
        // tie of all three, and the tie-break is nginx's round robin: a b c a b c.
        let w = [1, 1, 1];
        let mut lc = LeastConnections::new(&w);
        let mut picks = Vec::new();
        for _ in 0..6 {
            let t = lc.pick().unwrap();
            lc.load_changed(t, 1, 0, 1);
            lc.load_changed(t, 1, 1, 0);
            picks.push(t);
        }
        assert_eq!(picks, vec![0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn load_is_relative_to_weight() {
        // Weights a: 3, b: 1. Loads worked out by hand, requests never finishing:
        // (0,0): ratios 0,0 tie → SWRR among both: cw (3,1) a → a=-1; a=1.
        // (1,0): 1/3 vs 0 → b; b=1.
        // (1,1): 1/3 < 1/1 → a; a=2. (2,1): 2/3 < 1 → a; a=3.
        // (3,1): 1 = 1 tie → SWRR from cw (a=-1, b=1): (2,2), the lower index a → a=-2; a=4.
        // (4,1): 4/3 > 1 → b.
        let w = [3, 1];
        let mut lc = LeastConnections::new(&w);
        let mut active = [0; 2];
        let picks: Vec<u32> = (0..6)
            .map(|_| pick_and_start(&mut lc, &w, &mut active))
            .collect();
        assert_eq!(picks, vec![0, 1, 0, 0, 0, 1]);
    }

    #[test]
    fn tie_break_weights_persist_across_picks_that_did_not_tie() {
        // Weights a: 2, b: 1. cw changes only in ties.
        // (0,0) tie: cw (2,1) → a; a cw -1, b cw 1. loads (1,0).
        // (1,0): 1/2 vs 0 → b, no tie, cw unchanged. loads (1,1).
        // (1,1): 1/2 < 1 → a. loads (2,1). (2,1): 1 = 1 tie: cw (-1+2, 1+1) = (1,2) → b wins,
        // b cw 2-3 = -1. loads (2,2). (2,2): 1 < 2 → a. loads (3,2). (3,2): 3/2 < 2 → a.
        let w = [2, 1];
        let mut lc = LeastConnections::new(&w);
        let mut active = [0; 2];
        let picks: Vec<u32> = (0..6)
            .map(|_| pick_and_start(&mut lc, &w, &mut active))
            .collect();
        assert_eq!(picks, vec![0, 1, 0, 1, 0, 0]);
    }

    /// nginx's `ngx_http_upstream_get_least_conn_peer`, written as nginx writes it: the first
    /// peer of the least `conns / weight` (by cross-multiplication), and when several share
    /// it (`many`), smooth WRR among those alone, from the first of them on.
    #[allow(clippy::needless_range_loop)] // written index by index, as nginx's C loop is
    fn nginx_least_conn(
        weights: &[i64],
        conns: &[i64],
        eligible: &[bool],
        current: &mut [i64],
    ) -> Option<usize> {
        let mut best: Option<usize> = None;
        let mut many = false;
        for i in 0..weights.len() {
            if !eligible[i] {
                continue;
            }
            match best {
                Some(b) if conns[i] * weights[b] >= conns[b] * weights[i] => {
                    if conns[i] * weights[b] == conns[b] * weights[i] {
                        many = true;
                    }
                }
                _ => {
                    best = Some(i);
                    many = false;
                }
            }
        }
        let mut best = best?;
        let mut total = 0;
        if many {
            let first = best;
            for i in first..weights.len() {
                if !eligible[i] || conns[i] * weights[first] != conns[first] * weights[i] {
                    continue;
                }
                current[i] += weights[i];
                total += weights[i];
                if current[i] > current[best] {
                    best = i;
                }
            }
        }
        current[best] -= total;
        Some(best)
    }

    #[test]
    fn agrees_with_nginx_when_weights_and_loads_change() {
        // 25 targets of weights 1 to 4; requests start (at the pick) and end at random, weights
        // change to 1..=1000 and targets leave and return. Every pick must be nginx's.
        let n = 25;
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut rand = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut weights: Vec<u32> = (0..n).map(|_| 1 + (rand() % 4) as u32).collect();
        let mut active = vec![0u32; n];
        let mut eligible = vec![true; n];
        let mut reference = vec![0i64; n];
        let mut lc = LeastConnections::new(&weights);
        for step in 0..20_000 {
            if step % 5 == 0 {
                let i = (rand() % n as u64) as usize;
                let new = 1 + (rand() % 1000) as u32;
                if eligible[i] {
                    lc.set_weight(i as u32, active[i], weights[i], new);
                }
                weights[i] = new;
            }
            if step % 11 == 0 {
                let i = (rand() % n as u64) as usize;
                eligible[i] = !eligible[i];
                lc.set_eligible(i as u32, weights[i], active[i], eligible[i]);
            }
            // End a random request (loads move only while eligible, as the balancer does).
            let i = (rand() % n as u64) as usize;
            if active[i] > 0 && rand() % 2 == 0 {
                if eligible[i] {
                    lc.load_changed(i as u32, weights[i], active[i], active[i] - 1);
                }
                active[i] -= 1;
            }
            let w64: Vec<i64> = weights.iter().map(|&w| i64::from(w)).collect();
            let c64: Vec<i64> = active.iter().map(|&a| i64::from(a)).collect();
            let expected = nginx_least_conn(&w64, &c64, &eligible, &mut reference);
            let got = lc.pick();
            assert_eq!(got.map(|t| t as usize), expected, "pick {step}");
            if let Some(t) = got {
                let t = t as usize;
                lc.load_changed(t as u32, weights[t], active[t], active[t] + 1);
                active[t] += 1;
            }
        }
    }

    #[test]
    fn load_ratio_uses_the_new_weight() {
        // a: weight 1 with 2 active, b: weight 1 with 3 active → a (2 < 3). b's weight becomes
        // 2: ratios 2/1 vs 3/2, b's is lower (3 × 1 < 2 × 2) → b.
        let mut lc = LeastConnections::new(&[1, 1]);
        lc.load_changed(0, 1, 0, 2);
        lc.load_changed(1, 1, 0, 3);
        assert_eq!(lc.pick(), Some(0));
        lc.set_weight(1, 3, 1, 2);
        assert_eq!(lc.pick(), Some(1));
    }

    #[test]
    fn targets_out_of_service_are_not_picked() {
        let w = [1, 1];
        let mut lc = LeastConnections::new(&w);
        lc.set_eligible(0, 1, 0, false);
        assert_eq!(lc.pick(), Some(1));
        lc.set_eligible(1, 1, 0, false);
        assert_eq!(lc.pick(), None);
        lc.set_eligible(0, 1, 0, true);
        assert_eq!(lc.pick(), Some(0));
    }
}
