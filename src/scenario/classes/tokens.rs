//! The check of token-based (LLM) classes against the fleet: every instance type that may
//! serve one has an LLM profile.

use super::read::RawClass;
use super::validate::RequestClass;
use crate::model::balancer::routing::{RouteSpec, TargetGroupSpec};
use crate::model::fleet::InstanceType;
use crate::model::topology::Topology;
use crate::scenario::reader::Reader;
use crate::scenario::spec::PoolSpec;

/// Every instance type that may serve a token-based class has an LLM profile: those of the
/// pools of its route's target group (and, with regions, of every region's group for it).
/// Checked only when the classes, types and pools are valid (`Some`).
#[allow(clippy::too_many_arguments)]
pub fn check_token_types(
    r: &mut Reader<'_>,
    raw_classes: &[RawClass],
    classes: Option<&[RequestClass]>,
    types: Option<&[InstanceType]>,
    pools: Option<&[PoolSpec]>,
    groups: &[TargetGroupSpec],
    routes: &[RouteSpec],
    topology: Option<&Option<Topology>>,
) {
    let (Some(classes), Some(types), Some(pools)) = (classes, types, pools) else {
        return;
    };
    let raw_classes: Vec<&RawClass> = raw_classes.iter().filter(|c| c.name.is_some()).collect();
    for (c, rc) in classes.iter().zip(raw_classes) {
        if c.tokens.is_none() {
            continue;
        }
        let mut group_ids = vec![routes[c.route].target_group];
        if let Some(Some(t)) = topology {
            let k = t.dns.regions.len();
            group_ids.extend_from_slice(&t.route_groups[c.route * k..(c.route + 1) * k]);
        }
        let mut missing: Vec<&str> = Vec::new();
        for g in group_ids {
            for &p in &groups[g].pools {
                let spec = &pools[p];
                let mut its_types = vec![spec.instance_type];
                if let Some(m) = &spec.mixed {
                    its_types.extend_from_slice(&m.types);
                }
                for t in its_types {
                    let name = types[t].name.as_str();
                    if types[t].llm.is_none() && !missing.contains(&name) {
                        missing.push(name);
                    }
                }
            }
        }
        if !missing.is_empty() {
            r.error(
                &rc.at,
                format!(
                    "class \"{}\" is token-based, but instance type {} that may serve it has no llm profile",
                    c.name,
                    missing.join(", ")
                ),
                Some("add llm = { prefill_per_token = \"0.2ms\", decode_step = { base = \"25ms\", per_sequence = \"0.4ms\" }, max_batch = 32 } to the [[instance_type]]".into()),
            );
        }
    }
}
