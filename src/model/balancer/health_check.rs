//! Active health checks, as an AWS Application Load Balancer target group runs them.
//!
//! This module owns the *verdict*: given the results of the checks sent to each target, which
//! targets are healthy and when a target changes state. It does not send checks, keep their
//! timers, or decide what a deep check tests: the world schedules one check per target every
//! [`HealthCheckSpec::interval`], decides whether the target answers (a shallow check passes
//! when the process is up; a deep one when the model is loaded and a test inference works),
//! turns that into a pass or fail with [`HealthCheckSpec::verdict`], and feeds it to
//! [`ActiveHealth::record`]. On a [`HealthTransition`] the world calls
//! `Balancer::set_eligible`. Nothing here knows the event loop or the balancer.
//!
//! The rules, from the Elastic Load Balancing user guide, "Health checks for Application Load
//! Balancer target groups"
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html>,
//! source `awsdocs/elb-application-load-balancers-user-guide`, `doc_source/target-group-health-checks.md`):
//!
//! - defaults: `HealthCheckIntervalSeconds` 30 (range 5–300), `HealthCheckTimeoutSeconds` 5
//!   (range 2–120), `HealthyThresholdCount` 5 (range 2–10), `UnhealthyThresholdCount` 2
//!   (range 2–10), for target types `instance` and `ip`;
//! - "The number of consecutive failed health checks required before considering a target
//!   unhealthy" and "The number of consecutive successful health checks required before
//!   considering an unhealthy target healthy": a transition happens on the check that *reaches*
//!   the count. (The guide's prose says "exceed"; the settings table and the API reference both
//!   say "required", which is what is modelled: with the default 2, the second consecutive
//!   failure takes the target out.)
//! - a newly registered target is `initial`: "Before a target can receive requests from the
//!   load balancer, it must pass the initial health checks", and "After your target is
//!   registered, it must pass one health check to be considered healthy". So an `initial`
//!   target takes no traffic, and one pass (not `HealthyThresholdCount`) makes it healthy.
//!   Failing checks while `initial` count towards `UnhealthyThresholdCount` like any others.
//! - "If a target group contains only unhealthy registered targets, the load balancer routes
//!   requests to all those targets, regardless of their health status" (fail open): see
//!   [`ActiveHealth::fails_open`].
//!
//! Every operation is O(1).

use crate::time::SimDuration;

/// What a health check exercises. The model only sees pass or fail; the depth tells the world
/// what a target must be able to do to pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CheckDepth {
    /// The process is alive: a TCP connect or a `/healthz` that answers without touching the
    /// model. Passes as soon as the server process is up, even while the model still loads.
    #[default]
    Shallow,
    /// The model is loaded, the GPU healthy and a small test inference succeeds. Fails while
    /// the model loads or warms up, and when the GPU is broken but the process is alive.
    Deep,
}

impl CheckDepth {
    /// Names as written in scenario files.
    pub const NAMES: &'static [&'static str] = &["shallow", "deep"];

    /// The depth called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "shallow" => Some(CheckDepth::Shallow),
            "deep" => Some(CheckDepth::Deep),
            _ => None,
        }
    }

    /// The name used in scenario files and results.
    pub fn name(self) -> &'static str {
        match self {
            CheckDepth::Shallow => "shallow",
            CheckDepth::Deep => "deep",
        }
    }
}

/// Health-check settings of one target group. [`Default`] is ALB's default for `instance` and
/// `ip` targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthCheckSpec {
    /// What a check exercises (default shallow).
    pub depth: CheckDepth,
    /// Time between two checks of one target, ALB `HealthCheckIntervalSeconds` (default 30 s).
    /// ALB: "Each health check request is independent and the result lasts for the entire
    /// interval. The time that it takes for the target to respond does not affect the interval
    /// for the next health check request."
    pub interval: SimDuration,
    /// A check not answered within this time fails, ALB `HealthCheckTimeoutSeconds`
    /// (default 5 s).
    pub timeout: SimDuration,
    /// Consecutive passes that make an unhealthy target healthy, ALB `HealthyThresholdCount`
    /// (default 5). An `initial` target needs one pass only.
    pub healthy_threshold: u32,
    /// Consecutive failures that make a target unhealthy, ALB `UnhealthyThresholdCount`
    /// (default 2).
    pub unhealthy_threshold: u32,
}

impl Default for HealthCheckSpec {
    fn default() -> Self {
        HealthCheckSpec {
            depth: CheckDepth::Shallow,
            interval: SimDuration::from_secs(30),
            timeout: SimDuration::from_secs(5),
            healthy_threshold: 5,
            unhealthy_threshold: 2,
        }
    }
}

/// ALB's accepted range of `HealthCheckIntervalSeconds`, in seconds (inclusive).
pub const ALB_INTERVAL_SECS: (u64, u64) = (5, 300);
/// ALB's accepted range of `HealthCheckTimeoutSeconds`, in seconds (inclusive).
pub const ALB_TIMEOUT_SECS: (u64, u64) = (2, 120);
/// ALB's accepted range of both threshold counts (inclusive).
pub const ALB_THRESHOLD: (u32, u32) = (2, 10);
/// Passes an `initial` (newly registered) target needs to become healthy: "it must pass one
/// health check to be considered healthy".
pub const INITIAL_PASSES_TO_HEALTHY: u32 = 1;

/// When a check's result is known, and whether it passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckVerdict {
    /// Time from sending the check to knowing its result.
    pub after: SimDuration,
    /// True when the check passed.
    pub passed: bool,
}

impl HealthCheckSpec {
    /// The verdict on one check. `answer` is `None` when the target never answers (down, or
    /// hung), else `Some((after, ok))`: it answers `after` the check was sent, `ok` saying
    /// whether the answer is a success (HTTP 200 for a shallow check; the test inference
    /// worked for a deep one).
    ///
    /// An answer arriving at or after `timeout` is a failure known at `timeout`: the balancer's
    /// timer fires at `timeout` and the check has failed before a same-instant answer is read.
    pub fn verdict(&self, answer: Option<(SimDuration, bool)>) -> CheckVerdict {
        match answer {
            Some((after, ok)) if after < self.timeout => CheckVerdict { after, passed: ok },
            _ => CheckVerdict {
                after: self.timeout,
                passed: false,
            },
        }
    }
}

/// Health state of one target, ALB's `TargetHealth.State` values that matter for routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetHealth {
    /// Registered, not yet passed a check (`initial`): takes no traffic.
    Initial,
    /// Takes traffic.
    Healthy,
    /// Failed `unhealthy_threshold` checks in a row: takes traffic only when the group fails
    /// open.
    Unhealthy,
    /// Not registered (`unused`): not checked, takes no traffic.
    Unused,
}

/// A change of a target's health, returned by [`ActiveHealth::record`] on the check that
/// causes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthTransition {
    /// The target became healthy: make it eligible.
    BecameHealthy,
    /// The target became unhealthy (from healthy, or from initial): make it ineligible, and
    /// re-check [`ActiveHealth::fails_open`].
    BecameUnhealthy,
}

/// The health of targets `0..len()` under active checks.
#[derive(Debug, Clone)]
pub struct ActiveHealth {
    healthy_threshold: u32,
    unhealthy_threshold: u32,
    state: Vec<TargetHealth>,
    /// Consecutive results pushing the target towards its other state: failures while
    /// healthy or initial, passes while unhealthy. Reset by a result the other way.
    streak: Vec<u32>,
    healthy: usize,
    unhealthy: usize,
    initial: usize,
}

impl ActiveHealth {
    /// `n` registered targets, all healthy (a fleet already in steady state) or all `initial`
    /// (just registered), judged with `spec`'s thresholds. A threshold of 0 is treated as 1.
    pub fn new(n: usize, initially_healthy: bool, spec: &HealthCheckSpec) -> Self {
        let s = if initially_healthy {
            TargetHealth::Healthy
        } else {
            TargetHealth::Initial
        };
        ActiveHealth {
            healthy_threshold: spec.healthy_threshold.max(1),
            unhealthy_threshold: spec.unhealthy_threshold.max(1),
            state: vec![s; n],
            streak: vec![0; n],
            healthy: if initially_healthy { n } else { 0 },
            unhealthy: 0,
            initial: if initially_healthy { 0 } else { n },
        }
    }

    /// Number of targets, registered or not.
    pub fn len(&self) -> usize {
        self.state.len()
    }

    /// True when there is no target.
    pub fn is_empty(&self) -> bool {
        self.state.is_empty()
    }

    /// The health state of `target`.
    pub fn state(&self, target: usize) -> TargetHealth {
        self.state[target]
    }

    /// True when `target` is healthy (may take traffic).
    pub fn is_healthy(&self, target: usize) -> bool {
        self.state[target] == TargetHealth::Healthy
    }

    /// Healthy targets.
    pub fn healthy_count(&self) -> usize {
        self.healthy
    }

    /// Unhealthy registered targets.
    pub fn unhealthy_count(&self) -> usize {
        self.unhealthy
    }

    /// True when ALB fails open: the group has registered targets and every one is unhealthy,
    /// so the balancer routes to all of them "regardless of their health status". Read
    /// literally, a group with any `initial` target does not contain *only* unhealthy
    /// targets, so it does not fail open (AWS does not document that case further).
    pub fn fails_open(&self) -> bool {
        self.unhealthy > 0 && self.healthy == 0 && self.initial == 0
    }

    fn set_state(&mut self, target: usize, to: TargetHealth) {
        let from = std::mem::replace(&mut self.state[target], to);
        for (s, delta) in [(from, false), (to, true)] {
            let count = match s {
                TargetHealth::Healthy => &mut self.healthy,
                TargetHealth::Unhealthy => &mut self.unhealthy,
                TargetHealth::Initial => &mut self.initial,
                TargetHealth::Unused => continue,
            };
            if delta {
                *count += 1;
            } else {
                *count -= 1;
            }
        }
        self.streak[target] = 0;
    }

    /// Records one check of `target`; returns the transition it causes, if any: exactly when
    /// the consecutive failures reach `unhealthy_threshold` (from healthy or initial), the
    /// consecutive passes reach `healthy_threshold` (from unhealthy), or on the first pass of
    /// an initial target. A check of an unregistered target is ignored (ALB checks only
    /// registered targets; a result in flight when the target left is dropped).
    pub fn record(&mut self, target: usize, passed: bool) -> Option<HealthTransition> {
        let (towards, threshold, transition) = match (self.state[target], passed) {
            (TargetHealth::Unused, _) => return None,
            (TargetHealth::Healthy, true) | (TargetHealth::Unhealthy, false) => {
                self.streak[target] = 0;
                return None;
            }
            (TargetHealth::Initial, true) => (
                TargetHealth::Healthy,
                INITIAL_PASSES_TO_HEALTHY,
                HealthTransition::BecameHealthy,
            ),
            (TargetHealth::Unhealthy, true) => (
                TargetHealth::Healthy,
                self.healthy_threshold,
                HealthTransition::BecameHealthy,
            ),
            (TargetHealth::Healthy | TargetHealth::Initial, false) => (
                TargetHealth::Unhealthy,
                self.unhealthy_threshold,
                HealthTransition::BecameUnhealthy,
            ),
        };
        self.streak[target] += 1;
        if self.streak[target] >= threshold {
            self.set_state(target, towards);
            Some(transition)
        } else {
            None
        }
    }

    /// `target` (re)registers: it starts `initial`, with no streak, whatever it was. It takes
    /// no traffic until it passes a check; if it was healthy, the world makes it ineligible.
    pub fn register(&mut self, target: usize) {
        self.set_state(target, TargetHealth::Initial);
    }

    /// `target` is deregistered: it is no longer checked nor counted.
    pub fn deregister(&mut self, target: usize) {
        self.set_state(target, TargetHealth::Unused);
    }

    /// Adds a target, registered now (so `initial`); returns its index.
    pub fn push_target(&mut self) -> usize {
        self.state.push(TargetHealth::Initial);
        self.streak.push(0);
        self.initial += 1;
        self.state.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use HealthTransition::*;

    #[test]
    fn defaults_are_albs() {
        // ALB user guide, "Health check settings", target types instance and ip.
        let s = HealthCheckSpec::default();
        assert_eq!(s.interval, SimDuration::from_secs(30));
        assert_eq!(s.timeout, SimDuration::from_secs(5));
        assert_eq!(s.healthy_threshold, 5);
        assert_eq!(s.unhealthy_threshold, 2);
        assert_eq!(s.depth, CheckDepth::Shallow);
        for n in CheckDepth::NAMES {
            assert_eq!(CheckDepth::from_name(n).unwrap().name(), *n);
        }
        assert_eq!(CheckDepth::from_name("medium"), None);
    }

    #[test]
    fn second_consecutive_failure_takes_a_healthy_target_out() {
        let mut h = ActiveHealth::new(3, true, &HealthCheckSpec::default());
        assert_eq!(h.record(1, false), None);
        assert!(h.is_healthy(1), "one failure of two needed");
        assert_eq!(h.record(1, false), Some(BecameUnhealthy));
        assert_eq!(h.state(1), TargetHealth::Unhealthy);
        assert_eq!((h.healthy_count(), h.unhealthy_count()), (2, 1));
        // Further failures change nothing.
        assert_eq!(h.record(1, false), None);
    }

    #[test]
    fn a_pass_between_failures_resets_the_count() {
        let mut h = ActiveHealth::new(1, true, &HealthCheckSpec::default());
        // fail, pass, fail: never two in a row.
        for passed in [false, true, false, true, false] {
            assert_eq!(h.record(0, passed), None);
        }
        assert!(h.is_healthy(0));
        assert_eq!(h.record(0, false), Some(BecameUnhealthy));
    }

    #[test]
    fn an_unhealthy_target_needs_five_passes_in_a_row() {
        let mut h = ActiveHealth::new(1, true, &HealthCheckSpec::default());
        h.record(0, false);
        h.record(0, false);
        // Four passes, then a failure resets: the next four passes are not enough either.
        for _ in 0..4 {
            assert_eq!(h.record(0, true), None);
        }
        assert_eq!(h.record(0, false), None);
        for _ in 0..4 {
            assert_eq!(h.record(0, true), None);
        }
        assert!(!h.is_healthy(0));
        assert_eq!(
            h.record(0, true),
            Some(BecameHealthy),
            "fifth pass in a row"
        );
        assert_eq!(h.healthy_count(), 1);
    }

    #[test]
    fn a_registered_target_takes_traffic_after_one_pass() {
        // "After your target is registered, it must pass one health check to be considered
        // healthy", even though HealthyThresholdCount is 5.
        let mut h = ActiveHealth::new(2, false, &HealthCheckSpec::default());
        assert_eq!(h.state(0), TargetHealth::Initial);
        assert_eq!(h.healthy_count(), 0);
        assert!(!h.fails_open(), "initial targets are not unhealthy");
        assert_eq!(h.record(0, true), Some(BecameHealthy));
        // One failure while initial does not use up the initial grace...
        assert_eq!(h.record(1, false), None);
        assert_eq!(h.record(1, true), Some(BecameHealthy));
        // ...but two make it unhealthy, and then five passes are needed.
        let t = h.push_target();
        assert_eq!(t, 2);
        assert_eq!(h.record(t, false), None);
        assert_eq!(h.record(t, false), Some(BecameUnhealthy));
        for _ in 0..4 {
            assert_eq!(h.record(t, true), None);
        }
        assert_eq!(h.record(t, true), Some(BecameHealthy));
        assert_eq!(h.len(), 3);
        assert_eq!(h.healthy_count(), 3);
    }

    #[test]
    fn re_registering_a_healthy_target_makes_it_initial_again() {
        let mut h = ActiveHealth::new(1, true, &HealthCheckSpec::default());
        h.record(0, false); // half-way to unhealthy
        h.register(0);
        assert_eq!(h.state(0), TargetHealth::Initial);
        assert_eq!(h.healthy_count(), 0);
        // The old failure is forgotten: one more failure is not two in a row.
        assert_eq!(h.record(0, false), None);
        assert_eq!(h.record(0, true), Some(BecameHealthy));
    }

    #[test]
    fn the_group_fails_open_only_when_every_registered_target_is_unhealthy() {
        let spec = HealthCheckSpec::default();
        let mut h = ActiveHealth::new(3, true, &spec);
        for t in 0..2 {
            h.record(t, false);
            h.record(t, false);
        }
        assert!(!h.fails_open(), "target 2 is still healthy");
        h.deregister(2);
        assert!(
            h.fails_open(),
            "the registered targets 0 and 1 are all unhealthy"
        );
        assert_eq!(
            h.record(2, true),
            None,
            "an unregistered target is not checked"
        );
        h.register(2);
        assert!(!h.fails_open(), "an initial target is not unhealthy");
        h.record(2, true);
        assert_eq!(h.healthy_count(), 1);
    }

    #[test]
    fn check_verdicts_apply_the_timeout() {
        let s = HealthCheckSpec::default();
        let ms = SimDuration::from_nanos(1_000_000);
        assert_eq!(
            s.verdict(Some((ms, true))),
            CheckVerdict {
                after: ms,
                passed: true
            }
        );
        // A deep check answered quickly but negatively (model not loaded) fails at once.
        assert!(!s.verdict(Some((ms, false))).passed);
        // No answer, or one at exactly the timeout, fails at the timeout.
        for answer in [None, Some((s.timeout, true))] {
            assert_eq!(
                s.verdict(answer),
                CheckVerdict {
                    after: s.timeout,
                    passed: false
                }
            );
        }
    }

    /// Hand-worked timeline with the defaults. Checks go out at 0, 30, 60, ... s and a live
    /// target answers in 10 ms. The target crashes at 40 s and is back at 100 s.
    /// - 60 s: no answer, fails at 65 s (1 of 2); 90 s: fails at 95 s → unhealthy at 95 s,
    ///   55 s after the crash.
    /// - 120, 150, 180, 210, 240 s: five passes → healthy at 240.01 s, 140 s after recovery.
    #[test]
    fn crash_and_recovery_timeline_with_defaults() {
        let spec = HealthCheckSpec::default();
        let mut h = ActiveHealth::new(1, true, &spec);
        let rtt = SimDuration::from_nanos(10_000_000);
        let mut events = Vec::new();
        let mut sent = 0u64;
        while sent <= 300 {
            let up = !(40..100).contains(&sent);
            let v = spec.verdict(up.then_some((rtt, true)));
            let at = SimDuration::from_secs(sent) + v.after;
            if let Some(tr) = h.record(0, v.passed) {
                events.push((at.as_nanos(), tr));
            }
            sent += spec.interval.as_nanos() / 1_000_000_000;
        }
        assert_eq!(
            events,
            vec![
                (95_000_000_000, BecameUnhealthy),
                (240_010_000_000, BecameHealthy)
            ]
        );
    }
}
