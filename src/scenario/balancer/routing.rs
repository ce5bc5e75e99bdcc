//! `[[target_group]]` and `[[route]]`: pools behind one balancer each, and path prefixes to
//! them. Stage one reads the tables; stage two ([`Routing::validate`]) resolves the names and
//! builds the groups and routes, making a group and a route of a pool alone for each class or
//! route that names the pool directly.

use super::algorithm::{check_settings_owner, Balancers};
use super::keys::{read_balancer_keys, RawBalancer};
use crate::model::balancer::routing::{RouteSpec, TargetGroupSpec, DEFAULT_CONNECT_TIMEOUT};
use crate::model::fleet::Dispatch;
use crate::scenario::diagnostics::list;
use crate::scenario::fleet::refs::{pool_names, PoolRef};
use crate::scenario::reader::keys::{Duration, Key, Name, Nested, Text};
use crate::scenario::reader::{
    check_unique, find, positive_duration, unknown_reference, Located, Names, Node, Reader,
};
use crate::scenario::topology::read::read_names;
use crate::time::SimDuration;

/// A `[[target_group]]` table: pools behind one balancer.
pub struct RawTargetGroup {
    pub name: Option<Located<String>>,
    pub pools: Vec<Located<String>>,
    pub pools_at: Option<Located<()>>,
    pub balancer: RawBalancer,
    pub region: Option<Located<String>>,
}

/// A `[[route]]` table: a path prefix and where it goes.
pub struct RawRoute {
    pub path: Option<Located<String>>,
    pub target_group: Option<Located<String>>,
    /// The target groups after the first, in other regions (`target_group = ["a", "b"]`).
    pub more_groups: Vec<Located<String>>,
    pub pool: Option<Located<String>>,
    pub connect_timeout: Option<Located<SimDuration>>,
    pub read_timeout: Option<Located<SimDuration>>,
    pub at: Located<()>,
}

const GROUP_NAME: Key<Name> = Key::required(
    "name",
    Name,
    "name the target group, such as name = \"gpu\"",
);
const GROUP_POOLS: Key<Nested> = Key::required(
    "pools",
    Nested,
    "list the pools whose instances it balances, such as pools = [\"a100\", \"t4\"]",
);
const GROUP_REGION: Key<Text> = Key::optional("region", Text);

/// Reads a `[[target_group]]` table: its name, pools and region, and its balancer keys.
pub fn read_target_group(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<RawTargetGroup> {
    let mut f = r.table(node, "a target group table")?;
    let name = f.read(r, &GROUP_NAME);
    let mut pools = Vec::new();
    let pools_node = f.node(r, &GROUP_POOLS);
    let pools_at = pools_node.as_ref().map(Node::at);
    if let Some(n) = pools_node {
        if let Some(items) = r.array(&n, "an array of pool names, such as [\"a100\", \"t4\"]") {
            pools = items.iter().filter_map(|i| r.string(i)).collect();
        }
    }
    let balancer = read_balancer_keys(r, &mut f);
    let region = f.read(r, &GROUP_REGION);
    f.finish(r);
    Some(RawTargetGroup {
        name,
        pools,
        pools_at,
        balancer,
        region,
    })
}

const ROUTE_TARGET_GROUP: Key<Nested> = Key::optional("target_group", Nested);
const ROUTE_PATH: Key<Text> = Key::required(
    "path",
    Text,
    "give the path prefix, such as path = \"/predict\"",
);
const ROUTE_POOL: Key<Text> = Key::optional("pool", Text);
const CONNECT_TIMEOUT: Key<Duration> = Key::optional("connect_timeout", Duration);
const READ_TIMEOUT: Key<Duration> = Key::optional("read_timeout", Duration);

/// Reads a `[[route]]` table.
pub fn read_route(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<RawRoute> {
    let at = node.at();
    let mut f = r.table(node, "a route table")?;
    let groups = f
        .node(r, &ROUTE_TARGET_GROUP)
        .map(|n| read_names(r, &n))
        .unwrap_or_default();
    let route = RawRoute {
        path: f.read(r, &ROUTE_PATH),
        target_group: groups.first().cloned(),
        more_groups: groups.get(1..).map(<[_]>::to_vec).unwrap_or_default(),
        pool: f.read(r, &ROUTE_POOL),
        connect_timeout: f.read(r, &CONNECT_TIMEOUT),
        read_timeout: f.read(r, &READ_TIMEOUT),
        at,
    };
    f.finish(r);
    Some(route)
}

/// The routes and target groups built so far. Classes that name a pool directly get a route and
/// a group of that pool alone, made on first use.
pub struct Routing<'a> {
    /// The balancers of the groups, with the `[balancer]` defaults.
    balancers: Balancers<'a>,
    /// The target groups: those of the file, then those of pools named directly.
    pub groups: Vec<TargetGroupSpec>,
    /// The routes: those of the file, then those of pools named directly.
    pub routes: Vec<RouteSpec>,
    /// The path prefix of each explicit route, and that route's index.
    pub prefixes: Vec<(String, usize)>,
    /// The route made for each pool named by a class, by pool index.
    pool_routes: Vec<Option<usize>>,
    /// The group made for each pool named by a class or route, by pool index.
    pool_groups: Vec<Option<usize>>,
    ok: bool,
}

impl<'a> Routing<'a> {
    /// The target groups and routes of the file, each resolved against `pools`; `None` if any
    /// is wrong (every problem reported).
    pub fn validate(
        r: &mut Reader<'_>,
        defaults: Option<&'a RawBalancer>,
        groups: &[RawTargetGroup],
        routes: &[RawRoute],
        pools: &[PoolRef],
    ) -> Option<Self> {
        let mut routing = Routing {
            balancers: Balancers::new(defaults),
            groups: Vec::new(),
            routes: Vec::new(),
            prefixes: Vec::new(),
            pool_routes: vec![None; pools.len()],
            pool_groups: vec![None; pools.len()],
            ok: true,
        };
        if let Some(base) = defaults {
            // The defaults' own settings must belong to the defaults' algorithm.
            let name = base.algorithm.as_ref().map_or("round_robin", |a| a.value);
            routing.ok &= check_settings_owner(r, base, name);
        }
        let pool_names = pool_names(pools);
        let names: Vec<&Located<String>> = groups.iter().filter_map(|g| g.name.as_ref()).collect();
        routing.ok &= check_unique(
            r,
            &names,
            "target group",
            "give each target group its own name",
        );
        for g in groups {
            let group = routing.explicit_group(r, g, pools, &pool_names);
            routing.ok &= group.is_some();
            if let Some(group) = group {
                routing.groups.push(group);
            }
        }
        let group_names: Names<'_> = groups
            .iter()
            .filter_map(|g| g.name.as_ref().map(|n| n.value.as_str()))
            .collect();
        let paths: Vec<&Located<String>> = routes.iter().filter_map(|x| x.path.as_ref()).collect();
        routing.ok &= check_unique(
            r,
            &paths,
            "route path",
            "a path prefix goes to one place: remove one of these routes, or change its path",
        );
        let names = (&group_names, &pool_names);
        for route in routes {
            routing.explicit_route(r, route, names, pools);
        }
        routing.ok.then_some(routing)
    }

    /// A `[[route]]`: its target, path and timeouts.
    fn explicit_route(
        &mut self,
        r: &mut Reader<'_>,
        route: &RawRoute,
        names: (&Names<'_>, &Names<'_>),
        pools: &[PoolRef],
    ) {
        let target = self.route_target(r, route, names, pools);
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
                self.prefixes.push((path.value.clone(), self.routes.len()));
                self.routes.push(RouteSpec {
                    name: path.value.clone(),
                    target_group,
                    connect_timeout: connect.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
                    read_timeout: read,
                });
            }
            _ => self.ok = false,
        }
    }

    /// The group a route goes to: its target group (of `group_names`), or the group of its
    /// pool (of `pool_names`) alone.
    fn route_target(
        &mut self,
        r: &mut Reader<'_>,
        route: &RawRoute,
        (group_names, pool_names): (&Names<'_>, &Names<'_>),
        pools: &[PoolRef],
    ) -> Option<usize> {
        match (&route.target_group, &route.pool) {
            (Some(g), None) => {
                let found = find(group_names, &g.value);
                if found.is_none() {
                    unknown_reference(r, g, "target group", group_names);
                }
                found
            }
            (None, Some(p)) => match find(pool_names, &p.value) {
                Some(pool) => self.pool_group(r, pool, pools),
                None => {
                    unknown_reference(r, p, "pool", pool_names);
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
                    format!("target_group = one of {}, or ", list(group_names))
                };
                r.error(
                    &route.at,
                    "this route does not say where it goes",
                    Some(format!("add {groups}pool = one of {}", list(pool_names))),
                );
                None
            }
        }
    }

    /// A `[[target_group]]`: its pools and its balancer (its own keys over the defaults).
    fn explicit_group(
        &mut self,
        r: &mut Reader<'_>,
        g: &RawTargetGroup,
        pools: &[PoolRef],
        pool_names: &Names<'_>,
    ) -> Option<TargetGroupSpec> {
        let (members, mut ok) = members(r, g, pool_names);
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
        let defaults = self.balancers.defaults;
        let (base, owner) = match own_name {
            // A group with its own algorithm takes that algorithm's settings from its own table.
            Some(own) => (None, own),
            None => (
                defaults,
                defaults
                    .and_then(|b| b.algorithm.as_ref())
                    .map_or("round_robin", |a| a.value),
            ),
        };
        ok &= check_settings_owner(r, &g.balancer, owner);
        let balancer =
            self.balancers
                .of_group(r, Some(&g.balancer), base, &name, targets, shared > 0)?;
        ok.then_some(TargetGroupSpec {
            name,
            pools: members,
            balancer,
        })
    }

    /// The target group of pool `pool` alone, for a class or route that names the pool; made
    /// on first use, named after the pool, with the `[balancer]` defaults.
    pub fn pool_group(
        &mut self,
        r: &mut Reader<'_>,
        pool: usize,
        pools: &[PoolRef],
    ) -> Option<usize> {
        if let Some(group) = self.pool_groups[pool] {
            return Some(group);
        }
        let spec = &pools[pool];
        let defaults = self.balancers.defaults;
        let balancer = self.balancers.of_group(
            r,
            None,
            defaults,
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
    pub fn pool_route(
        &mut self,
        r: &mut Reader<'_>,
        pool: usize,
        pools: &[PoolRef],
    ) -> Option<usize> {
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
}

/// The member pools of target group `g` (of `pool_names`), and false if one is unknown or
/// listed twice, or there is none (each reported).
fn members(r: &mut Reader<'_>, g: &RawTargetGroup, pool_names: &Names<'_>) -> (Vec<usize>, bool) {
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
    (members, ok)
}
