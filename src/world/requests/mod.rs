//! Requests: admission, dispatch, service, failure and retries — the request state machine,
//! from arrival to its one end (completed, or failed with a reason).
//!
//! A request's class names its route; the route names a target group: the instances of one or
//! more pools behind one balancer (or a pool's shared queue). Each time a request is sent to a
//! target is a *try*; its phase ([`Phase`]) says where it is:
//!
//! ```text
//!  arrival / ClientRetry                                        (deadline) ──▶ failure
//!      │                                                              ▲
//!      ▼                          ┌─ free slot ──────▶ Serving ──ServiceEnd──▶ completed
//!   send ─▶ balancer pick ─┬─ up ─┼─ queue room ─▶ Queued ─(slot frees)─┘ │ (client deadline,
//!   (a try)                │      └─ queue full ─────────────────▶ failure │  keep serving:
//!      ▲                   │                                               ▼  Abandoned)
//!      │                   ├─ crashed or broken ─▶ Doomed ─(timeout)─▶ failure
//!      │                   ├─ region down ───────▶ Doomed ─(connect timeout)─▶ failure
//!      │                   └─ none eligible ─────────────────────────▶ failure
//!      │
//!      │   failure ─▶ after_failure ─┬─ balancer retries ─▶ send (a new try)
//!      │                             ├─ client retries ──▶ Backoff ─(backoff)─▶ ClientRetry
//!      └─────────────────────────────┘
//!                                    └─ else ─▶ ends failed (counted once)
//! ```
//!
//! A queued request that times out away from its queue's head becomes a tombstone
//! (`Expired`) freed when it reaches the front ([`super::fleet::waiting`]); one whose server
//! dies while serving it is `Killed`, freed when its stale service end arrives.
//!
//! Every failure goes through [`Ctx::after_failure`] (in `failure.rs`), the one place that
//! decides whether the request ends there. The files: `send.rs` (a try reaching its target or
//! a queue), `serve.rs` (service ends, queues moving, timeouts, work lost with its server),
//! `failure.rs` (retries and final failures), `llm.rs` (token-based requests in continuous
//! batches).
//!
//! [`Requests`] owns the slab of requests in flight, the routes, the service times, the
//! client's timeout and retry policy, and the losses by cause; the flows that move requests
//! through the fleet run on [`Ctx`], which lends them the other subsystems.

mod failure;
mod llm;
mod send;
mod serve;
pub(super) mod slab;

use super::ids::GroupId;
use super::ids::{ClassId, Id, IdVec, InstanceTypeId, RouteId};
use super::topology::Topology;
use super::traffic::Arrival;
use super::Ctx;
use crate::engine::{RandomStreams, StreamRng};
use crate::metrics::{Failure, LossSummary};
use crate::model::distribution::ServiceTime;
use crate::model::fleet::llm_server::Served;
use crate::model::fleet::OnTimeout;
use crate::model::traffic::backoff::ClientRetry;
use crate::scenario::Scenario;
use crate::time::{SimDuration, SimTime};
use crate::world::ids::RequestId;
use crate::world::traffic::HashedRecord;
pub(super) use slab::{Phase, Request, RequestSlab};

/// Where a class's requests go.
struct Route {
    group: GroupId,
    connect_timeout: SimDuration,
    read_timeout: Option<SimDuration>,
}

/// The requests in flight and the rules they follow.
pub(super) struct Requests {
    /// Every request in flight.
    pub slab: RequestSlab,
    routes: IdVec<RouteId, Route>,
    class_route: IdVec<ClassId, RouteId>,
    /// Service time of class `c` on instance type `t` at `c * types + t`.
    service: Vec<ServiceTime>,
    types: usize,
    timeout: Option<SimDuration>,
    on_timeout: OnTimeout,
    client_retry: Option<ClientRetry>,
    retry_rng: StreamRng,
    /// Some group retries failed tries.
    any_balancer_retry: bool,
    /// No passive checks and no retries: a failure just ends its request.
    failures_are_final: bool,
    /// Requests and tries lost to faults, by cause.
    pub losses: LossSummary,
    /// Requests that finished in an LLM batch, reused between events.
    llm_done: Vec<Served>,
    /// A prompt's block hashes for an engine's prefix cache, reused between requests.
    hash_scratch: Vec<u64>,
    /// Each request slot's trace record, for the trace's prompt block hashes: a column beside
    /// the slab rather than a field of every request (which stays 88 bytes), filled only when
    /// the trace has hashes.
    hashed_records: Vec<Option<HashedRecord>>,
}

impl Requests {
    /// Request `id` replays trace record `record` (which has prompt block hashes), or none:
    /// a reused slot forgets its last request's record.
    #[inline]
    fn set_hashed_record(&mut self, id: RequestId, record: Option<HashedRecord>) {
        let k = id.index();
        if record.is_none() && self.hashed_records.len() <= k {
            return; // nothing to forget: the column is empty there (and for traces without hashes)
        }
        if self.hashed_records.len() <= k {
            self.hashed_records.resize(k + 1, None);
        }
        self.hashed_records[k] = record;
    }

    /// The trace record of request `id`, if the trace has prompt block hashes.
    pub(super) fn hashed_record(&self, id: RequestId) -> Option<HashedRecord> {
        self.hashed_records.get(id.index()).copied().flatten()
    }

    /// The rules of `scenario`'s requests, none in flight yet; `any_passive` says whether some
    /// group has passive health checks (which learn of every failure).
    pub fn new(scenario: &Scenario, streams: &RandomStreams, any_passive: bool) -> Self {
        let routes = scenario
            .routes
            .iter()
            .enumerate()
            .map(|(i, r)| Route {
                // With regions: the group for the DNS's first answer (the others are looked
                // up in the topology).
                group: GroupId::new(
                    scenario
                        .topology
                        .as_ref()
                        .map_or(r.target_group, |t| t.route_groups[i * t.dns.regions.len()]),
                ),
                connect_timeout: r.connect_timeout,
                read_timeout: r.read_timeout,
            })
            .collect();
        let any_balancer_retry = scenario
            .target_groups
            .iter()
            .any(|g| g.balancer.retry.is_some());
        Requests {
            slab: RequestSlab::default(),
            routes,
            class_route: scenario
                .classes
                .iter()
                .map(|c| RouteId::new(c.route))
                .collect(),
            service: scenario
                .classes
                .iter()
                .flat_map(|c| c.service_by_type.iter().cloned())
                .collect(),
            types: scenario.instance_types.len(),
            timeout: scenario.timeout,
            on_timeout: scenario.on_timeout,
            client_retry: scenario.client_retry,
            retry_rng: streams.stream("client_retries"),
            any_balancer_retry,
            failures_are_final: !any_passive
                && !any_balancer_retry
                && scenario.client_retry.is_none(),
            losses: LossSummary::default(),
            llm_done: Vec::new(),
            hash_scratch: Vec::new(),
            hashed_records: Vec::new(),
        }
    }

    /// The route of `class`.
    #[inline]
    fn route_of(&self, class: ClassId) -> RouteId {
        self.class_route[class]
    }

    /// The routes of the classes, by class index (for the recorder's totals by route).
    pub fn class_routes(&self) -> Vec<usize> {
        self.class_route.iter().map(|r| r.index()).collect()
    }

    /// The target group that `req`'s current try goes to: its route's, or with regions the
    /// one its DNS answer's region serves the route with.
    #[inline]
    pub fn group_of(&self, req: &Request, topology: Option<&Topology<'_>>) -> GroupId {
        let route = self.route_of(req.class);
        match topology {
            Some(t) if req.region != 0 => t.regional_group(route, req.region),
            _ => self.routes[route].group,
        }
    }

    /// When a client sending at `now` gives up, without regions.
    #[inline]
    fn client_deadline(&self, now: SimTime) -> SimTime {
        self.timeout
            .map_or(SimTime::NEVER, |t| now.saturating_add(t))
    }

    /// How long `class`'s work at `quantile` takes on an instance of `itype`.
    #[inline]
    fn service_time(&self, class: ClassId, itype: InstanceTypeId, quantile: f64) -> SimDuration {
        self.service[class.index() * self.types + itype.index()].quantile(quantile)
    }
}

impl Ctx<'_> {
    /// `arrival` (its class, work, user and tokens drawn by the traffic) enters the system at
    /// `now` and is sent.
    #[inline]
    pub(super) fn admit(&mut self, now: SimTime, arrival: Arrival) {
        let mut region = 0;
        let mut client_deadline = self.requests.client_deadline(now);
        if let Some(t) = &mut self.topology {
            (region, client_deadline) = t.arrive(self.requests.timeout, now, arrival.user);
        }
        let Some(id) = self.requests.slab.insert(Request {
            arrival: now,
            client_deadline,
            deadline: client_deadline,
            sent: now,
            quantile: arrival.quantile,
            user: arrival.user,
            class: arrival.class,
            instance: None,
            target: None,
            phase: Phase::Queued,
            cut_at_deadline: false,
            doomed_by: Failure::Interrupted,
            doomed_cause: None,
            tries: 0,
            attempts: 1,
            is_retry: false,
            last_backoff: 0,
            region,
            input_tokens: arrival.input_tokens,
            output_tokens: arrival.output_tokens,
        }) else {
            return self.requests_full();
        };
        self.requests.set_hashed_record(id, arrival.hashed_record);
        self.recorder.arrived(arrival.class.index());
        self.send(now, id);
    }

    /// A request could not be stored: the run stops at the next pop.
    #[cold]
    pub(super) fn requests_full(&mut self) {
        self.queue.halt(slab::HALT_REQUESTS);
    }
}
