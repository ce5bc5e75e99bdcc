//! The token-based LLM service model in the whole simulator, by hand (micro-cases asserted
//! exactly: periodic arrivals, constant token counts, integer-nanosecond times).
//!
//! The base case: one GPU, prefill 10 ms per input token, decode step 100 ms alone and 200 ms
//! for a batch of two. Requests arrive at 0 and 0.5 s (then the rate drops to 0), each with 10
//! input and 11 output tokens (prefill 100 ms, then 10 decode steps):
//!
//! ```text
//!  A: prefill 0→0.1 (first token), decodes alone 0.1→0.5 (4 steps, 6 to go)
//!  B: arrives 0.5, prefill 0.5→0.6 (A's decoding pauses; B's first token at 0.6)
//!  A and B decode together at 200 ms a step from 0.6: A's 6 steps end at 1.8 (B did 6)
//!  B alone again at 100 ms a step: its last 4 end at 2.2
//! ```
//! A: latency 1.8 s, TTFT 0.1 s, TPOT (1.8 − 0.1)/10 = 0.17 s. B: latency 1.7 s, TTFT 0.1 s,
//! TPOT (2.2 − 0.6)/10 = 0.16 s. Alone, A would have ended at 0.1 + 10 × 0.1 = 1.1 s: B's
//! prefill pause (0.1 s) and 6 shared steps at twice the time (0.6 s) move it to 1.8 s.

use crate::common::{repo, run, scenario};
use fleetsim::metrics::TokenSummary;

fn gpu(max_batch: u32, top: &str, extra: &str) -> String {
    format!(
        r#"
name = "llm_micro"
duration = "3s"
{top}
[traffic]
process = "periodic"
profile = {{ kind = "steps", steps = [{{ at = "0s", rate = "2/s" }}, {{ at = "1s", rate = "0/s" }}] }}
[[instance_type]]
name = "gpu"
price = "$3.6/h"
llm = {{ prefill_per_token = "10ms", max_batch = {max_batch}, decode_step = [{{ batch = 1, time = "100ms" }}, {{ batch = 2, time = "200ms" }}] }}
[[pool]]
name = "p"
instance_type = "gpu"
instances = 1
{extra}
[[class]]
name = "chat"
input_tokens = {{ distribution = "constant", value = 10 }}
output_tokens = {{ distribution = "constant", value = 11 }}
"#
    )
}

fn tokens(t: Option<TokenSummary>) -> TokenSummary {
    t.expect("token metrics of a token-based class")
}

#[test]
fn a_second_request_slows_the_first_exactly() {
    let (s, _) = run(&scenario(&gpu(4, "", "")), 1);
    assert_eq!((s.requests.arrived, s.requests.completed), (2, 2));
    assert_eq!(s.latency_seconds.max, Some(1.8));
    assert_eq!(s.latency_seconds.mean, Some(1.75));
    let t = tokens(s.tokens);
    assert_eq!(t.ttft_seconds.mean, Some(0.1));
    assert_eq!(t.ttft_seconds.max, Some(0.1));
    assert_eq!(t.tpot_seconds.max, Some(0.17));
    assert_eq!(t.tpot_seconds.mean, Some(0.165));
    assert_eq!(t.output_tokens, 22);
    // 22 tokens over the 3 s run.
    assert_eq!(t.output_tokens_per_second, 22.0 / 3.0);
    // Per class and per route: the same two requests.
    assert_eq!(tokens(s.by_class["chat"].tokens), t);
    assert_eq!(tokens(s.by_route["p"].tokens), t);
    // Busy slot-seconds 1.8 + 1.7 of 4 slots × 3 s.
    assert!((s.utilization - 3.5 / 12.0).abs() < 1e-12);
}

#[test]
fn max_batch_one_queues_the_second_request() {
    // A alone: first token 0.1, last 0.1 + 10 × 0.1 = 1.1. B waits in the queue from 0.5 to
    // 1.1, prefills to 1.2 (TTFT 0.7), decodes alone to 2.2 (latency 1.7).
    let (s, _) = run(&scenario(&gpu(1, "", "")), 1);
    assert_eq!(s.requests.completed, 2);
    assert_eq!(s.latency_seconds.max, Some(1.7));
    assert_eq!(s.latency_seconds.mean, Some(1.4));
    let t = tokens(s.tokens);
    assert_eq!(t.ttft_seconds.max, Some(0.7));
    assert_eq!(t.ttft_seconds.mean, Some(0.4));
    assert_eq!(t.tpot_seconds.max, Some(0.1));
    assert_eq!(t.tpot_seconds.mean, Some(0.1));
}

#[test]
fn cancel_at_the_deadline_frees_the_batch_for_the_others() {
    // Deadlines: A 1.65 s, B 2.15 s. At 1.65 A has 4 + (1.65 − 0.6)/0.2 = 9.25 of its 10 steps
    // and is cancelled; B has 5.25, and alone its 4.75 left take 0.475 s: it ends at 2.125,
    // before its deadline: latency 1.625, TPOT (2.125 − 0.6)/10 = 0.1525.
    let (s, _) = run(
        &scenario(&gpu(4, "timeout = \"1.65s\"\non_timeout = \"cancel\"", "")),
        1,
    );
    assert_eq!((s.requests.completed, s.requests.timed_out), (1, 1));
    assert_eq!(s.latency_seconds.max, Some(1.625));
    let t = tokens(s.tokens);
    assert_eq!(t.tpot_seconds.max, Some(0.1525));
    assert_eq!(t.output_tokens, 11);
}

#[test]
fn keep_serving_after_the_deadline_keeps_the_batch_as_it_was() {
    // The clients give up at 1.65 and 2.15 s; the GPU still decodes both to 1.8 and 2.2 s, so B
    // misses its deadline too (it would have made it had A been cancelled).
    let (s, _) = run(&scenario(&gpu(4, "timeout = \"1.65s\"", "")), 1);
    assert_eq!((s.requests.completed, s.requests.timed_out), (0, 2));
    assert!(s.tokens.expect("a token-based class").ttft_seconds.count == 0);
    // Busy until 1.8 and 2.2 s, as without a timeout.
    assert!((s.utilization - 3.5 / 12.0).abs() < 1e-12);
}

#[test]
fn finishing_exactly_at_the_deadline_completes() {
    // Deadline 1.8 s: A's last token is at 1.8 s exactly, as its deadline event.
    let (s, _) = run(
        &scenario(&gpu(4, "timeout = \"1.8s\"\non_timeout = \"cancel\"", "")),
        1,
    );
    assert_eq!(s.requests.completed, 2);
}

#[test]
fn a_crash_fails_the_whole_batch_and_conserves_requests() {
    // The GPU's host dies at 1 s with both requests in its batch.
    let fault = "[[fault]]\npool = \"p\"\nkind = \"crash\"\nat = \"1s\"\nduration = \"1s\"";
    let (s, _) = run(&scenario(&gpu(4, "", fault)), 1);
    assert_eq!(s.requests.arrived, 2);
    assert_eq!(s.requests.completed, 0);
    assert_eq!(s.requests.interrupted, 2);
    assert!(s.requests.is_conserved());
}

#[test]
fn flat_curve_and_huge_batch_decode_without_interference() {
    // step(b) = 50 ms for every b, no prefill time: each request's decode is exactly
    // (11 − 1) × 50 ms = 0.5 s, whatever overlaps it: TPOT exactly 50 ms for every request.
    let text = gpu(4, "", "")
        .replace("prefill_per_token = \"10ms\"", "prefill_per_token = \"0s\"")
        .replace(
            "decode_step = [{ batch = 1, time = \"100ms\" }, { batch = 2, time = \"200ms\" }]",
            "decode_step = { base = \"50ms\", per_sequence = \"0s\" }",
        )
        .replace("max_batch = 4", "max_batch = 10000")
        .replace("rate = \"2/s\"", "rate = \"40/s\"");
    let (s, _) = run(&scenario(&text), 1);
    assert_eq!(s.requests.completed, 40);
    let t = tokens(s.tokens);
    assert_eq!(t.tpot_seconds.max, Some(0.05));
    assert_eq!(t.tpot_seconds.mean, Some(0.05));
    assert_eq!(s.latency_seconds.max, Some(0.5));
}

#[test]
fn llm_batching_scenario_is_deterministic_and_conserves() {
    let path = repo().join("scenarios/llm_batching.toml");
    let set = fleetsim::ScenarioSet::load(&path).expect("the shipped scenario parses");
    for (name, s) in set.runs() {
        let (a, _) = run(s, 7);
        let (b, _) = run(s, 7);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap(),
            "{name}"
        );
        assert!(a.requests.is_conserved(), "{name}");
        let t = a.tokens.expect("a token-based scenario");
        assert!(t.ttft_seconds.count > 0, "{name}");
    }
}

#[test]
fn scenarios_without_token_classes_have_no_token_fields() {
    let text = gpu(4, "", "")
        .replace("llm = {", "concurrency = 4\n# llm = {")
        .replace(
            "input_tokens = { distribution = \"constant\", value = 10 }\noutput_tokens = { distribution = \"constant\", value = 11 }",
            "service = { distribution = \"constant\", value = \"1s\" }",
        );
    let (s, _) = run(&scenario(&text), 1);
    let json = serde_json::to_string(&s).unwrap();
    assert!(!json.contains("ttft"), "{json}");
    assert!(s.by_class["chat"].tokens.is_none());
}
