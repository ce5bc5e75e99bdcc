//! What references to a pool (from target groups, routes, classes, faults) are checked
//! against: each `[[pool]]` as read, even one with a broken field, so that a mistake in a pool
//! does not hide the mistakes in the tables naming it.

use super::pool::RawPool;
use crate::model::fleet::Dispatch;
use crate::model::market::PurchaseOption;
use crate::scenario::reader::Names;

/// What references to a pool are checked against: every `[[pool]]`, in file order (so indices
/// are those of the validated pools), including one with a broken field.
pub struct PoolRef {
    /// The pool's name; empty if missing (already reported, and no reference can name it).
    pub name: String,
    /// Its instances at the start, if known: its `instances`, else its autoscaling's min.
    pub instances: Option<u32>,
    /// The most instances it can have in service, if known: its autoscaling's max, else its
    /// `instances`.
    pub most: Option<u32>,
    pub dispatch: Dispatch,
    /// The named queue it pulls from.
    pub queue: Option<String>,
    /// It may buy spot instances (`purchase = "spot"`, or a mixed instances policy with less
    /// than 100 % on-demand above its base).
    pub buys_spot: bool,
}

/// The references of every pool of `pools`, in file order.
pub fn pool_refs(pools: &[RawPool]) -> Vec<PoolRef> {
    pools
        .iter()
        .map(|p| {
            let scaling = p.autoscaling.as_ref().map(|a| a.value.as_ref());
            let given = p.instances.as_ref().map(|i| i.value as u32);
            PoolRef {
                name: p
                    .name
                    .as_ref()
                    .map_or_else(String::new, |n| n.value.clone()),
                instances: given.or_else(|| scaling.flatten().map(|s| s.min)),
                most: match scaling {
                    Some(s) => s.map(|s| s.max),
                    None => given,
                },
                dispatch: match (p.dispatch.as_ref().map(|d| d.value), &p.queue) {
                    (Some("shared_queue"), _) | (_, Some(_)) => Dispatch::SharedQueue,
                    _ => Dispatch::Balancer,
                },
                queue: p.queue.as_ref().map(|q| q.value.clone()),
                buys_spot: p
                    .purchase
                    .as_ref()
                    .is_some_and(|x| x.value == PurchaseOption::Spot)
                    || p.mixed
                        .as_ref()
                        .and_then(|m| m.value.as_ref())
                        .is_some_and(|m| m.on_demand_percent < 100),
            }
        })
        .collect()
}

/// Names of `pools`, for [`find`]; a nameless pool's is empty, which `find` never matches.
pub fn pool_names(pools: &[PoolRef]) -> Names<'_> {
    pools.iter().map(|p| p.name.as_str()).collect()
}
