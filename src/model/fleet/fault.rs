//! Faults: instances that stop working at a time, and may recover.
//!
//! Two ways a GPU server fails, which health checks see differently:
//! - **crash**: the host stops answering. Connections to it time out (the route's
//!   `connect_timeout`), work in progress on it is lost, and every health check fails.
//! - **broken**: the process is alive but cannot serve (a GPU fell off the bus with an Xid error,
//!   the model failed to load): it answers every request with an error after `error_latency`.
//!   A shallow check (process alive) still passes; a deep check (a test inference) fails.

use crate::model::distribution::ServiceTime;
use crate::time::{SimDuration, SimTime};

/// How an instance fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// The host stops answering.
    Crash,
    /// Alive but every request fails fast with a server error.
    Broken,
    /// The cloud sends its spot instances' two-minute interruption notice (on-demand instances
    /// among them are not affected).
    SpotInterruption,
}

/// A fault of some instances of one pool.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSpec {
    /// Index of the pool.
    pub pool: usize,
    /// The first instance (index within the pool) that fails.
    pub first: u32,
    /// How many consecutive instances fail.
    pub instances: u32,
    /// How they fail.
    pub kind: FaultKind,
    /// When.
    pub at: SimTime,
    /// When they recover; `None`: never.
    pub until: Option<SimTime>,
    /// How long a broken instance takes to answer a request with an error.
    pub error_latency: SimDuration,
    /// A spot interruption's rebalance recommendation arrives this long before its notice.
    pub rebalance_lead: Option<SimDuration>,
}

/// A broken server's default time to answer with an error: a few milliseconds, as an HTTP 500
/// from a process that rejects work without touching the GPU.
pub const DEFAULT_ERROR_LATENCY: SimDuration = SimDuration::from_millis(5);

/// A random failure process of each instance (`crash` or `gpu_fault` in `[pool.failures]`).
#[derive(Debug, Clone, PartialEq)]
pub struct RandomFailure {
    /// Time in service (up) before the next failure, drawn each time the instance comes up.
    pub time_to_failure: ServiceTime,
    /// How long it stays failed before it is up again.
    pub repair: ServiceTime,
}

/// A pool's random failures (`[pool.failures]`): each in-service instance fails after its own
/// draws, and comes back after a repair.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureSpec {
    /// Crashes: the host stops answering.
    pub crash: Option<RandomFailure>,
    /// GPU faults: the process is alive but every request fails fast.
    pub gpu_fault: Option<RandomFailure>,
    /// How long a GPU-faulted server takes to answer with an error.
    pub error_latency: SimDuration,
}
