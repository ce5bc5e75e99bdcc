//! AWS EC2 Auto Scaling step scaling and simple scaling policies: a CloudWatch alarm, and an
//! adjustment applied each time the alarm invokes the policy.
//!
//! It owns the policies' alarm state and the group's simple-scaling cooldown; it must not know how
//! instances launch: the world reports when a simple policy's scaling activity completes, and
//! owns one [`SimpleCooldown`] per group.
//!
//! Source: Amazon EC2 Auto Scaling User Guide, "Step and simple scaling policies"
//! (<https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-scaling-simple-step.html>,
//! `doc_source/as-scaling-simple-step.md` in awsdocs/amazon-ec2-auto-scaling-user-guide) and
//! "Scaling cooldowns" (<https://docs.aws.amazon.com/autoscaling/ec2/userguide/Cooldown.html>,
//! `doc_source/Cooldown.md`).
//!
//! - Step scaling: "the policy can continue to respond to additional alarms, even while a
//!   scaling activity or health check replacement is in progress"; the step is chosen by where
//!   the metric lies relative to the alarm threshold.
//! - Simple scaling: "after a scaling activity is started, the policy must wait for the scaling
//!   activity or health check replacement to complete and the cooldown period to expire before
//!   responding to additional alarms". The cooldown defaults to 300 seconds and "takes effect
//!   starting when the last instance finishes launching or terminating".

use crate::time::{SimDuration, SimTime};

use super::alarm::Alarm;
use super::capacity::{resolve, AdjustmentType, GroupCapacity, ScalingDecision, ScalingReason};

/// The default cooldown of a group, used by simple scaling policies: "If a value for the
/// default cooldown period is not provided, its default value is 300 seconds" (Cooldown.md).
pub const DEFAULT_COOLDOWN: SimDuration = SimDuration::from_secs(300);

/// One step adjustment (API `StepAdjustment`): bounds on `metric - threshold` and the
/// adjustment applied when the metric lies between them. `None` bounds are infinite.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepAdjustment {
    /// `MetricIntervalLowerBound`, relative to the alarm threshold; `None` is −∞.
    pub lower: Option<f64>,
    /// `MetricIntervalUpperBound`, relative to the alarm threshold; `None` is +∞.
    pub upper: Option<f64>,
    /// `ScalingAdjustment`, read according to the policy's [`AdjustmentType`].
    pub adjustment: i32,
}

impl StepAdjustment {
    /// True if `diff = metric - threshold` falls in this step. "If the metric value is above the
    /// breach threshold, the lower bound is inclusive and the upper bound is exclusive. If the
    /// metric value is below the breach threshold, the lower bound is exclusive and the upper
    /// bound is inclusive."
    fn contains(&self, diff: f64, above: bool) -> bool {
        let lower_ok = self
            .lower
            .is_none_or(|l| if above { diff >= l } else { diff > l });
        let upper_ok = self
            .upper
            .is_none_or(|u| if above { diff < u } else { diff <= u });
        lower_ok && upper_ok
    }
}

/// A step scaling policy: its alarm, step adjustments and adjustment type. A scale-out and a
/// scale-in policy are two of these, each with its own alarm, as in the User Guide's example.
#[derive(Clone, Debug)]
pub struct StepScalingPolicy {
    alarm: Alarm,
    steps: Vec<StepAdjustment>,
    adjustment_type: AdjustmentType,
}

impl StepScalingPolicy {
    /// A policy invoked by `alarm`. The steps' ranges must not overlap or leave gaps (the API
    /// rejects such policies; validation must too).
    pub fn new(alarm: Alarm, steps: Vec<StepAdjustment>, adjustment_type: AdjustmentType) -> Self {
        StepScalingPolicy {
            alarm,
            steps,
            adjustment_type,
        }
    }

    /// The index of the step holding `metric`, if any.
    pub fn step_for(&self, metric: f64) -> Option<usize> {
        let diff = metric - self.alarm.threshold();
        // At the threshold itself both readings are possible: a scale-out policy's `0..10`
        // step (lower inclusive) and a scale-in policy's `-10..0` step (upper inclusive) both
        // hold 50 when the threshold is 50, so try the "above" reading first, then "below".
        let find = |above| self.steps.iter().position(|s| s.contains(diff, above));
        if diff > 0.0 {
            find(true)
        } else if diff < 0.0 {
            find(false)
        } else {
            find(true).or_else(|| find(false))
        }
    }

    /// Feeds the datapoint of the period that just ended (the aggregated metric) and returns
    /// the new desired capacity if the alarm invokes the policy and the chosen step changes it.
    ///
    /// The adjustment is computed from the current capacity as AWS counts it: warming instances
    /// excluded when scaling out, terminating ones included when scaling in; the result only
    /// raises (or lowers) the desired capacity, so "multiple alarm breaches that fall in the
    /// range of the same step adjustment result in a single scaling activity"
    /// (see [`resolve`]).
    pub fn decide(
        &mut self,
        _now: SimTime,
        group: &GroupCapacity,
        metric: Option<f64>,
    ) -> Option<ScalingDecision> {
        if !self.alarm.observe(metric) {
            return None;
        }
        let value = metric?;
        let step = self.step_for(value)?;
        let adjustment = self.steps[step].adjustment;
        let base = match self.adjustment_type {
            AdjustmentType::ExactCapacity => group.desired,
            _ if adjustment >= 0 => group.scale_out_base(),
            _ => group.scale_in_base(),
        };
        let target = self.adjustment_type.apply(base, adjustment);
        resolve(group, target, ScalingReason::StepAdjustment { step })
    }
}

/// The cooldown a group's simple scaling policies share. "After the Auto Scaling group scales
/// using a simple scaling policy, it waits for a cooldown period to complete before any further
/// scaling activities due to simple scaling policies can start" (Cooldown.md): one gate per
/// group, not per policy, so a simple scale-out also holds back a simple scale-in. Step,
/// target tracking and scheduled scaling ignore it ("they can trigger a scaling activity
/// immediately without waiting for the cooldown period to expire").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SimpleCooldown {
    state: CooldownState,
}

/// Where a group is in its simple-scaling activity/cooldown cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
enum CooldownState {
    /// Simple policies may act.
    #[default]
    Ready,
    /// A simple policy started a scaling activity that has not finished; its cooldown follows.
    ActivityInProgress(SimDuration),
    /// The activity finished; simple policies wait until this time.
    CoolingDownUntil(SimTime),
}

impl SimpleCooldown {
    /// A group with no simple-scaling activity yet.
    pub fn new() -> Self {
        SimpleCooldown::default()
    }

    /// The world tells the group that the scaling activity a simple policy started has
    /// finished: the last instance finished launching (entered InService) or terminating. The
    /// cooldown "takes effect starting when the last instance finishes launching or
    /// terminating" (Cooldown.md, "Cooldowns and multiple instances").
    pub fn activity_completed(&mut self, now: SimTime) {
        if let CooldownState::ActivityInProgress(cooldown) = self.state {
            self.state = CooldownState::CoolingDownUntil(now.saturating_add(cooldown));
        }
    }

    /// When the cooldown ends, if one is running.
    pub fn ends_at(&self) -> Option<SimTime> {
        match self.state {
            CooldownState::CoolingDownUntil(end) => Some(end),
            _ => None,
        }
    }

    /// The group applied a simple policy's decision: its scaling activity has started, and
    /// simple policies wait for it to complete and then `cooldown`.
    pub fn activity_started(&mut self, cooldown: SimDuration) {
        self.state = CooldownState::ActivityInProgress(cooldown);
    }

    /// True if simple policies may act at `now` (a cooldown ending at `t` allows `t`).
    fn ready(&self, now: SimTime) -> bool {
        match self.state {
            CooldownState::ActivityInProgress(_) => false,
            CooldownState::CoolingDownUntil(end) => now >= end,
            CooldownState::Ready => true,
        }
    }
}

/// A simple scaling policy: one adjustment, then wait for the activity to complete and the
/// group's cooldown to pass.
#[derive(Clone, Debug)]
pub struct SimpleScalingPolicy {
    alarm: Alarm,
    adjustment: i32,
    adjustment_type: AdjustmentType,
    cooldown: SimDuration,
}

impl SimpleScalingPolicy {
    /// A policy invoked by `alarm`, applying `adjustment` read as `adjustment_type`. After an
    /// activity it starts, simple policies wait `cooldown`: the group's default cooldown
    /// ([`DEFAULT_COOLDOWN`] unless set) or the policy's own, which "overrides the default
    /// cooldown period".
    pub fn new(
        alarm: Alarm,
        adjustment_type: AdjustmentType,
        adjustment: i32,
        cooldown: SimDuration,
    ) -> Self {
        SimpleScalingPolicy {
            alarm,
            adjustment,
            adjustment_type,
            cooldown,
        }
    }

    /// The cooldown simple policies wait after an activity this policy started.
    pub fn cooldown(&self) -> SimDuration {
        self.cooldown
    }

    /// Feeds the datapoint of the period that just ended and returns the new desired capacity
    /// if the alarm invokes the policy, the group's simple-scaling `gate` is open (no simple
    /// activity in progress, cooldown over) and the adjustment changes the desired capacity.
    /// The gate closes only when the group applies the decision
    /// ([`SimpleCooldown::activity_started`] with [`SimpleScalingPolicy::cooldown`]): when
    /// another policy provides a larger capacity at the same time, AWS applies that one
    /// ("Multiple dynamic scaling policies"), no simple scaling activity starts, and no
    /// cooldown follows.
    pub fn decide(
        &mut self,
        now: SimTime,
        group: &GroupCapacity,
        metric: Option<f64>,
        gate: &SimpleCooldown,
    ) -> Option<ScalingDecision> {
        // The alarm keeps its datapoints while the policy is blocked: CloudWatch evaluates it
        // regardless of what Auto Scaling does with the invocations.
        let in_alarm = self.alarm.observe(metric);
        if !in_alarm || !gate.ready(now) {
            return None;
        }
        let base = if self.adjustment >= 0 {
            group.scale_out_base()
        } else {
            group.scale_in_base()
        };
        let target = self.adjustment_type.apply(base, self.adjustment);
        resolve(group, target, ScalingReason::SimpleScaling)
    }
}

#[cfg(test)]
mod tests {
    use super::super::alarm::Comparison;
    use super::super::capacity::CapacityLimits;
    use super::*;

    const PERCENT: AdjustmentType = AdjustmentType::PercentChangeInCapacity {
        min_adjustment_magnitude: None,
    };

    fn step(lower: Option<f64>, upper: Option<f64>, adjustment: i32) -> StepAdjustment {
        StepAdjustment {
            lower,
            upper,
            adjustment,
        }
    }

    /// The User Guide's example ("Step adjustments for step scaling"): "an Auto Scaling group
    /// that has both a current capacity and a desired capacity of 10. You have a CloudWatch
    /// alarm with a breach threshold of 50 percent and scale-out and scale-in policies", with
    /// `PercentChangeInCapacity` steps
    ///   scale-out: [0, 10) -> 0, [10, 20) -> 10, [20, null) -> 30
    ///   scale-in:  (-10, 0] -> 0, (-20, -10] -> -10, (null, -20] -> -30
    /// Each alarm fires on one datapoint (1 of 1) so that each call is one invocation.
    fn doc_example() -> (StepScalingPolicy, StepScalingPolicy) {
        let out = StepScalingPolicy::new(
            Alarm::new(50.0, Comparison::GreaterThanOrEqual, 1, 1),
            vec![
                step(Some(0.0), Some(10.0), 0),
                step(Some(10.0), Some(20.0), 10),
                step(Some(20.0), None, 30),
            ],
            PERCENT,
        );
        let r#in = StepScalingPolicy::new(
            Alarm::new(50.0, Comparison::LessThanOrEqual, 1, 1),
            vec![
                step(Some(-10.0), Some(0.0), 0),
                step(Some(-20.0), Some(-10.0), -10),
                step(None, Some(-20.0), -30),
            ],
            PERCENT,
        );
        (out, r#in)
    }

    fn limits() -> CapacityLimits {
        CapacityLimits::new(1, 100)
    }

    #[test]
    fn documented_step_example_computed_exactly() {
        let (mut out, mut r#in) = doc_example();
        let t = SimTime::ZERO;
        let mut group = GroupCapacity::steady(10, limits());
        // "The desired and current capacity is maintained while the aggregated metric value is
        // greater than 40 and less than 60."
        for m in [41.0, 50.0, 55.0, 59.9] {
            assert_eq!(out.decide(t, &group, Some(m)), None, "scale-out at {m}");
            assert_eq!(r#in.decide(t, &group, Some(m)), None, "scale-in at {m}");
        }
        // "If the metric value gets to 60, the desired capacity of the group increases by 1
        // instance, to 11 instances ... (add 10 percent of 10 instances)."
        let d = out.decide(t, &group, Some(60.0)).unwrap();
        assert_eq!(d.desired, 11);
        assert_eq!(d.reason, ScalingReason::StepAdjustment { step: 1 });
        // "After the new instance is running and its specified warm-up time has expired, the
        // current capacity of the group increases to 11 instances. If the metric value rises
        // to 70 even after this increase in capacity, the desired capacity of the group
        // increases by another 3 instances, to 14 instances ... (add 30 percent of 11
        // instances, 3.3 instances, rounded down to 3 instances)."
        group = GroupCapacity::steady(11, limits());
        let d = out.decide(t, &group, Some(70.0)).unwrap();
        assert_eq!(d.desired, 14);
        assert_eq!(d.reason, ScalingReason::StepAdjustment { step: 2 });
        // "If the metric value gets to 40, the desired capacity of the group decreases by 1
        // instance, to 13 instances ... (remove 10 percent of 14 instances, 1.4 instances,
        // rounded down to 1 instance)."
        group = GroupCapacity::steady(14, limits());
        let d = r#in.decide(t, &group, Some(40.0)).unwrap();
        assert_eq!(d.desired, 13);
        assert_eq!(d.reason, ScalingReason::StepAdjustment { step: 1 });
        // "If the metric value falls to 30 even after this decrease in capacity, the desired
        // capacity of the group decreases by another 3 instances, to 10 instances ... (remove
        // 30 percent of 13 instances, 3.9 instances, rounded down to 3 instances)."
        group = GroupCapacity::steady(13, limits());
        let d = r#in.decide(t, &group, Some(30.0)).unwrap();
        assert_eq!(d.desired, 10);
        assert_eq!(d.reason, ScalingReason::StepAdjustment { step: 2 });
    }

    #[test]
    fn step_bounds_are_inclusive_on_the_side_away_from_the_threshold() {
        // The diagram: "-30% | 30 | -10% | 40 | Unchanged | 60 | +10% | 70 | +30%". 40 belongs
        // to -10 % (upper bound inclusive below the threshold), 30 to -30 %, 60 to +10 % and 70
        // to +30 % (lower bound inclusive above it).
        let (out, r#in) = doc_example();
        assert_eq!(out.step_for(50.0), Some(0));
        assert_eq!(out.step_for(59.999), Some(0));
        assert_eq!(out.step_for(60.0), Some(1));
        assert_eq!(out.step_for(69.999), Some(1));
        assert_eq!(out.step_for(70.0), Some(2));
        assert_eq!(r#in.step_for(50.0), Some(0));
        assert_eq!(r#in.step_for(40.001), Some(0));
        assert_eq!(r#in.step_for(40.0), Some(1));
        assert_eq!(r#in.step_for(30.001), Some(1));
        assert_eq!(r#in.step_for(30.0), Some(2));
        // The API Reference's own pair (StepAdjustment): with threshold 50, lower 0 / upper 10
        // means ">= 50 and < 60"; lower -10 / upper 0 means "> 40 and <= 50".
    }

    #[test]
    fn breaches_during_warm_up_do_not_add_up() {
        // User Guide, "Instance warm-up": "suppose that the metric gets to 60, and then it gets
        // to 62 while the new instance is still warming up. The current capacity is still 10
        // instances, so 1 instance is added (10 percent of 10 instances). However, the desired
        // capacity of the group is already 11 instances, so the scaling policy does not
        // increase the desired capacity further. If the metric gets to 70 while the new
        // instance is still warming up, we should add 3 instances (30 percent of 10
        // instances). However, the desired capacity of the group is already 11, so we add only
        // 2 instances, for a new desired capacity of 13 instances."
        let (mut out, _) = doc_example();
        let t = SimTime::ZERO;
        let group = GroupCapacity::steady(10, limits());
        assert_eq!(out.decide(t, &group, Some(60.0)).unwrap().desired, 11);
        let warming = GroupCapacity {
            desired: 11,
            in_service: 10,
            warming: 1,
            terminating: 0,
            limits: limits(),
        };
        assert_eq!(out.decide(t, &warming, Some(62.0)), None);
        assert_eq!(out.decide(t, &warming, Some(70.0)).unwrap().desired, 13);
    }

    #[test]
    fn scale_in_is_blocked_while_instances_warm_and_clamped_at_min() {
        let (_, mut r#in) = doc_example();
        let t = SimTime::ZERO;
        let warming = GroupCapacity {
            desired: 11,
            in_service: 10,
            warming: 1,
            terminating: 0,
            limits: limits(),
        };
        // "A scale-in activity can't start while a scale-out activity is in progress."
        assert_eq!(r#in.decide(t, &warming, Some(30.0)), None);
        // Min 9: removing 30 % of 10 (3) would give 7; clamped to 9.
        let group = GroupCapacity::steady(10, CapacityLimits::new(9, 100));
        assert_eq!(r#in.decide(t, &group, Some(30.0)).unwrap().desired, 9);
        // Already at min: nothing to do.
        let group = GroupCapacity::steady(9, CapacityLimits::new(9, 100));
        assert_eq!(r#in.decide(t, &group, Some(30.0)), None);
    }

    #[test]
    fn step_policy_waits_for_its_alarm_datapoints() {
        // An alarm "2 out of 3" fires on the second breaching datapoint only.
        let mut out = StepScalingPolicy::new(
            Alarm::new(50.0, Comparison::GreaterThanOrEqual, 2, 3),
            vec![step(Some(0.0), None, 2)],
            AdjustmentType::ChangeInCapacity,
        );
        let group = GroupCapacity::steady(4, limits());
        let t = SimTime::ZERO;
        assert_eq!(out.decide(t, &group, Some(65.0)), None);
        assert_eq!(out.decide(t, &group, Some(65.0)).unwrap().desired, 6);
    }

    #[test]
    fn cooldown_blocks_second_simple_scale_out() {
        // Micro case worked by hand. Simple policy: +1 instance when CPU >= 80 on one
        // one-minute datapoint, cooldown 300 s (the default). The metric stays at 90, so the
        // alarm invokes the policy every minute ("once per minute that the alarm remains in
        // the new state").
        //   t=60   invoked, gate open        -> desired 2 -> 3, activity starts
        //   t=120  invoked, activity running -> blocked
        //   t=150  the new instance enters InService: cooldown runs to 150 + 300 = 450
        //   t=180 .. t=420 invoked every minute -> blocked by the cooldown
        //   t=480  first invocation at or after 450 -> desired 3 -> 4
        let mut policy = SimpleScalingPolicy::new(
            Alarm::new(80.0, Comparison::GreaterThanOrEqual, 1, 1),
            AdjustmentType::ChangeInCapacity,
            1,
            DEFAULT_COOLDOWN,
        );
        let mut gate = SimpleCooldown::new();
        let at = |s| SimTime::ZERO + SimDuration::from_secs(s);
        let mut group = GroupCapacity::steady(2, limits());
        let d = policy.decide(at(60), &group, Some(90.0), &gate).unwrap();
        assert_eq!((d.desired, d.reason), (3, ScalingReason::SimpleScaling));
        gate.activity_started(policy.cooldown());
        group.desired = 3;
        group.warming = 1;
        assert_eq!(policy.decide(at(120), &group, Some(90.0), &gate), None);
        gate.activity_completed(at(150));
        assert_eq!(gate.ends_at(), Some(at(450)));
        group = GroupCapacity::steady(3, limits());
        for s in [180, 240, 300, 360, 420] {
            assert_eq!(
                policy.decide(at(s), &group, Some(90.0), &gate),
                None,
                "t={s}"
            );
        }
        let d = policy.decide(at(480), &group, Some(90.0), &gate).unwrap();
        assert_eq!(d.desired, 4);
        gate.activity_started(policy.cooldown());
        // A cooldown ending exactly at an invocation lets it through: complete at 480 + 60,
        // cooldown to 840; blocked at 780, allowed at 840.
        gate.activity_completed(at(540));
        group = GroupCapacity::steady(4, limits());
        assert_eq!(policy.decide(at(780), &group, Some(90.0), &gate), None);
        assert_eq!(
            policy
                .decide(at(840), &group, Some(90.0), &gate)
                .map(|d| d.desired),
            Some(5)
        );
    }

    #[test]
    fn the_cooldown_is_shared_by_the_groups_simple_policies_and_a_policy_may_override_it() {
        // A simple scale-out (+2, default 300 s) and a simple scale-in (-1, its own 180 s,
        // Cooldown.md's example value) on one group. The scale-out acts at t=0 and completes
        // at t=100: the gate stays closed to the scale-in until 100 + 300 = 400, although the
        // scale-in's own cooldown is 180. The scale-in then acts at 400 and, completing at 410,
        // closes the gate for its own 180 s: until 590.
        let mut out = SimpleScalingPolicy::new(
            Alarm::new(80.0, Comparison::GreaterThanOrEqual, 1, 1),
            AdjustmentType::ChangeInCapacity,
            2,
            DEFAULT_COOLDOWN,
        );
        let mut r#in = SimpleScalingPolicy::new(
            Alarm::new(20.0, Comparison::LessThanOrEqual, 1, 1),
            AdjustmentType::ChangeInCapacity,
            -1,
            SimDuration::from_secs(180),
        );
        let mut gate = SimpleCooldown::new();
        let at = |s| SimTime::ZERO + SimDuration::from_secs(s);
        let group = GroupCapacity::steady(4, limits());
        assert_eq!(
            out.decide(at(0), &group, Some(90.0), &gate)
                .map(|d| d.desired),
            Some(6)
        );
        gate.activity_started(out.cooldown());
        gate.activity_completed(at(100));
        let group = GroupCapacity::steady(6, limits());
        for s in [120, 240, 399] {
            assert_eq!(r#in.decide(at(s), &group, Some(10.0), &gate), None, "t={s}");
        }
        assert_eq!(
            r#in.decide(at(400), &group, Some(10.0), &gate)
                .map(|d| d.desired),
            Some(5)
        );
        gate.activity_started(r#in.cooldown());
        gate.activity_completed(at(410));
        assert_eq!(gate.ends_at(), Some(at(590)));
        // Step policies do not look at the gate at all: their `decide` takes none.
    }

    #[test]
    fn step_policy_ignores_cooldown_and_keeps_responding() {
        // Contrast with simple scaling: "with step scaling the policy can continue to respond
        // to additional alarms, even while a scaling activity ... is in progress". Two
        // invocations one minute apart both scale out when the metric moves to a bigger step.
        let (mut out, _) = doc_example();
        let group = GroupCapacity::steady(10, limits());
        assert_eq!(
            out.decide(SimTime::ZERO, &group, Some(60.0))
                .unwrap()
                .desired,
            11
        );
        let warming = GroupCapacity {
            desired: 11,
            in_service: 10,
            warming: 1,
            terminating: 0,
            limits: limits(),
        };
        let next = SimTime::ZERO + SimDuration::from_secs(60);
        assert_eq!(out.decide(next, &warming, Some(75.0)).unwrap().desired, 13);
    }

    #[test]
    fn exact_capacity_sets_the_size() {
        // "If the current capacity of the group is 3 and the adjustment is 5, then when this
        // policy is performed, we change the capacity to 5 capacity units."
        let mut p = SimpleScalingPolicy::new(
            Alarm::new(80.0, Comparison::GreaterThanOrEqual, 1, 1),
            AdjustmentType::ExactCapacity,
            5,
            DEFAULT_COOLDOWN,
        );
        let group = GroupCapacity::steady(3, limits());
        let gate = SimpleCooldown::new();
        let d = p.decide(SimTime::ZERO, &group, Some(85.0), &gate);
        assert_eq!(d.map(|d| d.desired), Some(5));
    }

    #[test]
    fn a_decision_the_group_does_not_apply_starts_no_cooldown() {
        // Two invocations of a simple policy; the first decision loses to a larger policy's
        // (the group never applies it), so the second finds the gate open.
        let mut p = SimpleScalingPolicy::new(
            Alarm::new(80.0, Comparison::GreaterThanOrEqual, 1, 1),
            AdjustmentType::ChangeInCapacity,
            1,
            DEFAULT_COOLDOWN,
        );
        let gate = SimpleCooldown::new();
        let at = |s| SimTime::ZERO + SimDuration::from_secs(s);
        assert!(p
            .decide(
                at(60),
                &GroupCapacity::steady(2, limits()),
                Some(90.0),
                &gate
            )
            .is_some());
        let d = p.decide(
            at(120),
            &GroupCapacity::steady(5, limits()),
            Some(90.0),
            &gate,
        );
        assert_eq!(d.map(|d| d.desired), Some(6));
    }
}
