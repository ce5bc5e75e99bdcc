//! Stage two of the topology keys: names resolved, every region a DNS answers with given a
//! target group on each route and a round trip from each place, outages placed, prices
//! defaulted; the typed [`Topology`]. This file checks the regions and where pools and groups
//! are, and calls the others.

use super::dns::validate_dns;
use super::lookup::{find, unknown};
use super::outages::{validate_outages, Places};
use super::places::{class_sizes, validate_places, validate_prices};
use super::read::{RawRegion, RawTopology};
use super::routes::{route_groups, Routes};
use crate::model::balancer::routing::{RouteSpec, TargetGroupSpec};
use crate::model::topology::{DnsSpec, Region, Topology, MAX_USERS_WITH_TOPOLOGY};
use crate::scenario::balancer::routing::{RawRoute, RawTargetGroup};
use crate::scenario::classes::read::RawClass;
use crate::scenario::diagnostics::ByteSpan;
use crate::scenario::fleet::pool::RawPool;
use crate::scenario::reader::{check_unique, Located, Reader};
use crate::time::SimDuration;

/// The pieces of the scenario the topology refers to: tables as read, and what stage two has
/// made of them.
pub struct Context<'a> {
    pub pools: &'a [RawPool],
    pub raw_groups: &'a [RawTargetGroup],
    pub raw_routes: &'a [RawRoute],
    pub raw_classes: &'a [RawClass],
    /// `[traffic] users`, if written.
    pub users_at: Option<&'a Located<u64>>,
    pub groups: &'a [TargetGroupSpec],
    pub routes: &'a [RouteSpec],
    pub classes: usize,
    pub users: u64,
    pub duration: Option<SimDuration>,
}

/// Checks the topology keys; `Some(None)` for a scenario without regions, `None` if anything
/// is wrong (every problem reported).
pub fn validate(r: &mut Reader<'_>, t: &RawTopology, cx: &Context<'_>) -> Option<Option<Topology>> {
    if t.regions.is_empty() {
        return no_regions(r, t, cx);
    }
    let region_names: Vec<&str> = t
        .regions
        .iter()
        .map(|x| x.name.as_ref().map_or("", |n| n.value.as_str()))
        .collect();
    let (clouds, regions) = regions(r, &t.regions)?;
    let pool_region = pool_regions(r, cx.pools, &regions, &region_names)?;
    let group_region = group_regions(r, cx, &pool_region, &region_names)?;
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
    let routes = Routes {
        groups: cx.groups,
        routes: cx.routes,
        raw_routes: cx.raw_routes,
        group_region: &group_region,
        region_names: &region_names,
        raw_dns: t.dns.as_ref(),
    };
    let (route_groups, mut ok) = route_groups(r, &routes, &dns);
    let places = validate_places(r, t, &region_names, &dns);
    ok &= places.is_some();
    let at = Places {
        regions: &regions,
        region_names: &region_names,
        clouds: &clouds,
        pools: cx.pools,
        pool_region: &pool_region,
    };
    let (outages, outages_ok) = validate_outages(r, &t.outages, &at, cx.duration);
    ok &= outages_ok;
    let sizes = class_sizes(cx.raw_classes, cx.classes);
    let prices = validate_prices(r, t, &clouds);
    ok &= prices.is_some();
    if cx.users > MAX_USERS_WITH_TOPOLOGY {
        if let Some(u) = cx.users_at {
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

/// The clouds (in order of first mention) and the regions; `None` if a name is missing or
/// used twice (reported).
fn regions(r: &mut Reader<'_>, raw: &[RawRegion]) -> Option<(Vec<String>, Vec<Region>)> {
    let names: Vec<&Located<String>> = raw.iter().filter_map(|x| x.name.as_ref()).collect();
    let mut ok = check_unique(r, &names, "region", "give each region its own name");
    let mut clouds: Vec<String> = Vec::new();
    let mut regions = Vec::new();
    for x in raw {
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
    ok.then_some((clouds, regions))
}

/// Each pool's region (by default the only region) and zone; `None` if one is unknown or
/// missing (reported).
fn pool_regions(
    r: &mut Reader<'_>,
    pools: &[RawPool],
    regions: &[Region],
    region_names: &[&str],
) -> Option<Vec<(usize, Option<usize>)>> {
    let mut ok = true;
    let mut pool_region = Vec::new();
    for p in pools {
        let region = match &p.region {
            Some(at) => find(region_names, &at.value).or_else(|| {
                unknown(r, at, "region", region_names);
                None
            }),
            None if regions.len() == 1 => Some(0),
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
            (Some(z), Some(reg)) => zone_of(r, z, &regions[reg]).map(Some),
            (None, _) => Some(None),
            (Some(_), None) => None,
        };
        match (region, zone) {
            (Some(reg), Some(z)) => pool_region.push((reg, z)),
            _ => ok = false,
        }
    }
    ok.then_some(pool_region)
}

/// The zone `z` of `region`; `None` if it has none of that name (reported).
fn zone_of(r: &mut Reader<'_>, z: &Located<String>, region: &Region) -> Option<usize> {
    let zones: Vec<&str> = region.zones.iter().map(String::as_str).collect();
    let found = find(&zones, &z.value);
    if found.is_none() {
        let known = if zones.is_empty() {
            format!(
                "region \"{}\" lists no zones: add zones = [...] to it",
                region.name
            )
        } else {
            format!("use one of: {}", zones.join(", "))
        };
        r.error(
            z,
            format!("region \"{}\" has no zone \"{}\"", region.name, z.value),
            Some(known),
        );
    }
    found
}

/// Each target group's region: its own `region`, or that of its pools; `None` if one is
/// unknown, or its pools are in several regions (reported).
fn group_regions(
    r: &mut Reader<'_>,
    cx: &Context<'_>,
    pool_region: &[(usize, Option<usize>)],
    region_names: &[&str],
) -> Option<Vec<usize>> {
    let mut ok = true;
    let mut group_region = Vec::new();
    for spec in cx.groups {
        let raw_group = cx
            .raw_groups
            .iter()
            .find(|x| x.name.as_ref().is_some_and(|n| n.value == spec.name));
        let given = raw_group.and_then(|x| x.region.as_ref());
        let from_pools: Vec<usize> = spec.pools.iter().map(|&p| pool_region[p].0).collect();
        let region = match given {
            Some(at) => find(region_names, &at.value).or_else(|| {
                unknown(r, at, "region", region_names);
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
    ok.then_some(group_region)
}

/// A scenario without `[[region]]`: every topology key is an error.
fn no_regions(r: &mut Reader<'_>, t: &RawTopology, cx: &Context<'_>) -> Option<Option<Topology>> {
    let help = Some("add [[region]] tables (name, cloud) first".to_string());
    let mut found: Vec<(String, ByteSpan, &str)> = Vec::new();
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
    for p in cx.pools {
        for x in [&p.region, &p.zone].into_iter().flatten() {
            found.push((x.path.clone(), x.span, "a pool's region or zone"));
        }
    }
    for g in cx.raw_groups {
        if let Some(x) = &g.region {
            found.push((x.path.clone(), x.span, "a target group's region"));
        }
    }
    for x in cx.raw_routes {
        if let Some(g) = x.more_groups.first() {
            found.push((g.path.clone(), g.span, "a route to several target groups"));
        }
    }
    for c in cx.raw_classes {
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
