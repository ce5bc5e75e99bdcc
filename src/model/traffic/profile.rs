//! Rate profiles: the intensity λ(t) of a non-homogeneous Poisson process, in requests per second.

use crate::engine::{SimDuration, SimTime};

/// How a spike falls back to its baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecayShape {
    /// Straight line from the peak to the baseline over the decay time.
    Linear,
    /// Exponential return to the baseline with the decay time as time constant (63 % of the way
    /// back after one decay time, 95 % after three).
    Exponential,
}

/// λ(t) [requests/s] over simulated time.
#[derive(Debug, Clone, PartialEq)]
pub enum RateProfile {
    /// The same rate throughout.
    Constant {
        /// [requests/s]
        rate: f64,
    },
    /// Piecewise constant: each step holds from its time until the next step. The first step is at 0.
    Steps {
        /// `(from, rate)` sorted by time.
        steps: Vec<(SimTime, f64)>,
    },
    /// Piecewise linear through points; constant before the first and after the last point.
    Ramp {
        /// `(at, rate)` sorted by time.
        points: Vec<(SimTime, f64)>,
    },
    /// A baseline, then a rise to `baseline × multiplier`, a plateau, and a decay back.
    Spike {
        /// Rate before and long after the spike [requests/s].
        baseline: f64,
        /// Peak rate / baseline (100 for a 100x spike).
        multiplier: f64,
        /// When the rise begins.
        start: SimTime,
        /// Duration of the linear rise.
        ramp_up: SimDuration,
        /// Duration at the peak.
        hold: SimDuration,
        /// Duration (linear) or time constant (exponential) of the decay.
        decay: SimDuration,
        /// Shape of the decay.
        decay_shape: DecayShape,
    },
    /// `mean · (1 + amplitude · cos(2π (t − peak_at) / period))`.
    Diurnal {
        /// Mean rate over a period [requests/s].
        mean: f64,
        /// Relative swing, 0 to 1.
        amplitude: f64,
        /// Length of one cycle (24 h for a day).
        period: SimDuration,
        /// Time of the peak within the first period.
        peak_at: SimDuration,
    },
    /// A profile with spikes on top: `base(t) × Π factorᵢ(t)`, each factor a [`RateProfile::Spike`]
    /// with baseline 1 (1 outside its spike, its multiplier at its peak). A viral event on a
    /// diurnal day multiplies whatever the hour's traffic is.
    Spiked {
        /// The traffic without the spikes.
        base: Box<RateProfile>,
        /// Spike factors (`Spike` profiles with baseline 1).
        spikes: Vec<RateProfile>,
    },
}

/// Diurnal and exponential-decay profiles are bounded piecewise over this many pieces per
/// period or decay time, so thinning wastes few candidates.
const PIECES: u64 = 48;

impl RateProfile {
    /// Bytes its steps, points and spikes take beyond the profile itself (a count trace's steps
    /// can be many), for the memory budget.
    pub fn bytes(&self) -> u64 {
        let point = std::mem::size_of::<(SimTime, f64)>();
        (match self {
            RateProfile::Steps { steps } => steps.capacity() * point,
            RateProfile::Ramp { points } => points.capacity() * point,
            RateProfile::Spiked { base, spikes } => {
                base.bytes() as usize + spikes.capacity() * std::mem::size_of::<RateProfile>()
            }
            _ => 0,
        }) as u64
    }

    /// λ(t) [requests/s].
    pub fn rate(&self, t: SimTime) -> f64 {
        match self {
            RateProfile::Constant { rate } => *rate,
            RateProfile::Steps { steps } => {
                let i = steps.partition_point(|(at, _)| *at <= t);
                if i == 0 {
                    0.0
                } else {
                    steps[i - 1].1
                }
            }
            RateProfile::Ramp { points } => {
                let i = points.partition_point(|(at, _)| *at <= t);
                if i == 0 {
                    points[0].1
                } else if i == points.len() {
                    points[i - 1].1
                } else {
                    let (t0, r0) = points[i - 1];
                    let (t1, r1) = points[i];
                    let f = (t - t0).as_secs_f64() / (t1 - t0).as_secs_f64();
                    r0 + (r1 - r0) * f
                }
            }
            RateProfile::Spike {
                baseline,
                multiplier,
                start,
                ramp_up,
                hold,
                decay,
                decay_shape,
            } => {
                let peak = baseline * multiplier;
                if t < *start {
                    return *baseline;
                }
                let since = (t - *start).as_secs_f64();
                let (ramp, hold, decay) = (
                    ramp_up.as_secs_f64(),
                    hold.as_secs_f64(),
                    decay.as_secs_f64(),
                );
                if since < ramp {
                    baseline + (peak - baseline) * since / ramp
                } else if since < ramp + hold {
                    peak
                } else {
                    let d = since - ramp - hold;
                    match decay_shape {
                        DecayShape::Linear if d < decay => peak - (peak - baseline) * d / decay,
                        DecayShape::Linear => *baseline,
                        DecayShape::Exponential => {
                            baseline + (peak - baseline) * (-d / decay).exp()
                        }
                    }
                }
            }
            RateProfile::Diurnal {
                mean,
                amplitude,
                period,
                peak_at,
            } => {
                let phase = (t.as_secs_f64() - peak_at.as_secs_f64()) / period.as_secs_f64();
                mean * (1.0 + amplitude * (std::f64::consts::TAU * phase).cos())
            }
            RateProfile::Spiked { base, spikes } => {
                spikes.iter().fold(base.rate(t), |rate, s| rate * s.rate(t))
            }
        }
    }

    /// An upper bound of λ on `[t, until)`, and `until`: the majorant that thinning samples from.
    /// Piecewise bounds keep thinning efficient: during the baseline of a 100x spike, candidates
    /// are drawn at the baseline rate, not at the peak.
    pub fn bound(&self, t: SimTime) -> (f64, SimTime) {
        match self {
            RateProfile::Constant { rate } => (*rate, SimTime::NEVER),
            RateProfile::Steps { steps } => {
                let i = steps.partition_point(|(at, _)| *at <= t);
                let until = steps.get(i).map_or(SimTime::NEVER, |s| s.0);
                (self.rate(t), until)
            }
            RateProfile::Ramp { points } => {
                let i = points.partition_point(|(at, _)| *at <= t);
                match points.get(i) {
                    None => (points[points.len() - 1].1, SimTime::NEVER),
                    Some(&(next_t, next_r)) => (self.rate(t).max(next_r), next_t),
                }
            }
            RateProfile::Spike {
                baseline,
                multiplier,
                start,
                ramp_up,
                hold,
                decay,
                decay_shape,
            } => {
                let peak = baseline * multiplier;
                let top = peak.max(*baseline);
                let decay_from = start.saturating_add(*ramp_up).saturating_add(*hold);
                if t < *start {
                    (*baseline, *start)
                } else if t < decay_from {
                    (top, decay_from)
                } else {
                    match decay_shape {
                        DecayShape::Linear => {
                            let end = decay_from.saturating_add(*decay);
                            if t < end {
                                (self.rate(t).max(*baseline), end)
                            } else {
                                (*baseline, SimTime::NEVER)
                            }
                        }
                        DecayShape::Exponential => {
                            // Monotone towards the baseline: the rate at the start of each piece
                            // bounds the piece (or the baseline, if the spike is a dip).
                            let piece = (decay.as_nanos() / PIECES).max(1);
                            let k = (t - decay_from).as_nanos() / piece;
                            let piece_start =
                                decay_from.saturating_add(SimDuration::from_nanos(k * piece));
                            let until = piece_start.saturating_add(SimDuration::from_nanos(piece));
                            (self.rate(piece_start).max(*baseline), until)
                        }
                    }
                }
            }
            RateProfile::Diurnal {
                mean,
                amplitude,
                period,
                ..
            } => {
                // |dλ/dt| ≤ mean·amplitude·2π/period, so over a piece of period/PIECES the rate
                // rises at most mean·amplitude·2π/PIECES above its value at either end.
                let piece = (period.as_nanos() / PIECES).max(1);
                let start = SimTime::from_nanos(t.as_nanos() / piece * piece);
                let until = start.saturating_add(SimDuration::from_nanos(piece));
                let slack = mean * amplitude * std::f64::consts::TAU / PIECES as f64;
                let bound =
                    (self.rate(start).max(self.rate(until)) + slack).min(mean * (1.0 + amplitude));
                (bound, until)
            }
            RateProfile::Spiked { base, spikes } => {
                // Every factor is non-negative, so the product of their bounds bounds the
                // product, until the first of them changes its bound.
                spikes.iter().fold(base.bound(t), |(bound, until), s| {
                    let (b, u) = s.bound(t);
                    (bound * b, until.min(u))
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> SimTime {
        SimTime::from_nanos(s * 1_000_000_000)
    }

    fn spike(shape: DecayShape) -> RateProfile {
        RateProfile::Spike {
            baseline: 10.0,
            multiplier: 100.0,
            start: at(100),
            ramp_up: SimDuration::from_secs(10),
            hold: SimDuration::from_secs(60),
            decay: SimDuration::from_secs(100),
            decay_shape: shape,
        }
    }

    #[test]
    fn spike_rises_holds_and_decays() {
        let p = spike(DecayShape::Linear);
        assert_eq!(p.rate(at(50)), 10.0);
        assert_eq!(p.rate(at(105)), 10.0 + 990.0 * 0.5);
        assert_eq!(p.rate(at(150)), 1000.0);
        assert_eq!(p.rate(at(220)), 1000.0 - 990.0 * 0.5);
        assert_eq!(p.rate(at(400)), 10.0);
        let e = spike(DecayShape::Exponential);
        assert!((e.rate(at(270)) - (10.0 + 990.0 * (-1f64).exp())).abs() < 1e-9);
    }

    #[test]
    fn steps_and_ramps_interpolate() {
        let s = RateProfile::Steps {
            steps: vec![(at(0), 5.0), (at(10), 50.0)],
        };
        assert_eq!(s.rate(at(9)), 5.0);
        assert_eq!(s.rate(at(10)), 50.0);
        let r = RateProfile::Ramp {
            points: vec![(at(10), 0.0), (at(20), 100.0)],
        };
        assert_eq!(r.rate(at(0)), 0.0);
        assert_eq!(r.rate(at(15)), 50.0);
        assert_eq!(r.rate(at(99)), 100.0);
    }

    #[test]
    fn diurnal_peaks_at_its_peak_time() {
        let d = RateProfile::Diurnal {
            mean: 100.0,
            amplitude: 0.5,
            period: SimDuration::from_secs(86_400),
            peak_at: SimDuration::from_secs(14 * 3600),
        };
        assert!((d.rate(at(14 * 3600)) - 150.0).abs() < 1e-9);
        assert!((d.rate(at(2 * 3600)) - 50.0).abs() < 1e-9);
    }

    /// A diurnal day with two 10x spikes, the second exponential and overlapping the first.
    fn spiked() -> RateProfile {
        let factor = |start: u64, shape| RateProfile::Spike {
            baseline: 1.0,
            multiplier: 10.0,
            start: at(start),
            ramp_up: SimDuration::from_secs(20),
            hold: SimDuration::from_secs(30),
            decay: SimDuration::from_secs(60),
            decay_shape: shape,
        };
        RateProfile::Spiked {
            base: Box::new(RateProfile::Diurnal {
                mean: 100.0,
                amplitude: 0.5,
                period: SimDuration::from_secs(1000),
                peak_at: SimDuration::from_secs(250),
            }),
            spikes: vec![
                factor(100, DecayShape::Linear),
                factor(140, DecayShape::Exponential),
            ],
        }
    }

    #[test]
    fn spikes_multiply_the_base_rate() {
        let p = spiked();
        // Before the spikes: the diurnal rate alone, 100·(1 + 0.5·cos(2π(50 − 250)/1000)).
        let diurnal =
            |s: f64| 100.0 * (1.0 + 0.5 * (std::f64::consts::TAU * (s - 250.0) / 1000.0).cos());
        assert!((p.rate(at(50)) - diurnal(50.0)).abs() < 1e-9);
        // At 130 s the first spike holds at 10x; the second has not begun.
        assert!((p.rate(at(130)) - 10.0 * diurnal(130.0)).abs() < 1e-9);
        // At 165 s the first decays linearly (15 s of 60: 10 − 9·0.25 = 7.75) while the second
        // rises (25 s into a 20 s ramp: at its peak, 10): 77.5x.
        assert!((p.rate(at(165)) - 77.5 * diurnal(165.0)).abs() < 1e-9);
        // Long after both: the diurnal rate again (the exponential tail is e^-14 of 9 away).
        assert!((p.rate(at(900)) - diurnal(900.0)).abs() < 1e-3 * diurnal(900.0));
    }

    #[test]
    fn bound_is_never_below_the_rate() {
        let profiles = [
            spike(DecayShape::Linear),
            spike(DecayShape::Exponential),
            RateProfile::Diurnal {
                mean: 100.0,
                amplitude: 0.9,
                period: SimDuration::from_secs(3600),
                peak_at: SimDuration::from_secs(600),
            },
            RateProfile::Ramp {
                points: vec![(at(0), 1.0), (at(100), 300.0), (at(200), 2.0)],
            },
            spiked(),
        ];
        for p in &profiles {
            for ms in (0..500_000).step_by(250) {
                let t = SimTime::from_nanos(ms * 1_000_000);
                let (b, until) = p.bound(t);
                assert!(until > t, "{p:?} at {t}");
                assert!(
                    b >= p.rate(t) - 1e-9,
                    "{p:?} at {t}: bound {b} < rate {}",
                    p.rate(t)
                );
            }
        }
    }
}
