//! One run's replications summed up, metric by metric (`aggregate.json`) — the mean and its 95 %
//! Student-t confidence interval across independent seeds. A single run's number hides its
//! noise; the interval says how far another seed could move it.
//!
//! The metrics are the comparison's columns ([`super::columns::COMPARISON`]), so
//! `aggregate.json` and `comparison.csv` share their names and order. It reads the runs'
//! summaries; `crate::report` writes it.

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::columns::comparison_values;
use super::Summary;

/// The confidence of every interval.
pub const CONFIDENCE: f64 = 0.95;

/// One metric across a run's replications. With `n = 0` every field is `None`; with `n = 1`
/// only `mean` is set.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct MetricStats {
    /// Replications in which the metric is defined (a p99 is not when nothing completed).
    pub n: u64,
    /// Their mean.
    pub mean: Option<f64>,
    /// Their sample standard deviation (n − 1 in the denominator).
    pub std: Option<f64>,
    /// Half-width of the two-sided 95 % interval: `t(0.975, n − 1) · std / √n`.
    pub half_width: Option<f64>,
    /// `mean − half_width`.
    pub low: Option<f64>,
    /// `mean + half_width`.
    pub high: Option<f64>,
}

impl MetricStats {
    /// The statistics of `values` (the replications where the metric is defined).
    pub fn of(values: &[f64]) -> MetricStats {
        let n = values.len();
        let mean = (n > 0).then(|| values.iter().sum::<f64>() / n as f64);
        let (std, half_width) = match (n, mean) {
            (2.., Some(m)) => {
                let var = values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1) as f64;
                let std = var.sqrt();
                (Some(std), Some(t_quantile(n - 1) * std / (n as f64).sqrt()))
            }
            _ => (None, None),
        };
        MetricStats {
            n: n as u64,
            mean,
            std,
            half_width,
            low: mean.zip(half_width).map(|(m, h)| m - h),
            high: mean.zip(half_width).map(|(m, h)| m + h),
        }
    }
}

/// Student's t quantile for a two-sided [`CONFIDENCE`] interval with `df` degrees of freedom.
fn t_quantile(df: usize) -> f64 {
    StudentsT::new(0.0, 1.0, df as f64)
        .expect("df >= 1")
        .inverse_cdf(1.0 - (1.0 - CONFIDENCE) / 2.0)
}

/// A run's replications, summed up (`aggregate.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    /// The run's name (`base`, a variant's, a grid point's).
    pub run: String,
    /// How many replications.
    pub replications: usize,
    /// Their seeds, in replication order.
    pub seeds: Vec<u64>,
    /// The confidence of the intervals.
    pub confidence: f64,
    /// Each comparison column, in column order.
    #[serde(serialize_with = "in_order", deserialize_with = "from_object")]
    pub metrics: Vec<(String, MetricStats)>,
}

/// A JSON object whose keys keep the columns' order (a map would sort them).
fn in_order<S: Serializer>(metrics: &[(String, MetricStats)], s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(metrics.len()))?;
    for (name, stats) in metrics {
        map.serialize_entry(name, stats)?;
    }
    map.end()
}

/// The metrics back from their JSON object (read by name: the order does not matter).
fn from_object<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<(String, MetricStats)>, D::Error> {
    let map = std::collections::BTreeMap::<String, MetricStats>::deserialize(d)?;
    Ok(map.into_iter().collect())
}

impl Aggregate {
    /// Sums up `summaries`, the replications of run `run` (in replication order).
    pub fn of(run: &str, summaries: &[Summary]) -> Aggregate {
        let per_run: Vec<Vec<(&'static str, Option<f64>)>> =
            summaries.iter().map(comparison_values).collect();
        let columns: Vec<&'static str> = per_run
            .first()
            .map(|c| c.iter().map(|(n, _)| *n).collect())
            .unwrap_or_default();
        let metrics = columns
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let values: Vec<f64> = per_run.iter().filter_map(|r| r[i].1).collect();
                (name.to_string(), MetricStats::of(&values))
            })
            .collect();
        Aggregate {
            run: run.to_string(),
            replications: summaries.len(),
            seeds: summaries.iter().map(|s| s.seed).collect(),
            confidence: CONFIDENCE,
            metrics,
        }
    }

    /// The statistics of the column named `csv`.
    pub fn metric(&self, csv: &str) -> Option<&MetricStats> {
        self.metrics.iter().find(|(n, _)| *n == csv).map(|(_, m)| m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_matches_student_t_on_a_known_sample() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sample variance 32/7, t(0.975, 7) = 2.3646242510.
        let s = MetricStats::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(s.n, 8);
        assert_eq!(s.mean, Some(5.0));
        let std = (32.0f64 / 7.0).sqrt();
        assert!((s.std.unwrap() - std).abs() < 1e-12);
        let hw = 2.364_624_251_0 * std / 8f64.sqrt();
        assert!((s.half_width.unwrap() - hw).abs() < 1e-9, "{s:?}");
        assert!((s.low.unwrap() - (5.0 - hw)).abs() < 1e-9);
        assert!((s.high.unwrap() - (5.0 + hw)).abs() < 1e-9);
        // Two values: t(0.975, 1) = 12.706204736.
        let s = MetricStats::of(&[1.0, 3.0]);
        let hw = 12.706_204_736 * 2f64.sqrt() / 2f64.sqrt();
        assert!((s.half_width.unwrap() - hw).abs() < 1e-8, "{s:?}");
    }

    #[test]
    fn one_or_no_value_has_no_interval() {
        let one = MetricStats::of(&[3.0]);
        assert_eq!((one.n, one.mean, one.half_width), (1, Some(3.0), None));
        let none = MetricStats::of(&[]);
        assert_eq!((none.n, none.mean, none.low), (0, None, None));
    }
}
