//! Whole scenario files through both stages: every key of autoscaling, instance startup, warm
//! pools, launches, termination and named queues, checked against the typed values it must
//! give, and the defaults of each key left out.

use std::path::Path;

use super::{Scenario, ScenarioError, ScenarioSet};
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
use crate::model::distribution::ServiceTime;
use crate::model::fleet::lifecycle::InstanceState;
use crate::model::fleet::{
    Dispatch, LaunchSpec, StartupSpec, TerminationPolicy, WarmPoolSpec,
    DEFAULT_DEREGISTRATION_DELAY,
};
use crate::scenario::spec::PoolSpec;
use crate::time::{SimDuration, SimTime};

mod autoscaling_aws;
mod autoscaling_kubernetes;
mod fleet;
mod llm;
mod topology;

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
