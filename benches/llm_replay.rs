//! The speed of one engine's replay (issue 16): the measured Llama-3.1-8B run (300 requests,
//! 2,361 iterations) through vLLM v1's scheduler and the roofline step time, with the default
//! coefficients, as `fleetsim calibrate` runs it once per evaluation of its fit.
//!
//! `cargo bench --bench llm_replay`. Throughput is in requests.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fleetsim::calibrate::{lookup_gpu, lookup_model, replayer, run_file::read_run};
use fleetsim::model::llm::config::{Coefficients, EngineConfig};

fn llm_replay(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/data/vllm_runs/RTXPRO6000_Llama-3.1-8B/requests.jsonl");
    let run = read_run(&path, None).expect("the measured run is shipped");
    let arch = lookup_model("llama-3.1-8b").expect("in the catalog");
    let gpu = lookup_gpu("rtx-pro-6000").expect("in the catalog");
    // The run's own settings (its meta.json): 128 sequences, 2,048 batched tokens, TP 1.
    let mut cfg = EngineConfig::vllm_defaults(&gpu.name, gpu.memory_bytes, 1);
    cfg.max_num_seqs = run.settings.max_num_seqs.expect("in meta.json");
    cfg.max_num_batched_tokens = run.settings.max_num_batched_tokens.expect("in meta.json");
    let co = Coefficients::defaults(gpu.interconnect);
    let mut simulate = replayer(&arch, &gpu, &cfg, &run.requests).expect("a replay");
    let mut g = c.benchmark_group("llm_replay_llama_8b_300_requests");
    g.throughput(Throughput::Elements(run.requests.len() as u64));
    g.bench_function("replay", |b| b.iter(|| simulate(&co).len()));
    g.finish();
}

criterion_group!(benches, llm_replay);
criterion_main!(benches);
