//! Closed-loop load: a fixed population of users, each sending one request at a time.
//!
//! Owns *when* each user of a closed population sends, and what (the class and work of each of
//! its requests). It must not know how requests are served: the world tells it when a user's
//! request has ended (completed, or failed for good after the client's retries) and asks when
//! that user sends next.
//!
//! This is the terminal-driven system of the interactive response time law (Jain, *The Art of
//! Computer Systems Performance Analysis*, §33.4; Lazowska et al., *Quantitative System
//! Performance*, §3.3: `R = N/X − Z`): each of `N` users sends a request, waits for it to end,
//! thinks for `Z`, and sends the next. Requests come in sessions of `K` requests (`K` drawn per
//! session, endless by default) separated by a longer session gap instead of a think.
//!
//! ```text
//!  user u:  ─send─[response R]─end─[think Z]─send─ … ─end─[session gap]─send─ …
//!            └──────── one cycle ────────┘           (after the K-th request of a session)
//! ```
//!
//! **Random numbers, per user.** Every draw is a fixed function of (stream key, user, index):
//! user `u`'s `j`-th request has the same class, the same work quantile and the same think time
//! after it in every variant of a scenario, whatever order the fleet makes requests end in
//! (common random numbers across policies). A shared stream drawn in event order would hand
//! user `u`'s think time to whichever user's request happened to end first, so two fleets
//! would see different users' behaviour. The keys come from the named streams `users/think`,
//! `users/sessions`, `users/classes` and `users/work`, all new: open-loop scenarios do not
//! touch them. The counter-based construction (a SplitMix64 hash of the index, as in
//! Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011) keeps a user's
//! state to three integers: 12 bytes per user, so 100,000 users take 1.2 MB.
//!
//! **No synchronized start.** With `ramp_up`, user `u` sends its first request at a uniform
//! time in `[0, ramp_up)`; without it, after an initial think drawn from the think time (for
//! an exponential think this is already the stationary state of a user who is thinking).

use crate::engine::{mix64, StreamRng};
use crate::model::distribution::ServiceTime;
use crate::time::SimDuration;
use rand::RngCore;

/// How many requests a session holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SessionLength {
    /// One endless session: the user only ever thinks between requests.
    Endless,
    /// Always `n` requests.
    Constant(u32),
    /// Geometric on 1, 2, … with the given mean (each request is the last with probability
    /// `1/mean`): the memoryless session length.
    Geometric {
        /// Mean requests per session (≥ 1).
        mean: f64,
    },
    /// Uniform on `min..=max`.
    Uniform {
        /// Fewest requests (≥ 1).
        min: u32,
        /// Most requests.
        max: u32,
    },
}

impl SessionLength {
    /// The length at uniform quantile `u` in (0, 1).
    pub fn quantile(&self, u: f64) -> u32 {
        match *self {
            SessionLength::Endless => u32::MAX,
            SessionLength::Constant(n) => n,
            SessionLength::Geometric { mean } => {
                if mean <= 1.0 {
                    return 1;
                }
                // P(K > k) = (1 − p)^k with p = 1/mean: K = 1 + ⌊ln(1 − u) / ln(1 − p)⌋.
                let k = 1.0 + ((1.0 - u).ln() / (1.0 - 1.0 / mean).ln()).floor();
                // u32::MAX means endless: a drawn length stops one short of it.
                k.min(f64::from(u32::MAX - 1)) as u32
            }
            SessionLength::Uniform { min, max } => {
                let span = f64::from(max - min) + 1.0;
                (min + (u * span) as u32).min(max)
            }
        }
    }

    /// The mean number of requests per session (`None` if endless).
    pub fn mean(&self) -> Option<f64> {
        match *self {
            SessionLength::Endless => None,
            SessionLength::Constant(n) => Some(f64::from(n)),
            SessionLength::Geometric { mean } => Some(mean.max(1.0)),
            SessionLength::Uniform { min, max } => Some((f64::from(min) + f64::from(max)) / 2.0),
        }
    }
}

/// `[traffic] closed_loop`: N concurrent users.
#[derive(Debug, Clone, PartialEq)]
pub struct ClosedLoop {
    /// How many users (ids `0..users`).
    pub users: u32,
    /// The time a user thinks between the end of a request and the next within a session.
    pub think: ServiceTime,
    /// Requests per session.
    pub session_length: SessionLength,
    /// The time between the last request of a session and the first of the next (used only
    /// when sessions end).
    pub session_gap: Option<ServiceTime>,
    /// First sends spread uniformly over `[0, ramp_up)`; `None`: after an initial think.
    pub ramp_up: Option<SimDuration>,
}

/// What one user is doing: 12 bytes.
#[derive(Debug, Clone, Copy, Default)]
struct UserState {
    /// Requests sent so far (the index of the next request).
    sent: u32,
    /// Requests left in the current session, the current one included.
    left: u32,
    /// Sessions begun so far.
    sessions: u32,
}

/// A uniform in (0, 1) that is a fixed function of `(key, user, index)`.
#[inline]
fn unit(key: u64, user: u32, index: u64) -> f64 {
    let x = mix64(key ^ mix64((u64::from(user) << 40) ^ index));
    ((x >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

/// The keys of the per-user sequences, from the named streams.
#[derive(Debug, Clone, Copy)]
pub struct UserKeys {
    think: u64,
    sessions: u64,
    classes: u64,
    work: u64,
}

impl UserKeys {
    /// Keys drawn from the streams `users/think`, `users/sessions`, `users/classes`,
    /// `users/work` (one number each).
    pub fn new(mut stream: impl FnMut(&str) -> StreamRng) -> Self {
        UserKeys {
            think: stream("users/think").next_u64(),
            sessions: stream("users/sessions").next_u64(),
            classes: stream("users/classes").next_u64(),
            work: stream("users/work").next_u64(),
        }
    }
}

/// What a user sends: its class's uniform and its work quantile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UserRequest {
    /// Uniform in (0, 1) for the class mix.
    pub class_unit: f64,
    /// Uniform in (0, 1): the work's quantile of the service-time distribution.
    pub quantile: f64,
}

/// The population's state: per user a few counters, nothing per request.
pub struct Users {
    spec: ClosedLoop,
    keys: UserKeys,
    state: Vec<UserState>,
}

/// Index of the initial delay in the think sequence (never a request's index).
const INITIAL: u64 = u64::MAX >> 24;

impl Users {
    /// Bytes of one user's state (the memory guard counts them before a run).
    pub const BYTES_PER_USER: u64 = std::mem::size_of::<UserState>() as u64;

    /// The population of `spec`, all users about to start.
    pub fn new(spec: ClosedLoop, keys: UserKeys) -> Self {
        let state = vec![UserState::default(); spec.users as usize];
        Users { spec, keys, state }
    }

    /// The specification.
    pub fn spec(&self) -> &ClosedLoop {
        &self.spec
    }

    /// How many users.
    pub fn len(&self) -> u32 {
        self.spec.users
    }

    /// True with no users (never, once validated).
    pub fn is_empty(&self) -> bool {
        self.spec.users == 0
    }

    /// When `user` sends its first request, from the start of the run; begins its first
    /// session.
    pub fn first_send(&mut self, user: u32) -> SimDuration {
        self.begin_session(user);
        let u = unit(self.keys.think, user, INITIAL);
        match self.spec.ramp_up {
            Some(r) => SimDuration::from_nanos_f64(u * r.as_nanos() as f64),
            None => self.spec.think.quantile(u),
        }
    }

    fn begin_session(&mut self, user: u32) {
        let s = &mut self.state[user as usize];
        let u = unit(self.keys.sessions, user, 2 * u64::from(s.sessions));
        s.left = self.spec.session_length.quantile(u).max(1);
        s.sessions += 1;
    }

    /// `user` sends its next request now: its class and work.
    pub fn send(&mut self, user: u32) -> UserRequest {
        let s = &mut self.state[user as usize];
        let j = u64::from(s.sent);
        s.sent = s.sent.wrapping_add(1);
        UserRequest {
            class_unit: unit(self.keys.classes, user, j),
            quantile: unit(self.keys.work, user, j),
        }
    }

    /// `user`'s request has ended (completed or failed for good): how long until it sends the
    /// next — a think, or a session gap when the session is over (a new session begins).
    pub fn ended(&mut self, user: u32) -> SimDuration {
        let s = &mut self.state[user as usize];
        // The request that ended is number `sent − 1`: its think has the same index.
        let j = u64::from(s.sent.wrapping_sub(1));
        if s.left != u32::MAX {
            s.left -= 1;
        }
        if s.left == 0 {
            let sessions = s.sessions;
            let gap = self
                .spec
                .session_gap
                .as_ref()
                .unwrap_or(&self.spec.think)
                .quantile(unit(self.keys.sessions, user, 2 * u64::from(sessions) + 1));
            self.begin_session(user);
            gap
        } else {
            self.spec.think.quantile(unit(self.keys.think, user, j))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RandomStreams;

    fn keys(seed: u64) -> UserKeys {
        let s = RandomStreams::new(seed);
        UserKeys::new(|n| s.stream(n))
    }

    fn spec(session_length: SessionLength) -> ClosedLoop {
        ClosedLoop {
            users: 4,
            think: ServiceTime::Exponential { mean: 2e9 },
            session_length,
            session_gap: Some(ServiceTime::Constant { nanos: 100e9 }),
            ramp_up: None,
        }
    }

    #[test]
    fn a_users_draws_do_not_depend_on_the_order_users_end_in() {
        // Users 0 and 1 each send and end three times; in one world user 0 always goes first,
        // in the other user 1 does: each user's sends and thinks are the same.
        let run = |order: [u32; 2]| {
            let mut users = Users::new(spec(SessionLength::Endless), keys(5));
            let mut out = vec![Vec::new(); 2];
            for &u in &order {
                users.first_send(u);
            }
            for _ in 0..3 {
                for &u in &order {
                    let r = users.send(u);
                    let z = users.ended(u);
                    out[u as usize].push((r.class_unit, r.quantile, z));
                }
            }
            out
        };
        assert_eq!(run([0, 1]), run([1, 0]));
        let a = run([0, 1]);
        assert_ne!(a[0], a[1]);
    }

    #[test]
    fn sessions_of_three_end_with_a_gap_every_third_request() {
        let mut users = Users::new(spec(SessionLength::Constant(3)), keys(1));
        users.first_send(0);
        let gaps: Vec<bool> = (0..9)
            .map(|_| {
                users.send(0);
                users.ended(0) == SimDuration::from_secs(100)
            })
            .collect();
        // An exponential think of mean 2 s is never exactly 100 s.
        assert_eq!(
            gaps,
            [false, false, true, false, false, true, false, false, true]
        );
    }

    #[test]
    fn ramp_up_spreads_first_sends_uniformly() {
        // 10,000 users over 100 s: each 10 s decile holds Binomial(10,000, 0.1) users, mean
        // 1,000, sd 30; within 4.42 sd (p ≈ 1e-5 each).
        let mut s = spec(SessionLength::Endless);
        s.users = 10_000;
        s.ramp_up = Some(SimDuration::from_secs(100));
        let mut users = Users::new(s, keys(2));
        let mut deciles = [0u32; 10];
        for u in 0..10_000 {
            let t = users.first_send(u);
            assert!(t < SimDuration::from_secs(100));
            deciles[(t.as_secs_f64() / 10.0) as usize] += 1;
        }
        for d in deciles {
            assert!((f64::from(d) - 1000.0).abs() < 4.42 * 30.0, "{deciles:?}");
        }
    }

    #[test]
    fn geometric_session_lengths_have_their_mean() {
        // Geometric with mean 8: variance (1 − p)/p² = 56, sd 7.48; the mean of 20,000 draws
        // has standard error 0.0529; 5 SE = 0.26.
        let g = SessionLength::Geometric { mean: 8.0 };
        let n = 20_000;
        let sum: u64 = (0..n).map(|i| u64::from(g.quantile(unit(7, 3, i)))).sum();
        let mean = sum as f64 / n as f64;
        assert!((mean - 8.0).abs() < 0.26, "{mean}");
        assert_eq!(g.quantile(1e-9), 1);
        let u = SessionLength::Uniform { min: 2, max: 4 };
        assert_eq!(
            (u.quantile(0.01), u.quantile(0.5), u.quantile(0.99)),
            (2, 3, 4)
        );
    }

    #[test]
    fn a_user_is_twelve_bytes() {
        assert_eq!(std::mem::size_of::<UserState>(), 12);
    }
}
