//! The short human summary printed by `fleetsim run`.

use std::fmt::Write as _;

use crate::metrics::{LatencySummary, Summary};

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |s| format!("{:.1} ms", s * 1e3))
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.2}%", part as f64 * 100.0 / whole as f64)
    }
}

fn latency_line(l: &LatencySummary) -> String {
    format!(
        "mean {}  p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
        ms(l.mean),
        ms(l.p50),
        ms(l.p90),
        ms(l.p99),
        ms(l.p999),
        ms(l.max)
    )
}

/// A few lines a person reads after a run.
pub fn human_summary(s: &Summary) -> String {
    let r = &s.requests;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} (seed {}): {:.0} s simulated, {} events",
        s.scenario, s.seed, s.simulated_seconds, s.events
    );
    let _ = writeln!(
        out,
        "requests  {} arrived, {} completed, {} timed out ({}), {} rejected ({}), {} in flight at end",
        r.arrived,
        r.completed,
        r.timed_out,
        pct(r.timed_out, r.arrived),
        r.rejected,
        pct(r.rejected, r.arrived),
        r.in_flight_at_end
    );
    let _ = writeln!(out, "latency   {}", latency_line(&s.latency_seconds));
    if s.by_class.len() > 1 {
        for (name, c) in &s.by_class {
            let _ = writeln!(out, "  {name:<8} {}", latency_line(&c.latency_seconds));
        }
    }
    let launches: u64 = s
        .instances
        .by_pool
        .values()
        .map(|p| p.scaling.launches)
        .sum();
    let size = if launches == 0 && s.instances.by_pool.values().all(|p| p.max as f64 == p.mean) {
        format!("{} instances", s.instances.max)
    } else {
        format!(
            "{:.1} instances on average, {} at peak, {launches} launched",
            s.instances.mean, s.instances.max
        )
    };
    let _ = writeln!(
        out,
        "fleet     {size}, utilization {:.1}%, cost ${:.2}",
        s.utilization * 100.0,
        s.cost_usd.total
    );
    out
}
