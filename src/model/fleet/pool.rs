//! Instance types and pool specifications, as validated from a scenario.

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

/// A pool of identical instances.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolSpec {
    /// Name used in the scenario and in results.
    pub name: String,
    /// Index into the scenario's instance types.
    pub instance_type: usize,
    /// Number of instances (fixed for now).
    pub instances: u32,
    /// How requests reach instances.
    pub dispatch: Dispatch,
    /// Waiting room: per instance (behind a balancer) or for the pool (shared queue).
    /// `None` is unbounded; `Some(0)` rejects a request when no slot is free.
    pub queue_capacity: Option<u32>,
    /// Load-balancing weight of each instance: the pool's own, else its type's.
    pub weight: u32,
}
