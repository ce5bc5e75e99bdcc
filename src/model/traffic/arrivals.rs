//! Poisson arrivals with a time-varying rate, by thinning (Lewis & Shedler, 1979) against the
//! profile's piecewise bound. When the candidate passes the end of a piece the draw restarts at
//! the piece boundary, which is exact because exponential gaps are memoryless.

use rand_distr::{Distribution, Exp1};

use super::RateProfile;
use crate::engine::{open_unit, SimDuration, SimTime, StreamRng};

/// The arrival times of a non-homogeneous Poisson process.
pub struct PoissonArrivals {
    profile: RateProfile,
    rng: StreamRng,
    now: SimTime,
    end: SimTime,
}

impl PoissonArrivals {
    /// Arrivals of `profile` in `[0, end)`, drawn from `rng`.
    pub fn new(profile: RateProfile, rng: StreamRng, end: SimTime) -> Self {
        PoissonArrivals {
            profile,
            rng,
            now: SimTime::ZERO,
            end,
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
            let gap: f64 = Exp1.sample(&mut self.rng);
            let candidate = self.now.saturating_add(SimDuration::from_secs_f64(gap / bound));
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
        assert_poisson(count(RateProfile::Constant { rate: 50.0 }, 0, 1000, 1000), 50_000.0);
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
        assert_poisson(count(p.clone(), 780, 1080, 2000), (500.0 + 5.0) / 2.0 * 300.0);
        assert_poisson(count(p, 1080, 2000, 2000), 5.0 * 920.0);
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
