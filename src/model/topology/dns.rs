//! Global DNS balancing between regions, as Amazon Route 53 does it: routing policies, health
//! checks with a failure threshold, and record TTLs; and anycast, where the network itself
//! sends each packet to the nearest region still announcing the address.
//!
//! Pure decisions: [`DnsSpec::answer`] picks a region from health flags and distances;
//! [`DnsHealth`] turns check results into a health status. The world runs the checks, keeps
//! each client's cached answer and applies the outages.

use crate::time::SimDuration;

/// How the DNS (or the network, for anycast) picks a region for a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsPolicy {
    /// Active-passive (Route 53 failover routing): the first healthy region in order.
    Failover,
    /// Route 53 weighted routing: healthy regions in proportion to their weights.
    Weighted,
    /// Route 53 latency-based routing: the healthy region closest to the client.
    Latency,
    /// One address announced from every region: each request reaches the closest region
    /// still announcing it. No DNS cache, no health check: a region in an outage withdraws
    /// its route after the convergence delay.
    Anycast,
}

/// Route 53 health checks of each region's endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionHealthCheck {
    /// Time between checks. Route 53: 30 s standard, 10 s fast ("Values that you specify when
    /// you create or update health checks", Request interval).
    pub interval: SimDuration,
    /// Consecutive results that flip the status, both ways. Route 53 default 3.
    pub failure_threshold: u32,
}

impl Default for RegionHealthCheck {
    fn default() -> Self {
        RegionHealthCheck {
            interval: SimDuration::from_secs(30),
            failure_threshold: 3,
        }
    }
}

/// The DNS setup: which regions it answers with, how, and for how long clients cache answers.
#[derive(Debug, Clone, PartialEq)]
pub struct DnsSpec {
    /// How it picks.
    pub policy: DnsPolicy,
    /// The regions it answers with (indices into `Topology::regions`), in priority order for
    /// failover.
    pub regions: Vec<usize>,
    /// Weights for the weighted policy, indexed like `regions` (Route 53: 0 to 255; all 0
    /// means equal shares).
    pub weights: Vec<u32>,
    /// How long a client caches an answer (the record's TTL).
    pub ttl: SimDuration,
    /// The health checks (not used by anycast).
    pub health_check: RegionHealthCheck,
    /// Anycast: how long after a region goes down before routers stop sending to it (BGP
    /// withdrawal and convergence). Default 0.
    pub convergence: SimDuration,
}

impl DnsSpec {
    /// A DNS that always answers with `region` (a scenario with regions but no `[dns]`).
    pub fn single(region: usize) -> Self {
        DnsSpec {
            policy: DnsPolicy::Failover,
            regions: vec![region],
            weights: vec![1],
            ttl: SimDuration::from_secs(60),
            health_check: RegionHealthCheck::default(),
            convergence: SimDuration::ZERO,
        }
    }

    /// The answer (an index into `regions`) for a client whose round trip to each of
    /// `regions` is `rtt`, given which ones are `up` (healthy by the checks, or still
    /// announced for anycast). `draw` gives a uniform number in [0, 1) (weighted only).
    ///
    /// Route 53 ("How Amazon Route 53 chooses records when health checking is configured"):
    /// records whose health check fails are left out; if every record is unhealthy, it
    /// answers as if all were healthy. Anycast with every route withdrawn still sends to the
    /// closest region (the packets go nowhere useful).
    pub fn answer(&self, up: &[bool], rtt: &[SimDuration], draw: impl FnOnce() -> f64) -> usize {
        let any_up = up.iter().any(|&u| u);
        let considered = |k: usize| !any_up || up[k];
        let n = self.regions.len();
        match self.policy {
            DnsPolicy::Failover => (0..n).find(|&k| considered(k)).unwrap_or(0),
            DnsPolicy::Latency | DnsPolicy::Anycast => (0..n)
                .filter(|&k| considered(k))
                .min_by_key(|&k| (rtt[k], k))
                .unwrap_or(0),
            DnsPolicy::Weighted => {
                let all_zero = (0..n)
                    .filter(|&k| considered(k))
                    .all(|k| self.weights[k] == 0);
                let weight = |k: usize| match () {
                    _ if !considered(k) => 0,
                    _ if all_zero => 1,
                    _ => u64::from(self.weights[k]),
                };
                let total: u64 = (0..n).map(weight).sum();
                let mut x = draw() * total as f64;
                for k in 0..n {
                    let w = weight(k) as f64;
                    if x < w {
                        return k;
                    }
                    x -= w;
                }
                // Rounding at the top end: the last region with weight.
                (0..n).rev().find(|&k| weight(k) > 0).unwrap_or(0)
            }
        }
    }
}

/// The health status of one region's endpoint under Route 53 checks: it starts healthy and
/// flips after `threshold` consecutive results that disagree with it, both ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsHealth {
    healthy: bool,
    streak: u32,
}

impl Default for DnsHealth {
    fn default() -> Self {
        DnsHealth {
            healthy: true,
            streak: 0,
        }
    }
}

impl DnsHealth {
    /// Whether the checks consider the endpoint healthy.
    pub fn is_healthy(&self) -> bool {
        self.healthy
    }

    /// One check result; returns the new status when it flips.
    pub fn observe(&mut self, passed: bool, threshold: u32) -> Option<bool> {
        if passed == self.healthy {
            self.streak = 0;
            return None;
        }
        self.streak += 1;
        if self.streak < threshold {
            return None;
        }
        self.streak = 0;
        self.healthy = passed;
        Some(passed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(policy: DnsPolicy, weights: &[u32]) -> DnsSpec {
        DnsSpec {
            policy,
            regions: (0..weights.len()).collect(),
            weights: weights.to_vec(),
            ..DnsSpec::single(0)
        }
    }

    fn ms(v: &[u64]) -> Vec<SimDuration> {
        v.iter().map(|&m| SimDuration::from_millis(m)).collect()
    }

    #[test]
    fn failover_answers_the_first_healthy_region_and_the_primary_when_none_is() {
        let s = spec(DnsPolicy::Failover, &[1, 1, 1]);
        let rtt = ms(&[50, 10, 30]);
        assert_eq!(s.answer(&[true, true, true], &rtt, || 0.0), 0);
        assert_eq!(s.answer(&[false, true, true], &rtt, || 0.0), 1);
        assert_eq!(s.answer(&[false, false, true], &rtt, || 0.0), 2);
        // Every record unhealthy: Route 53 answers as if all were healthy.
        assert_eq!(s.answer(&[false, false, false], &rtt, || 0.0), 0);
    }

    #[test]
    fn latency_and_anycast_pick_the_closest_region_up() {
        for policy in [DnsPolicy::Latency, DnsPolicy::Anycast] {
            let s = spec(policy, &[1, 1, 1]);
            let rtt = ms(&[50, 10, 30]);
            assert_eq!(s.answer(&[true, true, true], &rtt, || 0.0), 1);
            assert_eq!(s.answer(&[true, false, true], &rtt, || 0.0), 2);
            assert_eq!(s.answer(&[false, false, false], &rtt, || 0.0), 1);
        }
    }

    #[test]
    fn weighted_splits_the_unit_interval_by_weight_among_healthy_regions() {
        // Weights 3 and 1: draws below 0.75 go to region 0, the rest to region 1.
        let s = spec(DnsPolicy::Weighted, &[3, 1]);
        let rtt = ms(&[0, 0]);
        assert_eq!(s.answer(&[true, true], &rtt, || 0.7499), 0);
        assert_eq!(s.answer(&[true, true], &rtt, || 0.75), 1);
        assert_eq!(s.answer(&[true, true], &rtt, || 0.9999999), 1);
        // Region 0 unhealthy: everything to region 1.
        assert_eq!(s.answer(&[false, true], &rtt, || 0.1), 1);
        // All weights zero: equal shares (Route 53).
        let zero = spec(DnsPolicy::Weighted, &[0, 0]);
        assert_eq!(zero.answer(&[true, true], &rtt, || 0.49), 0);
        assert_eq!(zero.answer(&[true, true], &rtt, || 0.51), 1);
    }

    #[test]
    fn health_flips_after_threshold_consecutive_results_both_ways() {
        let mut h = DnsHealth::default();
        assert_eq!(h.observe(false, 3), None);
        assert_eq!(h.observe(false, 3), None);
        // A pass in between restarts the count.
        assert_eq!(h.observe(true, 3), None);
        assert_eq!(h.observe(false, 3), None);
        assert_eq!(h.observe(false, 3), None);
        assert_eq!(h.observe(false, 3), Some(false));
        assert!(!h.is_healthy());
        assert_eq!(h.observe(true, 3), None);
        assert_eq!(h.observe(true, 3), None);
        assert_eq!(h.observe(true, 3), Some(true));
    }
}
