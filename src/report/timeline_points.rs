//! Reading `timeline.csv` back for drawing: streamed through the `csv` crate and merged into at
//! most [`MAX_POINTS`] points, so a chart of a 100,000-window run costs no more to draw (or to
//! hold) than one of 1,000 windows.
//!
//! How windows merge into a point, chosen so that nothing alarming is averaged away:
//! - rates (arrivals and failures per second) are the point's counts over its duration, so the
//!   area under the curve is still the number of requests;
//! - levels (instances by state, desired, capacity) are time-weighted means, as each window's are;
//! - latency percentiles are the *largest* of the windows' percentiles (a tail must stay visible).
//!
//! It also finds the overload spans the charts shade: windows whose arrival rate exceeds
//! [`SPIKE_FACTOR`] times the run's median window rate. It must not know how the file was made.

use std::io;
use std::path::Path;

use serde::Deserialize;

/// The most points a timeline is drawn with: about one per pixel of a chart's plot width.
pub const MAX_POINTS: usize = 1000;

/// A window is part of a spike when its arrival rate exceeds this many times the median.
pub const SPIKE_FACTOR: f64 = 3.0;

/// Lifecycle states drawn, in stacking order (bottom first), with their legend names.
pub const STATES: [&str; 6] = [
    "in service",
    "warming up",
    "loading model",
    "pending (boot)",
    "draining",
    "warm pool",
];

/// Index of "in service" in [`TimelinePoint::states`].
pub const IN_SERVICE: usize = 0;

/// The columns of `timeline.csv` the charts need (`docs/metrics.md` defines them); the others
/// are ignored.
#[derive(Deserialize)]
struct CsvWindow {
    start_s: f64,
    end_s: f64,
    arrivals: u64,
    timed_out: u64,
    rejected: u64,
    no_healthy_target: u64,
    server_error: u64,
    connect_failed: u64,
    interrupted: u64,
    desired: f64,
    capacity: f64,
    instances_pending: f64,
    instances_loading: f64,
    instances_warming: f64,
    instances_in_service: f64,
    instances_draining: f64,
    instances_warm_stopped: f64,
    instances_warm_hibernated: f64,
    instances_warm_running: f64,
    latency_p50_s: Option<f64>,
    latency_p99_s: Option<f64>,
}

impl CsvWindow {
    fn failures(&self) -> u64 {
        self.timed_out
            + self.rejected
            + self.no_healthy_target
            + self.server_error
            + self.connect_failed
            + self.interrupted
    }

    /// Time-average instances in each of [`STATES`].
    fn states(&self) -> [f64; 6] {
        [
            self.instances_in_service,
            self.instances_warming,
            self.instances_loading,
            self.instances_pending,
            self.instances_draining,
            self.instances_warm_stopped
                + self.instances_warm_hibernated
                + self.instances_warm_running,
        ]
    }
}

/// One drawn point: one window, or several merged (module doc).
#[derive(Debug, Clone, PartialEq)]
pub struct TimelinePoint {
    /// Start of its first window \[s\].
    pub start_s: f64,
    /// End of its last window \[s\].
    pub end_s: f64,
    /// Requests arrived per second.
    pub arrivals_per_s: f64,
    /// Requests failed (every reason) per second.
    pub failures_per_s: f64,
    /// Time-average desired capacity, all pools.
    pub desired: f64,
    /// Time-average capacity (instances launched and not leaving).
    pub capacity: f64,
    /// Time-average instances in each of [`STATES`].
    pub states: [f64; 6],
    /// Largest median latency of its windows \[s\]; `None` when nothing completed.
    pub latency_p50_s: Option<f64>,
    /// Largest 99th percentile latency of its windows \[s\].
    pub latency_p99_s: Option<f64>,
}

impl TimelinePoint {
    /// The middle of the point's time span \[s\].
    pub fn mid_s(&self) -> f64 {
        (self.start_s + self.end_s) / 2.0
    }
}

/// A timeline ready to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// The points, in time order.
    pub points: Vec<TimelinePoint>,
    /// Windows read.
    pub windows: usize,
    /// Duration of one window (the first one) \[s\].
    pub window_s: f64,
    /// Windows merged into each point (the last point may hold fewer).
    pub windows_per_point: usize,
    /// The median over windows of the arrival rate [requests/s].
    pub median_arrivals_per_s: f64,
    /// Time spans `[start, end)` \[s\] of consecutive windows whose arrival rate exceeds
    /// [`SPIKE_FACTOR`] × the median.
    pub spikes: Vec<(f64, f64)>,
}

/// Sums of one point's windows.
#[derive(Default)]
struct Bucket {
    start_s: f64,
    end_s: f64,
    seconds: f64,
    arrivals: u64,
    failures: u64,
    desired: f64,
    capacity: f64,
    states: [f64; 6],
    p50: Option<f64>,
    p99: Option<f64>,
    windows: usize,
}

impl Bucket {
    fn add(&mut self, w: &CsvWindow) {
        let dt = (w.end_s - w.start_s).max(0.0);
        if self.windows == 0 {
            self.start_s = w.start_s;
        }
        self.end_s = w.end_s;
        self.seconds += dt;
        self.arrivals += w.arrivals;
        self.failures += w.failures();
        self.desired += w.desired * dt;
        self.capacity += w.capacity * dt;
        for (sum, v) in self.states.iter_mut().zip(w.states()) {
            *sum += v * dt;
        }
        self.p50 = max_opt(self.p50, w.latency_p50_s);
        self.p99 = max_opt(self.p99, w.latency_p99_s);
        self.windows += 1;
    }

    fn point(&self) -> TimelinePoint {
        // A zero-length window (a run ending on a window boundary) has rates and levels of 0.
        let per_s = |x: f64| {
            if self.seconds > 0.0 {
                x / self.seconds
            } else {
                0.0
            }
        };
        TimelinePoint {
            start_s: self.start_s,
            end_s: self.end_s,
            arrivals_per_s: per_s(self.arrivals as f64),
            failures_per_s: per_s(self.failures as f64),
            desired: per_s(self.desired),
            capacity: per_s(self.capacity),
            states: self.states.map(per_s),
            latency_p50_s: self.p50,
            latency_p99_s: self.p99,
        }
    }
}

fn max_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Reads `timeline.csv` at `path`, merging windows so that at most `max_points` remain.
/// `simulated_seconds` (the summary's) sizes the merge before the file is read, so that the file
/// is read once and only the merged points are kept (and one arrival rate per window, for the
/// median).
pub fn read_timeline(
    path: &Path,
    simulated_seconds: f64,
    max_points: usize,
) -> io::Result<Timeline> {
    let bad = |what: String| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {what}", path.display()),
        )
    };
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let headers = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    let mut record = csv::StringRecord::new();
    let mut points = Vec::new();
    let mut rates: Vec<f64> = Vec::new();
    let mut bucket = Bucket::default();
    let mut per_point = 0;
    let mut window_s = 0.0;
    while reader
        .read_record(&mut record)
        .map_err(|e| bad(e.to_string()))?
    {
        let w: CsvWindow = record
            .deserialize(Some(&headers))
            .map_err(|e| bad(e.to_string()))?;
        if per_point == 0 {
            window_s = w.end_s - w.start_s;
            let expected = if window_s > 0.0 {
                (simulated_seconds / window_s).ceil()
            } else {
                1.0
            };
            per_point = ((expected / max_points.max(1) as f64).ceil() as usize).max(1);
        }
        let dt = w.end_s - w.start_s;
        rates.push(if dt > 0.0 {
            w.arrivals as f64 / dt
        } else {
            0.0
        });
        bucket.add(&w);
        if bucket.windows == per_point {
            points.push(bucket.point());
            bucket = Bucket::default();
        }
    }
    if bucket.windows > 0 {
        points.push(bucket.point());
    }
    let windows = rates.len();
    let median = median(&mut rates.clone());
    let spikes = spike_spans(&rates, &points, per_point.max(1), median * SPIKE_FACTOR);
    Ok(Timeline {
        points,
        windows,
        window_s,
        windows_per_point: per_point.max(1),
        median_arrivals_per_s: median,
        spikes,
    })
}

/// The median of `xs` (the mean of the two middle values for an even count); 0 for none.
fn median(xs: &mut [f64]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_unstable_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// Spans of points holding at least one window whose rate exceeds `threshold`, merged when
/// consecutive.
fn spike_spans(
    rates: &[f64],
    points: &[TimelinePoint],
    per_point: usize,
    threshold: f64,
) -> Vec<(f64, f64)> {
    let mut spans: Vec<(f64, f64)> = Vec::new();
    for (point, chunk) in points.iter().zip(rates.chunks(per_point)) {
        if !chunk.iter().any(|&r| r > threshold) {
            continue;
        }
        match spans.last_mut() {
            Some(last) if last.1 == point.start_s => last.1 = point.end_s,
            _ => spans.push((point.start_s, point.end_s)),
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::TIMELINE_COLUMNS;

    /// A timeline.csv with `arrivals[i]` arrivals in window i (10 s each), 2 failures in window 1,
    /// p99 = i seconds, 3 instances in service and 1 draining.
    fn csv(arrivals: &[u64]) -> String {
        let mut out = TIMELINE_COLUMNS.join(",");
        out.push('\n');
        for (i, a) in arrivals.iter().enumerate() {
            let cells: Vec<String> = TIMELINE_COLUMNS
                .iter()
                .map(|c| match *c {
                    "start_s" => format!("{}", i * 10),
                    "end_s" => format!("{}", (i + 1) * 10),
                    "arrivals" => a.to_string(),
                    "rejected" if i == 1 => "2".into(),
                    "instances_in_service" => "3".into(),
                    "instances_draining" => "1".into(),
                    "latency_p99_s" => format!("{i}"),
                    "latency_p50_s" | "latency_mean_s" | "latency_p90_s" => String::new(),
                    _ => "0".into(),
                })
                .collect();
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    }

    fn read(text: &str, max_points: usize) -> Timeline {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("timeline.csv");
        std::fs::write(&path, text).unwrap();
        let windows = text.lines().count() - 1;
        read_timeline(&path, windows as f64 * 10.0, max_points).unwrap()
    }

    #[test]
    fn windows_are_kept_one_per_point_when_few() {
        let t = read(&csv(&[10, 20, 30]), 1000);
        assert_eq!((t.windows, t.windows_per_point, t.points.len()), (3, 1, 3));
        assert_eq!(t.points[1].arrivals_per_s, 2.0);
        assert_eq!(t.points[1].failures_per_s, 0.2);
        assert_eq!(t.points[2].latency_p99_s, Some(2.0));
        assert_eq!(t.points[0].latency_p50_s, None);
        assert_eq!(t.points[0].states[IN_SERVICE], 3.0);
        assert_eq!(t.points[0].states[4], 1.0);
    }

    #[test]
    fn many_windows_merge_rates_as_totals_and_tails_as_maxima() {
        // 10 windows into at most 4 points: 3 windows per point (10 / 4 rounded up), 4 points.
        let t = read(&csv(&[10, 20, 30, 40, 50, 60, 70, 80, 90, 100]), 4);
        assert_eq!((t.windows_per_point, t.points.len()), (3, 4));
        // (10 + 20 + 30) requests over 30 s; the last point is one window.
        assert_eq!(t.points[0].arrivals_per_s, 2.0);
        assert_eq!((t.points[0].start_s, t.points[0].end_s), (0.0, 30.0));
        assert_eq!(t.points[3].arrivals_per_s, 10.0);
        assert_eq!(t.points[1].latency_p99_s, Some(5.0));
        assert_eq!(t.points[2].states[IN_SERVICE], 3.0);
    }

    #[test]
    fn spikes_are_windows_above_three_times_the_median() {
        // Median 10 per 10 s; 31 is above 3x, 30 is not; two adjacent windows make one span.
        let t = read(&csv(&[10, 10, 31, 40, 10, 30, 10]), 1000);
        assert_eq!(t.median_arrivals_per_s, 1.0);
        assert_eq!(t.spikes, vec![(20.0, 40.0)]);
    }

    #[test]
    fn a_missing_column_is_an_error_naming_the_file() {
        let text = csv(&[1, 2]).replace("desired", "wanted");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("timeline.csv");
        std::fs::write(&path, text).unwrap();
        let e = read_timeline(&path, 20.0, 10).unwrap_err();
        assert!(e.to_string().contains("timeline.csv"), "{e}");
        assert!(e.to_string().contains("desired"), "{e}");
    }
}
