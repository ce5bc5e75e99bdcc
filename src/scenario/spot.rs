//! The keys of issue 6's spot market and random faults, read into raw shapes:
//! `[pool.mixed_instances]` (an EC2 Auto Scaling mixed instances policy), `spot_price` and
//! `spot_interruptions` on an `[[instance_type]]`, `[pool.failures]` (random crashes and GPU
//! faults) and `[[capacity_shortage]]` (windows of insufficient capacity).
//!
//! It must not know the instance type list: names are resolved in `validate.rs`.

use std::path::{Path, PathBuf};

use super::csv_file::{cell, CsvError, CsvFile};
use super::diagnostics::quoted;
use super::lifecycle::{read_phase, MAX_INSTANCES};
use super::raw::{locate_node, store};
use super::reader::{Located, Node, Reader};
use crate::engine::{SimDuration, SimTime};
use crate::model::fleet::mixed::{OnDemandStrategy, SpotStrategy, DEFAULT_SPOT_INSTANCE_POOLS};
use crate::model::fleet::{FailureSpec, RandomFailure, ServiceTime, DEFAULT_ERROR_LATENCY};
use crate::model::market::interruptions::{
    SpotAvailability, SpotInterruptions, DEFAULT_REBALANCE_LEAD,
};
use crate::model::market::PurchaseOption;
use crate::model::traffic::trace_file::far_after_first;

/// `[pool.mixed_instances]` before its type names are resolved.
pub struct RawMixed {
    pub types: Vec<Located<String>>,
    pub types_at: Located<()>,
    pub on_demand_base: u32,
    pub on_demand_percent: u32,
    pub on_demand_strategy: OnDemandStrategy,
    pub spot_strategy: SpotStrategy,
    pub spot_instance_pools: Option<Located<u64>>,
    pub capacity_rebalance: bool,
}

/// A `[[capacity_shortage]]` table before its type name is resolved.
pub struct RawShortage {
    pub instance_type: Option<Located<String>>,
    pub purchase: Option<PurchaseOption>,
    pub at: Option<Located<SimDuration>>,
    pub duration: Option<Located<SimDuration>>,
}

/// `purchase = "on_demand" | "spot"`.
pub(super) fn read_purchase(r: &mut Reader<'_>, node: &Node<'_, '_>) -> Option<PurchaseOption> {
    r.one_of(node, &["on_demand", "spot"])
        .map(|p| match p.value {
            "spot" => PurchaseOption::Spot,
            _ => PurchaseOption::OnDemand,
        })
}

/// `[pool.mixed_instances]`, with the defaults of AWS `InstancesDistribution`.
pub(super) fn read_mixed(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<RawMixed> {
    let at = locate_node(&node);
    let mut f = r.table(
        node,
        "a mixed instances table such as [pool.mixed_instances] types = [\"g5.xlarge\", \"g6.xlarge\"] on_demand_percentage_above_base = 20",
    )?;
    let mut ok = true;
    let types_node = f.required(
        r,
        "types",
        "list the instance types the pool may launch, in priority order, such as types = [\"g5.xlarge\", \"g6.xlarge\"]",
    );
    let types_at = types_node.as_ref().map_or(at, locate_node);
    let mut types = Vec::new();
    match types_node.and_then(|n| r.array(&n, "an array of instance type names")) {
        Some(items) => {
            for n in items {
                match r.string(&n) {
                    Some(s) => types.push(s),
                    None => ok = false,
                }
            }
        }
        None => ok = false,
    }
    let mut spec = RawMixed {
        types,
        types_at,
        on_demand_base: 0,
        on_demand_percent: 100,
        on_demand_strategy: OnDemandStrategy::Prioritized,
        spot_strategy: SpotStrategy::PriceCapacityOptimized,
        spot_instance_pools: None,
        capacity_rebalance: false,
    };
    let base = f
        .get("on_demand_base_capacity")
        .map(|n| r.integer(&n, 0, MAX_INSTANCES).map(|v| v.value as u32));
    ok &= store(&mut spec.on_demand_base, base);
    let pct = f
        .get("on_demand_percentage_above_base")
        .map(|n| r.integer(&n, 0, 100).map(|v| v.value as u32));
    ok &= store(&mut spec.on_demand_percent, pct);
    let od = f
        .get("on_demand_allocation_strategy")
        .map(|n| r.one_of(&n, &["prioritized", "lowest_price"]));
    ok &= store(
        &mut spec.on_demand_strategy,
        od.map(|s| {
            s.map(|s| match s.value {
                "lowest_price" => OnDemandStrategy::LowestPrice,
                _ => OnDemandStrategy::Prioritized,
            })
        }),
    );
    let spot = f.get("spot_allocation_strategy").map(|n| {
        r.one_of(
            &n,
            &[
                "price_capacity_optimized",
                "capacity_optimized",
                "lowest_price",
            ],
        )
    });
    ok &= store(
        &mut spec.spot_strategy,
        spot.map(|s| {
            s.map(|s| match s.value {
                "capacity_optimized" => SpotStrategy::CapacityOptimized,
                "lowest_price" => SpotStrategy::LowestPrice,
                _ => SpotStrategy::PriceCapacityOptimized,
            })
        }),
    );
    if let Some(n) = f.get("spot_instance_pools") {
        match r.integer(&n, 1, 20) {
            Some(v) => spec.spot_instance_pools = Some(v),
            None => ok = false,
        }
    }
    let rebalance = f
        .get("capacity_rebalance")
        .map(|n| r.boolean(&n).map(|b| b.value));
    ok &= store(&mut spec.capacity_rebalance, rebalance);
    f.finish(r);
    ok.then_some(spec)
}

/// The `spot_instance_pools` of a policy: only `lowest_price` reads it (AWS rejects it with the
/// other strategies).
pub(super) fn spot_instance_pools(r: &mut Reader<'_>, m: &RawMixed) -> Option<u32> {
    match (&m.spot_instance_pools, m.spot_strategy) {
        (None, _) => Some(DEFAULT_SPOT_INSTANCE_POOLS),
        (Some(p), SpotStrategy::LowestPrice) => Some(p.value as u32),
        (Some(p), _) => {
            r.error(
                p,
                "spot_instance_pools applies only to spot_allocation_strategy = \"lowest_price\"",
                Some("remove spot_instance_pools, or use the lowest_price strategy".into()),
            );
            None
        }
    }
}

/// The shortest mean time between spot interruptions.
const MIN_MEAN_TIME_BETWEEN: SimDuration = SimDuration::from_secs(60);

/// The shortest mean time to a random failure: an instance failing every few nanoseconds
/// (and repaired at once) would never let a run end.
const MIN_TIME_TO_FAILURE: SimDuration = SimDuration::from_secs(1);

/// `spot_interruptions = { mean_time_between = "20h", rebalance_fraction = 0.8,
/// rebalance_lead = "10m" }` on an `[[instance_type]]`.
pub(super) fn read_spot_interruptions(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    base_dir: &Path,
) -> Option<SpotInterruptions> {
    let mut f = r.table(
        node,
        "a table such as spot_interruptions = { mean_time_between = \"20h\" }",
    )?;
    let mean = f
        .required(
            r,
            "mean_time_between",
            "give the mean time from launch to interruption, such as mean_time_between = \"20h\"",
        )
        .and_then(|n| r.duration(&n))
        .and_then(|d| {
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
        });
    let mut ok = true;
    let mut fraction = 1.0;
    let read = f
        .get("rebalance_fraction")
        .map(|n| r.fraction(&n).map(|v| v.value));
    ok &= store(&mut fraction, read);
    let mut lead = ServiceTime::Constant {
        nanos: DEFAULT_REBALANCE_LEAD.as_nanos() as f64,
    };
    let read = f.get("rebalance_lead").map(|n| read_phase(r, n, base_dir));
    ok &= store(&mut lead, read);
    f.finish(r);
    let mean = mean?;
    ok.then_some(SpotInterruptions {
        mean_time_between: mean,
        rebalance_fraction: fraction,
        rebalance_lead: lead,
    })
}

/// `[pool.failures]`: `crash` and `gpu_fault`, each `{ time_to_failure, repair }` (a duration or
/// a service-time table each), and the broken server's `error_latency`.
pub(super) fn read_failures(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    base_dir: &Path,
) -> Option<FailureSpec> {
    let mut f = r.table(
        node,
        "a failures table such as [pool.failures] crash = { time_to_failure = { distribution = \"exponential\", mean = \"500h\" }, repair = \"10m\" }",
    )?;
    let mut ok = true;
    let mut spec = FailureSpec {
        crash: None,
        gpu_fault: None,
        error_latency: DEFAULT_ERROR_LATENCY,
    };
    for (key, slot) in [
        ("crash", &mut spec.crash),
        ("gpu_fault", &mut spec.gpu_fault),
    ] {
        let read = f
            .get(key)
            .map(|n| read_random_failure(r, n, base_dir).map(Some));
        ok &= store(slot, read);
    }
    let latency = f
        .get("error_latency")
        .map(|n| r.duration(&n).map(|d| d.value));
    ok &= store(&mut spec.error_latency, latency);
    f.finish(r);
    ok.then_some(spec)
}

fn read_random_failure(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    base_dir: &Path,
) -> Option<RandomFailure> {
    let mut f = r.table(
        node,
        "a table such as { time_to_failure = { distribution = \"exponential\", mean = \"500h\" }, repair = \"10m\" }",
    )?;
    let ttf = f
        .required(
            r,
            "time_to_failure",
            "give the time an instance runs before it fails, such as time_to_failure = { distribution = \"exponential\", mean = \"500h\" }",
        )
        .and_then(|n| {
            let at = locate_node(&n);
            let d = read_phase(r, n, base_dir)?;
            if d == (ServiceTime::Constant { nanos: 0.0 }) {
                r.error(
                    &at,
                    "time_to_failure must be longer than 0s",
                    Some("such as time_to_failure = { distribution = \"exponential\", mean = \"500h\" }".into()),
                );
                return None;
            }
            if d.mean_secs() < MIN_TIME_TO_FAILURE.as_secs_f64() {
                r.error(
                    &at,
                    format!(
                        "time_to_failure is at least 1s on average, found {}s",
                        d.mean_secs()
                    ),
                    Some("such as time_to_failure = { distribution = \"exponential\", mean = \"500h\" }".into()),
                );
                return None;
            }
            Some(d)
        });
    let repair = f
        .required(
            r,
            "repair",
            "give how long a repair takes, such as repair = \"10m\" or a distribution table",
        )
        .and_then(|n| read_phase(r, n, base_dir));
    f.finish(r);
    Some(RandomFailure {
        time_to_failure: ttf?,
        repair: repair?,
    })
}

/// A `[[capacity_shortage]]` table.
pub(super) fn read_shortage(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<RawShortage> {
    let mut f = r.table(node, "a capacity shortage table")?;
    let s = RawShortage {
        instance_type: f
            .required(
                r,
                "instance_type",
                "name the instance type that runs short, such as instance_type = \"g5.xlarge\"",
            )
            .and_then(|n| r.string(&n)),
        purchase: f.get("purchase").and_then(|n| read_purchase(r, &n)),
        at: f
            .required(
                r,
                "at",
                "say when the shortage begins, such as at = \"10m\"",
            )
            .and_then(|n| r.duration(&n)),
        duration: f
            .required(
                r,
                "duration",
                "say how long it lasts, such as duration = \"20m\"",
            )
            .and_then(|n| r.duration(&n)),
    };
    f.finish(r);
    Some(s)
}

/// Why a spot availability trace cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AvailabilityError {
    /// The CSV file cannot be read or lacks a column.
    #[error(transparent)]
    Csv(#[from] CsvError),
    /// A `time_s` cell that is not a time.
    #[error("{} row {row}: time_s \"{cell}\" is not a non-negative number of seconds", .path.display())]
    BadTime {
        path: PathBuf,
        row: usize,
        cell: String,
    },
    /// An `available` cell that is not a count.
    #[error("{} row {row}: available \"{cell}\" is not a whole number of instances", .path.display())]
    BadCount {
        path: PathBuf,
        row: usize,
        cell: String,
    },
    /// A time far in the future.
    #[error("{} row {row}: time_s {} {}", .path.display(), quoted(.cell), far_after_first(*.secs).replace("the first record's time", "the start"))]
    FarFuture {
        path: PathBuf,
        row: usize,
        cell: String,
        secs: f64,
    },
    /// A time not after the row before's.
    #[error("{} row {row}: time_s {secs} is not after the row before", .path.display())]
    NotIncreasing {
        path: PathBuf,
        row: usize,
        secs: f64,
    },
    /// The JSON trace cannot be read.
    #[error("cannot read the trace {}: {reason}", .path.display())]
    Unreadable { path: PathBuf, reason: String },
    /// The JSON trace is not JSON.
    #[error("{} is not JSON: {source}", .path.display())]
    NotJson {
        path: PathBuf,
        source: serde_json::Error,
    },
    /// The JSON trace lacks its time step.
    #[error("{} has no positive metadata.gap_seconds", .path.display())]
    NoGap { path: PathBuf },
    /// The JSON trace lacks its counts.
    #[error("{} has no data array", .path.display())]
    NoDataArray { path: PathBuf },
    /// A JSON count that is not a whole number.
    #[error("{} data[{index}]: {value} is not a whole number", .path.display())]
    NotWhole {
        path: PathBuf,
        index: usize,
        value: serde_json::Value,
    },
    /// A JSON count far in the future.
    #[error("{} data[{index}] {}", .path.display(), far_after_first(*.secs).replace("the first record's time", "the start (its index times metadata.gap_seconds)"))]
    FarFutureIndex {
        path: PathBuf,
        index: usize,
        secs: f64,
    },
    /// A trace without rows.
    #[error("{} has no data", .path.display())]
    NoData { path: PathBuf },
}

/// `spot_availability = { file = "data/avail.csv" }` on an `[[instance_type]]`: a CSV with
/// columns `time_s` (seconds from the start, increasing) and `available` (whole instances), or
/// a JSON trace in the SkyPilot spot-traces format, `{"metadata": {"gap_seconds": N}, "data":
/// [...]}`, `data[i]` instances available from `i × N` seconds.
pub(super) fn read_spot_availability(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    base_dir: &Path,
) -> Option<SpotAvailability> {
    let mut f = r.table(
        node,
        "a table such as spot_availability = { file = \"data/spot_availability.csv\" }",
    )?;
    let file = f
        .required(
            r,
            "file",
            "give the trace, relative to the scenario: a CSV with columns time_s and available, or a SkyPilot JSON trace",
        )
        .and_then(|n| r.string(&n));
    f.finish(r);
    let file = file?;
    let path = base_dir.join(&file.value);
    let rows = if file.value.ends_with(".json") {
        load_skypilot(&path)
    } else {
        load_availability_csv(&path)
    };
    match rows.and_then(|rows| {
        SpotAvailability::from_rows(&rows)
            .ok_or_else(|| AvailabilityError::NoData { path: path.clone() })
    }) {
        Ok(a) => Some(a),
        Err(e) => {
            r.error(
                &file,
                e.to_string(),
                Some("see \"Spot\" in docs/scenario-format.md for the trace formats".into()),
            );
            None
        }
    }
}

fn load_availability_csv(path: &Path) -> Result<Vec<(SimTime, u32)>, AvailabilityError> {
    let mut file = CsvFile::open(path)?;
    let (time, available) = (file.column("time_s")?, file.column("available")?);
    let mut rows: Vec<(SimTime, u32)> = Vec::new();
    for row in file.rows() {
        let (row, record) = row?;
        let cell = |k: usize| cell(&record, k).to_string();
        let t: f64 = cell(time)
            .parse()
            .ok()
            .filter(|t: &f64| t.is_finite() && *t >= 0.0)
            .ok_or_else(|| AvailabilityError::BadTime {
                path: path.to_path_buf(),
                row,
                cell: cell(time),
            })?;
        let n: u32 = cell(available)
            .parse()
            .map_err(|_| AvailabilityError::BadCount {
                path: path.to_path_buf(),
                row,
                cell: cell(available),
            })?;
        if t > SimDuration::LONGEST_INPUT.as_secs_f64() {
            return Err(AvailabilityError::FarFuture {
                path: path.to_path_buf(),
                row,
                cell: cell(time),
                secs: t,
            });
        }
        let at = SimTime::ZERO + SimDuration::from_secs_f64(t);
        if rows.last().is_some_and(|&(prev, _)| at <= prev) {
            return Err(AvailabilityError::NotIncreasing {
                path: path.to_path_buf(),
                row,
                secs: t,
            });
        }
        rows.push((at, n));
    }
    Ok(rows)
}

/// The SkyPilot spot-traces JSON: `metadata.gap_seconds` and `data`.
fn load_skypilot(path: &Path) -> Result<Vec<(SimTime, u32)>, AvailabilityError> {
    let path_buf = || path.to_path_buf();
    let text = crate::limits::read_capped_to_string(path).map_err(|reason| {
        AvailabilityError::Unreadable {
            path: path_buf(),
            reason,
        }
    })?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| AvailabilityError::NotJson {
            path: path_buf(),
            source,
        })?;
    let gap = v["metadata"]["gap_seconds"]
        .as_f64()
        .filter(|g| *g > 0.0)
        .ok_or_else(|| AvailabilityError::NoGap { path: path_buf() })?;
    let data = v["data"]
        .as_array()
        .ok_or_else(|| AvailabilityError::NoDataArray { path: path_buf() })?;
    data.iter()
        .enumerate()
        .map(|(index, x)| {
            let n = x.as_u64().ok_or_else(|| AvailabilityError::NotWhole {
                path: path_buf(),
                index,
                value: x.clone(),
            })?;
            let secs = index as f64 * gap;
            if secs > SimDuration::LONGEST_INPUT.as_secs_f64() {
                return Err(AvailabilityError::FarFutureIndex {
                    path: path_buf(),
                    index,
                    secs,
                });
            }
            let at = SimTime::ZERO + SimDuration::from_secs_f64(secs);
            Ok((at, n.min(u64::from(u32::MAX)) as u32))
        })
        .collect()
}
