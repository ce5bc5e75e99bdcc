//! `timeline.csv`, streamed: each window is written as the run closes it, so memory does not
//! grow with the run's length.

use std::io::Write;

use crate::metrics::{TimelineRow, TimelineSink};

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
];

/// Writes timeline rows as CSV to `W`. The first I/O error is kept and reported by
/// [`CsvTimeline::finish`]; rows after it are dropped.
pub struct CsvTimeline<W: Write> {
    out: W,
    line: String,
    error: Option<std::io::Error>,
}

impl<W: Write> CsvTimeline<W> {
    /// Starts the CSV with its header row.
    pub fn new(mut out: W) -> Self {
        let error = writeln!(out, "{}", TIMELINE_COLUMNS.join(",")).err();
        CsvTimeline {
            out,
            line: String::with_capacity(256),
            error,
        }
    }

    /// The writer back, or the first error met.
    pub fn finish(self) -> std::io::Result<W> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.out),
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

impl<W: Write> TimelineSink for CsvTimeline<W> {
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
        });
        let text = String::from_utf8(sink.finish().unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0].split(',').count(), TIMELINE_COLUMNS.len());
        assert_eq!(
            lines[1],
            "0,10,3,2,1,0,2,0,0,3,4,0.5,0.25,1.5,0.75,2.5,3,3.5,1,0,0.5,2,0.25,0,0,1,,0.1,,"
        );
    }
}
