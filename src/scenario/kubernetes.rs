//! The Kubernetes controllers of `[pool.autoscaling]`: an HPA (`hpa`) and a KEDA
//! ScaledObject (`keda`), with the HPA `behavior` both share, read with the API server's and
//! KEDA's admission rules.
//!
//! Sources: kubernetes/kubernetes `pkg/apis/autoscaling/validation/validation.go`
//! (`validateScalingRules`: at least one policy, `periodSeconds` in 1..=1800,
//! `stabilizationWindowSeconds` in 0..=3600; metric targets "must be positive") and
//! `pkg/apis/autoscaling/v2/defaults.go` (an empty `metrics` list is 80 % CPU; a missing
//! behavior direction takes its defaults); kedacore/keda
//! `apis/keda/v1alpha1/scaledobject_types.go` (`CheckReplicaCountBoundsAreValid`:
//! `idleReplicaCount` must be below the HPA's minimum, `minReplicaCount` or 1 if that is 0)
//! and the ScaledObject specification's defaults (<https://keda.sh/docs/latest/reference/scaledobject-spec/>).
//!
//! It must not know the AWS policies nor the pool.

use super::autoscaling::{check_timing, read_metric, read_timing, require_pool_metric, Timing};
use super::lifecycle::MAX_INSTANCES;
use super::raw::locate_node;
use super::reader::{Fields, Located, Node, Reader};
use crate::engine::SimDuration;
use crate::model::autoscale::hpa::{Tolerances, DEFAULT_DOWNSCALE_STABILIZATION};
use crate::model::autoscale::hpa_behavior::{
    HpaBehavior, ScalingPolicy, ScalingRules, SelectPolicy,
};
use crate::model::autoscale::keda::{KedaConfig, MetricTargetType};
use crate::model::autoscale::spec::{
    HpaController, HpaMetric, KedaController, KedaTrigger, MetricKind,
};

/// `--horizontal-pod-autoscaler-sync-period`'s default.
const DEFAULT_SYNC_PERIOD: SimDuration = SimDuration::from_secs(15);

/// `MaxStabilizationWindowSeconds` in validation.go.
const MAX_STABILIZATION_WINDOW: SimDuration = SimDuration::from_secs(3600);

/// `MaxPeriodSeconds` in validation.go.
const MAX_POLICY_PERIOD: SimDuration = SimDuration::from_secs(1800);

/// `--horizontal-pod-autoscaler-sync-period`, a controller flag: at least a second (the
/// controller's loop is not meant to spin faster; fleetsim would wake at every period).
const SYNC_PERIOD: Timing = Timing::seconds(
    1,
    None,
    " (kube-controller-manager --horizontal-pod-autoscaler-sync-period, default 15s)",
);

/// How often metrics are scraped: at least a second (metrics-server's `--metric-resolution`
/// defaults to 15 s; a Prometheus `scrape_interval` to 1 m, 15 s and 30 s being common).
const SCRAPE_INTERVAL: Timing = Timing::seconds(
    1,
    None,
    " (metrics-server --metric-resolution, default 15s, or a Prometheus scrape_interval)",
);

/// KEDA's `pollingInterval`: whole seconds (an `int32` of seconds), at least one.
const POLLING_INTERVAL: Timing =
    Timing::seconds(1, None, " (KEDA pollingInterval, in seconds; default 30)");

/// KEDA's `cooldownPeriod` and `initialCooldownPeriod`: whole seconds, 0 or more.
const KEDA_COOLDOWN: Timing = Timing::seconds(0, None, " (KEDA, in seconds)");

/// The HPA's default metric when `spec.metrics` is empty: 80 % CPU (defaults.go).
const DEFAULT_UTILIZATION: u32 = 80;

/// `[pool.autoscaling.hpa]`.
pub(super) fn read_hpa(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<HpaController> {
    let mut f = r.table(
        node,
        "an HPA table such as [pool.autoscaling.hpa] metrics = [{ type = \"resource\", average_utilization = 60 }]",
    )?;
    let sync_period = read_timing(r, &mut f, "sync_period", DEFAULT_SYNC_PERIOD, SYNC_PERIOD);
    let scrape_interval = read_timing(
        r,
        &mut f,
        "scrape_interval",
        SimDuration::from_secs(15),
        SCRAPE_INTERVAL,
    );
    let tolerance = match f.get("tolerance").map(|n| r.number(&n)) {
        None => Some(0.1),
        Some(None) => None,
        Some(Some(t)) if !(0.0..1.0).contains(&t.value) => {
            r.error(
                &t,
                format!("tolerance is from 0 up to (not including) 1, found {}", t.value),
                Some("such as tolerance = 0.1 (the controller's default): no change while the usage ratio is within 1 ± tolerance".into()),
            );
            None
        }
        Some(Some(t)) => Some(t.value),
    };
    let metrics = match f.get("metrics") {
        None => Some(Vec::new()),
        Some(n) => read_hpa_metrics(r, n),
    };
    let behavior = f.get("behavior").map(|n| read_behavior(r, n));
    f.finish(r);
    let mut metrics = metrics?;
    if metrics.is_empty() {
        metrics.push(HpaMetric::Resource {
            average_utilization: DEFAULT_UTILIZATION,
        });
    }
    let tolerance = tolerance?;
    Some(HpaController {
        sync_period: sync_period?,
        scrape_interval: scrape_interval?,
        metrics,
        behavior: match behavior {
            None => None,
            Some(b) => Some(b?),
        },
        tolerances: Tolerances {
            scale_down: tolerance,
            scale_up: tolerance,
        },
    })
}

fn read_hpa_metrics(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Vec<HpaMetric>> {
    let items = r.array(
        &node,
        "an array of metrics such as [{ type = \"resource\", average_utilization = 60 }]",
    )?;
    let mut ok = true;
    let mut metrics = Vec::new();
    for item in items {
        match read_hpa_metric(r, item) {
            Some(m) => metrics.push(m),
            None => ok = false,
        }
    }
    ok.then_some(metrics)
}

/// One `spec.metrics[]` entry: `resource` (utilization), `pods` (a per-instance metric) or
/// `external` (a pool-level metric).
fn read_hpa_metric(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<HpaMetric> {
    let mut f = r.table(
        node,
        "a metric table such as { type = \"resource\", average_utilization = 60 }",
    )?;
    let kind = f
        .required(r, "type", "choose resource, pods or external")
        .and_then(|n| r.one_of(&n, &["resource", "pods", "external"]));
    let Some(kind) = kind else {
        f.skip_rest();
        return None;
    };
    let metric = match kind.value {
        "resource" => f
            .required(
                r,
                "average_utilization",
                "set the target utilization in percent, such as average_utilization = 60",
            )
            .and_then(|n| r.integer(&n, 1, 100))
            .map(|u| HpaMetric::Resource {
                average_utilization: u.value as u32,
            }),
        "pods" => {
            let metric = read_metric(r, &mut f, "in_flight");
            let value = f
                .required(
                    r,
                    "average_value",
                    "set the target per pod, such as average_value = 4",
                )
                .and_then(|n| r.positive(&n, true));
            let metric = metric.filter(|m| {
                let per_instance = m.value.is_per_instance();
                if !per_instance {
                    r.error(
                        m,
                        format!("{} is measured on the pool, not on each pod", m.value.name()),
                        Some(format!(
                            "a pods metric reads utilization or in_flight; read {0} as {{ type = \"external\", metric = \"{0}\", average_value = ... }}",
                            m.value.name()
                        )),
                    );
                }
                per_instance
            });
            metric.zip(value).map(|(m, v)| HpaMetric::Pods {
                metric: m.value,
                average_value: v.value,
            })
        }
        _ => {
            let metric = read_metric(r, &mut f, "queue_depth")
                .filter(|m| require_pool_metric(r, m, "an external metric"));
            let average = f.get("average_value").map(|n| r.positive(&n, true));
            let value = f.get("value").map(|n| r.positive(&n, true));
            let at = kind.clone();
            let target = match (average, value) {
                (Some(a), None) => a.map(|a| (a.value, MetricTargetType::AverageValue)),
                (None, Some(v)) => v.map(|v| (v.value, MetricTargetType::Value)),
                (Some(_), Some(v)) => {
                    if let Some(v) = v {
                        r.error(
                            &v,
                            "an external metric has a target average_value or value, not both",
                            Some(
                                "keep average_value (divided by the replicas) or value (the total)"
                                    .into(),
                            ),
                        );
                    }
                    None
                }
                (None, None) => {
                    r.error(
                        &at,
                        "this external metric has no target",
                        Some(
                            "add average_value = 5 (per replica) or value = 100 (in total)".into(),
                        ),
                    );
                    None
                }
            };
            metric
                .zip(target)
                .map(|(m, (target, target_type))| HpaMetric::External {
                    metric: m.value,
                    target,
                    target_type,
                })
        }
    };
    f.finish(r);
    metric
}

/// `behavior = { scale_up = { ... }, scale_down = { ... } }`: a direction left out takes the
/// Kubernetes defaults.
fn read_behavior(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<HpaBehavior> {
    let mut f = r.table(
        node,
        "a behavior table such as { scale_down = { stabilization_window = \"300s\" } }",
    )?;
    let up = f
        .get("scale_up")
        .map(|n| read_rules(r, n, ScalingRules::k8s_default_scale_up()));
    let down = f
        .get("scale_down")
        .map(|n| read_rules(r, n, ScalingRules::k8s_default_scale_down()));
    f.finish(r);
    Some(HpaBehavior {
        scale_up: up.unwrap_or_else(|| Some(ScalingRules::k8s_default_scale_up()))?,
        scale_down: down.unwrap_or_else(|| Some(ScalingRules::k8s_default_scale_down()))?,
    })
}

/// One direction's `HPAScalingRules`; each key left out takes its value from `default`.
fn read_rules(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    default: ScalingRules,
) -> Option<ScalingRules> {
    let mut f = r.table(
        node,
        "a scaling rules table such as { stabilization_window = \"60s\", policies = [{ type = \"pods\", value = 4, period = \"60s\" }] }",
    )?;
    let window = match f.get("stabilization_window").map(|n| r.duration(&n)) {
        None => Some(default.stabilization_window),
        Some(None) => None,
        Some(Some(w)) if w.value > MAX_STABILIZATION_WINDOW => {
            r.error(
                &w,
                format!(
                    "stabilization_window is at most 3600s in Kubernetes, found {}",
                    w.value
                ),
                Some("such as stabilization_window = \"300s\"".into()),
            );
            None
        }
        Some(Some(w)) => check_timing(
            r,
            &w,
            "stabilization_window",
            Some(
                default
                    .stabilization_window
                    .unwrap_or(DEFAULT_DOWNSCALE_STABILIZATION),
            ),
            Timing {
                least: SimDuration::ZERO,
                most: Some(MAX_STABILIZATION_WINDOW),
                source: " (Kubernetes stabilizationWindowSeconds)",
            },
        )
        .then_some(Some(w.value)),
    };
    let select = match f
        .get("select_policy")
        .map(|n| r.one_of(&n, &["max", "min", "disabled"]))
    {
        None => Some(default.select_policy),
        Some(s) => s.map(|s| match s.value {
            "min" => SelectPolicy::Min,
            "disabled" => SelectPolicy::Disabled,
            _ => SelectPolicy::Max,
        }),
    };
    let policies = match f.get("policies") {
        None => Some(default.policies),
        Some(n) => read_scaling_policies(r, n),
    };
    f.finish(r);
    Some(ScalingRules {
        stabilization_window: window?,
        select_policy: select?,
        policies: policies?,
    })
}

fn read_scaling_policies(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Vec<ScalingPolicy>> {
    let at = locate_node(&node);
    let items = r.array(
        &node,
        "an array of policies such as [{ type = \"pods\", value = 4, period = \"60s\" }]",
    )?;
    if items.is_empty() {
        r.error(
            &at,
            "policies is empty, and Kubernetes requires at least one",
            Some("leave policies out for the Kubernetes defaults, or add { type = \"percent\", value = 100, period = \"15s\" }".into()),
        );
        return None;
    }
    let mut ok = true;
    let mut policies = Vec::new();
    for item in items {
        let Some(mut f) = r.table(
            item,
            "a policy such as { type = \"pods\", value = 4, period = \"60s\" }",
        ) else {
            ok = false;
            continue;
        };
        let kind = f
            .required(r, "type", "choose pods or percent")
            .and_then(|n| r.one_of(&n, &["pods", "percent"]));
        let value = f
            .required(
                r,
                "value",
                "set how many pods (or percent) per period, such as value = 4",
            )
            .and_then(|n| r.integer(&n, 1, i64::from(i32::MAX)));
        let period = f
            .required(r, "period", "set the period, such as period = \"60s\"")
            .and_then(|n| r.duration(&n))
            .filter(|p| {
                let inside = p.value >= SimDuration::from_secs(1) && p.value <= MAX_POLICY_PERIOD;
                if !inside {
                    r.error(
                        p,
                        format!(
                            "a policy's period is from 1s to 1800s in Kubernetes, found {}",
                            p.value
                        ),
                        Some("such as period = \"60s\"".into()),
                    );
                    return false;
                }
                check_timing(
                    r,
                    p,
                    "period",
                    Some(SimDuration::from_secs(60)),
                    Timing {
                        least: SimDuration::from_secs(1),
                        most: Some(MAX_POLICY_PERIOD),
                        source: " (Kubernetes periodSeconds)",
                    },
                )
            });
        f.finish(r);
        match (kind, value, period) {
            (Some(k), Some(v), Some(p)) => policies.push(if k.value == "pods" {
                ScalingPolicy::pods(v.value as u32, p.value)
            } else {
                ScalingPolicy::percent(v.value as u32, p.value)
            }),
            _ => ok = false,
        }
    }
    ok.then_some(policies)
}

/// `[pool.autoscaling.keda]`; its min and max are the group's `bounds` (`None`: broken,
/// reported).
pub(super) fn read_keda(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    bounds: Option<(u32, u32)>,
) -> Option<KedaController> {
    let mut f = r.table(
        node,
        "a KEDA table such as [pool.autoscaling.keda] triggers = [{ metric = \"queue_depth\", target = 5 }]",
    )?;
    let defaults = KedaConfig::default();
    let polling = read_timing(
        r,
        &mut f,
        "polling_interval",
        defaults.polling_interval,
        POLLING_INTERVAL,
    );
    let cooldown = read_timing(
        r,
        &mut f,
        "cooldown_period",
        defaults.cooldown_period,
        KEDA_COOLDOWN,
    );
    let initial = read_timing(
        r,
        &mut f,
        "initial_cooldown_period",
        defaults.initial_cooldown_period,
        KEDA_COOLDOWN,
    );
    let idle = f
        .get("idle_replica_count")
        .map(|n| r.integer(&n, 0, MAX_INSTANCES));
    let sync_period = read_timing(r, &mut f, "sync_period", DEFAULT_SYNC_PERIOD, SYNC_PERIOD);
    let triggers = f
        .required(
            r,
            "triggers",
            "add a trigger, such as triggers = [{ metric = \"queue_depth\", target = 5 }]",
        )
        .and_then(|n| read_triggers(r, n));
    let behavior = f.get("behavior").map(|n| read_behavior(r, n));
    f.finish(r);
    let idle = match idle {
        None => Some(None),
        Some(None) => None,
        Some(Some(i)) => check_idle(r, &i, bounds).then_some(Some(i.value as u32)),
    };
    let (min, max) = bounds?;
    Some(KedaController {
        config: KedaConfig {
            polling_interval: polling?,
            cooldown_period: cooldown?,
            initial_cooldown_period: initial?,
            min_replica_count: min,
            max_replica_count: max,
            idle_replica_count: idle?,
        },
        triggers: triggers?,
        sync_period: sync_period?,
        behavior: match behavior {
            None => None,
            Some(b) => Some(b?),
        },
    })
}

/// KEDA's webhook: `idleReplicaCount` must be below the HPA's minimum (`minReplicaCount`, or
/// 1 when that is 0). And KEDA's documentation (ScaledObject specification, `idleReplicaCount`):
/// "Due to limitations in HPA controller the only supported value for this property is 0, it
/// will not work correctly otherwise" (kedacore/keda#2314: an idle count above 0 is below the
/// HPA's `minReplicas`, which the HPA restores at its next sync).
fn check_idle(r: &mut Reader<'_>, idle: &Located<u64>, bounds: Option<(u32, u32)>) -> bool {
    let Some((min, _)) = bounds else {
        return true;
    };
    let hpa_min = u64::from(min.max(1));
    if idle.value >= hpa_min {
        r.error(
            idle,
            format!(
                "idle_replica_count ({}) must be below min ({min}{}), as KEDA requires",
                idle.value,
                if min == 0 { ", counted as 1" } else { "" }
            ),
            Some("lower idle_replica_count (KEDA supports 0), or raise min".into()),
        );
        return false;
    }
    if idle.value != 0 {
        r.error(
            idle,
            format!(
                "idle_replica_count is {}, and KEDA supports only 0: the HPA it creates would \
                 bring the pool back to min ({min}) at its next sync",
                idle.value
            ),
            Some(
                "set idle_replica_count = 0, or leave it out and keep the pool at min while \
                 idle (KEDA docs: \"the only supported value for this property is 0\")"
                    .into(),
            ),
        );
        return false;
    }
    true
}

/// The KEDA scalers a `queue_depth` trigger can imitate, with how each counts its queue by
/// default. The default is `aws-sqs-queue`.
const QUEUE_SCALERS: &[&str] = &["aws-sqs-queue", "rabbitmq", "redis"];

/// Which messages a `queue_depth` trigger counts: its `scaler` (KEDA's `triggers[].type`) and
/// that scaler's own options, read as KEDA reads them. True when the messages being processed
/// count too; `None` when broken (reported).
///
/// - `aws-sqs-queue` (`pkg/scalers/aws_sqs_queue_scaler.go`): `ApproximateNumberOfMessages`,
///   plus `ApproximateNumberOfMessagesNotVisible` (received, not yet deleted) while
///   `scaleOnInFlight` is true, its default.
/// - `rabbitmq` (`pkg/scalers/rabbitmq_scaler.go`, `getQueueStatus`): over AMQP the passive
///   queue declare's message count (ready messages only); over HTTP the management API's
///   `messages` (ready and unacknowledged), or `messages_ready` with `excludeUnacknowledged`
///   (HTTP only). KEDA's `protocol: auto` follows the host's scheme, so fleetsim asks for it.
/// - `redis` (`pkg/scalers/redis_scaler.go`, a list's length): a worker pops what it takes,
///   so only waiting messages count.
fn read_queue_scaler(
    r: &mut Reader<'_>,
    f: &mut Fields<'_, '_>,
    metric: Option<&Located<MetricKind>>,
) -> Option<bool> {
    let scaler = f.get("scaler").map(|n| r.one_of(&n, QUEUE_SCALERS));
    let in_flight = f.get("scale_on_in_flight").map(|n| r.boolean(&n));
    let protocol = f.get("protocol").map(|n| r.one_of(&n, &["amqp", "http"]));
    let exclude = f.get("exclude_unacknowledged").map(|n| r.boolean(&n));
    // Each option belongs to one scaler: (key, its scaler, where it is written).
    let options: [(&str, &str, Option<Located<()>>); 3] = [
        ("scale_on_in_flight", "aws-sqs-queue", at(&in_flight)),
        ("protocol", "rabbitmq", at(&protocol)),
        ("exclude_unacknowledged", "rabbitmq", at(&exclude)),
    ];
    let scaler = match scaler {
        None => None,
        Some(None) => return None,
        Some(Some(s)) => Some(s),
    };
    let queue = metric.is_some_and(|m| m.value == MetricKind::QueueDepth);
    if let (Some(s), Some(m)) = (&scaler, metric.filter(|_| !queue)) {
        r.error(
            s,
            format!(
                "scaler applies to a queue_depth trigger, and this one reads {}",
                m.value.name()
            ),
            Some("remove scaler, or read metric = \"queue_depth\"".into()),
        );
        return None;
    }
    let name = scaler.as_ref().map_or("aws-sqs-queue", |s| s.value);
    let mut ok = true;
    for (key, owner, written) in &options {
        if let Some(w) = written.as_ref().filter(|_| *owner != name || !queue) {
            let why = if queue {
                format!("{key} is an option of the {owner} scaler, and this trigger's is {name}")
            } else {
                format!("{key} is an option of a queue_depth trigger's scaler")
            };
            r.error(
                w,
                why,
                Some(format!(
                    "remove {key}, or set scaler = \"{owner}\" on a queue_depth trigger"
                )),
            );
            ok = false;
        }
    }
    let (in_flight, protocol, exclude) =
        (flatten(in_flight)?, flatten(protocol)?, flatten(exclude)?);
    if !ok || !queue {
        return ok.then_some(false);
    }
    match name {
        "aws-sqs-queue" => Some(in_flight.is_none_or(|v| v.value)),
        "redis" => Some(false),
        _ => match (protocol, exclude) {
            (None, _) => {
                let s = scaler.expect("rabbitmq is named");
                r.error(
                    &s,
                    "a rabbitmq trigger needs its protocol, which decides what the queue length counts",
                    Some(
                        "add protocol = \"amqp\" (ready messages only) or protocol = \"http\" \
                         (the management API: ready and unacknowledged); KEDA picks it from the \
                         host's scheme"
                            .into(),
                    ),
                );
                None
            }
            (Some(p), Some(e)) if p.value == "amqp" => {
                r.error(
                    &e,
                    "exclude_unacknowledged needs protocol = \"http\": over AMQP only ready \
                     messages are counted anyway",
                    Some("remove exclude_unacknowledged, or use protocol = \"http\" (KEDA: \"configure excludeUnacknowledged=true only with HTTP protocol\")".into()),
                );
                None
            }
            (Some(p), e) => Some(p.value == "http" && !e.is_some_and(|e| e.value)),
        },
    }
}

/// Where an optional key was written, if it was (read or not).
fn at<T>(v: &Option<Option<Located<T>>>) -> Option<Located<()>> {
    v.as_ref().and_then(|v| v.as_ref()).map(|l| Located {
        value: (),
        path: l.path.clone(),
        span: l.span,
    })
}

/// An optional key: `Some(None)` when absent, `None` when broken.
fn flatten<T>(v: Option<Option<T>>) -> Option<Option<T>> {
    match v {
        None => Some(None),
        Some(None) => None,
        Some(Some(x)) => Some(Some(x)),
    }
}

fn read_triggers(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Vec<KedaTrigger>> {
    let at = locate_node(&node);
    let items = r.array(
        &node,
        "an array of triggers such as [{ metric = \"queue_depth\", target = 5 }]",
    )?;
    if items.is_empty() {
        r.error(
            &at,
            "KEDA needs at least one trigger",
            Some("add one, such as triggers = [{ metric = \"queue_depth\", target = 5 }]".into()),
        );
        return None;
    }
    let mut ok = true;
    let mut triggers = Vec::new();
    for item in items {
        let Some(mut f) = r.table(
            item,
            "a trigger such as { metric = \"queue_depth\", target = 5 }",
        ) else {
            ok = false;
            continue;
        };
        let metric = read_metric(r, &mut f, "queue_depth")
            .filter(|m| require_pool_metric(r, m, "a KEDA trigger"));
        let in_flight = read_queue_scaler(r, &mut f, metric.as_ref());
        let target = f
            .required(
                r,
                "target",
                "set the target, such as target = 5 (per replica)",
            )
            .and_then(|n| r.positive(&n, true));
        let activation = f
            .get("activation")
            .map_or(Some(0.0), |n| r.positive(&n, false).map(|a| a.value));
        let metric_type = match f
            .get("metric_type")
            .map(|n| r.one_of(&n, &["average_value", "value"]))
        {
            None => Some(MetricTargetType::AverageValue),
            Some(t) => t.map(|t| match t.value {
                "value" => MetricTargetType::Value,
                _ => MetricTargetType::AverageValue,
            }),
        };
        f.finish(r);
        match (metric, target, activation, metric_type, in_flight) {
            (Some(m), Some(t), Some(a), Some(mt), Some(i)) => triggers.push(KedaTrigger {
                metric: m.value,
                target: t.value,
                activation: a,
                target_type: mt,
                counts_in_flight: i,
            }),
            _ => ok = false,
        }
    }
    ok.then_some(triggers)
}
