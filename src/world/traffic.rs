//! Traffic: every arrival stream — open-loop arrivals (a rate profile, or a trace replayed),
//! closed-loop users — and the common-random-numbers rule.
//!
//! **Common random numbers.** A request's class, work (a quantile of its service time), user
//! and tokens are drawn here when it arrives, each from its own stream (`classes`, `work`,
//! `users`, `tokens`), whatever serves it afterwards: two variants of a scenario see the same
//! requests, and their differences are the policies', not the dice's. The classes and users
//! streams are drawn even when a trace says what they are, so that every variant draws the
//! same numbers for the same request.
//!
//! **Closed loop.** A user's next request is sent only once the previous one has *ended*:
//! completed (at the client, after the answer's way back with regions), or failed for good —
//! after the client's timeout and its retries with backoff (`[client] retry`), which the world
//! handles as for any request. A user never stops: after a failure it thinks and sends again
//! ([`crate::model::traffic::sessions`] decides when and what).

use super::ids::{ClassId, Id};
use super::Event;
use crate::engine::{open_unit, EventQueue, RandomStreams, StreamRng};
use crate::metrics::ClosedLoopSummary;
use crate::model::traffic::sessions::{UserKeys, Users};
use crate::model::traffic::{Arrivals, ClassMix, Population, TraceArrivals, TraceView};
use crate::scenario::Scenario;
use crate::time::{SimDuration, SimTime};

/// A request as it arrives: what the traffic drew for it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Arrival {
    /// Its class.
    pub class: ClassId,
    /// Its work, as a quantile of its service-time distribution.
    pub quantile: f64,
    /// The user who sends it.
    pub user: u64,
    /// Its prompt tokens (0 with `output_tokens` 0: not token-based).
    pub input_tokens: u32,
    /// The tokens it generates (0: not token-based).
    pub output_tokens: u32,
    /// Its trace record, when the trace carries prompt block hashes (for prefix caching).
    pub hashed_record: Option<HashedRecord>,
}

/// A trace record's index, for the prompt block hashes the trace holds for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct HashedRecord(std::num::NonZeroU32);

impl HashedRecord {
    /// Record `k` (`None` past `u32::MAX − 1` records: then it has no hashes to offer).
    fn new(k: usize) -> Option<Self> {
        u32::try_from(k + 1)
            .ok()
            .and_then(std::num::NonZeroU32::new)
            .map(HashedRecord)
    }

    /// The record's index in the trace.
    pub fn index(self) -> usize {
        self.0.get() as usize - 1
    }
}

/// What the closed loop measured after the warm-up: sums, never per-request records.
#[derive(Debug, Default)]
struct ClosedLoopStats {
    completed: u64,
    ended: u64,
    response_ns: u128,
    waits: u64,
    wait_ns: u128,
}

/// The closed-loop population and its measurements.
struct ClosedLoop {
    users: Users,
    stats: ClosedLoopStats,
}

/// Every arrival stream of a run and the streams its requests are drawn from.
pub(super) struct Traffic {
    arrivals: Arrivals,
    class_mix: ClassMix,
    class_rng: StreamRng,
    work_rng: StreamRng,
    user_rng: StreamRng,
    /// Token counts of token-based classes (a stream of its own: other scenarios unchanged).
    tokens_rng: StreamRng,
    population: Population,
    /// The closed-loop users (`None`: open-loop arrivals).
    closed_loop: Option<ClosedLoop>,
}

impl Traffic {
    /// The traffic of `scenario`, ending at `end`, its streams keyed from `streams`.
    pub fn new(scenario: &Scenario, streams: &RandomStreams, end: SimTime) -> Self {
        let shares: Vec<f64> = scenario.classes.iter().map(|c| c.share).collect();
        Traffic {
            arrivals: match &scenario.trace {
                // The thinning stream is new: scenarios without a trace draw as before.
                Some(trace) => Arrivals::Trace(Box::new(TraceArrivals::new(
                    TraceView::new(trace.data.clone(), &trace.options),
                    &trace.options,
                    streams.stream("trace/thin"),
                    end,
                ))),
                None => Arrivals::new(
                    scenario.arrival_process,
                    scenario.traffic.clone(),
                    streams.stream("arrivals"),
                    end,
                ),
            },
            class_mix: ClassMix::new(&shares),
            class_rng: streams.stream("classes"),
            work_rng: streams.stream("work"),
            user_rng: streams.stream("users"),
            tokens_rng: streams.stream("tokens"),
            population: scenario.population,
            closed_loop: scenario.closed_loop.as_ref().map(|c| ClosedLoop {
                users: Users::new(c.clone(), UserKeys::new(|n| streams.stream(n))),
                stats: ClosedLoopStats::default(),
            }),
        }
    }

    /// The most trace records sharing one time, times the copies a rate scale makes of each:
    /// the largest burst of arrivals at one instant (for the instant guard).
    pub fn burst(scenario: &Scenario) -> u64 {
        scenario.trace.as_ref().map_or(0, |t| {
            let view = TraceView::new(t.data.clone(), &t.options);
            let copies = t.options.rate_scale.ceil().max(1.0) as u64;
            let (mut burst, mut run) = (0u64, 0u64);
            for k in 0..view.len() {
                run = if k > 0 && view.time(k) == view.time(k - 1) {
                    run + 1
                } else {
                    1
                };
                burst = burst.max(run);
            }
            burst.saturating_mul(copies)
        })
    }

    /// Schedules the first arrival, or every closed-loop user's first send (staggered: see
    /// [`Users::first_send`]).
    pub fn start(&mut self, queue: &mut EventQueue<Event>) {
        if let Some(c) = &mut self.closed_loop {
            for user in 0..c.users.len() {
                let delay = c.users.first_send(user);
                queue.schedule_in(delay, Event::UserSend { user });
            }
        } else if let Some(first) = self.arrivals.next_arrival() {
            queue.schedule_source_in(first - SimTime::ZERO, Event::Arrival);
        }
    }

    /// The open-loop source's request arriving at `now`, with the next arrival scheduled.
    #[inline]
    pub fn on_arrival(
        &mut self,
        scenario: &Scenario,
        queue: &mut EventQueue<Event>,
        now: SimTime,
    ) -> Arrival {
        // The classes and users streams are drawn even when the trace says: every variant of
        // a scenario then draws the same numbers for the same request.
        let mut class = self.class_mix.pick(&mut self.class_rng);
        let quantile = open_unit(&mut self.work_rng);
        let mut user = self.population.draw_user(&mut self.user_rng);
        let mut tokens = (0, 0);
        let mut hashed_record = None;
        if let Some((data, k)) = self.arrivals.trace_record() {
            tokens = data.tokens(k);
            if !data.hash_starts.is_empty() {
                hashed_record = HashedRecord::new(k);
            }
            if let Some(&u) = data.users.get(k) {
                user = u;
            }
            if let (Some(&c), Some(trace)) = (data.classes.get(k), &scenario.trace) {
                class = trace.class_of[c as usize] as usize;
            }
        }
        // The next arrival after this one's record is read (a trace source moves on).
        if let Some(next) = self.arrivals.next_arrival() {
            queue.schedule_source_in(next - now, Event::Arrival);
        }
        Arrival {
            hashed_record,
            ..self.with_tokens(scenario, class, quantile, user, tokens)
        }
    }

    /// Closed-loop `user` sends its next request.
    #[inline]
    pub fn on_user_send(&mut self, scenario: &Scenario, user: u32) -> Option<Arrival> {
        let r = self.closed_loop.as_mut()?.users.send(user);
        let class = self.class_mix.pick_unit(r.class_unit);
        Some(self.with_tokens(scenario, class, r.quantile, u64::from(user), (0, 0)))
    }

    /// A request of `class` with work at `quantile` from `user`, with `tokens` (input,
    /// output): the trace's, else drawn for a token-based class (from its own stream: other
    /// classes draw nothing, so scenarios without tokens are unchanged).
    #[inline]
    fn with_tokens(
        &mut self,
        scenario: &Scenario,
        class: usize,
        quantile: f64,
        user: u64,
        tokens: (u32, u32),
    ) -> Arrival {
        let (input_tokens, output_tokens) = match (&scenario.classes[class].tokens, tokens) {
            (Some(t), (0, 0)) => (
                t.input.quantile(open_unit(&mut self.tokens_rng)),
                t.output.quantile(open_unit(&mut self.tokens_rng)),
            ),
            _ => tokens,
        };
        Arrival {
            class: ClassId::new(class),
            quantile,
            user,
            input_tokens,
            output_tokens,
            hashed_record: None,
        }
    }

    /// The client IPv4 address of `user` (for balancers that hash it).
    #[inline]
    pub fn client_ip(&self, user: u64) -> u32 {
        self.population.client_ip(user)
    }

    /// The traffic is closed-loop users.
    #[inline]
    pub fn is_closed_loop(&self) -> bool {
        self.closed_loop.is_some()
    }

    /// The request of `user` that arrived at `arrival` ended at `at` (`completed` or failed
    /// for good): the user waits, then sends again. Measured from `measured` (the warm-up's
    /// end) to `end`.
    pub fn user_ended(
        &mut self,
        queue: &mut EventQueue<Event>,
        (measured, end): (SimTime, SimTime),
        at: SimTime,
        user: u64,
        arrival: SimTime,
        completed: bool,
    ) {
        let Some(c) = &mut self.closed_loop else {
            return;
        };
        let wait = c.users.ended(user as u32);
        if at >= measured && at < end {
            let s = &mut c.stats;
            s.ended += 1;
            s.completed += u64::from(completed);
            s.response_ns += u128::from((at - arrival).as_nanos());
            s.waits += 1;
            s.wait_ns += u128::from(wait.as_nanos());
        }
        // `at` may be after now: an answer's way back to a client in another region.
        let now = queue.now();
        let delay = SimDuration::from_nanos((at - now).as_nanos()) + wait;
        queue.schedule_in(delay, Event::UserSend { user: user as u32 });
    }

    /// The closed loop's summary, if the traffic is a closed loop.
    pub fn closed_loop_summary(&self, scenario: &Scenario) -> Option<ClosedLoopSummary> {
        let c = self.closed_loop.as_ref()?;
        let s = &c.stats;
        let seconds = (scenario.duration.as_secs_f64() - scenario.warmup.as_secs_f64())
            .max(f64::MIN_POSITIVE);
        let users = u64::from(c.users.len());
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
