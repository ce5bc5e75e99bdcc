//! Duration-based sticky sessions, as an AWS Application Load Balancer's `lb_cookie`.
//!
//! This module owns the cookie jar of every user: which target a user's `AWSALB` cookie names
//! and until when it is valid. It does not route and does not know target health: the world
//! asks [`StickyTable::target_for`] before balancing, checks that the named target is still
//! eligible (healthy), and otherwise routes by the algorithm; then it calls
//! [`StickyTable::remember`] with the target that served the request.
//!
//! The rules, from the Elastic Load Balancing user guide, "Sticky sessions for your
//! Application Load Balancer"
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/sticky-sessions.html>,
//! source `awsdocs/elb-application-load-balancers-user-guide`, `doc_source/sticky-sessions.md`
//! and `doc_source/load-balancer-target-groups.md`):
//!
//! - `stickiness.lb_cookie.duration_seconds`: "The minimum value is 1 second and the maximum
//!   value is 7 days (604800 seconds). The default value is 1 day (86400 seconds)."
//! - "the Application Load Balancer resets the expiry of the cookies it generates after every
//!   request", and "The duration is set with each request. Therefore, if the client sends a
//!   request before each duration period expires, the sticky session continues." So the
//!   duration counts from the user's *last* request: call `remember` on every request.
//! - "If the cookie is present but cannot be decoded, or if it refers to a target that was
//!   deregistered or is unhealthy, the load balancer selects a new target and updates the
//!   cookie with information about the new target." An unhealthy target is a check at request
//!   time (the world's, against the balancer's eligibility): if the target is healthy again by
//!   the user's next request, the cookie still names it. A deregistered target is gone for
//!   good ([`StickyTable::forget_target`]): a new instance that later reuses its index is a
//!   different target and must not inherit its sessions.
//!
//! Expiry boundary: a cookie remembered at `t` is valid through `t + duration` inclusive and
//! expired from `t + duration + 1 ns`. RFC 6265 §5.3 calls a cookie expired when its expiry
//! date is "in the past", and ALB's attribute text says "After this period, the cookie is
//! considered stale"; both make the boundary instant itself valid. (Real `Expires` values are
//! whole seconds; a nanosecond clock only makes the boundary exact.)
//!
//! Cost: O(1) per operation. A target leaving bumps its epoch (O(1)); cookies naming the old
//! epoch are invalid without scanning users. Memory holds at most one entry per user, and
//! expired or stale entries are purged by a sweep that runs when the table has doubled since
//! the last one, so the table stays within twice the live sessions (plus a small floor) at
//! amortised O(1) per insert. The sweep's order does not matter: it removes only entries that
//! every lookup already treats as absent, so no hash order reaches any result.

use std::collections::HashMap;

use crate::time::{SimDuration, SimTime};

/// ALB's default `stickiness.lb_cookie.duration_seconds`: 1 day.
pub const DEFAULT_DURATION: SimDuration = SimDuration::from_secs(86_400);
/// ALB's shortest stickiness duration: 1 s.
pub const MIN_DURATION: SimDuration = SimDuration::from_secs(1);
/// ALB's longest stickiness duration: 7 days.
pub const MAX_DURATION: SimDuration = SimDuration::from_secs(604_800);

/// Entries below which the table never sweeps: sweeping a small table saves nothing.
const SWEEP_FLOOR: usize = 1024;

/// One user's cookie: the target it names, that target's epoch when it was set, and the last
/// instant it is valid.
#[derive(Debug, Clone, Copy)]
struct Cookie {
    target: u32,
    epoch: u32,
    expires: SimTime,
}

/// The `AWSALB` cookies of all users of one target group.
#[derive(Debug, Clone)]
pub struct StickyTable {
    duration: SimDuration,
    cookies: HashMap<u64, Cookie>,
    /// Per target: bumped each time it leaves, invalidating the cookies naming it.
    epochs: Vec<u32>,
    /// Sweep when `cookies` reaches this size.
    sweep_at: usize,
}

impl StickyTable {
    /// A table for targets `0..n` whose cookies last `duration` after each request.
    pub fn new(n: usize, duration: SimDuration) -> Self {
        StickyTable {
            duration,
            cookies: HashMap::new(),
            epochs: vec![0; n],
            sweep_at: SWEEP_FLOOR,
        }
    }

    /// The stickiness duration.
    pub fn duration(&self) -> SimDuration {
        self.duration
    }

    /// Number of targets.
    pub fn targets(&self) -> usize {
        self.epochs.len()
    }

    /// Cookies held, including expired ones not yet swept (for memory accounting).
    pub fn stored(&self) -> usize {
        self.cookies.len()
    }

    /// Adds a target; returns its index.
    pub fn push_target(&mut self) -> usize {
        self.epochs.push(0);
        self.epochs.len() - 1
    }

    fn is_live(&self, c: &Cookie, now: SimTime) -> bool {
        now <= c.expires && self.epochs[c.target as usize] == c.epoch
    }

    /// The target named by `user`'s cookie, if the user has one that is valid at `now` and
    /// names a target that has not left since. The world must still check that the target is
    /// eligible; if not, ALB routes by the algorithm and rewrites the cookie.
    pub fn target_for(&self, user: u64, now: SimTime) -> Option<usize> {
        let c = self.cookies.get(&user)?;
        self.is_live(c, now).then_some(c.target as usize)
    }

    /// `user`'s request at `now` went to `target`: the load balancer (re)issues the cookie,
    /// naming `target`, valid until `now + duration`.
    pub fn remember(&mut self, user: u64, target: usize, now: SimTime) {
        let cookie = Cookie {
            target: target as u32,
            epoch: self.epochs[target],
            expires: now.saturating_add(self.duration),
        };
        if self.cookies.insert(user, cookie).is_none() && self.cookies.len() >= self.sweep_at {
            self.sweep(now);
        }
    }

    /// `target` left the group (deregistered, terminated): every cookie naming it is void,
    /// even if an instance later takes its index.
    pub fn forget_target(&mut self, target: usize) {
        self.epochs[target] = self.epochs[target].wrapping_add(1);
    }

    /// Drops every cookie that no lookup can return any more. Each sweep is O(entries) and
    /// happens only after the table has doubled since the previous one, which is at least
    /// half as many inserts as entries: amortised O(1) per insert.
    fn sweep(&mut self, now: SimTime) {
        let epochs = &self.epochs;
        self.cookies
            .retain(|_, c| now <= c.expires && epochs[c.target as usize] == c.epoch);
        self.sweep_at = (2 * self.cookies.len()).max(SWEEP_FLOOR);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> SimTime {
        SimTime::from_nanos(secs * 1_000_000_000)
    }

    const NS: SimDuration = SimDuration::from_nanos(1);

    #[test]
    fn defaults_and_limits_are_albs() {
        assert_eq!(DEFAULT_DURATION.as_nanos(), 86_400 * 1_000_000_000);
        assert_eq!(MIN_DURATION, SimDuration::from_secs(1));
        assert_eq!(MAX_DURATION, SimDuration::from_secs(7 * 24 * 3600));
    }

    #[test]
    fn a_session_stays_on_its_target_while_requests_keep_coming() {
        let mut t = StickyTable::new(3, SimDuration::from_secs(60));
        assert_eq!(t.target_for(42, s(0)), None, "no cookie yet");
        t.remember(42, 2, s(0));
        // Requests every 50 s: each one resets the expiry, so 10 minutes later the session is
        // still on target 2 although the duration is only 60 s.
        for k in 1..=12 {
            let now = s(50 * k);
            assert_eq!(t.target_for(42, now), Some(2), "at {} s", 50 * k);
            t.remember(42, 2, now);
        }
        assert_eq!(t.target_for(7, s(600)), None, "other users are unaffected");
    }

    #[test]
    fn the_cookie_expires_exactly_duration_after_the_last_request() {
        let d = SimDuration::from_secs(60);
        let mut t = StickyTable::new(2, d);
        t.remember(1, 0, s(10));
        t.remember(1, 0, s(30)); // the last request: expiry 90 s
        assert_eq!(t.target_for(1, s(89)), Some(0));
        // At exactly last + duration the expiry is not yet "in the past" (RFC 6265 §5.3).
        assert_eq!(t.target_for(1, s(90)), Some(0));
        assert_eq!(t.target_for(1, s(90) + NS), None);
    }

    #[test]
    fn a_session_moves_when_its_target_leaves_and_sticks_to_the_new_one() {
        let mut t = StickyTable::new(3, DEFAULT_DURATION);
        t.remember(5, 1, s(0));
        t.remember(6, 2, s(0));
        t.forget_target(1);
        assert_eq!(t.target_for(5, s(1)), None, "target 1 was deregistered");
        assert_eq!(t.target_for(6, s(1)), Some(2), "others keep their target");
        // The world routes user 5 by the algorithm, say to 0, and ALB rewrites the cookie.
        t.remember(5, 0, s(1));
        assert_eq!(t.target_for(5, s(2)), Some(0));
        // A new instance later takes index 1 and serves user 8: that cookie names the new
        // instance and is valid, while user 5's old cookie stays void.
        t.remember(8, 1, s(3));
        assert_eq!(t.target_for(8, s(4)), Some(1));
        t.remember(5, 0, s(4));
        assert_eq!(t.target_for(5, s(4)), Some(0));
    }

    #[test]
    fn a_cookie_to_a_target_that_left_and_came_back_is_void() {
        let mut t = StickyTable::new(2, DEFAULT_DURATION);
        t.remember(5, 1, s(0));
        t.forget_target(1);
        // Autoscaling reuses index 1 for a new instance; user 5's old cookie must not stick to
        // it (ALB encodes the target identity, not a slot).
        assert_eq!(t.target_for(5, s(10)), None);
        assert_eq!(t.push_target(), 2);
        assert_eq!(t.targets(), 3);
        t.remember(9, 2, s(10));
        assert_eq!(t.target_for(9, s(10)), Some(2));
    }

    #[test]
    fn memory_stays_within_twice_the_live_sessions() {
        // 100,000 users each make one request, 10 per second, with a 60 s duration: at most
        // 601 cookies are live at once (those set in the last 60 s, inclusive). The table may
        // hold expired ones until a sweep, but never more than max(2 × live, floor).
        let mut t = StickyTable::new(4, SimDuration::from_secs(60));
        let mut peak = 0;
        for user in 0..100_000u64 {
            let now = SimTime::from_nanos(user * 100_000_000);
            t.remember(user, (user % 4) as usize, now);
            peak = peak.max(t.stored());
        }
        // After a sweep at most 601 remain, so the next sweep comes at max(2 × 601, floor).
        assert!(peak <= (2 * 601).max(SWEEP_FLOOR), "peak {peak}");
        // Everything still valid is still found.
        let end = SimTime::from_nanos(99_999 * 100_000_000);
        assert_eq!(t.target_for(99_999, end), Some(3));
        assert_eq!(t.target_for(99_399, end), Some(3), "set exactly 60 s ago");
        assert_eq!(t.target_for(99_398, end), None, "set 60.1 s ago");
    }

    #[test]
    fn a_returning_user_overwrites_its_single_entry() {
        let mut t = StickyTable::new(2, SimDuration::from_secs(5));
        for k in 0..10_000u64 {
            t.remember(3, (k % 2) as usize, s(k));
        }
        assert_eq!(t.stored(), 1);
        assert_eq!(t.target_for(3, s(9_999)), Some(1));
    }
}
