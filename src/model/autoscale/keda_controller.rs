//! KEDA as a controller behind [`super::controller`]'s interface: a ScaledObject
//! ([`ScaledObject`]) and the HPA it creates.
//!
//! KEDA polls its triggers every `pollingInterval` and owns 0 ↔ 1; the HPA it creates scales
//! 1 ↔ N on the triggers' values, read when it syncs (KEDA's metrics server asks the scaler on
//! demand).

use crate::time::{SimDuration, SimTime};

use super::controller::{Reads, RoutedMark, ScalingAction, ScalingObservation, Tick};
use super::hpa::{
    self, Hpa, HpaObservation, HpaSpec, MetricReading, DEFAULT_DOWNSCALE_STABILIZATION,
};
use super::hpa_controller::{hpa_metric, milli, pods, sync};
use super::keda::{self as scaled_object, ScaledObject};
use super::spec::{
    AutoscalingSpec, HpaMetric, KedaController as KedaSettings, KedaTrigger, MetricKind,
};

/// A KEDA ScaledObject and the HPA it drives.
#[derive(Debug, Clone)]
pub struct KedaController {
    scaled: ScaledObject,
    hpa: Hpa,
    triggers: Vec<KedaTrigger>,
    sync_period: SimDuration,
    poll_mark: RoutedMark,
    sync_mark: RoutedMark,
}

/// The values of KEDA's `triggers` in `obs`, the request metrics counted since `mark`: a queue
/// trigger whose scaler counts the messages being processed (SQS's `scaleOnInFlight`,
/// RabbitMQ's unacknowledged) adds the requests the pool's workers hold in service to the
/// waiting ones.
fn trigger_values(
    triggers: &[KedaTrigger],
    obs: &ScalingObservation<'_>,
    mark: &mut RoutedMark,
) -> Vec<f64> {
    let (count, seconds) = mark.take(obs.routed, obs.now);
    triggers
        .iter()
        .map(|t| {
            let value = obs.pool_metric(t.metric, count, seconds).unwrap_or(0.0);
            if t.counts_in_flight && t.metric == MetricKind::QueueDepth {
                value + obs.in_service_requests
            } else {
                value
            }
        })
        .collect()
}

impl KedaController {
    /// KEDA `k` of the autoscaling `spec` (whose min and max are the ScaledObject's).
    pub fn new(spec: &AutoscalingSpec, k: &KedaSettings) -> Self {
        let mut config = k.config;
        config.min_replica_count = spec.min;
        config.max_replica_count = spec.max;
        let triggers: Vec<scaled_object::Trigger> = k
            .triggers
            .iter()
            .map(|t| scaled_object::Trigger {
                target: t.target,
                activation_threshold: t.activation,
                metric_type: t.target_type,
            })
            .collect();
        let scaled = ScaledObject::new(config, triggers, SimTime::ZERO);
        let hpa = Hpa::new(HpaSpec {
            min_replicas: scaled.hpa_min_replicas(),
            max_replicas: scaled.hpa_max_replicas(),
            metrics: k
                .triggers
                .iter()
                .map(|t| {
                    hpa_metric(&HpaMetric::External {
                        metric: t.metric,
                        target: t.target,
                        target_type: t.target_type,
                    })
                })
                .collect(),
            behavior: k.behavior.clone(),
            tolerances: hpa::Tolerances::default(),
            downscale_stabilization: DEFAULT_DOWNSCALE_STABILIZATION,
        });
        KedaController {
            scaled,
            hpa,
            triggers: k.triggers.clone(),
            sync_period: k.sync_period,
            poll_mark: RoutedMark::START,
            sync_mark: RoutedMark::START,
        }
    }

    /// The first wake-ups: a poll at once, the HPA's first sync a period later.
    pub fn first_ticks(&self) -> Vec<(SimDuration, Tick)> {
        vec![
            (SimDuration::ZERO, Tick::KedaPoll),
            (self.sync_period, Tick::HpaSync),
        ]
    }

    /// KEDA reads gauges only: its triggers, at a poll and at its HPA's sync.
    pub fn reads(&self, _tick: Tick) -> Reads<'_> {
        Reads {
            gauges: true,
            ..Reads::default()
        }
    }

    /// KEDA or its HPA wakes for `tick` (see [`super::autoscaler::Autoscaler::on_tick`]).
    pub fn on_tick(
        &mut self,
        tick: Tick,
        obs: &ScalingObservation<'_>,
        actions: &mut Vec<ScalingAction>,
    ) -> Option<SimDuration> {
        match tick {
            Tick::KedaPoll => {
                self.poll(obs, actions);
                Some(self.scaled.config().polling_interval)
            }
            Tick::HpaSync => {
                self.hpa_sync(obs, actions);
                Some(self.sync_period)
            }
            _ => None,
        }
    }

    /// KEDA polls its triggers: it may wake the pool from zero or put it to sleep.
    fn poll(&mut self, obs: &ScalingObservation<'_>, actions: &mut Vec<ScalingAction>) {
        let values = trigger_values(&self.triggers, obs, &mut self.poll_mark);
        let current = obs.desired;
        let decision = self.scaled.poll(obs.now, current, &values);
        if let Some(replicas) = decision.replicas() {
            if replicas != current {
                actions.push(ScalingAction::SetDesired {
                    desired: replicas,
                    policy: "keda",
                    reason: format!("{decision:?}"),
                });
            }
        }
    }

    /// The HPA KEDA created syncs on the triggers' values now (inactive at zero replicas).
    fn hpa_sync(&mut self, obs: &ScalingObservation<'_>, actions: &mut Vec<ScalingAction>) {
        let values = trigger_values(&self.triggers, obs, &mut self.sync_mark);
        if obs.desired == 0 {
            // The HPA is inactive at zero replicas; KEDA owns 0 -> 1.
            return;
        }
        let (pods, _) = pods(obs.instances);
        let externals: Vec<[i64; 1]> = values.iter().map(|&v| [milli(v)]).collect();
        let readings: Vec<MetricReading<'_>> = externals
            .iter()
            .map(|v| MetricReading::External(v))
            .collect();
        let observation = HpaObservation {
            pods: &pods,
            readings: &readings,
        };
        sync(&mut self.hpa, obs, &observation, "keda_hpa", actions);
    }
}

#[cfg(test)]
mod tests {
    use super::super::capacity::CapacityLimits;
    use super::super::controller::tests::observation;
    use super::super::keda::{KedaConfig, MetricTargetType};
    use super::super::spec::Controller;
    use super::*;

    #[test]
    fn keda_wakes_a_pool_at_zero_and_its_hpa_waits_for_it() {
        let spec = AutoscalingSpec {
            min: 0,
            max: 10,
            controller: Controller::Keda(KedaSettings {
                config: KedaConfig::default(),
                triggers: vec![KedaTrigger {
                    metric: MetricKind::QueueDepth,
                    target: 5.0,
                    activation: 0.0,
                    target_type: MetricTargetType::AverageValue,
                    counts_in_flight: false,
                }],
                sync_period: SimDuration::from_secs(15),
                behavior: None,
            }),
        };
        let Controller::Keda(k) = &spec.controller else {
            unreachable!()
        };
        let mut keda = KedaController::new(&spec, k);
        let limits = CapacityLimits::new(0, 10);
        let t = SimTime::ZERO + SimDuration::from_secs(15);
        let mut obs = observation(t, 0, limits, &[]);
        obs.queue_depth = 3.0;
        let mut actions = Vec::new();
        // At zero the HPA is inactive: its sync changes nothing.
        assert_eq!(
            keda.on_tick(Tick::HpaSync, &obs, &mut actions),
            Some(SimDuration::from_secs(15))
        );
        assert!(actions.is_empty(), "{actions:?}");
        // A poll sees an active trigger (3 > 0): KEDA sets one replica.
        assert_eq!(
            keda.on_tick(Tick::KedaPoll, &obs, &mut actions),
            Some(SimDuration::from_secs(30))
        );
        assert!(
            matches!(
                actions.as_slice(),
                [ScalingAction::SetDesired {
                    desired: 1,
                    policy: "keda",
                    ..
                }]
            ),
            "{actions:?}"
        );
    }
}
