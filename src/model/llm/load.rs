//! Cold start from bytes: how long loading a model's weights onto its GPUs takes, from their
//! size and where they are read from, instead of a guessed `load` time.
//!
//! ```text
//! load_time = weight_bytes / source bandwidth            (the host reads every byte once)
//!           + (weight_bytes / tp) / host-to-GPU bandwidth (each GPU receives its shard)
//! ```
//!
//! **What is parallel across the `tp` GPUs and what is not.** With tensor parallelism each
//! worker loads only its shards, but the shards come from the same files on the same host:
//! the bytes read from the source are all `weight_bytes`, through the host's one disk, volume
//! or network interface, so the read does not get faster with `tp`. The copies from host
//! memory to the GPUs run in parallel, one PCIe link each, so that term is divided by `tp`.
//! vLLM's default loader reads tensor by tensor and copies each before the next, so the two
//! terms add (a streaming loader overlaps them; then give the measured bandwidth).
//!
//! Not included: pulling the serving image onto a cold node, and the engine's start after
//! the weights are in (vLLM's "init engine (profile, create kv cache, warmup model)", tens of
//! seconds, independent of the weights' size): both belong to the instance's boot and
//! warm-up times.
//!
//! The default bandwidths and their sources are on [`SourceKind::default_bandwidth`]. It must
//! not know about instances or their lifecycle: it turns bytes into a duration.

use crate::time::SimDuration;

/// Host memory to one GPU \[bytes/s\]: a PCIe Gen4 x16 link, one direction (32 GB/s; the
/// convention of `scenarios/data/catalog/gpus.toml`). Gen5 hosts copy twice as fast; the term
/// is a second or less for any model of the catalog, small beside the read.
pub const HOST_TO_GPU_BANDWIDTH: f64 = 32e9;

/// Where the weights are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// A local NVMe drive (instance store), or a node's cache of the model.
    Nvme,
    /// An AWS EBS gp3 volume.
    EbsGp3,
    /// An object store (AWS S3), read by a streaming loader.
    S3,
    /// A container registry: the weights baked into the serving image.
    Registry,
}

impl SourceKind {
    /// Every source, in the order of [`SourceKind::NAMES`].
    pub const ALL: [SourceKind; 4] = [
        SourceKind::Nvme,
        SourceKind::EbsGp3,
        SourceKind::S3,
        SourceKind::Registry,
    ];

    /// The names a scenario uses.
    pub const NAMES: [&'static str; 4] = ["nvme", "ebs-gp3", "s3", "registry"];

    /// The name a scenario uses.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Nvme => "nvme",
            SourceKind::EbsGp3 => "ebs-gp3",
            SourceKind::S3 => "s3",
            SourceKind::Registry => "registry",
        }
    }

    /// The source named `name`.
    pub fn parse(name: &str) -> Option<SourceKind> {
        SourceKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The default read bandwidth \[bytes/s\], for the whole host. Give a measured one when
    /// you have it: these are typical, not guaranteed.
    ///
    /// - `nvme`: **2 GB/s**. The devices read 3.5 GB/s (Gen3) to 7 GB/s (Gen4) (BLIS,
    ///   inference-sim/inference-sim @ f90a1e3, `defaults.yaml` `kv_offload_devices`,
    ///   Apache-2.0), but vLLM's default safetensors loader reads tensor by tensor and is
    ///   CPU-bound well below that: NVIDIA's Run:ai Model Streamer benchmark ("Reducing Cold
    ///   Start Latency for LLM Inference with NVIDIA Run:ai Model Streamer", NVIDIA technical
    ///   blog) shows the default loader at a third of what a concurrent reader gets from the
    ///   same storage. 2 GB/s is our estimate inside that range.
    /// - `ebs-gp3`: **125 MiB/s**, the volume's free baseline (AWS EC2 API reference,
    ///   `CreateVolume`, `Throughput`: "Valid Range: Minimum value of 125. Maximum value of
    ///   1000" MiB/s for gp3). Provisioned throughput, up to the instance's EBS bandwidth, is
    ///   given as a bandwidth. Measured: Llama-3-8B (~15 GB) from gp3 in 47.99 s with vLLM's
    ///   loader and 14.34 s with the streamer at concurrency 16 (the blog above, g5.12xlarge).
    /// - `s3`: **1.44 GB/s**, 16 concurrent byte-range streams of 90 MB/s. AWS's S3
    ///   performance guidelines ("Horizontally scale storage connections") give about one
    ///   request per 85-90 MB/s wanted; 16 is the Run:ai Model Streamer's default concurrency.
    ///   One stream alone reads 90 MB/s; the instance's network (about 80 % of the NIC) caps
    ///   many.
    /// - `registry`: **150 MB/s**, an assumption. Docker pulls three layers at once
    ///   (`docker pull`, "Concurrent downloads", `--max-concurrent-downloads`) and decompresses
    ///   each single-threaded (gzip), which bounds a pull near 100-200 MB/s whatever the
    ///   network; no primary measurement was found.
    ///
    /// The research behind these figures: `scenarios/data/PROVENANCE.md`, "Cold start".
    pub fn default_bandwidth(self) -> f64 {
        match self {
            SourceKind::Nvme => 2e9,
            SourceKind::EbsGp3 => 125.0 * 1_048_576.0,
            SourceKind::S3 => 16.0 * 90e6,
            SourceKind::Registry => 150e6,
        }
    }
}

/// A bandwidth that is not a positive, finite number of bytes per second.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("a load bandwidth must be a positive number of bytes per second, not {0}")]
pub struct InvalidBandwidth(pub f64);

/// Where the weights come from and how fast the host reads them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeightSource {
    kind: SourceKind,
    bandwidth: f64,
}

impl WeightSource {
    /// `kind` at its default bandwidth ([`SourceKind::default_bandwidth`]).
    pub fn new(kind: SourceKind) -> Self {
        WeightSource {
            kind,
            bandwidth: kind.default_bandwidth(),
        }
    }

    /// `kind` at a bandwidth the user measured or provisioned \[bytes/s, whole host\].
    pub fn with_bandwidth(kind: SourceKind, bandwidth: f64) -> Result<Self, InvalidBandwidth> {
        if bandwidth.is_finite() && bandwidth > 0.0 {
            Ok(WeightSource { kind, bandwidth })
        } else {
            Err(InvalidBandwidth(bandwidth))
        }
    }

    /// The source.
    pub fn kind(self) -> SourceKind {
        self.kind
    }

    /// The host's read bandwidth from it \[bytes/s\].
    pub fn bandwidth(self) -> f64 {
        self.bandwidth
    }
}

/// The time to load `weight_bytes` of weights (all GPUs together) from `source` onto `tp`
/// tensor-parallel GPUs (0 counts as 1): the read, at the source's bandwidth, plus each GPU's
/// shard copied from host memory at [`HOST_TO_GPU_BANDWIDTH`], the GPUs in parallel (see the
/// module's doc).
pub fn load_time(weight_bytes: u64, source: WeightSource, tp: u32) -> SimDuration {
    let bytes = weight_bytes as f64;
    let read = bytes / source.bandwidth;
    let copy = bytes / f64::from(tp.max(1)) / HOST_TO_GPU_BANDWIDTH;
    SimDuration::from_secs_f64(read + copy)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Llama-3.1-8B's bf16 weights: 8,030,261,248 parameters × 2 bytes.
    const LLAMA_8B: u64 = 16_060_522_496;

    #[test]
    fn the_read_is_the_bytes_over_the_source_bandwidth() {
        // 16,060,522,496 B / 2e9 B/s = 8.030261248 s; + 16,060,522,496 / 32e9 = 0.501891328 s.
        let t = load_time(LLAMA_8B, WeightSource::new(SourceKind::Nvme), 1);
        assert_eq!(t, SimDuration::from_nanos(8_030_261_248 + 501_891_328));
        // gp3 at its 125 MiB/s baseline: 122.53 s, the research's worked table's 122 s.
        let gp3 = load_time(LLAMA_8B, WeightSource::new(SourceKind::EbsGp3), 1);
        assert_eq!(gp3.as_secs_f64().round(), 123.0);
        // S3 with 16 streams: 11.15 s + 0.50 s (the table: 11.2 s before the copy).
        let s3 = load_time(LLAMA_8B, WeightSource::new(SourceKind::S3), 1);
        assert_eq!((s3.as_secs_f64() * 10.0).round(), 117.0);
    }

    #[test]
    fn tensor_parallelism_splits_the_copies_not_the_read() {
        let source = WeightSource::new(SourceKind::Nvme);
        let one = load_time(LLAMA_8B, source, 1);
        let eight = load_time(LLAMA_8B, source, 8);
        // Only the copy term shrinks: 0.501891328 s → 0.062736416 s.
        assert_eq!(one.as_nanos() - eight.as_nanos(), 501_891_328 - 62_736_416);
        assert!(eight.as_nanos() > 8_030_261_248, "the read is not divided");
        assert_eq!(load_time(LLAMA_8B, source, 0), one, "tp 0 counts as 1");
    }

    #[test]
    fn a_given_bandwidth_replaces_the_default_and_must_be_positive() {
        // gp3 provisioned at 1,000 MiB/s.
        let fast = WeightSource::with_bandwidth(SourceKind::EbsGp3, 1000.0 * 1_048_576.0).unwrap();
        assert_eq!(fast.kind(), SourceKind::EbsGp3);
        let slow = WeightSource::new(SourceKind::EbsGp3);
        assert!(load_time(LLAMA_8B, fast, 1) < load_time(LLAMA_8B, slow, 1));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(
                WeightSource::with_bandwidth(SourceKind::S3, bad).is_err(),
                "{bad}"
            );
        }
        assert_eq!(
            InvalidBandwidth(0.0).to_string(),
            "a load bandwidth must be a positive number of bytes per second, not 0"
        );
        assert_eq!(load_time(0, slow, 1), SimDuration::ZERO);
    }

    #[test]
    fn sources_are_named_as_in_a_scenario() {
        for (kind, name) in SourceKind::ALL.into_iter().zip(SourceKind::NAMES) {
            assert_eq!(kind.as_str(), name);
            assert_eq!(SourceKind::parse(name), Some(kind));
        }
        assert_eq!(SourceKind::parse("gp3"), None);
        // The defaults, ordered as the research found them: gp3 < registry < S3 < NVMe.
        let bw = |k: SourceKind| k.default_bandwidth();
        assert!(bw(SourceKind::EbsGp3) < bw(SourceKind::Registry));
        assert!(bw(SourceKind::Registry) < bw(SourceKind::S3));
        assert!(bw(SourceKind::S3) < bw(SourceKind::Nvme));
    }
}
