//! What every AWS EC2 Auto Scaling policy shares: the group's capacity as a policy sees it, the
//! min/max clamp, the three adjustment types of step and simple scaling with their rounding
//! rules, and the decision a policy returns.
//!
//! It must not know how instances boot or what the metric is: the world fills
//! [`GroupCapacity`] from the fleet and applies [`ScalingDecision`]s.
//!
//! Source: Amazon EC2 Auto Scaling User Guide, "Step and simple scaling policies", section
//! "Scaling adjustment types"
//! (<https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-scaling-simple-step.html>;
//! repository awsdocs/amazon-ec2-auto-scaling-user-guide, `doc_source/as-scaling-simple-step.md`).

/// The group's minimum and maximum size. "Amazon EC2 Auto Scaling does not scale your group
/// below the minimum capacity or above the maximum capacity" (User Guide, "Target tracking
/// scaling policies", console step 4; "Set scaling limits for your Auto Scaling group").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapacityLimits {
    /// Smallest desired capacity \[instances\].
    pub min: u32,
    /// Largest desired capacity \[instances\].
    pub max: u32,
}

impl CapacityLimits {
    /// Limits `min..=max`. Panics if `min > max`: validation rejects such a group before any
    /// policy exists, so reaching here is a bug.
    pub fn new(min: u32, max: u32) -> Self {
        assert!(min <= max, "capacity limits: min {min} > max {max}");
        CapacityLimits { min, max }
    }

    /// `capacity` brought into `min..=max`. Takes a signed wide value because adjustments are
    /// computed before clamping and may go below zero (remove 30 % of 1) or past `u32`.
    pub fn clamp(&self, capacity: i64) -> u32 {
        capacity.clamp(i64::from(self.min), i64::from(self.max)) as u32
    }
}

/// The group as a scaling policy sees it, in capacity units (instances unless instance
/// weighting is used). The world computes it from instance states; the policy never sees
/// instances.
///
/// The split matters because AWS counts instances differently in each direction (User Guide,
/// "Step and simple scaling policies", section "Instance warm-up"): "While scaling out, we do
/// not consider instances that are warming up as part of the current capacity of the group"
/// and "While scaling in, we consider instances that are terminating as part of the current
/// capacity of the group".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupCapacity {
    /// The group's desired capacity now, including instances still launching.
    pub desired: u32,
    /// Running instances past their warm-up: those that count toward the aggregated metric.
    pub in_service: u32,
    /// Instances launched but not yet past their warm-up (pending, booting or warming).
    pub warming: u32,
    /// Instances being terminated that have not finished terminating.
    pub terminating: u32,
    /// The group's min and max.
    pub limits: CapacityLimits,
}

impl GroupCapacity {
    /// A steady group: `n` instances in service, desired `n`, nothing warming or terminating.
    pub fn steady(n: u32, limits: CapacityLimits) -> Self {
        GroupCapacity {
            desired: n,
            in_service: n,
            warming: 0,
            terminating: 0,
            limits,
        }
    }

    /// The capacity a scale-out adjustment is computed from: warming instances excluded.
    pub fn scale_out_base(&self) -> u32 {
        self.in_service
    }

    /// The capacity a scale-in adjustment is computed from: terminating instances included,
    /// "therefore, we don't remove more instances from the Auto Scaling group than necessary".
    pub fn scale_in_base(&self) -> u32 {
        self.in_service + self.terminating
    }
}

/// How a step or simple policy's `ScalingAdjustment` is read (API `AdjustmentType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdjustmentType {
    /// Add the adjustment (negative removes) to the current capacity.
    ChangeInCapacity,
    /// Set the capacity to the adjustment (non-negative).
    ExactCapacity,
    /// Add this percentage of the current capacity, rounded as [`percent_change`] says; with
    /// `min_adjustment_magnitude` (API `MinAdjustmentMagnitude`) the change is at least that
    /// many units. Default: no minimum.
    PercentChangeInCapacity {
        /// The smallest change in capacity units, when set.
        min_adjustment_magnitude: Option<u32>,
    },
}

impl AdjustmentType {
    /// The capacity after applying `adjustment` to `current`, before the min/max clamp.
    pub fn apply(self, current: u32, adjustment: i32) -> i64 {
        let current = i64::from(current);
        match self {
            AdjustmentType::ChangeInCapacity => current + i64::from(adjustment),
            AdjustmentType::ExactCapacity => i64::from(adjustment),
            AdjustmentType::PercentChangeInCapacity {
                min_adjustment_magnitude,
            } => {
                let mut change = percent_change(current, adjustment);
                if let Some(min) = min_adjustment_magnitude {
                    let min = i64::from(min);
                    // A zero change (a 0 % step, the "unchanged" band) stays zero: the
                    // minimum magnitude only enlarges a change that happens.
                    if change != 0 && change.abs() < min {
                        change = change.signum() * min;
                    }
                }
                current + change
            }
        }
    }
}

/// `percent` % of `current`, rounded to whole capacity units the way EC2 Auto Scaling does
/// ("Scaling adjustment types", note): "Values greater than 1 are rounded down. For example,
/// 12.7 is rounded to 12. Values between 0 and 1 are rounded to 1. For example, .67 is rounded
/// to 1. Values between 0 and -1 are rounded to -1. For example, -.58 is rounded to -1. Values
/// less than -1 are rounded up. For example, -6.67 is rounded to -6."
///
/// That is truncation toward zero, except that a non-zero change never truncates to zero.
/// Computed in integers (`current * percent / 100` is exact), so 10 % of 10 is exactly 1.
pub fn percent_change(current: i64, percent: i32) -> i64 {
    let scaled = current * i64::from(percent);
    // Rust's `/` truncates toward zero: 1270/100 = 12 and -667/100 = -6, as documented.
    let truncated = scaled / 100;
    if truncated == 0 && scaled != 0 {
        scaled.signum()
    } else {
        truncated
    }
}

/// Why a policy changed the desired capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalingReason {
    /// A step scaling policy's alarm fired; `step` is the index of the step adjustment whose
    /// bounds held the metric.
    StepAdjustment {
        /// Index into the policy's step adjustments.
        step: usize,
    },
    /// A simple scaling policy's alarm fired outside its cooldown.
    SimpleScaling,
    /// A target tracking policy's high alarm fired: the metric is above the target.
    TargetTrackingScaleOut,
    /// A target tracking policy's low alarm fired: the metric is below the target.
    TargetTrackingScaleIn,
}

/// A policy's answer: set the group's desired capacity to `desired` (already within the
/// group's min and max), for `reason`. No decision means "leave the group alone".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScalingDecision {
    /// The new desired capacity [capacity units].
    pub desired: u32,
    /// What produced it.
    pub reason: ScalingReason,
}

/// Turns a raw target into a decision under the warm-up rules shared by step and target
/// tracking policies (User Guide, "Step and simple scaling policies", "Instance warm-up", and
/// "Set the default instance warmup", section "Understand how the default instance warmup
/// affects scaling"):
///
/// - scale out only if the target exceeds the desired capacity: instances already launched
///   and warming count toward the next scale-out, so "multiple alarm breaches that fall in the
///   range of the same step adjustment result in a single scaling activity";
/// - scale in only below the desired capacity, and never while an instance is warming: "This
///   blocks scale-in activities initiated by scaling policies until the instances finish
///   warming up" ("A scale-in activity can't start while a scale-out activity is in progress").
pub fn resolve(
    group: &GroupCapacity,
    target: i64,
    reason: ScalingReason,
) -> Option<ScalingDecision> {
    let desired = group.limits.clamp(target);
    if desired > group.desired || (desired < group.desired && group.warming == 0) {
        Some(ScalingDecision { desired, reason })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_rounding_follows_the_documented_examples() {
        // Each row is the note's own example, rebuilt as current × percent:
        // 12.7 -> 12 (127 × 10 %), .67 -> 1 (67 × 1 %), -.58 -> -1 (58 × -1 %),
        // -6.67 -> -6 (667 × -1 %).
        assert_eq!(percent_change(127, 10), 12);
        assert_eq!(percent_change(67, 1), 1);
        assert_eq!(percent_change(58, -1), -1);
        assert_eq!(percent_change(667, -1), -6);
        // Exact results are not rounded: "If the current capacity is 10 and the adjustment is
        // 10 percent ... we add 1 capacity unit ... for a total of 11".
        assert_eq!(percent_change(10, 10), 1);
        assert_eq!(
            AdjustmentType::PercentChangeInCapacity {
                min_adjustment_magnitude: None
            }
            .apply(10, 10),
            11
        );
        // Zero stays zero (a 0 % "unchanged" step, or an empty group).
        assert_eq!(percent_change(10, 0), 0);
        assert_eq!(percent_change(0, 30), 0);
    }

    #[test]
    fn min_adjustment_magnitude_enlarges_small_percent_changes() {
        // "suppose that you create a policy that adds 25 percent and you specify a minimum
        // increment of 2 instances. If you have an Auto Scaling group with 4 instances ...
        // 25 percent of 4 is 1 instance. However, because you specified a minimum increment of
        // 2, there are 2 instances added."
        let kind = AdjustmentType::PercentChangeInCapacity {
            min_adjustment_magnitude: Some(2),
        };
        assert_eq!(kind.apply(4, 25), 6);
        // Without the minimum: 4 + 1.
        let plain = AdjustmentType::PercentChangeInCapacity {
            min_adjustment_magnitude: None,
        };
        assert_eq!(plain.apply(4, 25), 5);
        // A change already larger than the minimum is untouched: 25 % of 20 = 5 >= 2.
        assert_eq!(kind.apply(20, 25), 25);
        // Scale-in keeps its sign: -25 % of 4 = -1, raised in magnitude to -2.
        assert_eq!(kind.apply(4, -25), 2);
        // A 0 % step is no change even with a minimum.
        assert_eq!(kind.apply(4, 0), 4);
    }

    #[test]
    fn change_and_exact_capacity_follow_the_documented_examples() {
        // "If the current capacity of the group is 3 and the adjustment is 5": ChangeInCapacity
        // gives 8, ExactCapacity gives 5.
        assert_eq!(AdjustmentType::ChangeInCapacity.apply(3, 5), 8);
        assert_eq!(AdjustmentType::ExactCapacity.apply(3, 5), 5);
        assert_eq!(AdjustmentType::ChangeInCapacity.apply(3, -5), -2);
    }

    #[test]
    fn clamp_keeps_desired_within_min_and_max() {
        let limits = CapacityLimits::new(2, 10);
        assert_eq!(limits.clamp(-2), 2);
        assert_eq!(limits.clamp(1), 2);
        assert_eq!(limits.clamp(7), 7);
        assert_eq!(limits.clamp(11), 10);
        assert_eq!(limits.clamp(i64::MAX), 10);
    }

    #[test]
    fn scale_in_waits_for_warming_instances() {
        let limits = CapacityLimits::new(1, 20);
        let mut group = GroupCapacity::steady(10, limits);
        group.desired = 11;
        group.warming = 1;
        let reason = ScalingReason::SimpleScaling;
        // Below desired while one instance warms: blocked.
        assert_eq!(resolve(&group, 8, reason), None);
        // Equal to desired: nothing to do.
        assert_eq!(resolve(&group, 11, reason), None);
        // Above desired: allowed.
        assert_eq!(
            resolve(&group, 12, reason),
            Some(ScalingDecision {
                desired: 12,
                reason
            })
        );
        // Warm-up over: the scale-in goes ahead.
        group.warming = 0;
        group.in_service = 11;
        assert_eq!(resolve(&group, 8, reason).map(|d| d.desired), Some(8));
    }
}
