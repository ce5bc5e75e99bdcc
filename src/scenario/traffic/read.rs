//! Stage one of `[traffic]`: one source of arrivals (a `rate`, a rate `profile`, a request
//! `trace`, a count trace `counts`, or a `closed_loop` population), the `spikes` multiplying a
//! rate, the arrival `process`, and the `users` and `networks` who send.

use std::path::Path;

use super::profile::{read_profile, read_spikes};
use crate::model::traffic::sessions::ClosedLoop;
use crate::model::traffic::RateProfile;
use crate::scenario::closed_loop;
use crate::scenario::reader::keys::{Key, Nested, OneOf, Whole};
use crate::scenario::reader::{Located, Node, Reader};
use crate::scenario::trace::counts::read_counts;
use crate::scenario::trace::{read_trace, TraceSpec};
use crate::time::SimDuration;

/// The fields of `[traffic]`.
#[derive(Default)]
pub struct RawTraffic {
    /// The arrival rate over time (a replayed trace's mean rate; 0 for a closed loop).
    pub profile: Option<Located<RateProfile>>,
    /// `trace`: arrivals replayed from a file.
    pub trace: Option<Located<TraceSpec>>,
    pub process: Option<Located<&'static str>>,
    pub users: Option<Located<u64>>,
    pub networks: Option<Located<u64>>,
    pub closed_loop: Option<Located<ClosedLoop>>,
}

const USERS: Key<Whole> = Key::optional("users", Whole(1, 1_000_000_000));
const NETWORKS: Key<Whole> = Key::optional("networks", Whole(1, 1_000_000_000));
const PROCESS: Key<OneOf> = Key::optional("process", OneOf(&["poisson", "periodic"]));
/// The sources of open-loop arrivals, of which a table has one.
const SOURCES: [Key<Nested>; 4] = [
    Key::optional("rate", Nested),
    Key::optional("profile", Nested),
    Key::optional("trace", Nested),
    Key::optional("counts", Nested),
];
const SPIKES: Key<Nested> = Key::optional("spikes", Nested);
const CLOSED_LOOP: Key<Nested> = Key::optional("closed_loop", Nested);

/// Reads `[traffic]`; `duration` (the run's) bounds a looped count trace.
pub fn read_traffic(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    base_dir: &Path,
    duration: Option<SimDuration>,
) -> RawTraffic {
    let at = node.at();
    let Some(mut f) = r.table(node, "a [traffic] table") else {
        return RawTraffic::default();
    };
    let users = f.read(r, &USERS);
    let networks = f.read(r, &NETWORKS);
    let process = f.read(r, &PROCESS);
    let sources: Vec<(&'static str, Node<'_, '_>)> = SOURCES
        .iter()
        .filter_map(|key| f.node(r, key).map(|n| (key.name, n)))
        .collect();
    let spikes_node = f.node(r, &SPIKES);
    let spikes = spikes_node.clone().and_then(|n| read_spikes(r, n));
    let open = OpenLoopKeys {
        sources: &sources,
        process: process.as_ref(),
        users: users.as_ref(),
        spikes: spikes_node.as_ref(),
    };
    if let Some(closed) = f.node(r, &CLOSED_LOOP) {
        refuse_open_loop_keys(r, &open);
        let closed_loop = closed_loop::read(r, closed, base_dir);
        f.finish(r);
        return RawTraffic {
            profile: closed_loop
                .as_ref()
                .map(|c| c.to(RateProfile::Constant { rate: 0.0 })),
            trace: None,
            process: None,
            users: None,
            networks,
            closed_loop,
        };
    }
    let (profile, trace) = read_source(r, &at, &open, base_dir, duration);
    let profile = match (profile, spikes) {
        (Some(base), Some(spikes)) if !spikes.is_empty() && trace.is_none() => {
            Some(RateProfile::Spiked {
                base: Box::new(base),
                spikes,
            })
        }
        (profile, _) => profile,
    };
    f.finish(r);
    RawTraffic {
        profile: profile.map(|p| at.to(p)),
        trace,
        process,
        users,
        networks,
        closed_loop: None,
    }
}

/// The one source of open-loop arrivals among `open.sources` (reported if none or several):
/// its rate profile, and for a replayed trace the trace.
fn read_source(
    r: &mut Reader<'_>,
    at: &Located<()>,
    open: &OpenLoopKeys<'_, '_, '_>,
    base_dir: &Path,
    duration: Option<SimDuration>,
) -> (Option<RateProfile>, Option<Located<TraceSpec>>) {
    let mut trace = None;
    let profile = match open.sources {
        [("rate", n)] => r
            .rate(n)
            .map(|rate| RateProfile::Constant { rate: rate.value }),
        [("profile", n)] => read_profile(r, n.clone()),
        [("counts", n)] => read_counts(r, n.clone(), base_dir, duration),
        [(_, n)] => {
            trace = read_replay(r, n.clone(), base_dir, open.process, open.spikes);
            trace.as_ref().map(|t| RateProfile::Constant {
                rate: t.value.mean_rate(),
            })
        }
        [] => {
            r.error(
                at,
                "no arrival rate",
                Some("set rate = \"100/s\", a profile = { kind = \"spike\", ... }, a trace = { file, format }, counts = { file, ... } or closed_loop = { users = 500, think_time = ... }".into()),
            );
            None
        }
        [_, (key, n), ..] => {
            r.error(
                &n.at(),
                format!("both {} and {key} are set", open.sources[0].0),
                Some("keep one of rate, profile, trace and counts".into()),
            );
            None
        }
    };
    (profile, trace)
}

/// `trace`: a replayed trace has its own arrival times, which `process` and `spikes` cannot
/// change (each reported if present).
fn read_replay(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    base_dir: &Path,
    process: Option<&Located<&'static str>>,
    spikes: Option<&Node<'_, '_>>,
) -> Option<Located<TraceSpec>> {
    let trace = read_trace(r, node, base_dir);
    if let Some(p) = process {
        r.error(
            p,
            "a replayed trace has its own arrival times",
            Some("drop `process`, or replace the trace with a rate".into()),
        );
    }
    if let Some(s) = spikes {
        r.error(
            &s.at(),
            "spikes multiply a rate profile, not a replayed trace",
            Some(
                "drop `spikes`, or use a count trace (`counts`), which spikes can multiply".into(),
            ),
        );
    }
    trace
}

/// The open-loop keys of `[traffic]` found beside a `closed_loop`.
struct OpenLoopKeys<'k, 'a, 'de> {
    sources: &'k [(&'static str, Node<'a, 'de>)],
    process: Option<&'k Located<&'static str>>,
    users: Option<&'k Located<u64>>,
    spikes: Option<&'k Node<'a, 'de>>,
}

/// A closed population sets the load itself: open-loop keys have nothing to act on (each
/// reported).
fn refuse_open_loop_keys(r: &mut Reader<'_>, open: &OpenLoopKeys<'_, '_, '_>) {
    for (key, n) in open.sources {
        r.error(
            &n.at(),
            format!("both {key} and closed_loop are set"),
            Some(format!("keep one: closed_loop sets the load by its users and think time; remove {key}, or remove closed_loop for open-loop arrivals")),
        );
    }
    let misplaced = [
        (
            open.process.map(Located::at),
            "process",
            "closed-loop users send when their previous request ends: remove process",
        ),
        (
            open.users.map(Located::at),
            "users",
            "closed_loop.users is the number of users: remove traffic.users",
        ),
    ];
    for (at, key, help) in misplaced {
        if let Some(at) = at {
            r.error(
                &at,
                format!("{key} does not apply with closed_loop"),
                Some(help.into()),
            );
        }
    }
    if let Some(s) = open.spikes {
        r.error(
            &s.at(),
            "spikes do not apply with closed_loop",
            Some("a closed population has no arrival rate to multiply: remove spikes".into()),
        );
    }
}
