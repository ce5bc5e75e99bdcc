//! The CloudWatch alarm of a step or simple scaling policy (`PutMetricAlarm`).

use super::policy::read_aws_metric;
use crate::model::autoscale::alarm::Comparison;
use crate::model::autoscale::spec::AlarmSpec;
use crate::scenario::reader::keys::{Key, Number, OneOf, Whole};
use crate::scenario::reader::{Fields, Located, Reader};
use crate::time::SimDuration;

/// Alarms remember this many datapoints at most (one boolean each): a guard against typos.
const MAX_EVALUATION_PERIODS: i64 = 10_000;

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

const COMPARISON: Key<OneOf> = Key::required(
    "comparison",
    OneOf(COMPARISONS),
    "say when the alarm breaches, such as comparison = \">=\" (or \">\", \"<\", \"<=\")",
);
const THRESHOLD: Key<Number> = Key::required(
    "threshold",
    Number,
    "set the alarm threshold, such as threshold = 80",
);
const EVALUATION_PERIODS: Key<Whole> =
    Key::optional("evaluation_periods", Whole(1, MAX_EVALUATION_PERIODS));
const DATAPOINTS_TO_ALARM: Key<Whole> =
    Key::optional("datapoints_to_alarm", Whole(1, MAX_EVALUATION_PERIODS));

/// The alarm keys of a step or simple policy, on metrics of `period`.
pub fn read_alarm(
    r: &mut Reader<'_>,
    f: &mut Fields<'_, '_>,
    period: SimDuration,
) -> Option<AlarmSpec> {
    let metric = read_aws_metric(r, f, "utilization");
    let comparison = f.read(r, &COMPARISON).map(|c| match c.value {
        ">=" | "GreaterThanOrEqualToThreshold" => Comparison::GreaterThanOrEqual,
        ">" | "GreaterThanThreshold" => Comparison::GreaterThan,
        "<" | "LessThanThreshold" => Comparison::LessThan,
        _ => Comparison::LessThanOrEqual,
    });
    let threshold = f.read(r, &THRESHOLD);
    let periods = f.read_given(r, &EVALUATION_PERIODS);
    let datapoints = f.read_given(r, &DATAPOINTS_TO_ALARM);
    let evaluation_periods = match &periods {
        None => Some(1),
        Some(p) => p.as_ref().and_then(|p| evaluation_periods(r, p, period)),
    };
    let datapoints_to_alarm = match datapoints {
        None => evaluation_periods,
        Some(None) => None,
        Some(Some(d)) => {
            evaluation_periods.and_then(|n| datapoints_to_alarm(r, &d, n, periods.is_none()))
        }
    };
    Some(AlarmSpec {
        metric: metric?,
        comparison: comparison?,
        threshold: threshold?.value,
        evaluation_periods: evaluation_periods?,
        datapoints_to_alarm: datapoints_to_alarm?,
    })
}

/// `evaluation_periods` `p` of datapoints of `period`, within CloudWatch's longest evaluation
/// range (else reported).
fn evaluation_periods(r: &mut Reader<'_>, p: &Located<u64>, period: SimDuration) -> Option<usize> {
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
}

/// `datapoints_to_alarm` `d`, at most the `n` evaluation periods (`n_by_default`: not
/// written), as CloudWatch requires (else reported).
fn datapoints_to_alarm(
    r: &mut Reader<'_>,
    d: &Located<u64>,
    n: usize,
    n_by_default: bool,
) -> Option<usize> {
    if d.value as usize <= n {
        return Some(d.value as usize);
    }
    let default = if n_by_default { ", the default" } else { "" };
    r.error(
        d,
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
