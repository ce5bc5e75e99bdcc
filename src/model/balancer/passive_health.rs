//! Passive health checks, as nginx's `max_fails` and `fail_timeout` do them.
//!
//! This module owns nginx's per-peer failure accounting: which attempts count as failures and
//! when a peer is unavailable because of them. It does not route, retry or keep timers: the
//! world tells it when it picks a target and how each attempt ended, and applies the decisions
//! it returns with `Balancer::set_eligible` and one timer per unavailable target.
//!
//! # What nginx does
//! Settings: `server ... max_fails=N fail_timeout=T` of `ngx_http_upstream_module`
//! (<https://nginx.org/en/docs/http/ngx_http_upstream_module.html#server>): `max_fails`
//! defaults to 1 and "the zero value disables the accounting of attempts"; `fail_timeout`
//! defaults to 10 s. "What is considered an unsuccessful attempt is defined by the
//! `proxy_next_upstream` ... directives" (default `error timeout`); per
//! <https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_next_upstream>, `error`,
//! `timeout` and `invalid_header` always count, `http_500`, `http_502`, `http_503`, `http_504`
//! and `http_429` count only when listed, and `http_403`/`http_404` never do.
//!
//! The code (nginx `src/http/ngx_http_upstream_round_robin.c`; read in `nginx/nginx`,
//! `nginx/nginx-releases` and the current `freenginx-mirror/nginx`, which agree) keeps per
//! peer `fails`, `accessed` and `checked`:
//! - `ngx_http_upstream_get_peer` skips a peer when
//!   `max_fails && fails >= max_fails && now - checked <= fail_timeout`, and after choosing
//!   `best`, `if (now - best->checked > best->fail_timeout) best->checked = now;`
//! - `ngx_http_upstream_free_round_robin_peer` on a failure does
//!   `fails++; accessed = now; checked = now;` and on a success
//!   `if (accessed < checked) fails = 0;` ("mark peer live if check passed").
//!
//! Consequences, all reproduced here and tested below:
//! - With `max_fails` failures the peer is skipped for `fail_timeout` after the *last* one.
//! - When that window has passed, the next pick sets `checked = now`, which closes the window
//!   again for everyone else: exactly one trial request goes through. If it fails, the peer is
//!   down for another `fail_timeout` from that failure; if it succeeds, `accessed < checked`
//!   and `fails` resets.
//! - `fails` never decays by time alone. It resets only on a success of a request whose pick
//!   came more than `fail_timeout` after the last failure (the pick moved `checked` past
//!   `accessed`). So `max_fails=3 fail_timeout=10s` with failures at 0, 8 and 16 s and
//!   successes in between disables the peer at 16 s: the docs' "within fail_timeout" means "no
//!   quiet gap longer than `fail_timeout` followed by a success", not a sliding window.
//! - Modern nginx (these sources) no longer resets every peer's `fails` when all are down (the
//!   old "quick recovery" loop in `ngx_http_upstream_get_round_robin_peer`, present in
//!   nginx 1.9-era code): a request finding no available peer fails ("no live upstreams").
//! - An upstream with a single server (`peers->single`) never counts failures:
//!   `ngx_http_upstream_free_round_robin_peer` returns before the accounting. That is a
//!   property of the upstream's configuration, so it is the world's to apply: it must not
//!   build a `PassiveHealth` (or not report failures) for a one-server group.
//!
//! Not modelled here: the failure also lowers the peer's `effective_weight` by
//! `weight / max_fails` in smooth weighted round robin (a balancer concern), and retrying the
//! request on the next peer (a world concern, `proxy_next_upstream_tries`).
//!
//! # Time: nginx's whole-second clock
//! Every time in the accounting is `ngx_time()`, which is `ngx_cached_time->sec`
//! (`src/core/ngx_times.h`, line 36): whole seconds of the wall clock, refreshed by
//! `ngx_time_update()` (`src/core/ngx_times.c`, lines 81-118) once per iteration of the event
//! loop (`ngx_epoll_module.c`, lines 804-806, after `epoll_wait`), so every request handled
//! in one iteration sees the same second. `fail_timeout` is
//! whole seconds too: the `server` directive reads it with `ngx_parse_time(&s, 1)`
//! (`src/http/ngx_http_upstream.c`, line 6557), which refuses milliseconds and fractions
//! (`src/core/ngx_parse.c`, lines 200-205: `ms` with `is_sec` is `NGX_ERROR`).
//!
//! This model keeps exactly those integers: `accessed` and `checked` are the whole second of
//! the event (`floor(t / 1 s)`, simulated time 0 being the start of a second), and every
//! comparison is nginx's on them. The event loop's iteration is not modelled: each event sees
//! the second it happens in (a real iteration lasts micro- to milliseconds, so its cached
//! second is stale only across a boundary it straddles). Consequences, tested below:
//! - A peer failing at 100.9 s with `fail_timeout=10` is skipped while `ngx_time() <= 110`:
//!   available again at 111.0 s, out for 10.1 s; one failing at 100.0 s is out for 11 s. A
//!   peer is out for between `fail_timeout` (exclusive) and `fail_timeout + 1 s` (inclusive).
//! - Two failures in one second leave `checked` where one left it.
//! - A success resets `fails` only if its pick came in a later second than the window's end
//!   (`now - checked > fail_timeout` in seconds moved `checked` past `accessed`): with one
//!   failure at 10.2 s (below `max_fails`), a request picked at 20.9 s does not reset it on
//!   success, one picked at 21.0 s does.
//! - `accessed < checked` is strict on seconds: a failure and a trial pick in one second
//!   cannot reset each other.
//!
//! Line numbers cite `nginx/nginx` at commit 3f6f7824d4e2 (2026-08-21):
//! `ngx_http_upstream_get_peer` in `src/http/ngx_http_upstream_round_robin.c` reads the clock
//! at line 826, skips a peer at lines 873-875 and moves `checked` at lines 924-925;
//! `ngx_http_upstream_free_round_robin_peer_locked` counts a failure at lines 1057-1061 and
//! resets on success at lines 1084-1085; a single-server upstream returns early at 1038-1055.
//!
//! # Driving a balancer with it
//! nginx's availability changes only in four places, so the world keeps
//! `eligible(t) == available(t, now)` at every instant by applying exactly these:
//!
//! | event | call | when it returns | world does |
//! |---|---|---|---|
//! | attempt failed | [`PassiveHealth::failed`] | `Some(at)`: peer now unavailable | `set_eligible(t, false)`, timer at `at` |
//! | target picked | [`PassiveHealth::picked`] | `Some(at)`: this is the one trial | `set_eligible(t, false)`, timer at `at` |
//! | attempt succeeded | [`PassiveHealth::succeeded`] | `true`: `fails` reset a down peer | `set_eligible(t, true)` |
//! | timer fires | [`PassiveHealth::available`] | `true` | `set_eligible(t, true)` |
//!
//! A later `failed` or `picked` may push the reopening past an armed timer; the world either
//! keeps one timer per target (replacing it) or lets stale ones fire and find `available`
//! false. Time alone only ever turns a peer available, at the start of second
//! `checked + fail_timeout + 1`, so one timer per unavailable peer suffices. The test `world_protocol_tracks_nginx_availability`
//! checks this correspondence on a long mixed sequence.

use crate::time::{SimDuration, SimTime};

/// How one attempt to a target ended, as nginx's upstream module classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptResult {
    /// A response that is not a server error (2xx, 3xx, 4xx other than 429).
    Answered,
    /// A 5xx or 429 response: nginx counts it only when `proxy_next_upstream` lists it.
    ServerError,
    /// Connection refused or reset, or an invalid response (`error`, `invalid_header`).
    Error,
    /// No response within nginx's proxy timeouts (`timeout`).
    TimedOut,
}

/// Passive health-check settings of one upstream group. [`Default`] is nginx's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassiveSpec {
    /// Failures that make a peer unavailable, nginx `max_fails` (default 1; 0 disables the
    /// accounting).
    pub max_fails: u32,
    /// How long a peer stays unavailable after its last failure, nginx `fail_timeout`
    /// (default 10 s).
    pub fail_timeout: SimDuration,
    /// Whether 5xx/429 responses count as failures, as when `proxy_next_upstream` lists
    /// `http_500 http_502 http_503 http_504 http_429` (default false: nginx's default
    /// `proxy_next_upstream error timeout`).
    pub count_server_errors: bool,
}

impl Default for PassiveSpec {
    fn default() -> Self {
        PassiveSpec {
            max_fails: 1,
            fail_timeout: SimDuration::from_secs(10),
            count_server_errors: false,
        }
    }
}

impl PassiveSpec {
    /// True when nginx counts `result` as an unsuccessful attempt. Any other result is a
    /// *success* to nginx (`ngx_http_upstream_free_round_robin_peer` is called with state 0),
    /// so an uncounted 500 can reset `fails` like a 200: report it with
    /// [`PassiveHealth::succeeded`].
    pub fn counts_as_failure(&self, result: AttemptResult) -> bool {
        match result {
            AttemptResult::Answered => false,
            AttemptResult::ServerError => self.count_server_errors,
            AttemptResult::Error | AttemptResult::TimedOut => true,
        }
    }
}

/// nginx's per-peer accounting (`ngx_http_upstream_rr_peer_t`'s `fails`, `accessed`,
/// `checked`), in nginx's whole seconds.
#[derive(Debug, Clone, Copy)]
struct Peer {
    fails: u32,
    /// Second of the last failure.
    accessed: u64,
    /// Second of the last failure, or of the last pick that came more than `fail_timeout`
    /// seconds after it.
    checked: u64,
}

/// A fresh peer. nginx zeroes these (`ngx_pcalloc`); second 0 (the run's start) behaves as
/// nginx's epoch 0 because every path that makes `fails > 0` sets `checked` first.
const FRESH: Peer = Peer {
    fails: 0,
    accessed: 0,
    checked: 0,
};

const SECOND_NS: u64 = 1_000_000_000;

/// `ngx_time()` at simulated time `t`: its whole second.
fn ngx_time(t: SimTime) -> u64 {
    t.as_nanos() / SECOND_NS
}

/// nginx passive health of targets `0..len()`. Every operation is O(1).
#[derive(Debug, Clone)]
pub struct PassiveHealth {
    spec: PassiveSpec,
    peers: Vec<Peer>,
}

impl PassiveHealth {
    /// `n` targets with no failures, judged by `spec`.
    pub fn new(n: usize, spec: PassiveSpec) -> Self {
        PassiveHealth {
            spec,
            peers: vec![FRESH; n],
        }
    }

    /// The settings.
    pub fn spec(&self) -> &PassiveSpec {
        &self.spec
    }

    /// Number of targets.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// True when there is no target.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// Adds a target with no failures; returns its index.
    pub fn push_target(&mut self) -> usize {
        self.peers.push(FRESH);
        self.peers.len() - 1
    }

    /// Forgets `target`'s failures: a new instance behind a reused index (nginx re-creates the
    /// peer when the configuration or resolved address changes).
    pub fn reset(&mut self, target: usize) {
        self.peers[target] = FRESH;
    }

    /// nginx's failure count for `target`.
    pub fn fails(&self, target: usize) -> u32 {
        self.peers[target].fails
    }

    /// The window test of `ngx_http_upstream_get_peer`, without the clock.
    fn tripped(&self, p: &Peer) -> bool {
        self.spec.max_fails != 0 && p.fails >= self.spec.max_fails
    }

    /// `fail_timeout` in nginx's whole seconds (validation accepts only whole seconds, as
    /// nginx does; a fraction here is dropped).
    fn fail_timeout_secs(&self) -> u64 {
        self.spec.fail_timeout.as_nanos() / SECOND_NS
    }

    /// nginx's `now - checked <= fail_timeout`: still inside the window at second `now`.
    fn within_window(&self, p: &Peer, now: u64) -> bool {
        now.saturating_sub(p.checked) <= self.fail_timeout_secs()
    }

    /// The first instant the window has passed: the start of second
    /// `checked + fail_timeout + 1`.
    fn reopens_at(&self, p: &Peer) -> SimTime {
        let second = p
            .checked
            .saturating_add(self.fail_timeout_secs())
            .saturating_add(1);
        SimTime::from_nanos(second.saturating_mul(SECOND_NS))
    }

    /// True when nginx may pick `target` at `now`: not `max_fails` failures, or the last one
    /// (or the last trial pick) more than `fail_timeout` whole seconds ago.
    pub fn available(&self, target: usize, now: SimTime) -> bool {
        let p = &self.peers[target];
        !(self.tripped(p) && self.within_window(p, ngx_time(now)))
    }

    /// When `target` becomes available again, if it is unavailable at `now`.
    pub fn unavailable_until(&self, target: usize, now: SimTime) -> Option<SimTime> {
        (!self.available(target, now)).then(|| self.reopens_at(&self.peers[target]))
    }

    /// The world sent a request to `target` at `now` (call on every pick, as nginx's
    /// `ngx_http_upstream_get_peer` runs its `checked` update on every pick). The target must
    /// be available. Returns `Some(at)` when this pick is the trial request of a peer whose
    /// window expired: the peer is unavailable to every other request until `at`, unless the
    /// trial succeeds first.
    pub fn picked(&mut self, target: usize, now: SimTime) -> Option<SimTime> {
        debug_assert!(self.available(target, now), "picked an unavailable peer");
        let now_s = ngx_time(now);
        let p = self.peers[target];
        if !self.within_window(&p, now_s) {
            self.peers[target].checked = now_s;
        }
        self.unavailable_until(target, now)
    }

    /// An attempt to `target` ended at `now` in a way nginx counts as a success (see
    /// [`PassiveSpec::counts_as_failure`]). Returns true when this resets the failures of a
    /// peer that was unavailable, which is then available again at once.
    pub fn succeeded(&mut self, target: usize, now: SimTime) -> bool {
        let was_available = self.available(target, now);
        let p = &mut self.peers[target];
        if p.accessed < p.checked {
            p.fails = 0;
        }
        !was_available && self.available(target, now)
    }

    /// An attempt to `target` failed at `now` (a result nginx counts). Returns `Some(at)` when
    /// the peer is unavailable after it, until `at` (the first instant it may be picked
    /// again); `None` while fewer than `max_fails` failures have accumulated, or with
    /// `max_fails = 0`. A failure of a peer already unavailable (a request sent before it went
    /// down) extends the window and returns the new end.
    pub fn failed(&mut self, target: usize, now: SimTime) -> Option<SimTime> {
        let now_s = ngx_time(now);
        let p = &mut self.peers[target];
        p.fails = p.fails.saturating_add(1);
        p.accessed = now_s;
        p.checked = now_s;
        self.unavailable_until(target, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RandomStreams;
    use rand::Rng;

    fn s(secs: u64) -> SimTime {
        SimTime::from_nanos(secs * 1_000_000_000)
    }

    fn spec(max_fails: u32) -> PassiveSpec {
        PassiveSpec {
            max_fails,
            ..PassiveSpec::default()
        }
    }

    #[test]
    fn defaults_are_nginxs() {
        let d = PassiveSpec::default();
        assert_eq!(d.max_fails, 1);
        assert_eq!(d.fail_timeout, SimDuration::from_secs(10));
        assert!(!d.count_server_errors);
        // proxy_next_upstream's default "error timeout": errors and timeouts count, 5xx not.
        assert!(d.counts_as_failure(AttemptResult::Error));
        assert!(d.counts_as_failure(AttemptResult::TimedOut));
        assert!(!d.counts_as_failure(AttemptResult::ServerError));
        assert!(!d.counts_as_failure(AttemptResult::Answered));
        let listed = PassiveSpec {
            count_server_errors: true,
            ..d
        };
        assert!(listed.counts_as_failure(AttemptResult::ServerError));
    }

    #[test]
    fn one_failure_takes_a_peer_out_for_ten_seconds() {
        let mut h = PassiveHealth::new(2, PassiveSpec::default());
        assert_eq!(h.picked(0, s(5)), None);
        // Failure in second 5: skipped while ngx_time() - 5 <= 10, i.e. through second 15.
        assert_eq!(h.failed(0, s(5)), Some(s(16)));
        assert!(!h.available(0, s(5)));
        assert!(!h.available(0, SimTime::from_nanos(16_000_000_000 - 1)));
        assert!(h.available(0, s(16)));
        assert!(h.available(1, s(5)), "the other peer is untouched");
    }

    #[test]
    fn a_failed_trial_takes_it_out_again_for_another_ten_seconds() {
        let mut h = PassiveHealth::new(1, PassiveSpec::default());
        h.picked(0, s(0));
        h.failed(0, s(0));
        // 12 s: window over; this pick is the one trial and closes the window for others.
        assert_eq!(h.picked(0, s(12)), Some(s(23)));
        assert!(!h.available(0, s(13)), "only one trial request");
        // The trial fails at 14 s: out through second 24, counted from the failure.
        assert_eq!(h.failed(0, s(14)), Some(s(25)));
        assert_eq!(h.fails(0), 2);
        assert!(!h.available(0, SimTime::from_nanos(25_000_000_000 - 1)));
        assert!(h.available(0, s(25)));
    }

    #[test]
    fn a_successful_trial_resets_the_failures() {
        let mut h = PassiveHealth::new(1, PassiveSpec::default());
        h.picked(0, s(0));
        h.failed(0, s(0));
        assert_eq!(h.picked(0, s(11)), Some(s(22)));
        // Success at 12 s: accessed (0) < checked (11), so fails = 0: available at once.
        assert!(h.succeeded(0, s(12)));
        assert_eq!(h.fails(0), 0);
        assert!(h.available(0, s(12)));
        // The next failure counts from one again.
        assert_eq!(h.failed(0, s(13)), Some(s(24)));
    }

    #[test]
    fn failures_do_not_decay_by_time_alone() {
        // max_fails = 3; failures at 0, 8 and 16 s with successes at 4 and 12 s in between.
        // Each success's pick came within 10 s of the last failure, so it did not move
        // `checked`, and accessed == checked: no reset. The third failure disables the peer
        // although the three span 16 s > fail_timeout.
        let mut h = PassiveHealth::new(1, spec(3));
        let mut t = 0;
        for (pick, fail) in [(0, true), (4, false), (8, true), (12, false), (16, true)] {
            assert_eq!(h.picked(0, s(pick)), None);
            t = pick;
            if fail {
                let r = h.failed(0, s(pick));
                assert_eq!(r.is_some(), pick == 16, "at {pick} s");
            } else {
                assert!(!h.succeeded(0, s(pick)));
            }
        }
        assert_eq!(h.fails(0), 3);
        assert!(!h.available(0, s(t + 10)));

        // A long quiet period without picks does not reset either: after 100 s idle, a
        // failure makes it 2, not 1...
        let mut h = PassiveHealth::new(1, spec(3));
        h.picked(0, s(0));
        h.failed(0, s(0));
        h.picked(0, s(100));
        // (this pick moved `checked` to 100, but the request fails before any success)
        assert_eq!(h.failed(0, s(100)), None);
        assert_eq!(h.fails(0), 2);
        // ...whereas a success on a pick made more than 10 s after the last failure resets:
        assert_eq!(h.picked(0, s(111)), None); // 111 - 100 > 10: checked = 111
        assert!(!h.succeeded(0, s(112)), "it was available all along");
        assert_eq!(h.fails(0), 0);
    }

    #[test]
    fn a_success_picked_before_the_window_reopened_does_not_reset() {
        // Two requests picked at 5 s (no failure yet: `checked` stays 0). One fails at 6 s
        // (accessed = checked = 6); the other succeeds at 7 s: accessed (6) is not < checked
        // (6), so `fails` stays 1. Only a pick after the failure can make a success count.
        let mut h = PassiveHealth::new(1, spec(2));
        h.picked(0, s(5));
        h.picked(0, s(5));
        assert_eq!(h.failed(0, s(6)), None);
        assert!(!h.succeeded(0, s(7)));
        assert_eq!(h.fails(0), 1);
    }

    #[test]
    fn a_slow_old_request_succeeding_after_a_trial_started_revives_the_peer() {
        // nginx's rule is state-based: once a trial pick moved `checked` past `accessed`, any
        // success resets, even of a request sent before the failure.
        let mut h = PassiveHealth::new(1, PassiveSpec::default());
        h.picked(0, s(0)); // long request A
        h.picked(0, s(1)); // request B
        assert_eq!(h.failed(0, s(1)), Some(s(12)));
        assert_eq!(h.picked(0, s(12)), Some(s(23))); // trial C
        assert!(h.succeeded(0, s(13)), "A answers");
        assert!(h.available(0, s(13)));
    }

    #[test]
    fn max_fails_zero_disables_accounting() {
        let mut h = PassiveHealth::new(1, spec(0));
        for t in 0..5 {
            h.picked(0, s(t));
            assert_eq!(h.failed(0, s(t)), None);
            assert!(h.available(0, s(t)));
        }
    }

    /// `t` seconds and `ms` milliseconds.
    fn at(t: u64, ms: u64) -> SimTime {
        SimTime::from_nanos(t * 1_000_000_000 + ms * 1_000_000)
    }

    #[test]
    fn the_window_ends_on_a_whole_second_however_late_in_its_second_the_failure_fell() {
        // nginx: `now - checked <= fail_timeout` on ngx_time(), whole seconds. A failure at
        // 100.999 s and one at 100.000 s both leave checked = 100: skipped through second 110,
        // available from 111.000 s: out 10.001 s and 11 s. (Nanosecond time, before issue 14,
        // reopened them at 110.999 s + 1 ns and 110 s + 1 ns.)
        for fail_ms in [999, 0] {
            let mut h = PassiveHealth::new(2, PassiveSpec::default());
            assert_eq!(h.failed(0, at(100, fail_ms)), Some(s(111)));
            assert!(!h.available(0, at(110, 999)), "{fail_ms}");
            assert!(h.available(0, s(111)), "{fail_ms}");
        }
        // Failures at 100.999 s and 101.001 s straddle a second: the window runs from the
        // later one's second, 101, through 111.
        let mut h = PassiveHealth::new(2, spec(2));
        assert_eq!(h.failed(0, at(100, 999)), None);
        assert_eq!(h.failed(0, at(101, 1)), Some(s(112)));
        assert!(!h.available(0, at(111, 999)));
    }

    #[test]
    fn a_success_resets_only_after_a_pick_in_a_later_second_than_the_window() {
        // One failure at 10.2 s (below max_fails = 2): accessed = checked = 10. A request
        // picked at 20.9 s is in second 20, 20 - 10 = 10 is not > 10: `checked` stays, and its
        // success does not reset (accessed 10 < checked 10 is false). In nanoseconds the pick
        // was 10.7 s after the failure and reset it.
        let mut h = PassiveHealth::new(2, spec(2));
        assert_eq!(h.failed(0, at(10, 200)), None);
        assert_eq!(h.picked(0, at(20, 900)), None);
        assert!(!h.succeeded(0, at(21, 500)));
        assert_eq!(h.fails(0), 1);
        // A pick at 21.0 s (second 21: 21 - 10 > 10) moves checked to 21: its success resets.
        assert_eq!(h.picked(0, s(21)), None);
        assert!(!h.succeeded(0, at(21, 100)));
        assert_eq!(h.fails(0), 0);
    }

    #[test]
    fn a_trial_failing_in_the_second_it_was_picked_is_out_for_the_whole_window_again() {
        // Failure at 5.5 s: out through second 15 (nanoseconds: to 15.5 s). The trial is
        // picked at 16.3 s (checked = 16) and fails at 16.8 s (accessed = checked = 16): out
        // through second 26, to 27.0 s (nanoseconds: 26.8 s). A request answering at 16.9 s
        // does not revive it: accessed (16) is not below checked (16).
        let mut h = PassiveHealth::new(2, PassiveSpec::default());
        assert_eq!(h.failed(0, at(5, 500)), Some(s(16)));
        assert_eq!(h.picked(0, at(16, 300)), Some(s(27)));
        assert_eq!(h.failed(0, at(16, 800)), Some(s(27)));
        assert!(!h.succeeded(0, at(16, 900)));
        assert!(!h.available(0, at(26, 999)));
        assert!(h.available(0, s(27)));
    }

    #[test]
    fn a_failure_of_a_peer_already_down_extends_its_window() {
        let mut h = PassiveHealth::new(1, PassiveSpec::default());
        h.picked(0, s(0));
        h.picked(0, s(0));
        assert_eq!(h.failed(0, s(1)), Some(s(12)));
        assert_eq!(h.failed(0, s(4)), Some(s(15)));
        assert_eq!(h.unavailable_until(0, s(12)), Some(s(15)));
        assert_eq!(h.unavailable_until(0, s(15)), None);
    }

    #[test]
    fn pushed_and_reset_targets_start_clean() {
        let mut h = PassiveHealth::new(1, PassiveSpec::default());
        h.failed(0, s(0));
        h.reset(0);
        assert!(h.available(0, s(0)));
        assert_eq!(h.push_target(), 1);
        assert_eq!(h.len(), 2);
        assert!(h.available(1, s(0)));
    }

    /// The correspondence documented at the top: a world that only applies the returned
    /// decisions and one timer per down peer has `eligible == available` at every instant.
    /// 3 peers, max_fails 2, fail_timeout 10 s; 20,000 events at random times, each a pick of
    /// a random eligible peer that later fails (40 %) or succeeds; checked after every event.
    #[test]
    fn world_protocol_tracks_nginx_availability() {
        let spec = PassiveSpec {
            max_fails: 2,
            ..PassiveSpec::default()
        };
        let mut h = PassiveHealth::new(3, spec);
        let mut eligible = [true; 3];
        let mut timers: Vec<(SimTime, usize)> = Vec::new();
        // In-flight requests: (ends at, peer, fails).
        let mut flight: Vec<(SimTime, usize, bool)> = Vec::new();
        let mut rng = RandomStreams::new(7).stream("passive");
        let mut now = SimTime::ZERO;
        let (mut trials, mut reopenings, mut revivals) = (0, 0, 0);
        for _ in 0..20_000 {
            now += SimDuration::from_nanos(rng.random_range(0..3_000_000_000));
            // Timers and request ends due by `now`, in time order (timers first on ties).
            loop {
                let next_timer = timers.iter().map(|x| x.0).min();
                let next_end = flight.iter().map(|x| x.0).min();
                let due = match (next_timer, next_end) {
                    (Some(a), Some(b)) => a.min(b),
                    (Some(a), None) => a,
                    (None, Some(b)) => b,
                    (None, None) => break,
                };
                if due > now {
                    break;
                }
                if next_timer == Some(due) {
                    let i = timers.iter().position(|x| x.0 == due).unwrap();
                    let (_, t) = timers.swap_remove(i);
                    if h.available(t, due) && !eligible[t] {
                        eligible[t] = true;
                        reopenings += 1;
                    }
                } else {
                    let i = flight.iter().position(|x| x.0 == due).unwrap();
                    let (_, t, fails) = flight.swap_remove(i);
                    if fails {
                        if let Some(at) = h.failed(t, due) {
                            eligible[t] = false;
                            timers.push((at, t));
                        }
                    } else if h.succeeded(t, due) {
                        eligible[t] = true;
                        revivals += 1;
                    }
                }
                // Checked once every event due at this instant is handled (whole seconds make
                // several peers' timers fall due together).
                let next = timers
                    .iter()
                    .map(|x| x.0)
                    .chain(flight.iter().map(|x| x.0))
                    .min();
                if next.is_none_or(|n| n > due) {
                    for (t, &e) in eligible.iter().enumerate() {
                        assert_eq!(e, h.available(t, due), "peer {t} at {due}");
                    }
                }
            }
            for (t, &e) in eligible.iter().enumerate() {
                assert_eq!(e, h.available(t, now), "peer {t} at {now}");
            }
            let candidates: Vec<usize> = (0..3).filter(|&t| eligible[t]).collect();
            if candidates.is_empty() {
                continue; // "no live upstreams"
            }
            let t = candidates[rng.random_range(0..candidates.len())];
            if let Some(at) = h.picked(t, now) {
                eligible[t] = false;
                timers.push((at, t));
                trials += 1;
            }
            let ends = now + SimDuration::from_nanos(rng.random_range(1..20_000_000_000));
            flight.push((ends, t, rng.random_bool(0.4)));
        }
        // The sequence exercised every kind of transition.
        assert!(
            trials > 100 && reopenings > 100 && revivals > 100,
            "{trials} trials, {reopenings} reopenings, {revivals} revivals"
        );
    }
}
