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
//!
//! A target's weight can change while it serves ([`Balancer::set_weight`]): slow start ramps it
//! ([`slow_start`]), operators and autoscalers set it. Each algorithm takes the new weight as
//! the system it copies does; see that method for the cost of each. [`retry_budget`] holds the
//! proxies' rules for how many retries they let through.

mod consistent_hash;
mod dense_set;
mod fenwick;
pub mod health_check;
mod ip_hash;
mod least_connections;
mod least_outstanding;
mod least_response_time;
pub mod passive_health;
mod power_of_two;
mod random;
pub mod retry_budget;
mod round_robin;
pub mod routing;
pub mod slow_start;
mod smooth;
pub mod sticky;
mod weighted_random;
mod weighted_round_robin;

pub use consistent_hash::DEFAULT_TABLE_SIZE;

use crate::engine::StreamRng;
use crate::time::{SimDuration, SimTime};
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
    /// Requests sent to any target that have not ended (Envoy's active requests).
    total_active: u64,
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
            total_active: 0,
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

    /// Requests sent to any target that have not ended.
    pub fn total_active(&self) -> u64 {
        self.total_active
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
        self.total_active += 1;
        self.load_changed(target, from);
    }

    /// A request sent to `target` ended; `response` is its round-trip time and the instant it
    /// ended, when the target answered it.
    #[inline]
    pub fn finished(&mut self, target: usize, response: Option<(SimDuration, SimTime)>) {
        let from = self.active[target];
        debug_assert!(from > 0, "finished more requests than dispatched");
        self.active[target] = from - 1;
        self.total_active -= 1;
        if let (State::LeastResponseTime(b), Some((rtt, now))) = (&mut self.state, response) {
            if self.eligible.contains(target as u32) {
                b.observe(target as u32, rtt, now, from - 1);
                return;
            }
        }
        self.load_changed(target, from);
    }

    /// `target`'s weight.
    pub fn weight(&self, target: usize) -> u32 {
        self.weights[target]
    }

    /// `target`'s weight becomes `weight` (at least 1: a weight of 0 would never be picked by
    /// the weighted algorithms and is not a weight nginx, ALB or Envoy accept). Eligible or not,
    /// the balancer keeps it; each algorithm uses it from its next pick as the real one does:
    ///
    /// | algorithm | what changes | cost |
    /// |---|---|---|
    /// | `weighted_round_robin`, `least_connections` | the smooth WRR weight (and nginx's `conns / weight` ratio); the target keeps its current weight, as nginx's loop re-reads `effective_weight` every pick | O(k + log n) |
    /// | `ip_hash` | the hash's weight ranges (clients move) and the fallback's smooth WRR | O(k + log n) |
    /// | `weighted_random` | the draw's weight | O(log n) |
    /// | `power_of_two_choices` | weighted path: the target's next re-insertion in the EDF (Envoy's slow start); unweighted path: switches to the EDF once weights differ | O(1); O(n log n) on the switch |
    /// | `consistent_hash` | the Maglev table, rebuilt as Envoy does | O(M), M the table size |
    /// | `round_robin` | nothing while all weights are equal; once they differ it runs as nginx smooth WRR, which for equal weights is the same rotation, so that an ALB-style slow start can ramp a target (ALB has no per-target weights: give every target the same base weight) | O(n log n) once, then O(k + log n) |
    /// | `least_outstanding_requests`, `random`, `least_response_time` | stored only: these ignore weights | O(1) |
    ///
    /// k is the number of distinct weights, n the number of targets.
    pub fn set_weight(&mut self, target: usize, weight: u32) {
        debug_assert!(weight > 0, "weight 0 for target {target}");
        let old = self.weights[target];
        if old == weight {
            return;
        }
        self.weights[target] = weight;
        let t = target as u32;
        let eligible = self.eligible.contains(t);
        let active = self.active[target];
        if matches!(self.state, State::RoundRobin(_)) {
            // While in this state all weights were equal or never used; they now differ unless
            // every other target already had the new weight (then nothing changes). O(n), at
            // most until the switch.
            if self.weights.iter().any(|&w| w != weight) {
                let mut wrr = WeightedRoundRobin::new(&self.weights);
                for (u, &w) in self.weights.iter().enumerate() {
                    if !self.eligible.contains(u as u32) {
                        wrr.set_eligible(u as u32, w, false);
                    }
                }
                self.state = State::WeightedRoundRobin(wrr);
            }
            return;
        }
        match &mut self.state {
            State::RoundRobin(_)
            | State::Random
            | State::LeastOutstanding(_)
            | State::LeastResponseTime(_) => {}
            State::WeightedRoundRobin(b) if eligible => b.set_weight(t, old, weight),
            State::LeastConnections(b) if eligible => b.set_weight(t, active, old, weight),
            State::WeightedRandom(b) if eligible => b.set_weight(t, weight),
            State::WeightedRoundRobin(_)
            | State::LeastConnections(_)
            | State::WeightedRandom(_) => {}
            State::PowerOfChoices(b) => {
                b.set_weight(t, &self.eligible, &self.weights, &self.active)
            }
            State::IpHash(b) => b.set_weight(t, old, weight),
            State::ConsistentHash(b) => b.set_weight(t, weight),
        }
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
    fn every_algorithm_keeps_its_structures_whole_through_weight_changes() {
        // Weights change (1 to 1000) on eligible and ineligible targets, interleaved with
        // eligibility changes, dispatches and completions: no algorithm may pick an ineligible
        // target or lose track of one (a stale key in an ordered set would panic on removal),
        // and every target must still be reachable when it is the only one left.
        let mut x = 0x5851_f42d_4c95_7f2du64;
        let mut rand = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for a in every_algorithm() {
            // A small Maglev table: every weight change rebuilds it, O(M).
            let a = match a {
                Algorithm::ConsistentHash { .. } => Algorithm::ConsistentHash { table_size: 211 },
                a => a,
            };
            let n = 6;
            let mut b = Balancer::new(a, vec![2, 1, 1, 3, 1, 2], RandomStreams::new(1).stream("b"));
            let mut eligible = vec![true; n];
            let mut weights = [2, 1, 1, 3, 1, 2];
            let mut open = Vec::new();
            for i in 0..3000u64 {
                let t = (rand() % n as u64) as usize;
                match rand() % 10 {
                    0..=2 => {
                        let w = 1 + (rand() % 1000) as u32;
                        b.set_weight(t, w);
                        weights[t] = w;
                    }
                    3 if eligible.iter().filter(|&&e| e).count() > 1 || !eligible[t] => {
                        eligible[t] = !eligible[t];
                        b.set_eligible(t, eligible[t]);
                    }
                    _ => {}
                }
                let key = RequestKey {
                    user: i % 89,
                    client_ip: (i as u32 % 17) << 8,
                };
                let p = b.pick(key).unwrap();
                assert!(eligible[p], "{a:?} picked ineligible {p}");
                b.dispatched(p);
                open.push(p);
                if i % 2 == 0 {
                    let done = open.remove(0);
                    b.finished(
                        done,
                        Some((SimDuration::from_nanos(1_000 + i), SimTime::from_nanos(i))),
                    );
                }
            }
            assert!((0..n).all(|t| b.weight(t) == weights[t]), "{a:?}");
            for t in 0..n {
                for u in 0..n {
                    b.set_eligible(u, u == t);
                }
                assert_eq!(b.pick(RequestKey::default()), Some(t), "{a:?}");
            }
        }
    }

    #[test]
    fn round_robin_turns_smooth_weighted_once_weights_differ() {
        // ALB-style round robin: equal weights, plain rotation.
        let mut b = Balancer::new(
            Algorithm::RoundRobin,
            vec![1, 1, 1],
            RandomStreams::new(1).stream("b"),
        );
        let picks: Vec<usize> = (0..3)
            .map(|_| b.pick(RequestKey::default()).unwrap())
            .collect();
        assert_eq!(picks, vec![0, 1, 2]);
        // Target 2's weight becomes 4: nginx smooth WRR from zero current weights, total 6:
        // (1,1,4) c → (1,1,-2); (2,2,2) a → (-4,2,2); (-3,3,6) c → (-3,3,0);
        // (-2,4,4) b → (-2,-2,4); (-1,-1,8) c → (-1,-1,2); (0,0,6) c → (0,0,0).
        b.set_weight(2, 4);
        let picks: Vec<usize> = (0..6)
            .map(|_| b.pick(RequestKey::default()).unwrap())
            .collect();
        assert_eq!(picks, vec![2, 0, 2, 1, 2, 2]);
    }

    #[test]
    fn unweighted_algorithms_store_weights_but_ignore_them() {
        // Least outstanding requests: target 1's weight is 1000 times target 0's, yet with
        // equal loads the picks split evenly (ties at random): within 5 sd of 1/2 over 4,000.
        let mut b = Balancer::new(
            Algorithm::LeastOutstandingRequests,
            vec![1, 1],
            RandomStreams::new(1).stream("b"),
        );
        b.set_weight(1, 1000);
        assert_eq!(b.weight(1), 1000);
        let ones = (0..4000)
            .filter(|_| b.pick(RequestKey::default()) == Some(1))
            .count();
        // sd = sqrt(0.25 / 4000) = 0.0079: 5 sd = 0.04 → 160 picks.
        assert!((ones as i64 - 2000).abs() < 160, "{ones}");
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
