//! The issue-2 speed target under criterion: fleetsim against the hand-written yardstick on
//! the M/M/16 workload (λ = 14.4/s, exponential service mean 1 s, ≈ 2,000,000 arrivals).
//!
//! `cargo bench --bench mm16`. Fleetsim runs `benches/peers/mm16.toml` in-process with the
//! timeline discarded (parsing excluded); `benches/peers/run_peers.sh` times the CLI end to end,
//! outputs included, next to the yardstick and SimPy.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fleetsim::metrics::DiscardTimeline;

#[path = "yardstick/mm16.rs"]
mod yardstick;

const ARRIVALS: u64 = 2_000_000;

fn mm16(c: &mut Criterion) {
    let mut g = c.benchmark_group("mm16_2M_arrivals");
    g.sample_size(10);
    g.throughput(Throughput::Elements(ARRIVALS));

    g.bench_function("yardstick", |b| {
        b.iter(|| yardstick::run_mm_c(ARRIVALS, 14.4, 1.0, 16, 1).events)
    });

    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peers/mm16.toml");
    let s = fleetsim::load_scenario(&path).expect("benches/peers/mm16.toml is valid");
    g.bench_function("fleetsim", |b| {
        b.iter(|| {
            fleetsim::run(&s, s.seed, &mut DiscardTimeline)
                .expect("a benchmark scenario runs to its end")
                .summary
                .events
        })
    });
    g.finish();
}

criterion_group!(benches, mm16);
criterion_main!(benches);
