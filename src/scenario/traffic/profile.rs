//! Rate profiles: `profile = { kind = "constant" | "steps" | "ramp" | "spike" | "diurnal", ... }`
//! and the `spikes` that multiply any profile.

use crate::model::traffic::{DecayShape, RateProfile};
use crate::scenario::reader::keys::{Duration, Key, NonNegative, OneOf, Positive, Rate};
use crate::scenario::reader::{Fields, Located, Node, Reader};
use crate::scenario::units::MAX_RATE_PER_SECOND;
use crate::time::{SimDuration, SimTime};

const PROFILES: &[&str] = &["constant", "steps", "ramp", "spike", "diurnal"];

const KIND: Key<OneOf> = Key::choice("kind", PROFILES);
const RATE: Key<Rate> = Key::required("rate", Rate, "set rate = \"100/s\"");
const POINT_AT: Key<Duration> = Key::required("at", Duration, "set at = \"5m\"");
const POINT_RATE: Key<Rate> = Key::required("rate", Rate, "set rate = \"50/s\"");
const BASELINE: Key<Rate> = Key::required("baseline", Rate, "set baseline = \"50/s\"");
const MULTIPLIER: Key<Positive> = Key::required(
    "multiplier",
    Positive,
    "set the peak as a multiple of the baseline, such as multiplier = 100",
);
const START: Key<Duration> = Key::required(
    "start",
    Duration,
    "set when the spike begins, such as start = \"10m\"",
);
const RAMP_UP: Key<Duration> = Key::optional("ramp_up", Duration);
const HOLD: Key<Duration> = Key::required(
    "hold",
    Duration,
    "set how long the peak lasts, such as hold = \"3m\"",
);
const DECAY: Key<Duration> = Key::optional("decay", Duration);
const DECAY_SHAPE: Key<OneOf> = Key::optional("decay_shape", OneOf(&["linear", "exponential"]));
const MEAN: Key<Rate> = Key::required("mean", Rate, "set the mean rate, such as mean = \"100/s\"");
const AMPLITUDE: Key<NonNegative> = Key::required(
    "amplitude",
    NonNegative,
    "set the relative swing from 0 to 1, such as amplitude = 0.6",
);
const PERIOD: Key<Duration> = Key::optional("period", Duration);
const PEAK_AT: Key<Duration> = Key::required(
    "peak_at",
    Duration,
    "set the time of the daily peak, such as peak_at = \"14h\"",
);

/// `profile = { kind, ... }`.
pub fn read_profile(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<RateProfile> {
    let mut f = r.table(
        node,
        "a rate profile table such as { kind = \"spike\", ... }",
    )?;
    let Some(kind) = f.read(r, &KIND) else {
        f.skip_rest();
        return None;
    };
    let profile = match kind.value {
        "constant" => f
            .read(r, &RATE)
            .map(|rate| RateProfile::Constant { rate: rate.value }),
        "steps" | "ramp" => {
            let key = if kind.value == "steps" {
                "steps"
            } else {
                "points"
            };
            read_points(r, &mut f, key).map(|points| {
                if kind.value == "steps" {
                    RateProfile::Steps { steps: points }
                } else {
                    RateProfile::Ramp { points }
                }
            })
        }
        "spike" => read_spike(r, &mut f, None),
        _ => read_diurnal(r, &mut f),
    };
    f.finish(r);
    profile
}

/// The points of a `steps` or `ramp` profile (`key`), in increasing time order.
fn read_points(
    r: &mut Reader<'_>,
    f: &mut Fields<'_, '_>,
    key: &'static str,
) -> Option<Vec<(SimTime, f64)>> {
    let node = f.required(
        r,
        key,
        &format!("list the points, such as {key} = [{{ at = \"0s\", rate = \"10/s\" }}, {{ at = \"5m\", rate = \"50/s\" }}]"),
    )?;
    let items = r.array(&node, "an array of { at, rate } tables")?;
    if items.is_empty() {
        r.error_at(
            node.path().to_string(),
            Some(node.span()),
            format!("{key} is empty"),
            Some("give at least one point".into()),
        );
        return None;
    }
    let mut points = Vec::new();
    let mut ok = true;
    for item in items {
        let Some(mut p) = r.table(item, "a table { at = \"5m\", rate = \"50/s\" }") else {
            ok = false;
            continue;
        };
        let at = p.read(r, &POINT_AT);
        let rate = p.read(r, &POINT_RATE);
        if let (Some(at), Some(rate)) = (at, rate) {
            if let Some((last, _)) = points.last() {
                if SimTime::ZERO + at.value <= *last {
                    r.error(
                        &at,
                        "points must be in increasing time order",
                        Some("sort the points by `at`, without repeats".into()),
                    );
                    ok = false;
                }
            } else if key == "steps" && !at.value.is_zero() {
                r.error(
                    &at,
                    "the first step must be at \"0s\"",
                    Some("start the steps with at = \"0s\"".into()),
                );
                ok = false;
            }
            points.push((SimTime::ZERO + at.value, rate.value));
        } else {
            ok = false;
        }
        p.finish(r);
    }
    ok.then_some(points)
}

/// `[traffic] spikes = [{ multiplier, start, ramp_up, hold, decay, decay_shape }, ...]`: spikes
/// multiplying whatever profile the traffic has, each a spike factor of baseline 1.
pub fn read_spikes(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Vec<RateProfile>> {
    let items = r.array(
        &node,
        "an array of spikes such as [{ multiplier = 100, start = \"2h\", hold = \"10m\" }]",
    )?;
    let mut spikes = Vec::new();
    let mut ok = true;
    for item in items {
        let Some(mut f) = r.table(
            item,
            "a spike table such as { multiplier = 100, start = \"2h\", hold = \"10m\" }",
        ) else {
            ok = false;
            continue;
        };
        match read_spike(r, &mut f, Some(1.0)) {
            Some(spike) => spikes.push(spike),
            None => ok = false,
        }
        f.finish(r);
    }
    ok.then_some(spikes)
}

/// A spike profile; with `baseline` given (a spike factor on top of another profile) the table
/// has no `baseline` key.
fn read_spike(
    r: &mut Reader<'_>,
    f: &mut Fields<'_, '_>,
    baseline: Option<f64>,
) -> Option<RateProfile> {
    let baseline = match baseline {
        Some(value) => Some(Located {
            value,
            path: String::new(),
            span: Default::default(),
        }),
        None => f.read(r, &BASELINE),
    };
    let multiplier = f.read(r, &MULTIPLIER);
    let start = f.read(r, &START);
    let ramp_up = f.read(r, &RAMP_UP);
    let hold = f.read(r, &HOLD);
    let decay = f.read(r, &DECAY);
    let decay_shape = f.read(r, &DECAY_SHAPE);
    if let (Some(b), Some(m)) = (&baseline, &multiplier) {
        if b.value * m.value > MAX_RATE_PER_SECOND {
            r.error(
                m,
                format!(
                    "the peak rate {} /s is above {:e} /s",
                    b.value * m.value,
                    MAX_RATE_PER_SECOND
                ),
                Some("lower the baseline or the multiplier".into()),
            );
            return None;
        }
    }
    let decay_value = decay.as_ref().map_or(SimDuration::ZERO, |d| d.value);
    let shape = match decay_shape.as_ref().map(|s| s.value) {
        Some("exponential") => DecayShape::Exponential,
        _ => DecayShape::Linear,
    };
    if shape == DecayShape::Exponential && decay_value.is_zero() {
        if let Some(s) = &decay_shape {
            r.error(
                s,
                "an exponential decay needs a decay time greater than 0",
                Some("set decay = \"5m\"".into()),
            );
            return None;
        }
    }
    Some(RateProfile::Spike {
        baseline: baseline?.value,
        multiplier: multiplier?.value,
        start: SimTime::ZERO + start?.value,
        ramp_up: ramp_up.map_or(SimDuration::ZERO, |d| d.value),
        hold: hold?.value,
        decay: decay_value,
        decay_shape: shape,
    })
}

/// A diurnal profile: a daily sine around `mean`.
fn read_diurnal(r: &mut Reader<'_>, f: &mut Fields<'_, '_>) -> Option<RateProfile> {
    let mean = f.read(r, &MEAN);
    let amplitude = f.read(r, &AMPLITUDE);
    let period = f.read(r, &PERIOD);
    let peak_at = f.read(r, &PEAK_AT);
    if let Some(a) = &amplitude {
        if a.value > 1.0 {
            r.error(
                a,
                format!(
                    "amplitude {} is above 1: the rate would go negative",
                    a.value
                ),
                Some("use a value from 0 to 1".into()),
            );
            return None;
        }
    }
    let period = match period {
        Some(p) if p.value.is_zero() => {
            r.error(
                &p,
                "the period must be longer than 0s",
                Some("use period = \"24h\" for a daily cycle".into()),
            );
            return None;
        }
        Some(p) => p.value,
        None => SimDuration::from_secs(86_400),
    };
    Some(RateProfile::Diurnal {
        mean: mean?.value,
        amplitude: amplitude?.value,
        period,
        peak_at: peak_at?.value,
    })
}
