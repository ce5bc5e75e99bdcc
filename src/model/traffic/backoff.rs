//! How long a client waits before retrying: exponential backoff with jitter.
//!
//! Owns the delay before a client's retry, a pure function of the retry's number, the previous
//! delay and a random stream handed in. It must not know why the request failed or whether a
//! retry is allowed: the world asks only once it has decided to retry.
//!
//! The four kinds of Marc Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog,
//! 2015, as written in the simulator behind that post (`aws-samples/aws-arch-backoff-simulator`,
//! `src/backoff_simulator.py`, whose client numbers its retries from 1 — `self.attempt += 1`
//! before `backoff(self.attempt)` — so the first retry waits up to `2 × base`):
//!
//! ```text
//! t             = min(cap, base × 2^attempt)               attempt 1 = the first retry
//! None          = t                                        (ExpoBackoff)
//! Full          = uniform(0, t)                            (ExpoBackoffFullJitter)
//! Equal         = t/2 + uniform(0, t/2)                    (ExpoBackoffEqualJitter)
//! Decorrelated  = min(cap, uniform(base, 3 × previous))    (ExpoBackoffDecorr; previous starts at base)
//! ```
//!
//! The post's conclusion: full and decorrelated jitter do the least work and finish soonest;
//! no jitter is worst. The AWS SDKs' "standard" retry mode uses full jitter: in the JavaScript
//! v3 SDK (`@smithy/util-retry`) a retry waits `floor(min(20 s, random() × 2^k × 100 ms))` ms,
//! `k` the retries already made (0 for the first), a 500 ms base after throttling errors, and 3
//! attempts in all by default ("Retry behavior", AWS SDKs and Tools reference guide). With the
//! numbering here that is `Full` with `base` 50 ms, `cap` 20 s.
//!
//! Times are whole nanoseconds and draws are uniform over whole nanoseconds, both ends
//! included. `2^attempt` saturates rather than overflows: past 63 doublings, or once
//! `base × 2^attempt` passes `u64::MAX` ns, `t` is `cap`.

use rand::Rng;

use crate::engine::StreamRng;
use crate::time::SimDuration;

/// How a backoff delay is randomized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// No randomness: `min(cap, base × 2^attempt)`; clients that failed together retry together.
    None,
    /// `uniform(0, min(cap, base × 2^attempt))`: the AWS SDKs' choice.
    Full,
    /// `t/2 + uniform(0, t/2)`, `t = min(cap, base × 2^attempt)`: never less than half.
    Equal,
    /// `min(cap, uniform(base, 3 × previous))`: grows from the previous delay, not the count.
    Decorrelated,
}

impl Jitter {
    /// Names as written in scenario files.
    pub const NAMES: &'static [&'static str] = &["none", "full", "equal", "decorrelated"];

    /// The jitter called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "none" => Jitter::None,
            "full" => Jitter::Full,
            "equal" => Jitter::Equal,
            "decorrelated" => Jitter::Decorrelated,
            _ => return None,
        })
    }

    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Jitter::None => "none",
            Jitter::Full => "full",
            Jitter::Equal => "equal",
            Jitter::Decorrelated => "decorrelated",
        }
    }
}

/// Clients' retries: how many attempts, which failures, and the backoff between them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClientRetry {
    /// Attempts per request, the first included (AWS SDK standard mode: 3).
    pub attempts: u32,
    /// The wait before each retry.
    pub backoff: Backoff,
    /// Which failures are retried.
    pub on: crate::model::retry::RetryOn,
}

/// A client's backoff between retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The delay unit: the first retry's ceiling is `2 × base`.
    pub base: SimDuration,
    /// No delay exceeds this.
    pub cap: SimDuration,
    /// How the delay is randomized.
    pub jitter: Jitter,
}

impl Backoff {
    /// `min(cap, base × 2^attempt)`, saturating instead of overflowing.
    pub fn ceiling(&self, attempt: u32) -> SimDuration {
        let doubled = 1u64
            .checked_shl(attempt)
            .map_or(u64::MAX, |f| self.base.as_nanos().saturating_mul(f));
        SimDuration::from_nanos(doubled.min(self.cap.as_nanos()))
    }

    /// The wait before retry number `attempt` (1 = the first retry); `previous` is the wait
    /// before the previous retry (zero for the first, read as `base`, as the post's simulator
    /// starts it), used by `Decorrelated` only. Draws from `rng` except for `None`.
    pub fn delay(&self, attempt: u32, previous: SimDuration, rng: &mut StreamRng) -> SimDuration {
        let nanos = match self.jitter {
            Jitter::None => self.ceiling(attempt).as_nanos(),
            Jitter::Full => rng.random_range(0..=self.ceiling(attempt).as_nanos()),
            Jitter::Equal => {
                let t = self.ceiling(attempt).as_nanos();
                // t/2 + uniform(0, t/2), kept within [ceil(t/2), t] for odd t.
                (t - t / 2) + rng.random_range(0..=t / 2)
            }
            Jitter::Decorrelated => {
                let base = self.base.as_nanos();
                let previous = if previous.is_zero() {
                    base
                } else {
                    previous.as_nanos()
                };
                let high = previous.saturating_mul(3).max(base);
                rng.random_range(base..=high).min(self.cap.as_nanos())
            }
        };
        SimDuration::from_nanos(nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RandomStreams;

    fn ms(x: u64) -> SimDuration {
        SimDuration::from_nanos(x * 1_000_000)
    }

    fn backoff(jitter: Jitter) -> Backoff {
        Backoff {
            base: ms(100),
            cap: SimDuration::from_secs(20),
            jitter,
        }
    }

    #[test]
    fn no_jitter_doubles_from_twice_the_base_up_to_the_cap() {
        // base 100 ms: 200, 400, 800 ms, …, 12.8 s at 7; 25.6 s at 8 is capped to 20 s.
        let b = backoff(Jitter::None);
        let mut rng = RandomStreams::new(1).stream("t");
        let d = |a| b.delay(a, SimDuration::ZERO, &mut rng.clone());
        assert_eq!(d(1), ms(200));
        assert_eq!(d(2), ms(400));
        assert_eq!(d(3), ms(800));
        assert_eq!(d(7), ms(12_800));
        assert_eq!(d(8), SimDuration::from_secs(20));
        // No overflow however far: 2^64 and beyond saturate to the cap.
        assert_eq!(d(64), SimDuration::from_secs(20));
        assert_eq!(d(u32::MAX), SimDuration::from_secs(20));
        // Even without a cap worth the name: saturates at u64::MAX ns.
        let huge = Backoff {
            cap: SimDuration::from_nanos(u64::MAX),
            ..b
        };
        assert_eq!(huge.ceiling(40).as_nanos(), u64::MAX);
        // None draws nothing: the stream is untouched.
        let before = rng.clone();
        b.delay(3, SimDuration::ZERO, &mut rng);
        assert_eq!(rng, before);
    }

    /// The mean wait before retry 3 over 10,000 draws \[ms\].
    fn mean_of_third_retry_ms(jitter: Jitter) -> f64 {
        let b = backoff(jitter);
        let mut rng = RandomStreams::new(7).stream("backoff");
        let n = 10_000u64;
        let sum: u64 = (0..n)
            .map(|_| b.delay(3, SimDuration::ZERO, &mut rng).as_nanos())
            .sum();
        sum as f64 / n as f64 / 1e6
    }

    #[test]
    fn full_jitter_mean_is_half_the_ceiling() {
        // Attempt 3: t = 800 ms; uniform(0, t) has mean 400 ms and sd t / sqrt(12) = 230.9 ms.
        // The mean of n = 10,000 draws has standard error 2.309 ms; 5 SE = 11.5 ms (two-sided
        // p ≈ 6e-7 under the normal approximation).
        let mean_ms = mean_of_third_retry_ms(Jitter::Full);
        assert!((mean_ms - 400.0).abs() < 11.5, "{mean_ms} ms");
    }

    #[test]
    fn equal_jitter_mean_is_three_quarters_of_the_ceiling() {
        // t/2 + uniform(0, t/2): mean 3t/4 = 600 ms at attempt 3, sd (t/2)/sqrt(12) = 115.5 ms;
        // SE over 10,000 draws 1.155 ms, 5 SE = 5.8 ms.
        let mean_ms = mean_of_third_retry_ms(Jitter::Equal);
        assert!((mean_ms - 600.0).abs() < 5.8, "{mean_ms} ms");
    }

    #[test]
    fn every_kind_stays_within_its_bounds() {
        let mut rng = RandomStreams::new(3).stream("backoff");
        let cap = SimDuration::from_secs(20);
        for jitter in [
            Jitter::None,
            Jitter::Full,
            Jitter::Equal,
            Jitter::Decorrelated,
        ] {
            let b = backoff(jitter);
            for _client in 0..500 {
                let mut previous = SimDuration::ZERO;
                for attempt in 1..=12 {
                    let d = b.delay(attempt, previous, &mut rng);
                    let t = b.ceiling(attempt);
                    let ok = match jitter {
                        Jitter::None => d == t,
                        Jitter::Full => d <= t,
                        Jitter::Equal => d.as_nanos() >= t.as_nanos() - t.as_nanos() / 2 && d <= t,
                        Jitter::Decorrelated => {
                            let p = if previous.is_zero() { b.base } else { previous };
                            let high = SimDuration::from_nanos(3 * p.as_nanos()).min(cap);
                            d >= b.base.min(cap) && d <= high
                        }
                    };
                    assert!(
                        ok,
                        "{jitter:?} attempt {attempt}: {d} (t = {t}, prev {previous})"
                    );
                    assert!(d <= cap);
                    previous = d;
                }
            }
        }
    }

    #[test]
    fn decorrelated_starts_from_base_and_grows_from_the_previous_wait() {
        // First retry: uniform(base, 3 × base) = [100, 300] ms; after a 5 s wait:
        // uniform(100 ms, 15 s); after 10 s: uniform(100 ms, 30 s) capped at 20 s, so a share
        // (30 − 20) / 29.9 = 33 % of draws sit exactly at the cap: over 3,000 draws between
        // 25 % and 42 % (binomial sd 0.86 %, 9 sd either way).
        let b = backoff(Jitter::Decorrelated);
        let mut rng = RandomStreams::new(9).stream("backoff");
        for _ in 0..1000 {
            let d = b.delay(1, SimDuration::ZERO, &mut rng);
            assert!(d >= ms(100) && d <= ms(300), "{d}");
            let d = b.delay(2, SimDuration::from_secs(5), &mut rng);
            assert!(d >= ms(100) && d <= SimDuration::from_secs(15), "{d}");
        }
        let at_cap = (0..3000)
            .filter(|_| b.delay(3, SimDuration::from_secs(10), &mut rng) == b.cap)
            .count();
        assert!((750..=1260).contains(&at_cap), "{at_cap}");
    }

    #[test]
    fn same_stream_same_delays_other_stream_other_delays() {
        let b = backoff(Jitter::Full);
        let draw = |name: &str| {
            let mut rng = RandomStreams::new(42).stream(name);
            (1..=10)
                .map(|a| b.delay(a, SimDuration::ZERO, &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw("client.retry"), draw("client.retry"));
        assert_ne!(draw("client.retry"), draw("other"));
    }

    #[test]
    fn names_round_trip() {
        for name in Jitter::NAMES {
            assert_eq!(Jitter::from_name(name).unwrap().name(), *name);
        }
        assert_eq!(Jitter::from_name("fulll"), None);
    }
}
