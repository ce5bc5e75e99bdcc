//! Integer simulated time: the bottom of the layers (`docs/architecture.md`). It depends on
//! nothing; every other module may use it.
//!
//! Time is a count of nanoseconds since the start of the run (like ns-3's `Time` and nexosim's
//! `MonotonicTime`): exact equality, exact ordering, no epsilon workarounds. Floating-point seconds
//! exist only at the edges, when parsing a scenario or writing results.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

const NANOS_PER_SECOND: f64 = 1e9;

/// A point in simulated time, in nanoseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(u64);

/// A span of simulated time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// A time after every event: used for "never" (for instance, no deadline).
    pub const NEVER: SimTime = SimTime(u64::MAX);

    /// A time from whole nanoseconds since the start.
    pub const fn from_nanos(nanos: u64) -> Self {
        SimTime(nanos)
    }

    /// Nanoseconds since the start.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Seconds since the start, for output.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SECOND
    }

    /// The duration from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }

    /// `self + d`, saturating at [`SimTime::NEVER`].
    pub fn saturating_add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// The longest span an input may describe: 1e9 s, about 31.7 years. A duration written in
    /// a scenario is at most this long, and a record of a data file (a trace, a count or spot
    /// trace, a price history) at most this long after the file's first record; beyond it a
    /// record is far in the future, a typo or a wrong unit. Well inside `u64` nanoseconds
    /// (about 584 years).
    pub const LONGEST_INPUT: SimDuration = SimDuration::from_secs(1_000_000_000);

    /// A duration of whole nanoseconds.
    pub const fn from_nanos(nanos: u64) -> Self {
        SimDuration(nanos)
    }

    /// A duration of whole seconds.
    pub const fn from_secs(secs: u64) -> Self {
        SimDuration(secs * 1_000_000_000)
    }

    /// A duration of `millis` milliseconds.
    pub const fn from_millis(millis: u64) -> Self {
        SimDuration(millis * 1_000_000)
    }

    /// A duration from floating seconds, rounded to the nearest nanosecond. Negative and NaN
    /// inputs give zero; values past the representable range saturate.
    pub fn from_secs_f64(secs: f64) -> Self {
        SimDuration::from_nanos_f64(secs * NANOS_PER_SECOND)
    }

    /// `nanos` rounded to the nearest nanosecond (halves up); negative or NaN gives zero, too
    /// large gives the longest duration.
    ///
    /// Hot path (every gap and service time): `f64::round` is a libm call on baseline x86-64
    /// (no SSE4.1), so round by adding ½ and truncating, a single saturating conversion.
    #[inline]
    pub fn from_nanos_f64(nanos: f64) -> Self {
        if nanos > 0.0 {
            // `as` saturates at u64::MAX.
            SimDuration((nanos + 0.5) as u64)
        } else {
            SimDuration(0)
        }
    }

    /// Nanoseconds in this duration.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Seconds in this duration, for output.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SECOND
    }

    /// True for the zero duration.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, rhs: SimDuration) -> SimTime {
        SimTime(self.0 + rhs.0)
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, rhs: SimDuration) {
        self.0 += rhs.0;
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    fn sub(self, rhs: SimTime) -> SimDuration {
        SimDuration(self.0 - rhs.0)
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, rhs: SimDuration) -> SimDuration {
        SimDuration(self.0 + rhs.0)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", self.as_secs_f64())
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", self.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_seconds_round_to_nearest_nanosecond() {
        assert_eq!(SimDuration::from_secs_f64(1.5).as_nanos(), 1_500_000_000);
        assert_eq!(SimDuration::from_secs_f64(1e-9 * 0.6).as_nanos(), 1);
        assert_eq!(SimDuration::from_secs_f64(-3.0), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(f64::NAN), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(1e30).as_nanos(), u64::MAX);
    }

    #[test]
    fn time_arithmetic_is_exact() {
        let t = SimTime::from_nanos(7) + SimDuration::from_nanos(5);
        assert_eq!(t.as_nanos(), 12);
        assert_eq!(t - SimTime::from_nanos(2), SimDuration::from_nanos(10));
        assert_eq!(
            SimTime::NEVER.saturating_add(SimDuration::from_secs(1)),
            SimTime::NEVER
        );
    }
}
