//! The metrics pipeline: how a controller sees a metric. A source value is sampled, the samples
//! of each fixed `period` are reduced to one datapoint by a statistic, and the datapoint becomes
//! visible only `lag` after its period ends. Autoscalers read datapoints, never the source.
//!
//! This module owns periods, statistics, publication lag and the bounded store of published
//! datapoints. It must not know what the metric measures, who samples it or which controller
//! reads it: the world calls [`MetricsPipeline::record`] at its own sampling instants and the
//! policies call [`MetricsPipeline::latest`] / [`MetricsPipeline::visible_at`].
//!
//! ## The real systems
//! - **CloudWatch.** "Statistics are metric data aggregations over specified periods of time";
//!   with a period of five minutes, "the Sum is the sum of all sample values collected during the
//!   five-minute period, whereas the Minimum is the lowest value collected during the
//!   five-minute period". `SampleCount` is the number of datapoints in the period, `Sum` their
//!   total, `Average` is `Sum / SampleCount`, `Minimum`/`Maximum` the extremes, and `pNN.NN` a
//!   percentile with up to two decimals (`p95.45`) (Amazon CloudWatch User Guide, *CloudWatch
//!   statistics definitions*,
//!   <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html>).
//!   Periods are aligned to whole multiples of the period; standard resolution is 1 minute (EC2
//!   detailed monitoring) or 5 minutes (basic). A period with no sample has no datapoint
//!   ("missing data"), which is what [`MetricsPipeline`] produces. CloudWatch does not publish a
//!   fixed ingestion delay; `lag` is the scenario's assumption (one to a few minutes is what
//!   users observe for standard metrics).
//! - **Prometheus.** The server scrapes each target every `scrape_interval` (global default 1 m;
//!   15 s and 30 s are common) and stores the value at that instant; an instant query returns the
//!   newest sample. A gauge scraped every 15 s is this pipeline with `period = 15 s`,
//!   [`Statistic::Last`] and `lag = 0` plus the evaluation delay of whoever queries it (the
//!   Prometheus adapter, KEDA's polling). One difference: here a scrape becomes visible at the
//!   end of its interval, up to one interval later than in Prometheus, where it is queryable at
//!   once; record the scrape at the end of the interval it stands for to avoid the shift. `rate(counter[w])` over a counter is
//!   [`Statistic::Rate`] on a period of `w`: the per-second increase between the first and the
//!   last sample of the window. Prometheus additionally extrapolates the increase to the window
//!   edges (`extrapolatedRate` in `promql/functions.go`); this model does not, and its windows
//!   do not overlap (one datapoint per period, not one per evaluation).
//!
//! ## Percentiles
//! CloudWatch computes percentiles from its own sketch; here the percentile of a period is the
//! nearest-rank percentile of its samples (the smallest sample with at least p % of the samples
//! at or below it: index `ceil(p × n) − 1` in sorted order). Exact on the samples, which is what a
//! test can check by hand. Only a percentile statistic keeps the period's samples, in one buffer
//! reused period after period.

use std::collections::VecDeque;

use crate::time::{SimDuration, SimTime};

/// How the samples of one period become one datapoint.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Statistic {
    /// `Sum / SampleCount` (CloudWatch `Average`).
    Average,
    /// The highest sample (CloudWatch `Maximum`).
    Maximum,
    /// The lowest sample (CloudWatch `Minimum`).
    Minimum,
    /// The total of the samples (CloudWatch `Sum`).
    Sum,
    /// The number of samples (CloudWatch `SampleCount`).
    SampleCount,
    /// The nearest-rank percentile of the samples, in hundredths of a percent: p99 is
    /// `Percentile { hundredths: 9900 }`, p95.45 is `9545` (CloudWatch `pNN.NN`). At most 10000.
    Percentile {
        /// The rank in hundredths of a percent, 0..=10000.
        hundredths: u16,
    },
    /// The newest sample of the period (a Prometheus instant query of a gauge).
    Last,
    /// The per-second increase of a counter from the first to the last sample of the period
    /// (Prometheus `rate`, without its edge extrapolation). Zero with fewer than two samples; a
    /// decrease counts as a counter reset and the increase restarts from the new value, as in
    /// Prometheus.
    Rate,
}

/// One published value: the statistic of the period `[period_start, period_start + period)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Datapoint {
    /// The start of the period this datapoint summarises (a whole multiple of the period).
    pub period_start: SimTime,
    /// When a reader can first see it: the end of the period plus the lag.
    pub published_at: SimTime,
    /// The statistic's value.
    pub value: f64,
    /// How many samples the period had (at least 1: empty periods publish nothing).
    pub sample_count: u64,
}

/// The shape of a pipeline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PipelineConfig {
    /// The aggregation period (CloudWatch period, Prometheus scrape interval or rate window).
    /// Must be positive.
    pub period: SimDuration,
    /// How the samples of a period are reduced.
    pub statistic: Statistic,
    /// The delay between the end of a period and its datapoint becoming visible.
    pub lag: SimDuration,
    /// How many published datapoints are kept (the oldest is dropped beyond). At least 1.
    pub capacity: usize,
}

impl PipelineConfig {
    /// CloudWatch standard resolution with detailed monitoring: 1-minute periods, published
    /// `lag` after each period ends, keeping `capacity` datapoints.
    pub fn cloudwatch_one_minute(statistic: Statistic, lag: SimDuration, capacity: usize) -> Self {
        PipelineConfig {
            period: SimDuration::from_secs(60),
            statistic,
            lag,
            capacity,
        }
    }

    /// A Prometheus gauge scraped every `scrape_interval`: the newest scraped value, visible at
    /// once.
    pub fn prometheus_gauge(scrape_interval: SimDuration, capacity: usize) -> Self {
        PipelineConfig {
            period: scrape_interval,
            statistic: Statistic::Last,
            lag: SimDuration::ZERO,
            capacity,
        }
    }
}

/// The running reduction of the open period.
#[derive(Clone, Debug)]
struct Accumulator {
    index: u64,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
    first_at: SimTime,
    last: f64,
    last_at: SimTime,
    /// Counter increase so far, resets handled ([`Statistic::Rate`]).
    increase: f64,
}

impl Accumulator {
    fn new(index: u64, now: SimTime, value: f64) -> Self {
        Accumulator {
            index,
            count: 1,
            sum: value,
            min: value,
            max: value,
            first_at: now,
            last: value,
            last_at: now,
            increase: 0.0,
        }
    }

    fn add(&mut self, now: SimTime, value: f64) {
        self.count += 1;
        self.sum += value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        // A counter that goes down was reset: Prometheus counts the new value as the increase
        // since the reset (`promql/functions.go`, the `resetCorrection` loop in extrapolatedRate).
        self.increase += if value >= self.last {
            value - self.last
        } else {
            value
        };
        self.last = value;
        self.last_at = now;
    }
}

/// A metric as a controller sees it: periods, a statistic, a lag and a bounded history.
///
/// Samples must be recorded in non-decreasing time order. Memory: `capacity` datapoints plus,
/// for a percentile, the samples of one period.
#[derive(Clone, Debug)]
pub struct MetricsPipeline {
    config: PipelineConfig,
    open: Option<Accumulator>,
    /// Samples of the open period, kept only for [`Statistic::Percentile`].
    samples: Vec<f64>,
    published: VecDeque<Datapoint>,
}

impl MetricsPipeline {
    /// An empty pipeline. Panics if `period` is zero, `capacity` is zero or a percentile is above
    /// 10000 hundredths: these are validated in the scenario, so here they are bugs.
    pub fn new(config: PipelineConfig) -> Self {
        assert!(!config.period.is_zero(), "metrics period must be positive");
        assert!(config.capacity > 0, "metrics capacity must be at least 1");
        if let Statistic::Percentile { hundredths } = config.statistic {
            assert!(hundredths <= 10_000, "percentile above p100");
        }
        MetricsPipeline {
            config,
            open: None,
            samples: Vec::new(),
            published: VecDeque::with_capacity(config.capacity),
        }
    }

    /// The pipeline's configuration.
    pub fn config(&self) -> &PipelineConfig {
        &self.config
    }

    fn period_index(&self, t: SimTime) -> u64 {
        t.as_nanos() / self.config.period.as_nanos()
    }

    fn period_start(&self, index: u64) -> SimTime {
        SimTime::from_nanos(index * self.config.period.as_nanos())
    }

    fn datapoint_of(&self, acc: &Accumulator) -> Datapoint {
        let start = self.period_start(acc.index);
        let end = start + self.config.period;
        Datapoint {
            period_start: start,
            published_at: end.saturating_add(self.config.lag),
            value: self.reduce(acc),
            sample_count: acc.count,
        }
    }

    fn reduce(&self, acc: &Accumulator) -> f64 {
        match self.config.statistic {
            Statistic::Average => acc.sum / acc.count as f64,
            Statistic::Maximum => acc.max,
            Statistic::Minimum => acc.min,
            Statistic::Sum => acc.sum,
            Statistic::SampleCount => acc.count as f64,
            Statistic::Last => acc.last,
            Statistic::Rate => {
                let span = acc.last_at.saturating_since(acc.first_at);
                if acc.count < 2 || span.is_zero() {
                    0.0
                } else {
                    acc.increase / span.as_secs_f64()
                }
            }
            Statistic::Percentile { hundredths } => nearest_rank(&self.samples, hundredths),
        }
    }

    /// Records a sample of the source taken at `now`. A sample in a later period than the open
    /// one closes (publishes) the open period first. Samples must come in time order: an
    /// earlier one panics (the world's clock never runs backwards).
    pub fn record(&mut self, now: SimTime, value: f64) {
        let index = self.period_index(now);
        match &mut self.open {
            Some(acc) if acc.index == index => {
                assert!(now >= acc.last_at, "metric samples out of time order");
                acc.add(now, value);
            }
            Some(acc) => {
                assert!(index > acc.index, "metric samples out of time order");
                self.close_open();
                self.open = Some(Accumulator::new(index, now, value));
            }
            None => self.open = Some(Accumulator::new(index, now, value)),
        }
        if matches!(self.config.statistic, Statistic::Percentile { .. }) {
            self.samples.push(value);
        }
    }

    fn close_open(&mut self) {
        if let Some(acc) = self.open.take() {
            let dp = self.datapoint_of(&acc);
            if self.published.len() == self.config.capacity {
                self.published.pop_front();
            }
            self.published.push_back(dp);
            // Keep the buffer's allocation for the next period.
            self.samples.clear();
        }
    }

    /// The open period's datapoint if its period has ended and it is published by `now` (no
    /// later sample has closed it yet, but time has).
    fn open_if_published(&self, now: SimTime) -> Option<Datapoint> {
        let acc = self.open.as_ref()?;
        let dp = self.datapoint_of(acc);
        (dp.published_at <= now).then_some(dp)
    }

    /// The newest datapoint a reader can see at `now`, if any.
    pub fn latest(&self, now: SimTime) -> Option<Datapoint> {
        if let Some(dp) = self.open_if_published(now) {
            return Some(dp);
        }
        // Publication times increase with the period, so the newest visible one is the last
        // whose `published_at <= now`.
        self.published
            .iter()
            .rev()
            .find(|dp| dp.published_at <= now)
            .copied()
    }

    /// Every datapoint visible at `now`, oldest first (at most `capacity + 1`: the stored ones
    /// and the open period once it is published).
    pub fn visible_at(&self, now: SimTime) -> impl Iterator<Item = Datapoint> + '_ {
        self.published
            .iter()
            .copied()
            .filter(move |dp| dp.published_at <= now)
            .chain(self.open_if_published(now))
    }

    /// How many closed datapoints are stored (never more than `capacity`).
    pub fn stored(&self) -> usize {
        self.published.len()
    }
}

/// A piecewise-constant level (instances in service, queue length, utilisation) turned into
/// one time-weighted mean per period, fed to a [`MetricsPipeline`] as that period's single
/// sample. This is what an agent that integrates a level (rather than sampling it) reports:
/// each period's `Average` is the level's mean over the period, whatever the sampling instants.
///
/// Feed the level's changes with [`LevelIntegrator::set`], and call
/// [`LevelIntegrator::advance`] at least once after each period ends (for instance, just
/// before reading the pipeline): a period's mean is only known once it is over. The pipeline
/// must be fed by this integrator alone, with the same period.
#[derive(Clone, Debug)]
pub struct LevelIntegrator {
    period: SimDuration,
    level: f64,
    /// When integration began.
    origin: SimTime,
    /// Where the integral has reached.
    at: SimTime,
    /// Integral of the level since the start of `at`'s period, in level × nanoseconds.
    area: f64,
}

impl LevelIntegrator {
    /// A level of `level` from `start`, integrated per `period` (which must be positive).
    pub fn new(period: SimDuration, start: SimTime, level: f64) -> Self {
        assert!(!period.is_zero(), "metrics period must be positive");
        LevelIntegrator {
            period,
            level,
            origin: start,
            at: start,
            area: 0.0,
        }
    }

    /// The current level.
    pub fn level(&self) -> f64 {
        self.level
    }

    /// Integrates up to `now`, recording into `sink` the mean of every period that ended.
    /// Each mean is recorded at its period's start, so it lands in its own period.
    pub fn advance(&mut self, now: SimTime, sink: &mut MetricsPipeline) {
        assert!(now >= self.at, "level changes out of time order");
        let p = self.period.as_nanos();
        loop {
            let start = self.at.as_nanos() / p * p;
            let end = start + p;
            if now.as_nanos() < end {
                self.area += self.level * (now.as_nanos() - self.at.as_nanos()) as f64;
                self.at = now;
                return;
            }
            self.area += self.level * (end - self.at.as_nanos()) as f64;
            // The first period may begin after its bucket's start (the integrator was created
            // mid-period): average over the part covered, not the whole period.
            let covered = end - start.max(self.origin.as_nanos());
            sink.record(SimTime::from_nanos(start), self.area / covered as f64);
            self.area = 0.0;
            self.at = SimTime::from_nanos(end);
        }
    }

    /// Sets the level from `now` on (integrating the old level up to `now` first).
    pub fn set(&mut self, now: SimTime, level: f64, sink: &mut MetricsPipeline) {
        self.advance(now, sink);
        self.level = level;
    }
}

/// The nearest-rank percentile of `samples` (unsorted), `hundredths` of a percent.
fn nearest_rank(samples: &[f64], hundredths: u16) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted: Vec<f64> = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as u64;
    // rank = ceil(p × n) with p = hundredths / 10000, in integers to avoid rounding.
    let rank = (u64::from(hundredths) * n).div_ceil(10_000).max(1);
    sorted[(rank - 1) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> SimTime {
        SimTime::from_nanos(s * 1_000_000_000)
    }

    fn pipeline(statistic: Statistic, lag: u64) -> MetricsPipeline {
        MetricsPipeline::new(PipelineConfig::cloudwatch_one_minute(
            statistic,
            SimDuration::from_secs(lag),
            16,
        ))
    }

    /// Samples every 15 s: period [0, 60) gets 10, 20, 30, 60; period [60, 120) gets 5, 5;
    /// one sample at 120 closes the second period.
    fn feed(p: &mut MetricsPipeline) {
        for (t, v) in [
            (0, 10.0),
            (15, 20.0),
            (30, 30.0),
            (45, 60.0),
            (60, 5.0),
            (90, 5.0),
        ] {
            p.record(secs(t), v);
        }
        p.record(secs(120), 1.0);
    }

    fn values(p: &MetricsPipeline, now: u64) -> Vec<f64> {
        p.visible_at(secs(now)).map(|d| d.value).collect()
    }

    #[test]
    fn statistics_per_period_match_hand_computation() {
        // Period 1: sum 120, count 4, average 30, min 10, max 60. Period 2: sum 10, avg 5.
        let cases = [
            (Statistic::Average, [30.0, 5.0]),
            (Statistic::Maximum, [60.0, 5.0]),
            (Statistic::Minimum, [10.0, 5.0]),
            (Statistic::Sum, [120.0, 10.0]),
            (Statistic::SampleCount, [4.0, 2.0]),
            (Statistic::Last, [60.0, 5.0]),
        ];
        for (stat, want) in cases {
            let mut p = pipeline(stat, 0);
            feed(&mut p);
            assert_eq!(values(&p, 120), want, "{stat:?}");
        }
    }

    #[test]
    fn percentile_is_nearest_rank_on_the_samples() {
        // 1..=100 in one period: p99 = the 99th smallest = 99; p50 = 50; p100 = 100; p0 → the
        // first (rank clamped to 1). p99.5 of 100 samples: ceil(99.5) = 100 → 100.
        for (h, want) in [
            (9900, 99.0),
            (5000, 50.0),
            (10_000, 100.0),
            (0, 1.0),
            (9950, 100.0),
        ] {
            let mut p = pipeline(Statistic::Percentile { hundredths: h }, 0);
            // Recorded in descending order so the reduction must sort.
            for i in (1..=100).rev() {
                p.record(secs(0), f64::from(i));
            }
            p.record(secs(60), 0.0);
            assert_eq!(p.latest(secs(60)).unwrap().value, want, "p{h}");
        }
    }

    #[test]
    fn rate_is_counter_increase_per_second_with_reset() {
        // Counter scraped every 15 s over a 60 s window: 100, 130, 10 (reset), 40.
        // Increase = 30 + 10 + 30 = 70 over 45 s (first to last sample) = 1.5556/s.
        let mut p = MetricsPipeline::new(PipelineConfig {
            period: SimDuration::from_secs(60),
            statistic: Statistic::Rate,
            lag: SimDuration::ZERO,
            capacity: 4,
        });
        for (t, v) in [(0, 100.0), (15, 130.0), (30, 10.0), (45, 40.0)] {
            p.record(secs(t), v);
        }
        assert_eq!(p.latest(secs(60)).unwrap().value, 70.0 / 45.0);
    }

    #[test]
    fn lag_hides_the_newest_period_until_published() {
        // Lag 90 s: period [0,60) is published at 150, period [60,120) at 210.
        let mut p = pipeline(Statistic::Average, 90);
        feed(&mut p);
        assert_eq!(p.latest(secs(149)), None);
        let first = p.latest(secs(150)).unwrap();
        assert_eq!(
            (first.period_start, first.published_at, first.value),
            (secs(0), secs(150), 30.0)
        );
        assert_eq!(values(&p, 209), vec![30.0]);
        assert_eq!(values(&p, 210), vec![30.0, 5.0]);
        // The open period [120,180) (one sample, 1.0) ends at 180 and shows at 270, without any
        // later sample closing it.
        assert_eq!(p.latest(secs(269)).unwrap().value, 5.0);
        let open = p.latest(secs(270)).unwrap();
        assert_eq!((open.period_start, open.value), (secs(120), 1.0));
        assert_eq!(values(&p, 270), vec![30.0, 5.0, 1.0]);
    }

    #[test]
    fn empty_periods_publish_nothing() {
        // Samples at 0 and 200: periods [60,120) and [120,180) had none (CloudWatch missing
        // data), so only two datapoints exist.
        let mut p = pipeline(Statistic::Sum, 0);
        p.record(secs(0), 1.0);
        p.record(secs(200), 2.0);
        let starts: Vec<SimTime> = p.visible_at(secs(240)).map(|d| d.period_start).collect();
        assert_eq!(starts, vec![secs(0), secs(180)]);
    }

    #[test]
    fn memory_is_bounded_by_capacity() {
        let mut p = MetricsPipeline::new(PipelineConfig::cloudwatch_one_minute(
            Statistic::Maximum,
            SimDuration::ZERO,
            3,
        ));
        // 10 periods, one sample each (value = period index).
        for i in 0..10 {
            p.record(secs(60 * i), i as f64);
        }
        assert_eq!(p.stored(), 3);
        // Closed: 6, 7, 8 kept (0..=5 dropped); the open period 9 is visible after it ends.
        assert_eq!(values(&p, 600), vec![6.0, 7.0, 8.0, 9.0]);
    }

    #[test]
    fn prometheus_gauge_shows_last_scrape_of_each_interval() {
        // 15 s scrapes: the value scraped at 15 is visible from 30 (end of its interval).
        let mut p = MetricsPipeline::new(PipelineConfig::prometheus_gauge(
            SimDuration::from_secs(15),
            8,
        ));
        p.record(secs(0), 3.0);
        p.record(secs(15), 7.0);
        assert_eq!(p.latest(secs(29)).unwrap().value, 3.0);
        assert_eq!(p.latest(secs(30)).unwrap().value, 7.0);
    }

    #[test]
    fn level_integrator_gives_time_weighted_means() {
        // Level 10 on [0, 15 s), 40 on [15 s, 150 s), 0 after. Period 60 s:
        // [0,60): (10×15 + 40×45) / 60 = 1950 / 60 = 32.5; [60,120): 40;
        // [120,180): (40×30 + 0×30) / 60 = 20.
        let mut p = pipeline(Statistic::Average, 0);
        let mut lvl = LevelIntegrator::new(SimDuration::from_secs(60), SimTime::ZERO, 10.0);
        lvl.set(secs(15), 40.0, &mut p);
        assert_eq!(
            p.latest(secs(60)),
            None,
            "no period over before 60 s of integration"
        );
        lvl.set(secs(150), 0.0, &mut p);
        assert_eq!(values(&p, 150), vec![32.5, 40.0]);
        lvl.advance(secs(180), &mut p);
        assert_eq!(values(&p, 180), vec![32.5, 40.0, 20.0]);
    }

    #[test]
    fn level_integrator_started_mid_period_averages_what_it_covered() {
        // Created at 30 s with level 6, set to 12 at 45 s: [30,60) mean = (6×15 + 12×15) / 30 = 9.
        let mut p = pipeline(Statistic::Average, 0);
        let mut lvl = LevelIntegrator::new(SimDuration::from_secs(60), secs(30), 6.0);
        lvl.set(secs(45), 12.0, &mut p);
        lvl.advance(secs(60), &mut p);
        assert_eq!(values(&p, 60), vec![9.0]);
    }

    #[test]
    #[should_panic(expected = "out of time order")]
    fn samples_out_of_order_panic() {
        let mut p = pipeline(Statistic::Sum, 0);
        p.record(secs(120), 1.0);
        p.record(secs(30), 1.0);
    }
}
