//! Rate profiles: the intensity λ(t) of a non-homogeneous Poisson process, in requests per second.

use crate::time::{SimDuration, SimTime};

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

    /// The highest λ on `[from, to)` and a time it is reached (`from` if the span is empty).
    ///
    /// Exact for every profile alone: each is monotone between its breakpoints (a spike's start,
    /// the end of its rise, of its hold, of its decay; a ramp's points; a step's start), so its
    /// maximum is at one end of a piece, and a diurnal profile reaches `mean · (1 + amplitude)`
    /// wherever a peak falls in the span. With spikes on top the span is cut at every spike's
    /// breakpoints, where each factor is monotone: each piece is bounded by the base's peak on
    /// it times each factor's larger end. That is the true peak where the factors rise, hold or
    /// fall together (or do not overlap), and an upper bound where one rises while another
    /// falls. Cost: O(breakpoints in the span), with the steps of a `Steps` base visited once.
    pub fn peak_on(&self, from: SimTime, to: SimTime) -> (f64, SimTime) {
        if to <= from {
            return (self.rate(from), from);
        }
        let last = SimTime::from_nanos(to.as_nanos() - 1);
        let highest = |candidates: &mut dyn Iterator<Item = SimTime>| {
            candidates
                .filter(|t| *t >= from && *t < to)
                .map(|t| (self.rate(t), t))
                .fold(
                    (self.rate(from), from),
                    |best, c| if c.0 > best.0 { c } else { best },
                )
        };
        match self {
            RateProfile::Constant { rate } => (*rate, from),
            RateProfile::Steps { steps } => {
                let i = steps.partition_point(|(at, _)| *at <= from);
                steps[i..].iter().take_while(|(at, _)| *at < to).fold(
                    (self.rate(from), from),
                    |best, &(at, r)| {
                        if r > best.0 {
                            (r, at)
                        } else {
                            best
                        }
                    },
                )
            }
            RateProfile::Ramp { points } => {
                highest(&mut points.iter().map(|p| p.0).chain(std::iter::once(last)))
            }
            RateProfile::Spike { .. } => {
                let cuts = self.breakpoints();
                highest(
                    &mut cuts
                        .into_iter()
                        .flat_map(|p| [p, SimTime::from_nanos(p.as_nanos().saturating_sub(1))])
                        .chain(std::iter::once(last)),
                )
            }
            RateProfile::Diurnal {
                mean,
                amplitude,
                period,
                peak_at,
            } => {
                let (period, first) = (
                    u128::from(period.as_nanos().max(1)),
                    u128::from(peak_at.as_nanos()),
                );
                let from_ns = u128::from(from.as_nanos());
                let first = first % period;
                let peak = if from_ns <= first {
                    first
                } else {
                    first + (from_ns - first).div_ceil(period) * period
                };
                if peak < u128::from(to.as_nanos()) {
                    (mean * (1.0 + amplitude), SimTime::from_nanos(peak as u64))
                } else {
                    highest(&mut std::iter::once(last))
                }
            }
            RateProfile::Spiked { base, spikes } => {
                let mut cuts: Vec<SimTime> = spikes
                    .iter()
                    .flat_map(|s| s.breakpoints())
                    .filter(|t| *t > from && *t < to)
                    .chain([from, to])
                    .collect();
                cuts.sort_unstable();
                cuts.dedup();
                let mut best = (0.0, from);
                for piece in cuts.windows(2) {
                    let (a, b) = (piece[0], piece[1]);
                    let end = SimTime::from_nanos(b.as_nanos() - 1);
                    let (base_peak, at) = base.peak_on(a, b);
                    let factor: f64 = spikes.iter().map(|s| s.rate(a).max(s.rate(end))).product();
                    if base_peak * factor > best.0 {
                        best = (base_peak * factor, at);
                    }
                }
                best
            }
        }
    }

    /// A spike's breakpoints: where it starts, ends its rise, its hold and (linear) its decay.
    /// Empty for other profiles.
    fn breakpoints(&self) -> Vec<SimTime> {
        match self {
            RateProfile::Spike {
                start,
                ramp_up,
                hold,
                decay,
                decay_shape,
                ..
            } => {
                let risen = start.saturating_add(*ramp_up);
                let held = risen.saturating_add(*hold);
                let mut cuts = vec![*start, risen, held];
                if *decay_shape == DecayShape::Linear {
                    cuts.push(held.saturating_add(*decay));
                }
                cuts
            }
            _ => Vec::new(),
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

    /// The peak by brute force: λ at every millisecond of the span.
    fn sampled_peak(p: &RateProfile, from_ms: u64, to_ms: u64) -> f64 {
        (from_ms..to_ms)
            .map(|ms| p.rate(SimTime::from_nanos(ms * 1_000_000)))
            .fold(0.0, f64::max)
    }

    #[test]
    fn peaks_are_exact_for_every_profile_alone() {
        let ms = |m: u64| SimTime::from_nanos(m * 1_000_000);
        assert_eq!(
            spike(DecayShape::Linear).peak_on(ms(0), ms(500_000)),
            (1000.0, at(110))
        );
        // Before the rise ends, the peak is the last instant of the span.
        let (p, _) = spike(DecayShape::Linear).peak_on(ms(0), ms(105_000));
        assert!(
            (p - (10.0 + 990.0 * (4_999.999_999 / 10_000.0))).abs() < 1e-3,
            "{p}"
        );
        // After the spike, the decay's first instant.
        let (p, when) = spike(DecayShape::Exponential).peak_on(ms(200_000), ms(300_000));
        assert_eq!(when, ms(200_000));
        assert_eq!(p, spike(DecayShape::Exponential).rate(ms(200_000)));
        let diurnal = RateProfile::Diurnal {
            mean: 100.0,
            amplitude: 0.5,
            period: SimDuration::from_secs(1000),
            peak_at: SimDuration::from_secs(250),
        };
        // A span holding a peak (the second, at 1250 s); one holding none peaks at an end.
        assert_eq!(
            diurnal.peak_on(ms(300_000), ms(1_300_000)),
            (150.0, at(1250))
        );
        assert_eq!(
            diurnal.peak_on(ms(300_000), ms(600_000)),
            (diurnal.rate(ms(300_000)), ms(300_000))
        );
        let steps = RateProfile::Steps {
            steps: vec![(at(0), 5.0), (at(10), 50.0), (at(20), 7.0)],
        };
        assert_eq!(steps.peak_on(at(12), at(30)), (50.0, at(12)));
        assert_eq!(steps.peak_on(at(0), at(10)), (5.0, at(0)));
        assert_eq!(steps.peak_on(at(0), at(11)), (50.0, at(10)));
        let ramp = RateProfile::Ramp {
            points: vec![(at(0), 1.0), (at(100), 300.0), (at(200), 2.0)],
        };
        assert_eq!(ramp.peak_on(at(0), at(1000)), (300.0, at(100)));
        for p in [spike(DecayShape::Linear), diurnal, ramp] {
            let (peak, _) = p.peak_on(ms(0), ms(400_000));
            let sampled = sampled_peak(&p, 0, 400_000);
            assert!(
                peak >= sampled && peak - sampled < 1e-6 * peak,
                "{p:?}: {peak} vs {sampled}"
            );
        }
    }

    #[test]
    fn overlapping_spikes_multiply_at_the_peak() {
        let factor = |start: u64, multiplier: f64| RateProfile::Spike {
            baseline: 1.0,
            multiplier,
            start: at(start),
            ramp_up: SimDuration::from_secs(10),
            hold: SimDuration::from_secs(100),
            decay: SimDuration::from_secs(10),
            decay_shape: DecayShape::Linear,
        };
        let two = |second: u64| RateProfile::Spiked {
            base: Box::new(RateProfile::Constant { rate: 1000.0 }),
            spikes: vec![factor(100, 10.0), factor(second, 100.0)],
        };
        // Holding together from 160 s to 210 s: 1000 × 10 × 100.
        assert_eq!(two(150).peak_on(at(0), at(3600)), (1e6, at(160)));
        // Apart: the larger one alone.
        assert_eq!(two(1000).peak_on(at(0), at(3600)).0, 1e5);
        // On a diurnal day, as sampled.
        let p = RateProfile::Spiked {
            base: Box::new(RateProfile::Diurnal {
                mean: 100.0,
                amplitude: 0.5,
                period: SimDuration::from_secs(1000),
                peak_at: SimDuration::from_secs(250),
            }),
            spikes: vec![factor(100, 10.0), factor(150, 4.0)],
        };
        let (peak, _) = p.peak_on(at(0), at(2000));
        let sampled = sampled_peak(&p, 0, 2_000_000);
        assert!(
            peak >= sampled && peak < 1.01 * sampled,
            "{peak} vs {sampled}"
        );
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
