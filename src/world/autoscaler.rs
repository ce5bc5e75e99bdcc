//! Autoscalers in the world: when each controller wakes, what it reads, and how its decision
//! becomes the pool's desired capacity. The decisions themselves are the pure policies of
//! `crate::model::autoscale`; this file is their clock and their eyes.
//!
//! - **AWS** (CloudWatch and EC2 Auto Scaling). At every period boundary each policy's metric is
//!   measured over the period that ended and recorded as that period's datapoint; every
//!   per-instance value is one sample, so the statistic aggregates across the group's
//!   instances as CloudWatch does for the `AutoScalingGroupName` dimension, leaving out
//!   instances in their warm-up. The datapoint becomes visible `metric_lag` after its period;
//!   the alarms are evaluated then, each seeing every datapoint once (a period without a
//!   datapoint is missing data). When several policies fire, the group takes "the policy
//!   that provides the largest capacity for both scale out and scale in" (User Guide,
//!   "Multiple dynamic scaling policies"). Scheduled actions fire at their times; predictive
//!   scaling records the pool's hourly request rate and, in `forecast_and_scale` mode, keeps
//!   capacity at least at the forecast.
//! - **Kubernetes HPA.** Metrics are scraped every `scrape_interval` (per-pod values are means
//!   over the interval; metrics-server's resolution); the controller syncs every
//!   `sync_period` (default 15 s, `--horizontal-pod-autoscaler-sync-period`) on the newest
//!   scrape, with the pods as the ReplicaSet has them: booting pods are Pending, loading and
//!   warming pods Running but not ready (no metrics yet), draining pods deleted.
//! - **KEDA.** Polls its triggers every `pollingInterval` and owns 0 ↔ 1; the HPA it creates
//!   scales 1 ↔ N on the triggers' values, read when it syncs (KEDA's metrics server asks the
//!   scaler on demand).

use super::World;
use crate::engine::{SimDuration, SimTime};
use crate::model::autoscale::capacity::{GroupCapacity, ScalingDecision, ScalingReason};
use crate::model::autoscale::hpa::{
    Hpa, HpaObservation, HpaReason, HpaSpec, MetricReading, MetricSpec, PodInfo, PodPhase,
    DEFAULT_DOWNSCALE_STABILIZATION,
};
use crate::model::autoscale::keda::{self, MetricTargetType, ScaledObject};
use crate::model::autoscale::metrics_pipeline::{MetricsPipeline, PipelineConfig, Statistic};
use crate::model::autoscale::predictive::{PredictiveAction, PredictiveScaler};
use crate::model::autoscale::scheduled::ScheduledScaling;
use crate::model::autoscale::spec::{
    AlarmSpec, AutoscalingSpec, AwsMetric, Controller as ControllerSpec, HpaMetric, KedaTrigger,
    MetricKind,
};
use crate::model::autoscale::step::{SimpleCooldown, SimpleScalingPolicy, StepScalingPolicy};
use crate::model::autoscale::target_tracking::{self, TargetTrackingPolicy, TargetTrackingVote};
use crate::model::autoscale::warmup::GroupWarmup;
use crate::model::autoscale::{alarm::Alarm, hpa};
use crate::model::fleet::lifecycle::InstanceState;

/// What a controller wakes up for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tick {
    /// AWS: a metric period ended; record its datapoints.
    AwsSample,
    /// AWS: the datapoints of a period are published; evaluate the alarms.
    AwsEvaluate,
    /// AWS: scheduled actions are due.
    Scheduled,
    /// Kubernetes: metrics are scraped.
    Scrape,
    /// Kubernetes: the HPA syncs.
    HpaSync,
    /// KEDA polls its triggers.
    KedaPoll,
}

/// The requests routed to a pool when a reader last looked, and when.
#[derive(Debug, Clone, Copy)]
struct RoutedMark {
    routed: u64,
    at: SimTime,
}

impl RoutedMark {
    /// Requests since the mark and the seconds it covers; the mark moves to now.
    fn take(&mut self, routed: u64, now: SimTime) -> (u64, f64) {
        let since = (routed - self.routed, (now - self.at).as_secs_f64());
        *self = RoutedMark { routed, at: now };
        since
    }
}

const START: RoutedMark = RoutedMark {
    routed: 0,
    at: SimTime::ZERO,
};

/// An AWS Auto Scaling group's policies and their state.
pub(super) struct Aws {
    period: SimDuration,
    lag: SimDuration,
    /// The group's warm-up settings, and the warm-up of the instances each target tracking
    /// and step policy launches (`EstimatedInstanceWarmup` and its fallbacks).
    warmup: GroupWarmup,
    target_tracking_warmup: Vec<SimDuration>,
    step_warmup: Vec<SimDuration>,
    /// One metric and pipeline per metric-driven policy: target tracking, then step, then
    /// simple, in scenario order.
    metrics: Vec<AwsMetric>,
    pipelines: Vec<MetricsPipeline>,
    target_tracking: Vec<TargetTrackingPolicy>,
    step: Vec<StepScalingPolicy>,
    simple: Vec<SimpleScalingPolicy>,
    cooldown: SimpleCooldown,
    simple_in_progress: bool,
    scheduled: Option<ScheduledScaling>,
    predictive: Option<PredictiveScaler>,
    /// The forecast capacity last reported (forecast-only) or acted on.
    forecast_seen: Option<u32>,
    /// The forecast capacity scaling may not go below (`forecast_and_scale`).
    forecast_floor: u32,
    period_mark: RoutedMark,
    hour_mark: RoutedMark,
}

/// A Kubernetes HPA and its newest scrape.
pub(super) struct HpaState {
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

/// A KEDA ScaledObject and the HPA it drives.
pub(super) struct KedaState {
    scaled: ScaledObject,
    hpa: Hpa,
    triggers: Vec<KedaTrigger>,
    sync_period: SimDuration,
    poll_mark: RoutedMark,
    sync_mark: RoutedMark,
}

/// A pool's autoscaler.
pub(super) enum Controller {
    Aws(Box<Aws>),
    Hpa(Box<HpaState>),
    Keda(Box<KedaState>),
}

/// How many datapoints an AWS pipeline keeps: every one recorded but not yet published (the
/// lag, in periods, rounded up), the one being published, and one spare. Alarms keep their own
/// history, so nothing older is read.
fn datapoints_kept(period: SimDuration, lag: SimDuration) -> usize {
    let waiting = lag.as_nanos().div_ceil(period.as_nanos());
    usize::try_from(waiting).map_or(usize::MAX, |w| w.saturating_add(2))
}

fn alarm(spec: &AlarmSpec) -> Alarm {
    Alarm::new(
        spec.threshold,
        spec.comparison,
        spec.datapoints_to_alarm,
        spec.evaluation_periods,
    )
}

fn milli(v: f64) -> i64 {
    (v * 1000.0).round() as i64
}

/// The HPA's metric for one of ours: values are milli-units of the metric, utilization is
/// busy slots against a request of one whole instance (1000 milli).
fn hpa_metric(m: &HpaMetric) -> MetricSpec {
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

impl Controller {
    /// The controller `spec` describes, for a pool of `slots` instance slots.
    pub(super) fn new(spec: &AutoscalingSpec, slots: usize) -> Self {
        match &spec.controller {
            ControllerSpec::Aws(a) => {
                let mut metrics = Vec::new();
                metrics.extend(a.target_tracking.iter().map(|t| t.metric));
                metrics.extend(a.step.iter().map(|s| s.alarm.metric));
                metrics.extend(a.simple.iter().map(|s| s.alarm.metric));
                let pipelines = metrics
                    .iter()
                    .map(|m| {
                        MetricsPipeline::new(PipelineConfig {
                            period: a.metric_period,
                            // Latency's statistic is taken over the period's requests when the
                            // period ends: the pipeline gets that one value.
                            statistic: if m.kind == MetricKind::Latency {
                                Statistic::Last
                            } else {
                                m.statistic
                            },
                            lag: a.metric_lag,
                            capacity: datapoints_kept(a.metric_period, a.metric_lag),
                        })
                    })
                    .collect();
                Controller::Aws(Box::new(Aws {
                    period: a.metric_period,
                    lag: a.metric_lag,
                    warmup: a.warmup,
                    target_tracking_warmup: a
                        .target_tracking
                        .iter()
                        .map(|t| a.warmup.of_policy(t.estimated_instance_warmup))
                        .collect(),
                    step_warmup: a
                        .step
                        .iter()
                        .map(|s| a.warmup.of_policy(s.estimated_instance_warmup))
                        .collect(),
                    metrics,
                    pipelines,
                    target_tracking: a
                        .target_tracking
                        .iter()
                        .map(|t| TargetTrackingPolicy::new(t.target, t.disable_scale_in))
                        .collect(),
                    step: a
                        .step
                        .iter()
                        .map(|s| {
                            StepScalingPolicy::new(
                                alarm(&s.alarm),
                                s.steps.clone(),
                                s.adjustment_type,
                            )
                        })
                        .collect(),
                    simple: a
                        .simple
                        .iter()
                        .map(|s| {
                            SimpleScalingPolicy::new(
                                alarm(&s.alarm),
                                s.adjustment_type,
                                s.adjustment,
                                s.cooldown.unwrap_or(a.warmup.default_cooldown),
                            )
                        })
                        .collect(),
                    cooldown: SimpleCooldown::new(),
                    simple_in_progress: false,
                    scheduled: a
                        .scheduled
                        .as_ref()
                        .map(|(clock, actions)| ScheduledScaling::new(*clock, actions.clone())),
                    predictive: a.predictive.map(|p| PredictiveScaler::new(p.config)),
                    forecast_seen: None,
                    forecast_floor: 0,
                    period_mark: START,
                    hour_mark: START,
                }))
            }
            ControllerSpec::Hpa(h) => {
                let hpa = Hpa::new(HpaSpec {
                    min_replicas: spec.min,
                    max_replicas: spec.max,
                    metrics: h.metrics.iter().map(hpa_metric).collect(),
                    behavior: h.behavior.clone(),
                    tolerances: h.tolerances,
                    downscale_stabilization: DEFAULT_DOWNSCALE_STABILIZATION,
                });
                Controller::Hpa(Box::new(HpaState {
                    hpa,
                    spec: h.metrics.clone(),
                    sync_period: h.sync_period,
                    scrape_interval: h.scrape_interval,
                    pod_values: vec![vec![None; slots]; h.metrics.len()],
                    pool_values: vec![None; h.metrics.len()],
                    scrape_mark: START,
                }))
            }
            ControllerSpec::Keda(k) => {
                let mut config = k.config;
                config.min_replica_count = spec.min;
                config.max_replica_count = spec.max;
                let triggers: Vec<keda::Trigger> = k
                    .triggers
                    .iter()
                    .map(|t| keda::Trigger {
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
                Controller::Keda(Box::new(KedaState {
                    scaled,
                    hpa,
                    triggers: k.triggers.clone(),
                    sync_period: k.sync_period,
                    poll_mark: START,
                    sync_mark: START,
                }))
            }
        }
    }

    /// The first wake-ups, as `(delay from the start, tick)`, in the order they must run when
    /// due together (samples before evaluations, scrapes before syncs).
    pub(super) fn first_ticks(&self) -> Vec<(SimDuration, Tick)> {
        match self {
            Controller::Aws(a) => {
                let mut ticks = Vec::new();
                if !a.pipelines.is_empty() || a.predictive.is_some() {
                    ticks.push((a.period, Tick::AwsSample));
                    ticks.push((a.period + a.lag, Tick::AwsEvaluate));
                }
                if let Some(at) = a
                    .scheduled
                    .as_ref()
                    .and_then(|s| s.next_at_or_after(SimTime::ZERO))
                {
                    ticks.push((at - SimTime::ZERO, Tick::Scheduled));
                }
                ticks
            }
            Controller::Hpa(h) => vec![
                (h.scrape_interval, Tick::Scrape),
                (h.sync_period, Tick::HpaSync),
            ],
            Controller::Keda(k) => vec![
                (SimDuration::ZERO, Tick::KedaPoll),
                (k.sync_period, Tick::HpaSync),
            ],
        }
    }
}

/// The decision an AWS evaluation applies and what comes with it.
struct Chosen {
    decision: ScalingDecision,
    policy: &'static str,
    why: String,
    /// The warm-up of the instances it launches.
    warmup: SimDuration,
    /// A simple policy's cooldown, which its activity starts.
    simple_cooldown: Option<SimDuration>,
}

/// A readable name of a target tracking or alarm metric, for scaling events.
fn describe(metric: &AwsMetric) -> &'static str {
    metric.kind.name()
}

impl World<'_> {
    /// Schedules every autoscaler's first wake-ups.
    pub(super) fn start_autoscalers(&mut self) {
        for pool in 0..self.autoscalers.len() {
            let Some(c) = &self.autoscalers[pool] else {
                continue;
            };
            if let Controller::Aws(a) = c {
                // Until a policy scales out: replacements and other launches.
                self.pools[pool].fleet.launch_warmup = a.warmup.of_other_launches();
            }
            for (delay, tick) in c.first_ticks() {
                self.queue.schedule_in(
                    delay,
                    super::Event::Autoscale {
                        pool: pool as u32,
                        tick,
                    },
                );
            }
        }
    }

    fn again(&mut self, pool: usize, tick: Tick, after: SimDuration) {
        self.queue.schedule_in(
            after,
            super::Event::Autoscale {
                pool: pool as u32,
                tick,
            },
        );
    }

    /// `pool`'s autoscaler wakes up for `tick`.
    pub(super) fn on_autoscale(&mut self, now: SimTime, pool: u32, tick: Tick) {
        let pool = pool as usize;
        // Taken out while it works, so that it can read the world and apply its decisions.
        let Some(mut c) = self.autoscalers[pool].take() else {
            return;
        };
        match (&mut c, tick) {
            (Controller::Aws(a), Tick::AwsSample) => {
                self.aws_sample(now, pool, a);
                self.again(pool, tick, a.period);
            }
            (Controller::Aws(a), Tick::AwsEvaluate) => {
                self.aws_evaluate(now, pool, a);
                self.again(pool, tick, a.period);
            }
            (Controller::Aws(a), Tick::Scheduled) => self.aws_scheduled(now, pool, a),
            (Controller::Hpa(h), Tick::Scrape) => {
                self.hpa_scrape(now, pool, h);
                self.again(pool, tick, h.scrape_interval);
            }
            (Controller::Hpa(h), Tick::HpaSync) => {
                self.hpa_sync(now, pool, h);
                self.again(pool, tick, h.sync_period);
            }
            (Controller::Keda(k), Tick::KedaPoll) => {
                self.keda_poll(now, pool, k);
                self.again(pool, tick, k.scaled.config().polling_interval);
            }
            (Controller::Keda(k), Tick::HpaSync) => {
                self.keda_hpa_sync(now, pool, k);
                self.again(pool, tick, k.sync_period);
            }
            _ => unreachable!("tick {tick:?} for another controller"),
        }
        self.autoscalers[pool] = Some(c);
    }

    /// Records the datapoints of the period that just ended.
    fn aws_sample(&mut self, now: SimTime, pool: usize, a: &mut Aws) {
        let period_start = SimTime::from_nanos(now.as_nanos() - a.period.as_nanos());
        // Per-instance values, from the instances in service past their warm-up.
        let mut utilization = Vec::new();
        let mut held = Vec::new();
        for id in self.slots_of(pool) {
            if self.instances[id as usize].state != InstanceState::InService {
                continue;
            }
            let u = self.take_utilization(now, id);
            let inst = &self.instances[id as usize];
            if inst.warmed(now) {
                utilization.extend(u);
                held.push(self.held(id));
            }
        }
        let routed = self.pools[pool].routed;
        let (count, seconds) = a.period_mark.take(routed, now);
        for (m, pipeline) in a.metrics.iter().zip(&mut a.pipelines) {
            match m.kind {
                MetricKind::Utilization => {
                    for &u in &utilization {
                        pipeline.record(period_start, u);
                    }
                }
                MetricKind::InFlight => {
                    for &h in &held {
                        pipeline.record(period_start, h);
                    }
                }
                MetricKind::Latency => {
                    let h = self.pools[pool].latency.as_ref().expect("tracked");
                    if let Some(v) = super::metrics_source::latency_statistic(h, m.statistic) {
                        pipeline.record(period_start, v);
                    }
                }
                kind => {
                    if let Some(v) = self.pool_metric(now, pool, kind, count, seconds) {
                        pipeline.record(period_start, v);
                    }
                }
            }
        }
        if let Some(h) = &mut self.pools[pool].latency {
            h.clear();
        }
        if let Some(p) = &mut a.predictive {
            let hour = crate::model::autoscale::predictive::hour_of(now);
            let mark_hour = crate::model::autoscale::predictive::hour_of(a.hour_mark.at);
            if hour > mark_hour {
                let (requests, seconds) = a.hour_mark.take(routed, now);
                p.record_hour(mark_hour, requests as f64 / seconds);
            }
        }
    }

    /// The group as AWS policies count it (each instance's warm-up applied).
    fn group_capacity(&self, now: SimTime, pool: usize) -> GroupCapacity {
        let f = &self.pools[pool].fleet;
        let warmed = self
            .slots_of(pool)
            .filter(|&id| self.instances[id as usize].warmed(now))
            .count() as u32;
        let in_service = self.in_service(pool);
        GroupCapacity {
            desired: f.desired,
            in_service: warmed,
            warming: f.starting() + (in_service - warmed),
            terminating: f.counts[InstanceState::Draining as usize],
            limits: f.limits,
        }
    }

    /// Evaluates every alarm on the datapoints published now and applies the largest result.
    fn aws_evaluate(&mut self, now: SimTime, pool: usize, a: &mut Aws) {
        // The period whose datapoint is published now.
        let expected = (now - SimTime::ZERO).as_nanos() - (a.lag + a.period).as_nanos();
        let values: Vec<Option<f64>> = a
            .pipelines
            .iter()
            .map(|p| {
                p.latest(now)
                    .filter(|d| d.period_start.as_nanos() == expected)
                    .map(|d| d.value)
            })
            .collect();
        let group = self.group_capacity(now, pool);
        // The largest capacity of the policies that act now, with the warm-up of the
        // instances it launches and, for a simple policy, the cooldown its activity starts.
        let mut best: Option<Chosen> = None;
        let mut consider = |d: Option<ScalingDecision>,
                            policy: &'static str,
                            why: String,
                            warmup: SimDuration,
                            simple_cooldown: Option<SimDuration>| {
            if let Some(decision) = d {
                if best
                    .as_ref()
                    .is_none_or(|b| decision.desired > b.decision.desired)
                {
                    best = Some(Chosen {
                        decision,
                        policy,
                        why,
                        warmup,
                        simple_cooldown,
                    });
                }
            }
        };
        // Target tracking policies decide together: scale out if any wants to, scale in only
        // if all want to (see `target_tracking::combine`).
        let n_tt = a.target_tracking.len();
        let votes: Vec<TargetTrackingVote> = a
            .target_tracking
            .iter_mut()
            .zip(&values)
            .map(|(p, &v)| p.vote(now, &group, v))
            .collect();
        if let Some((d, i)) = target_tracking::combine(&group, &votes) {
            let v = values[i];
            let why = format!(
                "{} {} against target {}",
                describe(&a.metrics[i]),
                v.map_or("missing".into(), |v| format!("{v:.3}")),
                a.target_tracking[i].target()
            );
            consider(
                Some(d),
                "target_tracking",
                why,
                a.target_tracking_warmup[i],
                None,
            );
        }
        let mut i = n_tt;
        for (k, p) in a.step.iter_mut().enumerate() {
            let v = values[i];
            let d = p.decide(now, &group, v);
            let why = match d.map(|d| d.reason) {
                Some(ScalingReason::StepAdjustment { step }) => format!(
                    "{} {} in step {step}",
                    describe(&a.metrics[i]),
                    v.map_or("missing".into(), |v| format!("{v:.3}"))
                ),
                _ => String::new(),
            };
            consider(d, "step", why, a.step_warmup[k], None);
            i += 1;
        }
        for p in &mut a.simple {
            let v = values[i];
            let d = p.decide(now, &group, v, &a.cooldown);
            let why = format!(
                "{} {} breached its alarm",
                describe(&a.metrics[i]),
                v.map_or("missing".into(), |v| format!("{v:.3}"))
            );
            consider(
                d,
                "simple",
                why,
                a.warmup.of_other_launches(),
                Some(p.cooldown()),
            );
            i += 1;
        }
        if let Some(Chosen {
            decision: d,
            policy,
            why,
            warmup,
            simple_cooldown,
        }) = best
        {
            let desired = d.desired.max(a.forecast_floor);
            let f = &mut self.pools[pool].fleet;
            if let Some(c) = simple_cooldown.filter(|_| desired != f.desired) {
                // Only a simple decision the group applies starts an activity, and the
                // cooldown after it; one that lost to a larger capacity (or to the forecast's
                // floor) starts nothing.
                a.cooldown.activity_started(c);
                a.simple_in_progress = true;
            }
            if desired > f.desired {
                // "This warm-up period applies to instances launched due to a specific target
                // tracking or step scaling policy" (PutScalingPolicy).
                f.launch_warmup = warmup;
            }
            self.set_desired(now, pool, desired, policy, why);
        }
        self.aws_predict(now, pool, a);
    }

    /// Predictive scaling at one evaluation: forecast, and in `forecast_and_scale` mode raise
    /// the desired capacity to it.
    fn aws_predict(&mut self, now: SimTime, pool: usize, a: &mut Aws) {
        let Some(p) = &mut a.predictive else {
            return;
        };
        let f = &self.pools[pool].fleet;
        let (desired, min, max) = (f.desired, f.limits.min, f.limits.max);
        let decision = p.decide(now, desired, min, max);
        match decision.action {
            PredictiveAction::ScaleOut {
                capacity,
                max_capacity,
            } => {
                a.forecast_floor = capacity;
                let f = &mut self.pools[pool].fleet;
                f.limits.max = f.limits.max.max(max_capacity);
                f.launch_warmup = a.warmup.of_other_launches();
                self.set_desired(
                    now,
                    pool,
                    capacity,
                    "predictive",
                    format!("forecast needs {capacity}"),
                );
            }
            PredictiveAction::Hold => {
                a.forecast_floor = decision.forecast_capacity.unwrap_or(0);
            }
            PredictiveAction::ReportOnly => {
                if let Some(c) = decision.forecast_capacity {
                    if a.forecast_seen != Some(c) {
                        self.recorder.scaling_event(
                            now,
                            &self.scenario.pools[pool].name,
                            "predictive",
                            desired,
                            c,
                            "forecast only: not applied".into(),
                        );
                    }
                }
            }
        }
        a.forecast_seen = decision.forecast_capacity;
    }

    /// Runs the scheduled actions due now and schedules the next.
    fn aws_scheduled(&mut self, now: SimTime, pool: usize, a: &mut Aws) {
        let Some(s) = &a.scheduled else {
            return;
        };
        let f = &mut self.pools[pool].fleet;
        if let Some(d) = s.fire(now, f.limits, f.desired) {
            f.limits = d.limits;
            if d.desired > f.desired {
                f.launch_warmup = a.warmup.of_other_launches();
            }
            let why = format!(
                "scheduled action {} (min {}, max {})",
                d.last_action, d.limits.min, d.limits.max
            );
            self.set_desired(now, pool, d.desired, "scheduled", why);
        }
        if let Some(next) = s.next_at_or_after(now + SimDuration::from_nanos(1)) {
            self.again(pool, Tick::Scheduled, next - now);
        }
    }

    /// Lets a simple-scaling cooldown start when the activity it waits for has finished: no
    /// instance launching or draining and the desired capacity reached (Cooldown.md: it "takes
    /// effect starting when the last instance finishes launching or terminating").
    pub(super) fn after_activity(&mut self, now: SimTime, pool: usize) {
        let f = &self.pools[pool].fleet;
        let settled = f.starting() == 0
            && f.counts[InstanceState::Draining as usize] == 0
            && f.active() == f.desired;
        if !settled {
            return;
        }
        if let Some(Some(Controller::Aws(a))) = self.autoscalers.get_mut(pool) {
            if a.simple_in_progress {
                a.simple_in_progress = false;
                a.cooldown.activity_completed(now);
            }
        }
    }

    /// The pool's pods as the HPA lists them, with each pod's slot.
    fn pods(&self, pool: usize) -> (Vec<PodInfo>, Vec<usize>) {
        let first = self.pools[pool].first as u32;
        let mut pods = Vec::new();
        let mut slots = Vec::new();
        for id in self.slots_of(pool) {
            let inst = &self.instances[id as usize];
            let (phase, deleting, ready) = match inst.state {
                InstanceState::Pending => (PodPhase::Pending, false, false),
                InstanceState::Loading | InstanceState::Warming => {
                    (PodPhase::Running, false, false)
                }
                InstanceState::InService => (PodPhase::Running, false, true),
                InstanceState::Draining => (PodPhase::Running, true, false),
                _ => continue,
            };
            pods.push(PodInfo {
                phase,
                deleting,
                ready,
                cpu_unready: false,
                request_milli: 1000,
            });
            slots.push((id - first) as usize);
        }
        (pods, slots)
    }

    /// One scrape: per-pod means over the interval, and pool-level values now.
    fn hpa_scrape(&mut self, now: SimTime, pool: usize, h: &mut HpaState) {
        let first = self.pools[pool].first as u32;
        let routed = self.pools[pool].routed;
        let (count, seconds) = h.scrape_mark.take(routed, now);
        for id in self.slots_of(pool) {
            let slot = (id - first) as usize;
            let serving = self.instances[id as usize].state == InstanceState::InService;
            let util = if serving {
                self.take_utilization(now, id)
            } else {
                None
            };
            let held = serving.then(|| self.held(id));
            for (m, values) in h.spec.iter().zip(&mut h.pod_values) {
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
        for (m, value) in h.spec.iter().zip(&mut h.pool_values) {
            if let HpaMetric::External { metric, .. } = *m {
                *value = self
                    .pool_metric(now, pool, metric, count, seconds)
                    .map(milli);
            }
        }
    }

    fn hpa_sync(&mut self, now: SimTime, pool: usize, h: &mut HpaState) {
        let (pods, slots) = self.pods(pool);
        let per_pod: Vec<Vec<Option<i64>>> = h
            .pod_values
            .iter()
            .map(|v| slots.iter().map(|&s| v[s]).collect())
            .collect();
        let externals: Vec<[i64; 1]> = h.pool_values.iter().map(|v| [v.unwrap_or(0)]).collect();
        let readings: Vec<MetricReading<'_>> = h
            .spec
            .iter()
            .enumerate()
            .map(|(i, m)| match m {
                HpaMetric::External { .. } if h.pool_values[i].is_none() => {
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
        self.hpa_decide(now, pool, &mut h.hpa, &observation, "hpa");
    }

    /// One HPA sync on `observation`, applied to `pool` unless the HPA is disabled (at zero
    /// replicas) or keeps the count.
    fn hpa_decide(
        &mut self,
        now: SimTime,
        pool: usize,
        hpa: &mut Hpa,
        observation: &HpaObservation<'_>,
        policy: &'static str,
    ) {
        let current = self.pools[pool].fleet.desired;
        let d = hpa.decide(now, current, observation);
        if d.reason != HpaReason::ScalingDisabled && d.desired != current {
            self.set_desired(now, pool, d.desired, policy, hpa_reason(&d));
        }
    }

    /// The values of KEDA's triggers now: a queue trigger whose scaler counts the messages
    /// being processed (SQS's `scaleOnInFlight`, RabbitMQ's unacknowledged) adds the requests
    /// the pool's workers hold in service to the waiting ones.
    fn trigger_values(
        &self,
        now: SimTime,
        pool: usize,
        triggers: &[KedaTrigger],
        mark: &mut RoutedMark,
    ) -> Vec<f64> {
        let (count, seconds) = mark.take(self.pools[pool].routed, now);
        triggers
            .iter()
            .map(|t| {
                let value = self
                    .pool_metric(now, pool, t.metric, count, seconds)
                    .unwrap_or(0.0);
                if t.counts_in_flight && t.metric == MetricKind::QueueDepth {
                    value + self.in_service_requests(pool)
                } else {
                    value
                }
            })
            .collect()
    }

    fn keda_poll(&mut self, now: SimTime, pool: usize, k: &mut KedaState) {
        let values = self.trigger_values(now, pool, &k.triggers, &mut k.poll_mark);
        let current = self.pools[pool].fleet.desired;
        let decision = k.scaled.poll(now, current, &values);
        if let Some(replicas) = decision.replicas() {
            if replicas != current {
                self.set_desired(now, pool, replicas, "keda", format!("{decision:?}"));
            }
        }
    }

    fn keda_hpa_sync(&mut self, now: SimTime, pool: usize, k: &mut KedaState) {
        let current = self.pools[pool].fleet.desired;
        let values = self.trigger_values(now, pool, &k.triggers, &mut k.sync_mark);
        if current == 0 {
            // The HPA is inactive at zero replicas; KEDA owns 0 -> 1.
            return;
        }
        let (pods, _) = self.pods(pool);
        let externals: Vec<[i64; 1]> = values.iter().map(|&v| [milli(v)]).collect();
        let readings: Vec<MetricReading<'_>> = externals
            .iter()
            .map(|v| MetricReading::External(v))
            .collect();
        let observation = HpaObservation {
            pods: &pods,
            readings: &readings,
        };
        self.hpa_decide(now, pool, &mut k.hpa, &observation, "keda_hpa");
    }
}

/// An HPA decision in words, for scaling events.
fn hpa_reason(d: &hpa::HpaDecision) -> String {
    match d.reason {
        HpaReason::Metrics(limit) => format!(
            "metrics want {}{}; {limit:?}",
            d.metric_replicas.unwrap_or(0),
            if d.stabilized { ", stabilized" } else { "" }
        ),
        other => format!("{other:?}"),
    }
}
