//! Slow start: how much of its weight a target gets as a function of the time since it joined.
//!
//! A pure function of time. The world decides when a target joins (and rejoins), calls
//! [`SlowStart::factor`] on its own schedule (say every second), turns the factor into an integer
//! weight with [`effective_weight`] and hands it to [`super::Balancer::set_weight`]. This module
//! knows neither the clock nor the balancer.
//!
//! Two shapes, from the two systems that document theirs:
//!
//! - **AWS ALB** (`slow_start.duration_seconds`, 30–900 s, 0 = off): "The load balancer linearly
//!   increases the number of requests that it can send to a target in slow start mode. After a
//!   healthy target exits slow start mode, the load balancer can send it a full share of
//!   requests" (Elastic Load Balancing, *Edit target group attributes for your Application Load
//!   Balancer*, "Slow start mode",
//!   <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#slow-start-mode>).
//!   Its considerations, which are the world's to apply:
//!   - targets enter slow start "when they are considered healthy by the target group"; the ramp
//!     starts then, not at registration;
//!   - "When you enable slow start for an empty target group and then register targets using a
//!     single registration operation, these targets do not enter slow start mode. Newly
//!     registered targets enter slow start mode only when there is at least one healthy target
//!     that is not in slow start mode." The first targets of a group start at full weight;
//!   - "If you deregister a target in slow start mode, the target exits slow start mode. If you
//!     register the same target again, it enters slow start mode when it is considered healthy";
//!   - "If a target in slow start mode becomes unhealthy, the target exits slow start mode.
//!     When the target becomes healthy, it enters slow start mode again" — the ramp restarts
//!     from zero, it does not resume;
//!   - "You can't enable slow start mode when using the least outstanding requests or weighted
//!     random routing algorithms": ALB ramps `round_robin` only.
//!
//!   nginx Plus's `slow_start=time` server parameter ("sets the time during which the server will
//!   recover its weight from zero to a nominal value", `ngx_http_upstream_module`) is the same
//!   idea; nginx does not publish its shape, and the linear one stands in for it. It "cannot be
//!   used along with the hash, ip_hash, and random load balancing methods".
//! - **Envoy** (`slow_start_config { slow_start_window, aggression, min_weight_percent }` on the
//!   `ROUND_ROBIN` and `LEAST_REQUEST` policies only): `EdfLoadBalancerBase::
//!   applySlowStartFactor` in `source/common/upstream/load_balancer_impl.cc` computes, while the
//!   time since the host last passed a health check (or was added, without active health checks)
//!   is below the window,
//!   ```text
//!   time_factor = max(1 ms, in_healthy_state_duration) / slow_start_window     (whole ms)
//!   factor      = max(min_weight_percent / 100, time_factor ^ (1 / aggression))
//!   weight      = host_weight × factor
//!   ```
//!   and the full weight after it; `aggression` defaults to 1.0 (linear), `min_weight_percent` to
//!   10 %, "to make sure the EDF scheduler has a reasonable deadline" (Envoy docs, *Slow start
//!   mode*). Envoy counts durations in whole milliseconds (`duration_cast<milliseconds>`); so does
//!   [`SlowStart::factor`] for this shape.
//!
//! Weights are integers, so [`effective_weight`] scales them: `base × scale × factor`, rounded,
//! never below 1. The ramp then moves in steps of `1 / (base × scale)` of the full weight (with
//! `scale` 1000 and base weight 1, steps of 0.1 %), and a factor however small still leaves the
//! target weight 1: a weight of 0 would starve it forever (the smooth WRR never adds to its
//! current weight, Maglev and weighted random drop it). Choose the scale once per balancer, when
//! slow start is configured, and build the balancer with every weight already scaled: a global
//! rescale in the middle of a run (scaling every weight only while some target ramps) would
//! disturb nginx's current weights, which are in weight units, and, worse, Envoy's EDF, where a
//! re-inserted target at the new scale would jump ahead of entries still due at the old one.
//! Smooth WRR, least connections and the EDF are scale-invariant, so a fixed scale changes no
//! pick. Both products stay far from overflow: weights are at most 1000 in a scenario, so
//! `1000 × 1000 = 10^6` per target.

use crate::time::SimDuration;

/// ALB's shortest slow start duration: 30 s.
pub const ALB_MIN_DURATION: SimDuration = SimDuration::from_secs(30);
/// ALB's longest slow start duration: 900 s (15 minutes).
pub const ALB_MAX_DURATION: SimDuration = SimDuration::from_secs(900);
/// Envoy's default `aggression`: 1.0, a linear ramp.
pub const ENVOY_DEFAULT_AGGRESSION: f64 = 1.0;
/// Envoy's default `min_weight_percent`: 10 %.
pub const ENVOY_DEFAULT_MIN_WEIGHT_PERCENT: f64 = 10.0;
/// A weight scale whose ramp moves in 0.1 % steps of a weight-1 target (see [`effective_weight`]).
pub const DEFAULT_SCALE: u32 = 1000;

/// Slow start settings: the shape of a joining target's ramp.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SlowStart {
    /// AWS ALB (and nginx Plus `slow_start=`): the weight rises linearly to full over
    /// `duration`.
    Linear {
        /// Length of the ramp (ALB: 30 s to 900 s).
        duration: SimDuration,
    },
    /// Envoy `slow_start_config`.
    Envoy {
        /// `slow_start_window`: length of the ramp (at least 1 ms; Envoy counts in ms).
        window: SimDuration,
        /// `aggression` (> 0, default 1.0): the factor is `time_factor ^ (1 / aggression)`, so 2
        /// ramps as a square root (fast, then slow), 0.5 as a square (slow, then fast).
        aggression: f64,
        /// `min_weight_percent` (0 to 100, default 10): the factor's floor, in percent.
        min_weight_percent: f64,
    },
}

impl SlowStart {
    /// Envoy's shape with its defaults (aggression 1.0, min weight 10 %) over `window`.
    pub fn envoy(window: SimDuration) -> Self {
        SlowStart::Envoy {
            window,
            aggression: ENVOY_DEFAULT_AGGRESSION,
            min_weight_percent: ENVOY_DEFAULT_MIN_WEIGHT_PERCENT,
        }
    }

    /// The length of the ramp: past it the factor is 1.
    pub fn window(&self) -> SimDuration {
        match *self {
            SlowStart::Linear { duration } => duration,
            SlowStart::Envoy { window, .. } => window,
        }
    }

    /// The share of its weight a target gets `since_join` after it entered slow start: in
    /// (0, 1], and exactly 1 from the end of the window on.
    ///
    /// - `Linear`: `max(since_join, 1 ms) / duration`. ALB starts from zero; the 1 ms floor
    ///   (Envoy's) keeps the factor positive at the instant of joining. A zero duration is
    ///   slow start off: 1.
    /// - `Envoy`: `applySlowStartFactor` exactly, in whole milliseconds (see the module doc). A
    ///   window under 1 ms is off (Envoy would divide by zero ms); an aggression that is not
    ///   positive is taken as 1.0, as Envoy does with an invalid runtime value.
    pub fn factor(&self, since_join: SimDuration) -> f64 {
        match *self {
            SlowStart::Linear { duration } => {
                if since_join >= duration || duration.is_zero() {
                    return 1.0;
                }
                let t = since_join.as_nanos().max(NANOS_PER_MS);
                (t as f64 / duration.as_nanos() as f64).min(1.0)
            }
            SlowStart::Envoy {
                window,
                aggression,
                min_weight_percent,
            } => {
                let window_ms = window.as_nanos() / NANOS_PER_MS;
                let since_ms = since_join.as_nanos() / NANOS_PER_MS;
                // Envoy compares the durations in ms: `in_healthy_state_duration < window`.
                if window_ms == 0 || since_ms >= window_ms {
                    return 1.0;
                }
                let aggression = if aggression > 0.0 { aggression } else { 1.0 };
                let time_factor = since_ms.max(1) as f64 / window_ms as f64;
                let shaped = if aggression == 1.0 {
                    time_factor
                } else {
                    time_factor.powf(1.0 / aggression)
                };
                shaped.max(min_weight_percent / 100.0).min(1.0)
            }
        }
    }

    /// True when the real system offers this slow start with the algorithm called `algorithm`
    /// (a name from [`super::Algorithm::NAMES`]): for validation.
    ///
    /// - `Linear`: ALB allows it with `round_robin` only ("You can't enable slow start mode when
    ///   using the least outstanding requests or weighted random routing algorithms"); nginx
    ///   Plus with its round robin and `least_conn` (not `hash`, `ip_hash`, `random`): here
    ///   `round_robin`, `weighted_round_robin`, `least_connections`.
    /// - `Envoy`: `ROUND_ROBIN` and `LEAST_REQUEST` ("Currently, slow start is supported in Round
    ///   Robin and Least Request load balancer types", Envoy docs): here `round_robin`,
    ///   `weighted_round_robin` (Envoy's round robin is weighted) and `power_of_two_choices`.
    pub fn supported_by(&self, algorithm: &str) -> bool {
        self.supported_algorithms().contains(&algorithm)
    }

    /// The algorithm names [`SlowStart::supported_by`] accepts, for error messages.
    pub fn supported_algorithms(&self) -> &'static [&'static str] {
        match self {
            SlowStart::Linear { .. } => {
                &["round_robin", "weighted_round_robin", "least_connections"]
            }
            SlowStart::Envoy { .. } => &[
                "round_robin",
                "weighted_round_robin",
                "power_of_two_choices",
            ],
        }
    }
}

const NANOS_PER_MS: u64 = 1_000_000;

/// The integer weight of a target of weight `base` at slow start `factor`, with weights scaled
/// by `scale`: `round(base × scale × factor)`, at least 1, and exactly `base × scale` (saturated
/// to `u32::MAX`) at factor 1. The ramp's resolution is `1 / (base × scale)` of the full weight.
pub fn effective_weight(base: u32, factor: f64, scale: u32) -> u32 {
    let full = (u64::from(base) * u64::from(scale)).min(u64::from(u32::MAX));
    if factor >= 1.0 || factor.is_nan() {
        return full as u32;
    }
    let w = (full as f64 * factor.max(0.0)).round();
    (w as u64).clamp(1, full.max(1)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RandomStreams;
    use crate::model::balancer::{Algorithm, Balancer, RequestKey};

    fn s(x: u64) -> SimDuration {
        SimDuration::from_secs(x)
    }

    #[test]
    fn linear_factor_is_the_fraction_of_the_duration() {
        let ss = SlowStart::Linear { duration: s(100) };
        // At 0 the 1 ms floor: 1 ms / 100 s = 1e-5.
        assert_eq!(ss.factor(SimDuration::ZERO), 1e-5);
        assert_eq!(ss.factor(s(25)), 0.25);
        assert_eq!(ss.factor(s(50)), 0.5);
        assert_eq!(ss.factor(s(100)), 1.0);
        assert_eq!(ss.factor(s(1000)), 1.0);
        // Off: a zero duration.
        assert_eq!(SlowStart::Linear { duration: s(0) }.factor(s(1)), 1.0);
    }

    #[test]
    fn envoy_factor_follows_apply_slow_start_factor() {
        // Defaults (aggression 1, floor 10 %), window 100 s: 0 → max(0.1, 1 ms / 100 s) = 0.1;
        // 25 s → 0.25; 50 s → 0.5; 100 s and after → 1 (outside the window).
        let ss = SlowStart::envoy(s(100));
        assert_eq!(ss.factor(SimDuration::ZERO), 0.1);
        assert_eq!(ss.factor(s(5)), 0.1); // 0.05 is under the floor
        assert_eq!(ss.factor(s(25)), 0.25);
        assert_eq!(ss.factor(s(50)), 0.5);
        assert_eq!(ss.factor(s(100)), 1.0);
        // Whole milliseconds, as Envoy's duration_cast: 25.0009 s counts as 25.000 s.
        assert_eq!(ss.factor(SimDuration::from_nanos(25_000_900_000)), 0.25);
    }

    #[test]
    fn envoy_aggression_two_is_a_square_root_ramp() {
        // factor = time_factor^(1/2): 25 % of the window → 0.5, 50 % → 0.7071, 4 % → 0.2
        // (above the 10 % floor), 0.25 % → 0.05, floored to 0.1.
        let ss = SlowStart::Envoy {
            window: s(100),
            aggression: 2.0,
            min_weight_percent: 10.0,
        };
        assert_eq!(ss.factor(s(25)), 0.5);
        assert!((ss.factor(s(50)) - 0.5f64.sqrt()).abs() < 1e-15);
        assert!((ss.factor(s(4)) - 0.2).abs() < 1e-15);
        assert_eq!(ss.factor(SimDuration::from_nanos(250_000_000)), 0.1);
        assert_eq!(ss.factor(s(100)), 1.0);
    }

    #[test]
    fn envoy_min_weight_percent_is_the_floor() {
        // Floor 30 %: everything before 30 % of the window sits at 0.3; floor 0: the 1 ms floor
        // of time_factor is the only one left (1 ms / 100 s = 1e-5).
        let ss = SlowStart::Envoy {
            window: s(100),
            aggression: 1.0,
            min_weight_percent: 30.0,
        };
        assert_eq!(ss.factor(s(0)), 0.3);
        assert_eq!(ss.factor(s(29)), 0.3);
        assert_eq!(ss.factor(s(31)), 0.31);
        let no_floor = SlowStart::Envoy {
            window: s(100),
            aggression: 1.0,
            min_weight_percent: 0.0,
        };
        assert_eq!(no_floor.factor(SimDuration::ZERO), 1e-5);
    }

    #[test]
    fn effective_weight_scales_rounds_and_never_reaches_zero() {
        // base 1 × scale 1000: 0.25 → 250; 1e-5 → round(0.01) = 0 → floored to 1; 1 → 1000.
        assert_eq!(effective_weight(1, 0.25, 1000), 250);
        assert_eq!(effective_weight(1, 1e-5, 1000), 1);
        assert_eq!(effective_weight(1, 0.0, 1000), 1);
        assert_eq!(effective_weight(1, 1.0, 1000), 1000);
        // base 3 × scale 100: 0.3337 → round(100.11) = 100.
        assert_eq!(effective_weight(3, 0.3337, 100), 100);
        // Saturates instead of overflowing.
        assert_eq!(effective_weight(u32::MAX, 1.0, 1000), u32::MAX);
    }

    #[test]
    fn supported_algorithms_follow_the_real_systems() {
        let alb = SlowStart::Linear { duration: s(30) };
        assert!(alb.supported_by("round_robin"));
        assert!(!alb.supported_by("least_outstanding_requests"));
        assert!(!alb.supported_by("weighted_random"));
        assert!(!alb.supported_by("ip_hash"));
        let envoy = SlowStart::envoy(s(30));
        assert!(envoy.supported_by("power_of_two_choices"));
        assert!(!envoy.supported_by("consistent_hash"));
        assert!(!envoy.supported_by("random"));
        // Every name listed is a real algorithm name.
        for name in alb
            .supported_algorithms()
            .iter()
            .chain(envoy.supported_algorithms())
        {
            assert!(Algorithm::from_name(name).is_some(), "{name}");
        }
    }

    /// Target 3 of four equal targets (base weight 1, scale 1000) joins at t = 0 with a linear
    /// slow start of 100 s; weights are updated every second, 100 picks are made per second. Over
    /// each 10 s window, target 3's share of picks must follow the ideal `f / (3 + f)` at the
    /// weights in force.
    #[test]
    fn linear_ramp_raises_the_joiners_share_linearly_under_smooth_wrr() {
        let ss = SlowStart::Linear { duration: s(100) };
        let mut b = Balancer::new(
            Algorithm::WeightedRoundRobin,
            vec![DEFAULT_SCALE; 4],
            RandomStreams::new(1).stream("b"),
        );
        b.set_eligible(3, false);
        // Joins at t = 0 with the factor at 0 (weight 1, the floor); the world sets the weight
        // before making the target eligible, so its first pick already sees it.
        b.set_weight(
            3,
            effective_weight(1, ss.factor(SimDuration::ZERO), DEFAULT_SCALE),
        );
        b.set_eligible(3, true);
        let per_second = 100;
        let mut shares = Vec::new();
        for window in 0..12 {
            let (mut mine, mut ideal) = (0u32, 0.0f64);
            for second in 0..10 {
                let t = s(window * 10 + second);
                let w3 = effective_weight(1, ss.factor(t), DEFAULT_SCALE);
                b.set_weight(3, w3);
                // The ideal share at these weights: w3 / (3 × 1000 + w3) = f / (3 + f).
                let f = f64::from(w3) / f64::from(DEFAULT_SCALE);
                ideal += per_second as f64 * f / (3.0 + f);
                for _ in 0..per_second {
                    if b.pick(RequestKey::default()) == Some(3) {
                        mine += 1;
                    }
                }
            }
            // Within a second the weights are fixed, and a target's count over p picks is
            // p × w / W minus the change of its current weight over W; smooth WRR keeps current
            // weights within (-W, W), so each window is within about two picks of the ideal
            // whatever the weights did. Measured: at most 0.5 pick. Bound asserted: 3 picks of
            // 1000 (0.3 % of share).
            assert!(
                (f64::from(mine) - ideal).abs() <= 3.0,
                "window {window}: {mine} picks, ideal {ideal:.2}"
            );
            shares.push(f64::from(mine) / 1000.0);
        }
        // Linear in the factor: window k averages f ≈ (10k + 4.5) / 100, so the share
        // f / (3 + f) rises every window (by 20 to 31 picks, far above the 3-pick error) to 1/4
        // once the ramp is over (windows 10 and 11).
        for k in 1..11 {
            assert!(shares[k] > shares[k - 1], "{shares:?}");
        }
        assert!((shares[10] - 0.25).abs() <= 0.003, "{shares:?}");
        assert!((shares[11] - 0.25).abs() <= 0.003, "{shares:?}");
        // Mid-ramp check against the formula: window 5 averages f = 0.545, share ≈ 0.1537.
        assert!((shares[5] - 0.545 / 3.545).abs() < 0.004, "{}", shares[5]);
    }
}
