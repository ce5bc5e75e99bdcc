//! Load-balancing algorithms: one file each, behind one type.
//!
//! A balancer is a decision: asked for a target for a request, it returns one, from what it
//! knows of its targets — their weights, the requests it sent each that have not ended, which
//! are eligible, and for some the response times it saw. The world tells it when a request
//! starts and ends at a target and when a target joins or leaves; the balancer never sees the
//! event loop, autoscaling or the servers themselves. Adding an algorithm is one new file here
//! plus its variant in [`Algorithm`] and the `State` enum.
//!
//! Target health and session affinity are separate pure models that the world consults and
//! applies through [`Balancer::set_eligible`]: [`health_check`] (AWS ALB active checks),
//! [`passive_health`] (nginx `max_fails`/`fail_timeout`) and [`sticky`] (ALB `lb_cookie`).
//!
//! Every pick is O(1) or O(log n) in the number of targets (O(k + log n) for the smooth
//! weighted round robin family, k the number of distinct weights), except the random-sampling
//! ones, which are O(choices). `benches/balancers.rs` measures them with 10,000 targets.

mod consistent_hash;
mod dense_set;
pub mod health_check;
mod ip_hash;
mod least_connections;
mod least_outstanding;
mod least_response_time;
pub mod passive_health;
mod power_of_two;
mod random;
mod round_robin;
pub mod routing;
mod smooth;
pub mod sticky;
mod weighted_random;
mod weighted_round_robin;

pub use consistent_hash::DEFAULT_TABLE_SIZE;

use crate::engine::{SimDuration, SimTime, StreamRng};
use consistent_hash::Maglev;
use dense_set::DenseSet;
use ip_hash::IpHash;
use least_connections::LeastConnections;
use least_outstanding::LeastOutstanding;
use least_response_time::LeastResponseTime;
use power_of_two::PowerOfChoices;
use round_robin::RoundRobin;
use weighted_random::WeightedRandom;
use weighted_round_robin::WeightedRoundRobin;

/// The algorithm named in a scenario, with its settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Algorithm {
    /// Eligible targets in turn (AWS ALB `round_robin`); weights ignored.
    RoundRobin,
    /// nginx smooth weighted round robin.
    WeightedRoundRobin,
    /// nginx `least_conn`: fewest active requests per weight, ties by smooth WRR.
    LeastConnections,
    /// AWS ALB `least_outstanding_requests`: fewest in progress, ties at random.
    LeastOutstandingRequests,
    /// Uniformly random.
    Random,
    /// Random with probability proportional to weight.
    WeightedRandom,
    /// Envoy `LEAST_REQUEST`: best of `choice_count` random targets, or with unequal weights an
    /// EDF schedule of `weight / (active + 1)^active_request_bias`.
    PowerOfTwoChoices {
        /// Targets sampled per pick (Envoy default 2).
        choice_count: u32,
        /// Envoy's `active_request_bias`; `None` is Envoy's default (1.0, unweighted path when
        /// all weights are equal).
        active_request_bias: Option<f64>,
    },
    /// Lowest peak-EWMA response time × (active + 1) (Finagle / Linkerd).
    LeastResponseTime {
        /// Time constant of the EWMA's decay (Finagle default 10 s).
        decay: SimDuration,
    },
    /// nginx `ip_hash` on the first three octets of the client's IPv4 address.
    IpHash,
    /// Envoy `MAGLEV` consistent hashing on the user id.
    ConsistentHash {
        /// Maglev table size, a prime ≥ the number of targets (Envoy default 65,537).
        table_size: u32,
    },
}

impl Algorithm {
    /// Names as written in scenario files.
    pub const NAMES: &'static [&'static str] = &[
        "round_robin",
        "weighted_round_robin",
        "least_connections",
        "least_outstanding_requests",
        "random",
        "weighted_random",
        "power_of_two_choices",
        "least_response_time",
        "ip_hash",
        "consistent_hash",
    ];

    /// The algorithm called `name`, with default settings.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "round_robin" => Algorithm::RoundRobin,
            "weighted_round_robin" => Algorithm::WeightedRoundRobin,
            "least_connections" => Algorithm::LeastConnections,
            "least_outstanding_requests" => Algorithm::LeastOutstandingRequests,
            "random" => Algorithm::Random,
            "weighted_random" => Algorithm::WeightedRandom,
            "power_of_two_choices" => Algorithm::PowerOfTwoChoices {
                choice_count: 2,
                active_request_bias: None,
            },
            "least_response_time" => Algorithm::LeastResponseTime {
                decay: SimDuration::from_secs(10),
            },
            "ip_hash" => Algorithm::IpHash,
            "consistent_hash" => Algorithm::ConsistentHash {
                table_size: DEFAULT_TABLE_SIZE,
            },
            _ => return None,
        })
    }

    /// The name used in scenario files and results.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::RoundRobin => "round_robin",
            Algorithm::WeightedRoundRobin => "weighted_round_robin",
            Algorithm::LeastConnections => "least_connections",
            Algorithm::LeastOutstandingRequests => "least_outstanding_requests",
            Algorithm::Random => "random",
            Algorithm::WeightedRandom => "weighted_random",
            Algorithm::PowerOfTwoChoices { .. } => "power_of_two_choices",
            Algorithm::LeastResponseTime { .. } => "least_response_time",
            Algorithm::IpHash => "ip_hash",
            Algorithm::ConsistentHash { .. } => "consistent_hash",
        }
    }
}

/// An `f64` ordered by `total_cmp`, so that scores and deadlines can derive `Ord` in keys.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TotalF64(pub f64);

impl Ord for TotalF64 {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}
impl PartialOrd for TotalF64 {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for TotalF64 {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for TotalF64 {}

/// What a balancer may know of the request it routes: who sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestKey {
    /// The user (session) id, for consistent hashing.
    pub user: u64,
    /// The client's IPv4 address (`a.b.c.d` as `a << 24 | b << 16 | c << 8 | d`), for IP hash.
    pub client_ip: u32,
}

/// Per-algorithm state. An enum, not a trait object: the pick is on the hot path and the set of
/// algorithms is closed.
#[derive(Debug, Clone)]
enum State {
    RoundRobin(RoundRobin),
    WeightedRoundRobin(WeightedRoundRobin),
    LeastConnections(LeastConnections),
    LeastOutstanding(LeastOutstanding),
    Random,
    WeightedRandom(WeightedRandom),
    PowerOfChoices(PowerOfChoices),
    LeastResponseTime(LeastResponseTime),
    IpHash(IpHash),
    ConsistentHash(Maglev),
}

/// One balancer in front of one group of targets `0..n`.
#[derive(Debug, Clone)]
pub struct Balancer {
    state: State,
    weights: Vec<u32>,
    active: Vec<u32>,
    eligible: DenseSet,
    rng: StreamRng,
}

impl Balancer {
    /// A balancer running `algorithm` over targets of these weights, all eligible and idle;
    /// random choices come from `rng`.
    pub fn new(algorithm: Algorithm, weights: Vec<u32>, rng: StreamRng) -> Self {
        let n = weights.len();
        let state = match algorithm {
            Algorithm::RoundRobin => State::RoundRobin(RoundRobin::new()),
            Algorithm::WeightedRoundRobin => {
                State::WeightedRoundRobin(WeightedRoundRobin::new(&weights))
            }
            Algorithm::LeastConnections => State::LeastConnections(LeastConnections::new(&weights)),
            Algorithm::LeastOutstandingRequests => {
                State::LeastOutstanding(LeastOutstanding::new(n))
            }
            Algorithm::Random => State::Random,
            Algorithm::WeightedRandom => State::WeightedRandom(WeightedRandom::new(&weights)),
            Algorithm::PowerOfTwoChoices {
                choice_count,
                active_request_bias,
            } => State::PowerOfChoices(PowerOfChoices::new(
                choice_count,
                active_request_bias,
                &weights,
            )),
            Algorithm::LeastResponseTime { decay } => {
                State::LeastResponseTime(LeastResponseTime::new(n, decay))
            }
            Algorithm::IpHash => State::IpHash(IpHash::new(&weights)),
            Algorithm::ConsistentHash { table_size } => {
                State::ConsistentHash(Maglev::new(&weights, table_size))
            }
        };
        Balancer {
            state,
            active: vec![0; n],
            eligible: DenseSet::full(n),
            weights,
            rng,
        }
    }

    /// Number of targets, eligible or not.
    pub fn len(&self) -> usize {
        self.weights.len()
    }

    /// True when the balancer has no target.
    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    /// True when `target` may be picked.
    pub fn is_eligible(&self, target: usize) -> bool {
        self.eligible.contains(target as u32)
    }

    /// Requests sent to `target` that have not ended.
    pub fn active(&self, target: usize) -> u32 {
        self.active[target]
    }

    /// The target for the request from `key`; `None` when no target is eligible.
    #[inline]
    pub fn pick(&mut self, key: RequestKey) -> Option<usize> {
        let t = match &mut self.state {
            State::RoundRobin(b) => b.pick(&self.eligible),
            State::WeightedRoundRobin(b) => b.pick(),
            State::LeastConnections(b) => b.pick(),
            State::LeastOutstanding(b) => b.pick(&mut self.rng),
            State::Random => random::pick(&self.eligible, &mut self.rng),
            State::WeightedRandom(b) => b.pick(&mut self.rng),
            State::PowerOfChoices(b) => {
                b.pick(&self.eligible, &self.weights, &self.active, &mut self.rng)
            }
            State::LeastResponseTime(b) => b.pick(),
            State::IpHash(b) => b.pick(key.client_ip),
            State::ConsistentHash(b) => b.pick(key.user),
        };
        t.map(|t| t as usize)
    }

    fn load_changed(&mut self, target: usize, from: u32) {
        let to = self.active[target];
        let t = target as u32;
        if !self.eligible.contains(t) {
            return;
        }
        match &mut self.state {
            State::LeastConnections(b) => b.load_changed(t, self.weights[target], from, to),
            State::LeastOutstanding(b) => b.load_changed(t, from, to),
            State::LeastResponseTime(b) => b.load_changed(t, to),
            _ => {}
        }
    }

    /// A request was sent to `target`.
    #[inline]
    pub fn dispatched(&mut self, target: usize) {
        let from = self.active[target];
        self.active[target] += 1;
        self.load_changed(target, from);
    }

    /// A request sent to `target` ended; `response` is its round-trip time and the instant it
    /// ended, when the target answered it.
    #[inline]
    pub fn finished(&mut self, target: usize, response: Option<(SimDuration, SimTime)>) {
        let from = self.active[target];
        debug_assert!(from > 0, "finished more requests than dispatched");
        self.active[target] = from - 1;
        if let (State::LeastResponseTime(b), Some((rtt, now))) = (&mut self.state, response) {
            if self.eligible.contains(target as u32) {
                b.observe(target as u32, rtt, now, from - 1);
                return;
            }
        }
        self.load_changed(target, from);
    }

    /// `target` joins (`true`) or leaves the set of targets that may be picked.
    pub fn set_eligible(&mut self, target: usize, eligible: bool) {
        let t = target as u32;
        if self.eligible.contains(t) == eligible {
            return;
        }
        if eligible {
            self.eligible.insert(t);
        } else {
            self.eligible.remove(t);
        }
        let (w, a) = (self.weights[target], self.active[target]);
        match &mut self.state {
            State::RoundRobin(_) | State::Random => {}
            State::WeightedRoundRobin(b) => b.set_eligible(t, w, eligible),
            State::LeastConnections(b) => b.set_eligible(t, w, a, eligible),
            State::LeastOutstanding(b) => b.set_eligible(t, a, eligible),
            State::WeightedRandom(b) => b.set_weight(t, if eligible { w } else { 0 }),
            State::PowerOfChoices(b) => b.rebuild(&self.eligible, &self.weights, &self.active),
            State::LeastResponseTime(b) => b.set_eligible(t, a, eligible),
            State::IpHash(b) => b.set_eligible(t, w, eligible),
            State::ConsistentHash(b) => b.set_eligible(t, eligible),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RandomStreams;

    fn every_algorithm() -> Vec<Algorithm> {
        Algorithm::NAMES
            .iter()
            .map(|n| Algorithm::from_name(n).unwrap())
            .collect()
    }

    #[test]
    fn names_round_trip() {
        for a in every_algorithm() {
            assert_eq!(Algorithm::from_name(a.name()), Some(a));
        }
    }

    #[test]
    fn every_algorithm_picks_only_eligible_targets_and_none_when_none_is() {
        for a in every_algorithm() {
            let mut b = Balancer::new(a, vec![2, 1, 1, 3, 1], RandomStreams::new(1).stream("b"));
            b.set_eligible(1, false);
            b.set_eligible(3, false);
            let mut open = Vec::new();
            for i in 0..2000u64 {
                let key = RequestKey {
                    user: i % 97,
                    client_ip: (i as u32 % 13) << 8,
                };
                let t = b.pick(key).unwrap();
                assert!(t != 1 && t != 3, "{a:?} picked ineligible {t}");
                b.dispatched(t);
                open.push(t);
                if i % 3 == 0 {
                    let done = open.remove(0);
                    b.finished(
                        done,
                        Some((SimDuration::from_nanos(1_000 + i), SimTime::from_nanos(i))),
                    );
                }
            }
            for t in [0, 2, 4] {
                b.set_eligible(t, false);
            }
            assert_eq!(b.pick(RequestKey::default()), None, "{a:?}");
            b.set_eligible(3, true);
            assert_eq!(b.pick(RequestKey::default()), Some(3), "{a:?}");
        }
    }

    #[test]
    fn active_counts_follow_dispatch_and_finish() {
        let mut b = Balancer::new(
            Algorithm::LeastConnections,
            vec![1, 1],
            RandomStreams::new(1).stream("b"),
        );
        let t = b.pick(RequestKey::default()).unwrap();
        b.dispatched(t);
        assert_eq!(b.active(t), 1);
        // The other target is now the least loaded.
        let u = b.pick(RequestKey::default()).unwrap();
        assert_ne!(u, t);
        b.finished(t, None);
        assert_eq!(b.active(t), 0);
    }
}
