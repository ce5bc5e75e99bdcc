//! Balancer picks with 10,000 targets, every algorithm.
//!
//! `cargo bench --bench balancers`. A hold model: 20,000 requests in flight; each step picks a
//! target for a new request, starts it, and finishes the oldest one (with a response time, for
//! the algorithms that learn from them). A third of the targets have weight 3, the rest 1 (A100s
//! and T4s). One element = one pick + one start + one finish.
//!
//! `balancer_set_weight_10k_targets`: weights scaled by 1000 (a group with slow start), ten
//! targets ramping at once (a scale-out of ten), each step moving one of them to its next ramp
//! weight, then one pick. One element = one `set_weight` + one pick. Maglev rebuilds its
//! 65,537-slot table on every change, so it runs 100 steps.

use std::collections::VecDeque;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fleetsim::engine::RandomStreams;
use fleetsim::model::balancer::{Algorithm, Balancer, RequestKey};
use fleetsim::time::{SimDuration, SimTime};

const TARGETS: usize = 10_000;
const IN_FLIGHT: usize = 20_000;
const STEPS: u64 = 200_000;

fn balancers(c: &mut Criterion) {
    let mut g = c.benchmark_group("balancer_pick_10k_targets");
    g.throughput(Throughput::Elements(STEPS));
    g.sample_size(10);
    let weights: Vec<u32> = (0..TARGETS)
        .map(|i| if i % 3 == 0 { 3 } else { 1 })
        .collect();
    for name in Algorithm::NAMES {
        let algorithm = Algorithm::from_name(name).expect("a listed name");
        let mut b = Balancer::new(
            algorithm,
            weights.clone(),
            RandomStreams::new(1).stream("bench"),
        );
        let mut open: VecDeque<usize> = VecDeque::with_capacity(IN_FLIGHT + 1);
        let mut step = 0u64;
        let mut next = |b: &mut Balancer, open: &mut VecDeque<usize>| {
            step += 1;
            let key = RequestKey {
                user: step.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40,
                client_ip: (step.wrapping_mul(0xd1b5_4a32_d192_ed03) >> 32) as u32,
            };
            let t = b.pick(key).expect("targets are eligible");
            b.dispatched(t);
            open.push_back(t);
            if open.len() > IN_FLIGHT {
                let done = open.pop_front().expect("non-empty");
                let rtt = SimDuration::from_nanos(50_000_000 + (step % 1000) * 1_000_000);
                b.finished(done, Some((rtt, SimTime::from_nanos(step * 1_000_000))));
            }
        };
        // Fill to the working load first.
        for _ in 0..IN_FLIGHT {
            next(&mut b, &mut open);
        }
        g.bench_function(*name, |bencher| {
            bencher.iter(|| {
                for _ in 0..STEPS {
                    next(&mut b, &mut open);
                }
                black_box(open.len())
            })
        });
    }
    g.finish();
}

fn set_weight(c: &mut Criterion) {
    let mut g = c.benchmark_group("balancer_set_weight_10k_targets");
    g.sample_size(10);
    let weights: Vec<u32> = (0..TARGETS)
        .map(|i| if i % 3 == 0 { 3000 } else { 1000 })
        .collect();
    for name in Algorithm::NAMES {
        let algorithm = Algorithm::from_name(name).expect("a listed name");
        let steps: u64 = if *name == "consistent_hash" {
            100
        } else {
            20_000
        };
        g.throughput(Throughput::Elements(steps));
        let mut b = Balancer::new(
            algorithm,
            weights.clone(),
            RandomStreams::new(1).stream("bench"),
        );
        let mut step = 0u64;
        g.bench_function(*name, |bencher| {
            bencher.iter(|| {
                for _ in 0..steps {
                    step += 1;
                    // Targets 0, 1000, …, 9000 ramp; each moves by one weight unit per visit.
                    let t = (step % 10) as usize * 1000;
                    b.set_weight(t, 1 + (step / 10 % 999) as u32);
                    black_box(b.pick(RequestKey::default()));
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, balancers, set_weight);
criterion_main!(benches);
