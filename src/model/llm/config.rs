//! What a served model's engine is given: vLLM's scheduler settings and the step time's
//! efficiency coefficients. Plain data; the engine (`engine.rs`) and the step time
//! (`step_time.rs`) read them.

use super::gpu::InterconnectKind;

/// How a prompt's prefill shares the GPU with the batch's decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrefillMode {
    /// vLLM v1's default: prefill chunks and decodes share each iteration's token budget.
    Chunked,
    /// An engine that runs a waiting prompt's whole prefill in an iteration of its own, pausing
    /// the decodes (vLLM v0 without chunked prefill).
    PausesDecode,
}

/// Where prefix-cache hits come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PrefixCaching {
    /// No prefix caching (`--no-enable-prefix-caching`).
    Off,
    /// Hits from the trace's block hashes (Mooncake's `hash_ids`), exactly, LRU per instance;
    /// a request without hashes never hits.
    Hashes,
    /// A fraction of every prompt's full blocks hits, for traces without hashes.
    HitRate(f64),
}

/// One engine's scheduler and memory settings (vLLM's engine arguments).
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// Tensor-parallel GPUs the model is split over (`tensor_parallel_size`).
    pub tp: u32,
    /// Requests running at once at most (`max_num_seqs`).
    pub max_num_seqs: u32,
    /// Tokens scheduled in one iteration at most (`max_num_batched_tokens`).
    pub max_num_batched_tokens: u32,
    /// Tokens per KV-cache block (`block_size`).
    pub block_size: u32,
    /// The fraction of each GPU's memory the engine may use (`gpu_memory_utilization`).
    pub gpu_memory_utilization: f64,
    /// Memory per GPU kept for activations, the CUDA context and NCCL \[bytes\]: what vLLM's
    /// profiling run measures beyond the weights.
    pub activation_reserve_bytes: u64,
    /// KV-cache blocks per GPU, when given (`num_gpu_blocks_override`); else from memory.
    pub kv_blocks: Option<u64>,
    /// How prefills share iterations with decodes.
    pub prefill: PrefillMode,
    /// Prefix caching.
    pub prefix_caching: PrefixCaching,
}

impl EngineConfig {
    /// vLLM 0.19's defaults for a GPU of `gpu_memory_bytes` named `gpu_name`
    /// (`EngineArgs.get_batch_defaults`: 8192 batched tokens and 1024 sequences on a GPU of
    /// 70 GiB or more that is not an A100, else 2048 and 256), on `tp` GPUs.
    pub fn vllm_defaults(gpu_name: &str, gpu_memory_bytes: u64, tp: u32) -> Self {
        let large = gpu_memory_bytes >= 70 << 30 && !gpu_name.to_ascii_lowercase().contains("a100");
        let (max_num_batched_tokens, max_num_seqs) = if large { (8192, 1024) } else { (2048, 256) };
        EngineConfig {
            tp,
            max_num_seqs,
            max_num_batched_tokens,
            block_size: 16,
            gpu_memory_utilization: 0.9,
            activation_reserve_bytes: 3 << 30,
            kv_blocks: None,
            prefill: PrefillMode::Chunked,
            prefix_caching: PrefixCaching::Hashes,
        }
    }
}

/// The step time's efficiency coefficients: what fraction of the roofline the engine reaches,
/// and its fixed costs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coefficients {
    /// Fraction of the GPU's peak FLOP/s reached (`eff_c`).
    pub compute_efficiency: f64,
    /// Fraction of the GPU's peak memory bandwidth reached (`eff_m`).
    pub memory_efficiency: f64,
    /// Fixed time of every iteration \[s\].
    pub overhead_per_step: f64,
    /// Time of every iteration per decoder layer \[s\] (kernel launches, norms, sampling).
    pub overhead_per_layer: f64,
    /// The latency of one tensor-parallel all-reduce \[s\].
    pub allreduce_latency: f64,
    /// Fraction of the link's per-direction bandwidth an all-reduce reaches.
    pub allreduce_efficiency: f64,
}

impl Coefficients {
    /// The defaults, fitted jointly on the two measured runs in `scenarios/data/vllm_runs/`
    /// (Llama-3.1-8B at TP 1 and Qwen3-32B at TP 2 on RTX PRO 6000 Blackwell): worst error
    /// 2.3 % over the mean and p90 of TTFT, TPOT and end-to-end latency. The all-reduce's
    /// latency is the fitted 140 µs over PCIe (host-staged, plus vLLM's per-step broadcast to
    /// its workers); over NVLink or Infinity Fabric it is 10 µs, Vidur's profiled NCCL
    /// all-reduce of two GPUs (microsoft/vidur, `data/profiling/network/*/all_reduce.csv`, MIT).
    pub fn defaults(link: InterconnectKind) -> Self {
        let allreduce_latency = match link {
            InterconnectKind::Pcie => 140e-6,
            InterconnectKind::NvLink
            | InterconnectKind::InfinityFabric
            | InterconnectKind::NeuronLink => 10e-6,
        };
        Coefficients {
            compute_efficiency: 0.468,
            memory_efficiency: 0.823,
            overhead_per_step: 0.0,
            overhead_per_layer: 38.4e-6,
            allreduce_latency,
            allreduce_efficiency: 0.7,
        }
    }
}
