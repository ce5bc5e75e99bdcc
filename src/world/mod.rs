//! The world: the models of `crate::model` wired to the engine.
//!
//! It builds the fleet from a scenario, then handles events one at a time: arrivals, service
//! completions, client deadlines and queue timers. Models decide (which instance, how long);
//! the world applies decisions and reports what happens to the recorder.
//!
//! Event flow of one request:
//! ```text
//!  Arrival ─▶ dispatch ─┬─▶ free slot ─▶ start ─▶ ServiceEnd ─▶ completed (or timed out)
//!                       ├─▶ queue ──(slot frees)──▶ start
//!                       │     └─(QueueTimer at deadline)─▶ timed out
//!                       └─▶ queue full ─▶ rejected
//! ```

mod requests;

use std::collections::{BTreeMap, VecDeque};

use crate::engine::{open_unit, EventQueue, RandomStreams, SimDuration, SimTime, StreamRng};
use crate::metrics::{
    ClassSummary, CostSummary, Failure, InstanceSummary, PoolInstances, Recorder, RunResult,
    Summary, TimelineSink,
};
use crate::model::balancer::{Balancer, RequestKey};
use crate::model::fleet::{Dispatch, OnTimeout, ServiceTime};
use crate::model::traffic::{Arrivals, ClassMix, Population};
use crate::scenario::Scenario;
use requests::{Request, RequestSlab};

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
    /// `instance` finishes the work of `request`.
    ServiceEnd { instance: u32, request: u32 },
    /// The client of a request that is being served gives up (the server keeps working).
    ClientDeadline { request: u32 },
    /// The head of a queue may have passed its deadline.
    QueueTimer { queue: QueueId },
}

/// One server.
struct Instance {
    pool: u32,
    slots: u32,
    busy: u32,
    queue: VecDeque<u32>,
    timer_armed: bool,
}

/// A group of identical instances.
struct Pool {
    first: usize,
    dispatch: Dispatch,
    queue_capacity: Option<u32>,
    /// The shared queue (shared-queue dispatch).
    shared: VecDeque<u32>,
    timer_armed: bool,
    /// Instances with at least one free slot (shared-queue dispatch), used as a stack.
    with_free_slot: Vec<u32>,
    balancer: Balancer,
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
    population: Population,
    requests: RequestSlab,
    instances: Vec<Instance>,
    pools: Vec<Pool>,
    /// Service time of class `c` in pool `p` at `c * pools + p`.
    service: Vec<ServiceTime>,
    class_pool: Vec<u32>,
    recorder: Recorder,
    timeout: Option<SimDuration>,
    on_timeout: OnTimeout,
    end: SimTime,
    events: u64,
}

fn has_room(len: usize, capacity: Option<u32>) -> bool {
    capacity.is_none_or(|c| len < c as usize)
}

impl<'s> World<'s> {
    /// Builds the world for `scenario` with master seed `seed`.
    pub fn build(scenario: &'s Scenario, seed: u64) -> Self {
        let streams = RandomStreams::new(seed);
        let end = SimTime::ZERO + scenario.duration;
        let mut instances = Vec::new();
        let mut pools = Vec::new();
        for (p, spec) in scenario.pools.iter().enumerate() {
            let slots = scenario.instance_types[spec.instance_type].concurrency;
            let first = instances.len();
            for _ in 0..spec.instances {
                instances.push(Instance {
                    pool: p as u32,
                    slots,
                    busy: 0,
                    queue: VecDeque::new(),
                    timer_armed: false,
                });
            }
            // A stack: the first instance is on top, so it is filled first.
            let with_free_slot = if spec.dispatch == Dispatch::SharedQueue {
                (first as u32..(first + spec.instances as usize) as u32)
                    .rev()
                    .collect()
            } else {
                Vec::new()
            };
            pools.push(Pool {
                first,
                dispatch: spec.dispatch,
                queue_capacity: spec.queue_capacity,
                shared: VecDeque::new(),
                timer_armed: false,
                with_free_slot,
                balancer: Balancer::new(
                    scenario.balancer,
                    vec![spec.weight; spec.instances as usize],
                    streams.stream(&format!("balancer/{}", spec.name)),
                ),
            });
        }
        let mut service = Vec::new();
        for class in &scenario.classes {
            for spec in &scenario.pools {
                service.push(class.service_by_type[spec.instance_type].clone());
            }
        }
        let shares: Vec<f64> = scenario.classes.iter().map(|c| c.share).collect();
        World {
            scenario,
            seed,
            queue: EventQueue::new(),
            arrivals: Arrivals::new(
                scenario.arrival_process,
                scenario.traffic.clone(),
                streams.stream("arrivals"),
                end,
            ),
            class_mix: ClassMix::new(&shares),
            class_rng: streams.stream("classes"),
            work_rng: streams.stream("work"),
            user_rng: streams.stream("users"),
            population: scenario.population,
            requests: RequestSlab::default(),
            instances,
            pools,
            service,
            class_pool: scenario.classes.iter().map(|c| c.pool as u32).collect(),
            recorder: Recorder::new(
                scenario.duration,
                scenario.window,
                scenario.warmup,
                scenario.classes.len(),
                scenario.total_slots(),
            ),
            timeout: scenario.timeout,
            on_timeout: scenario.on_timeout,
            end,
            events: 0,
        }
    }

    /// Runs to the end of the scenario, sending timeline windows to `sink`.
    pub fn run<S: TimelineSink>(mut self, sink: &mut S) -> RunResult {
        if let Some(first) = self.arrivals.next_arrival() {
            self.queue
                .schedule_source_in(first - SimTime::ZERO, Event::Arrival);
        }
        while let Some((now, event)) = self.queue.pop() {
            if now >= self.end {
                break;
            }
            self.events += 1;
            self.recorder.advance(now, sink);
            match event {
                Event::Arrival => self.on_arrival(now),
                Event::ServiceEnd { instance, request } => {
                    self.on_service_end(now, instance, request)
                }
                Event::ClientDeadline { request } => self.on_client_deadline(request),
                Event::QueueTimer { queue } => self.on_queue_timer(now, queue),
            }
        }
        self.finish(sink)
    }

    fn on_arrival(&mut self, now: SimTime) {
        if let Some(next) = self.arrivals.next_arrival() {
            self.queue.schedule_source_in(next - now, Event::Arrival);
        }
        let class = self.class_mix.pick(&mut self.class_rng);
        let quantile = open_unit(&mut self.work_rng);
        let user = self.population.draw_user(&mut self.user_rng);
        let deadline = self
            .timeout
            .map_or(SimTime::NEVER, |t| now.saturating_add(t));
        let id = self.requests.insert(Request {
            arrival: now,
            deadline,
            quantile,
            class: class as u32,
            instance: u32::MAX,
            ended: false,
            cut_at_deadline: false,
        });
        self.recorder.arrived(class);
        let pool = self.class_pool[class] as usize;
        match self.pools[pool].dispatch {
            Dispatch::SharedQueue => self.dispatch_shared(now, pool, id),
            Dispatch::Balancer => {
                let key = RequestKey {
                    user,
                    client_ip: self.population.client_ip(user),
                };
                self.dispatch_balanced(now, pool, id, key)
            }
        }
    }

    fn dispatch_shared(&mut self, now: SimTime, pool: usize, id: u32) {
        let p = &mut self.pools[pool];
        if let Some(&instance) = p.with_free_slot.last() {
            let inst = &self.instances[instance as usize];
            if inst.busy + 1 == inst.slots {
                p.with_free_slot.pop();
            }
            self.start(now, instance, id);
        } else if has_room(p.shared.len(), p.queue_capacity) {
            p.shared.push_back(id);
            self.recorder.enqueued();
            self.arm_timer(now, QueueId::Pool(pool as u32), id);
        } else {
            self.reject(id);
        }
    }

    fn dispatch_balanced(&mut self, now: SimTime, pool: usize, id: u32, key: RequestKey) {
        let p = &mut self.pools[pool];
        let Some(target) = p.balancer.pick(key) else {
            // Every target is out of service. (Not reachable yet: targets never leave until
            // health checks arrive, which give this failure a reason of its own.)
            self.reject(id);
            return;
        };
        let instance = (p.first + target) as u32;
        let capacity = p.queue_capacity;
        let inst = &mut self.instances[instance as usize];
        if inst.busy < inst.slots {
            p.balancer.dispatched(target);
            self.start(now, instance, id);
        } else if has_room(inst.queue.len(), capacity) {
            p.balancer.dispatched(target);
            inst.queue.push_back(id);
            self.requests.get_mut(id).instance = instance;
            self.recorder.enqueued();
            self.arm_timer(now, QueueId::Instance(instance), id);
        } else {
            self.reject(id);
        }
    }

    fn reject(&mut self, id: u32) {
        let class = self.requests.get(id).class as usize;
        self.recorder.failed(class, Failure::Rejected);
        self.requests.remove(id);
    }

    /// Starts serving request `id` on a free slot of `instance`.
    fn start(&mut self, now: SimTime, instance: u32, id: u32) {
        let inst = &mut self.instances[instance as usize];
        inst.busy += 1;
        self.recorder.slot_taken();
        let pools = self.pools.len();
        let req = self.requests.get_mut(id);
        req.instance = instance;
        let service =
            self.service[req.class as usize * pools + inst.pool as usize].quantile(req.quantile);
        let finish = now.saturating_add(service);
        let end_event = Event::ServiceEnd {
            instance,
            request: id,
        };
        if finish <= req.deadline {
            self.queue.schedule_in(service, end_event);
            return;
        }
        let until_deadline = req.deadline - now;
        match self.on_timeout {
            OnTimeout::KeepServing => {
                self.queue.schedule_in(service, end_event);
                self.queue
                    .schedule_in(until_deadline, Event::ClientDeadline { request: id });
            }
            OnTimeout::Cancel => {
                req.cut_at_deadline = true;
                self.queue.schedule_in(until_deadline, end_event);
            }
        }
    }

    fn on_service_end(&mut self, now: SimTime, instance: u32, id: u32) {
        let req = *self.requests.get(id);
        self.requests.remove(id);
        if !req.ended {
            if req.cut_at_deadline {
                self.release(instance, None);
                self.recorder.failed(req.class as usize, Failure::TimedOut);
            } else {
                self.release(instance, Some((now - req.arrival, now)));
                self.recorder
                    .completed(req.class as usize, req.arrival, now);
            }
        }
        self.instances[instance as usize].busy -= 1;
        self.recorder.slot_freed();
        self.serve_next(now, instance);
    }

    /// A slot of `instance` is free: start the next waiting request, if any.
    fn serve_next(&mut self, now: SimTime, instance: u32) {
        let pool = self.instances[instance as usize].pool as usize;
        let shared = self.pools[pool].dispatch == Dispatch::SharedQueue;
        loop {
            let next = if shared {
                self.pools[pool].shared.pop_front()
            } else {
                self.instances[instance as usize].queue.pop_front()
            };
            let Some(id) = next else {
                // The slot stays free. An instance that was full becomes available again.
                let inst = &self.instances[instance as usize];
                if shared && inst.busy + 1 == inst.slots {
                    self.pools[pool].with_free_slot.push(instance);
                }
                return;
            };
            self.recorder.dequeued();
            if self.requests.get(id).deadline <= now {
                self.time_out_queued(id, shared);
                continue;
            }
            self.start(now, instance, id);
            return;
        }
    }

    /// A request still waiting at its deadline fails as timed out.
    fn time_out_queued(&mut self, id: u32, shared: bool) {
        let req = *self.requests.get(id);
        if !shared {
            self.release(req.instance, None);
        }
        self.recorder.failed(req.class as usize, Failure::TimedOut);
        self.requests.remove(id);
    }

    fn on_client_deadline(&mut self, id: u32) {
        let req = self.requests.get_mut(id);
        req.ended = true;
        let (class, instance) = (req.class as usize, req.instance);
        self.release(instance, None);
        self.recorder.failed(class, Failure::TimedOut);
    }

    /// A request sent to `instance` by its balancer ended; `response` is its round-trip time
    /// and end when the instance answered. Shared-queue pools have no balancer to tell.
    fn release(&mut self, instance: u32, response: Option<(SimDuration, SimTime)>) {
        let pool = &mut self.pools[self.instances[instance as usize].pool as usize];
        if pool.dispatch == Dispatch::Balancer {
            pool.balancer
                .finished(instance as usize - pool.first, response);
        }
    }

    /// Makes sure a timer will fire by the deadline of `id`, which just joined the back of `queue`.
    ///
    /// With one timeout for every request, deadlines grow from the front of a FIFO queue to its
    /// back, so one timer per queue, set for its head, suffices: it expires the heads whose
    /// deadline has passed and re-arms itself for the new head. A stale timer (its head was
    /// served) just re-arms. This costs O(1) events per queue instead of one per request.
    fn arm_timer(&mut self, now: SimTime, queue: QueueId, id: u32) {
        if self.timeout.is_none() {
            return;
        }
        let armed = match queue {
            QueueId::Pool(p) => &mut self.pools[p as usize].timer_armed,
            QueueId::Instance(i) => &mut self.instances[i as usize].timer_armed,
        };
        if !*armed {
            *armed = true;
            let deadline = self.requests.get(id).deadline;
            self.queue
                .schedule_in(deadline - now, Event::QueueTimer { queue });
        }
    }

    fn on_queue_timer(&mut self, now: SimTime, queue: QueueId) {
        loop {
            let (head, shared) = match queue {
                QueueId::Pool(p) => (self.pools[p as usize].shared.front().copied(), true),
                QueueId::Instance(i) => (self.instances[i as usize].queue.front().copied(), false),
            };
            let next_deadline = match head {
                Some(id) if self.requests.get(id).deadline <= now => {
                    match queue {
                        QueueId::Pool(p) => self.pools[p as usize].shared.pop_front(),
                        QueueId::Instance(i) => self.instances[i as usize].queue.pop_front(),
                    };
                    self.recorder.dequeued();
                    self.time_out_queued(id, shared);
                    continue;
                }
                Some(id) => Some(self.requests.get(id).deadline),
                None => None,
            };
            let armed = match queue {
                QueueId::Pool(p) => &mut self.pools[p as usize].timer_armed,
                QueueId::Instance(i) => &mut self.instances[i as usize].timer_armed,
            };
            *armed = next_deadline.is_some();
            if let Some(deadline) = next_deadline {
                self.queue
                    .schedule_in(deadline - now, Event::QueueTimer { queue });
            }
            return;
        }
    }

    fn finish<S: TimelineSink>(self, sink: &mut S) -> RunResult {
        let scenario = self.scenario;
        let totals = self.recorder.finish(sink);
        let hours = scenario.duration.as_secs_f64() / 3600.0;
        let mut by_pool = BTreeMap::new();
        let mut cost_by_pool = BTreeMap::new();
        let (mut total_instances, mut cost) = (0u64, 0.0);
        for spec in &scenario.pools {
            let t = &scenario.instance_types[spec.instance_type];
            let n = spec.instances as u64;
            let pool_cost = n as f64 * hours * t.price_per_hour;
            total_instances += n;
            cost += pool_cost;
            cost_by_pool.insert(spec.name.clone(), pool_cost);
            by_pool.insert(
                spec.name.clone(),
                PoolInstances {
                    instance_type: t.name.clone(),
                    mean: n as f64,
                    max: n,
                    instance_hours: n as f64 * hours,
                },
            );
        }
        let by_class = scenario
            .classes
            .iter()
            .zip(totals.classes)
            .map(|(c, (requests, latency_seconds))| {
                (
                    c.name.clone(),
                    ClassSummary {
                        requests,
                        latency_seconds,
                    },
                )
            })
            .collect();
        RunResult {
            summary: Summary {
                scenario: scenario.name.clone(),
                seed: self.seed,
                simulated_seconds: scenario.duration.as_secs_f64(),
                warmup_seconds: scenario.warmup.as_secs_f64(),
                events: self.events,
                requests: totals.counts,
                latency_seconds: totals.latency,
                by_class,
                utilization: totals.utilization,
                instances: InstanceSummary {
                    mean: total_instances as f64,
                    max: total_instances,
                    instance_hours: total_instances as f64 * hours,
                    by_pool,
                },
                cost_usd: CostSummary {
                    total: cost,
                    by_pool: cost_by_pool,
                },
            },
        }
    }
}
