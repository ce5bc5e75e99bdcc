//! Stage two: what spans several fields — references between tables, shares, bounds — and the
//! typed [`Scenario`] with every default filled in.

use std::path::Path;

use super::raw::{RawBalancer, RawClass, RawScenario};
use super::reader::{Located, Reader};
use super::{RequestClass, Scenario};
use crate::engine::SimDuration;
use crate::model::balancer::Algorithm;
use crate::model::fleet::{Dispatch, InstanceType, OnTimeout, PoolSpec, ServiceTime};
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
        Some(w) => Some(w.value),
        None => Some(SimDuration::from_secs(10)),
    };
    let on_timeout = match raw.on_timeout.as_ref().map(|o| o.value) {
        Some("cancel") => OnTimeout::Cancel,
        _ => OnTimeout::KeepServing,
    };

    let instance_types = validate_instance_types(r, &raw);
    let pools = validate_pools(r, &raw, instance_types.as_deref());
    let classes = validate_classes(r, &raw, instance_types.as_deref(), pools.as_deref());
    let balancer = raw
        .balancer
        .as_ref()
        .map_or(Some(Algorithm::RoundRobin), |b| {
            validate_balancer(r, b, pools.as_deref())
        });
    let population = validate_population(r, &raw);

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
        arrival_process: match raw.arrival_process.map(|p| p.value) {
            Some("periodic") => ArrivalProcess::Periodic,
            _ => ArrivalProcess::Poisson,
        },
        classes: classes?,
        instance_types: instance_types?,
        pools: pools?,
        balancer: balancer?,
        population: population?,
    })
}

/// The algorithm and its settings; a setting of another algorithm is an error, not ignored.
fn validate_balancer(
    r: &mut Reader<'_>,
    raw: &RawBalancer,
    pools: Option<&[PoolSpec]>,
) -> Option<Algorithm> {
    let mut algorithm = Algorithm::from_name(raw.algorithm.as_ref()?.value)?;
    let name = algorithm.name();
    // A setting of another algorithm is an error, not silently ignored.
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
    match &mut algorithm {
        Algorithm::PowerOfTwoChoices {
            choice_count,
            active_request_bias,
        } => {
            if let Some(c) = &raw.choice_count {
                *choice_count = c.value as u32;
            }
            *active_request_bias = raw.active_request_bias.as_ref().map(|b| b.value);
        }
        Algorithm::LeastResponseTime { decay } => {
            if let Some(d) = &raw.decay {
                if d.value.is_zero() {
                    r.error(
                        d,
                        "the decay time must be longer than 0s",
                        Some("such as decay = \"10s\" (Finagle's default)".into()),
                    );
                    ok = false;
                }
                *decay = d.value;
            }
        }
        Algorithm::ConsistentHash { table_size } => {
            let largest = pools.map_or(0, |p| {
                p.iter()
                    .filter(|p| p.dispatch == Dispatch::Balancer)
                    .map(|p| u64::from(p.instances))
                    .max()
                    .unwrap_or(0)
            });
            // The default table too must hold every target (Maglev needs M ≥ n).
            let (value, at) = match &raw.table_size {
                Some(t) => (t.value, unit(t)),
                None => (u64::from(*table_size), unit(raw.algorithm.as_ref()?)),
            };
            if !is_prime(value) || value < largest.max(2) {
                r.error(
                    &at,
                    format!(
                        "the Maglev table size must be a prime at least the number of \
                         targets ({largest}), found {value}"
                    ),
                    Some(
                        "set table_size to a prime such as 65537 (Envoy's default) or 1000003"
                            .into(),
                    ),
                );
                ok = false;
            }
            *table_size = value as u32;
        }
        _ => {}
    }
    ok.then_some(algorithm)
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
    n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0)
}

/// The user population; no more networks than users.
fn validate_population(r: &mut Reader<'_>, raw: &RawScenario) -> Option<Population> {
    let users = raw
        .users
        .as_ref()
        .map_or(Population::default().users, |u| u.value);
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

/// Reports a name used twice among `names`.
fn check_unique(r: &mut Reader<'_>, names: &[&Located<String>], what: &str) -> bool {
    let mut ok = true;
    for (i, n) in names.iter().enumerate() {
        if names[..i].iter().any(|m| m.value == n.value) {
            r.error(
                *n,
                format!("{what} \"{}\" is defined twice", n.value),
                Some(format!("give each {what} its own name")),
            );
            ok = false;
        }
    }
    ok
}

fn validate_instance_types(r: &mut Reader<'_>, raw: &RawScenario) -> Option<Vec<InstanceType>> {
    if raw.instance_types.is_empty() {
        r.error_at(
            "instance_type",
            None,
            "no instance types",
            Some(
                "add one: [[instance_type]] name = \"a100\" concurrency = 4 price = \"$4.10/h\""
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
    let unique = check_unique(r, &names, "instance type");
    let types: Option<Vec<InstanceType>> = raw
        .instance_types
        .iter()
        .map(|t| {
            Some(InstanceType {
                name: t.name.as_ref()?.value.clone(),
                concurrency: t.concurrency.as_ref()?.value as u32,
                speed: t.speed.as_ref().map_or(1.0, |s| s.value),
                price_per_hour: t.price_per_hour.as_ref()?.value,
                weight: t.weight.as_ref().map_or(1, |w| w.value as u32),
            })
        })
        .collect();
    types.filter(|_| unique)
}

fn find(names: &[&str], wanted: &str) -> Option<usize> {
    names.iter().position(|n| *n == wanted)
}

fn unknown_reference(r: &mut Reader<'_>, at: &Located<String>, what: &str, known: &[&str]) {
    r.error(
        at,
        format!("there is no {what} named \"{}\"", at.value),
        Some(format!("use one of: {}", known.join(", "))),
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
    let unique = check_unique(r, &names, "pool");
    let type_names: Vec<&str> = raw
        .instance_types
        .iter()
        .filter_map(|t| t.name.as_ref().map(|n| n.value.as_str()))
        .collect();
    let mut pools = Vec::new();
    let mut ok = unique;
    for p in &raw.pools {
        let instance_type = p.instance_type.as_ref().and_then(|t| {
            let found = find(&type_names, &t.value);
            if found.is_none() {
                unknown_reference(r, t, "instance type", &type_names);
            }
            found
        });
        let dispatch = match p.dispatch.as_ref().map(|d| d.value) {
            Some("shared_queue") => Dispatch::SharedQueue,
            _ => Dispatch::Balancer,
        };
        match (&p.name, instance_type, &p.instances) {
            (Some(name), Some(instance_type), Some(instances)) => pools.push(PoolSpec {
                name: name.value.clone(),
                instance_type,
                instances: instances.value as u32,
                dispatch,
                queue_capacity: p.queue_capacity.as_ref().map(|q| q.value as u32),
                weight: p.weight.as_ref().map_or_else(
                    || types.map_or(1, |t| t[instance_type].weight),
                    |w| w.value as u32,
                ),
            }),
            _ => ok = false,
        }
    }
    (ok && types.is_some()).then_some(pools)
}

fn validate_classes(
    r: &mut Reader<'_>,
    raw: &RawScenario,
    types: Option<&[InstanceType]>,
    pools: Option<&[PoolSpec]>,
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
    let mut ok = check_unique(r, &names, "class");
    ok &= check_shares(r, &raw.classes);
    let pool_names: Vec<&str> = raw
        .pools
        .iter()
        .filter_map(|p| p.name.as_ref().map(|n| n.value.as_str()))
        .collect();
    let type_names: Vec<&str> = raw
        .instance_types
        .iter()
        .filter_map(|t| t.name.as_ref().map(|n| n.value.as_str()))
        .collect();
    let mut classes = Vec::new();
    for c in &raw.classes {
        let pool = match &c.pool {
            Some(p) => {
                let found = find(&pool_names, &p.value);
                if found.is_none() {
                    unknown_reference(r, p, "pool", &pool_names);
                }
                found
            }
            None if raw.pools.len() == 1 => Some(0),
            None => {
                r.error(
                    &c.at,
                    "this class does not say which pool serves it",
                    Some(format!(
                        "add pool = \"...\", one of: {}",
                        pool_names.join(", ")
                    )),
                );
                None
            }
        };
        for (key, _) in &c.service_by_type {
            if find(&type_names, &key.value).is_none() {
                unknown_reference(r, key, "instance type", &type_names);
                ok = false;
            }
        }
        let (Some(name), Some(pool), Some(service), Some(types)) =
            (&c.name, pool, &c.service, types)
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
            pool,
            service_by_type,
        });
    }
    (ok && pools.is_some()).then_some(classes)
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
