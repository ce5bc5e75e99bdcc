//! A trace's summary for `fleetsim trace-stats`: span, rate over time, burstiness and token
//! distributions. Computed from the [`TraceData`] arrays; it knows nothing of formatting.
//!
//! Bounded whatever the span: a trace whose records are far apart (two records a billion
//! seconds apart) is counted in at most [`MAX_BINS`] bins of a whole number of minutes (one
//! minute for a span up to a week), and the index of dispersion of a span of many windows is
//! computed from the non-empty windows alone. Memory and time follow the records, not the span.

use super::TraceData;

/// What `fleetsim trace-stats` reports about a trace.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceStats {
    /// Records.
    pub count: usize,
    /// Last time − first time \[s\].
    pub span_secs: f64,
    /// Mean rate [requests/s]: one over the mean inter-arrival time, `(count − 1) / span` (the
    /// rate a looped replay has; 0 for a trace of one time).
    pub mean_rate: f64,
    /// Requests in each bin of `bin_secs` from the first record (the last may be partial).
    pub per_bin: Vec<u64>,
    /// The bins' width \[s\]: 60, or a coarser whole number of minutes when the span holds more
    /// than [`MAX_BINS`] minutes.
    pub bin_secs: u64,
    /// Coefficient of variation of the inter-arrival times (1 for Poisson).
    pub cv_interarrival: f64,
    /// Index of dispersion (variance / mean) of the counts in whole windows of 1 s, 10 s and
    /// 60 s (1 for Poisson; `None` when the span holds fewer than two windows).
    pub dispersion: Vec<(u64, Option<f64>)>,
    /// Input tokens, if the trace has them.
    pub input_tokens: Option<TokenStats>,
    /// Output tokens, if the trace has them.
    pub output_tokens: Option<TokenStats>,
}

/// A token count's distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenStats {
    /// Mean.
    pub mean: f64,
    /// Median (nearest rank).
    pub p50: u32,
    /// 90th percentile (nearest rank).
    pub p90: u32,
    /// 99th percentile (nearest rank).
    pub p99: u32,
    /// Maximum.
    pub max: u32,
}

/// The index-of-dispersion windows \[s\].
pub const DISPERSION_WINDOWS: [u64; 3] = [1, 10, 60];

/// The most bins of requests over time: a week of minutes.
pub const MAX_BINS: u64 = 7 * 24 * 60;

/// Bin widths tried in turn [minutes], before whole multiples of a day.
const BIN_MINUTES: [u64; 11] = [1, 2, 5, 10, 15, 30, 60, 120, 360, 720, 1440];

/// Up to this many windows the index of dispersion counts every window in an array (the
/// computation the statistics were first defined with); beyond, only the non-empty ones.
const DENSE_WINDOWS: u64 = 1 << 20;

/// The bin width \[s\] for a span of `span_ns`: the first of `BIN_MINUTES` (then whole days)
/// giving at most [`MAX_BINS`] bins.
pub fn bin_secs(span_ns: u64) -> u64 {
    let minutes = span_ns / 60_000_000_000 + 1;
    let width = BIN_MINUTES
        .iter()
        .copied()
        .find(|w| minutes.div_ceil(*w) <= MAX_BINS)
        .unwrap_or_else(|| minutes.div_ceil(MAX_BINS).div_ceil(1440) * 1440);
    width * 60
}

impl TraceStats {
    /// The statistics of `data` (at least one record).
    pub fn of(data: &TraceData) -> TraceStats {
        let times = &data.times;
        let count = times.len();
        let span_ns = times.last().copied().unwrap_or(0) - times.first().copied().unwrap_or(0);
        let span_secs = span_ns as f64 / 1e9;
        let mean_rate = if span_ns > 0 {
            (count - 1) as f64 / span_secs
        } else {
            0.0
        };
        let bin_secs = bin_secs(span_ns);
        let bin = bin_secs * 1_000_000_000;
        let mut per_bin = vec![0u64; (span_ns / bin) as usize + 1];
        for &t in times {
            per_bin[(t / bin) as usize] += 1;
        }
        let cv_interarrival = cv_of_gaps(times);
        let dispersion = DISPERSION_WINDOWS
            .iter()
            .map(|&w| (w, dispersion(times, w * 1_000_000_000, span_ns)))
            .collect();
        TraceStats {
            count,
            span_secs,
            mean_rate,
            per_bin,
            bin_secs,
            cv_interarrival,
            dispersion,
            input_tokens: token_stats(&data.input_tokens),
            output_tokens: token_stats(&data.output_tokens),
        }
    }
}

/// Standard deviation / mean (population variance) of the gaps between consecutive `times`; 0
/// for fewer than two gaps or a zero mean. Two passes over the times, no array of gaps.
fn cv_of_gaps(times: &[u64]) -> f64 {
    let gaps = || times.windows(2).map(|w| (w[1] - w[0]) as f64);
    let len = times.len().saturating_sub(1);
    if len < 2 {
        return 0.0;
    }
    let n = len as f64;
    let mean = gaps().sum::<f64>() / n;
    if mean == 0.0 {
        return 0.0;
    }
    let var = gaps().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    var.sqrt() / mean
}

/// Variance / mean of the counts in the whole windows of `width` ns within the span.
fn dispersion(times: &[u64], width: u64, span_ns: u64) -> Option<f64> {
    let windows = span_ns / width;
    if windows < 2 {
        return None;
    }
    if windows > DENSE_WINDOWS {
        return sparse_dispersion(times, width, windows);
    }
    let windows = windows as usize;
    let mut counts = vec![0f64; windows];
    for &t in times {
        if let Some(c) = counts.get_mut((t / width) as usize) {
            *c += 1.0;
        }
    }
    let n = windows as f64;
    let mean = counts.iter().sum::<f64>() / n;
    if mean == 0.0 {
        return None;
    }
    let var = counts.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Some(var / mean)
}

/// [`dispersion`] over `windows` windows from the non-empty ones (the times are sorted, so
/// each window's count is a run): the empty windows each add `mean²` to the squared deviations.
fn sparse_dispersion(times: &[u64], width: u64, windows: u64) -> Option<f64> {
    let mut runs: Vec<f64> = Vec::new();
    let mut i = 0;
    while i < times.len() {
        let w = times[i] / width;
        if w >= windows {
            break;
        }
        let run = times[i..].partition_point(|&t| t / width == w);
        runs.push(run as f64);
        i += run;
    }
    let n = windows as f64;
    let mean = runs.iter().sum::<f64>() / n;
    if mean == 0.0 {
        return None;
    }
    let empty = (windows - runs.len() as u64) as f64;
    let squares = runs.iter().map(|c| (c - mean).powi(2)).sum::<f64>() + empty * mean * mean;
    Some(squares / (n - 1.0) / mean)
}

fn token_stats(tokens: &[u32]) -> Option<TokenStats> {
    if tokens.is_empty() {
        return None;
    }
    let mut sorted = tokens.to_vec();
    sorted.sort_unstable();
    // Nearest rank: the smallest value with at least p of the values at or below it.
    let rank =
        |p: f64| sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
    Some(TokenStats {
        mean: tokens.iter().map(|&t| t as f64).sum::<f64>() / tokens.len() as f64,
        p50: rank(0.5),
        p90: rank(0.9),
        p99: rank(0.99),
        max: sorted[sorted.len() - 1],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn periodic_trace_has_no_burstiness() {
        // One arrival every 0.5 s for 120 s: 241 records, gaps all equal (cv 0), two per
        // second in every 1 s window (variance 0).
        let data = TraceData {
            times: (0..=240).map(|i| i * S / 2).collect(),
            input_tokens: (1..=241).collect(),
            ..TraceData::default()
        };
        let s = TraceStats::of(&data);
        assert_eq!(s.count, 241);
        assert_eq!(s.span_secs, 120.0);
        assert_eq!(s.mean_rate, 2.0);
        // Minutes 0 and 1 hold 120 each; the record at exactly 120 s opens minute 2.
        assert_eq!((s.per_bin, s.bin_secs), (vec![120, 120, 1], 60));
        assert_eq!(s.cv_interarrival, 0.0);
        assert_eq!(s.dispersion[0], (1, Some(0.0)));
        // 120 s holds two 60 s windows of 120 each: dispersion 0.
        assert_eq!(s.dispersion[2], (60, Some(0.0)));
        let t = s.input_tokens.unwrap();
        // Tokens 1..=241: mean 121; nearest ranks ⌈0.5·241⌉ = 121, ⌈0.9·241⌉ = 217, ⌈0.99·241⌉ = 239.
        assert_eq!(
            (t.mean, t.p50, t.p90, t.p99, t.max),
            (121.0, 121, 217, 239, 241)
        );
        assert!(s.output_tokens.is_none());
    }

    #[test]
    fn bursts_raise_cv_and_dispersion() {
        // 10 arrivals at the start of every 10 s for 100 s: gaps are nine 0s and one 10 s per
        // burst; 1 s windows hold 10 or 0.
        let times: Vec<u64> = (0..10)
            .flat_map(|b| std::iter::repeat_n(b * 10 * S, 10))
            .chain([100 * S])
            .collect();
        let s = TraceStats::of(&TraceData {
            times,
            ..TraceData::default()
        });
        // Gaps: 90 zeros and 10 tens: mean 1, variance 0.9·1 + 0.1·81 = 9, cv 3.
        assert!(
            (s.cv_interarrival - 3.0).abs() < 1e-12,
            "{}",
            s.cv_interarrival
        );
        // 100 windows of 1 s: ten hold 10, ninety hold 0; mean 1, sample variance
        // (10·81 + 90·1)/99 = 900/99: dispersion 9.09.
        let d1 = s.dispersion[0].1.unwrap();
        assert!((d1 - 900.0 / 99.0).abs() < 1e-9, "{d1}");
        // Counted from the non-empty windows alone, the same.
        let sparse = sparse_dispersion(&s_times(), S, 100).unwrap();
        assert!((sparse - d1).abs() < 1e-12 * d1, "{sparse} vs {d1}");
    }

    fn s_times() -> Vec<u64> {
        (0..10)
            .flat_map(|b| std::iter::repeat_n(b * 10 * S, 10))
            .chain([100 * S])
            .collect()
    }

    /// Regression (issue 14, item 7): two records a billion seconds apart used to ask for 16.7
    /// million minute bins and a billion one-second windows (8 GB) before anything was printed.
    #[test]
    fn a_long_sparse_span_stays_small() {
        let data = TraceData {
            times: vec![0, 1_000_000_000 * S],
            ..TraceData::default()
        };
        let s = TraceStats::of(&data);
        // 16,666,667 minutes in bins of two days: 5,788 bins.
        assert_eq!(s.bin_secs, 2 * 86_400);
        assert_eq!(s.per_bin.len(), 5_788);
        assert_eq!(s.per_bin.iter().sum::<u64>(), 2);
        // A billion windows of 1 s, one of which holds the first record (the last is at the
        // span's end, outside every whole window): mean 1e-9, dispersion (1 − 1e-9)·n/(n − 1).
        let d1 = s.dispersion[0].1.unwrap();
        assert!((d1 - 1.0).abs() < 1e-8, "{d1}");
        assert_eq!(s.mean_rate, 1e-9);
    }

    #[test]
    fn bins_widen_in_steps_past_a_week() {
        let minute = 60 * S;
        assert_eq!(bin_secs(0), 60);
        assert_eq!(bin_secs((MAX_BINS - 1) * minute), 60);
        assert_eq!(bin_secs(MAX_BINS * minute), 120);
        assert_eq!(bin_secs(30 * 86_400 * S), 300);
        assert_eq!(bin_secs(365 * 86_400 * S), 3600);
        assert_eq!(bin_secs(u64::MAX) % 86_400, 0);
    }
}
