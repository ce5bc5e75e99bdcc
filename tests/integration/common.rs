//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use fleetsim::metrics::{CollectTimeline, TimelineRow};
use fleetsim::{Scenario, Summary};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The repository root (tests run from anywhere).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Parses scenario text, panicking with the full diagnostic if it is invalid (test helper).
pub fn scenario(text: &str) -> Scenario {
    Scenario::parse(text, Path::new("inline.toml")).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs a scenario with `seed`, keeping the timeline in memory.
pub fn run(s: &Scenario, seed: u64) -> (Summary, Vec<TimelineRow>) {
    let mut sink = CollectTimeline::default();
    let result = fleetsim::run(s, seed, &mut sink).expect("the run ends");
    (result.summary, sink.rows)
}

/// The shipped scenarios too heavy for a plain `cargo test` (over 2 s of simulation each): a
/// test that runs every shipped scenario leaves these to an ignored twin that `.ci/run` runs
/// (`shipped.rs` checks that its ignored tests are exactly these).
pub const HEAVY_SHIPPED: [&str; 4] = [
    "chat_closed_loop",
    "scheduled_and_predictive",
    "stable_diffusion_5000_users",
    "viral_spike_100x",
];

/// Every shipped scenario file.
pub fn shipped_scenarios() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("scenarios"))
        .expect("scenarios/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

/// Mean and two-sided `confidence` Student-t half-width of i.i.d. replication estimates:
/// `t(1 − (1 − confidence)/2, R − 1) · s / √R`, with `s` the sample standard deviation.
pub fn confidence_interval(xs: &[f64], confidence: f64) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let t = StudentsT::new(0.0, 1.0, n - 1.0)
        .unwrap()
        .inverse_cdf(1.0 - (1.0 - confidence) / 2.0);
    (mean, t * (var / n).sqrt())
}

/// `f` applied to every job on two threads (the CI machine has two cores), jobs taken in the
/// order given (put the longest first so that the two threads finish together). Results are
/// placed by job index, so they do not depend on which thread ran what.
pub fn on_two_threads<J: Sync, T: Send>(jobs: &[J], f: impl Fn(&J) -> T + Sync) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<T>>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { return };
                let result = f(job);
                out.lock().unwrap()[i] = Some(result);
            });
        }
    });
    out.into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every job ran"))
        .collect()
}

/// Erlang C: the probability that an arrival waits in M/M/c with offered load `a = λ/μ`, from
/// the numerically stable Erlang B recursion B(k) = a·B(k−1) / (k + a·B(k−1)), then
/// C = c·B / (c − a·(1 − B)) (Kleinrock, *Queueing Systems* vol. 1, §3.5).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    c as f64 * b / (c as f64 - a * (1.0 - b))
}

/// M/M/c mean wait in queue Wq = C(c, a) / (cμ − λ), with μ = 1/mean_service.
pub fn mmc_wait(c: u32, lambda: f64, mean_service: f64) -> f64 {
    let mu = 1.0 / mean_service;
    erlang_c(c, lambda / mu) / (c as f64 * mu - lambda)
}

/// Every file under `dir`, by path relative to it, with its bytes, in path order.
pub fn files_under(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut found = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_str().unwrap().to_string();
                found.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    found
}

/// The fleet of the hand-worked health-check and retry cases: two servers behind round robin,
/// one request every 100 ms (periodic) of 10 ms of work, for 30 s, and instance 1 failing at
/// 10.05 s as `fault` says. `top` goes among the top-level keys, `balancer` into `[balancer]`.
pub fn two_servers(top: &str, balancer: &str, fault: &str) -> String {
    format!(
        r#"
name = "two_servers"
duration = "30s"
{top}
[timeline]
window = "10s"
[traffic]
rate = "10/s"
process = "periodic"
[[instance_type]]
name = "gpu"
concurrency = 1
price = "$1/h"
[[pool]]
name = "p"
instance_type = "gpu"
instances = 2
[balancer]
algorithm = "round_robin"
{balancer}
[[fault]]
pool = "p"
first = 1
at = "10.05s"
{fault}
[[class]]
name = "job"
service = {{ distribution = "constant", value = "10ms" }}
"#
    )
}

/// A fault that leaves the process alive but answers every request with a 500 in 5 ms.
pub const BROKEN: &str = r#"kind = "broken"
error_latency = "5ms""#;
