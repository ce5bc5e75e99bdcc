//! Streaming statistics: the recorder, latency histograms, timeline windows, the summary types,
//! replications summed up, and the one closed list of metric columns ([`columns`]).
//!
//! Memory is bounded: nothing here keeps one entry per request. Latencies go into histograms of
//! bounded relative error; the timeline is closed window by window and handed to a sink.
//! It must not know about files or formats (that is `crate::report`, which formats what
//! [`columns`] lists).

mod aggregate;
pub mod columns;
mod cost_meter;
mod engine;
#[cfg(test)]
pub(crate) mod fixtures;
mod histogram;
mod losses;
mod monthly;
mod recorder;
mod summary;
mod timeline;
mod topology;

pub use aggregate::{Aggregate, MetricStats, CONFIDENCE};
pub use cost_meter::{CostLine, CostMeter};
pub use engine::{EngineCounts, EngineReading, EngineSummary, EngineTypeSummary, EngineWindow};
pub use histogram::LatencyHistogram;
pub use losses::{CauseCounts, LossCause, LossSummary};
pub use monthly::{month_factor, monthly, MONTH_SECONDS};
pub use recorder::{latency_summary, EngineTotals, Failure, RecordedTotals, Recorder};
pub use summary::{
    ClassSummary, ClosedLoopSummary, CostSummary, InstanceSummary, LatencySummary, PoolFailures,
    PoolInstances, PoolMarket, PoolScaling, PurchaseCost, RequestCounts, RetrySummary,
    RouteSummary, RunResult, SloCount, StateCost, Summary, TokenSummary,
};
pub use timeline::{CollectTimeline, DiscardTimeline, ScalingEvent, TimelineRow, TimelineSink};
pub use topology::{DataTransferSummary, DnsEvent, RegionSummary, RegionWindows, TopologySummary};
