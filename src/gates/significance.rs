//! Is a change between two replicated runs larger than their noise? Welch's two-sample t-test.
//!
//! Why Welch's test rather than "the two 95 % intervals do not overlap": non-overlap is far
//! stricter than a 5 % test (two intervals of equal width may overlap by almost half their
//! width while the means differ at p ≈ 0.005; Schenker & Gentleman, "On judging the
//! significance of differences by examining the overlap between confidence intervals", The
//! American Statistician 55(3), 2001), so it would hide real regressions. Welch's test does not
//! assume the two runs' variances equal, which a policy change rarely keeps.
//!
//! Why not a paired test: base and new replications with the same seeds see the same requests
//! (common random numbers), and a paired test would be sharper, but `aggregate.json` keeps only
//! each run's mean, standard deviation and count, which is what Welch's test needs.
//!
//! Statistic and degrees of freedom (Welch 1947; Satterthwaite 1946), with `vᵢ = sᵢ² / nᵢ`:
//! `t = (m₂ − m₁) / √(v₁ + v₂)`, `ν = (v₁ + v₂)² / (v₁² / (n₁ − 1) + v₂² / (n₂ − 1))`,
//! two-sided `p = 2 · P(T_ν > |t|)`.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// The replications of one run, summarized: count, mean and sample standard deviation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Replications.
    pub n: u64,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1 in the denominator).
    pub std: f64,
}

/// The outcome of Welch's test of `new` against `base`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Welch {
    /// `t`, positive when the new mean is larger.
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value: the chance of a difference at least this large if the means are
    /// equal.
    pub p: f64,
}

impl Welch {
    /// True if the test rejects equal means at `confidence` (0.95: p < 0.05).
    pub fn significant(&self, confidence: f64) -> bool {
        self.p < 1.0 - confidence
    }
}

/// Welch's test of `new` against `base`; `None` if either has fewer than 2 replications (no
/// variance to judge by).
///
/// When both standard deviations are 0 the difference of the means is exact: `p` is 0 if they
/// differ (`t` infinite), 1 if they are equal.
pub fn welch(base: &Sample, new: &Sample) -> Option<Welch> {
    if base.n < 2 || new.n < 2 {
        return None;
    }
    let v1 = base.std * base.std / base.n as f64;
    let v2 = new.std * new.std / new.n as f64;
    let difference = new.mean - base.mean;
    let se2 = v1 + v2;
    if se2 == 0.0 {
        let df = (base.n + new.n - 2) as f64;
        return Some(if difference == 0.0 {
            Welch { t: 0.0, df, p: 1.0 }
        } else {
            Welch {
                t: difference.signum() * f64::INFINITY,
                df,
                p: 0.0,
            }
        });
    }
    let t = difference / se2.sqrt();
    let df = se2 * se2 / (v1 * v1 / (base.n - 1) as f64 + v2 * v2 / (new.n - 1) as f64);
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    let p = (2.0 * dist.sf(t.abs())).min(1.0);
    Some(Welch { t, df, p })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Count, mean and sample standard deviation, computed here from raw values.
    fn sample(xs: &[f64]) -> Sample {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        Sample {
            n: xs.len() as u64,
            mean,
            std: var.sqrt(),
        }
    }

    #[test]
    fn unequal_variances_give_the_hand_computed_statistic() {
        // a: mean 14, s² = (16 + 4 + 0 + 4 + 16) / 4 = 10; b: mean 22, s² = 10 / 4 = 2.5.
        // v₁ = 10 / 5 = 2, v₂ = 2.5 / 5 = 0.5; t = 8 / √2.5 = 5.0596;
        // ν = 2.5² / (2² / 4 + 0.5² / 4) = 6.25 / 1.0625 = 5.8824.
        let a = sample(&[10.0, 12.0, 14.0, 16.0, 18.0]);
        let b = sample(&[20.0, 21.0, 22.0, 23.0, 24.0]);
        let w = welch(&a, &b).unwrap();
        assert!((w.t - 8.0 / 2.5f64.sqrt()).abs() < 1e-12, "{w:?}");
        assert!((w.df - 6.25 / 1.0625).abs() < 1e-12, "{w:?}");
        // |t| = 5.06 is far beyond t(0.975, 5) = 2.571 (any t table): clearly significant;
        // t(0.9995, 6) = 5.959 > 5.06 > t(0.995, 6) = 3.707, so 0.001 < p < 0.01.
        assert!(w.p > 0.001 && w.p < 0.01, "{w:?}");
        assert!(w.significant(0.95));
        // Symmetric: swapping the runs flips t only.
        let back = welch(&b, &a).unwrap();
        assert_eq!((back.t, back.df, back.p), (-w.t, w.df, w.p));
    }

    #[test]
    fn the_threshold_is_the_t_table_value() {
        // Equal n = 5 and equal variances 2.5: v₁ = v₂ = 0.5, se = 1, so t = the shift, and
        // ν = 1 / (0.25 / 4 · 2) = 8. t(0.975, 8) = 2.306 (two-sided 5 %, any t table): a shift
        // of 2.4 is significant, one of 2.2 is not.
        let a = [0.0, 1.0, 2.0, 3.0, 4.0];
        let shifted = |d: f64| sample(&a.map(|x| x + d));
        let base = sample(&a);
        let above = welch(&base, &shifted(2.4)).unwrap();
        assert!((above.df - 8.0).abs() < 1e-9 && (above.t - 2.4).abs() < 1e-9);
        assert!(above.significant(0.95) && above.p > 0.04, "{above:?}");
        let below = welch(&base, &shifted(2.2)).unwrap();
        assert!(!below.significant(0.95) && below.p < 0.06, "{below:?}");
        // At exactly t(0.975, 8) the p-value is 5 %.
        let at = welch(&base, &shifted(2.306_004)).unwrap();
        assert!((at.p - 0.05).abs() < 1e-5, "{at:?}");
    }

    #[test]
    fn constant_samples_and_single_replications() {
        let c = |mean| Sample {
            n: 3,
            mean,
            std: 0.0,
        };
        assert_eq!(welch(&c(1.0), &c(1.0)).unwrap().p, 1.0);
        let w = welch(&c(1.0), &c(2.0)).unwrap();
        assert_eq!((w.p, w.t), (0.0, f64::INFINITY));
        let one = Sample {
            n: 1,
            mean: 1.0,
            std: 0.0,
        };
        assert_eq!(welch(&one, &c(2.0)), None);
    }
}
