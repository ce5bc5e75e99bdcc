//! When spot capacity goes away: `spot_interruptions` on an `[[instance_type]]` (the
//! two-minute notices, with rebalance recommendations), and `[[capacity_shortage]]` windows in
//! which launches of a type fail with insufficient capacity, read and checked against the run.

use std::path::Path;

use super::mixed::Purchase;
use crate::model::distribution::ServiceTime;
use crate::model::market::interruptions::{
    CapacityShortage, SpotInterruptions, DEFAULT_REBALANCE_LEAD,
};
use crate::model::market::PurchaseOption;
use crate::scenario::reader::keys::{Duration, Fraction, Key, Nested, Text};
use crate::scenario::reader::{
    find, positive_duration, store, unknown_reference, Located, Names, Node, Reader,
};
use crate::scenario::service::read_phase;
use crate::time::{SimDuration, SimTime};

/// The shortest mean time between spot interruptions.
const MIN_MEAN_TIME_BETWEEN: SimDuration = SimDuration::from_secs(60);

const MEAN_TIME_BETWEEN: Key<Duration> = Key::required(
    "mean_time_between",
    Duration,
    "give the mean time from launch to interruption, such as mean_time_between = \"20h\"",
);
const REBALANCE_FRACTION: Key<Fraction> = Key::optional("rebalance_fraction", Fraction);
const REBALANCE_LEAD: Key<Nested> = Key::optional("rebalance_lead", Nested);

/// `spot_interruptions = { mean_time_between = "20h", rebalance_fraction = 0.8,
/// rebalance_lead = "10m" }` on an `[[instance_type]]`.
pub fn read_spot_interruptions(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    base_dir: &Path,
) -> Option<SpotInterruptions> {
    let mut f = r.table(
        node,
        "a table such as spot_interruptions = { mean_time_between = \"20h\" }",
    )?;
    let mean = f
        .read(r, &MEAN_TIME_BETWEEN)
        .and_then(|d| check_mean_time_between(r, d));
    let mut fraction = 1.0;
    let mut ok = f.read_into(r, &REBALANCE_FRACTION, &mut fraction, |v| v);
    let mut lead = ServiceTime::Constant {
        nanos: DEFAULT_REBALANCE_LEAD.as_nanos() as f64,
    };
    let read = f
        .node(r, &REBALANCE_LEAD)
        .map(|n| read_phase(r, n, base_dir));
    ok &= store(&mut lead, read);
    f.finish(r);
    let mean = mean?;
    ok.then_some(SpotInterruptions {
        mean_time_between: mean,
        rebalance_fraction: fraction,
        rebalance_lead: lead,
    })
}

/// A mean time between interruptions of at least [`MIN_MEAN_TIME_BETWEEN`].
fn check_mean_time_between(r: &mut Reader<'_>, d: Located<SimDuration>) -> Option<SimDuration> {
    if d.value.is_zero() {
        r.error(
            &d,
            "mean_time_between must be longer than 0s",
            Some("such as mean_time_between = \"20h\"".into()),
        );
        None
    } else if d.value < MIN_MEAN_TIME_BETWEEN {
        // An instance interrupted before it serves is replaced at once: with a mean of
        // nanoseconds, launch and interruption would chase each other without time
        // passing (issue 14, item 8).
        r.error(
            &d,
            format!(
                "mean_time_between is at least 1m (the notice alone is 2m), found {}",
                d.value
            ),
            Some("such as mean_time_between = \"20h\"; AWS states interruption frequencies per month (5 % a month is about \"14230h\")".into()),
        );
        None
    } else {
        Some(d.value)
    }
}

/// A `[[capacity_shortage]]` table before its type name is resolved.
pub struct RawShortage {
    pub instance_type: Option<Located<String>>,
    pub purchase: Option<PurchaseOption>,
    pub at: Option<Located<SimDuration>>,
    pub duration: Option<Located<SimDuration>>,
}

const INSTANCE_TYPE: Key<Text> = Key::required(
    "instance_type",
    Text,
    "name the instance type that runs short, such as instance_type = \"g5.xlarge\"",
);
const PURCHASE: Key<Purchase> = Key::optional("purchase", Purchase);
const AT: Key<Duration> = Key::required(
    "at",
    Duration,
    "say when the shortage begins, such as at = \"10m\"",
);
const DURATION: Key<Duration> = Key::required(
    "duration",
    Duration,
    "say how long it lasts, such as duration = \"20m\"",
);

/// A `[[capacity_shortage]]` table.
pub fn read_shortage(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<RawShortage> {
    let mut f = r.table(node, "a capacity shortage table")?;
    let s = RawShortage {
        instance_type: f.read(r, &INSTANCE_TYPE),
        purchase: f.read(r, &PURCHASE).map(|p| p.value),
        at: f.read(r, &AT),
        duration: f.read(r, &DURATION),
    };
    f.finish(r);
    Some(s)
}

/// `[[capacity_shortage]]` windows: a known type (of `type_names`), inside the run.
pub fn validate_shortages(
    r: &mut Reader<'_>,
    shortages: &[RawShortage],
    type_names: &Names<'_>,
    duration: Option<SimDuration>,
) -> Option<Vec<CapacityShortage>> {
    let mut out = Vec::new();
    let mut ok = true;
    for s in shortages {
        let itype = s.instance_type.as_ref().and_then(|t| {
            let found = find(type_names, &t.value);
            if found.is_none() {
                unknown_reference(r, t, "instance type", type_names);
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
