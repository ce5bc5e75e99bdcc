//! A pool as a scenario describes it: which instances, how requests reach them, how they start
//! and leave, and the autoscaler that sizes it. It joins the parts of several models (the
//! fleet's settings, the market's purchase options, an autoscaling policy), so it belongs to no
//! one model: `model/fleet` must not know about scaling decisions.

use crate::model::autoscale::spec::AutoscalingSpec;
use crate::model::fleet::mixed::MixedInstances;
use crate::model::fleet::{
    Dispatch, FailureSpec, LaunchSpec, StartupSpec, TerminationPolicy, WarmPoolSpec,
};
use crate::time::SimDuration;

/// A pool of identical instances.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolSpec {
    /// Name used in the scenario and in results.
    pub name: String,
    /// Index into the scenario's instance types.
    pub instance_type: usize,
    /// Instances in service when the run starts (with autoscaling: the initial desired
    /// capacity, within its min and max).
    pub instances: u32,
    /// How requests reach instances.
    pub dispatch: Dispatch,
    /// Waiting room: per instance (behind a balancer) or for the pool (shared queue).
    /// `None` is unbounded; `Some(0)` rejects a request when no slot is free.
    pub queue_capacity: Option<u32>,
    /// Load-balancing weight of each instance: the pool's own, else its type's.
    pub weight: u32,
    /// How long a launched instance takes to serve (`[pool.startup]`; default: at once).
    pub startup: StartupSpec,
    /// How long a draining instance may finish its requests before it is cut off.
    pub deregistration_delay: SimDuration,
    /// Which instances scale-in removes first.
    pub termination_policy: TerminationPolicy,
    /// The warm pool, if any.
    pub warm_pool: Option<WarmPoolSpec>,
    /// Launch failures and throttling.
    pub launch: LaunchSpec,
    /// The autoscaler that sets its desired capacity; `None`: a fixed fleet.
    pub autoscaling: Option<AutoscalingSpec>,
    /// The named queue its workers pull from (`[[queue]]`), if it is a queue-driven pool.
    pub queue: Option<String>,
    /// Several instance types and purchase options (`[pool.mixed_instances]`, or
    /// `purchase = "spot"`); `None`: every instance is `instance_type`, on demand.
    pub mixed: Option<MixedInstances>,
    /// Random crashes and GPU faults (`[pool.failures]`).
    pub failures: Option<FailureSpec>,
    /// The group replaces an instance its load balancer's active health check finds unhealthy
    /// (`replace_unhealthy`; AWS: the Auto Scaling group's ELB health checks). Default false.
    pub replace_unhealthy: bool,
}
