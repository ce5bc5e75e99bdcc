//! The fit: the efficiency coefficients that make a replay of a run reproduce its measured
//! latencies, by Nelder-Mead ([`super::nelder_mead`]) as the prototype does
//! (`stepfit.py`, `fit` and `loss`; README of the research, "Calibrate").
//!
//! Three parameters move, each in a space where any real is valid: logit of the compute
//! efficiency, logit of the memory efficiency (both stay in (0, 1)) and the natural log of the
//! per-layer overhead in µs (stays positive). The replay is only ever given efficiencies of
//! 0.001 to 1 − 10⁻⁶ and overheads of 1 ns to 100 ms per layer: an efficiency of 0 would make a
//! step last forever. The interconnect's constants (all-reduce latency
//! and efficiency) and the per-step overhead stay as `start` gives them: a TP-1 run cannot
//! teach the cost of TP, and fitting them on a TP-2 run confounds them with the memory
//! efficiency (research README, "Being honest about what (b) proves").
//!
//! The objective is Σ w·ln(simulated / measured)² over the mean (w 1), p50 (w ½) and p90 (w 1)
//! of TTFT, TPOT and E2E: relative errors, so that seconds of TTFT do not drown milliseconds of
//! TPOT; p99 is left out as too noisy on a few hundred requests, and shown in the table only.
//! A statistic is floored at 1 ns before its log. A replay that gives no statistics (no
//! requests, or not one per request) counts as +∞.
//!
//! Deterministic: a fixed start (`start`, normally `Coefficients::defaults`), fixed steps
//! (0.6 in logit, 0.7 in log, the prototype's), at most [`MAX_EVALUATIONS`] replays in all.

use super::nelder_mead;
use super::stats::{Metric, RunStats, Stat};
use super::RequestTimes;
use crate::model::llm::config::Coefficients;

/// Replays the fit may run, the last one (at the result, for the table) included.
pub const MAX_EVALUATIONS: u32 = 200;

/// The simplex's values may differ by this much when the fit stops early: about 10⁻⁵ relative
/// error per statistic, far below what a measured run's noise lets a fit tell apart.
pub const TOLERANCE: f64 = 1e-10;

/// The statistics the objective weighs, and their weights (the prototype's `KEYS`, `WEIGHTS`).
pub const WEIGHTS: [(Stat, f64); 3] = [(Stat::Mean, 1.0), (Stat::P50, 0.5), (Stat::P90, 1.0)];

/// A fit's result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// The fitted coefficients.
    pub coefficients: Coefficients,
    /// The objective there.
    pub loss: f64,
    /// The objective at the start.
    pub start_loss: f64,
    /// Replays run, the last one included.
    pub evaluations: u32,
    /// The replay's statistics at the fitted coefficients.
    pub simulated: RunStats,
}

/// A fit that cannot give a result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// The replay gave no statistics at the fitted coefficients.
    #[error("the replay at the fitted coefficients gave {got} request times for {expected} requests, or none with more than one token\nhelp: this is a bug in the replay: report it with the run")]
    Unusable {
        /// Requests in the run.
        expected: usize,
        /// Times the replay gave.
        got: usize,
    },
}

/// The objective: Σ w·ln(simulated / measured)² (see the module doc).
pub fn loss(measured: &RunStats, simulated: &RunStats) -> f64 {
    const FLOOR: f64 = 1e-9;
    let mut total = 0.0;
    for metric in Metric::ALL {
        for (stat, w) in WEIGHTS {
            let m = measured.get(metric).get(stat).max(FLOOR);
            let s = simulated.get(metric).get(stat).max(FLOOR);
            total += w * (s / m).ln().powi(2);
        }
    }
    total
}

/// Fits the compute and memory efficiencies and the per-layer overhead of `start` so that
/// `simulate` (the replay of the run of `requests` requests) reproduces `measured`.
pub fn fit(
    measured: &RunStats,
    requests: usize,
    start: &Coefficients,
    mut simulate: impl FnMut(&Coefficients) -> Vec<RequestTimes>,
) -> Result<Fit, FitError> {
    let mut stats_of = |co: &Coefficients| {
        let times = simulate(co);
        let got = times.len();
        (got == requests)
            .then(|| RunStats::of(&times))
            .flatten()
            .ok_or(FitError::Unusable {
                expected: requests,
                got,
            })
    };
    let x0 = to_params(start);
    let mut start_loss = f64::INFINITY;
    let minimum = nelder_mead::minimize(
        |x: &[f64; 3]| {
            let value =
                stats_of(&from_params(x, start)).map_or(f64::INFINITY, |s| loss(measured, &s));
            if *x == x0 {
                start_loss = value;
            }
            value
        },
        x0,
        STEPS,
        MAX_EVALUATIONS - 1,
        TOLERANCE,
    );
    let coefficients = from_params(&minimum.x, start);
    let simulated = stats_of(&coefficients)?;
    Ok(Fit {
        coefficients,
        loss: minimum.value,
        start_loss,
        evaluations: minimum.evaluations + 1,
        simulated,
    })
}

/// The start simplex's steps: 0.6 in logit (an efficiency of 0.5 to 0.65), 0.7 in log (an
/// overhead times 2).
const STEPS: [f64; 3] = [0.6, 0.6, 0.7];

/// Efficiencies are kept this far inside (0, 1), so that their logit is finite.
const EDGE: f64 = 1e-6;

/// The parameters of `co`: logit eff_c, logit eff_m, ln(overhead per layer / 1 µs) (an
/// overhead of zero starts from 1 µs: its log is −∞).
fn to_params(co: &Coefficients) -> [f64; 3] {
    let logit = |p: f64| {
        let p = p.clamp(EDGE, 1.0 - EDGE);
        (p / (1.0 - p)).ln()
    };
    let overhead_us = if co.overhead_per_layer > 0.0 {
        co.overhead_per_layer * 1e6
    } else {
        1.0
    };
    [
        logit(co.compute_efficiency),
        logit(co.memory_efficiency),
        overhead_us.ln(),
    ]
}

/// The coefficients a replay is ever given: efficiencies of 0.001 to 1 − 10⁻⁶ and a per-layer
/// overhead of 1 ns to 100 ms. The simplex may wander far in an unbounded space, and a replay
/// with an efficiency of 0 (a step time of ∞) would never end; beyond these bounds the
/// objective is flat and the simplex comes back.
const LOGIT_RANGE: (f64, f64) = (-6.906_754_778_648_554, 13.815_509_557_963_773);
/// ln(1e-3 µs) to ln(1e5 µs).
const LOG_OVERHEAD_RANGE: (f64, f64) = (-6.907_755_278_982_137, 11.512_925_464_970_229);

/// `base` with the coefficients of the parameters `x`, within the bounds above.
fn from_params(x: &[f64; 3], base: &Coefficients) -> Coefficients {
    let sigmoid = |z: f64| 1.0 / (1.0 + (-z.clamp(LOGIT_RANGE.0, LOGIT_RANGE.1)).exp());
    let (lo, hi) = LOG_OVERHEAD_RANGE;
    Coefficients {
        compute_efficiency: sigmoid(x[0]),
        memory_efficiency: sigmoid(x[1]),
        overhead_per_layer: x[2].clamp(lo, hi).exp() * 1e-6,
        ..*base
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::llm::gpu::InterconnectKind;
    use crate::time::{SimDuration, SimTime};

    /// A stand-in for the engine's replay with a closed form: each request alone on a GPU of
    /// 100 TFLOP/s and 1 TB/s, a model of 32 layers, 16 GB of weights and 2 GFLOP per token.
    /// TTFT = 32·overhead + input·2e9 / (1e14·eff_c); each later token takes 32·overhead +
    /// 16e9 / (1e12·eff_m). TTFT's spread over the prompts separates eff_c from the overhead;
    /// TPOT then gives eff_m.
    fn synthetic(requests: &[(u64, u32, u32)], co: &Coefficients) -> Vec<RequestTimes> {
        let overhead = 32.0 * co.overhead_per_layer;
        let per_token = overhead + 16e9 / (1e12 * co.memory_efficiency);
        requests
            .iter()
            .map(|&(arrival_ms, input, output)| {
                let arrival = SimTime::ZERO + SimDuration::from_millis(arrival_ms);
                let ttft = overhead + f64::from(input) * 2e9 / (1e14 * co.compute_efficiency);
                let first = arrival + SimDuration::from_secs_f64(ttft);
                let last = first + SimDuration::from_secs_f64(per_token * f64::from(output - 1));
                RequestTimes {
                    arrival,
                    first_token: first,
                    last_token: last,
                    output,
                }
            })
            .collect()
    }

    /// 60 requests with prompts of 100 to 6000 tokens and outputs of 20 to 400.
    fn workload() -> Vec<(u64, u32, u32)> {
        (0..60u32)
            .map(|i| {
                (
                    u64::from(i) * 250,
                    100 + (i * 977) % 5900,
                    20 + (i * 131) % 380,
                )
            })
            .collect()
    }

    #[test]
    fn recovers_the_coefficients_of_a_synthetic_replay_within_1_percent() {
        let reqs = workload();
        let truth = Coefficients {
            compute_efficiency: 0.61,
            memory_efficiency: 0.72,
            overhead_per_layer: 25e-6,
            ..Coefficients::defaults(InterconnectKind::Pcie)
        };
        let measured = RunStats::of(&synthetic(&reqs, &truth)).unwrap();
        let start = Coefficients::defaults(InterconnectKind::Pcie);
        let mut replays = 0;
        let fit = fit(&measured, reqs.len(), &start, |co| {
            replays += 1;
            synthetic(&reqs, co)
        })
        .unwrap();
        let c = fit.coefficients;
        let off = |got: f64, want: f64| (got - want).abs() / want;
        assert!(off(c.compute_efficiency, 0.61) < 0.01, "{c:?}");
        assert!(off(c.memory_efficiency, 0.72) < 0.01, "{c:?}");
        assert!(off(c.overhead_per_layer, 25e-6) < 0.01, "{c:?}");
        assert!(fit.loss < fit.start_loss && fit.loss < 1e-6, "{fit:?}");
        assert_eq!(fit.evaluations, replays);
        assert!(fit.evaluations <= MAX_EVALUATIONS);
        // The interconnect's constants and the per-step overhead are the start's.
        assert_eq!(c.allreduce_latency, start.allreduce_latency);
        assert_eq!(c.allreduce_efficiency, start.allreduce_efficiency);
        assert_eq!(c.overhead_per_step, start.overhead_per_step);
    }

    #[test]
    fn the_fit_is_deterministic() {
        let reqs = workload();
        let truth = Coefficients {
            compute_efficiency: 0.3,
            ..Coefficients::defaults(InterconnectKind::NvLink)
        };
        let measured = RunStats::of(&synthetic(&reqs, &truth)).unwrap();
        let start = Coefficients::defaults(InterconnectKind::NvLink);
        let a = fit(&measured, reqs.len(), &start, |co| synthetic(&reqs, co)).unwrap();
        let b = fit(&measured, reqs.len(), &start, |co| synthetic(&reqs, co)).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn a_replay_that_loses_requests_is_an_error() {
        let reqs = workload();
        let measured = RunStats::of(&synthetic(
            &reqs,
            &Coefficients::defaults(InterconnectKind::Pcie),
        ))
        .unwrap();
        let err = fit(
            &measured,
            reqs.len(),
            &Coefficients::defaults(InterconnectKind::Pcie),
            |co| {
                let mut t = synthetic(&reqs, co);
                t.pop();
                t
            },
        )
        .unwrap_err();
        assert_eq!(
            err,
            FitError::Unusable {
                expected: 60,
                got: 59
            }
        );
    }

    #[test]
    fn a_replay_is_never_given_coefficients_out_of_bounds() {
        let base = Coefficients::defaults(InterconnectKind::Pcie);
        for x in [[-1e6, -1e6, -1e6], [1e6, 1e6, 1e6], [-40.0, 40.0, 0.0]] {
            let c = from_params(&x, &base);
            for e in [c.compute_efficiency, c.memory_efficiency] {
                assert!(0.000_999 < e && e < 1.0, "{x:?} -> {c:?}");
            }
            assert!(
                (0.999e-9..=1.001e-1).contains(&c.overhead_per_layer),
                "{c:?}"
            );
        }
        let low = from_params(&[-1e6, -1e6, -1e6], &base);
        assert!(
            (low.compute_efficiency - 1e-3).abs() < 1e-9
                && (low.overhead_per_layer - 1e-9).abs() < 1e-15
        );
        let high = from_params(&[1e6, 1e6, 1e6], &base);
        assert!(
            (high.memory_efficiency - (1.0 - 1e-6)).abs() < 1e-9
                && (high.overhead_per_layer - 0.1).abs() < 1e-9
        );
    }

    #[test]
    fn the_loss_weighs_log_errors() {
        let s = crate::calibrate::stats::Summary {
            mean: 1.0,
            p50: 1.0,
            p90: 1.0,
            p99: 1.0,
        };
        let measured = RunStats {
            ttft: s,
            tpot: s,
            e2e: s,
        };
        let mut simulated = measured;
        assert_eq!(loss(&measured, &simulated), 0.0);
        simulated.ttft.p50 = std::f64::consts::E; // ln = 1, weight ½
        simulated.e2e.p99 = 5.0; // p99 is not weighed
        assert!((loss(&measured, &simulated) - 0.5).abs() < 1e-12);
    }
}
