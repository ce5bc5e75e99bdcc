//! AWS EC2 Auto Scaling scheduled actions: at given times, set the group's minimum, maximum
//! and desired capacity — once, or on a recurring cron schedule in UTC.
//!
//! It owns the schedule and the mapping from simulated time to wall-clock time; it must not
//! know the engine: the world asks [`ScheduledScaling::next_at_or_after`] when to wake up and
//! [`ScheduledScaling::fire`] what to set then.
//!
//! Sources:
//! - Amazon EC2 Auto Scaling User Guide, "Scheduled scaling"
//!   (<https://docs.aws.amazon.com/autoscaling/ec2/userguide/schedule_time.html>,
//!   `doc_source/schedule_time.md` in awsdocs/amazon-ec2-auto-scaling-user-guide): "At the
//!   specified time, Amazon EC2 Auto Scaling updates the group with the values for minimum,
//!   maximum, and desired size that are specified by the scaling action"; "It does not keep
//!   track of old values and return to the older values after the end time"; "actions within an
//!   Auto Scaling group are executed in the order that they are specified"; "Cooldown periods
//!   are not supported"; recurrence is "the Unix cron syntax format ... `[Minute] [Hour]
//!   [Day_of_Month] [Month_of_Year] [Day_of_Week]`", in UTC; "If you specify a start time, the
//!   earliest time that the action will be performed is at this time. If you specify an end
//!   time, the action stops repeating after this time."
//! - Amazon EC2 Auto Scaling API Reference, `UpdateAutoScalingGroup`: "If you specify a new
//!   value for MinSize without specifying a value for DesiredCapacity, and the new MinSize is
//!   larger than the current size of the group, this sets the group's DesiredCapacity to the
//!   new MinSize value", and likewise for a MaxSize below it.
//!
//! Not modelled: the up-to-two-minute execution delay the User Guide mentions (actions fire at
//! their exact time) and cron day-of-month and month fields other than `*` (rejected by
//! [`Cron::parse`]: simulated runs span days or weeks, not a calendar).

use thiserror::Error;

use crate::time::{SimDuration, SimTime};

use super::capacity::CapacityLimits;

const MINUTE: u64 = 60_000_000_000;
const DAY: u64 = 24 * 60 * MINUTE;

/// Where simulated time zero falls in the UTC week, so that cron times can be placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WallClock {
    /// Time since Sunday 00:00 UTC at `SimTime::ZERO`, less than a week.
    since_sunday: u64,
}

impl WallClock {
    /// The run starts on `weekday` (cron numbering: 0 = Sunday … 6 = Saturday) at
    /// `time_of_day` UTC. Panics if `weekday > 6` or `time_of_day` is a day or more.
    pub fn starting(weekday: u8, time_of_day: SimDuration) -> Self {
        assert!(weekday <= 6, "weekday {weekday} is not 0..=6");
        assert!(time_of_day.as_nanos() < DAY, "time of day past 24 h");
        WallClock {
            since_sunday: u64::from(weekday) * DAY + time_of_day.as_nanos(),
        }
    }
}

/// A parsed cron recurrence: minutes, hours and days of the week as bit sets. Day of month and
/// month must be `*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cron {
    minutes: u64,
    hours: u32,
    weekdays: u8,
}

/// Why a recurrence string was rejected.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CronError {
    /// Not five whitespace-separated fields.
    #[error(
        "cron recurrence {0:?} must have 5 fields: minute hour day-of-month month day-of-week"
    )]
    FieldCount(String),
    /// A field that is not a number, range, list or step within its bounds.
    #[error("cron field {field} {value:?} is not valid: use *, N, N-M, N,M or */N with {field} in {min}..={max}")]
    Field {
        /// Which field (`minute`, `hour`, `day-of-week`).
        field: &'static str,
        /// The text given.
        value: String,
        /// Smallest allowed value.
        min: u32,
        /// Largest allowed value.
        max: u32,
    },
    /// Day of month or month other than `*`.
    #[error("cron {field} {value:?} is not supported: schedules may only recur daily or weekly, so use *")]
    Calendar {
        /// `day-of-month` or `month`.
        field: &'static str,
        /// The text given.
        value: String,
    },
}

impl Cron {
    /// Parses `minute hour day-of-month month day-of-week`, each of `*`, `N`, `N-M`, `*/S`,
    /// `N-M/S` or comma-separated lists of those; day of week 0–7 (0 and 7 are Sunday) or
    /// `SUN`..`SAT`. Day of month and month must be `*`.
    pub fn parse(text: &str) -> Result<Cron, CronError> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        let [minute, hour, dom, month, dow] = fields[..] else {
            return Err(CronError::FieldCount(text.to_string()));
        };
        for (field, value) in [("day-of-month", dom), ("month", month)] {
            if value != "*" && value != "?" {
                return Err(CronError::Calendar {
                    field,
                    value: value.to_string(),
                });
            }
        }
        let minutes = parse_field(minute, "minute", 0, 59)?;
        let hours = parse_field(hour, "hour", 0, 23)? as u32;
        let dow_bits = parse_field(dow, "day-of-week", 0, 7)?;
        // 7 is Sunday too.
        let weekdays = ((dow_bits & 0x7f) | ((dow_bits >> 7) & 1)) as u8;
        Ok(Cron {
            minutes,
            hours,
            weekdays,
        })
    }

    /// The first firing at or after `wall` (nanoseconds since a Sunday 00:00 UTC).
    fn next_at_or_after(&self, wall: u64) -> u64 {
        // Firings are on whole minutes.
        let mut t = wall.div_ceil(MINUTE) * MINUTE;
        // A matching day exists within 8 days of any instant (every set is non-empty).
        for _ in 0..8 {
            let day_start = t - t % DAY;
            let weekday = (day_start / DAY) % 7;
            if self.weekdays & (1 << weekday) != 0 {
                let from = (t - day_start) / MINUTE;
                for minute_of_day in from..24 * 60 {
                    let (h, m) = (minute_of_day / 60, minute_of_day % 60);
                    if self.hours & (1 << h) != 0 && self.minutes & (1 << m) != 0 {
                        return day_start + minute_of_day * MINUTE;
                    }
                }
            }
            t = day_start + DAY;
        }
        unreachable!("cron sets are never empty")
    }
}

/// Parses one cron field into a bit set over `min..=max`.
fn parse_field(text: &str, field: &'static str, min: u32, max: u32) -> Result<u64, CronError> {
    let err = || CronError::Field {
        field,
        value: text.to_string(),
        min,
        max,
    };
    let value = |s: &str| -> Result<u32, CronError> {
        const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
        let n = match DAYS.iter().position(|d| d.eq_ignore_ascii_case(s)) {
            Some(i) if field == "day-of-week" => i as u32,
            _ => s.parse().map_err(|_| err())?,
        };
        if (min..=max).contains(&n) {
            Ok(n)
        } else {
            Err(err())
        }
    };
    let mut bits = 0u64;
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().ok().filter(|&s| s > 0).ok_or_else(err)?),
            None => (part, 1),
        };
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a)?, value(b)?)
        } else {
            let n = value(range)?;
            (n, n)
        };
        if lo > hi {
            return Err(err());
        }
        for n in (lo..=hi).step_by(step as usize) {
            bits |= 1 << n;
        }
    }
    Ok(bits)
}

/// When an action runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recurrence {
    /// Once, at this time.
    Once(SimTime),
    /// On every cron firing within the action's start and end times.
    Cron(Cron),
}

/// One scheduled action (API `PutScheduledUpdateGroupAction`). At least one of `min`, `max`,
/// `desired` is set; the others are left as they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScheduledAction {
    /// When it runs.
    pub recurrence: Recurrence,
    /// For a recurring action, the earliest time it runs. Default: none.
    pub start: Option<SimTime>,
    /// For a recurring action, the last time it may run. Default: none.
    pub end: Option<SimTime>,
    /// New minimum size, if set.
    pub min: Option<u32>,
    /// New maximum size, if set.
    pub max: Option<u32>,
    /// New desired capacity, if set.
    pub desired: Option<u32>,
}

impl ScheduledAction {
    /// The first time at or after `t` this action runs, if any.
    fn next_at_or_after(&self, t: SimTime, clock: WallClock) -> Option<SimTime> {
        match self.recurrence {
            Recurrence::Once(at) => (at >= t).then_some(at),
            Recurrence::Cron(cron) => {
                let from = t.max(self.start.unwrap_or(SimTime::ZERO));
                let wall = cron.next_at_or_after(from.as_nanos() + clock.since_sunday);
                let at = SimTime::from_nanos(wall - clock.since_sunday);
                self.end.is_none_or(|end| at <= end).then_some(at)
            }
        }
    }

    /// The group's (limits, desired) after this action, following `UpdateAutoScalingGroup`'s
    /// rules: an unspecified desired capacity is pulled into the new min..=max.
    fn apply(&self, limits: CapacityLimits, desired: u32) -> (CapacityLimits, u32) {
        let min = self.min.unwrap_or(limits.min);
        // A max below the min is rejected by the API; keep the pair ordered regardless.
        let max = self.max.unwrap_or(limits.max).max(min);
        let limits = CapacityLimits::new(min, max);
        let desired = limits.clamp(i64::from(self.desired.unwrap_or(desired)));
        (limits, desired)
    }
}

/// What the scheduled actions due at one instant set: the group's new limits and desired
/// capacity, and how many actions ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScheduledDecision {
    /// The group's new minimum and maximum.
    pub limits: CapacityLimits,
    /// The group's new desired capacity, within `limits`.
    pub desired: u32,
    /// The index of the last action applied (actions run in the order given).
    pub last_action: usize,
    /// How many actions were due at this instant.
    pub actions: usize,
}

/// A group's scheduled actions.
#[derive(Clone, Debug)]
pub struct ScheduledScaling {
    clock: WallClock,
    actions: Vec<ScheduledAction>,
}

impl ScheduledScaling {
    /// The schedule `actions`, in the order they run when due at the same instant, with
    /// simulated time placed in the UTC week by `clock`.
    pub fn new(clock: WallClock, actions: Vec<ScheduledAction>) -> Self {
        ScheduledScaling { clock, actions }
    }

    /// The earliest instant at or after `t` when some action runs. After firing at `t`, ask
    /// again from `t + 1 ns`.
    pub fn next_at_or_after(&self, t: SimTime) -> Option<SimTime> {
        self.actions
            .iter()
            .filter_map(|a| a.next_at_or_after(t, self.clock))
            .min()
    }

    /// Applies, in order, every action that runs exactly at `now` to the group's current
    /// limits and desired capacity; `None` if none runs then.
    pub fn fire(
        &self,
        now: SimTime,
        limits: CapacityLimits,
        desired: u32,
    ) -> Option<ScheduledDecision> {
        let mut state = (limits, desired);
        let mut last = None;
        let mut count = 0;
        for (i, action) in self.actions.iter().enumerate() {
            if action.next_at_or_after(now, self.clock) == Some(now) {
                state = action.apply(state.0, state.1);
                last = Some(i);
                count += 1;
            }
        }
        last.map(|last_action| ScheduledDecision {
            limits: state.0,
            desired: state.1,
            last_action,
            actions: count,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(h: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(3600 * h)
    }

    fn hm(h: u64, m: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(3600 * h + 60 * m)
    }

    fn action(recurrence: Recurrence) -> ScheduledAction {
        ScheduledAction {
            recurrence,
            start: None,
            end: None,
            min: None,
            max: None,
            desired: None,
        }
    }

    /// The run starts Monday 00:00 UTC.
    fn monday() -> WallClock {
        WallClock::starting(1, SimDuration::ZERO)
    }

    #[test]
    fn daily_cron_fires_at_the_exact_minute_every_day() {
        // "0 9 * * *": 09:00 UTC daily. From Monday 00:00: 9 h, then 33 h, 57 h.
        let s = ScheduledScaling::new(
            monday(),
            vec![ScheduledAction {
                desired: Some(10),
                ..action(Recurrence::Cron(Cron::parse("0 9 * * *").unwrap()))
            }],
        );
        let t1 = s.next_at_or_after(SimTime::ZERO).unwrap();
        assert_eq!(t1, hours(9));
        let t2 = s.next_at_or_after(t1 + SimDuration::from_nanos(1)).unwrap();
        assert_eq!(t2, hours(33));
        assert_eq!(s.next_at_or_after(hm(33, 1)), Some(hours(57)));
        // Exactly at the firing time it is due; a nanosecond later it is not.
        let limits = CapacityLimits::new(1, 20);
        let d = s.fire(hours(33), limits, 4).unwrap();
        assert_eq!((d.desired, d.limits, d.actions), (10, limits, 1));
        assert_eq!(
            s.fire(hours(33) + SimDuration::from_nanos(1), limits, 4),
            None
        );
    }

    #[test]
    fn weekly_cron_fires_on_the_named_day_and_a_week_later() {
        // "30 18 * * 5" (Friday 18:30 UTC). Monday 00:00 + 4 days + 18.5 h = 114.5 h, then
        // + 168 h = 282.5 h. The clock starting Wednesday 12:00 moves it to 2 days + 6.5 h.
        let cron = Cron::parse("30 18 * * 5").unwrap();
        assert_eq!(Cron::parse("30 18 * * FRI").unwrap(), cron);
        let s = ScheduledScaling::new(monday(), vec![action(Recurrence::Cron(cron))]);
        assert_eq!(s.next_at_or_after(SimTime::ZERO), Some(hm(114, 30)));
        assert_eq!(s.next_at_or_after(hm(114, 31)), Some(hm(282, 30)));
        let wed_noon = WallClock::starting(3, SimDuration::from_secs(12 * 3600));
        let s = ScheduledScaling::new(wed_noon, vec![action(Recurrence::Cron(cron))]);
        assert_eq!(s.next_at_or_after(SimTime::ZERO), Some(hm(54, 30)));
        // Weekdays: "0 8 * * 1-5" from Friday 09:00 skips the weekend to Monday 08:00 (71 h).
        let fri_9 = WallClock::starting(5, SimDuration::from_secs(9 * 3600));
        let weekdays = Cron::parse("0 8 * * MON-FRI").unwrap();
        let s = ScheduledScaling::new(fri_9, vec![action(Recurrence::Cron(weekdays))]);
        assert_eq!(s.next_at_or_after(SimTime::ZERO), Some(hours(71)));
        // Sunday as 7 equals Sunday as 0.
        assert_eq!(Cron::parse("0 0 * * 7"), Cron::parse("0 0 * * 0"));
    }

    #[test]
    fn start_and_end_times_bound_a_recurring_action() {
        // Hourly at :15 from 10:00, ending at 12:15: fires 10:15, 11:15, 12:15, then never.
        let s = ScheduledScaling::new(
            monday(),
            vec![ScheduledAction {
                start: Some(hours(10)),
                end: Some(hm(12, 15)),
                ..action(Recurrence::Cron(Cron::parse("15 * * * *").unwrap()))
            }],
        );
        let mut fired = vec![];
        let mut t = SimTime::ZERO;
        while let Some(at) = s.next_at_or_after(t) {
            fired.push(at);
            t = at + SimDuration::from_nanos(1);
        }
        assert_eq!(fired, vec![hm(10, 15), hm(11, 15), hm(12, 15)]);
    }

    #[test]
    fn actions_set_min_max_desired_in_order() {
        // Scale up at 08:00 (min 5, max 20, desired 10) and down at 20:00 (min 1, max 4, no
        // desired), plus a one-time desired 3 at 20:00 listed after it.
        let up = ScheduledAction {
            min: Some(5),
            max: Some(20),
            desired: Some(10),
            ..action(Recurrence::Cron(Cron::parse("0 8 * * *").unwrap()))
        };
        let down = ScheduledAction {
            min: Some(1),
            max: Some(4),
            ..action(Recurrence::Cron(Cron::parse("0 20 * * *").unwrap()))
        };
        let once = ScheduledAction {
            desired: Some(3),
            ..action(Recurrence::Once(hours(20)))
        };
        let s = ScheduledScaling::new(monday(), vec![up, down, once]);
        let d = s.fire(hours(8), CapacityLimits::new(1, 4), 2).unwrap();
        assert_eq!((d.limits, d.desired), (CapacityLimits::new(5, 20), 10));
        // At 20:00: `down` pulls desired 12 to the new max 4 (UpdateAutoScalingGroup rule),
        // then `once` sets 3. Both ran, `once` last.
        let d = s.fire(hours(20), CapacityLimits::new(5, 20), 12).unwrap();
        assert_eq!((d.limits, d.desired), (CapacityLimits::new(1, 4), 3));
        assert_eq!((d.last_action, d.actions), (2, 2));
        // The next day at 20:00 the one-time action is gone: desired 12 -> max 4.
        let d = s.fire(hours(44), CapacityLimits::new(5, 20), 12).unwrap();
        assert_eq!((d.desired, d.actions), (4, 1));
        // A new min above desired raises desired to it.
        let raise = ScheduledAction {
            min: Some(6),
            ..action(Recurrence::Once(hours(1)))
        };
        let s = ScheduledScaling::new(monday(), vec![raise]);
        assert_eq!(
            s.fire(hours(1), CapacityLimits::new(1, 10), 2)
                .unwrap()
                .desired,
            6
        );
    }

    #[test]
    fn cron_fields_are_validated() {
        // The User Guide's own example "30 0 1 1,6,12 *" uses day of month and month: refused
        // rather than silently treated as daily.
        assert_eq!(
            Cron::parse("30 0 1 1,6,12 *"),
            Err(CronError::Calendar {
                field: "day-of-month",
                value: "1".into()
            })
        );
        assert!(matches!(
            Cron::parse("0 9 * *"),
            Err(CronError::FieldCount(_))
        ));
        assert!(matches!(
            Cron::parse("60 9 * * *"),
            Err(CronError::Field {
                field: "minute",
                ..
            })
        ));
        assert!(matches!(
            Cron::parse("0 24 * * *"),
            Err(CronError::Field { field: "hour", .. })
        ));
        assert!(matches!(
            Cron::parse("0 9 * * 8"),
            Err(CronError::Field { .. })
        ));
        assert!(matches!(
            Cron::parse("0 9-7 * * *"),
            Err(CronError::Field { .. })
        ));
        assert!(matches!(
            Cron::parse("*/0 9 * * *"),
            Err(CronError::Field { .. })
        ));
        // Steps and lists: every 15 minutes during 09:00-10:59 -> 8 firings a day.
        let c = Cron::parse("*/15 9,10 * * *").unwrap();
        assert_eq!(c.minutes.count_ones() * c.hours.count_ones(), 8);
        let s = ScheduledScaling::new(monday(), vec![action(Recurrence::Cron(c))]);
        assert_eq!(s.next_at_or_after(hm(9, 16)), Some(hm(9, 30)));
        assert_eq!(s.next_at_or_after(hm(10, 46)), Some(hm(33, 0)));
    }
}
