//! `[pool.autoscaling.scheduled]`: scheduled actions (`PutScheduledUpdateGroupAction`), once or
//! by cron, from a start in the UTC week.

use super::policy::{read_name, read_policies};
use crate::model::autoscale::scheduled::{Cron, Recurrence, ScheduledAction, WallClock};
use crate::scenario::autoscaling::scaling_keys::min_within_max;
use crate::scenario::lifecycle::MAX_INSTANCES;
use crate::scenario::reader::{Located, Node, Reader};
use crate::time::{SimDuration, SimTime};

pub const WEEKDAYS: &[&str] = &[
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

/// `[pool.autoscaling.scheduled]`: where the run starts in the UTC week, and the actions.
pub fn read_scheduled(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
) -> Option<(WallClock, Vec<ScheduledAction>)> {
    let mut f = r.table(
        node,
        "a scheduled scaling table such as [pool.autoscaling.scheduled] start_weekday = \"monday\"",
    )?;
    let weekday = match f.get("start_weekday").map(|n| r.one_of(&n, WEEKDAYS)) {
        None => Some(1),
        Some(w) => w.and_then(|w| WEEKDAYS.iter().position(|d| *d == w.value)),
    };
    let time = match f.get("start_time") {
        None => Some(SimDuration::ZERO),
        Some(n) => read_time_of_day(r, &n),
    };
    let actions = f
        .required(
            r,
            "action",
            "add the actions, such as [[pool.autoscaling.scheduled.action]] recurrence = \"0 9 * * 1-5\" desired = 10",
        )
        .and_then(|n| {
            let at = n.at();
            let actions = read_policies(r, n, "scheduled.action", "scheduled action", read_action)?;
            if actions.is_empty() {
                r.error(
                    &at,
                    "no scheduled actions",
                    Some("add one, such as { recurrence = \"0 9 * * 1-5\", desired = 10 }".into()),
                );
                return None;
            }
            Some(actions)
        });
    f.finish(r);
    let clock = WallClock::starting(weekday? as u8, time?);
    Some((clock, actions?))
}

/// `"HH:MM"`, a UTC time of day.
pub fn read_time_of_day(r: &mut Reader<'_>, node: &Node<'_, '_>) -> Option<SimDuration> {
    let s = r.string(node)?;
    let parsed = s.value.split_once(':').and_then(|(h, m)| {
        let number = |t: &str, most: u64| {
            (matches!(t.len(), 1 | 2) && t.bytes().all(|b| b.is_ascii_digit()))
                .then(|| t.parse::<u64>().ok())
                .flatten()
                .filter(|v| *v <= most)
        };
        Some((number(h, 23)?, number(m, 59)?))
    });
    match parsed {
        Some((h, m)) => Some(SimDuration::from_secs(h * 3600 + m * 60)),
        None => {
            r.error(
                &s,
                format!("\"{}\" is not a time of day", s.value),
                Some("write the UTC time at the start of the run as \"HH:MM\", such as start_time = \"08:30\"".into()),
            );
            None
        }
    }
}

/// One `[[pool.autoscaling.scheduled.action]]` (`PutScheduledUpdateGroupAction`).
pub fn read_action(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
) -> (Option<Located<String>>, Option<ScheduledAction>) {
    let at = node.at();
    let Some(mut f) = r.table(
        node,
        "a scheduled action such as { recurrence = \"0 9 * * 1-5\", desired = 10 }",
    ) else {
        return (None, None);
    };
    let name = read_name(r, &mut f);
    let recurrence = f.get("recurrence").map(|n| r.string(&n));
    let once = f.get("at").map(|n| r.duration(&n));
    let start = f.get("start").map(|n| r.duration(&n));
    let end = f.get("end").map(|n| r.duration(&n));
    let mut sizes = [None, None, None];
    let mut ok = true;
    for (slot, key) in sizes.iter_mut().zip(["min", "max", "desired"]) {
        match f.get(key).map(|n| r.integer(&n, 0, MAX_INSTANCES)) {
            Some(Some(v)) => *slot = Some(v),
            Some(None) => ok = false,
            None => {}
        }
    }
    f.finish(r);
    let when = schedule(r, &at, recurrence, once, [&start, &end], &mut ok);
    let start = start.map_or(Some(None), |s| s.map(Some));
    let end = end.map_or(Some(None), |e| e.map(Some));
    if let (Some(Some(s)), Some(Some(e))) = (&start, &end) {
        if e.value <= s.value {
            r.error(
                e,
                format!("end ({}) is not after start ({})", e.value, s.value),
                Some("make end later than start".into()),
            );
            ok = false;
        }
    }
    ok = check_sizes(r, &at, &sizes, ok);
    let [min, max, desired] = sizes;
    let action = (|| {
        Some(ScheduledAction {
            recurrence: when?,
            start: start?.map(|s| SimTime::ZERO + s.value),
            end: end?.map(|e| SimTime::ZERO + e.value),
            min: min.map(|v| v.value as u32),
            max: max.map(|v| v.value as u32),
            desired: desired.map(|v| v.value as u32),
        })
    })();
    (name, action.filter(|_| ok))
}

/// When an action runs: on a schedule (`recurrence`, cron) or once (`at`), each `None` if
/// absent and `Some(None)` if broken (reported); `bounds`, its `start` and `end`, apply only
/// to a recurring one (else reported, clearing `ok`).
fn schedule(
    r: &mut Reader<'_>,
    at: &Located<()>,
    recurrence: Option<Option<Located<String>>>,
    once: Option<Option<Located<SimDuration>>>,
    bounds: [&Option<Option<Located<SimDuration>>>; 2],
    ok: &mut bool,
) -> Option<Recurrence> {
    match (recurrence, once) {
        (Some(Some(text)), None) => match Cron::parse(&text.value) {
            Ok(cron) => Some(Recurrence::Cron(cron)),
            Err(e) => {
                r.error(
                    &text,
                    e.to_string(),
                    Some(
                        "such as recurrence = \"0 9 * * 1-5\" (09:00 UTC, Monday to Friday)".into(),
                    ),
                );
                None
            }
        },
        (None, Some(Some(at))) => {
            for (key, bound) in ["start", "end"].into_iter().zip(bounds) {
                if let Some(Some(b)) = bound {
                    r.error(
                        b,
                        format!("{key} applies only to a recurring action, and this one runs once"),
                        Some(format!("remove {key}, or use recurrence instead of at")),
                    );
                    *ok = false;
                }
            }
            Some(Recurrence::Once(SimTime::ZERO + at.value))
        }
        (Some(_), Some(Some(at))) => {
            r.error(
                &at,
                "an action runs once (at) or on a schedule (recurrence), not both",
                Some("keep at, or recurrence".into()),
            );
            None
        }
        (None, None) => {
            r.error(
                at,
                "this action does not say when it runs",
                Some("add recurrence = \"0 9 * * 1-5\" (cron, UTC) or at = \"2h\" (once)".into()),
            );
            None
        }
        _ => None,
    }
}

/// An action's `min`, `max` and `desired`: at least one given (checked only if the action is
/// `ok` so far), in order; false if not (reported) or if not `ok`.
fn check_sizes(
    r: &mut Reader<'_>,
    at: &Located<()>,
    sizes: &[Option<Located<u64>>; 3],
    mut ok: bool,
) -> bool {
    let [min, max, desired] = sizes;
    if ok && min.is_none() && max.is_none() && desired.is_none() {
        r.error(
            at,
            "this action sets nothing",
            Some("set min, max or desired (AWS requires at least one)".into()),
        );
        ok = false;
    }
    ok &= min_within_max(r, min.as_ref(), max.as_ref());
    if let Some(d) = &desired {
        let below = min.as_ref().filter(|lo| d.value < lo.value);
        let above = max.as_ref().filter(|hi| d.value > hi.value);
        if let Some(bound) = below.or(above) {
            r.error(
                d,
                format!(
                    "desired ({}) is outside this action's min..max ({}..{})",
                    d.value,
                    min.as_ref().map_or("-".into(), |v| v.value.to_string()),
                    max.as_ref().map_or("-".into(), |v| v.value.to_string()),
                ),
                Some(format!(
                    "AWS rejects an action whose desired capacity is outside its own min and max: \
                     move desired to the other side of {}",
                    bound.value
                )),
            );
            ok = false;
        }
    }
    ok
}
