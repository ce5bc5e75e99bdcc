//! Duration distributions, sampled by inverse transform: the service time of a request, and
//! every other drawn duration (a user's think time, a boot phase, the time to a crash or a spot
//! interruption). [`ServiceTime`] is named for its first use.
//!
//! A model module of its own, below the models that draw from it (`model/traffic`,
//! `model/fleet`, `model/market`), so that none of them has to know another for it. It knows
//! only simulated time.
//!
//! A request draws one uniform quantile `u` when it arrives (common random numbers: it is part of
//! the request, not of the server). The time it takes on an instance type is that type's quantile
//! function at `u`. So the same request is served in the same time under every policy, and a
//! request that is slow on one GPU type is slow on every type (a monotone coupling), as a long
//! prompt is.

use std::sync::Arc;

use statrs::function::erf::erfc_inv;
use statrs::function::gamma::{gamma_lr, ln_gamma};

use crate::time::SimDuration;

const NANOS: f64 = 1e9;

/// A distribution of service times, in nanoseconds internally.
#[derive(Debug, Clone, PartialEq)]
pub enum ServiceTime {
    /// Always the same time.
    Constant {
        /// The time \[ns\].
        nanos: f64,
    },
    /// Exponential with the given mean.
    Exponential {
        /// Mean \[ns\].
        mean: f64,
    },
    /// Log-normal: `ln(time in ns)` is normal with mean `mu` and standard deviation `sigma`.
    LogNormal {
        /// Mean of `ln(ns)`.
        mu: f64,
        /// Standard deviation of `ln(ns)`.
        sigma: f64,
    },
    /// Gamma with shape `k` and scale `theta` \[ns\] (mean `k·theta`).
    Gamma {
        /// Shape.
        shape: f64,
        /// Scale \[ns\].
        scale: f64,
    },
    /// Uniform between `min` and `max` \[ns\].
    Uniform {
        /// Lower bound \[ns\].
        min: f64,
        /// Upper bound \[ns\].
        max: f64,
    },
    /// Resampled from observed values, sorted ascending \[ns\].
    Empirical {
        /// The observations, sorted.
        sorted: Arc<[f64]>,
    },
}

impl ServiceTime {
    /// Log-normal from its mean and coefficient of variation (standard deviation / mean).
    pub fn lognormal(mean_secs: f64, cv: f64) -> Self {
        let sigma2 = (1.0 + cv * cv).ln();
        ServiceTime::LogNormal {
            mu: (mean_secs * NANOS).ln() - sigma2 / 2.0,
            sigma: sigma2.sqrt(),
        }
    }

    /// Gamma from its mean and coefficient of variation: shape = 1/cv², scale = mean·cv².
    pub fn gamma(mean_secs: f64, cv: f64) -> Self {
        ServiceTime::Gamma {
            shape: 1.0 / (cv * cv),
            scale: mean_secs * NANOS * cv * cv,
        }
    }

    /// The time at quantile `u` in (0, 1).
    #[inline]
    pub fn quantile(&self, u: f64) -> SimDuration {
        let nanos = match self {
            ServiceTime::Constant { nanos } => *nanos,
            // ln(1 − u) rather than ln_1p(−u): `ln` costs half as much in the hot path. For u ≥ ½,
            // 1 − u is exact (Sterbenz); below, the absolute error is ~1e-16 × mean: far below
            // the nanosecond the result is rounded to.
            ServiceTime::Exponential { mean } => -mean * (1.0 - u).ln(),
            ServiceTime::LogNormal { mu, sigma } => (mu + sigma * std_normal_quantile(u)).exp(),
            ServiceTime::Gamma { shape, scale } => scale * gamma_quantile(*shape, u),
            ServiceTime::Uniform { min, max } => min + (max - min) * u,
            ServiceTime::Empirical { sorted } => {
                let i = ((u * sorted.len() as f64) as usize).min(sorted.len() - 1);
                sorted[i]
            }
        };
        SimDuration::from_nanos_f64(nanos)
    }

    /// The mean \[s\].
    pub fn mean_secs(&self) -> f64 {
        let nanos = match self {
            ServiceTime::Constant { nanos } => *nanos,
            ServiceTime::Exponential { mean } => *mean,
            ServiceTime::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            ServiceTime::Gamma { shape, scale } => shape * scale,
            ServiceTime::Uniform { min, max } => (min + max) / 2.0,
            ServiceTime::Empirical { sorted } => sorted.iter().sum::<f64>() / sorted.len() as f64,
        };
        nanos / NANOS
    }

    /// The second moment E\[S²\] \[s²\], for Pollaczek–Khinchine.
    pub fn second_moment_secs2(&self) -> f64 {
        let m2 = match self {
            ServiceTime::Constant { nanos } => nanos * nanos,
            ServiceTime::Exponential { mean } => 2.0 * mean * mean,
            ServiceTime::LogNormal { mu, sigma } => (2.0 * mu + 2.0 * sigma * sigma).exp(),
            ServiceTime::Gamma { shape, scale } => shape * (shape + 1.0) * scale * scale,
            ServiceTime::Uniform { min, max } => (min * min + min * max + max * max) / 3.0,
            ServiceTime::Empirical { sorted } => {
                sorted.iter().map(|x| x * x).sum::<f64>() / sorted.len() as f64
            }
        };
        m2 / (NANOS * NANOS)
    }

    /// The same distribution with every time divided by `speed` (a faster instance type).
    pub fn scaled_by_speed(&self, speed: f64) -> ServiceTime {
        let f = 1.0 / speed;
        match self {
            ServiceTime::Constant { nanos } => ServiceTime::Constant { nanos: nanos * f },
            ServiceTime::Exponential { mean } => ServiceTime::Exponential { mean: mean * f },
            ServiceTime::LogNormal { mu, sigma } => ServiceTime::LogNormal {
                mu: mu + f.ln(),
                sigma: *sigma,
            },
            ServiceTime::Gamma { shape, scale } => ServiceTime::Gamma {
                shape: *shape,
                scale: scale * f,
            },
            ServiceTime::Uniform { min, max } => ServiceTime::Uniform {
                min: min * f,
                max: max * f,
            },
            ServiceTime::Empirical { sorted } => ServiceTime::Empirical {
                sorted: sorted.iter().map(|x| x * f).collect(),
            },
        }
    }
}

/// Φ⁻¹(u), the standard normal quantile, through the inverse complementary error function.
#[inline]
pub(crate) fn std_normal_quantile(u: f64) -> f64 {
    -std::f64::consts::SQRT_2 * erfc_inv(2.0 * u)
}

/// The quantile of Gamma(shape, 1) at `u`: Wilson–Hilferty start, then safeguarded Newton steps
/// on the regularized lower incomplete gamma function (Press et al., *Numerical Recipes* §6.2).
fn gamma_quantile(shape: f64, u: f64) -> f64 {
    let z = std_normal_quantile(u);
    let c = 1.0 / (9.0 * shape);
    let mut x = (shape * (1.0 - c + z * c.sqrt()).powi(3)).max(1e-8 * shape.max(1e-3));
    if shape < 1.0 {
        // For small shapes the left tail behaves like (u·Γ(k+1))^(1/k).
        let t = (u * (ln_gamma(shape + 1.0)).exp()).powf(1.0 / shape);
        if t < x {
            x = t.max(f64::MIN_POSITIVE);
        }
    }
    let ln_gamma_k = ln_gamma(shape);
    let (mut lo, mut hi) = (0.0f64, f64::INFINITY);
    for _ in 0..100 {
        let err = gamma_lr(shape, x) - u;
        if err > 0.0 {
            hi = x;
        } else {
            lo = x;
        }
        let pdf = ((shape - 1.0) * x.ln() - x - ln_gamma_k).exp();
        let mut next = if pdf > 0.0 { x - err / pdf } else { f64::NAN };
        if !(next > lo && next < hi) {
            next = if hi.is_finite() {
                (lo + hi) / 2.0
            } else {
                x * 2.0
            };
        }
        if (next - x).abs() <= 1e-12 * x {
            return next;
        }
        x = next;
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(d: SimDuration) -> f64 {
        d.as_secs_f64()
    }

    #[test]
    fn exponential_quantile_is_minus_mean_log_one_minus_u() {
        let s = ServiceTime::Exponential { mean: 2.0 * NANOS };
        assert!((secs(s.quantile(0.5)) - 2.0 * 2f64.ln()).abs() < 1e-9);
    }

    #[test]
    fn lognormal_by_mean_and_cv_has_that_mean_and_median() {
        let s = ServiceTime::lognormal(0.4, 0.5);
        assert!((s.mean_secs() - 0.4).abs() < 1e-12);
        // The median of a log-normal is exp(mu) = mean / sqrt(1 + cv²).
        let median = 0.4 / (1.25f64).sqrt();
        assert!((secs(s.quantile(0.5)) - median).abs() < 1e-9);
        // Second moment: mean² (1 + cv²).
        assert!((s.second_moment_secs2() - 0.16 * 1.25).abs() < 1e-12);
    }

    #[test]
    fn gamma_quantile_inverts_the_cdf() {
        for &(shape, u) in &[
            (0.25, 0.01),
            (0.25, 0.9),
            (1.0, 0.5),
            (4.0, 0.999),
            (50.0, 0.3),
        ] {
            let x = gamma_quantile(shape, u);
            assert!(
                (gamma_lr(shape, x) - u).abs() < 1e-9,
                "shape {shape} u {u} x {x}"
            );
        }
        // Shape 1 is the exponential: quantile = -ln(1 - u).
        assert!((gamma_quantile(1.0, 0.5) - 2f64.ln()).abs() < 1e-9);
    }

    #[test]
    fn quantiles_are_monotone_so_big_requests_stay_big() {
        let dists = [
            ServiceTime::Exponential { mean: NANOS },
            ServiceTime::lognormal(1.0, 2.0),
            ServiceTime::gamma(1.0, 0.7),
            ServiceTime::Uniform { min: 1.0, max: 5.0 },
        ];
        for d in &dists {
            let mut last = SimDuration::ZERO;
            for i in 1..1000 {
                let q = d.quantile(i as f64 / 1000.0);
                assert!(q >= last, "{d:?} not monotone at {i}");
                last = q;
            }
        }
    }

    #[test]
    fn speed_divides_every_time() {
        let base = ServiceTime::lognormal(1.2, 0.5);
        let fast = base.scaled_by_speed(3.0);
        let (a, b) = (secs(base.quantile(0.77)), secs(fast.quantile(0.77)));
        assert!((a / b - 3.0).abs() < 1e-6);
        assert!((fast.mean_secs() - 0.4).abs() < 1e-9);
    }

    #[test]
    fn empirical_resamples_observations() {
        let s = ServiceTime::Empirical {
            sorted: vec![1.0 * NANOS, 2.0 * NANOS, 4.0 * NANOS].into(),
        };
        assert_eq!(secs(s.quantile(0.1)), 1.0);
        assert_eq!(secs(s.quantile(0.5)), 2.0);
        assert_eq!(secs(s.quantile(0.99)), 4.0);
        assert!((s.mean_secs() - 7.0 / 3.0).abs() < 1e-12);
    }
}
