//! `[billing]`: how instances and balancers are billed (per second with a minimum, or per
//! hour), and the load balancer's own price.
//!
//! It must not know how money is accounted in the run: it describes prices and rules.

use crate::model::market::billing::{
    BillingSpec, Granularity, LoadBalancerPrice, ALB_USD_PER_HOUR, ALB_USD_PER_LCU_HOUR,
    MAX_MINIMUM,
};
use crate::scenario::reader::keys::{Key, Kind, OneOf, Price};
use crate::scenario::reader::{Located, Node, Reader};
use crate::time::SimDuration;

/// A billing minimum: a duration of at most [`MAX_MINIMUM`].
#[derive(Debug, Clone, Copy)]
struct Minimum;

impl Kind for Minimum {
    type Value = SimDuration;
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<SimDuration>> {
        let m = r.duration(&node)?;
        // No cloud bills more than an hour per start (EC2 and GCE: 60 s; the old EC2 rule:
        // an hour); a longer minimum is a unit mistake.
        if m.value > MAX_MINIMUM {
            r.error(
                &m,
                format!("a billing minimum of {} is longer than an hour", m.value),
                Some("such as minimum = \"60s\" (EC2, GCE); at most \"1h\"".into()),
            );
            return None;
        }
        Some(m)
    }
}

/// A load balancer's price per hour: `"alb"` (AWS ALB's list price) or a price.
#[derive(Debug, Clone, Copy)]
struct LoadBalancer;

impl Kind for LoadBalancer {
    type Value = f64;
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<f64>> {
        if node.is_table() {
            r.error(
                &node.at(),
                "expected \"alb\" or a price such as \"$0.0225/h\"",
                Some("write load_balancer = \"alb\" (AWS ALB list prices, us-east-1)".into()),
            );
            return None;
        }
        if node.as_str() == Some("alb") {
            return Some(node.locate(ALB_USD_PER_HOUR));
        }
        r.price_per_hour(&node)
    }
}

const GRANULARITY: Key<OneOf> = Key::optional("granularity", OneOf(&["per_second", "per_hour"]));
const MINIMUM: Key<Minimum> = Key::optional("minimum", Minimum);
const LOAD_BALANCER: Key<LoadBalancer> = Key::optional("load_balancer", LoadBalancer);
const LCU: Key<Price> = Key::optional("lcu", Price);

/// `[billing]`.
pub fn read_billing(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<BillingSpec>> {
    let at = node.at();
    let mut f = r.table(
        node,
        "a table such as [billing] granularity = \"per_second\"",
    )?;
    let granularity = f.read(r, &GRANULARITY);
    let minimum = f.read(r, &MINIMUM);
    let load_balancer = f.read(r, &LOAD_BALANCER);
    let lcu = f.read(r, &LCU);
    f.finish(r);
    let granularity = match granularity.map(|g| g.value) {
        Some("per_hour") => Granularity::PerHour,
        _ => Granularity::PerSecond,
    };
    let minimum = minimum.map_or(
        match granularity {
            Granularity::PerSecond => SimDuration::from_secs(60),
            Granularity::PerHour => SimDuration::ZERO,
        },
        |m| m.value,
    );
    let load_balancer = match (load_balancer, lcu) {
        (Some(per_hour), lcu) => Some(LoadBalancerPrice {
            per_hour: per_hour.value,
            per_lcu_hour: lcu.map_or(ALB_USD_PER_LCU_HOUR, |l| l.value),
        }),
        (None, Some(l)) => {
            r.error(
                &l,
                "lcu prices a load balancer's capacity units, but no load_balancer is billed",
                Some("add load_balancer = \"alb\" (or a price such as \"$0.0225/h\")".into()),
            );
            return None;
        }
        (None, None) => None,
    };
    Some(at.to(BillingSpec {
        granularity,
        minimum,
        load_balancer,
    }))
}
