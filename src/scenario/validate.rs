//! Stage two: what spans several fields — references between tables, shares, bounds — and the
//! typed [`Scenario`] with every default filled in.

use std::path::Path;

use super::diagnostics::{list, quoted};
use super::lifecycle;
use super::raw::{RawBalancer, RawClass, RawFault, RawPool, RawQueue, RawScenario, RawTargetGroup};
use super::reader::{Located, Reader};
use super::spot;
use super::{RequestClass, Scenario};
use crate::engine::{SimDuration, SimTime};
use crate::metrics::{default_window, MAX_WINDOWS, MIN_WINDOW};
use crate::model::autoscale::spec::Controller;
use crate::model::balancer::routing::{
    longest_prefix, BalancerSpec, RouteSpec, TargetGroupSpec, DEFAULT_CONNECT_TIMEOUT,
};
use crate::model::balancer::Algorithm;
use crate::model::fleet::mixed::{
    MixedInstances, OnDemandStrategy, SpotStrategy, DEFAULT_SPOT_INSTANCE_POOLS,
};
use crate::model::fleet::{
    llm::TokenSpec, Dispatch, FaultKind, FaultSpec, InstanceType, OnTimeout, PoolSpec, ServiceTime,
    StartupSpec, TerminationPolicy, DEFAULT_DEREGISTRATION_DELAY, DEFAULT_ERROR_LATENCY,
    DEFAULT_TERMINATION_GRACE_PERIOD,
};
use crate::model::market::interruptions::CapacityShortage;
use crate::model::market::PurchaseOption;
use crate::model::traffic::{ArrivalProcess, Population};

/// Shares must sum to 1 within this tolerance (room for decimal fractions such as 0.1 + 0.2).
const SHARE_TOLERANCE: f64 = 1e-6;

/// Builds the scenario, recording every problem; `None` if anything is missing or wrong.
pub fn validate(r: &mut Reader<'_>, raw: RawScenario, file: &Path) -> Option<Scenario> {
    let duration = raw.duration.as_ref().and_then(|d| {
        if d.value.is_zero() {
            r.error(
                d,
                "the duration must be longer than 0s",
                Some("such as duration = \"30m\"".into()),
            );
            None
        } else {
            Some(d.value)
        }
    });
    let warmup = raw
        .warmup
        .as_ref()
        .map_or(Some(SimDuration::ZERO), |w| match duration {
            Some(d) if w.value >= d => {
                r.error(
                    w,
                    "the warm-up is not shorter than the duration",
                    Some("shorten warmup or lengthen duration".into()),
                );
                None
            }
            _ => Some(w.value),
        });
    let timeout = match &raw.timeout {
        Some(t) if t.value.is_zero() => {
            r.error(
                t,
                "the timeout must be longer than 0s",
                Some("remove it for no timeout, or set timeout = \"30s\"".into()),
            );
            None
        }
        Some(t) => Some(Some(t.value)),
        None => Some(None),
    };
    let window = match &raw.window {
        Some(w) if w.value.is_zero() => {
            r.error(
                w,
                "the timeline window must be longer than 0s",
                Some("such as window = \"10s\"".into()),
            );
            None
        }
        // Each window is a row written whatever happens in it: a nanosecond window would never
        // let the run end (issue 14, item 8).
        Some(w) if w.value < MIN_WINDOW => {
            r.error(
                w,
                format!("a timeline window of {} is shorter than 1ms", w.value),
                Some("such as window = \"10s\"; a row per millisecond is the finest".into()),
            );
            None
        }
        Some(w) => match duration {
            Some(d) if d.as_nanos().div_ceil(w.value.as_nanos()) > MAX_WINDOWS => {
                let least = default_window(d);
                r.error(
                    w,
                    format!(
                        "a window of {} makes {} timeline rows over the {} run, more than {MAX_WINDOWS}",
                        w.value,
                        d.as_nanos().div_ceil(w.value.as_nanos()),
                        d
                    ),
                    Some(format!("use a wider window, such as window = \"{}s\"", least.as_nanos() / 1_000_000_000)),
                );
                None
            }
            _ => Some(w.value),
        },
        None => Some(duration.map_or(SimDuration::from_secs(10), default_window)),
    };
    let on_timeout = match raw.on_timeout.as_ref().map(|o| o.value) {
        Some("cancel") => OnTimeout::Cancel,
        _ => OnTimeout::KeepServing,
    };

    // Rates above the cap that only a combination makes (spikes, a diurnal peak, users).
    super::rates::check(r, &raw, duration);

    let instance_types = validate_instance_types(r, &raw, duration);
    let pools = validate_pools(r, &raw, instance_types.as_deref());
    // References to pools are checked against every [[pool]], even when one of them has a broken
    // field, so that a mistake in a pool does not hide the mistakes in the tables naming it.
    let pool_refs = pool_refs(&raw);
    let mut routing = (!pool_refs.is_empty())
        .then(|| Routing::validate(r, &raw, &pool_refs))
        .flatten();
    let classes = validate_classes(
        r,
        &raw,
        instance_types.as_deref(),
        pools.as_deref(),
        &pool_refs,
        routing.as_mut(),
    );
    let faults = validate_faults(r, &raw, &pool_refs, duration);
    let capacity_shortages = validate_shortages(r, &raw, duration);
    let population = validate_population(r, &raw);
    let trace = validate_trace_classes(r, &raw, classes.as_deref());
    let (target_groups, routes) = routing.map(|x| (x.groups, x.routes))?;
    let topology = super::topology::validate(
        r,
        &raw,
        &super::topology::Context {
            groups: &target_groups,
            routes: &routes,
            classes: classes.as_ref().map_or(0, Vec::len),
            users: population.map_or(0, |p| p.users),
            duration,
        },
    );

    if let (Some(classes), Some(types), Some(pools)) = (&classes, &instance_types, &pools) {
        check_token_types(
            r,
            &raw,
            classes,
            types,
            pools,
            &target_groups,
            &routes,
            topology.as_ref(),
        );
    }

    Some(Scenario {
        name: raw.name?.value,
        file: file.to_path_buf(),
        duration: duration?,
        warmup: warmup?,
        seed: raw.seed.map_or(1, |s| s.value),
        timeout: timeout?,
        on_timeout,
        window: window?,
        traffic: raw.traffic?.value,
        trace: trace?,
        arrival_process: match raw.arrival_process.map(|p| p.value) {
            Some("periodic") => ArrivalProcess::Periodic,
            _ => ArrivalProcess::Poisson,
        },
        classes: classes?,
        instance_types: instance_types?,
        pools: pools?,
        target_groups,
        routes,
        client_retry: raw.client_retry.map(|c| c.value),
        closed_loop: raw.closed_loop.map(|c| c.value),
        faults: faults?,
        capacity_shortages: capacity_shortages?,
        population: population?,
        slo: raw.slo.map(|s| s.value),
        billing: raw.billing.map(|b| b.value).unwrap_or_default(),
        topology: topology?,
    })
}

/// What references to a pool are checked against: every `[[pool]]`, in file order (so indices
/// are those of the validated pools), including one with a broken field.
struct PoolRef {
    /// The pool's name; empty if missing (already reported, and no reference can name it).
    name: String,
    /// Its instances at the start, if known: its `instances`, else its autoscaling's min.
    instances: Option<u32>,
    /// The most instances it can have in service, if known: its autoscaling's max, else its
    /// `instances`.
    most: Option<u32>,
    dispatch: Dispatch,
    /// The named queue it pulls from.
    queue: Option<String>,
    /// It may buy spot instances (`purchase = "spot"`, or a mixed instances policy with less
    /// than 100 % on-demand above its base).
    buys_spot: bool,
}

fn pool_refs(raw: &RawScenario) -> Vec<PoolRef> {
    raw.pools
        .iter()
        .map(|p| {
            let scaling = p.autoscaling.as_ref().map(|a| a.value.as_ref());
            let given = p.instances.as_ref().map(|i| i.value as u32);
            PoolRef {
                name: p
                    .name
                    .as_ref()
                    .map_or_else(String::new, |n| n.value.clone()),
                instances: given.or_else(|| scaling.flatten().map(|s| s.min)),
                most: match scaling {
                    Some(s) => s.map(|s| s.max),
                    None => given,
                },
                dispatch: match (p.dispatch.as_ref().map(|d| d.value), &p.queue) {
                    (Some("shared_queue"), _) | (_, Some(_)) => Dispatch::SharedQueue,
                    _ => Dispatch::Balancer,
                },
                queue: p.queue.as_ref().map(|q| q.value.clone()),
                buys_spot: p
                    .purchase
                    .as_ref()
                    .is_some_and(|x| x.value == PurchaseOption::Spot)
                    || p.mixed
                        .as_ref()
                        .and_then(|m| m.value.as_ref())
                        .is_some_and(|m| m.on_demand_percent < 100),
            }
        })
        .collect()
}

/// Names of `pools`, for [`find`]; a nameless pool's is empty, which `find` never matches.
fn pool_names(pools: &[PoolRef]) -> Names<'_> {
    pools.iter().map(|p| p.name.as_str()).collect()
}

/// Names of one kind of element in file order, with an index: a reference is looked up in
/// constant time, not by a scan, so that a file of 100,000 classes naming pools validates in
/// linear time. Dereferences to the names as a slice (for messages and indexing).
struct Names<'a> {
    list: Vec<&'a str>,
    /// The first element of each name (as a scan would find it); empty names (missing, and
    /// reported) are not in it.
    index: std::collections::HashMap<&'a str, usize>,
}

impl<'a> FromIterator<&'a str> for Names<'a> {
    fn from_iter<I: IntoIterator<Item = &'a str>>(names: I) -> Self {
        let list: Vec<&'a str> = names.into_iter().collect();
        let mut index = std::collections::HashMap::with_capacity(list.len());
        for (i, n) in list.iter().enumerate() {
            if !n.is_empty() {
                index.entry(*n).or_insert(i);
            }
        }
        Names { list, index }
    }
}

impl<'a> std::ops::Deref for Names<'a> {
    type Target = [&'a str];
    fn deref(&self) -> &[&'a str] {
        &self.list
    }
}

/// The `[balancer]` defaults and the routes and target groups built so far. Classes that name
/// a pool directly get a route and a group of that pool alone, made on first use.
struct Routing<'a> {
    base: Option<&'a RawBalancer>,
    groups: Vec<TargetGroupSpec>,
    routes: Vec<RouteSpec>,
    /// The path prefix of each explicit route, and that route's index.
    prefixes: Vec<(String, usize)>,
    /// The route made for each pool named by a class, by pool index.
    pool_routes: Vec<Option<usize>>,
    /// The group made for each pool named by a class or route, by pool index.
    pool_groups: Vec<Option<usize>>,
    /// Spans already reported for a Maglev table, so a default shared by groups is reported once.
    reported: Vec<(usize, usize)>,
    ok: bool,
}

impl<'a> Routing<'a> {
    fn validate(r: &mut Reader<'_>, raw: &'a RawScenario, pools: &[PoolRef]) -> Option<Self> {
        let mut routing = Routing {
            base: raw.balancer.as_ref(),
            groups: Vec::new(),
            routes: Vec::new(),
            prefixes: Vec::new(),
            pool_routes: vec![None; pools.len()],
            pool_groups: vec![None; pools.len()],
            reported: Vec::new(),
            ok: true,
        };
        if let Some(base) = routing.base {
            // The defaults' own settings must belong to the defaults' algorithm.
            let name = base.algorithm.as_ref().map_or("round_robin", |a| a.value);
            routing.ok &= check_settings_owner(r, base, name);
        }
        let pool_names = pool_names(pools);
        let names: Vec<&Located<String>> = raw
            .target_groups
            .iter()
            .filter_map(|g| g.name.as_ref())
            .collect();
        routing.ok &= check_unique(
            r,
            &names,
            "target group",
            "give each target group its own name",
        );
        for g in &raw.target_groups {
            let group = routing.explicit_group(r, g, pools, &pool_names);
            routing.ok &= group.is_some();
            if let Some(group) = group {
                routing.groups.push(group);
            }
        }
        let group_names: Names<'_> = raw
            .target_groups
            .iter()
            .filter_map(|g| g.name.as_ref().map(|n| n.value.as_str()))
            .collect();
        let paths: Vec<&Located<String>> =
            raw.routes.iter().filter_map(|x| x.path.as_ref()).collect();
        routing.ok &= check_unique(
            r,
            &paths,
            "route path",
            "a path prefix goes to one place: remove one of these routes, or change its path",
        );
        for route in &raw.routes {
            let target = match (&route.target_group, &route.pool) {
                (Some(g), None) => {
                    let found = find(&group_names, &g.value);
                    if found.is_none() {
                        unknown_reference(r, g, "target group", &group_names);
                    }
                    found
                }
                (None, Some(p)) => match find(&pool_names, &p.value) {
                    Some(pool) => routing.pool_group(r, pool, pools),
                    None => {
                        unknown_reference(r, p, "pool", &pool_names);
                        None
                    }
                },
                (Some(_), Some(p)) => {
                    r.error(
                        p,
                        "a route goes to a target group or to a pool, not both",
                        Some("keep target_group, or pool".into()),
                    );
                    None
                }
                (None, None) => {
                    let groups = if group_names.is_empty() {
                        String::new()
                    } else {
                        format!("target_group = one of {}, or ", list(&group_names))
                    };
                    r.error(
                        &route.at,
                        "this route does not say where it goes",
                        Some(format!("add {groups}pool = one of {}", list(&pool_names))),
                    );
                    None
                }
            };
            let path = route.path.as_ref().filter(|p| {
                let good = p.value.starts_with('/');
                if !good {
                    r.error(
                        *p,
                        format!("the path \"{}\" does not start with /", p.value),
                        Some("write a path prefix such as path = \"/predict\"".into()),
                    );
                }
                good
            });
            let connect_timeout =
                positive_duration(r, route.connect_timeout.as_ref(), "connect_timeout");
            let read_timeout = positive_duration(r, route.read_timeout.as_ref(), "read_timeout");
            match (path, target, connect_timeout, read_timeout) {
                (Some(path), Some(target_group), Some(connect), Some(read)) => {
                    routing
                        .prefixes
                        .push((path.value.clone(), routing.routes.len()));
                    routing.routes.push(RouteSpec {
                        name: path.value.clone(),
                        target_group,
                        connect_timeout: connect.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
                        read_timeout: read,
                    });
                }
                _ => routing.ok = false,
            }
        }
        routing.ok.then_some(routing)
    }

    /// A `[[target_group]]`: its pools and its balancer (its own keys over the defaults).
    fn explicit_group(
        &mut self,
        r: &mut Reader<'_>,
        g: &RawTargetGroup,
        pools: &[PoolRef],
        pool_names: &Names<'_>,
    ) -> Option<TargetGroupSpec> {
        let mut members = Vec::new();
        let mut ok = true;
        for p in &g.pools {
            match find(pool_names, &p.value) {
                Some(i) if members.contains(&i) => {
                    r.error(
                        p,
                        format!("pool \"{}\" is listed twice", p.value),
                        Some("list each pool once".into()),
                    );
                    ok = false;
                }
                Some(i) => members.push(i),
                None => {
                    unknown_reference(r, p, "pool", pool_names);
                    ok = false;
                }
            }
        }
        if let Some(at) = g.pools_at.as_ref().filter(|_| ok && members.is_empty()) {
            r.error(
                at,
                "a target group needs at least one pool",
                Some(format!(
                    "list one or more of the pools: {}",
                    list(pool_names)
                )),
            );
            ok = false;
        }
        let shared = members
            .iter()
            .filter(|&&p| pools[p].dispatch == Dispatch::SharedQueue)
            .count();
        if shared > 0 && members.len() > 1 {
            let at = g.pools_at.as_ref()?;
            r.error(
                at,
                "a pool with dispatch = \"shared_queue\" has one queue in front of it, so it cannot share a balancer with other pools",
                Some("put the shared-queue pool in a target group of its own, or make it dispatch = \"balancer\"".into()),
            );
            ok = false;
        }
        let name = g.name.as_ref()?.value.clone();
        // The most targets the group can hold (an autoscaled pool's max); unknown if a member's
        // own instance count or bounds are broken (reported there).
        let targets = members
            .iter()
            .map(|&p| pools[p].most.map(u64::from))
            .sum::<Option<u64>>();
        let own_name = g.balancer.algorithm.as_ref().map(|a| a.value);
        let balancer = if own_name.is_some() {
            // A group with its own algorithm takes that algorithm's settings from its own table.
            ok &= check_settings_owner(r, &g.balancer, own_name.unwrap_or_default());
            self.balancer_for(r, Some(&g.balancer), None, &name, targets, shared > 0)
        } else {
            let inherited = self
                .base
                .and_then(|b| b.algorithm.as_ref())
                .map_or("round_robin", |a| a.value);
            ok &= check_settings_owner(r, &g.balancer, inherited);
            self.balancer_for(r, Some(&g.balancer), self.base, &name, targets, shared > 0)
        };
        let balancer = balancer?;
        ok.then_some(TargetGroupSpec {
            name,
            pools: members,
            balancer,
        })
    }

    /// The target group of pool `pool` alone, for a class or route that names the pool; made
    /// on first use, named after the pool, with the `[balancer]` defaults.
    fn pool_group(&mut self, r: &mut Reader<'_>, pool: usize, pools: &[PoolRef]) -> Option<usize> {
        if let Some(group) = self.pool_groups[pool] {
            return Some(group);
        }
        let spec = &pools[pool];
        let balancer = self.balancer_for(
            r,
            None,
            self.base,
            &spec.name,
            spec.most.map(u64::from),
            spec.dispatch == Dispatch::SharedQueue,
        )?;
        self.groups.push(TargetGroupSpec {
            name: spec.name.clone(),
            pools: vec![pool],
            balancer,
        });
        self.pool_groups[pool] = Some(self.groups.len() - 1);
        Some(self.groups.len() - 1)
    }

    /// The route for classes that name pool `pool` directly, named after it; made on first use.
    fn pool_route(&mut self, r: &mut Reader<'_>, pool: usize, pools: &[PoolRef]) -> Option<usize> {
        if let Some(route) = self.pool_routes[pool] {
            return Some(route);
        }
        let target_group = self.pool_group(r, pool, pools)?;
        self.routes.push(RouteSpec {
            name: pools[pool].name.clone(),
            target_group,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: None,
        });
        let route = self.routes.len() - 1;
        self.pool_routes[pool] = Some(route);
        Some(route)
    }

    /// The balancer of group `group` of at most `targets` targets (`None`: unknown, as a member
    /// pool's instance count or autoscaling bounds are broken): `own` keys over `base` keys for
    /// the algorithm, and over the `[balancer]` defaults for health checks and stickiness.
    fn balancer_for(
        &mut self,
        r: &mut Reader<'_>,
        own: Option<&RawBalancer>,
        base: Option<&RawBalancer>,
        group: &str,
        targets: Option<u64>,
        shared_queue: bool,
    ) -> Option<BalancerSpec> {
        let algorithm_at = inherited(own, base, |b| b.algorithm.as_ref());
        let mut algorithm = Algorithm::from_name(algorithm_at.map_or("round_robin", |a| a.value))?;
        let choice_count = inherited(own, base, |b| b.choice_count.as_ref());
        let table_size = inherited(own, base, |b| b.table_size.as_ref());
        let bias = inherited(own, base, |b| b.active_request_bias.as_ref());
        let decay = inherited(own, base, |b| b.decay.as_ref());
        let mut ok = true;
        match &mut algorithm {
            Algorithm::PowerOfTwoChoices {
                choice_count: c,
                active_request_bias,
            } => {
                if let Some(n) = choice_count {
                    *c = n.value as u32;
                }
                *active_request_bias = bias.map(|b| b.value);
            }
            Algorithm::LeastResponseTime { decay: d } => {
                if let Some(v) = decay {
                    if v.value.is_zero() {
                        if !self.reported.contains(&v.span) {
                            self.reported.push(v.span);
                            r.error(
                                v,
                                "the decay time must be longer than 0s",
                                Some("such as decay = \"10s\" (Finagle's default)".into()),
                            );
                        }
                        ok = false;
                    }
                    *d = v.value;
                }
            }
            Algorithm::ConsistentHash { table_size: size } if !shared_queue => {
                // The default table too must hold every target (Maglev needs M >= n). The
                // algorithm is only ever named, so there is a place to point at.
                let (value, at) = match table_size {
                    Some(t) => (t.value, Some(unit(t))),
                    None => (u64::from(*size), algorithm_at.map(unit)),
                };
                let least = targets.unwrap_or(0).max(2);
                if let Some(at) = at.filter(|_| !is_prime(value) || value < least) {
                    if !self.reported.contains(&at.span) {
                        self.reported.push(at.span);
                        let least = match targets {
                            Some(t) => format!(
                                " at least the number of targets ({t}) of target group \"{group}\""
                            ),
                            None => format!(" (in target group \"{group}\")"),
                        };
                        r.error(
                            &at,
                            format!("the Maglev table size must be a prime{least}, found {value}"),
                            Some(
                                "set table_size to a prime such as 65537 (Envoy's default) or 1000003"
                                    .into(),
                            ),
                        );
                    }
                    ok = false;
                }
                *size = value as u32;
            }
            _ => {}
        }
        // Health checks, stickiness, slow start and retries: the group's own table, else the
        // defaults', even when the group names its own algorithm (which only drops the
        // defaults' algorithm settings).
        let defaults = self.base;
        let health_check = inherited(own, defaults, |b| b.health_check.as_ref()).map(|l| l.value);
        let passive = inherited(own, defaults, |b| b.passive.as_ref()).map(|l| l.value);
        let stickiness = inherited(own, defaults, |b| b.stickiness.as_ref()).map(|l| l.value);
        let retry = inherited(own, defaults, |b| b.retry.as_ref()).map(|l| l.value);
        let slow_start = inherited(own, defaults, |b| b.slow_start.as_ref());
        if let Some(s) =
            slow_start.filter(|s| !shared_queue && !s.value.supported_by(algorithm.name()))
        {
            if !self.reported.contains(&s.span) {
                self.reported.push(s.span);
                r.error(
                    s,
                    format!("this slow start does not work with {}", algorithm.name()),
                    Some(format!(
                        "as in the real balancers, it works with: {}",
                        s.value.supported_algorithms().join(", ")
                    )),
                );
            }
            ok = false;
        }
        ok.then_some(BalancerSpec {
            algorithm,
            health_check,
            passive,
            stickiness,
            slow_start: slow_start.map(|l| l.value),
            retry,
        })
    }
}

/// `own`'s table for a setting, else the `defaults`' (`[balancer]`).
fn inherited<'a, T>(
    own: Option<&'a RawBalancer>,
    defaults: Option<&'a RawBalancer>,
    key: impl Fn(&'a RawBalancer) -> Option<&'a Located<T>>,
) -> Option<&'a Located<T>> {
    own.and_then(&key).or_else(|| defaults.and_then(&key))
}

/// Reports each setting in `raw` that belongs to an algorithm other than `name`: a setting of
/// another algorithm is an error, not silently ignored.
fn check_settings_owner(r: &mut Reader<'_>, raw: &RawBalancer, name: &str) -> bool {
    let mut ok = true;
    for (at, key, owner) in [
        (
            raw.choice_count.as_ref().map(unit),
            "choice_count",
            "power_of_two_choices",
        ),
        (
            raw.active_request_bias.as_ref().map(unit),
            "active_request_bias",
            "power_of_two_choices",
        ),
        (raw.decay.as_ref().map(unit), "decay", "least_response_time"),
        (
            raw.table_size.as_ref().map(unit),
            "table_size",
            "consistent_hash",
        ),
    ] {
        if let Some(at) = at.filter(|_| name != owner) {
            r.error(
                &at,
                format!("{key} is a setting of {owner}, not of {name}"),
                Some(format!("remove {key}, or use algorithm = \"{owner}\"")),
            );
            ok = false;
        }
    }
    ok
}

/// An optional duration that must be longer than zero: `Some(None)` when absent.
fn positive_duration(
    r: &mut Reader<'_>,
    d: Option<&Located<SimDuration>>,
    key: &str,
) -> Option<Option<SimDuration>> {
    match d {
        Some(d) if d.value.is_zero() => {
            r.error(
                d,
                format!("{key} must be longer than 0s"),
                Some(format!(
                    "remove {key} for the default, or give a duration such as \"30s\""
                )),
            );
            None
        }
        Some(d) => Some(Some(d.value)),
        None => Some(None),
    }
}

/// Faults: a known pool behind a balancer, instances that exist, a time inside the run.
fn validate_faults(
    r: &mut Reader<'_>,
    raw: &RawScenario,
    pools: &[PoolRef],
    duration: Option<SimDuration>,
) -> Option<Vec<FaultSpec>> {
    if pools.is_empty() {
        // "no server pools" is reported; naming each fault's pool as unknown would add nothing.
        return None;
    }
    let names = pool_names(pools);
    let mut faults = Vec::new();
    let mut ok = true;
    for f in &raw.faults {
        ok &= validate_fault(r, f, pools, &names, duration)
            .map(|x| faults.push(x))
            .is_some();
    }
    ok.then_some(faults)
}

fn validate_fault(
    r: &mut Reader<'_>,
    f: &RawFault,
    pools: &[PoolRef],
    names: &Names<'_>,
    duration: Option<SimDuration>,
) -> Option<FaultSpec> {
    // Each check stands alone, so that every mistake in the table is reported at once.
    let mut ok = true;
    let pool = f.pool.as_ref().and_then(|pool_at| {
        let Some(pool) = find(names, &pool_at.value) else {
            unknown_reference(r, pool_at, "pool", names);
            return None;
        };
        if pools[pool].dispatch == Dispatch::SharedQueue {
            r.error(
                pool_at,
                "faults are modelled for pools behind a balancer, not shared-queue pools",
                Some("use dispatch = \"balancer\" for this pool".into()),
            );
            return None;
        }
        Some((pool, pool_at))
    });
    let first = f.first.as_ref().map_or(0, |x| x.value);
    let count = f.instances.as_ref().map_or(1, |x| x.value);
    // The pool's size is unknown if its own `instances` is broken (reported there).
    let size = pool.and_then(|(pool, _)| pools[pool].instances);
    if let (Some((pool, pool_at)), Some(size)) = (pool, size) {
        if first + count > u64::from(size) {
            let at = f
                .instances
                .as_ref()
                .map(unit)
                .or_else(|| f.first.as_ref().map(unit))
                .unwrap_or_else(|| unit(pool_at));
            let asked = if count == 1 {
                format!("instance {first}")
            } else {
                format!("instances {first} to {}", first + count - 1)
            };
            let name = &pools[pool].name;
            let (has, help) = match size.checked_sub(1) {
                Some(last) => (
                    format!("has {size}, numbered 0 to {last}"),
                    format!("lower first or instances: first ({first}) + instances ({count}) must be at most {size}"),
                ),
                // An autoscaled group may start empty.
                None => (
                    "starts with none".to_string(),
                    "give the pool instances at the start (instances, or autoscaling min), or remove the fault".to_string(),
                ),
            };
            r.error(
                &at,
                format!("the fault takes {asked}, but pool \"{name}\" {has}"),
                Some(help),
            );
            ok = false;
        }
    }
    let at = f.at.as_ref().filter(|at| match duration {
        Some(d) if at.value >= d => {
            r.error(
                *at,
                format!(
                    "the fault begins at {}, not before the run ends (duration = {d})",
                    at.value
                ),
                Some(format!("make `at` shorter than {d}")),
            );
            false
        }
        _ => true,
    });
    let lasts = positive_duration(r, f.duration.as_ref(), "duration");
    let kind = f.kind.as_ref().map(|k| match k.value {
        "crash" => FaultKind::Crash,
        "spot_interruption" => FaultKind::SpotInterruption,
        _ => FaultKind::Broken,
    });
    if kind == Some(FaultKind::SpotInterruption) {
        if let Some((pool, pool_at)) = pool.filter(|(p, _)| !pools[*p].buys_spot) {
            r.error(
                pool_at,
                format!(
                    "pool \"{}\" buys no spot instances, so the cloud cannot interrupt them",
                    pools[pool].name
                ),
                Some("give the pool purchase = \"spot\" or a [pool.mixed_instances] with on_demand_percentage_above_base below 100".into()),
            );
            ok = false;
        }
        if let Some(d) = &f.duration {
            r.error(
                d,
                "an interrupted spot instance does not come back: a spot_interruption has no duration",
                Some("remove duration (the group launches a replacement)".into()),
            );
            ok = false;
        }
        if let (Some(lead), Some(at)) = (&f.rebalance_lead, &f.at) {
            if lead.value > at.value {
                r.error(
                    lead,
                    format!(
                        "the rebalance recommendation would come {} before the run starts",
                        SimDuration::from_nanos(lead.value.as_nanos() - at.value.as_nanos())
                    ),
                    Some(format!(
                        "use a rebalance_lead of at most {} (the notice's `at`)",
                        at.value
                    )),
                );
                ok = false;
            }
        }
    } else if let Some(lead) = &f.rebalance_lead {
        r.error(
            lead,
            "rebalance_lead applies only to kind = \"spot_interruption\"",
            Some("remove rebalance_lead".into()),
        );
        ok = false;
    }
    if let (Some(k @ (FaultKind::Crash | FaultKind::SpotInterruption)), Some(e)) =
        (kind, &f.error_latency)
    {
        let why = if k == FaultKind::Crash {
            "a crashed host does not answer"
        } else {
            "an interrupted spot instance drains, it does not answer with errors"
        };
        r.error(
            e,
            format!("{why}, so error_latency applies only to kind = \"broken\""),
            Some("remove error_latency, or use kind = \"broken\"".into()),
        );
        ok = false;
    }
    let (Some((pool, _)), Some(_), Some(at), Some(lasts), Some(kind), true) =
        (pool, size, at, lasts, kind, ok)
    else {
        return None;
    };
    let start = SimTime::ZERO + at.value;
    Some(FaultSpec {
        pool,
        first: first as u32,
        instances: count as u32,
        kind,
        at: start,
        until: lasts.map(|d| start.saturating_add(d)),
        error_latency: f
            .error_latency
            .as_ref()
            .map_or(DEFAULT_ERROR_LATENCY, |e| e.value),
        rebalance_lead: f.rebalance_lead.as_ref().map(|l| l.value),
    })
}

/// Where `l` is, without its value.
fn unit<T>(l: &Located<T>) -> Located<()> {
    Located {
        value: (),
        path: l.path.clone(),
        span: l.span,
    }
}

fn is_prime(n: u64) -> bool {
    n >= 2
        && (2..)
            .take_while(|d| d * d <= n)
            .all(|d| !n.is_multiple_of(d))
}

/// The user population; no more networks than users.
fn validate_population(r: &mut Reader<'_>, raw: &RawScenario) -> Option<Population> {
    // A closed loop's users are the population (`[traffic] users` is refused beside it).
    let users = match &raw.closed_loop {
        Some(c) => u64::from(c.value.users),
        None => raw
            .users
            .as_ref()
            .map_or(Population::default().users, |u| u.value),
    };
    let networks = match &raw.networks {
        Some(n) if n.value > users => {
            r.error(
                n,
                format!(
                    "{} networks for {users} users: a network needs a user",
                    n.value
                ),
                Some(format!("use at most {users} networks, or more users")),
            );
            return None;
        }
        Some(n) => n.value,
        None => users,
    };
    Some(Population { users, networks })
}

/// The replayed trace with its class names matched to the `[[class]]`es by name; `None` if
/// one matches no class (reported). A trace without a class column keeps drawing classes by
/// share.
fn validate_trace_classes(
    r: &mut Reader<'_>,
    raw: &RawScenario,
    classes: Option<&[RequestClass]>,
) -> Option<Option<super::TraceSpec>> {
    let Some(trace) = &raw.trace else {
        return Some(None);
    };
    let mut spec = trace.value.clone();
    let Some(classes) = classes else {
        return Some(Some(spec));
    };
    let mut ok = true;
    for name in &spec.data.class_names {
        match classes.iter().position(|c| &c.name == name) {
            Some(k) => spec.class_of.push(k as u32),
            None => {
                let known: Vec<&str> = classes.iter().map(|c| c.name.as_str()).collect();
                r.error(
                    trace,
                    format!("the trace's class column names \"{name}\", which is no [[class]]"),
                    Some(format!("the classes are: {}", known.join(", "))),
                );
                ok = false;
            }
        }
    }
    ok.then_some(Some(spec))
}

/// Reports a name used twice among `names`, with `help`. Linear: a set of the names seen.
pub(super) fn check_unique(
    r: &mut Reader<'_>,
    names: &[&Located<String>],
    what: &str,
    help: &str,
) -> bool {
    let mut ok = true;
    let mut seen = std::collections::HashSet::with_capacity(names.len());
    for n in names {
        if !seen.insert(n.value.as_str()) {
            r.error(
                *n,
                format!("{what} {} is defined twice", quoted(&n.value)),
                Some(help.to_string()),
            );
            ok = false;
        }
    }
    ok
}

fn validate_instance_types(
    r: &mut Reader<'_>,
    raw: &RawScenario,
    duration: Option<SimDuration>,
) -> Option<Vec<InstanceType>> {
    if raw.instance_types.is_empty() {
        r.error_at(
            "instance_type",
            None,
            "no instance types",
            Some(
                "add one: [[instance_type]] name = \"g5.xlarge\" (from the catalog), or name = \"a100\" concurrency = 4 price = \"$4.10/h\""
                    .into(),
            ),
        );
        return None;
    }
    let names: Vec<&Located<String>> = raw
        .instance_types
        .iter()
        .filter_map(|t| t.name.as_ref())
        .collect();
    let unique = check_unique(
        r,
        &names,
        "instance type",
        "give each instance type its own name",
    );
    super::market::validate_instance_types(r, &raw.instance_types, duration).filter(|_| unique)
}

/// The index of `wanted` in `names`. An empty name stands for a missing one (already reported)
/// and matches nothing, not even `pool = ""`.
fn find(names: &Names<'_>, wanted: &str) -> Option<usize> {
    names.index.get(wanted).copied()
}

/// Reports that no `what` is named `at`, listing the `known` names (empty ones are missing
/// names, already reported).
fn unknown_reference(r: &mut Reader<'_>, at: &Located<String>, what: &str, known: &[&str]) {
    let help = if known.iter().all(|k| k.is_empty()) {
        // `what` is the table's name in words: "target group" is written [[target_group]].
        let none = if known.is_empty() {
            "is defined"
        } else {
            "has a usable name"
        };
        format!(
            "no {what} {none}: add a [[{}]] named {}",
            what.replace(' ', "_"),
            quoted(&at.value)
        )
    } else {
        // The first names only: a file of 100,000 pools must not put them all in every message.
        format!("use one of: {}", list(known))
    };
    r.error(
        at,
        format!("there is no {what} named {}", quoted(&at.value)),
        Some(help),
    );
}

fn validate_pools(
    r: &mut Reader<'_>,
    raw: &RawScenario,
    types: Option<&[InstanceType]>,
) -> Option<Vec<PoolSpec>> {
    if raw.pools.is_empty() {
        r.error_at(
            "pool",
            None,
            "no server pools",
            Some("add one: [[pool]] name = \"gpu\" instance_type = \"a100\" instances = 4".into()),
        );
        return None;
    }
    let names: Vec<&Located<String>> = raw.pools.iter().filter_map(|p| p.name.as_ref()).collect();
    let unique = check_unique(r, &names, "pool", "give each pool its own name");
    let type_names: Names<'_> = raw
        .instance_types
        .iter()
        .filter_map(|t| t.name.as_ref().map(|n| n.value.as_str()))
        .collect();
    let mut queues = Queues::new(raw);
    let mut pools = Vec::new();
    let mut ok = unique;
    for (index, p) in raw.pools.iter().enumerate() {
        let mixed = validate_mixed(r, p, &type_names, types);
        let instance_type = match &mixed {
            Ok(Some(m)) if p.mixed.is_some() => Some(m.types[0]),
            Err(()) if p.mixed.is_some() => None,
            _ => p.instance_type.as_ref().and_then(|t| {
                let found = find(&type_names, &t.value);
                if found.is_none() {
                    unknown_reference(r, t, "instance type", &type_names);
                }
                found
            }),
        };
        // A plain pool bought on the spot market is a one-type policy with no on-demand.
        let mixed = match (mixed, &p.purchase, instance_type) {
            (Ok(None), Some(purchase), Some(t)) if purchase.value == PurchaseOption::Spot => {
                if types.is_some_and(|ts| ts[t].spot_price.is_none()) {
                    r.error(
                        purchase,
                        format!(
                            "instance type \"{}\" has no spot_price, so it cannot be bought on the spot market",
                            type_names[t]
                        ),
                        Some("add spot_price = \"$0.40/h\" to its [[instance_type]]".into()),
                    );
                    ok = false;
                }
                Some(MixedInstances {
                    types: vec![t],
                    on_demand_base: 0,
                    on_demand_percent: 0,
                    on_demand_strategy: OnDemandStrategy::Prioritized,
                    spot_strategy: SpotStrategy::PriceCapacityOptimized,
                    spot_instance_pools: DEFAULT_SPOT_INSTANCE_POOLS,
                    capacity_rebalance: false,
                })
            }
            (Ok(m), _, _) => m,
            (Err(()), _, _) => {
                ok = false;
                None
            }
        };
        let scaling = p.autoscaling.as_ref();
        let instances = match (&p.instances, scaling) {
            (
                Some(i),
                Some(Located {
                    value: Some(spec), ..
                }),
            ) if i.value < u64::from(spec.floor()) || i.value > u64::from(spec.max) => {
                r.error(
                    i,
                    format!(
                        "instances = {} is outside the autoscaling bounds, min {} to max {}",
                        i.value, spec.min, spec.max
                    ),
                    Some(format!(
                        "the group starts at this desired capacity, which stays within its min and max: set instances from {} to {}, or leave it out to start at min",
                        spec.min, spec.max
                    )),
                );
                None
            }
            (Some(i), _) => Some(i.value as u32),
            (None, Some(a)) => a.value.as_ref().map(|s| s.min),
            // Missing, or broken (both reported by stage one).
            (None, None) => None,
        };
        if let Some(w) = p.warm_pool.as_ref().filter(|_| scaling.is_none()) {
            r.error(
                w,
                "a warm pool feeds the instances an autoscaler launches, and this pool has no [pool.autoscaling]",
                Some("add [pool.autoscaling] with min, max and a policy, or remove [pool.warm_pool]".into()),
            );
            ok = false;
        }
        let controller = scaling
            .and_then(|a| a.value.as_ref())
            .map(|s| &s.controller);
        let termination_policy = match (&p.termination_policy, controller) {
            (Some(t), _) => lifecycle::termination_policy(t.value),
            (None, Some(Controller::Hpa(_) | Controller::Keda(_))) => TerminationPolicy::Kubernetes,
            (None, _) => TerminationPolicy::AwsDefault,
        };
        let (dispatch, queue_capacity) = match &p.queue {
            Some(q) => match queues.pulled_by(r, p, q, index) {
                Some(capacity) => (Dispatch::SharedQueue, capacity),
                None => {
                    ok = false;
                    (Dispatch::SharedQueue, None)
                }
            },
            None => (
                match p.dispatch.as_ref().map(|d| d.value) {
                    Some("shared_queue") => Dispatch::SharedQueue,
                    _ => Dispatch::Balancer,
                },
                p.queue_capacity.as_ref().map(|q| q.value as u32),
            ),
        };
        if let Some(f) = &p.failures {
            if f.value.is_none() {
                ok = false; // reported by stage one
            } else if dispatch == Dispatch::SharedQueue {
                r.error(
                    f,
                    "random failures are modelled for pools behind a balancer, not shared-queue pools",
                    Some("use dispatch = \"balancer\" for this pool, or remove [pool.failures]".into()),
                );
                ok = false;
            }
        }
        if let (Some(w), Some(purchase)) = (&p.warm_pool, &p.purchase) {
            if purchase.value == PurchaseOption::Spot {
                // AWS, "Warm pools for Amazon EC2 Auto Scaling": no warm pool for a group
                // that launches Spot Instances.
                r.error(
                    w,
                    "EC2 Auto Scaling does not allow a warm pool in a group that launches spot instances",
                    Some("remove [pool.warm_pool], or buy on demand".into()),
                );
                ok = false;
            }
        }
        match (&p.name, instance_type, instances) {
            (Some(name), Some(instance_type), Some(instances)) => pools.push(PoolSpec {
                name: name.value.clone(),
                instance_type,
                instances,
                dispatch,
                queue_capacity,
                weight: p.weight.as_ref().map_or_else(
                    || types.map_or(1, |t| t[instance_type].weight),
                    |w| w.value as u32,
                ),
                startup: p.startup.clone().unwrap_or_else(StartupSpec::instant),
                deregistration_delay: p.deregistration_delay.as_ref().map_or(
                    match controller {
                        // A pod gets its terminationGracePeriodSeconds, not ELB's delay.
                        Some(Controller::Hpa(_) | Controller::Keda(_)) => {
                            DEFAULT_TERMINATION_GRACE_PERIOD
                        }
                        _ => DEFAULT_DEREGISTRATION_DELAY,
                    },
                    |d| d.value,
                ),
                termination_policy,
                warm_pool: p.warm_pool.as_ref().and_then(|w| w.value),
                launch: p.launch.unwrap_or_default(),
                autoscaling: scaling.and_then(|a| a.value.clone()),
                queue: p.queue.as_ref().map(|q| q.value.clone()),
                mixed,
                failures: p.failures.as_ref().and_then(|f| f.value.clone()),
                replace_unhealthy: p.replace_unhealthy.as_ref().is_some_and(|x| x.value),
            }),
            _ => ok = false,
        }
    }
    ok &= queues.finish(r);
    (ok && types.is_some()).then_some(pools)
}

/// A pool's `[pool.mixed_instances]`: known, distinct types, a spot price for each type it may
/// buy on the spot market, and no keys of a single-type pool beside it. `Ok(None)` without one.
fn validate_mixed(
    r: &mut Reader<'_>,
    p: &RawPool,
    type_names: &Names<'_>,
    types: Option<&[InstanceType]>,
) -> Result<Option<MixedInstances>, ()> {
    let Some(at) = &p.mixed else {
        return Ok(None);
    };
    let Some(m) = &at.value else {
        return Err(()); // reported by stage one
    };
    let mut ok = true;
    let clashes = [
        (
            p.instance_type.as_ref().map(unit),
            "instance_type",
            "the types are listed in [pool.mixed_instances] types",
        ),
        (
            p.purchase.as_ref().map(unit),
            "purchase",
            "the purchase options are set by on_demand_base_capacity and on_demand_percentage_above_base",
        ),
        (
            p.weight.as_ref().map(unit),
            "weight",
            "each instance takes its type's weight",
        ),
        // AWS, "Warm pools for Amazon EC2 Auto Scaling": a warm pool cannot be added to a
        // group with a mixed instances policy or that launches Spot Instances.
        (
            p.warm_pool.as_ref().map(unit),
            "warm_pool",
            "EC2 Auto Scaling does not allow a warm pool with a mixed instances policy",
        ),
    ];
    for (key_at, key, why) in clashes {
        if let Some(key_at) = key_at {
            r.error(
                &key_at,
                format!("a pool with [pool.mixed_instances] has no {key}: {why}"),
                Some(format!("remove {key}")),
            );
            ok = false;
        }
    }
    if m.types.is_empty() {
        r.error(
            &m.types_at,
            "a mixed instances policy needs at least one instance type",
            Some("such as types = [\"g5.xlarge\", \"g6.xlarge\"]".into()),
        );
        ok = false;
    }
    let mut resolved = Vec::new();
    for t in &m.types {
        match find(type_names, &t.value) {
            Some(i) if resolved.contains(&i) => {
                r.error(
                    t,
                    format!("instance type \"{}\" is listed twice", t.value),
                    Some("list each type once, in priority order".into()),
                );
                ok = false;
            }
            Some(i) => resolved.push(i),
            None => {
                unknown_reference(r, t, "instance type", type_names);
                ok = false;
            }
        }
    }
    let buys_spot = m.on_demand_percent < 100;
    if let (true, Some(types)) = (buys_spot, types) {
        for (&i, t) in resolved.iter().zip(&m.types) {
            if types[i].spot_price.is_none() {
                r.error(
                    t,
                    format!(
                        "instance type \"{}\" has no spot_price, and this policy buys spot (on_demand_percentage_above_base = {})",
                        t.value, m.on_demand_percent
                    ),
                    Some("add spot_price = \"$0.40/h\" to its [[instance_type]], or set on_demand_percentage_above_base = 100".into()),
                );
                ok = false;
            }
        }
    }
    let pools = spot::spot_instance_pools(r, m);
    match (ok, pools) {
        (true, Some(spot_instance_pools)) => Ok(Some(MixedInstances {
            types: resolved,
            on_demand_base: m.on_demand_base,
            on_demand_percent: m.on_demand_percent,
            on_demand_strategy: m.on_demand_strategy,
            spot_strategy: m.spot_strategy,
            spot_instance_pools,
            capacity_rebalance: m.capacity_rebalance,
        })),
        _ => Err(()),
    }
}

/// `[[capacity_shortage]]` windows: a known type, inside the run.
fn validate_shortages(
    r: &mut Reader<'_>,
    raw: &RawScenario,
    duration: Option<SimDuration>,
) -> Option<Vec<CapacityShortage>> {
    let type_names: Names<'_> = raw
        .instance_types
        .iter()
        .filter_map(|t| t.name.as_ref().map(|n| n.value.as_str()))
        .collect();
    let mut out = Vec::new();
    let mut ok = true;
    for s in &raw.capacity_shortages {
        let itype = s.instance_type.as_ref().and_then(|t| {
            let found = find(&type_names, &t.value);
            if found.is_none() {
                unknown_reference(r, t, "instance type", &type_names);
            }
            found
        });
        let at = s.at.as_ref().filter(|at| match duration {
            Some(d) if at.value >= d => {
                r.error(
                    *at,
                    format!(
                        "the shortage begins at {}, not before the run ends (duration = {d})",
                        at.value
                    ),
                    Some(format!("make `at` shorter than {d}")),
                );
                false
            }
            _ => true,
        });
        let lasts = positive_duration(r, s.duration.as_ref(), "duration");
        match (itype, at, lasts) {
            (Some(itype), Some(at), Some(Some(lasts))) => {
                let from = SimTime::ZERO + at.value;
                out.push(CapacityShortage {
                    itype,
                    purchase: s.purchase,
                    from,
                    until: from.saturating_add(lasts),
                });
            }
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

/// The `[[queue]]` tables and which pool pulls from each.
struct Queues<'a> {
    raw: &'a [RawQueue],
    pools: &'a [RawPool],
    names: Names<'a>,
    /// The pool pulling from each queue, by queue index.
    puller: Vec<Option<usize>>,
}

impl<'a> Queues<'a> {
    /// The queues of `raw`, none pulled from yet.
    fn new(raw: &'a RawScenario) -> Self {
        Queues {
            raw: &raw.queues,
            pools: &raw.pools,
            names: raw
                .queues
                .iter()
                .map(|q| q.name.as_ref().map_or("", |n| n.value.as_str()))
                .collect(),
            puller: vec![None; raw.queues.len()],
        }
    }

    /// Records that pool `pool` (`p`) pulls from the queue `q`, and returns that queue's
    /// capacity; `None` if the queue is unknown, already pulled from, or `p` has keys that
    /// do not go with a queue (each reported).
    fn pulled_by(
        &mut self,
        r: &mut Reader<'_>,
        p: &RawPool,
        q: &Located<String>,
        pool: usize,
    ) -> Option<Option<u32>> {
        let mut ok = true;
        if let Some(d) = &p.dispatch {
            r.error(
                d,
                format!(
                    "a pool that pulls from a queue has that queue in front of it, so dispatch does not apply (it works as shared_queue on queue \"{}\")",
                    q.value
                ),
                Some("remove dispatch".into()),
            );
            ok = false;
        }
        if let Some(c) = &p.queue_capacity {
            r.error(
                c,
                format!(
                    "the capacity of queue \"{}\" is set on its [[queue]] table",
                    q.value
                ),
                Some(format!(
                    "remove queue_capacity and set capacity = {} in the [[queue]] named \"{}\"",
                    c.value, q.value
                )),
            );
            ok = false;
        }
        let Some(index) = find(&self.names, &q.value) else {
            unknown_reference(r, q, "queue", &self.names);
            return None;
        };
        if let Some(other) = self.puller[index] {
            let other = self.pools[other]
                .name
                .as_ref()
                .map_or("", |n| n.value.as_str());
            r.error(
                q,
                format!("pool \"{other}\" already pulls from queue \"{}\"", q.value),
                Some(
                    "one pool pulls from each queue: give this pool a [[queue]] of its own".into(),
                ),
            );
            return None;
        }
        self.puller[index] = Some(pool);
        ok.then(|| self.raw[index].capacity.as_ref().map(|c| c.value as u32))
    }

    /// Checks the names and that every queue has a pool; false if not (reported).
    fn finish(self, r: &mut Reader<'_>) -> bool {
        let named: Vec<&Located<String>> =
            self.raw.iter().filter_map(|q| q.name.as_ref()).collect();
        let mut ok = check_unique(r, &named, "queue", "give each queue its own name");
        for (q, puller) in self.raw.iter().zip(&self.puller) {
            if let (Some(name), None) = (&q.name, puller) {
                r.error(
                    name,
                    format!("no pool pulls from queue \"{}\"", name.value),
                    Some(format!(
                        "add queue = \"{}\" to the [[pool]] that works on it, or remove the queue",
                        name.value
                    )),
                );
                ok = false;
            }
        }
        ok
    }
}

fn validate_classes(
    r: &mut Reader<'_>,
    raw: &RawScenario,
    types: Option<&[InstanceType]>,
    pools: Option<&[PoolSpec]>,
    refs: &[PoolRef],
    mut routing: Option<&mut Routing<'_>>,
) -> Option<Vec<RequestClass>> {
    if raw.classes.is_empty() {
        r.error(
            &raw.classes_at,
            "no request classes",
            Some("add one: [[class]] name = \"predict\" service = { distribution = \"exponential\", mean = \"1s\" }".into()),
        );
        return None;
    }
    let names: Vec<&Located<String>> = raw.classes.iter().filter_map(|c| c.name.as_ref()).collect();
    let mut ok = check_unique(r, &names, "class", "give each class its own name");
    ok &= check_shares(r, &raw.classes);
    let pool_names = pool_names(refs);
    let type_names: Names<'_> = raw
        .instance_types
        .iter()
        .filter_map(|t| t.name.as_ref().map(|n| n.value.as_str()))
        .collect();
    let queue_names: Names<'_> = raw
        .queues
        .iter()
        .map(|q| q.name.as_ref().map_or("", |n| n.value.as_str()))
        .collect();
    let mut classes = Vec::new();
    for c in &raw.classes {
        let route = match &c.queue {
            Some(q) => queue_route(r, c, q, &queue_names, refs, routing.as_deref_mut()),
            None => match (&c.pool, &c.path, routing.as_deref_mut()) {
                (Some(_), Some(path), _) => {
                    r.error(
                        path,
                        "a class is sent by its path or straight to a pool, not both",
                        Some("keep path (routed by [[route]]), or pool".into()),
                    );
                    None
                }
                (Some(p), None, routing) => match find(&pool_names, &p.value) {
                    // Checked even when routing is broken, so this mistake is reported too.
                    Some(pool) => routing.and_then(|routing| routing.pool_route(r, pool, refs)),
                    None => {
                        unknown_reference(r, p, "pool", &pool_names);
                        None
                    }
                },
                (None, Some(path), _) if !path.value.starts_with('/') => {
                    r.error(
                        path,
                        format!("the path \"{}\" does not start with /", path.value),
                        Some(
                            "write the request path, such as path = \"/predict\"; it is matched \
                         against the [[route]] path prefixes"
                                .into(),
                        ),
                    );
                    None
                }
                (None, Some(path), Some(routing)) => {
                    let found = longest_prefix(
                        routing.prefixes.iter().map(|(p, _)| p.as_str()),
                        &path.value,
                    )
                    .map(|i| routing.prefixes[i].1);
                    if found.is_none() {
                        let known = if routing.prefixes.is_empty() {
                            "add a [[route]] with path = \"/...\" and target_group = \"...\""
                                .to_string()
                        } else {
                            let paths: Vec<&str> =
                                routing.prefixes.iter().map(|(p, _)| p.as_str()).collect();
                            format!("routes here: {}", paths.join(", "))
                        };
                        r.error(
                            path,
                            format!("no route's path is a prefix of \"{}\"", path.value),
                            Some(known),
                        );
                    }
                    found
                }
                (None, None, Some(routing)) if raw.pools.len() == 1 && raw.routes.is_empty() => {
                    routing.pool_route(r, 0, refs)
                }
                (None, None, _) if !(raw.pools.len() == 1 && raw.routes.is_empty()) => {
                    let queues = if queue_names.is_empty() {
                        String::new()
                    } else {
                        format!(", or queue = one of: {}", list(&queue_names))
                    };
                    r.error(
                    &c.at,
                    "this class does not say where it goes",
                    Some(format!(
                        "add path = \"/...\" (matched against the [[route]] paths) or pool = \"...\", one of: {}{queues}",
                        list(&pool_names)
                    )),
                );
                    None
                }
                _ => None,
            },
        };
        for (key, _) in &c.service_by_type {
            if find(&type_names, &key.value).is_none() {
                unknown_reference(r, key, "instance type", &type_names);
                ok = false;
            }
        }
        let tokens = match (&c.input_tokens, &c.output_tokens) {
            (None, None) => Some(None),
            (Some(i), Some(o)) => match (&i.value, &o.value) {
                (Some(input), Some(output)) => Some(Some(TokenSpec {
                    input: input.clone(),
                    output: output.clone(),
                })),
                // Broken: reported by stage one.
                _ => None,
            },
            (Some(one), None) | (None, Some(one)) => {
                let missing = if c.input_tokens.is_none() {
                    "input_tokens = { distribution = \"lognormal\", mean = 600, cv = 1.0 }"
                } else {
                    "output_tokens = { distribution = \"lognormal\", mean = 250, cv = 1.0 }"
                };
                r.error(
                    one,
                    "a token-based class needs both input_tokens and output_tokens",
                    Some(format!("add the other, such as {missing}")),
                );
                None
            }
        };
        let Some(tokens) = tokens else {
            ok = false;
            continue;
        };
        if tokens.is_some() && (c.service.is_some() || !c.service_by_type.is_empty()) {
            r.error(
                &c.at,
                "a token-based class takes its time from its tokens, not from service or service_by_type",
                Some("remove service and service_by_type; set the instance type's llm profile".into()),
            );
            ok = false;
            continue;
        }
        // A token-based class has no service time: a placeholder never used.
        let zero = ServiceTime::Constant { nanos: 0.0 };
        let service = if tokens.is_some() {
            Some(&zero)
        } else {
            c.service.as_ref()
        };
        let (Some(name), Some(route), Some(service), Some(types)) =
            (&c.name, route, service, types)
        else {
            ok = false;
            continue;
        };
        let service_by_type = types
            .iter()
            .map(|t| {
                c.service_by_type
                    .iter()
                    .find(|(k, _)| k.value == t.name)
                    .map_or_else(|| service.scaled_by_speed(t.speed), |(_, s)| s.clone())
            })
            .collect::<Vec<ServiceTime>>();
        classes.push(RequestClass {
            name: name.value.clone(),
            share: c.share.as_ref().map_or(1.0, |s| s.value),
            route,
            service_by_type,
            tokens,
        });
    }
    (ok && pools.is_some()).then_some(classes)
}

/// Every instance type that may serve a token-based class has an LLM profile: those of the
/// pools of its route's target group (and, with regions, of every region's group for it).
#[allow(clippy::too_many_arguments)]
fn check_token_types(
    r: &mut Reader<'_>,
    raw: &RawScenario,
    classes: &[RequestClass],
    types: &[InstanceType],
    pools: &[PoolSpec],
    groups: &[crate::model::balancer::routing::TargetGroupSpec],
    routes: &[crate::model::balancer::routing::RouteSpec],
    topology: Option<&Option<crate::model::topology::Topology>>,
) {
    let raw_classes: Vec<&RawClass> = raw.classes.iter().filter(|c| c.name.is_some()).collect();
    for (c, rc) in classes.iter().zip(raw_classes) {
        if c.tokens.is_none() {
            continue;
        }
        let mut group_ids = vec![routes[c.route].target_group];
        if let Some(Some(t)) = topology {
            let k = t.dns.regions.len();
            group_ids.extend_from_slice(&t.route_groups[c.route * k..(c.route + 1) * k]);
        }
        let mut missing: Vec<&str> = Vec::new();
        for g in group_ids {
            for &p in &groups[g].pools {
                let spec = &pools[p];
                let mut its_types = vec![spec.instance_type];
                if let Some(m) = &spec.mixed {
                    its_types.extend_from_slice(&m.types);
                }
                for t in its_types {
                    let name = types[t].name.as_str();
                    if types[t].llm.is_none() && !missing.contains(&name) {
                        missing.push(name);
                    }
                }
            }
        }
        if !missing.is_empty() {
            r.error(
                &rc.at,
                format!(
                    "class \"{}\" is token-based, but instance type {} that may serve it has no llm profile",
                    c.name,
                    missing.join(", ")
                ),
                Some("add llm = { prefill_per_token = \"0.2ms\", decode_step = { base = \"25ms\", per_sequence = \"0.4ms\" }, max_batch = 32 } to the [[instance_type]]".into()),
            );
        }
    }
}

/// The route of class `c`, which names the queue `q`: that of the pool pulling from the queue.
/// `None` if the class also names a pool or path, or the queue is unknown (reported), or no
/// pool pulls from it (reported at the queue), or routing is broken.
fn queue_route(
    r: &mut Reader<'_>,
    c: &RawClass,
    q: &Located<String>,
    queue_names: &Names<'_>,
    refs: &[PoolRef],
    routing: Option<&mut Routing<'_>>,
) -> Option<usize> {
    if c.pool.is_some() || c.path.is_some() {
        let other = if c.pool.is_some() { "pool" } else { "path" };
        r.error(
            q,
            format!(
                "a class goes to a queue, a pool or a path: this one names a queue and a {other}"
            ),
            Some(format!("keep queue, or {other}")),
        );
        return None;
    }
    if find(queue_names, &q.value).is_none() {
        unknown_reference(r, q, "queue", queue_names);
        return None;
    }
    let pool = refs
        .iter()
        .position(|p| p.queue.as_deref() == Some(q.value.as_str()))?;
    routing?.pool_route(r, pool, refs)
}

fn check_shares(r: &mut Reader<'_>, classes: &[RawClass]) -> bool {
    if classes.len() == 1 {
        return match &classes[0].share {
            Some(s) if (s.value - 1.0).abs() > SHARE_TOLERANCE => {
                r.error(
                    s,
                    format!(
                        "the only class has share {}, but shares must sum to 1",
                        s.value
                    ),
                    Some("remove share, or set share = 1".into()),
                );
                false
            }
            _ => true,
        };
    }
    let mut ok = true;
    let mut sum = 0.0;
    for c in classes {
        match &c.share {
            Some(s) => sum += s.value,
            None => {
                r.error(
                    &c.at,
                    "with several classes, each needs a share",
                    Some("add share = 0.5 (the shares of all classes sum to 1)".into()),
                );
                ok = false;
            }
        }
    }
    if ok && (sum - 1.0).abs() > SHARE_TOLERANCE {
        let first = classes[0].share.as_ref().expect("checked above");
        r.error_at(
            "class[*].share",
            Some(first.span),
            format!("the class shares sum to {sum}, not 1"),
            Some("make the shares of all classes add up to exactly 1".into()),
        );
        ok = false;
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 14, item 14: a million names are checked for duplicates and looked up in well under
    /// a second (both were scans: 5e11 comparisons, hours). The bound is generous: 20 times
    /// what the two-core CI machine takes.
    #[test]
    fn duplicate_names_and_references_are_found_in_linear_time() {
        const N: usize = 1_000_000;
        let names: Vec<Located<String>> = (0..N)
            .map(|i| Located {
                value: format!("pool{i}"),
                path: String::new(),
                span: (i, i + 1),
            })
            .collect();
        let start = std::time::Instant::now();
        let refs: Vec<&Located<String>> = names.iter().chain([&names[7]]).collect();
        let mut r = Reader::new("");
        assert!(!check_unique(&mut r, &refs, "pool", "h"));
        let d = r.into_diagnostics();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].message, "pool \"pool7\" is defined twice");
        let index: Names<'_> = names.iter().map(|n| n.value.as_str()).chain([""]).collect();
        for i in (0..N).step_by(7) {
            assert_eq!(find(&index, &names[i].value), Some(i));
        }
        // The first of two equal names, as a scan finds it; an empty name matches nothing.
        let twice: Names<'_> = ["a", "b", "a", ""].into_iter().collect();
        assert_eq!(find(&twice, "a"), Some(0));
        assert_eq!(find(&twice, ""), None);
        let took = start.elapsed();
        assert!(took.as_secs_f64() < 10.0, "took {took:?}");
    }
}
