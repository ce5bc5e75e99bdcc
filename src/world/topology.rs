//! Regions in the running world: each client's cached DNS answer, the DNS health checks of the
//! regions, anycast withdrawals, outage windows, the network round trip, and the bytes that
//! cross region and cloud borders.
//!
//! A scenario without `[[region]]` has no [`TopologyState`] and none of this runs: the world's
//! only cost is a `None` check on arrival, completion and final failure.
//!
//! Network latency is exact without extra events: the client's deadline is shortened by the
//! round trip at arrival (the request travels to the region and the answer back within the
//! client's timeout), and the round trip is added to the latency recorded at completion. The
//! server sees the request when the client sends it, which shifts server-side timing by half
//! a round trip, a few milliseconds against seconds of inference.

use super::{Condition, Event, World};
use crate::engine::{open_unit, RandomStreams, SimDuration, SimTime, StreamRng};
use crate::metrics::{
    latency_summary, DataTransferSummary, DnsEvent, Failure, LatencyHistogram, LossCause,
    RegionSummary, RegionWindows, TopologySummary,
};
use crate::model::fleet::lifecycle::InstanceState;
use crate::model::topology::{DnsHealth, DnsPolicy, Topology};
use crate::scenario::Scenario;

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

/// The running state of the topology.
pub(super) struct TopologyState {
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
    /// Work dropped right now is lost to an outage.
    warmup_end: SimTime,
    /// Bytes per cloud: 128 bits, so no run's sum can overflow (sizes are at most 1 GB).
    internet_bytes: Vec<u128>,
    inter_region_bytes: Vec<u128>,
    inter_cloud_bytes: Vec<u128>,
    /// Timeline window width [ns].
    window: u64,
    /// `[tries, completed, failed]` per window and region (see `RegionWindows`).
    windows: Vec<[u64; 3]>,
}

impl TopologyState {
    /// Bytes of the per-user DNS cache and the per-window region counts a run of `scenario`
    /// allocates at its start (the memory guard checks them before the run).
    pub(super) fn footprint(scenario: &Scenario, t: &Topology) -> u64 {
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

    /// The state at the start of a run of `scenario`, whose topology is `t`.
    pub(super) fn new(scenario: &Scenario, t: &Topology, streams: &RandomStreams) -> Self {
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
        TopologyState {
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
            windows: vec![
                [0; 3];
                scenario
                    .duration
                    .as_nanos()
                    .div_ceil(scenario.window.as_nanos()) as usize
                    * t.regions.len()
            ],
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

    /// True if `pool`'s hosts are down with an outage.
    pub(super) fn pool_down(&self, pool: usize) -> bool {
        self.pool_down[pool] > 0
    }

    fn place_of(&self, user: u64) -> usize {
        self.place_end
            .iter()
            .position(|&end| user < end)
            .unwrap_or(self.place_end.len() - 1)
    }

    /// The round trip between `user`'s place and DNS answer `answer`.
    #[inline]
    pub(super) fn rtt(&self, user: u64, answer: u16) -> SimDuration {
        self.rtt[self.place_of(user) * self.answers + answer as usize]
    }

    /// A client of `user` sends a request (or an attempt) at `now`: its DNS answer, and its
    /// deadline (its `timeout` less the round trip to that answer's region).
    #[inline]
    pub(super) fn arrive(
        &mut self,
        scenario: &Scenario,
        timeout: Option<SimDuration>,
        now: SimTime,
        user: u64,
    ) -> (u16, SimTime) {
        let t = scenario.topology.as_ref().expect("a topology");
        let answer = self.resolve(t, now, user);
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
    pub(super) fn resolve(&mut self, t: &Topology, now: SimTime, user: u64) -> u16 {
        if self.answers == 1 {
            return 0;
        }
        let anycast = t.dns.policy == DnsPolicy::Anycast;
        if !anycast {
            let (answer, expires) = self.cache[user as usize];
            if now < expires {
                return answer;
            }
        }
        let place = self.place_of(user);
        let rtt = &self.rtt[place * self.answers..(place + 1) * self.answers];
        let rng = &mut self.dns_rng;
        let answer = t.dns.answer(&self.up, rtt, || open_unit(rng)) as u16;
        if !anycast {
            self.cache[user as usize] = (answer, now.saturating_add(t.dns.ttl));
        }
        answer
    }
}

impl<'s> World<'s> {
    fn topology_spec(&self) -> &'s Topology {
        self.scenario.topology.as_ref().expect("a topology")
    }

    /// Schedules the outage windows and the first DNS check.
    pub(super) fn start_topology(&mut self) {
        let Some(t) = self.scenario.topology.as_ref() else {
            return;
        };
        for (o, outage) in t.outages.iter().enumerate() {
            let outage_id = o as u32;
            self.queue.schedule_in(
                outage.at - SimTime::ZERO,
                Event::Topology(TopologyEvent::Outage {
                    outage: outage_id,
                    begins: true,
                }),
            );
            if let Some(until) = outage.until {
                self.queue.schedule_in(
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
            self.queue
                .schedule_in(SimDuration::ZERO, Event::Topology(TopologyEvent::DnsCheck));
        }
    }

    pub(super) fn on_topology(&mut self, now: SimTime, event: TopologyEvent) {
        match event {
            TopologyEvent::Outage { outage, begins } => self.on_outage(now, outage, begins),
            TopologyEvent::DnsCheck => self.on_dns_check(now),
            TopologyEvent::Announce { answer, up } => self.announce(now, answer as usize, up),
        }
    }

    fn note(&mut self, now: SimTime, region: usize, event: &str) {
        let name = self.topology_spec().regions[region].name.clone();
        let state = self.topology.as_mut().expect("a topology");
        state.events.push(DnsEvent {
            seconds: (now - SimTime::ZERO).as_secs_f64(),
            region: name,
            event: event.to_string(),
        });
    }

    /// An outage begins: hosts in scope crash (their work is lost), balancers of regions in
    /// scope stop answering, anycast withdraws those regions; or it ends and all come back.
    fn on_outage(&mut self, now: SimTime, outage: u32, begins: bool) {
        let scenario = self.scenario;
        let t = scenario.topology.as_ref().expect("a topology");
        let spec = &t.outages[outage as usize];
        for reg in 0..t.regions.len() {
            if !spec.covers_region(&t.regions, reg) {
                continue;
            }
            let state = self.topology.as_mut().expect("a topology");
            let before = state.region_down[reg];
            state.region_down[reg] = if begins { before + 1 } else { before - 1 };
            let flipped = (before == 0) == begins;
            if !flipped {
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
            if t.dns.policy == DnsPolicy::Anycast {
                if let Some(k) = t.dns.regions.iter().position(|&x| x == reg) {
                    let (answer, up) = (k as u32, !begins);
                    if t.dns.convergence.is_zero() {
                        self.announce(now, k, up);
                    } else {
                        self.queue.schedule_in(
                            t.dns.convergence,
                            Event::Topology(TopologyEvent::Announce { answer, up }),
                        );
                    }
                }
            }
        }
        for (p, &(reg, zone)) in t.pool_region.iter().enumerate() {
            if !spec.covers_pool(&t.regions, reg, zone) {
                continue;
            }
            let state = self.topology.as_mut().expect("a topology");
            let before = state.pool_down[p];
            state.pool_down[p] = if begins { before + 1 } else { before - 1 };
            if (before == 0) != begins {
                continue;
            }
            for instance in self.slots_of(p) {
                let inst = &mut self.instances[instance as usize];
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
                self.reconcile(now, p);
            }
        }
    }

    fn announce(&mut self, now: SimTime, answer: usize, up: bool) {
        let reg = self.topology_spec().dns.regions[answer];
        self.topology.as_mut().expect("a topology").up[answer] = up;
        self.note(now, reg, if up { "announced" } else { "withdrawn" });
    }

    /// Route 53 checks each DNS region's endpoint: it fails while the region is down, or
    /// while one of its target groups that a route uses has no target that is in service,
    /// passes its balancer's checks and answers. A status flips after `failure_threshold`
    /// consecutive results that disagree with it.
    fn on_dns_check(&mut self, now: SimTime) {
        let t = self.topology_spec();
        let (interval, threshold) = (
            t.dns.health_check.interval,
            t.dns.health_check.failure_threshold,
        );
        for k in 0..t.dns.regions.len() {
            let reg = t.dns.regions[k];
            let passed = self.region_answers(reg);
            let state = self.topology.as_mut().expect("a topology");
            if let Some(healthy) = state.health[k].observe(passed, threshold) {
                state.up[k] = healthy;
                self.note(now, reg, if healthy { "healthy" } else { "unhealthy" });
            }
        }
        self.queue
            .schedule_in(interval, Event::Topology(TopologyEvent::DnsCheck));
    }

    /// True if `region`'s balancer is up and each of its groups that routes use can serve.
    fn region_answers(&self, region: usize) -> bool {
        let t = self.topology_spec();
        let state = self.topology.as_ref().expect("a topology");
        if state.region_down[region] > 0 {
            return false;
        }
        let k = t.dns.regions.iter().position(|&x| x == region);
        let n = t.dns.regions.len();
        (0..self.routes.len()).all(|r| {
            let Some(k) = k else { return true };
            let g = t.route_groups[r * n + k];
            let group = &self.groups[g];
            match group.shared_pool {
                Some(p) => self.slots_of(p as usize).any(|i| {
                    let inst = &self.instances[i as usize];
                    inst.state == InstanceState::InService && inst.condition == Condition::Up
                }),
                None => (0..group.members.len()).any(|target| {
                    group.balancer.is_eligible(target)
                        && self.instances[group.members[target] as usize].condition == Condition::Up
                }),
            }
        })
    }

    /// The group that serves route `route` for DNS answer `answer`.
    #[inline]
    pub(super) fn regional_group(&self, route: usize, answer: u16) -> usize {
        let t = self.topology_spec();
        t.route_groups[route * t.dns.regions.len() + answer as usize]
    }

    /// True if `group`'s balancer is in a region that is down.
    pub(super) fn balancer_down(&self, group: usize) -> bool {
        let t = self.topology_spec();
        let state = self.topology.as_ref().expect("a topology");
        state.region_down[t.group_region[group]] > 0
    }

    /// True if `pool`'s hosts are down with an outage (launches into it fail).
    pub(super) fn pool_in_outage(&self, pool: usize) -> bool {
        self.topology.as_ref().is_some_and(|s| s.pool_down(pool))
    }

    /// A try is sent at `now` to `group`'s balancer: counted for the balancer's region.
    pub(super) fn topology_try(&mut self, now: SimTime, group: usize) {
        let reg = self.topology_spec().group_region[group];
        let state = self.topology.as_mut().expect("a topology");
        let s = &mut state.stats[reg];
        s.tries += 1;
        s.first_try.get_or_insert(now);
        s.last_try = now;
        state.count(now, reg, 0);
    }

    /// A request that arrived at `arrival` completed: served by `instance` through `group`;
    /// `latency` is what its client saw.
    pub(super) fn topology_completed(
        &mut self,
        class: usize,
        group: usize,
        instance: u32,
        arrival: SimTime,
        latency: SimDuration,
    ) {
        let t = self.scenario.topology.as_ref().expect("a topology");
        let front = t.group_region[group];
        let back = t.pool_region[self.instances[instance as usize].pool as usize].0;
        let size = t.sizes[class];
        let (front_cloud, back_cloud) = (t.regions[front].cloud, t.regions[back].cloud);
        let now = self.queue.now();
        // The ALB's processed-bytes LCU dimension (a no-op unless the balancer is billed).
        self.recorder.bytes_processed(size.request + size.response);
        let state = self.topology.as_mut().expect("a topology");
        state.count(now, front, 1);
        let s = &mut state.stats[front];
        s.completed += 1;
        if arrival >= state.warmup_end {
            s.latency.record(latency);
        }
        let (request, response) = (u128::from(size.request), u128::from(size.response));
        state.internet_bytes[front_cloud] += response;
        if front != back {
            if front_cloud == back_cloud {
                state.inter_region_bytes[front_cloud] += request + response;
            } else {
                state.inter_cloud_bytes[front_cloud] += request;
                state.inter_cloud_bytes[back_cloud] += response;
            }
        }
    }

    /// A request ends failed; `group` is where its last try went, `outage` whether an outage
    /// caused it (its loss cause is `outage`, also counted in `lost_by_cause`).
    pub(super) fn topology_failed(&mut self, group: usize, outage: bool) {
        let reg = self.topology_spec().group_region[group];
        let now = self.queue.now();
        let state = self.topology.as_mut().expect("a topology");
        state.stats[reg].failed += 1;
        state.count(now, reg, 2);
        if outage {
            state.lost_to_outage += 1;
        }
    }

    /// Requests per region and window, for `regions.csv`.
    pub(super) fn region_windows(&mut self) -> Option<RegionWindows> {
        let t = self.scenario.topology.as_ref()?;
        let state = self.topology.as_mut()?;
        Some(RegionWindows {
            window_seconds: self.scenario.window.as_secs_f64(),
            duration_seconds: self.scenario.duration.as_secs_f64(),
            regions: t.regions.iter().map(|r| r.name.clone()).collect(),
            counts: std::mem::take(&mut state.windows),
        })
    }

    /// The topology's part of the summary, and the data transfer with its cost.
    pub(super) fn topology_summary(&self) -> Option<(TopologySummary, DataTransferSummary)> {
        let t = self.scenario.topology.as_ref()?;
        let state = self.topology.as_ref()?;
        let secs = |at: SimTime| (at - SimTime::ZERO).as_secs_f64();
        let by_region = t
            .regions
            .iter()
            .zip(&state.stats)
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
                (state.internet_bytes[c] + state.inter_cloud_bytes[c]) as f64 / 1e9
                    * p.internet_egress_per_gb
                    + state.inter_region_bytes[c] as f64 / 1e9 * p.inter_region_per_gb
            })
            .sum();
        Some((
            TopologySummary {
                by_region,
                dns_events: state.events.clone(),
                lost_to_outage: state.lost_to_outage,
            },
            DataTransferSummary {
                internet_egress_gb: gb(&state.internet_bytes),
                inter_region_gb: gb(&state.inter_region_bytes),
                inter_cloud_gb: gb(&state.inter_cloud_bytes),
                usd,
            },
        ))
    }
}
