//! An instance type's `spot_price`: a fixed price, a price history replayed from a file, or a
//! synthetic mean-reverting price (whose cap defaults to the on-demand price, known in stage
//! two).

use std::path::Path;

use super::price_file::load_price_file;
use crate::model::market::show_amount;
use crate::model::market::spot_price::{SpotPriceSpec, MAX_STEPS, MAX_VOLATILITY};
use crate::scenario::reader::keys::{Duration, Key, Nested, NonNegative, OneOf, Price, Text};
use crate::scenario::reader::{Fields, Located, Node, Reader};
use crate::time::SimDuration;

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

const KIND: Key<OneOf> = Key::optional("kind", OneOf(&["replay", "mean_reverting"]));
const FILE: Key<Nested> = Key::optional("file", Nested);
const TIME_COLUMN: Key<Text> = Key::optional("time_column", Text);
const PRICE_COLUMN: Key<Text> = Key::optional("price_column", Text);
/// The keys of a mean-reverting price. Its required keys are reported missing here only when
/// absent (a broken one is reported where it is), so they are read as optional.
const MEAN: Key<Price> = Key::optional("mean", Price);
const VOLATILITY: Key<NonNegative> = Key::optional("volatility", NonNegative);
const REVERSION: Key<Duration> = Key::optional("reversion", Duration);
const STEP: Key<Duration> = Key::optional("step", Duration);
const CAP: Key<Price> = Key::optional("cap", Price);

/// `spot_price`: `"$0.40/h"`, `{ file, time_column, price_column }` or `{ kind =
/// "mean_reverting", mean, volatility, reversion, step, cap }`.
pub fn read_spot_price(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    base_dir: &Path,
) -> Option<Located<RawSpotPrice>> {
    let at = node.at();
    if !node.is_table() {
        let p = r.price_per_hour(&node)?;
        return Some(at.to(RawSpotPrice::Constant(p.value)));
    }
    let mut f = r.table(node, "a spot price table")?;
    let kind = f.read(r, &KIND);
    let file = f.node(r, &FILE);
    let is_replay = match &kind {
        Some(k) => k.value == "replay",
        None => file.is_some(),
    };
    if is_replay {
        return read_replay(r, f, &at, file, base_dir).map(|p| at.to(p));
    }
    if file.is_some() {
        r.error(
            &at,
            "a mean-reverting spot price reads no file",
            Some("remove file, or write kind = \"replay\"".into()),
        );
    }
    read_mean_reverting(r, f, &at).map(|p| at.to(p))
}

/// A price history replayed from `file` (at `at`, the table `f`).
fn read_replay(
    r: &mut Reader<'_>,
    mut f: Fields<'_, '_>,
    at: &Located<()>,
    file: Option<Node<'_, '_>>,
    base_dir: &Path,
) -> Option<RawSpotPrice> {
    let file = match file {
        Some(n) => r.string(&n),
        None => {
            r.error(
                at,
                "a replayed spot price needs its file",
                Some("such as spot_price = { file = \"data/spot.csv\", time_column = \"time_s\", price_column = \"usd_per_hour\" }".into()),
            );
            None
        }
    };
    let time_column = f.read(r, &TIME_COLUMN);
    let price_column = f.read(r, &PRICE_COLUMN);
    f.finish(r);
    let file = file?;
    let path = base_dir.join(&file.value);
    let time_column = time_column.map_or("time_s".to_string(), |c| c.value);
    let price_column = price_column.map_or("usd_per_hour".to_string(), |c| c.value);
    match load_price_file(&path, &time_column, &price_column) {
        Ok((times, prices)) => Some(RawSpotPrice::Replay { times, prices }),
        Err(e) => {
            r.error(
                &file,
                e.to_string(),
                Some("see docs/scenario-format.md, \"Spot prices\"".into()),
            );
            None
        }
    }
}

/// Records that `key` of the table at `at` is missing, with an `example` value.
fn missing(r: &mut Reader<'_>, at: &Located<()>, key: &str, example: &str) {
    r.error_at(
        format!("{}.{key}", at.path),
        Some(at.span),
        format!("missing field `{key}`"),
        Some(format!("such as {key} = {example}")),
    );
}

/// A synthetic mean-reverting price (at `at`, the table `f`).
fn read_mean_reverting(
    r: &mut Reader<'_>,
    mut f: Fields<'_, '_>,
    at: &Located<()>,
) -> Option<RawSpotPrice> {
    let mean = f.read_given(r, &MEAN);
    let volatility = f.read_given(r, &VOLATILITY);
    let reversion = f.read(r, &REVERSION);
    let step = f.read(r, &STEP);
    let mut cap = None;
    let mut ok = f.read_into(r, &CAP, &mut cap, Some);
    f.finish(r);
    let mean = check_mean(r, at, mean);
    let volatility = check_volatility(r, at, volatility);
    ok &= volatility.is_some();
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
            missing(r, at, "reversion", "\"1h\"");
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
    Some(RawSpotPrice::MeanReverting {
        mean: mean?,
        volatility: volatility?,
        reversion: reversion?,
        step: step?,
        cap,
    })
}

pub fn resolve_spot(
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

/// The mean price, above $0/h: `None` if absent or broken (reported).
fn check_mean(
    r: &mut Reader<'_>,
    at: &Located<()>,
    mean: Option<Option<Located<f64>>>,
) -> Option<f64> {
    match mean {
        Some(Some(m)) if m.value > 0.0 => Some(m.value),
        Some(Some(m)) => {
            r.error(
                &m,
                "the mean spot price must be above $0/h",
                Some("such as mean = \"$0.40/h\"".into()),
            );
            None
        }
        // Present but broken (already reported) is not missing.
        Some(None) => None,
        None => {
            missing(r, at, "mean", "\"$0.40/h\"");
            None
        }
    }
}

/// The volatility, at most [`MAX_VOLATILITY`]: `None` if absent or broken (reported).
fn check_volatility(
    r: &mut Reader<'_>,
    at: &Located<()>,
    volatility: Option<Option<Located<f64>>>,
) -> Option<f64> {
    match volatility {
        Some(Some(v)) if v.value > MAX_VOLATILITY => {
            r.error(
                &v,
                format!(
                    "a volatility of {} swings the price by a factor of e^{} either way; at most {MAX_VOLATILITY} is accepted",
                    show_amount(v.value),
                    show_amount(v.value)
                ),
                Some("such as volatility = 0.2 (swings of about ±20 %)".into()),
            );
            None
        }
        Some(Some(v)) => Some(v.value),
        Some(None) => None,
        None => {
            missing(
                r,
                at,
                "volatility",
                "0.2 (the standard deviation of the log price)",
            );
            None
        }
    }
}
