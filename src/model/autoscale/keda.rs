//! KEDA `ScaledObject` semantics: activation (0 ↔ 1, or idle ↔ min), the cooldown before
//! deactivation, and what KEDA hands to the HPA it creates for 1 ↔ N.
//!
//! This module owns KEDA's own decision at each poll. It must not know the HPA's replica maths
//! (that is `hpa.rs`; KEDA delegates to a real HPA for 1..N), how metric values are measured
//! (the world reads them, through a [`super::metrics_pipeline::MetricsPipeline`] or directly) or
//! how pods start.
//!
//! ## What KEDA does (v2, `kedacore/keda`)
//! - Every `pollingInterval` (default 30 s) KEDA asks each trigger's scaler for its metric and
//!   whether it is *active*. A scaler is active when its metric is **strictly greater** than its
//!   `activationThreshold` (default 0): e.g. `messages > s.metadata.ActivationQueueLength`
//!   (`pkg/scalers/artemis_scaler.go`, `GetMetricsAndActivity`), the same `>` in every scaler.
//!   The ScaledObject is active when any trigger is (`RequestScale` ORs them).
//! - `pkg/scaling/executor/scale_scaledobjects.go`, `RequestScale`, with `minReplicaCount`
//!   defaulting to 0:
//!   - active, and (`idleReplicaCount` set and replicas < min) or replicas = 0 →
//!     `scaleFromZeroOrIdle`: replicas := `minReplicaCount` if > 0, else 1; `lastActiveTime` :=
//!     now;
//!   - active otherwise → `lastActiveTime` := now, nothing scaled (the HPA scales 1..N);
//!   - inactive, and (`idleReplicaCount` set and replicas > idle) or (replicas > 0 and min = 0)
//!     → `scaleToZeroOrIdle`: if `lastActiveTime + cooldownPeriod` is **before** now (strictly;
//!     Go's `Time.Before`) — or, never active, `creationTimestamp + initialCooldownPeriod`
//!     before now — replicas := `idleReplicaCount` if set, else `minReplicaCount`; otherwise
//!     "cooling down";
//!   - inactive, no idle count and replicas < min → replicas := min;
//!   - else no change.
//! - KEDA creates an HPA with `minReplicas = minReplicaCount` if > 0 else 1
//!   (`controllers/keda/hpa.go`, `getHPAMinReplicas`), `maxReplicas = maxReplicaCount` (default
//!   100), one External metric per trigger with target `AverageValue` by default (the trigger's
//!   `metricType`: `AverageValue` or `Value`). A queue-length trigger (RabbitMQ `queueLength`,
//!   SQS `queueLength`) publishes the queue length with the per-replica target as AverageValue, so
//!   the HPA's own rule yields `ceil(queue / target)` replicas. The HPA does nothing while the
//!   target has 0 replicas (Kubernetes "implicit maintenance-mode deactivation"), which is why
//!   KEDA owns 0 → 1.
//! - Defaults (keda.sh, *ScaledObject specification*,
//!   <https://keda.sh/docs/latest/reference/scaledobject-spec/>): `pollingInterval` 30 s,
//!   `cooldownPeriod` 300 s, `initialCooldownPeriod` 0 s, `minReplicaCount` 0,
//!   `maxReplicaCount` 100, `idleReplicaCount` unset (must be less than `minReplicaCount`).
//!
//! - The value a queue trigger reports is the scaler's: KEDA's AWS SQS scaler counts visible
//!   and in-flight messages by default (`scaleOnInFlight`, `pkg/scalers/aws_sqs_queue_scaler.go`),
//!   RabbitMQ over HTTP ready and unacknowledged ones, a Redis list only what waits. The world
//!   measures it (`world/autoscaler.rs`, `trigger_values`); this module only compares it.
//! - `idleReplicaCount`: the documentation supports only 0 ("Due to limitations in HPA
//!   controller the only supported value for this property is 0"); the pool's own floor must
//!   then be the idle count, not `minReplicaCount`, which only the HPA keeps.
//!
//! Left out: `fallback` (scaler errors; fleetsim's metrics never fail), pause annotations,
//! `ScaledJob`, and `advanced.horizontalPodAutoscalerConfig.behavior`, which belongs to the HPA
//! model.

use crate::time::{SimDuration, SimTime};

/// How the HPA reads a trigger's external metric (ScaledObject `triggers[].metricType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricTargetType {
    /// The metric is divided by the current replica count before comparing with the target
    /// (KEDA's default). A queue-length trigger uses this.
    AverageValue,
    /// The metric is compared with the target as it is.
    Value,
}

/// One trigger of a ScaledObject.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trigger {
    /// The target the HPA scales to (e.g. RabbitMQ/SQS `queueLength`: messages per replica).
    pub target: f64,
    /// The trigger is active when its metric is strictly above this. Default 0.
    pub activation_threshold: f64,
    /// How the HPA reads the metric. Default [`MetricTargetType::AverageValue`].
    pub metric_type: MetricTargetType,
}

impl Trigger {
    /// A queue-length trigger: `queue_length` messages per replica, activation above
    /// `activation_queue_length` (KEDA's RabbitMQ and SQS scalers, `mode: QueueLength`).
    pub fn queue_length(queue_length: f64, activation_queue_length: f64) -> Self {
        Trigger {
            target: queue_length,
            activation_threshold: activation_queue_length,
            metric_type: MetricTargetType::AverageValue,
        }
    }

    /// Whether `value` makes this trigger active: strictly above the activation threshold.
    pub fn is_active(&self, value: f64) -> bool {
        value > self.activation_threshold
    }
}

/// The `ScaledObject` fields KEDA's own decision uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KedaConfig {
    /// How often KEDA polls the triggers. Default 30 s.
    pub polling_interval: SimDuration,
    /// How long after the last active poll KEDA waits before scaling to zero (or idle).
    /// Default 300 s.
    pub cooldown_period: SimDuration,
    /// Before the first activity, how long after creation KEDA waits before scaling to zero.
    /// Default 0 s.
    pub initial_cooldown_period: SimDuration,
    /// The floor the HPA keeps while active; 0 allows scaling to zero. Default 0.
    pub min_replica_count: u32,
    /// The HPA's ceiling. Default 100.
    pub max_replica_count: u32,
    /// The replica count while inactive, when set (must be below `min_replica_count`).
    /// Default unset.
    pub idle_replica_count: Option<u32>,
}

impl Default for KedaConfig {
    fn default() -> Self {
        KedaConfig {
            polling_interval: SimDuration::from_secs(30),
            cooldown_period: SimDuration::from_secs(300),
            initial_cooldown_period: SimDuration::ZERO,
            min_replica_count: 0,
            max_replica_count: 100,
            idle_replica_count: None,
        }
    }
}

/// What KEDA decides at one poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KedaDecision {
    /// A trigger is active and the target is at zero (or idle): set the replicas to this
    /// (`minReplicaCount`, or 1 when it is 0). The HPA takes over from the next HPA sync.
    Activate {
        /// The new replica count.
        replicas: u32,
    },
    /// A trigger is active and the target runs: KEDA only notes the activity; the HPA scales
    /// 1..N from [`ScaledObject::hpa_metrics`].
    DelegateToHpa,
    /// No trigger is active, the target runs, and the cooldown has not passed: the HPA keeps
    /// control (down to its own minimum) until `deactivate_after`.
    CoolingDown {
        /// KEDA deactivates at the first poll strictly after this instant.
        deactivate_after: SimTime,
    },
    /// No trigger has been active for longer than the cooldown: set the replicas to this
    /// (`idleReplicaCount` if set, else `minReplicaCount`, i.e. 0).
    Deactivate {
        /// The new replica count.
        replicas: u32,
    },
    /// Inactive, no idle count, and below `minReplicaCount`: set the replicas to it.
    RaiseToMin {
        /// The new replica count.
        replicas: u32,
    },
    /// Nothing to do (inactive and already scaled in).
    Hold,
}

impl KedaDecision {
    /// The replica count KEDA itself sets, if any.
    pub fn replicas(&self) -> Option<u32> {
        match *self {
            KedaDecision::Activate { replicas }
            | KedaDecision::Deactivate { replicas }
            | KedaDecision::RaiseToMin { replicas } => Some(replicas),
            _ => None,
        }
    }
}

/// One external metric as the HPA KEDA created sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HpaExternalMetric {
    /// The trigger's current metric value (e.g. the queue length).
    pub value: f64,
    /// The trigger's target.
    pub target: f64,
    /// How the HPA compares them.
    pub metric_type: MetricTargetType,
}

/// A ScaledObject's state: its configuration, triggers and `status.lastActiveTime`.
#[derive(Clone, Debug)]
pub struct ScaledObject {
    config: KedaConfig,
    triggers: Vec<Trigger>,
    created_at: SimTime,
    last_active: Option<SimTime>,
}

impl ScaledObject {
    /// A ScaledObject created at `created_at`. Panics with no trigger, or an idle count not
    /// below the minimum (the scenario validates both; KEDA's webhook rejects them too).
    pub fn new(config: KedaConfig, triggers: Vec<Trigger>, created_at: SimTime) -> Self {
        assert!(!triggers.is_empty(), "a ScaledObject needs a trigger");
        if let Some(idle) = config.idle_replica_count {
            assert!(
                idle < config.min_replica_count,
                "idleReplicaCount must be less than minReplicaCount"
            );
        }
        ScaledObject {
            config,
            triggers,
            created_at,
            last_active: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &KedaConfig {
        &self.config
    }

    /// The triggers, in order.
    pub fn triggers(&self) -> &[Trigger] {
        &self.triggers
    }

    /// `status.lastActiveTime`: the last poll at which a trigger was active.
    pub fn last_active(&self) -> Option<SimTime> {
        self.last_active
    }

    /// Whether any trigger is active for `values` (one per trigger, same order).
    pub fn is_active(&self, values: &[f64]) -> bool {
        assert_eq!(values.len(), self.triggers.len(), "one value per trigger");
        self.triggers
            .iter()
            .zip(values)
            .any(|(t, &v)| t.is_active(v))
    }

    /// KEDA's poll at `now`, with the target at `current_replicas` and `values` the triggers'
    /// metrics (one per trigger, same order). Updates `lastActiveTime` as KEDA does.
    pub fn poll(&mut self, now: SimTime, current_replicas: u32, values: &[f64]) -> KedaDecision {
        let c = &self.config;
        let min = c.min_replica_count;
        if self.is_active(values) {
            let below_min_idle = c.idle_replica_count.is_some() && current_replicas < min;
            self.last_active = Some(now);
            if below_min_idle || current_replicas == 0 {
                KedaDecision::Activate {
                    replicas: min.max(1),
                }
            } else {
                KedaDecision::DelegateToHpa
            }
        } else {
            let above_idle = c.idle_replica_count.is_some_and(|i| current_replicas > i);
            if above_idle || (current_replicas > 0 && min == 0) {
                let deactivate_after = match self.last_active {
                    Some(t) => t.saturating_add(c.cooldown_period),
                    None => self.created_at.saturating_add(c.initial_cooldown_period),
                };
                // Go's `deadline.Before(now)`: strictly earlier.
                if deactivate_after < now {
                    KedaDecision::Deactivate {
                        replicas: c.idle_replica_count.unwrap_or(min),
                    }
                } else {
                    KedaDecision::CoolingDown { deactivate_after }
                }
            } else if c.idle_replica_count.is_none() && current_replicas < min {
                KedaDecision::RaiseToMin { replicas: min }
            } else {
                KedaDecision::Hold
            }
        }
    }

    /// What the HPA KEDA created reads: one external metric per trigger (`values` in trigger
    /// order). The HPA model combines them (the largest proposal wins) and applies its bounds.
    pub fn hpa_metrics<'a>(
        &'a self,
        values: &'a [f64],
    ) -> impl Iterator<Item = HpaExternalMetric> + 'a {
        assert_eq!(values.len(), self.triggers.len(), "one value per trigger");
        self.triggers
            .iter()
            .zip(values)
            .map(|(t, &value)| HpaExternalMetric {
                value,
                target: t.target,
                metric_type: t.metric_type,
            })
    }

    /// The HPA's `minReplicas`: `minReplicaCount` if positive, else 1 (`getHPAMinReplicas`).
    pub fn hpa_min_replicas(&self) -> u32 {
        self.config.min_replica_count.max(1)
    }

    /// The HPA's `maxReplicas`: `maxReplicaCount`.
    pub fn hpa_max_replicas(&self) -> u32 {
        self.config.max_replica_count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> SimTime {
        SimTime::from_nanos(s * 1_000_000_000)
    }

    /// Default ScaledObject (poll 30 s, cooldown 300 s, min 0) with one RabbitMQ-like trigger:
    /// 5 messages per replica, activation above 2.
    fn queue_object() -> ScaledObject {
        ScaledObject::new(
            KedaConfig::default(),
            vec![Trigger::queue_length(5.0, 2.0)],
            SimTime::ZERO,
        )
    }

    #[test]
    fn scales_from_zero_on_first_poll_above_activation() {
        let mut so = queue_object();
        // Polls at 0, 30, 60: queue 0, 2 (= threshold, inactive), 3 (active).
        assert_eq!(so.poll(secs(0), 0, &[0.0]), KedaDecision::Hold);
        assert_eq!(so.poll(secs(30), 0, &[2.0]), KedaDecision::Hold);
        assert_eq!(
            so.poll(secs(60), 0, &[3.0]),
            KedaDecision::Activate { replicas: 1 }
        );
        assert_eq!(so.last_active(), Some(secs(60)));
        // Next poll, target running and still active: the HPA's business.
        assert_eq!(so.poll(secs(90), 1, &[40.0]), KedaDecision::DelegateToHpa);
        assert_eq!(so.last_active(), Some(secs(90)));
    }

    #[test]
    fn activation_threshold_is_strict() {
        let t = Trigger::queue_length(5.0, 2.0);
        assert!(!t.is_active(2.0));
        assert!(t.is_active(2.000_001));
        // Default activation threshold 0: an empty queue is inactive, one message is active.
        let t0 = Trigger::queue_length(5.0, 0.0);
        assert!(!t0.is_active(0.0));
        assert!(t0.is_active(1.0));
    }

    #[test]
    fn scale_to_zero_only_strictly_after_cooldown() {
        // Last active at 90 s; cooldown 300 s → deadline 390 s. Polls every 30 s with an empty
        // queue: 120..=390 cool down (390 is not *before* 390), 420 deactivates to 0.
        let mut so = queue_object();
        so.poll(secs(60), 0, &[3.0]);
        so.poll(secs(90), 3, &[3.0]);
        for t in (120..=390).step_by(30) {
            assert_eq!(
                so.poll(secs(t), 3, &[0.0]),
                KedaDecision::CoolingDown {
                    deactivate_after: secs(390)
                },
                "t = {t}"
            );
        }
        assert_eq!(
            so.poll(secs(420), 3, &[0.0]),
            KedaDecision::Deactivate { replicas: 0 }
        );
        // One nanosecond past the deadline already qualifies.
        let mut so = queue_object();
        so.poll(secs(90), 1, &[3.0]);
        assert_eq!(
            so.poll(SimTime::from_nanos(390_000_000_001), 1, &[0.0]),
            KedaDecision::Deactivate { replicas: 0 }
        );
    }

    #[test]
    fn activity_during_cooldown_restarts_it() {
        // Active at 0, idle at 200, active again at 250 (queue 10), idle after: the deadline
        // moves from 300 to 550.
        let mut so = queue_object();
        so.poll(secs(0), 0, &[10.0]);
        assert!(matches!(
            so.poll(secs(200), 2, &[0.0]),
            KedaDecision::CoolingDown { deactivate_after } if deactivate_after == secs(300)
        ));
        assert_eq!(so.poll(secs(250), 2, &[10.0]), KedaDecision::DelegateToHpa);
        assert_eq!(
            so.poll(secs(400), 2, &[0.0]),
            KedaDecision::CoolingDown {
                deactivate_after: secs(550)
            }
        );
        assert_eq!(
            so.poll(secs(580), 2, &[0.0]),
            KedaDecision::Deactivate { replicas: 0 }
        );
    }

    #[test]
    fn never_active_uses_initial_cooldown_from_creation() {
        // Created at 100 with initialCooldownPeriod 60 and 2 replicas set outside KEDA:
        // deadline 160, so 160 cools down and 190 deactivates.
        let cfg = KedaConfig {
            initial_cooldown_period: SimDuration::from_secs(60),
            ..KedaConfig::default()
        };
        let mut so = ScaledObject::new(cfg, vec![Trigger::queue_length(5.0, 0.0)], secs(100));
        assert_eq!(
            so.poll(secs(160), 2, &[0.0]),
            KedaDecision::CoolingDown {
                deactivate_after: secs(160)
            }
        );
        assert_eq!(
            so.poll(secs(190), 2, &[0.0]),
            KedaDecision::Deactivate { replicas: 0 }
        );
    }

    #[test]
    fn idle_replica_count_activates_to_min_and_idles_after_cooldown() {
        // idle 0, min 2, max 10: activation goes to 2 (not 1); after the cooldown KEDA sets 0.
        let cfg = KedaConfig {
            min_replica_count: 2,
            max_replica_count: 10,
            idle_replica_count: Some(0),
            ..KedaConfig::default()
        };
        let mut so = ScaledObject::new(cfg, vec![Trigger::queue_length(5.0, 0.0)], SimTime::ZERO);
        assert_eq!(so.poll(secs(0), 0, &[0.0]), KedaDecision::Hold);
        assert_eq!(
            so.poll(secs(30), 0, &[1.0]),
            KedaDecision::Activate { replicas: 2 }
        );
        assert_eq!(so.poll(secs(60), 4, &[30.0]), KedaDecision::DelegateToHpa);
        assert!(matches!(
            so.poll(secs(90), 4, &[0.0]),
            KedaDecision::CoolingDown { .. }
        ));
        // Deadline 60 + 300 = 360; the 390 poll deactivates to idle (0).
        assert_eq!(
            so.poll(secs(390), 2, &[0.0]),
            KedaDecision::Deactivate { replicas: 0 }
        );
        assert_eq!((so.hpa_min_replicas(), so.hpa_max_replicas()), (2, 10));
    }

    #[test]
    fn idle_replica_count_one_with_min_three() {
        // idle 1, min 3: at 1 replica and active, KEDA activates to 3 (replicas < min in idle
        // mode), not to 1 and not left to the HPA.
        let cfg = KedaConfig {
            min_replica_count: 3,
            idle_replica_count: Some(1),
            ..KedaConfig::default()
        };
        let mut so = ScaledObject::new(cfg, vec![Trigger::queue_length(5.0, 0.0)], SimTime::ZERO);
        assert_eq!(
            so.poll(secs(0), 1, &[1.0]),
            KedaDecision::Activate { replicas: 3 }
        );
        assert_eq!(
            so.poll(secs(400), 3, &[0.0]),
            KedaDecision::Deactivate { replicas: 1 }
        );
        // At idle and inactive: nothing to do (no RaiseToMin in idle mode).
        assert_eq!(so.poll(secs(430), 1, &[0.0]), KedaDecision::Hold);
    }

    #[test]
    fn min_replica_count_without_idle_is_a_floor_keda_restores() {
        // min 2, no idle: inactive with 0 replicas → KEDA raises to 2; with 2 → hold; the
        // cooldown never scales below min (only min = 0 or an idle count allow it).
        let cfg = KedaConfig {
            min_replica_count: 2,
            ..KedaConfig::default()
        };
        let mut so = ScaledObject::new(cfg, vec![Trigger::queue_length(5.0, 0.0)], SimTime::ZERO);
        assert_eq!(
            so.poll(secs(0), 0, &[0.0]),
            KedaDecision::RaiseToMin { replicas: 2 }
        );
        assert_eq!(so.poll(secs(1000), 2, &[0.0]), KedaDecision::Hold);
        assert_eq!(so.poll(secs(1000), 5, &[0.0]), KedaDecision::Hold);
    }

    #[test]
    fn any_active_trigger_activates_and_hpa_sees_every_metric() {
        // Two triggers: a queue (target 5, activation 2) and a Value-type metric (target 100,
        // activation 50). Queue 1 (inactive), second 60 (active) → active.
        let mut so = ScaledObject::new(
            KedaConfig::default(),
            vec![
                Trigger::queue_length(5.0, 2.0),
                Trigger {
                    target: 100.0,
                    activation_threshold: 50.0,
                    metric_type: MetricTargetType::Value,
                },
            ],
            SimTime::ZERO,
        );
        assert_eq!(
            so.poll(secs(0), 0, &[1.0, 60.0]),
            KedaDecision::Activate { replicas: 1 }
        );
        let m: Vec<HpaExternalMetric> = so.hpa_metrics(&[1.0, 60.0]).collect();
        assert_eq!(
            m,
            vec![
                HpaExternalMetric {
                    value: 1.0,
                    target: 5.0,
                    metric_type: MetricTargetType::AverageValue
                },
                HpaExternalMetric {
                    value: 60.0,
                    target: 100.0,
                    metric_type: MetricTargetType::Value
                },
            ]
        );
        // Defaults: HPA min 1 when minReplicaCount is 0, max 100.
        assert_eq!((so.hpa_min_replicas(), so.hpa_max_replicas()), (1, 100));
    }
}
