//! Trace replay: arrivals at the times a trace file recorded, with its per-request attributes.
//!
//! A run replays the shared [`TraceData`] (no per-run copy) through a few cursors, each a
//! shifted copy of the selected records:
//!
//! * **start**, a trace time before the first record, delays every arrival by the gap (without
//!   it the first record arrives at 0);
//! * **window** `[from, to)` (trace time from `start`, else from the first record) keeps the records whose trace time is in it, re-based so `from` is 0;
//! * **speed-up** `x` divides every time by `x` (the same requests in `1/x` of the time; at 1
//!   times are kept to the nanosecond);
//! * **loop** repeats the records back to back until the run ends, every `period` =
//!   (last time from 0) + (mean inter-arrival of the records), so the gap across the seam is the
//!   mean gap, not zero;
//! * **rate scale** `s`: below 1, *thinning* — each arrival is kept independently with
//!   probability `s`, drawn from the stream `"trace/thin"`; above 1, *superposition* — with
//!   `n = ⌈s⌉` copies, copy `j` (0 ≤ j < n) is the trace shifted by `j · period / n` modulo the
//!   period (rotated, so it still lies in `[0, period)`); the first `⌊s⌋` copies are kept whole and
//!   the last is thinned with probability `s − ⌊s⌋`. The expected count is exactly `s` times the
//!   trace's, so the mean rate is scaled exactly in expectation; each copy keeps the trace's own
//!   bursts (its inter-arrival pattern) and the shifts spread them, so burstiness is roughly
//!   kept (the copies' bursts do not line up, which a multiplied Poisson rate would not model).
//!
//! Arrivals come out in time order; equal times keep file order (and, across copies, copy
//! order). It must not know how requests are served.

use std::sync::Arc;

use super::trace_file::TraceData;
use crate::engine::{open_unit, StreamRng};
use crate::time::{SimDuration, SimTime};

/// How a trace is replayed (the `[traffic] trace` options).
#[derive(Debug, Clone, PartialEq)]
pub struct TraceOptions {
    /// Keep the records with trace time in `[from, to)`, re-based to start at 0.
    pub window: Option<(SimDuration, SimDuration)>,
    /// Time from the trace's `start` to its first record: every trace time is this much later
    /// (0 without `start`: the first record is at 0).
    pub lead: SimDuration,
    /// Time compression: 2 replays the trace in half the time. Default 1.
    pub speed_up: f64,
    /// Mean-rate multiplier: below 1 thinning, above 1 superposed shifted copies. Default 1.
    pub rate_scale: f64,
    /// Repeat the trace until the run's end. Default false.
    pub looped: bool,
}

impl Default for TraceOptions {
    fn default() -> Self {
        TraceOptions {
            window: None,
            lead: SimDuration::ZERO,
            speed_up: 1.0,
            rate_scale: 1.0,
            looped: false,
        }
    }
}

/// The largest `rate_scale`: each copy is a cursor looked at on every arrival.
pub const MAX_RATE_SCALE: f64 = 100.0;

/// The selected records of a trace and their replay times, before any copy.
#[derive(Debug, Clone)]
pub struct TraceView {
    data: Arc<TraceData>,
    /// Selected records `lo..hi`.
    lo: usize,
    hi: usize,
    /// Added to every record's time \[ns\] (`TraceOptions::lead`).
    lead: u64,
    /// Trace time that replays at 0 \[ns\].
    base: u64,
    speed_up: f64,
    /// The loop period \[ns\] (see the module doc); 0 if the records cannot be looped or
    /// shifted (fewer than two distinct times).
    period: u64,
}

impl TraceView {
    /// The records of `data` selected by `options`, with their replay times.
    pub fn new(data: Arc<TraceData>, options: &TraceOptions) -> TraceView {
        let (lo, hi, base) = match options.window {
            Some((from, to)) => {
                let lead = options.lead.as_nanos();
                let (from, to) = (from.as_nanos(), to.as_nanos());
                (
                    data.times.partition_point(|&t| t + lead < from),
                    data.times.partition_point(|&t| t + lead < to),
                    from,
                )
            }
            None => (0, data.len(), 0),
        };
        // Trace time of record i: data.times[i] + lead; replay time: that − base.
        let mut view = TraceView {
            data,
            lo,
            hi,
            lead: options.lead.as_nanos(),
            base,
            speed_up: options.speed_up,
            period: 0,
        };
        let n = view.len();
        if n >= 2 {
            let (first, last) = (view.time(0), view.time(n - 1));
            if last > first {
                view.period = last + (last - first) / (n as u64 - 1);
            }
        }
        view
    }

    /// Number of selected records.
    pub fn len(&self) -> usize {
        self.hi - self.lo
    }

    /// Whether no record is selected.
    pub fn is_empty(&self) -> bool {
        self.hi == self.lo
    }

    /// The loop period \[ns\]; 0 if fewer than two distinct times are selected (then the trace
    /// can be neither looped nor superposed).
    pub fn period(&self) -> u64 {
        self.period
    }

    /// Replay time \[ns\] of selected record `k` (before shifts and loops).
    #[inline]
    pub fn time(&self, k: usize) -> u64 {
        let t = self.data.times[self.lo + k] + self.lead - self.base;
        if self.speed_up == 1.0 {
            t
        } else {
            (t as f64 / self.speed_up).round() as u64
        }
    }

    /// The trace record index of selected record `k`.
    #[inline]
    pub fn record(&self, k: usize) -> usize {
        self.lo + k
    }

    /// The trace.
    pub fn data(&self) -> &TraceData {
        &self.data
    }
}

/// One shifted copy of the selected records, walked in time order.
#[derive(Debug, Clone)]
struct Cursor {
    offset: u64,
    /// The first selected record whose shifted time reaches the period: it wraps to the front.
    start: usize,
    /// Records of this copy emitted so far (across loops).
    emitted: u64,
    /// Keep probability (1: whole copy).
    keep: f64,
}

/// Arrivals replayed from a trace (see the module doc).
#[derive(Debug, Clone)]
pub struct TraceArrivals {
    view: TraceView,
    cursors: Vec<Cursor>,
    looped: bool,
    rng: StreamRng,
    end: SimTime,
    /// The trace record of the arrival last returned.
    current: usize,
}

impl TraceArrivals {
    /// Replays `view` with `options`' rate scale and loop, until `end`; thinning draws from
    /// `rng` (the stream `"trace/thin"`). A view with period 0 is replayed once, whole.
    pub fn new(view: TraceView, options: &TraceOptions, rng: StreamRng, end: SimTime) -> Self {
        let s = options.rate_scale;
        let copies = if view.period() == 0 {
            1
        } else {
            (s.ceil() as usize).max(1)
        };
        let whole = s.floor() as usize;
        let n = view.len();
        let cursors = (0..copies)
            .map(|j| {
                let offset = (view.period() as u128 * j as u128 / copies as u128) as u64;
                let start = if j == 0 {
                    n
                } else {
                    (0..n)
                        .position(|k| view.time(k) + offset >= view.period())
                        .unwrap_or(n)
                };
                Cursor {
                    offset,
                    start,
                    emitted: 0,
                    keep: if j < whole {
                        1.0
                    } else if s < 1.0 {
                        s
                    } else {
                        s - whole as f64
                    },
                }
            })
            .collect();
        TraceArrivals {
            looped: options.looped && view.period() > 0,
            view,
            cursors,
            rng,
            end,
            current: 0,
        }
    }

    /// `(time, selected record)` of `cursor`'s next record, if it has one.
    #[inline]
    fn peek(&self, c: &Cursor) -> Option<(u64, usize)> {
        let n = self.view.len() as u64;
        if n == 0 || (!self.looped && c.emitted >= n) {
            return None;
        }
        let v = c.start as u64 + c.emitted;
        let (k, lap) = ((v % n) as usize, v / n);
        // lap 0 holds the records that wrapped: their time is shifted back by one period.
        // (lap is at least 1 when nothing wraps, so this never goes below 0.)
        let t = (self.view.time(k) + c.offset).checked_add(lap.checked_mul(self.view.period())?)?
            - self.view.period();
        Some((t, k))
    }

    /// The next arrival time, or `None` once past the end (or the trace's end without loop).
    pub fn next_arrival(&mut self) -> Option<SimTime> {
        loop {
            let mut best: Option<(u64, usize, usize)> = None;
            for (j, c) in self.cursors.iter().enumerate() {
                if let Some((t, k)) = self.peek(c) {
                    if best.is_none_or(|(bt, _, _)| t < bt) {
                        best = Some((t, k, j));
                    }
                }
            }
            let (t, k, j) = best?;
            if t >= self.end.as_nanos() {
                return None;
            }
            let c = &mut self.cursors[j];
            c.emitted += 1;
            if c.keep < 1.0 && open_unit(&mut self.rng) >= c.keep {
                continue;
            }
            self.current = self.view.record(k);
            return Some(SimTime::from_nanos(t));
        }
    }

    /// The trace record of the arrival last returned by [`TraceArrivals::next_arrival`].
    #[inline]
    pub fn current(&self) -> usize {
        self.current
    }

    /// The trace replayed.
    pub fn data(&self) -> &TraceData {
        self.view.data()
    }
}

/// A per-interval count trace as a piecewise-constant rate (`RateProfile::Steps` from it):
/// interval `i` (starting at `times[i]` from the first) has rate `counts[i] / interval`, times
/// `rate_scale`. With `speed_up` x the intervals last `1/x` as long at `x` times the rate (the
/// same counts). With `looped` the steps repeat every `(last start + interval)` until `end`;
/// without, the rate is 0 after the last interval.
pub fn count_steps(
    times: &[u64],
    counts: &[f64],
    interval: SimDuration,
    rate_scale: f64,
    speed_up: f64,
    looped: bool,
    end: SimTime,
) -> Vec<(SimTime, f64)> {
    let scale = |t: u64| (t as f64 / speed_up).round() as u64;
    let interval_ns = interval.as_nanos();
    let rate_of = |c: f64| c / interval.as_secs_f64() * rate_scale * speed_up;
    let length = scale(times.last().copied().unwrap_or(0) + interval_ns).max(1);
    let mut steps = Vec::new();
    let mut lap_start = 0u64;
    loop {
        for (&t, &c) in times.iter().zip(counts) {
            let at = lap_start + scale(t);
            if at >= end.as_nanos() {
                return steps;
            }
            push_step(&mut steps, at, rate_of(c));
        }
        lap_start += length;
        if !looped || lap_start >= end.as_nanos() {
            break;
        }
    }
    push_step(&mut steps, lap_start, 0.0);
    steps
}

/// Appends a step, replacing one at the same time (a zero-length interval after rounding).
fn push_step(steps: &mut Vec<(SimTime, f64)>, at: u64, rate: f64) {
    let at = SimTime::from_nanos(at);
    if let Some(last) = steps.last_mut() {
        if last.0 == at {
            last.1 = rate;
            return;
        }
    }
    steps.push((at, rate));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RandomStreams;

    const S: u64 = 1_000_000_000;

    fn data(times: &[u64]) -> Arc<TraceData> {
        Arc::new(TraceData {
            times: times.to_vec(),
            input_tokens: (0..times.len() as u32).collect(),
            ..TraceData::default()
        })
    }

    fn replay(times: &[u64], options: TraceOptions, end_ns: u64) -> Vec<(u64, usize)> {
        let view = TraceView::new(data(times), &options);
        let rng = RandomStreams::new(7).stream("trace/thin");
        let mut a = TraceArrivals::new(view, &options, rng, SimTime::from_nanos(end_ns));
        std::iter::from_fn(|| a.next_arrival().map(|t| (t.as_nanos(), a.current()))).collect()
    }

    #[test]
    fn replay_keeps_every_time_and_the_file_order_of_ties() {
        let times = [0, 1, 1, 1, 5_000_000_007, 5_000_000_007, 9 * S];
        let got = replay(&times, TraceOptions::default(), u64::MAX);
        let want: Vec<(u64, usize)> = times.iter().copied().zip(0..).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn the_run_end_cuts_the_replay() {
        let got = replay(&[0, S, 2 * S, 3 * S], TraceOptions::default(), 2 * S);
        assert_eq!(got, vec![(0, 0), (S, 1)]);
    }

    #[test]
    fn window_selects_and_rebases_speed_up_compresses() {
        let times = [0, 10 * S, 20 * S, 30 * S, 40 * S];
        let options = TraceOptions {
            window: Some((SimDuration::from_secs(10), SimDuration::from_secs(30))),
            ..TraceOptions::default()
        };
        // [10 s, 30 s) keeps records 1 and 2, at 0 and 10 s.
        assert_eq!(replay(&times, options, u64::MAX), vec![(0, 1), (10 * S, 2)]);
        let options = TraceOptions {
            speed_up: 4.0,
            ..TraceOptions::default()
        };
        // Every time divided by 4: 0, 2.5, 5, 7.5, 10 s.
        let got: Vec<u64> = replay(&times, options, u64::MAX)
            .iter()
            .map(|x| x.0)
            .collect();
        assert_eq!(got, vec![0, 2_500_000_000, 5 * S, 7_500_000_000, 10 * S]);
    }

    #[test]
    fn start_before_the_first_record_delays_every_arrival() {
        // `start` 2 s before the first record: arrivals at 2, 3 s; a window [2.5 s, 10 s) of
        // that clock keeps the record at 3 s, re-based to 0.5 s.
        let options = TraceOptions {
            lead: SimDuration::from_secs(2),
            ..TraceOptions::default()
        };
        assert_eq!(
            replay(&[0, S], options, u64::MAX),
            vec![(2 * S, 0), (3 * S, 1)]
        );
        let options = TraceOptions {
            lead: SimDuration::from_secs(2),
            window: Some((SimDuration::from_millis(2500), SimDuration::from_secs(10))),
            ..TraceOptions::default()
        };
        assert_eq!(replay(&[0, S], options, u64::MAX), vec![(S / 2, 1)]);
    }

    #[test]
    fn looping_repeats_after_span_plus_mean_gap() {
        // Span 4 s over 2 gaps: mean gap 2 s, period 6 s. Laps start at 0, 6, 12 s.
        let options = TraceOptions {
            looped: true,
            ..TraceOptions::default()
        };
        let got = replay(&[0, S, 4 * S], options, 14 * S);
        assert_eq!(
            got,
            vec![
                (0, 0),
                (S, 1),
                (4 * S, 2),
                (6 * S, 0),
                (7 * S, 1),
                (10 * S, 2),
                (12 * S, 0),
                (13 * S, 1)
            ]
        );
    }

    #[test]
    fn integer_scale_superposes_rotated_copies() {
        // Period 6 s (see above); scale 3 → copies shifted by 0, 2 and 4 s modulo 6 s:
        // copy 0: 0, 1, 4; copy 1: 2, 3, 6−6=0; copy 2: 4, 5, 8−6=2.
        // Merged by time, ties in copy order: 0(c0) 0(c1,rec 2) 1 2(c1) 2(c2,rec2) 3 4(c0) 4(c2) 5.
        let options = TraceOptions {
            rate_scale: 3.0,
            ..TraceOptions::default()
        };
        let got = replay(&[0, S, 4 * S], options, u64::MAX);
        assert_eq!(
            got,
            vec![
                (0, 0),
                (0, 2),
                (S, 1),
                (2 * S, 0),
                (2 * S, 2),
                (3 * S, 1),
                (4 * S, 2),
                (4 * S, 0),
                (5 * S, 1)
            ]
        );
    }

    /// Kept count of `n` records at keep probability `p` is binomial: within 4.42 standard
    /// deviations with probability 1 − 1e-5.
    fn assert_binomial(kept: usize, n: usize, p: f64) {
        let (mean, sd) = (n as f64 * p, (n as f64 * p * (1.0 - p)).sqrt());
        assert!(
            (kept as f64 - mean).abs() <= 4.42 * sd,
            "kept {kept} of {n}, expected {mean} ± {}",
            4.42 * sd
        );
    }

    #[test]
    fn thinning_keeps_a_binomial_share_in_time_order() {
        let times: Vec<u64> = (0..20_000).map(|i| i * 1_000_000).collect();
        let options = TraceOptions {
            rate_scale: 0.3,
            ..TraceOptions::default()
        };
        let got = replay(&times, options, u64::MAX);
        assert_binomial(got.len(), times.len(), 0.3);
        // Kept arrivals are records at their own times.
        assert!(got.iter().all(|&(t, k)| times[k] == t));
        assert!(got.windows(2).all(|w| w[0].1 < w[1].1));
    }

    #[test]
    fn fractional_scale_is_whole_copies_plus_a_thinned_one() {
        let times: Vec<u64> = (0..10_000).map(|i| i * 1_000_000).collect();
        let options = TraceOptions {
            rate_scale: 2.25,
            ..TraceOptions::default()
        };
        let got = replay(&times, options, u64::MAX);
        // Two whole copies (20 000) plus a binomial(10 000, 0.25) third.
        assert!(got.len() >= 20_000);
        assert_binomial(got.len() - 20_000, 10_000, 0.25);
        assert!(got.windows(2).all(|w| w[0].0 <= w[1].0));
    }

    #[test]
    fn count_trace_steps() {
        // Counts 60, 0, 120 per minute: 1/s, 0, 2/s; then 0 after 3 min.
        let minute = 60 * S;
        let steps = count_steps(
            &[0, minute, 2 * minute],
            &[60.0, 0.0, 120.0],
            SimDuration::from_secs(60),
            1.0,
            1.0,
            false,
            SimTime::from_nanos(10 * minute),
        );
        let at = |m: u64| SimTime::from_nanos(m * minute);
        assert_eq!(
            steps,
            vec![(at(0), 1.0), (at(1), 0.0), (at(2), 2.0), (at(3), 0.0)]
        );
        // Speed-up 2 and scale 0.5, looped until 4 min: 30 s steps at rate × 2 × 0.5, laps of
        // 90 s starting at 0, 90 and 180 s; the step at 240 s is the run's end.
        let steps = count_steps(
            &[0, minute, 2 * minute],
            &[60.0, 0.0, 120.0],
            SimDuration::from_secs(60),
            0.5,
            2.0,
            true,
            SimTime::from_nanos(4 * minute),
        );
        let half = |k: u64| SimTime::from_nanos(k * 30 * S);
        assert_eq!(
            steps,
            vec![
                (half(0), 1.0),
                (half(1), 0.0),
                (half(2), 2.0),
                (half(3), 1.0),
                (half(4), 0.0),
                (half(5), 2.0),
                (half(6), 1.0),
                (half(7), 0.0)
            ]
        );
    }
}
