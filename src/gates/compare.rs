//! `fleetsim compare`: two result folders side by side, and whether the new one regressed.
//!
//! For every run present in both folders (by name), the headline metrics (p50 and p99 latency,
//! error rate, cost, mean instances, completed requests, and any other metric given a
//! threshold) with their change. When both sides were replicated the change is tested against
//! the noise with Welch's t-test at the intervals' confidence ([`super::significance`]);
//! otherwise every change is taken at face value ("no noise estimate").
//!
//! A threshold (`--max-regression p99=10%,cost=5%,error_rate=0.5`) is exceeded by a change in
//! the worse direction (up for latency, errors, cost and instances; down for completed requests)
//! larger than it, and which is significant (or has no noise estimate). `N%` is relative to the
//! base's value; a bare number is in the metric's own unit: milliseconds for latency, USD for
//! cost, *percentage points* for the error rate (itself a percentage), requests for completed,
//! instances for mean instances.

use std::fmt::Write as _;
use std::str::FromStr;

use super::results::{Estimate, Metric, ResultFolder};
use super::significance::{welch, Sample, Welch};
use super::table::Table;

/// The metrics every comparison shows, in the order shown (other metrics are shown when given
/// a threshold, in [`SHOWN_ORDER`]).
const HEADLINE: [Metric; 6] = [
    Metric::LatencyP50Ms,
    Metric::LatencyP99Ms,
    Metric::ErrorRatePct,
    Metric::CostUsd,
    Metric::MeanInstances,
    Metric::Completed,
];

/// The order of rows: latency, errors, money, fleet, throughput.
const SHOWN_ORDER: [Metric; 9] = [
    Metric::LatencyMeanMs,
    Metric::LatencyP50Ms,
    Metric::LatencyP90Ms,
    Metric::LatencyP99Ms,
    Metric::LatencyP999Ms,
    Metric::ErrorRatePct,
    Metric::CostUsd,
    Metric::MeanInstances,
    Metric::Completed,
];

/// Short names of `--max-regression` (the `comparison.csv` column names are accepted too).
const SHORT_NAMES: [(&str, Metric); 9] = [
    ("mean", Metric::LatencyMeanMs),
    ("p50", Metric::LatencyP50Ms),
    ("p90", Metric::LatencyP90Ms),
    ("p99", Metric::LatencyP99Ms),
    ("p999", Metric::LatencyP999Ms),
    ("error_rate", Metric::ErrorRatePct),
    ("cost", Metric::CostUsd),
    ("instances", Metric::MeanInstances),
    ("completed", Metric::Completed),
];

/// How large a worsening a threshold allows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    /// This percentage of the base's value (`"10%"`).
    Relative {
        /// The percentage.
        percent: f64,
    },
    /// This amount in the metric's unit (`"0.5"`; for the error rate, percentage points).
    Absolute {
        /// The amount.
        amount: f64,
    },
}

/// The `--max-regression` thresholds: at most one per metric.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Thresholds(pub Vec<(Metric, Limit)>);

impl Thresholds {
    /// The threshold of `metric`, if any.
    pub fn of(&self, metric: Metric) -> Option<Limit> {
        self.0.iter().find(|(m, _)| *m == metric).map(|(_, l)| *l)
    }
}

/// A `--max-regression` that does not read as thresholds.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ThresholdsError {
    /// An item without `=`.
    #[error("\"{item}\" is not METRIC=LIMIT: write such as p99=10%,cost=5%,error_rate=0.5")]
    Form {
        /// The item.
        item: String,
    },
    /// A metric that has no threshold.
    #[error("unknown metric \"{key}\": use one of {}", metric_names())]
    UnknownMetric {
        /// The name given.
        key: String,
    },
    /// A metric given two thresholds.
    #[error("\"{key}\" is given twice")]
    Twice {
        /// The metric's name as given the second time.
        key: String,
    },
    /// A limit that is not a percentage or an amount of at least 0.
    #[error(
        "\"{value}\" (for {key}) is not a limit: write a percentage of the base such as 10%, or an \
         amount of at least 0 in the metric's unit{}",
        if *.percentage_points { " (percentage points for error_rate)" } else { "" }
    )]
    NotALimit {
        /// The limit given.
        value: String,
        /// Its metric's name as given.
        key: String,
        /// Whether the metric is the error rate, whose amounts are percentage points.
        percentage_points: bool,
    },
}

/// The short names of `--max-regression`, for messages.
fn metric_names() -> String {
    SHORT_NAMES
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

impl FromStr for Thresholds {
    type Err = ThresholdsError;

    /// Parses `p99=10%,cost=5%,error_rate=0.5`.
    fn from_str(text: &str) -> Result<Thresholds, ThresholdsError> {
        let mut out: Vec<(Metric, Limit)> = Vec::new();
        for item in text.split(',').map(str::trim) {
            let Some((key, value)) = item.split_once('=') else {
                return Err(ThresholdsError::Form {
                    item: item.to_string(),
                });
            };
            let key = key.trim();
            let metric = SHORT_NAMES
                .iter()
                .find(|(n, m)| *n == key || m.column() == key)
                .map(|(_, m)| *m)
                .ok_or_else(|| ThresholdsError::UnknownMetric {
                    key: key.to_string(),
                })?;
            if out.iter().any(|(m, _)| *m == metric) {
                return Err(ThresholdsError::Twice {
                    key: key.to_string(),
                });
            }
            let value = value.trim();
            let (number, relative) = match value.strip_suffix('%') {
                Some(n) => (n.trim(), true),
                None => (value, false),
            };
            let amount: f64 = number
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| ThresholdsError::NotALimit {
                    value: value.to_string(),
                    key: key.to_string(),
                    percentage_points: metric == Metric::ErrorRatePct,
                })?;
            let limit = if relative {
                Limit::Relative { percent: amount }
            } else {
                Limit::Absolute { amount }
            };
            out.push((metric, limit));
        }
        Ok(Thresholds(out))
    }
}

/// Whether a change lies outside the noise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Noise {
    /// Welch's test rejects equal means.
    Significant(Welch),
    /// Welch's test does not: the change may be noise.
    WithinNoise(Welch),
    /// A side was not replicated (or the metric is undefined in too many replications): no
    /// estimate of the noise.
    NoEstimate,
}

/// One metric of one run, base against new.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The metric.
    pub metric: Metric,
    /// The base folder's value.
    pub base: Estimate,
    /// The new folder's value.
    pub new: Estimate,
    /// `new − base` (of the means), when both are defined.
    pub difference: Option<f64>,
    /// `(new − base) / |base| × 100`, when both are defined (±∞ for a change from 0).
    pub relative_pct: Option<f64>,
    /// Whether the change lies outside the noise.
    pub noise: Noise,
    /// Its threshold, if given.
    pub limit: Option<Limit>,
    /// True if the change worsens the metric by more than its threshold, at face value.
    pub beyond_limit: bool,
    /// True if it is a regression: beyond the threshold and not within the noise.
    pub regression: bool,
}

/// One run present in both folders.
#[derive(Debug, Clone, PartialEq)]
pub struct RunComparison {
    /// The run's name.
    pub run: String,
    /// Its metrics.
    pub changes: Vec<Change>,
}

/// Two result folders compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Runs present in both, in the base folder's order.
    pub runs: Vec<RunComparison>,
    /// Runs only the base folder holds.
    pub only_in_base: Vec<String>,
    /// Runs only the new folder holds.
    pub only_in_new: Vec<String>,
}

/// Compares the runs of `new` with those of `base`.
pub fn compare(base: &ResultFolder, new: &ResultFolder, thresholds: &Thresholds) -> Comparison {
    let shown: Vec<Metric> = SHOWN_ORDER
        .into_iter()
        .filter(|m| HEADLINE.contains(m) || thresholds.of(*m).is_some())
        .collect();
    let mut runs = Vec::new();
    for b in &base.runs {
        let Some(n) = new.run(&b.name) else { continue };
        // A replicated side carries its confidence; the test uses the base's (both are 0.95).
        let confidence = b.confidence.zip(n.confidence).map(|(c, _)| c);
        let changes = shown
            .iter()
            .map(|&m| {
                change(
                    m,
                    b.estimate(m),
                    n.estimate(m),
                    confidence,
                    thresholds.of(m),
                )
            })
            .collect();
        runs.push(RunComparison {
            run: b.name.clone(),
            changes,
        });
    }
    let missing_from = |folder: &ResultFolder, other: &ResultFolder| {
        folder
            .runs
            .iter()
            .filter(|r| other.run(&r.name).is_none())
            .map(|r| r.name.clone())
            .collect()
    };
    Comparison {
        runs,
        only_in_base: missing_from(base, new),
        only_in_new: missing_from(new, base),
    }
}

fn change(
    metric: Metric,
    base: Estimate,
    new: Estimate,
    confidence: Option<f64>,
    limit: Option<Limit>,
) -> Change {
    let difference = base.mean.zip(new.mean).map(|(b, n)| n - b);
    let relative_pct = base.mean.zip(difference).map(|(b, d)| {
        if d == 0.0 {
            0.0
        } else {
            d / b.abs() * 100.0 // ±∞ when the base is 0
        }
    });
    let sample = |e: &Estimate| {
        Some(Sample {
            n: e.n,
            mean: e.mean?,
            std: e.std?,
        })
    };
    let noise = match (confidence, sample(&base), sample(&new)) {
        (Some(c), Some(b), Some(n)) => match welch(&b, &n) {
            Some(w) if w.significant(c) => Noise::Significant(w),
            Some(w) => Noise::WithinNoise(w),
            None => Noise::NoEstimate,
        },
        _ => Noise::NoEstimate,
    };
    let sign = if metric.higher_is_worse() { 1.0 } else { -1.0 };
    let beyond_limit = match (limit, base.mean, difference) {
        (None, ..) | (_, None, _) => false,
        // Defined before, undefined now (nothing completed): nothing shows it is within.
        (Some(_), Some(_), None) => true,
        (Some(Limit::Absolute { amount }), _, Some(d)) => sign * d > amount,
        (Some(Limit::Relative { percent }), _, Some(_)) => {
            relative_pct.is_some_and(|r| sign * r > percent)
        }
    };
    let regression = beyond_limit && !matches!(noise, Noise::WithinNoise(_));
    Change {
        metric,
        base,
        new,
        difference,
        relative_pct,
        noise,
        limit,
        beyond_limit,
        regression,
    }
}

/// The unit of a difference: percentage points for the error rate, else the metric's.
fn difference_unit(metric: Metric) -> &'static str {
    match metric {
        Metric::ErrorRatePct => "pp",
        m => m.unit(),
    }
}

fn signed(value: f64, decimals: usize, unit: &str) -> String {
    let sep = if unit.is_empty() { "" } else { " " };
    if value.is_infinite() {
        return format!("{}∞{sep}{unit}", if value > 0.0 { "+" } else { "−" });
    }
    format!("{value:+.decimals$}{sep}{unit}")
}

impl Change {
    fn change_cell(&self) -> String {
        match (self.difference, self.relative_pct) {
            (Some(d), Some(r)) => format!(
                "{} ({})",
                signed(d, self.metric.decimals(), difference_unit(self.metric)),
                signed(r, 1, "%")
            ),
            _ if self.new.mean.is_none() && self.base.mean.is_some() => "undefined now".into(),
            _ => "—".into(),
        }
    }

    fn noise_cell(&self) -> String {
        match self.noise {
            Noise::Significant(w) => format!("significant (p = {})", p_value(w.p)),
            Noise::WithinNoise(w) => format!("within noise (p = {})", p_value(w.p)),
            Noise::NoEstimate => "no noise estimate".into(),
        }
    }

    fn limit_cell(&self) -> String {
        let sign = if self.metric.higher_is_worse() {
            1.0
        } else {
            -1.0
        };
        match self.limit {
            None => "—".into(),
            Some(Limit::Relative { percent }) => signed(sign * percent, 1, "%"),
            Some(Limit::Absolute { amount }) => signed(
                sign * amount,
                self.metric.decimals(),
                difference_unit(self.metric),
            ),
        }
    }

    fn verdict_cell(&self) -> &'static str {
        match (self.limit, self.regression, self.beyond_limit) {
            (None, ..) => "—",
            (Some(_), true, _) => "REGRESSION",
            (Some(_), false, true) => "ok (within noise)",
            (Some(_), false, false) => "ok",
        }
    }
}

fn p_value(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("{p:.3}")
    }
}

impl Comparison {
    /// True if any threshold is exceeded by a regression.
    pub fn regressed(&self) -> bool {
        self.regressions().next().is_some()
    }

    fn regressions(&self) -> impl Iterator<Item = (&str, &Change)> {
        self.runs.iter().flat_map(|r| {
            r.changes
                .iter()
                .filter(|c| c.regression)
                .map(move |c| (r.run.as_str(), c))
        })
    }

    /// One line: how many runs were compared, and which regressed.
    pub fn verdict(&self) -> String {
        let n = self.runs.len();
        let mut out = format!("{n} run{} compared", if n == 1 { "" } else { "s" });
        let regressions: Vec<String> = self
            .regressions()
            .map(|(run, c)| format!("{run} {}", c.metric.title()))
            .collect();
        if regressions.is_empty() {
            out.push_str(": no regression beyond a threshold");
        } else {
            let _ = write!(
                out,
                ": {} regression{} beyond a threshold ({})",
                regressions.len(),
                if regressions.len() == 1 { "" } else { "s" },
                regressions.join(", ")
            );
        }
        for (which, runs) in [("base", &self.only_in_base), ("new", &self.only_in_new)] {
            if !runs.is_empty() {
                let _ = write!(out, "; only in {which}: {}", runs.join(", "));
            }
        }
        out
    }

    fn table(&self) -> Table {
        let mut t = Table::new(&[
            "run",
            "metric",
            "base",
            "new",
            "change",
            "noise",
            "max regression",
            "verdict",
        ]);
        for r in &self.runs {
            for c in &r.changes {
                t.rows.push(vec![
                    r.run.clone(),
                    c.metric.title().into(),
                    c.base.show(c.metric),
                    c.new.show(c.metric),
                    c.change_cell(),
                    c.noise_cell(),
                    c.limit_cell(),
                    c.verdict_cell().into(),
                ]);
            }
        }
        t
    }

    /// The table for the terminal, then the verdict line.
    pub fn text(&self) -> String {
        format!("{}{}\n", self.table().text(), self.verdict())
    }

    /// A Markdown report: a heading naming the two folders and the outcome, the verdict line,
    /// the table.
    pub fn markdown(&self, base: &str, new: &str) -> String {
        let outcome = if self.regressed() {
            "REGRESSION"
        } else {
            "pass"
        };
        format!(
            "## `{new}` against `{base}`: {outcome}\n\n{}. Noise: Welch's t-test at 95 % where \
             both sides were replicated.\n\n{}",
            self.verdict(),
            self.table().markdown()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gates::fixtures::estimate;
    use crate::gates::RunResults;
    use crate::metrics::fixtures::summary;

    fn thresholds(text: &str) -> Thresholds {
        text.parse().unwrap()
    }

    fn folder(runs: Vec<RunResults>) -> ResultFolder {
        ResultFolder {
            dir: "x".into(),
            runs,
        }
    }

    fn single(name: &str, p99: f64, cost: f64) -> RunResults {
        RunResults::from_summary(name, &summary(990, Some(p99), cost))
    }

    fn row<'a>(c: &'a Comparison, run: &str, metric: Metric) -> &'a Change {
        let r = c.runs.iter().find(|r| r.run == run).unwrap();
        r.changes.iter().find(|ch| ch.metric == metric).unwrap()
    }

    #[test]
    fn thresholds_parse_with_clear_errors() {
        let t = thresholds("p99=10%, cost=5%,error_rate=0.5,latency_p50_ms=20");
        assert_eq!(
            t.0,
            [
                (Metric::LatencyP99Ms, Limit::Relative { percent: 10.0 }),
                (Metric::CostUsd, Limit::Relative { percent: 5.0 }),
                (Metric::ErrorRatePct, Limit::Absolute { amount: 0.5 }),
                (Metric::LatencyP50Ms, Limit::Absolute { amount: 20.0 }),
            ]
        );
        let err = |s: &str| s.parse::<Thresholds>().unwrap_err().to_string();
        assert!(err("p98=10%").contains("unknown metric \"p98\": use one of mean, p50"));
        assert!(err("p99").contains("is not METRIC=LIMIT"));
        assert!(err("p99=-1%").contains("is not a limit"));
        assert!(err("error_rate=x").contains("percentage points"));
        assert!(err("p99=1%,latency_p99_ms=2%").contains("given twice"));
        assert!(err("").contains("is not METRIC=LIMIT"));
    }

    #[test]
    fn without_replications_every_change_counts_at_face_value() {
        let base = folder(vec![single("base", 0.200, 10.0), single("gone", 0.2, 1.0)]);
        let new = folder(vec![single("base", 0.230, 10.4), single("added", 0.2, 1.0)]);
        // p99 +15 % beyond 10 %; cost +4 % within 5 %.
        let c = compare(&base, &new, &thresholds("p99=10%,cost=5%"));
        let p99 = row(&c, "base", Metric::LatencyP99Ms);
        assert_eq!(p99.noise, Noise::NoEstimate);
        assert!((p99.relative_pct.unwrap() - 15.0).abs() < 1e-9);
        assert!(p99.regression);
        assert!(!row(&c, "base", Metric::CostUsd).regression);
        assert!(c.regressed());
        assert_eq!(
            (c.only_in_base.clone(), c.only_in_new.clone()),
            (vec!["gone".to_string()], vec!["added".to_string()])
        );
        assert_eq!(
            c.verdict(),
            "1 run compared: 1 regression beyond a threshold (base p99 latency); only in base: gone; only in new: added"
        );
        // Within a looser threshold; an improvement never regresses.
        assert!(!compare(&base, &new, &thresholds("p99=20%")).regressed());
        assert!(!compare(&new, &base, &thresholds("p99=1%,cost=1%")).regressed());
        // Without thresholds nothing regresses, and the headline rows are shown.
        let plain = compare(&base, &new, &Thresholds::default());
        assert!(!plain.regressed());
        let metrics: Vec<Metric> = plain.runs[0].changes.iter().map(|c| c.metric).collect();
        assert_eq!(
            metrics,
            [
                Metric::LatencyP50Ms,
                Metric::LatencyP99Ms,
                Metric::ErrorRatePct,
                Metric::CostUsd,
                Metric::MeanInstances,
                Metric::Completed
            ]
        );
    }

    #[test]
    fn error_rate_in_points_and_completed_as_a_drop() {
        // 10 failures of 1000 (1 %) against 25 (2.5 %): +1.5 points, +150 %; completed 990 → 975.
        let base = folder(vec![RunResults::from_summary(
            "base",
            &summary(990, Some(0.2), 1.0),
        )]);
        let new = folder(vec![RunResults::from_summary(
            "base",
            &summary(975, Some(0.2), 1.0),
        )]);
        let regressed = |t: &str| compare(&base, &new, &thresholds(t)).regressed();
        assert!(regressed("error_rate=1"));
        assert!(!regressed("error_rate=2"));
        assert!(regressed("error_rate=100%"));
        assert!(!regressed("error_rate=200%"));
        assert!(regressed("completed=10"));
        assert!(!regressed("completed=15"));
        assert!(regressed("completed=1%"));
        assert!(!regressed("completed=2%"));
        let c = compare(&base, &new, &thresholds("error_rate=1,completed=1%"));
        let e = row(&c, "base", Metric::ErrorRatePct);
        assert_eq!(e.change_cell(), "+1.500 pp (+150.0 %)");
        assert_eq!(e.limit_cell(), "+1.000 pp");
        assert_eq!(row(&c, "base", Metric::Completed).limit_cell(), "-1.0 %");
        // A change up from nothing is infinite in relative terms.
        let zero = folder(vec![RunResults::from_summary(
            "base",
            &summary(990, Some(0.2), 0.0),
        )]);
        let c = compare(&zero, &base, &thresholds("cost=1000%"));
        assert!(c.regressed());
        assert_eq!(
            row(&c, "base", Metric::CostUsd).change_cell(),
            "+1.00 USD (+∞ %)"
        );
    }

    #[test]
    fn latency_lost_entirely_is_a_regression_when_thresholded() {
        let base = folder(vec![single("base", 0.2, 1.0)]);
        let new = folder(vec![RunResults::from_summary(
            "base",
            &summary(0, None, 1.0),
        )]);
        let c = compare(&base, &new, &thresholds("p99=50%"));
        assert!(c.regressed());
        assert_eq!(
            row(&c, "base", Metric::LatencyP99Ms).change_cell(),
            "undefined now"
        );
        // The reverse (latency appears) is no regression.
        assert!(!compare(&new, &base, &thresholds("p99=50%")).regressed());
    }

    fn replicated(name: &str, n: u64, p99: (f64, f64), cost: (f64, f64)) -> RunResults {
        let estimates = Metric::ALL.map(|m| {
            let e = match m {
                Metric::LatencyP99Ms => estimate(n, p99.0, p99.1),
                Metric::CostUsd => estimate(n, cost.0, cost.1),
                _ => estimate(n, 1.0, 0.0),
            };
            (m, e)
        });
        RunResults::replicated(name, n, 0.95, Some(3600.0), estimates)
    }

    #[test]
    fn with_replications_only_significant_changes_regress() {
        // p99: 200 ± std 20 against 230 ± std 20, n = 5 each: t = 30 / √(80 + 80) = 2.372,
        // ν = 8 (equal variances), above t(0.975, 8) = 2.306: significant, +15 %.
        // cost: 10 ± std 1 against 11 ± std 1, n = 5: t = 1 / √0.4 = 1.58 < 2.306: noise, +10 %.
        let base = folder(vec![replicated("base", 5, (200.0, 20.0), (10.0, 1.0))]);
        let new = folder(vec![replicated("base", 5, (230.0, 20.0), (11.0, 1.0))]);
        let c = compare(&base, &new, &thresholds("p99=10%,cost=5%"));
        let p99 = row(&c, "base", Metric::LatencyP99Ms);
        let Noise::Significant(w) = p99.noise else {
            panic!("{:?}", p99.noise)
        };
        assert!((w.t - 30.0 / 160f64.sqrt()).abs() < 1e-9 && (w.df - 8.0).abs() < 1e-9);
        assert!(p99.regression);
        let cost = row(&c, "base", Metric::CostUsd);
        assert!(matches!(cost.noise, Noise::WithinNoise(_)));
        assert!(cost.beyond_limit && !cost.regression);
        assert_eq!(cost.verdict_cell(), "ok (within noise)");
        assert!(c.regressed());
        // Only the cost threshold: its change is noise, so no regression.
        assert!(!compare(&base, &new, &thresholds("cost=5%")).regressed());
        // One side without replications: no noise estimate, face value.
        let single_new = folder(vec![RunResults::from_summary(
            "base",
            &summary(990, Some(0.2), 11.0),
        )]);
        let c = compare(&base, &single_new, &thresholds("cost=5%"));
        assert_eq!(row(&c, "base", Metric::CostUsd).noise, Noise::NoEstimate);
        assert!(c.regressed());
        let text = compare(&base, &new, &thresholds("p99=10%,cost=5%")).text();
        assert!(text.contains("200.0 ± 24.8 ms"), "{text}");
        assert!(text.contains("within noise (p = 0.1"), "{text}");
    }
}
