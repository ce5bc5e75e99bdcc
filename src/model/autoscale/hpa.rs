//! The Kubernetes Horizontal Pod Autoscaler (autoscaling/v2) as a pure decision: metric readings
//! and pod states in, a desired replica count and the reason out. It owns the replica calculation
//! for each metric target type, the "max over metrics" rule with its invalid-metric exception,
//! and the controller's memory (recommendation history and scale events), bounded by the longest
//! stabilization window / policy period. Behavior rules live in `hpa_behavior.rs`.
//!
//! Ported from kubernetes/kubernetes `pkg/controller/podautoscaler/replica_calculator.go`
//! (`GetResourceReplicas`, `calcPlainMetricReplicas`, `GetObjectMetricReplicas`,
//! `GetObjectPerPodMetricReplicas`, `GetExternalMetricReplicas`,
//! `GetExternalPerPodMetricReplicas`, `getUsageRatioReplicaCount`, `groupPods`,
//! `Tolerances.isWithin`), `metrics/utilization.go` (`GetResourceUtilizationRatio`,
//! `GetMetricUsageRatio`) and `horizontal.go` (`reconcileAutoscaler`,
//! `computeReplicasForMetrics`, `recordInitialRecommendation`, `storeScaleEvent`).
//! Metric values are milli-units (`MilliValue()`) as in the controller; the integer divisions
//! and float ratios are kept exactly, because they decide `ceil` at the edges.
//!
//! The 15 s sync period is the caller's: call [`Hpa::decide`] once per sync. It must not know
//! how pods boot or how the world applies the decision; it assumes the decision is applied
//! (it records the scale event, as the controller does after a successful scale update).

use std::collections::VecDeque;

use crate::time::{SimDuration, SimTime};

use super::hpa_behavior::{
    convert_with_behavior_rate, convert_with_rules, stabilize_legacy, stabilize_with_behavior,
    HpaBehavior, LimitReason, Recommendation, ScaleEvent,
};

/// The controller's default `--horizontal-pod-autoscaler-downscale-stabilization` (5 min),
/// used without `behavior` and when `behavior.scaleDown.stabilizationWindowSeconds` is unset.
pub const DEFAULT_DOWNSCALE_STABILIZATION: SimDuration = SimDuration::from_secs(300);

/// Usage-ratio tolerances (`Tolerances` in replica_calculator.go): no change while
/// `1 − scale_down ≤ ratio ≤ 1 + scale_up`. Both default to the controller's
/// `--horizontal-pod-autoscaler-tolerance` = 0.1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    /// Tolerance below 1.0.
    pub scale_down: f64,
    /// Tolerance above 1.0.
    pub scale_up: f64,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            scale_down: 0.1,
            scale_up: 0.1,
        }
    }
}

impl Tolerances {
    /// `isWithin`. Written as a two-sided interval, not `|1 − ratio| ≤ t`: with floats the two
    /// differ exactly at the edge (ratio 1.1 is within, `|1 − 1.1|` is 0.1000…09 > 0.1).
    pub fn is_within(self, ratio: f64) -> bool {
        (1.0 - self.scale_down) <= ratio && ratio <= (1.0 + self.scale_up)
    }
}

/// One entry of `spec.metrics` with its target. Values are milli-units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricSpec {
    /// Resource metric, target `averageUtilization` (% of the pods' requests).
    /// `cpu` turns on `groupPods`' CPU readiness rule ([`PodInfo::cpu_unready`]).
    ResourceUtilization {
        /// Target utilization, percent of request.
        target_percent: i32,
        /// Whether the resource is CPU.
        cpu: bool,
    },
    /// Resource metric with `averageValue`, or a Pods metric (custom, per pod) with
    /// `averageValue`: `calcPlainMetricReplicas`. `cpu` only for a CPU resource.
    PodsAverageValue {
        /// Target average per pod, milli-units.
        target_milli: i64,
        /// Whether the resource is CPU (false for Pods custom metrics).
        cpu: bool,
    },
    /// Object metric with target `value` (`GetObjectMetricReplicas`).
    ObjectValue {
        /// Target value, milli-units.
        target_milli: i64,
    },
    /// Object metric with target `averageValue` (`GetObjectPerPodMetricReplicas`).
    ObjectAverageValue {
        /// Target per replica, milli-units.
        target_milli: i64,
    },
    /// External metric with target `value` (`GetExternalMetricReplicas`).
    ExternalValue {
        /// Target value, milli-units.
        target_milli: i64,
    },
    /// External metric with target `averageValue` — e.g. queue depth per replica
    /// (`GetExternalPerPodMetricReplicas`).
    ExternalAverageValue {
        /// Target per replica, milli-units.
        target_milli: i64,
    },
}

/// A pod's phase as far as the HPA cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodPhase {
    /// Not running yet: counted as unready.
    Pending,
    /// Running.
    Running,
    /// Succeeded: treated like Running by `groupPods` (not by the ready-pod count).
    Succeeded,
    /// Failed: ignored.
    Failed,
}

/// One pod selected by the HPA. Readiness is given, not derived: the world knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodInfo {
    /// The pod phase.
    pub phase: PodPhase,
    /// Has a deletion timestamp: ignored like a failed pod.
    pub deleting: bool,
    /// The Ready condition is True (used by `getReadyPodsCount` for Object/External `Value`).
    pub ready: bool,
    /// Its CPU sample must not be trusted yet — the outcome of `groupPods`' CPU rule, which
    /// [`cpu_sample_unready`] computes from the CPU initialization period. Only consulted for
    /// CPU metrics.
    pub cpu_unready: bool,
    /// The resource request, milli-units (sum over containers); only for `ResourceUtilization`.
    pub request_milli: i64,
}

impl PodInfo {
    /// A running, ready pod with a trusted CPU sample and the given request.
    pub fn ready(request_milli: i64) -> Self {
        PodInfo {
            phase: PodPhase::Running,
            deleting: false,
            ready: true,
            cpu_unready: false,
            request_milli,
        }
    }
}

/// `groupPods`' CPU rule, given the pod's timeline (`None` for a missing Ready condition or start
/// time, which makes the sample untrusted). Within `cpu_initialization_period` (default 5 min in
/// the controller, 2 min in its tests) after start, the sample is ignored if the pod is unready
/// or no full metric window has passed since its last readiness transition; afterwards only if
/// it is unready and has never been ready (its transition came within
/// `delay_of_initial_readiness` — default 30 s — of its start).
#[allow(clippy::too_many_arguments)]
pub fn cpu_sample_unready(
    now: SimTime,
    started: Option<SimTime>,
    ready_condition: Option<(bool, SimTime)>,
    metric_timestamp: SimTime,
    metric_window: SimDuration,
    cpu_initialization_period: SimDuration,
    delay_of_initial_readiness: SimDuration,
) -> bool {
    let (Some(start), Some((is_ready, transition))) = (started, ready_condition) else {
        return true;
    };
    if start + cpu_initialization_period > now {
        !is_ready || metric_timestamp < transition + metric_window
    } else {
        !is_ready && start + delay_of_initial_readiness > transition
    }
}

/// What was read for one metric at this sync, in the order of `spec.metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricReading<'a> {
    /// One value per pod of [`HpaObservation::pods`] (same order), `None` when the metrics API
    /// returned nothing for that pod. For `ResourceUtilization` and `PodsAverageValue`.
    PerPod(&'a [Option<i64>]),
    /// The object's value. For `ObjectValue` and `ObjectAverageValue`.
    Object(i64),
    /// The external metric's series values (they are summed). For `External*`.
    External(&'a [i64]),
    /// Fetching it failed: the metric is invalid this sync.
    Unavailable,
}

/// Everything the HPA reads at one sync.
#[derive(Debug, Clone, Copy)]
pub struct HpaObservation<'a> {
    /// The pods matched by the selector.
    pub pods: &'a [PodInfo],
    /// One reading per `spec.metrics` entry.
    pub readings: &'a [MetricReading<'a>],
}

/// Why a metric gave no proposal (it then counts as invalid in `computeReplicasForMetrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HpaMetricError {
    /// "no pods returned by selector while calculating replica count".
    #[error("no pods returned by selector while calculating replica count")]
    NoPods,
    /// "did not receive metrics for targeted pods (pods might be unready)".
    #[error("did not receive metrics for targeted pods (pods might be unready)")]
    NoMetrics,
    /// "no metrics returned matched known pods" (requests sum to zero).
    #[error("no metrics returned matched known pods")]
    ZeroRequests,
    /// The reading does not fit the metric's target type, or is missing.
    #[error("the metric reading does not match the metric's target type")]
    WrongReading,
    /// The metric could not be fetched.
    #[error("unable to fetch the metric")]
    Unavailable,
}

/// A resource-utilization proposal, with the figures the controller puts in the HPA status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceProposal {
    /// Proposed replicas.
    pub replicas: i32,
    /// Current average utilization, percent of request (truncated), before any fill-in.
    pub utilization_percent: i32,
    /// Current average raw value per pod, milli-units (truncated).
    pub raw_average_milli: i64,
}

/// How `groupPods` sees one pod for one metric.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PodGroup {
    Ignored,
    Unready,
    Missing,
    Ready(i64),
}

fn group_pod(pod: &PodInfo, value: Option<i64>, cpu: bool) -> PodGroup {
    if pod.deleting || pod.phase == PodPhase::Failed {
        return PodGroup::Ignored;
    }
    if pod.phase == PodPhase::Pending {
        return PodGroup::Unready;
    }
    let Some(v) = value else {
        return PodGroup::Missing;
    };
    if cpu && pod.cpu_unready {
        return PodGroup::Unready;
    }
    PodGroup::Ready(v)
}

/// Sums for the utilization / average computations (the controller's metrics map, without the map).
#[derive(Clone, Copy, Default)]
struct Sums {
    metrics: i64,
    requests: i64,
    entries: i64,
}

fn utilization_ratio(s: Sums, target_percent: i32) -> Result<(f64, i32), HpaMetricError> {
    if s.requests == 0 {
        return Err(HpaMetricError::ZeroRequests);
    }
    let utilization = (s.metrics * 100 / s.requests) as i32;
    Ok((
        f64::from(utilization) / f64::from(target_percent),
        utilization,
    ))
}

fn usage_ratio(s: Sums, target: i64) -> (f64, i64) {
    let usage = s.metrics / s.entries;
    (usage as f64 / target as f64, usage)
}

/// `GetResourceReplicas`: replicas for a target average utilization over requests.
/// Unready pods (pending, or CPU samples not yet trusted) are left out; on a scale-up they are
/// put back at 0 %. Pods without metrics count as 0 % on a scale-up and as
/// `max(100 %, target)` of their request on a scale-down. After filling in, no change if the
/// ratio is within tolerance or flipped direction, or if the new count moves the other way.
pub fn resource_utilization_replicas(
    current: i32,
    target_percent: i32,
    cpu: bool,
    pods: &[PodInfo],
    values: &[Option<i64>],
    tolerances: Tolerances,
) -> Result<ResourceProposal, HpaMetricError> {
    if pods.is_empty() {
        return Err(HpaMetricError::NoPods);
    }
    let value_of = |i: usize| values.get(i).copied().flatten();
    let mut sums = Sums::default();
    let (mut ready, mut unready, mut missing) = (0i64, 0usize, 0usize);
    for (i, pod) in pods.iter().enumerate() {
        match group_pod(pod, value_of(i), cpu) {
            PodGroup::Ready(v) => {
                sums.metrics += v;
                sums.requests += pod.request_milli;
                sums.entries += 1;
                ready += 1;
            }
            PodGroup::Unready => unready += 1,
            PodGroup::Missing => missing += 1,
            PodGroup::Ignored => {}
        }
    }
    if sums.entries == 0 {
        return Err(HpaMetricError::NoMetrics);
    }
    let (ratio, utilization) = utilization_ratio(sums, target_percent)?;
    let raw_average_milli = sums.metrics / sums.entries;
    let proposal = |replicas| ResourceProposal {
        replicas,
        utilization_percent: utilization,
        raw_average_milli,
    };

    let scale_up_with_unready = unready > 0 && ratio > 1.0;
    if !scale_up_with_unready && missing == 0 {
        if tolerances.is_within(ratio) {
            return Ok(proposal(current));
        }
        return Ok(proposal((ratio * ready as f64).ceil() as i32));
    }

    // Fill in the pods left out, as the controller writes them into its metrics map.
    let fallback_percent = i64::from(target_percent.max(100));
    for (i, pod) in pods.iter().enumerate() {
        match group_pod(pod, value_of(i), cpu) {
            PodGroup::Missing if ratio < 1.0 => {
                sums.metrics += pod.request_milli * fallback_percent / 100;
                sums.requests += pod.request_milli;
                sums.entries += 1;
            }
            PodGroup::Missing if ratio > 1.0 => {
                sums.requests += pod.request_milli;
                sums.entries += 1;
            }
            PodGroup::Unready if scale_up_with_unready => {
                sums.requests += pod.request_milli;
                sums.entries += 1;
            }
            _ => {}
        }
    }
    let (new_ratio, _) = utilization_ratio(sums, target_percent)?;
    Ok(proposal(settle(
        current,
        ratio,
        new_ratio,
        sums.entries,
        tolerances,
    )))
}

/// The common tail of `GetResourceReplicas` / `calcPlainMetricReplicas` after the fill-in.
fn settle(current: i32, ratio: f64, new_ratio: f64, entries: i64, tolerances: Tolerances) -> i32 {
    if tolerances.is_within(new_ratio)
        || (ratio < 1.0 && new_ratio > 1.0)
        || (ratio > 1.0 && new_ratio < 1.0)
    {
        return current;
    }
    let new_replicas = (new_ratio * entries as f64).ceil() as i32;
    if (new_ratio < 1.0 && new_replicas > current) || (new_ratio > 1.0 && new_replicas < current) {
        return current;
    }
    new_replicas
}

/// `calcPlainMetricReplicas`: replicas for a target average value per pod (a Pods metric, or a
/// resource with `averageValue`). Like [`resource_utilization_replicas`] but on the plain
/// average (integer division), and a missing pod counts as exactly the target on a scale-down.
/// Returns (replicas, current average usage).
pub fn pods_average_value_replicas(
    current: i32,
    target_milli: i64,
    cpu: bool,
    pods: &[PodInfo],
    values: &[Option<i64>],
    tolerances: Tolerances,
) -> Result<(i32, i64), HpaMetricError> {
    if pods.is_empty() {
        return Err(HpaMetricError::NoPods);
    }
    let value_of = |i: usize| values.get(i).copied().flatten();
    let mut sums = Sums::default();
    let (mut ready, mut unready, mut missing) = (0i64, 0usize, 0usize);
    for (i, pod) in pods.iter().enumerate() {
        match group_pod(pod, value_of(i), cpu) {
            PodGroup::Ready(v) => {
                sums.metrics += v;
                sums.entries += 1;
                ready += 1;
            }
            PodGroup::Unready => unready += 1,
            PodGroup::Missing => missing += 1,
            PodGroup::Ignored => {}
        }
    }
    if sums.entries == 0 {
        return Err(HpaMetricError::NoMetrics);
    }
    let (ratio, usage) = usage_ratio(sums, target_milli);

    let scale_up_with_unready = unready > 0 && ratio > 1.0;
    if !scale_up_with_unready && missing == 0 {
        if tolerances.is_within(ratio) {
            return Ok((current, usage));
        }
        return Ok(((ratio * ready as f64).ceil() as i32, usage));
    }
    for (i, pod) in pods.iter().enumerate() {
        match group_pod(pod, value_of(i), cpu) {
            PodGroup::Missing if ratio < 1.0 => {
                sums.metrics += target_milli;
                sums.entries += 1;
            }
            PodGroup::Missing if ratio > 1.0 => sums.entries += 1,
            PodGroup::Unready if scale_up_with_unready => sums.entries += 1,
            _ => {}
        }
    }
    let (new_ratio, _) = usage_ratio(sums, target_milli);
    Ok((
        settle(current, ratio, new_ratio, sums.entries, tolerances),
        usage,
    ))
}

/// `getUsageRatioReplicaCount`: from a whole-target usage ratio and the count of ready pods;
/// from zero replicas it ignores tolerance and pod count (scale from/to zero).
pub fn usage_ratio_replica_count(
    current: i32,
    ratio: f64,
    ready_pods: i64,
    tolerances: Tolerances,
) -> i32 {
    if current != 0 {
        if tolerances.is_within(ratio) {
            return current;
        }
        let replicas = ratio * ready_pods as f64;
        if replicas > f64::from(i32::MAX) {
            i32::MAX
        } else {
            replicas.ceil() as i32
        }
    } else {
        ratio.ceil() as i32
    }
}

/// `GetObjectMetricReplicas` / `GetExternalMetricReplicas` (target `value`): ratio of the
/// object's (or the external series' summed) value to the target, times the ready pods.
pub fn value_target_replicas(
    current: i32,
    target_milli: i64,
    usage_milli: i64,
    ready_pods: i64,
    tolerances: Tolerances,
) -> i32 {
    let ratio = usage_milli as f64 / target_milli as f64;
    usage_ratio_replica_count(current, ratio, ready_pods, tolerances)
}

/// `GetObjectPerPodMetricReplicas` / `GetExternalPerPodMetricReplicas` (target `averageValue`,
/// e.g. a queue depth per replica): `ceil(total / target)` unless `total / (target × replicas)`
/// is within tolerance. Returns (replicas, usage per replica rounded up).
pub fn average_value_target_replicas(
    status_replicas: i32,
    target_milli: i64,
    usage_milli: i64,
    tolerances: Tolerances,
) -> (i32, i64) {
    let mut replicas = status_replicas;
    let ratio = usage_milli as f64 / (target_milli as f64 * f64::from(status_replicas));
    if !tolerances.is_within(ratio) {
        let r = (usage_milli as f64 / target_milli as f64).ceil();
        replicas = if r > f64::from(i32::MAX) {
            i32::MAX
        } else {
            r as i32
        };
    }
    let per_replica = if status_replicas == 0 {
        i64::MAX
    } else {
        (usage_milli as f64 / f64::from(status_replicas)).ceil() as i64
    };
    (replicas, per_replica)
}

/// `getReadyPodsCount`: pods Running with the Ready condition True.
fn ready_pod_count(pods: &[PodInfo]) -> i64 {
    pods.iter()
        .filter(|p| p.phase == PodPhase::Running && p.ready)
        .count() as i64
}

/// One metric's proposal (`computeReplicasForMetric`, the part that does not talk to APIs).
pub fn replicas_for_metric(
    current: i32,
    spec: MetricSpec,
    reading: MetricReading<'_>,
    pods: &[PodInfo],
    tolerances: Tolerances,
) -> Result<i32, HpaMetricError> {
    if reading == MetricReading::Unavailable {
        return Err(HpaMetricError::Unavailable);
    }
    match (spec, reading) {
        (
            MetricSpec::ResourceUtilization {
                target_percent,
                cpu,
            },
            MetricReading::PerPod(values),
        ) => resource_utilization_replicas(current, target_percent, cpu, pods, values, tolerances)
            .map(|p| p.replicas),
        (MetricSpec::PodsAverageValue { target_milli, cpu }, MetricReading::PerPod(values)) => {
            pods_average_value_replicas(current, target_milli, cpu, pods, values, tolerances)
                .map(|(r, _)| r)
        }
        (MetricSpec::ObjectValue { target_milli }, MetricReading::Object(v)) => Ok(
            value_target_replicas(current, target_milli, v, ready_pod_count(pods), tolerances),
        ),
        (MetricSpec::ExternalValue { target_milli }, MetricReading::External(vs)) => {
            let sum = vs.iter().fold(0i64, |a, &v| a.saturating_add(v));
            Ok(value_target_replicas(
                current,
                target_milli,
                sum,
                ready_pod_count(pods),
                tolerances,
            ))
        }
        (MetricSpec::ObjectAverageValue { target_milli }, MetricReading::Object(v)) => {
            Ok(average_value_target_replicas(current, target_milli, v, tolerances).0)
        }
        (MetricSpec::ExternalAverageValue { target_milli }, MetricReading::External(vs)) => {
            let sum = vs.iter().fold(0i64, |a, &v| a.saturating_add(v));
            Ok(average_value_target_replicas(current, target_milli, sum, tolerances).0)
        }
        _ => Err(HpaMetricError::WrongReading),
    }
}

/// `computeReplicasForMetrics`: the largest proposal over all metrics. `None` — no scaling this
/// sync — when every metric is invalid, or when some are invalid and the valid ones would scale
/// down (a broken metric must not let the fleet shrink).
pub fn replicas_for_metrics(
    current: i32,
    specs: &[MetricSpec],
    observation: &HpaObservation<'_>,
    tolerances: Tolerances,
) -> Option<i32> {
    let mut replicas = 0;
    let mut invalid = 0usize;
    for (i, spec) in specs.iter().enumerate() {
        let reading = observation
            .readings
            .get(i)
            .copied()
            .unwrap_or(MetricReading::Unavailable);
        match replicas_for_metric(current, *spec, reading, observation.pods, tolerances) {
            Ok(p) => {
                if replicas == 0 || p > replicas {
                    replicas = p;
                }
            }
            Err(_) => invalid += 1,
        }
    }
    if invalid >= specs.len() || (invalid > 0 && replicas < current) {
        None
    } else {
        Some(replicas)
    }
}

/// An HPA object's spec (autoscaling/v2), with the controller flags that shape it.
#[derive(Debug, Clone, PartialEq)]
pub struct HpaSpec {
    /// `minReplicas` (API default 1). 0 allows scale to zero (HPAScaleToZero).
    pub min_replicas: u32,
    /// `maxReplicas`.
    pub max_replicas: u32,
    /// `metrics` (API default: CPU at 80 % utilization).
    pub metrics: Vec<MetricSpec>,
    /// `behavior`; `None` takes the controller's legacy path (5 min downscale stabilization and
    /// a `max(2×current, 4)` scale-up limit), exactly as Kubernetes does when it is absent.
    /// `Some(HpaBehavior::default())` is the defaulted v2 behavior.
    pub behavior: Option<HpaBehavior>,
    /// Usage-ratio tolerances (default 0.1 each way).
    pub tolerances: Tolerances,
    /// `--horizontal-pod-autoscaler-downscale-stabilization` (default 5 min).
    pub downscale_stabilization: SimDuration,
}

impl HpaSpec {
    /// An HPA with Kubernetes' defaults: minReplicas 1, CPU 80 %, no behavior, tolerance 0.1,
    /// 5 min downscale stabilization.
    pub fn new(max_replicas: u32) -> Self {
        HpaSpec {
            min_replicas: 1,
            max_replicas,
            metrics: vec![MetricSpec::ResourceUtilization {
                target_percent: 80,
                cpu: true,
            }],
            behavior: None,
            tolerances: Tolerances::default(),
            downscale_stabilization: DEFAULT_DOWNSCALE_STABILIZATION,
        }
    }

    fn scale_down_window(&self) -> SimDuration {
        self.behavior
            .as_ref()
            .and_then(|b| b.scale_down.stabilization_window)
            .unwrap_or(self.downscale_stabilization)
    }

    fn scale_up_window(&self) -> SimDuration {
        self.behavior
            .as_ref()
            .and_then(|b| b.scale_up.stabilization_window)
            .unwrap_or(SimDuration::ZERO)
    }
}

/// Why the HPA chose its count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HpaReason {
    /// The target is at 0 replicas and minReplicas > 0: autoscaling is off; desired is 0.
    ScalingDisabled,
    /// Current replicas above maxReplicas: brought down to it without reading metrics.
    AboveMaxReplicas,
    /// Current replicas below minReplicas: brought up to it without reading metrics.
    BelowMinReplicas,
    /// The metrics could not justify a decision (see [`replicas_for_metrics`]): no change.
    InvalidMetrics,
    /// Metric-driven, after stabilization and limits.
    Metrics(LimitReason),
}

/// What the HPA wants at this sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HpaDecision {
    /// Desired replica count.
    pub desired: u32,
    /// Why.
    pub reason: HpaReason,
    /// The metric proposal (max over metrics) before stabilization, if metrics were read.
    pub metric_replicas: Option<u32>,
    /// Stabilization changed the recommendation (condition `ScaleUpStabilized` /
    /// `ScaleDownStabilized`).
    pub stabilized: bool,
}

/// One HPA object with the controller's memory of it.
#[derive(Debug, Clone)]
pub struct Hpa {
    spec: HpaSpec,
    recommendations: VecDeque<Recommendation>,
    scale_up_events: VecDeque<ScaleEvent>,
    scale_down_events: VecDeque<ScaleEvent>,
}

fn to_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn to_u32(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

impl Hpa {
    /// A fresh HPA with no history.
    pub fn new(spec: HpaSpec) -> Self {
        Hpa {
            spec,
            recommendations: VecDeque::new(),
            scale_up_events: VecDeque::new(),
            scale_down_events: VecDeque::new(),
        }
    }

    /// The spec.
    pub fn spec(&self) -> &HpaSpec {
        &self.spec
    }

    /// Stored recommendations (bounded by the longest stabilization window).
    pub fn recommendation_count(&self) -> usize {
        self.recommendations.len()
    }

    /// Stored scale events, up + down (bounded by the longest policy period).
    pub fn scale_event_count(&self) -> usize {
        self.scale_up_events.len() + self.scale_down_events.len()
    }

    /// One sync of `reconcileAutoscaler`: the desired count for `current_replicas` (the scale
    /// subresource's `spec.replicas`) given this sync's observation. Call at most once per
    /// simulated instant, with non-decreasing `now`. The decision is assumed applied: a change
    /// is recorded as a scale event at `now`.
    pub fn decide(
        &mut self,
        now: SimTime,
        current_replicas: u32,
        observation: &HpaObservation<'_>,
    ) -> HpaDecision {
        let current = to_i32(current_replicas);
        let min = to_i32(self.spec.min_replicas);
        let max = to_i32(self.spec.max_replicas);
        // recordInitialRecommendation: the first sync remembers the current size, so the
        // scale-down window starts from where the fleet was.
        if self.recommendations.is_empty() {
            self.recommendations.push_back(Recommendation {
                at: now,
                replicas: current,
            });
        }
        let decision = if current == 0 && min != 0 {
            HpaDecision {
                desired: 0,
                reason: HpaReason::ScalingDisabled,
                metric_replicas: None,
                stabilized: false,
            }
        } else if current > max {
            HpaDecision {
                desired: to_u32(max),
                reason: HpaReason::AboveMaxReplicas,
                metric_replicas: None,
                stabilized: false,
            }
        } else if current < min {
            HpaDecision {
                desired: to_u32(min),
                reason: HpaReason::BelowMinReplicas,
                metric_replicas: None,
                stabilized: false,
            }
        } else {
            match replicas_for_metrics(
                current,
                &self.spec.metrics,
                observation,
                self.spec.tolerances,
            ) {
                None => HpaDecision {
                    desired: current_replicas,
                    reason: HpaReason::InvalidMetrics,
                    metric_replicas: None,
                    stabilized: false,
                },
                Some(proposal) => {
                    // reconcileAutoscaler starts desiredReplicas at 0 and takes the metric
                    // proposal if larger.
                    let prenormalized = proposal.max(0);
                    let (desired, stabilized, limit) = self.normalize(now, current, prenormalized);
                    HpaDecision {
                        desired: to_u32(desired),
                        reason: HpaReason::Metrics(limit),
                        metric_replicas: Some(to_u32(prenormalized)),
                        stabilized,
                    }
                }
            }
        };
        if decision.reason != HpaReason::ScalingDisabled && to_i32(decision.desired) != current {
            self.store_scale_event(now, current, to_i32(decision.desired));
        }
        decision
    }

    /// `normalizeDesiredReplicas` / `normalizeDesiredReplicasWithBehaviors`.
    fn normalize(&mut self, now: SimTime, current: i32, desired: i32) -> (i32, bool, LimitReason) {
        let up_window = self.spec.scale_up_window();
        let down_window = self.spec.scale_down_window();
        let history = self.recommendations.make_contiguous();
        let stabilized = match &self.spec.behavior {
            None => stabilize_legacy(now, desired, down_window, history),
            Some(_) => {
                stabilize_with_behavior(now, current, desired, up_window, down_window, history)
            }
        };
        // Record the unstabilized recommendation, dropping entries no window can reach again
        // (the controller reuses such a slot instead; the result is the same).
        let keep = match &self.spec.behavior {
            None => down_window,
            Some(_) => up_window.max(down_window),
        };
        let legacy = self.spec.behavior.is_none();
        self.recommendations.retain(|r| {
            let age_limit = u128::from(r.at.as_nanos()) + u128::from(keep.as_nanos());
            let now_ns = u128::from(now.as_nanos());
            if legacy {
                age_limit >= now_ns
            } else {
                age_limit > now_ns
            }
        });
        self.recommendations.push_back(Recommendation {
            at: now,
            replicas: desired,
        });
        let (final_count, limit) = match &self.spec.behavior {
            None => convert_with_rules(
                current,
                stabilized,
                to_i32(self.spec.min_replicas),
                to_i32(self.spec.max_replicas),
            ),
            Some(b) => convert_with_behavior_rate(
                now,
                current,
                stabilized,
                to_i32(self.spec.min_replicas),
                to_i32(self.spec.max_replicas),
                b,
                self.scale_up_events.make_contiguous(),
                self.scale_down_events.make_contiguous(),
            ),
        };
        (final_count, stabilized != desired, limit)
    }

    /// `storeScaleEvent`: only with a behavior (nothing reads events otherwise); events older
    /// than the direction's longest policy period are dropped.
    fn store_scale_event(&mut self, now: SimTime, previous: i32, new: i32) {
        let Some(b) = &self.spec.behavior else {
            return;
        };
        // Both limits read both lists (a period's start count is current − added + removed), so
        // an event matters for the longest period of *either* direction.
        let longest = b
            .scale_up
            .longest_period()
            .max(b.scale_down.longest_period());
        let (events, change) = if new > previous {
            (&mut self.scale_up_events, new - previous)
        } else {
            (&mut self.scale_down_events, previous - new)
        };
        events.retain(|e| {
            u128::from(e.at.as_nanos()) + u128::from(longest.as_nanos())
                > u128::from(now.as_nanos())
        });
        events.push_back(ScaleEvent { at: now, change });
    }
}

#[cfg(test)]
mod tests {
    //! Cases reproduced from kubernetes/kubernetes
    //! `pkg/controller/podautoscaler/replica_calculator_test.go` and `horizontal_test.go`; each
    //! names its Go test. The replica-calculator harness gives every pod
    //! `numContainersPerPod = 2` containers, each with the listed request and usage level, so a
    //! pod's request is 2 × request and its metric 2 × level: built that way here, so that the
    //! raw averages (`expectedValue`) compare exactly too.
    use super::*;
    use crate::model::autoscale::hpa_behavior::ScalingRules;

    const CONTAINERS: i64 = 2;
    const TOL: Tolerances = Tolerances {
        scale_down: 0.1,
        scale_up: 0.1,
    };

    /// Pods as the harness builds them: requests per container in milli, readiness
    /// (`podReadiness`, default True) and phase (default Running). For CPU the harness's
    /// unready pods are also untrusted CPU samples (ready condition False since start, after
    /// the 2 min initialization period).
    fn pods(
        requests: &[i64],
        ready: &[bool],
        phase: &[PodPhase],
        deleting: &[bool],
    ) -> Vec<PodInfo> {
        requests
            .iter()
            .enumerate()
            .map(|(i, &r)| {
                let ready = ready.get(i).copied().unwrap_or(true);
                PodInfo {
                    phase: phase.get(i).copied().unwrap_or(PodPhase::Running),
                    deleting: deleting.get(i).copied().unwrap_or(false),
                    ready,
                    cpu_unready: !ready,
                    request_milli: CONTAINERS * r,
                }
            })
            .collect()
    }

    /// Metrics for the first `levels.len()` pods (per container), none for the rest.
    fn levels(levels: &[i64], n: usize) -> Vec<Option<i64>> {
        (0..n)
            .map(|i| levels.get(i).map(|l| CONTAINERS * l))
            .collect()
    }

    fn cpu(current: i32, target: i32, pods: &[PodInfo], lv: &[i64]) -> ResourceProposal {
        resource_utilization_replicas(current, target, true, pods, &levels(lv, pods.len()), TOL)
            .unwrap()
    }

    fn rp(replicas: i32, utilization_percent: i32, raw_per_container: i64) -> ResourceProposal {
        ResourceProposal {
            replicas,
            utilization_percent,
            raw_average_milli: CONTAINERS * raw_per_container,
        }
    }

    const R: PodPhase = PodPhase::Running;
    const P: PodPhase = PodPhase::Pending;
    const F: PodPhase = PodPhase::Failed;

    #[test]
    fn k8s_test_replica_calc_resource_scale_up() {
        let three = pods(&[1000; 3], &[], &[], &[]);
        // TestReplicaCalcScaleUp: 1500/3000 = 50 % vs 30 → ceil(5/3 × 3) = 5.
        assert_eq!(cpu(3, 30, &three, &[300, 500, 700]), rp(5, 50, 500));
        // TestReplicaCalcScaleUpUnreadyLessScale: pod 0 unready; 1200/2000 = 60 % → ratio 2;
        // unready back at 0 %: 1200/3000 = 40 % → ceil(4/3 × 3) = 4.
        let unready0 = pods(&[1000; 3], &[false, true, true], &[], &[]);
        assert_eq!(cpu(3, 30, &unready0, &[300, 500, 700]), rp(4, 60, 600));
        // TestReplicaCalcScaleUpUnreadyNoScale: only pod 0 ready at 40 %; with the two unready at
        // 0 %, 13 % < target: the direction flips, no change.
        let unready12 = pods(&[1000; 3], &[true, false, false], &[], &[]);
        assert_eq!(cpu(3, 30, &unready12, &[400, 500, 700]), rp(3, 40, 400));
        // TestReplicaCalcScaleUpIgnoresFailedPods: two failed pods ignored → 60 % → 4.
        let failed = pods(&[1000; 4], &[true, true, false, false], &[R, R, F, F], &[]);
        assert_eq!(cpu(2, 30, &failed, &[500, 700]), rp(4, 60, 600));
        // TestReplicaCalcScaleUpIgnoresDeletionPods: same with deletion timestamps.
        let deleting = pods(
            &[1000; 4],
            &[true, true, false, false],
            &[],
            &[false, false, true, true],
        );
        assert_eq!(cpu(2, 30, &deleting, &[500, 700]), rp(4, 60, 600));
    }

    #[test]
    fn k8s_test_replica_calc_resource_scale_down() {
        let five = pods(&[1000; 5], &[], &[], &[]);
        // TestReplicaCalcScaleDown: 1400/5000 = 28 % vs 50 → ceil(0.56 × 5) = 3.
        assert_eq!(
            cpu(5, 50, &five, &[100, 300, 500, 250, 250]),
            rp(3, 28, 280)
        );
        // TestReplicaCalcScaleDownIncludeUnreadyPods: the two unready pods left out on a
        // scale-down: 900/3000 = 30 % → ceil(0.6 × 3) = 2.
        let unready = pods(&[1000; 5], &[true, true, true, false, false], &[], &[]);
        assert_eq!(
            cpu(5, 50, &unready, &[100, 300, 500, 250, 250]),
            rp(2, 30, 300)
        );
        // TestReplicaCalcScaleDownIgnoreHotCpuPods: the same with "hot" CPU pods (still in the
        // initialization period) instead of unready ones.
        let mut hot = pods(&[1000; 5], &[], &[], &[]);
        hot[3].cpu_unready = true;
        hot[4].cpu_unready = true;
        assert_eq!(cpu(5, 50, &hot, &[100, 300, 500, 250, 250]), rp(2, 30, 300));
        // TestReplicaCalcScaleDownExcludeUnscheduledPods: 4 pending pods; 10 % → ceil(0.2) = 1.
        let pending = pods(
            &[1000; 5],
            &[true, false, false, false, false],
            &[R, P, P, P, P],
            &[],
        );
        assert_eq!(cpu(5, 50, &pending, &[100]), rp(1, 10, 100));
        // TestReplicaCalcScaleDownIgnoresFailedPods: 7 pods, 2 failed → as TestReplicaCalcScaleDown.
        let failed = pods(
            &[1000; 7],
            &[true, true, true, true, true, false, false],
            &[R, R, R, R, R, F, F],
            &[],
        );
        assert_eq!(
            cpu(5, 50, &failed, &[100, 300, 500, 250, 250]),
            rp(3, 28, 280)
        );
    }

    #[test]
    fn k8s_test_replica_calc_tolerance_and_missing_metrics() {
        // TestReplicaCalcTolerance: 6120/6000 = 102 % of 100 → within 10 %: 3.
        let mixed = pods(&[900, 1000, 1100], &[], &[], &[]);
        assert_eq!(cpu(3, 100, &mixed, &[1010, 1030, 1020]), rp(3, 102, 1020));
        // TestReplicaCalcMissingMetrics: 2 of 4 pods report; 990/4000 = 24 % (truncated) → 0.24;
        // the missing two at 100 %: 4990/8000 = 62 % → ceil(0.62 × 4) = 3. Raw 495 per pod.
        let four = pods(&[1000; 4], &[], &[], &[]);
        let got = resource_utilization_replicas(4, 100, true, &four, &levels(&[400, 95], 4), TOL)
            .unwrap();
        assert_eq!(
            (got.replicas, got.utilization_percent, got.raw_average_milli),
            (3, 24, 495)
        );
        let two = pods(&[1000; 2], &[], &[], &[]);
        // TestReplicaCalcMissingMetricsNoChangeEq: exactly 100 %: nothing filled in, no change.
        assert_eq!(cpu(2, 100, &two, &[1000]), rp(2, 100, 1000));
        // TestReplicaCalcMissingMetricsNoChangeGt: 190 %; missing at 0 % → 95 %: within, 2.
        assert_eq!(cpu(2, 100, &two, &[1900]), rp(2, 190, 1900));
        // TestReplicaCalcMissingMetricsNoChangeLt: 60 %; missing at 100 % → 80 % → ceil(1.6) = 2.
        assert_eq!(cpu(2, 100, &two, &[600]), rp(2, 60, 600));
        let unready0 = pods(&[1000; 3], &[false, true, true], &[], &[]);
        // TestReplicaCalcMissingMetricsUnreadyChange: pod 0 unready, pod 2 missing; 45 % of 50
        // → 0.9 < 1; pod 2 at 100 % → 72 %: direction flips → 3.
        assert_eq!(cpu(3, 50, &unready0, &[100, 450]), rp(3, 45, 450));
        // TestReplicaCalcMissingMetricsUnreadyScaleUp: 200 % → both at 0 %: 66 % → ceil(3.96) = 4.
        assert_eq!(cpu(3, 50, &unready0, &[100, 2000]), rp(4, 200, 2000));
        // TestReplicaCalcMissingMetricsUnreadyScaleDown: 10 % → missing pod 3 at 100 %:
        // 1200/3000 = 40 % → 0.8 → ceil(2.4) = 3.
        let unready4 = pods(&[1000; 4], &[false, true, true, true], &[], &[]);
        assert_eq!(cpu(4, 50, &unready4, &[100, 100, 100]), rp(3, 10, 100));
        // TestReplicaCalcDuringRollingUpdateWithMaxSurge: 3 pods for 2 replicas, one without
        // metrics: 40 % of 50 → ceil(0.8 × 3) = 3 > 2 would be a scale-up on a down ratio: keep 2.
        let surge = pods(&[1000; 3], &[], &[], &[]);
        assert_eq!(cpu(2, 50, &surge, &[100, 100]), rp(2, 10, 100));
    }

    /// The current controller fills a missing pod on a scale-down with `max(100, target)` % of its
    /// request (replica_calculator.go `fallbackUtilization`), not 100 % as older releases did.
    /// Hand-derived, pods of 1000m:
    /// - target 200, values [1000, missing]: 100 % → ratio 0.5; fill-in 2000 → 3000/2000 = 150 %
    ///   → 0.75 → ceil(1.5) = 2 (a 100 % fill-in would give 100 % → 0.5 → 1);
    /// - target 150, values [1000, missing, missing]: 100 % → 0.667; fill-in 1500 each →
    ///   4000/3000 = 133 % → 0.887 (outside 0.9) → ceil(2.66) = 3 (100 % fill-in: 0.667 → 2).
    #[test]
    fn missing_pod_on_scale_down_uses_target_above_100_percent() {
        let two = vec![PodInfo::ready(1000); 2];
        let got =
            resource_utilization_replicas(2, 200, true, &two, &[Some(1000), None], TOL).unwrap();
        assert_eq!(got.replicas, 2);
        let three = vec![PodInfo::ready(1000); 3];
        let got =
            resource_utilization_replicas(3, 150, true, &three, &[Some(1000), None, None], TOL)
                .unwrap();
        assert_eq!(got.replicas, 3);
    }

    #[test]
    fn k8s_test_replica_calc_pods_metrics() {
        let three = pods(&[1000; 3], &[], &[], &[]);
        let plain = |current, target, p: &[PodInfo], lv: &[i64]| {
            let values: Vec<Option<i64>> = (0..p.len()).map(|i| lv.get(i).copied()).collect();
            pods_average_value_replicas(current, target, false, p, &values, TOL).unwrap()
        };
        // TestReplicaCalcScaleUpCM: average 20000 vs 15000 → ceil(4/3 × 3) = 4.
        assert_eq!(plain(3, 15000, &three, &[20000, 10000, 30000]), (4, 20000));
        // TestReplicaCalcScaleUpCMUnreadyHotCpuNoLessScale: readiness only matters for CPU:
        // average 30000 → ratio 2 → 6.
        let unready2 = pods(&[1000; 3], &[true, true, false], &[], &[]);
        assert_eq!(
            plain(3, 15000, &unready2, &[50000, 10000, 30000]),
            (6, 30000)
        );
        // TestReplicaCalcScaleUpCMUnreadyHotCpuScaleWouldScaleDown: 95000/3 = 31666 → 7.
        let unready02 = pods(&[1000; 3], &[false, true, false], &[], &[]);
        assert_eq!(
            plain(3, 15000, &unready02, &[50000, 15000, 30000]),
            (7, 31666)
        );
        // TestReplicaCalcScaleDownCM: 12000 vs 20000 over 5 → ceil(3) = 3.
        let five = pods(&[1000; 5], &[], &[], &[]);
        assert_eq!(plain(5, 20000, &five, &[12000; 5]), (3, 12000));
        // TestReplicaCalcToleranceCM: 62000/3 = 20666 vs 20000 → 1.033, within → 3.
        assert_eq!(plain(3, 20000, &three, &[20000, 21000, 21000]), (3, 20666));
    }

    #[test]
    fn k8s_test_replica_calc_object_and_external_metrics() {
        let three = pods(&[1000; 3], &[], &[], &[]);
        let unready02 = pods(&[1000; 3], &[false, true, false], &[], &[]);
        // TestReplicaCalcScaleUpCMObject: 20000 / 15000 × 3 ready → 4.
        assert_eq!(
            replicas_for_metric(
                3,
                MetricSpec::ObjectValue {
                    target_milli: 15000
                },
                MetricReading::Object(20000),
                &three,
                TOL
            ),
            Ok(4)
        );
        // TestReplicaCalcScaleUpCMObjectIgnoresUnreadyPods: 50000/10000 × 1 ready → 5.
        assert_eq!(
            replicas_for_metric(
                3,
                MetricSpec::ObjectValue {
                    target_milli: 10000
                },
                MetricReading::Object(50000),
                &unready02,
                TOL
            ),
            Ok(5)
        );
        // TestReplicaCalcScaleDownCMObject: 12000/20000 × 5 → 3.
        let five = pods(&[1000; 5], &[], &[], &[]);
        assert_eq!(
            replicas_for_metric(
                5,
                MetricSpec::ObjectValue {
                    target_milli: 20000
                },
                MetricReading::Object(12000),
                &five,
                TOL
            ),
            Ok(3)
        );
        // TestReplicaCalcToleranceCMObject: 20666/20000 → within → 3.
        assert_eq!(
            replicas_for_metric(
                3,
                MetricSpec::ObjectValue {
                    target_milli: 20000
                },
                MetricReading::Object(20666),
                &three,
                TOL
            ),
            Ok(3)
        );
        // TestReplicaCalcScaleUpCMPerPodObject: ceil(20000/5000) = 4; usage ceil(20000/3) = 6667.
        assert_eq!(
            average_value_target_replicas(3, 5000, 20000, TOL),
            (4, 6667)
        );
        // TestReplicaCalcScaleDownPerPodCMObject: ceil(6000/2000) = 3; usage 1200.
        assert_eq!(average_value_target_replicas(5, 2000, 6000, TOL), (3, 1200));
        // TestReplicaCalcTolerancePerPodCMObject: 20166/(5000 × 4) = 1.008 → 4; usage 5042.
        assert_eq!(
            average_value_target_replicas(4, 5000, 20166, TOL),
            (4, 5042)
        );
        // TestReplicaCalcScaleUpCMExternalIgnoresUnreadyPods: 8600/4400 × 1 ready → 2.
        let ext = MetricSpec::ExternalValue { target_milli: 4400 };
        assert_eq!(
            replicas_for_metric(3, ext, MetricReading::External(&[8600]), &unready02, TOL),
            Ok(2)
        );
        // TestReplicaCalcScaleDownCMExternal: 8600/14334 × 5 = 2.9998 → 3.
        let ext = MetricSpec::ExternalValue {
            target_milli: 14334,
        };
        assert_eq!(
            replicas_for_metric(5, ext, MetricReading::External(&[8600]), &five, TOL),
            Ok(3)
        );
        // TestReplicaCalcToleranceCMExternal: 8600/8888 = 0.968 → 3.
        let ext = MetricSpec::ExternalValue { target_milli: 8888 };
        assert_eq!(
            replicas_for_metric(3, ext, MetricReading::External(&[8600]), &three, TOL),
            Ok(3)
        );
        // TestReplicaCalcScaleUpPerPodCMExternal: ceil(8600/2150) = 4; usage ceil(8600/3) = 2867.
        assert_eq!(average_value_target_replicas(3, 2150, 8600, TOL), (4, 2867));
        // TestReplicaCalcScaleDownPerPodCMExternal: ceil(8600/2867) = 3; usage 1720.
        assert_eq!(average_value_target_replicas(5, 2867, 8600, TOL), (3, 1720));
        // TestReplicaCalcTolerancePerPodCMExternal: 8600/(2900 × 3) = 0.9885 → 3; usage 2867.
        assert_eq!(average_value_target_replicas(3, 2900, 8600, TOL), (3, 2867));
    }

    /// The tolerance edge: `isWithin` is inclusive and two-sided. 110 % of a 100 % target is
    /// exactly `1.0 + 0.1` in f64, so no change; 111 % scales to ceil(1.11 × 10) = 12. (The old
    /// `|1 − ratio| ≤ 0.1` form would have scaled at 110 %: `|1 − 1.1|` = 0.10000000000000009.)
    #[test]
    fn tolerance_boundary_is_inclusive() {
        let ten = vec![PodInfo::ready(1000); 10];
        let at = |percent: i64| {
            resource_utilization_replicas(10, 100, true, &ten, &[Some(percent * 10); 10], TOL)
                .unwrap()
                .replicas
        };
        assert_eq!(at(110), 10);
        assert_eq!(at(111), 12);
        assert_eq!(at(90), 10);
        // 89 % → ceil(0.89 × 10) = ceil(8.9) = 9.
        assert_eq!(at(89), 9);
        assert!((1.0f64 - 1.1).abs() > 0.1, "why the two-sided form matters");
    }

    /// replica_calculator_test.go `TestGroupPods` CPU cases (initialization period 2 min,
    /// delay of initial readiness 10 s, as `defaultTestingCPUInitializationPeriod` /
    /// `defaultTestingDelayOfInitialReadinessStatus`).
    #[test]
    fn k8s_test_group_pods_cpu_rule() {
        let now = SimTime::from_nanos(3_600_000_000_000);
        let ago = |s: u64| SimTime::from_nanos(now.as_nanos() - s * 1_000_000_000);
        let (init, delay) = (SimDuration::from_secs(120), SimDuration::from_secs(10));
        let w = SimDuration::from_secs;
        // (pod started, ready condition (ready, last transition), metric time, metric window,
        // sample unready: left out of the CPU average).
        let cases = [
            // "ignore a pod without ready condition - CPU"
            (Some(now), None, now, w(60), true),
            // "count in a ready pod with fresh metrics during initialization period - CPU"
            (Some(ago(60)), Some((true, ago(30))), now, w(30), false),
            // "ignore a ready pod without fresh metrics during initialization period - CPU"
            (Some(ago(60)), Some((true, ago(30))), now, w(60), true),
            // "ignore an unready pod during initialization period - CPU" (never ready: 6 s after start)
            (Some(ago(600)), Some((false, ago(594))), now, w(60), true),
            // "count in a ready pod without fresh metrics after initialization period - CPU"
            (
                Some(ago(180)),
                Some((true, ago(180))),
                ago(120),
                w(60),
                false,
            ),
            // "count in an unready pod that was ready after initialization period - CPU"
            (Some(ago(600)), Some((false, ago(540))), now, w(60), false),
            // "ignore pod that has never been ready after initialization period - CPU" (expects it
            // counted: the transition is exactly 10 s after start, not within)
            (Some(ago(600)), Some((false, ago(590))), now, w(60), false),
        ];
        for (i, (started, ready, metric_ts, window, unready)) in cases.into_iter().enumerate() {
            assert_eq!(
                cpu_sample_unready(now, started, ready, metric_ts, window, init, delay),
                unready,
                "case {i}"
            );
        }
    }

    fn cpu_spec(target_percent: i32) -> MetricSpec {
        MetricSpec::ResourceUtilization {
            target_percent,
            cpu: true,
        }
    }

    /// horizontal_test.go `TestScaleUpOneMetricEmpty`: CPU says 4 (1200/3000 = 40 % of 30), the
    /// external metric fails; one invalid metric out of two and a scale-up → 4.
    #[test]
    fn k8s_test_scale_up_one_metric_empty() {
        let mut spec = HpaSpec::new(6);
        spec.min_replicas = 2;
        spec.metrics = vec![
            cpu_spec(30),
            MetricSpec::ExternalValue { target_milli: 100 },
        ];
        let mut hpa = Hpa::new(spec);
        let pods = vec![PodInfo::ready(1000); 3];
        let values = [Some(300), Some(400), Some(500)];
        let readings = [MetricReading::PerPod(&values), MetricReading::Unavailable];
        let d = hpa.decide(
            SimTime::ZERO,
            3,
            &HpaObservation {
                pods: &pods,
                readings: &readings,
            },
        );
        assert_eq!(d.desired, 4);
        assert_eq!(
            d.reason,
            HpaReason::Metrics(LimitReason::DesiredWithinRange)
        );
    }

    /// horizontal_test.go `TestNoScaleDownOneMetricEmpty`: CPU says 3 (28 % of 50) but the
    /// external metric fails: no scale-down on partial information → stays 5.
    #[test]
    fn k8s_test_no_scale_down_one_metric_empty() {
        let mut spec = HpaSpec::new(6);
        spec.min_replicas = 2;
        spec.metrics = vec![
            cpu_spec(50),
            MetricSpec::ExternalValue { target_milli: 1000 },
        ];
        let mut hpa = Hpa::new(spec);
        let pods = vec![PodInfo::ready(1000); 5];
        let values = [Some(100), Some(300), Some(500), Some(250), Some(250)];
        let readings = [MetricReading::PerPod(&values), MetricReading::Unavailable];
        let d = hpa.decide(
            SimTime::ZERO,
            5,
            &HpaObservation {
                pods: &pods,
                readings: &readings,
            },
        );
        assert_eq!((d.desired, d.reason), (5, HpaReason::InvalidMetrics));
        // With only the CPU metric the same reading proposes 3 — held at 5 by the legacy 5 min
        // downscale stabilization (the first sync records 5 as a recommendation; the Go test
        // sidesteps that by presetting an empty, non-nil history), and applied after 300 s.
        let mut hpa = Hpa::new(HpaSpec {
            metrics: vec![cpu_spec(50)],
            ..hpa.spec().clone()
        });
        let cpu_only = HpaObservation {
            pods: &pods,
            readings: &readings[..1],
        };
        let d = hpa.decide(SimTime::ZERO, 5, &cpu_only);
        assert_eq!(
            (d.desired, d.metric_replicas, d.stabilized),
            (5, Some(3), true)
        );
        assert_eq!(hpa.decide(at(301), 5, &cpu_only).desired, 3);
    }

    /// Several metrics: the largest proposal wins (`computeReplicasForMetrics`). CPU proposes 3,
    /// a queue depth of 4200 against 500 per replica proposes ceil(8.4) = 9.
    #[test]
    fn largest_metric_proposal_wins() {
        let specs = [
            cpu_spec(50),
            MetricSpec::ExternalAverageValue { target_milli: 500 },
        ];
        let pods = vec![PodInfo::ready(1000); 5];
        let values = [Some(100), Some(300), Some(500), Some(250), Some(250)];
        let readings = [
            MetricReading::PerPod(&values),
            MetricReading::External(&[4200]),
        ];
        let obs = HpaObservation {
            pods: &pods,
            readings: &readings,
        };
        assert_eq!(replicas_for_metrics(5, &specs, &obs, TOL), Some(9));
        // All invalid → no decision.
        let bad = [MetricReading::Unavailable, MetricReading::Object(1)];
        assert_eq!(
            replicas_for_metrics(
                5,
                &specs,
                &HpaObservation {
                    pods: &pods,
                    readings: &bad
                },
                TOL
            ),
            None
        );
    }

    fn queue_hpa(behavior: Option<HpaBehavior>, max: u32) -> Hpa {
        let mut spec = HpaSpec::new(max);
        spec.metrics = vec![MetricSpec::ExternalAverageValue { target_milli: 1000 }];
        spec.behavior = behavior;
        Hpa::new(spec)
    }

    fn at(s: u64) -> SimTime {
        SimTime::from_nanos(s * 1_000_000_000)
    }

    /// Kubernetes' default behavior (4 pods or 100 % per 15 s, Max) against a queue that wants
    /// 100 replicas, one sync every 15 s, each decision applied: 1 → max(1+4, 2) = 5 → 10 → 20 →
    /// 40 → 80 → 100 (maxReplicas). Each previous event is exactly 15 s old, so out of the period.
    /// Without behavior the legacy cap doubles with a floor of 4: 1 → 4 → 8 → 16 → ….
    #[test]
    fn default_behavior_scale_up_ramp() {
        let pods = vec![PodInfo::ready(1000); 1];
        let queue = [100_000i64];
        let readings = [MetricReading::External(&queue)];
        let obs = HpaObservation {
            pods: &pods,
            readings: &readings,
        };
        let mut hpa = queue_hpa(Some(HpaBehavior::default()), 100);
        let mut current = 1;
        let mut seen = vec![];
        for k in 0..7 {
            let d = hpa.decide(at(15 * k), current, &obs);
            current = d.desired;
            seen.push(current);
        }
        assert_eq!(seen, [5, 10, 20, 40, 80, 100, 100]);
        let mut legacy = queue_hpa(None, 100);
        let mut current = 1;
        let mut seen = vec![];
        for k in 0..4 {
            current = legacy.decide(at(15 * k), current, &obs).desired;
            seen.push(current);
        }
        assert_eq!(seen, [4, 8, 16, 32]);
    }

    /// Two syncs 5 s apart under the default behavior: the second sees the first's +4 inside the
    /// 15 s period, so its limit is from a period start of 1: max(1+4, 2) = 5 — no further growth.
    #[test]
    fn scale_events_within_period_hold_the_rate() {
        let pods = vec![PodInfo::ready(1000)];
        let queue = [100_000i64];
        let readings = [MetricReading::External(&queue)];
        let obs = HpaObservation {
            pods: &pods,
            readings: &readings,
        };
        let mut hpa = queue_hpa(Some(HpaBehavior::default()), 100);
        assert_eq!(hpa.decide(at(0), 1, &obs).desired, 5);
        let d = hpa.decide(at(5), 5, &obs);
        assert_eq!(
            (d.desired, d.reason),
            (5, HpaReason::Metrics(LimitReason::ScaleUpLimit))
        );
    }

    /// The default scale-down stabilization (300 s): a fleet of 10 whose queue now wants 5
    /// stays at 10 while the initial recommendation (10 at t = 0) is strictly younger than
    /// 300 s, and drops to 5 at t = 300 s (100 % per 15 s allows it). History stays bounded.
    #[test]
    fn default_scale_down_stabilization_window() {
        let pods = vec![PodInfo::ready(1000); 10];
        let queue = [5000i64];
        let readings = [MetricReading::External(&queue)];
        let obs = HpaObservation {
            pods: &pods,
            readings: &readings,
        };
        let mut hpa = queue_hpa(Some(HpaBehavior::default()), 100);
        let mut current = 10;
        for k in 0..20 {
            let d = hpa.decide(at(15 * k), current, &obs);
            assert_eq!(d.desired, 10, "t = {} s", 15 * k);
            assert!(d.stabilized);
            current = d.desired;
        }
        let d = hpa.decide(at(300), current, &obs);
        assert_eq!((d.desired, d.stabilized), (5, false));
        for k in 21..200 {
            hpa.decide(at(15 * k), 5, &obs);
        }
        // 300 s / 15 s = 20 recommendations in the window, plus the one just stored.
        assert!(
            hpa.recommendation_count() <= 21,
            "{}",
            hpa.recommendation_count()
        );
        assert!(hpa.scale_event_count() <= 2);
    }

    /// reconcileAutoscaler's guards: scale-to-zero target with minReplicas > 0 is left alone;
    /// above max or below min are corrected without reading metrics.
    #[test]
    fn reconcile_guards() {
        let obs = HpaObservation {
            pods: &[],
            readings: &[],
        };
        let mut hpa = queue_hpa(None, 10);
        assert_eq!(
            hpa.decide(at(0), 0, &obs).reason,
            HpaReason::ScalingDisabled
        );
        assert_eq!(hpa.decide(at(15), 12, &obs).desired, 10);
        let mut spec = hpa.spec().clone();
        spec.min_replicas = 3;
        let mut hpa = Hpa::new(spec);
        let d = hpa.decide(at(0), 2, &obs);
        assert_eq!((d.desired, d.reason), (3, HpaReason::BelowMinReplicas));
    }

    /// A scale-up behavior with its own window takes the *lowest* recent recommendation.
    #[test]
    fn scale_up_stabilization_through_decide() {
        let behavior = HpaBehavior {
            scale_up: ScalingRules {
                stabilization_window: Some(SimDuration::from_secs(60)),
                ..ScalingRules::k8s_default_scale_up()
            },
            ..HpaBehavior::default()
        };
        let pods = vec![PodInfo::ready(1000); 4];
        let mut hpa = queue_hpa(Some(behavior), 100);
        let q = |v: i64| [v];
        // t = 0: wants 8; the initial recommendation (4 at t = 0) caps it at 4.
        let (a, b, c) = (q(8000), q(6000), q(9000));
        let r = [MetricReading::External(&a)];
        assert_eq!(
            hpa.decide(
                at(0),
                4,
                &HpaObservation {
                    pods: &pods,
                    readings: &r
                }
            )
            .desired,
            4
        );
        // t = 15: wants 6; window holds 4, 8 → min 4.
        let r = [MetricReading::External(&b)];
        assert_eq!(
            hpa.decide(
                at(15),
                4,
                &HpaObservation {
                    pods: &pods,
                    readings: &r
                }
            )
            .desired,
            4
        );
        // t = 60: wants 9; 0-s entries are exactly 60 s old, out; window holds 6 (t = 15) → 6.
        let r = [MetricReading::External(&c)];
        assert_eq!(
            hpa.decide(
                at(60),
                4,
                &HpaObservation {
                    pods: &pods,
                    readings: &r
                }
            )
            .desired,
            6
        );
    }
}
