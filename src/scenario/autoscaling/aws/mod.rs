//! The AWS EC2 Auto Scaling policies of `[pool.autoscaling]`: target tracking, step and simple
//! scaling (with their CloudWatch alarms), scheduled actions and predictive scaling, read into
//! [`AwsPolicies`] with the API's own validation rules.
//!
//! Sources: Amazon EC2 Auto Scaling API Reference, `PutScalingPolicy` and `StepAdjustment`
//! ("The ranges of your step adjustments can't overlap or have a gap", and the rules on null
//! bounds quoted at [`check_steps`]), `PutScheduledUpdateGroupAction`; Amazon CloudWatch API
//! Reference, `PutMetricAlarm` (`DatapointsToAlarm` at most `EvaluationPeriods`); the
//! predictive scaling limits of `PredictiveScalingConfiguration`.
//!
//! It must not know the group's bounds beyond what a policy's own keys need, nor the pool.

pub mod alarm;
pub mod policy;
pub mod predictive;
pub mod scheduled;
pub mod settings;
pub mod steps;
pub mod target_tracking;

use crate::model::autoscale::spec::AwsPolicies;
use crate::model::autoscale::warmup::GroupWarmup;
use crate::scenario::reader::{Node, Reader};
use crate::time::SimDuration;
use policy::read_policies;
use predictive::read_predictive;
use scheduled::read_scheduled;
use settings::AwsSettings;
use steps::{read_simple, read_step};
use target_tracking::read_target_tracking;

/// The keys of the AWS policies: any mix of them is one AWS Auto Scaling group.
pub const AWS_POLICY_KEYS: &[&str] = &[
    "target_tracking",
    "step",
    "simple",
    "scheduled",
    "predictive",
];

/// The periods a target tracking policy takes (`TargetTrackingMetricStat`, `Period`: "The
/// default value is 60. Accepted values are 10, 30, and 60").
pub const TARGET_TRACKING_PERIODS: [SimDuration; 3] = [
    SimDuration::from_secs(10),
    SimDuration::from_secs(30),
    SimDuration::from_secs(60),
];

/// Reads the AWS policy keys of `[pool.autoscaling]` (`nodes`, each one of
/// [`AWS_POLICY_KEYS`]) with the group `settings` (`None`: broken, reported).
pub fn read(
    r: &mut Reader<'_>,
    nodes: Vec<(&'static str, Node<'_, '_>)>,
    settings: Option<AwsSettings>,
) -> Option<AwsPolicies> {
    let first_at = nodes.iter().map(|(_, n)| n.at()).min_by_key(|l| l.span);
    let mut ok = true;
    let mut target_tracking = Vec::new();
    let mut step = Vec::new();
    let mut simple = Vec::new();
    let mut scheduled = None;
    let mut predictive = None;
    // The period the alarms' evaluation ranges are checked against (the default when the
    // settings are broken: their own problem is reported already).
    let period = settings
        .as_ref()
        .map_or(AwsSettings::default().metric_period, |s| s.metric_period);
    for (key, node) in nodes {
        ok &= match key {
            "target_tracking" => {
                read_policies(r, node, key, "target tracking policy", read_target_tracking)
                    .map(|v| target_tracking = v)
                    .is_some()
            }
            "step" => read_policies(r, node, key, "step scaling policy", |r, n| {
                read_step(r, n, period)
            })
            .map(|v| step = v)
            .is_some(),
            "simple" => read_policies(r, node, key, "simple scaling policy", |r, n| {
                read_simple(r, n, period)
            })
            .map(|v| simple = v)
            .is_some(),
            "scheduled" => read_scheduled(r, node)
                .map(|v| scheduled = Some(v))
                .is_some(),
            _ => read_predictive(r, node)
                .map(|v| predictive = Some(v))
                .is_some(),
        };
    }
    let empty = target_tracking.is_empty()
        && step.is_empty()
        && simple.is_empty()
        && scheduled.is_none()
        && predictive.is_none();
    if let Some(at) = first_at.filter(|_| ok && empty) {
        r.error(
            &at,
            "every AWS policy list here is empty, so nothing scales this pool",
            Some(format!(
                "add a policy to one of {}, or remove [pool.autoscaling] for a fixed fleet",
                AWS_POLICY_KEYS.join(", ")
            )),
        );
        ok = false;
    }
    let settings = settings?;
    ok &= check_period(r, &settings, !target_tracking.is_empty());
    ok.then_some(AwsPolicies {
        metric_period: settings.metric_period,
        metric_lag: settings.metric_lag,
        warmup: GroupWarmup {
            default_instance_warmup: settings.default_instance_warmup,
            default_cooldown: settings.default_cooldown,
        },
        target_tracking,
        step,
        simple,
        scheduled,
        predictive,
    })
}

/// The group's metric period, which a target tracking policy (if there is one,
/// `target_tracking`) reads at 10 s, 30 s or 60 s only; false if not (reported).
fn check_period(r: &mut Reader<'_>, settings: &AwsSettings, target_tracking: bool) -> bool {
    if let Some(at) = settings
        .metric_period_at
        .as_ref()
        .filter(|_| target_tracking && !TARGET_TRACKING_PERIODS.contains(&settings.metric_period))
    {
        r.error(
            at,
            format!(
                "a target tracking policy reads its metric at a period of 10s, 30s or 60s, found {}",
                settings.metric_period
            ),
            Some(
                "such as metric_period = \"60s\" (AWS TargetTrackingMetricStat Period: \"Accepted \
                 values are 10, 30, and 60\"); a longer period needs step or simple policies"
                    .into(),
            ),
        );
        return false;
    }
    true
}
