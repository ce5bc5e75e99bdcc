//! Streaming statistics: the recorder, latency histograms, timeline windows and the summary types.
//!
//! Memory is bounded: nothing here keeps one entry per request. Latencies go into histograms of
//! bounded relative error; the timeline is closed window by window and handed to a sink.
//! It must not know about files or formats (that is `crate::report`).

mod histogram;
mod recorder;
mod summary;
mod timeline;
mod topology;

pub use histogram::LatencyHistogram;
pub use recorder::{latency_summary, Failure, RecordedTotals, Recorder};
pub use summary::{
    ClassSummary, CostSummary, InstanceSummary, LatencySummary, PoolInstances, PoolScaling,
    RequestCounts, RetrySummary, RouteSummary, RunResult, Summary,
};
pub use timeline::{CollectTimeline, DiscardTimeline, ScalingEvent, TimelineRow, TimelineSink};
pub use topology::{DataTransferSummary, DnsEvent, RegionSummary, RegionWindows, TopologySummary};
