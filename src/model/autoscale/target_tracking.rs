//! AWS EC2 Auto Scaling target tracking: keep a utilization metric near a target value with
//! two alarms that Auto Scaling creates and manages, one to scale out and one to scale in.
//!
//! It owns the two alarms' datapoints; it must not know how instances boot or where the metric
//! comes from. [`average_excluding_warmup`] is the aggregation rule the metrics pipeline applies
//! before handing a datapoint to [`TargetTrackingPolicy::decide`].
//!
//! Sources:
//! - Amazon EC2 Auto Scaling User Guide, "Target tracking scaling policies"
//!   (<https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-scaling-target-tracking.html>,
//!   `doc_source/as-scaling-target-tracking.md` in awsdocs/amazon-ec2-auto-scaling-user-guide):
//!   capacity moves in proportion to the metric; "we act conservatively by rounding up or down
//!   when determining how many instances to add or remove ... We might determine that adding 1.5
//!   instances will decrease the CPU utilization to close to 50 percent ... we round up and add
//!   two instances ... if we determine that removing 1.5 instances increases your CPU
//!   utilization to above 50 percent, we remove just one instance"; "the Auto Scaling group
//!   scales out proportionally to the metric as fast as it can, but scales in more gradually";
//!   warming instances are "not counted toward the aggregated metrics"; `DisableScaleIn`.
//! - The alarms themselves are not specified in the User Guide. What AWS creates is visible in
//!   the CloudWatch console of every account that uses target tracking: `AlarmHigh`,
//!   "CPUUtilization > 40 for 3 datapoints within 3 minutes", and `AlarmLow`,
//!   "CPUUtilization < 28 for 15 datapoints within 15 minutes" for a target of 40 (the same
//!   70 % ratio appears as `< 35` for a target of 50 in other published accounts). These are
//!   the defaults here: [`SCALE_OUT_DATAPOINTS`], [`SCALE_IN_DATAPOINTS`],
//!   [`DEFAULT_SCALE_IN_RATIO`]; all three can be changed through
//!   [`TargetTrackingPolicy::with_alarms`].

use crate::time::SimTime;

use super::alarm::{Alarm, Comparison};
use super::capacity::{resolve, GroupCapacity, ScalingDecision, ScalingReason};

/// Consecutive one-minute datapoints above the target before the policy scales out
/// (`AlarmHigh`: "3 datapoints within 3 minutes").
pub const SCALE_OUT_DATAPOINTS: usize = 3;

/// Consecutive one-minute datapoints below the scale-in threshold before the policy scales in
/// (`AlarmLow`: "15 datapoints within 15 minutes").
pub const SCALE_IN_DATAPOINTS: usize = 15;

/// The scale-in alarm's threshold as a fraction of the target (`AlarmLow` at 28 for a target
/// of 40, observed; not documented by AWS).
pub const DEFAULT_SCALE_IN_RATIO: f64 = 0.7;

/// A target tracking scaling policy.
#[derive(Clone, Debug)]
pub struct TargetTrackingPolicy {
    target: f64,
    high: Alarm,
    /// `None` when scale-in is disabled: AWS then creates no low alarm.
    low: Option<Alarm>,
}

impl TargetTrackingPolicy {
    /// A policy keeping the metric at `target` with AWS's default alarms. With
    /// `disable_scale_in` (API `DisableScaleIn`, default false) it "doesn't remove instances
    /// from the Auto Scaling group". Panics unless `target > 0` (validation rejects others).
    pub fn new(target: f64, disable_scale_in: bool) -> Self {
        let high = Alarm::new(
            target,
            Comparison::GreaterThan,
            SCALE_OUT_DATAPOINTS,
            SCALE_OUT_DATAPOINTS,
        );
        let low = (!disable_scale_in).then(|| {
            Alarm::new(
                target * DEFAULT_SCALE_IN_RATIO,
                Comparison::LessThan,
                SCALE_IN_DATAPOINTS,
                SCALE_IN_DATAPOINTS,
            )
        });
        TargetTrackingPolicy::with_alarms(target, high, low)
    }

    /// A policy with explicit alarms: `high` scales out, `low` (if any) scales in.
    pub fn with_alarms(target: f64, high: Alarm, low: Option<Alarm>) -> Self {
        assert!(
            target > 0.0,
            "target tracking needs a positive target, got {target}"
        );
        TargetTrackingPolicy { target, high, low }
    }

    /// The metric's target value.
    pub fn target(&self) -> f64 {
        self.target
    }

    /// Feeds the datapoint of the minute that just ended — the metric aggregated over the
    /// instances past their warm-up, `None` if there were none or no data — and returns the new
    /// desired capacity if an alarm is in ALARM and the proportional capacity differs from the
    /// desired capacity. A group with one target tracking policy; with several, each
    /// [`TargetTrackingPolicy::vote`]s and [`combine`] decides.
    pub fn decide(
        &mut self,
        now: SimTime,
        group: &GroupCapacity,
        metric: Option<f64>,
    ) -> Option<ScalingDecision> {
        let vote = self.vote(now, group, metric);
        combine(group, &[vote]).map(|(d, _)| d)
    }

    /// Feeds the datapoint of the minute that just ended (as [`TargetTrackingPolicy::decide`])
    /// and says what this policy wants: the capacity wanted is [`proportional_capacity`] of the
    /// instances the metric came from (`group.in_service`), unclamped.
    pub fn vote(
        &mut self,
        _now: SimTime,
        group: &GroupCapacity,
        metric: Option<f64>,
    ) -> TargetTrackingVote {
        // Both alarms see every datapoint, whatever the other does.
        let high = self.high.observe(metric);
        let low = self.low.as_mut().is_some_and(|a| a.observe(metric));
        let hold = if self.low.is_some() {
            TargetTrackingVote::Hold
        } else {
            TargetTrackingVote::NoScaleIn
        };
        let Some(value) = metric else {
            return hold;
        };
        if group.in_service == 0 {
            // No instance reports the metric: there is nothing to scale in proportion to.
            return hold;
        }
        let wanted = proportional_capacity(group.in_service, value, self.target);
        if high {
            TargetTrackingVote::ScaleOut { wanted }
        } else if low {
            TargetTrackingVote::ScaleIn { wanted }
        } else {
            hold
        }
    }
}

/// What one target tracking policy wants after a datapoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetTrackingVote {
    /// Its high alarm is in ALARM: it is ready to scale out, to `wanted` (unclamped).
    ScaleOut {
        /// The proportional capacity.
        wanted: i64,
    },
    /// Its low alarm is in ALARM: it is ready to scale in, to `wanted` (unclamped).
    ScaleIn {
        /// The proportional capacity.
        wanted: i64,
    },
    /// Neither alarm is in ALARM, or there is no datapoint (or no instance) to act on: it is
    /// not ready to scale in, and so blocks the others' scale-in.
    Hold,
    /// Scale-in is disabled (`DisableScaleIn`) and it does not want to scale out: it has no
    /// say in scale-in.
    NoScaleIn,
}

/// The group's decision from its target tracking policies' votes, and the index of the policy
/// whose capacity it takes. AWS (User Guide, "Target tracking scaling policies",
/// "Considerations"): "It will scale out the Auto Scaling group if any of the target tracking
/// policies are ready for scale out, but will scale in only if all of the target tracking
/// policies (with the scale-in portion enabled) are ready to scale in"; and between policies
/// that fire together it "chooses the policy that provides the largest capacity for both scale
/// out and scale in" ("Multiple dynamic scaling policies"). So a scale-out takes the largest
/// wanted capacity of the policies ready to scale out, and a scale-in the largest of all the
/// scale-in-enabled policies' — every one of which must be ready to scale in.
///
/// A high alarm never shrinks the group, nor a low one grows it: with a stale datapoint the
/// proportional capacity can point the other way, and AWS's alarms each drive one direction
/// only. The warm-up rules of [`resolve`] apply (scale out above the desired capacity only;
/// scale in only with no instance warming).
pub fn combine(
    group: &GroupCapacity,
    votes: &[TargetTrackingVote],
) -> Option<(ScalingDecision, usize)> {
    let largest = |pick: fn(&TargetTrackingVote) -> Option<i64>| {
        votes
            .iter()
            .enumerate()
            .filter_map(|(i, v)| pick(v).map(|w| (w, i)))
            // The largest capacity; among equals the first policy.
            .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
    };
    let out = largest(|v| match *v {
        TargetTrackingVote::ScaleOut { wanted } => Some(wanted),
        _ => None,
    });
    if let Some((wanted, i)) = out {
        let d = resolve(group, wanted, ScalingReason::TargetTrackingScaleOut)?;
        return (d.desired > group.desired).then_some((d, i));
    }
    let every_ready = votes.iter().all(|v| {
        matches!(
            v,
            TargetTrackingVote::ScaleIn { .. } | TargetTrackingVote::NoScaleIn
        )
    });
    if !every_ready {
        return None;
    }
    let (wanted, i) = largest(|v| match *v {
        TargetTrackingVote::ScaleIn { wanted } => Some(wanted),
        _ => None,
    })?;
    let d = resolve(group, wanted, ScalingReason::TargetTrackingScaleIn)?;
    (d.desired < group.desired).then_some((d, i))
}

/// `ceil(capacity × metric / target)`: the capacity that brings the metric to the target if load
/// is spread evenly, rounded up. Rounding up is AWS's documented rule in both directions: an
/// add of 1.5 becomes 2 (11.5 → 12 for 10 instances) and a removal of 1.5 becomes 1 (8.5 → 9).
///
/// The metric is a floating average, so a ratio that is an integer in exact arithmetic may
/// come out a few ulps above it (3 × (100/3) / 50); values within 1e-9 (relative) of an integer
/// are taken as that integer rather than rounded up to the next.
pub fn proportional_capacity(capacity: u32, metric: f64, target: f64) -> i64 {
    let exact = f64::from(capacity) * metric / target;
    let nearest = exact.round();
    let wanted = if (exact - nearest).abs() <= 1e-9 * nearest.abs().max(1.0) {
        nearest
    } else {
        exact.ceil()
    };
    // `as` saturates; NaN becomes 0, which the min clamp then lifts.
    wanted as i64
}

/// One instance's contribution to the group metric: its value over the last period and when
/// its warm-up ends (the instance's InService time plus the group's instance warm-up).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InstanceSample {
    /// The instance's metric over the period (for instance its mean CPU utilization \[%\]).
    pub value: f64,
    /// The end of the instance's warm-up; it counts from this time on.
    pub warm_until: SimTime,
}

/// The group average of `samples` at `now`, leaving out instances still warming up: "Until its
/// specified warm-up time has expired, an instance is not counted toward the aggregated metrics
/// of the Auto Scaling group" (User Guide, "Target tracking scaling policies", "Instance
/// warm-up"; and "Set the default instance warmup": "While instances are in the warm-up
/// period, your scaling policies only scale out if the metric value from instances that are
/// not warming up is greater than the policy's alarm high threshold"). `None` if no instance
/// counts.
pub fn average_excluding_warmup(
    samples: impl IntoIterator<Item = InstanceSample>,
    now: SimTime,
) -> Option<f64> {
    let (sum, n) = samples
        .into_iter()
        .filter(|s| s.warm_until <= now)
        .fold((0.0, 0u32), |(sum, n), s| (sum + s.value, n + 1));
    (n > 0).then(|| sum / f64::from(n))
}

#[cfg(test)]
mod tests {
    use super::super::capacity::CapacityLimits;
    use super::*;
    use crate::time::SimDuration;

    fn minute(m: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(60 * m)
    }

    fn limits() -> CapacityLimits {
        CapacityLimits::new(1, 100)
    }

    #[test]
    fn scale_out_needs_three_one_minute_datapoints_above_target() {
        // Target 50, 10 instances at 60 %. AlarmHigh needs 3 of 3 datapoints > 50:
        //   minute 1: [60]          -> OK
        //   minute 2: [60, 60]      -> OK
        //   minute 3: [60, 60, 60]  -> ALARM: ceil(10 × 60 / 50) = 12
        let mut p = TargetTrackingPolicy::new(50.0, false);
        let group = GroupCapacity::steady(10, limits());
        assert_eq!(p.decide(minute(1), &group, Some(60.0)), None);
        assert_eq!(p.decide(minute(2), &group, Some(60.0)), None);
        let d = p.decide(minute(3), &group, Some(60.0)).unwrap();
        assert_eq!(d.desired, 12);
        assert_eq!(d.reason, ScalingReason::TargetTrackingScaleOut);
        // A datapoint at the target itself does not breach "> 50": three of them never alarm.
        let mut p = TargetTrackingPolicy::new(50.0, false);
        for m in 1..=5 {
            assert_eq!(p.decide(minute(m), &group, Some(50.0)), None);
        }
        // One datapoint back under the target restarts the count.
        let mut p = TargetTrackingPolicy::new(50.0, false);
        assert_eq!(p.decide(minute(1), &group, Some(60.0)), None);
        assert_eq!(p.decide(minute(2), &group, Some(60.0)), None);
        assert_eq!(p.decide(minute(3), &group, Some(45.0)), None);
        assert_eq!(p.decide(minute(4), &group, Some(60.0)), None);
        assert_eq!(p.decide(minute(5), &group, Some(60.0)), None);
        assert_eq!(p.decide(minute(6), &group, Some(60.0)).unwrap().desired, 12);
    }

    #[test]
    fn scale_in_needs_fifteen_one_minute_datapoints_below_the_low_threshold() {
        // Target 50: AlarmLow threshold 0.7 × 50 = 35. Ten instances at 20 %:
        // minutes 1..=14 -> OK; minute 15 -> ALARM: ceil(10 × 20 / 50) = 4.
        let mut p = TargetTrackingPolicy::new(50.0, false);
        let group = GroupCapacity::steady(10, limits());
        for m in 1..=14 {
            assert_eq!(p.decide(minute(m), &group, Some(20.0)), None, "minute {m}");
        }
        let d = p.decide(minute(15), &group, Some(20.0)).unwrap();
        assert_eq!(d.desired, 4);
        assert_eq!(d.reason, ScalingReason::TargetTrackingScaleIn);
        // Between the low threshold and the target (35 <= m <= 50) nothing ever happens.
        let mut p = TargetTrackingPolicy::new(50.0, false);
        for m in 1..=30 {
            assert_eq!(p.decide(minute(m), &group, Some(40.0)), None);
        }
    }

    #[test]
    fn rounding_is_conservative_in_both_directions() {
        // The User Guide's 1.5-instance cases, target 50:
        // 10 instances at 57.5 % need 11.5: "round up and add two instances" -> 12.
        assert_eq!(proportional_capacity(10, 57.5, 50.0), 12);
        // 3 instances at 25 % need 1.5: removing 1.5 "we remove just one instance" -> 2.
        assert_eq!(proportional_capacity(3, 25.0, 50.0), 2);
        // Exact ratios are not bumped up by float noise: 3 × (100/3) / 50 = 2.
        assert_eq!(proportional_capacity(3, 100.0 / 3.0, 50.0), 2);
        assert_eq!(proportional_capacity(10, 60.0, 50.0), 12);
    }

    #[test]
    fn disable_scale_in_never_removes_instances() {
        let mut p = TargetTrackingPolicy::new(50.0, true);
        let group = GroupCapacity::steady(10, limits());
        for m in 1..=60 {
            assert_eq!(p.decide(minute(m), &group, Some(5.0)), None, "minute {m}");
        }
        // It still scales out.
        for m in 61..=62 {
            assert_eq!(p.decide(minute(m), &group, Some(75.0)), None);
        }
        assert_eq!(
            p.decide(minute(63), &group, Some(75.0)).unwrap().desired,
            15
        );
    }

    #[test]
    fn warming_instances_are_left_out_of_the_metric_and_do_not_double_scale_out() {
        // Ten instances warm since minute 0 at 60 %, two launched by the last scale-out still
        // warming (until minute 8) with a start-up spike at 100 %.
        let warm = InstanceSample {
            value: 60.0,
            warm_until: SimTime::ZERO,
        };
        let new = InstanceSample {
            value: 100.0,
            warm_until: minute(8),
        };
        let samples: Vec<_> = std::iter::repeat_n(warm, 10)
            .chain(std::iter::repeat_n(new, 2))
            .collect();
        // At minute 5 only the ten count: 60, not (600 + 200) / 12 = 66.67.
        let metric = average_excluding_warmup(samples.iter().copied(), minute(5));
        assert_eq!(metric, Some(60.0));
        // At minute 8 the two new ones count: 800 / 12.
        let after = average_excluding_warmup(samples.iter().copied(), minute(8)).unwrap();
        assert!((after - 800.0 / 12.0).abs() < 1e-12);
        // No instance past warm-up: no datapoint.
        assert_eq!(average_excluding_warmup([new], minute(5)), None);

        // The high alarm stays in ALARM (60 > 50) while the two warm, invoking the policy each
        // minute: ceil(10 × 60 / 50) = 12 = desired, so nothing is added twice.
        let mut p = TargetTrackingPolicy::new(50.0, false);
        let group = GroupCapacity {
            desired: 12,
            in_service: 10,
            warming: 2,
            terminating: 0,
            limits: limits(),
        };
        for m in 3..=7 {
            assert_eq!(p.decide(minute(m), &group, metric), None, "minute {m}");
        }
        // Had the warming spike been counted, the same call would have asked for
        // ceil(10 × 66.67 / 50) = 14.
        let mut q = TargetTrackingPolicy::new(50.0, false);
        let spiked = Some(800.0 / 12.0);
        q.decide(minute(1), &group, spiked);
        q.decide(minute(2), &group, spiked);
        assert_eq!(q.decide(minute(3), &group, spiked).unwrap().desired, 14);
    }

    #[test]
    fn scale_in_waits_for_warm_up_and_respects_min() {
        let mut p = TargetTrackingPolicy::new(50.0, false);
        let warming = GroupCapacity {
            desired: 11,
            in_service: 10,
            warming: 1,
            terminating: 0,
            limits: CapacityLimits::new(6, 100),
        };
        for m in 1..=15 {
            assert_eq!(p.decide(minute(m), &warming, Some(10.0)), None);
        }
        // Warm-up over; the low alarm is still in ALARM: ceil(11 × 10 / 50) = 3, clamped to 6.
        let steady = GroupCapacity::steady(11, CapacityLimits::new(6, 100));
        assert_eq!(
            p.decide(minute(16), &steady, Some(10.0)).unwrap().desired,
            6
        );
    }

    #[test]
    fn several_policies_scale_in_only_when_every_one_is_ready_to() {
        // Issue 14, item 2. Ten instances; A's metric is far below its target (its low alarm
        // fires, wanting 3), B's sits between its low threshold and its target (no alarm).
        // AWS "will scale in only if all of the target tracking policies (with the scale-in
        // portion enabled) are ready to scale in": nothing happens.
        let group = GroupCapacity::steady(10, limits());
        let a_in = TargetTrackingVote::ScaleIn { wanted: 3 };
        assert_eq!(combine(&group, &[a_in, TargetTrackingVote::Hold]), None);
        assert_eq!(combine(&group, &[TargetTrackingVote::Hold, a_in]), None);
        // Both ready: the largest capacity wins, 6 rather than 3 ("the policy that provides
        // the largest capacity for both scale out and scale in").
        let b_in = TargetTrackingVote::ScaleIn { wanted: 6 };
        let (d, i) = combine(&group, &[a_in, b_in]).unwrap();
        assert_eq!(
            (d.desired, d.reason, i),
            (6, ScalingReason::TargetTrackingScaleIn, 1)
        );
        // A policy with scale-in disabled has no say in scale-in.
        let (d, i) = combine(&group, &[TargetTrackingVote::NoScaleIn, a_in]).unwrap();
        assert_eq!((d.desired, i), (3, 1));
        assert_eq!(combine(&group, &[TargetTrackingVote::NoScaleIn]), None);
        // Any policy ready to scale out scales out, whatever the others want.
        let b_out = TargetTrackingVote::ScaleOut { wanted: 14 };
        let (d, i) = combine(&group, &[a_in, b_out]).unwrap();
        assert_eq!(
            (d.desired, d.reason, i),
            (14, ScalingReason::TargetTrackingScaleOut, 1)
        );
        let (d, i) = combine(
            &group,
            &[
                TargetTrackingVote::ScaleOut { wanted: 12 },
                b_out,
                TargetTrackingVote::Hold,
            ],
        )
        .unwrap();
        assert_eq!((d.desired, i), (14, 1));
        // A scale-out wish at or below the desired capacity (a stale datapoint) neither grows
        // the group nor lets the others shrink it.
        let stale = TargetTrackingVote::ScaleOut { wanted: 8 };
        assert_eq!(combine(&group, &[stale, a_in]), None);
    }

    #[test]
    fn one_policy_votes_as_it_decides() {
        // The low alarm fires on the fifteenth datapoint below 35: wanted ceil(10 × 20 / 50).
        let mut p = TargetTrackingPolicy::new(50.0, false);
        let group = GroupCapacity::steady(10, limits());
        for m in 1..=14 {
            assert_eq!(
                p.vote(minute(m), &group, Some(20.0)),
                TargetTrackingVote::Hold
            );
        }
        assert_eq!(
            p.vote(minute(15), &group, Some(20.0)),
            TargetTrackingVote::ScaleIn { wanted: 4 }
        );
        // Missing data: not ready to scale in.
        assert_eq!(p.vote(minute(16), &group, None), TargetTrackingVote::Hold);
        // Scale-in disabled: no say in scale-in, but it still scales out.
        let mut q = TargetTrackingPolicy::new(50.0, true);
        assert_eq!(
            q.vote(minute(1), &group, Some(5.0)),
            TargetTrackingVote::NoScaleIn
        );
        q.vote(minute(2), &group, Some(75.0));
        q.vote(minute(3), &group, Some(75.0));
        assert_eq!(
            q.vote(minute(4), &group, Some(75.0)),
            TargetTrackingVote::ScaleOut { wanted: 15 }
        );
    }
}
