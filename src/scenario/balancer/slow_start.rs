//! How new targets are eased in and how clients stick to one: `slow_start` (ALB's linear ramp,
//! or Envoy's) and `stickiness` (ALB's `lb_cookie`).

use crate::model::balancer::slow_start::{
    SlowStart as SlowStartSpec, ALB_MAX_DURATION, ALB_MIN_DURATION, ENVOY_DEFAULT_AGGRESSION,
    ENVOY_DEFAULT_MIN_WEIGHT_PERCENT,
};
use crate::model::balancer::sticky;
use crate::scenario::reader::keys::Kind;
use crate::scenario::reader::{whole_seconds, Located, Node, Reader};
use crate::time::SimDuration;

/// Read by [`read_slow_start`].
#[derive(Debug, Clone, Copy)]
pub struct SlowStart;

impl Kind for SlowStart {
    type Value = SlowStartSpec;
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<SlowStartSpec>> {
        read_slow_start(r, node)
    }
}

/// Read by [`read_stickiness`].
#[derive(Debug, Clone, Copy)]
pub struct Stickiness;

impl Kind for Stickiness {
    type Value = SimDuration;
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<SimDuration>> {
        read_stickiness(r, node)
    }
}

/// `slow_start = { duration }` (ALB: a linear ramp, 30 s to 900 s) or `{ window, aggression,
/// min_weight_percent }` (Envoy).
fn read_slow_start(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<SlowStartSpec>> {
    let at = node.at();
    let mut f = r.table(node, "a slow start table such as { duration = \"2m\" }")?;
    let duration = f.get("duration").and_then(|n| r.duration(&n));
    let window = f.get("window").and_then(|n| r.duration(&n));
    let aggression = f.get("aggression").and_then(|n| r.positive(&n, true));
    let min_weight = f
        .get("min_weight_percent")
        .and_then(|n| r.positive(&n, false));
    f.finish(r);
    let spec = match (duration, window) {
        (Some(d), None) if aggression.is_none() && min_weight.is_none() => {
            if d.value < ALB_MIN_DURATION || d.value > ALB_MAX_DURATION {
                r.error(
                    &d,
                    "an ALB slow start lasts from 30 s to 900 s",
                    Some("such as duration = \"2m\"; for other lengths use Envoy's window".into()),
                );
                return None;
            }
            // slow_start.duration_seconds is an integer.
            if !whole_seconds(r, &d, "ALB slow start", "duration") {
                return None;
            }
            SlowStartSpec::Linear { duration: d.value }
        }
        (None, Some(w)) => {
            if w.value < SimDuration::from_millis(1) {
                r.error(
                    &w,
                    "Envoy's slow start window is at least 1ms",
                    Some("such as window = \"60s\"".into()),
                );
                return None;
            }
            if let Some(m) = min_weight.as_ref().filter(|m| m.value > 100.0) {
                r.error(
                    m,
                    "min_weight_percent is a percentage, from 0 to 100",
                    Some("such as min_weight_percent = 10 (Envoy's default)".into()),
                );
                return None;
            }
            SlowStartSpec::Envoy {
                window: w.value,
                aggression: aggression.map_or(ENVOY_DEFAULT_AGGRESSION, |a| a.value),
                min_weight_percent: min_weight
                    .map_or(ENVOY_DEFAULT_MIN_WEIGHT_PERCENT, |m| m.value),
            }
        }
        _ => {
            r.error(
                &at,
                "slow start takes duration (ALB's linear ramp) or window with optional aggression and min_weight_percent (Envoy's), not both",
                Some("write { duration = \"2m\" } or { window = \"2m\", aggression = 1.5 }".into()),
            );
            return None;
        }
    };
    Some(Located {
        value: spec,
        path: at.path,
        span: at.span,
    })
}

/// `stickiness = { duration }`: ALB's lb_cookie, 1 s to 7 days (default 1 day).
fn read_stickiness(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<SimDuration>> {
    let at = node.at();
    let mut f = r.table(node, "a stickiness table such as { duration = \"1h\" }")?;
    let duration = match f.get("duration").map(|n| r.duration(&n)) {
        Some(Some(d)) if d.value < sticky::MIN_DURATION || d.value > sticky::MAX_DURATION => {
            r.error(
                &d,
                format!(
                    "an ALB lb_cookie lasts from {} to {} (7 days), found {}",
                    sticky::MIN_DURATION,
                    sticky::MAX_DURATION,
                    d.value
                ),
                Some("such as duration = \"1h\"".into()),
            );
            None
        }
        // stickiness.lb_cookie.duration_seconds is an integer.
        Some(Some(d)) if !whole_seconds(r, &d, "an ALB lb_cookie", "duration") => None,
        Some(Some(d)) => Some(d.value),
        Some(None) => None,
        None => Some(sticky::DEFAULT_DURATION),
    };
    f.finish(r);
    duration.map(|value| Located {
        value,
        path: at.path,
        span: at.span,
    })
}
