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

use super::autoscaling::{
    min_within_max, read_metric, read_optional_timing, read_statistic, read_timing, Timing,
    AWS_POLICY_KEYS,
};
use super::lifecycle::MAX_INSTANCES;
use super::raw::{locate_node, store};
use super::reader::{Fields, Located, Node, Reader};
use super::validate::check_unique;
use crate::engine::{SimDuration, SimTime};
use crate::model::autoscale::alarm::Comparison;
use crate::model::autoscale::capacity::AdjustmentType;
use crate::model::autoscale::metrics_pipeline::Statistic;
use crate::model::autoscale::predictive::{MaxCapacityBreach, PredictiveConfig, PredictiveMode};
use crate::model::autoscale::scheduled::{Cron, Recurrence, ScheduledAction, WallClock};
use crate::model::autoscale::spec::{
    AlarmSpec, AwsMetric, AwsPolicies, MetricKind, PredictiveSpec, SimpleSpec, StepSpec,
    TargetTrackingSpec,
};
use crate::model::autoscale::step::{StepAdjustment, DEFAULT_COOLDOWN};
use crate::model::autoscale::warmup::GroupWarmup;

/// The group settings the AWS policies share (`metric_period`, `metric_lag`,
/// `instance_warmup`, `default_cooldown`).
#[derive(Debug, Clone)]
pub(super) struct AwsSettings {
    /// CloudWatch period of the policies' metrics (default 60 s).
    pub metric_period: SimDuration,
    /// Where `metric_period` is written, if it is.
    pub metric_period_at: Option<Located<()>>,
    /// From a period's end to its datapoint being visible (default 60 s).
    pub metric_lag: SimDuration,
    /// `DefaultInstanceWarmup` (`instance_warmup`; default unset).
    pub default_instance_warmup: Option<SimDuration>,
    /// `DefaultCooldown` (default 300 s).
    pub default_cooldown: SimDuration,
}

impl Default for AwsSettings {
    fn default() -> Self {
        AwsSettings {
            metric_period: SimDuration::from_secs(60),
            metric_period_at: None,
            metric_lag: SimDuration::from_secs(60),
            default_instance_warmup: None,
            default_cooldown: DEFAULT_COOLDOWN,
        }
    }
}

/// Alarms remember this many datapoints at most (one boolean each): a guard against typos.
const MAX_EVALUATION_PERIODS: i64 = 10_000;

/// The periods a target tracking policy takes (`TargetTrackingMetricStat`, `Period`: "The
/// default value is 60. Accepted values are 10, 30, and 60").
const TARGET_TRACKING_PERIODS: [SimDuration; 3] = [
    SimDuration::from_secs(10),
    SimDuration::from_secs(30),
    SimDuration::from_secs(60),
];

/// The longest evaluation range of an alarm (`PutMetricAlarm`, `EvaluationPeriods`): "Period
/// multiplied by EvaluationPeriods can't be more than 604,800 seconds. For alarms with a period
/// of less than one hour (3,600 seconds), the total evaluation period can't be longer than one
/// day (86,400 seconds)."
fn max_evaluation_range(period: SimDuration) -> SimDuration {
    if period < SimDuration::from_secs(3600) {
        SimDuration::from_secs(86_400)
    } else {
        SimDuration::from_secs(604_800)
    }
}

/// `EstimatedInstanceWarmup` of a target tracking or step policy: whole seconds, 0 or more.
fn read_estimated_warmup(
    r: &mut Reader<'_>,
    f: &mut Fields<'_, '_>,
) -> Option<Option<SimDuration>> {
    read_optional_timing(
        r,
        f,
        "estimated_instance_warmup",
        SimDuration::from_secs(300),
        Timing::seconds(0, None, " (AWS EstimatedInstanceWarmup, in seconds)"),
    )
}

/// `comparison` values: the operators, then the CloudWatch `ComparisonOperator` names.
const COMPARISONS: &[&str] = &[
    ">=",
    ">",
    "<",
    "<=",
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
];

const ADJUSTMENT_TYPES: &[&str] = &[
    "change_in_capacity",
    "exact_capacity",
    "percent_change_in_capacity",
];

/// `PredictiveScalingConfiguration.SchedulingBufferTime`: "The value must be less than the
/// forecast interval duration of 3600 seconds".
const MAX_SCHEDULING_BUFFER: SimDuration = SimDuration::from_secs(3599);

const WEEKDAYS: &[&str] = &[
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

/// Reads the AWS policy keys of `[pool.autoscaling]` (`nodes`, each one of
/// [`AWS_POLICY_KEYS`]) with the group `settings` (`None`: broken, reported).
pub(super) fn read(
    r: &mut Reader<'_>,
    nodes: Vec<(&'static str, Node<'_, '_>)>,
    settings: Option<AwsSettings>,
) -> Option<AwsPolicies> {
    let first_at = nodes
        .iter()
        .map(|(_, n)| locate_node(n))
        .min_by_key(|l| l.span);
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
    if let Some(at) = settings.metric_period_at.as_ref().filter(|_| {
        !target_tracking.is_empty() && !TARGET_TRACKING_PERIODS.contains(&settings.metric_period)
    }) {
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
        ok = false;
    }
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

/// An array of policy tables (`[[pool.autoscaling.step]]`), each read by `read_one`; the
/// optional names must differ (variants merge policies by name).
fn read_policies<'a, 'de, T>(
    r: &mut Reader<'_>,
    node: Node<'a, 'de>,
    key: &str,
    what: &str,
    mut read_one: impl FnMut(&mut Reader<'_>, Node<'a, 'de>) -> (Option<Located<String>>, Option<T>),
) -> Option<Vec<T>> {
    let items = r.array(
        &node,
        &format!("an array of tables, written [[pool.autoscaling.{key}]]"),
    )?;
    let mut ok = true;
    let mut names = Vec::new();
    let mut policies = Vec::new();
    for item in items {
        let (name, policy) = read_one(r, item);
        names.extend(name);
        match policy {
            Some(p) => policies.push(p),
            None => ok = false,
        }
    }
    let names: Vec<&Located<String>> = names.iter().collect();
    ok &= check_unique(
        r,
        &names,
        what,
        "give each its own name (variants change one by its name)",
    );
    ok.then_some(policies)
}

/// The optional `name` of a policy or action.
fn read_name(r: &mut Reader<'_>, f: &mut Fields<'_, '_>) -> Option<Located<String>> {
    f.get("name").and_then(|n| r.name(&n))
}

/// `metric` and `statistic`: the statistic defaults to Average, Sum for
/// `request_count_per_target` (ALB's `RequestCountPerTarget` is a sum per period).
fn read_aws_metric(r: &mut Reader<'_>, f: &mut Fields<'_, '_>, example: &str) -> Option<AwsMetric> {
    let kind = read_metric(r, f, example);
    let statistic = f.get("statistic").map(|n| read_statistic(r, n));
    let kind = kind?.value;
    let statistic = match statistic {
        Some(s) => s?,
        None if kind == MetricKind::RequestCountPerTarget => Statistic::Sum,
        None => Statistic::Average,
    };
    Some(AwsMetric { kind, statistic })
}

fn read_target_tracking(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
) -> (Option<Located<String>>, Option<TargetTrackingSpec>) {
    let Some(mut f) = r.table(
        node,
        "a target tracking table such as { metric = \"utilization\", target = 60 }",
    ) else {
        return (None, None);
    };
    let name = read_name(r, &mut f);
    let metric = read_aws_metric(r, &mut f, "utilization");
    let target = f
        .required(
            r,
            "target",
            "set the value to hold the metric at, such as target = 60",
        )
        .and_then(|n| r.positive(&n, true));
    let mut disable_scale_in = false;
    let disable = f.get("disable_scale_in").map(|n| r.boolean(&n));
    let disable_ok = store(&mut disable_scale_in, disable.map(|v| v.map(|v| v.value)));
    let warmup = read_estimated_warmup(r, &mut f);
    f.finish(r);
    let spec = (|| {
        Some(TargetTrackingSpec {
            metric: metric?,
            target: target?.value,
            disable_scale_in: disable_ok.then_some(disable_scale_in)?,
            estimated_instance_warmup: warmup?,
        })
    })();
    (name, spec)
}

/// The alarm keys of a step or simple policy, on metrics of `period`.
fn read_alarm(
    r: &mut Reader<'_>,
    f: &mut Fields<'_, '_>,
    period: SimDuration,
) -> Option<AlarmSpec> {
    let metric = read_aws_metric(r, f, "utilization");
    let comparison = f
        .required(
            r,
            "comparison",
            "say when the alarm breaches, such as comparison = \">=\" (or \">\", \"<\", \"<=\")",
        )
        .and_then(|n| r.one_of(&n, COMPARISONS))
        .map(|c| match c.value {
            ">=" | "GreaterThanOrEqualToThreshold" => Comparison::GreaterThanOrEqual,
            ">" | "GreaterThanThreshold" => Comparison::GreaterThan,
            "<" | "LessThanThreshold" => Comparison::LessThan,
            _ => Comparison::LessThanOrEqual,
        });
    let threshold = f
        .required(
            r,
            "threshold",
            "set the alarm threshold, such as threshold = 80",
        )
        .and_then(|n| r.number(&n));
    let periods = f
        .get("evaluation_periods")
        .map(|n| r.integer(&n, 1, MAX_EVALUATION_PERIODS));
    let datapoints = f
        .get("datapoints_to_alarm")
        .map(|n| r.integer(&n, 1, MAX_EVALUATION_PERIODS));
    let evaluation_periods = match &periods {
        None => Some(1),
        Some(p) => p.as_ref().and_then(|p| {
            let range = u128::from(p.value) * u128::from(period.as_nanos());
            let most = max_evaluation_range(period);
            if range > u128::from(most.as_nanos()) {
                r.error(
                    p,
                    format!(
                        "evaluation_periods ({}) of {period} datapoints span more than {most}, \
                         the longest evaluation range CloudWatch takes",
                        p.value
                    ),
                    Some(format!(
                        "lower evaluation_periods to at most {} (PutMetricAlarm: period × \
                         evaluation periods at most 86400 s below one-hour periods, 604800 s \
                         otherwise)",
                        most.as_nanos() / period.as_nanos()
                    )),
                );
                return None;
            }
            Some(p.value as usize)
        }),
    };
    let datapoints_to_alarm = match datapoints {
        None => evaluation_periods,
        Some(None) => None,
        Some(Some(d)) => match evaluation_periods {
            Some(n) if d.value as usize > n => {
                let default = if periods.is_none() {
                    ", the default"
                } else {
                    ""
                };
                r.error(
                    &d,
                    format!(
                        "datapoints_to_alarm ({}) is more than evaluation_periods ({n}{default})",
                        d.value
                    ),
                    Some(
                        "the alarm goes off when M of the last N datapoints breach, and \
                         CloudWatch requires M <= N: lower datapoints_to_alarm or raise \
                         evaluation_periods"
                            .into(),
                    ),
                );
                None
            }
            Some(_) => Some(d.value as usize),
            None => None,
        },
    };
    Some(AlarmSpec {
        metric: metric?,
        comparison: comparison?,
        threshold: threshold?.value,
        evaluation_periods: evaluation_periods?,
        datapoints_to_alarm: datapoints_to_alarm?,
    })
}

/// `adjustment_type` and `min_adjustment_magnitude` (only with a percent change, as in
/// `PutScalingPolicy`: "Valid only if the policy type is StepScaling or SimpleScaling and the
/// adjustment type is PercentChangeInCapacity").
fn read_adjustment_type(r: &mut Reader<'_>, f: &mut Fields<'_, '_>) -> Option<AdjustmentType> {
    let kind = match f
        .get("adjustment_type")
        .map(|n| r.one_of(&n, ADJUSTMENT_TYPES))
    {
        None => Some("change_in_capacity"),
        Some(k) => k.map(|k| k.value),
    };
    let magnitude = f
        .get("min_adjustment_magnitude")
        .map(|n| r.integer(&n, 1, MAX_INSTANCES));
    match (kind?, magnitude) {
        ("percent_change_in_capacity", m) => Some(AdjustmentType::PercentChangeInCapacity {
            min_adjustment_magnitude: match m {
                None => None,
                Some(m) => Some(m?.value as u32),
            },
        }),
        (kind, Some(Some(m))) => {
            r.error(
                &m,
                format!("min_adjustment_magnitude applies only to percent_change_in_capacity, not to {kind}"),
                Some("remove min_adjustment_magnitude, or set adjustment_type = \"percent_change_in_capacity\"".into()),
            );
            None
        }
        (_, Some(None)) => None,
        ("exact_capacity", None) => Some(AdjustmentType::ExactCapacity),
        (_, None) => Some(AdjustmentType::ChangeInCapacity),
    }
}

/// The `adjustment` of a step or simple policy: a whole number (`ScalingAdjustment`),
/// non-negative for exact capacity ("For exact capacity, you must specify a non-negative
/// value").
fn check_adjustment(
    r: &mut Reader<'_>,
    adjustment: Located<i64>,
    kind: Option<AdjustmentType>,
) -> Option<i32> {
    if kind == Some(AdjustmentType::ExactCapacity) && adjustment.value < 0 {
        r.error(
            &adjustment,
            format!(
                "an exact capacity cannot be negative, found {}",
                adjustment.value
            ),
            Some("give the capacity to set, 0 or more (AWS requires it)".into()),
        );
        return None;
    }
    Some(adjustment.value as i32)
}

fn read_adjustment_value(r: &mut Reader<'_>, node: &Node<'_, '_>) -> Option<Located<i64>> {
    r.signed(node, i64::from(i32::MIN), i64::from(i32::MAX))
}

fn read_step(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    period: SimDuration,
) -> (Option<Located<String>>, Option<StepSpec>) {
    let Some(mut f) = r.table(
        node,
        "a step scaling table such as { metric = \"utilization\", comparison = \">=\", threshold = 80, steps = [...] }",
    ) else {
        return (None, None);
    };
    let name = read_name(r, &mut f);
    let alarm = read_alarm(r, &mut f, period);
    let adjustment_type = read_adjustment_type(r, &mut f);
    let warmup = read_estimated_warmup(r, &mut f);
    let steps = f
        .required(
            r,
            "steps",
            "list the step adjustments, such as steps = [{ lower = 0, upper = 10, adjustment = 1 }, { lower = 10, adjustment = 3 }]",
        )
        .and_then(|n| read_steps(r, n, adjustment_type));
    f.finish(r);
    let spec = (|| {
        Some(StepSpec {
            alarm: alarm?,
            adjustment_type: adjustment_type?,
            steps: steps?,
            estimated_instance_warmup: warmup?,
        })
    })();
    (name, spec)
}

/// One step as written, with where its parts are.
struct RawStep {
    at: Located<()>,
    index: usize,
    lower: Option<Located<f64>>,
    upper: Option<Located<f64>>,
}

impl RawStep {
    fn lower(&self) -> Option<f64> {
        self.lower.as_ref().map(|l| l.value)
    }

    fn upper(&self) -> Option<f64> {
        self.upper.as_ref().map(|u| u.value)
    }

    /// `steps[2] (10 to 20)`, for messages.
    fn describe(&self) -> String {
        let range = match (self.lower(), self.upper()) {
            (Some(l), Some(u)) => format!("{l} to {u}"),
            (None, Some(u)) => format!("below {u}"),
            (Some(l), None) => format!("{l} and above"),
            (None, None) => "everything".into(),
        };
        format!("steps[{}] ({range})", self.index)
    }

    /// Where to point for a problem with its lower bound: the bound, else the step.
    fn lower_at(&self) -> Located<()> {
        self.lower.as_ref().map_or_else(|| self.at.clone(), unit)
    }
}

fn unit<T>(l: &Located<T>) -> Located<()> {
    Located {
        value: (),
        path: l.path.clone(),
        span: l.span,
    }
}

/// `steps = [{ lower, upper, adjustment }, ...]`, bounds relative to the alarm threshold.
fn read_steps(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    kind: Option<AdjustmentType>,
) -> Option<Vec<StepAdjustment>> {
    let at = locate_node(&node);
    let items = r.array(
        &node,
        "an array of steps such as [{ lower = 0, upper = 10, adjustment = 1 }]",
    )?;
    if items.is_empty() {
        r.error(
            &at,
            "a step policy needs at least one step",
            Some("such as steps = [{ lower = 0, adjustment = 1 }]".into()),
        );
        return None;
    }
    let mut ok = true;
    let mut raw = Vec::new();
    let mut steps = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        let at = locate_node(&item);
        let Some(mut f) = r.table(
            item,
            "a step such as { lower = 0, upper = 10, adjustment = 1 }",
        ) else {
            ok = false;
            continue;
        };
        let lower = f.get("lower").map(|n| r.number(&n));
        let upper = f.get("upper").map(|n| r.number(&n));
        let adjustment = f
            .required(
                r,
                "adjustment",
                "say how much this step changes the capacity, such as adjustment = 2",
            )
            .and_then(|n| read_adjustment_value(r, &n))
            .and_then(|a| check_adjustment(r, a, kind));
        f.finish(r);
        let (Some(lower), Some(upper), Some(adjustment)) = (
            lower.map_or(Some(None), |l| l.map(Some)),
            upper.map_or(Some(None), |u| u.map(Some)),
            adjustment,
        ) else {
            ok = false;
            continue;
        };
        steps.push(StepAdjustment {
            lower: lower.as_ref().map(|l| l.value),
            upper: upper.as_ref().map(|u| u.value),
            adjustment,
        });
        raw.push(RawStep {
            at,
            index,
            lower,
            upper,
        });
    }
    // The ranges are judged only when every step could be read.
    (ok && check_steps(r, &raw)).then_some(steps)
}

/// The API's rules on step ranges (`StepAdjustment`, API reference): "The ranges of your step
/// adjustments can't overlap or have a gap. At most, one step adjustment can have a null lower
/// bound. If one step adjustment has a negative lower bound, then there must be a step
/// adjustment with a null lower bound. At most, one step adjustment can have a null upper
/// bound. If one step adjustment has a positive upper bound, then there must be a step
/// adjustment with a null upper bound. The upper and lower bound can't be null in the same
/// step adjustment." And the upper bound "must be greater than the lower bound".
fn check_steps(r: &mut Reader<'_>, steps: &[RawStep]) -> bool {
    let mut ok = true;
    for s in steps {
        match (&s.lower, &s.upper) {
            (None, None) => {
                r.error(
                    &s.at,
                    format!("steps[{}] has neither a lower nor an upper bound", s.index),
                    Some("give it lower, upper or both (AWS: the upper and lower bound can't both be null)".into()),
                );
                ok = false;
            }
            (Some(l), Some(u)) if u.value <= l.value => {
                r.error(
                    u,
                    format!(
                        "steps[{}]: upper ({}) must be above lower ({})",
                        s.index, u.value, l.value
                    ),
                    Some(
                        "bounds are the metric minus the threshold: the step covers lower to upper"
                            .into(),
                    ),
                );
                ok = false;
            }
            _ => {}
        }
    }
    if !ok {
        return false;
    }
    let open_below: Vec<&RawStep> = steps.iter().filter(|s| s.lower.is_none()).collect();
    let open_above: Vec<&RawStep> = steps.iter().filter(|s| s.upper.is_none()).collect();
    for (open, side) in [(&open_below, "lower"), (&open_above, "upper")] {
        if let [first, second, ..] = open[..] {
            r.error(
                &second.at,
                format!(
                    "{} and {} both have no {side} bound",
                    first.describe(),
                    second.describe()
                ),
                Some(format!(
                    "AWS allows one step without a {side} bound: give one of them a {side} bound"
                )),
            );
            ok = false;
        }
    }
    if let Some(l) = steps
        .iter()
        .filter_map(|s| s.lower.as_ref())
        .find(|l| l.value < 0.0)
        .filter(|_| open_below.is_empty())
    {
        r.error(
            l,
            format!(
                "a step starts below the threshold (lower = {}), but no step covers the metric below it",
                l.value
            ),
            Some("AWS requires a step without lower bound when a step has a negative lower bound: leave lower out of the lowest step".into()),
        );
        ok = false;
    }
    if let Some(u) = steps
        .iter()
        .filter_map(|s| s.upper.as_ref())
        .find(|u| u.value > 0.0)
        .filter(|_| open_above.is_empty())
    {
        r.error(
            u,
            format!(
                "a step ends above the threshold (upper = {}), but no step covers the metric above it",
                u.value
            ),
            Some("AWS requires a step without upper bound when a step has a positive upper bound: leave upper out of the highest step".into()),
        );
        ok = false;
    }
    if !ok {
        return false;
    }
    // In order of lower bound (none first), each step must end where the next begins.
    let mut sorted: Vec<&RawStep> = steps.iter().collect();
    sorted.sort_by(|a, b| {
        let key = |s: &RawStep| s.lower().unwrap_or(f64::NEG_INFINITY);
        key(a).total_cmp(&key(b))
    });
    for pair in sorted.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let end = a.upper().unwrap_or(f64::INFINITY);
        let start = b.lower().unwrap_or(f64::NEG_INFINITY);
        if end == start {
            continue;
        }
        let message = if end > start {
            format!("{} and {} overlap", a.describe(), b.describe())
        } else {
            format!(
                "there is a gap between {} and {}: no step covers {end} to {start}",
                a.describe(),
                b.describe()
            )
        };
        r.error(
            &b.lower_at(),
            message,
            Some("make each step's lower bound the upper bound of the step below it (AWS: step ranges can't overlap or have a gap)".into()),
        );
        ok = false;
    }
    ok
}

fn read_simple(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    period: SimDuration,
) -> (Option<Located<String>>, Option<SimpleSpec>) {
    let Some(mut f) = r.table(
        node,
        "a simple scaling table such as { metric = \"utilization\", comparison = \">=\", threshold = 80, adjustment = 2 }",
    ) else {
        return (None, None);
    };
    let name = read_name(r, &mut f);
    let alarm = read_alarm(r, &mut f, period);
    let adjustment_type = read_adjustment_type(r, &mut f);
    let adjustment = f
        .required(
            r,
            "adjustment",
            "say how much the policy changes the capacity, such as adjustment = 2",
        )
        .and_then(|n| read_adjustment_value(r, &n))
        .and_then(|a| check_adjustment(r, a, adjustment_type));
    let cooldown = read_optional_timing(
        r,
        &mut f,
        "cooldown",
        DEFAULT_COOLDOWN,
        Timing::seconds(0, None, " (AWS Cooldown, in seconds)"),
    );
    f.finish(r);
    let spec = (|| {
        Some(SimpleSpec {
            alarm: alarm?,
            adjustment_type: adjustment_type?,
            adjustment: adjustment?,
            cooldown: cooldown?,
        })
    })();
    (name, spec)
}

/// `[pool.autoscaling.scheduled]`: where the run starts in the UTC week, and the actions.
fn read_scheduled(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
) -> Option<(WallClock, Vec<ScheduledAction>)> {
    let mut f = r.table(
        node,
        "a scheduled scaling table such as [pool.autoscaling.scheduled] start_weekday = \"monday\"",
    )?;
    let weekday = match f.get("start_weekday").map(|n| r.one_of(&n, WEEKDAYS)) {
        None => Some(1),
        Some(w) => w.and_then(|w| WEEKDAYS.iter().position(|d| *d == w.value)),
    };
    let time = match f.get("start_time") {
        None => Some(SimDuration::ZERO),
        Some(n) => read_time_of_day(r, &n),
    };
    let actions = f
        .required(
            r,
            "action",
            "add the actions, such as [[pool.autoscaling.scheduled.action]] recurrence = \"0 9 * * 1-5\" desired = 10",
        )
        .and_then(|n| {
            let at = locate_node(&n);
            let actions = read_policies(r, n, "scheduled.action", "scheduled action", read_action)?;
            if actions.is_empty() {
                r.error(
                    &at,
                    "no scheduled actions",
                    Some("add one, such as { recurrence = \"0 9 * * 1-5\", desired = 10 }".into()),
                );
                return None;
            }
            Some(actions)
        });
    f.finish(r);
    let clock = WallClock::starting(weekday? as u8, time?);
    Some((clock, actions?))
}

/// `"HH:MM"`, a UTC time of day.
fn read_time_of_day(r: &mut Reader<'_>, node: &Node<'_, '_>) -> Option<SimDuration> {
    let s = r.string(node)?;
    let parsed = s.value.split_once(':').and_then(|(h, m)| {
        let number = |t: &str, most: u64| {
            (matches!(t.len(), 1 | 2) && t.bytes().all(|b| b.is_ascii_digit()))
                .then(|| t.parse::<u64>().ok())
                .flatten()
                .filter(|v| *v <= most)
        };
        Some((number(h, 23)?, number(m, 59)?))
    });
    match parsed {
        Some((h, m)) => Some(SimDuration::from_secs(h * 3600 + m * 60)),
        None => {
            r.error(
                &s,
                format!("\"{}\" is not a time of day", s.value),
                Some("write the UTC time at the start of the run as \"HH:MM\", such as start_time = \"08:30\"".into()),
            );
            None
        }
    }
}

/// One `[[pool.autoscaling.scheduled.action]]` (`PutScheduledUpdateGroupAction`).
fn read_action(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
) -> (Option<Located<String>>, Option<ScheduledAction>) {
    let at = locate_node(&node);
    let Some(mut f) = r.table(
        node,
        "a scheduled action such as { recurrence = \"0 9 * * 1-5\", desired = 10 }",
    ) else {
        return (None, None);
    };
    let name = read_name(r, &mut f);
    let recurrence = f.get("recurrence").map(|n| r.string(&n));
    let once = f.get("at").map(|n| r.duration(&n));
    let start = f.get("start").map(|n| r.duration(&n));
    let end = f.get("end").map(|n| r.duration(&n));
    let mut sizes = [None, None, None];
    let mut ok = true;
    for (slot, key) in sizes.iter_mut().zip(["min", "max", "desired"]) {
        match f.get(key).map(|n| r.integer(&n, 0, MAX_INSTANCES)) {
            Some(Some(v)) => *slot = Some(v),
            Some(None) => ok = false,
            None => {}
        }
    }
    f.finish(r);
    let when = match (recurrence, once) {
        (Some(Some(text)), None) => match Cron::parse(&text.value) {
            Ok(cron) => Some(Recurrence::Cron(cron)),
            Err(e) => {
                r.error(
                    &text,
                    e.to_string(),
                    Some(
                        "such as recurrence = \"0 9 * * 1-5\" (09:00 UTC, Monday to Friday)".into(),
                    ),
                );
                None
            }
        },
        (None, Some(Some(at))) => {
            for (key, bound) in [("start", &start), ("end", &end)] {
                if let Some(Some(b)) = bound {
                    r.error(
                        b,
                        format!("{key} applies only to a recurring action, and this one runs once"),
                        Some(format!("remove {key}, or use recurrence instead of at")),
                    );
                    ok = false;
                }
            }
            Some(Recurrence::Once(SimTime::ZERO + at.value))
        }
        (Some(_), Some(Some(at))) => {
            r.error(
                &at,
                "an action runs once (at) or on a schedule (recurrence), not both",
                Some("keep at, or recurrence".into()),
            );
            None
        }
        (None, None) => {
            r.error(
                &at,
                "this action does not say when it runs",
                Some("add recurrence = \"0 9 * * 1-5\" (cron, UTC) or at = \"2h\" (once)".into()),
            );
            None
        }
        _ => None,
    };
    let start = start.map_or(Some(None), |s| s.map(Some));
    let end = end.map_or(Some(None), |e| e.map(Some));
    if let (Some(Some(s)), Some(Some(e))) = (&start, &end) {
        if e.value <= s.value {
            r.error(
                e,
                format!("end ({}) is not after start ({})", e.value, s.value),
                Some("make end later than start".into()),
            );
            ok = false;
        }
    }
    let [min, max, desired] = sizes;
    if ok && min.is_none() && max.is_none() && desired.is_none() {
        r.error(
            &at,
            "this action sets nothing",
            Some("set min, max or desired (AWS requires at least one)".into()),
        );
        ok = false;
    }
    ok &= min_within_max(r, min.as_ref(), max.as_ref());
    if let Some(d) = &desired {
        let below = min.as_ref().filter(|lo| d.value < lo.value);
        let above = max.as_ref().filter(|hi| d.value > hi.value);
        if let Some(bound) = below.or(above) {
            r.error(
                d,
                format!(
                    "desired ({}) is outside this action's min..max ({}..{})",
                    d.value,
                    min.as_ref().map_or("-".into(), |v| v.value.to_string()),
                    max.as_ref().map_or("-".into(), |v| v.value.to_string()),
                ),
                Some(format!(
                    "AWS rejects an action whose desired capacity is outside its own min and max: \
                     move desired to the other side of {}",
                    bound.value
                )),
            );
            ok = false;
        }
    }
    let action = (|| {
        Some(ScheduledAction {
            recurrence: when?,
            start: start?.map(|s| SimTime::ZERO + s.value),
            end: end?.map(|e| SimTime::ZERO + e.value),
            min: min.map(|v| v.value as u32),
            max: max.map(|v| v.value as u32),
            desired: desired.map(|v| v.value as u32),
        })
    })();
    (name, action.filter(|_| ok))
}

/// `[pool.autoscaling.predictive]`: the load is the pool's request rate.
fn read_predictive(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<PredictiveSpec> {
    let mut f = r.table(
        node,
        "a predictive scaling table such as [pool.autoscaling.predictive] target = 50",
    )?;
    let target = f
        .required(
            r,
            "target",
            "set the requests per second one instance should carry, such as target = 50",
        )
        .and_then(|n| r.positive(&n, true));
    let mode = match f
        .get("mode")
        .map(|n| r.one_of(&n, &["forecast_only", "forecast_and_scale"]))
    {
        None => Some(PredictiveMode::ForecastOnly),
        Some(m) => m.map(|m| match m.value {
            "forecast_and_scale" => PredictiveMode::ForecastAndScale,
            _ => PredictiveMode::ForecastOnly,
        }),
    };
    let buffer = read_timing(
        r,
        &mut f,
        "scheduling_buffer",
        SimDuration::from_secs(300),
        Timing {
            least: SimDuration::ZERO,
            most: Some(MAX_SCHEDULING_BUFFER),
            source: " (AWS: less than the forecast's hour)",
        },
    );
    let breach = match f
        .get("max_capacity_breach")
        .map(|n| r.one_of(&n, &["honor", "increase"]))
    {
        None => Some("honor"),
        Some(b) => b.map(|b| b.value),
    };
    let buffer_percent = f.get("max_capacity_buffer").map(|n| r.integer(&n, 0, 100));
    f.finish(r);
    let max_capacity_breach = match (breach?, buffer_percent) {
        ("increase", p) => MaxCapacityBreach::IncreaseMaxCapacity {
            buffer_percent: match p {
                None => 0,
                Some(p) => p?.value as u32,
            },
        },
        (_, Some(Some(p))) => {
            r.error(
                &p,
                "max_capacity_buffer applies only with max_capacity_breach = \"increase\"",
                Some(
                    "remove max_capacity_buffer, or set max_capacity_breach = \"increase\"".into(),
                ),
            );
            return None;
        }
        (_, Some(None)) => return None,
        (_, None) => MaxCapacityBreach::HonorMaxCapacity,
    };
    Some(PredictiveSpec {
        config: PredictiveConfig {
            target_load_per_instance: target?.value,
            mode: mode?,
            scheduling_buffer: buffer?,
            max_capacity_breach,
        },
    })
}
