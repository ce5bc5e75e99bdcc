//! The error table: each metric's statistics, measured against simulated, and the relative
//! error, laid out as the prototype's (`stepfit.py`, `table`; `default_table.txt` of the
//! research). Text only: the caller prints it.

use super::stats::{Metric, RunStats, Stat};

/// The table's rows after a title line, one per metric and statistic, then the worst |error|
/// over the means and p90s (what the issue's accuracy targets are stated on). Times in seconds
/// with four decimals, errors in percent with one.
///
/// ```text
/// Llama-3.1-8B on RTX PRO 6000 (tp=1), fitted
///   metric stat    measured  simulated    error
///   ttft   mean      7.0972     7.1125    +0.2%
///   ...
///   worst |error| over mean and p90: 2.3%
/// ```
pub fn error_table(title: &str, measured: &RunStats, simulated: &RunStats) -> String {
    let mut out = format!("{title}\n");
    out.push_str(&format!(
        "  {:<6} {:<5} {:>10} {:>10} {:>8}\n",
        "metric", "stat", "measured", "simulated", "error"
    ));
    for metric in Metric::ALL {
        for stat in Stat::ALL {
            let m = measured.get(metric).get(stat);
            let s = simulated.get(metric).get(stat);
            let error = match relative_error(m, s) {
                Some(e) => format!("{:>+7.1}%", 100.0 * e),
                None => format!("{:>8}", "n/a"),
            };
            out.push_str(&format!(
                "  {:<6} {:<5} {:>10.4} {:>10.4} {error}\n",
                metric.name(),
                stat.name(),
                m,
                s
            ));
        }
    }
    out.push_str(&format!(
        "  worst |error| over mean and p90: {:.1}%\n",
        100.0 * worst_error(measured, simulated)
    ));
    out
}

/// (simulated − measured) / measured; `None` for a measured zero.
pub fn relative_error(measured: f64, simulated: f64) -> Option<f64> {
    (measured != 0.0).then(|| (simulated - measured) / measured)
}

/// The largest |relative error| over the mean and p90 of TTFT, TPOT and E2E (a measured zero
/// left out).
pub fn worst_error(measured: &RunStats, simulated: &RunStats) -> f64 {
    let mut worst: f64 = 0.0;
    for metric in Metric::ALL {
        for stat in [Stat::Mean, Stat::P90] {
            if let Some(e) = relative_error(
                measured.get(metric).get(stat),
                simulated.get(metric).get(stat),
            ) {
                worst = worst.max(e.abs());
            }
        }
    }
    worst
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibrate::stats::Summary;

    #[test]
    fn the_table_is_laid_out_as_the_prototypes() {
        // The measured column of default_table.txt's Llama run, and its simulated values.
        let s = |mean, p50, p90, p99| Summary {
            mean,
            p50,
            p90,
            p99,
        };
        let measured = RunStats {
            ttft: s(7.0972, 9.4427, 16.8527, 19.7553),
            tpot: s(0.0325, 0.0334, 0.0365, 0.0373),
            e2e: s(28.2007, 29.6156, 35.4507, 0.0),
        };
        let simulated = RunStats {
            ttft: s(7.1125, 9.4671, 17.2478, 19.5625),
            tpot: s(0.0322, 0.0333, 0.0362, 0.0371),
            e2e: s(28.0807, 29.3835, 35.1498, 37.5412),
        };
        let expected = "\
Llama-3.1-8B (tp=1), fitted
  metric stat    measured  simulated    error
  ttft   mean      7.0972     7.1125    +0.2%
  ttft   p50       9.4427     9.4671    +0.3%
  ttft   p90      16.8527    17.2478    +2.3%
  ttft   p99      19.7553    19.5625    -1.0%
  tpot   mean      0.0325     0.0322    -0.9%
  tpot   p50       0.0334     0.0333    -0.3%
  tpot   p90       0.0365     0.0362    -0.8%
  tpot   p99       0.0373     0.0371    -0.5%
  e2e    mean     28.2007    28.0807    -0.4%
  e2e    p50      29.6156    29.3835    -0.8%
  e2e    p90      35.4507    35.1498    -0.8%
  e2e    p99       0.0000    37.5412      n/a
  worst |error| over mean and p90: 2.3%
";
        assert_eq!(
            error_table("Llama-3.1-8B (tp=1), fitted", &measured, &simulated),
            expected
        );
    }
}
