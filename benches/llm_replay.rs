//! The speed of one engine's replay (issue 16): the measured Llama-3.1-8B run (300 requests,
//! 2,361 iterations) through vLLM v1's scheduler and the roofline step time, with the default
//! coefficients, as `fleetsim calibrate` runs it once per evaluation of its fit.
//!
//! `cargo bench --bench llm_replay`. Throughput is in requests.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fleetsim::model::llm::arch::ModelArch;
use fleetsim::model::llm::config::{Coefficients, EngineConfig};
use fleetsim::model::llm::gpu::{Gpu, InterconnectKind};
use fleetsim::model::llm::replay::{replay, ReplayRequest};
use fleetsim::time::{SimDuration, SimTime};

fn load() -> Vec<ReplayRequest> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/data/vllm_runs/RTXPRO6000_Llama-3.1-8B/requests.jsonl");
    let text = std::fs::read_to_string(path).expect("the measured run is shipped");
    let mut rows: Vec<(f64, u32, u32)> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            (
                v["queued_ts"].as_f64().unwrap(),
                v["input_toks"].as_u64().unwrap() as u32,
                v["output_toks"].as_u64().unwrap() as u32,
            )
        })
        .collect();
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let t0 = rows[0].0;
    rows.iter()
        .map(|&(q, input, output)| ReplayRequest {
            arrival: SimTime::ZERO + SimDuration::from_secs_f64(q - t0),
            input,
            output,
        })
        .collect()
}

fn llm_replay(c: &mut Criterion) {
    let arch = ModelArch {
        name: "llama-3.1-8b".into(),
        params_total: 8_030_261_248,
        params_active: 8_030_261_248,
        layers: 32,
        hidden: 4096,
        heads: 32,
        kv_heads: 8,
        head_dim: 128,
        vocab: 128_256,
        tied_embeddings: false,
        dtype_bytes: 2,
        kv_dtype_bytes: 2,
    };
    let gpu = Gpu {
        name: "RTX-PRO-6000-Blackwell".into(),
        memory_bytes: 96 << 30,
        memory_bandwidth: 1597e9,
        fp16_flops: 503.8e12,
        fp8_flops: Some(1007.6e12),
        interconnect: InterconnectKind::Pcie,
        link_bandwidth: 64e9,
    };
    let mut cfg = EngineConfig::vllm_defaults(&gpu.name, gpu.memory_bytes, 1);
    cfg.max_num_seqs = 128;
    cfg.max_num_batched_tokens = 2048;
    let co = Coefficients::defaults(InterconnectKind::Pcie);
    let reqs = load();
    let mut g = c.benchmark_group("llm_replay_llama_8b_300_requests");
    g.throughput(Throughput::Elements(reqs.len() as u64));
    g.bench_function("replay", |b| {
        b.iter(|| replay(&arch, &gpu, &cfg, &co, &reqs).steps)
    });
    g.finish();
}

criterion_group!(benches, llm_replay);
criterion_main!(benches);
