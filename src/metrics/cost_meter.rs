//! The fleet's running cost rate, for the timeline's `cost_rate_usd_per_hour`, and a load
//! balancer's LCU-hours, for its bill.
//!
//! The rate is a sum of *lines*: a line is a price (on-demand price of an instance type, a warm
//! pool's storage price) or a spot price path, times the number of instances billed on it.
//! Billing moves instances between lines; the meter integrates the rate between changes (and
//! at window ends), exactly for spot paths through their integral. It carries no rounding or
//! minimum: those are billing's, in the summary's totals.

use std::sync::Arc;

use crate::model::market::billing::LcuUsage;
use crate::model::market::spot_price::SpotPricePath;
use crate::time::SimTime;

const HOUR_NANOS: f64 = 3.6e12;

/// What one line charges per instance.
#[derive(Debug, Clone)]
pub enum CostLine {
    /// A fixed price [USD/h].
    Fixed(f64),
    /// A spot price path.
    Spot(Arc<SpotPricePath>),
}

/// The running cost of the fleet, integrated.
#[derive(Debug, Clone, Default)]
pub struct CostMeter {
    lines: Vec<CostLine>,
    counts: Vec<u64>,
    /// Always charged (load balancer hours) [USD/h].
    fixed: f64,
}

impl CostMeter {
    /// A meter over `lines` (all empty) plus `fixed` USD/h always.
    pub fn new(lines: Vec<CostLine>, fixed: f64) -> Self {
        let counts = vec![0; lines.len()];
        CostMeter {
            lines,
            counts,
            fixed,
        }
    }

    /// Cost \[USD\] of the current lines from `from` to `to` \[ns\].
    pub(super) fn cost(&self, from: u64, to: u64) -> f64 {
        let dt = (to - from) as f64 / HOUR_NANOS;
        let mut usd = self.fixed * dt;
        for (line, &n) in self.lines.iter().zip(&self.counts) {
            if n == 0 {
                continue;
            }
            usd += n as f64
                * match line {
                    CostLine::Fixed(p) => p * dt,
                    CostLine::Spot(path) => {
                        path.cost(SimTime::from_nanos(from), SimTime::from_nanos(to))
                    }
                };
        }
        usd
    }

    /// One more (`delta` 1) or one fewer (-1) instance on `line`.
    pub(super) fn change(&mut self, line: usize, delta: i64) {
        self.counts[line] = self.counts[line]
            .checked_add_signed(delta)
            .expect("cost line below zero");
    }
}

/// A balancer's usage, hour by hour (AWS bills LCUs on each hour's largest dimension).
#[derive(Debug, Clone)]
pub(super) struct LcuMeter {
    pub hour_start: u64,
    pub hour_end: u64,
    /// Totals at the hour's start: arrivals, in-flight request-nanoseconds, bytes.
    pub arrivals_at_start: u64,
    pub area_at_start: u128,
    pub bytes_at_start: u128,
    /// Rule evaluations per request beyond the free ones.
    pub billed_rules_per_request: f64,
    /// LCU-hours of the hours closed.
    pub lcu_hours: f64,
}

impl LcuMeter {
    /// The usage of the hour ending at `end`, given the totals there.
    pub fn usage(&self, end: u64, arrivals: u64, area: u128, bytes: u128) -> LcuUsage {
        let len = (end - self.hour_start) as f64;
        LcuUsage {
            seconds: len / 1e9,
            new_connections: arrivals - self.arrivals_at_start,
            active_connections: if len > 0.0 {
                (area - self.area_at_start) as f64 / len
            } else {
                0.0
            },
            processed_bytes: (bytes - self.bytes_at_start) as f64,
            billed_rules_per_request: self.billed_rules_per_request,
        }
    }
}
