//! AWS predictive scaling for EC2 Auto Scaling groups: an hourly forecast of the load from its
//! history, turned into an hourly capacity launched `SchedulingBufferTime` ahead.
//!
//! This module owns the load history (bounded to 14 days), the forecaster, the capacity
//! schedule and the decision at an instant. It must not know where the load comes from (the
//! world feeds one hourly value, e.g. from a [`super::metrics_pipeline::MetricsPipeline`] with a
//! 1-hour period), how instances boot, or the dynamic policies it runs beside.
//!
//! ## What is AWS's and what is ours
//! Shared with AWS (Amazon EC2 Auto Scaling User Guide, *Predictive scaling*; API reference
//! `PredictiveScalingConfiguration` and `GetPredictiveScalingForecast`,
//! <https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_PredictiveScalingConfiguration.html>;
//! Application Auto Scaling, *How predictive scaling works*,
//! <https://docs.aws.amazon.com/autoscaling/application/userguide/aas-predictive-scaling-how-it-works.html>):
//! - input: the hourly history of one load metric; "a minimum of 24 hours of data is required
//!   to create the initial forecasts", and at most the past 14 days are analysed;
//! - cadence: an hourly forecast for the next 48 hours, "updated every 6 hours";
//! - capacity: the load forecast divided by the target value per instance (the metric pair's
//!   `TargetValue`), rounded up — "the minimum capacity that is needed on an hourly basis";
//! - `SchedulingBufferTime` (default 300 s, below 3600 s): "the forecast says to add capacity at
//!   10:00 AM, and you choose to pre-launch instances by 5 minutes. In that case, the instances
//!   will be launched at 9:55 AM";
//! - `Mode`: `ForecastOnly` (the default) "generates capacity forecasts but does not actually
//!   scale"; `ForecastAndScale` raises capacity to the forecast and "will not scale in to remove
//!   capacity" on a forecast drop (scale-in is left to dynamic policies);
//! - `MaxCapacityBreachBehavior`: `HonorMaxCapacity` (default) caps the forecast at the group's
//!   maximum; `IncreaseMaxCapacity` lets capacity reach the forecast and raises the maximum to
//!   the forecast plus `MaxCapacityBuffer` percent ("if the buffer is 10 … the forecast capacity
//!   is 50, and the maximum capacity is 40, then the effective maximum capacity is 55"; with 0,
//!   capacity may equal but not exceed the forecast).
//!
//! Ours, because AWS does not publish its model: **the forecaster is a stand-in.** The load
//! forecast for hour `h` is the mean of the recorded loads at the same hour of every previous
//! day in the retained history (`h − 24`, `h − 48`, …, within the last 14 days of data, missing
//! hours skipped). Deterministic, exact on a perfectly daily-periodic load, blind to trends and
//! to weekly patterns; AWS's model sees both, so results on trending or weekday/weekend loads
//! are this forecaster's, not AWS's.

use std::collections::VecDeque;

use crate::time::{SimDuration, SimTime};

/// One hour, the forecast's resolution.
pub const HOUR: SimDuration = SimDuration::from_secs(3600);
/// Hours of history the forecaster looks at (14 days).
pub const HISTORY_HOURS: usize = 14 * 24;
/// Hours of history needed before the first forecast.
pub const MIN_HISTORY_HOURS: usize = 24;
/// Hours each forecast covers.
pub const FORECAST_HOURS: usize = 48;
/// How often a new forecast is issued.
pub const FORECAST_REFRESH: SimDuration = SimDuration::from_secs(6 * 3600);

/// `Mode` of the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PredictiveMode {
    /// Forecast and report, never act (AWS's default).
    ForecastOnly,
    /// Forecast and raise capacity to the forecast.
    ForecastAndScale,
}

/// `MaxCapacityBreachBehavior` (with `MaxCapacityBuffer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaxCapacityBreach {
    /// The group's maximum is a hard limit (AWS's default).
    HonorMaxCapacity,
    /// The maximum rises to the forecast plus `buffer_percent` % of it (0..=100).
    IncreaseMaxCapacity {
        /// `MaxCapacityBuffer`, percent of the forecast capacity.
        buffer_percent: u32,
    },
}

/// A predictive scaling policy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PredictiveConfig {
    /// The load one instance should carry, in the load metric's unit (`TargetValue`). Positive.
    pub target_load_per_instance: f64,
    /// `Mode`. Default [`PredictiveMode::ForecastOnly`].
    pub mode: PredictiveMode,
    /// `SchedulingBufferTime`: how far ahead of each forecast hour its capacity is launched.
    /// Default 300 s; less than one hour.
    pub scheduling_buffer: SimDuration,
    /// `MaxCapacityBreachBehavior`. Default [`MaxCapacityBreach::HonorMaxCapacity`].
    pub max_capacity_breach: MaxCapacityBreach,
}

impl PredictiveConfig {
    /// AWS's defaults around a target: forecast only, 300 s buffer, honour the maximum.
    pub fn new(target_load_per_instance: f64) -> Self {
        PredictiveConfig {
            target_load_per_instance,
            mode: PredictiveMode::ForecastOnly,
            scheduling_buffer: SimDuration::from_secs(300),
            max_capacity_breach: MaxCapacityBreach::HonorMaxCapacity,
        }
    }
}

/// The hour containing `t` (hours since the start of the run).
pub fn hour_of(t: SimTime) -> u64 {
    t.as_nanos() / HOUR.as_nanos()
}

/// The hourly load history, at most [`HISTORY_HOURS`] hours back from the newest.
#[derive(Clone, Debug, Default)]
pub struct LoadHistory {
    /// The hour of `loads[0]`.
    first_hour: u64,
    /// One slot per hour from `first_hour`; `None` for an hour with no data.
    loads: VecDeque<Option<f64>>,
    /// How many slots hold data.
    recorded: usize,
}

impl LoadHistory {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the load of hour `hour` (see [`hour_of`]). Hours must increase; skipped hours
    /// count as missing data. Panics on an hour not after the newest.
    pub fn record(&mut self, hour: u64, load: f64) {
        if self.loads.is_empty() {
            self.first_hour = hour;
        } else {
            let next = self.first_hour + self.loads.len() as u64;
            assert!(hour >= next, "load history hours must increase");
            for _ in next..hour {
                self.push(None);
            }
        }
        self.push(Some(load));
    }

    fn push(&mut self, slot: Option<f64>) {
        if self.loads.len() == HISTORY_HOURS {
            if self.loads.pop_front().flatten().is_some() {
                self.recorded -= 1;
            }
            self.first_hour += 1;
        }
        self.recorded += usize::from(slot.is_some());
        self.loads.push_back(slot);
    }

    /// Hours of data held (missing hours excluded).
    pub fn hours_recorded(&self) -> usize {
        self.recorded
    }

    /// Hour slots held, data or missing (never more than [`HISTORY_HOURS`]).
    pub fn len(&self) -> usize {
        self.loads.len()
    }

    /// True with no hour held.
    pub fn is_empty(&self) -> bool {
        self.loads.is_empty()
    }

    fn get(&self, hour: u64) -> Option<f64> {
        let i = hour.checked_sub(self.first_hour)?;
        self.loads.get(usize::try_from(i).ok()?).copied().flatten()
    }

    /// The stand-in forecast of hour `hour`'s load: the mean of the same hour on every earlier
    /// day held. `None` with fewer than [`MIN_HISTORY_HOURS`] hours of data or no same-hour
    /// value.
    pub fn forecast_load(&self, hour: u64) -> Option<f64> {
        if self.recorded < MIN_HISTORY_HOURS {
            return None;
        }
        let (mut sum, mut n) = (0.0, 0u32);
        let mut h = hour.checked_sub(24);
        while let Some(past) = h {
            if past < self.first_hour {
                break;
            }
            if let Some(load) = self.get(past) {
                sum += load;
                n += 1;
            }
            h = past.checked_sub(24);
        }
        (n > 0).then(|| sum / f64::from(n))
    }
}

/// One issued forecast: 48 hourly capacities from `first_hour`.
#[derive(Clone, Debug, PartialEq)]
pub struct Forecast {
    /// When it was issued.
    pub issued_at: SimTime,
    /// The first hour it covers (the hour it was issued in).
    pub first_hour: u64,
    /// The forecast load of each hour, `None` where the history has no same-hour value.
    pub loads: [Option<f64>; FORECAST_HOURS],
}

impl Forecast {
    /// The forecast load of `hour`, if covered.
    pub fn load(&self, hour: u64) -> Option<f64> {
        let i = hour.checked_sub(self.first_hour)?;
        self.loads.get(usize::try_from(i).ok()?).copied().flatten()
    }
}

/// What the policy does at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PredictiveAction {
    /// `ForecastOnly`: the forecast is reported, nothing changes.
    ReportOnly,
    /// `ForecastAndScale`, forecast above the current capacity: raise it.
    ScaleOut {
        /// The new desired capacity.
        capacity: u32,
        /// The group's maximum after the decision (raised only by `IncreaseMaxCapacity`).
        max_capacity: u32,
    },
    /// `ForecastAndScale`, forecast at or below the current capacity, or no forecast: no
    /// change (predictive scaling never scales in).
    Hold,
}

/// The decision at an instant and the forecast it rests on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PredictiveDecision {
    /// The forecast capacity scheduled for this instant (the hour `scheduling_buffer` ahead),
    /// after the maximum-capacity rule; `None` without a forecast.
    pub forecast_capacity: Option<u32>,
    /// What to do.
    pub action: PredictiveAction,
}

/// A predictive scaling policy with its history and its latest forecast.
#[derive(Clone, Debug)]
pub struct PredictiveScaler {
    config: PredictiveConfig,
    history: LoadHistory,
    forecast: Option<Forecast>,
}

impl PredictiveScaler {
    /// A policy with no history. Panics on a non-positive target or a buffer of an hour or more
    /// (validated in the scenario; AWS rejects them too).
    pub fn new(config: PredictiveConfig) -> Self {
        assert!(
            config.target_load_per_instance > 0.0,
            "target load per instance must be positive"
        );
        assert!(
            config.scheduling_buffer < HOUR,
            "SchedulingBufferTime must be under 3600 s"
        );
        PredictiveScaler {
            config,
            history: LoadHistory::new(),
            forecast: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &PredictiveConfig {
        &self.config
    }

    /// The load history.
    pub fn history(&self) -> &LoadHistory {
        &self.history
    }

    /// The latest issued forecast.
    pub fn forecast(&self) -> Option<&Forecast> {
        self.forecast.as_ref()
    }

    /// Records the load of a finished hour.
    pub fn record_hour(&mut self, hour: u64, load: f64) {
        self.history.record(hour, load);
    }

    /// Issues a new forecast at `now` if none exists or the last one is at least
    /// [`FORECAST_REFRESH`] old, and history allows one. Returns whether it issued one.
    pub fn refresh(&mut self, now: SimTime) -> bool {
        let due = self
            .forecast
            .as_ref()
            .is_none_or(|f| now >= f.issued_at.saturating_add(FORECAST_REFRESH));
        if !due || self.history.hours_recorded() < MIN_HISTORY_HOURS {
            return false;
        }
        let first_hour = hour_of(now);
        let mut loads = [None; FORECAST_HOURS];
        for (i, slot) in loads.iter_mut().enumerate() {
            *slot = self.history.forecast_load(first_hour + i as u64);
        }
        self.forecast = Some(Forecast {
            issued_at: now,
            first_hour,
            loads,
        });
        true
    }

    /// The capacity the forecast needs for `load`: `ceil(load / target)`.
    pub fn capacity_for(&self, load: f64) -> u32 {
        let c = (load / self.config.target_load_per_instance).ceil();
        // Saturating float→int: negative or NaN loads give 0.
        c as u32
    }

    /// The scheduled capacity at `now`: the hour `scheduling_buffer` ahead, from the latest
    /// forecast, before the group's bounds.
    pub fn scheduled_capacity(&self, now: SimTime) -> Option<u32> {
        let hour = hour_of(now.saturating_add(self.config.scheduling_buffer));
        let load = self.forecast.as_ref()?.load(hour)?;
        Some(self.capacity_for(load))
    }

    /// The decision at `now` for a group at `current` capacity with bounds `min..=max`.
    /// Refreshes the forecast first when due.
    pub fn decide(&mut self, now: SimTime, current: u32, min: u32, max: u32) -> PredictiveDecision {
        self.refresh(now);
        let Some(raw) = self.scheduled_capacity(now) else {
            return PredictiveDecision {
                forecast_capacity: None,
                action: match self.config.mode {
                    PredictiveMode::ForecastOnly => PredictiveAction::ReportOnly,
                    PredictiveMode::ForecastAndScale => PredictiveAction::Hold,
                },
            };
        };
        let (capacity, max_capacity) = match self.config.max_capacity_breach {
            MaxCapacityBreach::HonorMaxCapacity => (raw.clamp(min, max.max(min)), max),
            MaxCapacityBreach::IncreaseMaxCapacity { buffer_percent } => {
                let cap = raw.max(min);
                // Effective maximum = forecast × (1 + buffer %), rounded up, never lowered.
                let with_buffer = (u64::from(cap) * u64::from(100 + buffer_percent)).div_ceil(100);
                let new_max = max.max(u32::try_from(with_buffer).unwrap_or(u32::MAX));
                (cap, new_max)
            }
        };
        let action = match self.config.mode {
            PredictiveMode::ForecastOnly => PredictiveAction::ReportOnly,
            PredictiveMode::ForecastAndScale if capacity > current => PredictiveAction::ScaleOut {
                capacity,
                max_capacity,
            },
            PredictiveMode::ForecastAndScale => PredictiveAction::Hold,
        };
        PredictiveDecision {
            forecast_capacity: Some(capacity),
            action,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at_hour(h: u64) -> SimTime {
        SimTime::from_nanos(h * HOUR.as_nanos())
    }

    /// A daily shape: 100 load units per hour at night, 1000 from 10:00 to 17:59.
    fn daily(hour: u64) -> f64 {
        if (10..18).contains(&(hour % 24)) {
            1000.0
        } else {
            100.0
        }
    }

    fn scaler_with_days(days: u64, mode: PredictiveMode) -> PredictiveScaler {
        let mut s = PredictiveScaler::new(PredictiveConfig {
            mode,
            ..PredictiveConfig::new(100.0)
        });
        for h in 0..days * 24 {
            s.record_hour(h, daily(h));
        }
        s
    }

    #[test]
    fn daily_periodic_history_forecasts_next_day_exactly() {
        // Three identical days recorded; a forecast issued at 72:00 covers hours 72..120 and
        // must equal the shape hour by hour (every same-hour mean is of equal values).
        let mut s = scaler_with_days(3, PredictiveMode::ForecastOnly);
        assert!(s.refresh(at_hour(72)));
        let f = s.forecast().unwrap();
        for h in 72..72 + FORECAST_HOURS as u64 {
            assert_eq!(f.load(h), Some(daily(h)), "hour {h}");
        }
        // Capacity = ceil(load / 100): 1 at night, 10 by day.
        assert_eq!(s.capacity_for(daily(72)), 1);
        assert_eq!(s.capacity_for(daily(82)), 10);
    }

    #[test]
    fn forecast_is_the_same_hour_mean_over_days() {
        // Hour 5 of days 0, 1, 2 had loads 100, 200, 600: the forecast for hour 5 of day 3
        // is (100 + 200 + 600) / 3 = 300. Other hours 0 to reach 24 h of data.
        let mut h = LoadHistory::new();
        for hour in 0..72 {
            let load = match hour {
                5 => 100.0,
                29 => 200.0,
                53 => 600.0,
                _ => 0.0,
            };
            h.record(hour, load);
        }
        assert_eq!(h.forecast_load(77), Some(300.0));
    }

    #[test]
    fn fewer_than_24_hours_give_no_forecast() {
        let mut s = scaler_with_days(0, PredictiveMode::ForecastAndScale);
        for h in 0..23 {
            s.record_hour(h, 500.0);
        }
        assert!(!s.refresh(at_hour(23)));
        assert_eq!(
            s.decide(at_hour(23), 1, 1, 10),
            PredictiveDecision {
                forecast_capacity: None,
                action: PredictiveAction::Hold
            }
        );
        // The 24th hour makes the first forecast possible.
        s.record_hour(23, 500.0);
        assert!(s.refresh(at_hour(24)));
        assert_eq!(s.scheduled_capacity(at_hour(24)), Some(5));
    }

    #[test]
    fn scheduling_buffer_launches_exactly_the_buffer_ahead() {
        // Day 2's 10:00 hour (hour 58) forecasts 1000 → 10 instances; 09:00 forecasts 1 → 1.
        // With the default 300 s buffer, capacity 10 is due at 09:55:00 exactly, not a
        // nanosecond before.
        let mut s = scaler_with_days(2, PredictiveMode::ForecastAndScale);
        let ten = at_hour(58);
        let five_to = SimTime::from_nanos(ten.as_nanos() - 300_000_000_000);
        let just_before = SimTime::from_nanos(five_to.as_nanos() - 1);
        s.refresh(at_hour(48));
        assert_eq!(s.scheduled_capacity(just_before), Some(1));
        assert_eq!(s.scheduled_capacity(five_to), Some(10));
        // Decreases are shifted the same way: 18:00 (hour 66) drops to 1 at 17:55.
        let drop = SimTime::from_nanos(at_hour(66).as_nanos() - 300_000_000_000);
        assert_eq!(s.scheduled_capacity(drop), Some(1));
        // A zero buffer switches at 10:00 itself.
        let mut z = PredictiveScaler::new(PredictiveConfig {
            scheduling_buffer: SimDuration::ZERO,
            mode: PredictiveMode::ForecastAndScale,
            ..PredictiveConfig::new(100.0)
        });
        for h in 0..48 {
            z.record_hour(h, daily(h));
        }
        z.refresh(at_hour(48));
        assert_eq!(z.scheduled_capacity(five_to), Some(1));
        assert_eq!(z.scheduled_capacity(ten), Some(10));
    }

    #[test]
    fn forecast_only_reports_without_acting() {
        let mut s = scaler_with_days(2, PredictiveMode::ForecastOnly);
        let d = s.decide(at_hour(58), 1, 1, 20);
        assert_eq!(
            d,
            PredictiveDecision {
                forecast_capacity: Some(10),
                action: PredictiveAction::ReportOnly
            }
        );
    }

    #[test]
    fn forecast_and_scale_raises_but_never_lowers() {
        let mut s = scaler_with_days(2, PredictiveMode::ForecastAndScale);
        assert_eq!(
            s.decide(at_hour(58), 3, 1, 20).action,
            PredictiveAction::ScaleOut {
                capacity: 10,
                max_capacity: 20
            }
        );
        // At 12 instances (dynamic scaling added more), the forecast of 10 removes nothing.
        assert_eq!(
            s.decide(at_hour(59), 12, 1, 20).action,
            PredictiveAction::Hold
        );
    }

    #[test]
    fn max_capacity_breach_behaviours() {
        // Forecast 10 at hour 58, group maximum 8.
        let mut honor = scaler_with_days(2, PredictiveMode::ForecastAndScale);
        assert_eq!(
            honor.decide(at_hour(58), 1, 1, 8).action,
            PredictiveAction::ScaleOut {
                capacity: 8,
                max_capacity: 8
            }
        );
        // IncreaseMaxCapacity, buffer 10 %: capacity 10, maximum ceil(10 × 1.1) = 11.
        let mut inc = scaler_with_days(2, PredictiveMode::ForecastAndScale);
        inc.config.max_capacity_breach =
            MaxCapacityBreach::IncreaseMaxCapacity { buffer_percent: 10 };
        assert_eq!(
            inc.decide(at_hour(58), 1, 1, 8).action,
            PredictiveAction::ScaleOut {
                capacity: 10,
                max_capacity: 11
            }
        );
        // Buffer 0: maximum equals the forecast, 10. The AWS example: forecast 50, max 40,
        // buffer 10 → 55, by the same integer rule.
        let mut zero = scaler_with_days(2, PredictiveMode::ForecastAndScale);
        zero.config.max_capacity_breach =
            MaxCapacityBreach::IncreaseMaxCapacity { buffer_percent: 0 };
        assert_eq!(
            zero.decide(at_hour(58), 1, 1, 8).action,
            PredictiveAction::ScaleOut {
                capacity: 10,
                max_capacity: 10
            }
        );
        assert_eq!((50u64 * 110).div_ceil(100), 55);
    }

    #[test]
    fn forecast_refreshes_every_six_hours_only() {
        // Issued at 48:00; new data at 48..53 does not change it until 54:00.
        let mut s = scaler_with_days(2, PredictiveMode::ForecastOnly);
        assert!(s.refresh(at_hour(48)));
        assert!(!s.refresh(at_hour(53)));
        assert!(s.refresh(at_hour(54)));
        assert_eq!(s.forecast().unwrap().first_hour, 54);
    }

    #[test]
    fn history_keeps_14_days_and_forgets_older_ones() {
        // Days 0..6 at 1000 per hour, days 6..20 at 10: the 14 retained days are all 10, so
        // the forecast is exactly 10; the store never exceeds 336 hours.
        let mut h = LoadHistory::new();
        for hour in 0..20 * 24 {
            h.record(hour, if hour < 6 * 24 { 1000.0 } else { 10.0 });
        }
        assert_eq!(h.len(), HISTORY_HOURS);
        assert_eq!(h.hours_recorded(), HISTORY_HOURS);
        assert_eq!(h.forecast_load(20 * 24 + 3), Some(10.0));
    }

    #[test]
    fn missing_hours_are_skipped_not_zero() {
        // 24 h on day 0 and day 2 only (day 1 missing): hour 3 of day 3 = mean(day 2, day 0)
        // = (30 + 10) / 2 = 20; the missing day is not averaged in as 0.
        let mut h = LoadHistory::new();
        for hour in 0..24 {
            h.record(hour, 10.0);
        }
        for hour in 48..72 {
            h.record(hour, 30.0);
        }
        assert_eq!(h.hours_recorded(), 48);
        assert_eq!(h.len(), 72);
        assert_eq!(h.forecast_load(75), Some(20.0));
    }
}
