//! Whole scenario files through both stages: every key of autoscaling, instance startup, warm
//! pools, launches, termination and named queues, checked against the typed values it must
//! give, and the defaults of each key left out.

use std::path::Path;

use super::{Scenario, ScenarioError, ScenarioSet};
use crate::engine::{SimDuration, SimTime};
use crate::model::autoscale::alarm::Comparison;
use crate::model::autoscale::capacity::AdjustmentType;
use crate::model::autoscale::hpa::Tolerances;
use crate::model::autoscale::hpa_behavior::{
    HpaBehavior, ScalingPolicy, ScalingRules, SelectPolicy,
};
use crate::model::autoscale::keda::{KedaConfig, MetricTargetType};
use crate::model::autoscale::metrics_pipeline::Statistic;
use crate::model::autoscale::predictive::{MaxCapacityBreach, PredictiveConfig, PredictiveMode};
use crate::model::autoscale::scheduled::{Cron, Recurrence, ScheduledAction, WallClock};
use crate::model::autoscale::spec::{
    AlarmSpec, AutoscalingSpec, AwsMetric, AwsPolicies, Controller, HpaController, HpaMetric,
    KedaController, KedaTrigger, MetricKind, PredictiveSpec, SimpleSpec, StepSpec,
    TargetTrackingSpec,
};
use crate::model::autoscale::step::StepAdjustment;
use crate::model::autoscale::warmup::GroupWarmup;
use crate::model::fleet::lifecycle::InstanceState;
use crate::model::fleet::{
    Dispatch, LaunchSpec, PoolSpec, ServiceTime, StartupSpec, TerminationPolicy, WarmPoolSpec,
    DEFAULT_DEREGISTRATION_DELAY,
};

/// Everything but the pool: one instance type, one class going to the pool `p`.
const HEAD: &str = r#"name = "s"
duration = "1h"
[traffic]
rate = "10/s"
[[instance_type]]
name = "gpu"
concurrency = 2
price = "$1/h"
[[class]]
name = "a"
pool = "p"
service = { distribution = "exponential", mean = "1s" }
[[pool]]
name = "p"
instance_type = "gpu"
"#;

fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    Scenario::parse(text, Path::new("t.toml"))
}

/// The one pool of `HEAD` followed by `pool_keys`.
fn pool(pool_keys: &str) -> PoolSpec {
    let text = format!("{HEAD}{pool_keys}");
    match parse(&text) {
        Ok(s) => s.pools[0].clone(),
        Err(e) => panic!("{e}\n{text}"),
    }
}

/// The problems of `HEAD` followed by `pool_keys`, as `path: message` lines.
fn problems(pool_keys: &str) -> Vec<String> {
    let text = format!("{HEAD}{pool_keys}");
    match parse(&text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e
            .diagnostics
            .iter()
            .map(|d| format!("{}: {}", d.path, d.message))
            .collect(),
    }
}

fn secs(s: u64) -> SimDuration {
    SimDuration::from_secs(s)
}

#[test]
fn aws_policies_read_every_key() {
    let p = pool(
        r#"instances = 3
[pool.autoscaling]
min = 2
max = 30
metric_period = "30s"
metric_lag = "90s"
instance_warmup = "120s"
default_cooldown = "200s"
[[pool.autoscaling.target_tracking]]
name = "util"
metric = "utilization"
statistic = "p99.5"
target = 60
disable_scale_in = true
[[pool.autoscaling.target_tracking]]
metric = "request_count_per_target"
target = 1000
estimated_instance_warmup = "45s"
[[pool.autoscaling.step]]
name = "out"
metric = "queue_depth"
statistic = "maximum"
comparison = "GreaterThanOrEqualToThreshold"
threshold = 80
evaluation_periods = 3
datapoints_to_alarm = 2
adjustment_type = "percent_change_in_capacity"
min_adjustment_magnitude = 2
steps = [{ lower = 10, adjustment = 30 }, { lower = 0, upper = 10, adjustment = 10 }]
estimated_instance_warmup = "0s"
[[pool.autoscaling.step]]
name = "in"
metric = "utilization"
comparison = "<"
threshold = 20
steps = [{ upper = 0, adjustment = -1 }]
[[pool.autoscaling.simple]]
name = "floor"
metric = "in_flight"
statistic = "sample_count"
comparison = "<="
threshold = 1.5
adjustment_type = "exact_capacity"
adjustment = 4
cooldown = "600s"
[pool.autoscaling.scheduled]
start_weekday = "friday"
start_time = "23:30"
[[pool.autoscaling.scheduled.action]]
name = "business_hours"
recurrence = "0 9 * * 1-5"
start = "1h"
end = "48h"
min = 4
max = 40
desired = 10
[[pool.autoscaling.scheduled.action]]
at = "2h"
desired = 3
[pool.autoscaling.predictive]
target = 50
mode = "forecast_and_scale"
scheduling_buffer = "600s"
max_capacity_breach = "increase"
max_capacity_buffer = 10
"#,
    );
    let metric = |kind, statistic| AwsMetric { kind, statistic };
    let alarm =
        |metric, comparison, threshold, evaluation_periods, datapoints_to_alarm| AlarmSpec {
            metric,
            comparison,
            threshold,
            evaluation_periods,
            datapoints_to_alarm,
        };
    let expected = AwsPolicies {
        metric_period: secs(30),
        metric_lag: secs(90),
        warmup: GroupWarmup {
            default_instance_warmup: Some(secs(120)),
            default_cooldown: secs(200),
        },
        target_tracking: vec![
            TargetTrackingSpec {
                metric: metric(
                    MetricKind::Utilization,
                    Statistic::Percentile { hundredths: 9950 },
                ),
                target: 60.0,
                disable_scale_in: true,
                estimated_instance_warmup: None,
            },
            TargetTrackingSpec {
                metric: metric(MetricKind::RequestCountPerTarget, Statistic::Sum),
                target: 1000.0,
                disable_scale_in: false,
                estimated_instance_warmup: Some(secs(45)),
            },
        ],
        step: vec![
            StepSpec {
                alarm: alarm(
                    metric(MetricKind::QueueDepth, Statistic::Maximum),
                    Comparison::GreaterThanOrEqual,
                    80.0,
                    3,
                    2,
                ),
                adjustment_type: AdjustmentType::PercentChangeInCapacity {
                    min_adjustment_magnitude: Some(2),
                },
                // In the order written.
                steps: vec![
                    StepAdjustment {
                        lower: Some(10.0),
                        upper: None,
                        adjustment: 30,
                    },
                    StepAdjustment {
                        lower: Some(0.0),
                        upper: Some(10.0),
                        adjustment: 10,
                    },
                ],
                estimated_instance_warmup: Some(SimDuration::ZERO),
            },
            StepSpec {
                alarm: alarm(
                    metric(MetricKind::Utilization, Statistic::Average),
                    Comparison::LessThan,
                    20.0,
                    1,
                    1,
                ),
                adjustment_type: AdjustmentType::ChangeInCapacity,
                steps: vec![StepAdjustment {
                    lower: None,
                    upper: Some(0.0),
                    adjustment: -1,
                }],
                estimated_instance_warmup: None,
            },
        ],
        simple: vec![SimpleSpec {
            alarm: alarm(
                metric(MetricKind::InFlight, Statistic::SampleCount),
                Comparison::LessThanOrEqual,
                1.5,
                1,
                1,
            ),
            adjustment_type: AdjustmentType::ExactCapacity,
            adjustment: 4,
            cooldown: Some(secs(600)),
        }],
        scheduled: Some((
            // Friday is day 5 of the cron week.
            WallClock::starting(5, secs(23 * 3600 + 30 * 60)),
            vec![
                ScheduledAction {
                    recurrence: Recurrence::Cron(Cron::parse("0 9 * * 1-5").unwrap()),
                    start: Some(SimTime::ZERO + secs(3600)),
                    end: Some(SimTime::ZERO + secs(48 * 3600)),
                    min: Some(4),
                    max: Some(40),
                    desired: Some(10),
                },
                ScheduledAction {
                    recurrence: Recurrence::Once(SimTime::ZERO + secs(7200)),
                    start: None,
                    end: None,
                    min: None,
                    max: None,
                    desired: Some(3),
                },
            ],
        )),
        predictive: Some(PredictiveSpec {
            config: PredictiveConfig {
                target_load_per_instance: 50.0,
                mode: PredictiveMode::ForecastAndScale,
                scheduling_buffer: secs(600),
                max_capacity_breach: MaxCapacityBreach::IncreaseMaxCapacity { buffer_percent: 10 },
            },
        }),
    };
    assert_eq!(
        p.autoscaling,
        Some(AutoscalingSpec {
            min: 2,
            max: 30,
            controller: Controller::Aws(expected),
        })
    );
    assert_eq!(p.instances, 3);
    assert_eq!(p.termination_policy, TerminationPolicy::AwsDefault);
}

#[test]
fn aws_defaults_fill_every_key_left_out() {
    let p = pool(
        r#"[pool.autoscaling]
min = 1
max = 4
[[pool.autoscaling.target_tracking]]
metric = "utilization"
target = 50
[pool.autoscaling.scheduled]
action = [{ recurrence = "*/15 * * * *", max = 8 }]
[pool.autoscaling.predictive]
target = 20
"#,
    );
    // Without `instances`, the group starts at its min.
    assert_eq!(p.instances, 1);
    let Some(Controller::Aws(aws)) = p.autoscaling.map(|a| a.controller) else {
        panic!("an AWS controller")
    };
    assert_eq!(
        (
            aws.metric_period,
            aws.metric_lag,
            aws.warmup.default_instance_warmup,
            aws.warmup.default_cooldown
        ),
        // No DefaultInstanceWarmup: AWS's default ("Default: None").
        (secs(60), secs(60), None, secs(300))
    );
    assert_eq!(aws.target_tracking[0].metric.statistic, Statistic::Average);
    assert!(!aws.target_tracking[0].disable_scale_in);
    // The week starts on Monday 00:00 UTC.
    assert_eq!(
        aws.scheduled.as_ref().map(|(clock, _)| *clock),
        Some(WallClock::starting(1, SimDuration::ZERO))
    );
    assert_eq!(
        aws.predictive.map(|p| p.config),
        Some(PredictiveConfig::new(20.0))
    );
}

#[test]
fn an_alarms_defaults_and_datapoints_follow_its_evaluation_periods() {
    let alarm_of = |keys: &str| {
        let p = pool(&format!(
            "[pool.autoscaling]\nmin = 1\nmax = 4\n[[pool.autoscaling.simple]]\n\
             metric = \"request_count_per_target\"\ncomparison = \">\"\nthreshold = 5\nadjustment = 1\n{keys}"
        ));
        let Some(Controller::Aws(aws)) = p.autoscaling.map(|a| a.controller) else {
            panic!("an AWS controller")
        };
        aws.simple[0]
    };
    let plain = alarm_of("");
    assert_eq!(
        (
            plain.alarm.evaluation_periods,
            plain.alarm.datapoints_to_alarm
        ),
        (1, 1)
    );
    // request_count_per_target is a sum per period unless told otherwise.
    assert_eq!(plain.alarm.metric.statistic, Statistic::Sum);
    assert_eq!(plain.adjustment_type, AdjustmentType::ChangeInCapacity);
    assert_eq!(plain.cooldown, None);
    let five = alarm_of("evaluation_periods = 5\nstatistic = \"average\"");
    assert_eq!(
        (
            five.alarm.evaluation_periods,
            five.alarm.datapoints_to_alarm
        ),
        (5, 5)
    );
    assert_eq!(five.alarm.metric.statistic, Statistic::Average);
    let percent = alarm_of("adjustment_type = \"percent_change_in_capacity\"");
    assert_eq!(
        percent.adjustment_type,
        AdjustmentType::PercentChangeInCapacity {
            min_adjustment_magnitude: None
        }
    );
}

#[test]
fn hpa_reads_every_key() {
    let p = pool(
        r#"instances = 2
deregistration_delay = "30s"
[pool.autoscaling]
min = 2
max = 20
[pool.autoscaling.hpa]
sync_period = "10s"
scrape_interval = "30s"
tolerance = 0.05
metrics = [
  { type = "resource", average_utilization = 60 },
  { type = "pods", metric = "in_flight", average_value = 4 },
  { type = "external", metric = "queue_depth", average_value = 5 },
  { type = "external", metric = "request_rate", value = 100 },
]
[pool.autoscaling.hpa.behavior.scale_up]
stabilization_window = "60s"
select_policy = "min"
policies = [{ type = "pods", value = 4, period = "60s" }, { type = "percent", value = 50, period = "30s" }]
[pool.autoscaling.hpa.behavior.scale_down]
select_policy = "disabled"
"#,
    );
    let expected = HpaController {
        sync_period: secs(10),
        scrape_interval: secs(30),
        metrics: vec![
            HpaMetric::Resource {
                average_utilization: 60,
            },
            HpaMetric::Pods {
                metric: MetricKind::InFlight,
                average_value: 4.0,
            },
            HpaMetric::External {
                metric: MetricKind::QueueDepth,
                target: 5.0,
                target_type: MetricTargetType::AverageValue,
            },
            HpaMetric::External {
                metric: MetricKind::RequestRate,
                target: 100.0,
                target_type: MetricTargetType::Value,
            },
        ],
        behavior: Some(HpaBehavior {
            scale_up: ScalingRules {
                stabilization_window: Some(secs(60)),
                select_policy: SelectPolicy::Min,
                policies: vec![
                    ScalingPolicy::pods(4, secs(60)),
                    ScalingPolicy::percent(50, secs(30)),
                ],
            },
            // Only the select policy given: the window and policies are the direction's
            // defaults.
            scale_down: ScalingRules {
                select_policy: SelectPolicy::Disabled,
                ..ScalingRules::k8s_default_scale_down()
            },
        }),
        tolerances: Tolerances {
            scale_down: 0.05,
            scale_up: 0.05,
        },
    };
    assert_eq!(
        p.autoscaling,
        Some(AutoscalingSpec {
            min: 2,
            max: 20,
            controller: Controller::Hpa(expected),
        })
    );
    assert_eq!(p.deregistration_delay, secs(30));
    // A Kubernetes controller removes pods as the ReplicaSet controller does.
    assert_eq!(p.termination_policy, TerminationPolicy::Kubernetes);
}

#[test]
fn hpa_defaults_and_behavior_directions() {
    let hpa_of = |keys: &str| {
        let p = pool(&format!(
            "[pool.autoscaling]\nmin = 1\nmax = 4\n[pool.autoscaling.hpa]\n{keys}"
        ));
        match p.autoscaling.map(|a| a.controller) {
            Some(Controller::Hpa(h)) => h,
            other => panic!("{other:?}"),
        }
    };
    let plain = hpa_of("");
    assert_eq!(
        plain,
        HpaController {
            sync_period: secs(15),
            scrape_interval: secs(15),
            metrics: vec![HpaMetric::Resource {
                average_utilization: 80
            }],
            behavior: None,
            tolerances: Tolerances::default(),
        }
    );
    // An empty metrics list is Kubernetes' default too.
    assert_eq!(hpa_of("metrics = []").metrics, plain.metrics);
    // A behavior with one direction: the other is Kubernetes' default.
    let up_only = hpa_of("behavior = { scale_up = { stabilization_window = \"30s\" } }");
    assert_eq!(
        up_only.behavior,
        Some(HpaBehavior {
            scale_up: ScalingRules {
                stabilization_window: Some(secs(30)),
                ..ScalingRules::k8s_default_scale_up()
            },
            scale_down: ScalingRules::k8s_default_scale_down(),
        })
    );
    assert_eq!(
        hpa_of("behavior = {}").behavior,
        Some(HpaBehavior::default())
    );
}

#[test]
fn keda_reads_every_key_and_takes_min_and_max_from_the_group() {
    let p = pool(
        r#"termination_policy = "newest_instance"
[pool.autoscaling]
min = 3
max = 12
[pool.autoscaling.keda]
polling_interval = "10s"
cooldown_period = "120s"
initial_cooldown_period = "60s"
idle_replica_count = 0
sync_period = "5s"
triggers = [
  { metric = "queue_depth", target = 5, activation = 2, metric_type = "average_value" },
  { metric = "queue_oldest_age", target = 30, metric_type = "value" },
  { metric = "queue_depth", target = 5, scaler = "aws-sqs-queue", scale_on_in_flight = false },
  { metric = "queue_depth", target = 5, scaler = "rabbitmq", protocol = "http" },
  { metric = "queue_depth", target = 5, scaler = "rabbitmq", protocol = "http", exclude_unacknowledged = true },
  { metric = "queue_depth", target = 5, scaler = "rabbitmq", protocol = "amqp" },
  { metric = "queue_depth", target = 5, scaler = "redis" },
]
[pool.autoscaling.keda.behavior.scale_down]
stabilization_window = "0s"
policies = [{ type = "pods", value = 1, period = "30s" }]
"#,
    );
    let expected = KedaController {
        config: KedaConfig {
            polling_interval: secs(10),
            cooldown_period: secs(120),
            initial_cooldown_period: secs(60),
            min_replica_count: 3,
            max_replica_count: 12,
            idle_replica_count: Some(0),
        },
        triggers: vec![
            // No scaler: AWS SQS's, which counts the messages in flight by default.
            KedaTrigger {
                metric: MetricKind::QueueDepth,
                target: 5.0,
                activation: 2.0,
                target_type: MetricTargetType::AverageValue,
                counts_in_flight: true,
            },
            KedaTrigger {
                metric: MetricKind::QueueOldestAge,
                target: 30.0,
                activation: 0.0,
                target_type: MetricTargetType::Value,
                counts_in_flight: false,
            },
        ]
        .into_iter()
        // scaleOnInFlight off; RabbitMQ over HTTP (ready + unacknowledged), excluding the
        // unacknowledged, over AMQP (ready only); a Redis list.
        .chain(
            [false, true, false, false, false].map(|counts_in_flight| KedaTrigger {
                metric: MetricKind::QueueDepth,
                target: 5.0,
                activation: 0.0,
                target_type: MetricTargetType::AverageValue,
                counts_in_flight,
            }),
        )
        .collect(),
        sync_period: secs(5),
        behavior: Some(HpaBehavior {
            scale_up: ScalingRules::k8s_default_scale_up(),
            scale_down: ScalingRules {
                stabilization_window: Some(SimDuration::ZERO),
                select_policy: SelectPolicy::Max,
                policies: vec![ScalingPolicy::pods(1, secs(30))],
            },
        }),
    };
    assert_eq!(
        p.autoscaling,
        Some(AutoscalingSpec {
            min: 3,
            max: 12,
            controller: Controller::Keda(expected),
        })
    );
    assert_eq!(p.instances, 3);
    // Given explicitly, the termination policy is kept whatever the controller.
    assert_eq!(p.termination_policy, TerminationPolicy::NewestInstance);
}

#[test]
fn keda_defaults_and_scale_to_zero() {
    let p = pool(
        "[pool.autoscaling]\nmin = 0\nmax = 5\n[pool.autoscaling.keda]\n\
         triggers = [{ metric = \"request_rate\", target = 10 }]\n",
    );
    assert_eq!(p.instances, 0);
    assert_eq!(p.termination_policy, TerminationPolicy::Kubernetes);
    let Some(Controller::Keda(keda)) = p.autoscaling.map(|a| a.controller) else {
        panic!("a KEDA controller")
    };
    assert_eq!(
        keda.config,
        KedaConfig {
            min_replica_count: 0,
            max_replica_count: 5,
            ..KedaConfig::default()
        }
    );
    assert_eq!(keda.sync_period, secs(15));
    assert_eq!(keda.behavior, None);
    assert_eq!(
        (keda.triggers[0].activation, keda.triggers[0].target_type),
        (0.0, MetricTargetType::AverageValue)
    );
}

#[test]
fn warm_pool_startup_and_launch_read_every_key() {
    let p = pool(
        r#"instances = 4
termination_policy = "oldest_instance"
deregistration_delay = "0s"
[pool.startup]
boot = "90s"
model_load = { distribution = "lognormal", mean = "60s", cv = 0.2 }
warm_up = { distribution = "constant", value = "20s" }
[pool.warm_pool]
min_size = 2
max_prepared_capacity = 10
state = "hibernated"
reuse_on_scale_in = true
storage_price = "$0.011/h"
[pool.launch]
failure_probability = 0.1
retry_after = "30s"
per_minute = 20
[pool.autoscaling]
min = 2
max = 30
[[pool.autoscaling.target_tracking]]
metric = "utilization"
target = 60
"#,
    );
    assert_eq!(
        p.startup,
        StartupSpec {
            boot: ServiceTime::Constant { nanos: 90e9 },
            model_load: ServiceTime::lognormal(60.0, 0.2),
            warm_up: ServiceTime::Constant { nanos: 20e9 },
        }
    );
    assert_eq!(
        p.warm_pool,
        Some(WarmPoolSpec {
            min_size: 2,
            max_prepared_capacity: Some(10),
            state: InstanceState::WarmHibernated,
            reuse_on_scale_in: true,
            storage_price_per_hour: 0.011,
        })
    );
    assert_eq!(
        p.launch,
        LaunchSpec {
            failure_probability: 0.1,
            retry_after: secs(30),
            per_minute: Some(20),
        }
    );
    assert_eq!(p.termination_policy, TerminationPolicy::OldestInstance);
    assert_eq!(p.deregistration_delay, SimDuration::ZERO);
}

#[test]
fn lifecycle_defaults() {
    let fixed = pool("instances = 2\n");
    assert_eq!(fixed.startup, StartupSpec::instant());
    assert_eq!(fixed.deregistration_delay, DEFAULT_DEREGISTRATION_DELAY);
    assert_eq!(fixed.termination_policy, TerminationPolicy::AwsDefault);
    assert_eq!(fixed.warm_pool, None);
    assert_eq!(fixed.launch, LaunchSpec::default());
    assert_eq!((fixed.autoscaling, fixed.queue), (None, None));
    // An absent phase takes no time; the others are read.
    let partial = pool("instances = 2\n[pool.startup]\nmodel_load = \"2m\"\n");
    assert_eq!(
        partial.startup,
        StartupSpec {
            model_load: ServiceTime::Constant { nanos: 120e9 },
            ..StartupSpec::instant()
        }
    );
    let warm = pool(
        "[pool.warm_pool]\n[pool.autoscaling]\nmin = 1\nmax = 3\n\
         [[pool.autoscaling.target_tracking]]\nmetric = \"utilization\"\ntarget = 50\n",
    );
    assert_eq!(
        warm.warm_pool,
        Some(WarmPoolSpec {
            min_size: 0,
            max_prepared_capacity: None,
            state: InstanceState::WarmStopped,
            reuse_on_scale_in: false,
            storage_price_per_hour: 0.0,
        })
    );
    // AWS policies drain within ELB's 300 s; a pod an HPA or KEDA removes gets Kubernetes'
    // terminationGracePeriodSeconds, 30 s, unless the pool says otherwise.
    assert_eq!(warm.deregistration_delay, DEFAULT_DEREGISTRATION_DELAY);
    let hpa = pool("[pool.autoscaling]\nmin = 1\nmax = 4\n[pool.autoscaling.hpa]\n");
    assert_eq!(hpa.deregistration_delay, secs(30));
    let keda = pool(
        "[pool.autoscaling]\nmin = 0\nmax = 4\n[pool.autoscaling.keda]\n\
         triggers = [{ metric = \"queue_depth\", target = 5 }]\n",
    );
    assert_eq!(keda.deregistration_delay, secs(30));
    let set = pool(
        "deregistration_delay = \"600s\"\n[pool.autoscaling]\nmin = 1\nmax = 4\n\
         [pool.autoscaling.hpa]\n",
    );
    assert_eq!(set.deregistration_delay, secs(600));
}

#[test]
fn a_queue_driven_pool_takes_the_queues_capacity_and_its_classes() {
    let text = r#"name = "s"
duration = "1h"
[traffic]
rate = "10/s"
[[instance_type]]
name = "gpu"
concurrency = 2
price = "$1/h"
[[queue]]
name = "batch"
capacity = 10000
[[queue]]
name = "bulk"
[[pool]]
name = "online"
instance_type = "gpu"
instances = 2
[[pool]]
name = "workers"
instance_type = "gpu"
instances = 1
queue = "batch"
[[pool]]
name = "bulk_workers"
instance_type = "gpu"
instances = 1
queue = "bulk"
[[class]]
name = "chat"
share = 0.5
pool = "online"
service = { distribution = "exponential", mean = "1s" }
[[class]]
name = "jobs"
share = 0.25
queue = "batch"
service = { distribution = "exponential", mean = "10s" }
[[class]]
name = "more_jobs"
share = 0.25
queue = "batch"
service = { distribution = "exponential", mean = "20s" }
"#;
    let s = parse(text).unwrap_or_else(|e| panic!("{e}"));
    let workers = &s.pools[1];
    assert_eq!(
        (
            workers.dispatch,
            workers.queue_capacity,
            workers.queue.as_deref()
        ),
        (Dispatch::SharedQueue, Some(10_000), Some("batch"))
    );
    // A queue without capacity is unbounded.
    assert_eq!(
        (s.pools[2].queue_capacity, s.pools[2].queue.as_deref()),
        (None, Some("bulk"))
    );
    assert_eq!(
        (s.pools[0].dispatch, s.pools[0].queue.as_deref()),
        (Dispatch::Balancer, None)
    );
    // Both queue classes go through one route to the workers' group of their own.
    let group_of = |class: usize| &s.target_groups[s.routes[s.classes[class].route].target_group];
    assert_eq!(s.classes[1].route, s.classes[2].route);
    assert_eq!(group_of(1).pools, vec![1]);
    assert_eq!(group_of(1).name, "workers");
    assert_eq!(group_of(0).pools, vec![0]);
}

#[test]
fn instances_must_lie_within_the_autoscaling_bounds() {
    let scaled = "[pool.autoscaling]\nmin = 2\nmax = 5\n\
                  [[pool.autoscaling.target_tracking]]\nmetric = \"utilization\"\ntarget = 50\n";
    assert_eq!(pool(&format!("instances = 5\n{scaled}")).instances, 5);
    for n in [1, 6] {
        let found = problems(&format!("instances = {n}\n{scaled}"));
        assert_eq!(
            found,
            [format!(
                "pool[0].instances: instances = {n} is outside the autoscaling bounds, min 2 to max 5"
            )]
        );
    }
    // Zero only when the group may be empty.
    assert_eq!(
        problems("instances = 0\n"),
        ["pool[0].instances: expected a whole number from 1 to 1000000, found 0"]
    );
}

#[test]
fn step_ranges_follow_the_aws_rules() {
    let step = |steps: &str| {
        format!(
            "instances = 1\n[pool.autoscaling]\nmin = 1\nmax = 9\n[[pool.autoscaling.step]]\n\
             metric = \"utilization\"\ncomparison = \">=\"\nthreshold = 50\nsteps = {steps}\n"
        )
    };
    let at = "pool[0].autoscaling.step[0].steps";
    for (steps, expected) in [
        (
            "[{ lower = 0, upper = 10, adjustment = 1 }, { lower = 15, adjustment = 2 }]",
            format!("{at}[1].lower: there is a gap between steps[0] (0 to 10) and steps[1] (15 and above): no step covers 10 to 15"),
        ),
        (
            "[{ lower = 5, adjustment = 2 }, { lower = 0, upper = 10, adjustment = 1 }]",
            format!("{at}[0].lower: steps[1] (0 to 10) and steps[0] (5 and above) overlap"),
        ),
        (
            "[{ lower = 0, upper = 10, adjustment = 1 }]",
            format!("{at}[0].upper: a step ends above the threshold (upper = 10), but no step covers the metric above it"),
        ),
        (
            "[{ lower = -10, upper = 0, adjustment = -1 }, { lower = 0, adjustment = 1 }]",
            format!("{at}[0].lower: a step starts below the threshold (lower = -10), but no step covers the metric below it"),
        ),
        (
            "[{ lower = 0, adjustment = 1 }, { lower = 10, adjustment = 2 }]",
            format!("{at}[1]: steps[0] (0 and above) and steps[1] (10 and above) both have no upper bound"),
        ),
        (
            "[{ adjustment = 1 }]",
            format!("{at}[0]: steps[0] has neither a lower nor an upper bound"),
        ),
        (
            "[{ lower = 10, upper = 10, adjustment = 1 }]",
            format!("{at}[0].upper: steps[0]: upper (10) must be above lower (10)"),
        ),
        (
            "[]",
            format!("{at}: a step policy needs at least one step"),
        ),
    ] {
        assert_eq!(problems(&step(steps)), [expected], "{steps}");
    }
    // Both sides of the threshold, written in any order, without gap or overlap.
    let both = pool(&step(
        "[{ lower = 10, adjustment = 3 }, { upper = -10, adjustment = -2 }, \
         { lower = -10, upper = 0, adjustment = -1 }, { lower = 0, upper = 10, adjustment = 1 }]",
    ));
    let Some(Controller::Aws(aws)) = both.autoscaling.map(|a| a.controller) else {
        panic!("an AWS controller")
    };
    assert_eq!(aws.step[0].steps.len(), 4);
}

#[test]
fn an_autoscaling_table_has_exactly_one_controller() {
    let head = "[pool.autoscaling]\nmin = 1\nmax = 4\n";
    assert_eq!(
        problems(head),
        ["pool[0].autoscaling: this autoscaling table has no scaling policy"]
    );
    let found = problems(&format!(
        "{head}metric_period = \"30s\"\n[[pool.autoscaling.target_tracking]]\nmetric = \"utilization\"\ntarget = 5\n\
         [pool.autoscaling.hpa]\n[pool.autoscaling.keda]\ntriggers = [{{ metric = \"queue_depth\", target = 1 }}]\n"
    ));
    assert_eq!(
        found,
        [
            "pool[0].autoscaling.hpa: hpa and the AWS policies both scale this pool",
            "pool[0].autoscaling.keda: keda and the AWS policies both scale this pool",
        ]
    );
    assert_eq!(
        problems(&format!("{head}metric_lag = \"5s\"\n[pool.autoscaling.hpa]\n")),
        ["pool[0].autoscaling.metric_lag: metric_lag is a setting of the AWS policies, not of hpa"]
    );
}

#[test]
fn a_variant_merges_policies_by_name_and_can_switch_controllers() {
    let text = format!(
        r#"{HEAD}[pool.autoscaling]
min = 1
max = 10
metric_period = "30s"
[[pool.autoscaling.target_tracking]]
name = "util"
metric = "utilization"
target = 60
[[pool.autoscaling.target_tracking]]
name = "rate"
metric = "request_rate"
target = 100
[[variant]]
name = "lower_target"
pool = [{{ name = "p", autoscaling = {{ max = 20, target_tracking = [{{ name = "util", target = 40 }}] }} }}]
[[variant]]
name = "hpa"
pool = [{{ name = "p", autoscaling = {{ hpa = {{ metrics = [{{ type = "resource", average_utilization = 60 }}] }} }} }}]
"#
    );
    let set = ScenarioSet::parse(&text, Path::new("t.toml")).unwrap_or_else(|e| panic!("{e}"));
    let scaling = |s: &Scenario| s.pools[0].autoscaling.clone().unwrap();
    let lower = scaling(&set.variants[0].scenario);
    assert_eq!((lower.min, lower.max), (1, 20));
    let Controller::Aws(aws) = lower.controller else {
        panic!("still AWS")
    };
    // "util" changed key by key (its metric kept), "rate" untouched, the settings kept.
    assert_eq!(
        aws.target_tracking
            .iter()
            .map(|t| (t.metric.kind, t.target))
            .collect::<Vec<_>>(),
        [
            (MetricKind::Utilization, 40.0),
            (MetricKind::RequestRate, 100.0)
        ]
    );
    assert_eq!(aws.metric_period, secs(30));
    // Setting hpa drops the base's AWS policies and settings.
    let hpa = scaling(&set.variants[1].scenario);
    assert!(matches!(hpa.controller, Controller::Hpa(_)), "{hpa:?}");
    assert_eq!(
        set.variants[1].scenario.pools[0].termination_policy,
        TerminationPolicy::Kubernetes
    );
    assert_eq!(
        set.base.pools[0].termination_policy,
        TerminationPolicy::AwsDefault
    );
}

#[test]
fn a_fault_on_a_group_that_starts_empty_is_reported() {
    let found = problems(
        "[pool.autoscaling]\nmin = 0\nmax = 3\n[pool.autoscaling.keda]\n\
         triggers = [{ metric = \"queue_depth\", target = 1 }]\n\
         [[fault]]\npool = \"p\"\nkind = \"crash\"\nat = \"1m\"\n",
    );
    assert_eq!(
        found,
        ["fault[0].pool: the fault takes instance 0, but pool \"p\" starts with none"]
    );
}

/// `HEAD` with the instance type bought spot too, and a second type.
fn spot_head() -> String {
    HEAD.replace(
        "price = \"$1/h\"",
        "price = \"$1/h\"\nspot_price = \"$0.3/h\"\nspot_interruptions = { mean_time_between = \"20h\" }\n[[instance_type]]\nname = \"t4\"\nconcurrency = 1\nprice = \"$0.5/h\"\nspot_price = \"$0.2/h\"",
    )
}

#[test]
fn mixed_instances_read_every_key_and_default_as_aws() {
    use crate::model::fleet::mixed::{MixedInstances, OnDemandStrategy, SpotStrategy};
    use crate::model::market::interruptions::DEFAULT_REBALANCE_LEAD;
    let head = spot_head().replace("instance_type = \"gpu\"\n", "");
    let s = parse(&format!(
        "{head}instances = 1\n[pool.mixed_instances]\ntypes = [\"t4\", \"gpu\"]\n"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    // AWS InstancesDistribution defaults: base 0, 100 % on-demand, prioritized,
    // price-capacity-optimized, 2 spot pools, no capacity rebalancing.
    assert_eq!(
        s.pools[0].mixed,
        Some(MixedInstances {
            types: vec![1, 0],
            on_demand_base: 0,
            on_demand_percent: 100,
            on_demand_strategy: OnDemandStrategy::Prioritized,
            spot_strategy: SpotStrategy::PriceCapacityOptimized,
            spot_instance_pools: 2,
            capacity_rebalance: false,
        })
    );
    // The pool's reported type is the first of the list.
    assert_eq!(s.pools[0].instance_type, 1);
    let i = s.instance_types[0].spot_interruptions.as_ref().unwrap();
    assert_eq!(i.mean_time_between, secs(20 * 3600));
    assert_eq!(i.rebalance_fraction, 1.0);
    assert_eq!(
        i.rebalance_lead,
        ServiceTime::Constant {
            nanos: DEFAULT_REBALANCE_LEAD.as_nanos() as f64
        }
    );
    let s = parse(&format!(
        "{head}instances = 1\n[pool.mixed_instances]\ntypes = [\"gpu\"]\non_demand_base_capacity = 3\non_demand_percentage_above_base = 25\non_demand_allocation_strategy = \"lowest_price\"\nspot_allocation_strategy = \"lowest_price\"\nspot_instance_pools = 4\ncapacity_rebalance = true\n"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let m = s.pools[0].mixed.as_ref().unwrap();
    assert_eq!((m.on_demand_base, m.on_demand_percent), (3, 25));
    assert_eq!(m.on_demand_strategy, OnDemandStrategy::LowestPrice);
    assert_eq!(m.spot_strategy, SpotStrategy::LowestPrice);
    assert_eq!((m.spot_instance_pools, m.capacity_rebalance), (4, true));
    // purchase = "spot" is a one-type policy with no on-demand.
    let text = format!("{}instances = 2\npurchase = \"spot\"\n", spot_head());
    let m = parse(&text).unwrap().pools[0].mixed.clone().unwrap();
    assert_eq!(
        (m.types, m.on_demand_base, m.on_demand_percent),
        (vec![0], 0, 0)
    );
}

#[test]
fn failures_and_shortages_read_every_key() {
    let p = pool("instances = 1\n[pool.failures]\ncrash = { time_to_failure = { distribution = \"exponential\", mean = \"500h\" }, repair = \"10m\" }\n");
    let f = p.failures.unwrap();
    assert!(f.gpu_fault.is_none());
    assert_eq!(
        f.crash.unwrap().repair,
        ServiceTime::Constant { nanos: 600e9 }
    );
    assert_eq!(f.error_latency, crate::model::fleet::DEFAULT_ERROR_LATENCY);
    let s = parse(&format!(
        "{HEAD}instances = 1\n[[capacity_shortage]]\ninstance_type = \"gpu\"\nat = \"10m\"\nduration = \"20m\"\npurchase = \"spot\"\n"
    ))
    .unwrap();
    let c = s.capacity_shortages[0];
    assert_eq!(
        (c.from, c.until),
        (SimTime::ZERO + secs(600), SimTime::ZERO + secs(1800))
    );
    assert_eq!(c.purchase, Some(crate::model::market::PurchaseOption::Spot));
    assert_eq!(
        problems("instances = 1\n[pool.failures]\ngpu_fault = { time_to_failure = \"0s\", repair = \"1m\" }\n"),
        vec!["pool[0].failures.gpu_fault.time_to_failure: time_to_failure must be longer than 0s"]
    );
}

#[test]
fn topology_keys_give_typed_values_and_defaults() {
    use crate::model::topology::{
        DnsPolicy, OutageScope, RegionHealthCheck, TransferSizes, MAX_USERS_WITH_TOPOLOGY,
    };
    let text = r#"name = "t"
duration = "1h"
[traffic]
rate = "10/s"
[[region]]
name = "east"
cloud = "aws"
zones = ["a", "b"]
[[region]]
name = "central"
cloud = "gcp"
[[instance_type]]
name = "gpu"
concurrency = 2
price = "$1/h"
[[pool]]
name = "e"
instance_type = "gpu"
instances = 1
region = "east"
zone = "b"
[[pool]]
name = "c"
instance_type = "gpu"
instances = 1
region = "central"
[[target_group]]
name = "tg-e"
pools = ["e"]
[[target_group]]
name = "tg-c"
pools = ["c"]
[[route]]
path = "/"
target_group = ["tg-c", "tg-e"]
[[class]]
name = "x"
path = "/"
response_size = "1MiB"
service = { distribution = "constant", value = "1s" }
[[place]]
name = "here"
share = 1
latency = { east = "5ms", central = "20ms" }
[dns]
policy = "weighted"
regions = ["east", "central"]
weights = { central = 1, east = 2 }
[[outage]]
scope = "zone"
name = "east/b"
at = "10m"
duration = "5m"
[data_transfer]
internet_egress = { gcp = 0.085 }
"#;
    let s = Scenario::parse(text, Path::new("t.toml")).unwrap_or_else(|e| panic!("{e}"));
    let t = s.topology.expect("a topology");
    assert_eq!(t.clouds, vec!["aws".to_string(), "gcp".to_string()]);
    assert_eq!(t.pool_region, vec![(0, Some(1)), (1, None)]);
    // Groups take their pools' region.
    assert_eq!(t.group_region, vec![0, 1]);
    // The route's groups are placed by DNS answer (east first), whatever their order in the file.
    assert_eq!(t.route_groups, vec![0, 1]);
    assert_eq!(t.dns.policy, DnsPolicy::Weighted);
    assert_eq!(t.dns.weights, vec![2, 1]);
    // Defaults: TTL 60 s, Route 53's 30 s checks with threshold 3, no convergence delay.
    assert_eq!(t.dns.ttl, SimDuration::from_secs(60));
    assert_eq!(t.dns.health_check, RegionHealthCheck::default());
    assert_eq!(t.dns.health_check.interval, SimDuration::from_secs(30));
    assert_eq!(t.dns.health_check.failure_threshold, 3);
    assert_eq!(t.dns.convergence, SimDuration::ZERO);
    assert_eq!(
        t.places[0].rtt,
        vec![
            Some(SimDuration::from_millis(5)),
            Some(SimDuration::from_millis(20))
        ]
    );
    assert_eq!(t.outages[0].scope, OutageScope::Zone { region: 0, zone: 1 });
    assert_eq!(t.outages[0].at, SimTime::ZERO + SimDuration::from_secs(600));
    assert_eq!(
        t.outages[0].until,
        Some(SimTime::ZERO + SimDuration::from_secs(900))
    );
    assert_eq!(
        t.sizes,
        vec![TransferSizes {
            request: 2_000,
            response: 1_048_576
        }]
    );
    // GCP's egress overridden, its inter-region price and AWS's left at the list prices.
    assert_eq!(t.prices[0].internet_egress_per_gb, 0.09);
    assert_eq!(t.prices[1].internet_egress_per_gb, 0.085);
    assert_eq!(t.prices[1].inter_region_per_gb, 0.02);
    assert!(s.population.users <= MAX_USERS_WITH_TOPOLOGY);
}

mod llm {
    use super::*;
    use crate::model::fleet::llm::{DecodeCurve, StepPoint, TokenCount};

    fn parse(llm: &str, class: &str) -> Scenario {
        let text = format!(
            r#"name = "s"
duration = "1h"
[traffic]
rate = "10/s"
[[instance_type]]
name = "g5.xlarge"
llm = {llm}
[[pool]]
name = "p"
instance_type = "g5.xlarge"
instances = 1
[[class]]
name = "chat"
{class}
"#
        );
        Scenario::parse(&text, Path::new("t.toml")).unwrap_or_else(|e| panic!("{e}"))
    }

    const TOKENS: &str = r#"input_tokens = { distribution = "uniform", min = 10, max = 20 }
output_tokens = { distribution = "lognormal", mean = 200, cv = 1.5 }"#;

    #[test]
    fn a_linear_profile_sets_the_slots_and_keeps_the_catalog_price() {
        let s = parse(
            r#"{ prefill_per_token = "0.2ms", prefill_overhead = "5ms", max_batch = 32, decode_step = { base = "25ms", per_sequence = "0.4ms" } }"#,
            TOKENS,
        );
        let t = &s.instance_types[0];
        // max_batch is the concurrency; the price still comes from the catalog ($1.006/h).
        assert_eq!(t.concurrency, 32);
        assert_eq!(t.price_per_hour, 1.006);
        let p = t.llm.as_ref().expect("an llm profile");
        assert_eq!(
            (p.prefill_per_token, p.prefill_overhead),
            (200_000, 5_000_000)
        );
        assert_eq!(p.prefill(100), 25_000_000);
        // 25 ms + 0.4 ms × 31.
        assert_eq!(p.decode_step.step(32), 37_400_000);
        let tokens = s.classes[0].tokens.as_ref().expect("a token-based class");
        assert_eq!(tokens.input, TokenCount::Uniform { min: 10, max: 20 });
        assert_eq!(tokens.output, TokenCount::lognormal(200.0, 1.5));
    }

    #[test]
    fn a_curve_of_points_is_kept_as_written() {
        let s = parse(
            r#"{ prefill_per_token = "1ms", max_batch = 8, decode_step = [{ batch = 1, time = "20ms" }, { batch = 8, time = "34ms" }] }"#,
            TOKENS,
        );
        let p = s.instance_types[0].llm.as_ref().unwrap();
        assert_eq!(
            p.decode_step,
            DecodeCurve::new(vec![
                StepPoint {
                    batch: 1,
                    nanos: 20_000_000
                },
                StepPoint {
                    batch: 8,
                    nanos: 34_000_000
                },
            ])
        );
        // 20 + 14 × 3/7 = 26 ms at b = 4.
        assert_eq!(p.decode_step.step(4), 26_000_000);
        assert_eq!(p.prefill_overhead, 0);
    }

    #[test]
    fn a_class_with_a_service_time_on_an_llm_type_is_not_token_based() {
        let s = parse(
            r#"{ prefill_per_token = "1ms", max_batch = 8, decode_step = { base = "20ms", per_sequence = "1ms" } }"#,
            r#"service = { distribution = "constant", value = "1s" }"#,
        );
        assert!(s.classes[0].tokens.is_none());
        assert_eq!(s.instance_types[0].concurrency, 8);
    }
}
