//! Stage one: the TOML document into `Raw*` shapes.
//!
//! Every field is checked for its type and unit here and kept with its position, so that stage
//! two can point at it. A missing or broken field is `None`, and reading goes on.

use std::path::Path;
use std::sync::Arc;

use toml_span::value::Value;

use super::autoscaling;
use super::empirical;
use super::lifecycle::{self, MAX_INSTANCES};
use super::reader::{Fields, Located, Node, Reader};
use super::slo::read_slo;
use super::spot;
use crate::engine::{SimDuration, SimTime};
use crate::model::autoscale::spec::AutoscalingSpec;
use crate::model::balancer::health_check::{
    CheckDepth, HealthCheckSpec, ALB_INTERVAL_SECS, ALB_THRESHOLD, ALB_TIMEOUT_SECS,
};
use crate::model::balancer::passive_health::PassiveSpec;
use crate::model::balancer::retry_budget::{
    RetryBudget, ENVOY_DEFAULT_BUDGET_PERCENT, ENVOY_DEFAULT_MIN_RETRY_CONCURRENCY,
};
use crate::model::balancer::routing::{RetryCondition, RetryOn, RetryPolicy};
use crate::model::balancer::slow_start::{
    SlowStart, ALB_MAX_DURATION, ALB_MIN_DURATION, ENVOY_DEFAULT_AGGRESSION,
    ENVOY_DEFAULT_MIN_WEIGHT_PERCENT,
};
use crate::model::balancer::sticky;
use crate::model::fleet::llm::TokenCount;
use crate::model::fleet::{FailureSpec, LaunchSpec, ServiceTime, StartupSpec, WarmPoolSpec};
use crate::model::market::PurchaseOption;
use crate::model::traffic::backoff::{Backoff, ClientRetry, Jitter};
use crate::model::traffic::sessions::ClosedLoop;
use crate::model::traffic::{DecayShape, RateProfile};

/// The whole file.
pub struct RawScenario {
    pub name: Option<Located<String>>,
    pub duration: Option<Located<SimDuration>>,
    pub warmup: Option<Located<SimDuration>>,
    pub seed: Option<Located<u64>>,
    pub timeout: Option<Located<SimDuration>>,
    pub on_timeout: Option<Located<&'static str>>,
    pub window: Option<Located<SimDuration>>,
    pub traffic: Option<Located<RateProfile>>,
    /// `[traffic] trace`: arrivals replayed from a file (then `traffic` is its mean rate).
    pub trace: Option<Located<super::trace::TraceSpec>>,
    pub arrival_process: Option<Located<&'static str>>,
    pub users: Option<Located<u64>>,
    pub networks: Option<Located<u64>>,
    pub closed_loop: Option<Located<ClosedLoop>>,
    pub instance_types: Vec<RawInstanceType>,
    pub pools: Vec<RawPool>,
    pub queues: Vec<RawQueue>,
    pub classes: Vec<RawClass>,
    pub classes_at: Located<()>,
    pub balancer: Option<RawBalancer>,
    pub target_groups: Vec<RawTargetGroup>,
    pub routes: Vec<RawRoute>,
    pub faults: Vec<RawFault>,
    pub capacity_shortages: Vec<spot::RawShortage>,
    pub client_retry: Option<Located<ClientRetry>>,
    pub slo: Option<Located<crate::gates::SloSpec>>,
    pub billing: Option<Located<crate::model::market::billing::BillingSpec>>,
    /// Regions, places, DNS, outages and data-transfer prices.
    pub topology: super::topology::RawTopology,
}

/// Balancer keys: the `[balancer]` table (defaults for every target group), or the same keys
/// inside a `[[target_group]]` (that group's own).
pub struct RawBalancer {
    pub algorithm: Option<Located<&'static str>>,
    pub choice_count: Option<Located<u64>>,
    pub active_request_bias: Option<Located<f64>>,
    pub decay: Option<Located<SimDuration>>,
    pub table_size: Option<Located<u64>>,
    pub health_check: Option<Located<HealthCheckSpec>>,
    pub passive: Option<Located<PassiveSpec>>,
    pub stickiness: Option<Located<SimDuration>>,
    pub slow_start: Option<Located<SlowStart>>,
    pub retry: Option<Located<RetryPolicy>>,
}

/// A `[[target_group]]` table: pools behind one balancer.
pub struct RawTargetGroup {
    pub name: Option<Located<String>>,
    pub pools: Vec<Located<String>>,
    pub pools_at: Option<Located<()>>,
    pub balancer: RawBalancer,
    pub region: Option<Located<String>>,
}

/// A `[[route]]` table: a path prefix and where it goes.
pub struct RawRoute {
    pub path: Option<Located<String>>,
    pub target_group: Option<Located<String>>,
    /// The target groups after the first, in other regions (`target_group = ["a", "b"]`).
    pub more_groups: Vec<Located<String>>,
    pub pool: Option<Located<String>>,
    pub connect_timeout: Option<Located<SimDuration>>,
    pub read_timeout: Option<Located<SimDuration>>,
    pub at: Located<()>,
}

/// A `[[fault]]` table: instances that break at a time.
pub struct RawFault {
    pub pool: Option<Located<String>>,
    pub kind: Option<Located<&'static str>>,
    pub at: Option<Located<SimDuration>>,
    pub instances: Option<Located<u64>>,
    pub first: Option<Located<u64>>,
    pub duration: Option<Located<SimDuration>>,
    pub error_latency: Option<Located<SimDuration>>,
    pub rebalance_lead: Option<Located<SimDuration>>,
}

pub use super::market::RawInstanceType;

/// A `[[pool]]` table. A nested table that is present but broken (reported) reads as its
/// default, or as `Located { value: None, .. }` where its presence matters to validation.
pub struct RawPool {
    pub name: Option<Located<String>>,
    pub instance_type: Option<Located<String>>,
    /// At least 1, required, without autoscaling; optional and from 0 with it.
    pub instances: Option<Located<u64>>,
    pub dispatch: Option<Located<&'static str>>,
    pub queue_capacity: Option<Located<u64>>,
    pub weight: Option<Located<u64>>,
    /// The `[[queue]]` its workers pull from.
    pub queue: Option<Located<String>>,
    pub deregistration_delay: Option<Located<SimDuration>>,
    pub termination_policy: Option<Located<&'static str>>,
    pub startup: Option<StartupSpec>,
    pub warm_pool: Option<Located<Option<WarmPoolSpec>>>,
    pub launch: Option<LaunchSpec>,
    pub autoscaling: Option<Located<Option<AutoscalingSpec>>>,
    /// `purchase = "spot"`: a single-type pool bought on the spot market.
    pub purchase: Option<Located<PurchaseOption>>,
    pub mixed: Option<Located<Option<spot::RawMixed>>>,
    /// Present but broken reads as `value: None` (reported).
    pub failures: Option<Located<Option<FailureSpec>>>,
    pub replace_unhealthy: Option<Located<bool>>,
    pub region: Option<Located<String>>,
    pub zone: Option<Located<String>>,
}

/// A `[[queue]]` table: a named queue one pool pulls from.
pub struct RawQueue {
    pub name: Option<Located<String>>,
    pub capacity: Option<Located<u64>>,
}

/// A `[[class]]` table.
pub struct RawClass {
    pub name: Option<Located<String>>,
    pub share: Option<Located<f64>>,
    pub pool: Option<Located<String>>,
    pub path: Option<Located<String>>,
    pub queue: Option<Located<String>>,
    pub service: Option<ServiceTime>,
    pub service_by_type: Vec<(Located<String>, ServiceTime)>,
    /// `input_tokens` / `output_tokens`: present (`Some`), and read (`value: Some`) or broken.
    pub input_tokens: Option<Located<Option<TokenCount>>>,
    pub output_tokens: Option<Located<Option<TokenCount>>>,
    pub request_size: Option<Located<u64>>,
    pub response_size: Option<Located<u64>>,
    pub at: Located<()>,
}

/// Reads the document; `None` only if the root is not a table.
pub fn read(r: &mut Reader<'_>, doc: &Value<'_>, base_dir: &Path) -> Option<RawScenario> {
    let root = Node::root(doc);
    let root_span = root.span();
    let mut f = r.table(root, "a table of scenario settings")?;
    let name = f
        .required(
            r,
            "name",
            "give the scenario a name, such as name = \"viral_spike\"",
        )
        .and_then(|n| r.name(&n));
    let duration = f
        .required(
            r,
            "duration",
            "say how long to simulate, such as duration = \"30m\"",
        )
        .and_then(|n| r.duration(&n));
    let warmup = f.get("warmup").and_then(|n| r.duration(&n));
    let seed = f.get("seed").and_then(|n| r.integer(&n, 0, i64::MAX));
    let timeout = f.get("timeout").and_then(|n| r.duration(&n));
    let on_timeout = f
        .get("on_timeout")
        .and_then(|n| r.one_of(&n, &["keep_serving", "cancel"]));
    let window = f.get("timeline").and_then(|n| {
        let mut t = r.table(n, "a table such as [timeline] window = \"10s\"")?;
        let w = t.get("window").and_then(|n| r.duration(&n));
        t.finish(r);
        w
    });
    let traffic_fields = f
        .required(
            r,
            "traffic",
            "add a [traffic] table, such as [traffic] rate = \"100/s\"",
        )
        .map(|n| read_traffic(r, n, base_dir, duration.as_ref().map(|d| d.value)))
        .unwrap_or_default();
    let instance_types = read_array(r, &mut f, "instance_type", |r, n| {
        super::market::read_instance_type(r, n, base_dir)
    });
    let pools = read_array(r, &mut f, "pool", |r, n| read_pool(r, n, base_dir));
    let queues = read_array(r, &mut f, "queue", read_queue);
    let classes_at = Located {
        value: (),
        path: "class".into(),
        span: root_span,
    };
    let classes = read_array(r, &mut f, "class", |r, n| read_class(r, n, base_dir));
    let balancer = f.get("balancer").and_then(|n| {
        let mut t = r.table(n, "a table such as [balancer] algorithm = \"round_robin\"")?;
        let b = read_balancer_keys(r, &mut t);
        t.finish(r);
        Some(b)
    });
    let target_groups = read_array(r, &mut f, "target_group", read_target_group);
    let routes = read_array(r, &mut f, "route", read_route);
    let faults = read_array(r, &mut f, "fault", read_fault);
    let capacity_shortages = read_array(r, &mut f, "capacity_shortage", spot::read_shortage);
    let client_retry = f.get("client").and_then(|n| read_client(r, n));
    let slo = f.get("slo").and_then(|n| read_slo(r, n));
    let billing = f
        .get("billing")
        .and_then(|n| super::market::read_billing(r, n));
    let topology = super::topology::read(r, &mut f);
    f.finish(r);
    Some(RawScenario {
        name,
        duration,
        warmup,
        seed,
        timeout,
        on_timeout,
        window,
        traffic: traffic_fields.profile,
        trace: traffic_fields.trace,
        arrival_process: traffic_fields.process,
        users: traffic_fields.users,
        networks: traffic_fields.networks,
        closed_loop: traffic_fields.closed_loop,
        instance_types,
        pools,
        queues,
        classes,
        classes_at,
        balancer,
        target_groups,
        routes,
        faults,
        capacity_shortages,
        client_retry,
        slo,
        billing,
        topology,
    })
}

/// Where `node` is, without its value.
pub(super) fn locate_node(node: &Node<'_, '_>) -> Located<()> {
    Located {
        value: (),
        path: node.path().to_string(),
        span: node.span(),
    }
}

/// The balancer keys of a table (`[balancer]` or a `[[target_group]]`); all optional.
fn read_balancer_keys(r: &mut Reader<'_>, t: &mut Fields<'_, '_>) -> RawBalancer {
    RawBalancer {
        algorithm: t
            .get("algorithm")
            .and_then(|n| r.one_of(&n, crate::model::balancer::Algorithm::NAMES)),
        choice_count: t.get("choice_count").and_then(|n| r.integer(&n, 1, 100)),
        active_request_bias: t
            .get("active_request_bias")
            .and_then(|n| r.positive(&n, false)),
        decay: t.get("decay").and_then(|n| r.duration(&n)),
        table_size: t
            .get("table_size")
            .and_then(|n| r.integer(&n, 1, 16_777_259)),
        health_check: t.get("health_check").and_then(|n| read_health_check(r, n)),
        passive: t.get("passive").and_then(|n| read_passive(r, n)),
        stickiness: t.get("stickiness").and_then(|n| read_stickiness(r, n)),
        slow_start: t.get("slow_start").and_then(|n| read_slow_start(r, n)),
        retry: t.get("retry").and_then(|n| read_balancer_retry(r, n)),
    }
}

/// `on = ["error", "timeout", ...]`: conditions of [`RetryCondition::NAMES`].
fn read_retry_on(r: &mut Reader<'_>, f: &mut Fields<'_, '_>, default: RetryOn) -> Option<RetryOn> {
    let Some(node) = f.get("on") else {
        return Some(default);
    };
    let items = r.array(&node, "an array such as [\"error\", \"timeout\"]")?;
    let names: Option<Vec<&'static str>> = items
        .iter()
        .map(|n| r.one_of(n, RetryCondition::NAMES).map(|l| l.value))
        .collect();
    RetryOn::from_names(names?)
}

/// `retry = { attempts, budget_percent, min_retry_concurrency, on }`: nginx's next upstream
/// with, when a budget key is given, Envoy's retry budget.
fn read_balancer_retry(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<RetryPolicy>> {
    let at = locate_node(&node);
    let mut f = r.table(
        node,
        "a retry table such as { attempts = 2, on = [\"error\", \"timeout\"] }",
    )?;
    let attempts = f.get("attempts").map(|n| r.integer(&n, 0, 100));
    let percent = f.get("budget_percent").map(|n| r.number(&n));
    let concurrency = f
        .get("min_retry_concurrency")
        .map(|n| r.integer(&n, 0, 1_000_000));
    let on = read_retry_on(r, &mut f, RetryOn::NGINX_DEFAULT);
    f.finish(r);
    let mut ok = on.is_some();
    if let Some(Some(p)) = &percent {
        if !(0.0..=100.0).contains(&p.value) {
            r.error(
                p,
                "budget_percent is a percentage, from 0 to 100",
                Some("such as budget_percent = 20 (Envoy's default)".into()),
            );
            ok = false;
        }
    }
    let budget = match (&percent, &concurrency) {
        (None, None) => None,
        _ => Some(RetryBudget {
            budget_percent: percent
                .flatten()
                .map_or(ENVOY_DEFAULT_BUDGET_PERCENT, |p| p.value),
            min_retry_concurrency: concurrency
                .flatten()
                .map_or(ENVOY_DEFAULT_MIN_RETRY_CONCURRENCY, |c| c.value as u32),
        }),
    };
    let attempts = match attempts {
        Some(Some(a)) => a.value as u32,
        Some(None) => return None,
        None => 2,
    };
    ok.then_some(Located {
        value: RetryPolicy {
            attempts,
            budget,
            on: on?,
        },
        path: at.path,
        span: at.span,
    })
}

/// `slow_start = { duration }` (ALB: a linear ramp, 30 s to 900 s) or `{ window, aggression,
/// min_weight_percent }` (Envoy).
fn read_slow_start(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<SlowStart>> {
    let at = locate_node(&node);
    let mut f = r.table(node, "a slow start table such as { duration = \"2m\" }")?;
    let duration = f.get("duration").and_then(|n| r.duration(&n));
    let window = f.get("window").and_then(|n| r.duration(&n));
    let aggression = f.get("aggression").and_then(|n| r.positive(&n, true));
    let min_weight = f
        .get("min_weight_percent")
        .and_then(|n| r.positive(&n, false));
    f.finish(r);
    let spec = match (duration, window) {
        (Some(d), None) if aggression.is_none() && min_weight.is_none() => {
            if d.value < ALB_MIN_DURATION || d.value > ALB_MAX_DURATION {
                r.error(
                    &d,
                    "an ALB slow start lasts from 30 s to 900 s",
                    Some("such as duration = \"2m\"; for other lengths use Envoy's window".into()),
                );
                return None;
            }
            // slow_start.duration_seconds is an integer.
            if !whole_seconds(r, &d, "ALB slow start", "duration") {
                return None;
            }
            SlowStart::Linear { duration: d.value }
        }
        (None, Some(w)) => {
            if w.value < SimDuration::from_millis(1) {
                r.error(
                    &w,
                    "Envoy's slow start window is at least 1ms",
                    Some("such as window = \"60s\"".into()),
                );
                return None;
            }
            if let Some(m) = min_weight.as_ref().filter(|m| m.value > 100.0) {
                r.error(
                    m,
                    "min_weight_percent is a percentage, from 0 to 100",
                    Some("such as min_weight_percent = 10 (Envoy's default)".into()),
                );
                return None;
            }
            SlowStart::Envoy {
                window: w.value,
                aggression: aggression.map_or(ENVOY_DEFAULT_AGGRESSION, |a| a.value),
                min_weight_percent: min_weight
                    .map_or(ENVOY_DEFAULT_MIN_WEIGHT_PERCENT, |m| m.value),
            }
        }
        _ => {
            r.error(
                &at,
                "slow start takes duration (ALB's linear ramp) or window with optional aggression and min_weight_percent (Envoy's), not both",
                Some("write { duration = \"2m\" } or { window = \"2m\", aggression = 1.5 }".into()),
            );
            return None;
        }
    };
    Some(Located {
        value: spec,
        path: at.path,
        span: at.span,
    })
}

/// `[client] retry = { attempts, base, cap, jitter, on }`: clients retrying with exponential
/// backoff, with the AWS SDKs' standard-mode defaults.
fn read_client(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<ClientRetry>> {
    let mut f = r.table(
        node,
        "a [client] table such as [client] retry = { attempts = 3 }",
    )?;
    let retry = f.get("retry");
    f.finish(r);
    let node = retry?;
    let at = locate_node(&node);
    let mut t = r.table(
        node,
        "a retry table such as { attempts = 3, jitter = \"full\" }",
    )?;
    let attempts = match t.get("attempts").map(|n| r.integer(&n, 1, 100)) {
        Some(Some(a)) => Some(a.value as u32),
        Some(None) => None,
        None => Some(3),
    };
    let base = t
        .get("base")
        .and_then(|n| r.duration(&n))
        .map_or(SimDuration::from_millis(50), |d| d.value);
    let cap = t
        .get("cap")
        .and_then(|n| r.duration(&n))
        .map_or(SimDuration::from_secs(20), |d| d.value);
    let jitter = t
        .get("jitter")
        .and_then(|n| r.one_of(&n, Jitter::NAMES))
        .map_or(Some(Jitter::Full), |j| Jitter::from_name(j.value));
    let on = read_retry_on(r, &mut t, RetryOn::ALL);
    t.finish(r);
    Some(Located {
        value: ClientRetry {
            attempts: attempts?,
            backoff: Backoff {
                base,
                cap,
                jitter: jitter?,
            },
            on: on?,
        },
        path: at.path,
        span: at.span,
    })
}

/// `health_check = { depth, interval, timeout, healthy_threshold, unhealthy_threshold }`, with
/// AWS ALB's defaults and accepted ranges.
fn read_health_check(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<HealthCheckSpec>> {
    let at = locate_node(&node);
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
        if let Some(v) = value {
            // HealthCheckIntervalSeconds and HealthCheckTimeoutSeconds are integers.
            if !whole_seconds(r, v, "an ALB health check", key) {
                ok = false;
            } else if v.value < range.0 || v.value > range.1 {
                r.error(
                    v,
                    format!(
                        "an ALB health check {key} is from {} to {}, found {}",
                        range.0, range.1, v.value
                    ),
                    Some(format!("set {key} within that range")),
                );
                ok = false;
            }
            *target = v.value;
        }
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
    if ok && spec.timeout >= spec.interval {
        let at = timeout
            .as_ref()
            .or(interval.as_ref())
            .map_or(at.clone(), |l| Located {
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
                default(&timeout),
                spec.interval,
                default(&interval)
            ),
            Some("shorten timeout or lengthen interval".into()),
        );
        ok = false;
    }
    f.finish(r);
    ok.then_some(Located {
        value: spec,
        path: at.path,
        span: at.span,
    })
}

/// True if `d` is whole seconds; else records that `system` takes `key` in whole seconds (its
/// API field is an integer of seconds) and returns false. Issue 14, item 6: the real systems'
/// settings have a one-second grain, and a value between two seconds is not one they run.
pub(super) fn whole_seconds(
    r: &mut Reader<'_>,
    d: &Located<SimDuration>,
    system: &str,
    key: &str,
) -> bool {
    const SECOND: u64 = 1_000_000_000;
    let ns = d.value.as_nanos();
    if ns.is_multiple_of(SECOND) {
        return true;
    }
    r.error(
        d,
        format!("{system} takes {key} in whole seconds, found {}", d.value),
        Some(format!(
            "round it to whole seconds, such as {key} = \"{}s\"",
            (ns / SECOND).max(1)
        )),
    );
    false
}

/// A class's `request_size` or `response_size` (`key`): at most 1 GB (issue 14, item 13).
fn message_size(r: &mut Reader<'_>, node: &Node<'_, '_>, key: &str) -> Option<Located<u64>> {
    use crate::model::topology::transfer::MAX_MESSAGE_BYTES;
    let size = r.bytes(node)?;
    if size.value > MAX_MESSAGE_BYTES {
        r.error(
            &size,
            format!(
                "a {key} above 1GB is not one request's ({} bytes)",
                size.value
            ),
            Some(format!("such as {key} = \"20KB\"; at most \"1GB\"")),
        );
        return None;
    }
    Some(size)
}

/// Stores the value `read` for an optional key in `slot`, which holds the default: `read` is
/// `None` when the key is absent, `Some(None)` when it was present but broken (the reader has
/// recorded why), and then this returns false.
pub(super) fn store<T>(slot: &mut T, read: Option<Option<T>>) -> bool {
    match read {
        Some(Some(v)) => {
            *slot = v;
            true
        }
        Some(None) => false,
        None => true,
    }
}

/// `passive = { max_fails, fail_timeout, count_server_errors }`, with nginx's defaults.
fn read_passive(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<PassiveSpec>> {
    let at = locate_node(&node);
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

/// `stickiness = { duration }`: ALB's lb_cookie, 1 s to 7 days (default 1 day).
fn read_stickiness(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<SimDuration>> {
    let at = locate_node(&node);
    let mut f = r.table(node, "a stickiness table such as { duration = \"1h\" }")?;
    let duration = match f.get("duration").map(|n| r.duration(&n)) {
        Some(Some(d)) if d.value < sticky::MIN_DURATION || d.value > sticky::MAX_DURATION => {
            r.error(
                &d,
                format!(
                    "an ALB lb_cookie lasts from {} to {} (7 days), found {}",
                    sticky::MIN_DURATION,
                    sticky::MAX_DURATION,
                    d.value
                ),
                Some("such as duration = \"1h\"".into()),
            );
            None
        }
        // stickiness.lb_cookie.duration_seconds is an integer.
        Some(Some(d)) if !whole_seconds(r, &d, "an ALB lb_cookie", "duration") => None,
        Some(Some(d)) => Some(d.value),
        Some(None) => None,
        None => Some(sticky::DEFAULT_DURATION),
    };
    f.finish(r);
    duration.map(|value| Located {
        value,
        path: at.path,
        span: at.span,
    })
}

fn read_target_group(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<RawTargetGroup> {
    let mut f = r.table(node, "a target group table")?;
    let name = f
        .required(r, "name", "name the target group, such as name = \"gpu\"")
        .and_then(|n| r.name(&n));
    let mut pools = Vec::new();
    let pools_node = f.required(
        r,
        "pools",
        "list the pools whose instances it balances, such as pools = [\"a100\", \"t4\"]",
    );
    let pools_at = pools_node.as_ref().map(locate_node);
    if let Some(n) = pools_node {
        if let Some(items) = r.array(&n, "an array of pool names, such as [\"a100\", \"t4\"]") {
            pools = items.iter().filter_map(|i| r.string(i)).collect();
        }
    }
    let balancer = read_balancer_keys(r, &mut f);
    let region = f.get("region").and_then(|n| r.string(&n));
    f.finish(r);
    Some(RawTargetGroup {
        name,
        pools,
        pools_at,
        balancer,
        region,
    })
}

fn read_route(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<RawRoute> {
    let at = locate_node(&node);
    let mut f = r.table(node, "a route table")?;
    let groups = f
        .get("target_group")
        .map(|n| super::topology::read_names(r, &n))
        .unwrap_or_default();
    let route = RawRoute {
        path: f
            .required(
                r,
                "path",
                "give the path prefix, such as path = \"/predict\"",
            )
            .and_then(|n| r.string(&n)),
        target_group: groups.first().cloned(),
        more_groups: groups.get(1..).map(<[_]>::to_vec).unwrap_or_default(),
        pool: f.get("pool").and_then(|n| r.string(&n)),
        connect_timeout: f.get("connect_timeout").and_then(|n| r.duration(&n)),
        read_timeout: f.get("read_timeout").and_then(|n| r.duration(&n)),
        at,
    };
    f.finish(r);
    Some(route)
}

const FAULT_KINDS: &[&str] = &["crash", "broken", "spot_interruption"];

fn read_fault(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<RawFault> {
    let mut f = r.table(node, "a fault table")?;
    let fault = RawFault {
        pool: f
            .required(r, "pool", "name the pool whose instances fail, such as pool = \"gpu\"")
            .and_then(|n| r.string(&n)),
        kind: f
            .required(
                r,
                "kind",
                "choose crash (the host stops answering), broken (alive, but every request fails fast) or spot_interruption (the two-minute notice)",
            )
            .and_then(|n| r.one_of(&n, FAULT_KINDS)),
        at: f
            .required(r, "at", "say when the fault begins, such as at = \"5m\"")
            .and_then(|n| r.duration(&n)),
        instances: f
            .get("instances")
            .and_then(|n| r.integer(&n, 1, 1_000_000)),
        first: f.get("first").and_then(|n| r.integer(&n, 0, 999_999)),
        duration: f.get("duration").and_then(|n| r.duration(&n)),
        error_latency: f.get("error_latency").and_then(|n| r.duration(&n)),
        rebalance_lead: f.get("rebalance_lead").and_then(|n| r.duration(&n)),
    };
    f.finish(r);
    Some(fault)
}

/// Reads an array of tables (`[[key]]`), each element with `read_one`.
pub(super) fn read_array<'a, 'de, T>(
    r: &mut Reader<'_>,
    f: &mut Fields<'a, 'de>,
    key: &'static str,
    mut read_one: impl FnMut(&mut Reader<'_>, Node<'a, 'de>) -> Option<T>,
) -> Vec<T> {
    let Some(node) = f.get(key) else {
        return Vec::new();
    };
    let what = format!("an array of tables, written [[{key}]]");
    let Some(items) = r.array(&node, &what) else {
        return Vec::new();
    };
    items.into_iter().filter_map(|n| read_one(r, n)).collect()
}

fn read_pool(r: &mut Reader<'_>, node: Node<'_, '_>, base_dir: &Path) -> Option<RawPool> {
    let mut f = r.table(node, "a pool table")?;
    let name = f
        .required(r, "name", "name the pool, such as name = \"gpu\"")
        .and_then(|n| r.name(&n));
    // A mixed instances policy names its types itself.
    let mixed = f.get("mixed_instances");
    let instance_type = match &mixed {
        Some(_) => f.get("instance_type"),
        None => f.required(
            r,
            "instance_type",
            "name one of the [[instance_type]] tables",
        ),
    }
    .and_then(|n| r.string(&n));
    // With autoscaling, the group may start empty and `instances` defaults to its min.
    let autoscaling = f.get("autoscaling");
    let instances = match &autoscaling {
        Some(_) => f
            .get("instances")
            .and_then(|n| r.integer(&n, 0, MAX_INSTANCES)),
        None => f
            .required(
                r,
                "instances",
                "say how many instances the pool has, such as instances = 8",
            )
            .and_then(|n| r.integer(&n, 1, MAX_INSTANCES)),
    };
    let p = RawPool {
        name,
        instance_type,
        instances,
        dispatch: f
            .get("dispatch")
            .and_then(|n| r.one_of(&n, &["balancer", "shared_queue"])),
        queue_capacity: f
            .get("queue_capacity")
            .and_then(|n| r.integer(&n, 0, u32::MAX as i64)),
        weight: f.get("weight").and_then(|n| r.integer(&n, 1, 1000)),
        queue: f.get("queue").and_then(|n| r.string(&n)),
        deregistration_delay: f
            .get("deregistration_delay")
            .and_then(|n| lifecycle::read_deregistration_delay(r, n)),
        termination_policy: f
            .get("termination_policy")
            .and_then(|n| r.one_of(&n, lifecycle::TERMINATION_POLICIES)),
        startup: f
            .get("startup")
            .and_then(|n| lifecycle::read_startup(r, n, base_dir)),
        warm_pool: f.get("warm_pool").map(|n| {
            let at = locate_node(&n);
            Located {
                value: lifecycle::read_warm_pool(r, n),
                path: at.path,
                span: at.span,
            }
        }),
        launch: f.get("launch").and_then(|n| lifecycle::read_launch(r, n)),
        autoscaling: autoscaling.map(|n| {
            let at = locate_node(&n);
            Located {
                value: autoscaling::read(r, n),
                path: at.path,
                span: at.span,
            }
        }),
        purchase: f.get("purchase").and_then(|n| {
            let at = locate_node(&n);
            spot::read_purchase(r, &n).map(|value| Located {
                value,
                path: at.path,
                span: at.span,
            })
        }),
        mixed: mixed.map(|n| {
            let at = locate_node(&n);
            Located {
                value: spot::read_mixed(r, n),
                path: at.path,
                span: at.span,
            }
        }),
        replace_unhealthy: f.get("replace_unhealthy").and_then(|n| r.boolean(&n)),
        failures: f.get("failures").map(|n| {
            let at = locate_node(&n);
            Located {
                value: spot::read_failures(r, n, base_dir),
                path: at.path,
                span: at.span,
            }
        }),
        region: f.get("region").and_then(|n| r.string(&n)),
        zone: f.get("zone").and_then(|n| r.string(&n)),
    };
    f.finish(r);
    Some(p)
}

fn read_queue(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<RawQueue> {
    let mut f = r.table(node, "a queue table")?;
    let q = RawQueue {
        name: f
            .required(r, "name", "name the queue, such as name = \"batch\"")
            .and_then(|n| r.name(&n)),
        capacity: f
            .get("capacity")
            .and_then(|n| r.integer(&n, 0, u32::MAX as i64)),
    };
    f.finish(r);
    Some(q)
}

fn read_class(r: &mut Reader<'_>, node: Node<'_, '_>, base_dir: &Path) -> Option<RawClass> {
    let at = Located {
        value: (),
        path: node.path().to_string(),
        span: node.span(),
    };
    let mut f = r.table(node, "a request class table")?;
    let name = f
        .required(r, "name", "name the class, such as name = \"predict\"")
        .and_then(|n| r.name(&n));
    let share = f.get("share").and_then(|n| r.positive(&n, true));
    let pool = f.get("pool").and_then(|n| r.string(&n));
    let path = f.get("path").and_then(|n| r.string(&n));
    let queue = f.get("queue").and_then(|n| r.string(&n));
    let read_tokens = |r: &mut Reader<'_>, n: Node<'_, '_>| {
        let at = locate_node(&n);
        Located {
            value: super::llm::read_tokens(r, n),
            path: at.path,
            span: at.span,
        }
    };
    let input_tokens = f.get("input_tokens").map(|n| read_tokens(r, n));
    let output_tokens = f.get("output_tokens").map(|n| read_tokens(r, n));
    // A token-based class takes its time from its tokens and the instance type's LLM profile.
    let service = if input_tokens.is_some() || output_tokens.is_some() {
        f.get("service").and_then(|n| read_service(r, n, base_dir))
    } else {
        f.required(
            r,
            "service",
            "give the service time, such as service = { distribution = \"exponential\", mean = \"1s\" }, or input_tokens and output_tokens for an LLM class",
        )
        .and_then(|n| read_service(r, n, base_dir))
    };
    let mut service_by_type = Vec::new();
    if let Some(n) = f.get("service_by_type") {
        if let Some(t) = r.table(n, "a table of instance type name = service time") {
            service_by_type = read_service_map(r, t, base_dir);
        }
    }
    let request_size = f
        .get("request_size")
        .and_then(|n| message_size(r, &n, "request_size"));
    let response_size = f
        .get("response_size")
        .and_then(|n| message_size(r, &n, "response_size"));
    f.finish(r);
    Some(RawClass {
        name,
        share,
        pool,
        path,
        queue,
        service,
        service_by_type,
        input_tokens,
        output_tokens,
        request_size,
        response_size,
        at,
    })
}

/// Reads every `type = { ... }` entry; the keys are checked against instance types later.
fn read_service_map(
    r: &mut Reader<'_>,
    f: Fields<'_, '_>,
    base_dir: &Path,
) -> Vec<(Located<String>, ServiceTime)> {
    let entries: Vec<(String, Node<'_, '_>)> = f.entries();
    entries
        .into_iter()
        .filter_map(|(key, node)| {
            let key = Located {
                value: key,
                path: node.path().to_string(),
                span: node.span(),
            };
            read_service(r, node, base_dir).map(|s| (key, s))
        })
        .collect()
}

const DISTRIBUTIONS: &[&str] = &[
    "constant",
    "exponential",
    "lognormal",
    "gamma",
    "uniform",
    "empirical",
];

/// A service-time table (`{ distribution = "lognormal", mean = "400ms", cv = 0.6 }`).
pub(super) fn read_service(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    base_dir: &Path,
) -> Option<ServiceTime> {
    let mut f = r.table(
        node,
        "a service time table such as { distribution = \"lognormal\", mean = \"400ms\", cv = 0.5 }",
    )?;
    let kind = f
        .required(
            r,
            "distribution",
            &format!("choose one of: {}", DISTRIBUTIONS.join(", ")),
        )
        .and_then(|n| r.one_of(&n, DISTRIBUTIONS));
    let Some(kind) = kind else {
        f.skip_rest();
        return None;
    };
    let secs = |f: &mut Fields<'_, '_>, r: &mut Reader<'_>, key: &'static str, help: &str| {
        f.required(r, key, help)
            .and_then(|n| r.duration(&n))
            .map(|d| d.value.as_secs_f64())
    };
    let service = match kind.value {
        "constant" => secs(&mut f, r, "value", "set value = \"200ms\"")
            .map(|v| ServiceTime::Constant { nanos: v * 1e9 }),
        "exponential" => secs(&mut f, r, "mean", "set mean = \"1s\"").and_then(|m| {
            positive_mean(r, &kind, m).then_some(ServiceTime::Exponential { mean: m * 1e9 })
        }),
        "lognormal" | "gamma" => {
            let mean = secs(&mut f, r, "mean", "set mean = \"400ms\"");
            let cv = f
                .required(r, "cv", "set the coefficient of variation (standard deviation / mean), such as cv = 0.5")
                .and_then(|n| r.positive(&n, true));
            match (mean, cv) {
                (Some(m), Some(cv)) if positive_mean(r, &kind, m) => {
                    Some(if kind.value == "gamma" {
                        ServiceTime::gamma(m, cv.value)
                    } else {
                        ServiceTime::lognormal(m, cv.value)
                    })
                }
                _ => None,
            }
        }
        "uniform" => {
            let min = f
                .required(r, "min", "set min = \"100ms\"")
                .and_then(|n| r.duration(&n));
            let max = f
                .required(r, "max", "set max = \"2s\"")
                .and_then(|n| r.duration(&n));
            match (min, max) {
                (Some(lo), Some(hi)) if lo.value <= hi.value => Some(ServiceTime::Uniform {
                    min: lo.value.as_nanos() as f64,
                    max: hi.value.as_nanos() as f64,
                }),
                (Some(_), Some(hi)) => {
                    r.error(
                        &hi,
                        "max is below min",
                        Some("make max at least min".into()),
                    );
                    None
                }
                _ => None,
            }
        }
        _ => read_empirical(r, &mut f, base_dir),
    };
    f.finish(r);
    service
}

fn positive_mean(r: &mut Reader<'_>, kind: &Located<&'static str>, mean_secs: f64) -> bool {
    if mean_secs > 0.0 {
        return true;
    }
    r.error(
        kind,
        format!("a {} distribution needs a mean greater than 0", kind.value),
        Some("use the constant distribution for zero-time work".into()),
    );
    false
}

fn read_empirical(
    r: &mut Reader<'_>,
    f: &mut Fields<'_, '_>,
    base_dir: &Path,
) -> Option<ServiceTime> {
    let file = f
        .required(
            r,
            "file",
            "give the CSV file, relative to the scenario, such as file = \"data/latency.csv\"",
        )
        .and_then(|n| r.string(&n));
    let column = f
        .required(
            r,
            "column",
            "name the CSV column holding the times, such as column = \"latency_ms\"",
        )
        .and_then(|n| r.string(&n));
    let unit = f
        .required(
            r,
            "unit",
            "say the unit of the values: one of ns, us, ms, s",
        )
        .and_then(|n| r.one_of(&n, &["ns", "us", "ms", "s"]));
    let (file, column, unit) = (file?, column?, unit?);
    let to_nanos = match unit.value {
        "ns" => 1.0,
        "us" => 1e3,
        "ms" => 1e6,
        _ => 1e9,
    };
    match empirical::load_column(&base_dir.join(&file.value), &column.value, to_nanos) {
        Ok(values) => Some(ServiceTime::Empirical {
            sorted: Arc::from(values),
        }),
        Err(e) => {
            r.error(
                &file,
                e.to_string(),
                Some("the path is relative to the scenario file's folder; the file needs a header row and one number per row".into()),
            );
            None
        }
    }
}

const PROFILES: &[&str] = &["constant", "steps", "ramp", "spike", "diurnal"];

/// The fields of `[traffic]`.
#[derive(Default)]
struct TrafficFields {
    profile: Option<Located<RateProfile>>,
    trace: Option<Located<super::trace::TraceSpec>>,
    process: Option<Located<&'static str>>,
    users: Option<Located<u64>>,
    networks: Option<Located<u64>>,
    closed_loop: Option<Located<ClosedLoop>>,
}

fn read_traffic(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    base_dir: &Path,
    duration: Option<SimDuration>,
) -> TrafficFields {
    let path = node.path().to_string();
    let span = node.span();
    let Some(mut f) = r.table(node, "a [traffic] table") else {
        return TrafficFields::default();
    };
    let users = f.get("users").and_then(|n| r.integer(&n, 1, 1_000_000_000));
    let networks = f
        .get("networks")
        .and_then(|n| r.integer(&n, 1, 1_000_000_000));
    let process = f
        .get("process")
        .and_then(|n| r.one_of(&n, &["poisson", "periodic"]));
    let sources: Vec<(&'static str, Node<'_, '_>)> = ["rate", "profile", "trace", "counts"]
        .into_iter()
        .filter_map(|key| f.get(key).map(|n| (key, n)))
        .collect();
    let spikes_node = f.get("spikes");
    let spikes = spikes_node.clone().and_then(|n| read_spikes(r, n));
    let closed_node = f.get("closed_loop");
    if let Some(closed) = closed_node {
        // A closed population sets the load itself: open-loop keys have nothing to act on.
        for (key, n) in &sources {
            r.error_at(
                n.path().to_string(),
                Some(n.span()),
                format!("both {key} and closed_loop are set"),
                Some(format!("keep one: closed_loop sets the load by its users and think time; remove {key}, or remove closed_loop for open-loop arrivals")),
            );
        }
        let process_at = process.as_ref().map(|l| (l.path.clone(), l.span));
        let users_at = users.as_ref().map(|l| (l.path.clone(), l.span));
        let misplaced = [
            (
                process_at,
                "process",
                "closed-loop users send when their previous request ends: remove process",
            ),
            (
                users_at,
                "users",
                "closed_loop.users is the number of users: remove traffic.users",
            ),
        ];
        for (at, key, help) in misplaced {
            if let Some((at, at_span)) = at {
                r.error_at(
                    at,
                    Some(at_span),
                    format!("{key} does not apply with closed_loop"),
                    Some(help.into()),
                );
            }
        }
        if let Some((at, at_span)) = spikes_node
            .as_ref()
            .map(|n| (n.path().to_string(), n.span()))
        {
            r.error_at(
                at,
                Some(at_span),
                "spikes do not apply with closed_loop",
                Some("a closed population has no arrival rate to multiply: remove spikes".into()),
            );
        }
        let closed_loop = super::closed_loop::read(r, closed, base_dir);
        f.finish(r);
        let profile = closed_loop.as_ref().map(|c| Located {
            value: RateProfile::Constant { rate: 0.0 },
            path: c.path.clone(),
            span: c.span,
        });
        return TrafficFields {
            profile,
            trace: None,
            process: None,
            users: None,
            networks,
            closed_loop,
        };
    }
    let mut trace = None;
    let result = match sources.as_slice() {
        [("rate", n)] => r
            .rate(n)
            .map(|rate| RateProfile::Constant { rate: rate.value }),
        [("profile", n)] => read_profile(r, n.clone()),
        [("counts", n)] => super::trace::read_counts(r, n.clone(), base_dir, duration),
        [(_, n)] => {
            trace = super::trace::read_trace(r, n.clone(), base_dir);
            if let Some(p) = &process {
                r.error(
                    p,
                    "a replayed trace has its own arrival times",
                    Some("drop `process`, or replace the trace with a rate".into()),
                );
            }
            if let Some(s) = &spikes_node {
                r.error_at(
                    s.path().to_string(),
                    Some(s.span()),
                    "spikes multiply a rate profile, not a replayed trace",
                    Some(
                        "drop `spikes`, or use a count trace (`counts`), which spikes can multiply"
                            .into(),
                    ),
                );
            }
            trace.as_ref().map(|t| RateProfile::Constant {
                rate: t.value.mean_rate(),
            })
        }
        [] => {
            r.error_at(
                path.clone(),
                Some(span),
                "no arrival rate",
                Some("set rate = \"100/s\", a profile = { kind = \"spike\", ... }, a trace = { file, format }, counts = { file, ... } or closed_loop = { users = 500, think_time = ... }".into()),
            );
            None
        }
        [_, (key, n), ..] => {
            r.error_at(
                n.path().to_string(),
                Some(n.span()),
                format!("both {} and {key} are set", sources[0].0),
                Some("keep one of rate, profile, trace and counts".into()),
            );
            None
        }
    };
    let result = match (result, spikes) {
        (Some(base), Some(spikes)) if !spikes.is_empty() && trace.is_none() => {
            Some(RateProfile::Spiked {
                base: Box::new(base),
                spikes,
            })
        }
        (result, _) => result,
    };
    f.finish(r);
    TrafficFields {
        profile: result.map(|value| Located { value, path, span }),
        trace,
        process,
        users,
        networks,
        closed_loop: None,
    }
}

fn read_profile(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<RateProfile> {
    let mut f = r.table(
        node,
        "a rate profile table such as { kind = \"spike\", ... }",
    )?;
    let kind = f
        .required(
            r,
            "kind",
            &format!("choose one of: {}", PROFILES.join(", ")),
        )
        .and_then(|n| r.one_of(&n, PROFILES));
    let Some(kind) = kind else {
        f.skip_rest();
        return None;
    };
    let profile = match kind.value {
        "constant" => f
            .required(r, "rate", "set rate = \"100/s\"")
            .and_then(|n| r.rate(&n))
            .map(|rate| RateProfile::Constant { rate: rate.value }),
        "steps" | "ramp" => {
            let key = if kind.value == "steps" {
                "steps"
            } else {
                "points"
            };
            read_points(r, &mut f, key).map(|points| {
                if kind.value == "steps" {
                    RateProfile::Steps { steps: points }
                } else {
                    RateProfile::Ramp { points }
                }
            })
        }
        "spike" => read_spike(r, &mut f, None),
        _ => read_diurnal(r, &mut f),
    };
    f.finish(r);
    profile
}

fn read_points(
    r: &mut Reader<'_>,
    f: &mut Fields<'_, '_>,
    key: &'static str,
) -> Option<Vec<(SimTime, f64)>> {
    let node = f.required(
        r,
        key,
        &format!("list the points, such as {key} = [{{ at = \"0s\", rate = \"10/s\" }}, {{ at = \"5m\", rate = \"50/s\" }}]"),
    )?;
    let items = r.array(&node, "an array of { at, rate } tables")?;
    if items.is_empty() {
        r.error_at(
            node.path().to_string(),
            Some(node.span()),
            format!("{key} is empty"),
            Some("give at least one point".into()),
        );
        return None;
    }
    let mut points = Vec::new();
    let mut ok = true;
    for item in items {
        let Some(mut p) = r.table(item, "a table { at = \"5m\", rate = \"50/s\" }") else {
            ok = false;
            continue;
        };
        let at = p
            .required(r, "at", "set at = \"5m\"")
            .and_then(|n| r.duration(&n));
        let rate = p
            .required(r, "rate", "set rate = \"50/s\"")
            .and_then(|n| r.rate(&n));
        if let (Some(at), Some(rate)) = (at, rate) {
            if let Some((last, _)) = points.last() {
                if SimTime::ZERO + at.value <= *last {
                    r.error(
                        &at,
                        "points must be in increasing time order",
                        Some("sort the points by `at`, without repeats".into()),
                    );
                    ok = false;
                }
            } else if key == "steps" && !at.value.is_zero() {
                r.error(
                    &at,
                    "the first step must be at \"0s\"",
                    Some("start the steps with at = \"0s\"".into()),
                );
                ok = false;
            }
            points.push((SimTime::ZERO + at.value, rate.value));
        } else {
            ok = false;
        }
        p.finish(r);
    }
    ok.then_some(points)
}

/// `[traffic] spikes = [{ multiplier, start, ramp_up, hold, decay, decay_shape }, ...]`: spikes
/// multiplying whatever profile the traffic has, each a spike factor of baseline 1.
fn read_spikes(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Vec<RateProfile>> {
    let items = r.array(
        &node,
        "an array of spikes such as [{ multiplier = 100, start = \"2h\", hold = \"10m\" }]",
    )?;
    let mut spikes = Vec::new();
    let mut ok = true;
    for item in items {
        let Some(mut f) = r.table(
            item,
            "a spike table such as { multiplier = 100, start = \"2h\", hold = \"10m\" }",
        ) else {
            ok = false;
            continue;
        };
        match read_spike(r, &mut f, Some(1.0)) {
            Some(spike) => spikes.push(spike),
            None => ok = false,
        }
        f.finish(r);
    }
    ok.then_some(spikes)
}

/// A spike profile; with `baseline` given (a spike factor on top of another profile) the table
/// has no `baseline` key.
fn read_spike(
    r: &mut Reader<'_>,
    f: &mut Fields<'_, '_>,
    baseline: Option<f64>,
) -> Option<RateProfile> {
    let baseline = match baseline {
        Some(value) => Some(Located {
            value,
            path: String::new(),
            span: Default::default(),
        }),
        None => f
            .required(r, "baseline", "set baseline = \"50/s\"")
            .and_then(|n| r.rate(&n)),
    };
    let multiplier = f
        .required(
            r,
            "multiplier",
            "set the peak as a multiple of the baseline, such as multiplier = 100",
        )
        .and_then(|n| r.positive(&n, true));
    let start = f
        .required(
            r,
            "start",
            "set when the spike begins, such as start = \"10m\"",
        )
        .and_then(|n| r.duration(&n));
    let ramp_up = f.get("ramp_up").and_then(|n| r.duration(&n));
    let hold = f
        .required(
            r,
            "hold",
            "set how long the peak lasts, such as hold = \"3m\"",
        )
        .and_then(|n| r.duration(&n));
    let decay = f.get("decay").and_then(|n| r.duration(&n));
    let decay_shape = f
        .get("decay_shape")
        .and_then(|n| r.one_of(&n, &["linear", "exponential"]));
    if let (Some(b), Some(m)) = (&baseline, &multiplier) {
        if b.value * m.value > super::units::MAX_RATE_PER_SECOND {
            r.error(
                m,
                format!(
                    "the peak rate {} /s is above {:e} /s",
                    b.value * m.value,
                    super::units::MAX_RATE_PER_SECOND
                ),
                Some("lower the baseline or the multiplier".into()),
            );
            return None;
        }
    }
    let decay_value = decay.as_ref().map_or(SimDuration::ZERO, |d| d.value);
    let shape = match decay_shape.as_ref().map(|s| s.value) {
        Some("exponential") => DecayShape::Exponential,
        _ => DecayShape::Linear,
    };
    if shape == DecayShape::Exponential && decay_value.is_zero() {
        if let Some(s) = &decay_shape {
            r.error(
                s,
                "an exponential decay needs a decay time greater than 0",
                Some("set decay = \"5m\"".into()),
            );
            return None;
        }
    }
    Some(RateProfile::Spike {
        baseline: baseline?.value,
        multiplier: multiplier?.value,
        start: SimTime::ZERO + start?.value,
        ramp_up: ramp_up.map_or(SimDuration::ZERO, |d| d.value),
        hold: hold?.value,
        decay: decay_value,
        decay_shape: shape,
    })
}

fn read_diurnal(r: &mut Reader<'_>, f: &mut Fields<'_, '_>) -> Option<RateProfile> {
    let mean = f
        .required(r, "mean", "set the mean rate, such as mean = \"100/s\"")
        .and_then(|n| r.rate(&n));
    let amplitude = f
        .required(
            r,
            "amplitude",
            "set the relative swing from 0 to 1, such as amplitude = 0.6",
        )
        .and_then(|n| r.positive(&n, false));
    let period = f.get("period").and_then(|n| r.duration(&n));
    let peak_at = f
        .required(
            r,
            "peak_at",
            "set the time of the daily peak, such as peak_at = \"14h\"",
        )
        .and_then(|n| r.duration(&n));
    if let Some(a) = &amplitude {
        if a.value > 1.0 {
            r.error(
                a,
                format!(
                    "amplitude {} is above 1: the rate would go negative",
                    a.value
                ),
                Some("use a value from 0 to 1".into()),
            );
            return None;
        }
    }
    let period = match period {
        Some(p) if p.value.is_zero() => {
            r.error(
                &p,
                "the period must be longer than 0s",
                Some("use period = \"24h\" for a daily cycle".into()),
            );
            return None;
        }
        Some(p) => p.value,
        None => SimDuration::from_secs(86_400),
    };
    Some(RateProfile::Diurnal {
        mean: mean?.value,
        amplitude: amplitude?.value,
        period,
        peak_at: peak_at?.value,
    })
}
