//! `[pool.autoscaling]`: the group's bounds and the one controller that scales it — the AWS
//! policies ([`super::aws_policies`]), a Kubernetes HPA or KEDA ([`super::kubernetes`]) — read
//! into an [`AutoscalingSpec`], with the real systems' own rules checked where the table is
//! read. Also the metric names and statistics the policies share.
//!
//! It must not know the rest of the pool: its instances, warm pool and termination policy are
//! checked against the bounds in `validate.rs`.

use super::aws_policies::{self, AwsSettings};
use super::kubernetes;
use super::lifecycle::MAX_INSTANCES;
use super::raw::locate_node;
use super::reader::{Fields, Located, Node, Reader};
use crate::engine::SimDuration;
use crate::model::autoscale::metrics_pipeline::Statistic;
use crate::model::autoscale::spec::{AutoscalingSpec, Controller, MetricKind};

/// The keys of the AWS policies: any mix of them is one AWS Auto Scaling group.
pub(super) const AWS_POLICY_KEYS: &[&str] = &[
    "target_tracking",
    "step",
    "simple",
    "scheduled",
    "predictive",
];

/// Group settings only the AWS policies read.
const AWS_SETTING_KEYS: &[&str] = &[
    "metric_period",
    "metric_lag",
    "instance_warmup",
    "default_cooldown",
];

/// The controllers a pool can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Aws,
    Hpa,
    Keda,
}

impl Family {
    /// The family a key of `[pool.autoscaling]` belongs to.
    fn of(key: &str) -> Family {
        match key {
            "hpa" => Family::Hpa,
            "keda" => Family::Keda,
            _ => Family::Aws,
        }
    }

    /// How messages name it.
    fn name(self) -> &'static str {
        match self {
            Family::Aws => "the AWS policies",
            Family::Hpa => "hpa",
            Family::Keda => "keda",
        }
    }

    /// Its own timing keys, for messages.
    fn timing(self) -> &'static str {
        match self {
            Family::Aws => "metric_period, metric_lag, instance_warmup, default_cooldown",
            Family::Hpa => "sync_period, scrape_interval",
            Family::Keda => "polling_interval, cooldown_period, sync_period",
        }
    }
}

/// Reads `[pool.autoscaling]`; `None` if anything in it is wrong (each problem reported).
/// False (with an error at `max`) when both bounds are given and `max < min`.
pub(super) fn min_within_max(
    r: &mut Reader<'_>,
    min: Option<&Located<u64>>,
    max: Option<&Located<u64>>,
) -> bool {
    match (min, max) {
        (Some(lo), Some(hi)) if hi.value < lo.value => {
            r.error(
                hi,
                format!("max ({}) is below min ({})", hi.value, lo.value),
                Some("make max at least min".into()),
            );
            false
        }
        _ => true,
    }
}

pub(super) fn read(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<AutoscalingSpec> {
    let at = locate_node(&node);
    let mut f = r.table(
        node,
        "an autoscaling table such as [pool.autoscaling] min = 1 max = 10",
    )?;
    let min = f
        .required(r, "min", "set the group's smallest size, such as min = 1")
        .and_then(|n| r.integer(&n, 0, MAX_INSTANCES));
    let max = f
        .required(r, "max", "set the group's largest size, such as max = 10")
        .and_then(|n| r.integer(&n, 1, MAX_INSTANCES));
    let mut ok = min_within_max(r, min.as_ref(), max.as_ref());
    let bounds = min
        .as_ref()
        .zip(max.as_ref())
        .map(|(lo, hi)| (lo.value as u32, hi.value as u32));

    // Every key is asked for before any is judged, so that none is reported as unknown.
    let settings: Vec<(&'static str, Node<'_, '_>)> = AWS_SETTING_KEYS
        .iter()
        .filter_map(|k| f.get(k).map(|n| (*k, n)))
        .collect();
    let aws: Vec<(&'static str, Node<'_, '_>)> = AWS_POLICY_KEYS
        .iter()
        .filter_map(|k| f.get(k).map(|n| (*k, n)))
        .collect();
    let hpa = f.get("hpa");
    let keda = f.get("keda");
    f.finish(r);

    // The controllers present, each at the first key that names it, in file order.
    let mut families: Vec<(Family, Located<()>)> = Vec::new();
    if let Some((_, n)) = aws.iter().min_by_key(|(_, n)| n.span()) {
        families.push((Family::Aws, locate_node(n)));
    }
    for (key, n) in [("hpa", &hpa), ("keda", &keda)] {
        if let Some(n) = n {
            families.push((Family::of(key), locate_node(n)));
        }
    }
    families.sort_by_key(|(_, at)| at.span);
    let Some(&(family, _)) = families.first() else {
        r.error(
            &at,
            "this autoscaling table has no scaling policy",
            Some(
                "give a policy: [[pool.autoscaling.target_tracking]] (or step, simple, scheduled, \
                 predictive), [pool.autoscaling.hpa] or [pool.autoscaling.keda]"
                    .into(),
            ),
        );
        return None;
    };
    for (other, at) in &families[1..] {
        r.error(
            at,
            format!(
                "{} and {} both scale this pool",
                other.name(),
                family.name()
            ),
            Some(
                "a pool has one autoscaler: keep the AWS policies (target_tracking, step, simple, \
                 scheduled, predictive, in any mix), or hpa, or keda"
                    .into(),
            ),
        );
        ok = false;
    }

    let aws_settings = if family == Family::Aws {
        read_aws_settings(r, settings)
    } else {
        for (key, n) in &settings {
            r.error(
                &locate_node(n),
                format!(
                    "{key} is a setting of the AWS policies, not of {}",
                    family.name()
                ),
                Some(format!(
                    "remove {key}; {} sets its own timing ({})",
                    family.name(),
                    family.timing()
                )),
            );
        }
        ok &= settings.is_empty();
        None
    };

    if let Some(lo) = min
        .as_ref()
        .filter(|lo| lo.value == 0 && family == Family::Hpa)
    {
        r.error(
            lo,
            "the HPA keeps at least one replica, so min must be at least 1",
            Some(
                "set min = 1, or scale to zero with [pool.autoscaling.keda] (the HPA's \
                 minReplicas = 0 needs the alpha HPAScaleToZero feature gate)"
                    .into(),
            ),
        );
        ok = false;
    }

    // Each controller present is read, so that the mistakes inside each are reported too.
    let aws = (!aws.is_empty()).then(|| aws_policies::read(r, aws, aws_settings));
    let hpa = hpa.map(|n| kubernetes::read_hpa(r, n));
    let keda = keda.map(|n| kubernetes::read_keda(r, n, bounds));
    let controller = match (aws, hpa, keda) {
        (Some(Some(aws)), None, None) => Controller::Aws(aws),
        (None, Some(Some(hpa)), None) => Controller::Hpa(hpa),
        (None, None, Some(Some(keda))) => Controller::Keda(keda),
        _ => return None,
    };
    let (min, max) = bounds?;
    ok.then_some(AutoscalingSpec {
        min,
        max,
        controller,
    })
}

/// `metric_period`, `metric_lag`, `instance_warmup`, `default_cooldown`, with their defaults;
/// `None` if one is broken.
///
/// Limits: the CloudWatch period is `PutMetricAlarm`'s ("Valid values are 10, 20, 30, and any
/// multiple of 60"; at most 604,800 s, the longest evaluation range of an alarm); the lag is
/// fleetsim's assumption (CloudWatch publishes no fixed delay), whole seconds up to an hour;
/// `DefaultInstanceWarmup` "from 0 to 3600" seconds (CLI `--default-instance-warmup`);
/// `DefaultCooldown` whole seconds.
fn read_aws_settings(
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
pub(super) const MAX_METRIC_LAG_SECS: u64 = 3600;

/// The longest CloudWatch period: an alarm's evaluation range "can be no longer than seven
/// days" (`PutMetricAlarm`, `EvaluationPeriods`), so one period of an alarm is at most that.
pub(super) const MAX_METRIC_PERIOD_SECS: u64 = 604_800;

/// `metric_period`: 10, 20 or 30 s (high-resolution metrics) or a whole number of minutes, as
/// `PutMetricAlarm` takes it.
fn check_metric_period(r: &mut Reader<'_>, d: &Located<SimDuration>) -> bool {
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

/// The names of every metric, for `one_of`.
fn metric_names() -> Vec<&'static str> {
    MetricKind::ALL.iter().map(|m| m.name()).collect()
}

/// The required `metric` key: one of the [`MetricKind`] names.
pub(super) fn read_metric(
    r: &mut Reader<'_>,
    f: &mut Fields<'_, '_>,
    example: &str,
) -> Option<Located<MetricKind>> {
    let names = metric_names();
    let node = f.required(
        r,
        "metric",
        &format!(
            "say what is measured, such as metric = \"{example}\"; one of: {}",
            names.join(", ")
        ),
    )?;
    let name = r.one_of(&node, &names)?;
    let kind = MetricKind::from_name(name.value)?;
    Some(Located {
        value: kind,
        path: name.path,
        span: name.span,
    })
}

/// The metrics measured on the pool as a whole, which an HPA's external metrics and KEDA's
/// triggers read.
pub(super) const POOL_METRICS: [MetricKind; 3] = [
    MetricKind::QueueDepth,
    MetricKind::QueueOldestAge,
    MetricKind::RequestRate,
];

/// Checks that `metric` is one of [`POOL_METRICS`], for `what` ("an external metric").
pub(super) fn require_pool_metric(
    r: &mut Reader<'_>,
    metric: &Located<MetricKind>,
    what: &str,
) -> bool {
    if POOL_METRICS.contains(&metric.value) {
        return true;
    }
    let names: Vec<&str> = POOL_METRICS.iter().map(|m| m.name()).collect();
    let why = if metric.value.is_per_instance() {
        "a per-instance metric is read by an HPA as { type = \"pods\", ... }".to_string()
    } else if metric.value == MetricKind::Latency {
        "latency is ALB's TargetResponseTime, which AWS policies read".to_string()
    } else {
        format!(
            "{} is AWS's per-instance form: read the pool's total and let the HPA divide by the \
             replicas with average_value",
            metric.value.name()
        )
    };
    r.error(
        metric,
        format!(
            "{} is not measured on the pool as a whole, which {what} needs",
            metric.value.name()
        ),
        Some(format!("use one of: {}; {why}", names.join(", "))),
    );
    false
}

/// An optional `statistic` key: a CloudWatch statistic name. `None` inside when broken.
pub(super) fn read_statistic(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Statistic> {
    let s = r.string(&node)?;
    match parse_statistic(&s.value) {
        Ok(statistic) => Some(statistic),
        Err(e) => {
            r.error(
                &s,
                e.to_string(),
                Some(
                    "use average, maximum, minimum, sum, sample_count, or a percentile such as \
                     p99 or p99.9 (CloudWatch's statistics)"
                        .into(),
                ),
            );
            None
        }
    }
}

/// Why a `statistic` is not one CloudWatch takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum StatisticError {
    /// Neither a statistic's name nor a percentile.
    #[error("unknown statistic \"{0}\"")]
    Unknown(String),
    /// A percentile with three decimals or more.
    #[error("the percentile \"{0}\" has more than two decimals, which CloudWatch does not take")]
    TooPrecise(String),
    /// A percentile above 100.
    #[error("the percentile \"{0}\" is above p100")]
    AboveHundred(String),
}

/// A CloudWatch statistic: `average`, `maximum`, `minimum`, `sum`, `sample_count`, or `pNN` /
/// `pNN.NN` (a percentile with up to two decimals, as CloudWatch writes it).
fn parse_statistic(text: &str) -> Result<Statistic, StatisticError> {
    match text {
        "average" => return Ok(Statistic::Average),
        "maximum" => return Ok(Statistic::Maximum),
        "minimum" => return Ok(Statistic::Minimum),
        "sum" => return Ok(Statistic::Sum),
        "sample_count" => return Ok(Statistic::SampleCount),
        _ => {}
    }
    let bad = || StatisticError::Unknown(text.to_string());
    let number = text.strip_prefix('p').ok_or_else(bad)?;
    let (whole, fraction) = match number.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (number, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || whole.len() > 3 || !fraction.is_none_or(digits) {
        return Err(bad());
    }
    let fraction = fraction.unwrap_or("");
    if fraction.len() > 2 {
        return Err(StatisticError::TooPrecise(text.to_string()));
    }
    // Hundredths of a percent, computed in integers: "p99.5" is 9950.
    let whole: u32 = whole.parse().map_err(|_| bad())?;
    let fraction: u32 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
    let hundredths = whole * 100 + fraction;
    if hundredths > 10_000 {
        return Err(StatisticError::AboveHundred(text.to_string()));
    }
    Ok(Statistic::Percentile {
        hundredths: hundredths as u16,
    })
}

/// How long a timing key of an autoscaler may be, as the real system takes it. The systems
/// take these in whole seconds (an API field in seconds, or a controller flag nobody sets below
/// a second); fleetsim refuses what they refuse, which also keeps a nanosecond period from
/// waking a controller a billion times per simulated second.
#[derive(Clone, Copy, Debug)]
pub(super) struct Timing {
    /// The shortest value taken.
    pub least: SimDuration,
    /// The longest value taken, if there is a limit.
    pub most: Option<SimDuration>,
    /// Whose rule this is, for messages, such as `" (AWS DefaultInstanceWarmup)"`; may be empty.
    pub source: &'static str,
}

impl Timing {
    /// Whole seconds from `least` to `most` (`None`: no upper limit), by `source`'s rule.
    pub const fn seconds(least: u64, most: Option<u64>, source: &'static str) -> Self {
        Timing {
            least: SimDuration::from_secs(least),
            most: match most {
                Some(m) => Some(SimDuration::from_secs(m)),
                None => None,
            },
            source,
        }
    }
}

/// A timing key read with [`Timing`]'s rule, `default` when absent; `None` when broken
/// (reported).
pub(super) fn read_timing(
    r: &mut Reader<'_>,
    f: &mut Fields<'_, '_>,
    key: &'static str,
    default: SimDuration,
    rule: Timing,
) -> Option<SimDuration> {
    let Some(node) = f.get(key) else {
        return Some(default);
    };
    let d = r.duration(&node)?;
    check_timing(r, &d, key, Some(default), rule).then_some(d.value)
}

/// An optional timing key without a default of its own (`None` inside when absent); the outer
/// `None` when broken (reported). `example` is the value the hint suggests.
pub(super) fn read_optional_timing(
    r: &mut Reader<'_>,
    f: &mut Fields<'_, '_>,
    key: &'static str,
    example: SimDuration,
    rule: Timing,
) -> Option<Option<SimDuration>> {
    let Some(node) = f.get(key) else {
        return Some(None);
    };
    let d = r.duration(&node)?;
    check_example(r, &d, key, example, false, rule).then_some(Some(d.value))
}

/// Checks `d` against `rule`, reporting a problem at it; `default` is suggested in the hint.
pub(super) fn check_timing(
    r: &mut Reader<'_>,
    d: &Located<SimDuration>,
    key: &'static str,
    default: Option<SimDuration>,
    rule: Timing,
) -> bool {
    let example = default.unwrap_or(rule.least);
    check_example(r, d, key, example, default.is_some(), rule)
}

fn check_example(
    r: &mut Reader<'_>,
    d: &Located<SimDuration>,
    key: &'static str,
    example: SimDuration,
    is_default: bool,
    rule: Timing,
) -> bool {
    let hint = format!(
        "such as {key} = \"{example}\"{}",
        if is_default { " (the default)" } else { "" }
    );
    let value = d.value;
    let inside = value >= rule.least && rule.most.is_none_or(|m| value <= m);
    if !inside {
        let range = match rule.most {
            Some(m) if rule.least.is_zero() => format!("at most {m}"),
            Some(m) => format!("from {} to {m}", rule.least),
            None => format!("at least {}", rule.least),
        };
        r.error(
            d,
            format!("{key} must be {range}{}, found {value}", rule.source),
            Some(hint),
        );
        return false;
    }
    if !value
        .as_nanos()
        .is_multiple_of(SimDuration::from_secs(1).as_nanos())
    {
        r.error(
            d,
            format!(
                "{key} must be a whole number of seconds{}, found {value}",
                rule.source
            ),
            Some(hint),
        );
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_parse_cloudwatch_names_and_percentiles() {
        assert_eq!(parse_statistic("sum"), Ok(Statistic::Sum));
        assert_eq!(parse_statistic("sample_count"), Ok(Statistic::SampleCount));
        for (text, hundredths) in [
            ("p99", 9900),
            ("p99.9", 9990),
            ("p95.45", 9545),
            ("p0", 0),
            ("p100", 10_000),
            ("p5", 500),
        ] {
            assert_eq!(
                parse_statistic(text),
                Ok(Statistic::Percentile { hundredths }),
                "{text}"
            );
        }
        for bad in [
            "p", "p101", "p99.999", "p-1", "p9x", "avg", "P99", "p.5", "p99.",
        ] {
            assert!(parse_statistic(bad).is_err(), "{bad} should be rejected");
        }
    }
}
