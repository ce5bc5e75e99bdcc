//! Spot price paths: what one spot instance costs per hour over the run, and what it costs
//! to run one from `a` to `b` (the integral of the price).
//!
//! Three kinds ([`SpotPriceSpec`]):
//! - **constant**: one price (the catalog's GCP spot price, or the scenario's);
//! - **replay**: a step function read from a CSV, each price holding until the next row (as
//!   EC2 `DescribeSpotPriceHistory` rows do: a row is a price *change*);
//! - **mean reverting**: synthetic. The log price follows an Ornstein–Uhlenbeck process
//!   `dX = θ(μ − X) dt + σ dW`, sampled on a fixed step with its exact discretisation
//!   `X' = μ + (X − μ) e^{−θΔ} + s √(1 − e^{−2θΔ}) Z` (Z standard normal), where `θ = 1 /
//!   reversion` and `s = σ / √(2θ)` is the stationary standard deviation of the log price
//!   (the scenario's `volatility`). `μ = ln(mean) − s²/2`, so that the stationary mean of the
//!   price itself is `mean` (a log-normal's mean is `e^{μ + s²/2}`). The first value is drawn
//!   from the stationary distribution: the path is stationary from t = 0. Each price is capped
//!   at the cap (default the on-demand price: AWS never charges more than on-demand for spot,
//!   "Spot Instance pricing history"). The price holds over each step.
//!
//! Memory: a path is precomputed as at most [`MAX_STEPS`] steps, 24 bytes each (a year of 5-minute steps is
//! 105,120), with a running integral, so `price_at` and `cost` are binary searches. It must
//! not know which instances run on it: billing multiplies.

use crate::engine::{open_unit, StreamRng};
use crate::time::{SimDuration, SimTime};

const HOUR_NANOS: f64 = 3.6e12;

/// The most steps a path holds (validation refuses a mean-reverting `step` that would need
/// more over the run, and a replay file with more rows).
pub const MAX_STEPS: u64 = 1_000_000;

/// The largest `volatility` (standard deviation of the log price) a mean-reverting path may
/// have: 10, price swings of e^10 (22,000 times) either way, against 0.1 to 0.3 for real spot
/// markets. It keeps `volatility²` and the path's exponentials finite.
pub const MAX_VOLATILITY: f64 = 10.0;

/// How a spot price moves, as the scenario gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum SpotPriceSpec {
    /// One price for the whole run [USD/h].
    Constant {
        /// The price [USD/h].
        usd_per_hour: f64,
    },
    /// A step function: `prices[i]` holds from `times[i]` (the first is 0) until the next.
    Replay {
        /// When each price takes effect, increasing, the first at 0.
        times: Vec<SimDuration>,
        /// The prices [USD/h].
        prices: Vec<f64>,
    },
    /// A mean-reverting (Ornstein–Uhlenbeck on the log price) synthetic path.
    MeanReverting {
        /// Stationary mean of the price [USD/h].
        mean: f64,
        /// Stationary standard deviation of the log price (0.2: typical swings of ±20 %).
        volatility: f64,
        /// Mean reversion time `1/θ`: how long a deviation takes to shrink by `e`.
        reversion: SimDuration,
        /// The price changes every `step`.
        step: SimDuration,
        /// No price above this [USD/h] (default: the on-demand price).
        cap: f64,
    },
}

/// A spot price over the run: a step function with its running integral.
#[derive(Debug, Clone, PartialEq)]
pub struct SpotPricePath {
    /// Start of each step \[ns\], increasing, the first 0.
    starts: Vec<u64>,
    /// Price over each step [USD/h].
    prices: Vec<f64>,
    /// Cost of one instance from 0 to the start of each step \[USD\].
    cumulative: Vec<f64>,
}

impl SpotPricePath {
    /// The path of `spec` over `horizon`; `rng` (the stream `spot_price/<type>`) is drawn from
    /// only by a mean-reverting spec.
    pub fn build(spec: &SpotPriceSpec, horizon: SimDuration, rng: &mut StreamRng) -> Self {
        match spec {
            SpotPriceSpec::Constant { usd_per_hour } => Self::steps(vec![0], vec![*usd_per_hour]),
            SpotPriceSpec::Replay { times, prices } => {
                Self::steps(times.iter().map(|t| t.as_nanos()).collect(), prices.clone())
            }
            SpotPriceSpec::MeanReverting {
                mean,
                volatility,
                reversion,
                step,
                cap,
            } => {
                let step_ns = step.as_nanos().max(1);
                let n = horizon.as_nanos().div_ceil(step_ns).clamp(1, MAX_STEPS);
                let theta_dt = step_ns as f64 / reversion.as_nanos().max(1) as f64;
                let s = *volatility;
                let mu = mean.ln() - s * s / 2.0;
                let decay = (-theta_dt).exp();
                let shock = s * (1.0 - decay * decay).sqrt();
                let mut x = mu + s * standard_normal(rng);
                let mut starts = Vec::with_capacity(n as usize);
                let mut prices = Vec::with_capacity(n as usize);
                for k in 0..n {
                    if k > 0 {
                        x = mu + (x - mu) * decay + shock * standard_normal(rng);
                    }
                    starts.push(k * step_ns);
                    prices.push(x.exp().min(*cap));
                }
                Self::steps(starts, prices)
            }
        }
    }

    /// A step function from its steps (starts increasing, the first 0; as many prices).
    pub fn steps(starts: Vec<u64>, prices: Vec<f64>) -> Self {
        debug_assert_eq!(starts.len(), prices.len());
        debug_assert_eq!(starts.first(), Some(&0));
        let mut cumulative = Vec::with_capacity(starts.len());
        let mut total = 0.0;
        for i in 0..starts.len() {
            cumulative.push(total);
            if let Some(&next) = starts.get(i + 1) {
                total += prices[i] * (next - starts[i]) as f64 / HOUR_NANOS;
            }
        }
        SpotPricePath {
            starts,
            prices,
            cumulative,
        }
    }

    fn index(&self, t: u64) -> usize {
        self.starts.partition_point(|&s| s <= t) - 1
    }

    /// The price at `t` [USD/h].
    pub fn price_at(&self, t: SimTime) -> f64 {
        self.prices[self.index(t.as_nanos())]
    }

    /// Cost of one instance from 0 to `t` \[USD\].
    fn integral(&self, t: u64) -> f64 {
        let i = self.index(t);
        self.cumulative[i] + self.prices[i] * (t - self.starts[i]) as f64 / HOUR_NANOS
    }

    /// Cost of one instance running from `from` to `to` \[USD\] (0 if `to <= from`).
    pub fn cost(&self, from: SimTime, to: SimTime) -> f64 {
        if to <= from {
            return 0.0;
        }
        let (a, b) = (from.as_nanos(), to.as_nanos());
        let (i, j) = (self.index(a), self.index(b));
        if i == j {
            // Within one step: no difference of two large integrals (exact for a constant).
            return self.prices[i] * (b - a) as f64 / HOUR_NANOS;
        }
        self.integral(b) - self.integral(a)
    }

    /// The number of steps held.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Always false: a path has at least one step.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// The prices of the steps, in order [USD/h].
    pub fn prices(&self) -> &[f64] {
        &self.prices
    }
}

/// A standard normal draw (Box–Muller, from two [`open_unit`] draws: portable and fixed,
/// unlike a library's algorithm that may change between versions).
fn standard_normal(rng: &mut StreamRng) -> f64 {
    let (u, v) = (open_unit(rng), open_unit(rng));
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RandomStreams;

    fn secs(s: u64) -> SimTime {
        SimTime::from_nanos(s * 1_000_000_000)
    }

    #[test]
    fn the_integral_over_a_step_change_is_computed_by_hand() {
        // $0.40/h for the first 30 min, then $1.00/h.
        let path = SpotPricePath::steps(vec![0, 1_800_000_000_000], vec![0.4, 1.0]);
        assert_eq!(path.price_at(secs(1799)), 0.4);
        assert_eq!(path.price_at(secs(1800)), 1.0);
        // 20 min → 50 min: 10 min at 0.40 + 20 min at 1.00 = 0.4/6 + 1/3 = 0.4 USD.
        let c = path.cost(secs(1200), secs(3000));
        assert!((c - 0.4).abs() < 1e-12, "{c}");
        // Within one step: 15 min at 0.40 = 0.10.
        assert_eq!(path.cost(secs(0), secs(900)), 0.1);
        assert_eq!(path.cost(secs(900), secs(900)), 0.0);
    }

    #[test]
    fn replay_holds_the_last_price_after_its_last_row() {
        let spec = SpotPriceSpec::Replay {
            times: vec![SimDuration::ZERO, SimDuration::from_secs(60)],
            prices: vec![1.0, 2.0],
        };
        let mut rng = RandomStreams::new(1).stream("x");
        let path = SpotPricePath::build(&spec, SimDuration::from_secs(10), &mut rng);
        // 1 min at $1/h + 59 min at $2/h = (1 + 118) / 60 USD.
        let c = path.cost(secs(0), secs(3600));
        assert!((c - 119.0 / 60.0).abs() < 1e-12);
    }

    fn ou(seed: u64, hours: u64) -> SpotPricePath {
        let spec = SpotPriceSpec::MeanReverting {
            mean: 0.4,
            volatility: 0.25,
            reversion: SimDuration::from_secs(3600),
            step: SimDuration::from_secs(300),
            cap: 1e9,
        };
        let mut rng = RandomStreams::new(seed).stream("spot_price/g5.xlarge");
        SpotPricePath::build(&spec, SimDuration::from_secs(hours * 3600), &mut rng)
    }

    #[test]
    fn mean_reverting_path_has_the_ou_stationary_mean_and_std() {
        // Log prices x_k form an AR(1) with φ = e^{−θΔ} = e^{−5/60}: stationary mean
        // μ = ln 0.4 − s²/2, std s = 0.25. The sample mean of n AR(1) values has variance
        // s²/n · (1 + φ)/(1 − φ) (autocorrelation-aware); over n = 8760·12 steps (a year of
        // 5-minute steps) its standard error is 0.25 · √(23.0/105120) ≈ 0.0037; we allow 4.5
        // standard errors (two-sided p ≈ 7e-6). The sample variance of an AR(1) has
        // asymptotic variance 2s⁴/n · (1 + φ²)/(1 − φ²), so its relative error on s is about
        // half its relative error on s²: √(2·(1 + φ²)/(1 − φ²)/n) / 2 ≈ 0.0074; allowed 4.5×.
        let path = ou(7, 8760);
        let x: Vec<f64> = path.prices().iter().map(|p| p.ln()).collect();
        let n = x.len() as f64;
        assert_eq!(x.len(), 8760 * 12);
        let s = 0.25f64;
        let phi = (-5.0f64 / 60.0).exp();
        let mu = 0.4f64.ln() - s * s / 2.0;
        let mean = x.iter().sum::<f64>() / n;
        let se_mean = s * ((1.0 + phi) / (1.0 - phi) / n).sqrt();
        assert!(
            (mean - mu).abs() < 4.5 * se_mean,
            "mean {mean} vs {mu} ± {se_mean}"
        );
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let rel_se = (2.0 * (1.0 + phi * phi) / (1.0 - phi * phi) / n).sqrt() / 2.0;
        let std = var.sqrt();
        assert!(
            (std / s - 1.0).abs() < 4.5 * rel_se,
            "std {std} vs {s} (relative se {rel_se})"
        );
        // Lag-1 autocorrelation near φ = 0.920 (its standard error ≈ √((1 − φ²)/n) ≈ 0.0012).
        let lag1 = x
            .windows(2)
            .map(|w| (w[0] - mean) * (w[1] - mean))
            .sum::<f64>()
            / (n - 1.0)
            / var;
        assert!((lag1 - phi).abs() < 0.01, "lag-1 {lag1} vs {phi}");
    }

    #[test]
    fn mean_reverting_path_is_deterministic_per_seed_and_capped() {
        assert_eq!(ou(3, 24), ou(3, 24));
        assert_ne!(ou(3, 24), ou(4, 24));
        let spec = SpotPriceSpec::MeanReverting {
            mean: 1.0,
            volatility: 0.5,
            reversion: SimDuration::from_secs(3600),
            step: SimDuration::from_secs(300),
            cap: 1.2,
        };
        let mut rng = RandomStreams::new(1).stream("spot_price/x");
        let path = SpotPricePath::build(&spec, SimDuration::from_secs(48 * 3600), &mut rng);
        assert!(path.prices().iter().all(|&p| p <= 1.2 && p > 0.0));
        assert!(
            path.prices().contains(&1.2),
            "a volatile path reaches the cap"
        );
    }
}
