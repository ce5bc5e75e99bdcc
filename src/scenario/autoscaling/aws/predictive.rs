//! `[pool.autoscaling.predictive]`: predictive scaling (`PredictiveScalingConfiguration`) on
//! the pool's request rate.

use crate::model::autoscale::predictive::{MaxCapacityBreach, PredictiveConfig, PredictiveMode};
use crate::model::autoscale::spec::PredictiveSpec;
use crate::scenario::autoscaling::scaling_keys::{read_timing, Timing};
use crate::scenario::reader::{Node, Reader};
use crate::time::SimDuration;

/// `PredictiveScalingConfiguration.SchedulingBufferTime`: "The value must be less than the
/// forecast interval duration of 3600 seconds".
pub const MAX_SCHEDULING_BUFFER: SimDuration = SimDuration::from_secs(3599);

/// `[pool.autoscaling.predictive]`: the load is the pool's request rate.
pub fn read_predictive(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<PredictiveSpec> {
    let mut f = r.table(
        node,
        "a predictive scaling table such as [pool.autoscaling.predictive] target = 50",
    )?;
    let target = f
        .required(
            r,
            "target",
            "set the requests per second one instance should carry, such as target = 50",
        )
        .and_then(|n| r.positive(&n, true));
    let mode = match f
        .get("mode")
        .map(|n| r.one_of(&n, &["forecast_only", "forecast_and_scale"]))
    {
        None => Some(PredictiveMode::ForecastOnly),
        Some(m) => m.map(|m| match m.value {
            "forecast_and_scale" => PredictiveMode::ForecastAndScale,
            _ => PredictiveMode::ForecastOnly,
        }),
    };
    let buffer = read_timing(
        r,
        &mut f,
        "scheduling_buffer",
        SimDuration::from_secs(300),
        Timing {
            least: SimDuration::ZERO,
            most: Some(MAX_SCHEDULING_BUFFER),
            source: " (AWS: less than the forecast's hour)",
        },
    );
    let breach = match f
        .get("max_capacity_breach")
        .map(|n| r.one_of(&n, &["honor", "increase"]))
    {
        None => Some("honor"),
        Some(b) => b.map(|b| b.value),
    };
    let buffer_percent = f.get("max_capacity_buffer").map(|n| r.integer(&n, 0, 100));
    f.finish(r);
    let max_capacity_breach = match (breach?, buffer_percent) {
        ("increase", p) => MaxCapacityBreach::IncreaseMaxCapacity {
            buffer_percent: match p {
                None => 0,
                Some(p) => p?.value as u32,
            },
        },
        (_, Some(Some(p))) => {
            r.error(
                &p,
                "max_capacity_buffer applies only with max_capacity_breach = \"increase\"",
                Some(
                    "remove max_capacity_buffer, or set max_capacity_breach = \"increase\"".into(),
                ),
            );
            return None;
        }
        (_, Some(None)) => return None,
        (_, None) => MaxCapacityBreach::HonorMaxCapacity,
    };
    Some(PredictiveSpec {
        config: PredictiveConfig {
            target_load_per_instance: target?.value,
            mode: mode?,
            scheduling_buffer: buffer?,
            max_capacity_breach,
        },
    })
}
