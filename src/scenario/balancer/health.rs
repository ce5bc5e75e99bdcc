//! A target group's health checks: `health_check` (active checks, with AWS ALB's defaults and
//! accepted ranges) and `passive` (nginx's `max_fails` and `fail_timeout`).

use crate::model::balancer::health_check::{
    CheckDepth, HealthCheckSpec, ALB_INTERVAL_SECS, ALB_THRESHOLD, ALB_TIMEOUT_SECS,
};
use crate::model::balancer::passive_health::PassiveSpec;
use crate::scenario::reader::keys::Kind;
use crate::scenario::reader::{store, whole_seconds, Located, Node, Reader};
use crate::time::SimDuration;

/// Read by [`read_health_check`].
#[derive(Debug, Clone, Copy)]
pub struct HealthCheck;

impl Kind for HealthCheck {
    type Value = HealthCheckSpec;
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<HealthCheckSpec>> {
        read_health_check(r, node)
    }
}

/// Read by [`read_passive`].
#[derive(Debug, Clone, Copy)]
pub struct Passive;

impl Kind for Passive {
    type Value = PassiveSpec;
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<PassiveSpec>> {
        read_passive(r, node)
    }
}

/// `health_check = { depth, interval, timeout, healthy_threshold, unhealthy_threshold }`, with
/// AWS ALB's defaults and accepted ranges.
fn read_health_check(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<HealthCheckSpec>> {
    let at = node.at();
    let mut f = r.table(
        node,
        "a health check table such as { depth = \"deep\", interval = \"10s\" }",
    )?;
    let mut spec = HealthCheckSpec::default();
    let mut ok = true;
    if let Some(d) = f.get("depth").and_then(|n| r.one_of(&n, CheckDepth::NAMES)) {
        spec.depth = CheckDepth::from_name(d.value).unwrap_or_default();
    }
    let secs = |(lo, hi): (u64, u64)| (SimDuration::from_secs(lo), SimDuration::from_secs(hi));
    let interval = f.get("interval").and_then(|n| r.duration(&n));
    let timeout = f.get("timeout").and_then(|n| r.duration(&n));
    for (value, target, range, key) in [
        (
            &interval,
            &mut spec.interval,
            secs(ALB_INTERVAL_SECS),
            "interval",
        ),
        (
            &timeout,
            &mut spec.timeout,
            secs(ALB_TIMEOUT_SECS),
            "timeout",
        ),
    ] {
        ok &= alb_seconds(r, value, target, range, key);
    }
    let (lo, hi) = ALB_THRESHOLD;
    for (key, target) in [
        ("healthy_threshold", &mut spec.healthy_threshold),
        ("unhealthy_threshold", &mut spec.unhealthy_threshold),
    ] {
        let read = f
            .get(key)
            .map(|n| r.integer(&n, i64::from(lo), i64::from(hi)));
        ok &= store(target, read.map(|v| v.map(|v| v.value as u32)));
    }
    ok = ok && timeout_below_interval(r, &at, &spec, &interval, &timeout);
    f.finish(r);
    ok.then_some(Located {
        value: spec,
        path: at.path,
        span: at.span,
    })
}

/// The timeout shorter than the interval, as ALB requires (each given at `timeout` and
/// `interval`, or the default, in the table at `table`); false if not (reported).
fn timeout_below_interval(
    r: &mut Reader<'_>,
    table: &Located<()>,
    spec: &HealthCheckSpec,
    interval: &Option<Located<SimDuration>>,
    timeout: &Option<Located<SimDuration>>,
) -> bool {
    if spec.timeout >= spec.interval {
        let at = timeout
            .as_ref()
            .or(interval.as_ref())
            .map_or(table.clone(), |l| Located {
                value: (),
                path: l.path.clone(),
                span: l.span,
            });
        let default =
            |l: &Option<Located<SimDuration>>| if l.is_none() { ", the default" } else { "" };
        r.error(
            &at,
            format!(
                "the health check timeout ({}{}) must be shorter than its interval ({}{}), as ALB requires",
                spec.timeout,
                default(timeout),
                spec.interval,
                default(interval)
            ),
            Some("shorten timeout or lengthen interval".into()),
        );
        return false;
    }
    true
}

/// An ALB health check's `key` (`interval` or `timeout`), if given (`value`), into `target`:
/// whole seconds within `range`; false if not (reported).
fn alb_seconds(
    r: &mut Reader<'_>,
    value: &Option<Located<SimDuration>>,
    target: &mut SimDuration,
    range: (SimDuration, SimDuration),
    key: &str,
) -> bool {
    let Some(v) = value else {
        return true;
    };
    *target = v.value;
    // HealthCheckIntervalSeconds and HealthCheckTimeoutSeconds are integers.
    if !whole_seconds(r, v, "an ALB health check", key) {
        return false;
    }
    if v.value < range.0 || v.value > range.1 {
        r.error(
            v,
            format!(
                "an ALB health check {key} is from {} to {}, found {}",
                range.0, range.1, v.value
            ),
            Some(format!("set {key} within that range")),
        );
        return false;
    }
    true
}

/// `passive = { max_fails, fail_timeout, count_server_errors }`, with nginx's defaults.
fn read_passive(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<PassiveSpec>> {
    let at = node.at();
    let mut f = r.table(
        node,
        "a passive check table such as { max_fails = 3, fail_timeout = \"30s\" }",
    )?;
    let mut spec = PassiveSpec::default();
    let mut ok = true;
    let max_fails = f.get("max_fails").map(|n| r.integer(&n, 0, 1_000_000));
    ok &= store(
        &mut spec.max_fails,
        max_fails.map(|v| v.map(|v| v.value as u32)),
    );
    match f.get("fail_timeout").map(|n| r.duration(&n)) {
        Some(Some(v)) if v.value.is_zero() => {
            r.error(
                &v,
                "fail_timeout must be longer than 0s",
                Some("such as fail_timeout = \"10s\" (nginx's default)".into()),
            );
            ok = false;
        }
        // nginx reads fail_timeout in whole seconds (`ngx_parse_time(&s, 1)` refuses "ms"
        // and fractions) and compares it with its whole-second clock.
        Some(Some(v)) if !v.value.as_nanos().is_multiple_of(1_000_000_000) => {
            r.error(
                &v,
                format!(
                    "fail_timeout is whole seconds in nginx (its clock counts seconds), found {}",
                    v.value
                ),
                Some(format!(
                    "round it to whole seconds, such as fail_timeout = \"{}s\"",
                    (v.value.as_nanos() / 1_000_000_000).max(1)
                )),
            );
            ok = false;
        }
        Some(Some(v)) => spec.fail_timeout = v.value,
        Some(None) => ok = false,
        None => {}
    }
    let count = f.get("count_server_errors").map(|n| r.boolean(&n));
    ok &= store(
        &mut spec.count_server_errors,
        count.map(|v| v.map(|v| v.value)),
    );
    f.finish(r);
    ok.then_some(Located {
        value: spec,
        path: at.path,
        span: at.span,
    })
}
