//! `[pool.autoscaling.hpa]`: a Kubernetes HorizontalPodAutoscaler, its metrics and timing.

use super::behavior::read_behavior;
use crate::model::autoscale::hpa::Tolerances;
use crate::model::autoscale::keda::MetricTargetType;
use crate::model::autoscale::spec::{HpaController, HpaMetric};
use crate::scenario::autoscaling::scaling_keys::{
    read_metric, read_timing, require_pool_metric, Timing,
};
use crate::scenario::reader::keys::{Key, OneOf, Positive, Whole};
use crate::scenario::reader::{Fields, Located, Node, Reader};
use crate::time::SimDuration;

/// `--horizontal-pod-autoscaler-sync-period`'s default.
pub const DEFAULT_SYNC_PERIOD: SimDuration = SimDuration::from_secs(15);

/// `--horizontal-pod-autoscaler-sync-period`, a controller flag: at least a second (the
/// controller's loop is not meant to spin faster; fleetsim would wake at every period).
pub const SYNC_PERIOD: Timing = Timing::seconds(
    1,
    None,
    " (kube-controller-manager --horizontal-pod-autoscaler-sync-period, default 15s)",
);

/// How often metrics are scraped: at least a second (metrics-server's `--metric-resolution`
/// defaults to 15 s; a Prometheus `scrape_interval` to 1 m, 15 s and 30 s being common).
pub const SCRAPE_INTERVAL: Timing = Timing::seconds(
    1,
    None,
    " (metrics-server --metric-resolution, default 15s, or a Prometheus scrape_interval)",
);

/// The HPA's default metric when `spec.metrics` is empty: 80 % CPU (defaults.go).
pub const DEFAULT_UTILIZATION: u32 = 80;

/// `[pool.autoscaling.hpa]`.
pub fn read_hpa(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<HpaController> {
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

pub fn read_hpa_metrics(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Vec<HpaMetric>> {
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

/// A `spec.metrics[]` entry's keys.
const METRIC_TYPE: Key<OneOf> = Key::required(
    "type",
    OneOf(&["resource", "pods", "external"]),
    "choose resource, pods or external",
);
const AVERAGE_UTILIZATION: Key<Whole> = Key::required(
    "average_utilization",
    Whole(1, 100),
    "set the target utilization in percent, such as average_utilization = 60",
);
const POD_AVERAGE_VALUE: Key<Positive> = Key::required(
    "average_value",
    Positive,
    "set the target per pod, such as average_value = 4",
);
const EXTERNAL_AVERAGE_VALUE: Key<Positive> = Key::optional("average_value", Positive);
const EXTERNAL_VALUE: Key<Positive> = Key::optional("value", Positive);

/// One `spec.metrics[]` entry: `resource` (utilization), `pods` (a per-instance metric) or
/// `external` (a pool-level metric).
pub fn read_hpa_metric(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<HpaMetric> {
    let mut f = r.table(
        node,
        "a metric table such as { type = \"resource\", average_utilization = 60 }",
    )?;
    let Some(kind) = f.read(r, &METRIC_TYPE) else {
        f.skip_rest();
        return None;
    };
    let metric = match kind.value {
        "resource" => f
            .read(r, &AVERAGE_UTILIZATION)
            .map(|u| HpaMetric::Resource {
                average_utilization: u.value as u32,
            }),
        "pods" => read_pods_metric(r, &mut f),
        _ => read_external_metric(r, &mut f, &kind.at()),
    };
    f.finish(r);
    metric
}

/// A `pods` metric: a per-instance metric and its target per pod.
fn read_pods_metric(r: &mut Reader<'_>, f: &mut Fields<'_, '_>) -> Option<HpaMetric> {
    let metric = read_metric(r, f, "in_flight");
    let value = f.read(r, &POD_AVERAGE_VALUE);
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

/// An `external` metric (its `type` at `at`): a pool metric and one target, `average_value`
/// (per replica) or `value` (in total).
fn read_external_metric(
    r: &mut Reader<'_>,
    f: &mut Fields<'_, '_>,
    at: &Located<()>,
) -> Option<HpaMetric> {
    let metric = read_metric(r, f, "queue_depth")
        .filter(|m| require_pool_metric(r, m, "an external metric"));
    let average = f.read_given(r, &EXTERNAL_AVERAGE_VALUE);
    let value = f.read_given(r, &EXTERNAL_VALUE);
    let target = match (average, value) {
        (Some(a), None) => a.map(|a| (a.value, MetricTargetType::AverageValue)),
        (None, Some(v)) => v.map(|v| (v.value, MetricTargetType::Value)),
        (Some(_), Some(v)) => {
            if let Some(v) = v {
                r.error(
                    &v,
                    "an external metric has a target average_value or value, not both",
                    Some(
                        "keep average_value (divided by the replicas) or value (the total)".into(),
                    ),
                );
            }
            None
        }
        (None, None) => {
            r.error(
                at,
                "this external metric has no target",
                Some("add average_value = 5 (per replica) or value = 100 (in total)".into()),
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
