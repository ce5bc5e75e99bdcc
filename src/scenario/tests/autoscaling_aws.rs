//! `[pool.autoscaling]` with the AWS policies: every key, the defaults, and AWS's rules.

use super::*;

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
