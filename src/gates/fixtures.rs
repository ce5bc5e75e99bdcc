//! Test fixtures of the gates: estimates and replicated runs with chosen numbers (summaries:
//! `crate::metrics::fixtures`).

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::results::{Estimate, Metric, RunResults};

/// The estimate of `n` replications with this mean and sample standard deviation, its 95 %
/// interval computed as `aggregate.json` documents it: `t(0.975, n − 1) · std / √n`.
pub fn estimate(n: u64, mean: f64, std: f64) -> Estimate {
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .unwrap()
        .inverse_cdf(0.975);
    let half_width = t * std / (n as f64).sqrt();
    Estimate {
        n,
        mean: Some(mean),
        std: Some(std),
        half_width: Some(half_width),
        low: Some(mean - half_width),
        high: Some(mean + half_width),
    }
}

/// A run of `replications` (one hour each) whose listed metrics have these means and
/// half-widths; every other metric is 1 ± 0.
pub fn aggregate_run(name: &str, replications: u64, given: &[(&str, f64, f64)]) -> RunResults {
    let estimates = Metric::ALL.map(|m| {
        let (mean, half) = given
            .iter()
            .find(|(c, _, _)| *c == m.column())
            .map_or((1.0, 0.0), |(_, mean, half)| (*mean, *half));
        let e = Estimate {
            n: replications,
            mean: Some(mean),
            std: Some(0.0),
            half_width: Some(half),
            low: Some(mean - half),
            high: Some(mean + half),
        };
        (m, e)
    });
    RunResults::replicated(name, replications, 0.95, Some(3600.0), estimates)
}
