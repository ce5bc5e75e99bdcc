//! The world: the models of `crate::model` wired to the engine, as a few subsystems that own
//! their state, and one event handler that routes between them.
//!
//! ```text
//!                      ┌──────────── World ─────────────────────────────────────────┐
//!  EventQueue ─pop──▶  │ handle(event) ── routes each event to the subsystem it is for│
//!      ▲               └──┬────────┬─────────┬─────────┬──────────┬───────────┬─────┘
//!      │            traffic   requests    fleet     billing  autoscalers  topology?
//!      │             arrival  the request instances, the bill  on_tick(obs) regions, DNS,
//!      │             streams, state       pools,    of every   -> actions   outages
//!      │             CRN      machine     groups    instance   (model's)   (Option)
//!      └──── schedule ◀── every handler, through Ctx ──────────────────────────────┘
//! ```
//!
//! **Subsystems.** Each owns its fields and exposes a few methods that read and change only
//! them:
//! - `traffic`: every arrival stream (open-loop arrivals, trace replay, closed-loop users)
//!   and the common-random-numbers rule: a request's class, work, user and tokens are drawn
//!   when it arrives, whatever serves it.
//! - `requests`: the requests in flight and the request state machine — admission,
//!   dispatch, service, failure, retries — drawn in its module doc.
//! - `fleet`: instances, pools and target groups with their balancers, health, spot market
//!   and faults; the instance lifecycle.
//! - `billing`: what every instance costs, state by state.
//! - `autoscalers`: each pool's controller behind `model::autoscale`'s one interface
//!   (`on_tick(observation) -> actions`); this subsystem measures and applies.
//! - `topology`: regions, DNS and outages; `None` without `[[region]]`.
//!
//! **Routing.** [`World`] holds the scenario, the event queue, the recorder, the subsystems and
//! the run's guards, and does nothing but dispatch: each `Event` goes to the handler of the
//! subsystem it concerns. A handler that must touch more than its own subsystem (a request
//! reaching an instance, an instance leaving with requests on it) runs on `Ctx`, which owns
//! the subsystems the handlers share (the world holds it beside the autoscalers and the
//! guards, so the two are lent apart): a handler borrows each field on its own, and no
//! subsystem holds a pointer back to the world or to another subsystem.
//!
//! **Ids.** Every entity is named by a typed id (`ids`): `InstanceId`, `PoolId`, `GroupId`,
//! `TargetId`, `RequestId`… (`u32` newtypes, `Option<Id>` as small as the id) indexing an
//! `IdVec`. Events carry ids, never pointers: `Event` is a small `Copy` enum, and an event for
//! an entity that has moved on is recognised as stale by an epoch (instances), a life (spot
//! and fault timers) or a generation (request slots).
//!
//! **Guards.** A run that loops at one instant (`instant_guard`) or would hold more than its
//! memory budget ([`memory_guard`]) stops with a [`RunError`], never hangs or aborts.

mod autoscalers;
mod billing;
mod finish;
mod fleet;
mod ids;
mod instant_guard;
pub mod memory_guard;
mod requests;
mod run_error;
mod topology;
mod traffic;

use crate::engine::{EventQueue, RandomStreams};
use crate::metrics::{Recorder, RunResult, Summary, TimelineSink};
use crate::model::autoscale::controller::Tick;
use crate::scenario::Scenario;
use crate::time::{SimDuration, SimTime};
use autoscalers::Autoscalers;
use billing::Billing;
use fleet::{Fleet, QueueId};
use ids::{FaultId, GroupId, InstanceId, InstanceTypeId, PoolId, RequestId, TargetId};
use requests::Requests;
use topology::{Topology, TopologyEvent};
use traffic::Traffic;

pub use run_error::RunError;

/// Everything that can happen. Small and `Copy`: ids, never pointers or boxes.
#[derive(Debug, Clone, Copy)]
enum Event {
    /// The traffic source's next arrival.
    Arrival,
    /// Closed-loop user `user` sends its next request.
    UserSend { user: u32 },
    /// `instance` finishes the work of `request`.
    ServiceEnd {
        instance: InstanceId,
        request: RequestId,
    },
    /// The client of a request that is being served gives up (the server keeps working).
    ClientDeadline { request: RequestId },
    /// The head of a queue may have passed its deadline.
    QueueTimer { queue: QueueId },
    /// A queued request whose deadline is out of order with its queue may be due.
    RequestDeadline { request: RequestId, generation: u32 },
    /// A try sent to a target that will not serve it fails.
    DoomedEnd { request: RequestId },
    /// Fault `fault` begins (`begins`) or ends (for a spot interruption: its rebalance
    /// recommendation arrives).
    Fault { fault: FaultId, begins: bool },
    /// The targets of `group` are checked.
    HealthTick { group: GroupId },
    /// A health check's outcome arrives.
    ProbeResult {
        group: GroupId,
        target: TargetId,
        passed: bool,
    },
    /// A target's passive fail window may have passed.
    PassiveRecheck { group: GroupId, target: TargetId },
    /// The weights of `group`'s targets in slow start move up a step.
    SlowStartTick { group: GroupId },
    /// A client sends `request` again after its backoff.
    ClientRetry { request: RequestId },
    /// `instance` finishes its current start-up phase (stale unless `epoch` is its epoch).
    PhaseEnd { instance: InstanceId, epoch: u32 },
    /// The deregistration delay of draining `instance` runs out (stale unless `epoch` matches).
    DrainDeadline { instance: InstanceId, epoch: u32 },
    /// `pool` compares its instances with its desired capacity again (after a failed or
    /// throttled launch).
    Reconcile { pool: PoolId },
    /// `pool`'s autoscaler has something to do.
    Autoscale { pool: PoolId, tick: Tick },
    /// Spot instance `instance` gets its two-minute interruption notice (stale unless `life`
    /// is its life).
    SpotNotice { instance: InstanceId, life: u32 },
    /// The cloud reclaims interrupted spot instance `instance`.
    SpotReclaim { instance: InstanceId, life: u32 },
    /// Spot instance `instance` gets a rebalance recommendation.
    Rebalance { instance: InstanceId, life: u32 },
    /// Instance type `itype`'s spot availability changes to its trace's point `point`.
    SpotAvailability { itype: InstanceTypeId, point: u32 },
    /// A random failure (`crash`, else a GPU fault) of `instance` occurs, or (`repair`) ends.
    RandomFault {
        instance: InstanceId,
        life: u32,
        crash: bool,
        repair: bool,
    },
    /// An outage, a DNS health check or an anycast route change.
    Topology(TopologyEvent),
    /// LLM `instance`'s batch reaches its next prefill end or last token (stale unless
    /// `epoch` is its batch's epoch).
    LlmNext { instance: InstanceId, epoch: u32 },
    /// The deadline of `request`, in an LLM batch, passes (stale unless `generation` matches).
    LlmDeadline { request: RequestId, generation: u32 },
}

impl Event {
    /// The event's kind, for messages.
    fn name(&self) -> &'static str {
        match self {
            Event::Arrival => "Arrival",
            Event::UserSend { .. } => "UserSend (a closed-loop user sends)",
            Event::ServiceEnd { .. } => "ServiceEnd",
            Event::ClientDeadline { .. } => "ClientDeadline",
            Event::QueueTimer { .. } => "QueueTimer",
            Event::RequestDeadline { .. } => "RequestDeadline",
            Event::DoomedEnd { .. } => "DoomedEnd (a try to a failed target ends)",
            Event::Fault { .. } => "Fault",
            Event::HealthTick { .. } => "HealthTick",
            Event::ProbeResult { .. } => "ProbeResult",
            Event::PassiveRecheck { .. } => "PassiveRecheck",
            Event::SlowStartTick { .. } => "SlowStartTick",
            Event::ClientRetry { .. } => "ClientRetry (a client sends again)",
            Event::PhaseEnd { .. } => "PhaseEnd",
            Event::DrainDeadline { .. } => "DrainDeadline",
            Event::Reconcile { .. } => "Reconcile (a pool launches what it lacks)",
            Event::Autoscale { .. } => "Autoscale",
            Event::SpotNotice { .. } => "SpotNotice",
            Event::SpotReclaim { .. } => "SpotReclaim",
            Event::Rebalance { .. } => "Rebalance",
            Event::SpotAvailability { .. } => "SpotAvailability",
            Event::RandomFault { .. } => "RandomFault",
            Event::Topology(_) => "Topology",
            Event::LlmNext { .. } => "LlmNext",
            Event::LlmDeadline { .. } => "LlmDeadline",
        }
    }

    /// What kind of event it is, as the memory guard's report names it.
    fn kind_name(&self) -> &'static str {
        match self {
            Event::Arrival => "arrivals",
            Event::UserSend { .. } => "closed-loop sends",
            Event::ServiceEnd { .. } => "service ends",
            Event::ClientDeadline { .. } => "client deadlines",
            Event::QueueTimer { .. } => "queue timers",
            Event::RequestDeadline { .. } => "request deadlines",
            Event::DoomedEnd { .. } => "failing tries",
            Event::Fault { .. } | Event::RandomFault { .. } => "faults",
            Event::HealthTick { .. }
            | Event::ProbeResult { .. }
            | Event::PassiveRecheck { .. }
            | Event::SlowStartTick { .. } => "health checks",
            Event::ClientRetry { .. } => "client retries",
            Event::PhaseEnd { .. }
            | Event::DrainDeadline { .. }
            | Event::Reconcile { .. }
            | Event::Autoscale { .. } => "fleet timers",
            Event::SpotNotice { .. }
            | Event::SpotReclaim { .. }
            | Event::Rebalance { .. }
            | Event::SpotAvailability { .. } => "spot timers",
            Event::Topology(_) => "topology events",
            Event::LlmNext { .. } => "LLM batch steps",
            Event::LlmDeadline { .. } => "LLM deadlines",
        }
    }
}

/// What the handlers of one run work on: the scenario, the queue and the recorder every
/// handler uses, and each subsystem a handler may touch besides its own (the autoscalers are
/// not here: they only act through their actions). Owned, not a struct of `&mut` borrows: a
/// handler then reaches a subsystem's field at a fixed offset from one pointer, where a
/// borrow per subsystem cost a dependent load on every access (4-23 % on the scenario
/// benchmarks, issue 15).
pub(crate) struct Ctx<'s> {
    scenario: &'s Scenario,
    /// When the run ends.
    end: SimTime,
    queue: EventQueue<Event>,
    recorder: Recorder,
    traffic: Traffic,
    requests: Requests,
    fleet: Fleet,
    billing: Billing,
    /// Regions, DNS and outages (`None` without `[[region]]`).
    topology: Option<Topology<'s>>,
}

/// What stops a run that cannot go on: its guards and what they count.
struct Guards {
    /// Events handled.
    events: u64,
    /// Stops a run that handles events without time moving.
    instant: instant_guard::InstantGuard,
    /// The memory guard's caps and the share they come from (`None`: no caps, see
    /// [`World::limit`]).
    memory: Option<(memory_guard::Caps, crate::limits::RunShare)>,
}

/// The simulated system for one run.
pub struct World<'s> {
    /// The subsystems the handlers work on, owned here so that a handler reaches each at a
    /// fixed offset from one pointer (a struct of references cost a dependent load per access).
    cx: Ctx<'s>,
    seed: u64,
    autoscalers: Autoscalers,
    guards: Guards,
}

/// How often (in events) [`World::run_observed`] reports its progress: about twenty times a
/// second at the engine's speed, a division and an indirect call each.
pub const PROGRESS_EVERY: u64 = 1 << 20;

/// The recorder of a run of `scenario` whose fleet starts as `start`, billed by `meter`.
fn recorder(
    scenario: &Scenario,
    start: &fleet::FleetStart,
    meter: crate::metrics::CostMeter,
) -> Recorder {
    let trace_tokens = scenario
        .trace
        .as_ref()
        .is_some_and(|t| !t.data.output_tokens.is_empty());
    let recorder = Recorder::new(
        scenario.duration,
        scenario.window,
        scenario.warmup,
        scenario.classes.len(),
        scenario.total_slots(),
        start.balanced_targets,
    )
    .with_fleet(start.states, start.desired)
    .with_cost(meter)
    .with_latency_target(scenario.slo.as_ref().and_then(|s| s.latency_target))
    .with_token_classes(
        &scenario
            .classes
            .iter()
            // A replayed trace with token counts makes every class token-based where an
            // LLM profile serves it (time to first token is recorded only then).
            .map(|c| c.tokens.is_some() || trace_tokens)
            .collect::<Vec<_>>(),
    );
    let recorder = if fleet::engines::has_engine(scenario) {
        recorder.with_engines(scenario.instance_types.len())
    } else {
        recorder
    };
    if scenario.billing.load_balancer.is_some() {
        // Each route is one listener rule; AWS does not charge a request's first 10.
        let rules = scenario.routes.len().saturating_sub(10) as f64;
        return recorder.with_lcu(rules);
    }
    recorder
}

/// The instant guard of a run of `scenario` with `fleet`: what can act at one instant bounds
/// the events there (see `instant_guard`).
fn instant_guard(scenario: &Scenario, fleet: &Fleet) -> instant_guard::InstantGuard {
    let users = scenario
        .closed_loop
        .as_ref()
        .map_or(0, |c| u64::from(c.users));
    let tries = fleet
        .groups
        .iter()
        .filter_map(fleet::Group::max_tries)
        .max()
        .unwrap_or(1);
    instant_guard::InstantGuard::new(
        (fleet.instances.len() as u64)
            .saturating_add(users)
            .saturating_add(Traffic::burst(scenario)),
        scenario.client_retry.map_or(1, |c| u64::from(c.attempts)),
        tries,
    )
}

impl<'s> World<'s> {
    /// Builds the world for `scenario` with master seed `seed`.
    pub fn build(scenario: &'s Scenario, seed: u64) -> Self {
        let streams = RandomStreams::new(seed);
        let end = SimTime::ZERO + scenario.duration;
        let (fleet, start) = Fleet::new(scenario, &streams);
        let mut queue = EventQueue::new();
        fleet::faults::schedule_faults(scenario, &mut queue);
        for (g, group) in fleet.groups.iter_enumerated() {
            if group.shared_pool.is_none() && group.health.check_interval().is_some() {
                // Checks start with the run: the targets were registered before it.
                queue.schedule_in(SimDuration::ZERO, Event::HealthTick { group: g });
            }
        }
        let (billing, meter) = Billing::new(scenario, &streams, fleet.instances.len());
        let autoscalers = Autoscalers::new(scenario, &fleet);
        let guards = Guards {
            events: 0,
            instant: instant_guard(scenario, &fleet),
            memory: None,
        };
        let mut world = World {
            cx: Ctx {
                scenario,
                end,
                recorder: recorder(scenario, &start, meter),
                traffic: Traffic::new(scenario, &streams, end),
                requests: Requests::new(scenario, &streams, fleet.any_passive),
                fleet,
                billing,
                topology: scenario
                    .topology
                    .as_ref()
                    .map(|t| Topology::new(scenario, t, &streams)),
                queue,
            },
            seed,
            autoscalers,
            guards,
        };
        let cx = &mut world.cx;
        fleet::spot::init_availability(scenario, &mut cx.queue);
        // Types and purchase options first: the bill of an instance present at the start
        // depends on them.
        cx.init_mixed();
        for (id, inst) in cx.fleet.instances.iter_enumerated() {
            cx.billing.start(&mut cx.recorder, id, inst);
        }
        cx.fleet.init_failures(scenario, &mut cx.queue, end);
        world
    }

    /// The world lent out: the handlers' [`Ctx`], and the autoscalers and the guards beside it.
    fn split(&mut self) -> (&mut Ctx<'s>, &mut Autoscalers, &mut Guards) {
        (&mut self.cx, &mut self.autoscalers, &mut self.guards)
    }

    /// Applies the memory guard's `caps` (from `share`) to the request slab and the event
    /// queue.
    pub fn limit(&mut self, caps: memory_guard::Caps, share: &crate::limits::RunShare) {
        self.cx.requests.slab.set_cap(caps.requests);
        self.cx.queue.set_cap(caps.events);
        self.guards.memory = Some((caps, share.clone()));
    }

    /// Runs to the end of the scenario, sending timeline windows to `sink`. Stops with an
    /// error if the run would not end, or would hold more than its memory caps
    /// ([`World::limit`]); see [`RunError`].
    pub fn run<S: TimelineSink>(self, sink: &mut S) -> Result<RunResult, RunError> {
        self.run_observed(sink, &|_| {})
    }

    /// [`World::run`], calling `progress` with the simulated fraction of the duration, from 0
    /// to 1, every [`PROGRESS_EVERY`] events: a terminal can show how far a long run is, at no
    /// cost per event.
    pub fn run_observed<S: TimelineSink>(
        mut self,
        sink: &mut S,
        progress: &dyn Fn(f64),
    ) -> Result<RunResult, RunError> {
        let scenario = self.cx.scenario;
        let (cx, autoscalers, guards) = self.split();
        // Timed inputs and controllers first, traffic last: events at one instant pop in the
        // order they were scheduled, so an outage, a scheduled action or a fault at time t is
        // in force for a request arriving at t, t = 0 included (issue 14, item 5).
        autoscalers.start(cx);
        if let Some(t) = cx.topology.as_ref() {
            t.start(&mut cx.queue);
        }
        cx.traffic.start(&mut cx.queue);
        let duration = scenario.duration.as_nanos().max(1) as f64;
        while let Some((now, event)) = cx.queue.pop() {
            if now >= cx.end {
                break;
            }
            guards.events += 1;
            if !guards.instant.admit(now) {
                return Err(RunError::StuckAtInstant {
                    run: scenario.name.clone(),
                    at: now,
                    limit: guards.instant.limit,
                    last: event.name(),
                });
            }
            if guards.events.is_multiple_of(PROGRESS_EVERY) {
                progress(now.as_nanos() as f64 / duration);
            }
            cx.observe(now, sink);
            handle(cx, autoscalers, now, event);
        }
        if let Some(halt) = self.cx.queue.halted() {
            let held = memory_guard::Held {
                scenario,
                requests: &self.cx.requests.slab,
                fleet: &self.cx.fleet,
                queue: &self.cx.queue,
                memory: self.guards.memory.as_ref(),
            };
            return Err(memory_guard::stop_report(&held, halt).into());
        }
        Ok(self.finish(sink))
    }

    /// Closes the run at its end: the timeline's last window, the bills, and every
    /// subsystem's part of the summary.
    fn finish<S: TimelineSink>(mut self, sink: &mut S) -> RunResult {
        let scenario = self.cx.scenario;
        let end = SimTime::ZERO + scenario.duration;
        let (topology, transfer) = self.cx.topology.as_ref().map(Topology::summary).unzip();
        let closed_loop = self.cx.traffic.closed_loop_summary(scenario);
        let regions = self
            .cx
            .topology
            .as_mut()
            .map(|t| t.region_windows(scenario));
        // The timeline first (its last window closes at the end), then the periods still open
        // are billed to the end.
        self.cx.observe(end, sink);
        let markets = finish::close_bills(
            scenario,
            &self.cx.fleet,
            &mut self.cx.billing,
            &mut self.cx.recorder,
            end,
        );
        let class_routes = self.cx.requests.class_routes();
        let mut totals = self
            .cx
            .recorder
            .finish(sink, &class_routes, scenario.routes.len());
        let mut pools = finish::pools(scenario, &mut self.cx.fleet, &self.cx.billing, markets, end);
        let (by_class, by_route) = finish::by_class_and_route(scenario, &mut totals);
        let engines = totals.engines.as_ref().map(|e| {
            let types = &scenario.instance_types;
            let names: Vec<&str> = types.iter().map(|t| t.name.as_str()).collect();
            let engine: Vec<bool> = types
                .iter()
                .map(|t| t.llm.as_ref().is_some_and(|l| l.engine().is_some()))
                .collect();
            e.summary(&names, &engine)
        });
        let transfer_usd = transfer.as_ref().map_or(0.0, |d| d.usd);
        let (cost_usd, met_slo) = finish::cost(
            scenario,
            &self.cx.billing,
            &totals,
            &mut pools,
            transfer_usd,
        );
        RunResult {
            summary: Summary {
                scenario: scenario.name.clone(),
                seed: self.seed,
                simulated_seconds: scenario.duration.as_secs_f64(),
                warmup_seconds: scenario.warmup.as_secs_f64(),
                events: self.guards.events,
                requests: totals.counts,
                lost_by_cause: self.cx.requests.losses,
                latency_seconds: totals.latency,
                by_class,
                by_route,
                retries: totals.retries,
                utilization: totals.utilization,
                tokens: totals.tokens.all,
                instances: pools.instances,
                cost_usd,
                met_slo,
                topology,
                data_transfer: transfer,
                closed_loop,
                engines,
            },
            regions,
        }
    }
}

/// Routes `event`, due at `now`, to the handler of the subsystem it concerns.
#[inline]
fn handle(cx: &mut Ctx<'_>, autoscalers: &mut Autoscalers, now: SimTime, event: Event) {
    match event {
        Event::Arrival => {
            let arrival = cx.traffic.on_arrival(cx.scenario, &mut cx.queue, now);
            cx.admit(now, arrival);
        }
        Event::UserSend { user } => {
            if let Some(arrival) = cx.traffic.on_user_send(cx.scenario, user) {
                cx.admit(now, arrival);
            }
        }
        Event::ServiceEnd { instance, request } => cx.on_service_end(now, instance, request),
        Event::ClientDeadline { request } => cx.on_client_deadline(now, request),
        Event::QueueTimer { queue } => cx.on_queue_timer(now, queue),
        Event::RequestDeadline {
            request,
            generation,
        } => cx.on_request_deadline(now, request, generation),
        Event::DoomedEnd { request } => cx.on_doomed_end(now, request),
        Event::ClientRetry { request } => cx.on_client_retry(now, request),
        Event::LlmNext { instance, epoch } => cx.on_llm_next(now, instance, epoch),
        Event::LlmDeadline {
            request,
            generation,
        } => cx.on_llm_deadline(now, request, generation),
        Event::Fault { fault, begins } => cx.on_fault(now, fault, begins),
        Event::RandomFault {
            instance,
            life,
            crash,
            repair,
        } => cx.on_random_fault(now, instance, life, crash, repair),
        Event::HealthTick { group } => cx.on_health_tick(now, group),
        Event::ProbeResult {
            group,
            target,
            passed,
        } => cx.on_probe_result(now, group, target, passed),
        Event::PassiveRecheck { group, target } => {
            cx.fleet
                .on_passive_recheck(&mut cx.queue, &mut cx.recorder, now, group, target)
        }
        Event::SlowStartTick { group } => cx.fleet.on_slow_start_tick(&mut cx.queue, now, group),
        Event::PhaseEnd { instance, epoch } => cx.on_phase_end(now, instance, epoch),
        Event::DrainDeadline { instance, epoch } => cx.on_drain_deadline(now, instance, epoch),
        Event::Reconcile { pool } => cx.on_reconcile(now, pool),
        Event::SpotNotice { instance, life } => cx.on_spot_notice(now, instance, life),
        Event::SpotReclaim { instance, life } => cx.on_spot_reclaim(now, instance, life),
        Event::Rebalance { instance, life } => cx.on_rebalance(now, instance, life),
        Event::SpotAvailability { itype, point } => cx.on_spot_availability(now, itype, point),
        Event::Autoscale { pool, tick } => autoscalers.on_tick(cx, now, pool, tick),
        Event::Topology(event) => cx.on_topology(now, event),
    }
}

impl Ctx<'_> {
    /// Brings the recorder to `now`, before the event at `now` is handled: when a window (or
    /// the warm-up) ends by then, the LLM engines are read first (their state now is their
    /// state at its end: nothing happened in between).
    #[inline]
    fn observe<S: TimelineSink>(&mut self, now: SimTime, sink: &mut S) {
        if self.recorder.engine_reading_due(now) {
            if let Some(reading) = self.recorder.engine_reading_mut() {
                self.fleet.read_engines(self.scenario, reading);
            }
            self.recorder.engine_read(now.min(self.end));
        }
        self.recorder.advance(now, sink);
    }

    /// The request of `user` that arrived at `arrival` ended at `at` (`completed` or failed
    /// for good): a closed-loop user waits, then sends again.
    #[inline]
    fn user_ended(&mut self, at: SimTime, user: u64, arrival: SimTime, completed: bool) {
        if self.traffic.is_closed_loop() {
            let measured = (SimTime::ZERO + self.scenario.warmup, self.end);
            self.traffic
                .user_ended(&mut self.queue, measured, at, user, arrival, completed);
        }
    }
}
