//! Power of d choices, as Envoy's `LEAST_REQUEST` load balancer
//! (`source/extensions/load_balancing_policies/least_request/least_request_lb.cc`):
//!
//! - all weights equal: draw `choice_count` (default 2) eligible hosts uniformly, with
//!   replacement, and keep the one with the fewest active requests; on a tie the earlier draw
//!   stays (Envoy replaces the candidate only on `<`). O(d).
//! - unequal weights (or an explicit `active_request_bias`): an earliest-deadline-first
//!   schedule (Envoy's `EdfScheduler`) where a host's weight is
//!   `weight / (active + 1)^active_request_bias` (bias default 1.0), evaluated when the host is
//!   (re)inserted, i.e. right after it is picked: pop the earliest deadline, then push the host
//!   back at `deadline + 1 / weight`. Ties go to the earlier insertion. O(log n).
//!
//! Eligibility changes rebuild the schedule and choose the path afresh, as Envoy's
//! `EdfLoadBalancerBase::refresh` does on every host-set change: no EDF when the eligible hosts'
//! weights are all equal and no bias was set (Envoy also requires that no host is in slow start;
//! here a host in slow start has a lowered weight, so its weight differs and the EDF is built).
//! Envoy also starts each schedule at a random offset so that many proxies do not move in
//! lockstep; with one balancer per target group here, that is left out.
//!
//! A weight change ([`PowerOfChoices::set_weight`]) does not rebuild the schedule: the target's
//! entry keeps its deadline and the new weight applies when it is next picked and re-inserted,
//! O(1). That is how Envoy applies slow start, whose weights change continuously without any
//! refresh: `refresh` builds the scheduler with "a fixed weight here. While the weight may change
//! without notification, this will only be stale until this host is next picked, at which point
//! it is reinserted into the EdfScheduler with its new weight" (`load_balancer_impl.cc`). A weight
//! change from EDS makes Envoy (1.18 and later) rebuild the whole load balancer instead, O(n log
//! n); to model that, follow `set_weight` by a [`PowerOfChoices::rebuild`]. The one rebuild
//! `set_weight` does itself is when the unweighted path's weights stop being equal, since the
//! EDF does not exist yet (Envoy: the host-set change that brings a host in slow start builds it).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::Rng;

use super::dense_set::DenseSet;
use super::TotalF64;
use crate::engine::StreamRng;

/// An EDF entry: earliest deadline first, then insertion order (field order is the order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Deadline {
    at: TotalF64,
    order: u64,
    target: u32,
}

/// Envoy's weighted path: an EDF schedule.
#[derive(Debug, Clone, Default)]
struct Edf {
    heap: BinaryHeap<Reverse<Deadline>>,
    now: f64,
    order: u64,
}

impl Edf {
    fn add(&mut self, target: u32, weight: f64) {
        self.heap.push(Reverse(Deadline {
            at: TotalF64(self.now + 1.0 / weight),
            order: self.order,
            target,
        }));
        self.order += 1;
    }
}

/// Envoy's dynamic host weight: `weight / (active + 1)^bias` (`LeastRequestLoadBalancer::
/// hostWeight`), with its shortcuts for bias 1 and 0.
fn host_weight(bias: f64, weight: u32, active: u32) -> f64 {
    let w = f64::from(weight);
    let a = f64::from(active) + 1.0;
    if bias == 1.0 {
        w / a
    } else if bias == 0.0 {
        w
    } else {
        w / a.powf(bias)
    }
}

/// Envoy least request over the eligible targets.
#[derive(Debug, Clone)]
pub struct PowerOfChoices {
    choice_count: u32,
    bias: f64,
    /// `active_request_bias` given explicitly: the weighted path always (current Envoy).
    explicit_bias: bool,
    /// `Some` on the weighted path.
    edf: Option<Edf>,
}

impl PowerOfChoices {
    /// `choice_count` draws on the unweighted path; `bias` (Envoy's `active_request_bias`)
    /// set explicitly forces the weighted path, as in current Envoy.
    pub fn new(choice_count: u32, bias: Option<f64>, weights: &[u32]) -> Self {
        let mut p = PowerOfChoices {
            choice_count: choice_count.max(1),
            bias: bias.unwrap_or(1.0),
            explicit_bias: bias.is_some(),
            edf: None,
        };
        p.rebuild(
            &DenseSet::full(weights.len()),
            weights,
            &vec![0; weights.len()],
        );
        p
    }

    /// Chooses the path and, on the weighted one, rebuilds the schedule over `eligible` (after
    /// the set changed). O(n log n) on the weighted path, O(n) otherwise.
    pub fn rebuild(&mut self, eligible: &DenseSet, weights: &[u32], active: &[u32]) {
        let first = (eligible.len() > 0).then(|| weights[eligible.get(0) as usize]);
        let unequal = (0..eligible.len()).any(|i| Some(weights[eligible.get(i) as usize]) != first);
        if !(unequal || self.explicit_bias) {
            self.edf = None;
            return;
        }
        let mut edf = Edf {
            heap: BinaryHeap::with_capacity(eligible.len()),
            ..Edf::default()
        };
        let mut members: Vec<u32> = (0..eligible.len()).map(|i| eligible.get(i)).collect();
        members.sort_unstable();
        for t in members {
            edf.add(
                t,
                host_weight(self.bias, weights[t as usize], active[t as usize]),
            );
        }
        self.edf = Some(edf);
    }

    /// `target`'s weight changed; `weights` holds the new one. O(1) on the weighted path (the
    /// new weight applies from the target's next re-insertion, as Envoy applies slow start);
    /// on the unweighted path, a rebuild onto the weighted one when the eligible targets'
    /// weights are no longer all equal.
    pub fn set_weight(
        &mut self,
        target: u32,
        eligible: &DenseSet,
        weights: &[u32],
        active: &[u32],
    ) {
        if self.edf.is_some() || !eligible.contains(target) {
            return;
        }
        // Unweighted path: the eligible targets had one weight. Any other member shows it.
        let other = (0..eligible.len().min(2))
            .map(|i| eligible.get(i))
            .find(|&t| t != target);
        if let Some(other) = other {
            if weights[other as usize] != weights[target as usize] {
                self.rebuild(eligible, weights, active);
            }
        }
    }

    /// The next target. `active` is each target's active requests.
    pub fn pick(
        &mut self,
        eligible: &DenseSet,
        weights: &[u32],
        active: &[u32],
        rng: &mut StreamRng,
    ) -> Option<u32> {
        if let Some(edf) = &mut self.edf {
            let Reverse(next) = edf.heap.pop()?;
            edf.now = next.at.0;
            let t = next.target;
            edf.add(
                t,
                host_weight(self.bias, weights[t as usize], active[t as usize]),
            );
            return Some(t);
        }
        let n = eligible.len();
        if n == 0 {
            return None;
        }
        let mut best = eligible.get(rng.random_range(0..n));
        for _ in 1..self.choice_count {
            let candidate = eligible.get(rng.random_range(0..n));
            if active[candidate as usize] < active[best as usize] {
                best = candidate;
            }
        }
        Some(best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RandomStreams;

    #[test]
    fn two_choices_never_pick_the_busiest_of_two() {
        // With 2 targets and loads (5, 0), target 0 is chosen only when both draws hit it:
        // probability 1/4.
        let mut rng = RandomStreams::new(3).stream("t");
        let mut p = PowerOfChoices::new(2, None, &[1, 1]);
        let set = DenseSet::full(2);
        let active = [5, 0];
        let n = 40_000;
        let zeros = (0..n)
            .filter(|_| p.pick(&set, &[1, 1], &active, &mut rng) == Some(0))
            .count();
        let share = zeros as f64 / n as f64;
        // Binomial sd = sqrt(0.25 × 0.75 / n) = 0.0022: 5 sd = 0.011.
        assert!((share - 0.25).abs() < 0.011, "{share}");
    }

    #[test]
    fn weighted_schedule_follows_envoy_edf() {
        // Weights a: 2, b: 1, no active requests (bias irrelevant at active = 0 when the
        // counts stay zero). Deadlines: a 0.5, b 1.0 → a (next 1.0, inserted after b);
        // b 1.0 → b (next 2.0); a 1.0 → a (1.5); a 1.5 → a (2.0); b 2.0 (inserted before a's
        // 2.0) → b; a 2.0 → a. Sequence a b a a b a.
        let mut rng = RandomStreams::new(3).stream("t");
        let w = [2, 1];
        let mut p = PowerOfChoices::new(2, None, &w);
        let set = DenseSet::full(2);
        let picks: Vec<u32> = (0..6)
            .map(|_| p.pick(&set, &w, &[0, 0], &mut rng).unwrap())
            .collect();
        assert_eq!(picks, vec![0, 1, 0, 0, 1, 0]);
    }

    /// Picks `n` times with no request in progress; counts per target.
    fn counts(p: &mut PowerOfChoices, set: &DenseSet, w: &[u32], n: usize) -> Vec<u32> {
        let mut rng = RandomStreams::new(3).stream("t");
        let active = vec![0; w.len()];
        let mut c = vec![0; w.len()];
        for _ in 0..n {
            c[p.pick(set, w, &active, &mut rng).unwrap() as usize] += 1;
        }
        c
    }

    #[test]
    fn edf_shares_follow_a_changed_weight_from_its_next_pick() {
        // a: 2, b: 1 (EDF). b's weight becomes 3. b's pending entry keeps its old deadline
        // (Envoy re-weights a host when it is next picked), so the new share 3/5 holds from
        // b's first pick on: over 5,000 picks after that, EDF with fixed weights gives exactly
        // 2,000 and 3,000 up to the one pick in progress at the cut (±1).
        let mut w = vec![2, 1];
        let set = DenseSet::full(2);
        let mut p = PowerOfChoices::new(2, None, &w);
        assert_eq!(counts(&mut p, &set, &w, 300), vec![200, 100]);
        w[1] = 3;
        p.set_weight(1, &set, &w, &[0, 0]);
        assert!(p.edf.is_some());
        let mut rng = RandomStreams::new(3).stream("t");
        // Until b is picked once, the old schedule: b's deadline is at most 1/1 away.
        let mut before = 0;
        while p.pick(&set, &w, &[0, 0], &mut rng) != Some(1) {
            before += 1;
        }
        assert!(before <= 2, "{before} picks of a before b's old deadline");
        let c = counts(&mut p, &set, &w, 5000);
        assert!((i64::from(c[1]) - 3000).abs() <= 1, "{c:?}");
    }

    #[test]
    fn unequal_weights_move_the_unweighted_path_onto_the_edf() {
        // All weights 1000: Envoy's unweighted path (no EDF). Target 3 ramps to 250 (a slow
        // start at 25 %): the eligible weights differ, the EDF is built, and shares follow
        // 1000 : 1000 : 1000 : 250, i.e. 4/13 each and 1/13 for target 3. Over 13,000 picks EDF
        // with fixed weights gives 4,000 / 4,000 / 4,000 / 1,000 up to ±1 at the cut.
        let mut w = vec![1000; 4];
        let set = DenseSet::full(4);
        let mut p = PowerOfChoices::new(2, None, &w);
        assert!(p.edf.is_none());
        w[3] = 250;
        p.set_weight(3, &set, &w, &[0; 4]);
        assert!(p.edf.is_some());
        let c = counts(&mut p, &set, &w, 13_000);
        for (t, expected) in [(0, 4000), (1, 4000), (2, 4000), (3, 1000)] {
            assert!((i64::from(c[t]) - expected).abs() <= 1, "{c:?}");
        }
        // Back to equal weights: the EDF stays (Envoy builds paths only on a host-set change)
        // until the next rebuild, which takes the unweighted path again.
        w[3] = 1000;
        p.set_weight(3, &set, &w, &[0; 4]);
        assert!(p.edf.is_some());
        p.rebuild(&set, &w, &[0; 4]);
        assert!(p.edf.is_none());
    }

    #[test]
    fn a_weight_change_of_an_ineligible_target_waits_for_its_return() {
        let mut w = vec![1, 1, 1];
        let mut set = DenseSet::full(3);
        set.remove(2);
        let mut p = PowerOfChoices::new(2, None, &w);
        p.rebuild(&set, &w, &[0; 3]);
        w[2] = 5;
        p.set_weight(2, &set, &w, &[0; 3]);
        assert!(
            p.edf.is_none(),
            "the eligible targets' weights are still equal"
        );
        set.insert(2);
        p.rebuild(&set, &w, &[0; 3]);
        assert!(p.edf.is_some());
        // 1 : 1 : 5 over 7,000 picks: 5,000 for target 2 (±1).
        let c = counts(&mut p, &set, &w, 7000);
        assert!((i64::from(c[2]) - 5000).abs() <= 1, "{c:?}");
    }

    #[test]
    fn active_requests_lower_the_effective_weight() {
        // a: weight 4 with 3 active (4 / 4 = 1), b: weight 1 idle (1 / 1 = 1): once both are
        // re-inserted at those weights, they alternate.
        let mut rng = RandomStreams::new(3).stream("t");
        let w = [4, 1];
        let active = [3, 0];
        let mut p = PowerOfChoices::new(2, None, &w);
        let set = DenseSet::full(2);
        p.rebuild(&set, &w, &active);
        let picks: Vec<u32> = (0..6)
            .map(|_| p.pick(&set, &w, &active, &mut rng).unwrap())
            .collect();
        assert_eq!(picks, vec![0, 1, 0, 1, 0, 1]);
    }
}
