//! The cost of the engine from physics in a whole simulation (issue 16, "Speed"): the shipped
//! Azure LLM trace (four superposed copies, 35,276 requests in 57 minutes) on 16 g5.xlarge
//! instances behind a least-outstanding balancer, served
//!
//! - `token`: by today's token model (`llm = { prefill_per_token, decode_step, max_batch }`,
//!   the figures of `scenarios/azure_llm_replay.toml`);
//! - `physics`: by Llama-3.1-8B on the A10G from physics, vLLM's defaults, chunked prefill and
//!   prefix caching (the trace carries no block hashes, so a 30 % hit rate stands for them).
//!
//! `cargo bench --bench llm_physics`. Criterion times each (throughput in requests); then, as
//! the machine is shared and its speed drifts, `interleaved` runs token, physics, token,
//! physics... (5 pairs) and prints each one's thread CPU time per request and their ratio, the
//! figure the README's "Performance" section records (issue 16's target: ≤ 3x).

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fleetsim::metrics::DiscardTimeline;
use fleetsim::Scenario;

/// The scenario around an instance type's `llm` table.
fn scenario(llm: &str) -> String {
    format!(
        r#"name = "llm_bench"
duration = "57m"
seed = 7
timeout = "120s"

[timeline]
window = "60s"

[traffic]
trace = {{ file = "data/azure_llm_2023_code.csv", format = "azure_llm", rate_scale = 4 }}

[[instance_type]]
name = "g5.xlarge"
llm = {llm}

[[pool]]
name = "gpu"
instance_type = "g5.xlarge"
instances = 16
queue_capacity = 256

[balancer]
algorithm = "least_outstanding_requests"

[[route]]
path = "/complete"
pool = "gpu"

[[class]]
name = "complete"
path = "/complete"
input_tokens = {{ distribution = "lognormal", mean = 2048, cv = 0.96 }}
output_tokens = {{ distribution = "lognormal", mean = 28, cv = 2.15 }}
"#
    )
}

const TOKEN: &str = r#"{ prefill_per_token = "0.2ms", prefill_overhead = "5ms", max_batch = 16, decode_step = [
  { batch = 1, time = "25ms" }, { batch = 8, time = "27ms" }, { batch = 16, time = "30ms" } ] }"#;
const PHYSICS: &str = r#"{ model = "llama-3.1-8b", prefill = "chunked", prefix_caching = true, prefix_hit_rate = 0.3 }"#;

/// Both scenarios, parsed (the trace's path is relative to `scenarios/`).
fn load() -> [(&'static str, Scenario); 2] {
    let at = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/llm_bench.toml");
    let parse = |llm| Scenario::parse(&scenario(llm), &at).expect("the bench scenario is valid");
    [("token", parse(TOKEN)), ("physics", parse(PHYSICS))]
}

/// One run: the requests that arrived.
fn run(s: &Scenario) -> u64 {
    fleetsim::run(s, s.seed, &mut DiscardTimeline)
        .expect("runs")
        .summary
        .requests
        .arrived
}

/// This thread's CPU time \[s\] (`CLOCK_THREAD_CPUTIME_ID`): unlike wall time, not inflated
/// by other processes on a shared machine.
fn thread_cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the call only writes it.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn llm_physics(c: &mut Criterion) {
    let runs = load();
    let mut g = c.benchmark_group("azure_trace_16_instances");
    g.sample_size(10);
    for (name, s) in &runs {
        g.throughput(Throughput::Elements(run(s)));
        g.bench_function(*name, |b| b.iter(|| black_box(run(s))));
    }
    g.finish();
}

fn interleaved(_: &mut Criterion) {
    let runs = load();
    let mut cpu = [0.0f64; 2];
    let mut requests = [0u64; 2];
    for _ in 0..5 {
        for (i, (_, s)) in runs.iter().enumerate() {
            let t0 = thread_cpu();
            requests[i] += black_box(run(s));
            cpu[i] += thread_cpu() - t0;
        }
    }
    let per = |i: usize| cpu[i] / requests[i] as f64 * 1e6;
    println!(
        "interleaved x5: token {:.2} µs CPU per request, physics {:.2} µs, ratio {:.2}x ({} requests a run)",
        per(0),
        per(1),
        per(1) / per(0),
        requests[0] / 5,
    );
}

criterion_group!(benches, llm_physics, interleaved);
criterion_main!(benches);
