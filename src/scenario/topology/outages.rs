//! Stage two of `[[outage]]`: a zone, region or cloud going down at a time, for a while or until
//! the end; never a pool behind a shared queue.

use super::lookup::{find, unknown};
use super::read::RawOutage;
use crate::model::topology::{OutageScope, OutageSpec, Region};
use crate::scenario::fleet::pool::RawPool;
use crate::scenario::reader::{Located, Reader};
use crate::time::{SimDuration, SimTime};

/// What outages are checked against: the regions (with their names) and clouds, and the pools
/// with the region and zone of each.
pub struct Places<'a> {
    pub regions: &'a [Region],
    pub region_names: &'a [&'a str],
    pub clouds: &'a [String],
    pub pools: &'a [RawPool],
    pub pool_region: &'a [(usize, Option<usize>)],
}

/// The outages, each inside the run (of `duration`) and sparing shared-queue pools; and false
/// if one is wrong (reported).
pub fn validate_outages(
    r: &mut Reader<'_>,
    outages: &[RawOutage],
    at: &Places<'_>,
    duration: Option<SimDuration>,
) -> (Vec<OutageSpec>, bool) {
    let mut out = Vec::new();
    let mut ok = true;
    for o in outages {
        let Some(x) = validate_outage(r, o, at, duration) else {
            ok = false;
            continue;
        };
        // As faults: a crashed host is modelled behind a balancer, which stops sending to it;
        // a shared queue's workers would need their own model of dying.
        let shared = at
            .pools
            .iter()
            .zip(at.pool_region)
            .find(|(p, &(reg, zone))| {
                let queue = p.queue.is_some()
                    || p.dispatch
                        .as_ref()
                        .is_some_and(|d| d.value == "shared_queue");
                queue && x.covers_pool(at.regions, reg, zone)
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
            out.push(x);
        }
    }
    (out, ok)
}

/// One outage: what goes down, when, and for how long.
fn validate_outage(
    r: &mut Reader<'_>,
    o: &RawOutage,
    at_places: &Places<'_>,
    duration: Option<SimDuration>,
) -> Option<OutageSpec> {
    let (scope_at, name) = (o.scope.as_ref()?, o.name.as_ref()?);
    let scope = scope_of(r, scope_at.value, name, at_places)?;
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

/// The zone (`region/zone`), region or cloud `name` of a `scope`: `Some(None)` if unknown
/// (reported), and `None` for a zone not written `region/zone` (reported), which ends the
/// outage's checks.
fn scope_of(
    r: &mut Reader<'_>,
    scope: &str,
    name: &Located<String>,
    at: &Places<'_>,
) -> Option<Option<OutageScope>> {
    Some(match scope {
        "region" => find(at.region_names, &name.value)
            .map(OutageScope::Region)
            .or_else(|| {
                unknown(r, name, "region", at.region_names);
                None
            }),
        "cloud" => match at.clouds.iter().position(|c| *c == name.value) {
            Some(c) => Some(OutageScope::Cloud(c)),
            None => {
                let known: Vec<&str> = at.clouds.iter().map(String::as_str).collect();
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
            let reg = find(at.region_names, region);
            let z = reg.and_then(|reg| at.regions[reg].zones.iter().position(|x| x == zone));
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
    })
}
