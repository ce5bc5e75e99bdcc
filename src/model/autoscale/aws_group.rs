//! An AWS EC2 Auto Scaling group's controller: CloudWatch's metric pipeline, the alarms, and
//! every policy of the group (target tracking, step, simple, scheduled, predictive) deciding
//! together, behind [`super::controller`]'s interface.
//!
//! - **Sampling** ([`Tick::AwsSample`]). At every period boundary each policy's metric is
//!   measured over the period that ended and recorded as that period's datapoint; every
//!   per-instance value is one sample, so the statistic aggregates across the group's
//!   instances as CloudWatch does for the `AutoScalingGroupName` dimension, leaving out
//!   instances in their warm-up. Predictive scaling records the pool's hourly request rate.
//! - **Evaluation** ([`Tick::AwsEvaluate`]). The datapoint becomes visible `metric_lag` after
//!   its period; the alarms are evaluated then, each seeing every datapoint once (a period
//!   without a datapoint is missing data). When several policies fire, the group takes "the
//!   policy that provides the largest capacity for both scale out and scale in" (User Guide,
//!   "Multiple dynamic scaling policies"); predictive scaling, in `forecast_and_scale` mode,
//!   then keeps capacity at least at the forecast.
//! - **Scheduled actions** ([`Tick::Scheduled`]) fire at their times.
//!
//! A simple policy's cooldown starts when the activity it started has finished (Cooldown.md:
//! it "takes effect starting when the last instance finishes launching or terminating"): the
//! group asks the world to watch the activity ([`ScalingAction::WatchActivity`]) and learns
//! when it settled from a later observation.

use crate::time::{SimDuration, SimTime};

use super::alarm::Alarm;
use super::capacity::{CapacityLimits, GroupCapacity, ScalingDecision, ScalingReason};
use super::controller::{Reads, RoutedMark, ScalingAction, ScalingObservation, SlotState, Tick};
use super::metrics_pipeline::{MetricsPipeline, PipelineConfig, Statistic};
use super::predictive::{hour_of, PredictiveAction, PredictiveScaler};
use super::scheduled::ScheduledScaling;
use super::spec::{AlarmSpec, AwsMetric, AwsPolicies, MetricKind};
use super::step::{SimpleCooldown, SimpleScalingPolicy, StepScalingPolicy};
use super::target_tracking::{self, TargetTrackingPolicy, TargetTrackingVote};
use super::warmup::GroupWarmup;

/// An AWS Auto Scaling group's policies and their state.
#[derive(Debug, Clone)]
pub struct AwsGroup {
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
    /// The statistic of each latency metric, in metric order (what a sample reads).
    latency_statistics: Vec<Statistic>,
    /// Some metric is a queue gauge (what a sample asks the world to measure).
    reads_gauges: bool,
    target_tracking: Vec<TargetTrackingPolicy>,
    step: Vec<StepScalingPolicy>,
    simple: Vec<SimpleScalingPolicy>,
    cooldown: SimpleCooldown,
    /// A simple policy's activity runs; its cooldown starts when the world reports it settled.
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

/// The decision an evaluation applies and what comes with it.
struct Chosen {
    decision: ScalingDecision,
    policy: &'static str,
    why: String,
    /// The warm-up of the instances it launches.
    warmup: SimDuration,
    /// A simple policy's cooldown, which its activity starts.
    simple_cooldown: Option<SimDuration>,
}

/// A metric's value in a scaling event's reason.
fn shown(v: Option<f64>) -> String {
    v.map_or("missing".into(), |v| format!("{v:.3}"))
}

impl AwsGroup {
    /// The group's controller as `spec` describes it.
    pub fn new(a: &AwsPolicies) -> Self {
        let mut metrics = Vec::new();
        metrics.extend(a.target_tracking.iter().map(|t| t.metric));
        metrics.extend(a.step.iter().map(|s| s.alarm.metric));
        metrics.extend(a.simple.iter().map(|s| s.alarm.metric));
        let pipelines = metrics
            .iter()
            .map(|m| {
                MetricsPipeline::new(PipelineConfig {
                    period: a.metric_period,
                    // Latency's statistic is taken over the period's requests when the period
                    // ends: the pipeline gets that one value.
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
        AwsGroup {
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
            latency_statistics: metrics
                .iter()
                .filter(|m| m.kind == MetricKind::Latency)
                .map(|m| m.statistic)
                .collect(),
            reads_gauges: metrics.iter().any(|m| m.kind.is_pool_gauge()),
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
                    StepScalingPolicy::new(alarm(&s.alarm), s.steps.clone(), s.adjustment_type)
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
            period_mark: RoutedMark::START,
            hour_mark: RoutedMark::START,
        }
    }

    /// The first wake-ups (samples before evaluations).
    pub fn first_ticks(&self) -> Vec<(SimDuration, Tick)> {
        let mut ticks = Vec::new();
        if !self.pipelines.is_empty() || self.predictive.is_some() {
            ticks.push((self.period, Tick::AwsSample));
            ticks.push((self.period + self.lag, Tick::AwsEvaluate));
        }
        if let Some(at) = self
            .scheduled
            .as_ref()
            .and_then(|s| s.next_at_or_after(SimTime::ZERO))
        {
            ticks.push((at - SimTime::ZERO, Tick::Scheduled));
        }
        ticks
    }

    /// The warm-up of launches no policy makes: replacements and other launches, until a
    /// policy scales out.
    pub fn launch_warmup(&self) -> SimDuration {
        self.warmup.of_other_launches()
    }

    /// A sample reads each instance's utilization and the latency statistics.
    pub fn reads(&self, tick: Tick) -> Reads<'_> {
        match tick {
            Tick::AwsSample => Reads {
                utilization: true,
                latency: &self.latency_statistics,
                gauges: self.reads_gauges,
            },
            _ => Reads::default(),
        }
    }

    /// The group wakes for `tick` (see [`super::autoscaler::Autoscaler::on_tick`]).
    pub fn on_tick(
        &mut self,
        tick: Tick,
        obs: &ScalingObservation<'_>,
        actions: &mut Vec<ScalingAction>,
    ) -> Option<SimDuration> {
        if let Some(at) = obs.activity_settled_at {
            if self.simple_in_progress {
                self.simple_in_progress = false;
                self.cooldown.activity_completed(at);
            }
        }
        match tick {
            Tick::AwsSample => {
                self.sample(obs);
                Some(self.period)
            }
            Tick::AwsEvaluate => {
                self.evaluate(obs, actions);
                Some(self.period)
            }
            Tick::Scheduled => self.run_scheduled(obs, actions),
            Tick::Scrape | Tick::HpaSync | Tick::KedaPoll => None,
        }
    }

    /// Records the datapoints of the period that just ended.
    fn sample(&mut self, obs: &ScalingObservation<'_>) {
        let now = obs.now;
        let period_start = SimTime::from_nanos(now.as_nanos() - self.period.as_nanos());
        // Per-instance values, from the instances in service past their warm-up.
        let warmed = || obs.instances.iter().filter(|r| r.warmed);
        let (count, seconds) = self.period_mark.take(obs.routed, now);
        let mut latency = obs.latency.iter();
        for (m, pipeline) in self.metrics.iter().zip(&mut self.pipelines) {
            match m.kind {
                MetricKind::Utilization => {
                    for u in warmed().filter_map(|r| r.utilization) {
                        pipeline.record(period_start, u);
                    }
                }
                MetricKind::InFlight => {
                    for r in warmed() {
                        pipeline.record(period_start, r.held);
                    }
                }
                MetricKind::Latency => {
                    if let Some(&Some(v)) = latency.next() {
                        pipeline.record(period_start, v);
                    }
                }
                kind => {
                    if let Some(v) = obs.pool_metric(kind, count, seconds) {
                        pipeline.record(period_start, v);
                    }
                }
            }
        }
        if let Some(p) = &mut self.predictive {
            let hour = hour_of(now);
            let mark_hour = hour_of(self.hour_mark.at());
            if hour > mark_hour {
                let (requests, seconds) = self.hour_mark.take(obs.routed, now);
                p.record_hour(mark_hour, requests as f64 / seconds);
            }
        }
    }

    /// The group as AWS policies count it (each instance's warm-up applied).
    fn group_capacity(obs: &ScalingObservation<'_>) -> GroupCapacity {
        let warmed = obs.instances.iter().filter(|r| r.warmed).count() as u32;
        debug_assert!(obs
            .instances
            .iter()
            .all(|r| !r.warmed || r.state == SlotState::InService));
        GroupCapacity {
            desired: obs.desired,
            in_service: warmed,
            warming: obs.starting + (obs.in_service - warmed),
            terminating: obs.draining,
            limits: obs.limits,
        }
    }

    /// Evaluates every alarm on the datapoints published now and applies the largest result,
    /// then predictive scaling.
    fn evaluate(&mut self, obs: &ScalingObservation<'_>, actions: &mut Vec<ScalingAction>) {
        let now = obs.now;
        // The period whose datapoint is published now.
        let expected = (now - SimTime::ZERO).as_nanos() - (self.lag + self.period).as_nanos();
        let values: Vec<Option<f64>> = self
            .pipelines
            .iter()
            .map(|p| {
                p.latest(now)
                    .filter(|d| d.period_start.as_nanos() == expected)
                    .map(|d| d.value)
            })
            .collect();
        let group = Self::group_capacity(obs);
        let mut desired_now = obs.desired;
        let mut watch = false;
        if let Some(c) = self.largest(now, &group, &values) {
            let desired = c.decision.desired.max(self.forecast_floor);
            if let Some(cooldown) = c.simple_cooldown.filter(|_| desired != obs.desired) {
                // Only a simple decision the group applies starts an activity, and the
                // cooldown after it; one that lost to a larger capacity (or to the forecast's
                // floor) starts nothing.
                self.cooldown.activity_started(cooldown);
                self.simple_in_progress = true;
                watch = true;
            }
            if desired > obs.desired {
                // "This warm-up period applies to instances launched due to a specific target
                // tracking or step scaling policy" (PutScalingPolicy).
                actions.push(ScalingAction::LaunchWarmup(c.warmup));
            }
            actions.push(ScalingAction::SetDesired {
                desired,
                policy: c.policy,
                reason: c.why,
            });
            desired_now = obs.limits.clamp(i64::from(desired));
        }
        self.predict(now, desired_now, obs.limits, actions);
        if watch {
            actions.push(ScalingAction::WatchActivity);
        }
    }

    /// The largest capacity of the policies that act now on `values` (one per pipeline), with
    /// the warm-up of the instances it launches and, for a simple policy, the cooldown its
    /// activity starts.
    fn largest(
        &mut self,
        now: SimTime,
        group: &GroupCapacity,
        values: &[Option<f64>],
    ) -> Option<Chosen> {
        let mut best: Option<Chosen> = None;
        let mut consider = |c: Chosen| {
            if best
                .as_ref()
                .is_none_or(|b| c.decision.desired > b.decision.desired)
            {
                best = Some(c);
            }
        };
        // Target tracking policies decide together: scale out if any wants to, scale in only
        // if all want to (see `target_tracking::combine`).
        let n_tt = self.target_tracking.len();
        let votes: Vec<TargetTrackingVote> = self
            .target_tracking
            .iter_mut()
            .zip(values)
            .map(|(p, &v)| p.vote(now, group, v))
            .collect();
        if let Some((decision, i)) = target_tracking::combine(group, &votes) {
            consider(Chosen {
                decision,
                policy: "target_tracking",
                why: format!(
                    "{} {} against target {}",
                    self.metrics[i].kind.name(),
                    shown(values[i]),
                    self.target_tracking[i].target()
                ),
                warmup: self.target_tracking_warmup[i],
                simple_cooldown: None,
            });
        }
        let mut i = n_tt;
        for (k, p) in self.step.iter_mut().enumerate() {
            let v = values[i];
            if let Some(decision) = p.decide(now, group, v) {
                let why = match decision.reason {
                    ScalingReason::StepAdjustment { step } => format!(
                        "{} {} in step {step}",
                        self.metrics[i].kind.name(),
                        shown(v)
                    ),
                    _ => String::new(),
                };
                consider(Chosen {
                    decision,
                    policy: "step",
                    why,
                    warmup: self.step_warmup[k],
                    simple_cooldown: None,
                });
            }
            i += 1;
        }
        for p in &mut self.simple {
            let v = values[i];
            if let Some(decision) = p.decide(now, group, v, &self.cooldown) {
                consider(Chosen {
                    decision,
                    policy: "simple",
                    why: format!(
                        "{} {} breached its alarm",
                        self.metrics[i].kind.name(),
                        shown(v)
                    ),
                    warmup: self.warmup.of_other_launches(),
                    simple_cooldown: Some(p.cooldown()),
                });
            }
            i += 1;
        }
        best
    }

    /// Predictive scaling at one evaluation, the group wanting `desired` within `limits`:
    /// forecast, and in `forecast_and_scale` mode raise the desired capacity to it.
    fn predict(
        &mut self,
        now: SimTime,
        desired: u32,
        limits: CapacityLimits,
        actions: &mut Vec<ScalingAction>,
    ) {
        let Some(p) = &mut self.predictive else {
            return;
        };
        let decision = p.decide(now, desired, limits.min, limits.max);
        match decision.action {
            PredictiveAction::ScaleOut {
                capacity,
                max_capacity,
            } => {
                self.forecast_floor = capacity;
                actions.push(ScalingAction::Limits(CapacityLimits {
                    min: limits.min,
                    max: limits.max.max(max_capacity),
                }));
                actions.push(ScalingAction::LaunchWarmup(self.warmup.of_other_launches()));
                actions.push(ScalingAction::SetDesired {
                    desired: capacity,
                    policy: "predictive",
                    reason: format!("forecast needs {capacity}"),
                });
            }
            PredictiveAction::Hold => {
                self.forecast_floor = decision.forecast_capacity.unwrap_or(0);
            }
            PredictiveAction::ReportOnly => {
                if let Some(c) = decision.forecast_capacity {
                    if self.forecast_seen != Some(c) {
                        actions.push(ScalingAction::Report {
                            policy: "predictive",
                            from: desired,
                            to: c,
                            reason: "forecast only: not applied".into(),
                        });
                    }
                }
            }
        }
        self.forecast_seen = decision.forecast_capacity;
    }

    /// Runs the scheduled actions due now; returns when the next is due.
    fn run_scheduled(
        &mut self,
        obs: &ScalingObservation<'_>,
        actions: &mut Vec<ScalingAction>,
    ) -> Option<SimDuration> {
        let now = obs.now;
        let s = self.scheduled.as_ref()?;
        if let Some(d) = s.fire(now, obs.limits, obs.desired) {
            actions.push(ScalingAction::Limits(d.limits));
            if d.desired > obs.desired {
                actions.push(ScalingAction::LaunchWarmup(self.warmup.of_other_launches()));
            }
            actions.push(ScalingAction::SetDesired {
                desired: d.desired,
                policy: "scheduled",
                reason: format!(
                    "scheduled action {} (min {}, max {})",
                    d.last_action, d.limits.min, d.limits.max
                ),
            });
        }
        s.next_at_or_after(now + SimDuration::from_nanos(1))
            .map(|next| next - now)
    }
}

#[cfg(test)]
mod tests {
    use super::super::alarm::Comparison;
    use super::super::capacity::AdjustmentType;
    use super::super::controller::tests::{observation, steady};
    use super::super::scheduled::{Recurrence, ScheduledAction, WallClock};
    use super::super::spec::{AlarmSpec, SimpleSpec};
    use super::*;

    fn secs(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    /// A group with no policy, metrics published without lag every minute, warm-ups unset and a
    /// default cooldown of 300 s.
    fn policies() -> AwsPolicies {
        AwsPolicies {
            metric_period: SimDuration::from_secs(60),
            metric_lag: SimDuration::ZERO,
            warmup: GroupWarmup {
                default_instance_warmup: None,
                default_cooldown: SimDuration::from_secs(300),
            },
            target_tracking: Vec::new(),
            step: Vec::new(),
            simple: Vec::new(),
            scheduled: None,
            predictive: None,
        }
    }

    /// One sample and one evaluation at `t` with `depth` requests queued, the group at its
    /// `desired` capacity; the activity reported settled at `settled`.
    fn minute(
        group: &mut AwsGroup,
        t: u64,
        depth: f64,
        desired: u32,
        settled: Option<u64>,
    ) -> Vec<ScalingAction> {
        let limits = CapacityLimits::new(1, 10);
        let instances = steady(desired);
        let mut obs = observation(secs(t), desired, limits, &instances);
        obs.queue_depth = depth;
        obs.activity_settled_at = settled.map(secs);
        let mut actions = Vec::new();
        assert_eq!(
            group.on_tick(Tick::AwsSample, &obs, &mut actions),
            Some(SimDuration::from_secs(60))
        );
        obs.activity_settled_at = None;
        group.on_tick(Tick::AwsEvaluate, &obs, &mut actions);
        actions
    }

    #[test]
    fn a_simple_cooldown_starts_when_the_watched_activity_settles() {
        let mut spec = policies();
        spec.simple.push(SimpleSpec {
            alarm: AlarmSpec {
                metric: AwsMetric {
                    kind: MetricKind::QueueDepth,
                    statistic: Statistic::Average,
                },
                comparison: Comparison::GreaterThan,
                threshold: 10.0,
                evaluation_periods: 1,
                datapoints_to_alarm: 1,
            },
            adjustment_type: AdjustmentType::ChangeInCapacity,
            adjustment: 1,
            cooldown: None,
        });
        let mut group = AwsGroup::new(&spec);
        assert_eq!(
            group.first_ticks(),
            vec![
                (SimDuration::from_secs(60), Tick::AwsSample),
                (SimDuration::from_secs(60), Tick::AwsEvaluate)
            ]
        );
        // The alarm fires: one more instance, and the world is asked to watch the activity.
        let actions = minute(&mut group, 60, 20.0, 1, None);
        assert_eq!(
            actions,
            vec![
                ScalingAction::LaunchWarmup(SimDuration::ZERO),
                ScalingAction::SetDesired {
                    desired: 2,
                    policy: "simple",
                    reason: "queue_depth 20.000 breached its alarm".into()
                },
                ScalingAction::WatchActivity
            ]
        );
        // The activity has not settled: simple scaling waits, however long.
        assert_eq!(minute(&mut group, 120, 20.0, 2, None), vec![]);
        assert_eq!(minute(&mut group, 600, 20.0, 2, None), vec![]);
        // It settled at 610 s: the 300 s cooldown runs from then, to 910 s.
        assert_eq!(minute(&mut group, 660, 20.0, 2, Some(610)), vec![]);
        assert_eq!(minute(&mut group, 900, 20.0, 2, None), vec![]);
        let actions = minute(&mut group, 960, 20.0, 2, None);
        assert!(
            matches!(actions[1], ScalingAction::SetDesired { desired: 3, .. }),
            "{actions:?}"
        );
    }

    #[test]
    fn a_group_asks_for_the_queue_gauges_only_at_a_sample_and_only_with_a_queue_metric() {
        let alarm = |kind| AlarmSpec {
            metric: AwsMetric {
                kind,
                statistic: Statistic::Average,
            },
            comparison: Comparison::GreaterThan,
            threshold: 10.0,
            evaluation_periods: 1,
            datapoints_to_alarm: 1,
        };
        let simple = |kind| SimpleSpec {
            alarm: alarm(kind),
            adjustment_type: AdjustmentType::ChangeInCapacity,
            adjustment: 1,
            cooldown: None,
        };
        let mut queue = policies();
        queue.simple.push(simple(MetricKind::QueueOldestAge));
        let queue = AwsGroup::new(&queue);
        assert!(queue.reads(Tick::AwsSample).gauges);
        assert!(queue.reads(Tick::AwsSample).utilization);
        assert!(!queue.reads(Tick::AwsEvaluate).gauges);
        assert!(!queue.reads(Tick::Scheduled).gauges);
        let mut requests = policies();
        requests
            .simple
            .push(simple(MetricKind::RequestCountPerTarget));
        let requests = AwsGroup::new(&requests);
        assert!(!requests.reads(Tick::AwsSample).gauges);
    }

    #[test]
    fn a_scheduled_action_sets_limits_then_desired_and_names_the_next_time() {
        let mut spec = policies();
        spec.warmup.default_instance_warmup = Some(SimDuration::from_secs(30));
        let action = |at: u64, desired: u32| ScheduledAction {
            recurrence: Recurrence::Once(secs(at)),
            start: None,
            end: None,
            min: Some(2),
            max: None,
            desired: Some(desired),
        };
        spec.scheduled = Some((
            WallClock::starting(0, SimDuration::ZERO),
            vec![action(600, 5), action(1200, 3)],
        ));
        let mut group = AwsGroup::new(&spec);
        assert_eq!(
            group.first_ticks(),
            vec![(SimDuration::from_secs(600), Tick::Scheduled)]
        );
        let limits = CapacityLimits::new(1, 10);
        let instances = steady(1);
        let obs = observation(secs(600), 1, limits, &instances);
        let mut actions = Vec::new();
        let next = group.on_tick(Tick::Scheduled, &obs, &mut actions);
        assert_eq!(next, Some(SimDuration::from_secs(600)));
        assert_eq!(
            actions,
            vec![
                ScalingAction::Limits(CapacityLimits::new(2, 10)),
                // Raising the capacity: the launches get the group's default warm-up.
                ScalingAction::LaunchWarmup(SimDuration::from_secs(30)),
                ScalingAction::SetDesired {
                    desired: 5,
                    policy: "scheduled",
                    reason: "scheduled action 0 (min 2, max 10)".into()
                }
            ]
        );
        // Lowering it: no warm-up to set, and no action after the last one.
        let obs = observation(secs(1200), 5, CapacityLimits::new(2, 10), &instances);
        actions.clear();
        assert_eq!(group.on_tick(Tick::Scheduled, &obs, &mut actions), None);
        assert_eq!(actions.len(), 2, "{actions:?}");
    }
}
