//! What a scenario says about a pool's autoscaler, validated: the group's bounds, the metrics
//! its policies read and the policies themselves. The world builds the live controller from it.
//!
//! It must not know the TOML (that is `crate::scenario`) nor the event loop.

use crate::time::SimDuration;

use super::alarm::Comparison;
use super::capacity::AdjustmentType;
use super::hpa::Tolerances;
use super::hpa_behavior::HpaBehavior;
use super::keda::{KedaConfig, MetricTargetType};
use super::metrics_pipeline::Statistic;
use super::predictive::PredictiveConfig;
use super::scheduled::{ScheduledAction, WallClock};
use super::step::StepAdjustment;
use super::warmup::GroupWarmup;

/// A pool's autoscaling (`[pool.autoscaling]`).
#[derive(Debug, Clone, PartialEq)]
pub struct AutoscalingSpec {
    /// Smallest desired capacity (`min`; HPA `minReplicas`, KEDA `minReplicaCount`).
    pub min: u32,
    /// Largest desired capacity (`max`; HPA `maxReplicas`, KEDA `maxReplicaCount`).
    pub max: u32,
    /// The controller and its policies.
    pub controller: Controller,
}

impl AutoscalingSpec {
    /// The smallest desired capacity its controller sets: KEDA's `idleReplicaCount` when it is
    /// set (KEDA scales the target to it while every trigger is inactive; its HPA keeps
    /// `minReplicaCount` only while active), else `min`.
    pub fn floor(&self) -> u32 {
        match &self.controller {
            Controller::Keda(k) => k.config.idle_replica_count.unwrap_or(self.min),
            _ => self.min,
        }
    }

    /// True if one of its policies reads `metric`.
    pub fn reads(&self, metric: MetricKind) -> bool {
        match &self.controller {
            Controller::Aws(a) => a
                .target_tracking
                .iter()
                .map(|t| t.metric)
                .chain(a.step.iter().map(|s| s.alarm.metric))
                .chain(a.simple.iter().map(|s| s.alarm.metric))
                .any(|m| m.kind == metric),
            Controller::Hpa(h) => h.metrics.iter().any(|m| match *m {
                HpaMetric::Resource { .. } => metric == MetricKind::Utilization,
                HpaMetric::Pods { metric: m, .. } | HpaMetric::External { metric: m, .. } => {
                    m == metric
                }
            }),
            Controller::Keda(k) => k.triggers.iter().any(|t| t.metric == metric),
        }
    }
}

/// Which real controller scales the pool.
#[derive(Debug, Clone, PartialEq)]
pub enum Controller {
    /// AWS EC2 Auto Scaling: any mix of its policy types on one group.
    Aws(AwsPolicies),
    /// The Kubernetes HPA (autoscaling/v2).
    Hpa(HpaController),
    /// KEDA: a ScaledObject and the HPA it creates.
    Keda(KedaController),
}

/// What a policy can measure on its pool. `docs/metrics.md` defines each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Busy slots as a percentage of an instance's slots (CPU/GPU utilization), per instance.
    Utilization,
    /// Requests an instance holds (serving and in its own queue), per instance.
    InFlight,
    /// Requests waiting for the pool: its shared or named queue and its instances' queues.
    QueueDepth,
    /// [`MetricKind::QueueDepth`] divided by the instances in service (AWS "backlog per
    /// instance").
    QueueDepthPerInstance,
    /// How long the oldest waiting request has waited \[s\].
    QueueOldestAge,
    /// Requests sent to the pool per period divided by its instances in service
    /// (ALB `RequestCountPerTarget`, statistic Sum).
    RequestCountPerTarget,
    /// Requests sent to the pool per second.
    RequestRate,
    /// Response time of the pool's targets, from a try being sent to its response, over the
    /// requests answered in the period (ALB `TargetResponseTime`): its statistic (`average`,
    /// `p99`...) is taken over those requests. AWS policies only.
    Latency,
}

impl MetricKind {
    /// Every metric, in the order of their names in messages.
    pub const ALL: [MetricKind; 8] = [
        MetricKind::Utilization,
        MetricKind::InFlight,
        MetricKind::QueueDepth,
        MetricKind::QueueDepthPerInstance,
        MetricKind::QueueOldestAge,
        MetricKind::RequestCountPerTarget,
        MetricKind::RequestRate,
        MetricKind::Latency,
    ];

    /// A gauge of the pool's queues (depth, oldest age), which the world measures only for
    /// the ticks that read one ([`super::controller::Reads::gauges`]).
    pub fn is_pool_gauge(self) -> bool {
        matches!(
            self,
            MetricKind::QueueDepth | MetricKind::QueueDepthPerInstance | MetricKind::QueueOldestAge
        )
    }

    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            MetricKind::Utilization => "utilization",
            MetricKind::InFlight => "in_flight",
            MetricKind::QueueDepth => "queue_depth",
            MetricKind::QueueDepthPerInstance => "queue_depth_per_instance",
            MetricKind::QueueOldestAge => "queue_oldest_age",
            MetricKind::RequestCountPerTarget => "request_count_per_target",
            MetricKind::RequestRate => "request_rate",
            MetricKind::Latency => "latency",
        }
    }

    /// The metric called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        MetricKind::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Measured on each instance (and averaged over the group), rather than on the pool.
    pub fn is_per_instance(self) -> bool {
        matches!(self, MetricKind::Utilization | MetricKind::InFlight)
    }
}

/// A CloudWatch metric as an AWS policy reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AwsMetric {
    /// What is measured.
    pub kind: MetricKind,
    /// How the period's values become a datapoint. Default `Average` (`Sum` for
    /// `request_count_per_target`).
    pub statistic: Statistic,
}

/// The policies of an AWS Auto Scaling group and the group settings they share.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsPolicies {
    /// CloudWatch period of every policy's metric (default 60 s, detailed monitoring).
    pub metric_period: SimDuration,
    /// Delay from the end of a period to its datapoint being visible (default 60 s).
    pub metric_lag: SimDuration,
    /// `DefaultInstanceWarmup` (unset by default) and `DefaultCooldown` (300 s by default,
    /// the cooldown of simple policies and the warm-up target tracking and step policies fall
    /// back to): see [`GroupWarmup`].
    pub warmup: GroupWarmup,
    /// Target tracking policies.
    pub target_tracking: Vec<TargetTrackingSpec>,
    /// Step scaling policies.
    pub step: Vec<StepSpec>,
    /// Simple scaling policies.
    pub simple: Vec<SimpleSpec>,
    /// Scheduled actions, with where the run starts in the UTC week.
    pub scheduled: Option<(WallClock, Vec<ScheduledAction>)>,
    /// Predictive scaling.
    pub predictive: Option<PredictiveSpec>,
}

/// A target tracking policy (`[[pool.autoscaling.target_tracking]]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetTrackingSpec {
    /// Its metric (statistic Average).
    pub metric: AwsMetric,
    /// `TargetValue`.
    pub target: f64,
    /// `DisableScaleIn`.
    pub disable_scale_in: bool,
    /// `EstimatedInstanceWarmup` of the instances it launches; `None`: the group's (see
    /// [`GroupWarmup::of_policy`]).
    pub estimated_instance_warmup: Option<SimDuration>,
}

/// The CloudWatch alarm that invokes a step or simple policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlarmSpec {
    /// Its metric.
    pub metric: AwsMetric,
    /// `ComparisonOperator`.
    pub comparison: Comparison,
    /// `Threshold`.
    pub threshold: f64,
    /// `EvaluationPeriods` (default 1).
    pub evaluation_periods: usize,
    /// `DatapointsToAlarm` (default: the evaluation periods).
    pub datapoints_to_alarm: usize,
}

/// A step scaling policy (`[[pool.autoscaling.step]]`).
#[derive(Debug, Clone, PartialEq)]
pub struct StepSpec {
    /// The alarm.
    pub alarm: AlarmSpec,
    /// `AdjustmentType` (with `MinAdjustmentMagnitude`).
    pub adjustment_type: AdjustmentType,
    /// `StepAdjustments`, bounds relative to the threshold.
    pub steps: Vec<StepAdjustment>,
    /// `EstimatedInstanceWarmup` of the instances it launches; `None`: the group's (see
    /// [`GroupWarmup::of_policy`]).
    pub estimated_instance_warmup: Option<SimDuration>,
}

/// A simple scaling policy (`[[pool.autoscaling.simple]]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimpleSpec {
    /// The alarm.
    pub alarm: AlarmSpec,
    /// `AdjustmentType` (with `MinAdjustmentMagnitude`).
    pub adjustment_type: AdjustmentType,
    /// `ScalingAdjustment`.
    pub adjustment: i32,
    /// `Cooldown`; `None`: the group's default cooldown.
    pub cooldown: Option<SimDuration>,
}

/// Predictive scaling (`[pool.autoscaling.predictive]`): the load metric is the pool's
/// request rate, averaged per hour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PredictiveSpec {
    /// Target load per instance [requests/s], mode, buffer, max-capacity behaviour.
    pub config: PredictiveConfig,
}

/// One metric of an HPA (`spec.metrics[]`), with its target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HpaMetric {
    /// `type: Resource`, `target.averageUtilization` percent of the request: utilization.
    Resource {
        /// Target utilization \[%\].
        average_utilization: u32,
    },
    /// `type: Pods`, `target.averageValue`: a per-pod metric (`in_flight`, `utilization`).
    Pods {
        /// The per-instance metric.
        metric: MetricKind,
        /// Target average per pod.
        average_value: f64,
    },
    /// `type: External`, target `averageValue` (per replica) or `value` (total).
    External {
        /// The pool-level metric (`queue_depth`, `queue_oldest_age`, `request_rate`).
        metric: MetricKind,
        /// The target.
        target: f64,
        /// `AverageValue` or `Value`.
        target_type: MetricTargetType,
    },
}

/// A Kubernetes HPA (`[pool.autoscaling.hpa]`).
#[derive(Debug, Clone, PartialEq)]
pub struct HpaController {
    /// `--horizontal-pod-autoscaler-sync-period` (default 15 s).
    pub sync_period: SimDuration,
    /// How often metrics are scraped (metrics-server resolution / Prometheus scrape interval,
    /// default 15 s): a reading is the newest scrape, and per-pod values are means over the
    /// scrape interval.
    pub scrape_interval: SimDuration,
    /// `spec.metrics` (default: utilization at 80 %).
    pub metrics: Vec<HpaMetric>,
    /// `spec.behavior`; `None`: the controller's legacy path.
    pub behavior: Option<HpaBehavior>,
    /// `--horizontal-pod-autoscaler-tolerance` (default 0.1 each way).
    pub tolerances: Tolerances,
}

/// One KEDA trigger on a pool metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KedaTrigger {
    /// The pool-level metric it reads (`queue_depth`, `queue_oldest_age`, `request_rate`).
    pub metric: MetricKind,
    /// Target per replica (`AverageValue`) or in total (`Value`).
    pub target: f64,
    /// `activationThreshold`: active when the metric is strictly above it. Default 0.
    pub activation: f64,
    /// `metricType`. Default `AverageValue`.
    pub target_type: MetricTargetType,
    /// A `queue_depth` trigger also counts the messages being processed (received, not yet
    /// deleted or acknowledged), as the scaler it imitates reads its queue: KEDA's AWS SQS
    /// scaler by default (`scaleOnInFlight`), RabbitMQ through its management API unless
    /// `excludeUnacknowledged`; not a Redis list (a worker pops what it takes). Always false
    /// for other metrics.
    pub counts_in_flight: bool,
}

/// A KEDA ScaledObject (`[pool.autoscaling.keda]`) and the HPA it drives.
#[derive(Debug, Clone, PartialEq)]
pub struct KedaController {
    /// `pollingInterval`, `cooldownPeriod`, `initialCooldownPeriod`, `idleReplicaCount`; its
    /// min and max are the autoscaling's.
    pub config: KedaConfig,
    /// `triggers`.
    pub triggers: Vec<KedaTrigger>,
    /// The HPA's sync period (default 15 s).
    pub sync_period: SimDuration,
    /// `advanced.horizontalPodAutoscalerConfig.behavior`; `None`: the HPA's defaults.
    pub behavior: Option<HpaBehavior>,
}
