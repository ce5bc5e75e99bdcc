//! Instance types, the instance lifecycle, the fleet's settings of a pool (startup, warm pool,
//! launches, termination), mixed on-demand and spot instances, faults and LLM serving.
//!
//! It must not know about scaling decisions: the fleet is told its size. (The pool as a whole,
//! with its autoscaler, is the scenario's `PoolSpec`; durations are drawn from
//! `crate::model::distribution`.)

mod fault;
pub mod lifecycle;
pub mod llm;
pub mod llm_server;
pub mod mixed;
mod pool;

pub use fault::{FailureSpec, FaultKind, FaultSpec, RandomFailure, DEFAULT_ERROR_LATENCY};
pub use pool::{
    Dispatch, InstanceType, LaunchSpec, OnTimeout, StartupSpec, TerminationPolicy, WarmPoolSpec,
    DEFAULT_DEREGISTRATION_DELAY, DEFAULT_TERMINATION_GRACE_PERIOD,
};
