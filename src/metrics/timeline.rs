//! Timeline windows: one row per fixed window of simulated time.

use serde::Serialize;

use crate::model::fleet::lifecycle::InstanceState;

/// One window of the timeline. Counts are events inside `[start_s, end_s)`; levels are
/// time-averages over the window; latencies are of the requests that completed in it.
/// `timeline.csv`'s columns read it ([`super::columns::TIMELINE`], which defines each).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TimelineRow {
    /// Window start \[s\].
    pub start_s: f64,
    /// Window end \[s\] (the run's end for a last, shorter window).
    pub end_s: f64,
    /// Requests that arrived.
    pub arrivals: u64,
    /// Requests that completed.
    pub completed: u64,
    /// Requests that failed, by reason, in the order of [`super::Failure::ALL`] (timed_out,
    /// rejected, no_healthy_target, server_error, connect_failed, interrupted).
    pub failures: [u64; 6],
    /// Retries sent (by balancers and by clients).
    pub retries: u64,
    /// Time-average number of requests in the system (arrived, not yet ended).
    pub in_flight: f64,
    /// Time-average number of requests waiting in queues.
    pub queue_length: f64,
    /// Time-average number of busy server slots.
    pub busy_slots: f64,
    /// `busy_slots` / slots in service.
    pub utilization: f64,
    /// Time-average number of balanced targets their balancers count healthy.
    pub healthy_targets: f64,
    /// Time-average desired capacity, all pools together.
    pub desired: f64,
    /// Time-average number of instances in each lifecycle state, in the order of
    /// [`InstanceState::ALL`] (unused slots count as
    /// terminated).
    pub instances: [f64; 9],
    /// Mean running cost rate of the fleet (and billed balancers) over the window [USD/h]:
    /// prices of billed instances (spot ones at their path's price), storage of stopped ones;
    /// without billing's minimums and rounding.
    pub cost_rate_usd_per_hour: f64,
    /// Mean latency of requests completed in the window \[s\].
    pub latency_mean_s: Option<f64>,
    /// Median latency \[s\].
    pub latency_p50_s: Option<f64>,
    /// 90th percentile latency \[s\].
    pub latency_p90_s: Option<f64>,
    /// 99th percentile latency \[s\].
    pub latency_p99_s: Option<f64>,
    /// The LLM engines' KV-cache use and preemptions; `None` unless the fleet has an engine
    /// (the columns are then left out of `timeline.csv`).
    pub engine: Option<super::EngineWindow>,
}

impl TimelineRow {
    /// Requests that failed for `why` in the window.
    pub fn failed(&self, why: super::Failure) -> u64 {
        self.failures[why as usize]
    }

    /// Time-average number of instances in `state`.
    pub fn instances_in(&self, state: InstanceState) -> f64 {
        self.instances[state as usize]
    }

    /// Time-average number of instances launched and not leaving: pending, loading, warming
    /// and in service.
    pub fn capacity(&self) -> f64 {
        use InstanceState::{InService, Loading, Pending, Warming};
        // Added in this order: the sum is the same to the last bit in every writer.
        self.instances_in(Pending)
            + self.instances_in(Loading)
            + self.instances_in(Warming)
            + self.instances_in(InService)
    }
}

/// One change of a pool's desired capacity (a row of `scaling_events.csv`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScalingEvent {
    /// When \[s\].
    pub time_s: f64,
    /// The pool.
    pub pool: String,
    /// The policy that decided (`target_tracking`, `hpa`, `keda`, `scheduled`, ...).
    pub policy: &'static str,
    /// Desired capacity before.
    pub from: u32,
    /// Desired capacity after.
    pub to: u32,
    /// Why, in the controller's own terms.
    pub reason: String,
}

/// Where closed windows and scaling events go. Generic, not a trait object: it is called from
/// the event loop.
pub trait TimelineSink {
    /// Receives the next window, in time order.
    fn window(&mut self, row: &TimelineRow);

    /// Receives the next scaling event, in time order. Default: dropped.
    fn scaling_event(&mut self, _event: &ScalingEvent) {}
}

/// Drops every row (benchmarks, and runs that need only the summary).
#[derive(Debug, Default, Clone, Copy)]
pub struct DiscardTimeline;

impl TimelineSink for DiscardTimeline {
    fn window(&mut self, _row: &TimelineRow) {}
}

/// Keeps every row and scaling event in memory (tests and short runs; memory grows with the
/// run's length).
#[derive(Debug, Default, Clone)]
pub struct CollectTimeline {
    /// The rows received so far.
    pub rows: Vec<TimelineRow>,
    /// The scaling events received so far.
    pub scaling: Vec<ScalingEvent>,
}

impl TimelineSink for CollectTimeline {
    fn window(&mut self, row: &TimelineRow) {
        self.rows.push(row.clone());
    }

    fn scaling_event(&mut self, event: &ScalingEvent) {
        self.scaling.push(event.clone());
    }
}
