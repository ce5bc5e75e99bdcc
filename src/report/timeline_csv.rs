//! `timeline.csv` and `scaling_events.csv`, streamed: each window and each scaling event is
//! written as the run produces it, so memory does not grow with the run's length. The timeline
//! holds numbers only; the scaling events' pool, policy and reason are text cells, neutralised
//! by [`csv_cell`].

use std::io::Write;

use super::csv_cell;
use crate::metrics::{ScalingEvent, TimelineRow, TimelineSink};

/// The header of `scaling_events.csv`, in column order.
pub const SCALING_EVENT_COLUMNS: &[&str] = &["time_s", "pool", "policy", "from", "to", "reason"];

/// The header of `timeline.csv`, in column order.
pub const TIMELINE_COLUMNS: &[&str] = &[
    "start_s",
    "end_s",
    "arrivals",
    "completed",
    "timed_out",
    "rejected",
    "no_healthy_target",
    "server_error",
    "connect_failed",
    "interrupted",
    "retries",
    "in_flight",
    "queue_length",
    "busy_slots",
    "utilization",
    "healthy_targets",
    "desired",
    "capacity",
    "instances_pending",
    "instances_loading",
    "instances_warming",
    "instances_in_service",
    "instances_draining",
    "instances_warm_stopped",
    "instances_warm_hibernated",
    "instances_warm_running",
    "latency_mean_s",
    "latency_p50_s",
    "latency_p90_s",
    "latency_p99_s",
    "cost_rate_usd_per_hour",
];

/// Writes timeline rows as CSV to `W`, and scaling events as CSV to `E` (dropped by default).
/// The first I/O error is kept and reported by [`CsvTimeline::finish`]; rows after it are
/// dropped.
pub struct CsvTimeline<W: Write, E: Write = std::io::Sink> {
    out: W,
    events: E,
    line: String,
    error: Option<std::io::Error>,
}

impl<W: Write> CsvTimeline<W> {
    /// Starts the timeline CSV with its header row; scaling events are dropped.
    pub fn new(out: W) -> Self {
        CsvTimeline::with_scaling_events(out, std::io::sink())
    }
}

impl<W: Write, E: Write> CsvTimeline<W, E> {
    /// Starts both CSVs with their header rows.
    pub fn with_scaling_events(mut out: W, mut events: E) -> Self {
        let error = writeln!(out, "{}", TIMELINE_COLUMNS.join(","))
            .and_then(|()| writeln!(events, "{}", SCALING_EVENT_COLUMNS.join(",")))
            .err();
        CsvTimeline {
            out,
            events,
            line: String::with_capacity(256),
            error,
        }
    }

    /// The writers back, or the first error met.
    pub fn finish(self) -> std::io::Result<(W, E)> {
        match self.error {
            Some(e) => Err(e),
            None => Ok((self.out, self.events)),
        }
    }
}

fn push_f64(line: &mut String, v: f64) {
    use std::fmt::Write as _;
    // Shortest representation that reads back exactly: deterministic and lossless.
    let _ = write!(line, "{v}");
}

fn push_opt(line: &mut String, v: Option<f64>) {
    if let Some(v) = v {
        push_f64(line, v);
    }
}

impl<W: Write, E: Write> TimelineSink for CsvTimeline<W, E> {
    fn scaling_event(&mut self, e: &ScalingEvent) {
        use std::fmt::Write as _;
        if self.error.is_some() {
            return;
        }
        let l = &mut self.line;
        l.clear();
        push_f64(l, e.time_s);
        // Names and reasons are quoted, with quotes doubled (RFC 4180): reasons hold commas.
        // Text cells are neutralised against formulas (`csv_cell`); numbers are not text.
        let _ = writeln!(
            l,
            ",{},{},{},{},{}",
            csv_cell::quoted(&e.pool),
            csv_cell::text(e.policy),
            e.from,
            e.to,
            csv_cell::quoted(&e.reason)
        );
        if let Err(err) = self.events.write_all(l.as_bytes()) {
            self.error = Some(err);
        }
    }

    fn window(&mut self, r: &TimelineRow) {
        use std::fmt::Write as _;
        if self.error.is_some() {
            return;
        }
        let l = &mut self.line;
        l.clear();
        push_f64(l, r.start_s);
        l.push(',');
        push_f64(l, r.end_s);
        let _ = write!(l, ",{},{},", r.arrivals, r.completed);
        for n in r.failures {
            let _ = write!(l, "{n},");
        }
        let _ = write!(l, "{},", r.retries);
        let [pending, loading, warming, in_service, draining, _terminated, stopped, hibernated, running] =
            r.instances;
        for v in [
            r.in_flight,
            r.queue_length,
            r.busy_slots,
            r.utilization,
            r.healthy_targets,
            r.desired,
            pending + loading + warming + in_service,
            pending,
            loading,
            warming,
            in_service,
            draining,
            stopped,
            hibernated,
            running,
        ] {
            push_f64(l, v);
            l.push(',');
        }
        push_opt(l, r.latency_mean_s);
        for v in [r.latency_p50_s, r.latency_p90_s, r.latency_p99_s] {
            l.push(',');
            push_opt(l, v);
        }
        l.push(',');
        push_f64(l, r.cost_rate_usd_per_hour);
        l.push('\n');
        if let Err(e) = self.out.write_all(l.as_bytes()) {
            self.error = Some(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_events_quote_their_text() {
        let mut sink = CsvTimeline::with_scaling_events(Vec::new(), Vec::new());
        sink.scaling_event(&ScalingEvent {
            time_s: 60.5,
            pool: "gpu".into(),
            policy: "scheduled",
            from: 1,
            to: 3,
            reason: "action \"a\" (min 1, max 3)".into(),
        });
        let (_, events) = sink.finish().unwrap();
        let text = String::from_utf8(events).unwrap();
        assert_eq!(
            text,
            "time_s,pool,policy,from,to,reason\n60.5,\"gpu\",scheduled,1,3,\"action \"\"a\"\" (min 1, max 3)\"\n"
        );
    }

    #[test]
    fn scaling_event_text_that_starts_like_a_formula_is_neutralised() {
        let mut sink = CsvTimeline::with_scaling_events(Vec::new(), Vec::new());
        sink.scaling_event(&ScalingEvent {
            time_s: -0.5,
            pool: "-gpu".into(),
            policy: "step",
            from: 1,
            to: 2,
            reason: "=HYPERLINK(\"http://x\")".into(),
        });
        let (_, events) = sink.finish().unwrap();
        let text = String::from_utf8(events).unwrap();
        // The negative time is a number and stays one.
        assert_eq!(
            text.lines().nth(1).unwrap(),
            "-0.5,\"'-gpu\",step,1,2,\"'=HYPERLINK(\"\"http://x\"\")\""
        );
    }

    #[test]
    fn rows_have_one_cell_per_column_and_empty_cells_for_missing_latency() {
        let mut sink = CsvTimeline::new(Vec::new());
        sink.window(&TimelineRow {
            start_s: 0.0,
            end_s: 10.0,
            arrivals: 3,
            completed: 2,
            failures: [1, 0, 2, 0, 0, 3],
            retries: 4,
            in_flight: 0.5,
            queue_length: 0.25,
            busy_slots: 1.5,
            utilization: 0.75,
            healthy_targets: 2.5,
            desired: 3.0,
            instances: [1.0, 0.0, 0.5, 2.0, 0.25, 7.0, 0.0, 0.0, 1.0],
            latency_mean_s: None,
            latency_p50_s: Some(0.1),
            latency_p90_s: None,
            latency_p99_s: None,
            cost_rate_usd_per_hour: 1.25,
        });
        let text = String::from_utf8(sink.finish().unwrap().0).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0].split(',').count(), TIMELINE_COLUMNS.len());
        assert_eq!(
            lines[1],
            "0,10,3,2,1,0,2,0,0,3,4,0.5,0.25,1.5,0.75,2.5,3,3.5,1,0,0.5,2,0.25,0,0,1,,0.1,,,1.25"
        );
    }
}
