//! The one interface of every autoscaling controller: `on_tick(observation) -> actions`.
//!
//! A controller wakes at its own [`Tick`]s (an AWS group at each metric period and each
//! publication, a Kubernetes HPA at each scrape and sync, KEDA at each poll). At each one the
//! world measures the pool as the real system's metrics pipeline sees it — a
//! [`ScalingObservation`]: the desired capacity and limits, every instance slot's lifecycle,
//! utilization and requests held, the pool's queue gauges and request count, response-time
//! statistics — hands it to the controller's `on_tick` ([`super::autoscaler::Autoscaler::on_tick`]), and applies the [`ScalingAction`]s that
//! come back, in order: a new instance warm-up, new limits, a desired capacity (with the policy
//! and reason `scaling_events.csv` shows), a report that changes nothing. The controller answers
//! when its tick comes again.
//!
//! ```text
//!  world ──tick──▶ reads(tick) ──▶ world measures ──ScalingObservation──▶ on_tick
//!    ▲                                                                      │
//!    └─────────── applies ScalingActions, schedules the next tick ◀─────────┘
//! ```
//!
//! Two readings change what the next one sees, so a controller asks for them by tick
//! ([`Reads`]): an instance's utilization is the mean since it was last read (the reading
//! starts the next period), and a pool's response times are cleared once read. Everything else
//! is a gauge, read without effect.
//!
//! Adding a controller: its model file (its state, its `on_tick`), a variant of
//! [`super::autoscaler::Autoscaler`] (with its spec's variant in `spec::Controller`), and its
//! reader in `crate::scenario`. The world does not change.
//!
//! It must not know the world, the engine's queue or how instances boot: instances are seen
//! through [`SlotState`], the lifecycle as a controller can tell it.

use crate::time::{SimDuration, SimTime};

use super::capacity::CapacityLimits;
use super::metrics_pipeline::Statistic;
use super::spec::MetricKind;

/// What a controller wakes up for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// AWS: a metric period ended; record its datapoints.
    AwsSample,
    /// AWS: the datapoints of a period are published; evaluate the alarms.
    AwsEvaluate,
    /// AWS: scheduled actions are due.
    Scheduled,
    /// Kubernetes: metrics are scraped.
    Scrape,
    /// Kubernetes: the HPA syncs.
    HpaSync,
    /// KEDA polls its triggers.
    KedaPoll,
}

/// What the observation of a tick must read: the readings that change the next ones (see the
/// module doc), and whether the pool's queue gauges are wanted. Measuring only what a tick
/// reads keeps a tick from costing three passes over the pool's slots it does not need.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Reads<'a> {
    /// Each in-service instance's utilization since it was last read; the reading starts its
    /// next period.
    pub utilization: bool,
    /// These statistics of the pool's response times since they were last read, in this
    /// order; the reading clears them. Empty: not read (and not cleared).
    pub latency: &'a [Statistic],
    /// The pool's gauges: [`ScalingObservation::queue_depth`],
    /// [`ScalingObservation::queue_oldest_age`] and
    /// [`ScalingObservation::in_service_requests`]. Not asked: they read 0.
    pub gauges: bool,
}

/// An instance slot's lifecycle as a controller can tell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotState {
    /// No instance, or one kept in a warm pool (not part of the group's service).
    Empty,
    /// Launched, booting (a Kubernetes pod `Pending`).
    Pending,
    /// Loading its model or warming up: running, not ready.
    Starting,
    /// Serving.
    InService,
    /// Leaving: deregistered, finishing what it holds (a pod being deleted).
    Draining,
}

/// One instance slot of the pool, as measured at a tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InstanceReading {
    /// Its lifecycle.
    pub state: SlotState,
    /// In service and past its AWS instance warm-up: it counts toward the group's metrics.
    pub warmed: bool,
    /// Busy slots as a percentage of its slots since its utilization was last read; `None`
    /// unless the tick reads utilization, the instance is in service and time has passed.
    pub utilization: Option<f64>,
    /// Requests it holds now: serving and in its own queue.
    pub held: f64,
}

/// The pool at one tick, as the real system's metrics see it. Built by the world.
#[derive(Debug, Clone, Copy)]
pub struct ScalingObservation<'a> {
    /// The tick's time.
    pub now: SimTime,
    /// The desired capacity.
    pub desired: u32,
    /// The group's minimum and maximum.
    pub limits: CapacityLimits,
    /// Instances on their way to service (not those being prepared for a warm pool).
    pub starting: u32,
    /// Instances in service.
    pub in_service: u32,
    /// Instances draining.
    pub draining: u32,
    /// Every instance slot of the pool, in slot order (a slot's index is stable).
    pub instances: &'a [InstanceReading],
    /// Requests sent to the pool since the run began.
    pub routed: u64,
    /// Requests waiting for the pool: its shared queue and its instances' own queues (read
    /// when [`Reads::gauges`] asks; 0 otherwise, as are the next two).
    pub queue_depth: f64,
    /// How long the oldest waiting request has waited \[s\] (0 with none).
    pub queue_oldest_age: f64,
    /// Requests the pool's instances are serving (in service or draining).
    pub in_service_requests: f64,
    /// The statistics of [`Reads::latency`], in its order; `None` without any response.
    pub latency: &'a [Option<f64>],
    /// When the fleet last came to rest (nothing launching or draining, the desired capacity
    /// reached) after a [`ScalingAction::WatchActivity`]; reported once.
    pub activity_settled_at: Option<SimTime>,
}

impl ScalingObservation<'_> {
    /// A pool-level metric now. `routed` is the requests sent to the pool over the last
    /// `seconds` (for the request metrics); `None` where it is undefined (a per-instance
    /// average over no instance in service). `docs/metrics.md` defines each.
    ///
    /// Per-instance metrics and latency are not pool gauges: read them from
    /// [`ScalingObservation::instances`] and [`ScalingObservation::latency`].
    pub fn pool_metric(&self, kind: MetricKind, routed: u64, seconds: f64) -> Option<f64> {
        let in_service = f64::from(self.in_service);
        match kind {
            MetricKind::QueueDepth => Some(self.queue_depth),
            MetricKind::QueueDepthPerInstance => {
                (in_service > 0.0).then(|| self.queue_depth / in_service)
            }
            MetricKind::QueueOldestAge => Some(self.queue_oldest_age),
            MetricKind::RequestCountPerTarget => {
                (in_service > 0.0).then(|| routed as f64 / in_service)
            }
            MetricKind::RequestRate => (seconds > 0.0).then(|| routed as f64 / seconds),
            MetricKind::Utilization | MetricKind::InFlight | MetricKind::Latency => None,
        }
    }
}

/// What a controller asks the world to do, applied in the order given.
#[derive(Debug, Clone, PartialEq)]
pub enum ScalingAction {
    /// Instances launched from now on get this AWS instance warm-up (that of the activity
    /// raising the desired capacity).
    LaunchWarmup(SimDuration),
    /// The group's minimum and maximum become these.
    Limits(CapacityLimits),
    /// Set the desired capacity: the world clamps it to the limits, records a scaling event
    /// with `policy` and `reason` if it changes, and brings the fleet to it (even when
    /// unchanged: launches that failed are tried again).
    SetDesired {
        /// The new desired capacity (before the clamp).
        desired: u32,
        /// The policy, for `scaling_events.csv`.
        policy: &'static str,
        /// Why, for `scaling_events.csv`.
        reason: String,
    },
    /// Record a scaling event that changes nothing (a forecast reported only).
    Report {
        /// The policy.
        policy: &'static str,
        /// The capacity now.
        from: u32,
        /// The capacity it would set.
        to: u32,
        /// Why.
        reason: String,
    },
    /// Report in a later observation ([`ScalingObservation::activity_settled_at`]) when the
    /// scaling activity started now has finished. Activity finishing while the world still
    /// applies this tick's actions does not count.
    WatchActivity,
}

/// The requests routed to a pool when a controller last looked, and when: the request metrics
/// of a period come from two marks.
#[derive(Debug, Clone, Copy)]
pub struct RoutedMark {
    routed: u64,
    at: SimTime,
}

impl RoutedMark {
    /// The mark at the start of the run.
    pub const START: RoutedMark = RoutedMark {
        routed: 0,
        at: SimTime::ZERO,
    };

    /// Requests since the mark and the seconds it covers, given `routed` requests in all at
    /// `now`; the mark moves to now.
    pub fn take(&mut self, routed: u64, now: SimTime) -> (u64, f64) {
        let since = (routed - self.routed, (now - self.at).as_secs_f64());
        *self = RoutedMark { routed, at: now };
        since
    }

    /// When the mark was taken.
    pub fn at(&self) -> SimTime {
        self.at
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// `n` warmed instances in service, idle.
    pub(crate) fn steady(n: u32) -> Vec<InstanceReading> {
        vec![
            InstanceReading {
                state: SlotState::InService,
                warmed: true,
                utilization: None,
                held: 0.0,
            };
            n as usize
        ]
    }

    /// An observation of `instances` at `now`, wanting `desired` within `limits`.
    pub(crate) fn observation<'a>(
        now: SimTime,
        desired: u32,
        limits: CapacityLimits,
        instances: &'a [InstanceReading],
    ) -> ScalingObservation<'a> {
        let count = |s: SlotState| instances.iter().filter(|i| i.state == s).count() as u32;
        ScalingObservation {
            now,
            desired,
            limits,
            starting: count(SlotState::Pending) + count(SlotState::Starting),
            in_service: count(SlotState::InService),
            draining: count(SlotState::Draining),
            instances,
            routed: 0,
            queue_depth: 0.0,
            queue_oldest_age: 0.0,
            in_service_requests: 0.0,
            latency: &[],
            activity_settled_at: None,
        }
    }

    #[test]
    fn pool_metrics_divide_by_instances_in_service_and_by_seconds() {
        let limits = CapacityLimits::new(0, 10);
        let instances = steady(4);
        let mut obs = observation(SimTime::ZERO, 4, limits, &instances);
        obs.queue_depth = 10.0;
        assert_eq!(obs.pool_metric(MetricKind::QueueDepth, 0, 0.0), Some(10.0));
        assert_eq!(
            obs.pool_metric(MetricKind::QueueDepthPerInstance, 0, 0.0),
            Some(2.5)
        );
        assert_eq!(
            obs.pool_metric(MetricKind::RequestCountPerTarget, 60, 60.0),
            Some(15.0)
        );
        assert_eq!(
            obs.pool_metric(MetricKind::RequestRate, 60, 30.0),
            Some(2.0)
        );
        assert_eq!(obs.pool_metric(MetricKind::RequestRate, 60, 0.0), None);
        // No instance in service: per-instance averages are undefined (missing data).
        obs.in_service = 0;
        assert_eq!(
            obs.pool_metric(MetricKind::QueueDepthPerInstance, 0, 0.0),
            None
        );
        assert_eq!(
            obs.pool_metric(MetricKind::RequestCountPerTarget, 60, 60.0),
            None
        );
    }

    #[test]
    fn a_routed_mark_counts_since_it_was_last_taken() {
        let mut mark = RoutedMark::START;
        let t = |s| SimTime::ZERO + SimDuration::from_secs(s);
        assert_eq!(mark.take(30, t(60)), (30, 60.0));
        assert_eq!(mark.take(50, t(90)), (20, 30.0));
        assert_eq!(mark.at(), t(90));
    }
}
