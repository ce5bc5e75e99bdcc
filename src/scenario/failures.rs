//! `[pool.failures]`: random crashes and GPU faults of a pool's instances, each a time to
//! failure and a repair (a duration or a service-time table each), and the broken server's
//! `error_latency`. Read in stage one; whether the pool is behind a balancer is the pool's
//! check.
//!
//! It must not know the pool: `[[fault]]` (a fault at a time) is [`super::faults`].

use std::path::Path;

use super::reader::keys::{Duration, Key, Nested};
use super::reader::{store, Node, Reader};
use super::service::read_phase;
use crate::model::distribution::ServiceTime;
use crate::model::fleet::{FailureSpec, RandomFailure, DEFAULT_ERROR_LATENCY};
use crate::time::SimDuration;

/// The shortest mean time to a random failure: an instance failing every few nanoseconds
/// (and repaired at once) would never let a run end.
const MIN_TIME_TO_FAILURE: SimDuration = SimDuration::from_secs(1);

const CRASH: Key<Nested> = Key::optional("crash", Nested);
const GPU_FAULT: Key<Nested> = Key::optional("gpu_fault", Nested);
const ERROR_LATENCY: Key<Duration> = Key::optional("error_latency", Duration);
const TIME_TO_FAILURE: Key<Nested> = Key::required(
    "time_to_failure",
    Nested,
    "give the time an instance runs before it fails, such as time_to_failure = { distribution = \"exponential\", mean = \"500h\" }",
);
const REPAIR: Key<Nested> = Key::required(
    "repair",
    Nested,
    "give how long a repair takes, such as repair = \"10m\" or a distribution table",
);

/// The hint for a time to failure that is too short.
const TIME_TO_FAILURE_EXAMPLE: &str =
    "such as time_to_failure = { distribution = \"exponential\", mean = \"500h\" }";

/// `[pool.failures]`: `crash` and `gpu_fault`, each `{ time_to_failure, repair }`, and
/// `error_latency`.
pub fn read_failures(
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
    for (key, slot) in [(CRASH, &mut spec.crash), (GPU_FAULT, &mut spec.gpu_fault)] {
        let read = f
            .node(r, &key)
            .map(|n| read_random_failure(r, n, base_dir).map(Some));
        ok &= store(slot, read);
    }
    ok &= f.read_into(r, &ERROR_LATENCY, &mut spec.error_latency, |d| d);
    f.finish(r);
    ok.then_some(spec)
}

/// `{ time_to_failure, repair }`.
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
        .node(r, &TIME_TO_FAILURE)
        .and_then(|n| read_time_to_failure(r, n, base_dir));
    let repair = f.node(r, &REPAIR).and_then(|n| read_phase(r, n, base_dir));
    f.finish(r);
    Some(RandomFailure {
        time_to_failure: ttf?,
        repair: repair?,
    })
}

/// A time to failure: longer than 0, and at least [`MIN_TIME_TO_FAILURE`] on average.
fn read_time_to_failure(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    base_dir: &Path,
) -> Option<ServiceTime> {
    let at = node.at();
    let d = read_phase(r, node, base_dir)?;
    if d == (ServiceTime::Constant { nanos: 0.0 }) {
        r.error(
            &at,
            "time_to_failure must be longer than 0s",
            Some(TIME_TO_FAILURE_EXAMPLE.into()),
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
            Some(TIME_TO_FAILURE_EXAMPLE.into()),
        );
        return None;
    }
    Some(d)
}
