//! LLM instance types and token-based classes.

use super::*;
use crate::model::fleet::llm::{DecodeCurve, StepPoint, TokenCount};

fn parse(llm: &str, class: &str) -> Scenario {
    let text = format!(
        r#"name = "s"
duration = "1h"
[traffic]
rate = "10/s"
[[instance_type]]
name = "g5.xlarge"
llm = {llm}
[[pool]]
name = "p"
instance_type = "g5.xlarge"
instances = 1
[[class]]
name = "chat"
{class}
"#
    );
    Scenario::parse(&text, Path::new("t.toml")).unwrap_or_else(|e| panic!("{e}"))
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
    let p = t.llm.as_ref().expect("an llm profile");
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
    let p = s.instance_types[0].llm.as_ref().unwrap();
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
