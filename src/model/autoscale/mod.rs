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
//!
//! Every controller answers one interface, [`autoscaler::Autoscaler::on_tick`]: an observation
//! of the pool in, actions (desired capacity, limits, warm-up, reasons) out. The controllers:
//! [`aws_group`] (an Auto Scaling group's CloudWatch pipeline and policies), [`hpa_controller`]
//! and [`keda_controller`]; [`controller`] holds the interface's types, [`autoscaler`] the
//! enum of the controllers.

pub mod alarm;
pub mod autoscaler;
pub mod aws_group;
pub mod capacity;
pub mod controller;
pub mod hpa;
pub mod hpa_behavior;
pub mod hpa_controller;
pub mod keda;
pub mod keda_controller;
pub mod metrics_pipeline;
pub mod predictive;
pub mod scheduled;
pub mod spec;
pub mod step;
pub mod target_tracking;
pub mod warmup;
