//! The balancer keys of `[balancer]` (the defaults of every target group) and of a
//! `[[target_group]]` (that group's own), read into a [`RawBalancer`]: the algorithm and its
//! settings, and the nested tables of health checks, stickiness, slow start and retries.

use super::health::{HealthCheck, Passive};
use super::retry::BalancerRetry;
use super::slow_start::{SlowStart, Stickiness};
use crate::model::balancer::health_check::HealthCheckSpec;
use crate::model::balancer::passive_health::PassiveSpec;
use crate::model::balancer::routing::RetryPolicy;
use crate::model::balancer::slow_start;
use crate::model::balancer::Algorithm;
use crate::scenario::reader::keys::{Duration, Key, NonNegative, OneOf, Whole};
use crate::scenario::reader::{Fields, Located, Node, Reader};
use crate::time::SimDuration;

/// Balancer keys: the `[balancer]` table (defaults for every target group), or the same keys
/// inside a `[[target_group]]` (that group's own).
pub struct RawBalancer {
    pub algorithm: Option<Located<&'static str>>,
    pub choice_count: Option<Located<u64>>,
    pub active_request_bias: Option<Located<f64>>,
    pub decay: Option<Located<SimDuration>>,
    pub table_size: Option<Located<u64>>,
    pub health_check: Option<Located<HealthCheckSpec>>,
    pub passive: Option<Located<PassiveSpec>>,
    pub stickiness: Option<Located<SimDuration>>,
    pub slow_start: Option<Located<slow_start::SlowStart>>,
    pub retry: Option<Located<RetryPolicy>>,
}

const ALGORITHM: Key<OneOf> = Key::optional("algorithm", OneOf(Algorithm::NAMES));
const CHOICE_COUNT: Key<Whole> = Key::optional("choice_count", Whole(1, 100));
const ACTIVE_REQUEST_BIAS: Key<NonNegative> = Key::optional("active_request_bias", NonNegative);
const DECAY: Key<Duration> = Key::optional("decay", Duration);
const TABLE_SIZE: Key<Whole> = Key::optional("table_size", Whole(1, 16_777_259));
const HEALTH_CHECK: Key<HealthCheck> = Key::optional("health_check", HealthCheck);
const PASSIVE: Key<Passive> = Key::optional("passive", Passive);
const STICKINESS: Key<Stickiness> = Key::optional("stickiness", Stickiness);
const SLOW_START: Key<SlowStart> = Key::optional("slow_start", SlowStart);
const RETRY: Key<BalancerRetry> = Key::optional("retry", BalancerRetry);

/// The balancer keys of a table (`[balancer]` or a `[[target_group]]`); all optional.
pub fn read_balancer_keys(r: &mut Reader<'_>, t: &mut Fields<'_, '_>) -> RawBalancer {
    RawBalancer {
        algorithm: t.read(r, &ALGORITHM),
        choice_count: t.read(r, &CHOICE_COUNT),
        active_request_bias: t.read(r, &ACTIVE_REQUEST_BIAS),
        decay: t.read(r, &DECAY),
        table_size: t.read(r, &TABLE_SIZE),
        health_check: t.read(r, &HEALTH_CHECK),
        passive: t.read(r, &PASSIVE),
        stickiness: t.read(r, &STICKINESS),
        slow_start: t.read(r, &SLOW_START),
        retry: t.read(r, &RETRY),
    }
}

/// `[balancer]`: the balancer keys every target group takes by default.
pub fn read_balancer_defaults(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<RawBalancer> {
    let mut t = r.table(
        node,
        "a table such as [balancer] algorithm = \"round_robin\"",
    )?;
    let b = read_balancer_keys(r, &mut t);
    t.finish(r);
    Some(b)
}
