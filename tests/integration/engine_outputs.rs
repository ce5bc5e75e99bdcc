//! The LLM engine's outputs (issue 16, item 7): queueing delay beside TTFT and TPOT, KV-cache
//! use and preemptions per timeline window, tokens per second per instance type. Engines from
//! physics (Llama-3.1-8B on the L40S of a `g6e.xlarge`), runs small enough to reason about.

use crate::common::{run, scenario};
use fleetsim::metrics::TokenSummary;

/// One `g6e.xlarge` serving Llama-3.1-8B (`llm_extra`: more engine keys), requests of
/// `input` and `output` tokens arriving periodically at `rate` until `stop`, the run lasting
/// `duration`.
fn engine(llm_extra: &str, rate: &str, stop: &str, duration: &str, tokens: (u32, u32)) -> String {
    let (input, output) = tokens;
    format!(
        r#"
name = "engine_outputs"
duration = "{duration}"
timeout = "600s"
[timeline]
window = "5s"
[traffic]
process = "periodic"
profile = {{ kind = "steps", steps = [{{ at = "0s", rate = "{rate}" }}, {{ at = "{stop}", rate = "0/s" }}] }}
[[instance_type]]
name = "g6e.xlarge"
llm = {{ model = "llama-3.1-8b"{llm_extra} }}
[[pool]]
name = "gpu"
instance_type = "g6e.xlarge"
instances = 1
queue_capacity = 10000
[[class]]
name = "chat"
input_tokens = {{ distribution = "constant", value = {input} }}
output_tokens = {{ distribution = "constant", value = {output} }}
"#
    )
}

fn tokens(t: Option<TokenSummary>) -> TokenSummary {
    t.expect("token metrics of a token-based class")
}

/// Two requests, at 0 and 0.5 s, one slot (`max_num_seqs = 1`): A is scheduled at once
/// (queueing 0) and takes its prefill time `p` to its first token; B waits for A's end `e_A`
/// (over 0.5 s: 50 decode steps), is scheduled then and takes the same `p`. So B's queueing
/// delay is `e_A − 0.5`, its TTFT that plus `p`, and its latency that plus A's service `e_A`.
#[test]
fn queueing_delay_is_ttft_less_the_prefill() {
    let text = engine(", max_num_seqs = 1", "2/s", "1s", "20s", (100, 50));
    let (s, _) = run(&scenario(&text), 1);
    assert_eq!((s.requests.arrived, s.requests.completed), (2, 2));
    let t = tokens(s.tokens);
    let q = t
        .queueing_seconds
        .expect("an engine's run has a queueing delay");
    assert_eq!(q.count, 2);
    // The exact mean and max: A's 0 and B's q_B.
    let (ttft_mean, ttft_max) = (t.ttft_seconds.mean.unwrap(), t.ttft_seconds.max.unwrap());
    let prefill = 2.0 * ttft_mean - ttft_max; // A's TTFT
    let q_b = q.max.unwrap();
    assert!(q_b > 0.0, "B waited for A: {q_b}");
    assert_eq!(q.mean, Some(q_b / 2.0));
    // Times are integer nanoseconds: the identities hold to a few of them.
    let close = |a: f64, b: f64| (a - b).abs() < 5e-9;
    assert!(
        close(ttft_max - prefill, q_b),
        "{ttft_max} − {prefill} vs {q_b}"
    );
    // Latencies: A's e_A, B's q_B + e_A, with q_B = e_A − 0.5.
    let l_mean = s.latency_seconds.mean.unwrap();
    let e_a = (2.0 * l_mean + 0.5) / 3.0;
    assert!(close(q_b, e_a - 0.5), "{q_b} vs {e_a} − 0.5");
    // Per class: the same requests.
    assert_eq!(tokens(s.by_class["chat"].tokens), t);
}

/// A KV-bound engine: 64 blocks of 16 tokens (1,024 tokens) for requests of 200 + 300 tokens
/// (32 blocks each at their end), 16 slots. Running requests outgrow the cache and vLLM
/// preempts the last one admitted: preemptions show in the timeline and the summary, the
/// windows' counts add up to the summary's, and the engine's tokens match the requests'.
#[test]
fn a_kv_bound_engine_preempts_and_its_windows_add_up() {
    let text = engine(
        ", max_num_seqs = 16, kv_blocks = 64, block_size = 16",
        "2/s",
        "30s",
        "300s",
        (200, 300),
    );
    let (s, rows) = run(&scenario(&text), 1);
    // Everything is served by the end: the engine's counts are the requests'.
    assert_eq!(s.requests.arrived, 60);
    assert_eq!(s.requests.completed, 60, "{:?}", s.requests);
    let e = s.engines.as_ref().expect("an engine's summary");
    assert!(e.preemptions > 0, "the cache is too small for the batch");
    let windows: u64 = rows.iter().map(|r| r.engine.unwrap().preemptions).sum();
    assert_eq!(windows, e.preemptions);
    assert_eq!(e.by_instance_type.len(), 1);
    let g = e.by_instance_type["g6e.xlarge"];
    // No warm-up: the measured time is the run.
    assert_eq!(g.preemptions, e.preemptions);
    assert_eq!(g.generated_tokens, 60 * 300);
    assert_eq!(g.generated_tokens, tokens(s.tokens).output_tokens);
    // Prompts computed: every prompt once, and again (with what it had generated) each time
    // its request was preempted.
    assert!(g.prompt_tokens > 60 * 200, "{}", g.prompt_tokens);
    assert_eq!(g.generated_tokens_per_second, (60 * 300) as f64 / 300.0);
    assert_eq!(g.prompt_tokens_per_second, g.prompt_tokens as f64 / 300.0);
    assert!(
        g.iterations > 300,
        "at least one per token of the longest request"
    );
    // KV use: a fraction, high while the batch is full, nothing once all is done.
    let kv: Vec<f64> = rows
        .iter()
        .map(|r| r.engine.unwrap().kv_cache_used.unwrap())
        .collect();
    assert!(kv.iter().all(|&f| (0.0..=1.0).contains(&f)), "{kv:?}");
    assert!(kv.iter().any(|&f| f > 0.75), "{kv:?}");
    assert_eq!(*kv.last().unwrap(), 0.0);
    // Queueing: requests waited for blocks, not only for slots.
    let q = tokens(s.tokens).queueing_seconds.unwrap();
    assert_eq!(q.count, 60);
    assert!(q.max.unwrap() > 1.0, "{q:?}");
}

/// After a warm-up, tokens per second count only what the engines did after it.
#[test]
fn tokens_per_second_count_after_the_warmup() {
    let base = engine("", "2/s", "60s", "60s", (100, 50));
    let warm = base.replace("duration = \"60s\"", "duration = \"60s\"\nwarmup = \"30s\"");
    let (all, _) = run(&scenario(&base), 1);
    let (after, _) = run(&scenario(&warm), 1);
    let g_all = all.engines.unwrap().by_instance_type["g6e.xlarge"];
    let g_after = after.engines.unwrap().by_instance_type["g6e.xlarge"];
    // Steady traffic: about half the tokens after the warm-up, over half the time. A decode
    // run in progress at 30 s is credited when it ends, so not exactly half.
    assert!(g_after.generated_tokens < g_all.generated_tokens);
    let half = g_all.generated_tokens as f64 / 2.0;
    assert!(
        (g_after.generated_tokens as f64 - half).abs() < 0.05 * half,
        "{} vs {half}",
        g_after.generated_tokens
    );
    assert_eq!(
        g_after.generated_tokens_per_second,
        g_after.generated_tokens as f64 / 30.0
    );
}

/// A run whose LLM is a token profile has none of the engine's outputs (its files are as
/// they were: the shipped scenarios' golden digests check the bytes).
#[test]
fn a_token_profile_run_has_no_engine_outputs() {
    let text = engine("", "2/s", "1s", "10s", (100, 50)).replace(
        "llm = { model = \"llama-3.1-8b\" }",
        "llm = { prefill_per_token = \"1ms\", decode_step = [{ batch = 1, time = \"20ms\" }], max_batch = 4 }",
    );
    let (s, rows) = run(&scenario(&text), 1);
    assert_eq!(s.requests.completed, 2);
    assert!(s.engines.is_none());
    assert!(tokens(s.tokens).queueing_seconds.is_none());
    assert!(rows.iter().all(|r| r.engine.is_none()));
    let json = serde_json::to_string(&s).unwrap();
    assert!(
        !json.contains("queueing") && !json.contains("engines"),
        "{json}"
    );
}

/// The engine smoke scenario of issue 16 (two `g6e.xlarge` serving Llama-3.1-8B, lognormal
/// tokens), written to files: `timeline.csv` ends with the engine columns and its windows'
/// preemptions add up to `summary.json`'s, which reads back with its engines.
const SMOKE: &str = r#"
name = "engine_smoke"
duration = "10m"
warmup = "1m"
seed = 7
timeout = "120s"

[timeline]
window = "30s"

[traffic]
rate = "8/s"

[[instance_type]]
name = "g6e.xlarge"
llm = { model = "llama-3.1-8b", max_num_seqs = 128 }

[[pool]]
name = "gpu"
instance_type = "g6e.xlarge"
instances = 2
queue_capacity = 256

[balancer]
algorithm = "least_connections"

[[route]]
path = "/chat"
pool = "gpu"

[[class]]
name = "chat"
path = "/chat"
input_tokens = { distribution = "lognormal", mean = 600, cv = 1.0 }
output_tokens = { distribution = "lognormal", mean = 200, cv = 1.0 }
"#;

#[test]
fn engine_columns_and_summary_are_written_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let s = fleetsim::sweep::simulate_into(&scenario(SMOKE), 7, dir.path()).unwrap();
    let csv = std::fs::read_to_string(dir.path().join("timeline.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[header.len() - 2..], ["kv_cache_used", "preemptions"]);
    assert_eq!(header.len(), fleetsim::report::TIMELINE_COLUMNS.len() + 2);
    let mut preemptions = 0;
    let mut windows = 0;
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), header.len(), "{line}");
        let kv: f64 = cells[header.len() - 2].parse().unwrap();
        assert!((0.0..=1.0).contains(&kv), "{line}");
        preemptions += cells[header.len() - 1].parse::<u64>().unwrap();
        windows += 1;
    }
    assert_eq!(windows, 20);
    let e = s.engines.as_ref().unwrap();
    assert_eq!(preemptions, e.preemptions);
    let json = std::fs::read_to_string(dir.path().join("summary.json")).unwrap();
    let back: fleetsim::Summary = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    // The engines' generated tokens per second against the completed requests' output
    // tokens per second: they differ only by the requests cut at the warm-up's end and at the
    // run's end (tens of requests in flight of ~4,000, about 1 % each; measured 2.3 %).
    let g = e.by_instance_type["g6e.xlarge"];
    let out = tokens(s.tokens).output_tokens_per_second;
    assert!(
        (g.generated_tokens_per_second / out - 1.0).abs() < 0.05,
        "{} vs {out}",
        g.generated_tokens_per_second
    );
    let q = tokens(s.tokens).queueing_seconds.unwrap();
    assert!(q.count > 4000 && q.p50.is_some(), "{q:?}");
}

/// A Mooncake trace whose requests share their first prompt blocks (`hash_ids`): the engine's
/// prefix cache serves those blocks from the second request on, exactly the shared blocks (one
/// trace id covers 512 tokens = 32 engine blocks of 16); without prefix caching, nothing hits.
#[test]
fn mooncake_hash_ids_reach_the_prefix_cache() {
    let dir = tempfile::tempdir().unwrap();
    // 20 requests a second apart, each 1,100 prompt tokens: ids [7, 8, own]. The first 1,024
    // tokens (ids 7 and 8: 64 engine blocks) are shared.
    let lines: String = (0..20)
        .map(|i| {
            format!(
                "{{\"timestamp\": {}, \"input_length\": 1100, \"output_length\": 4, \"hash_ids\": [7, 8, {}]}}\n",
                i * 1000,
                100 + i
            )
        })
        .collect();
    std::fs::write(dir.path().join("m.jsonl"), lines).unwrap();
    let text = |caching: bool| {
        format!(
            r#"name = "mooncake"
duration = "30s"
[traffic]
trace = {{ file = "m.jsonl", format = "mooncake" }}
[[instance_type]]
name = "g6e.xlarge"
llm = {{ model = "llama-3.1-8b", prefix_caching = {caching} }}
[[pool]]
name = "gpu"
instance_type = "g6e.xlarge"
instances = 1
[[class]]
name = "chat"
input_tokens = {{ distribution = "constant", value = 1 }}
output_tokens = {{ distribution = "constant", value = 1 }}
"#
        )
    };
    let hits = |caching: bool| {
        let path = dir.path().join("s.toml");
        std::fs::write(&path, text(caching)).unwrap();
        let s = fleetsim::ScenarioSet::load(&path).unwrap().base;
        let (summary, _) = run(&s, 1);
        assert_eq!(summary.requests.completed, 20);
        let e = summary.engines.expect("an engine run");
        e.by_instance_type["g6e.xlarge"].prefix_hit_tokens
    };
    // 19 requests after the first each hit 64 blocks × 16 tokens.
    assert_eq!(hits(true), 19 * 64 * 16);
    assert_eq!(hits(false), 0);
}
