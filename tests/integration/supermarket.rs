//! The supermarket model: n = 100 single-server FIFO queues (concurrency 1, unbounded queues)
//! fed by one Poisson stream of rate λ·n, exponential service of mean 1 s (μ = 1, so ρ = λ),
//! dispatched on arrival by `random`, `power_of_two_choices` (Envoy `LEAST_REQUEST`, d = 2) or
//! `least_outstanding_requests` (ALB; join the shortest queue, JSQ), at ρ ∈ {0.5, 0.9, 0.99}.
//!
//! What is checked, and against what:
//! 1. random: every server is an independent M/M/1 queue fed at rate ρ, so W = 1/(1 − ρ).
//! 2. power of two: Mitzenmacher's fixed point for n → ∞, with a finite-n gap measured at
//!    n = 25, 50 and 100 and checked to shrink like 1/n (derivation at [`mitzenmacher_sojourn`]
//!    and [`power_of_two_approaches_the_fixed_point_like_one_over_n`]).
//! 3. JSQ < power of two < random at every load, by more than the confidence intervals; and no
//!    dispatcher beats one shared queue (M/M/100, Erlang C).
//! 4. Little's law L = λ·W on the timeline of one case.
//!
//! Method, as in `theory.rs`: R = 20 independent replications per case (seeds 1..=20, hence
//! independent random streams); each replication's estimate is its mean sojourn time over the
//! requests that arrive between the warm-up and the end of arrivals. Across replications the
//! estimates are i.i.d. and, as averages over 10⁵–10⁶ requests, close to normal; a theoretical
//! value is checked against the two-sided 99.9 % Student-t interval of their mean,
//! `mean ± t(0.9995, 19) · s / √20` (19 degrees of freedom, t ≈ 3.883). Arrivals stop before
//! the run ends and the system drains, and every request is asserted to have completed: no
//! long sojourn is cut off by the end of the run (which would bias the means low).
//!
//! Cost. The engine does ~10 M events/s per core and a request is two events (arrival, end of
//! service), so ~5 M requests per core-second. Everything here is 2.34·10⁸ requests in 300
//! replications, longest first on two threads: 36 CPU-seconds measured (~13 M events/s), so
//! ~18 s wall on two idle cores (25–38 s measured while other builds shared the machine).
//! All the runs are made once ([`results`]) and shared by the tests below. That is half the
//! CPU time of the whole suite, so the four tests that read them are ignored by a plain
//! `cargo test` and run by `.ci/run` (`cargo test -- --ignored`); run them alone with
//! `cargo test --test integration supermarket -- --include-ignored`.

use std::sync::OnceLock;

use crate::common::{confidence_interval, mmc_wait, on_two_threads, run, scenario};

const CONFIDENCE: f64 = 0.999;
const REPLICATIONS: u64 = 20;
const SERVERS: u32 = 100;
const LOADS: [f64; 3] = [0.5, 0.9, 0.99];
/// Sizes at which the power-of-two gap to the n → ∞ fixed point is measured.
const SIZES: [u32; 3] = [25, 50, 100];
/// Timeline window [s]; every time in a [`Plan`] is a multiple of it, so the windows after the
/// warm-up cover exactly the measured arrivals.
const WINDOW_S: f64 = 100.0;

/// The balancers compared (their scenario names).
const RANDOM: &str = "random";
const POWER_OF_TWO: &str = "power_of_two_choices";
const JSQ: &str = "least_outstanding_requests";

/// When a case's arrivals start, change and stop [s].
#[derive(Debug, Clone, Copy, PartialEq)]
struct Plan {
    /// Arrivals come at twice the capacity (2n/s) for this long first, to pre-load the queues
    /// (0: start empty at rate λn). Only random dispatch at ρ = 0.99 uses it; see [`plan`].
    fill_s: f64,
    /// Arrivals before this are left out of the estimate (the fill included).
    warmup_s: f64,
    /// Arrivals stop here.
    arrivals_end_s: f64,
    /// The run ends here, after the last arrival has drained.
    end_s: f64,
}

fn round_up(seconds: f64) -> f64 {
    (seconds / WINDOW_S).ceil() * WINDOW_S
}

/// Requests measured per replication: enough that a replication's mean is near normal and
/// the 20-replication interval is a few percent of the mean (or of the finite-n gap, for the
/// power of two) — sizes from the variances measured in trial runs, noted per test.
fn measured_requests(algorithm: &str, servers: u32, rho: f64) -> f64 {
    match (rho, algorithm, servers) {
        (r, _, _) if r < 0.8 => 250_000.0,
        (r, _, _) if r < 0.95 => 500_000.0,
        (_, POWER_OF_TWO, 25) => 600_000.0,
        (_, POWER_OF_TWO, 50) => 1_000_000.0,
        (_, POWER_OF_TWO, _) => 1_500_000.0,
        // JSQ at ρ = 0.99 only has to be ordered against power of two, 3 s above it.
        _ => 250_000.0,
    }
}

/// The run plan of one case, from relaxation times.
///
/// - M/M/1 relaxes in about τ₁ = 1/(1 − √ρ)² (Morse 1955; Abate & Whitt 1988): 11.7 s at
///   ρ = 0.5, 380 s at 0.9 and 39,800 s at 0.99. Random dispatch warms up for 10·τ₁ (at least
///   1,000 s), except at ρ = 0.99 (below).
/// - The total number in system of n queues balanced by load relaxes like M/M/n's,
///   τₙ = 1/(n(1 − √ρ)²): 400 s for n = 100 at ρ = 0.99, 1,600 s for n = 25. Trial runs of
///   the mean in-flight per 250 s window over 100 replications from empty agree: level after
///   1,000 s for n = 100, after ~2,000 s for n = 25. Power of two and JSQ warm up for 5·τₙ
///   (at least 1,000 s).
/// - Random dispatch at ρ = 0.99 cannot warm up for many τ₁ in budget: 10·τ₁·99 requests/s ×
///   20 replications = 8·10⁸ requests. Instead the queues are pre-loaded. For M/M/1 the
///   Poisson equation of f(x) = x − E[Q] has the exact solution
///   h(x) = (x² + x − 2ρ/(1 − ρ)²) / (2(1 − ρ)) (try h = ax² + bx in
///   ρ(h(x+1) − h(x)) + (h(x−1) − h(x)) = −(x − ρ/(1 − ρ)), and ρ(h(1) − h(0)) = ρ/(1 − ρ) at
///   0), and h(x) = ∫₀^∞ (E[Q(t) | Q(0) = x] − E[Q]) dt: the total bias of a run started with x
///   jobs. From empty it is h(0) = −ρ/(1 − ρ)³ = −990,000 job-seconds per queue (−10 % on a
///   100,000 s run); it vanishes for x ≈ √(2ρ)/(1 − ρ) = 141. So arrivals first come at 2/s
///   per queue for 141 s (net +1 job/s), then at ρ; ~5,000 s of warm-up and 25,000 s measured
///   leave a bias of −0.23 %, computed exactly by [`mm1_mean_queue`] and added to the
///   tolerance (from empty, the same windows would carry −19 %). That is 3·10⁶ requests per
///   replication, 6·10⁷ in all: a quarter of the file's budget.
fn plan(algorithm: &str, servers: u32, rho: f64) -> Plan {
    let lambda = rho * servers as f64;
    let drain = round_up(30.0 / (1.0 - rho));
    if algorithm == RANDOM && rho > 0.95 {
        let fill_s = ((2.0 * rho).sqrt() / (1.0 - rho)).round();
        let warmup_s = round_up(fill_s + 5_000.0);
        let arrivals_end_s = warmup_s + 25_000.0;
        return Plan {
            fill_s,
            warmup_s,
            arrivals_end_s,
            end_s: arrivals_end_s + drain,
        };
    }
    let relax = if algorithm == RANDOM {
        10.0 / (1.0 - rho.sqrt()).powi(2)
    } else {
        5.0 / (servers as f64 * (1.0 - rho.sqrt()).powi(2))
    };
    let warmup_s = round_up(relax.max(1_000.0));
    let arrivals_end_s = warmup_s + round_up(measured_requests(algorithm, servers, rho) / lambda);
    Plan {
        fill_s: 0.0,
        warmup_s,
        arrivals_end_s,
        end_s: arrivals_end_s + drain,
    }
}

/// The scenario of one case. The drain after the arrivals stop is 30 mean sojourn times of
/// M/M/1 (the slowest case): an M/M/1 sojourn exceeds that with probability e⁻³⁰ ≈ 10⁻¹³.
fn supermarket_scenario(algorithm: &str, servers: u32, rho: f64, plan: &Plan) -> String {
    let lambda = rho * servers as f64;
    let fill = if plan.fill_s > 0.0 {
        format!(r#"{{ at = "0s", rate = "{}/s" }}, "#, 2 * servers)
    } else {
        String::new()
    };
    format!(
        r#"
name = "supermarket"
duration = "{end}s"
warmup = "{warmup}s"
[timeline]
window = "{WINDOW_S}s"
[traffic]
profile = {{ kind = "steps", steps = [{fill}{{ at = "{fill_s}s", rate = "{lambda}/s" }}, {{ at = "{stop}s", rate = "0/s" }}] }}
[[instance_type]]
name = "server"
concurrency = 1
price = "$1/h"
[[pool]]
name = "servers"
instance_type = "server"
instances = {servers}
dispatch = "balancer"
[balancer]
algorithm = "{algorithm}"
[[class]]
name = "job"
service = {{ distribution = "exponential", mean = "1s" }}
"#,
        end = plan.end_s,
        warmup = plan.warmup_s,
        fill_s = plan.fill_s,
        stop = plan.arrivals_end_s,
    )
}

/// One (algorithm, n, ρ) and what its replications measured.
struct Case {
    algorithm: &'static str,
    servers: u32,
    rho: f64,
    plan: Plan,
    reps: Vec<Estimates>,
}

/// What one replication measures, over the arrivals in [warm-up, end of arrivals).
#[derive(Debug, Clone, Copy)]
struct Estimates {
    /// Mean sojourn time W [s].
    sojourn: f64,
    /// L − λ̂·W (Little's law: 0), L the time-average number in system and λ̂ the arrival
    /// rate over the measured windows.
    little_gap: f64,
    /// Requests that arrived (the fill and warm-up included).
    requests: u64,
}

impl Case {
    fn sojourns(&self) -> Vec<f64> {
        self.reps.iter().map(|e| e.sojourn).collect()
    }

    /// Mean W and its 99.9 % half-width.
    fn w(&self) -> (f64, f64) {
        confidence_interval(&self.sojourns(), CONFIDENCE)
    }
}

/// Every case, run once and shared by the tests.
fn results() -> &'static [Case] {
    static RESULTS: OnceLock<Vec<Case>> = OnceLock::new();
    RESULTS.get_or_init(|| {
        let mut keys: Vec<(&'static str, u32, f64)> = Vec::new();
        for rho in LOADS {
            keys.push((RANDOM, SERVERS, rho));
            keys.push((JSQ, SERVERS, rho));
            for n in SIZES {
                keys.push((POWER_OF_TWO, n, rho));
            }
        }
        let scenarios: Vec<_> = keys
            .iter()
            .map(|&(a, n, rho)| {
                let p = plan(a, n, rho);
                (p, scenario(&supermarket_scenario(a, n, rho, &p)))
            })
            .collect();
        // Jobs longest first (by simulated requests), so the two threads end together.
        let mut jobs: Vec<(usize, u64)> = (0..keys.len())
            .flat_map(|c| (1..=REPLICATIONS).map(move |seed| (c, seed)))
            .collect();
        let cost = |c: usize| {
            let (_, n, rho) = keys[c];
            let p = &scenarios[c].0;
            n as f64 * (rho * (p.arrivals_end_s - p.fill_s) + 2.0 * p.fill_s)
        };
        jobs.sort_by(|a, b| cost(b.0).total_cmp(&cost(a.0)).then(a.cmp(b)));
        let estimates = on_two_threads(&jobs, |&(c, seed)| {
            let (plan, s) = &scenarios[c];
            let (summary, rows) = run(s, seed);
            assert_eq!(
                summary.requests.in_flight_at_end, 0,
                "{:?} seed {seed}: the drain must let every request finish",
                keys[c]
            );
            assert!(summary.requests.is_conserved());
            let measured: Vec<_> = rows
                .iter()
                .filter(|r| r.start_s >= plan.warmup_s && r.end_s <= plan.arrivals_end_s)
                .collect();
            let span: f64 = measured.iter().map(|r| r.end_s - r.start_s).sum();
            assert!((span - (plan.arrivals_end_s - plan.warmup_s)).abs() < 1e-6);
            let in_flight = measured
                .iter()
                .map(|r| r.in_flight * (r.end_s - r.start_s))
                .sum::<f64>()
                / span;
            let arrivals: u64 = measured.iter().map(|r| r.arrivals).sum();
            // Every measured arrival completed, so the latency count is exactly them.
            assert_eq!(summary.latency_seconds.count, arrivals);
            let sojourn = summary.latency_seconds.mean.expect("requests completed");
            Estimates {
                sojourn,
                little_gap: in_flight - arrivals as f64 / span * sojourn,
                requests: summary.requests.arrived,
            }
        });
        println!(
            "supermarket: {} replications, {:.0} M requests",
            jobs.len(),
            estimates.iter().map(|e| e.requests).sum::<u64>() as f64 / 1e6
        );
        keys.iter()
            .enumerate()
            .map(|(c, &(algorithm, servers, rho))| Case {
                algorithm,
                servers,
                rho,
                plan: scenarios[c].0,
                reps: jobs
                    .iter()
                    .zip(&estimates)
                    .filter(|((job_case, _), _)| *job_case == c)
                    .map(|(_, e)| *e)
                    .collect(),
            })
            .collect()
    })
}

fn case(algorithm: &str, servers: u32, rho: f64) -> &'static Case {
    results()
        .iter()
        .find(|c| c.algorithm == algorithm && c.servers == servers && c.rho == rho)
        .expect("case was run")
}

/// Mitzenmacher's fixed point of the supermarket model with d choices, as n → ∞.
///
/// Let s_i be the fraction of queues with at least i jobs (s₀ = 1). In the limit the s_i
/// follow the ODE ds_i/dt = λ(s_{i−1}^d − s_i^d) − (s_i − s_{i+1}): a job joins a queue with
/// exactly i − 1 jobs when all d sampled queues have ≥ i − 1 and not all have ≥ i, and a queue
/// with exactly i jobs finishes one at rate 1. Summing the equations from i on gives, at the
/// fixed point, λ·s_{i−1}^d = s_i, whence s_i = λ^((d^i − 1)/(d − 1)) (Mitzenmacher 2001,
/// "The power of two choices in randomized load balancing", IEEE TPDS 12(10); Vvedenskaya,
/// Dobrushin & Karpelevich 1996, "Queueing system with selection of the shortest of two
/// queues: an asymptotic approach", Problems of Information Transmission 32(1)). The mean number per queue is Σ_{i≥1} s_i, and
/// Little's law per queue (arrival rate λ) gives E[T] = Σ_{i≥1} λ^((d^i − d)/(d − 1)); for
/// d = 2, Σ λ^(2^i − 2): 1.2657 at λ = 0.5, 2.6141 at 0.9, 5.4320 at 0.99. For d = 1 the
/// exponent is i − 1 and the sum is M/M/1's 1/(1 − λ).
fn mitzenmacher_sojourn(lambda: f64, d: u32) -> f64 {
    let exponent = |i: i32| {
        if d == 1 {
            f64::from(i - 1)
        } else {
            let d = f64::from(d);
            (d.powi(i) - d) / (d - 1.0)
        }
    };
    // Terms fall doubly exponentially for d ≥ 2, geometrically (thousands of terms at
    // λ = 0.99) for d = 1.
    let mut sum = 0.0;
    for i in 1..100_000 {
        let term = lambda.powf(exponent(i));
        sum += term;
        if term < 1e-17 {
            break;
        }
    }
    sum
}

/// The mean number of jobs E[Q(t)] of one M/M/1 queue (μ = 1) that starts empty, is fed at
/// rate `fill_rate` for `plan.fill_s` and at `rho` afterwards, averaged over the measured
/// window [`plan.warmup_s`, `plan.arrivals_end_s`). By PASTA a job arriving at t finds
/// E[Q(t)] jobs on average and, with FIFO exponential service, stays E[Q(t)] + 1 on average:
/// so 1 + this is the expectation of the random-dispatch estimate of W, transient included.
///
/// The forward equations are solved by uniformization: the chain jumps at rate Λ = max rate +
/// 1 and the distribution after k jumps is p_k = p₀·Pᵏ with P = I + Q/Λ. Step k stands for time
/// k/Λ; the k-th jump really comes at a Gamma(k, Λ) time whose spread (√k/Λ ≤ 100 s here) is
/// negligible against the 10⁴ s scale on which E[Q(t)] moves. Queues are cut at `cap` jobs,
/// far above any state with non-negligible probability.
fn mm1_mean_queue(rho: f64, fill_rate: f64, plan: &Plan) -> f64 {
    let cap = (40.0 / (1.0 - rho)) as usize + 1_000;
    let jump_rate = fill_rate.max(rho) + 1.0;
    let mut p = vec![0.0f64; cap];
    let mut next = vec![0.0f64; cap];
    p[0] = 1.0;
    let step = |p: &[f64], next: &mut [f64], lambda: f64| {
        let (up, down) = (lambda / jump_rate, 1.0 / jump_rate);
        let stay = 1.0 - up - down;
        next[0] = (stay + down) * p[0] + down * p[1];
        for i in 1..cap - 1 {
            next[i] = up * p[i - 1] + stay * p[i] + down * p[i + 1];
        }
        next[cap - 1] = up * (p[cap - 2] + p[cap - 1]) + stay * p[cap - 1];
    };
    let jumps = |t: f64| (t * jump_rate).round() as usize;
    let (fill_end, from, to) = (
        jumps(plan.fill_s),
        jumps(plan.warmup_s),
        jumps(plan.arrivals_end_s),
    );
    let mut sum = 0.0;
    for k in 0..to {
        if k >= from {
            sum += p.iter().enumerate().map(|(i, x)| i as f64 * x).sum::<f64>();
        }
        step(&p, &mut next, if k < fill_end { fill_rate } else { rho });
        std::mem::swap(&mut p, &mut next);
    }
    sum / (to - from) as f64
}

#[test]
fn fixed_point_solves_the_mean_field_equations() {
    for lambda in LOADS {
        // s_i = λ^(2^i − 1) balances λ(s_{i−1}² − s_i²) = s_i − s_{i+1} for every i.
        let s = |i: i32| lambda.powf(2f64.powi(i) - 1.0);
        for i in 1..8 {
            let gap = lambda * (s(i - 1).powi(2) - s(i).powi(2)) - (s(i) - s(i + 1));
            assert!(gap.abs() < 1e-12, "λ {lambda} i {i}: {gap}");
        }
        // E[T] = (1/λ)·Σ s_i (Little's law per queue).
        let mean_jobs: f64 = (1..40).map(s).sum();
        assert!((mitzenmacher_sojourn(lambda, 2) - mean_jobs / lambda).abs() < 1e-12);
        // d = 1 is M/M/1.
        assert!((mitzenmacher_sojourn(lambda, 1) - 1.0 / (1.0 - lambda)).abs() < 1e-9);
    }
    // Σ λ^(2^i − 2) by hand at λ = 0.5: 1 + 0.5² + 0.5⁶ + 0.5¹⁴ + ... = 1.265686.
    assert!((mitzenmacher_sojourn(0.5, 2) - 1.265_686).abs() < 1e-6);
    assert!((mitzenmacher_sojourn(0.99, 2) - 5.431_997).abs() < 1e-6);
}

#[test]
fn mm1_transient_matches_the_poisson_equation() {
    // From empty, ∫₀^T (E[Q(t)] − E[Q]) dt → h(0) = −ρ/(1 − ρ)³ (see `plan`) once T is many
    // relaxation times (τ₁ = 380 s at ρ = 0.9; T = 20,000 s): the window mean is
    // 9 − 900/20,000 = 8.955. The uniformization step and the cut at `cap` each move it by
    // far less than the 0.002 allowed.
    let p = Plan {
        fill_s: 0.0,
        warmup_s: 0.0,
        arrivals_end_s: 20_000.0,
        end_s: 20_000.0,
    };
    let m = mm1_mean_queue(0.9, 0.0, &p);
    assert!((m - 8.955).abs() < 0.002, "{m}");
    // Stationary after a long warm-up.
    let p = Plan {
        warmup_s: 10_000.0,
        ..p
    };
    assert!((mm1_mean_queue(0.9, 0.0, &p) - 9.0).abs() < 0.002);
}

#[test]
#[ignore = "slow: random dispatch against M/M/1 at three loads, on the supermarket runs (2.3e8 simulated requests), run by .ci/run"]
fn random_dispatch_makes_independent_mm1_queues() {
    // Each arrival picks a server uniformly at random, independently of everything else, so
    // by Poisson thinning each server sees its own Poisson stream of rate λ = ρ: 100
    // independent M/M/1 queues, W = 1/(1 − ρ).
    //
    // Interval width, planned from the asymptotic variance of an M/M/1 time-average number
    // in system, 2ρ(1 + ρ)/(1 − ρ)⁴ / T (Whitt 1989, "Planning queueing simulations",
    // Management Science 35(11)), averaged over 100 independent queues and divided by λ²:
    // Var(W per replication) ≈ 2(1 + ρ) / (ρ (1 − ρ)⁴ · 100 · T). At ρ = 0.9 and T = 5,600 s
    // that is 0.275² (trial runs: 0.21² at T = 10,000 s, as predicted), so the half-width is
    // ≈ 3.883 × 0.275/√20 = 0.24 s (2.4 %). At ρ = 0.99 and T = 25,000 s the formula (valid
    // for T ≫ τ₁, which does not hold) gives 12.7² and trial runs 8.1²: a half-width of
    // ≈ 7 s (7 %). That is the price of ρ = 0.99 in budget; the check stays a proper interval
    // check, with the computed warm-up bias added to the tolerance.
    let mut failures = Vec::new();
    for rho in LOADS {
        let c = case(RANDOM, SERVERS, rho);
        let (mean, half) = c.w();
        let theory = 1.0 / (1.0 - rho);
        let expected = 1.0 + mm1_mean_queue(rho, 2.0, &c.plan);
        let bias = expected - theory;
        let line = format!(
            "random rho {rho}: theory {theory:.4}, simulated {mean:.4} ± {half:.4} \
             (99.9 % CI, 19 df); warm-up bias {bias:+.4} ({:.2} M requests)",
            c.reps.iter().map(|e| e.requests).sum::<u64>() as f64 / 1e6
        );
        println!("{line}");
        // The planned warm-up leaves at most 1 % of bias (0.23 % computed at ρ = 0.99).
        assert!(bias.abs() < 0.01 * theory, "{line}");
        if c.plan.fill_s > 0.0 {
            // Pre-loading is what makes the short warm-up enough: from empty, the same
            // windows would carry a bias many times larger.
            let empty = Plan {
                fill_s: 0.0,
                ..c.plan
            };
            let empty_bias = 1.0 + mm1_mean_queue(rho, 2.0, &empty) - theory;
            println!("  (started empty instead: bias {empty_bias:+.4})");
            assert!(
                empty_bias.abs() > 10.0 * bias.abs(),
                "{empty_bias} vs {bias}"
            );
        }
        if (mean - theory).abs() > half + bias.abs() {
            failures.push(line);
        }
    }
    assert!(
        failures.is_empty(),
        "outside the CI:\n{}",
        failures.join("\n")
    );
}

#[test]
#[ignore = "slow: power of two against Mitzenmacher's fixed point and its 1/n gap, on the supermarket runs (2.3e8 simulated requests), run by .ci/run"]
fn power_of_two_approaches_the_fixed_point_like_one_over_n() {
    // The fixed point is the n → ∞ limit. A finite system is worse: its queue-length
    // fractions fluctuate, and since the arrival term λ·s_{i−1}² is convex, fluctuations raise
    // the rate at which jobs join long queues (E[s²] ≥ E[s]²). The stationary distribution is
    // within O(1/n) of the limit (Luczak & McDiarmid 2007, "Asymptotic distributions and chaos
    // for the supermarket model", EJP 12: total variation of order 1/n), and so is E[T]
    // (Gast & Van Houdt 2017, "A refined mean field approximation", Proc. ACM POMACS 1(2): in
    // steady state E[X_n] = x* + V/n + O(1/n²) for such density-dependent models). So
    // W_n − W_∞ ≈ c(ρ)/n with c > 0.
    //
    // The Envoy detail. Envoy's `unweightedHostPickNChoices` draws each of the d choices as
    // `random() % hosts.size()`, independently (envoyproxy/envoy,
    // source/extensions/load_balancing_policies/least_request/least_request_lb.cc): with
    // replacement, as `power_of_two.rs` does, and as Mitzenmacher's abstract states the model
    // ("chooses some constant d servers independently and uniformly at random",
    // eecs.harvard.edu/~michaelm/abstracts/tpds2001.html). With replacement, a job joins a
    // queue with ≥ i jobs exactly when both draws do, with probability s_i² given the state:
    // the mean-field term itself, for every n. Two distinct draws (the textbook variant) give
    // s_i(s_i − 1/n)/(1 − 1/n) = s_i² − s_i(1 − s_i)/(n − 1), smaller by at most
    // 1/(4(n − 1)) = 0.25 % at n = 100. The difference is exactly the 1/n of arrivals whose
    // two draws hit the same server and which are therefore placed at random:
    // (1 − 1/n)·s(s − 1/n)/(1 − 1/n) + s/n = s². So Envoy's system is the textbook one with 1 %
    // of arrivals routed at random: a further O(1/n), in the job's disfavour. Both are O(1/n)
    // and the c(ρ) measured here includes both: Envoy's finite system is somewhat worse than
    // finite-n numbers for distinct choices.
    //
    // The tolerance at n = 100, derived rather than guessed. c is estimated from the small
    // systems alone, c = mean of 25·gap₂₅ and 50·gap₅₀, after checking they agree (the 1/n law
    // between 25 and 50); W₁₀₀ must then lie in [W_∞ − h₁₀₀, W_∞ + (c + h_c)/100 + h₁₀₀] (h:
    // 99.9 % half-widths, combined in quadrature) — finite n is not better than the limit,
    // and no worse than the 1/n law predicts from the small systems. Trial runs gave
    // c ≈ 0.6, 4.7 and 62 at ρ = 0.5, 0.9, 0.99 (n = 200 included), a predicted gap at n = 100
    // of 0.5 %, 1.8 % and 11 % of W_∞. The n = 100 run also has to agree with c/100 itself.
    // Requests per replication were sized for this: at ρ = 0.99 a replication's W has a
    // standard deviation of ≈ 0.3 s per 1.2·10⁶ requests at n = 100 (slow swings of the total
    // load), giving h₁₀₀ ≈ 0.25 s with 1.5·10⁶; at ρ = 0.9, h ≈ 0.02 s with 5·10⁵.
    let mut failures = Vec::new();
    for rho in LOADS {
        let limit = mitzenmacher_sojourn(rho, 2);
        let gap = |n: u32| {
            let (mean, half) = case(POWER_OF_TWO, n, rho).w();
            (mean - limit, half)
        };
        let (g25, h25) = gap(25);
        let (g50, h50) = gap(50);
        let (g100, h100) = gap(100);
        for (n, g, h) in [(25, g25, h25), (50, g50, h50), (100, g100, h100)] {
            println!(
                "power of two n {n} rho {rho}: fixed point {limit:.4}, simulated {:.4} ± {h:.4} \
                 (gap {g:+.4}, n·gap {:.2} ± {:.2})",
                limit + g,
                n as f64 * g,
                n as f64 * h
            );
        }
        let (c25, c50) = (25.0 * g25, 50.0 * g50);
        let (hc25, hc50) = (25.0 * h25, 50.0 * h50);
        if (c25 - c50).abs() > hc25.hypot(hc50) {
            failures.push(format!(
                "rho {rho}: 25·gap {c25:.3} ± {hc25:.3} and 50·gap {c50:.3} ± {hc50:.3} differ: \
                 not a 1/n gap"
            ));
        }
        let c = (c25 + c50) / 2.0;
        let hc = hc25.hypot(hc50) / 2.0;
        let tolerance = (c + hc) / 100.0 + h100;
        println!(
            "power of two rho {rho}: c = {c:.3} ± {hc:.3} from n = 25, 50; n = 100 must be in \
             [{:.4}, {:.4}]",
            limit - h100,
            limit + tolerance
        );
        if g100 < -h100 || g100 > tolerance {
            failures.push(format!(
                "rho {rho}: n = 100 gap {g100:+.4} ± {h100:.4} outside [-{h100:.4}, {tolerance:.4}]"
            ));
        }
        if (100.0 * g100 - c).abs() > (100.0 * h100).hypot(hc) {
            failures.push(format!(
                "rho {rho}: 100·gap {:.3} ± {:.3} disagrees with c = {c:.3} ± {hc:.3}",
                100.0 * g100,
                100.0 * h100
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
#[ignore = "slow: JSQ < power of two < random at every load, on the supermarket runs (2.3e8 simulated requests), run by .ci/run"]
fn jsq_beats_power_of_two_beats_random_at_every_load() {
    // Knowing all queue lengths (JSQ) is better than knowing two, which is better than
    // knowing none — by far: at ρ = 0.99, random ≈ 100 s, power of two ≈ 6 s, JSQ ≈ 2 s.
    // Each order must hold with disjoint 99.9 % intervals. Below them all, one shared FIFO
    // queue (M/M/100, Erlang C): it never leaves a server idle while a job waits, so under a
    // coupling of the exponential service completions it always has at least as many busy
    // servers and at most as many jobs as any dispatcher to per-server queues; by Little's
    // law its W is the smallest. JSQ must not beat it (beyond its interval).
    let mut failures = Vec::new();
    for rho in LOADS {
        let (jsq, hj) = case(JSQ, SERVERS, rho).w();
        let (p2, hp) = case(POWER_OF_TWO, SERVERS, rho).w();
        let (random, hr) = case(RANDOM, SERVERS, rho).w();
        let shared = 1.0 + mmc_wait(SERVERS, rho * SERVERS as f64, 1.0);
        println!(
            "rho {rho}: M/M/100 {shared:.4} <= JSQ {jsq:.4} ± {hj:.4} < power of two \
             {p2:.4} ± {hp:.4} < random {random:.4} ± {hr:.4}"
        );
        if jsq + hj >= p2 - hp || p2 + hp >= random - hr {
            failures.push(format!("rho {rho}: order or margins wrong"));
        }
        if jsq + hj < shared {
            failures.push(format!("rho {rho}: JSQ beats a shared queue"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
#[ignore = "slow: Little's law on the power-of-two timeline, on the supermarket runs (2.3e8 simulated requests), run by .ci/run"]
fn littles_law_holds_on_the_power_of_two_timeline() {
    // L (time-average `in_flight` over the measured windows) = λ̂ (measured arrivals per
    // second) × W (mean sojourn of exactly those arrivals, all completed): on one sample path
    // the two differ only by the jobs present at the window's two edges, whose expected
    // difference is 0 in steady state. The gap must be 0 within its 99.9 % interval.
    let c = case(POWER_OF_TWO, SERVERS, 0.9);
    let gaps: Vec<f64> = c.reps.iter().map(|e| e.little_gap).collect();
    let (mean, half) = confidence_interval(&gaps, CONFIDENCE);
    let (w, _) = c.w();
    println!(
        "Little, power of two n 100 rho 0.9: L - lambda W = {mean:.5} ± {half:.5} (L ≈ {:.3})",
        0.9 * SERVERS as f64 * w
    );
    assert!(mean.abs() <= half, "L − λW = {mean} ± {half}");
    // And the interval is tight: under 0.1 % of L.
    assert!(half < 1e-3 * 0.9 * SERVERS as f64 * w, "{half}");
}
