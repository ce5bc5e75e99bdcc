//! Stage one: the TOML document into `Raw*` shapes, each table read by its topic.
//!
//! Every field is checked for its type and unit where it is read and kept with its position, so
//! that stage two can point at it. A missing or broken field is `None`, and reading goes on.
//! This file only calls the topics, in the order of the file format's root keys.

use std::path::Path;

use toml_span::value::Value;

use super::balancer::keys::{read_balancer_defaults, RawBalancer};
use super::balancer::retry::read_client;
use super::balancer::routing::{read_route, read_target_group, RawRoute, RawTargetGroup};
use super::classes::read::{read_class, RawClass};
use super::faults::{read_fault, RawFault};
use super::fleet::pool::{read_pool, RawPool};
use super::fleet::queues::{read_queue, RawQueue};
use super::market::billing::read_billing;
use super::market::instance_type::{read_instance_type, RawInstanceType};
use super::reader::keys::{Key, Nested};
use super::reader::{read_array, Located, Node, Reader};
use super::run::{self, RawRun};
use super::slo::read_slo;
use super::spot::interruptions::{read_shortage, RawShortage};
use super::topology::read::RawTopology;
use super::traffic::read::{read_traffic, RawTraffic};
use crate::model::market::billing::BillingSpec;
use crate::model::traffic::backoff::ClientRetry;
use crate::scenario::spec::SloSpec;

/// The whole file.
pub struct RawScenario {
    /// `name`, `duration`, `warmup`, `seed`, `timeout`, `on_timeout`, `[timeline]`.
    pub run: RawRun,
    pub traffic: RawTraffic,
    pub instance_types: Vec<RawInstanceType>,
    pub pools: Vec<RawPool>,
    pub queues: Vec<RawQueue>,
    pub classes: Vec<RawClass>,
    pub classes_at: Located<()>,
    pub balancer: Option<RawBalancer>,
    pub target_groups: Vec<RawTargetGroup>,
    pub routes: Vec<RawRoute>,
    pub faults: Vec<RawFault>,
    pub capacity_shortages: Vec<RawShortage>,
    pub client_retry: Option<Located<ClientRetry>>,
    pub slo: Option<Located<SloSpec>>,
    pub billing: Option<Located<BillingSpec>>,
    /// Regions, places, DNS, outages and data-transfer prices.
    pub topology: RawTopology,
}

const TRAFFIC: Key<Nested> = Key::required(
    "traffic",
    Nested,
    "add a [traffic] table, such as [traffic] rate = \"100/s\"",
);
const BALANCER: Key<Nested> = Key::optional("balancer", Nested);
const CLIENT: Key<Nested> = Key::optional("client", Nested);
const SLO: Key<Nested> = Key::optional("slo", Nested);
const BILLING: Key<Nested> = Key::optional("billing", Nested);

/// Reads the document; `None` only if the root is not a table.
pub fn read(r: &mut Reader<'_>, doc: &Value<'_>, base_dir: &Path) -> Option<RawScenario> {
    let root = Node::root(doc);
    let classes_at = Located {
        value: (),
        path: "class".into(),
        span: root.span(),
    };
    let mut f = r.table(root, "a table of scenario settings")?;
    let run = run::read(r, &mut f);
    let duration = run.duration.as_ref().map(|d| d.value);
    let traffic = f
        .node(r, &TRAFFIC)
        .map(|n| read_traffic(r, n, base_dir, duration))
        .unwrap_or_default();
    let instance_types = read_array(r, &mut f, "instance_type", |r, n| {
        read_instance_type(r, n, base_dir)
    });
    let pools = read_array(r, &mut f, "pool", |r, n| read_pool(r, n, base_dir));
    let queues = read_array(r, &mut f, "queue", read_queue);
    let classes = read_array(r, &mut f, "class", |r, n| read_class(r, n, base_dir));
    let balancer = f
        .node(r, &BALANCER)
        .and_then(|n| read_balancer_defaults(r, n));
    let target_groups = read_array(r, &mut f, "target_group", read_target_group);
    let routes = read_array(r, &mut f, "route", read_route);
    let faults = read_array(r, &mut f, "fault", read_fault);
    let capacity_shortages = read_array(r, &mut f, "capacity_shortage", read_shortage);
    let client_retry = f.node(r, &CLIENT).and_then(|n| read_client(r, n));
    let slo = f.node(r, &SLO).and_then(|n| read_slo(r, n));
    let billing = f.node(r, &BILLING).and_then(|n| read_billing(r, n));
    let topology = super::topology::read::read(r, &mut f);
    f.finish(r);
    Some(RawScenario {
        run,
        traffic,
        instance_types,
        pools,
        queues,
        classes,
        classes_at,
        balancer,
        target_groups,
        routes,
        faults,
        capacity_shortages,
        client_retry,
        slo,
        billing,
        topology,
    })
}
