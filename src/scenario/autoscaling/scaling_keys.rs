//! The scaling keys the autoscalers share: the group's bounds, the metric names and statistics
//! (CloudWatch's), and the timing keys each controller takes in whole seconds with its real
//! system's limits ([`Timing`]).

use crate::model::autoscale::metrics_pipeline::Statistic;
use crate::model::autoscale::spec::MetricKind;
use crate::scenario::reader::{Fields, Located, Node, Reader};
use crate::time::SimDuration;

/// Reads `[pool.autoscaling]`; `None` if anything in it is wrong (each problem reported).
/// False (with an error at `max`) when both bounds are given and `max < min`.
pub fn min_within_max(
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

/// The names of every metric, for `one_of`.
pub fn metric_names() -> Vec<&'static str> {
    MetricKind::ALL.iter().map(|m| m.name()).collect()
}

/// The required `metric` key: one of the [`MetricKind`] names.
pub fn read_metric(
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
pub const POOL_METRICS: [MetricKind; 3] = [
    MetricKind::QueueDepth,
    MetricKind::QueueOldestAge,
    MetricKind::RequestRate,
];

/// Checks that `metric` is one of [`POOL_METRICS`], for `what` ("an external metric").
pub fn require_pool_metric(r: &mut Reader<'_>, metric: &Located<MetricKind>, what: &str) -> bool {
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
pub fn read_statistic(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Statistic> {
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
pub enum StatisticError {
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
pub fn parse_statistic(text: &str) -> Result<Statistic, StatisticError> {
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
pub struct Timing {
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
pub fn read_timing(
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
pub fn read_optional_timing(
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
pub fn check_timing(
    r: &mut Reader<'_>,
    d: &Located<SimDuration>,
    key: &'static str,
    default: Option<SimDuration>,
    rule: Timing,
) -> bool {
    let example = default.unwrap_or(rule.least);
    check_example(r, d, key, example, default.is_some(), rule)
}

pub fn check_example(
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
