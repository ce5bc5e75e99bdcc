//! A CloudWatch metric alarm as EC2 Auto Scaling policies use it: a threshold, a comparison,
//! and "M out of N" evaluation over the most recent datapoints, one datapoint per period.
//!
//! It owns only the alarm's state; it must not know what the metric measures or which policy it
//! triggers. The metrics pipeline (period, statistic, lag) produces the datapoints.
//!
//! Sources (Amazon CloudWatch User Guide, "Using Amazon CloudWatch alarms",
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html>):
//! an alarm goes to ALARM when at least *datapoints to alarm* of the last *evaluation periods*
//! datapoints breach; and "An alarm invokes actions only when the alarm changes state. The
//! exception is for alarms with Auto Scaling actions. For Auto Scaling actions, the alarm
//! continues to invoke the action once per minute that the alarm remains in the new state."
//! So with one-minute datapoints an Auto Scaling policy is invoked on every datapoint while its
//! alarm is in ALARM, which is what [`Alarm::observe`] returns.

use std::collections::VecDeque;

/// How a datapoint is compared with the threshold (API `ComparisonOperator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// `value >= threshold` breaches.
    GreaterThanOrEqual,
    /// `value > threshold` breaches.
    GreaterThan,
    /// `value < threshold` breaches.
    LessThan,
    /// `value <= threshold` breaches.
    LessThanOrEqual,
}

impl Comparison {
    fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::GreaterThanOrEqual => value >= threshold,
            Comparison::GreaterThan => value > threshold,
            Comparison::LessThan => value < threshold,
            Comparison::LessThanOrEqual => value <= threshold,
        }
    }
}

/// A metric alarm: state is ALARM when at least `datapoints_to_alarm` of the last
/// `evaluation_periods` datapoints breach. Memory: `evaluation_periods` booleans.
#[derive(Clone, Debug)]
pub struct Alarm {
    threshold: f64,
    comparison: Comparison,
    datapoints_to_alarm: usize,
    evaluation_periods: usize,
    /// The most recent datapoints, oldest first: `true` for breaching. Never longer than
    /// `evaluation_periods`.
    recent: VecDeque<bool>,
    breaching: usize,
}

impl Alarm {
    /// An alarm in OK state with no datapoints. Panics unless
    /// `1 <= datapoints_to_alarm <= evaluation_periods` (CloudWatch rejects other values;
    /// validation must have too).
    pub fn new(
        threshold: f64,
        comparison: Comparison,
        datapoints_to_alarm: usize,
        evaluation_periods: usize,
    ) -> Self {
        assert!(
            datapoints_to_alarm >= 1 && datapoints_to_alarm <= evaluation_periods,
            "alarm needs 1 <= datapoints_to_alarm ({datapoints_to_alarm}) <= evaluation_periods ({evaluation_periods})"
        );
        Alarm {
            threshold,
            comparison,
            datapoints_to_alarm,
            evaluation_periods,
            recent: VecDeque::with_capacity(evaluation_periods),
            breaching: 0,
        }
    }

    /// The threshold the alarm compares with.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// Records the datapoint of the period that just ended and returns true if the alarm is in
    /// ALARM, that is, if its Auto Scaling action is invoked for this period. A missing
    /// datapoint (`None`) counts as not breaching, CloudWatch's "treat missing data as not
    /// breaching"; a NaN value likewise never breaches.
    pub fn observe(&mut self, value: Option<f64>) -> bool {
        let breach = value.is_some_and(|v| self.comparison.breaches(v, self.threshold));
        if self.recent.len() == self.evaluation_periods && self.recent.pop_front() == Some(true) {
            self.breaching -= 1;
        }
        self.recent.push_back(breach);
        if breach {
            self.breaching += 1;
        }
        self.in_alarm()
    }

    /// True if the alarm is in ALARM after the datapoints seen so far.
    pub fn in_alarm(&self) -> bool {
        self.breaching >= self.datapoints_to_alarm
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_out_of_three_alarms_on_the_second_breach_and_clears_when_one_remains() {
        // "2 out of 3 evaluation periods" (User Guide, "Create a CloudWatch alarm"): breaches
        // at periods 1 and 3 with an OK period between still make 2 of the last 3.
        let mut alarm = Alarm::new(80.0, Comparison::GreaterThanOrEqual, 2, 3);
        assert!(!alarm.observe(Some(80.0))); // [B]
        assert!(!alarm.observe(Some(10.0))); // [B, ok]
        assert!(alarm.observe(Some(95.0))); // [B, ok, B]: 2 of 3
        assert!(!alarm.observe(Some(10.0))); // [ok, B, ok]: 1 of 3
        assert!(!alarm.observe(None)); // missing counts as not breaching
        assert!(!alarm.observe(Some(f64::NAN)));
    }

    #[test]
    fn comparisons_treat_the_threshold_itself_as_documented() {
        let mut ge = Alarm::new(50.0, Comparison::GreaterThanOrEqual, 1, 1);
        let mut gt = Alarm::new(50.0, Comparison::GreaterThan, 1, 1);
        let mut lt = Alarm::new(50.0, Comparison::LessThan, 1, 1);
        let mut le = Alarm::new(50.0, Comparison::LessThanOrEqual, 1, 1);
        assert!(ge.observe(Some(50.0)));
        assert!(!gt.observe(Some(50.0)));
        assert!(!lt.observe(Some(50.0)));
        assert!(le.observe(Some(50.0)));
    }
}
