//! The LLM service model's scenario keys: an instance type's `llm = { ... }` profile and a
//! class's `input_tokens` / `output_tokens` distributions. Stage one reads and checks them
//! here; stage two (validate.rs) checks that every token-based class runs on LLM types.

use super::reader::{Located, Node, Reader};
use crate::model::fleet::llm::{
    DecodeCurve, LlmProfile, StepPoint, TokenCount, MAX_BATCH, MAX_TOKENS,
};

/// `llm = { prefill_per_token, prefill_overhead, decode_step, max_batch }`.
pub(super) fn read_llm_profile(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
) -> Option<Located<LlmProfile>> {
    let at = node.at();
    let mut f = r.table(
        node,
        "an LLM profile such as { prefill_per_token = \"0.2ms\", decode_step = { base = \"25ms\", per_sequence = \"0.4ms\" }, max_batch = 32 }",
    )?;
    let prefill_per_token = f
        .required(
            r,
            "prefill_per_token",
            "set the prefill time of one input token, such as prefill_per_token = \"0.2ms\"",
        )
        .and_then(|n| r.duration(&n));
    let prefill_overhead = match f.get("prefill_overhead") {
        Some(n) => r.duration(&n).map(|d| Some(d.value)),
        None => Some(None),
    };
    let decode_step = f
        .required(
            r,
            "decode_step",
            "set the decode step time: { base = \"25ms\", per_sequence = \"0.4ms\" } or [{ batch = 1, time = \"25ms\" }, { batch = 32, time = \"45ms\" }]",
        )
        .and_then(|n| read_decode_step(r, n));
    let max_batch = f
        .required(
            r,
            "max_batch",
            "set the most requests batched together, such as max_batch = 32",
        )
        .and_then(|n| r.integer(&n, 1, i64::from(MAX_BATCH)));
    f.finish(r);
    Some(Located {
        value: LlmProfile {
            prefill_per_token: prefill_per_token?.value.as_nanos(),
            prefill_overhead: prefill_overhead?.map_or(0, |d| d.as_nanos()),
            decode_step: decode_step?,
            max_batch: max_batch?.value as u32,
        },
        path: at.path,
        span: at.span,
    })
}

/// `{ base, per_sequence }`, or an array of `{ batch, time }` points with increasing batches.
fn read_decode_step(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<DecodeCurve> {
    if node.is_table() {
        let mut f = r.table(node, "a decode step table")?;
        let base = f
            .required(
                r,
                "base",
                "set the step time of a batch of one, such as base = \"25ms\"",
            )
            .and_then(|n| r.duration(&n));
        let per = f
            .required(
                r,
                "per_sequence",
                "set what each further request in the batch adds to a step, such as per_sequence = \"0.4ms\"",
            )
            .and_then(|n| r.duration(&n));
        f.finish(r);
        let base = base?;
        if base.value.as_nanos() == 0 {
            r.error(
                &base,
                "a decode step takes some time",
                Some("such as base = \"25ms\"".into()),
            );
            return None;
        }
        return Some(DecodeCurve::linear(base.value, per?.value));
    }
    let items = r.array(
        &node,
        "a decode step table { base, per_sequence } or an array of { batch, time } points",
    )?;
    if items.is_empty() {
        r.error(
            &node.at(),
            "the decode step curve has no points",
            Some("add points such as [{ batch = 1, time = \"25ms\" }, { batch = 32, time = \"45ms\" }]".into()),
        );
        return None;
    }
    let mut points = Vec::with_capacity(items.len());
    let mut ok = true;
    for item in items {
        let Some(mut f) = r.table(item, "a point such as { batch = 1, time = \"25ms\" }") else {
            ok = false;
            continue;
        };
        let batch = f
            .required(r, "batch", "set the batch size, such as batch = 1")
            .and_then(|n| r.integer(&n, 1, i64::from(MAX_BATCH)));
        let time = f
            .required(
                r,
                "time",
                "set the step time at that batch size, such as time = \"25ms\"",
            )
            .and_then(|n| r.duration(&n));
        f.finish(r);
        let (Some(batch), Some(time)) = (batch, time) else {
            ok = false;
            continue;
        };
        if time.value.as_nanos() == 0 {
            r.error(
                &time,
                "a decode step takes some time",
                Some("such as time = \"25ms\"".into()),
            );
            ok = false;
            continue;
        }
        if let Some(&(prev, _)) = points.last() {
            if batch.value <= prev {
                r.error(
                    &batch,
                    format!(
                        "batch sizes must increase from point to point ({} follows {prev})",
                        batch.value
                    ),
                    Some("list the points by increasing batch".into()),
                );
                ok = false;
                continue;
            }
        }
        points.push((batch.value, time.value.as_nanos()));
    }
    ok.then(|| {
        DecodeCurve::new(
            points
                .into_iter()
                .map(|(batch, nanos)| StepPoint {
                    batch: batch as u32,
                    nanos,
                })
                .collect(),
        )
    })
}

const TOKEN_DISTRIBUTIONS: &[&str] = &["constant", "uniform", "lognormal"];

/// A token count distribution: `{ distribution = "constant", value = 512 }`, `{ distribution
/// = "uniform", min = 100, max = 900 }` or `{ distribution = "lognormal", mean = 600, cv = 1.2 }`.
pub(super) fn read_tokens(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<TokenCount> {
    let mut f = r.table(
        node,
        "a token count table such as { distribution = \"lognormal\", mean = 600, cv = 1.0 }",
    )?;
    let kind = f
        .required(
            r,
            "distribution",
            &format!("choose one of: {}", TOKEN_DISTRIBUTIONS.join(", ")),
        )
        .and_then(|n| r.one_of(&n, TOKEN_DISTRIBUTIONS));
    let Some(kind) = kind else {
        f.skip_rest();
        return None;
    };
    let max = i64::from(MAX_TOKENS);
    let count = match kind.value {
        "constant" => f
            .required(r, "value", "set value = 512")
            .and_then(|n| r.integer(&n, 1, max))
            .map(|v| TokenCount::Constant(v.value as u32)),
        "uniform" => {
            let lo = f
                .required(r, "min", "set min = 100")
                .and_then(|n| r.integer(&n, 1, max));
            let hi = f
                .required(r, "max", "set max = 900")
                .and_then(|n| r.integer(&n, 1, max));
            match (lo, hi) {
                (Some(lo), Some(hi)) if lo.value <= hi.value => Some(TokenCount::Uniform {
                    min: lo.value as u32,
                    max: hi.value as u32,
                }),
                (Some(_), Some(hi)) => {
                    r.error(
                        &hi,
                        "max is below min",
                        Some("make max at least min".into()),
                    );
                    None
                }
                _ => None,
            }
        }
        _ => {
            let mean = f
                .required(r, "mean", "set mean = 600")
                .and_then(|n| r.positive(&n, true));
            let cv = f
                .required(
                    r,
                    "cv",
                    "set the coefficient of variation, such as cv = 1.0",
                )
                .and_then(|n| r.positive(&n, true));
            match (mean, cv) {
                (Some(m), Some(cv)) if m.value >= 1.0 => {
                    Some(TokenCount::lognormal(m.value, cv.value))
                }
                (Some(m), Some(_)) => {
                    r.error(
                        &m,
                        "a mean token count is at least 1",
                        Some("such as mean = 600".into()),
                    );
                    None
                }
                _ => None,
            }
        }
    };
    f.finish(r);
    count
}
