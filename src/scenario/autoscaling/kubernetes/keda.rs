//! `[pool.autoscaling.keda]`: a KEDA ScaledObject, its triggers and the queue scalers they
//! imitate.

use super::behavior::read_behavior;
use super::hpa::{DEFAULT_SYNC_PERIOD, SYNC_PERIOD};
use crate::model::autoscale::keda::{KedaConfig, MetricTargetType};
use crate::model::autoscale::spec::{KedaController, KedaTrigger, MetricKind};
use crate::scenario::autoscaling::scaling_keys::{
    read_metric, read_timing, require_pool_metric, Timing,
};
use crate::scenario::lifecycle::MAX_INSTANCES;
use crate::scenario::reader::keys::{Flag, Key, OneOf};
use crate::scenario::reader::{Fields, Located, Node, Reader};

/// KEDA's `pollingInterval`: whole seconds (an `int32` of seconds), at least one.
pub const POLLING_INTERVAL: Timing =
    Timing::seconds(1, None, " (KEDA pollingInterval, in seconds; default 30)");

/// KEDA's `cooldownPeriod` and `initialCooldownPeriod`: whole seconds, 0 or more.
pub const KEDA_COOLDOWN: Timing = Timing::seconds(0, None, " (KEDA, in seconds)");

/// `[pool.autoscaling.keda]`; its min and max are the group's `bounds` (`None`: broken,
/// reported).
pub fn read_keda(
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
pub fn check_idle(r: &mut Reader<'_>, idle: &Located<u64>, bounds: Option<(u32, u32)>) -> bool {
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
pub const QUEUE_SCALERS: &[&str] = &["aws-sqs-queue", "rabbitmq", "redis"];

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
pub fn read_queue_scaler(
    r: &mut Reader<'_>,
    f: &mut Fields<'_, '_>,
    metric: Option<&Located<MetricKind>>,
) -> Option<bool> {
    let scaler = f.read_given(r, &SCALER);
    let in_flight = f.read_given(r, &SCALE_ON_IN_FLIGHT);
    let protocol = f.read_given(r, &PROTOCOL);
    let exclude = f.read_given(r, &EXCLUDE_UNACKNOWLEDGED);
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
    let ok = check_owners(r, &options, name, queue);
    let (in_flight, protocol, exclude) =
        (flatten(in_flight)?, flatten(protocol)?, flatten(exclude)?);
    if !ok || !queue {
        return ok.then_some(false);
    }
    match name {
        "aws-sqs-queue" => Some(in_flight.is_none_or(|v| v.value)),
        "redis" => Some(false),
        _ => rabbitmq_counts(r, scaler, protocol, exclude),
    }
}

/// Where an optional key was written, if it was (read or not).
pub fn at<T>(v: &Option<Option<Located<T>>>) -> Option<Located<()>> {
    v.as_ref().and_then(|v| v.as_ref()).map(|l| Located {
        value: (),
        path: l.path.clone(),
        span: l.span,
    })
}

/// An optional key: `Some(None)` when absent, `None` when broken.
pub fn flatten<T>(v: Option<Option<T>>) -> Option<Option<T>> {
    match v {
        None => Some(None),
        Some(None) => None,
        Some(Some(x)) => Some(Some(x)),
    }
}

pub fn read_triggers(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Vec<KedaTrigger>> {
    let at = node.at();
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

/// A `queue_depth` trigger's scaler options.
const SCALER: Key<OneOf> = Key::optional("scaler", OneOf(QUEUE_SCALERS));
const SCALE_ON_IN_FLIGHT: Key<Flag> = Key::optional("scale_on_in_flight", Flag);
const PROTOCOL: Key<OneOf> = Key::optional("protocol", OneOf(&["amqp", "http"]));
const EXCLUDE_UNACKNOWLEDGED: Key<Flag> = Key::optional("exclude_unacknowledged", Flag);

/// Each scaler option written (`options`: key, its scaler, where it is written) belongs to
/// the trigger's scaler, `name`, on a queue_depth trigger (`queue`); false if one does not
/// (reported).
fn check_owners(
    r: &mut Reader<'_>,
    options: &[(&str, &str, Option<Located<()>>)],
    name: &str,
    queue: bool,
) -> bool {
    let mut ok = true;
    for (key, owner, written) in options {
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
    ok
}

/// Whether a rabbitmq trigger counts unacknowledged messages: by its protocol (required) and,
/// over HTTP, `exclude_unacknowledged`; `None` if that cannot be told (reported).
fn rabbitmq_counts(
    r: &mut Reader<'_>,
    scaler: Option<Located<&'static str>>,
    protocol: Option<Located<&'static str>>,
    exclude: Option<Located<bool>>,
) -> Option<bool> {
    match (protocol, exclude) {
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
    }
}
