//! The `[slo]` table: the service-level objectives `fleetsim check` judges a run against
//! (`docs/scenario-format.md`, "SLOs"). Every key is optional; the table needs at least one.
//!
//! It must not know how objectives are judged: it reads them into a
//! [`SloSpec`](crate::scenario::spec::SloSpec), a description that the run ignores.

use super::reader::keys::{Duration, Fraction, Key, Usd, Whole};
use super::reader::{Fields, Located, Node, Reader};
use crate::scenario::spec::{LatencyStatistic, Objective, SloSpec};

const ERROR_RATE: Key<Fraction> = Key::optional("error_rate", Fraction);
const COST: Key<Usd> = Key::optional("cost", Usd);
const MONTHLY_COST: Key<Usd> = Key::optional("monthly_cost", Usd);
const MIN_COMPLETED: Key<Whole> = Key::optional("min_completed", Whole(0, i64::MAX));
const LATENCY_TARGET: Key<Duration> = Key::optional("latency_target", Duration);

/// Reads `[slo]`; `None` (with the problems recorded) if any key is broken or none is given.
pub(super) fn read_slo(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<SloSpec>> {
    let at = node.at();
    let mut f = r.table(node, "a table such as [slo] p99 = \"2s\"")?;
    let (mut objectives, mut ok) = latency_objectives(r, &mut f);
    let mut push = |objective: Option<Objective>| match objective {
        Some(o) => objectives.push(o),
        None => ok = false,
    };
    if let Some(v) = f.read_given(r, &ERROR_RATE) {
        push(v.map(|v| Objective::ErrorRate { at_most: v.value }));
    }
    if let Some(v) = f.read_given(r, &COST) {
        push(v.map(|v| Objective::Cost {
            at_most_usd: v.value,
        }));
    }
    if let Some(v) = f.read_given(r, &MONTHLY_COST) {
        push(v.map(|v| Objective::MonthlyCost {
            at_most_usd: v.value,
        }));
    }
    if let Some(v) = f.read_given(r, &MIN_COMPLETED) {
        push(v.map(|v| Objective::MinCompleted { at_least: v.value }));
    }
    let latency_target = match f.read_given(r, &LATENCY_TARGET) {
        Some(Some(d)) if d.value.is_zero() => {
            r.error(
                &d,
                "a latency target must be longer than 0s: no request is that fast",
                Some("such as latency_target = \"2s\"".into()),
            );
            ok = false;
            None
        }
        Some(Some(d)) => Some(d.value),
        Some(None) => {
            ok = false;
            None
        }
        None => None,
    };
    f.finish(r);
    if ok && objectives.is_empty() && latency_target.is_none() {
        r.error(
            &at,
            "[slo] sets no objective",
            Some(format!(
                "set at least one of {}, such as p99 = \"2s\"; or remove [slo]",
                Objective::KEYS.join(", ")
            )),
        );
        return None;
    }
    ok.then_some(at.to(SloSpec {
        objectives,
        latency_target,
    }))
}

/// The latency limits (`mean`, `p50`, ..., in [`LatencyStatistic::ALL`]'s order, then
/// `ttft_p50` and `ttft_p99`), and false if one is broken or 0 (reported).
fn latency_objectives(r: &mut Reader<'_>, f: &mut Fields<'_, '_>) -> (Vec<Objective>, bool) {
    let mut objectives = Vec::new();
    let mut ok = true;
    let latency = LatencyStatistic::ALL.map(|s| (s, false));
    let ttft = LatencyStatistic::TTFT.map(|s| (s, true));
    for (statistic, first_token) in latency.into_iter().chain(ttft) {
        let key = if first_token {
            statistic.ttft_key()
        } else {
            statistic.key()
        };
        let Some(d) = f.read_given(r, &Key::optional(key, Duration)) else {
            continue;
        };
        match d {
            Some(d) if d.value.is_zero() => {
                r.error(
                    &d,
                    "a latency limit must be longer than 0s: no request is that fast",
                    Some(format!("such as {key} = \"2s\"")),
                );
                ok = false;
            }
            Some(d) if first_token => objectives.push(Objective::TimeToFirstToken {
                statistic,
                at_most: d.value,
            }),
            Some(d) => objectives.push(Objective::Latency {
                statistic,
                at_most: d.value,
            }),
            None => ok = false,
        }
    }
    (objectives, ok)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::scenario::spec::{LatencyStatistic, Objective, SloSpec};
    use crate::scenario::{Scenario, ScenarioSet};
    use crate::time::SimDuration;

    /// A whole scenario, without `[slo]`.
    const HEAD: &str = r#"name = "s"
duration = "1h"
[traffic]
rate = "10/s"
[[instance_type]]
name = "gpu"
concurrency = 2
price = "$1/h"
[[pool]]
name = "p"
instance_type = "gpu"
instances = 1
[[class]]
name = "a"
pool = "p"
service = { distribution = "exponential", mean = "1s" }
"#;

    fn slo(table: &str) -> Option<SloSpec> {
        let text = format!("{HEAD}{table}");
        match Scenario::parse(&text, Path::new("t.toml")) {
            Ok(s) => s.slo,
            Err(e) => panic!("{e}\n{text}"),
        }
    }

    /// `path: message` of each problem.
    fn problems(table: &str) -> Vec<String> {
        let text = format!("{HEAD}{table}");
        match Scenario::parse(&text, Path::new("t.toml")) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => e
                .diagnostics
                .iter()
                .map(|d| format!("{}: {}", d.path, d.message))
                .collect(),
        }
    }

    #[test]
    fn every_key_in_key_order_whatever_the_file_order() {
        let spec = slo(r#"[slo]
min_completed = 1000
ttft_p99 = "2s"
ttft_p50 = "300ms"
monthly_cost = "$8,000"
cost = 12.5
error_rate = "0.1%"
p999 = "5s"
p99 = "2s"
p90 = "1500ms"
p50 = "1s"
mean = "800ms"
"#)
        .unwrap();
        let latency = |statistic, ms| Objective::Latency {
            statistic,
            at_most: SimDuration::from_millis(ms),
        };
        assert_eq!(
            spec.objectives,
            [
                latency(LatencyStatistic::Mean, 800),
                latency(LatencyStatistic::P50, 1000),
                latency(LatencyStatistic::P90, 1500),
                latency(LatencyStatistic::P99, 2000),
                latency(LatencyStatistic::P999, 5000),
                Objective::TimeToFirstToken {
                    statistic: LatencyStatistic::P50,
                    at_most: SimDuration::from_millis(300),
                },
                Objective::TimeToFirstToken {
                    statistic: LatencyStatistic::P99,
                    at_most: SimDuration::from_millis(2000),
                },
                Objective::ErrorRate { at_most: 0.001 },
                Objective::Cost { at_most_usd: 12.5 },
                Objective::MonthlyCost {
                    at_most_usd: 8000.0
                },
                Objective::MinCompleted { at_least: 1000 },
            ]
        );
        let keys: Vec<&str> = spec.objectives.iter().map(|o| o.key()).collect();
        assert_eq!(keys, Objective::KEYS);
        // A fraction may be a bare number; no [slo] is no SLO.
        assert_eq!(
            slo("[slo]\nerror_rate = 0.02\n").unwrap().objectives,
            [Objective::ErrorRate { at_most: 0.02 }]
        );
        assert_eq!(slo(""), None);
    }

    #[test]
    fn bad_values_are_all_reported_where_they_are() {
        assert_eq!(
            problems(
                r#"[slo]
p99 = 2
p50 = "0s"
ttft_p99 = "0s"
error_rate = 5
cost = "8000"
monthly_cost = "$8,00"
min_completed = -1
p95 = "1s"
ttft_p90 = "1s"
"#
            ),
            [
                "slo.p99: expected a duration such as \"90s\", \"5m\" or \"1h\", found the integer 2",
                "slo.p50: a latency limit must be longer than 0s: no request is that fast",
                "slo.ttft_p99: a latency limit must be longer than 0s: no request is that fast",
                "slo.error_rate: expected a fraction from 0 to 1, found 5",
                "slo.cost: expected an amount of dollars such as \"$8000\", found \"8000\" (start it with $)",
                "slo.monthly_cost: \"$8,00\" is not an amount of dollars: write digits, with commas only between groups of three, such as \"$8000\" or \"$8,000.50\"",
                "slo.min_completed: expected a whole number from 0 to 9223372036854775807, found -1",
                "slo.p95: unknown field `p95`",
                "slo.ttft_p90: unknown field `ttft_p90`",
            ]
        );
        assert_eq!(problems("[slo]\n"), ["slo: [slo] sets no objective"]);
        // A root key must come before the first table.
        let e = Scenario::parse(&format!("slo = \"2s\"\n{HEAD}"), Path::new("t.toml")).unwrap_err();
        assert_eq!(
            e.diagnostics[0].message,
            "expected a table such as [slo] p99 = \"2s\", found the string \"2s\""
        );
        // The span of a string starts inside its quotes.
        assert_eq!(e.diagnostics[0].position, Some((1, 8)));
    }

    #[test]
    fn a_variant_overrides_one_objective_and_keeps_the_others() {
        let text = format!(
            "{HEAD}[slo]\np99 = \"2s\"\ncost = \"$5\"\n\n[[variant]]\nname = \"strict\"\nslo.p99 = \"1s\"\n\n[[variant]]\nname = \"same\"\npool = [{{ name = \"p\", instances = 2 }}]\n"
        );
        let set = ScenarioSet::parse(&text, Path::new("t.toml")).unwrap_or_else(|e| panic!("{e}"));
        let p99 = |s: &Scenario| s.slo.as_ref().unwrap().objectives[0];
        assert_eq!(
            p99(&set.variants[0].scenario),
            Objective::Latency {
                statistic: LatencyStatistic::P99,
                at_most: SimDuration::from_secs(1)
            }
        );
        assert_eq!(
            set.variants[0].scenario.slo.as_ref().unwrap().objectives[1],
            Objective::Cost { at_most_usd: 5.0 }
        );
        assert_eq!(set.variants[1].scenario.slo, set.base.slo);
    }
}
