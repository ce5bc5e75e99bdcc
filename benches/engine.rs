//! Engine benchmarks: the event queue alone, and whole scenarios end to end.
//!
//! `cargo bench --bench engine`

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fleetsim::engine::EventQueue;
use fleetsim::metrics::DiscardTimeline;
use fleetsim::time::SimDuration;

/// A hold model: a queue kept at `size` pending events; each step pops one and schedules one a
/// pseudo-random delay later. Measures push + pop at a realistic heap size.
fn queue_hold(c: &mut Criterion) {
    let mut g = c.benchmark_group("event_queue_hold");
    for size in [64usize, 4096] {
        const STEPS: u64 = 1_000_000;
        g.throughput(Throughput::Elements(STEPS));
        g.bench_function(format!("size_{size}"), |b| {
            b.iter(|| {
                let mut q = EventQueue::new();
                let mut x = 0x2545_f491_4f6c_dd1du64;
                for i in 0..size as u64 {
                    q.schedule_in(SimDuration::from_nanos(i * 1000), i);
                }
                for _ in 0..STEPS {
                    let (_, e) = q.pop().expect("never empty");
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    q.schedule_in(SimDuration::from_nanos(x % 1_000_000), black_box(e));
                }
                q.len()
            })
        });
    }
    g.finish();
}

/// The shipped scenarios' base runs, end to end (parsing excluded): a fixed M/M/16, the viral
/// spike under target tracking (hundreds of instances launched and drained), the HPA's behavior
/// rules on a shared queue, a mixed on-demand/spot pool with interruptions and spot price paths,
/// two clouds behind DNS with an outage, and a week of image generation billed per instance.
fn scenarios(c: &mut Criterion) {
    let mut g = c.benchmark_group("scenario");
    g.sample_size(10);
    for name in [
        "mmc_validation",
        "viral_spike_100x",
        "hpa_behavior",
        "spot_mix",
        "multi_cloud_failover",
        "stable_diffusion_5000_users",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{name}.toml"));
        let s = fleetsim::ScenarioSet::load(&path)
            .expect("shipped scenarios are valid")
            .base;
        let events = fleetsim::run(&s, s.seed, &mut DiscardTimeline)
            .expect("a shipped scenario runs to its end")
            .summary
            .events;
        g.throughput(Throughput::Elements(events));
        g.bench_function(name, |b| {
            b.iter(|| {
                fleetsim::run(&s, s.seed, &mut DiscardTimeline)
                    .expect("a shipped scenario runs to its end")
                    .summary
                    .events
            })
        });
    }
    g.finish();
}

criterion_group!(benches, queue_hold, scenarios);
criterion_main!(benches);
