//! `[pool.autoscaling]` with a Kubernetes HPA or KEDA: every key and the defaults; one
//! controller per pool, and variants that switch between them.

use super::*;

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
