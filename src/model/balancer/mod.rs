//! Load-balancing algorithms: one file each, behind one enum.
//!
//! A balancer is a pure decision: given a view of its targets it returns the index of the one to
//! send the next request to. It must not know about autoscaling or about the event loop. Adding
//! an algorithm is one new file here plus its variant in [`Algorithm`] and [`Balancer`].

mod least_connections;
mod round_robin;

pub use least_connections::LeastConnections;
pub use round_robin::RoundRobin;

/// What a balancer may see of a target.
pub trait TargetLoad {
    /// Requests the balancer has sent to this target that have not finished (nginx's `conns`):
    /// in service or waiting in the target's queue.
    fn active_requests(&self) -> u32;
}

/// The algorithm named in a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// Each target in turn.
    RoundRobin,
    /// Fewest active requests; ties in round-robin order.
    LeastConnections,
}

impl Algorithm {
    /// Names as written in scenario files.
    pub const NAMES: &'static [&'static str] = &["round_robin", "least_connections"];

    /// The algorithm called `name` in scenario files.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "round_robin" => Some(Algorithm::RoundRobin),
            "least_connections" => Some(Algorithm::LeastConnections),
            _ => None,
        }
    }

    /// The name used in scenario files and results.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::RoundRobin => "round_robin",
            Algorithm::LeastConnections => "least_connections",
        }
    }
}

/// The state of one balancer in front of one group of targets. An enum, not a trait object:
/// the pick is on the hot path and the set of algorithms is closed.
#[derive(Debug, Clone)]
pub enum Balancer {
    /// See [`RoundRobin`].
    RoundRobin(RoundRobin),
    /// See [`LeastConnections`].
    LeastConnections(LeastConnections),
}

impl Balancer {
    /// A fresh balancer running `algorithm`.
    pub fn new(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::RoundRobin => Balancer::RoundRobin(RoundRobin::default()),
            Algorithm::LeastConnections => Balancer::LeastConnections(LeastConnections::default()),
        }
    }

    /// The index of the target for the next request. `targets` must not be empty.
    #[inline]
    pub fn pick<T: TargetLoad>(&mut self, targets: &[T]) -> usize {
        match self {
            Balancer::RoundRobin(b) => b.pick(targets.len()),
            Balancer::LeastConnections(b) => b.pick(targets),
        }
    }
}
