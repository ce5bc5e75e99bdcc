//! `[traffic] closed_loop = { users, think_time, session_length?, session_gap?, ramp_up? }`:
//! reading the closed-loop population (stage one; the checks against the rest of `[traffic]`
//! are in `raw::read_traffic`).

use std::path::Path;

use super::reader::keys::{Duration, Key, Nested, Number, OneOf, Whole};
use super::reader::{Located, Node, Reader};
use super::service::read_service;
use crate::model::distribution::ServiceTime;
use crate::model::traffic::sessions::{ClosedLoop, SessionLength};

/// Most users a closed loop may have: the population's state is 12 bytes a user, so this is
/// 120 MB at most.
pub const MAX_USERS: i64 = 10_000_000;

const LENGTHS: &[&str] = &["constant", "geometric", "uniform"];

const USERS: Key<Whole> = Key::required(
    "users",
    Whole(1, MAX_USERS),
    "set the number of concurrent users, such as users = 500",
);
const THINK_TIME: Key<Nested> = Key::required(
    "think_time",
    Nested,
    "set the time a user thinks between requests, such as think_time = { distribution = \"exponential\", mean = \"30s\" }",
);
const SESSION_LENGTH: Key<Nested> = Key::optional("session_length", Nested);
const SESSION_GAP: Key<Nested> = Key::optional("session_gap", Nested);
const RAMP_UP: Key<Duration> = Key::optional("ramp_up", Duration);

/// Reads the `closed_loop` table.
pub(super) fn read(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    base_dir: &Path,
) -> Option<Located<ClosedLoop>> {
    let (path, span) = (node.path().to_string(), node.span());
    let mut f = r.table(
        node,
        "a table such as closed_loop = { users = 500, think_time = { distribution = \"exponential\", mean = \"30s\" } }",
    )?;
    let users = f.read(r, &USERS);
    let think = f
        .node(r, &THINK_TIME)
        .and_then(|n| read_think(r, n, base_dir));
    let length_node = f.node(r, &SESSION_LENGTH);
    let gap_node = f.node(r, &SESSION_GAP);
    let (length_at, gap_at) = (
        length_node.as_ref().map(Node::at),
        gap_node.as_ref().map(Node::at),
    );
    let session_length = length_node.map(|n| read_length(r, n));
    let session_gap = gap_node.map(|n| read_service(r, n, base_dir));
    match (length_at, gap_at) {
        (Some(at), None) => r.error(
            &at,
            "session_length without session_gap",
            Some("add the pause between sessions, such as session_gap = { distribution = \"exponential\", mean = \"30m\" }".into()),
        ),
        (None, Some(at)) => r.error(
            &at,
            "session_gap without session_length",
            Some("add the requests per session, such as session_length = { distribution = \"geometric\", mean = 8 }, or remove session_gap".into()),
        ),
        _ => {}
    }
    let ramp_up = f.read(r, &RAMP_UP).and_then(|d| {
        if d.value.is_zero() {
            r.error(
                &d,
                "ramp_up must be longer than 0",
                Some("remove ramp_up to start each user after an initial think, or give a duration such as \"2m\"".into()),
            );
            return None;
        }
        Some(d)
    });
    f.finish(r);
    let session_length = match session_length {
        None => SessionLength::Endless,
        Some(l) => l?,
    };
    let session_gap = match session_gap {
        None => None,
        Some(g) => Some(g?),
    };
    if (session_length == SessionLength::Endless) != session_gap.is_none() {
        return None;
    }
    let value = ClosedLoop {
        users: users?.value as u32,
        think: think?,
        session_length,
        session_gap,
        ramp_up: ramp_up.map(|d| d.value),
    };
    Some(Located { value, path, span })
}

/// `think_time`: a duration distribution, at least [`MIN_THINK_MEAN_SECS`] on average.
fn read_think(r: &mut Reader<'_>, n: Node<'_, '_>, base_dir: &Path) -> Option<ServiceTime> {
    let at = n.at();
    let think = read_service(r, n, base_dir)?;
    // A user whose request fails at once (a full queue, no healthy target) sends again
    // after its think: with a think of 0 it would resend forever at one instant, and
    // with nanoseconds nearly so (issue 14, item 8).
    if think.mean_secs() < MIN_THINK_MEAN_SECS {
        r.error(
            &at,
            format!(
                "think_time is at least 1ms on average, found {}s: a user failed at once would resend without time passing",
                think.mean_secs()
            ),
            Some("such as think_time = { distribution = \"exponential\", mean = \"30s\" }; for a closed system without think time, use { distribution = \"constant\", value = \"1ms\" }".into()),
        );
        return None;
    }
    Some(think)
}

/// The smallest mean think time [s]: a millisecond.
const MIN_THINK_MEAN_SECS: f64 = 1e-3;

const LENGTH_DISTRIBUTION: Key<OneOf> = Key::choice("distribution", LENGTHS);
/// A count of requests per session.
const COUNT: Whole = Whole(1, u32::MAX as i64 - 1);
const LENGTH_VALUE: Key<Whole> = Key::required(
    "value",
    COUNT,
    "set the requests per session, such as value = 8",
);
const LENGTH_MEAN: Key<Number> = Key::required(
    "mean",
    Number,
    "set the mean requests per session, such as mean = 8",
);
const LENGTH_MIN: Key<Whole> = Key::required(
    "min",
    COUNT,
    "set the fewest requests per session, such as min = 2",
);
const LENGTH_MAX: Key<Whole> = Key::required(
    "max",
    COUNT,
    "set the most requests per session, such as max = 12",
);

/// `{ distribution = "geometric", mean = 8 }`, `{ distribution = "constant", value = 8 }` or
/// `{ distribution = "uniform", min = 2, max = 12 }`: requests per session.
fn read_length(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<SessionLength> {
    let mut f = r.table(
        node,
        "a table such as session_length = { distribution = \"geometric\", mean = 8 }",
    )?;
    let Some(kind) = f.read(r, &LENGTH_DISTRIBUTION) else {
        f.skip_rest();
        return None;
    };
    let length = match kind.value {
        "constant" => f
            .read(r, &LENGTH_VALUE)
            .map(|n| SessionLength::Constant(n.value as u32)),
        "geometric" => f.read(r, &LENGTH_MEAN).and_then(|m| {
            if m.value >= 1.0 && m.value.is_finite() {
                Some(SessionLength::Geometric { mean: m.value })
            } else {
                r.error(
                    &m,
                    format!(
                        "a session holds at least one request: mean {} is below 1",
                        m.value
                    ),
                    Some("use a mean of 1 or more, such as mean = 8".into()),
                );
                None
            }
        }),
        _ => {
            let min = f.read(r, &LENGTH_MIN);
            let max = f.read(r, &LENGTH_MAX);
            match (min, max) {
                (Some(lo), Some(hi)) if lo.value <= hi.value => Some(SessionLength::Uniform {
                    min: lo.value as u32,
                    max: hi.value as u32,
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
    };
    f.finish(r);
    length
}
