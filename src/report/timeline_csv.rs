//! `timeline.csv` and `scaling_events.csv`, streamed: each window and each scaling event is
//! written as the run produces it, so memory does not grow with the run's length. The timeline
//! holds numbers only, one cell per column of [`TIMELINE`] (which says what each is); the
//! scaling events' pool, policy and reason are text cells, neutralised by [`csv_cell`].

use std::io::Write;

use super::csv_cell;
use crate::metrics::columns::{TIMELINE, TIMELINE_ENGINE, TIMELINE_NAMES};
use crate::metrics::{ScalingEvent, TimelineRow, TimelineSink};

/// The header of `scaling_events.csv`, in column order.
pub const SCALING_EVENT_COLUMNS: &[&str] = &["time_s", "pool", "policy", "from", "to", "reason"];

/// The header of `timeline.csv`, in column order ([`TIMELINE`]'s names); a run with an LLM
/// engine has [`TIMELINE_ENGINE`]'s after them.
pub const TIMELINE_COLUMNS: &[&str] = &TIMELINE_NAMES;

/// Writes timeline rows as CSV to `W`, and scaling events as CSV to `E` (dropped by default).
/// The first I/O error is kept and reported by [`CsvTimeline::finish`]; rows after it are
/// dropped. The timeline's header is written with its first row, which says whether the run
/// has LLM engines (and so [`TIMELINE_ENGINE`]'s columns).
pub struct CsvTimeline<W: Write, E: Write = std::io::Sink> {
    out: W,
    events: E,
    line: String,
    error: Option<std::io::Error>,
    /// The header is written; with the engine columns if `Some(true)`.
    engine: Option<bool>,
}

impl<W: Write> CsvTimeline<W> {
    /// Starts the timeline CSV with its header row; scaling events are dropped.
    pub fn new(out: W) -> Self {
        CsvTimeline::with_scaling_events(out, std::io::sink())
    }
}

impl<W: Write, E: Write> CsvTimeline<W, E> {
    /// Starts both CSVs (the scaling events' header now, the timeline's with its first row).
    pub fn with_scaling_events(out: W, mut events: E) -> Self {
        let error = writeln!(events, "{}", SCALING_EVENT_COLUMNS.join(",")).err();
        CsvTimeline {
            out,
            events,
            line: String::with_capacity(256),
            error,
            engine: None,
        }
    }

    /// Writes the timeline's header, with the engine columns if `engine`.
    fn header(&mut self, engine: bool) {
        self.engine = Some(engine);
        let mut names = TIMELINE_COLUMNS.join(",");
        if engine {
            for c in TIMELINE_ENGINE {
                names.push(',');
                names.push_str(c.name);
            }
        }
        if let Err(e) = writeln!(self.out, "{names}") {
            self.error.get_or_insert(e);
        }
    }

    /// The writers back, or the first error met. A timeline without rows still gets its header.
    pub fn finish(mut self) -> std::io::Result<(W, E)> {
        if self.engine.is_none() && self.error.is_none() {
            self.header(false);
        }
        match self.error {
            Some(e) => Err(e),
            None => Ok((self.out, self.events)),
        }
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
        // Names and reasons are quoted, with quotes doubled (RFC 4180): reasons hold commas.
        // Text cells are neutralised against formulas (`csv_cell`); numbers are not text.
        let _ = writeln!(
            l,
            "{},{},{},{},{},{}",
            e.time_s,
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
        if self.engine.is_none() && self.error.is_none() {
            self.header(r.engine.is_some());
        }
        if self.error.is_some() {
            return;
        }
        let engine: &[_] = if self.engine == Some(true) {
            TIMELINE_ENGINE
        } else {
            &[]
        };
        let l = &mut self.line;
        l.clear();
        for (i, column) in TIMELINE.iter().chain(engine).enumerate() {
            if i > 0 {
                l.push(',');
            }
            csv_cell::push_value(l, (column.value)(r));
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
            engine: None,
        });
        let text = String::from_utf8(sink.finish().unwrap().0).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0].split(',').count(), TIMELINE_COLUMNS.len());
        assert_eq!(
            lines[1],
            "0,10,3,2,1,0,2,0,0,3,4,0.5,0.25,1.5,0.75,2.5,3,3.5,1,0,0.5,2,0.25,0,0,1,,0.1,,,1.25"
        );
    }

    #[test]
    fn a_run_with_engines_has_their_columns_last() {
        let mut sink = CsvTimeline::new(Vec::new());
        let row = |kv, preemptions| TimelineRow {
            engine: Some(crate::metrics::EngineWindow {
                kv_cache_used: kv,
                preemptions,
            }),
            ..TimelineRow::default()
        };
        sink.window(&row(Some(0.5), 2));
        sink.window(&row(None, 0));
        let text = String::from_utf8(sink.finish().unwrap().0).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            format!("{},kv_cache_used,preemptions", TIMELINE_COLUMNS.join(","))
        );
        assert!(lines[1].ends_with(",0,0.5,2"), "{}", lines[1]);
        assert!(lines[2].ends_with(",0,,0"), "{}", lines[2]);
        assert_eq!(lines[2].split(',').count(), TIMELINE_COLUMNS.len() + 2);
    }

    #[test]
    fn a_timeline_without_rows_has_its_header() {
        let sink = CsvTimeline::new(Vec::new());
        let text = String::from_utf8(sink.finish().unwrap().0).unwrap();
        assert_eq!(text, format!("{}\n", TIMELINE_COLUMNS.join(",")));
    }
}
