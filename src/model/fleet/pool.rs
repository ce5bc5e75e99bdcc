//! Instance types and the fleet's settings of a pool (startup, warm pool, launches,
//! termination), as validated from a scenario. The pool as a whole, which also holds its
//! autoscaler, is the scenario's [`crate::scenario::spec::PoolSpec`].

use crate::model::distribution::ServiceTime;
use crate::time::SimDuration;

/// A kind of server: its capacity, speed and price.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceType {
    /// Name used in the scenario (`"a100"`).
    pub name: String,
    /// Requests one instance serves at the same time (its slots).
    pub concurrency: u32,
    /// How much faster than the reference a request is served: service time = reference / speed.
    pub speed: f64,
    /// On-demand price [USD/h].
    pub price_per_hour: f64,
    /// Load-balancing weight of its instances (default 1): an A100 might be 3 to a T4's 1.
    pub weight: u32,
    /// The cloud, when the type comes from the catalog.
    pub cloud: Option<crate::model::market::catalog::Cloud>,
    /// The region its prices are for, when the type comes from the catalog.
    pub region: Option<String>,
    /// Its accelerator (`"A10G"`), when the catalog knows it.
    pub gpu_model: Option<String>,
    /// Its LLM server (`llm = { ... }`: a token profile or a model on GPUs); `None`: it
    /// serves only classes with a service-time distribution. With one, `concurrency` is its
    /// slots ([`super::llm_server::LlmServer::slots`]).
    pub llm: Option<super::llm_server::LlmServer>,
    /// Its spot price path, if one is known (the scenario's `spot_price`, else the catalog's):
    /// buying it on the spot market without one is a validation error.
    pub spot_price: Option<crate::model::market::spot_price::SpotPriceSpec>,
    /// How its spot instances are interrupted; `None`: never.
    pub spot_interruptions: Option<crate::model::market::interruptions::SpotInterruptions>,
    /// How many of its spot instances the cloud has for us over time; `None`: unlimited.
    pub spot_availability:
        Option<std::sync::Arc<crate::model::market::interruptions::SpotAvailability>>,
}

/// How requests reach the instances of a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dispatch {
    /// One FIFO queue in front of the pool; a request starts on any free slot (M/M/c).
    SharedQueue,
    /// The balancer picks an instance on arrival; each instance has its own FIFO queue.
    Balancer,
}

/// What an instance does with a request whose client has timed out while it was being served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnTimeout {
    /// The server is not told and finishes the work (nginx `proxy_read_timeout`, an ALB idle
    /// timeout): the slot stays busy until then.
    KeepServing,
    /// The server aborts the work at the deadline and frees the slot (as vLLM does when the client
    /// disconnects).
    Cancel,
}

/// How long each phase of an instance's start takes (ARCHITECTURE.md, "Instance lifecycle"):
/// each a distribution, drawn once per instance and phase.
#[derive(Debug, Clone, PartialEq)]
pub struct StartupSpec {
    /// Provisioning and boot of the host and its serving container (`[pool.startup] boot`).
    pub boot: ServiceTime,
    /// Loading the model's weights into GPU memory (`model_load`).
    pub model_load: ServiceTime,
    /// Warm-up before the server is ready: compilation, CUDA graphs, first batches (`warm_up`).
    pub warm_up: ServiceTime,
    /// `model_load = { from = ... }`: the load time follows from the pool's LLM engine's
    /// weights and this source (set into `model_load` when the scenario is validated).
    pub model_load_from: Option<crate::model::llm::load::WeightSource>,
}

impl StartupSpec {
    /// An instance that is ready the moment it is launched (every phase zero).
    pub fn instant() -> Self {
        let zero = ServiceTime::Constant { nanos: 0.0 };
        StartupSpec {
            boot: zero.clone(),
            model_load: zero.clone(),
            warm_up: zero,
            model_load_from: None,
        }
    }
}

/// Which instances scale-in removes first (`termination_policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TerminationPolicy {
    /// AWS `Default` with one availability zone and one launch template: the instance closest
    /// to its next billing hour, ties to the lowest id (AWS picks at random among ties).
    /// For Kubernetes controllers (HPA, KEDA) the default is [`TerminationPolicy::Kubernetes`].
    AwsDefault,
    /// AWS `OldestInstance`.
    OldestInstance,
    /// AWS `NewestInstance`.
    NewestInstance,
    /// The ReplicaSet controller's ranking (`ActivePodsWithRanks`): not-yet-ready pods first
    /// (pending before starting), then the most recently ready.
    Kubernetes,
    /// AWS `AllocationStrategy`: within the purchase option being reduced, the instance the
    /// allocation strategy would have launched last (the lowest priority on-demand type, or the
    /// dearest); then as `AwsDefault`.
    AllocationStrategy,
}

/// The warm pool of a pool (`[pool.warm_pool]`), with AWS EC2 Auto Scaling semantics
/// ("Warm pools for Amazon EC2 Auto Scaling").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WarmPoolSpec {
    /// `MinSize`: instances kept in the pool at least. Default 0.
    pub min_size: u32,
    /// `MaxGroupPreparedCapacity`: the pool holds this minus the desired capacity (at least
    /// `min_size`). `None`: the group's maximum size (AWS's default).
    pub max_prepared_capacity: Option<u32>,
    /// `PoolState`: [`super::lifecycle::InstanceState::WarmStopped`] (default),
    /// `WarmHibernated` or `WarmRunning`.
    pub state: super::lifecycle::InstanceState,
    /// `InstanceReusePolicy.ReuseOnScaleIn`: scale-in returns instances to the pool instead of
    /// terminating them. Default false.
    pub reuse_on_scale_in: bool,
    /// What a stopped or hibernated instance still costs (its volumes) [USD/h]. Default 0.
    pub storage_price_per_hour: f64,
}

impl WarmPoolSpec {
    /// The instances the pool holds for a group of maximum size `max` at desired capacity
    /// `desired`: `max(MinSize, MaxGroupPreparedCapacity − desired)`, the prepared capacity
    /// defaulting to the group's maximum (AWS, "Warm pools for Amazon EC2 Auto Scaling").
    pub fn size(&self, max: u32, desired: u32) -> u32 {
        self.max_prepared_capacity
            .unwrap_or(max)
            .saturating_sub(desired)
            .max(self.min_size)
    }
}

/// How launches can fail or be throttled (`[pool.launch]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LaunchSpec {
    /// Probability that one launch attempt fails at once (insufficient capacity). Default 0.
    pub failure_probability: f64,
    /// After a failed launch, the group tries again this much later. Default 10 s.
    pub retry_after: SimDuration,
    /// At most this many launches start per minute (`None`: no limit). Default none.
    pub per_minute: Option<u32>,
}

impl Default for LaunchSpec {
    fn default() -> Self {
        LaunchSpec {
            failure_probability: 0.0,
            retry_after: SimDuration::from_secs(10),
            per_minute: None,
        }
    }
}

/// ELB's default deregistration delay (target group attribute
/// `deregistration_delay.timeout_seconds`, default 300).
pub const DEFAULT_DEREGISTRATION_DELAY: SimDuration = SimDuration::from_secs(300);

/// Kubernetes' default grace period for a pod being deleted: after SIGTERM the kubelet waits
/// `terminationGracePeriodSeconds` ("Defaults to 30 seconds", core/v1 `PodSpec`) and then kills
/// it. The default of a pool an HPA or KEDA scales, whose leaving instances are pods.
pub const DEFAULT_TERMINATION_GRACE_PERIOD: SimDuration = SimDuration::from_secs(30);
