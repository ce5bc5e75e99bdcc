//! Least response time: the target with the lowest peak-EWMA cost, the load metric of
//! Finagle's `PeakEwma` balancer (used by Linkerd):
//!
//! ```text
//! on each response of round-trip time rtt at time t (ns):
//!     w    = exp(-(t - stamp) / τ)                          τ = decay time, default 10 s
//!     cost = rtt                      if rtt > cost       (peak-sensitive: jumps up at once)
//!          = cost × w + rtt × (1 − w) otherwise           (decays smoothly down)
//!     stamp = t
//! score = cost(now) × (active + 1),  where cost(now) = cost × exp(-(now − stamp) / τ)
//! a target never measured (cost 0) scores 0 when idle, and a penalty above every measured
//! score when busy (Finagle: `Penalty + pending`)
//! ```
//!
//! Finagle samples two targets and compares their scores; this balancer takes the best of all
//! eligible targets, in O(log n): since every cost decays by the same factor `exp(-now / τ)`,
//! `ln cost + stamp / τ + ln(active + 1)` orders the targets the same at every instant and
//! changes only when the target's own load or cost does. Ties go to the lower index. The
//! round-trip time observed is from dispatch to the end of service: queueing at the target
//! included, as a proxy sees it.

use std::collections::BTreeSet;

use super::TotalF64;
use crate::time::{SimDuration, SimTime};

/// A score key ordered as the score (field order is the order; ties to the lower index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    /// 0: never measured and idle (score 0); 1: measured (by `log_score`); 2: never measured
    /// but busy (Finagle's penalty, by active count).
    tier: u8,
    log_score: TotalF64,
    target: u32,
}

/// Peak-EWMA least response time over the eligible targets.
#[derive(Debug, Clone)]
pub struct LeastResponseTime {
    tau_nanos: f64,
    /// Peak EWMA cost \[ns\] as of `stamp`.
    cost: Vec<f64>,
    stamp: Vec<u64>,
    /// Each eligible target's key in `order`; `None` when not eligible.
    key: Vec<Option<Key>>,
    order: BTreeSet<Key>,
}

impl LeastResponseTime {
    /// `n` targets, all eligible, never measured; costs decay with time constant `decay`.
    pub fn new(n: usize, decay: SimDuration) -> Self {
        let mut l = LeastResponseTime {
            tau_nanos: decay.as_nanos().max(1) as f64,
            cost: vec![0.0; n],
            stamp: vec![0; n],
            key: vec![None; n],
            order: BTreeSet::new(),
        };
        for t in 0..n as u32 {
            l.place(t, 0);
        }
        l
    }

    fn key_of(&self, target: u32, active: u32) -> Key {
        let t = target as usize;
        let (tier, log_score) = if self.cost[t] > 0.0 {
            let decayed_log_cost = self.cost[t].ln() + self.stamp[t] as f64 / self.tau_nanos;
            (1, decayed_log_cost + (f64::from(active) + 1.0).ln())
        } else if active == 0 {
            (0, 0.0)
        } else {
            (2, f64::from(active))
        };
        Key {
            tier,
            log_score: TotalF64(log_score),
            target,
        }
    }

    fn unplace(&mut self, target: u32) -> bool {
        match self.key[target as usize].take() {
            Some(k) => {
                self.order.remove(&k);
                true
            }
            None => false,
        }
    }

    fn place(&mut self, target: u32, active: u32) {
        let k = self.key_of(target, active);
        self.order.insert(k);
        self.key[target as usize] = Some(k);
    }

    /// The target with the lowest score.
    pub fn pick(&self) -> Option<u32> {
        self.order.first().map(|k| k.target)
    }

    /// `target` now has `active` requests in progress.
    pub fn load_changed(&mut self, target: u32, active: u32) {
        if self.unplace(target) {
            self.place(target, active);
        }
    }

    /// A response of `target` took `rtt`, observed at `now`; it has `active` in progress.
    pub fn observe(&mut self, target: u32, rtt: SimDuration, now: SimTime, active: u32) {
        let t = target as usize;
        let rtt = rtt.as_nanos() as f64;
        let elapsed = now.as_nanos().saturating_sub(self.stamp[t]) as f64;
        let w = (-elapsed / self.tau_nanos).exp();
        self.cost[t] = if rtt > self.cost[t] {
            rtt
        } else {
            self.cost[t] * w + rtt * (1.0 - w)
        };
        self.stamp[t] = now.as_nanos();
        if self.unplace(target) {
            self.place(target, active);
        }
    }

    /// `target` (with `active` in progress) joins or leaves the eligible set.
    pub fn set_eligible(&mut self, target: u32, active: u32, eligible: bool) {
        self.unplace(target);
        if eligible {
            self.place(target, active);
        }
    }

    /// `target`'s score at `now` (cost decayed to now × (active + 1)), as Finagle computes it.
    #[cfg(test)]
    fn score(&self, target: u32, active: u32, now: SimTime) -> f64 {
        let t = target as usize;
        let elapsed = now.as_nanos().saturating_sub(self.stamp[t]) as f64;
        let cost = self.cost[t] * (-elapsed / self.tau_nanos).exp();
        cost * (f64::from(active) + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(x: u64) -> SimDuration {
        SimDuration::from_nanos(x * 1_000_000)
    }
    fn at_s(x: u64) -> SimTime {
        SimTime::from_nanos(x * 1_000_000_000)
    }

    #[test]
    fn peak_ewma_jumps_up_and_decays_down() {
        let mut l = LeastResponseTime::new(1, SimDuration::from_secs(10));
        l.observe(0, ms(100), at_s(0), 0);
        assert_eq!(l.score(0, 0, at_s(0)), 100e6);
        // A slower response is taken at once (peak sensitivity).
        l.observe(0, ms(400), at_s(1), 0);
        assert_eq!(l.score(0, 0, at_s(1)), 400e6);
        // A faster one after 10 s (one τ) moves the cost by 1 − 1/e of the way.
        l.observe(0, ms(100), at_s(11), 0);
        let expected = 400e6 * (-1f64).exp() + 100e6 * (1.0 - (-1f64).exp());
        assert!((l.score(0, 0, at_s(11)) - expected).abs() < 1.0);
        // Active requests multiply the score.
        assert!((l.score(0, 3, at_s(11)) - 4.0 * expected).abs() < 4.0);
    }

    #[test]
    fn picks_the_lowest_score_at_any_instant() {
        // a: 100 ms measured at t = 0, b: 300 ms measured at t = 20 s. At t = 20 s a's cost has
        // decayed to 100 × e^-2 ≈ 13.5 ms; with 2 active its score ≈ 40.6 ms < 300 ms.
        let mut l = LeastResponseTime::new(3, SimDuration::from_secs(10));
        l.set_eligible(2, 0, false);
        l.observe(0, ms(100), at_s(0), 0);
        l.observe(1, ms(300), at_s(20), 0);
        l.load_changed(0, 2);
        assert_eq!(l.pick(), Some(0));
        // With 30 active: 13.5 × 31 ≈ 420 ms > 300 ms.
        l.load_changed(0, 30);
        assert_eq!(l.pick(), Some(1));
        assert!(l.score(0, 30, at_s(20)) > l.score(1, 0, at_s(20)));
    }

    #[test]
    fn unmeasured_targets_are_tried_first_when_idle_and_last_when_busy() {
        let mut l = LeastResponseTime::new(2, SimDuration::from_secs(10));
        l.observe(0, ms(1), at_s(0), 0);
        assert_eq!(l.pick(), Some(1));
        l.load_changed(1, 1);
        assert_eq!(l.pick(), Some(0));
    }
}
