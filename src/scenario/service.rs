//! Service-time distributions: `service = { distribution = "lognormal", mean = "400ms", cv = 0.5 }`
//! on a class (and in `service_by_type`), and the same tables wherever a time is drawn (startup
//! phases, think times, repairs), including the empirical distribution of observed times read
//! from a CSV column ([`super::empirical`]).
//!
//! It must not know where the distribution is used: the caller names the key.

use std::path::Path;
use std::sync::Arc;

use super::empirical;
use super::reader::keys::{Duration, Key, OneOf, Positive, Text};
use super::reader::{Fields, Located, Node, Reader};
use crate::model::distribution::ServiceTime;

const DISTRIBUTIONS: &[&str] = &[
    "constant",
    "exponential",
    "lognormal",
    "gamma",
    "uniform",
    "empirical",
];

const DISTRIBUTION: Key<OneOf> = Key::choice("distribution", DISTRIBUTIONS);
const VALUE: Key<Duration> = Key::required("value", Duration, "set value = \"200ms\"");
const EXPONENTIAL_MEAN: Key<Duration> = Key::required("mean", Duration, "set mean = \"1s\"");
const MEAN: Key<Duration> = Key::required("mean", Duration, "set mean = \"400ms\"");
const CV: Key<Positive> = Key::required(
    "cv",
    Positive,
    "set the coefficient of variation (standard deviation / mean), such as cv = 0.5",
);
const MIN: Key<Duration> = Key::required("min", Duration, "set min = \"100ms\"");
const MAX: Key<Duration> = Key::required("max", Duration, "set max = \"2s\"");
const FILE: Key<Text> = Key::required(
    "file",
    Text,
    "give the CSV file, relative to the scenario, such as file = \"data/latency.csv\"",
);
const COLUMN: Key<Text> = Key::required(
    "column",
    Text,
    "name the CSV column holding the times, such as column = \"latency_ms\"",
);
const UNIT: Key<OneOf> = Key::required(
    "unit",
    OneOf(&["ns", "us", "ms", "s"]),
    "say the unit of the values: one of ns, us, ms, s",
);

/// A service-time table (`{ distribution = "lognormal", mean = "400ms", cv = 0.6 }`).
pub fn read_service(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    base_dir: &Path,
) -> Option<ServiceTime> {
    let mut f = r.table(
        node,
        "a service time table such as { distribution = \"lognormal\", mean = \"400ms\", cv = 0.5 }",
    )?;
    let Some(kind) = f.read(r, &DISTRIBUTION) else {
        f.skip_rest();
        return None;
    };
    let secs = |d: Located<crate::time::SimDuration>| d.value.as_secs_f64();
    let service = match kind.value {
        "constant" => f.read(r, &VALUE).map(|v| ServiceTime::Constant {
            nanos: secs(v) * 1e9,
        }),
        "exponential" => f.read(r, &EXPONENTIAL_MEAN).map(secs).and_then(|m| {
            positive_mean(r, &kind, m).then_some(ServiceTime::Exponential { mean: m * 1e9 })
        }),
        "lognormal" | "gamma" => {
            let mean = f.read(r, &MEAN).map(secs);
            let cv = f.read(r, &CV);
            match (mean, cv) {
                (Some(m), Some(cv)) if positive_mean(r, &kind, m) => {
                    Some(if kind.value == "gamma" {
                        ServiceTime::gamma(m, cv.value)
                    } else {
                        ServiceTime::lognormal(m, cv.value)
                    })
                }
                _ => None,
            }
        }
        "uniform" => read_uniform(r, &mut f),
        _ => read_empirical(r, &mut f, base_dir),
    };
    f.finish(r);
    service
}

/// One phase of a lifecycle (a startup phase, a repair, a rebalance lead): `"90s"` (always
/// that long) or a service-time table.
pub fn read_phase(r: &mut Reader<'_>, node: Node<'_, '_>, base_dir: &Path) -> Option<ServiceTime> {
    if node.is_table() {
        return read_service(r, node, base_dir);
    }
    r.duration(&node).map(|d| ServiceTime::Constant {
        nanos: d.value.as_nanos() as f64,
    })
}

fn positive_mean(r: &mut Reader<'_>, kind: &Located<&'static str>, mean_secs: f64) -> bool {
    if mean_secs > 0.0 {
        return true;
    }
    r.error(
        kind,
        format!("a {} distribution needs a mean greater than 0", kind.value),
        Some("use the constant distribution for zero-time work".into()),
    );
    false
}

/// `min` and `max` of a uniform distribution.
fn read_uniform(r: &mut Reader<'_>, f: &mut Fields<'_, '_>) -> Option<ServiceTime> {
    let min = f.read(r, &MIN);
    let max = f.read(r, &MAX);
    match (min, max) {
        (Some(lo), Some(hi)) if lo.value <= hi.value => Some(ServiceTime::Uniform {
            min: lo.value.as_nanos() as f64,
            max: hi.value.as_nanos() as f64,
        }),
        (Some(_), Some(hi)) => {
            r.error(
                &hi,
                "max is below min",
                Some("make max at least min".into()),
            );
            None
        }
        _ => None,
    }
}

/// `file`, `column` and `unit` of an empirical distribution, and the times read from the file.
fn read_empirical(
    r: &mut Reader<'_>,
    f: &mut Fields<'_, '_>,
    base_dir: &Path,
) -> Option<ServiceTime> {
    let file = f.read(r, &FILE);
    let column = f.read(r, &COLUMN);
    let unit = f.read(r, &UNIT);
    let (file, column, unit) = (file?, column?, unit?);
    let to_nanos = match unit.value {
        "ns" => 1.0,
        "us" => 1e3,
        "ms" => 1e6,
        _ => 1e9,
    };
    match empirical::load_column(&base_dir.join(&file.value), &column.value, to_nanos) {
        Ok(values) => Some(ServiceTime::Empirical {
            sorted: Arc::from(values),
        }),
        Err(e) => {
            r.error(
                &file,
                e.to_string(),
                Some("the path is relative to the scenario file's folder; the file needs a header row and one number per row".into()),
            );
            None
        }
    }
}
