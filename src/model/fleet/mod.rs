//! Instance types, pools of instances, and how long a request takes on an instance.
//!
//! It must not know about scaling decisions: the fleet is told its size.

mod fault;
pub mod lifecycle;
pub mod llm;
pub mod mixed;
mod pool;
mod service;

pub use fault::{FailureSpec, FaultKind, FaultSpec, RandomFailure, DEFAULT_ERROR_LATENCY};
pub use pool::{
    Dispatch, InstanceType, LaunchSpec, OnTimeout, PoolSpec, StartupSpec, TerminationPolicy,
    WarmPoolSpec, DEFAULT_DEREGISTRATION_DELAY, DEFAULT_TERMINATION_GRACE_PERIOD,
};
pub use service::ServiceTime;
