//! What an autoscaler's metrics measure, read off the world: per-instance utilization and
//! requests held, and a pool's queue depth, oldest waiting request and request count. The
//! controllers (`autoscaler.rs`) decide when to read them and pass them through their metrics
//! pipelines; `docs/metrics.md` defines each metric.

use super::requests::Phase;
use super::{QueueId, World};
use crate::engine::SimTime;
use crate::metrics::LatencyHistogram;
use crate::model::autoscale::metrics_pipeline::Statistic;

impl World<'_> {
    /// `id`'s busy slots as a percentage of its slots, averaged since its last mark, and the
    /// mark moved to `now`. `None` if no time has passed since the mark.
    pub(super) fn take_utilization(&mut self, now: SimTime, id: u32) -> Option<f64> {
        let inst = &mut self.instances[id as usize];
        inst.set_busy(now, inst.busy);
        let span = (now - inst.mark_at).as_nanos();
        let area = inst.busy_area - inst.mark_area;
        inst.mark_area = inst.busy_area;
        inst.mark_at = now;
        (span > 0).then(|| 100.0 * area as f64 / (span as f64 * f64::from(inst.slots)))
    }

    /// Requests `id` holds now: serving, and waiting in its own queue.
    pub(super) fn held(&self, id: u32) -> f64 {
        let inst = &self.instances[id as usize];
        f64::from(inst.busy + inst.queue.live())
    }

    /// Requests `pool`'s instances are serving now (in service or draining): a queue's
    /// messages in flight, received by a worker and not yet deleted.
    pub(super) fn in_service_requests(&self, pool: usize) -> f64 {
        let busy: u32 = self
            .slots_of(pool)
            .map(|i| self.instances[i as usize].busy)
            .sum();
        f64::from(busy)
    }

    /// Requests waiting for `pool`: its shared (or named) queue and its instances' own queues.
    pub(super) fn queue_depth(&self, pool: usize) -> f64 {
        let own: u32 = self
            .slots_of(pool)
            .map(|i| self.instances[i as usize].queue.live())
            .sum();
        f64::from(self.pools[pool].shared.live() + own)
    }

    /// How long the oldest request waiting for `pool` has waited [s] (0 with none waiting).
    pub(super) fn queue_oldest_age(&self, now: SimTime, pool: usize) -> f64 {
        let queues = std::iter::once(QueueId::Pool(pool as u32))
            .chain(self.slots_of(pool).map(QueueId::Instance));
        let mut oldest = now;
        for q in queues {
            let queue = match q {
                QueueId::Pool(p) => &self.pools[p as usize].shared,
                QueueId::Instance(i) => &self.instances[i as usize].queue,
            };
            // The first live entry is the oldest of its queue (FIFO); tombstones are skipped.
            if let Some(sent) = queue
                .ids()
                .map(|id| self.requests.get(id))
                .find(|r| r.phase != Phase::Expired)
                .map(|r| r.sent)
            {
                oldest = oldest.min(sent);
            }
        }
        (now - oldest).as_secs_f64()
    }
}

/// `statistic` of the response times in `h` [s], as CloudWatch computes it over a period's
/// requests; `None` without any (missing data).
pub(super) fn latency_statistic(h: &LatencyHistogram, statistic: Statistic) -> Option<f64> {
    let mean = h.mean_secs()?;
    Some(match statistic {
        Statistic::Maximum => h.max_secs()?,
        Statistic::Minimum => h.quantile_secs(0.0)?,
        Statistic::Sum => mean * h.count() as f64,
        Statistic::SampleCount => h.count() as f64,
        Statistic::Percentile { hundredths } => h.quantile_secs(f64::from(hundredths) / 1e4)?,
        Statistic::Average | Statistic::Last | Statistic::Rate => mean,
    })
}
