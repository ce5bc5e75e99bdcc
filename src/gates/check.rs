//! `fleetsim check`: each run's `[slo]` judged against its results.
//!
//! A run of one replication is judged on its value. A replicated run is judged on the
//! pessimistic end of its confidence interval (`high` for a limit, `low` for a floor, from
//! `aggregate.json`): the objective holds only if the whole interval is on the right side, so a
//! lucky set of seeds does not pass a policy whose true mean breaks the limit. A metric that is
//! undefined in some replication (a latency when nothing completed) fails its objective: there
//! is nothing to show that it holds. A run without `[slo]` is reported as such, and is not a
//! failure.

use std::fmt::Write as _;

use super::results::{Estimate, Metric, ResultFolder, ResultsError, RunResults};
use super::table::Table;
use crate::metrics::month_factor;
use crate::scenario::spec::{LatencyStatistic, Objective, SloSpec};

/// What an objective was judged on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Basis {
    /// The run's one value.
    Value,
    /// The end of the run's confidence interval on the failing side.
    Bound {
        /// `high` (for a limit) or `low` (for a floor).
        upper: bool,
        /// The interval's confidence level (0.95).
        confidence: f64,
    },
}

/// One objective of one run, judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// The objective.
    pub objective: Objective,
    /// The metric it limits.
    pub metric: Metric,
    /// Its limit (or floor), in the metric's unit.
    pub limit: f64,
    /// What the run measured, in the metric's unit (for the monthly cost: USD per 30 days).
    pub measured: Estimate,
    /// The value compared with the limit; `None` if undefined.
    pub judged: Option<f64>,
    /// What `judged` is.
    pub basis: Basis,
    /// True if the objective holds.
    pub holds: bool,
    /// Why it could not be judged, when it could not.
    pub note: Option<String>,
}

/// One run's objectives, judged; `None` for a run without `[slo]`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunCheck {
    /// The run's name.
    pub run: String,
    /// Its judgements, in `[slo]` key order.
    pub judgements: Option<Vec<Judgement>>,
}

/// Every run's objectives, judged.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    /// The runs, in the order given.
    pub runs: Vec<RunCheck>,
}

/// Judges each run's objectives against its results in `folder`. `runs` names the runs with
/// their `[slo]` (`None`: the run has none); a run missing from the folder is an error.
pub fn check(
    folder: &ResultFolder,
    runs: &[(&str, Option<&SloSpec>)],
) -> Result<CheckReport, ResultsError> {
    let mut checks = Vec::new();
    for (name, slo) in runs {
        let results = folder.run(name).ok_or_else(|| ResultsError::NoRun {
            path: folder.dir.clone(),
            run: name.to_string(),
            present: folder.runs.iter().map(|r| r.name.clone()).collect(),
        })?;
        checks.push(RunCheck {
            run: name.to_string(),
            judgements: slo.map(|slo| slo.objectives.iter().map(|o| judge(o, results)).collect()),
        });
    }
    Ok(CheckReport { runs: checks })
}

/// The metric an objective limits, its limit in the metric's unit, and whether it is a floor.
fn limit_of(objective: &Objective) -> (Metric, f64, bool) {
    match *objective {
        Objective::Latency { statistic, at_most } => {
            let metric = match statistic {
                LatencyStatistic::Mean => Metric::LatencyMeanMs,
                LatencyStatistic::P50 => Metric::LatencyP50Ms,
                LatencyStatistic::P90 => Metric::LatencyP90Ms,
                LatencyStatistic::P99 => Metric::LatencyP99Ms,
                LatencyStatistic::P999 => Metric::LatencyP999Ms,
            };
            (metric, at_most.as_secs_f64() * 1e3, false)
        }
        Objective::TimeToFirstToken { statistic, at_most } => {
            let metric = match statistic {
                LatencyStatistic::P50 => Metric::TtftP50Ms,
                _ => Metric::TtftP99Ms,
            };
            (metric, at_most.as_secs_f64() * 1e3, false)
        }
        Objective::ErrorRate { at_most } => (Metric::ErrorRatePct, at_most * 100.0, false),
        Objective::Cost { at_most_usd } | Objective::MonthlyCost { at_most_usd } => {
            (Metric::CostUsd, at_most_usd, false)
        }
        Objective::MinCompleted { at_least } => (Metric::Completed, at_least as f64, true),
    }
}

fn judge(objective: &Objective, results: &RunResults) -> Judgement {
    let (metric, limit, floor) = limit_of(objective);
    let mut measured = results.estimate(metric);
    let mut note = None;
    if let Objective::MonthlyCost { .. } = objective {
        match results.simulated_seconds {
            Some(secs) if secs > 0.0 => measured = measured.scaled(month_factor(secs)),
            _ => {
                note = Some("the simulated duration is unknown (no summary.json)".to_string());
                measured = Estimate::default();
            }
        }
    }
    let basis = match results.confidence {
        Some(confidence) => Basis::Bound {
            upper: !floor,
            confidence,
        },
        None => Basis::Value,
    };
    let judged = if measured.mean.is_none() || measured.n < results.replications {
        if note.is_none() {
            note = Some(if results.replications > 1 {
                format!(
                    "undefined in {} of {} replications",
                    results.replications - measured.n,
                    results.replications
                )
            } else {
                "undefined".to_string()
            });
        }
        None
    } else {
        match basis {
            // With one replication defined there is no interval: its value is all there is.
            Basis::Bound { upper: true, .. } => measured.high.or(measured.mean),
            Basis::Bound { upper: false, .. } => measured.low.or(measured.mean),
            Basis::Value => measured.mean,
        }
    };
    let holds = judged.is_some_and(|v| if floor { v >= limit } else { v <= limit });
    Judgement {
        objective: *objective,
        metric,
        limit,
        measured,
        judged,
        basis,
        holds,
        note,
    }
}

impl Judgement {
    /// How the table names the objective.
    pub fn title(&self) -> &'static str {
        match self.objective {
            Objective::Latency { statistic, .. } => match statistic {
                LatencyStatistic::Mean => "mean latency",
                LatencyStatistic::P50 => "p50 latency",
                LatencyStatistic::P90 => "p90 latency",
                LatencyStatistic::P99 => "p99 latency",
                LatencyStatistic::P999 => "p99.9 latency",
            },
            Objective::TimeToFirstToken { statistic, .. } => match statistic {
                LatencyStatistic::P50 => "TTFT p50",
                _ => "TTFT p99",
            },
            Objective::ErrorRate { .. } => "error rate",
            Objective::Cost { .. } => "cost",
            Objective::MonthlyCost { .. } => "monthly cost",
            Objective::MinCompleted { .. } => "completed",
        }
    }

    fn limit_cell(&self) -> String {
        let sign = if matches!(self.objective, Objective::MinCompleted { .. }) {
            "≥"
        } else {
            "≤"
        };
        format!("{sign} {}", self.metric.show(self.limit))
    }

    fn judged_cell(&self) -> String {
        match (self.judged, &self.note) {
            (None, Some(note)) => note.clone(),
            (None, None) => "undefined".into(),
            (Some(v), _) => match self.basis {
                Basis::Value => "value".into(),
                Basis::Bound { upper, confidence } => format!(
                    "{} {:.0} % bound {}",
                    if upper { "upper" } else { "lower" },
                    confidence * 100.0,
                    self.metric.show(v)
                ),
            },
        }
    }
}

impl CheckReport {
    /// True if every objective of every run holds (runs without `[slo]` hold nothing back).
    pub fn passed(&self) -> bool {
        self.judgements().all(|(_, j)| j.holds)
    }

    /// True if no run has an `[slo]`: there was nothing to check.
    pub fn is_empty(&self) -> bool {
        self.runs.iter().all(|r| r.judgements.is_none())
    }

    fn judgements(&self) -> impl Iterator<Item = (&str, &Judgement)> {
        self.runs.iter().flat_map(|r| {
            r.judgements
                .iter()
                .flatten()
                .map(move |j| (r.run.as_str(), j))
        })
    }

    /// One line: how many objectives hold, and which fail.
    pub fn verdict(&self) -> String {
        let total = self.judgements().count();
        let failed: Vec<String> = self
            .judgements()
            .filter(|(_, j)| !j.holds)
            .map(|(run, j)| format!("{run} {}", j.objective.key()))
            .collect();
        let runs = self.runs.len();
        let without = self.runs.iter().filter(|r| r.judgements.is_none()).count();
        let mut out = format!(
            "{total} objective{} in {runs} run{}",
            plural(total),
            plural(runs)
        );
        if without > 0 {
            let _ = write!(out, " ({without} without [slo])");
        }
        if total == 0 {
            out.push_str(": nothing to check");
        } else if failed.is_empty() {
            out.push_str(": all hold");
        } else {
            let _ = write!(
                out,
                ": {} fail{} ({})",
                failed.len(),
                if failed.len() == 1 { "s" } else { "" },
                failed.join(", ")
            );
        }
        out
    }

    fn table(&self) -> Table {
        let mut t = Table::new(&[
            "run",
            "objective",
            "limit",
            "measured",
            "judged on",
            "verdict",
        ]);
        for r in &self.runs {
            let Some(judgements) = &r.judgements else {
                let dash = || "—".to_string();
                t.rows.push(vec![
                    r.run.clone(),
                    dash(),
                    dash(),
                    dash(),
                    dash(),
                    "no SLO".into(),
                ]);
                continue;
            };
            for j in judgements {
                t.rows.push(vec![
                    r.run.clone(),
                    j.title().into(),
                    j.limit_cell(),
                    j.measured.show(j.metric),
                    j.judged_cell(),
                    if j.holds { "pass" } else { "FAIL" }.into(),
                ]);
            }
        }
        t
    }

    /// The table for the terminal, then the verdict line.
    pub fn text(&self) -> String {
        format!("{}{}\n", self.table().text(), self.verdict())
    }

    /// `slo.md`: a heading naming `scenario` and the outcome, the verdict line, and the table.
    pub fn markdown(&self, scenario: &str) -> String {
        let outcome = if self.passed() { "pass" } else { "FAIL" };
        format!(
            "## SLO check of `{scenario}`: {outcome}\n\n{}.\n\n{}",
            self.verdict(),
            self.table().markdown()
        )
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gates::fixtures::aggregate_run;
    use crate::metrics::fixtures::summary;
    use crate::time::SimDuration;

    fn spec(objectives: &[Objective]) -> SloSpec {
        SloSpec {
            latency_target: None,
            objectives: objectives.to_vec(),
        }
    }

    fn p99(secs: f64) -> Objective {
        Objective::Latency {
            statistic: LatencyStatistic::P99,
            at_most: SimDuration::from_secs_f64(secs),
        }
    }

    fn folder(runs: Vec<RunResults>) -> ResultFolder {
        ResultFolder {
            dir: "out".into(),
            runs,
        }
    }

    #[test]
    fn single_runs_are_judged_on_their_value_with_inclusive_limits() {
        // p99 250 ms; 3 rejected + 7 timed out of 1000 = 1 %; $2 over one hour = $1440 a month.
        let f = folder(vec![RunResults::from_summary(
            "base",
            &summary(990, Some(0.25), 2.0),
        )]);
        let slo = spec(&[
            p99(0.25),
            Objective::ErrorRate { at_most: 0.01 },
            Objective::MonthlyCost {
                at_most_usd: 1439.0,
            },
            Objective::MinCompleted { at_least: 991 },
        ]);
        let report = check(&f, &[("base", Some(&slo))]).unwrap();
        let holds: Vec<bool> = report.judgements().map(|(_, j)| j.holds).collect();
        assert_eq!(holds, [true, true, false, false]);
        let monthly = &report.runs[0].judgements.as_ref().unwrap()[2];
        assert_eq!(monthly.judged, Some(2.0 * 720.0));
        assert!(!report.passed());
        assert_eq!(
            report.verdict(),
            "4 objectives in 1 run: 2 fail (base monthly_cost, base min_completed)"
        );
    }

    /// `ttft_p99` limits `comparison.csv`'s `ttft_p99_ms` (an LLM fleet's objective); a run
    /// without token-based requests has none, and fails it as undefined.
    #[test]
    fn time_to_first_token_is_judged_on_its_column() {
        let ttft = |secs| Objective::TimeToFirstToken {
            statistic: LatencyStatistic::P99,
            at_most: SimDuration::from_secs_f64(secs),
        };
        let f = folder(vec![aggregate_run(
            "base",
            5,
            &[("ttft_p99_ms", 1800.0, 150.0)],
        )]);
        let report = check(&f, &[("base", Some(&spec(&[ttft(2.0)])))]).unwrap();
        let j = &report.runs[0].judgements.as_ref().unwrap()[0];
        assert_eq!(
            (j.metric, j.judged, j.holds),
            (Metric::TtftP99Ms, Some(1950.0), true)
        );
        assert!(report.text().contains("TTFT p99"), "{}", report.text());
        assert!(!check(&f, &[("base", Some(&spec(&[ttft(1.9)])))])
            .unwrap()
            .passed());
        let plain = folder(vec![RunResults::from_summary(
            "base",
            &summary(990, Some(0.25), 2.0),
        )]);
        let report = check(&plain, &[("base", Some(&spec(&[ttft(2.0)])))]).unwrap();
        let j = &report.runs[0].judgements.as_ref().unwrap()[0];
        assert_eq!((j.judged, j.holds), (None, false));
    }

    #[test]
    fn replicated_runs_are_judged_on_the_pessimistic_bound() {
        // p99 mean 1900 ms ± 150: the mean is under 2 s, the upper bound 2050 ms is not.
        let run = aggregate_run("base", 5, &[("latency_p99_ms", 1900.0, 150.0)]);
        let f = folder(vec![run]);
        let tight = spec(&[p99(2.0)]);
        let loose = spec(&[p99(2.1)]);
        let report = check(&f, &[("base", Some(&tight))]).unwrap();
        let j = &report.runs[0].judgements.as_ref().unwrap()[0];
        assert_eq!(j.judged, Some(2050.0));
        assert!(!report.passed());
        assert!(
            report.text().contains("upper 95 % bound 2050.0 ms"),
            "{}",
            report.text()
        );
        assert!(
            report.text().contains("1900.0 ± 150.0 ms"),
            "{}",
            report.text()
        );
        assert!(check(&f, &[("base", Some(&loose))]).unwrap().passed());
        // A floor is judged on the lower bound: completed 1000 ± 30 → 970.
        let f = folder(vec![aggregate_run(
            "base",
            5,
            &[("completed", 1000.0, 30.0)],
        )]);
        let floor = |n| spec(&[Objective::MinCompleted { at_least: n }]);
        assert!(check(&f, &[("base", Some(&floor(970)))]).unwrap().passed());
        assert!(!check(&f, &[("base", Some(&floor(971)))]).unwrap().passed());
    }

    #[test]
    fn undefined_metrics_fail_and_runs_without_slo_do_not() {
        let f = folder(vec![
            RunResults::from_summary("base", &summary(0, None, 2.0)),
            RunResults::from_summary("v", &summary(990, Some(0.1), 2.0)),
        ]);
        let slo = spec(&[p99(10.0)]);
        let report = check(&f, &[("base", Some(&slo)), ("v", None)]).unwrap();
        assert!(!report.passed());
        let j = &report.runs[0].judgements.as_ref().unwrap()[0];
        assert_eq!((j.judged, j.note.as_deref()), (None, Some("undefined")));
        assert!(report.text().contains("no SLO"));
        let only_v = check(&f, &[("base", None), ("v", Some(&slo))]).unwrap();
        assert!(only_v.passed());
        assert!(only_v.verdict().ends_with("(1 without [slo]): all hold"));
        let none = check(&f, &[("base", None)]).unwrap();
        assert!(none.passed() && none.is_empty());
        // A run the folder lacks is an error, not a pass.
        let e = check(&f, &[("gone", Some(&slo))]).unwrap_err();
        assert!(
            matches!(&e, ResultsError::NoRun { run, .. } if run == "gone"),
            "{e}"
        );
        let message = e.to_string();
        assert!(
            message.contains("`gone`") && message.contains("base, v"),
            "{e}"
        );
    }

    #[test]
    fn markdown_names_the_scenario_and_outcome() {
        let f = folder(vec![RunResults::from_summary(
            "base",
            &summary(990, Some(0.25), 2.0),
        )]);
        let slo = spec(&[Objective::Cost { at_most_usd: 1.5 }]);
        let md = check(&f, &[("base", Some(&slo))]).unwrap().markdown("shop");
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(lines[0], "## SLO check of `shop`: FAIL");
        assert_eq!(lines[2], "1 objective in 1 run: 1 fails (base cost).");
        assert_eq!(
            lines[6],
            "| base | cost | ≤ 1.50 USD | 2.00 USD | value | FAIL |"
        );
    }
}
