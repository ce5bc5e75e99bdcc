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

use crate::engine::{SimDuration, SimTime};

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
