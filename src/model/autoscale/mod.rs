//! Autoscaling: the metrics pipeline (sampling period, statistic, publication lag) and one file
//! per policy — AWS target tracking, step, simple and scheduled scaling, predictive scaling,
//! the Kubernetes HPA with its behavior rules, and KEDA. Each policy is a pure decision: an
//! observation of metrics in, a desired capacity (and why) out, unit-tested against the real
//! controller's own documented behaviour and test cases without the engine.
//!
//! It must not know how instances boot: the world applies decisions to the fleet.
//!
//! AWS EC2 Auto Scaling: [`capacity`] (the group as policies see it, min/max, adjustment types),
//! [`alarm`] (the CloudWatch alarms that invoke policies), [`step`] (step and simple scaling),
//! [`target_tracking`], [`scheduled`] and [`warmup`] (which launches count toward the metric
//! and the capacity).

pub mod alarm;
pub mod capacity;
pub mod hpa;
pub mod hpa_behavior;
pub mod keda;
pub mod metrics_pipeline;
pub mod predictive;
pub mod scheduled;
pub mod spec;
pub mod step;
pub mod target_tracking;
pub mod warmup;
