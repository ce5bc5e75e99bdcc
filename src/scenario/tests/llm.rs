//! LLM instance types and token-based classes.

use super::*;
use crate::model::fleet::llm::{DecodeCurve, StepPoint, TokenCount};
use crate::model::fleet::llm_server::LlmServer;
use crate::model::llm::config::{PrefillMode, PrefixCaching};

/// One pool of one instance of catalog type `itype` with `llm = {llm}` (and `pool_extra`
/// keys), serving class `chat` (`class` keys); the scenario, or the error's text.
fn try_parse(itype: &str, llm: &str, pool_extra: &str, class: &str) -> Result<Scenario, String> {
    let text = format!(
        r#"name = "s"
duration = "1h"
[traffic]
rate = "10/s"
[[instance_type]]
name = "{itype}"
llm = {llm}
[[pool]]
name = "p"
instance_type = "{itype}"
instances = 1
{pool_extra}
[[class]]
name = "chat"
{class}
"#
    );
    Scenario::parse(&text, Path::new("t.toml")).map_err(|e| e.to_string())
}

/// A token profile `llm` on a g5.xlarge, with class keys `class`.
fn parse(llm: &str, class: &str) -> Scenario {
    try_parse("g5.xlarge", llm, "", class).unwrap_or_else(|e| panic!("{e}"))
}

/// An engine on catalog type `itype` (`llm = {llm}`), or the error text.
fn engine_on(itype: &str, llm: &str) -> Result<Scenario, String> {
    try_parse(itype, llm, "", TOKENS)
}

/// A g6e.xlarge pool (`llm = {llm}`) whose model load is `{load}`.
fn load_on(llm: &str, load: &str) -> Result<Scenario, String> {
    let startup = format!(r#"startup = {{ boot = "90s", model_load = {load} }}"#);
    try_parse("g6e.xlarge", llm, &startup, TOKENS)
}

const TOKENS: &str = r#"input_tokens = { distribution = "uniform", min = 10, max = 20 }
output_tokens = { distribution = "lognormal", mean = 200, cv = 1.5 }"#;

#[test]
fn a_linear_profile_sets_the_slots_and_keeps_the_catalog_price() {
    let s = parse(
        r#"{ prefill_per_token = "0.2ms", prefill_overhead = "5ms", max_batch = 32, decode_step = { base = "25ms", per_sequence = "0.4ms" } }"#,
        TOKENS,
    );
    let t = &s.instance_types[0];
    // max_batch is the concurrency; the price still comes from the catalog ($1.006/h).
    assert_eq!(t.concurrency, 32);
    assert_eq!(t.price_per_hour, 1.006);
    let p = t
        .llm
        .as_ref()
        .and_then(LlmServer::profile)
        .expect("an llm profile");
    assert_eq!(
        (p.prefill_per_token, p.prefill_overhead),
        (200_000, 5_000_000)
    );
    assert_eq!(p.prefill(100), 25_000_000);
    // 25 ms + 0.4 ms × 31.
    assert_eq!(p.decode_step.step(32), 37_400_000);
    let tokens = s.classes[0].tokens.as_ref().expect("a token-based class");
    assert_eq!(tokens.input, TokenCount::Uniform { min: 10, max: 20 });
    assert_eq!(tokens.output, TokenCount::lognormal(200.0, 1.5));
}

#[test]
fn a_curve_of_points_is_kept_as_written() {
    let s = parse(
        r#"{ prefill_per_token = "1ms", max_batch = 8, decode_step = [{ batch = 1, time = "20ms" }, { batch = 8, time = "34ms" }] }"#,
        TOKENS,
    );
    let p = s.instance_types[0]
        .llm
        .as_ref()
        .and_then(LlmServer::profile)
        .unwrap();
    assert_eq!(
        p.decode_step,
        DecodeCurve::new(vec![
            StepPoint {
                batch: 1,
                nanos: 20_000_000
            },
            StepPoint {
                batch: 8,
                nanos: 34_000_000
            },
        ])
    );
    // 20 + 14 × 3/7 = 26 ms at b = 4.
    assert_eq!(p.decode_step.step(4), 26_000_000);
    assert_eq!(p.prefill_overhead, 0);
}

#[test]
fn a_class_with_a_service_time_on_an_llm_type_is_not_token_based() {
    let s = parse(
        r#"{ prefill_per_token = "1ms", max_batch = 8, decode_step = { base = "20ms", per_sequence = "1ms" } }"#,
        r#"service = { distribution = "constant", value = "1s" }"#,
    );
    assert!(s.classes[0].tokens.is_none());
    assert_eq!(s.instance_types[0].concurrency, 8);
}

#[test]
fn an_engine_takes_its_gpu_and_tp_from_the_instance_type_and_vllm_defaults() {
    // g6e.xlarge: one L40S (48 GB: below 70 GiB, so vLLM's 2048 batched tokens and 256
    // sequences); tp defaults to the type's GPU count.
    let s = engine_on("g6e.xlarge", r#"{ model = "llama-3.1-8b" }"#).unwrap();
    let t = &s.instance_types[0];
    let e = t
        .llm
        .as_ref()
        .and_then(LlmServer::engine)
        .expect("an engine");
    assert_eq!(e.gpu.name, "L40S");
    assert_eq!(e.config.tp, 1);
    assert_eq!(
        (e.config.max_num_batched_tokens, e.config.max_num_seqs),
        (2048, 256)
    );
    assert_eq!(t.concurrency, 256);
    assert_eq!(e.config.prefill, PrefillMode::Chunked);
    assert_eq!(e.config.prefix_caching, PrefixCaching::Hashes);
    assert!(e.kv_blocks > 0);
    // p5.48xlarge: eight H100 SXM; tp 8 by default, H100 (80 GB, not an A100): 8192 / 1024.
    let s = engine_on(
        "p5.48xlarge",
        r#"{ model = "llama-3.1-70b", max_num_seqs = 64 }"#,
    )
    .unwrap();
    let e = s.instance_types[0]
        .llm
        .as_ref()
        .and_then(LlmServer::engine)
        .unwrap();
    assert_eq!((e.gpu.name.as_str(), e.config.tp), ("H100", 8));
    assert_eq!(e.config.max_num_batched_tokens, 8192);
    assert_eq!(s.instance_types[0].concurrency, 64);
}

#[test]
fn an_engine_overrides_its_settings_and_coefficients() {
    let s = engine_on(
        "g6e.xlarge",
        r#"{ model = "qwen3-8b", gpu = "H100-SXM", max_num_batched_tokens = 512, block_size = 32, kv_blocks = 1000, prefill = "pauses_decode", prefix_hit_rate = 0.25, coefficients = { compute_efficiency = 0.5, overhead_per_layer = "40us" } }"#,
    )
    .unwrap();
    let e = s.instance_types[0]
        .llm
        .as_ref()
        .and_then(LlmServer::engine)
        .unwrap();
    assert_eq!(e.gpu.name, "H100");
    assert_eq!(
        (e.config.max_num_batched_tokens, e.config.block_size),
        (512, 32)
    );
    assert_eq!(e.kv_blocks, 1000);
    assert_eq!(e.config.prefill, PrefillMode::PausesDecode);
    assert_eq!(e.config.prefix_caching, PrefixCaching::HitRate(0.25));
    assert_eq!(e.coefficients.compute_efficiency, 0.5);
    assert!((e.coefficients.overhead_per_layer - 40e-6).abs() < 1e-12);
    // Not given: the default.
    assert_eq!(e.coefficients.memory_efficiency, 0.823);
}

#[test]
fn an_engine_with_its_own_model_architecture() {
    let s = engine_on(
        "g6e.xlarge",
        r#"{ model = { name = "tiny", params_total = 1e9, layers = 16, hidden = 2048, heads = 16, kv_heads = 4, vocab = 32000 } }"#,
    )
    .unwrap();
    let e = s.instance_types[0]
        .llm
        .as_ref()
        .and_then(LlmServer::engine)
        .unwrap();
    assert_eq!(e.model.name, "tiny");
    assert_eq!(e.model.head_dim, 128);
    assert_eq!(e.model.kv_bytes_per_token(), 2 * 16 * 4 * 128 * 2);
}

#[test]
fn engine_mistakes_are_errors_with_their_field() {
    let e = engine_on("g6e.xlarge", r#"{ model = "llama-3.1-8" }"#).unwrap_err();
    assert!(
        e.contains("llama-3.1-8") && e.contains("did you mean"),
        "{e}"
    );
    let e = engine_on("g6e.xlarge", r#"{ model = "llama-3.1-8b", gpu = "H1000" }"#).unwrap_err();
    assert!(e.contains("no GPU named"), "{e}");
    let e = engine_on("g6e.xlarge", r#"{ model = "llama-3.1-8b", tp = 2 }"#).unwrap_err();
    assert!(e.contains("tp = 2") && e.contains("1 GPUs"), "{e}");
    // 141 GB of weights on one 48 GB L40S.
    let e = engine_on("g6e.xlarge", r#"{ model = "llama-3.1-70b" }"#).unwrap_err();
    assert!(e.contains("does not fit") && e.contains("raise tp"), "{e}");
    let e = engine_on(
        "g6e.xlarge",
        r#"{ model = "llama-3.1-8b", coefficients = { memory_efficiency = 0 } }"#,
    )
    .unwrap_err();
    assert!(e.contains("memory_efficiency"), "{e}");
    let e = engine_on(
        "g6e.xlarge",
        r#"{ model = "llama-3.1-8b", max_num_seq = 4 }"#,
    )
    .unwrap_err();
    assert!(e.contains("max_num_seq"), "{e}");
}

#[test]
fn a_model_load_from_a_source_follows_from_the_weights() {
    use crate::model::distribution::ServiceTime;
    // Llama-3.1-8B: 8,030,261,248 parameters × 2 bytes = 16,060,522,496 bytes, read from EBS
    // gp3 at 125 MiB/s (131,072,000 B/s): 122.532 s; copied to one GPU at 32 GB/s: 0.502 s.
    let s = load_on(r#"{ model = "llama-3.1-8b" }"#, r#"{ from = "ebs-gp3" }"#).unwrap();
    let ServiceTime::Constant { nanos } = s.pools[0].startup.model_load else {
        panic!("a constant load time");
    };
    let expected = 16_060_522_496.0 / 131_072_000.0 + 16_060_522_496.0 / 32e9;
    assert!((nanos / 1e9 - expected).abs() < 1e-6, "{nanos}");
    // A bandwidth of the user's: 1000 MB/s.
    let s = load_on(
        r#"{ model = "llama-3.1-8b" }"#,
        r#"{ from = "s3", bandwidth_mb_s = 1000 }"#,
    )
    .unwrap();
    let ServiceTime::Constant { nanos } = s.pools[0].startup.model_load else {
        panic!("a constant load time");
    };
    let expected = 16_060_522_496.0 / 1e9 + 16_060_522_496.0 / 32e9;
    assert!((nanos / 1e9 - expected).abs() < 1e-6, "{nanos}");
    // Without an engine, the weights' size is unknown.
    let e = load_on(
        r#"{ prefill_per_token = "0.2ms", max_batch = 8, decode_step = { base = "25ms", per_sequence = "0.4ms" } }"#,
        r#"{ from = "s3" }"#,
    )
    .unwrap_err();
    assert!(e.contains("needs its instance type"), "{e}");
    let e = load_on(r#"{ model = "llama-3.1-8b" }"#, r#"{ from = "ftp" }"#).unwrap_err();
    assert!(e.contains("ebs-gp3"), "{e}");
}
