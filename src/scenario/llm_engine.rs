//! An instance type's LLM engine from physics: `llm = { model = "llama-3.1-70b", gpu =
//! "H100-SXM", tp = 8, ... }`. Stage one reads the keys here; stage two ([`resolve_engine`],
//! called when the instance type is resolved against the catalog) finds the GPU (named, or the
//! instance type's), fills vLLM's defaults and checks that the weights fit.

use super::reader::keys::{Bytes, Flag, Fraction, Key, Nested, OneOf, Positive, Text, Whole};
use super::reader::{Located, Node, Reader};
use crate::model::fleet::llm_server::EngineSpec;
use crate::model::llm::arch::ModelArch;
use crate::model::llm::config::{Coefficients, EngineConfig, PrefillMode, PrefixCaching};
use crate::model::llm::gpu::Gpu;
use crate::model::llm::{
    gpu_by_name, gpu_for_catalog_model, gpu_names, model_by_name, model_names,
};
use crate::model::market::catalog::CatalogEntry;
use crate::scenario::reader::keys::Duration;

/// The keys that make an `llm` table an engine from physics rather than a token profile.
pub(super) const MODEL_KEY: &str = "model";

const MODEL: Key<Nested> = Key::required(
    "model",
    Nested,
    "name a model from `fleetsim catalog --models`, such as model = \"llama-3.1-8b\"",
);
const GPU: Key<Text> = Key::optional("gpu", Text);
const TP: Key<Whole> = Key::optional("tp", Whole(1, 64));
const MAX_NUM_SEQS: Key<Whole> = Key::optional("max_num_seqs", Whole(1, 65_536));
const MAX_NUM_BATCHED_TOKENS: Key<Whole> =
    Key::optional("max_num_batched_tokens", Whole(1, 10_000_000));
const BLOCK_SIZE: Key<Whole> = Key::optional("block_size", Whole(1, 4096));
const GPU_MEMORY_UTILIZATION: Key<Fraction> = Key::optional("gpu_memory_utilization", Fraction);
const ACTIVATION_RESERVE: Key<Bytes> = Key::optional("activation_reserve", Bytes);
const KV_BLOCKS: Key<Whole> = Key::optional("kv_blocks", Whole(1, u32::MAX as i64));
const PREFILL_MODES: &[&str] = &["chunked", "pauses_decode"];
const PREFILL: Key<OneOf> = Key::optional("prefill", OneOf(PREFILL_MODES));
const PREFIX_CACHING: Key<Flag> = Key::optional("prefix_caching", Flag);
const PREFIX_HIT_RATE: Key<Fraction> = Key::optional("prefix_hit_rate", Fraction);
const COEFFICIENTS: Key<Nested> = Key::optional("coefficients", Nested);

const COMPUTE_EFFICIENCY: Key<Fraction> = Key::optional("compute_efficiency", Fraction);
const MEMORY_EFFICIENCY: Key<Fraction> = Key::optional("memory_efficiency", Fraction);
const OVERHEAD_PER_STEP: Key<Duration> = Key::optional("overhead_per_step", Duration);
const OVERHEAD_PER_LAYER: Key<Duration> = Key::optional("overhead_per_layer", Duration);
const ALLREDUCE_LATENCY: Key<Duration> = Key::optional("allreduce_latency", Duration);
const ALLREDUCE_EFFICIENCY: Key<Fraction> = Key::optional("allreduce_efficiency", Fraction);

const NAME: Key<Text> = Key::required("name", Text, "name the model, such as name = \"my-7b\"");
const PARAMS_TOTAL: Key<Positive> = Key::required(
    "params_total",
    Positive,
    "set the parameter count, such as params_total = 7.2e9",
);
const PARAMS_ACTIVE: Key<Positive> = Key::optional("params_active", Positive);
const LAYERS: Key<Whole> = Key::required("layers", Whole(1, 10_000), "set layers = 32");
const HIDDEN: Key<Whole> = Key::required("hidden", Whole(1, 1 << 20), "set hidden = 4096");
const HEADS: Key<Whole> = Key::required("heads", Whole(1, 4096), "set heads = 32");
const KV_HEADS: Key<Whole> = Key::optional("kv_heads", Whole(1, 4096));
const HEAD_DIM: Key<Whole> = Key::optional("head_dim", Whole(1, 65_536));
const VOCAB: Key<Whole> = Key::required("vocab", Whole(1, 1 << 24), "set vocab = 128256");
const TIED: Key<Flag> = Key::optional("tied_embeddings", Flag);
const DTYPE_BYTES: Key<Whole> = Key::optional("dtype_bytes", Whole(1, 8));
const KV_DTYPE_BYTES: Key<Whole> = Key::optional("kv_dtype_bytes", Whole(1, 8));

/// The step time's coefficients as written: each overrides the default.
#[derive(Debug, Clone, Default)]
pub struct RawCoefficients {
    compute_efficiency: Option<f64>,
    memory_efficiency: Option<f64>,
    overhead_per_step: Option<f64>,
    overhead_per_layer: Option<f64>,
    allreduce_latency: Option<f64>,
    allreduce_efficiency: Option<f64>,
}

/// An engine as written: the model resolved, the rest to be filled by [`resolve_engine`].
#[derive(Debug, Clone)]
pub struct RawEngine {
    model: ModelArch,
    gpu: Option<Located<String>>,
    tp: Option<Located<u64>>,
    max_num_seqs: Option<u32>,
    max_num_batched_tokens: Option<u32>,
    block_size: Option<u32>,
    gpu_memory_utilization: Option<f64>,
    activation_reserve: Option<u64>,
    kv_blocks: Option<u64>,
    prefill: Option<PrefillMode>,
    prefix_caching: Option<bool>,
    prefix_hit_rate: Option<f64>,
    coefficients: RawCoefficients,
    at: Located<()>,
}

impl RawEngine {
    /// The requests one instance takes at once, if given (`max_num_seqs`).
    pub fn max_num_seqs(&self) -> Option<u32> {
        self.max_num_seqs
    }
}

/// `llm = { model, gpu, tp, ... }` (the table's `model` key is present); a `coefficients`
/// file is found from `base_dir`.
pub(super) fn read_engine(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    base_dir: &std::path::Path,
) -> Option<RawEngine> {
    let at = node.at();
    let mut f = r.table(
        node,
        "an LLM engine such as { model = \"llama-3.1-8b\", tp = 1 }",
    )?;
    let model = f.node(r, &MODEL).and_then(|n| read_model(r, n));
    let whole = |v: Option<Located<u64>>| v.map(|v| v.value as u32);
    let gpu = f.read(r, &GPU);
    let tp = f.read(r, &TP);
    let max_num_seqs = whole(f.read(r, &MAX_NUM_SEQS));
    let max_num_batched_tokens = whole(f.read(r, &MAX_NUM_BATCHED_TOKENS));
    let block_size = whole(f.read(r, &BLOCK_SIZE));
    let gpu_memory_utilization = f.read(r, &GPU_MEMORY_UTILIZATION).map(|v| v.value);
    let activation_reserve = f.read(r, &ACTIVATION_RESERVE).map(|v| v.value);
    let kv_blocks = f.read(r, &KV_BLOCKS).map(|v| v.value);
    let prefill = f.read(r, &PREFILL).map(|v| match v.value {
        "pauses_decode" => PrefillMode::PausesDecode,
        _ => PrefillMode::Chunked,
    });
    let prefix_caching = f.read(r, &PREFIX_CACHING).map(|v| v.value);
    let prefix_hit_rate = f.read(r, &PREFIX_HIT_RATE).map(|v| v.value);
    let coefficients = match f.node(r, &COEFFICIENTS) {
        Some(n) if n.is_table() => read_coefficients(r, n)?,
        Some(n) => read_profile_file(r, n, base_dir)?,
        None => RawCoefficients::default(),
    };
    f.finish(r);
    Some(RawEngine {
        model: model?,
        gpu,
        tp,
        max_num_seqs,
        max_num_batched_tokens,
        block_size,
        gpu_memory_utilization,
        activation_reserve,
        kv_blocks,
        prefill,
        prefix_caching,
        prefix_hit_rate,
        coefficients,
        at,
    })
}

/// `model = "name"` (from the catalog) or `model = { name, params_total, layers, ... }`.
fn read_model(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<ModelArch> {
    if !node.is_table() {
        let name = r.string(&node)?;
        return match model_by_name(&name.value) {
            Some(m) => Some(m),
            None => {
                let names = model_names();
                let close = super::reader::closest(&name.value, &names);
                r.error(
                    &name,
                    format!("no model named {:?} in the catalog", name.value),
                    Some(match close {
                        Some(c) => format!(
                            "did you mean {c:?}? `fleetsim catalog --models` lists them all"
                        ),
                        None => format!(
                            "choose one of: {} (or give the architecture as a table)",
                            names.join(", ")
                        ),
                    }),
                );
                None
            }
        };
    }
    let mut f = r.table(node, "a model table such as { name = \"my-7b\", params_total = 7.2e9, layers = 32, hidden = 4096, heads = 32, vocab = 32000 }")?;
    let name = f.read(r, &NAME);
    let total = f.read(r, &PARAMS_TOTAL);
    let active = f.read(r, &PARAMS_ACTIVE);
    let layers = f.read(r, &LAYERS);
    let hidden = f.read(r, &HIDDEN);
    let heads = f.read(r, &HEADS);
    let kv_heads = f.read(r, &KV_HEADS);
    let head_dim = f.read(r, &HEAD_DIM);
    let vocab = f.read(r, &VOCAB);
    let tied = f.read(r, &TIED);
    let dtype = f.read(r, &DTYPE_BYTES);
    let kv_dtype = f.read(r, &KV_DTYPE_BYTES);
    f.finish(r);
    let (name, total, layers, hidden, heads, vocab) =
        (name?, total?, layers?, hidden?, heads?, vocab?);
    let heads = heads.value as u32;
    let dtype_bytes = dtype.map_or(2, |d| d.value as u32);
    Some(ModelArch {
        name: name.value,
        params_total: total.value as u64,
        params_active: active.map_or(total.value, |a| a.value) as u64,
        layers: layers.value as u32,
        hidden: hidden.value as u32,
        heads,
        kv_heads: kv_heads.map_or(heads, |k| k.value as u32),
        head_dim: head_dim.map_or((hidden.value as u32 / heads).max(1), |d| d.value as u32),
        vocab: vocab.value as u32,
        tied_embeddings: tied.is_some_and(|t| t.value),
        dtype_bytes,
        kv_dtype_bytes: kv_dtype.map_or(dtype_bytes, |d| d.value as u32),
    })
}

/// `coefficients = { compute_efficiency, memory_efficiency, overhead_per_layer, ... }`.
fn read_coefficients(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<RawCoefficients> {
    let at = node.at();
    let mut f = r.table(
        node,
        "the step time's coefficients, such as { compute_efficiency = 0.47, memory_efficiency = 0.82 }",
    )?;
    let secs = |d: Option<Located<crate::time::SimDuration>>| d.map(|d| d.value.as_secs_f64());
    let c = RawCoefficients {
        compute_efficiency: f.read(r, &COMPUTE_EFFICIENCY).map(|v| v.value),
        memory_efficiency: f.read(r, &MEMORY_EFFICIENCY).map(|v| v.value),
        overhead_per_step: secs(f.read(r, &OVERHEAD_PER_STEP)),
        overhead_per_layer: secs(f.read(r, &OVERHEAD_PER_LAYER)),
        allreduce_latency: secs(f.read(r, &ALLREDUCE_LATENCY)),
        allreduce_efficiency: f.read(r, &ALLREDUCE_EFFICIENCY).map(|v| v.value),
    };
    f.finish(r);
    for (name, v) in [
        ("compute_efficiency", c.compute_efficiency),
        ("memory_efficiency", c.memory_efficiency),
        ("allreduce_efficiency", c.allreduce_efficiency),
    ] {
        if v == Some(0.0) {
            r.error(
                &at,
                format!("{name} is 0: the engine would never finish an iteration"),
                Some(format!("set {name} above 0, such as 0.5")),
            );
            return None;
        }
    }
    Some(c)
}

/// `coefficients = "fitted.toml"`: the `[coefficients]` of a profile `fleetsim calibrate`
/// wrote, the path relative to the scenario's folder.
fn read_profile_file(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    base_dir: &std::path::Path,
) -> Option<RawCoefficients> {
    let name = r.string(&node)?;
    let path = base_dir.join(&name.value);
    let read = crate::limits::read_capped_to_string(&path).and_then(|text| {
        crate::model::llm::profile::read_profile(&text).map_err(|e| e.to_string())
    });
    match read {
        Ok(co) => Some(RawCoefficients {
            compute_efficiency: Some(co.compute_efficiency),
            memory_efficiency: Some(co.memory_efficiency),
            overhead_per_step: Some(co.overhead_per_step),
            overhead_per_layer: Some(co.overhead_per_layer),
            allreduce_latency: Some(co.allreduce_latency),
            allreduce_efficiency: Some(co.allreduce_efficiency),
        }),
        Err(why) => {
            r.error(
                &name,
                format!("the coefficients profile {} does not read: {why}", path.display()),
                Some("give a profile written by `fleetsim calibrate --out`, or the coefficients as a table".into()),
            );
            None
        }
    }
}

/// Stage two: the engine of instance type `type_name` (its catalog `entry`, if any), with the
/// GPU found, vLLM's defaults filled and the weights checked to fit.
pub(super) fn resolve_engine(
    r: &mut Reader<'_>,
    raw: &RawEngine,
    type_name: &str,
    entry: Option<&CatalogEntry>,
) -> Option<EngineSpec> {
    let gpu = find_gpu(r, raw, type_name, entry)?;
    let gpus = entry.map(|e| e.gpus).filter(|&g| g > 0);
    let tp = match (&raw.tp, gpus) {
        (Some(tp), Some(g)) if tp.value > u64::from(g) => {
            r.error(
                tp,
                format!("tp = {} but {type_name} has {g} GPUs", tp.value),
                Some(format!("set tp to at most {g}")),
            );
            return None;
        }
        (Some(tp), _) => tp.value as u32,
        (None, g) => g.unwrap_or(1),
    };
    let mut config = EngineConfig::vllm_defaults(&gpu.name, gpu.memory_bytes, tp);
    let set = |slot: &mut u32, v: Option<u32>| *slot = v.unwrap_or(*slot);
    set(&mut config.max_num_seqs, raw.max_num_seqs);
    set(
        &mut config.max_num_batched_tokens,
        raw.max_num_batched_tokens,
    );
    set(&mut config.block_size, raw.block_size);
    config.gpu_memory_utilization = raw
        .gpu_memory_utilization
        .unwrap_or(config.gpu_memory_utilization);
    config.activation_reserve_bytes = raw
        .activation_reserve
        .unwrap_or(config.activation_reserve_bytes);
    config.kv_blocks = raw.kv_blocks;
    config.prefill = raw.prefill.unwrap_or(config.prefill);
    config.prefix_caching = match (raw.prefix_caching, raw.prefix_hit_rate) {
        (Some(false), _) => PrefixCaching::Off,
        (_, Some(rate)) => PrefixCaching::HitRate(rate),
        _ => PrefixCaching::Hashes,
    };
    let mut co = Coefficients::defaults(gpu.interconnect);
    let c = &raw.coefficients;
    let pick = |slot: &mut f64, v: Option<f64>| *slot = v.unwrap_or(*slot);
    pick(&mut co.compute_efficiency, c.compute_efficiency);
    pick(&mut co.memory_efficiency, c.memory_efficiency);
    pick(&mut co.overhead_per_step, c.overhead_per_step);
    pick(&mut co.overhead_per_layer, c.overhead_per_layer);
    pick(&mut co.allreduce_latency, c.allreduce_latency);
    pick(&mut co.allreduce_efficiency, c.allreduce_efficiency);
    let spec = EngineSpec::new(raw.model.clone(), gpu, config, co);
    if spec.kv_blocks == 0 {
        let gib = |b: f64| b / f64::from(1u32 << 30);
        r.error(
            &raw.at,
            format!(
                "{} does not fit: {:.1} GiB of weights over {tp} × {} ({:.0} GiB, {:.0} % usable) leaves no room for the KV cache",
                spec.model.name,
                gib(spec.model.weight_bytes() as f64),
                spec.gpu.name,
                gib(spec.gpu.memory_bytes as f64),
                spec.config.gpu_memory_utilization * 100.0,
            ),
            Some("raise tp, choose a GPU with more memory, or give kv_blocks".into()),
        );
        return None;
    }
    Some(spec)
}

/// The GPU named by `gpu = "..."`, else the instance type's catalog GPU.
fn find_gpu(
    r: &mut Reader<'_>,
    raw: &RawEngine,
    type_name: &str,
    entry: Option<&CatalogEntry>,
) -> Option<Gpu> {
    if let Some(name) = &raw.gpu {
        return match gpu_by_name(&name.value) {
            Some(g) => Some(g),
            None => {
                let names = gpu_names();
                let close = super::reader::closest(&name.value, &names);
                r.error(
                    name,
                    format!("no GPU named {:?} in the catalog", name.value),
                    Some(match close {
                        Some(c) => {
                            format!("did you mean {c:?}? `fleetsim catalog --gpus` lists them all")
                        }
                        None => format!("choose one of: {}", names.join(", ")),
                    }),
                );
                None
            }
        };
    }
    let found = entry.and_then(|e| {
        let model = e.gpu_model.as_deref()?;
        gpu_for_catalog_model(model, e.gpu_memory_gib / e.gpus.max(1), &e.name)
    });
    if found.is_none() {
        r.error(
            &raw.at,
            format!("{type_name} has no GPU the catalog knows, and the engine names none"),
            Some(
                "name one, such as gpu = \"H100-SXM\" (`fleetsim catalog --gpus` lists them)"
                    .into(),
            ),
        );
    }
    found
}
