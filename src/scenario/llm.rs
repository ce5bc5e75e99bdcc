//! The LLM service model's scenario keys: an instance type's `llm = { ... }` profile and a
//! class's `input_tokens` / `output_tokens` distributions. Stage one reads and checks them
//! here; stage two (validate.rs) checks that every token-based class runs on LLM types.

use super::reader::keys::{Duration, Key, Nested, OneOf, Positive, Whole};
use super::reader::{Located, Node, Reader};
use crate::model::fleet::llm::{
    DecodeCurve, LlmProfile, StepPoint, TokenCount, MAX_BATCH, MAX_TOKENS,
};

/// `llm = { ... }`'s keys.
const PREFILL_PER_TOKEN: Key<Duration> = Key::required(
    "prefill_per_token",
    Duration,
    "set the prefill time of one input token, such as prefill_per_token = \"0.2ms\"",
);
const PREFILL_OVERHEAD: Key<Duration> = Key::optional("prefill_overhead", Duration);
const DECODE_STEP: Key<Nested> = Key::required(
    "decode_step",
    Nested,
    "set the decode step time: { base = \"25ms\", per_sequence = \"0.4ms\" } or [{ batch = 1, time = \"25ms\" }, { batch = 32, time = \"45ms\" }]",
);
const MAX_BATCH_KEY: Key<Whole> = Key::required(
    "max_batch",
    Whole(1, MAX_BATCH as i64),
    "set the most requests batched together, such as max_batch = 32",
);

/// `decode_step = { base, per_sequence }`'s keys.
const BASE: Key<Duration> = Key::required(
    "base",
    Duration,
    "set the step time of a batch of one, such as base = \"25ms\"",
);
const PER_SEQUENCE: Key<Duration> = Key::required(
    "per_sequence",
    Duration,
    "set what each further request in the batch adds to a step, such as per_sequence = \"0.4ms\"",
);

/// A decode step point's keys, `{ batch, time }`.
const BATCH: Key<Whole> = Key::required(
    "batch",
    Whole(1, MAX_BATCH as i64),
    "set the batch size, such as batch = 1",
);
const TIME: Key<Duration> = Key::required(
    "time",
    Duration,
    "set the step time at that batch size, such as time = \"25ms\"",
);

/// An `llm` table as written: a token profile, or an engine from physics (it names a `model`).
#[derive(Debug, Clone)]
pub enum RawLlm {
    /// `{ prefill_per_token, decode_step, max_batch }`.
    Profile(LlmProfile),
    /// `{ model, gpu, tp, ... }`, resolved with the instance type.
    Engine(Box<super::llm_engine::RawEngine>),
}

/// `llm = { ... }`: an engine from physics if it names a `model`, else a token profile.
pub(super) fn read_llm(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    base_dir: &std::path::Path,
) -> Option<Located<RawLlm>> {
    let at = node.at();
    let engine = node.has_key(super::llm_engine::MODEL_KEY);
    let value = if engine {
        RawLlm::Engine(Box::new(super::llm_engine::read_engine(r, node, base_dir)?))
    } else {
        RawLlm::Profile(read_llm_profile(r, node)?.value)
    };
    Some(Located {
        value,
        path: at.path,
        span: at.span,
    })
}

/// `llm = { prefill_per_token, prefill_overhead, decode_step, max_batch }`.
fn read_llm_profile(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<LlmProfile>> {
    let at = node.at();
    let mut f = r.table(
        node,
        "an LLM profile such as { prefill_per_token = \"0.2ms\", decode_step = { base = \"25ms\", per_sequence = \"0.4ms\" }, max_batch = 32 }",
    )?;
    let prefill_per_token = f.read(r, &PREFILL_PER_TOKEN);
    let prefill_overhead = match f.read_given(r, &PREFILL_OVERHEAD) {
        Some(d) => d.map(|d| Some(d.value)),
        None => Some(None),
    };
    let decode_step = f.node(r, &DECODE_STEP).and_then(|n| read_decode_step(r, n));
    let max_batch = f.read(r, &MAX_BATCH_KEY);
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
        return read_linear_step(r, node);
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
    let mut points: Vec<(u64, u64)> = Vec::with_capacity(items.len());
    let mut ok = true;
    for item in items {
        match read_step_point(r, item, points.last().map(|p| p.0)) {
            Some(point) => points.push(point),
            None => ok = false,
        }
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

/// `{ base, per_sequence }`: a step time linear in the batch size.
fn read_linear_step(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<DecodeCurve> {
    let mut f = r.table(node, "a decode step table")?;
    let base = f.read(r, &BASE);
    let per = f.read(r, &PER_SEQUENCE);
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
    Some(DecodeCurve::linear(base.value, per?.value))
}

/// One point `{ batch, time }` of a decode step curve, as (batch, nanoseconds); its batch must
/// be above the previous point's, `prev`.
fn read_step_point(
    r: &mut Reader<'_>,
    item: Node<'_, '_>,
    prev: Option<u64>,
) -> Option<(u64, u64)> {
    let mut f = r.table(item, "a point such as { batch = 1, time = \"25ms\" }")?;
    let batch = f.read(r, &BATCH);
    let time = f.read(r, &TIME);
    f.finish(r);
    let (batch, time) = (batch?, time?);
    if time.value.as_nanos() == 0 {
        r.error(
            &time,
            "a decode step takes some time",
            Some("such as time = \"25ms\"".into()),
        );
        return None;
    }
    if let Some(prev) = prev.filter(|&prev| batch.value <= prev) {
        r.error(
            &batch,
            format!(
                "batch sizes must increase from point to point ({} follows {prev})",
                batch.value
            ),
            Some("list the points by increasing batch".into()),
        );
        return None;
    }
    Some((batch.value, time.value.as_nanos()))
}

const TOKEN_DISTRIBUTIONS: &[&str] = &["constant", "uniform", "lognormal"];
const TOKEN_DISTRIBUTION: Key<OneOf> = Key::choice("distribution", TOKEN_DISTRIBUTIONS);
const TOKEN_VALUE: Key<Whole> =
    Key::required("value", Whole(1, MAX_TOKENS as i64), "set value = 512");
const TOKEN_MIN: Key<Whole> = Key::required("min", Whole(1, MAX_TOKENS as i64), "set min = 100");
const TOKEN_MAX: Key<Whole> = Key::required("max", Whole(1, MAX_TOKENS as i64), "set max = 900");
const TOKEN_MEAN: Key<Positive> = Key::required("mean", Positive, "set mean = 600");
const TOKEN_CV: Key<Positive> = Key::required(
    "cv",
    Positive,
    "set the coefficient of variation, such as cv = 1.0",
);

/// A token count distribution: `{ distribution = "constant", value = 512 }`, `{ distribution
/// = "uniform", min = 100, max = 900 }` or `{ distribution = "lognormal", mean = 600, cv = 1.2 }`.
pub(super) fn read_tokens(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<TokenCount> {
    let mut f = r.table(
        node,
        "a token count table such as { distribution = \"lognormal\", mean = 600, cv = 1.0 }",
    )?;
    let kind = f.read(r, &TOKEN_DISTRIBUTION);
    let Some(kind) = kind else {
        f.skip_rest();
        return None;
    };
    let count = match kind.value {
        "constant" => f
            .read(r, &TOKEN_VALUE)
            .map(|v| TokenCount::Constant(v.value as u32)),
        "uniform" => {
            let lo = f.read(r, &TOKEN_MIN);
            let hi = f.read(r, &TOKEN_MAX);
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
            let mean = f.read(r, &TOKEN_MEAN);
            let cv = f.read(r, &TOKEN_CV);
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
