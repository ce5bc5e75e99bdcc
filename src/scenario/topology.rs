//! The topology keys: `[[region]]`, `[[place]]`, `[dns]`, `[[outage]]`, `[data_transfer]`, and
//! the `region`/`zone` of pools and target groups, the extra target groups of a route, and the
//! request/response sizes of classes. Read in stage one ([`read`]), checked against pools,
//! groups and routes in stage two ([`validate`]). A scenario without `[[region]]` has no
//! topology and may use none of these keys.

use super::reader::{Fields, Located, Reader};
use super::validate::check_unique;
use super::{raw, RawScenario};
use crate::engine::{SimDuration, SimTime};
use crate::model::balancer::routing::{RouteSpec, TargetGroupSpec};
use crate::model::topology::{
    CloudPrices, DnsPolicy, DnsSpec, OutageScope, OutageSpec, Place, Region, RegionHealthCheck,
    Topology, TransferSizes, MAX_USERS_WITH_TOPOLOGY,
};

/// Shares must sum to 1 within this tolerance (as class shares).
const SHARE_TOLERANCE: f64 = 1e-6;

/// A `[[region]]`.
#[derive(Debug)]
pub struct RawRegion {
    pub name: Option<Located<String>>,
    pub cloud: Option<Located<String>>,
    pub zones: Vec<Located<String>>,
}

/// A `[[place]]`.
#[derive(Debug)]
pub struct RawPlace {
    pub name: Option<Located<String>>,
    pub share: Option<Located<f64>>,
    /// Region name and round-trip time.
    pub latency: Vec<(Located<String>, Located<SimDuration>)>,
    pub at: Located<()>,
}

/// The `[dns]` table.
#[derive(Debug)]
pub struct RawDns {
    pub policy: Option<Located<&'static str>>,
    pub regions: Vec<Located<String>>,
    pub regions_at: Option<Located<()>>,
    pub weights: Vec<(Located<String>, Located<u64>)>,
    pub weights_at: Option<Located<()>>,
    pub ttl: Option<Located<SimDuration>>,
    pub interval: Option<Located<SimDuration>>,
    pub failure_threshold: Option<Located<u64>>,
    pub convergence: Option<Located<SimDuration>>,
    pub at: Located<()>,
}

/// An `[[outage]]`.
#[derive(Debug)]
pub struct RawOutage {
    pub scope: Option<Located<&'static str>>,
    pub name: Option<Located<String>>,
    pub at: Option<Located<SimDuration>>,
    pub duration: Option<Located<SimDuration>>,
}

/// The `[data_transfer]` table: prices per cloud.
#[derive(Debug, Default)]
pub struct RawDataTransfer {
    pub internet_egress: Vec<(Located<String>, Located<f64>)>,
    pub inter_region: Vec<(Located<String>, Located<f64>)>,
}

/// Every topology table of a scenario.
#[derive(Debug, Default)]
pub struct RawTopology {
    pub regions: Vec<RawRegion>,
    pub places: Vec<RawPlace>,
    pub dns: Option<RawDns>,
    pub outages: Vec<RawOutage>,
    pub data_transfer: Option<Located<RawDataTransfer>>,
}

const POLICIES: &[&str] = &["failover", "weighted", "latency", "anycast"];
const SCOPES: &[&str] = &["zone", "region", "cloud"];

/// Reads the topology tables of the root table.
pub fn read(r: &mut Reader<'_>, f: &mut Fields<'_, '_>) -> RawTopology {
    RawTopology {
        regions: raw::read_array(r, f, "region", read_region),
        places: raw::read_array(r, f, "place", read_place),
        dns: f.get("dns").and_then(|n| read_dns(r, n)),
        outages: raw::read_array(r, f, "outage", read_outage),
        data_transfer: f.get("data_transfer").and_then(|n| {
            let at = raw::locate_node(&n);
            let mut t = r.table(
                n,
                "a table such as [data_transfer] internet_egress = { aws = 0.09 }",
            )?;
            let mut prices = |key: &'static str, r: &mut Reader<'_>| {
                t.get(key)
                    .and_then(|n| {
                        r.table(n, "a table of cloud = USD per GB, such as { aws = 0.09 }")
                    })
                    .map(|m| {
                        m.entries()
                            .into_iter()
                            .filter_map(|(k, v)| {
                                let key = Located {
                                    value: k,
                                    path: v.path().to_string(),
                                    span: v.span(),
                                };
                                r.positive(&v, false).map(|p| (key, p))
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let internet_egress = prices("internet_egress", r);
            let inter_region = prices("inter_region", r);
            t.finish(r);
            Some(Located {
                value: RawDataTransfer {
                    internet_egress,
                    inter_region,
                },
                path: at.path,
                span: at.span,
            })
        }),
    }
}

/// A string, or an array of strings (a route's `target_group`).
pub fn read_names(r: &mut Reader<'_>, node: &super::reader::Node<'_, '_>) -> Vec<Located<String>> {
    if node.is_array() {
        r.array(node, "an array of names")
            .map(|items| items.iter().filter_map(|i| r.string(i)).collect())
            .unwrap_or_default()
    } else {
        r.string(node).into_iter().collect()
    }
}

fn read_region(r: &mut Reader<'_>, node: super::reader::Node<'_, '_>) -> Option<RawRegion> {
    let mut f = r.table(node, "a region table")?;
    let name = f
        .required(r, "name", "name the region, such as name = \"aws-use1\"")
        .and_then(|n| r.name(&n));
    let cloud = f
        .required(
            r,
            "cloud",
            "say which cloud it is in, such as cloud = \"aws\"",
        )
        .and_then(|n| r.name(&n));
    let zones = f
        .get("zones")
        .map(|n| {
            r.array(&n, "an array of zone names, such as [\"a\", \"b\"]")
                .map(|items| items.iter().filter_map(|i| r.name(i)).collect())
                .unwrap_or_default()
        })
        .unwrap_or_default();
    f.finish(r);
    Some(RawRegion { name, cloud, zones })
}

fn read_place(r: &mut Reader<'_>, node: super::reader::Node<'_, '_>) -> Option<RawPlace> {
    let at = raw::locate_node(&node);
    let mut f = r.table(node, "a place table")?;
    let name = f
        .required(r, "name", "name the place, such as name = \"us-east\"")
        .and_then(|n| r.name(&n));
    let share = f
        .required(
            r,
            "share",
            "give the place's share of users, such as share = 0.6",
        )
        .and_then(|n| r.positive(&n, true));
    let latency = f
        .required(
            r,
            "latency",
            "give the round trip to each region, such as latency = { \"aws-use1\" = \"12ms\" }",
        )
        .and_then(|n| r.table(n, "a table of region = round-trip time"))
        .map(|t| {
            t.entries()
                .into_iter()
                .filter_map(|(k, v)| {
                    let key = Located {
                        value: k,
                        path: v.path().to_string(),
                        span: v.span(),
                    };
                    r.duration(&v).map(|d| (key, d))
                })
                .collect()
        })
        .unwrap_or_default();
    f.finish(r);
    Some(RawPlace {
        name,
        share,
        latency,
        at,
    })
}

fn read_dns(r: &mut Reader<'_>, node: super::reader::Node<'_, '_>) -> Option<RawDns> {
    let at = raw::locate_node(&node);
    let mut f = r.table(node, "a table such as [dns] policy = \"failover\"")?;
    let policy = f
        .required(
            r,
            "policy",
            "choose failover, weighted, latency or anycast, such as policy = \"failover\"",
        )
        .and_then(|n| r.one_of(&n, POLICIES));
    let regions_node = f.required(
        r,
        "regions",
        "list the regions the DNS answers with, such as regions = [\"aws-use1\", \"gcp-usc1\"]",
    );
    let regions_at = regions_node.as_ref().map(raw::locate_node);
    let regions = regions_node
        .and_then(|n| {
            r.array(&n, "an array of region names")
                .map(|items| items.iter().filter_map(|i| r.string(i)).collect())
        })
        .unwrap_or_default();
    let weights_node = f.get("weights");
    let weights_at = weights_node.as_ref().map(raw::locate_node);
    let weights = weights_node
        .and_then(|n| {
            r.table(
                n,
                "a table of region = weight, such as { \"aws-use1\" = 3 }",
            )
        })
        .map(|t| {
            t.entries()
                .into_iter()
                .filter_map(|(k, v)| {
                    let key = Located {
                        value: k,
                        path: v.path().to_string(),
                        span: v.span(),
                    };
                    r.integer(&v, 0, 255).map(|w| (key, w))
                })
                .collect()
        })
        .unwrap_or_default();
    let ttl = f.get("ttl").and_then(|n| r.duration(&n));
    let (mut interval, mut failure_threshold) = (None, None);
    if let Some(n) = f.get("health_check") {
        if let Some(mut t) = r.table(
            n,
            "a table such as health_check = { interval = \"30s\", failure_threshold = 3 }",
        ) {
            interval = t.get("interval").and_then(|n| r.duration(&n));
            failure_threshold = t
                .get("failure_threshold")
                .and_then(|n| r.integer(&n, 1, 10));
            t.finish(r);
        }
    }
    let convergence = f.get("convergence").and_then(|n| r.duration(&n));
    f.finish(r);
    Some(RawDns {
        policy,
        regions,
        regions_at,
        weights,
        weights_at,
        ttl,
        interval,
        failure_threshold,
        convergence,
        at,
    })
}

fn read_outage(r: &mut Reader<'_>, node: super::reader::Node<'_, '_>) -> Option<RawOutage> {
    let mut f = r.table(node, "an outage table")?;
    let o = RawOutage {
        scope: f
            .required(r, "scope", "choose zone, region or cloud, such as scope = \"region\"")
            .and_then(|n| r.one_of(&n, SCOPES)),
        name: f
            .required(
                r,
                "name",
                "name what goes down: a region (\"aws-use1\"), a zone (\"aws-use1/a\") or a cloud (\"aws\")",
            )
            .and_then(|n| r.string(&n)),
        at: f
            .required(r, "at", "say when it goes down, such as at = \"20m\"")
            .and_then(|n| r.duration(&n)),
        duration: f.get("duration").and_then(|n| r.duration(&n)),
    };
    f.finish(r);
    Some(o)
}

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

    // Places.
    let mut places = Vec::new();
    if t.places.is_empty() {
        places.push(Place {
            name: "users".into(),
            share: 1.0,
            rtt: vec![Some(SimDuration::ZERO); nregions],
        });
    }
    let place_names: Vec<&Located<String>> =
        t.places.iter().filter_map(|x| x.name.as_ref()).collect();
    ok &= check_unique(r, &place_names, "place", "give each place its own name");
    let mut share_sum = 0.0;
    for p in &t.places {
        let mut rtt = vec![None; nregions];
        for (region, d) in &p.latency {
            match find(&region_names, &region.value) {
                Some(reg) => rtt[reg] = Some(d.value),
                None => {
                    unknown(r, region, "region", &region_names);
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

    // Sizes and prices.
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
    let sizes = if sizes.len() == cx.classes {
        sizes
    } else {
        vec![TransferSizes::default(); cx.classes]
    };
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
    for cloud in &clouds {
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
    let mut check = RegionHealthCheck::default();
    if let Some(i) = &d.interval {
        if i.value.is_zero() {
            r.error(
                i,
                "the health-check interval must be longer than 0s",
                Some("Route 53 uses 30s, or 10s for fast checks".into()),
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
    let mut found: Vec<(String, super::diagnostics::ByteSpan, &str)> = Vec::new();
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
