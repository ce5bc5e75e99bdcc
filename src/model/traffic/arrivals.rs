//! Poisson arrivals with a time-varying rate, by thinning (Lewis & Shedler, 1979) against the
//! profile's piecewise bound. When the candidate passes the end of a piece the draw restarts at
//! the piece boundary, which is exact because exponential gaps are memoryless.

use rand_distr::{Distribution, Exp1};

use super::{RateProfile, TraceArrivals, TraceData};
use crate::engine::{open_unit, StreamRng};
use crate::time::{SimDuration, SimTime};

/// How arrival times are generated from the rate profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrivalProcess {
    /// A (non-homogeneous) Poisson process: independent arrivals, the usual open-loop model.
    Poisson,
    /// Evenly spaced arrivals, as a fixed-rate load generator (wrk2) sends them: the first at 0,
    /// each next one `1/λ(t)` after the previous.
    Periodic,
}

/// Arrival times drawn from a rate profile by one of the [`ArrivalProcess`]es.
pub enum Arrivals {
    /// See [`ArrivalProcess::Poisson`].
    Poisson(PoissonArrivals),
    /// See [`ArrivalProcess::Periodic`].
    Periodic(PeriodicArrivals),
    /// Replayed from a trace file (boxed: it is larger than the others and there is one a run).
    Trace(Box<TraceArrivals>),
}

impl Arrivals {
    /// Arrivals in `[0, end)` of `profile` by `process`; Poisson draws come from `rng`.
    pub fn new(
        process: ArrivalProcess,
        profile: RateProfile,
        rng: StreamRng,
        end: SimTime,
    ) -> Self {
        match process {
            ArrivalProcess::Poisson => Arrivals::Poisson(PoissonArrivals::new(profile, rng, end)),
            ArrivalProcess::Periodic => Arrivals::Periodic(PeriodicArrivals {
                profile,
                next: SimTime::ZERO,
                end,
            }),
        }
    }

    /// The next arrival time, or `None` once past the end.
    #[inline]
    pub fn next_arrival(&mut self) -> Option<SimTime> {
        match self {
            Arrivals::Poisson(p) => p.next_arrival(),
            Arrivals::Periodic(p) => p.next_arrival(),
            Arrivals::Trace(t) => t.next_arrival(),
        }
    }

    /// The trace and record of the arrival last returned, when replaying a trace.
    #[inline]
    pub fn trace_record(&self) -> Option<(&TraceData, usize)> {
        match self {
            Arrivals::Trace(t) => Some((t.data(), t.current())),
            _ => None,
        }
    }
}

/// Evenly spaced arrivals at the profile's current rate.
pub struct PeriodicArrivals {
    profile: RateProfile,
    next: SimTime,
    end: SimTime,
}

impl PeriodicArrivals {
    fn next_arrival(&mut self) -> Option<SimTime> {
        loop {
            if self.next >= self.end {
                return None;
            }
            let rate = self.profile.rate(self.next);
            if rate <= 0.0 {
                // Nothing arrives until the bound changes.
                self.next = self.profile.bound(self.next).1;
                continue;
            }
            let at = self.next;
            self.next = at.saturating_add(
                SimDuration::from_secs_f64(1.0 / rate).max(SimDuration::from_nanos(1)),
            );
            return Some(at);
        }
    }
}

/// The arrival times of a non-homogeneous Poisson process.
pub struct PoissonArrivals {
    profile: RateProfile,
    rng: StreamRng,
    now: SimTime,
    end: SimTime,
    /// The last bound seen and nanoseconds per unit of exponential draw at it: a division
    /// saved on every arrival while the bound stays the same (a third of the cost of an
    /// arrival when it was divided each time).
    last_bound: f64,
    nanos_per_draw: f64,
}

impl PoissonArrivals {
    /// Arrivals of `profile` in `[0, end)`, drawn from `rng`.
    pub fn new(profile: RateProfile, rng: StreamRng, end: SimTime) -> Self {
        PoissonArrivals {
            profile,
            rng,
            now: SimTime::ZERO,
            end,
            last_bound: f64::NAN,
            nanos_per_draw: f64::NAN,
        }
    }

    /// The next arrival time, or `None` once past the end.
    pub fn next_arrival(&mut self) -> Option<SimTime> {
        loop {
            if self.now >= self.end {
                return None;
            }
            let (bound, until) = self.profile.bound(self.now);
            if bound <= 0.0 {
                self.now = until;
                continue;
            }
            if bound != self.last_bound {
                self.last_bound = bound;
                self.nanos_per_draw = 1e9 / bound;
            }
            let gap: f64 = Exp1.sample(&mut self.rng);
            let candidate = self
                .now
                .saturating_add(SimDuration::from_nanos_f64(gap * self.nanos_per_draw));
            if candidate >= until {
                self.now = until;
                continue;
            }
            self.now = candidate;
            let rate = self.profile.rate(candidate);
            // A constant rate equals its bound: accept without spending a draw.
            if rate >= bound || open_unit(&mut self.rng) * bound < rate {
                return (candidate < self.end).then_some(candidate);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RandomStreams;
    use crate::model::traffic::DecayShape;

    fn count(profile: RateProfile, from_s: u64, to_s: u64, end_s: u64) -> u64 {
        let rng = RandomStreams::new(3).stream("arrivals");
        let mut a = PoissonArrivals::new(profile, rng, SimTime::from_nanos(end_s * 1_000_000_000));
        let (from, to) = (from_s as f64, to_s as f64);
        let mut n = 0;
        while let Some(t) = a.next_arrival() {
            let s = t.as_secs_f64();
            if s >= from && s < to {
                n += 1;
            }
        }
        n
    }

    /// A Poisson count with mean m lies within m ± 4.42·sqrt(m) with probability 1 − 1e-5.
    fn assert_poisson(observed: u64, mean: f64) {
        let tol = 4.42 * mean.sqrt();
        assert!(
            (observed as f64 - mean).abs() <= tol,
            "observed {observed}, expected {mean} ± {tol}"
        );
    }

    #[test]
    fn constant_rate_counts_are_poisson() {
        assert_poisson(
            count(RateProfile::Constant { rate: 50.0 }, 0, 1000, 1000),
            50_000.0,
        );
    }

    #[test]
    fn spike_counts_match_the_integrated_rate_in_each_phase() {
        let p = RateProfile::Spike {
            baseline: 5.0,
            multiplier: 100.0,
            start: SimTime::from_nanos(600_000_000_000),
            ramp_up: SimDuration::from_secs(60),
            hold: SimDuration::from_secs(120),
            decay: SimDuration::from_secs(300),
            decay_shape: DecayShape::Linear,
        };
        assert_poisson(count(p.clone(), 0, 600, 2000), 5.0 * 600.0);
        // Ramp: the mean of a linear rise is the midpoint.
        assert_poisson(count(p.clone(), 600, 660, 2000), (5.0 + 500.0) / 2.0 * 60.0);
        assert_poisson(count(p.clone(), 660, 780, 2000), 500.0 * 120.0);
        assert_poisson(
            count(p.clone(), 780, 1080, 2000),
            (500.0 + 5.0) / 2.0 * 300.0,
        );
        assert_poisson(count(p, 1080, 2000, 2000), 5.0 * 920.0);
    }

    #[test]
    fn periodic_arrivals_are_evenly_spaced_from_zero() {
        let rng = RandomStreams::new(1).stream("arrivals");
        let end = SimTime::from_nanos(2_000_000_000);
        let mut a = Arrivals::new(
            ArrivalProcess::Periodic,
            RateProfile::Constant { rate: 4.0 },
            rng,
            end,
        );
        let times: Vec<u64> = std::iter::from_fn(|| a.next_arrival())
            .map(|t| t.as_nanos())
            .collect();
        let expected: Vec<u64> = (0..8).map(|k| k * 250_000_000).collect();
        assert_eq!(times, expected);
    }

    #[test]
    fn no_arrival_at_or_after_the_end() {
        let rng = RandomStreams::new(1).stream("arrivals");
        let end = SimTime::from_nanos(10_000_000_000);
        let mut a = PoissonArrivals::new(RateProfile::Constant { rate: 100.0 }, rng, end);
        let mut last = SimTime::ZERO;
        while let Some(t) = a.next_arrival() {
            assert!(t < end && t >= last);
            last = t;
        }
    }
}
