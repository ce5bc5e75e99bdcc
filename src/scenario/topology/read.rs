//! Stage one of the topology keys: `[[region]]`, `[[place]]`, `[dns]`, `[[outage]]` and
//! `[data_transfer]` read into raw shapes.

use crate::scenario::reader::keys::{Duration, Key, Name, Nested, OneOf, Positive, Text};
use crate::scenario::reader::{read_array, Fields, Located, Node, Reader};
use crate::time::SimDuration;

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
        regions: read_array(r, f, "region", read_region),
        places: read_array(r, f, "place", read_place),
        dns: f.get("dns").and_then(|n| read_dns(r, n)),
        outages: read_array(r, f, "outage", read_outage),
        data_transfer: f.get("data_transfer").and_then(|n| {
            let at = n.at();
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
                                r.positive(&v, false)
                                    .and_then(|p| {
                                        r.at_most_money(
                                            p,
                                            crate::model::market::MAX_USD_PER_GB,
                                            "/GB",
                                        )
                                    })
                                    .map(|p| (key, p))
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
pub fn read_names(r: &mut Reader<'_>, node: &Node<'_, '_>) -> Vec<Located<String>> {
    if node.is_array() {
        r.array(node, "an array of names")
            .map(|items| items.iter().filter_map(|i| r.string(i)).collect())
            .unwrap_or_default()
    } else {
        r.string(node).into_iter().collect()
    }
}

/// `[[region]]`'s keys.
const REGION_NAME: Key<Name> =
    Key::required("name", Name, "name the region, such as name = \"aws-use1\"");
const REGION_CLOUD: Key<Name> = Key::required(
    "cloud",
    Name,
    "say which cloud it is in, such as cloud = \"aws\"",
);

/// `[[place]]`'s keys.
const PLACE_NAME: Key<Name> =
    Key::required("name", Name, "name the place, such as name = \"us-east\"");
const PLACE_SHARE: Key<Positive> = Key::required(
    "share",
    Positive,
    "give the place's share of users, such as share = 0.6",
);
const PLACE_LATENCY: Key<Nested> = Key::required(
    "latency",
    Nested,
    "give the round trip to each region, such as latency = { \"aws-use1\" = \"12ms\" }",
);

/// `[dns]`'s keys.
const DNS_POLICY: Key<OneOf> = Key::required(
    "policy",
    OneOf(POLICIES),
    "choose failover, weighted, latency or anycast, such as policy = \"failover\"",
);
const DNS_REGIONS: Key<Nested> = Key::required(
    "regions",
    Nested,
    "list the regions the DNS answers with, such as regions = [\"aws-use1\", \"gcp-usc1\"]",
);
const DNS_TTL: Key<Duration> = Key::optional("ttl", Duration);
const DNS_CONVERGENCE: Key<Duration> = Key::optional("convergence", Duration);

/// `[[outage]]`'s keys.
const OUTAGE_SCOPE: Key<OneOf> = Key::required(
    "scope",
    OneOf(SCOPES),
    "choose zone, region or cloud, such as scope = \"region\"",
);
const OUTAGE_NAME: Key<Text> = Key::required(
    "name",
    Text,
    "name what goes down: a region (\"aws-use1\"), a zone (\"aws-use1/a\") or a cloud (\"aws\")",
);
const OUTAGE_AT: Key<Duration> = Key::required(
    "at",
    Duration,
    "say when it goes down, such as at = \"20m\"",
);
const OUTAGE_DURATION: Key<Duration> = Key::optional("duration", Duration);

fn read_region(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<RawRegion> {
    let mut f = r.table(node, "a region table")?;
    let name = f.read(r, &REGION_NAME);
    let cloud = f.read(r, &REGION_CLOUD);
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

fn read_place(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<RawPlace> {
    let at = node.at();
    let mut f = r.table(node, "a place table")?;
    let name = f.read(r, &PLACE_NAME);
    let share = f.read(r, &PLACE_SHARE);
    let latency = f
        .node(r, &PLACE_LATENCY)
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

fn read_dns(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<RawDns> {
    let at = node.at();
    let mut f = r.table(node, "a table such as [dns] policy = \"failover\"")?;
    let policy = f.read(r, &DNS_POLICY);
    let regions_node = f.node(r, &DNS_REGIONS);
    let regions_at = regions_node.as_ref().map(Node::at);
    let regions = regions_node
        .and_then(|n| {
            r.array(&n, "an array of region names")
                .map(|items| items.iter().filter_map(|i| r.string(i)).collect())
        })
        .unwrap_or_default();
    let weights_node = f.get("weights");
    let weights_at = weights_node.as_ref().map(Node::at);
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
    let ttl = f.read(r, &DNS_TTL);
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
    let convergence = f.read(r, &DNS_CONVERGENCE);
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

fn read_outage(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<RawOutage> {
    let mut f = r.table(node, "an outage table")?;
    let o = RawOutage {
        scope: f.read(r, &OUTAGE_SCOPE),
        name: f.read(r, &OUTAGE_NAME),
        at: f.read(r, &OUTAGE_AT),
        duration: f.read(r, &OUTAGE_DURATION),
    };
    f.finish(r);
    Some(o)
}
