//! The columns of `timeline.csv`, in order: one row per window of `[timeline] window`.
//!
//! Counts are of events inside the window, levels are time-averages over it
//! (`∫ level dt / (end_s − start_s)`), latencies are of the requests that completed in it.

use super::Unit::{Count, Fraction, Number, Seconds, UsdPerHour};
use super::{Unit, Value};
use crate::metrics::{Failure, TimelineRow};
use crate::model::fleet::lifecycle::InstanceState::{
    self, Draining, InService, Loading, Pending, WarmHibernated, WarmRunning, WarmStopped, Warming,
};

/// One column of the timeline.
#[derive(Debug, Clone, Copy)]
pub struct TimelineColumn {
    /// Its header.
    pub name: &'static str,
    /// What it is measured in.
    pub unit: Unit,
    /// Its value in a window (written exactly, an empty cell where undefined).
    pub value: fn(&TimelineRow) -> Value,
    /// Its definition (`docs/metrics.md`).
    pub definition: &'static str,
}

const fn col(
    name: &'static str,
    unit: Unit,
    value: fn(&TimelineRow) -> Value,
    definition: &'static str,
) -> TimelineColumn {
    TimelineColumn {
        name,
        unit,
        value,
        definition,
    }
}

fn count(n: u64) -> Value {
    Value::Count(n)
}

fn level(v: f64) -> Value {
    Value::Number(Some(v))
}

fn failed(r: &TimelineRow, why: Failure) -> Value {
    Value::Count(r.failed(why))
}

fn instances(r: &TimelineRow, state: InstanceState) -> Value {
    level(r.instances_in(state))
}

const FAILED: &str = "requests that failed in the window, by reason";
const INSTANCES: &str = "time-average number of instances in the lifecycle state of the column's name (`pending`: booting, `loading`: the model, `warming`: warm-up, `in_service`, `draining`; `warm_stopped`, `warm_hibernated`, `warm_running`: the warm pool's states), all pools together";
const LATENCY: &str = "the 50th, 90th, 99th percentile of the latencies of requests completed in the window (the histogram of `latency_seconds`); empty when nothing completed";

/// Every column of `timeline.csv`, in order. One line per column.
#[rustfmt::skip]
pub const TIMELINE: &[TimelineColumn] = &[
    col("start_s", Seconds, |r| level(r.start_s), "window start"),
    col("end_s", Seconds, |r| level(r.end_s), "window end: `start_s` + the window, or `T` for a last, shorter window"),
    col("arrivals", Count, |r| count(r.arrivals), "requests that arrived in the window"),
    col("completed", Count, |r| count(r.completed), "requests completed in the window"),
    // One line per way a request fails, in `Failure::ALL`'s order.
    col("timed_out", Count, |r| failed(r, Failure::TimedOut), FAILED),
    col("rejected", Count, |r| failed(r, Failure::Rejected), FAILED),
    col("no_healthy_target", Count, |r| failed(r, Failure::NoHealthyTarget), FAILED),
    col("server_error", Count, |r| failed(r, Failure::ServerError), FAILED),
    col("connect_failed", Count, |r| failed(r, Failure::ConnectFailed), FAILED),
    col("interrupted", Count, |r| failed(r, Failure::Interrupted), FAILED),
    col("retries", Count, |r| count(r.retries), "tries and attempts sent again in the window (balancers' and clients'): a retry storm shows here"),
    col("in_flight", Number, |r| level(r.in_flight), "time-average number of requests arrived and not yet ended"),
    col("queue_length", Number, |r| level(r.queue_length), "time-average number of requests waiting in queues (shared and per-instance)"),
    col("busy_slots", Number, |r| level(r.busy_slots), "time-average number of busy server slots"),
    col("utilization", Fraction, |r| level(r.utilization), "`∫ busy slots dt / ∫ slots of serving instances dt` over the window"),
    col("healthy_targets", Number, |r| level(r.healthy_targets), "time-average number of balanced targets their balancers may pick (registered, and healthy by active and passive checks), all groups together"),
    col("desired", Number, |r| level(r.desired), "time-average desired capacity, all pools together (a fixed pool's is its size)"),
    col("capacity", Number, |r| level(r.capacity()), "`instances_pending + instances_loading + instances_warming + instances_in_service`: the instances launched and not leaving (instances being prepared for a warm pool boot and load too, so they count here while they do)"),
    col("instances_pending", Number, |r| instances(r, Pending), INSTANCES),
    col("instances_loading", Number, |r| instances(r, Loading), INSTANCES),
    col("instances_warming", Number, |r| instances(r, Warming), INSTANCES),
    col("instances_in_service", Number, |r| instances(r, InService), INSTANCES),
    col("instances_draining", Number, |r| instances(r, Draining), INSTANCES),
    col("instances_warm_stopped", Number, |r| instances(r, WarmStopped), INSTANCES),
    col("instances_warm_hibernated", Number, |r| instances(r, WarmHibernated), INSTANCES),
    col("instances_warm_running", Number, |r| instances(r, WarmRunning), INSTANCES),
    col("latency_mean_s", Seconds, |r| Value::Number(r.latency_mean_s), "mean latency of requests completed in the window; empty when nothing completed"),
    col("latency_p50_s", Seconds, |r| Value::Number(r.latency_p50_s), LATENCY),
    col("latency_p90_s", Seconds, |r| Value::Number(r.latency_p90_s), LATENCY),
    col("latency_p99_s", Seconds, |r| Value::Number(r.latency_p99_s), LATENCY),
    col("cost_rate_usd_per_hour", UsdPerHour, |r| level(r.cost_rate_usd_per_hour), "`∫ cost rate dt / (end_s − start_s)`: the running cost of the window per hour — on-demand prices of instances billed in full, spot instances at their price path (exactly, through its integral), storage of stopped warm instances, and a billed balancer's hourly price; without the minimums, rounding and LCUs of the summary's bill (so `Σ rate × length / 3600 ≤ cost_usd.total`)"),
];

/// The columns `timeline.csv` has after [`TIMELINE`]'s when the fleet has an LLM engine
/// (`llm = { model, ... }` on an instance type); a run without one has none of them, its file
/// as it always was.
#[rustfmt::skip]
pub const TIMELINE_ENGINE: &[TimelineColumn] = &[
    // Sampled at the window's end rather than time-averaged: the engines are read once per
    // window, never per event, and an engine's blocks are only up to date at its own events
    // anyway (a batched run of decode iterations takes its new blocks at its end).
    col("kv_cache_used", Fraction, |r| Value::Number(r.engine.and_then(|e| e.kv_cache_used)), "runs with an LLM engine only: KV-cache blocks held by requests / all KV-cache blocks, over the engines of the instances that serve (in service or draining), at the window's end (as of the engines' last event before it); empty when no engine serves"),
    col("preemptions", Count, |r| count(r.engine.map_or(0, |e| e.preemptions)), "runs with an LLM engine only: requests the engines preempted (KV blocks freed, to be recomputed) in the window; the rows add up to `engines.preemptions`"),
];

/// The header of `timeline.csv`: every column's name, in order.
pub const TIMELINE_NAMES: [&str; TIMELINE.len()] = {
    let mut names = [""; TIMELINE.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = TIMELINE[i].name;
        i += 1;
    }
    names
};

#[cfg(test)]
mod tests {
    use super::*;

    fn position(name: &str) -> usize {
        TIMELINE_NAMES
            .iter()
            .position(|n| *n == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    #[test]
    fn names_are_unique_and_defined() {
        for (i, c) in TIMELINE.iter().enumerate() {
            assert_eq!(TIMELINE_NAMES[i], c.name);
            assert!(TIMELINE[..i].iter().all(|d| d.name != c.name), "{}", c.name);
            assert!(!c.definition.is_empty(), "{}", c.name);
        }
    }

    #[test]
    fn engine_columns_are_new_names_reading_the_engine_window() {
        for c in TIMELINE_ENGINE {
            assert!(TIMELINE.iter().all(|d| d.name != c.name), "{}", c.name);
            assert!(!c.definition.is_empty(), "{}", c.name);
        }
        let mut row = crate::metrics::TimelineRow {
            engine: Some(crate::metrics::EngineWindow {
                kv_cache_used: Some(0.25),
                preemptions: 3,
            }),
            ..Default::default()
        };
        let values: Vec<Value> = TIMELINE_ENGINE.iter().map(|c| (c.value)(&row)).collect();
        assert_eq!(values, [Value::Number(Some(0.25)), Value::Count(3)]);
        row.engine = Some(crate::metrics::EngineWindow::default());
        assert_eq!((TIMELINE_ENGINE[0].value)(&row), Value::Number(None));
    }

    /// A new way for a request to end is a column of its own, in `Failure::ALL`'s order, and
    /// reads its own counter.
    #[test]
    fn every_failure_reason_is_a_column_reading_its_counter() {
        let first = position(Failure::ALL[0].name());
        let mut row = crate::metrics::TimelineRow::default();
        for (k, f) in Failure::ALL.iter().enumerate() {
            let c = &TIMELINE[first + k];
            assert_eq!(c.name, f.name());
            row.failures = [0; 6];
            row.failures[*f as usize] = 7;
            assert_eq!((c.value)(&row), Value::Count(7), "{}", c.name);
        }
    }

    /// Every lifecycle state but `terminated` is a column `instances_<state>` reading its own
    /// level, in `InstanceState::ALL`'s order.
    #[test]
    fn every_lifecycle_state_is_a_column_reading_its_level() {
        let states: Vec<InstanceState> = InstanceState::ALL
            .into_iter()
            .filter(|s| *s != InstanceState::Terminated)
            .collect();
        let first = position("instances_pending");
        let mut row = crate::metrics::TimelineRow::default();
        for (k, s) in states.iter().enumerate() {
            let c = &TIMELINE[first + k];
            assert_eq!(c.name, format!("instances_{}", s.name()));
            row.instances = [0.0; 9];
            row.instances[*s as usize] = 2.5;
            assert_eq!((c.value)(&row), Value::Number(Some(2.5)), "{}", c.name);
        }
    }
}
