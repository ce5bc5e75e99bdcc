//! The group settings the AWS policies share: `metric_period`, `metric_lag`,
//! `instance_warmup` and `default_cooldown` of `[pool.autoscaling]`.

use crate::model::autoscale::step::DEFAULT_COOLDOWN;
use crate::scenario::autoscaling::scaling_keys::{check_timing, Timing};
use crate::scenario::reader::{Located, Node, Reader};
use crate::time::SimDuration;

/// The group settings the AWS policies share (`metric_period`, `metric_lag`,
/// `instance_warmup`, `default_cooldown`).
#[derive(Debug, Clone)]
pub struct AwsSettings {
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

/// `metric_period`, `metric_lag`, `instance_warmup`, `default_cooldown`, with their defaults;
/// `None` if one is broken.
///
/// Limits: the CloudWatch period is `PutMetricAlarm`'s ("Valid values are 10, 20, 30, and any
/// multiple of 60"; at most 604,800 s, the longest evaluation range of an alarm); the lag is
/// fleetsim's assumption (CloudWatch publishes no fixed delay), whole seconds up to an hour;
/// `DefaultInstanceWarmup` "from 0 to 3600" seconds (CLI `--default-instance-warmup`);
/// `DefaultCooldown` whole seconds.
pub fn read_aws_settings(
    r: &mut Reader<'_>,
    settings: Vec<(&'static str, Node<'_, '_>)>,
) -> Option<AwsSettings> {
    let mut s = AwsSettings::default();
    let mut ok = true;
    for (key, n) in settings {
        let Some(d) = r.duration(&n) else {
            ok = false;
            continue;
        };
        let checked = match key {
            "metric_period" => check_metric_period(r, &d).then(|| {
                s.metric_period = d.value;
                s.metric_period_at = Some(Located {
                    value: (),
                    path: d.path.clone(),
                    span: d.span,
                });
            }),
            "metric_lag" => check_timing(
                r,
                &d,
                key,
                Some(s.metric_lag),
                Timing::seconds(
                    0,
                    Some(MAX_METRIC_LAG_SECS),
                    " (CloudWatch publishes no fixed delay; one to a few minutes is usual)",
                ),
            )
            .then(|| s.metric_lag = d.value),
            "instance_warmup" => check_timing(
                r,
                &d,
                key,
                None,
                Timing::seconds(0, Some(3600), " (AWS DefaultInstanceWarmup: 0 to 3600 s)"),
            )
            .then(|| s.default_instance_warmup = Some(d.value)),
            _ => check_timing(
                r,
                &d,
                key,
                Some(s.default_cooldown),
                Timing::seconds(0, None, " (AWS DefaultCooldown, in seconds)"),
            )
            .then(|| s.default_cooldown = d.value),
        };
        ok &= checked.is_some();
    }
    ok.then_some(s)
}

/// The longest `metric_lag` taken [s]: an hour, far beyond what CloudWatch users observe, and
/// a bound on the datapoints an AWS policy keeps while they wait to be published.
pub const MAX_METRIC_LAG_SECS: u64 = 3600;

/// The longest CloudWatch period: an alarm's evaluation range "can be no longer than seven
/// days" (`PutMetricAlarm`, `EvaluationPeriods`), so one period of an alarm is at most that.
pub const MAX_METRIC_PERIOD_SECS: u64 = 604_800;

/// `metric_period`: 10, 20 or 30 s (high-resolution metrics) or a whole number of minutes, as
/// `PutMetricAlarm` takes it.
pub fn check_metric_period(r: &mut Reader<'_>, d: &Located<SimDuration>) -> bool {
    let nanos = d.value.as_nanos();
    let second = SimDuration::from_secs(1).as_nanos();
    let secs = nanos / second;
    let valid = nanos.is_multiple_of(second)
        && (matches!(secs, 10 | 20 | 30)
            || (secs.is_multiple_of(60) && (60..=MAX_METRIC_PERIOD_SECS).contains(&secs)));
    if !valid {
        r.error(
            d,
            format!(
                "metric_period must be 10s, 20s, 30s or a whole number of minutes (up to 7 days), \
                 as CloudWatch takes an alarm's period, found {}",
                d.value
            ),
            Some(
                "such as metric_period = \"60s\" (the default: one-minute metrics, EC2 detailed \
                 monitoring, ALB and SQS); 10s, 20s or 30s only for high-resolution metrics"
                    .into(),
            ),
        );
    }
    valid
}
