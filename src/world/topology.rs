//! Regions in the running world: each client's cached DNS answer, the DNS health checks of the
//! regions, anycast withdrawals, outage windows, the network round trip, and the bytes that
//! cross region and cloud borders.
//!
//! A scenario without `[[region]]` has no [`Topology`] (the world holds `None`) and none of
//! this runs: the world's only cost is a `None` check on arrival, completion and final failure.
//!
//! Network latency is exact without extra events: the client's deadline is shortened by the
//! round trip at arrival (the request travels to the region and the answer back within the
//! client's timeout), and the round trip is added to the latency recorded at completion. The
//! server sees the request when the client sends it, which shifts server-side timing by half
//! a round trip, a few milliseconds against seconds of inference.

use super::fleet::{Condition, Fleet};
use super::ids::{GroupId, Id, PoolId, RouteId};
use super::{Ctx, Event};
use crate::engine::{open_unit, EventQueue, RandomStreams, StreamRng};
use crate::metrics::{
    latency_summary, DataTransferSummary, DnsEvent, Failure, LatencyHistogram, LossCause, Recorder,
    RegionSummary, RegionWindows, TopologySummary,
};
use crate::model::fleet::lifecycle::InstanceState;
use crate::model::topology::{DnsHealth, DnsPolicy, Topology as TopologySpec};
use crate::scenario::Scenario;
use crate::time::{SimDuration, SimTime};

/// Something that happens to the topology.
#[derive(Debug, Clone, Copy)]
pub(super) enum TopologyEvent {
    /// Outage `outage` begins or ends.
    Outage { outage: u32, begins: bool },
    /// Route 53 checks every DNS region.
    DnsCheck,
    /// Anycast: DNS answer `answer`'s region is withdrawn (`up` false) or announced again.
    Announce { answer: u32, up: bool },
}

/// Counters of one region.
#[derive(Default)]
struct RegionStats {
    tries: u64,
    completed: u64,
    failed: u64,
    latency: LatencyHistogram,
    first_try: Option<SimTime>,
    last_try: SimTime,
}

/// The regions of a run: their spec and their running state.
pub(super) struct Topology<'s> {
    spec: &'s TopologySpec,
    /// The end of each place's user-id range.
    place_end: Vec<u64>,
    /// Answers the DNS can give.
    answers: usize,
    /// Round trip from place `p` to DNS answer `k` at `p * answers + k`.
    rtt: Vec<SimDuration>,
    /// Each user's cached answer and when it expires (16 bytes a user; users are bounded by
    /// `MAX_USERS_WITH_TOPOLOGY`). Empty for anycast, which has no cache.
    cache: Vec<(u16, SimTime)>,
    dns_rng: StreamRng,
    health: Vec<DnsHealth>,
    /// Per answer: healthy by the DNS checks, or announced (anycast).
    up: Vec<bool>,
    /// Per region: outages taking down the region as a whole.
    region_down: Vec<u32>,
    /// Per pool: outages taking down its instances.
    pool_down: Vec<u32>,
    stats: Vec<RegionStats>,
    events: Vec<DnsEvent>,
    lost_to_outage: u64,
    /// Latencies of requests arriving from then on are recorded.
    warmup_end: SimTime,
    /// Bytes per cloud: 128 bits, so no run's sum can overflow (sizes are at most 1 GB).
    internet_bytes: Vec<u128>,
    inter_region_bytes: Vec<u128>,
    inter_cloud_bytes: Vec<u128>,
    /// Timeline window width \[ns\].
    window: u64,
    /// `[tries, completed, failed]` per window and region (see `RegionWindows`).
    windows: Vec<[u64; 3]>,
}

/// Bytes of the per-user DNS cache and the per-window region counts a run of `scenario`, whose
/// topology is `t`, allocates at its start (the memory guard checks them before the run).
pub(super) fn footprint(scenario: &Scenario, t: &TopologySpec) -> u64 {
    let answers = t.dns.regions.len();
    let cached = answers > 1 && t.dns.policy != DnsPolicy::Anycast;
    let cache = if cached {
        scenario
            .population
            .users
            .saturating_mul(std::mem::size_of::<(u16, SimTime)>() as u64)
    } else {
        0
    };
    let windows = scenario
        .duration
        .as_nanos()
        .div_ceil(scenario.window.as_nanos().max(1))
        .saturating_mul(t.regions.len() as u64)
        .saturating_mul(std::mem::size_of::<[u64; 3]>() as u64);
    cache.saturating_add(windows)
}

impl<'s> Topology<'s> {
    /// The state at the start of a run of `scenario`, whose topology is `t`.
    pub fn new(scenario: &Scenario, t: &'s TopologySpec, streams: &RandomStreams) -> Self {
        let answers = t.dns.regions.len();
        let rtt = t
            .places
            .iter()
            .flat_map(|p| {
                t.dns
                    .regions
                    .iter()
                    .map(|&reg| p.rtt[reg].unwrap_or(SimDuration::ZERO))
            })
            .collect();
        let cached = answers > 1 && t.dns.policy != DnsPolicy::Anycast;
        let users = scenario.population.users as usize;
        let clouds = t.clouds.len();
        let windows = scenario
            .duration
            .as_nanos()
            .div_ceil(scenario.window.as_nanos()) as usize;
        Topology {
            spec: t,
            place_end: t.place_bounds(scenario.population.users),
            answers,
            rtt,
            cache: if cached {
                vec![(0, SimTime::ZERO); users]
            } else {
                Vec::new()
            },
            dns_rng: streams.stream("dns"),
            health: vec![DnsHealth::default(); answers],
            up: vec![true; answers],
            region_down: vec![0; t.regions.len()],
            pool_down: vec![0; scenario.pools.len()],
            stats: t.regions.iter().map(|_| RegionStats::default()).collect(),
            events: Vec::new(),
            lost_to_outage: 0,
            warmup_end: SimTime::ZERO + scenario.warmup,
            internet_bytes: vec![0; clouds],
            inter_region_bytes: vec![0; clouds],
            inter_cloud_bytes: vec![0; clouds],
            window: scenario.window.as_nanos(),
            windows: vec![[0; 3]; windows * t.regions.len()],
        }
    }

    /// Schedules the outage windows and the first DNS check.
    pub fn start(&self, queue: &mut EventQueue<Event>) {
        let t = self.spec;
        for (o, outage) in t.outages.iter().enumerate() {
            let outage_id = o as u32;
            queue.schedule_in(
                outage.at - SimTime::ZERO,
                Event::Topology(TopologyEvent::Outage {
                    outage: outage_id,
                    begins: true,
                }),
            );
            if let Some(until) = outage.until {
                queue.schedule_in(
                    until - SimTime::ZERO,
                    Event::Topology(TopologyEvent::Outage {
                        outage: outage_id,
                        begins: false,
                    }),
                );
            }
        }
        if t.dns.regions.len() > 1 && t.dns.policy != DnsPolicy::Anycast {
            // Route 53 checks start with the run; every endpoint starts healthy.
            queue.schedule_in(SimDuration::ZERO, Event::Topology(TopologyEvent::DnsCheck));
        }
    }

    /// Counts one `what` (0 tries, 1 completed, 2 failed) at `now` for `region`.
    fn count(&mut self, now: SimTime, region: usize, what: usize) {
        let w = ((now - SimTime::ZERO).as_nanos() / self.window) as usize;
        let n = self.stats.len();
        if let Some(c) = self.windows.get_mut(w * n + region) {
            c[what] += 1;
        }
    }

    /// True if `pool`'s hosts are down with an outage (launches into it fail).
    #[inline]
    pub fn pool_down(&self, pool: PoolId) -> bool {
        self.pool_down[pool.index()] > 0
    }

    fn place_of(&self, user: u64) -> usize {
        self.place_end
            .iter()
            .position(|&end| user < end)
            .unwrap_or(self.place_end.len() - 1)
    }

    /// The round trip between `user`'s place and DNS answer `answer`.
    #[inline]
    pub fn rtt(&self, user: u64, answer: u16) -> SimDuration {
        self.rtt[self.place_of(user) * self.answers + usize::from(answer)]
    }

    /// A client of `user` sends a request (or an attempt) at `now`: its DNS answer, and its
    /// deadline (its `timeout` less the round trip to that answer's region).
    #[inline]
    pub fn arrive(
        &mut self,
        timeout: Option<SimDuration>,
        now: SimTime,
        user: u64,
    ) -> (u16, SimTime) {
        let answer = self.resolve(now, user);
        let rtt = self.rtt(user, answer);
        let deadline = timeout.map_or(SimTime::NEVER, |t| {
            now.saturating_add(SimDuration::from_nanos(
                t.as_nanos().saturating_sub(rtt.as_nanos()),
            ))
        });
        (answer, deadline)
    }

    /// The DNS answer `user`'s client uses at `now`: its cached one until the TTL runs out,
    /// else a fresh one (cached for the TTL); anycast answers every request afresh.
    #[inline]
    fn resolve(&mut self, now: SimTime, user: u64) -> u16 {
        if self.answers == 1 {
            return 0;
        }
        let dns = &self.spec.dns;
        let anycast = dns.policy == DnsPolicy::Anycast;
        if !anycast {
            let (answer, expires) = self.cache[user as usize];
            if now < expires {
                return answer;
            }
        }
        let place = self.place_of(user);
        let rtt = &self.rtt[place * self.answers..(place + 1) * self.answers];
        let rng = &mut self.dns_rng;
        let answer = dns.answer(&self.up, rtt, || open_unit(rng)) as u16;
        if !anycast {
            self.cache[user as usize] = (answer, now.saturating_add(dns.ttl));
        }
        answer
    }

    /// The group that serves `route` for DNS answer `answer`.
    #[inline]
    pub fn regional_group(&self, route: RouteId, answer: u16) -> GroupId {
        let n = self.spec.dns.regions.len();
        GroupId::new(self.spec.route_groups[route.index() * n + usize::from(answer)])
    }

    /// True if `group`'s balancer is in a region that is down.
    #[inline]
    pub fn balancer_down(&self, group: GroupId) -> bool {
        self.region_down[self.spec.group_region[group.index()]] > 0
    }

    /// A try is sent at `now` to `group`'s balancer: counted for the balancer's region.
    #[inline]
    pub fn count_try(&mut self, now: SimTime, group: GroupId) {
        let reg = self.spec.group_region[group.index()];
        let s = &mut self.stats[reg];
        s.tries += 1;
        s.first_try.get_or_insert(now);
        s.last_try = now;
        self.count(now, reg, 0);
    }

    /// A request of `class` that arrived at `arrival` completed at `now`: served by an
    /// instance of `pool` through `group`; `latency` is what its client saw. Its bytes are
    /// counted (and processed by the balancer, for its LCUs).
    #[allow(clippy::too_many_arguments)]
    pub fn completed(
        &mut self,
        recorder: &mut Recorder,
        now: SimTime,
        class: usize,
        group: GroupId,
        pool: PoolId,
        arrival: SimTime,
        latency: SimDuration,
    ) {
        let t = self.spec;
        let front = t.group_region[group.index()];
        let back = t.pool_region[pool.index()].0;
        let size = t.sizes[class];
        let (front_cloud, back_cloud) = (t.regions[front].cloud, t.regions[back].cloud);
        // The ALB's processed-bytes LCU dimension (a no-op unless the balancer is billed).
        recorder.bytes_processed(size.request + size.response);
        self.count(now, front, 1);
        let s = &mut self.stats[front];
        s.completed += 1;
        if arrival >= self.warmup_end {
            s.latency.record(latency);
        }
        let (request, response) = (u128::from(size.request), u128::from(size.response));
        self.internet_bytes[front_cloud] += response;
        if front != back {
            if front_cloud == back_cloud {
                self.inter_region_bytes[front_cloud] += request + response;
            } else {
                self.inter_cloud_bytes[front_cloud] += request;
                self.inter_cloud_bytes[back_cloud] += response;
            }
        }
    }

    /// A request ends failed at `now`; `group` is where its last try went, `outage` whether an
    /// outage caused it (its loss cause is `outage`, also counted in `lost_by_cause`).
    pub fn failed(&mut self, now: SimTime, group: GroupId, outage: bool) {
        let reg = self.spec.group_region[group.index()];
        self.stats[reg].failed += 1;
        self.count(now, reg, 2);
        if outage {
            self.lost_to_outage += 1;
        }
    }

    fn note(&mut self, now: SimTime, region: usize, event: &str) {
        self.events.push(DnsEvent {
            seconds: (now - SimTime::ZERO).as_secs_f64(),
            region: self.spec.regions[region].name.clone(),
            event: event.to_string(),
        });
    }

    /// DNS answer `answer`'s region is announced again (`up`) or withdrawn (anycast).
    fn announce(&mut self, now: SimTime, answer: usize, up: bool) {
        let reg = self.spec.dns.regions[answer];
        self.up[answer] = up;
        self.note(now, reg, if up { "announced" } else { "withdrawn" });
    }

    /// Outage `outage` begins or ends for the regions it covers: they stop answering (or
    /// answer again), and anycast withdraws (or announces) them, at once or after its
    /// convergence time.
    fn outage_regions(
        &mut self,
        queue: &mut EventQueue<Event>,
        now: SimTime,
        outage: usize,
        begins: bool,
    ) {
        let t = self.spec;
        let spec = &t.outages[outage];
        for reg in 0..t.regions.len() {
            if !spec.covers_region(&t.regions, reg) {
                continue;
            }
            let before = self.region_down[reg];
            self.region_down[reg] = if begins { before + 1 } else { before - 1 };
            if (before == 0) != begins {
                continue;
            }
            self.note(
                now,
                reg,
                if begins {
                    "outage_begins"
                } else {
                    "outage_ends"
                },
            );
            if t.dns.policy != DnsPolicy::Anycast {
                continue;
            }
            if let Some(k) = t.dns.regions.iter().position(|&x| x == reg) {
                if t.dns.convergence.is_zero() {
                    self.announce(now, k, !begins);
                } else {
                    let (answer, up) = (k as u32, !begins);
                    queue.schedule_in(
                        t.dns.convergence,
                        Event::Topology(TopologyEvent::Announce { answer, up }),
                    );
                }
            }
        }
    }

    /// Outage `outage` begins or ends for `pool` if it covers it; true when the pool's hosts
    /// go down or come back with it (no other outage holds them).
    fn outage_pool(&mut self, outage: usize, pool: usize, begins: bool) -> bool {
        let t = self.spec;
        let Some(&(reg, zone)) = t.pool_region.get(pool) else {
            return false;
        };
        if !t.outages[outage].covers_pool(&t.regions, reg, zone) {
            return false;
        }
        let before = self.pool_down[pool];
        self.pool_down[pool] = if begins { before + 1 } else { before - 1 };
        (before == 0) == begins
    }

    /// Route 53 checks each DNS region's endpoint: it fails while the region is down, or
    /// while one of its target groups that a route uses has no target that is in service,
    /// passes its balancer's checks and answers. A status flips after `failure_threshold`
    /// consecutive results that disagree with it.
    fn dns_check(
        &mut self,
        queue: &mut EventQueue<Event>,
        fleet: &Fleet,
        routes: usize,
        now: SimTime,
    ) {
        let dns = &self.spec.dns;
        for k in 0..dns.regions.len() {
            let reg = dns.regions[k];
            let passed = self.region_answers(fleet, routes, reg);
            if let Some(healthy) =
                self.health[k].observe(passed, dns.health_check.failure_threshold)
            {
                self.up[k] = healthy;
                self.note(now, reg, if healthy { "healthy" } else { "unhealthy" });
            }
        }
        queue.schedule_in(
            dns.health_check.interval,
            Event::Topology(TopologyEvent::DnsCheck),
        );
    }

    /// True if `region`'s balancer is up and each of its groups that the `routes` use can
    /// serve.
    fn region_answers(&self, fleet: &Fleet, routes: usize, region: usize) -> bool {
        if self.region_down[region] > 0 {
            return false;
        }
        let t = self.spec;
        let Some(k) = t.dns.regions.iter().position(|&x| x == region) else {
            return true;
        };
        let n = t.dns.regions.len();
        (0..routes).all(|r| {
            let group = &fleet.groups[GroupId::new(t.route_groups[r * n + k])];
            match group.shared_pool {
                Some(p) => fleet.instances.range(fleet.slots_of(p)).iter().any(|inst| {
                    inst.state == InstanceState::InService && inst.condition == Condition::Up
                }),
                None => group.members.iter_enumerated().any(|(target, &m)| {
                    group.balancer.is_eligible(target.index())
                        && fleet.instances[m].condition == Condition::Up
                }),
            }
        })
    }

    /// Requests per region and window, for `regions.csv` (taken: called once, at the end).
    pub fn region_windows(&mut self, scenario: &Scenario) -> RegionWindows {
        RegionWindows {
            window_seconds: scenario.window.as_secs_f64(),
            duration_seconds: scenario.duration.as_secs_f64(),
            regions: self.spec.regions.iter().map(|r| r.name.clone()).collect(),
            counts: std::mem::take(&mut self.windows),
        }
    }

    /// The topology's part of the summary, and the data transfer with its cost.
    pub fn summary(&self) -> (TopologySummary, DataTransferSummary) {
        let t = self.spec;
        let secs = |at: SimTime| (at - SimTime::ZERO).as_secs_f64();
        let by_region = t
            .regions
            .iter()
            .zip(&self.stats)
            .map(|(r, s)| {
                (
                    r.name.clone(),
                    RegionSummary {
                        cloud: t.clouds[r.cloud].clone(),
                        tries: s.tries,
                        completed: s.completed,
                        failed: s.failed,
                        latency_seconds: latency_summary(&s.latency),
                        first_try_seconds: s.first_try.map(secs),
                        last_try_seconds: s.first_try.map(|_| secs(s.last_try)),
                    },
                )
            })
            .collect();
        let gb = |bytes: &[u128]| {
            t.clouds
                .iter()
                .zip(bytes)
                .filter(|(_, &b)| b > 0)
                .map(|(c, &b)| (c.clone(), b as f64 / 1e9))
                .collect()
        };
        let usd: f64 = (0..t.clouds.len())
            .map(|c| {
                let p = t.prices[c];
                (self.internet_bytes[c] + self.inter_cloud_bytes[c]) as f64 / 1e9
                    * p.internet_egress_per_gb
                    + self.inter_region_bytes[c] as f64 / 1e9 * p.inter_region_per_gb
            })
            .sum();
        (
            TopologySummary {
                by_region,
                dns_events: self.events.clone(),
                lost_to_outage: self.lost_to_outage,
            },
            DataTransferSummary {
                internet_egress_gb: gb(&self.internet_bytes),
                inter_region_gb: gb(&self.inter_region_bytes),
                inter_cloud_gb: gb(&self.inter_cloud_bytes),
                usd,
            },
        )
    }
}

impl Ctx<'_> {
    /// An outage, a DNS check or an anycast route change.
    pub(super) fn on_topology(&mut self, now: SimTime, event: TopologyEvent) {
        let routes = self.scenario.routes.len();
        let Some(t) = self.topology.as_mut() else {
            return;
        };
        match event {
            TopologyEvent::Outage { outage, begins } => {
                self.on_outage(now, outage as usize, begins)
            }
            TopologyEvent::DnsCheck => t.dns_check(&mut self.queue, &self.fleet, routes, now),
            TopologyEvent::Announce { answer, up } => t.announce(now, answer as usize, up),
        }
    }

    /// An outage begins: hosts in scope crash (their work is lost), balancers of regions in
    /// scope stop answering, anycast withdraws those regions; or it ends and all come back.
    fn on_outage(&mut self, now: SimTime, outage: usize, begins: bool) {
        let Some(t) = self.topology.as_mut() else {
            return;
        };
        t.outage_regions(&mut self.queue, now, outage, begins);
        for pool in self.fleet.pools.ids() {
            let flipped = self
                .topology
                .as_mut()
                .is_some_and(|t| t.outage_pool(outage, pool.index(), begins));
            if !flipped {
                continue;
            }
            for instance in self.fleet.slots_of(pool).iter() {
                let inst = &mut self.fleet.instances[instance];
                if !begins {
                    // The hosts return (a crash fault that overlaps ends with the outage).
                    inst.condition = Condition::Up;
                    continue;
                }
                if inst.state == InstanceState::Terminated {
                    continue;
                }
                inst.condition = Condition::Crashed;
                // Tries sent to it until the outage ends are lost to the outage too.
                inst.fault_cause = LossCause::Outage;
                self.drop_work(now, instance, Failure::Interrupted, LossCause::Outage);
            }
            if !begins {
                // Launches failed during the outage: the group tries again now.
                self.reconcile(now, pool);
            }
        }
    }
}
