//! The columns of `comparison.csv`, in order: the runs side by side. The same list names the
//! metrics of `aggregate.json` (mean and 95 % interval of each column over replications), the
//! columns of `comparison.md`, of the terminal's compact table, of `summary.md` and of the
//! report's table, and the values the gates judge (`crate::gates::Metric` picks some by name).

use super::Unit::{Count, Fraction, Milliseconds as Ms, Number, Percent, Usd};
use super::{Unit, Value};
use crate::metrics::Summary;

/// One column of the comparison.
#[derive(Debug, Clone, Copy)]
pub struct ComparisonColumn {
    /// Its name: the CSV header and the key of `aggregate.json`; snake_case, its unit at the end.
    pub name: &'static str,
    /// What it is measured in.
    pub unit: Unit,
    /// Its header in the tables for people (`comparison.md`, the terminal, the report).
    pub title: &'static str,
    /// Its value in a run's summary, exact (as the CSV holds it).
    pub value: fn(&Summary) -> Value,
    /// For people, the value is multiplied by this (a fraction shown as a percentage)...
    pub scale: f64,
    /// ...and shown with this many decimals.
    pub decimals: usize,
    /// Shown in the compact table too (the terminal, after a run of several runs).
    pub compact: bool,
    /// One of the few headline numbers of the digest (`summary.md`).
    pub digest: bool,
    /// The title of its change against the base in %, if the tables for people show it.
    pub versus_base: Option<&'static str>,
    /// Only runs with an LLM engine have it (`Summary::engines`): a comparison (and an
    /// `aggregate.json`) of runs without one leaves it out, as they always did.
    pub engine_only: bool,
    /// Its definition, a formula over `summary.json`'s fields (`docs/metrics.md`).
    pub definition: &'static str,
}

/// A column shown with `decimals` decimals, in the full tables only.
const fn col(
    name: &'static str,
    unit: Unit,
    title: &'static str,
    decimals: usize,
    value: fn(&Summary) -> Value,
    definition: &'static str,
) -> ComparisonColumn {
    ComparisonColumn {
        name,
        unit,
        title,
        value,
        scale: 1.0,
        decimals,
        compact: false,
        digest: false,
        versus_base: None,
        engine_only: false,
        definition,
    }
}

impl ComparisonColumn {
    /// Shown to people multiplied by `scale`.
    const fn scaled(self, scale: f64) -> Self {
        ComparisonColumn { scale, ..self }
    }

    /// In the compact table too.
    const fn compact(self) -> Self {
        ComparisonColumn {
            compact: true,
            ..self
        }
    }

    /// In the digest too.
    const fn digest(self) -> Self {
        ComparisonColumn {
            digest: true,
            ..self
        }
    }

    /// Only in comparisons of runs with an LLM engine.
    const fn engine_only(self) -> Self {
        ComparisonColumn {
            engine_only: true,
            ..self
        }
    }

    /// True if a comparison of runs some of which have an engine (`engines`) shows it.
    pub fn shown_with(&self, engines: bool) -> bool {
        engines || !self.engine_only
    }

    /// Its change against the base shown too, under `title`.
    const fn versus_base(self, title: &'static str) -> Self {
        ComparisonColumn {
            versus_base: Some(title),
            ..self
        }
    }
}

/// `part / whole`, undefined when `whole` is 0.
fn ratio(part: f64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part / whole as f64)
}

/// Seconds as milliseconds.
fn ms(seconds: Option<f64>) -> Value {
    Value::Number(seconds.map(|s| s * 1e3))
}

/// A number always defined.
fn number(v: f64) -> Value {
    Value::Number(Some(v))
}

/// Every column after the run's name (`variant`), in order. One line per column.
#[rustfmt::skip]
pub const COMPARISON: &[ComparisonColumn] = &[
    // Request counts: one line per way a request ends (`RequestCounts`, `Failure::ALL`).
    col("arrived", Count, "arrived", 0, |s| Value::Count(s.requests.arrived), "`requests.arrived`: requests with `a < T`").digest(),
    col("completed", Count, "completed", 0, |s| Value::Count(s.requests.completed), "`requests.completed`").compact(),
    col("timed_out", Count, "timed out", 0, |s| Value::Count(s.requests.timed_out), "`requests.timed_out`"),
    col("rejected", Count, "rejected", 0, |s| Value::Count(s.requests.rejected), "`requests.rejected`"),
    col("no_healthy_target", Count, "no healthy target", 0, |s| Value::Count(s.requests.no_healthy_target), "`requests.no_healthy_target`"),
    col("server_error", Count, "server error", 0, |s| Value::Count(s.requests.server_error), "`requests.server_error`"),
    col("connect_failed", Count, "connect failed", 0, |s| Value::Count(s.requests.connect_failed), "`requests.connect_failed`"),
    col("interrupted", Count, "interrupted", 0, |s| Value::Count(s.requests.interrupted), "`requests.interrupted`"),
    col("in_flight_at_end", Count, "in flight at end", 0, |s| Value::Count(s.requests.in_flight_at_end), "`requests.in_flight_at_end`"),
    col("retries", Count, "retries", 0, |s| Value::Count(s.retries.balancer + s.retries.client), "`retries.balancer + retries.client`: tries and attempts sent again (a retry storm shows here)"),
    col("error_rate_pct", Percent, "errors [%]", 2, |s| Value::Number(ratio(s.requests.failed() as f64 * 100.0, s.requests.arrived)), "failed / arrived × 100, failed being the requests failed for every reason; empty when nothing arrived").compact().digest(),
    col("latency_mean_ms", Ms, "mean [ms]", 1, |s| ms(s.latency_seconds.mean), "`latency_seconds.mean` × 1000; empty when nothing completed"),
    col("latency_p50_ms", Ms, "p50 [ms]", 1, |s| ms(s.latency_seconds.p50), "`latency_seconds.p50` × 1000; empty when nothing completed").compact().digest(),
    col("latency_p90_ms", Ms, "p90 [ms]", 1, |s| ms(s.latency_seconds.p90), "`latency_seconds.p90` × 1000; empty when nothing completed"),
    col("latency_p99_ms", Ms, "p99 [ms]", 1, |s| ms(s.latency_seconds.p99), "`latency_seconds.p99` × 1000; empty when nothing completed").compact().digest().versus_base("Δ p99 [%]"),
    col("latency_p999_ms", Ms, "p99.9 [ms]", 1, |s| ms(s.latency_seconds.p999), "`latency_seconds.p999` × 1000; empty when nothing completed").compact(),
    // A fraction in the CSV (as in summary.json), a percentage for people.
    col("utilization", Fraction, "util. [%]", 1, |s| number(s.utilization), "`utilization`: busy / all slots of serving instances, time-averaged (a fraction; a percentage for people)").scaled(100.0).compact(),
    col("mean_instances", Number, "mean inst.", 1, |s| number(s.instances.mean), "`instances.mean`: time-average number of instances billed in full").compact().digest(),
    col("peak_instances", Count, "peak inst.", 0, |s| Value::Count(s.instances.max), "`instances.max`"),
    col("cost_usd", Usd, "cost [USD]", 2, |s| number(s.cost_usd.total), "`cost_usd.total`").compact().digest().versus_base("Δ cost [%]"),
    col("cost_per_1k_completed_usd", Usd, "USD per 1k completed", 4, |s| Value::Number(ratio(s.cost_usd.total * 1000.0, s.requests.completed)), "`cost_usd.total` × 1000 / `requests.completed`; empty when nothing completed"),
    col("monthly_cost_usd", Usd, "USD / month", 0, |s| number(s.cost_usd.monthly), "`cost_usd.monthly`: the run's cost projected to a 30-day month"),
    // Spot's share of the instance cost (not of balancers or transfer).
    col("spot_share_pct", Percent, "spot [%]", 1, spot_share, "`spot / (on_demand + spot) × 100` of `cost_usd.by_purchase_option`: spot's share of the instances' cost; empty when they cost nothing"),
    col("cost_per_good_request_usd", Usd, "USD per good req.", 6, |s| Value::Number(s.cost_usd.per_good_request), "`cost_usd.per_good_request`; empty without a latency target, or when no request met it"),
    // Token-based runs only (empty otherwise): time to first token and per output token.
    col("ttft_p50_ms", Ms, "TTFT p50 [ms]", 1, |s| ms(s.tokens.as_ref().and_then(|t| t.ttft_seconds.p50)), "`tokens.ttft_seconds.p50` × 1000; empty without a token-based class"),
    col("ttft_p99_ms", Ms, "TTFT p99 [ms]", 1, |s| ms(s.tokens.as_ref().and_then(|t| t.ttft_seconds.p99)), "`tokens.ttft_seconds.p99` × 1000; empty without a token-based class"),
    col("tpot_p50_ms", Ms, "TPOT p50 [ms]", 1, |s| ms(s.tokens.as_ref().and_then(|t| t.tpot_seconds.p50)), "`tokens.tpot_seconds.p50` × 1000; empty without a token-based class"),
    // Runs with an LLM engine only: the columns are absent from comparisons without one.
    col("queueing_p50_ms", Ms, "queueing p50 [ms]", 1, |s| ms(queueing(s).and_then(|q| q.p50)), "engine runs only: `tokens.queueing_seconds.p50` × 1000 (arrival to first scheduled); empty when nothing completed").engine_only(),
    col("queueing_p99_ms", Ms, "queueing p99 [ms]", 1, |s| ms(queueing(s).and_then(|q| q.p99)), "engine runs only: `tokens.queueing_seconds.p99` × 1000; empty when nothing completed").engine_only(),
    col("generated_tokens_per_second", Number, "generated tok/s", 1, generated_per_second, "engine runs only: `Σ engines.by_instance_type.<type>.generated_tokens_per_second`: the fleet's output tokens per second after the warm-up").engine_only(),
    col("preemptions", Count, "preemptions", 0, |s| Value::Count(s.engines.as_ref().map_or(0, |e| e.preemptions)), "engine runs only: `engines.preemptions`").engine_only(),
];

fn queueing(s: &Summary) -> Option<crate::metrics::LatencySummary> {
    s.tokens.as_ref().and_then(|t| t.queueing_seconds)
}

fn generated_per_second(s: &Summary) -> Value {
    Value::Number(s.engines.as_ref().map(|e| {
        e.by_instance_type
            .values()
            .map(|t| t.generated_tokens_per_second)
            .sum()
    }))
}

fn spot_share(s: &Summary) -> Value {
    let p = s.cost_usd.by_purchase_option;
    let instances = p.on_demand + p.spot;
    Value::Number((instances > 0.0).then(|| p.spot * 100.0 / instances))
}

impl ComparisonColumn {
    /// The column named `name`.
    pub fn named(name: &str) -> Option<&'static ComparisonColumn> {
        COMPARISON.iter().find(|c| c.name == name)
    }
}

/// The value for `s` of the column named `name` (`None` when undefined or no such column).
pub fn comparison_value(s: &Summary, name: &str) -> Option<f64> {
    ComparisonColumn::named(name).and_then(|c| (c.value)(s).as_f64())
}

/// Each column's name and value for `s` (undefined values `None`), in column order; the
/// engine-only columns only if `s` is a run with an LLM engine.
pub fn comparison_values(s: &Summary) -> Vec<(&'static str, Option<f64>)> {
    COMPARISON
        .iter()
        .filter(|c| c.shown_with(s.engines.is_some()))
        .map(|c| (c.name, (c.value)(s).as_f64()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Failure;

    #[test]
    fn names_are_unique_snake_case() {
        for (i, c) in COMPARISON.iter().enumerate() {
            assert!(
                c.name
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_'),
                "{}",
                c.name
            );
            assert!(
                !c.name.ends_with("_ci95"),
                "{}: a half-width's suffix",
                c.name
            );
            assert!(
                COMPARISON[..i].iter().all(|d| d.name != c.name),
                "{} twice",
                c.name
            );
            assert!(!c.definition.is_empty(), "{} has no definition", c.name);
        }
    }

    /// A new way for a request to end is a column of its own, in `Failure::ALL`'s order.
    #[test]
    fn every_failure_reason_is_a_column_in_order() {
        let names: Vec<&str> = COMPARISON.iter().map(|c| c.name).collect();
        let at: Vec<usize> = Failure::ALL
            .iter()
            .map(|f| {
                names
                    .iter()
                    .position(|n| *n == f.name())
                    .unwrap_or_else(|| panic!("{}", f.name()))
            })
            .collect();
        assert!(at.windows(2).all(|w| w[1] == w[0] + 1), "{at:?}");
    }

    /// A unit said in the name is the unit of the table (`_ms`, `_pct`, `_usd`).
    #[test]
    fn names_end_with_their_unit() {
        for c in COMPARISON {
            let by_name = match c.name.rsplit('_').next() {
                Some("ms") => Some(Unit::Milliseconds),
                Some("pct") => Some(Unit::Percent),
                Some("usd") => Some(Unit::Usd),
                _ => None,
            };
            if let Some(u) = by_name {
                assert_eq!(c.unit, u, "{}", c.name);
            }
        }
    }
}
