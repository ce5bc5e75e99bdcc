//! AWS EC2 Auto Scaling instance warm-up: how long a newly launched instance stays out of the
//! group's aggregated metrics and out of the capacity a scale-out is computed from, once it is
//! `InService`. The warm-up an instance gets depends on what launched it.
//!
//! It owns only the fallback chain; it must not know instances or metrics: the world stamps
//! each instance with the warm-up of the activity that launched it and the policies see the
//! result through [`super::capacity::GroupCapacity`] and the aggregated datapoint.
//!
//! Sources (Amazon EC2 Auto Scaling):
//! - API Reference, `PutScalingPolicy`, `EstimatedInstanceWarmup`: "The estimated time, in
//!   seconds, until a newly launched instance can contribute to the CloudWatch metrics. This
//!   warm-up period applies to instances launched due to a specific target tracking or step
//!   scaling policy. When a warm-up period is specified here, it overrides the default instance
//!   warmup. Valid only if the policy type is TargetTrackingScaling or StepScaling. The default
//!   is to use the value for the default instance warmup defined for the group. If default
//!   instance warmup is null, then EstimatedInstanceWarmup falls back to the value of default
//!   cooldown."
//! - User Guide, "Available warm-up and cooldown settings"
//!   (`doc_source/consolidated-view-of-warm-up-and-cooldown-settings.md` in
//!   awsdocs/amazon-ec2-auto-scaling-user-guide): `DefaultInstanceWarmup` "Default: None";
//!   `DefaultCooldown` "Default: 300 seconds"; `EstimatedInstanceWarmup` as above.
//! - User Guide, "Set the default instance warmup for an Auto Scaling group"
//!   (`doc_source/ec2-auto-scaling-default-instance-warmup.md`): "When default instance warmup
//!   is not enabled, each instance starts contributing usage data to the aggregated metrics as
//!   soon as the instance reaches the `InService` state" — for instances no target tracking or
//!   step policy launched (a scheduled action, predictive scaling, a simple policy, a
//!   replacement) — and "When default instance warmup is not enabled, the default cooldown might
//!   be applied when instances launch, and dynamic scaling scale-in activities will be blocked
//!   until the default cooldown period ends"; the CLI takes a value "from 0 to 3600".

use crate::time::SimDuration;

/// The largest `DefaultInstanceWarmup` the API takes (CLI `--default-instance-warmup`: "from 0
/// to 3600").
pub const MAX_DEFAULT_INSTANCE_WARMUP: SimDuration = SimDuration::from_secs(3600);

/// The group's warm-up settings: `DefaultInstanceWarmup` (unset by default) and
/// `DefaultCooldown` (300 s by default), which the warm-up of a policy falls back to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupWarmup {
    /// `DefaultInstanceWarmup`; `None`: not enabled (AWS's default).
    pub default_instance_warmup: Option<SimDuration>,
    /// `DefaultCooldown`.
    pub default_cooldown: SimDuration,
}

impl GroupWarmup {
    /// The warm-up of instances launched by a target tracking or step policy whose
    /// `EstimatedInstanceWarmup` is `estimated`: that, else the group's default instance
    /// warm-up, else its default cooldown.
    pub fn of_policy(&self, estimated: Option<SimDuration>) -> SimDuration {
        estimated
            .or(self.default_instance_warmup)
            .unwrap_or(self.default_cooldown)
    }

    /// The warm-up of instances launched by anything else (scheduled actions, predictive
    /// scaling, simple policies, replacements): the group's default instance warm-up, or none
    /// when it is not enabled.
    pub fn of_other_launches(&self) -> SimDuration {
        self.default_instance_warmup.unwrap_or(SimDuration::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> SimDuration {
        SimDuration::from_secs(s)
    }

    #[test]
    fn a_policy_falls_back_to_the_default_instance_warmup_then_the_default_cooldown() {
        let unset = GroupWarmup {
            default_instance_warmup: None,
            default_cooldown: secs(300),
        };
        // Nothing set anywhere: the default cooldown, 300 s.
        assert_eq!(unset.of_policy(None), secs(300));
        // A policy's own EstimatedInstanceWarmup wins over everything.
        assert_eq!(unset.of_policy(Some(secs(45))), secs(45));
        assert_eq!(unset.of_policy(Some(SimDuration::ZERO)), SimDuration::ZERO);
        // The default instance warm-up, even 0 s ("even if its value is set to 0 seconds"),
        // replaces the cooldown fallback.
        let enabled = GroupWarmup {
            default_instance_warmup: Some(SimDuration::ZERO),
            default_cooldown: secs(300),
        };
        assert_eq!(enabled.of_policy(None), SimDuration::ZERO);
        assert_eq!(enabled.of_policy(Some(secs(90))), secs(90));
        // A changed default cooldown moves the fallback with it.
        let cooldown = GroupWarmup {
            default_instance_warmup: None,
            default_cooldown: secs(120),
        };
        assert_eq!(cooldown.of_policy(None), secs(120));
    }

    #[test]
    fn other_launches_count_at_once_unless_a_default_instance_warmup_is_set() {
        let unset = GroupWarmup {
            default_instance_warmup: None,
            default_cooldown: secs(300),
        };
        assert_eq!(unset.of_other_launches(), SimDuration::ZERO);
        let set = GroupWarmup {
            default_instance_warmup: Some(secs(200)),
            default_cooldown: secs(300),
        };
        assert_eq!(set.of_other_launches(), secs(200));
    }
}
