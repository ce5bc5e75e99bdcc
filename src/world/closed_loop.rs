//! The closed-loop source wired to the world: users send, their requests end, they think and
//! send again ([`crate::model::traffic::sessions`] decides when and what).
//!
//! A user's next request is sent only once the previous one has *ended*: completed (at the
//! client, after the answer's way back with regions), or failed for good — after the client's
//! timeout and its retries with backoff (`[client] retry`), which the world handles as for any
//! request. A user never stops: after a failure it thinks and sends again.

use super::{Event, World};
use crate::engine::{SimDuration, SimTime};
use crate::metrics::ClosedLoopSummary;
use crate::model::traffic::sessions::{UserKeys, Users};

/// What the closed loop measured after the warm-up: sums, never per-request records.
#[derive(Debug, Default)]
pub(super) struct ClosedLoopStats {
    completed: u64,
    ended: u64,
    response_ns: u128,
    waits: u64,
    wait_ns: u128,
}

/// The population and its measurements.
pub(super) struct ClosedLoopSource {
    users: Users,
    stats: ClosedLoopStats,
}

impl ClosedLoopSource {
    /// The population of `scenario`'s closed loop, keyed from its streams.
    pub(super) fn new(
        spec: &crate::model::traffic::sessions::ClosedLoop,
        streams: &crate::engine::RandomStreams,
    ) -> Self {
        ClosedLoopSource {
            users: Users::new(spec.clone(), UserKeys::new(|n| streams.stream(n))),
            stats: ClosedLoopStats::default(),
        }
    }
}

impl World<'_> {
    /// Schedules every user's first send (staggered: see [`Users::first_send`]).
    pub(super) fn start_users(&mut self) {
        let Some(source) = &mut self.closed_loop else {
            return;
        };
        for user in 0..source.users.len() {
            let delay = source.users.first_send(user);
            self.queue.schedule_in(delay, Event::UserSend { user });
        }
    }

    /// `user` sends its next request.
    pub(super) fn on_user_send(&mut self, now: SimTime, user: u32) {
        let Some(source) = &mut self.closed_loop else {
            return;
        };
        let r = source.users.send(user);
        let class = self.class_mix.pick_unit(r.class_unit);
        self.admit(now, class, r.quantile, u64::from(user), (0, 0));
    }

    /// The request of `user` that arrived at `arrival` ended at `at` (`completed` or failed
    /// for good): the user waits, then sends again.
    #[inline]
    pub(super) fn user_ended(&mut self, at: SimTime, user: u64, arrival: SimTime, completed: bool) {
        let Some(source) = &mut self.closed_loop else {
            return;
        };
        let wait = source.users.ended(user as u32);
        let measured = SimTime::ZERO + self.scenario.warmup;
        if at >= measured && at < self.end {
            let s = &mut source.stats;
            s.ended += 1;
            s.completed += u64::from(completed);
            s.response_ns += u128::from((at - arrival).as_nanos());
            s.waits += 1;
            s.wait_ns += u128::from(wait.as_nanos());
        }
        // `at` may be after now: an answer's way back to a client in another region.
        let now = self.queue.now();
        let delay = SimDuration::from_nanos((at - now).as_nanos()) + wait;
        self.queue
            .schedule_in(delay, Event::UserSend { user: user as u32 });
    }

    /// The closed loop's summary, if the traffic is a closed loop.
    pub(super) fn closed_loop_summary(&self) -> Option<ClosedLoopSummary> {
        let source = self.closed_loop.as_ref()?;
        let s = &source.stats;
        let seconds = (self.scenario.duration.as_secs_f64() - self.scenario.warmup.as_secs_f64())
            .max(f64::MIN_POSITIVE);
        let users = u64::from(source.users.len());
        let mean = |sum: u128, n: u64| (n > 0).then(|| sum as f64 / n as f64 / 1e9);
        let think = mean(s.wait_ns, s.waits);
        let x = s.ended as f64 / seconds;
        Some(ClosedLoopSummary {
            users,
            think_time_mean_seconds: think,
            throughput_per_second: s.completed as f64 / seconds,
            ended_per_second: x,
            response_time_mean_seconds: mean(s.response_ns, s.ended),
            law_response_time_seconds: think.filter(|_| s.ended > 0).map(|z| users as f64 / x - z),
        })
    }
}
