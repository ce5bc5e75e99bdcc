//! Billing rules: how long a billing period is charged for, and what a load balancer costs.
//!
//! A *billing period* runs from when an instance enters a state billed in full
//! ([`crate::model::fleet::lifecycle::InstanceState::billing`]) until it leaves it: terminated,
//! stopped into the warm pool (which then pays its storage only, per second, no minimum), or
//! interrupted by the cloud. Rounding applies per period:
//!
//! - **per second** (default): AWS "Amazon EC2 On-Demand Pricing" / "Per-second billing" for
//!   Linux: billed in one-second increments with a minimum of 60 seconds each time an instance
//!   starts or is started from the stopped state. Google Compute Engine ("VM instance pricing":
//!   per-second billing, one-minute minimum) and Azure (per-second billing for Linux VMs) are
//!   billed the same way, so one rule serves the three clouds.
//! - **per hour**: every started hour is billed in full (the older EC2 rule, still used for
//!   some commercial operating systems).
//! - **interrupted by the cloud** (AWS "Billing for interrupted Spot Instances"): under
//!   per-second billing, "you're charged for the seconds used" — we read that as no 60-second
//!   minimum padding; under per-hour billing an interruption in the first hour is not charged,
//!   and a later one is charged for the full hours used only (the partial hour is free).
//! - **the run's end** is not a stop: a period still open is billed for its actual time (the
//!   run samples a longer operation), without minimum or rounding.
//!
//! Load balancers (AWS "Elastic Load Balancing pricing", Application Load Balancer, us-east-1):
//! $0.0225 per ALB-hour and $0.008 per LCU-hour. An LCU is the largest, each hour, of four
//! dimensions: 25 new connections per second, 3,000 active connections (per minute), 1 GB
//! processed per hour (EC2 targets), and 1,000 rule evaluations per second (the first 10 rules
//! of a request are free). We count each request as one new connection.
//!
//! It must not know about instances or the world: it maps durations and usage to charges.

use crate::time::SimDuration;

const SECOND: u64 = 1_000_000_000;
const HOUR: u64 = 3_600 * SECOND;

/// The longest `[billing] minimum` accepted: an hour (the old EC2 per-hour rule; EC2 and GCE
/// bill at least 60 s today).
pub const MAX_MINIMUM: SimDuration = SimDuration::from_nanos(HOUR);

/// How started time is rounded (`[billing] granularity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Granularity {
    /// One-second increments, with a minimum per period (default 60 s).
    #[default]
    PerSecond,
    /// Every started hour in full.
    PerHour,
}

/// Who ended a billing period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedBy {
    /// The user (scale-in, a stop into the warm pool, a crash replaced by the group): rounding
    /// and the minimum apply.
    User,
    /// The cloud (a spot interruption): seconds used, or full hours used only.
    Cloud,
    /// The run ended while it was open: actual time.
    RunEnd,
}

/// Application Load Balancer list prices, us-east-1 (AWS "Elastic Load Balancing pricing").
pub const ALB_USD_PER_HOUR: f64 = 0.0225;
/// Price of one LCU-hour of an ALB, us-east-1.
pub const ALB_USD_PER_LCU_HOUR: f64 = 0.008;

/// The `[billing]` table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BillingSpec {
    /// How started time is rounded.
    pub granularity: Granularity,
    /// Least time billed per period ended by the user. Default 60 s per second, 0 per hour
    /// (where the rounding to an hour is its own minimum).
    pub minimum: SimDuration,
    /// The load balancer's prices, if the scenario bills one (`None`: no balancer cost).
    pub load_balancer: Option<LoadBalancerPrice>,
}

impl Default for BillingSpec {
    fn default() -> Self {
        BillingSpec {
            granularity: Granularity::PerSecond,
            minimum: SimDuration::from_secs(60),
            load_balancer: None,
        }
    }
}

/// What one load balancer costs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadBalancerPrice {
    /// Per balancer-hour [USD/h].
    pub per_hour: f64,
    /// Per LCU-hour \[USD\].
    pub per_lcu_hour: f64,
}

impl BillingSpec {
    /// The time billed for a period that lasted `used` and was ended `by`.
    pub fn billed(&self, used: SimDuration, by: EndedBy) -> SimDuration {
        let ns = used.as_nanos();
        let billed = match (self.granularity, by) {
            (_, EndedBy::RunEnd) => ns,
            (Granularity::PerSecond, EndedBy::User) => {
                { ns.div_ceil(SECOND) * SECOND }.max(self.minimum.as_nanos())
            }
            (Granularity::PerSecond, EndedBy::Cloud) => ns.div_ceil(SECOND) * SECOND,
            (Granularity::PerHour, EndedBy::User) => {
                (ns.div_ceil(HOUR) * HOUR).max(self.minimum.as_nanos())
            }
            (Granularity::PerHour, EndedBy::Cloud) => ns / HOUR * HOUR,
        };
        SimDuration::from_nanos(billed)
    }
}

/// What a balancer handled over one hour (or the run's last, shorter part of one).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LcuUsage {
    /// Length of the period \[s\].
    pub seconds: f64,
    /// New connections (each request is one).
    pub new_connections: u64,
    /// Time-average active connections (requests in flight).
    pub active_connections: f64,
    /// Bytes processed (requests and responses). 0 until classes have sizes.
    pub processed_bytes: f64,
    /// Rule evaluations per request beyond the 10 free ones.
    pub billed_rules_per_request: f64,
}

impl LcuUsage {
    /// LCUs used: the largest dimension (AWS charges on the highest one per hour).
    pub fn lcus(&self) -> f64 {
        if self.seconds <= 0.0 {
            return 0.0;
        }
        let per_second = self.new_connections as f64 / self.seconds;
        let hours = self.seconds / 3600.0;
        [
            per_second / 25.0,
            self.active_connections / 3000.0,
            self.processed_bytes / 1e9 / hours,
            per_second * self.billed_rules_per_request / 1000.0,
        ]
        .into_iter()
        .fold(0.0, f64::max)
    }

    /// LCU-hours used: LCUs over the period's length.
    pub fn lcu_hours(&self) -> f64 {
        self.lcus() * self.seconds / 3600.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> SimDuration {
        SimDuration::from_secs(secs)
    }

    #[test]
    fn per_second_billing_has_a_60_second_minimum_and_rounds_up_to_the_second() {
        let b = BillingSpec::default();
        // 30 s pays 60 s; 61 s pays 61 s; 61.2 s pays 62 s.
        assert_eq!(b.billed(s(30), EndedBy::User), s(60));
        assert_eq!(b.billed(s(61), EndedBy::User), s(61));
        assert_eq!(
            b.billed(SimDuration::from_millis(61_200), EndedBy::User),
            s(62)
        );
        // Interrupted by the cloud: the seconds used, no minimum.
        assert_eq!(b.billed(s(30), EndedBy::Cloud), s(30));
        // The run's end: the actual time.
        assert_eq!(
            b.billed(SimDuration::from_millis(30_500), EndedBy::RunEnd),
            SimDuration::from_millis(30_500)
        );
    }

    #[test]
    fn per_hour_billing_charges_started_hours_and_interruptions_only_full_ones() {
        let b = BillingSpec {
            granularity: Granularity::PerHour,
            minimum: SimDuration::ZERO,
            load_balancer: None,
        };
        // 61 min pays 2 h.
        assert_eq!(b.billed(s(61 * 60), EndedBy::User), s(7200));
        // A spot instance interrupted by the cloud within its first hour pays nothing; after
        // 61 min, one hour.
        assert_eq!(b.billed(s(59 * 60), EndedBy::Cloud), SimDuration::ZERO);
        assert_eq!(b.billed(s(61 * 60), EndedBy::Cloud), s(3600));
    }

    #[test]
    fn lcus_are_the_largest_dimension() {
        // One hour, 90,000 requests = 25/s → 1 LCU by new connections; 1,500 active → 0.5;
        // 2 GB → 2 LCUs: bytes win.
        let u = LcuUsage {
            seconds: 3600.0,
            new_connections: 90_000,
            active_connections: 1500.0,
            processed_bytes: 2e9,
            billed_rules_per_request: 0.0,
        };
        assert_eq!(u.lcus(), 2.0);
        assert_eq!(u.lcu_hours(), 2.0);
        // Half an hour at 50 requests/s: 2 LCUs for 0.5 h = 1 LCU-hour.
        let half = LcuUsage {
            seconds: 1800.0,
            new_connections: 90_000,
            ..LcuUsage::default()
        };
        assert_eq!(half.lcu_hours(), 1.0);
    }
}
