//! The run's own keys at the root of the file: `name`, `duration`, `warmup`, `seed`, `timeout`,
//! `on_timeout` and `[timeline] window`, read and checked against each other.

use crate::model::fleet::OnTimeout;
use crate::scenario::reader::keys::{Duration, Key, Name, Nested, OneOf, Whole};
use crate::scenario::reader::{Fields, Located, Reader};
use crate::scenario::spec::{default_window, MAX_WINDOWS, MIN_WINDOW};
use crate::time::SimDuration;

/// The run's keys as read.
pub struct RawRun {
    pub name: Option<Located<String>>,
    pub duration: Option<Located<SimDuration>>,
    pub warmup: Option<Located<SimDuration>>,
    pub seed: Option<Located<u64>>,
    pub timeout: Option<Located<SimDuration>>,
    pub on_timeout: Option<Located<&'static str>>,
    pub window: Option<Located<SimDuration>>,
}

const NAME: Key<Name> = Key::required(
    "name",
    Name,
    "give the scenario a name, such as name = \"viral_spike\"",
);
const DURATION: Key<Duration> = Key::required(
    "duration",
    Duration,
    "say how long to simulate, such as duration = \"30m\"",
);
const WARMUP: Key<Duration> = Key::optional("warmup", Duration);
const SEED: Key<Whole> = Key::optional("seed", Whole(0, i64::MAX));
const TIMEOUT: Key<Duration> = Key::optional("timeout", Duration);
const ON_TIMEOUT: Key<OneOf> = Key::optional("on_timeout", OneOf(&["keep_serving", "cancel"]));
const TIMELINE: Key<Nested> = Key::optional("timeline", Nested);
const WINDOW: Key<Duration> = Key::optional("window", Duration);

/// Reads the run's keys of the root table `f`.
pub fn read(r: &mut Reader<'_>, f: &mut Fields<'_, '_>) -> RawRun {
    RawRun {
        name: f.read(r, &NAME),
        duration: f.read(r, &DURATION),
        warmup: f.read(r, &WARMUP),
        seed: f.read(r, &SEED),
        timeout: f.read(r, &TIMEOUT),
        on_timeout: f.read(r, &ON_TIMEOUT),
        window: f.node(r, &TIMELINE).and_then(|n| {
            let mut t = r.table(n, "a table such as [timeline] window = \"10s\"")?;
            let w = t.read(r, &WINDOW);
            t.finish(r);
            w
        }),
    }
}

/// The run's settings checked: each `None` when wrong (reported).
pub struct Run {
    pub duration: Option<SimDuration>,
    pub warmup: Option<SimDuration>,
    pub timeout: Option<Option<SimDuration>>,
    pub window: Option<SimDuration>,
    pub on_timeout: OnTimeout,
}

/// Checks the run's keys: a duration, a shorter warm-up, a timeout and a window longer than 0.
pub fn validate(r: &mut Reader<'_>, raw: &RawRun) -> Run {
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
    let window = window(r, raw.window.as_ref(), duration);
    let on_timeout = match raw.on_timeout.as_ref().map(|o| o.value) {
        Some("cancel") => OnTimeout::Cancel,
        _ => OnTimeout::KeepServing,
    };
    Run {
        duration,
        warmup,
        timeout,
        window,
        on_timeout,
    }
}

/// The timeline window: at least a millisecond, and few enough rows over the `duration`;
/// by default [`default_window`] of the duration.
fn window(
    r: &mut Reader<'_>,
    window: Option<&Located<SimDuration>>,
    duration: Option<SimDuration>,
) -> Option<SimDuration> {
    match window {
        Some(w) if w.value.is_zero() => {
            r.error(
                w,
                "the timeline window must be longer than 0s",
                Some("such as window = \"10s\"".into()),
            );
            None
        }
        // Each window is a row written whatever happens in it: a nanosecond window would never
        // let the run end (issue 14, item 8).
        Some(w) if w.value < MIN_WINDOW => {
            r.error(
                w,
                format!("a timeline window of {} is shorter than 1ms", w.value),
                Some("such as window = \"10s\"; a row per millisecond is the finest".into()),
            );
            None
        }
        Some(w) => match duration {
            Some(d) if d.as_nanos().div_ceil(w.value.as_nanos()) > MAX_WINDOWS => {
                let least = default_window(d);
                r.error(
                    w,
                    format!(
                        "a window of {} makes {} timeline rows over the {} run, more than {MAX_WINDOWS}",
                        w.value,
                        d.as_nanos().div_ceil(w.value.as_nanos()),
                        d
                    ),
                    Some(format!(
                        "use a wider window, such as window = \"{}s\"",
                        least.as_nanos() / 1_000_000_000
                    )),
                );
                None
            }
            _ => Some(w.value),
        },
        None => Some(duration.map_or(SimDuration::from_secs(10), default_window)),
    }
}
