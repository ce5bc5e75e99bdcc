//! The HPA `behavior` an HPA and KEDA share: `scale_up` and `scale_down` rules, with the API
//! server's limits and the Kubernetes defaults.

use crate::model::autoscale::hpa::DEFAULT_DOWNSCALE_STABILIZATION;
use crate::model::autoscale::hpa_behavior::{
    HpaBehavior, ScalingPolicy, ScalingRules, SelectPolicy,
};
use crate::scenario::autoscaling::scaling_keys::{check_timing, Timing};
use crate::scenario::reader::{Node, Reader};
use crate::time::SimDuration;

/// `MaxStabilizationWindowSeconds` in validation.go.
pub const MAX_STABILIZATION_WINDOW: SimDuration = SimDuration::from_secs(3600);

/// `MaxPeriodSeconds` in validation.go.
pub const MAX_POLICY_PERIOD: SimDuration = SimDuration::from_secs(1800);

/// `behavior = { scale_up = { ... }, scale_down = { ... } }`: a direction left out takes the
/// Kubernetes defaults.
pub fn read_behavior(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<HpaBehavior> {
    let mut f = r.table(
        node,
        "a behavior table such as { scale_down = { stabilization_window = \"300s\" } }",
    )?;
    let up = f
        .get("scale_up")
        .map(|n| read_rules(r, n, ScalingRules::k8s_default_scale_up()));
    let down = f
        .get("scale_down")
        .map(|n| read_rules(r, n, ScalingRules::k8s_default_scale_down()));
    f.finish(r);
    Some(HpaBehavior {
        scale_up: up.unwrap_or_else(|| Some(ScalingRules::k8s_default_scale_up()))?,
        scale_down: down.unwrap_or_else(|| Some(ScalingRules::k8s_default_scale_down()))?,
    })
}

/// One direction's `HPAScalingRules`; each key left out takes its value from `default`.
pub fn read_rules(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    default: ScalingRules,
) -> Option<ScalingRules> {
    let mut f = r.table(
        node,
        "a scaling rules table such as { stabilization_window = \"60s\", policies = [{ type = \"pods\", value = 4, period = \"60s\" }] }",
    )?;
    let window = match f.get("stabilization_window").map(|n| r.duration(&n)) {
        None => Some(default.stabilization_window),
        Some(None) => None,
        Some(Some(w)) if w.value > MAX_STABILIZATION_WINDOW => {
            r.error(
                &w,
                format!(
                    "stabilization_window is at most 3600s in Kubernetes, found {}",
                    w.value
                ),
                Some("such as stabilization_window = \"300s\"".into()),
            );
            None
        }
        Some(Some(w)) => check_timing(
            r,
            &w,
            "stabilization_window",
            Some(
                default
                    .stabilization_window
                    .unwrap_or(DEFAULT_DOWNSCALE_STABILIZATION),
            ),
            Timing {
                least: SimDuration::ZERO,
                most: Some(MAX_STABILIZATION_WINDOW),
                source: " (Kubernetes stabilizationWindowSeconds)",
            },
        )
        .then_some(Some(w.value)),
    };
    let select = match f
        .get("select_policy")
        .map(|n| r.one_of(&n, &["max", "min", "disabled"]))
    {
        None => Some(default.select_policy),
        Some(s) => s.map(|s| match s.value {
            "min" => SelectPolicy::Min,
            "disabled" => SelectPolicy::Disabled,
            _ => SelectPolicy::Max,
        }),
    };
    let policies = match f.get("policies") {
        None => Some(default.policies),
        Some(n) => read_scaling_policies(r, n),
    };
    f.finish(r);
    Some(ScalingRules {
        stabilization_window: window?,
        select_policy: select?,
        policies: policies?,
    })
}

pub fn read_scaling_policies(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Vec<ScalingPolicy>> {
    let at = node.at();
    let items = r.array(
        &node,
        "an array of policies such as [{ type = \"pods\", value = 4, period = \"60s\" }]",
    )?;
    if items.is_empty() {
        r.error(
            &at,
            "policies is empty, and Kubernetes requires at least one",
            Some("leave policies out for the Kubernetes defaults, or add { type = \"percent\", value = 100, period = \"15s\" }".into()),
        );
        return None;
    }
    let mut ok = true;
    let mut policies = Vec::new();
    for item in items {
        let Some(mut f) = r.table(
            item,
            "a policy such as { type = \"pods\", value = 4, period = \"60s\" }",
        ) else {
            ok = false;
            continue;
        };
        let kind = f
            .required(r, "type", "choose pods or percent")
            .and_then(|n| r.one_of(&n, &["pods", "percent"]));
        let value = f
            .required(
                r,
                "value",
                "set how many pods (or percent) per period, such as value = 4",
            )
            .and_then(|n| r.integer(&n, 1, i64::from(i32::MAX)));
        let period = f
            .required(r, "period", "set the period, such as period = \"60s\"")
            .and_then(|n| r.duration(&n))
            .filter(|p| {
                let inside = p.value >= SimDuration::from_secs(1) && p.value <= MAX_POLICY_PERIOD;
                if !inside {
                    r.error(
                        p,
                        format!(
                            "a policy's period is from 1s to 1800s in Kubernetes, found {}",
                            p.value
                        ),
                        Some("such as period = \"60s\"".into()),
                    );
                    return false;
                }
                check_timing(
                    r,
                    p,
                    "period",
                    Some(SimDuration::from_secs(60)),
                    Timing {
                        least: SimDuration::from_secs(1),
                        most: Some(MAX_POLICY_PERIOD),
                        source: " (Kubernetes periodSeconds)",
                    },
                )
            });
        f.finish(r);
        match (kind, value, period) {
            (Some(k), Some(v), Some(p)) => policies.push(if k.value == "pods" {
                ScalingPolicy::pods(v.value as u32, p.value)
            } else {
                ScalingPolicy::percent(v.value as u32, p.value)
            }),
            _ => ok = false,
        }
    }
    ok.then_some(policies)
}
