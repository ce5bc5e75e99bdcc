//! The yardstick: the smallest honest hand-written event loop for the M/M/16 workload of
//! issue 2 (Poisson arrivals λ = 14.4/s, exponential service of mean 1 s, 16 servers, one FIFO
//! queue, 2,000,000 arrivals). No scenario file, no metrics beyond the mean wait, no timeline:
//! what fleetsim's wall time is measured against.
//!
//! It shares fleetsim's choices that are not overhead: integer nanosecond time, a binary heap
//! ordered by (time, sequence), the Pcg64Mcg generator, exponential variates from `rand_distr`.
//!
//! Run alone (what `benches/peers/run_peers.sh` times):
//! `cargo run --release --example yardstick_mm16 -- [ARRIVALS]`.
//! `benches/mm16.rs` runs it under criterion next to fleetsim.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use rand::SeedableRng;
use rand_distr::{Distribution, Exp};
use rand_pcg::Pcg64Mcg;

/// What one run of the yardstick measured.
#[derive(Debug, Clone, Copy)]
pub struct YardstickResult {
    /// Events popped from the heap (arrivals + departures).
    pub events: u64,
    /// Requests that finished service.
    pub completed: u64,
    /// Mean time in system, seconds.
    pub mean_latency_s: f64,
}

const ARRIVAL: u8 = 0;
const DEPARTURE: u8 = 1;

/// Simulates `arrivals` arrivals of M/M/`servers` and runs until the system empties.
pub fn run_mm_c(
    arrivals: u64,
    lambda: f64,
    mean_service_s: f64,
    servers: u32,
    seed: u64,
) -> YardstickResult {
    let mut rng_arrival = Pcg64Mcg::seed_from_u64(seed);
    let mut rng_service = Pcg64Mcg::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15);
    let inter = Exp::new(lambda).expect("positive rate");
    let service = Exp::new(1.0 / mean_service_s).expect("positive mean");
    let ns = |s: f64| (s * 1e9).round() as u64;

    // Key: (time ns, sequence, kind); the sequence keeps equal times FIFO.
    let mut heap: BinaryHeap<Reverse<(u64, u64, u8, u64)>> = BinaryHeap::with_capacity(64);
    let mut seq = 0u64;
    let mut waiting: VecDeque<u64> = VecDeque::new();
    let mut busy = 0u32;
    let (mut events, mut completed, mut generated) = (0u64, 0u64, 1u64);
    let mut latency_sum_ns = 0u128;

    heap.push(Reverse((
        ns(inter.sample(&mut rng_arrival)),
        seq,
        ARRIVAL,
        0,
    )));
    while let Some(Reverse((now, _, kind, arrived_at))) = heap.pop() {
        events += 1;
        if kind == ARRIVAL {
            if generated < arrivals {
                generated += 1;
                seq += 1;
                heap.push(Reverse((
                    now + ns(inter.sample(&mut rng_arrival)),
                    seq,
                    ARRIVAL,
                    0,
                )));
            }
            if busy < servers {
                busy += 1;
                seq += 1;
                heap.push(Reverse((
                    now + ns(service.sample(&mut rng_service)),
                    seq,
                    DEPARTURE,
                    now,
                )));
            } else {
                waiting.push_back(now);
            }
        } else {
            completed += 1;
            latency_sum_ns += u128::from(now - arrived_at);
            if let Some(next) = waiting.pop_front() {
                seq += 1;
                heap.push(Reverse((
                    now + ns(service.sample(&mut rng_service)),
                    seq,
                    DEPARTURE,
                    next,
                )));
            } else {
                busy -= 1;
            }
        }
    }
    YardstickResult {
        events,
        completed,
        mean_latency_s: latency_sum_ns as f64 / completed.max(1) as f64 / 1e9,
    }
}

#[allow(dead_code)] // `main` is used when built as an example, not when included by a bench.
fn main() {
    let arrivals: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("ARRIVALS must be a whole number"))
        .unwrap_or(2_000_000);
    let r = run_mm_c(arrivals, 14.4, 1.0, 16, 1);
    // Erlang C: W = 1 + P(wait)/(cμ − λ) ≈ 1.3456 s; printed so a broken yardstick shows.
    println!(
        "yardstick M/M/16: {} events, {} completed, mean latency {:.4} s (Erlang C 1.3456 s)",
        r.events, r.completed, r.mean_latency_s
    );
}
