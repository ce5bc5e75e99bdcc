//! The recorder: the world reports what happens; the recorder keeps counts, time-integrals and
//! histograms, and closes timeline windows as simulated time passes them.
//!
//! Levels (requests in flight, queued, busy slots) change only at events. The world calls
//! [`Recorder::advance`] once at the start of each event; it integrates every level up to that
//! instant (closing any windows crossed on the way), so level changes during the event need no
//! time of their own. Integrals are integer (level × nanoseconds), exact.

use super::cost_meter::{CostMeter, LcuMeter};
use super::summary::{LatencySummary, RequestCounts, RetrySummary};
use super::{LatencyHistogram, ScalingEvent, TimelineRow, TimelineSink};
use crate::engine::{SimDuration, SimTime};
use crate::model::fleet::lifecycle::InstanceState;

/// The number of instance lifecycle states (timeline columns `instances_<state>`).
const STATES: usize = InstanceState::ALL.len();

const HOUR_NANOS: u64 = 3_600_000_000_000;

/// Why a request failed. `docs/metrics.md` defines each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Not answered by its deadline (the client's timeout or the route's read timeout).
    TimedOut,
    /// Turned away by a full queue.
    Rejected,
    /// Its target group had no healthy target to send it to.
    NoHealthyTarget,
    /// Its server answered with an error (a broken server).
    ServerError,
    /// Its target did not accept the connection within the route's connect timeout.
    ConnectFailed,
    /// Its server died while holding it.
    Interrupted,
}

impl Failure {
    /// Every reason, in the order of the timeline's columns.
    pub const ALL: [Failure; 6] = [
        Failure::TimedOut,
        Failure::Rejected,
        Failure::NoHealthyTarget,
        Failure::ServerError,
        Failure::ConnectFailed,
        Failure::Interrupted,
    ];

    /// The name used in results.
    pub fn name(self) -> &'static str {
        match self {
            Failure::TimedOut => "timed_out",
            Failure::Rejected => "rejected",
            Failure::NoHealthyTarget => "no_healthy_target",
            Failure::ServerError => "server_error",
            Failure::ConnectFailed => "connect_failed",
            Failure::Interrupted => "interrupted",
        }
    }
}

/// Counters for the window being filled.
#[derive(Default)]
struct Window {
    arrivals: u64,
    completed: u64,
    failures: [u64; 6],
    retries: u64,
    in_flight_area: u128,
    healthy_area: u128,
    queued_area: u128,
    busy_area: u128,
    slots_area: u128,
    desired_area: u128,
    state_area: [u128; STATES],
    /// The fleet's running cost over the window [USD].
    cost_usd: f64,
    latency: LatencyHistogram,
}

/// Per-class totals.
#[derive(Default, Clone)]
struct ClassTotals {
    counts: RequestCounts,
    latency: LatencyHistogram,
}

/// Streaming statistics for one run.
pub struct Recorder {
    window_len: u64,
    window_start: u64,
    window_end: u64,
    run_end: u64,
    warmup_end: SimTime,
    last: u64,
    /// Where the fleet's levels are integrated to.
    fleet_last: u64,
    in_flight: u64,
    queued: u64,
    busy: u64,
    slots: u64,
    healthy: u64,
    desired: u64,
    states: [u64; STATES],
    window: Window,
    classes: Vec<ClassTotals>,
    busy_area_total: u128,
    slots_area_total: u128,
    cost_total: f64,
    retries: RetrySummary,
    /// Scaling events not yet handed to the sink.
    scaling: Vec<ScalingEvent>,
    /// The fleet's running cost rate.
    cost: CostMeter,
    /// A completed request met its SLO if its latency was at most this [ns] (`u64::MAX`:
    /// no target, every one counts; the count is then not reported).
    latency_target: u64,
    /// Completed requests that met the latency target.
    met_slo: u64,
    /// Arrivals, all classes, and in-flight request-nanoseconds of the closed windows (for
    /// the balancer's LCUs).
    arrived_total: u64,
    closed_in_flight_area: u128,
    /// Bytes through the balancer (requests and responses).
    processed_bytes: u64,
    /// The balancer's hourly LCUs, when it is billed.
    lcu: Option<LcuMeter>,
}

impl Recorder {
    /// A recorder for a run of `duration` with `classes` request classes, `slots` server slots
    /// and `targets` balanced targets, all healthy at the start.
    pub fn new(
        duration: SimDuration,
        window: SimDuration,
        warmup: SimDuration,
        classes: usize,
        slots: u64,
        targets: u64,
    ) -> Self {
        let window_len = window.as_nanos().max(1);
        Recorder {
            window_len,
            window_start: 0,
            window_end: window_len.min(duration.as_nanos()),
            run_end: duration.as_nanos(),
            warmup_end: SimTime::ZERO + warmup,
            last: 0,
            fleet_last: 0,
            in_flight: 0,
            queued: 0,
            busy: 0,
            slots,
            healthy: targets,
            desired: 0,
            states: [0; STATES],
            window: Window::default(),
            classes: vec![ClassTotals::default(); classes],
            busy_area_total: 0,
            slots_area_total: 0,
            cost_total: 0.0,
            retries: RetrySummary::default(),
            scaling: Vec::new(),
            cost: CostMeter::default(),
            latency_target: u64::MAX,
            met_slo: 0,
            arrived_total: 0,
            closed_in_flight_area: 0,
            processed_bytes: 0,
            lcu: None,
        }
    }

    /// The fleet's cost lines (see [`CostMeter`]); billing moves instances between them.
    pub fn with_cost(mut self, cost: CostMeter) -> Self {
        self.cost = cost;
        self
    }

    /// Counts completed requests within `target` as having met their SLO.
    pub fn with_latency_target(mut self, target: Option<SimDuration>) -> Self {
        self.latency_target = target.map_or(u64::MAX, |t| t.as_nanos());
        self
    }

    /// Meters a load balancer's LCUs hour by hour; each request costs
    /// `billed_rules_per_request` rule evaluations beyond the free ones.
    pub fn with_lcu(mut self, billed_rules_per_request: f64) -> Self {
        self.lcu = Some(LcuMeter {
            hour_start: 0,
            hour_end: HOUR_NANOS.min(self.run_end),
            arrivals_at_start: 0,
            area_at_start: 0,
            bytes_at_start: 0,
            billed_rules_per_request,
            lcu_hours: 0.0,
        });
        self
    }

    /// One more (`delta` 1) or one fewer (-1) instance billed on cost line `line`.
    pub fn cost_line_changed(&mut self, line: usize, delta: i64) {
        self.integrate_fleet(self.last);
        self.cost.change(line, delta);
    }

    /// `bytes` more passed through the balancer (requests and responses).
    #[inline]
    pub fn bytes_processed(&mut self, bytes: u64) {
        self.processed_bytes += bytes;
    }

    /// Closes the balancer's hours that end by `now` (levels are constant since the last
    /// event, so the in-flight area at an hour's end is known without integrating to it).
    fn close_hours(&mut self, now: u64) {
        let Some(l) = &mut self.lcu else {
            return;
        };
        while now >= l.hour_end && l.hour_start < self.run_end {
            let end = l.hour_end;
            let area = self.closed_in_flight_area
                + self.window.in_flight_area
                + u128::from(self.in_flight) * u128::from(end - self.last);
            let usage = l.usage(end, self.arrived_total, area, self.processed_bytes);
            l.lcu_hours += usage.lcu_hours();
            l.hour_start = end;
            l.hour_end = (end + HOUR_NANOS).min(self.run_end);
            l.arrivals_at_start = self.arrived_total;
            l.area_at_start = area;
            l.bytes_at_start = self.processed_bytes;
        }
    }

    /// The fleet at the start: instances per lifecycle state (unused slots as terminated) and
    /// the desired capacity, all pools together.
    pub fn with_fleet(mut self, states: [u64; STATES], desired: u64) -> Self {
        self.states = states;
        self.desired = desired;
        self
    }

    /// Integrates every level up to `now`, closing the windows it passes.
    #[inline]
    pub fn advance<S: TimelineSink>(&mut self, now: SimTime, sink: &mut S) {
        let now = now.as_nanos().min(self.run_end);
        if self.lcu.is_some() {
            self.close_hours(now);
        }
        while now >= self.window_end && self.window_start < self.run_end {
            self.integrate(self.window_end);
            self.integrate_fleet(self.window_end);
            self.close_window(sink);
        }
        self.integrate(now);
        if !self.scaling.is_empty() {
            for e in self.scaling.drain(..) {
                sink.scaling_event(&e);
            }
        }
    }

    /// Integrates the levels that change with requests (every event moves them) up to `to`.
    #[inline]
    fn integrate(&mut self, to: u64) {
        let dt = (to - self.last) as u128;
        if dt > 0 {
            self.window.in_flight_area += self.in_flight as u128 * dt;
            self.window.queued_area += self.queued as u128 * dt;
            self.window.busy_area += self.busy as u128 * dt;
            self.last = to;
        }
    }

    /// Integrates the fleet's levels (healthy targets, slots, desired capacity, instances per
    /// state) up to `to`. They change rarely, so they are integrated only when they change and
    /// when a window closes, not at every event.
    fn integrate_fleet(&mut self, to: u64) {
        let dt = (to - self.fleet_last) as u128;
        if dt > 0 {
            let w = &mut self.window;
            w.healthy_area += self.healthy as u128 * dt;
            w.slots_area += self.slots as u128 * dt;
            w.desired_area += self.desired as u128 * dt;
            for (area, &n) in w.state_area.iter_mut().zip(&self.states) {
                *area += n as u128 * dt;
            }
            w.cost_usd += self.cost.cost(self.fleet_last, to);
            self.fleet_last = to;
        }
    }

    fn close_window<S: TimelineSink>(&mut self, sink: &mut S) {
        let w = &mut self.window;
        let len = (self.window_end - self.window_start) as f64;
        let avg = |area: u128| area as f64 / len;
        let busy_slots = avg(w.busy_area);
        let [p50, p90, p99] = w.latency.quantiles_secs([0.5, 0.9, 0.99]);
        let row = TimelineRow {
            start_s: self.window_start as f64 / 1e9,
            end_s: self.window_end as f64 / 1e9,
            arrivals: w.arrivals,
            completed: w.completed,
            failures: w.failures,
            retries: w.retries,
            in_flight: avg(w.in_flight_area),
            queue_length: avg(w.queued_area),
            busy_slots,
            utilization: if w.slots_area == 0 {
                0.0
            } else {
                w.busy_area as f64 / w.slots_area as f64
            },
            healthy_targets: avg(w.healthy_area),
            desired: avg(w.desired_area),
            instances: w.state_area.map(avg),
            cost_rate_usd_per_hour: w.cost_usd / (len / 3.6e12),
            latency_mean_s: w.latency.mean_secs(),
            latency_p50_s: p50,
            latency_p90_s: p90,
            latency_p99_s: p99,
        };
        sink.window(&row);
        self.busy_area_total += w.busy_area;
        self.slots_area_total += w.slots_area;
        self.closed_in_flight_area += w.in_flight_area;
        self.cost_total += w.cost_usd;
        w.cost_usd = 0.0;
        w.arrivals = 0;
        w.completed = 0;
        w.failures = [0; 6];
        w.retries = 0;
        w.in_flight_area = 0;
        w.healthy_area = 0;
        w.queued_area = 0;
        w.busy_area = 0;
        w.slots_area = 0;
        w.desired_area = 0;
        w.state_area = [0; STATES];
        w.latency.clear();
        self.window_start = self.window_end;
        self.window_end = (self.window_end + self.window_len).min(self.run_end);
    }

    /// A request of `class` arrived.
    #[inline]
    pub fn arrived(&mut self, class: usize) {
        self.window.arrivals += 1;
        self.arrived_total += 1;
        self.classes[class].counts.arrived += 1;
        self.in_flight += 1;
    }

    /// A request of `class` that arrived at `arrival` completed at `now`.
    #[inline]
    pub fn completed(&mut self, class: usize, arrival: SimTime, now: SimTime) {
        let latency = now - arrival;
        // One comparison: with no target, every latency is within u64::MAX.
        self.met_slo += u64::from(latency.as_nanos() <= self.latency_target);
        self.window.completed += 1;
        self.window.latency.record(latency);
        let c = &mut self.classes[class];
        c.counts.completed += 1;
        if arrival >= self.warmup_end {
            c.latency.record(latency);
        }
        self.in_flight -= 1;
    }

    /// A request of `class` failed.
    #[inline]
    pub fn failed(&mut self, class: usize, why: Failure) {
        self.window.failures[why as usize] += 1;
        *self.classes[class].counts.failure_mut(why) += 1;
        self.in_flight -= 1;
    }

    /// A failed try or attempt is sent again: by the balancer to another target (`client`
    /// false) or by the client after its backoff (`client` true).
    #[inline]
    pub fn retried(&mut self, client: bool) {
        self.window.retries += 1;
        if client {
            self.retries.client += 1;
        } else {
            self.retries.balancer += 1;
        }
    }

    /// A balanced target became healthy (`true`) or unhealthy.
    #[inline]
    pub fn target_health_changed(&mut self, healthy: bool) {
        self.integrate_fleet(self.last);
        if healthy {
            self.healthy += 1;
        } else {
            self.healthy -= 1;
        }
    }

    /// A request entered a queue.
    #[inline]
    pub fn enqueued(&mut self) {
        self.queued += 1;
    }

    /// A request left a queue (to be served or to time out).
    #[inline]
    pub fn dequeued(&mut self) {
        self.queued -= 1;
    }

    /// A server slot became busy.
    #[inline]
    pub fn slot_taken(&mut self) {
        self.busy += 1;
    }

    /// A server slot became free.
    #[inline]
    pub fn slot_freed(&mut self) {
        self.busy -= 1;
    }

    /// Slots in service (of instances that serve) changed by `delta`.
    pub fn slots_changed(&mut self, delta: i64) {
        self.integrate_fleet(self.last);
        self.slots = self
            .slots
            .checked_add_signed(delta)
            .expect("slots below zero");
    }

    /// An instance moved from lifecycle state `from` to `to`.
    pub fn instance_moved(&mut self, from: InstanceState, to: InstanceState) {
        self.integrate_fleet(self.last);
        self.states[from as usize] -= 1;
        self.states[to as usize] += 1;
    }

    /// The desired capacity (all pools together) changed by `delta`.
    pub fn desired_changed(&mut self, delta: i64) {
        self.integrate_fleet(self.last);
        self.desired = self
            .desired
            .checked_add_signed(delta)
            .expect("desired below zero");
    }

    /// An autoscaler changed `pool`'s desired capacity `from` → `to` at `now` (or, forecast
    /// only, would have).
    pub fn scaling_event(
        &mut self,
        now: SimTime,
        pool: &str,
        policy: &'static str,
        from: u32,
        to: u32,
        reason: String,
    ) {
        self.scaling.push(ScalingEvent {
            time_s: now.as_secs_f64(),
            pool: pool.to_string(),
            policy,
            from,
            to,
            reason,
        });
    }

    /// Closes the last windows and returns the totals. `in_flight` requests are still in the
    /// system: they are counted per class as `in_flight_at_end`. Class `c` is carried by route
    /// `class_route[c]`, of `routes` routes: route totals are the sums of their classes'.
    pub fn finish<S: TimelineSink>(
        mut self,
        sink: &mut S,
        class_route: &[usize],
        routes: usize,
    ) -> RecordedTotals {
        self.advance(SimTime::from_nanos(self.run_end), sink);
        let mut overall = LatencyHistogram::new();
        let mut counts = RequestCounts::default();
        let mut classes = Vec::with_capacity(self.classes.len());
        let mut by_route = vec![(RequestCounts::default(), LatencyHistogram::new()); routes];
        for (i, c) in self.classes.iter_mut().enumerate() {
            c.counts.in_flight_at_end = c.counts.arrived - c.counts.completed - c.counts.failed();
            counts.add(&c.counts);
            overall.merge(&c.latency);
            let route = &mut by_route[class_route[i]];
            route.0.add(&c.counts);
            route.1.merge(&c.latency);
            classes.push((c.counts, latency_summary(&c.latency)));
        }
        debug_assert_eq!(counts.in_flight_at_end, self.in_flight);
        let slot_time = self.slots_area_total as f64;
        RecordedTotals {
            counts,
            latency: latency_summary(&overall),
            classes,
            routes: by_route
                .iter()
                .map(|(c, h)| (*c, latency_summary(h)))
                .collect(),
            retries: self.retries,
            met_slo: (self.latency_target != u64::MAX).then_some(self.met_slo),
            lcu_hours: self.lcu.as_ref().map_or(0.0, |l| l.lcu_hours),
            metered_cost_usd: self.cost_total,
            utilization: if slot_time > 0.0 {
                self.busy_area_total as f64 / slot_time
            } else {
                0.0
            },
        }
    }
}

/// Totals of a finished run.
pub struct RecordedTotals {
    /// All classes together.
    pub counts: RequestCounts,
    /// All classes together.
    pub latency: LatencySummary,
    /// Per class, in scenario order.
    pub classes: Vec<(RequestCounts, LatencySummary)>,
    /// Per route, in scenario order.
    pub routes: Vec<(RequestCounts, LatencySummary)>,
    /// Retries sent.
    pub retries: RetrySummary,
    /// Completed requests within the latency target, if one was set.
    pub met_slo: Option<u64>,
    /// The balancer's LCU-hours (0 when it is not billed).
    pub lcu_hours: f64,
    /// The running cost integrated over the run, unrounded [USD] (the timeline's cost rate
    /// summed: a check on billing, which adds minimums and rounding).
    pub metered_cost_usd: f64,
    /// Time-average busy slots / slots over the run.
    pub utilization: f64,
}

/// The summary of a latency histogram.
pub fn latency_summary(h: &LatencyHistogram) -> LatencySummary {
    let [p50, p90, p99, p999] = h.quantiles_secs([0.5, 0.9, 0.99, 0.999]);
    LatencySummary {
        count: h.count(),
        mean: h.mean_secs(),
        p50,
        p90,
        p99,
        p999,
        max: h.max_secs(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::CollectTimeline;

    fn s(secs: u64) -> SimTime {
        SimTime::from_nanos(secs * 1_000_000_000)
    }

    #[test]
    fn windows_hold_counts_and_time_averages() {
        let mut sink = CollectTimeline::default();
        let mut r = Recorder::new(
            SimDuration::from_secs(25),
            SimDuration::from_secs(10),
            SimDuration::ZERO,
            1,
            2,
            0,
        );
        r.advance(s(2), &mut sink);
        r.arrived(0);
        r.slot_taken();
        r.advance(s(7), &mut sink);
        r.completed(0, s(2), s(7));
        r.slot_freed();
        r.advance(s(12), &mut sink);
        r.arrived(0);
        r.failed(0, Failure::Rejected);
        let totals = r.finish(&mut sink, &[0], 1);
        let rows = &sink.rows;
        assert_eq!(rows.len(), 3);
        assert_eq!((rows[0].start_s, rows[0].end_s), (0.0, 10.0));
        assert_eq!((rows[2].start_s, rows[2].end_s), (20.0, 25.0));
        assert_eq!(rows[0].arrivals, 1);
        assert_eq!(rows[0].completed, 1);
        // One request in the system from 2 s to 7 s of a 10 s window: 0.5 on average.
        assert_eq!(rows[0].in_flight, 0.5);
        assert_eq!(rows[0].busy_slots, 0.5);
        assert_eq!(rows[0].utilization, 0.25);
        assert_eq!(rows[0].latency_mean_s, Some(5.0));
        assert_eq!(rows[1].failures[Failure::Rejected as usize], 1);
        assert_eq!(rows[1].latency_p50_s, None);
        assert_eq!(totals.counts.arrived, 2);
        assert!(totals.counts.is_conserved());
        // 5 busy slot-seconds over 2 slots × 25 s.
        assert_eq!(totals.utilization, 0.1);
    }

    #[test]
    fn warmup_arrivals_are_counted_but_not_in_latency() {
        let mut sink = CollectTimeline::default();
        let mut r = Recorder::new(
            SimDuration::from_secs(100),
            SimDuration::from_secs(10),
            SimDuration::from_secs(50),
            1,
            1,
            0,
        );
        r.arrived(0);
        r.completed(0, s(0), s(1));
        r.advance(s(60), &mut sink);
        r.arrived(0);
        r.completed(0, s(60), s(63));
        let totals = r.finish(&mut sink, &[0], 1);
        assert_eq!(totals.counts.completed, 2);
        assert_eq!(totals.latency.count, 1);
        assert_eq!(totals.latency.mean, Some(3.0));
    }
}
