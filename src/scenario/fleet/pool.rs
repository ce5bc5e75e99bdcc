//! Stage one of a `[[pool]]` table: its own keys, and its nested tables read by their topics
//! (lifecycle, autoscaling, spot, failures).

use std::path::Path;

use crate::model::autoscale::spec::AutoscalingSpec;
use crate::model::fleet::{FailureSpec, LaunchSpec, StartupSpec, WarmPoolSpec};
use crate::model::market::PurchaseOption;
use crate::scenario::autoscaling;
use crate::scenario::failures::read_failures;
use crate::scenario::lifecycle::{self, DeregistrationDelay, MAX_INSTANCES};
use crate::scenario::reader::keys::{Flag, Key, Name, Nested, OneOf, Text, Whole};
use crate::scenario::reader::{Located, Node, Reader};
use crate::scenario::spot::mixed::{read_mixed, Purchase, RawMixed};
use crate::time::SimDuration;

/// A `[[pool]]` table. A nested table that is present but broken (reported) reads as its
/// default, or as `Located { value: None, .. }` where its presence matters to validation.
pub struct RawPool {
    pub name: Option<Located<String>>,
    pub instance_type: Option<Located<String>>,
    /// At least 1, required, without autoscaling; optional and from 0 with it.
    pub instances: Option<Located<u64>>,
    pub dispatch: Option<Located<&'static str>>,
    pub queue_capacity: Option<Located<u64>>,
    pub weight: Option<Located<u64>>,
    /// The `[[queue]]` its workers pull from.
    pub queue: Option<Located<String>>,
    pub deregistration_delay: Option<Located<SimDuration>>,
    pub termination_policy: Option<Located<&'static str>>,
    pub startup: Option<StartupSpec>,
    pub warm_pool: Option<Located<Option<WarmPoolSpec>>>,
    pub launch: Option<LaunchSpec>,
    pub autoscaling: Option<Located<Option<AutoscalingSpec>>>,
    /// `purchase = "spot"`: a single-type pool bought on the spot market.
    pub purchase: Option<Located<PurchaseOption>>,
    pub mixed: Option<Located<Option<RawMixed>>>,
    /// Present but broken reads as `value: None` (reported).
    pub failures: Option<Located<Option<FailureSpec>>>,
    pub replace_unhealthy: Option<Located<bool>>,
    pub region: Option<Located<String>>,
    pub zone: Option<Located<String>>,
}

const NAME: Key<Name> = Key::required("name", Name, "name the pool, such as name = \"gpu\"");
const MIXED_INSTANCES: Key<Nested> = Key::optional("mixed_instances", Nested);
/// Without a mixed instances policy, which names its types itself.
const INSTANCE_TYPE: Key<Text> = Key::required(
    "instance_type",
    Text,
    "name one of the [[instance_type]] tables",
);
const MIXED_INSTANCE_TYPE: Key<Text> = Key::optional("instance_type", Text);
const AUTOSCALING: Key<Nested> = Key::optional("autoscaling", Nested);
/// Without autoscaling: the fixed size of the pool.
const INSTANCES: Key<Whole> = Key::required(
    "instances",
    Whole(1, MAX_INSTANCES),
    "say how many instances the pool has, such as instances = 8",
);
/// With autoscaling, the group may start empty and `instances` defaults to its min.
const SCALED_INSTANCES: Key<Whole> = Key::optional("instances", Whole(0, MAX_INSTANCES));
const DISPATCH: Key<OneOf> = Key::optional("dispatch", OneOf(&["balancer", "shared_queue"]));
const QUEUE_CAPACITY: Key<Whole> = Key::optional("queue_capacity", Whole(0, u32::MAX as i64));
const WEIGHT: Key<Whole> = Key::optional("weight", Whole(1, 1000));
const QUEUE: Key<Text> = Key::optional("queue", Text);
const DEREGISTRATION_DELAY: Key<DeregistrationDelay> =
    Key::optional("deregistration_delay", DeregistrationDelay);
const TERMINATION_POLICY: Key<OneOf> =
    Key::optional("termination_policy", OneOf(lifecycle::TERMINATION_POLICIES));
const STARTUP: Key<Nested> = Key::optional("startup", Nested);
const WARM_POOL: Key<Nested> = Key::optional("warm_pool", Nested);
const LAUNCH: Key<Nested> = Key::optional("launch", Nested);
const PURCHASE: Key<Purchase> = Key::optional("purchase", Purchase);
const REPLACE_UNHEALTHY: Key<Flag> = Key::optional("replace_unhealthy", Flag);
const FAILURES: Key<Nested> = Key::optional("failures", Nested);
const REGION: Key<Text> = Key::optional("region", Text);
const ZONE: Key<Text> = Key::optional("zone", Text);

/// Reads a `[[pool]]` table.
pub fn read_pool(r: &mut Reader<'_>, node: Node<'_, '_>, base_dir: &Path) -> Option<RawPool> {
    let mut f = r.table(node, "a pool table")?;
    let name = f.read(r, &NAME);
    let mixed = f.node(r, &MIXED_INSTANCES);
    let instance_type = match &mixed {
        Some(_) => f.read(r, &MIXED_INSTANCE_TYPE),
        None => f.read(r, &INSTANCE_TYPE),
    };
    let autoscaling = f.node(r, &AUTOSCALING);
    let instances = match &autoscaling {
        Some(_) => f.read(r, &SCALED_INSTANCES),
        None => f.read(r, &INSTANCES),
    };
    let p = RawPool {
        name,
        instance_type,
        instances,
        dispatch: f.read(r, &DISPATCH),
        queue_capacity: f.read(r, &QUEUE_CAPACITY),
        weight: f.read(r, &WEIGHT),
        queue: f.read(r, &QUEUE),
        deregistration_delay: f.read(r, &DEREGISTRATION_DELAY),
        termination_policy: f.read(r, &TERMINATION_POLICY),
        startup: f
            .node(r, &STARTUP)
            .and_then(|n| lifecycle::read_startup(r, n, base_dir)),
        warm_pool: f.read_nested(r, &WARM_POOL, lifecycle::read_warm_pool),
        launch: f
            .node(r, &LAUNCH)
            .and_then(|n| lifecycle::read_launch(r, n)),
        autoscaling: autoscaling.map(|n| n.at().to(autoscaling::read(r, n))),
        purchase: f.read(r, &PURCHASE),
        mixed: mixed.map(|n| n.at().to(read_mixed(r, n))),
        replace_unhealthy: f.read(r, &REPLACE_UNHEALTHY),
        failures: f.read_nested(r, &FAILURES, |r, n| read_failures(r, n, base_dir)),
        region: f.read(r, &REGION),
        zone: f.read(r, &ZONE),
    };
    f.finish(r);
    Some(p)
}
