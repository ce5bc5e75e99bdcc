//! Spot interruptions: when the cloud reclaims a spot instance, and what warns of it.
//!
//! Sources: EC2 user guide, "Spot Instance interruption notices" ("a two-minute warning before
//! Amazon EC2 stops or terminates your instance"), and "EC2 instance rebalance recommendations"
//! (a signal that an instance "is at elevated risk of interruption"; it "can arrive sooner than
//! the two-minute Spot Instance interruption notice", with no fixed lead, and not every
//! interruption is preceded by one).
//!
//! The model: each running spot instance of a type with a hazard is interrupted after an
//! exponential time with the type's mean (a constant hazard: the fleet-level interruption
//! frequency of the AWS Spot Instance Advisor, "<5 %", "5-10 %"... per month, is a rate).
//! A fraction of interruptions is preceded by a rebalance recommendation, a drawn lead before
//! the notice. It must not know about balancers or the fleet: the world applies the notice.

use super::PurchaseOption;
use crate::model::distribution::ServiceTime;
use crate::time::{SimDuration, SimTime};

/// The interruption notice's lead: two minutes (EC2, "Spot Instance interruption notices").
pub const NOTICE: SimDuration = SimDuration::from_secs(120);

/// The default lead of a rebalance recommendation before the interruption notice. AWS gives
/// no figure; ten minutes is our assumption (recommendations often come minutes ahead).
pub const DEFAULT_REBALANCE_LEAD: SimDuration = SimDuration::from_secs(600);

/// How a type's spot instances are interrupted (`spot_interruptions = { ... }` on an
/// `[[instance_type]]`).
#[derive(Debug, Clone, PartialEq)]
pub struct SpotInterruptions {
    /// Mean time from launch to the interruption notice of one spot instance (exponential).
    pub mean_time_between: SimDuration,
    /// Fraction of interruptions preceded by a rebalance recommendation, 0 to 1. Default 1.
    pub rebalance_fraction: f64,
    /// How long before the notice the recommendation arrives (a distribution, drawn once per
    /// interruption; default a constant [`DEFAULT_REBALANCE_LEAD`]).
    pub rebalance_lead: ServiceTime,
}

impl SpotInterruptions {
    /// Expected interruptions per instance-hour (what the allocation strategies call risk).
    pub fn risk_per_hour(&self) -> f64 {
        3600.0 / self.mean_time_between.as_secs_f64()
    }

    /// The time from launch to the interruption notice at quantile `u` in (0, 1) of the
    /// exponential distribution: −mean · ln(1 − u).
    pub fn time_to_notice(&self, u: f64) -> SimDuration {
        let mean = self.mean_time_between.as_nanos() as f64;
        SimDuration::from_nanos_f64(-mean * (-u).ln_1p())
    }
}

/// How many spot instances of a type the cloud has for us over time (`spot_availability`): a
/// step function, as in the availability traces of Wu et al., *Can't Be Late* (NSDI 2024),
/// "the number of available instances at a specific tick".
#[derive(Debug, Clone, PartialEq)]
pub struct SpotAvailability {
    /// `(from, available)`, times strictly increasing, the first at time 0: `available`
    /// instances from `from` until the next point.
    pub points: Vec<(SimTime, u32)>,
}

impl SpotAvailability {
    /// From `(time, available)` rows in time order (the first value also holds before its
    /// time); consecutive equal values merge. `None` if there are no rows.
    pub fn from_rows(rows: &[(SimTime, u32)]) -> Option<Self> {
        let mut points: Vec<(SimTime, u32)> = Vec::new();
        for &(t, n) in rows {
            match points.last_mut() {
                None => points.push((SimTime::ZERO, n)),
                Some(&mut (from, _)) if from == t => points.last_mut().expect("last").1 = n,
                Some(&mut (_, m)) if m == n => {}
                Some(_) => points.push((t, n)),
            }
        }
        (!points.is_empty()).then_some(SpotAvailability { points })
    }

    /// Instances available at `now`.
    pub fn at(&self, now: SimTime) -> u32 {
        let i = self.points.partition_point(|&(t, _)| t <= now);
        self.points[i.saturating_sub(1)].1
    }
}

/// A window in which launches of one instance type fail with insufficient capacity
/// (`[[capacity_shortage]]`; EC2's `InsufficientInstanceCapacity` error).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CapacityShortage {
    /// The instance type (index into the scenario's types).
    pub itype: usize,
    /// Only launches bought this way fail; `None`: both.
    pub purchase: Option<PurchaseOption>,
    /// When it begins.
    pub from: SimTime,
    /// When it ends.
    pub until: SimTime,
}

impl CapacityShortage {
    /// True if a launch of `itype` bought as `purchase` at `now` fails here.
    pub fn blocks(&self, itype: usize, purchase: PurchaseOption, now: SimTime) -> bool {
        self.itype == itype
            && self.purchase.is_none_or(|p| p == purchase)
            && self.from <= now
            && now < self.until
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn availability_is_a_step_function_of_its_rows() {
        let t = SimTime::from_nanos;
        let a =
            SpotAvailability::from_rows(&[(t(5), 2), (t(10), 2), (t(20), 0), (t(30), 1)]).unwrap();
        // The first value holds from 0; the repeated 2 merges.
        assert_eq!(a.points, vec![(t(0), 2), (t(20), 0), (t(30), 1)]);
        assert_eq!(
            [a.at(t(0)), a.at(t(19)), a.at(t(20)), a.at(t(99))],
            [2, 2, 0, 1]
        );
        assert!(SpotAvailability::from_rows(&[]).is_none());
    }

    #[test]
    fn the_time_to_notice_is_exponential_with_the_mean() {
        let s = SpotInterruptions {
            mean_time_between: SimDuration::from_secs(3600),
            rebalance_fraction: 1.0,
            rebalance_lead: ServiceTime::Constant { nanos: 0.0 },
        };
        assert_eq!(s.risk_per_hour(), 1.0);
        // The median of an exponential is mean · ln 2 = 2495.3 s.
        let median = s.time_to_notice(0.5).as_secs_f64();
        assert!(
            (median - 3600.0 * std::f64::consts::LN_2).abs() < 1e-6,
            "{median}"
        );
        // At u = 1 − e⁻¹ it is the mean.
        let at_mean = s.time_to_notice(1.0 - (-1.0f64).exp()).as_secs_f64();
        assert!((at_mean - 3600.0).abs() < 1e-6, "{at_mean}");
    }
}
