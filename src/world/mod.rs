//! The world: the models of `crate::model` wired to the engine.
//!
//! It builds the fleet from a scenario, then handles events one at a time: arrivals, service
//! completions, deadlines, queue timers and faults. Models decide (which target, how long); the
//! world applies decisions and reports what happens to the recorder.
//!
//! A request's class names its route; the route names a target group: the instances of one or
//! more pools behind one balancer (or a pool's shared queue). Each time a request is sent to a
//! target is a *try*; the event flow of one try:
//! ```text
//!  send ─▶ balancer pick ─┬─▶ none eligible ─▶ no healthy target
//!                         ├─▶ crashed host ──(connect timeout)──▶ connect failed
//!                         ├─▶ broken server ──(error latency)──▶ server error
//!                         └─▶ healthy ─┬─▶ free slot ─▶ start ─▶ ServiceEnd ─▶ completed
//!                                      ├─▶ queue ──(slot frees)──▶ start      (or timed out)
//!                                      │     └─(deadline)─▶ timed out
//!                                      └─▶ queue full ─▶ rejected
//! ```
//! Every failure goes through [`World::after_failure`], the one place that decides whether the
//! request ends there.

mod autoscaler;
mod billing;
mod closed_loop;
mod dispatch;
mod faults;
mod fleet;
mod health;
mod instant_guard;
mod llm;
pub mod memory_guard;
mod metrics_source;
mod requests;
mod run_error;
mod spot;
mod topology;
mod waiting;

use std::collections::BTreeMap;

use crate::engine::{open_unit, EventQueue, RandomStreams, SimDuration, SimTime, StreamRng};
use crate::metrics::{
    ClassSummary, CostSummary, Failure, InstanceSummary, LossCause, LossSummary, PoolFailures,
    PoolInstances, PoolScaling, Recorder, RouteSummary, RunResult, SloCount, Summary, TimelineSink,
};
use crate::model::autoscale::capacity::CapacityLimits;
use crate::model::autoscale::controller::{Autoscaler, Tick};
use crate::model::autoscale::spec::MetricKind;
use crate::model::balancer::passive_health::AttemptResult;
use crate::model::balancer::routing::{RetryCondition, RetryPolicy};
use crate::model::balancer::{slow_start, Algorithm, Balancer};
use crate::model::fleet::lifecycle::InstanceState;
use crate::model::fleet::{Dispatch, OnTimeout, ServiceTime};
use crate::model::market::PurchaseOption;
use crate::model::traffic::backoff::ClientRetry;
use crate::model::traffic::{Arrivals, ClassMix, Population, TraceArrivals, TraceView};
use crate::scenario::Scenario;
use health::GroupHealth;
use requests::{Phase, Request, RequestSlab};
use waiting::WaitQueue;

pub use run_error::RunError;

/// Which queue a timer is for.
#[derive(Debug, Clone, Copy)]
enum QueueId {
    /// A pool's shared queue.
    Pool(u32),
    /// An instance's own queue.
    Instance(u32),
}

/// Everything that can happen. Small and `Copy`: ids, never pointers or boxes.
#[derive(Debug, Clone, Copy)]
enum Event {
    /// The traffic source's next arrival.
    Arrival,
    /// Closed-loop user `user` sends its next request.
    UserSend { user: u32 },
    /// `instance` finishes the work of `request`.
    ServiceEnd { instance: u32, request: u32 },
    /// The client of a request that is being served gives up (the server keeps working).
    ClientDeadline { request: u32 },
    /// The head of a queue may have passed its deadline.
    QueueTimer { queue: QueueId },
    /// A queued request whose deadline is out of order with its queue may be due.
    RequestDeadline { request: u32, generation: u32 },
    /// A try sent to a target that will not serve it fails.
    DoomedEnd { request: u32 },
    /// Fault `fault` begins (`begins`) or ends (for a spot interruption: its rebalance
    /// recommendation arrives).
    Fault { fault: u32, begins: bool },
    /// The targets of `group` are checked.
    HealthTick { group: u32 },
    /// A health check's outcome arrives.
    ProbeResult {
        group: u32,
        target: u32,
        passed: bool,
    },
    /// A target's passive fail window may have passed.
    PassiveRecheck { group: u32, target: u32 },
    /// The weights of `group`'s targets in slow start move up a step.
    SlowStartTick { group: u32 },
    /// A client sends `request` again after its backoff.
    ClientRetry { request: u32 },
    /// `instance` finishes its current start-up phase (stale unless `epoch` is its epoch).
    PhaseEnd { instance: u32, epoch: u32 },
    /// The deregistration delay of draining `instance` runs out (stale unless `epoch` matches).
    DrainDeadline { instance: u32, epoch: u32 },
    /// `pool` compares its instances with its desired capacity again (after a failed or
    /// throttled launch).
    Reconcile { pool: u32 },
    /// `pool`'s autoscaler has something to do.
    Autoscale { pool: u32, tick: Tick },
    /// Spot instance `instance` gets its two-minute interruption notice (stale unless `life`
    /// is its life).
    SpotNotice { instance: u32, life: u32 },
    /// The cloud reclaims interrupted spot instance `instance`.
    SpotReclaim { instance: u32, life: u32 },
    /// Spot instance `instance` gets a rebalance recommendation.
    Rebalance { instance: u32, life: u32 },
    /// Instance type `itype`'s spot availability changes to its trace's point `point`.
    SpotAvailability { itype: u32, point: u32 },
    /// A random failure (`crash`, else a GPU fault) of `instance` occurs, or (`repair`) ends.
    RandomFault {
        instance: u32,
        life: u32,
        crash: bool,
        repair: bool,
    },
    /// An outage, a DNS health check or an anycast route change.
    Topology(topology::TopologyEvent),
    /// LLM `instance`'s batch reaches its next prefill end or last token (stale unless
    /// `epoch` is its batch's epoch).
    LlmNext { instance: u32, epoch: u32 },
    /// The deadline of `request`, in an LLM batch, passes (stale unless `generation` matches).
    LlmDeadline { request: u32, generation: u32 },
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

/// How an instance is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Condition {
    /// Serving.
    Up,
    /// The host does not answer.
    Crashed,
    /// Alive, but answers every request with an error.
    Broken,
}

/// One server, or an unused slot of its pool (state `Terminated`).
struct Instance {
    pool: u32,
    /// Its instance type (index into `Scenario::instance_types`): a pool of several types (a
    /// mixed instances policy) launches each instance as one of them.
    itype: u32,
    /// How it was bought.
    purchase: PurchaseOption,
    /// Bumped at every launch: a spot or fault timer of an earlier life is stale.
    life: u32,
    /// It got its spot interruption notice: the cloud reclaims it two minutes later.
    interrupted: bool,
    /// Interrupted and draining, it still counts toward the desired capacity until the cloud
    /// reclaims it (no capacity rebalancing: the group replaces it after termination).
    held: bool,
    /// A rebalance recommendation made it at risk and capacity rebalancing is replacing it: it
    /// no longer counts toward the desired capacity.
    at_risk: bool,
    slots: u32,
    busy: u32,
    queue: WaitQueue,
    condition: Condition,
    /// What made it crashed or broken (for `lost_by_cause`).
    fault_cause: LossCause,
    error_latency: SimDuration,
    state: InstanceState,
    /// Bumped at every state change: a timer carrying an older epoch is stale.
    epoch: u32,
    /// When it was launched (for termination policies).
    launched_at: SimTime,
    /// When it last entered service (for instance warm-up and Kubernetes' ranking).
    in_service_at: SimTime,
    /// In service since before the run: its warm-up is long over.
    preexisting: bool,
    /// Its AWS instance warm-up, from entering service: stamped at launch with the warm-up of
    /// the activity that launched it (`PoolFleet::launch_warmup`).
    warmup: SimDuration,
    /// It is being prepared for the warm pool, not for service.
    bound_for_warm_pool: bool,
    /// Busy slot-nanoseconds up to `busy_since` (per-instance utilization).
    busy_area: u64,
    busy_since: SimTime,
    /// Its continuously batched token-based work (created on its first LLM request).
    llm: Option<Box<crate::model::fleet::llm::LlmBatch>>,
    /// `busy_area` and the time at the last metrics mark (the start of the period measured).
    mark_area: u64,
    mark_at: SimTime,
}

impl Instance {
    /// In service and past its instance warm-up at `now` (AWS: it then counts toward the
    /// group's metrics and capacity).
    fn warmed(&self, now: SimTime) -> bool {
        self.state == InstanceState::InService
            && (self.preexisting || self.in_service_at.saturating_add(self.warmup) <= now)
    }

    /// The number of busy slots becomes `busy` at `now`, integrated for utilization metrics.
    #[inline]
    fn set_busy(&mut self, now: SimTime, busy: u32) {
        self.busy_area += u64::from(self.busy) * (now - self.busy_since).as_nanos();
        self.busy_since = now;
        self.busy = busy;
    }
}

/// A group of identical instances: `first..first + len` are its slots, used or not.
struct Pool {
    first: usize,
    len: usize,
    dispatch: Dispatch,
    queue_capacity: Option<u32>,
    /// The shared queue (shared-queue dispatch).
    shared: WaitQueue,
    /// Instances with at least one free slot (shared-queue dispatch), used as a stack.
    with_free_slot: Vec<u32>,
    /// Desired capacity, lifecycle counts, launches and billing.
    fleet: fleet::PoolFleet,
    /// Requests sent to the pool (for request-count metrics).
    routed: u64,
    /// Response times of the pool's answered tries since the last metric period, when a
    /// policy reads `latency`.
    latency: Option<crate::metrics::LatencyHistogram>,
    /// Spot interruptions and capacity (pools with a mixed instances policy).
    spot: Option<spot::PoolSpot>,
    /// Random crashes and GPU faults (pools with `[pool.failures]`).
    faults: Option<faults::PoolFaults>,
}

/// Instances behind one balancer: target `t` is instance `members[t]`.
struct Group {
    members: Vec<u32>,
    balancer: Balancer,
    /// The pool whose shared queue takes this group's requests, instead of a balancer.
    shared_pool: Option<u32>,
    /// Health checks, slow start and stickiness.
    health: GroupHealth,
    /// Retries of failed tries on another pick.
    retry: Option<RetryPolicy>,
    /// Retries in flight (Envoy's retry budget counts them).
    retries_active: u64,
}

/// Where a class's requests go.
struct Route {
    group: u32,
    connect_timeout: SimDuration,
    read_timeout: Option<SimDuration>,
}

/// The simulated system for one run.
pub struct World<'s> {
    scenario: &'s Scenario,
    seed: u64,
    queue: EventQueue<Event>,
    arrivals: Arrivals,
    class_mix: ClassMix,
    class_rng: StreamRng,
    work_rng: StreamRng,
    user_rng: StreamRng,
    /// Token counts of token-based classes (a stream of its own: other scenarios unchanged).
    tokens_rng: StreamRng,
    /// Requests that finished in an LLM batch, reused between events.
    llm_done: Vec<crate::model::fleet::llm::Finished>,
    population: Population,
    requests: RequestSlab,
    instances: Vec<Instance>,
    pools: Vec<Pool>,
    groups: Vec<Group>,
    routes: Vec<Route>,
    /// Service time of class `c` on instance type `t` at `c * instance_types + t`.
    service: Vec<ServiceTime>,
    class_route: Vec<u32>,
    recorder: Recorder,
    timeout: Option<SimDuration>,
    on_timeout: OnTimeout,
    client_retry: Option<ClientRetry>,
    retry_rng: StreamRng,
    /// Some group has passive health checks (a fast path for the many fleets without).
    any_passive: bool,
    /// Some group retries failed tries.
    any_balancer_retry: bool,
    /// No passive checks and no retries: a failure just ends its request.
    failures_are_final: bool,
    end: SimTime,
    events: u64,
    /// Stops a run that handles events without time moving.
    instant: instant_guard::InstantGuard,
    /// Each pool's autoscaler, if it has one.
    autoscalers: Vec<Option<Autoscaler>>,
    /// What every instance costs.
    billing: billing::Billing,
    /// Requests and tries lost to faults, by cause.
    losses: LossSummary,
    /// Regions, DNS and outages (`None` without `[[region]]`).
    topology: Option<topology::TopologyState>,
    /// The closed-loop users (`None`: open-loop arrivals).
    closed_loop: Option<closed_loop::ClosedLoopSource>,
    /// The memory guard's caps and the share they come from (`None`: no caps, see
    /// [`World::limit`]).
    memory: Option<(memory_guard::Caps, crate::limits::RunShare)>,
}

/// How often (in events) [`World::run_observed`] reports its progress: about twenty times a
/// second at the engine's speed, a division and an indirect call each.
pub const PROGRESS_EVERY: u64 = 1 << 20;

/// Instance slots a pool needs: with autoscaling, room for its maximum twice over (instances
/// draining while their replacements start) plus its warm pool; else its fixed size. A pool
/// that buys spot also needs room for the replacements of interrupted instances (launched while
/// they drain their notice), and with capacity rebalancing for those of at-risk ones: once and
/// twice more its size.
fn pool_slots(spec: &crate::model::fleet::PoolSpec) -> u32 {
    let spot = spec
        .mixed
        .as_ref()
        .filter(|m| m.on_demand_percent < 100)
        .map_or(0, |m| if m.capacity_rebalance { 2 } else { 1 });
    let Some(a) = &spec.autoscaling else {
        return spec.instances * (1 + spot);
    };
    let max = a.max.max(spec.instances);
    // The warm pool is largest at desired capacity 0.
    let warm = spec.warm_pool.map_or(0, |w| w.size(max, 0));
    (2 + spot) * max + warm
}

impl<'s> World<'s> {
    /// Builds the world for `scenario` with master seed `seed`.
    pub fn build(scenario: &'s Scenario, seed: u64) -> Self {
        let streams = RandomStreams::new(seed);
        let end = SimTime::ZERO + scenario.duration;
        let mut instances = Vec::new();
        let mut pools = Vec::new();
        let mut autoscalers = Vec::new();
        let (mut states_total, mut desired_total) = ([0u64; fleet::STATES], 0u64);
        for (p, spec) in scenario.pools.iter().enumerate() {
            let slots = scenario.instance_types[spec.instance_type].concurrency;
            let first = instances.len();
            let len = pool_slots(spec) as usize;
            let running = spec.instances as usize;
            // The warm pool starts full: a planner asks what it buys once it is in place.
            let warm = spec.warm_pool.map_or(0, |w| {
                let max = spec.autoscaling.as_ref().map_or(spec.instances, |a| a.max);
                w.size(max, spec.instances) as usize
            });
            for i in 0..len {
                let state = if i < running {
                    InstanceState::InService
                } else if i < running + warm {
                    spec.warm_pool
                        .map_or(InstanceState::Terminated, |w| w.state)
                } else {
                    InstanceState::Terminated
                };
                instances.push(Instance {
                    pool: p as u32,
                    itype: spec.instance_type as u32,
                    purchase: PurchaseOption::OnDemand,
                    slots,
                    busy: 0,
                    queue: WaitQueue::default(),
                    condition: Condition::Up,
                    fault_cause: LossCause::Crash,
                    life: 0,
                    interrupted: false,
                    held: false,
                    at_risk: false,
                    error_latency: SimDuration::ZERO,
                    state,
                    epoch: 0,
                    launched_at: SimTime::ZERO,
                    in_service_at: SimTime::ZERO,
                    preexisting: i < running,
                    warmup: SimDuration::ZERO,
                    bound_for_warm_pool: false,
                    busy_area: 0,
                    busy_since: SimTime::ZERO,
                    llm: None,
                    mark_area: 0,
                    mark_at: SimTime::ZERO,
                });
            }
            // A stack: the first instance is on top, so it is filled first.
            let with_free_slot = if spec.dispatch == Dispatch::SharedQueue {
                (first as u32..(first + running) as u32).rev().collect()
            } else {
                Vec::new()
            };
            let limits = spec.autoscaling.as_ref().map_or(
                CapacityLimits::new(spec.instances, spec.instances),
                |a| {
                    // KEDA's idle count lies below min: the group must be able to sit there.
                    CapacityLimits::new(a.floor(), a.max)
                },
            );
            let mut fleet = fleet::PoolFleet::new(
                first as u32,
                len as u32,
                running as u32,
                limits,
                streams.stream(&format!("launches/{}", spec.name)),
                streams.stream(&format!("startup/{}", spec.name)),
            );
            fleet.add_warm(
                first as u32 + running as u32,
                warm as u32,
                spec.warm_pool.map(|w| w.state),
            );
            for (total, &n) in states_total.iter_mut().zip(&fleet.counts) {
                *total += u64::from(n);
            }
            desired_total += u64::from(spec.instances);
            pools.push(Pool {
                first,
                len,
                dispatch: spec.dispatch,
                queue_capacity: spec.queue_capacity,
                shared: WaitQueue::default(),
                with_free_slot,
                fleet,
                routed: 0,
                latency: spec
                    .autoscaling
                    .as_ref()
                    .is_some_and(|a| a.reads(MetricKind::Latency))
                    .then(crate::metrics::LatencyHistogram::new),
                spot: spec
                    .mixed
                    .as_ref()
                    .map(|_| spot::PoolSpot::new(streams.stream(&format!("spot/{}", spec.name)))),
                faults: spec.failures.as_ref().map(|_| {
                    faults::PoolFaults::new(streams.stream(&format!("faults/{}", spec.name)))
                }),
            });
            autoscalers.push(spec.autoscaling.as_ref().map(|a| Autoscaler::new(a, len)));
        }
        let mut balanced_targets = 0u64;
        let groups: Vec<Group> = scenario
            .target_groups
            .iter()
            .map(|g| {
                let shared_pool = g
                    .pools
                    .iter()
                    .find(|&&p| scenario.pools[p].dispatch == Dispatch::SharedQueue)
                    .map(|&p| p as u32);
                let mut members = Vec::new();
                let mut weights = Vec::new();
                for &p in &g.pools {
                    let spec = &scenario.pools[p];
                    let first = pools[p].first as u32;
                    let len = pools[p].len as u32;
                    members.extend(first..first + len);
                    weights.extend(std::iter::repeat_n(spec.weight, len as usize));
                }
                if g.balancer.slow_start.is_some() {
                    // Slow start ramps integer weights: scale them so a step is fine-grained.
                    // ALB round robin has no weights: every target ramps to the same full weight.
                    let round_robin = g.balancer.algorithm == Algorithm::RoundRobin;
                    for w in &mut weights {
                        *w = if round_robin { 1 } else { *w } * slow_start::DEFAULT_SCALE;
                    }
                }
                let mut health = GroupHealth::new(&weights, &g.balancer);
                let mut balancer = Balancer::new(
                    g.balancer.algorithm,
                    weights,
                    streams.stream(&format!("balancer/{}", g.name)),
                );
                // Slots without an instance in service are not registered (yet).
                for (t, &m) in members.iter().enumerate() {
                    if instances[m as usize].state != InstanceState::InService {
                        health.set_registered(t, false);
                        balancer.set_eligible(t, false);
                    } else if shared_pool.is_none() {
                        balanced_targets += 1;
                    }
                }
                Group {
                    health,
                    retry: g.balancer.retry,
                    retries_active: 0,
                    members,
                    balancer,
                    shared_pool,
                }
            })
            .collect();
        for (g, spec) in scenario.target_groups.iter().enumerate() {
            let mut first_target = 0;
            for &p in &spec.pools {
                pools[p].fleet.targets.push((g as u32, first_target));
                first_target += pools[p].len as u32;
            }
        }
        let routes = scenario
            .routes
            .iter()
            .enumerate()
            .map(|(i, r)| Route {
                // With regions: the group for the DNS's first answer (the others are looked
                // up in the topology).
                group: scenario
                    .topology
                    .as_ref()
                    .map_or(r.target_group, |t| t.route_groups[i * t.dns.regions.len()])
                    as u32,
                connect_timeout: r.connect_timeout,
                read_timeout: r.read_timeout,
            })
            .collect();
        let service: Vec<ServiceTime> = scenario
            .classes
            .iter()
            .flat_map(|c| c.service_by_type.iter().cloned())
            .collect();
        let shares: Vec<f64> = scenario.classes.iter().map(|c| c.share).collect();
        let mut queue = EventQueue::new();
        for (f, fault) in scenario.faults.iter().enumerate() {
            let fault_id = f as u32;
            queue.schedule_in(
                fault.at - SimTime::ZERO,
                Event::Fault {
                    fault: fault_id,
                    begins: true,
                },
            );
            // A fault's end; for a spot interruption, its rebalance recommendation ahead.
            let other = fault.until.or_else(|| {
                fault
                    .rebalance_lead
                    .map(|lead| SimTime::from_nanos(fault.at.as_nanos() - lead.as_nanos()))
            });
            if let Some(until) = other {
                queue.schedule_in(
                    until - SimTime::ZERO,
                    Event::Fault {
                        fault: fault_id,
                        begins: false,
                    },
                );
            }
        }
        for (g, group) in groups.iter().enumerate() {
            if group.shared_pool.is_none() && group.health.check_interval().is_some() {
                // Checks start with the run: the targets were registered before it.
                queue.schedule_in(SimDuration::ZERO, Event::HealthTick { group: g as u32 });
            }
        }
        let any_passive = scenario
            .target_groups
            .iter()
            .any(|g| g.balancer.passive.is_some());
        let any_balancer_retry = scenario
            .target_groups
            .iter()
            .any(|g| g.balancer.retry.is_some());
        let (billing, cost_meter) = billing::Billing::new(scenario, &streams, instances.len());
        let trace_tokens = scenario
            .trace
            .as_ref()
            .is_some_and(|t| !t.data.output_tokens.is_empty());
        let mut recorder = Recorder::new(
            scenario.duration,
            scenario.window,
            scenario.warmup,
            scenario.classes.len(),
            scenario.total_slots(),
            balanced_targets,
        )
        .with_fleet(states_total, desired_total)
        .with_cost(cost_meter)
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
        if scenario.billing.load_balancer.is_some() {
            // Each route is one listener rule; AWS does not charge a request's first 10.
            let rules = scenario.routes.len().saturating_sub(10) as f64;
            recorder = recorder.with_lcu(rules);
        }
        // What can act at one instant bounds the events there (see `instant_guard`).
        let trace_burst = scenario.trace.as_ref().map_or(0, |t| {
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
        });
        let users = scenario
            .closed_loop
            .as_ref()
            .map_or(0, |c| u64::from(c.users));
        let tries = groups
            .iter()
            .filter_map(|g| {
                g.retry.map(|r| match r.attempts {
                    // nginx's proxy_next_upstream_tries 0: every target once.
                    0 => g.members.len() as u64,
                    n => u64::from(n),
                })
            })
            .max()
            .unwrap_or(1);
        let instant = instant_guard::InstantGuard::new(
            (instances.len() as u64)
                .saturating_add(users)
                .saturating_add(trace_burst),
            scenario.client_retry.map_or(1, |c| u64::from(c.attempts)),
            tries,
        );
        let mut world = World {
            scenario,
            seed,
            queue,
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
            llm_done: Vec::new(),
            population: scenario.population,
            requests: RequestSlab::default(),
            instances,
            pools,
            groups,
            routes,
            service,
            class_route: scenario.classes.iter().map(|c| c.route as u32).collect(),
            recorder,
            timeout: scenario.timeout,
            on_timeout: scenario.on_timeout,
            client_retry: scenario.client_retry,
            retry_rng: streams.stream("client_retries"),
            any_passive,
            any_balancer_retry,
            failures_are_final: !any_passive
                && !any_balancer_retry
                && scenario.client_retry.is_none(),
            end,
            events: 0,
            instant,
            autoscalers,
            billing,
            losses: LossSummary::default(),
            topology: scenario
                .topology
                .as_ref()
                .map(|t| topology::TopologyState::new(scenario, t, &streams)),
            closed_loop: scenario
                .closed_loop
                .as_ref()
                .map(|c| closed_loop::ClosedLoopSource::new(c, &streams)),
            memory: None,
        };
        world.init_availability();
        // Types and purchase options first: the bill of an instance present at the start
        // depends on them.
        world.init_mixed();
        for id in 0..world.instances.len() {
            let inst = &world.instances[id];
            world.billing.start(&mut world.recorder, id as u32, inst);
        }
        world.init_failures();
        world
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
        // Timed inputs and controllers first, traffic last: events at one instant pop in the
        // order they were scheduled, so an outage, a scheduled action or a fault at time t is
        // in force for a request arriving at t, t = 0 included (issue 14, item 5).
        self.start_autoscalers();
        self.start_topology();
        if self.closed_loop.is_some() {
            self.start_users();
        } else if let Some(first) = self.arrivals.next_arrival() {
            self.queue
                .schedule_source_in(first - SimTime::ZERO, Event::Arrival);
        }
        let duration = self.scenario.duration.as_nanos().max(1) as f64;
        while let Some((now, event)) = self.queue.pop() {
            if now >= self.end {
                break;
            }
            self.events += 1;
            if !self.instant.admit(now) {
                return Err(RunError::StuckAtInstant {
                    run: self.scenario.name.clone(),
                    at: now,
                    limit: self.instant.limit,
                    last: event.name(),
                });
            }
            if self.events.is_multiple_of(PROGRESS_EVERY) {
                progress(now.as_nanos() as f64 / duration);
            }
            self.recorder.advance(now, sink);
            match event {
                Event::Arrival => self.on_arrival(now),
                Event::UserSend { user } => self.on_user_send(now, user),
                Event::ServiceEnd { instance, request } => {
                    self.on_service_end(now, instance, request)
                }
                Event::ClientDeadline { request } => self.on_client_deadline(now, request),
                Event::QueueTimer { queue } => self.on_queue_timer(now, queue),
                Event::RequestDeadline {
                    request,
                    generation,
                } => self.on_request_deadline(now, request, generation),
                Event::DoomedEnd { request } => self.on_doomed_end(now, request),
                Event::Fault { fault, begins } => self.on_fault(now, fault, begins),
                Event::HealthTick { group } => self.on_health_tick(now, group),
                Event::ProbeResult {
                    group,
                    target,
                    passed,
                } => self.on_probe_result(now, group, target, passed),
                Event::PassiveRecheck { group, target } => {
                    self.on_passive_recheck(now, group, target)
                }
                Event::SlowStartTick { group } => self.on_slow_start_tick(now, group),
                Event::ClientRetry { request } => self.on_client_retry(now, request),
                Event::PhaseEnd { instance, epoch } => self.on_phase_end(now, instance, epoch),
                Event::DrainDeadline { instance, epoch } => {
                    self.on_drain_deadline(now, instance, epoch)
                }
                Event::Reconcile { pool } => self.on_reconcile(now, pool),
                Event::Autoscale { pool, tick } => self.on_autoscale(now, pool, tick),
                Event::SpotNotice { instance, life } => self.on_spot_notice(now, instance, life),
                Event::SpotReclaim { instance, life } => self.on_spot_reclaim(now, instance, life),
                Event::Rebalance { instance, life } => self.on_rebalance(now, instance, life),
                Event::SpotAvailability { itype, point } => {
                    self.on_spot_availability(now, itype, point)
                }
                Event::RandomFault {
                    instance,
                    life,
                    crash,
                    repair,
                } => self.on_random_fault(now, instance, life, crash, repair),
                Event::Topology(event) => self.on_topology(now, event),
                Event::LlmNext { instance, epoch } => self.on_llm_next(now, instance, epoch),
                Event::LlmDeadline {
                    request,
                    generation,
                } => self.on_llm_deadline(now, request, generation),
            }
        }
        if let Some(halt) = self.queue.halted() {
            return Err(self.stop_report(halt).into());
        }
        Ok(self.finish(sink))
    }

    fn on_arrival(&mut self, now: SimTime) {
        // The classes and users streams are drawn even when the trace says: every variant of
        // a scenario then draws the same numbers for the same request.
        let mut class = self.class_mix.pick(&mut self.class_rng);
        let quantile = open_unit(&mut self.work_rng);
        let mut user = self.population.draw_user(&mut self.user_rng);
        let (mut input_tokens, mut output_tokens) = (0, 0);
        if let Some((data, k)) = self.arrivals.trace_record() {
            (input_tokens, output_tokens) = data.tokens(k);
            if let Some(&u) = data.users.get(k) {
                user = u;
            }
            if let (Some(&c), Some(trace)) = (data.classes.get(k), &self.scenario.trace) {
                class = trace.class_of[c as usize] as usize;
            }
        }
        // The next arrival after this one's record is read (a trace source moves on).
        if let Some(next) = self.arrivals.next_arrival() {
            self.queue.schedule_source_in(next - now, Event::Arrival);
        }
        self.admit(now, class, quantile, user, (input_tokens, output_tokens));
    }

    /// A request of `class` with work at `quantile` and `tokens` (input, output; 0 if not
    /// token-based) arrives from `user` and is sent.
    fn admit(&mut self, now: SimTime, class: usize, quantile: f64, user: u64, tokens: (u32, u32)) {
        // Token counts: the trace's, else drawn for a token-based class (from its own stream:
        // other classes draw nothing, so scenarios without tokens are unchanged).
        let (input_tokens, output_tokens) = match (&self.scenario.classes[class].tokens, tokens) {
            (Some(t), (0, 0)) => (
                t.input.quantile(open_unit(&mut self.tokens_rng)),
                t.output.quantile(open_unit(&mut self.tokens_rng)),
            ),
            _ => tokens,
        };
        let mut region = 0;
        let mut client_deadline = self
            .timeout
            .map_or(SimTime::NEVER, |t| now.saturating_add(t));
        if let Some(state) = &mut self.topology {
            (region, client_deadline) = state.arrive(self.scenario, self.timeout, now, user);
        }
        let Some(id) = self.requests.insert(Request {
            arrival: now,
            client_deadline,
            deadline: client_deadline,
            sent: now,
            quantile,
            user,
            class: class as u32,
            instance: u32::MAX,
            target: u32::MAX,
            phase: Phase::Queued,
            cut_at_deadline: false,
            doomed_by: Failure::Interrupted,
            doomed_cause: None,
            tries: 0,
            attempts: 1,
            is_retry: false,
            last_backoff: 0,
            region,
            input_tokens,
            output_tokens,
        }) else {
            return self.requests_full();
        };
        self.recorder.arrived(class);
        self.send(now, id);
    }

    /// The target group that request `req`'s class is routed to.
    fn group_of(&self, req: &Request) -> usize {
        let route = self.class_route[req.class as usize] as usize;
        if req.region == 0 {
            self.routes[route].group as usize
        } else {
            self.regional_group(route, req.region)
        }
    }

    /// Request `id` ends failed for `why`: counted once, by the recorder (and by cause, per
    /// region, and for its closed-loop user). Reads the fields it needs from the entry, which
    /// stays the caller's.
    #[inline]
    fn final_failure(&mut self, id: u32, why: Failure, cause: Option<LossCause>) {
        let class = self.requests.get(id).class as usize;
        self.recorder.failed(class, why);
        if let Some(c) = cause {
            *self.losses.requests.get_mut(c) += 1;
        }
        if self.topology.is_some() {
            let group = self.group_of(self.requests.get(id));
            self.topology_failed(group, cause == Some(LossCause::Outage));
        }
        if self.closed_loop.is_some() {
            // Its user learns of the failure now, and thinks before sending again.
            let (user, arrival) = {
                let req = self.requests.get(id);
                (req.user, req.arrival)
            };
            let now = self.queue.now();
            self.user_ended(now, user, arrival, false);
        }
    }

    /// A try of request `id` failed for `why` at `now`. The balancer's passive checks learn of
    /// it as nginx would; then the balancer may send it to another pick, or else its client may
    /// try again after a backoff (each as a new entry), or else the request ends here with that
    /// reason. The entry `id` is still the caller's, to free or keep (a tombstone) afterwards.
    #[inline]
    fn after_failure(&mut self, now: SimTime, id: u32, why: Failure) {
        self.after_failure_by(now, id, why, None);
    }

    /// [`World::after_failure`] for a try that failed because of `cause` (a fault of the fleet,
    /// counted in `lost_by_cause`).
    fn after_failure_by(&mut self, now: SimTime, id: u32, why: Failure, cause: Option<LossCause>) {
        if self.failures_are_final {
            // Nothing can act on it: copy nothing (in a spike most requests end here, and
            // copying an entry just written stalls the CPU on store forwarding).
            self.final_failure(id, why, cause);
            return;
        }
        let req = *self.requests.get(id);
        let seen_by_balancer = match why {
            // The balancer's own read timeout fired (not the client's): nginx counts it.
            Failure::TimedOut if req.deadline < req.client_deadline => {
                Some(AttemptResult::TimedOut)
            }
            // The client gave up, or no target was tried: nothing for the balancer to count.
            Failure::TimedOut | Failure::NoHealthyTarget => None,
            // A full queue answers 503; a broken server 500.
            Failure::Rejected | Failure::ServerError => Some(AttemptResult::ServerError),
            // A try that never reached a balancer (its region was down) has none to tell.
            Failure::ConnectFailed | Failure::Interrupted if req.target == u32::MAX => None,
            Failure::ConnectFailed | Failure::Interrupted => Some(AttemptResult::Error),
        };
        if let Some(result) = seen_by_balancer {
            self.passive_outcome(now, &req, result);
        }
        if req.is_retry {
            let group = self.group_of(&req);
            self.groups[group].retries_active -= 1;
        }
        let condition = match why {
            Failure::TimedOut => RetryCondition::Timeout,
            Failure::Rejected | Failure::NoHealthyTarget => RetryCondition::Http503,
            Failure::ServerError => RetryCondition::Http500,
            Failure::ConnectFailed | Failure::Interrupted => RetryCondition::Error,
        };
        // The flag first: most fleets have no balancer retries, and every failure passes here.
        if self.any_balancer_retry
            && seen_by_balancer.is_some()
            && self.balancer_retries(self.group_of(&req), &req, condition)
        {
            let group = self.group_of(&req);
            let Some(id) = self.requests.insert(Request {
                is_retry: true,
                target: u32::MAX,
                instance: u32::MAX,
                cut_at_deadline: false,
                ..req
            }) else {
                return self.requests_full();
            };
            self.groups[group].retries_active += 1;
            self.recorder.retried(false);
            if let Some(c) = cause {
                *self.losses.retried_tries.get_mut(c) += 1;
            }
            self.send(now, id);
            return;
        }
        if let Some(c) = self
            .client_retry
            .filter(|c| c.on.contains(condition) && u32::from(req.attempts) < c.attempts)
        {
            let previous = SimDuration::from_nanos(req.last_backoff);
            let wait = c
                .backoff
                .delay(u32::from(req.attempts), previous, &mut self.retry_rng);
            let Some(id) = self.requests.insert(Request {
                phase: Phase::Backoff,
                is_retry: false,
                target: u32::MAX,
                instance: u32::MAX,
                cut_at_deadline: false,
                last_backoff: wait.as_nanos(),
                ..req
            }) else {
                return self.requests_full();
            };
            self.recorder.retried(true);
            if let Some(c) = cause {
                *self.losses.retried_tries.get_mut(c) += 1;
            }
            self.queue
                .schedule_in(wait, Event::ClientRetry { request: id });
            return;
        }
        self.final_failure(id, why, cause);
    }

    /// True when `group`'s balancer sends the failed try of `req` to another pick: the failure
    /// is one it retries, tries remain (nginx `proxy_next_upstream_tries`; 0 is every target
    /// once), the client still waits, and the retry budget (Envoy) has room.
    fn balancer_retries(&self, group: usize, req: &Request, condition: RetryCondition) -> bool {
        let g = &self.groups[group];
        let Some(policy) = g.retry.filter(|p| p.on.contains(condition)) else {
            return false;
        };
        let max_tries = match policy.attempts {
            0 => g.members.len() as u64,
            n => u64::from(n),
        };
        u64::from(req.tries) < max_tries
            && req.client_deadline > self.queue.now()
            && policy.budget.is_none_or(|b| {
                // Envoy's active requests: every try in flight, retries included (a retry is
                // counted by the balancer from its dispatch).
                b.allows(g.balancer.total_active(), g.retries_active)
            })
    }

    /// A client sends request `id` again, as a new attempt with a new timeout.
    fn on_client_retry(&mut self, now: SimTime, id: u32) {
        let req = self.requests.get_mut(id);
        req.attempts += 1;
        req.tries = 0;
        req.client_deadline = self
            .timeout
            .map_or(SimTime::NEVER, |t| now.saturating_add(t));
        if let Some(state) = &mut self.topology {
            // The client asks its resolver again: its cached answer while the TTL lasts.
            let user = req.user;
            (req.region, req.client_deadline) =
                state.arrive(self.scenario, self.timeout, now, user);
        }
        self.send(now, id);
    }

    fn finish<S: TimelineSink>(mut self, sink: &mut S) -> RunResult {
        let scenario = self.scenario;
        let (topology_summary, transfer) = self.topology_summary().unzip();
        let closed_loop_summary = self.closed_loop_summary();
        let regions = self.region_windows();
        let class_route: Vec<usize> = self.class_route.iter().map(|&r| r as usize).collect();
        // The timeline first (its last window closes at the end), then the periods still open
        // are billed to the end.
        self.recorder.advance(self.end, sink);
        for id in 0..self.instances.len() {
            let busy = self.busy_slot_ns(self.end, id as u32);
            let inst = &self.instances[id];
            self.billing.finish_instance(
                &mut self.recorder,
                scenario,
                self.end,
                id as u32,
                inst,
                busy,
            );
        }
        let mut markets: Vec<_> = (0..self.pools.len()).map(|p| self.pool_market(p)).collect();
        let totals = self
            .recorder
            .finish(sink, &class_route, scenario.routes.len());
        let hours = scenario.duration.as_secs_f64() / 3600.0;
        let mut by_pool = BTreeMap::new();
        let mut cost_by_pool = BTreeMap::new();
        let (mut instance_hours, mut peak, mut cost) = (0.0, 0u64, 0.0);
        for (p, spec) in scenario.pools.iter().enumerate() {
            let market = markets[p].take();
            let pool = &mut self.pools[p];
            let t = &scenario.instance_types[spec.instance_type];
            let f = &mut pool.fleet;
            f.bill(self.end);
            let (full, storage) = f.billed_hours();
            let billed = self.billing.pool_cost(scenario, p);
            // Added in this order, a fleet that never pays a minimum costs exactly what the
            // instance-hours say.
            let pool_cost = billed.on_demand + billed.storage + billed.spot;
            instance_hours += full;
            peak += u64::from(f.peak);
            cost += pool_cost;
            cost_by_pool.insert(spec.name.clone(), pool_cost);
            by_pool.insert(
                spec.name.clone(),
                PoolInstances {
                    instance_type: match &spec.mixed {
                        Some(m) => m
                            .types
                            .iter()
                            .map(|&t| scenario.instance_types[t].name.as_str())
                            .collect::<Vec<_>>()
                            .join(","),
                        None => t.name.clone(),
                    },
                    mean: full / hours,
                    max: u64::from(f.peak),
                    instance_hours: full,
                    scaling: PoolScaling {
                        desired_at_end: f.desired,
                        launches: f.stats.launches,
                        from_warm_pool: f.stats.from_warm_pool,
                        launch_failures: f.stats.launch_failures,
                        terminations: f.stats.terminations,
                        cut_by_drain: f.stats.cut_by_drain,
                        warm_pool_storage_hours: storage,
                        replaced_unhealthy: f.stats.replaced_unhealthy,
                    },
                    market,
                    failures: pool.faults.as_ref().map(|f| PoolFailures {
                        crashes: f.crashes,
                        gpu_faults: f.gpu_faults,
                    }),
                },
            );
        }
        let by_class = scenario
            .classes
            .iter()
            .zip(totals.classes)
            .zip(totals.tokens.classes)
            .map(|((c, (requests, latency_seconds)), tokens)| {
                (
                    c.name.clone(),
                    ClassSummary {
                        requests,
                        latency_seconds,
                        tokens,
                    },
                )
            })
            .collect();
        let by_route = scenario
            .routes
            .iter()
            .zip(totals.routes)
            .zip(totals.tokens.routes)
            .map(|((r, (requests, latency_seconds)), tokens)| {
                (
                    r.name.clone(),
                    RouteSummary {
                        target_group: scenario.target_groups[r.target_group].name.clone(),
                        requests,
                        latency_seconds,
                        tokens,
                    },
                )
            })
            .collect();
        let load_balancers = scenario.billing.load_balancer.map_or(0.0, |lb| {
            lb.per_hour * hours + lb.per_lcu_hour * totals.lcu_hours
        });
        // Internet egress, cross-region and cross-cloud transfer: counted with regions only.
        let data_transfer = transfer.as_ref().map_or(0.0, |d| d.usd);
        let total = cost + load_balancers + data_transfer;
        let completed = totals.counts.completed;
        let met_slo = totals.met_slo.map(|met| SloCount {
            latency_target_seconds: scenario
                .slo
                .as_ref()
                .and_then(|s| s.latency_target)
                .map_or(0.0, |t| t.as_secs_f64()),
            met,
            fraction: (totals.counts.arrived > 0)
                .then(|| met as f64 / totals.counts.arrived as f64),
        });
        let cost_summary = CostSummary {
            total,
            by_pool: cost_by_pool,
            by_purchase_option: self.billing.by_purchase_option(scenario),
            by_state: self.billing.by_state(),
            load_balancers,
            data_transfer,
            per_1000_requests: (completed > 0).then(|| total * 1000.0 / completed as f64),
            per_good_request: met_slo.filter(|m| m.met > 0).map(|m| total / m.met as f64),
            monthly: crate::gates::monthly(total, scenario.duration.as_secs_f64()),
        };
        RunResult {
            summary: Summary {
                scenario: scenario.name.clone(),
                seed: self.seed,
                simulated_seconds: scenario.duration.as_secs_f64(),
                warmup_seconds: scenario.warmup.as_secs_f64(),
                events: self.events,
                requests: totals.counts,
                lost_by_cause: self.losses,
                latency_seconds: totals.latency,
                by_class,
                by_route,
                retries: totals.retries,
                utilization: totals.utilization,
                tokens: totals.tokens.all,
                instances: InstanceSummary {
                    mean: instance_hours / hours,
                    // The pools' peaks added: an upper bound when they peak at different times.
                    max: peak,
                    instance_hours,
                    by_pool,
                },
                cost_usd: cost_summary,
                met_slo,
                topology: topology_summary,
                data_transfer: transfer,
                closed_loop: closed_loop_summary,
            },
            regions,
        }
    }
}
