//! The market's scenario keys: `[[instance_type]]` (by catalog name, with overrides), its
//! `spot_price`, and the `[billing]` table. Stage one reads them into raw shapes here; stage
//! two ([`validate_instance_types`]) resolves catalog names and fills defaults.
//!
//! It must not know how money is accounted in the run: it describes prices and rules.

use std::path::{Path, PathBuf};

use super::csv_file::{cell, CsvError, CsvFile};
use super::diagnostics::quoted;
use super::raw::{locate_node, store};
use super::reader::{Located, Node, Reader};
use crate::engine::SimDuration;
use crate::model::fleet::llm::LlmProfile;
use crate::model::fleet::InstanceType;
use crate::model::market::billing::{
    BillingSpec, Granularity, LoadBalancerPrice, ALB_USD_PER_HOUR, ALB_USD_PER_LCU_HOUR,
    MAX_MINIMUM,
};
use crate::model::market::catalog::{self, Cloud, Lookup};
use crate::model::market::interruptions::{SpotAvailability, SpotInterruptions};
use crate::model::market::spot_price::{SpotPriceSpec, MAX_STEPS, MAX_VOLATILITY};
use crate::model::market::{show_amount, MAX_USD_PER_HOUR};

/// An `[[instance_type]]` table.
pub struct RawInstanceType {
    pub name: Option<Located<String>>,
    pub cloud: Option<Located<&'static str>>,
    pub region: Option<Located<String>>,
    pub concurrency: Option<Located<u64>>,
    pub speed: Option<Located<f64>>,
    pub price_per_hour: Option<Located<f64>>,
    pub spot_price: Option<Located<RawSpotPrice>>,
    pub weight: Option<Located<u64>>,
    /// Present but broken reads as `value: None` (reported).
    pub spot_interruptions: Option<Located<Option<SpotInterruptions>>>,
    /// Present but broken reads as `value: None` (reported).
    pub spot_availability: Option<Located<Option<SpotAvailability>>>,
    /// `llm = { ... }`: present (`Some`), and read (`Some(Some)`) or broken (reported).
    pub llm: Option<Option<Located<LlmProfile>>>,
    /// `price` and `concurrency` were written (perhaps broken, then already reported).
    pub gives_price: bool,
    pub gives_concurrency: bool,
}

/// A `spot_price` as written: the mean-reverting cap may default to the on-demand price,
/// which is known only in stage two.
pub enum RawSpotPrice {
    /// A fixed price.
    Constant(f64),
    /// Replayed from a file.
    Replay {
        times: Vec<SimDuration>,
        prices: Vec<f64>,
    },
    /// Synthetic.
    MeanReverting {
        mean: f64,
        volatility: f64,
        reversion: SimDuration,
        step: Located<SimDuration>,
        cap: Option<f64>,
    },
}

pub(super) fn read_instance_type(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    base_dir: &Path,
) -> Option<RawInstanceType> {
    let mut f = r.table(node, "an instance type table")?;
    let concurrency = f.get("concurrency");
    let price = f.get("price");
    let t = RawInstanceType {
        gives_price: price.is_some(),
        gives_concurrency: concurrency.is_some(),
        name: f
            .required(
                r,
                "name",
                "name the instance type, such as name = \"g5.xlarge\" (from the catalog) or \"a100\"",
            )
            .and_then(|n| r.name(&n)),
        cloud: f.get("cloud").and_then(|n| r.one_of(&n, Cloud::NAMES)),
        region: f.get("region").and_then(|n| r.string(&n)),
        concurrency: concurrency.and_then(|n| r.integer(&n, 1, 1_000_000)),
        speed: f.get("speed").and_then(|n| r.positive(&n, true)),
        price_per_hour: price.and_then(|n| r.price_per_hour(&n)),
        spot_price: f
            .get("spot_price")
            .and_then(|n| read_spot_price(r, n, base_dir)),
        weight: f.get("weight").and_then(|n| r.integer(&n, 1, 1000)),
        spot_interruptions: f.get("spot_interruptions").map(|n| {
            let at = super::raw::locate_node(&n);
            Located {
                value: super::spot::read_spot_interruptions(r, n, base_dir),
                path: at.path,
                span: at.span,
            }
        }),
        spot_availability: f.get("spot_availability").map(|n| {
            let at = super::raw::locate_node(&n);
            Located {
                value: super::spot::read_spot_availability(r, n, base_dir),
                path: at.path,
                span: at.span,
            }
        }),
        llm: f
            .get("llm")
            .map(|n| super::llm::read_llm_profile(r, n)),
    };
    f.finish(r);
    Some(t)
}

/// `spot_price`: `"$0.40/h"`, `{ file, time_column, price_column }` or `{ kind =
/// "mean_reverting", mean, volatility, reversion, step, cap }`.
fn read_spot_price(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    base_dir: &Path,
) -> Option<Located<RawSpotPrice>> {
    let at = locate_node(&node);
    let locate = |v| Located {
        value: v,
        path: at.path.clone(),
        span: at.span,
    };
    if !node.is_table() {
        let p = r.price_per_hour(&node)?;
        return Some(locate(RawSpotPrice::Constant(p.value)));
    }
    let mut f = r.table(node, "a spot price table")?;
    let kind = f
        .get("kind")
        .and_then(|n| r.one_of(&n, &["replay", "mean_reverting"]));
    let file = f.get("file");
    let is_replay = match &kind {
        Some(k) => k.value == "replay",
        None => file.is_some(),
    };
    if is_replay {
        let file = match file {
            Some(n) => r.string(&n),
            None => {
                r.error(
                    &at,
                    "a replayed spot price needs its file",
                    Some("such as spot_price = { file = \"data/spot.csv\", time_column = \"time_s\", price_column = \"usd_per_hour\" }".into()),
                );
                None
            }
        };
        let time_column = f.get("time_column").and_then(|n| r.string(&n));
        let price_column = f.get("price_column").and_then(|n| r.string(&n));
        f.finish(r);
        let file = file?;
        let path = base_dir.join(&file.value);
        let time_column = time_column.map_or("time_s".to_string(), |c| c.value);
        let price_column = price_column.map_or("usd_per_hour".to_string(), |c| c.value);
        return match load_price_file(&path, &time_column, &price_column) {
            Ok((times, prices)) => Some(locate(RawSpotPrice::Replay { times, prices })),
            Err(e) => {
                r.error(
                    &file,
                    e.to_string(),
                    Some("see docs/scenario-format.md, \"Spot prices\"".into()),
                );
                None
            }
        };
    }
    if file.is_some() {
        r.error(
            &at,
            "a mean-reverting spot price reads no file",
            Some("remove file, or write kind = \"replay\"".into()),
        );
    }
    let need = |r: &mut Reader<'_>, key: &str, example: &str| {
        r.error_at(
            format!("{}.{key}", at.path),
            Some(at.span),
            format!("missing field `{key}`"),
            Some(format!("such as {key} = {example}")),
        );
    };
    // Present but broken (already reported) is not missing.
    let (mean_given, volatility_given) = (f.get("mean").is_some(), f.get("volatility").is_some());
    let mean = f.get("mean").and_then(|n| r.price_per_hour(&n));
    let volatility = f.get("volatility").and_then(|n| r.positive(&n, false));
    let reversion = f.get("reversion").and_then(|n| r.duration(&n));
    let step = f.get("step").and_then(|n| r.duration(&n));
    let mut cap = None;
    let cap_ok = store(
        &mut cap,
        f.get("cap")
            .map(|n| r.price_per_hour(&n).map(|v| Some(v.value))),
    );
    f.finish(r);
    let mut ok = cap_ok;
    let mean = match mean {
        Some(m) if m.value > 0.0 => Some(m.value),
        Some(m) => {
            r.error(
                &m,
                "the mean spot price must be above $0/h",
                Some("such as mean = \"$0.40/h\"".into()),
            );
            None
        }
        None => {
            if !mean_given {
                need(r, "mean", "\"$0.40/h\"");
            }
            None
        }
    };
    match &volatility {
        None => {
            if !volatility_given {
                need(
                    r,
                    "volatility",
                    "0.2 (the standard deviation of the log price)",
                );
            }
            ok = false;
        }
        Some(v) if v.value > MAX_VOLATILITY => {
            r.error(
                v,
                format!(
                    "a volatility of {} swings the price by a factor of e^{} either way; at most {MAX_VOLATILITY} is accepted",
                    show_amount(v.value),
                    show_amount(v.value)
                ),
                Some("such as volatility = 0.2 (swings of about ±20 %)".into()),
            );
            ok = false;
        }
        Some(_) => {}
    }
    let reversion = match reversion {
        Some(d) if d.value.is_zero() => {
            r.error(
                &d,
                "reversion must be longer than 0s",
                Some(
                    "such as reversion = \"1h\" (how long a deviation takes to shrink by e)".into(),
                ),
            );
            None
        }
        Some(d) => Some(d.value),
        None => {
            need(r, "reversion", "\"1h\"");
            None
        }
    };
    let step = match step {
        Some(d) if d.value.is_zero() => {
            r.error(
                &d,
                "step must be longer than 0s",
                Some("such as step = \"5m\"".into()),
            );
            None
        }
        Some(d) => Some(d),
        None => Some(Located {
            value: SimDuration::from_secs(300),
            path: format!("{}.step", at.path),
            span: at.span,
        }),
    };
    if !ok {
        return None;
    }
    Some(locate(RawSpotPrice::MeanReverting {
        mean: mean?,
        volatility: volatility?.value,
        reversion: reversion?,
        step: step?,
        cap,
    }))
}

/// Why a spot price history cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PriceFileError {
    /// The file cannot be read, lacks a column or has no rows.
    #[error(transparent)]
    Csv(#[from] CsvError),
    /// A time that is neither seconds nor a timestamp.
    #[error("{} row {row}: \"{cell}\" in column \"{column}\" is neither seconds from the start nor an ISO timestamp such as 2022-05-31T20:43:19Z", .path.display())]
    BadTime {
        path: PathBuf,
        row: usize,
        cell: String,
        column: String,
    },
    /// A timestamp among seconds, or seconds among timestamps.
    #[error("{} row {row}: \"{cell}\" mixes {} with the {} of the first row", .path.display(), if *.iso { "a timestamp" } else { "seconds" }, if *.iso { "seconds" } else { "timestamps" })]
    MixedTimes {
        path: PathBuf,
        row: usize,
        cell: String,
        /// This row's time is a timestamp (and the first row's is seconds).
        iso: bool,
    },
    /// A time far in the future: `secs` after the first row's, or `None` past the year 9999.
    #[error("{} row {row}: {} in column \"{column}\" {}", .path.display(), quoted(.cell), far_future(.secs))]
    FarFuture {
        path: PathBuf,
        row: usize,
        cell: String,
        column: String,
        secs: Option<f64>,
    },
    /// A price above [`MAX_USD_PER_HOUR`].
    #[error("{} row {row}: ${}/h in column \"{column}\" is above the ${}/h fleetsim accepts (a bound that keeps every cost finite)", .path.display(), show_amount(*.price), show_amount(MAX_USD_PER_HOUR))]
    AboveBound {
        path: PathBuf,
        row: usize,
        price: f64,
        column: String,
    },
    /// A cell that is not a price.
    #[error("{} row {row}: \"{cell}\" in column \"{column}\" is not a price (USD per hour, 0 or more)", .path.display())]
    NotAPrice {
        path: PathBuf,
        row: usize,
        cell: String,
        column: String,
    },
    /// A time before the previous row's.
    #[error("{} row {row}: times must not decrease", .path.display())]
    Decreasing { path: PathBuf, row: usize },
    /// More prices than a path may hold.
    #[error("{} has more than {MAX_STEPS} rows", .path.display())]
    TooManyRows { path: PathBuf },
}

/// The end of a message about a time far in the future, `secs` after the first row's (`None`:
/// past the year 9999).
fn far_future(secs: &Option<f64>) -> String {
    use crate::model::traffic::trace_file::{far_after_first, TimeError};
    match secs {
        Some(secs) => far_after_first(*secs),
        None => TimeError::FarFuture.to_string(),
    }
}

/// Reads a spot price history: `time_column` in seconds from the start (the first price also
/// holds before its time), or ISO-8601 UTC timestamps (`2022-05-31T20:43:19Z`, `+00:00` or a
/// space instead of `T` accepted) with the first row as t = 0; one kind in a file; rows in
/// increasing time; `price_column` in USD/h.
fn load_price_file(
    path: &Path,
    time_column: &str,
    price_column: &str,
) -> Result<(Vec<SimDuration>, Vec<f64>), PriceFileError> {
    let mut file = CsvFile::open(path)?;
    let (ti, pi) = (file.column(time_column)?, file.column(price_column)?);
    let (mut times, mut prices) = (Vec::new(), Vec::new());
    // The time 0 stands for: 0 s for seconds from the start, the first row for timestamps.
    // (Issue 14, item 5: seconds were once taken from the first row too, which moved every
    // price earlier by the first row's time.)
    let mut origin: Option<(f64, bool)> = None;
    let path_buf = || path.to_path_buf();
    for row in file.rows() {
        let (row, record) = row?;
        let (t_cell, p_cell) = (cell(&record, ti), cell(&record, pi));
        let (t, iso) = match t_cell.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => (v, false),
            _ => (
                iso_seconds(t_cell).ok_or_else(|| PriceFileError::BadTime {
                    path: path_buf(),
                    row,
                    cell: t_cell.to_string(),
                    column: time_column.to_string(),
                })?,
                true,
            ),
        };
        let (origin, first_iso) = *origin.get_or_insert((if iso { t } else { 0.0 }, iso));
        if iso != first_iso {
            return Err(PriceFileError::MixedTimes {
                path: path_buf(),
                row,
                cell: t_cell.to_string(),
                iso,
            });
        }
        if t.is_infinite() || t - origin > SimDuration::LONGEST_INPUT.as_secs_f64() {
            return Err(PriceFileError::FarFuture {
                path: path_buf(),
                row,
                cell: t_cell.to_string(),
                column: time_column.to_string(),
                secs: (!t.is_infinite()).then_some(t - origin),
            });
        }
        let price: f64 = match p_cell.parse::<f64>() {
            Ok(v) if v > MAX_USD_PER_HOUR => {
                return Err(PriceFileError::AboveBound {
                    path: path_buf(),
                    row,
                    price: v,
                    column: price_column.to_string(),
                })
            }
            Ok(v) if v.is_finite() && v >= 0.0 => v,
            _ => {
                return Err(PriceFileError::NotAPrice {
                    path: path_buf(),
                    row,
                    cell: p_cell.to_string(),
                    column: price_column.to_string(),
                })
            }
        };
        let at = SimDuration::from_secs_f64(t - origin);
        if times.last().is_some_and(|&last| at < last) || t < origin {
            return Err(PriceFileError::Decreasing {
                path: path_buf(),
                row,
            });
        }
        if times.last() == Some(&at) {
            // Two changes at once: the later row wins.
            *prices.last_mut().unwrap() = price;
            continue;
        }
        if times.is_empty() && !at.is_zero() {
            // The first price also holds before its time: a path starts at t = 0.
            times.push(SimDuration::ZERO);
            prices.push(price);
        }
        times.push(at);
        prices.push(price);
        if times.len() as u64 > MAX_STEPS {
            return Err(PriceFileError::TooManyRows { path: path_buf() });
        }
    }
    if times.is_empty() {
        return Err(CsvError::NoRows { path: path_buf() }.into());
    }
    Ok((times, prices))
}

/// Seconds since 1970 of an ISO-8601 UTC timestamp (`YYYY-MM-DD[T ]HH:MM:SS[.fff][Z|+00:00]`).
fn iso_seconds(text: &str) -> Option<f64> {
    let text = text
        .strip_suffix('Z')
        .or_else(|| text.strip_suffix("+00:00"))
        .unwrap_or(text);
    let (date, time) = text.split_once(['T', ' '])?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.splitn(3, ':');
    let (h, min) = (
        t.next()?.parse::<i64>().ok()?,
        t.next()?.parse::<i64>().ok()?,
    );
    let sec: f64 = t.next()?.parse().ok()?;
    if y > 9999 {
        // Far in the future (and past what the day count below holds): the caller's range
        // check says so.
        return Some(f64::INFINITY);
    }
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || min > 59 || sec >= 61.0 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + min * 60) as f64 + sec)
}

/// `[billing]`.
pub(super) fn read_billing(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<BillingSpec>> {
    let at = locate_node(&node);
    let mut f = r.table(
        node,
        "a table such as [billing] granularity = \"per_second\"",
    )?;
    let granularity = f
        .get("granularity")
        .and_then(|n| r.one_of(&n, &["per_second", "per_hour"]));
    let minimum = f.get("minimum").and_then(|n| r.duration(&n)).filter(|m| {
        // No cloud bills more than an hour per start (EC2 and GCE: 60 s; the old EC2 rule:
        // an hour); a longer minimum is a unit mistake.
        let ok = m.value <= MAX_MINIMUM;
        if !ok {
            r.error(
                m,
                format!("a billing minimum of {} is longer than an hour", m.value),
                Some("such as minimum = \"60s\" (EC2, GCE); at most \"1h\"".into()),
            );
        }
        ok
    });
    let mut ok = true;
    let load_balancer = f.get("load_balancer").and_then(|n| {
        if n.is_table() {
            r.error_at(
                n.path().to_string(),
                Some(n.span()),
                "expected \"alb\" or a price such as \"$0.0225/h\"",
                Some("write load_balancer = \"alb\" (AWS ALB list prices, us-east-1)".into()),
            );
            return None;
        }
        if let Some(s) = r_peek_str(&n) {
            if s == "alb" {
                return Some(Some(ALB_USD_PER_HOUR));
            }
        }
        r.price_per_hour(&n).map(|p| Some(p.value))
    });
    let lcu = f.get("lcu").and_then(|n| r.price_per_hour(&n));
    f.finish(r);
    let granularity = match granularity.map(|g| g.value) {
        Some("per_hour") => Granularity::PerHour,
        _ => Granularity::PerSecond,
    };
    let minimum = minimum.map_or(
        match granularity {
            Granularity::PerSecond => SimDuration::from_secs(60),
            Granularity::PerHour => SimDuration::ZERO,
        },
        |m| m.value,
    );
    let load_balancer = match (load_balancer.flatten(), lcu) {
        (Some(per_hour), lcu) => Some(LoadBalancerPrice {
            per_hour,
            per_lcu_hour: lcu.map_or(ALB_USD_PER_LCU_HOUR, |l| l.value),
        }),
        (None, Some(l)) => {
            r.error(
                &l,
                "lcu prices a load balancer's capacity units, but no load_balancer is billed",
                Some("add load_balancer = \"alb\" (or a price such as \"$0.0225/h\")".into()),
            );
            ok = false;
            None
        }
        (None, None) => None,
    };
    ok.then_some(Located {
        value: BillingSpec {
            granularity,
            minimum,
            load_balancer,
        },
        path: at.path,
        span: at.span,
    })
}

/// The text of a string node, without recording anything.
fn r_peek_str<'a>(n: &'a Node<'_, '_>) -> Option<&'a str> {
    n.as_str()
}

/// Stage two: every `[[instance_type]]`, resolved against the catalog. A type that gives its
/// own `price` and `concurrency` and no `cloud` or `region` is the user's own: nothing comes
/// from the catalog. Any other is looked up by name (and cloud and region); the fields the
/// file gives override the catalog's.
pub(super) fn validate_instance_types(
    r: &mut Reader<'_>,
    raw: &[RawInstanceType],
    duration: Option<SimDuration>,
) -> Option<Vec<InstanceType>> {
    let mut ok = true;
    let mut out = Vec::new();
    for t in raw {
        let Some(name) = &t.name else {
            ok = false;
            continue;
        };
        if (t.gives_price && t.price_per_hour.is_none())
            || (t.gives_concurrency && t.concurrency.is_none())
            || matches!(t.llm, Some(None))
        {
            // Broken, and already reported: a catalog lookup would only add noise.
            ok = false;
            continue;
        }
        let llm = t.llm.as_ref().and_then(|l| l.as_ref());
        // An LLM type's slots are its batch: `max_batch` stands for `concurrency`.
        let own = t.gives_price
            && (t.gives_concurrency || llm.is_some())
            && t.cloud.is_none()
            && t.region.is_none();
        if let (Some(l), Some(c)) = (llm, &t.concurrency) {
            if c.value != u64::from(l.value.max_batch) {
                r.error(
                    c,
                    format!(
                        "an LLM instance type's concurrency is its max_batch ({}), not {}",
                        l.value.max_batch, c.value
                    ),
                    Some("remove concurrency: max_batch sets the slots".into()),
                );
                ok = false;
                continue;
            }
        }
        let entry = if own {
            None
        } else {
            let cloud = t.cloud.as_ref().and_then(|c| Cloud::parse(c.value));
            let region = t.region.as_ref().map(|r| r.value.as_str());
            match catalog::lookup(catalog::catalog(), &name.value, cloud, region) {
                Lookup::Found(e) => Some(e),
                Lookup::Unknown { closest } => {
                    let place = match (cloud, region) {
                        (None, None) => String::new(),
                        (c, r) => format!(
                            " ({}{})",
                            c.map_or("any cloud".into(), |c| c.as_str().to_string()),
                            r.map_or(String::new(), |r| format!(", region {r}"))
                        ),
                    };
                    r.error(
                        name,
                        format!(
                            "there is no instance type \"{}\" in the catalog{place}",
                            name.value
                        ),
                        Some(format!(
                            "closest catalog names: {}; or give price and concurrency for a type of your own (`fleetsim catalog` lists the catalog)",
                            closest.join(", ")
                        )),
                    );
                    ok = false;
                    continue;
                }
                Lookup::Ambiguous { candidates } => {
                    let places: Vec<String> = candidates
                        .iter()
                        .map(|(c, r)| format!("{} {r}", c.as_str()))
                        .collect();
                    r.error(
                        name,
                        format!(
                            "the catalog has \"{}\" in several places: {}",
                            name.value,
                            places.join(", ")
                        ),
                        Some(format!(
                            "say which with region = \"{}\" (and cloud if needed)",
                            candidates[0].1
                        )),
                    );
                    ok = false;
                    continue;
                }
            }
        };
        let price = t
            .price_per_hour
            .as_ref()
            .map(|p| p.value)
            .or(entry.map(|e| e.on_demand_usd_per_hour));
        let concurrency = llm
            .map(|l| l.value.max_batch)
            .or(t.concurrency.as_ref().map(|c| c.value as u32))
            .or(entry.map(|e| e.concurrency));
        let (Some(price), Some(concurrency)) = (price, concurrency) else {
            ok = false;
            continue;
        };
        let spot_price = match &t.spot_price {
            Some(s) => match resolve_spot(r, s, price, duration) {
                Some(spec) => Some(spec),
                None => {
                    ok = false;
                    continue;
                }
            },
            None => entry
                .and_then(|e| e.spot_usd_per_hour)
                .map(|p| SpotPriceSpec::Constant { usd_per_hour: p }),
        };
        out.push(InstanceType {
            name: name.value.clone(),
            concurrency,
            speed: t
                .speed
                .as_ref()
                .map(|s| s.value)
                .or(entry.map(|e| e.speed))
                .unwrap_or(1.0),
            price_per_hour: price,
            weight: t.weight.as_ref().map_or(1, |w| w.value as u32),
            cloud: entry.map(|e| e.cloud),
            region: entry.map(|e| e.region.clone()),
            gpu_model: entry.and_then(|e| e.gpu_model.clone()),
            llm: llm.map(|l| l.value.clone()),
            spot_price,
            spot_interruptions: match &t.spot_interruptions {
                // Broken: reported by stage one.
                Some(s) => match s.value.clone() {
                    Some(v) => Some(v),
                    None => {
                        ok = false;
                        continue;
                    }
                },
                None => None,
            },
            spot_availability: match &t.spot_availability {
                Some(a) => match a.value.clone() {
                    Some(v) => Some(std::sync::Arc::new(v)),
                    None => {
                        ok = false;
                        continue;
                    }
                },
                None => None,
            },
        });
    }
    ok.then_some(out)
}

fn resolve_spot(
    r: &mut Reader<'_>,
    s: &Located<RawSpotPrice>,
    on_demand: f64,
    duration: Option<SimDuration>,
) -> Option<SpotPriceSpec> {
    Some(match &s.value {
        RawSpotPrice::Constant(p) => SpotPriceSpec::Constant { usd_per_hour: *p },
        RawSpotPrice::Replay { times, prices } => SpotPriceSpec::Replay {
            times: times.clone(),
            prices: prices.clone(),
        },
        RawSpotPrice::MeanReverting {
            mean,
            volatility,
            reversion,
            step,
            cap,
        } => {
            if let Some(d) = duration {
                let steps = d.as_nanos().div_ceil(step.value.as_nanos().max(1));
                if steps > MAX_STEPS {
                    r.error(
                        step,
                        format!(
                            "a step of {} over the run makes {steps} prices, more than {MAX_STEPS}",
                            step.value
                        ),
                        Some("use a longer step, such as step = \"5m\"".into()),
                    );
                    return None;
                }
            }
            SpotPriceSpec::MeanReverting {
                mean: *mean,
                volatility: *volatility,
                reversion: *reversion,
                step: step.value,
                cap: cap.unwrap_or(on_demand),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::iso_seconds;

    #[test]
    fn iso_timestamps_are_seconds_since_1970() {
        assert_eq!(iso_seconds("1970-01-01T00:00:00Z"), Some(0.0));
        // 2022-05-31T20:43:19Z = 1654029799 (date -u -d ... +%s).
        assert_eq!(
            iso_seconds("2022-05-31T20:43:19+00:00"),
            Some(1_654_029_799.0)
        );
        assert_eq!(iso_seconds("2022-05-31 20:43:19.5"), Some(1_654_029_799.5));
        assert_eq!(iso_seconds("yesterday"), None);
    }
}
