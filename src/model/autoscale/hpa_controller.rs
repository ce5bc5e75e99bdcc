//! A Kubernetes HPA as a controller behind [`super::controller`]'s interface: its scrapes and
//! its syncs.
//!
//! Metrics are scraped every `scrape_interval` (per-pod values are means over the interval;
//! metrics-server's resolution); the controller syncs every `sync_period` (default 15 s,
//! `--horizontal-pod-autoscaler-sync-period`) on the newest scrape, with the pods as the
//! ReplicaSet has them: booting pods are Pending, loading and warming pods Running but not ready
//! (no metrics yet), draining pods deleted. The decision itself is [`Hpa::decide`].

use crate::time::SimDuration;

use super::controller::{
    InstanceReading, Reads, RoutedMark, ScalingAction, ScalingObservation, SlotState, Tick,
};
use super::hpa::{
    Hpa, HpaDecision, HpaObservation, HpaReason, HpaSpec, MetricReading, MetricSpec, PodInfo,
    PodPhase, DEFAULT_DOWNSCALE_STABILIZATION,
};
use super::keda::MetricTargetType;
use super::spec::{AutoscalingSpec, HpaController as HpaSettings, HpaMetric, MetricKind};

/// A Kubernetes HPA and its newest scrape.
#[derive(Debug, Clone)]
pub struct HpaController {
    hpa: Hpa,
    spec: Vec<HpaMetric>,
    sync_period: SimDuration,
    scrape_interval: SimDuration,
    /// Per metric, per slot of the pool: the newest scraped per-pod value [milli-units].
    pod_values: Vec<Vec<Option<i64>>>,
    /// Per metric: the newest scraped pool-level value [milli-units].
    pool_values: Vec<Option<i64>>,
    scrape_mark: RoutedMark,
}

/// `v` in milli-units, as the metrics APIs hand values to the HPA (`MilliValue()`).
pub(super) fn milli(v: f64) -> i64 {
    (v * 1000.0).round() as i64
}

/// The HPA's metric for one of ours: values are milli-units of the metric, utilization is
/// busy slots against a request of one whole instance (1000 milli).
pub(super) fn hpa_metric(m: &HpaMetric) -> MetricSpec {
    match *m {
        HpaMetric::Resource {
            average_utilization,
        } => MetricSpec::ResourceUtilization {
            target_percent: average_utilization as i32,
            cpu: false,
        },
        HpaMetric::Pods { average_value, .. } => MetricSpec::PodsAverageValue {
            target_milli: milli(average_value),
            cpu: false,
        },
        HpaMetric::External {
            target,
            target_type: MetricTargetType::AverageValue,
            ..
        } => MetricSpec::ExternalAverageValue {
            target_milli: milli(target),
        },
        HpaMetric::External {
            target,
            target_type: MetricTargetType::Value,
            ..
        } => MetricSpec::ExternalValue {
            target_milli: milli(target),
        },
    }
}

/// The pool's pods as the HPA lists them, with each pod's slot: an instance in a warm pool or
/// no instance at all is no pod.
pub(super) fn pods(instances: &[InstanceReading]) -> (Vec<PodInfo>, Vec<usize>) {
    let mut pods = Vec::new();
    let mut slots = Vec::new();
    for (slot, r) in instances.iter().enumerate() {
        let (phase, deleting, ready) = match r.state {
            SlotState::Pending => (PodPhase::Pending, false, false),
            SlotState::Starting => (PodPhase::Running, false, false),
            SlotState::InService => (PodPhase::Running, false, true),
            SlotState::Draining => (PodPhase::Running, true, false),
            SlotState::Empty => continue,
        };
        pods.push(PodInfo {
            phase,
            deleting,
            ready,
            cpu_unready: false,
            request_milli: 1000,
        });
        slots.push(slot);
    }
    (pods, slots)
}

/// An HPA decision in words, for scaling events.
fn hpa_reason(d: &HpaDecision) -> String {
    match d.reason {
        HpaReason::Metrics(limit) => format!(
            "metrics want {}{}; {limit:?}",
            d.metric_replicas.unwrap_or(0),
            if d.stabilized { ", stabilized" } else { "" }
        ),
        other => format!("{other:?}"),
    }
}

/// One HPA sync on `observation` for a pool wanting `obs.desired`: a new desired capacity
/// unless the HPA is disabled (at zero replicas) or keeps the count.
pub(super) fn sync(
    hpa: &mut Hpa,
    obs: &ScalingObservation<'_>,
    observation: &HpaObservation<'_>,
    policy: &'static str,
    actions: &mut Vec<ScalingAction>,
) {
    let current = obs.desired;
    let d = hpa.decide(obs.now, current, observation);
    if d.reason != HpaReason::ScalingDisabled && d.desired != current {
        actions.push(ScalingAction::SetDesired {
            desired: d.desired,
            policy,
            reason: hpa_reason(&d),
        });
    }
}

impl HpaController {
    /// The HPA `h` of the autoscaling `spec`, for a pool of `slots` instance slots.
    pub fn new(spec: &AutoscalingSpec, h: &HpaSettings, slots: usize) -> Self {
        HpaController {
            hpa: Hpa::new(HpaSpec {
                min_replicas: spec.min,
                max_replicas: spec.max,
                metrics: h.metrics.iter().map(hpa_metric).collect(),
                behavior: h.behavior.clone(),
                tolerances: h.tolerances,
                downscale_stabilization: DEFAULT_DOWNSCALE_STABILIZATION,
            }),
            spec: h.metrics.clone(),
            sync_period: h.sync_period,
            scrape_interval: h.scrape_interval,
            pod_values: vec![vec![None; slots]; h.metrics.len()],
            pool_values: vec![None; h.metrics.len()],
            scrape_mark: RoutedMark::START,
        }
    }

    /// The first wake-ups (the first scrape before the first sync when due together).
    pub fn first_ticks(&self) -> Vec<(SimDuration, Tick)> {
        vec![
            (self.scrape_interval, Tick::Scrape),
            (self.sync_period, Tick::HpaSync),
        ]
    }

    /// A scrape reads each instance's utilization.
    pub fn reads(&self, tick: Tick) -> Reads<'_> {
        let scrape = tick == Tick::Scrape;
        Reads {
            utilization: scrape,
            latency: &[],
            gauges: scrape
                && self
                    .spec
                    .iter()
                    .any(|m| matches!(m, HpaMetric::External { .. })),
        }
    }

    /// The HPA wakes for `tick` (see [`super::autoscaler::Autoscaler::on_tick`]).
    pub fn on_tick(
        &mut self,
        tick: Tick,
        obs: &ScalingObservation<'_>,
        actions: &mut Vec<ScalingAction>,
    ) -> Option<SimDuration> {
        match tick {
            Tick::Scrape => {
                self.scrape(obs);
                Some(self.scrape_interval)
            }
            Tick::HpaSync => {
                self.sync(obs, actions);
                Some(self.sync_period)
            }
            _ => None,
        }
    }

    /// One scrape: per-pod means over the interval, and pool-level values now.
    fn scrape(&mut self, obs: &ScalingObservation<'_>) {
        let (count, seconds) = self.scrape_mark.take(obs.routed, obs.now);
        for (slot, r) in obs.instances.iter().enumerate() {
            let serving = r.state == SlotState::InService;
            let util = r.utilization.filter(|_| serving);
            let held = serving.then_some(r.held);
            for (m, values) in self.spec.iter().zip(&mut self.pod_values) {
                values[slot] = match *m {
                    // Usage in thousandths of an instance: a request of 1000 is 100 %.
                    HpaMetric::Resource { .. } => util.map(|u| (u * 10.0).round() as i64),
                    HpaMetric::Pods {
                        metric: MetricKind::Utilization,
                        ..
                    } => util.map(milli),
                    HpaMetric::Pods { .. } => held.map(milli),
                    HpaMetric::External { .. } => None,
                };
            }
        }
        for (m, value) in self.spec.iter().zip(&mut self.pool_values) {
            if let HpaMetric::External { metric, .. } = *m {
                *value = obs.pool_metric(metric, count, seconds).map(milli);
            }
        }
    }

    /// One sync on the newest scrape.
    fn sync(&mut self, obs: &ScalingObservation<'_>, actions: &mut Vec<ScalingAction>) {
        let (pods, slots) = pods(obs.instances);
        let per_pod: Vec<Vec<Option<i64>>> = self
            .pod_values
            .iter()
            .map(|v| slots.iter().map(|&s| v[s]).collect())
            .collect();
        let externals: Vec<[i64; 1]> = self.pool_values.iter().map(|v| [v.unwrap_or(0)]).collect();
        let readings: Vec<MetricReading<'_>> = self
            .spec
            .iter()
            .enumerate()
            .map(|(i, m)| match m {
                HpaMetric::External { .. } if self.pool_values[i].is_none() => {
                    MetricReading::Unavailable
                }
                HpaMetric::External { .. } => MetricReading::External(&externals[i]),
                _ => MetricReading::PerPod(&per_pod[i]),
            })
            .collect();
        let observation = HpaObservation {
            pods: &pods,
            readings: &readings,
        };
        sync(&mut self.hpa, obs, &observation, "hpa", actions);
    }
}

#[cfg(test)]
mod tests {
    use super::super::capacity::CapacityLimits;
    use super::super::controller::tests::observation;
    use super::super::controller::InstanceReading;
    use super::super::hpa::Tolerances;
    use super::*;
    use crate::time::SimTime;

    fn reading(state: SlotState, utilization: Option<f64>) -> InstanceReading {
        InstanceReading {
            state,
            warmed: state == SlotState::InService,
            utilization,
            held: 0.0,
        }
    }

    #[test]
    fn pods_are_listed_as_the_replica_set_has_them() {
        let instances = [
            reading(SlotState::Empty, None),
            reading(SlotState::Pending, None),
            reading(SlotState::Starting, None),
            reading(SlotState::InService, None),
            reading(SlotState::Draining, None),
        ];
        let (pods, slots) = pods(&instances);
        assert_eq!(slots, vec![1, 2, 3, 4], "an empty slot is no pod");
        let seen: Vec<_> = pods
            .iter()
            .map(|p| (p.phase, p.ready, p.deleting))
            .collect();
        assert_eq!(
            seen,
            vec![
                (PodPhase::Pending, false, false),
                (PodPhase::Running, false, false),
                (PodPhase::Running, true, false),
                (PodPhase::Running, false, true),
            ]
        );
    }

    #[test]
    fn a_sync_scales_on_the_utilization_of_the_last_scrape() {
        let spec = AutoscalingSpec {
            min: 1,
            max: 10,
            controller: super::super::spec::Controller::Hpa(HpaSettings {
                sync_period: SimDuration::from_secs(15),
                scrape_interval: SimDuration::from_secs(15),
                metrics: vec![HpaMetric::Resource {
                    average_utilization: 50,
                }],
                behavior: None,
                tolerances: Tolerances::default(),
            }),
        };
        let super::super::spec::Controller::Hpa(h) = &spec.controller else {
            unreachable!()
        };
        let mut hpa = HpaController::new(&spec, h, 3);
        let limits = CapacityLimits::new(1, 10);
        let t = SimTime::ZERO + SimDuration::from_secs(15);
        // Two pods at 100 % (a third slot empty) against a 50 % target: 4 replicas.
        let scraped = [
            reading(SlotState::InService, Some(100.0)),
            reading(SlotState::InService, Some(100.0)),
            reading(SlotState::Empty, None),
        ];
        let mut actions = Vec::new();
        let obs = observation(t, 2, limits, &scraped);
        assert!(hpa.reads(Tick::Scrape).utilization);
        assert_eq!(
            hpa.on_tick(Tick::Scrape, &obs, &mut actions),
            Some(SimDuration::from_secs(15))
        );
        assert!(actions.is_empty(), "a scrape decides nothing");
        // The sync reads no utilization itself: it sees the scrape's.
        assert!(!hpa.reads(Tick::HpaSync).utilization);
        let unread = scraped.map(|r| InstanceReading {
            utilization: None,
            ..r
        });
        let obs = observation(t, 2, limits, &unread);
        hpa.on_tick(Tick::HpaSync, &obs, &mut actions);
        assert!(
            matches!(
                actions.as_slice(),
                [ScalingAction::SetDesired {
                    desired: 4,
                    policy: "hpa",
                    ..
                }]
            ),
            "{actions:?}"
        );
    }
}
