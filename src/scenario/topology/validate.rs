//! Stage two of the topology keys: names resolved, every region a DNS answers with given a
//! target group on each route and a round trip from each place, outages placed, prices
//! defaulted; the typed [`Topology`].

use super::{RawDns, RawOutage, RawTopology};
use crate::engine::{SimDuration, SimTime};
use crate::model::balancer::routing::{RouteSpec, TargetGroupSpec};
use crate::model::topology::{
    CloudPrices, DnsPolicy, DnsSpec, OutageScope, OutageSpec, Place, Region, RegionHealthCheck,
    Topology, TransferSizes, MAX_USERS_WITH_TOPOLOGY,
};
use crate::scenario::raw::RawScenario;
use crate::scenario::reader::{Located, Reader};
use crate::scenario::validate::check_unique;

/// Shares must sum to 1 within this tolerance (as class shares).
const SHARE_TOLERANCE: f64 = 1e-6;

/// Position of `wanted` among `names`.
fn find(names: &[&str], wanted: &str) -> Option<usize> {
    names.iter().position(|n| !n.is_empty() && *n == wanted)
}

fn unknown(r: &mut Reader<'_>, at: &Located<String>, what: &str, known: &[&str]) {
    r.error(
        at,
        format!("no {what} is named \"{}\"", at.value),
        Some(format!("use one of: {}", known.join(", "))),
    );
}

/// The pieces of the validated scenario the topology refers to.
pub struct Context<'a> {
    pub groups: &'a [TargetGroupSpec],
    pub routes: &'a [RouteSpec],
    pub classes: usize,
    pub users: u64,
    pub duration: Option<SimDuration>,
}

/// Checks the topology keys; `Some(None)` for a scenario without regions, `None` if anything
/// is wrong (every problem reported).
pub fn validate(
    r: &mut Reader<'_>,
    raw: &RawScenario,
    cx: &Context<'_>,
) -> Option<Option<Topology>> {
    let t = &raw.topology;
    if t.regions.is_empty() {
        return no_regions(r, raw);
    }
    let mut ok = true;
    let names: Vec<&Located<String>> = t.regions.iter().filter_map(|x| x.name.as_ref()).collect();
    ok &= check_unique(r, &names, "region", "give each region its own name");
    let region_names: Vec<&str> = t
        .regions
        .iter()
        .map(|x| x.name.as_ref().map_or("", |n| n.value.as_str()))
        .collect();
    let mut clouds: Vec<String> = Vec::new();
    let mut regions = Vec::new();
    for x in &t.regions {
        let (Some(name), Some(cloud)) = (&x.name, &x.cloud) else {
            ok = false;
            continue;
        };
        let zone_names: Vec<&Located<String>> = x.zones.iter().collect();
        ok &= check_unique(r, &zone_names, "zone", "list each zone once");
        let c = clouds
            .iter()
            .position(|c| *c == cloud.value)
            .unwrap_or_else(|| {
                clouds.push(cloud.value.clone());
                clouds.len() - 1
            });
        regions.push(Region {
            name: name.value.clone(),
            cloud: c,
            zones: x.zones.iter().map(|z| z.value.clone()).collect(),
        });
    }
    if !ok {
        return None;
    }
    let nregions = regions.len();

    // Pools: region (default the only region) and zone.
    let mut pool_region = Vec::new();
    for p in &raw.pools {
        let region = match &p.region {
            Some(at) => find(&region_names, &at.value).or_else(|| {
                unknown(r, at, "region", &region_names);
                None
            }),
            None if nregions == 1 => Some(0),
            None => {
                let at = p.name.as_ref().map(|n| Located {
                    value: (),
                    path: n.path.replace(".name", ".region"),
                    span: n.span,
                });
                if let Some(at) = at {
                    r.error(
                        &at,
                        "with several regions, every pool says which region it is in",
                        Some(format!("add region = one of {}", region_names.join(", "))),
                    );
                }
                None
            }
        };
        let zone = match (&p.zone, region) {
            (Some(z), Some(reg)) => {
                let zones: Vec<&str> = regions[reg].zones.iter().map(String::as_str).collect();
                let found = find(&zones, &z.value);
                if found.is_none() {
                    let known = if zones.is_empty() {
                        format!(
                            "region \"{}\" lists no zones: add zones = [...] to it",
                            regions[reg].name
                        )
                    } else {
                        format!("use one of: {}", zones.join(", "))
                    };
                    r.error(
                        z,
                        format!(
                            "region \"{}\" has no zone \"{}\"",
                            regions[reg].name, z.value
                        ),
                        Some(known),
                    );
                }
                found.map(Some)
            }
            (None, _) => Some(None),
            (Some(_), None) => None,
        };
        match (region, zone) {
            (Some(reg), Some(z)) => pool_region.push((reg, z)),
            _ => ok = false,
        }
    }
    if !ok {
        return None;
    }

    // Target groups: region given, or that of their pools.
    let mut group_region = Vec::new();
    for spec in cx.groups {
        let raw_group = raw
            .target_groups
            .iter()
            .find(|x| x.name.as_ref().is_some_and(|n| n.value == spec.name));
        let given = raw_group.and_then(|x| x.region.as_ref());
        let from_pools: Vec<usize> = spec.pools.iter().map(|&p| pool_region[p].0).collect();
        let region = match given {
            Some(at) => find(&region_names, &at.value).or_else(|| {
                unknown(r, at, "region", &region_names);
                None
            }),
            None if from_pools.windows(2).all(|w| w[0] == w[1]) => from_pools.first().copied(),
            None => {
                if let Some(at) = raw_group.and_then(|x| x.pools_at.as_ref()) {
                    r.error(
                        at,
                        format!(
                            "target group \"{}\" balances pools in several regions: say where its balancer is",
                            spec.name
                        ),
                        Some(format!("add region = one of {}", region_names.join(", "))),
                    );
                }
                None
            }
        };
        match region {
            Some(reg) => group_region.push(reg),
            None => ok = false,
        }
    }
    if !ok {
        return None;
    }

    // DNS.
    let dns = match &t.dns {
        Some(d) => validate_dns(r, d, &region_names)?,
        None => {
            // One answer: the region of the first route's group.
            let first = cx
                .routes
                .first()
                .map_or(0, |x| group_region[x.target_group]);
            DnsSpec::single(first)
        }
    };
    let nd = dns.regions.len();

    // Routes: one group per DNS region.
    let mut route_groups = vec![usize::MAX; cx.routes.len() * nd];
    let group_names: Vec<&str> = cx.groups.iter().map(|g| g.name.as_str()).collect();
    for (ri, route) in cx.routes.iter().enumerate() {
        let raw_route = raw
            .routes
            .get(ri)
            .filter(|x| x.path.as_ref().is_some_and(|p| p.value == route.name));
        let mut groups = vec![route.target_group];
        if let Some(x) = raw_route {
            for extra in &x.more_groups {
                match find(&group_names, &extra.value) {
                    Some(g) => groups.push(g),
                    None => {
                        unknown(r, extra, "target group", &group_names);
                        ok = false;
                    }
                }
            }
        }
        for &g in &groups {
            let k = dns.regions.iter().position(|&reg| reg == group_region[g]);
            let at = raw_route.map(|x| x.at.clone());
            match k {
                Some(k) if route_groups[ri * nd + k] != usize::MAX => {
                    if let Some(at) = at {
                        r.error(
                            &at,
                            format!(
                                "route \"{}\" lists two target groups in region \"{}\"",
                                route.name, region_names[group_region[g]]
                            ),
                            Some("list one target group per region".into()),
                        );
                    }
                    ok = false;
                }
                Some(k) => route_groups[ri * nd + k] = g,
                // A group outside the DNS regions can never be reached: tell.
                None if groups.len() > 1 => {
                    if let Some(at) = at {
                        r.error(
                            &at,
                            format!(
                                "target group \"{}\" of route \"{}\" is in region \"{}\", which the DNS never answers with",
                                group_names[g], route.name, region_names[group_region[g]]
                            ),
                            Some("add the region to [dns] regions, or remove the group".into()),
                        );
                    }
                    ok = false;
                }
                None => {}
            }
        }
        for (k, &reg) in dns.regions.iter().enumerate() {
            if route_groups[ri * nd + k] != usize::MAX {
                continue;
            }
            if groups.len() == 1 && nd == 1 {
                // One group, one answer: the group serves whatever region it is in.
                route_groups[ri * nd + k] = groups[0];
                continue;
            }
            let at = raw_route.map_or_else(
                || t.dns.as_ref().map(|d| d.at.clone()),
                |x| Some(x.at.clone()),
            );
            if let Some(at) = at {
                r.error(
                    &at,
                    format!(
                        "route \"{}\" has no target group in region \"{}\", which the DNS answers with",
                        route.name, region_names[reg]
                    ),
                    Some("list one target group per DNS region, such as target_group = [\"gpu-aws\", \"gpu-gcp\"]".into()),
                );
            }
            ok = false;
        }
    }

    let places = validate_places(r, t, &region_names, &dns);
    ok &= places.is_some();

    // Outages.
    let mut outages = Vec::new();
    for o in &t.outages {
        match validate_outage(r, o, &regions, &region_names, &clouds, cx.duration) {
            Some(x) => {
                // As faults: a crashed host is modelled behind a balancer, which stops sending
                // to it; a shared queue's workers would need their own model of dying.
                let shared = raw
                    .pools
                    .iter()
                    .zip(&pool_region)
                    .find(|(p, &(reg, zone))| {
                        let queue = p.queue.is_some()
                            || p.dispatch
                                .as_ref()
                                .is_some_and(|d| d.value == "shared_queue");
                        queue && x.covers_pool(&regions, reg, zone)
                    });
                if let (Some((p, _)), Some(name)) = (shared, &o.name) {
                    r.error(
                        name,
                        format!(
                            "this outage takes down pool \"{}\", which pulls from a shared queue: outages are modelled for pools behind a balancer",
                            p.name.as_ref().map_or("", |n| n.value.as_str())
                        ),
                        Some("use dispatch = \"balancer\" for that pool, or an outage that spares it".into()),
                    );
                    ok = false;
                } else {
                    outages.push(x);
                }
            }
            None => ok = false,
        }
    }

    let sizes = class_sizes(raw, cx.classes);
    let prices = validate_prices(r, t, &clouds);
    ok &= prices.is_some();
    if cx.users > MAX_USERS_WITH_TOPOLOGY {
        if let Some(u) = &raw.users {
            r.error(
                u,
                format!(
                    "with regions, each user keeps a cached DNS answer: at most {MAX_USERS_WITH_TOPOLOGY} users"
                ),
                Some("lower [traffic] users".into()),
            );
        }
        ok = false;
    }
    let (Some(places), Some(prices)) = (places, prices) else {
        return None;
    };
    ok.then_some(Some(Topology {
        clouds,
        regions,
        places,
        dns,
        outages,
        pool_region,
        group_region,
        route_groups,
        sizes,
        prices,
    }))
}

/// The `[[place]]` tables (default: one place at 0 ms from every region); every region the DNS
/// answers with needs a round trip from every place.
fn validate_places(
    r: &mut Reader<'_>,
    t: &RawTopology,
    region_names: &[&str],
    dns: &DnsSpec,
) -> Option<Vec<Place>> {
    let mut places = Vec::new();
    if t.places.is_empty() {
        places.push(Place {
            name: "users".into(),
            share: 1.0,
            rtt: vec![Some(SimDuration::ZERO); region_names.len()],
        });
    }
    let place_names: Vec<&Located<String>> =
        t.places.iter().filter_map(|x| x.name.as_ref()).collect();
    let mut ok = check_unique(r, &place_names, "place", "give each place its own name");
    let mut share_sum = 0.0;
    for p in &t.places {
        let mut rtt = vec![None; region_names.len()];
        for (region, d) in &p.latency {
            match find(region_names, &region.value) {
                Some(reg) => rtt[reg] = Some(d.value),
                None => {
                    unknown(r, region, "region", region_names);
                    ok = false;
                }
            }
        }
        for &reg in &dns.regions {
            if rtt[reg].is_none() {
                r.error(
                    &p.at,
                    format!(
                        "place \"{}\" gives no latency to region \"{}\", which the DNS answers with",
                        p.name.as_ref().map_or("", |n| n.value.as_str()),
                        region_names[reg]
                    ),
                    Some(format!("add \"{}\" = \"30ms\" to its latency table", region_names[reg])),
                );
                ok = false;
            }
        }
        share_sum += p.share.as_ref().map_or(0.0, |s| s.value);
        match (&p.name, &p.share) {
            (Some(n), Some(s)) => places.push(Place {
                name: n.value.clone(),
                share: s.value,
                rtt,
            }),
            _ => ok = false,
        }
    }
    if !t.places.is_empty() && (share_sum - 1.0).abs() > SHARE_TOLERANCE {
        r.error(
            &t.places[0].at,
            format!("place shares sum to {share_sum}, not 1"),
            Some("make the shares of the [[place]] tables add up to 1".into()),
        );
        ok = false;
    }
    ok.then_some(places)
}

/// Each class's request and response sizes (defaults for classes the file does not give).
fn class_sizes(raw: &RawScenario, classes: usize) -> Vec<TransferSizes> {
    let sizes: Vec<TransferSizes> = raw
        .classes
        .iter()
        .map(|c| {
            let d = TransferSizes::default();
            TransferSizes {
                request: c.request_size.as_ref().map_or(d.request, |s| s.value),
                response: c.response_size.as_ref().map_or(d.response, |s| s.value),
            }
        })
        .collect();
    if sizes.len() == classes {
        sizes
    } else {
        vec![TransferSizes::default(); classes]
    }
}

/// Data-transfer prices per cloud: `[data_transfer]`'s, else the list prices of a known cloud.
fn validate_prices(
    r: &mut Reader<'_>,
    t: &RawTopology,
    clouds: &[String],
) -> Option<Vec<CloudPrices>> {
    let mut ok = true;
    let mut prices = Vec::new();
    let dt = t.data_transfer.as_ref();
    for (key, list) in dt
        .map(|d| {
            [
                ("internet_egress", &d.value.internet_egress),
                ("inter_region", &d.value.inter_region),
            ]
        })
        .into_iter()
        .flatten()
    {
        for (cloud, _) in list {
            if !clouds.contains(&cloud.value) {
                let known: Vec<&str> = clouds.iter().map(String::as_str).collect();
                r.error(
                    cloud,
                    format!(
                        "[data_transfer] {key} names cloud \"{}\", which no region is in",
                        cloud.value
                    ),
                    Some(format!("use one of: {}", known.join(", "))),
                );
                ok = false;
            }
        }
    }
    for cloud in clouds {
        let given = |list: Option<&Vec<(Located<String>, Located<f64>)>>| {
            list.and_then(|l| {
                l.iter()
                    .find(|(c, _)| c.value == *cloud)
                    .map(|(_, p)| p.value)
            })
        };
        let internet = given(dt.map(|d| &d.value.internet_egress));
        let inter = given(dt.map(|d| &d.value.inter_region));
        let default = CloudPrices::default_for(cloud);
        match (
            internet.or(default.map(|d| d.internet_egress_per_gb)),
            inter.or(default.map(|d| d.inter_region_per_gb)),
        ) {
            (Some(i), Some(x)) => prices.push(CloudPrices {
                internet_egress_per_gb: i,
                inter_region_per_gb: x,
            }),
            _ => {
                let at = t
                    .regions
                    .iter()
                    .find_map(|x| x.cloud.as_ref().filter(|c| c.value == *cloud));
                if let Some(at) = at {
                    r.error(
                        at,
                        format!("no default data-transfer prices for cloud \"{cloud}\" (known: aws, gcp, azure)"),
                        Some(format!(
                            "add [data_transfer] internet_egress = {{ {cloud} = 0.09 }} and inter_region = {{ {cloud} = 0.02 }} (USD per GB)"
                        )),
                    );
                }
                ok = false;
            }
        }
    }
    ok.then_some(prices)
}

fn validate_dns(r: &mut Reader<'_>, d: &RawDns, region_names: &[&str]) -> Option<DnsSpec> {
    let mut ok = true;
    let policy = match d.policy.as_ref().map(|p| p.value) {
        Some("failover") => DnsPolicy::Failover,
        Some("weighted") => DnsPolicy::Weighted,
        Some("latency") => DnsPolicy::Latency,
        Some("anycast") => DnsPolicy::Anycast,
        _ => return None,
    };
    let mut regions = Vec::new();
    for x in &d.regions {
        match find(region_names, &x.value) {
            Some(reg) if regions.contains(&reg) => {
                r.error(
                    x,
                    format!("region \"{}\" is listed twice", x.value),
                    Some("list each region once".into()),
                );
                ok = false;
            }
            Some(reg) => regions.push(reg),
            None => {
                unknown(r, x, "region", region_names);
                ok = false;
            }
        }
    }
    if d.regions.is_empty() {
        if let Some(at) = &d.regions_at {
            r.error(
                at,
                "the DNS answers with no region",
                Some("list at least one region".into()),
            );
        }
        ok = false;
    }
    let mut weights = vec![1u32; regions.len()];
    if policy == DnsPolicy::Weighted {
        weights = vec![0; regions.len()];
        for (name, w) in &d.weights {
            match find(region_names, &name.value)
                .and_then(|reg| regions.iter().position(|&x| x == reg))
            {
                Some(k) => weights[k] = w.value as u32,
                None => {
                    r.error(
                        name,
                        format!("\"{}\" is not one of the DNS regions", name.value),
                        Some("give weights to the regions listed in regions = [...]".into()),
                    );
                    ok = false;
                }
            }
        }
        if d.weights.len() != d.regions.len() && ok {
            let at = d.weights_at.clone().unwrap_or_else(|| d.at.clone());
            r.error(
                &at,
                "the weighted policy needs a weight for every DNS region",
                Some("such as weights = { \"aws-use1\" = 3, \"gcp-usc1\" = 1 }".into()),
            );
            ok = false;
        }
    } else if let Some(at) = &d.weights_at {
        r.error(
            at,
            format!(
                "weights apply to the weighted policy, not \"{}\"",
                d.policy.as_ref().map_or("", |p| p.value)
            ),
            Some("remove weights, or set policy = \"weighted\"".into()),
        );
        ok = false;
    }
    let anycast = policy == DnsPolicy::Anycast;
    if anycast {
        if let Some(ttl) = &d.ttl {
            r.error(
                ttl,
                "anycast has no DNS answer to cache: ttl does not apply",
                Some("remove ttl".into()),
            );
            ok = false;
        }
    } else if let Some(c) = &d.convergence {
        r.error(
            c,
            "convergence applies to anycast (route withdrawal), not DNS policies",
            Some("remove convergence, or set policy = \"anycast\"".into()),
        );
        ok = false;
    }
    if let Some(ttl) = &d.ttl {
        // A record's TTL is an integer of seconds.
        ok &= super::super::raw::whole_seconds(r, ttl, "Route 53", "ttl");
    }
    let mut check = RegionHealthCheck::default();
    if let Some(i) = &d.interval {
        // Route 53's RequestInterval: "Valid values: 10 | 30" (API reference, HealthCheckConfig).
        if i.value != SimDuration::from_secs(10) && i.value != SimDuration::from_secs(30) {
            r.error(
                i,
                format!(
                    "a Route 53 health check runs every 10s or 30s, found {}",
                    i.value
                ),
                Some("interval = \"30s\" (standard) or \"10s\" (fast checks)".into()),
            );
            ok = false;
        }
        check.interval = i.value;
    }
    if let Some(t) = &d.failure_threshold {
        check.failure_threshold = t.value as u32;
    }
    ok.then(|| DnsSpec {
        policy,
        regions,
        weights,
        ttl: d
            .ttl
            .as_ref()
            .map_or(SimDuration::from_secs(60), |t| t.value),
        health_check: check,
        convergence: d
            .convergence
            .as_ref()
            .map_or(SimDuration::ZERO, |c| c.value),
    })
}

fn validate_outage(
    r: &mut Reader<'_>,
    o: &RawOutage,
    regions: &[Region],
    region_names: &[&str],
    clouds: &[String],
    duration: Option<SimDuration>,
) -> Option<OutageSpec> {
    let (scope_at, name) = (o.scope.as_ref()?, o.name.as_ref()?);
    let scope = match scope_at.value {
        "region" => find(region_names, &name.value)
            .map(OutageScope::Region)
            .or_else(|| {
                unknown(r, name, "region", region_names);
                None
            }),
        "cloud" => match clouds.iter().position(|c| *c == name.value) {
            Some(c) => Some(OutageScope::Cloud(c)),
            None => {
                let known: Vec<&str> = clouds.iter().map(String::as_str).collect();
                unknown(r, name, "cloud", &known);
                None
            }
        },
        _ => {
            let Some((region, zone)) = name.value.split_once('/') else {
                r.error(
                    name,
                    "a zone is named region/zone",
                    Some("such as name = \"aws-use1/a\"".into()),
                );
                return None;
            };
            let reg = find(region_names, region);
            let z = reg.and_then(|reg| regions[reg].zones.iter().position(|x| x == zone));
            match (reg, z) {
                (Some(region), Some(zone)) => Some(OutageScope::Zone { region, zone }),
                _ => {
                    r.error(
                        name,
                        format!("no zone \"{}\" is defined", name.value),
                        Some(
                            "name a zone listed in its region's zones = [...], as region/zone"
                                .into(),
                        ),
                    );
                    None
                }
            }
        }
    };
    let at = o.at.as_ref()?;
    if let Some(d) = duration {
        if at.value >= d {
            r.error(
                at,
                "the outage begins after the run ends",
                Some("make at shorter than the duration".into()),
            );
            return None;
        }
    }
    let until = match &o.duration {
        Some(d) if d.value.is_zero() => {
            r.error(
                d,
                "the outage must last longer than 0s",
                Some("remove duration to last until the end".into()),
            );
            return None;
        }
        Some(d) => Some(SimTime::ZERO + at.value + d.value),
        None => None,
    };
    Some(OutageSpec {
        scope: scope?,
        at: SimTime::ZERO + at.value,
        until,
    })
}

/// A scenario without `[[region]]`: every topology key is an error.
fn no_regions(r: &mut Reader<'_>, raw: &RawScenario) -> Option<Option<Topology>> {
    let t = &raw.topology;
    let help = Some("add [[region]] tables (name, cloud) first".to_string());
    let mut found: Vec<(String, crate::scenario::diagnostics::ByteSpan, &str)> = Vec::new();
    for p in &t.places {
        found.push((p.at.path.clone(), p.at.span, "[[place]]"));
    }
    if let Some(d) = &t.dns {
        found.push((d.at.path.clone(), d.at.span, "[dns]"));
    }
    for o in &t.outages {
        if let Some(s) = &o.scope {
            found.push((s.path.clone(), s.span, "[[outage]]"));
        }
    }
    if let Some(d) = &t.data_transfer {
        found.push((d.path.clone(), d.span, "[data_transfer]"));
    }
    for p in &raw.pools {
        for x in [&p.region, &p.zone].into_iter().flatten() {
            found.push((x.path.clone(), x.span, "a pool's region or zone"));
        }
    }
    for g in &raw.target_groups {
        if let Some(x) = &g.region {
            found.push((x.path.clone(), x.span, "a target group's region"));
        }
    }
    for x in &raw.routes {
        if let Some(g) = x.more_groups.first() {
            found.push((g.path.clone(), g.span, "a route to several target groups"));
        }
    }
    for c in &raw.classes {
        for x in [&c.request_size, &c.response_size].into_iter().flatten() {
            found.push((x.path.clone(), x.span, "a class's request or response size"));
        }
    }
    for (path, span, what) in &found {
        r.error_at(
            path.clone(),
            Some(*span),
            format!("{what} needs regions"),
            help.clone(),
        );
    }
    found.is_empty().then_some(None)
}
