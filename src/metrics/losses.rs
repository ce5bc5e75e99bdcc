//! Requests lost to faults, counted by what caused them (`summary.json` `lost_by_cause`).
//!
//! A failure reason ([`super::Failure`]) says how a try ended as the client saw it (a
//! connection that failed, an error reply, work cut off); a [`LossCause`] says which fault of
//! the fleet was behind it. A request is *lost to* a cause when it ended failed and its last try
//! failed because of that cause; a try that failed because of a cause but was retried (by the
//! balancer or the client) is counted apart, in `tries`, whatever became of the request.

use serde::{Deserialize, Serialize};

/// Which fault made a try fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LossCause {
    /// Its host crashed (a scheduled `[[fault]] kind = "crash"` or a random crash): the work it
    /// held was lost, or the connection to it timed out.
    Crash,
    /// Its GPU failed (a scheduled `kind = "broken"` or a random GPU fault): the work it held
    /// failed, or it answered with an error.
    GpuFault,
    /// The cloud reclaimed its spot instance: the work still held two minutes after the
    /// interruption notice was lost.
    SpotInterruption,
    /// Scale-in drained its instance and the deregistration delay ran out first.
    DrainTimeout,
    /// A zone, region or cloud outage (the topology's outage windows).
    Outage,
}

impl LossCause {
    /// Every cause, in the order results list them.
    pub const ALL: [LossCause; 5] = [
        LossCause::Crash,
        LossCause::GpuFault,
        LossCause::SpotInterruption,
        LossCause::DrainTimeout,
        LossCause::Outage,
    ];

    /// The name used in results.
    pub fn name(self) -> &'static str {
        match self {
            LossCause::Crash => "crash",
            LossCause::GpuFault => "gpu_fault",
            LossCause::SpotInterruption => "spot_interruption",
            LossCause::DrainTimeout => "drain_timeout",
            LossCause::Outage => "outage",
        }
    }
}

/// Requests (or tries) per cause.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CauseCounts {
    /// Lost to a host crash.
    pub crash: u64,
    /// Lost to a GPU fault.
    pub gpu_fault: u64,
    /// Lost to a spot interruption.
    pub spot_interruption: u64,
    /// Cut off when a scale-in drain's deregistration delay ran out.
    pub drain_timeout: u64,
    /// Lost to a zone, region or cloud outage.
    pub outage: u64,
}

impl CauseCounts {
    /// The counter for `cause`.
    pub fn get_mut(&mut self, cause: LossCause) -> &mut u64 {
        match cause {
            LossCause::Crash => &mut self.crash,
            LossCause::GpuFault => &mut self.gpu_fault,
            LossCause::SpotInterruption => &mut self.spot_interruption,
            LossCause::DrainTimeout => &mut self.drain_timeout,
            LossCause::Outage => &mut self.outage,
        }
    }

    /// The count for `cause`.
    pub fn get(&self, cause: LossCause) -> u64 {
        match cause {
            LossCause::Crash => self.crash,
            LossCause::GpuFault => self.gpu_fault,
            LossCause::SpotInterruption => self.spot_interruption,
            LossCause::DrainTimeout => self.drain_timeout,
            LossCause::Outage => self.outage,
        }
    }

    /// Every cause added.
    pub fn total(&self) -> u64 {
        LossCause::ALL.iter().map(|&c| self.get(c)).sum()
    }
}

/// Requests lost to faults, by cause (`summary.json` `lost_by_cause`, present only when
/// something was lost).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LossSummary {
    /// Requests that ended failed because their last try failed for the cause. Each is also
    /// counted under its failure reason in `requests` (a crash as `interrupted` or
    /// `connect_failed`, a GPU fault as `server_error` or `interrupted`, a spot interruption or
    /// a drain timeout as `interrupted`, or `timed_out` when the client's deadline came first
    /// while the try waited on the faulty host).
    pub requests: CauseCounts,
    /// Tries that failed for the cause and were sent again (by the balancer or the client).
    pub retried_tries: CauseCounts,
}

impl LossSummary {
    /// Nothing was lost: the summary leaves the field out.
    pub fn is_empty(&self) -> bool {
        self.requests.total() == 0 && self.retried_tries.total() == 0
    }
}
