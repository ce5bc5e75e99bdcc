//! The descriptions a scenario holds that are no one model's own: a pool (its fleet settings,
//! purchase options and autoscaler together), the service-level objectives of `[slo]`, and the
//! bounds and default of the timeline's window.
//!
//! They sit with the file format, below the layers that read them (the world simulates a pool
//! and counts requests against `latency_target`; the gates judge the objectives), so that no
//! model has to know another's policy and neither the reader nor the world has to know the gates
//! (`docs/architecture.md`, "Layout").

mod pool;
mod slo;
mod window;

pub use pool::PoolSpec;
pub use slo::{LatencyStatistic, Objective, SloSpec};
pub use window::{default_window, MAX_WINDOWS, MIN_WINDOW};
