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
//! Eligibility changes rebuild the schedule (Envoy rebuilds it when the host set changes).
//! Envoy also starts each schedule at a random offset so that many proxies do not move in
//! lockstep; with one balancer per target group here, that is left out.

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
    /// `Some` on the weighted path.
    edf: Option<Edf>,
}

impl PowerOfChoices {
    /// `choice_count` draws on the unweighted path; `bias` (Envoy's `active_request_bias`)
    /// set explicitly forces the weighted path, as in current Envoy.
    pub fn new(choice_count: u32, bias: Option<f64>, weights: &[u32]) -> Self {
        let unequal = weights.windows(2).any(|w| w[0] != w[1]);
        let mut p = PowerOfChoices {
            choice_count: choice_count.max(1),
            bias: bias.unwrap_or(1.0),
            edf: None,
        };
        if unequal || bias.is_some() {
            let all = DenseSet::full(weights.len());
            p.edf = Some(Edf::default());
            p.rebuild(&all, weights, &vec![0; weights.len()]);
        }
        p
    }

    /// Rebuilds the weighted schedule over `eligible` (after the set changed).
    pub fn rebuild(&mut self, eligible: &DenseSet, weights: &[u32], active: &[u32]) {
        if self.edf.is_none() {
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
