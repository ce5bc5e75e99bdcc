//! Which target group serves each route in each region the DNS answers with: the route's
//! `target_group` list, one group per region.

use super::lookup::{find, unknown};
use super::read::RawDns;
use crate::model::balancer::routing::{RouteSpec, TargetGroupSpec};
use crate::model::topology::DnsSpec;
use crate::scenario::balancer::routing::RawRoute;
use crate::scenario::reader::{Located, Reader};

/// What the routes' groups are found in.
pub struct Routes<'a> {
    /// The validated groups and routes.
    pub groups: &'a [TargetGroupSpec],
    pub routes: &'a [RouteSpec],
    /// The `[[route]]` tables, in the order of the first routes.
    pub raw_routes: &'a [RawRoute],
    /// The region of each group.
    pub group_region: &'a [usize],
    pub region_names: &'a [&'a str],
    /// The `[dns]` table, if any (where a default route's problem points).
    pub raw_dns: Option<&'a RawDns>,
}

/// The group of each route in each DNS region (`route × region`, `usize::MAX` for none), and
/// false if a route has two groups in a region, a group outside the DNS regions, or no group
/// in one (each reported).
pub fn route_groups(r: &mut Reader<'_>, at: &Routes<'_>, dns: &DnsSpec) -> (Vec<usize>, bool) {
    let nd = dns.regions.len();
    let mut route_groups = vec![usize::MAX; at.routes.len() * nd];
    let mut ok = true;
    let group_names: Vec<&str> = at.groups.iter().map(|g| g.name.as_str()).collect();
    for (ri, route) in at.routes.iter().enumerate() {
        let raw_route = at
            .raw_routes
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
        let row = &mut route_groups[ri * nd..(ri + 1) * nd];
        let route_at = raw_route.map(|x| x.at.clone());
        ok &= place_groups(r, at, dns, route, &groups, row, route_at.as_ref());
        ok &= every_region_served(r, at, dns, route, groups.len(), row, route_at);
    }
    (route_groups, ok)
}

/// Puts each of the route's `groups` in its DNS region's place of `row`; false if two share a
/// region, or (with several groups) one is outside the DNS regions (reported at `route_at`).
fn place_groups(
    r: &mut Reader<'_>,
    at: &Routes<'_>,
    dns: &DnsSpec,
    route: &RouteSpec,
    groups: &[usize],
    row: &mut [usize],
    route_at: Option<&Located<()>>,
) -> bool {
    let mut ok = true;
    for &g in groups {
        let region = at.region_names[at.group_region[g]];
        match dns
            .regions
            .iter()
            .position(|&reg| reg == at.group_region[g])
        {
            Some(k) if row[k] != usize::MAX => {
                if let Some(route_at) = route_at {
                    r.error(
                        route_at,
                        format!(
                            "route \"{}\" lists two target groups in region \"{region}\"",
                            route.name
                        ),
                        Some("list one target group per region".into()),
                    );
                }
                ok = false;
            }
            Some(k) => row[k] = g,
            // A group outside the DNS regions can never be reached: tell.
            None if groups.len() > 1 => {
                if let Some(route_at) = route_at {
                    r.error(
                        route_at,
                        format!(
                            "target group \"{}\" of route \"{}\" is in region \"{region}\", which the DNS never answers with",
                            at.groups[g].name, route.name
                        ),
                        Some("add the region to [dns] regions, or remove the group".into()),
                    );
                }
                ok = false;
            }
            None => {}
        }
    }
    ok
}

/// False if a DNS region has no group in `row` (reported at `route_at`, or at `[dns]` for a
/// route made for a pool); one group with one DNS region serves whatever region it is in.
fn every_region_served(
    r: &mut Reader<'_>,
    at: &Routes<'_>,
    dns: &DnsSpec,
    route: &RouteSpec,
    groups: usize,
    row: &mut [usize],
    route_at: Option<Located<()>>,
) -> bool {
    let mut ok = true;
    let nd = dns.regions.len();
    for (k, &reg) in dns.regions.iter().enumerate() {
        if row[k] != usize::MAX {
            continue;
        }
        if groups == 1 && nd == 1 {
            row[k] = route.target_group;
            continue;
        }
        let problem_at = route_at
            .clone()
            .or_else(|| at.raw_dns.map(|d| d.at.clone()));
        if let Some(problem_at) = problem_at {
            r.error(
                &problem_at,
                format!(
                    "route \"{}\" has no target group in region \"{}\", which the DNS answers with",
                    route.name, at.region_names[reg]
                ),
                Some("list one target group per DNS region, such as target_group = [\"gpu-aws\", \"gpu-gcp\"]".into()),
            );
        }
        ok = false;
    }
    ok
}
