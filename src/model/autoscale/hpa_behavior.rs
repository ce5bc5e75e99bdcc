//! The Kubernetes HPA's scaling *behavior*: stabilization windows over the history of
//! recommendations and the Pods/Percent rate policies over scale events, as pure functions over
//! integer simulated time. Also the legacy path used when an HPA has no `behavior` (a 5-minute
//! downscale stabilization and a scale-up limit of `max(2 × current, 4)`).
//!
//! Ported from kubernetes/kubernetes `pkg/controller/podautoscaler/horizontal.go`
//! (`stabilizeRecommendation`, `stabilizeRecommendationWithBehaviors`,
//! `convertDesiredReplicasWithBehaviorRate`, `convertDesiredReplicasWithRules`,
//! `calculateScaleUpLimit`, `calculateScaleUpLimitWithScalingRules`,
//! `calculateScaleDownLimitWithBehaviors`, `getReplicasChangePerPeriod`) and the API defaults of
//! `pkg/apis/autoscaling/v2/defaults.go`. Replica counts are `i32` here, as in the controller, so
//! that the intermediate values (a period-start count can exceed the current one, a percent
//! scale-down can go negative) and the `MinInt32`/`MaxInt32` seeds behave exactly as in Go.
//!
//! This module must not know about metrics (see `hpa.rs`) nor about how pods start.

use crate::time::{SimDuration, SimTime};

/// The kind of a rate policy (`HPAScalingPolicyType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalingPolicyKind {
    /// `Pods`: at most `value` pods added (removed) per period.
    Pods,
    /// `Percent`: at most `value` % of the replicas at the start of the period.
    Percent,
}

/// One rate policy (`HPAScalingPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScalingPolicy {
    /// Pods or Percent.
    pub kind: ScalingPolicyKind,
    /// Pods, or percent of the replicas at the start of the period.
    pub value: u32,
    /// The look-back period (`periodSeconds`).
    pub period: SimDuration,
}

impl ScalingPolicy {
    /// `Pods` policy: `value` pods per `period`.
    pub fn pods(value: u32, period: SimDuration) -> Self {
        ScalingPolicy {
            kind: ScalingPolicyKind::Pods,
            value,
            period,
        }
    }

    /// `Percent` policy: `value` % per `period`.
    pub fn percent(value: u32, period: SimDuration) -> Self {
        ScalingPolicy {
            kind: ScalingPolicyKind::Percent,
            value,
            period,
        }
    }
}

/// Which policy wins when several apply (`ScalingPolicySelect`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectPolicy {
    /// The policy allowing the largest change (the default).
    Max,
    /// The policy allowing the smallest change.
    Min,
    /// No scaling in this direction at all.
    Disabled,
}

/// The rules for one direction (`HPAScalingRules`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalingRules {
    /// The stabilization window. `None` for scale-down means "the controller's
    /// `--horizontal-pod-autoscaler-downscale-stabilization`" (default 5 min), as in
    /// `maybeInitScaleDownStabilizationWindow`; for scale-up it means 0.
    pub stabilization_window: Option<SimDuration>,
    /// Max (default), Min or Disabled.
    pub select_policy: SelectPolicy,
    /// The rate policies; empty means no rate limit is computed (the limit falls back to the
    /// current replica count, as the Go code does with its `MinInt32`/`MaxInt32` seeds).
    pub policies: Vec<ScalingPolicy>,
}

impl ScalingRules {
    /// Kubernetes' default scale-up rules (`defaultHPAScaleUpRules` in
    /// `pkg/apis/autoscaling/v2/defaults.go`): no stabilization, select Max of
    /// 4 pods per 15 s and 100 % per 15 s.
    pub fn k8s_default_scale_up() -> Self {
        ScalingRules {
            stabilization_window: Some(SimDuration::ZERO),
            select_policy: SelectPolicy::Max,
            policies: vec![
                ScalingPolicy::pods(4, SimDuration::from_secs(15)),
                ScalingPolicy::percent(100, SimDuration::from_secs(15)),
            ],
        }
    }

    /// Kubernetes' default scale-down rules (`defaultHPAScaleDownRules`): stabilization left to
    /// the controller flag (300 s by default), select Max, 100 % per 15 s.
    pub fn k8s_default_scale_down() -> Self {
        ScalingRules {
            stabilization_window: None,
            select_policy: SelectPolicy::Max,
            policies: vec![ScalingPolicy::percent(100, SimDuration::from_secs(15))],
        }
    }

    /// The longest policy period (`getLongestPolicyPeriod`): how long scale events matter.
    pub fn longest_period(&self) -> SimDuration {
        self.policies
            .iter()
            .map(|p| p.period)
            .max()
            .unwrap_or(SimDuration::ZERO)
    }
}

/// `spec.behavior` (`HorizontalPodAutoscalerBehavior`), already defaulted field by field as
/// `GenerateHPAScaleUpRules` / `GenerateHPAScaleDownRules` do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HpaBehavior {
    /// Rules for scaling up.
    pub scale_up: ScalingRules,
    /// Rules for scaling down.
    pub scale_down: ScalingRules,
}

impl Default for HpaBehavior {
    /// Both directions at Kubernetes' API defaults.
    fn default() -> Self {
        HpaBehavior {
            scale_up: ScalingRules::k8s_default_scale_up(),
            scale_down: ScalingRules::k8s_default_scale_down(),
        }
    }
}

/// One unstabilized recommendation the controller computed (`timestampedRecommendation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recommendation {
    /// When it was computed.
    pub at: SimTime,
    /// The metric-based replica count before stabilization.
    pub replicas: i32,
}

/// One applied scale change (`timestampedScaleEvent`), kept per direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleEvent {
    /// When the scale was applied.
    pub at: SimTime,
    /// Replicas added (scale-up list) or removed (scale-down list), positive.
    pub change: i32,
}

/// Why the final count differs (or not) from the stabilized recommendation: the
/// `ScalingLimited` condition reasons of horizontal.go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitReason {
    /// "the desired count is within the acceptable range".
    DesiredWithinRange,
    /// Capped by the scale-up rate (behavior policies, or `max(2×current, 4)` without behavior).
    ScaleUpLimit,
    /// Capped by the scale-down rate policies.
    ScaleDownLimit,
    /// Capped at `maxReplicas`.
    TooManyReplicas,
    /// Raised to `minReplicas`.
    TooFewReplicas,
}

/// Go's `t.After(now - window)`, without underflow when `window > now`: the strict inequality
/// is why an event exactly one period old no longer counts.
fn strictly_within(t: SimTime, now: SimTime, window: SimDuration) -> bool {
    u128::from(t.as_nanos()) + u128::from(window.as_nanos()) > u128::from(now.as_nanos())
}

/// Replicas changed by the events younger than `period` (`getReplicasChangePerPeriod`).
pub fn replicas_change_per_period(now: SimTime, period: SimDuration, events: &[ScaleEvent]) -> i32 {
    events
        .iter()
        .filter(|e| strictly_within(e.at, now, period))
        .map(|e| e.change)
        .sum()
}

/// The highest count scale-up may reach now (`calculateScaleUpLimitWithScalingRules`): each policy
/// proposes from the replicas at the start of its period (current − added + removed within it);
/// Percent rounds up so that a small fleet can always grow.
pub fn scale_up_limit(
    now: SimTime,
    current: i32,
    up_events: &[ScaleEvent],
    down_events: &[ScaleEvent],
    rules: &ScalingRules,
) -> i32 {
    let (mut result, pick): (i32, fn(i32, i32) -> i32) = match rules.select_policy {
        SelectPolicy::Disabled => return current,
        SelectPolicy::Min => (i32::MAX, std::cmp::min),
        SelectPolicy::Max => (i32::MIN, std::cmp::max),
    };
    for policy in &rules.policies {
        let added = replicas_change_per_period(now, policy.period, up_events);
        let removed = replicas_change_per_period(now, policy.period, down_events);
        let period_start = current - added + removed;
        let proposed = match policy.kind {
            ScalingPolicyKind::Pods => period_start + policy.value as i32,
            ScalingPolicyKind::Percent => {
                (f64::from(period_start) * (1.0 + f64::from(policy.value) / 100.0)).ceil() as i32
            }
        };
        result = pick(result, proposed);
    }
    result
}

/// The lowest count scale-down may reach now (`calculateScaleDownLimitWithBehaviors`); Percent
/// truncates (Go's `int32(float64)`), so it never removes more than the policy allows.
pub fn scale_down_limit(
    now: SimTime,
    current: i32,
    up_events: &[ScaleEvent],
    down_events: &[ScaleEvent],
    rules: &ScalingRules,
) -> i32 {
    // For scale-down the *smallest change* is the *largest* count, hence the swapped seeds.
    let (mut result, pick): (i32, fn(i32, i32) -> i32) = match rules.select_policy {
        SelectPolicy::Disabled => return current,
        SelectPolicy::Min => (i32::MIN, std::cmp::max),
        SelectPolicy::Max => (i32::MAX, std::cmp::min),
    };
    for policy in &rules.policies {
        let added = replicas_change_per_period(now, policy.period, up_events);
        let removed = replicas_change_per_period(now, policy.period, down_events);
        let period_start = current - added + removed;
        let proposed = match policy.kind {
            ScalingPolicyKind::Pods => period_start - policy.value as i32,
            ScalingPolicyKind::Percent => {
                (f64::from(period_start) * (1.0 - f64::from(policy.value) / 100.0)) as i32
            }
        };
        result = pick(result, proposed);
    }
    result
}

/// `stabilizeRecommendationWithBehaviors`: scale-up may go no higher than the *lowest*
/// recommendation within the scale-up window, scale-down no lower than the *highest* within the
/// scale-down window, and the result starts from `current` — so a recommendation that moved the
/// other way never causes a scale in the opposite direction. `desired` itself always takes part
/// (the Go code seeds both bounds with it). Entries count when strictly younger than the window.
pub fn stabilize_with_behavior(
    now: SimTime,
    current: i32,
    desired: i32,
    up_window: SimDuration,
    down_window: SimDuration,
    history: &[Recommendation],
) -> i32 {
    let mut up = desired;
    let mut down = desired;
    for rec in history {
        if strictly_within(rec.at, now, up_window) {
            up = up.min(rec.replicas);
        }
        if strictly_within(rec.at, now, down_window) {
            down = down.max(rec.replicas);
        }
    }
    let mut recommendation = current;
    if recommendation < up {
        recommendation = up;
    }
    if recommendation > down {
        recommendation = down;
    }
    recommendation
}

/// `stabilizeRecommendation`, the path without `behavior`: the highest recommendation not older
/// than the downscale window (inclusive at the edge: Go's `!t.Before(cutoff)`), `desired` included.
pub fn stabilize_legacy(
    now: SimTime,
    desired: i32,
    window: SimDuration,
    history: &[Recommendation],
) -> i32 {
    history
        .iter()
        .filter(|r| {
            u128::from(r.at.as_nanos()) + u128::from(window.as_nanos())
                >= u128::from(now.as_nanos())
        })
        .map(|r| r.replicas)
        .fold(desired, i32::max)
}

/// `convertDesiredReplicasWithBehaviorRate`: clamp the stabilized recommendation by the rate
/// policies and by `[min, max]`. A rate limit that history pushed beyond `current` is pulled back
/// to `current` (no scaling the other way until the events age out).
#[allow(clippy::too_many_arguments)]
pub fn convert_with_behavior_rate(
    now: SimTime,
    current: i32,
    desired: i32,
    min_replicas: i32,
    max_replicas: i32,
    behavior: &HpaBehavior,
    up_events: &[ScaleEvent],
    down_events: &[ScaleEvent],
) -> (i32, LimitReason) {
    if desired > current {
        let limit =
            scale_up_limit(now, current, up_events, down_events, &behavior.scale_up).max(current);
        let (allowed, reason) = if max_replicas > limit {
            (limit, LimitReason::ScaleUpLimit)
        } else {
            (max_replicas, LimitReason::TooManyReplicas)
        };
        if desired > allowed {
            return (allowed, reason);
        }
    } else if desired < current {
        let limit = scale_down_limit(now, current, up_events, down_events, &behavior.scale_down)
            .min(current);
        let (allowed, reason) = if min_replicas < limit {
            (limit, LimitReason::ScaleDownLimit)
        } else {
            (min_replicas, LimitReason::TooFewReplicas)
        };
        if desired < allowed {
            return (allowed, reason);
        }
    }
    (desired, LimitReason::DesiredWithinRange)
}

/// `calculateScaleUpLimit`: without `behavior`, scale up at most to `max(2 × current, 4)`
/// (`scaleUpLimitFactor = 2.0`, `scaleUpLimitMinimum = 4.0` in horizontal.go).
pub fn legacy_scale_up_limit(current: i32) -> i32 {
    (2.0 * f64::from(current)).max(4.0) as i32
}

/// `convertDesiredReplicasWithRules`, the path without `behavior`: clamp to `minReplicas` and to
/// the smaller of `maxReplicas` and the legacy scale-up limit. No scale-down rate limit.
pub fn convert_with_rules(
    current: i32,
    desired: i32,
    min_replicas: i32,
    max_replicas: i32,
) -> (i32, LimitReason) {
    let limit = legacy_scale_up_limit(current);
    let (maximum, reason) = if max_replicas > limit {
        (limit, LimitReason::ScaleUpLimit)
    } else {
        (max_replicas, LimitReason::TooManyReplicas)
    };
    if desired < min_replicas {
        (min_replicas, LimitReason::TooFewReplicas)
    } else if desired > maximum {
        (maximum, reason)
    } else {
        (desired, LimitReason::DesiredWithinRange)
    }
}

#[cfg(test)]
mod tests {
    //! Cases reproduced from kubernetes/kubernetes
    //! `pkg/controller/podautoscaler/horizontal_test.go`; each names its Go test and case.
    use super::*;

    /// "now" for every case: late enough (10 h) that "100 min ago" is a valid `SimTime`.
    const NOW: SimTime = SimTime::from_nanos(36_000_000_000_000);

    fn secs(s: u64) -> SimDuration {
        SimDuration::from_secs(s)
    }

    fn ago(s: u64) -> SimTime {
        SimTime::from_nanos(NOW.as_nanos() - s * 1_000_000_000)
    }

    /// `generateScalingRules(pods, podsPeriod, percent, percentPeriod, stabilizationWindow)`:
    /// select Max, a Pods policy if `pods != 0`, then a Percent policy if `percent != 0`.
    fn rules(
        pods: u32,
        pods_period: u64,
        percent: u32,
        percent_period: u64,
        window: u64,
    ) -> ScalingRules {
        let mut policies = Vec::new();
        if pods != 0 {
            policies.push(ScalingPolicy::pods(pods, secs(pods_period)));
        }
        if percent != 0 {
            policies.push(ScalingPolicy::percent(percent, secs(percent_period)));
        }
        ScalingRules {
            stabilization_window: Some(secs(window)),
            select_policy: SelectPolicy::Max,
            policies,
        }
    }

    /// `generateEventsUniformDistribution(raw, period)`: event `i` of `n` at
    /// `period − (period/n)(i+1) + (period/n)/2` seconds ago, truncated to whole seconds
    /// (Go's `time.Duration(float)` before `* time.Second`). E.g. [1,5,9] over 120 s: 100, 60, 20 s ago.
    fn uniform(raw: &[i32], period: u64) -> Vec<ScaleEvent> {
        let seg = period as f64 / raw.len() as f64;
        raw.iter()
            .enumerate()
            .map(|(i, &change)| {
                let back = (period as f64 - seg * (i as f64 + 1.0) + seg / 2.0) as u64;
                ScaleEvent {
                    at: ago(back),
                    change,
                }
            })
            .collect()
    }

    struct RuleCase {
        name: &'static str,
        up_events: Vec<ScaleEvent>,
        down_events: Vec<ScaleEvent>,
        min: i32,
        max: i32,
        up: Option<ScalingRules>,
        down: Option<ScalingRules>,
        current: i32,
        desired: i32,
        expected: i32,
        reason: LimitReason,
    }

    fn case(
        name: &'static str,
        min: i32,
        max: i32,
        current: i32,
        desired: i32,
        expected: i32,
        reason: LimitReason,
    ) -> RuleCase {
        RuleCase {
            name,
            up_events: vec![],
            down_events: vec![],
            min,
            max,
            up: None,
            down: None,
            current,
            desired,
            expected,
            reason,
        }
    }

    /// horizontal_test.go `TestScalingWithRules`: `convertDesiredReplicasWithBehaviorRate` with
    /// rules defaulted by `GenerateHPAScale{Up,Down}Rules` (a `None` here is the API default).
    #[test]
    fn k8s_test_scaling_with_rules() {
        use LimitReason::*;
        let cases = vec![
            case("prenormalized desired replicas within range", 3, 8, 5, 7, 7, DesiredWithinRange),
            case("prenormalized desired replicas < minReplicas", 2, 8, 3, 1, 2, TooFewReplicas),
            case("prenormalized desired replicas within range when minReplicas is 0", 0, 10, 1, 0, 0, DesiredWithinRange),
            case("maxReplicas is the limit because maxReplicas < scaleUpLimit", 1, 10, 20, 1000, 10, TooManyReplicas),
            case("desired replica count is more than the maximum replica count", 100, 150, 100, 1000, 150, TooManyReplicas),
            RuleCase {
                up: Some(rules(0, 0, 1, 60, 0)),
                // ceil(3 × 1.01) = 4
                ..case("scaleUpLimit is the limit because scaleUpLimit < maxReplicas with user policies", 1, 2000, 3, 1000, 4, ScaleUpLimit)
            },
            RuleCase {
                down: Some(rules(20, 60, 0, 0, 0)),
                // Skipped in Go (`testThis: true`) but its expectation holds: 1000 − 20 = 980.
                ..case("scaleDownLimit is the limit because scaleDownLimit > minReplicas with user defined policies", 3, 2000, 1000, 3, 980, ScaleDownLimit)
            },
            // Defaults: max(10 + 4, 10 × 2) = 20.
            case("scaleUp with default behavior", 1, 1000, 10, 50, 20, ScaleUpLimit),
            RuleCase { up: Some(rules(100, 60, 100, 60, 0)), ..case("scaleUp with pods policy larger than percent policy", 1, 1000, 10, 500, 110, ScaleUpLimit) },
            RuleCase { up: Some(rules(2, 60, 100, 60, 0)), ..case("scaleUp with percent policy larger than pods policy", 1, 1000, 10, 500, 20, ScaleUpLimit) },
            RuleCase { up: Some(rules(100, 60, 0, 0, 0)), ..case("scaleUp with spec MaxReplicas limitation with large pod policy", 1, 1000, 10, 50, 50, DesiredWithinRange) },
            RuleCase { up: Some(rules(10000, 60, 0, 0, 0)), ..case("scaleUp with spec MaxReplicas limitation with large percent policy", 1, 1000, 10, 50, 50, DesiredWithinRange) },
            RuleCase { up: Some(rules(30, 60, 0, 0, 0)), ..case("scaleUp with pod policy limitation", 1, 1000, 10, 50, 40, ScaleUpLimit) },
            RuleCase { up: Some(rules(0, 0, 200, 60, 0)), ..case("scaleUp with percent policy limitation", 1, 1000, 10, 50, 30, ScaleUpLimit) },
            RuleCase { down: Some(rules(20, 60, 1, 60, 300)), ..case("scaleDown with percent policy larger than pod policy", 1, 1000, 100, 2, 80, ScaleDownLimit) },
            RuleCase { down: Some(rules(2, 60, 1, 60, 300)), ..case("scaleDown with pod policy larger than percent policy", 1, 1000, 100, 2, 98, ScaleDownLimit) },
            RuleCase { down: Some(rules(100, 60, 0, 0, 300)), ..case("scaleDown with spec MinReplicas=nil limitation with large pod policy", 1, 1000, 10, 0, 1, TooFewReplicas) },
            RuleCase { down: Some(rules(0, 0, 100, 60, 300)), ..case("scaleDown with spec MinReplicas limitation with large percent policy", 5, 1000, 10, 2, 5, TooFewReplicas) },
            RuleCase { down: Some(rules(5, 60, 0, 0, 300)), ..case("scaleDown with pod policy limitation", 1, 1000, 10, 2, 5, ScaleDownLimit) },
            RuleCase { down: Some(rules(0, 0, 50, 60, 300)), ..case("scaleDown with percent policy limitation", 1, 1000, 10, 5, 5, DesiredWithinRange) },
            RuleCase {
                up_events: uniform(&[1, 5, 9], 120),
                up: Some(rules(300, 60, 0, 0, 0)),
                ..case("scaleUp with spec MaxReplicas limitation with large pod policy and events", 1, 200, 100, 500, 200, TooManyReplicas)
            },
            RuleCase {
                up_events: uniform(&[1, 5, 9], 120),
                up: Some(rules(0, 0, 10000, 60, 0)),
                ..case("scaleUp with spec MaxReplicas limitation with large percent policy and events", 1, 200, 100, 500, 200, TooManyReplicas)
            },
            RuleCase {
                up_events: uniform(&[1, 5, 9], 120),
                up: Some(rules(5, 120, 0, 0, 0)),
                // 120 s ago there were 100 − 15 = 85; 85 + 5 < 100, so no scale-up at all.
                ..case("scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent scale up events", 1, 1000, 100, 500, 100, ScaleUpLimit)
            },
            RuleCase {
                up_events: uniform(&[1, 5, 9], 120),
                up: Some(rules(150, 120, 0, 0, 0)),
                ..case("scaleUp with pod policy and previous scale up events", 1, 1000, 100, 500, 235, ScaleUpLimit)
            },
            RuleCase {
                up_events: uniform(&[1, 5, 9], 120),
                up: Some(rules(0, 0, 200, 120, 0)),
                ..case("scaleUp with percent policy and previous scale up events", 1, 1000, 100, 500, 255, ScaleUpLimit)
            },
            RuleCase {
                up_events: uniform(&[4], 120),
                down_events: uniform(&[2], 120),
                up: Some(rules(0, 0, 300, 300, 0)),
                // period start 6 − 4 + 2 = 4; ceil(4 × 4) = 16.
                ..case("scaleUp with percent policy and previous scale up and down events", 1, 1000, 6, 24, 16, ScaleUpLimit)
            },
            RuleCase {
                down_events: uniform(&[1, 5, 9], 120),
                ..case("scaleDown with default policy and previous events", 1, 1000, 10, 5, 5, DesiredWithinRange)
            },
            RuleCase {
                down_events: uniform(&[1, 5, 9], 120),
                down: Some(rules(115, 120, 0, 0, 300)),
                ..case("scaleDown with spec MinReplicas=nil limitation with large pod policy and previous events", 1, 1000, 100, 0, 1, TooFewReplicas)
            },
            RuleCase {
                down_events: uniform(&[1, 5, 9], 120),
                down: Some(rules(130, 120, 0, 0, 300)),
                ..case("scaleDown with spec MinReplicas limitation with large pod policy and previous events", 5, 1000, 100, 0, 5, TooFewReplicas)
            },
            RuleCase {
                down_events: uniform(&[1, 5, 9], 120),
                down: Some(rules(0, 0, 100, 120, 300)),
                ..case("scaleDown with spec MinReplicas limitation with large percent policy and previous events", 5, 1000, 100, 2, 5, TooFewReplicas)
            },
            RuleCase {
                down_events: uniform(&[1, 5, 9], 120),
                down: Some(rules(5, 120, 0, 0, 300)),
                ..case("scaleDown with pod policy limitation and previous events", 1, 1000, 100, 2, 100, ScaleDownLimit)
            },
            RuleCase {
                down_events: uniform(&[2, 4, 6], 120),
                down: Some(rules(0, 0, 50, 120, 300)),
                // (100 + 12) × 50 % = 56.
                ..case("scaleDown with percent policy limitation and previous events", 1, 1000, 100, 0, 56, ScaleDownLimit)
            },
            RuleCase {
                up_events: uniform(&[2], 120),
                down_events: uniform(&[4], 120),
                down: Some(rules(0, 0, 50, 180, 0)),
                ..case("scaleDown with percent policy and previous scale up and down events", 1, 1000, 10, 1, 6, ScaleDownLimit)
            },
            RuleCase {
                down_events: uniform(&[10, 10, 10], 120),
                down: Some(rules(0, 0, 10, 120, 300)),
                // (100 + 30) × 90 % = 117 > 100: keep 100.
                ..case("scaleDown with previous events preventing further scale down", 1, 1000, 100, 0, 100, ScaleDownLimit)
            },
            RuleCase {
                down_events: uniform(&[10, 10, 10], 120),
                down: Some(rules(0, 0, 1000, 120, 300)),
                ..case("scaleDown with with previous events still allowing more scale down", 1, 1000, 10, 5, 5, DesiredWithinRange)
            },
            RuleCase {
                up_events: uniform(&[8, 12, 9, 11], 120),
                up: Some(rules(1000, 60, 0, 0, 0)),
                ..case("check 'outdated' flag for events for one behavior for up", 1, 1000, 100, 200, 200, DesiredWithinRange)
            },
            RuleCase {
                up_events: uniform(&[8, 12, 9, 11], 120),
                up: Some(rules(1000, 120, 100, 60, 0)),
                ..case("check that events were not marked 'outdated' for two different policies in the behavior for up", 1, 1000, 100, 200, 200, DesiredWithinRange)
            },
            RuleCase {
                down_events: uniform(&[8, 12, 9, 11], 120),
                down: Some(rules(1000, 60, 0, 0, 300)),
                ..case("check 'outdated' flag for events for one behavior for down", 1, 1000, 100, 5, 5, DesiredWithinRange)
            },
        ];
        for c in &cases {
            let behavior = HpaBehavior {
                scale_up: c
                    .up
                    .clone()
                    .unwrap_or_else(ScalingRules::k8s_default_scale_up),
                scale_down: c
                    .down
                    .clone()
                    .unwrap_or_else(ScalingRules::k8s_default_scale_down),
            };
            let got = convert_with_behavior_rate(
                NOW,
                c.current,
                c.desired,
                c.min,
                c.max,
                &behavior,
                &c.up_events,
                &c.down_events,
            );
            assert_eq!(
                got,
                (c.expected, c.reason),
                "TestScalingWithRules/{}",
                c.name
            );
        }
    }

    /// An event exactly one period old no longer counts (Go: `timestamp.After(now − period)`).
    /// horizontal_test.go `TestStoreScaleEvents` "one outdated entry to be replaced with behavior"
    /// (61 s old, period 60: 0) and "one actual entry to be not touched with behavior" (58 s: 7).
    #[test]
    fn k8s_test_store_scale_events_period_edges() {
        let p = secs(60);
        assert_eq!(
            replicas_change_per_period(
                NOW,
                p,
                &[ScaleEvent {
                    at: ago(61),
                    change: 7
                }]
            ),
            0
        );
        assert_eq!(
            replicas_change_per_period(
                NOW,
                p,
                &[ScaleEvent {
                    at: ago(58),
                    change: 7
                }]
            ),
            7
        );
        // "two entries, one of them to be replaced": 61 s (7) and 59 s (6) → 6.
        let two = [
            ScaleEvent {
                at: ago(61),
                change: 7,
            },
            ScaleEvent {
                at: ago(59),
                change: 6,
            },
        ];
        assert_eq!(replicas_change_per_period(NOW, p, &two), 6);
        // The exact edge: 60 s old is out.
        assert_eq!(
            replicas_change_per_period(
                NOW,
                p,
                &[ScaleEvent {
                    at: ago(60),
                    change: 7
                }]
            ),
            0
        );
    }

    /// A recommendation history as (replicas, seconds ago).
    type History = &'static [(i32, u64)];

    fn recs(list: &[(i32, u64)]) -> Vec<Recommendation> {
        list.iter()
            .map(|&(replicas, back)| Recommendation {
                at: ago(back),
                replicas,
            })
            .collect()
    }

    /// horizontal_test.go `TestNormalizeDesiredReplicasWithBehavior`
    /// (`stabilizeRecommendationWithBehaviors`); windows not set in a case are 0, as in Go.
    #[test]
    fn k8s_test_normalize_desired_replicas_with_behavior() {
        // (name, history (replicas, seconds ago), current, desired, up window, down window, expected)
        let cases: &[(&str, History, i32, i32, u64, u64, i32)] = &[
            (
                "empty recommendations for scaling down",
                &[],
                100,
                5,
                0,
                0,
                5,
            ),
            (
                "simple scale down stabilization",
                &[(4, 120), (5, 60)],
                100,
                3,
                0,
                180,
                5,
            ),
            (
                "simple scale up stabilization",
                &[(4, 120), (5, 60)],
                1,
                7,
                300,
                0,
                4,
            ),
            (
                "no scale down stabilization",
                &[(1, 120), (2, 60)],
                100,
                3,
                300,
                0,
                3,
            ),
            (
                "no scale up stabilization",
                &[(4, 120), (5, 60)],
                1,
                3,
                0,
                300,
                3,
            ),
            (
                "no scale down stabilization, reuse recommendation element",
                &[(10, 600), (9, 540)],
                100,
                3,
                0,
                0,
                3,
            ),
            (
                "no scale up stabilization, reuse recommendation element",
                &[(10, 600), (9, 540)],
                1,
                100,
                0,
                0,
                100,
            ),
            (
                "scale down stabilization, reuse one of obsolete recommendation element",
                &[(10, 600), (4, 60), (5, 120), (9, 540)],
                100,
                3,
                0,
                180,
                5,
            ),
            (
                "scale up stabilization, reuse one of obsolete recommendation element",
                &[(10, 6000), (6, 60), (5, 120), (9, 180)],
                1,
                100,
                300,
                0,
                5,
            ),
            (
                "scale up and down stabilization, do not scale up when prenormalized rec goes down",
                &[(2, 6000), (3, 180)],
                2,
                1,
                300,
                300,
                2,
            ),
            (
                "scale up and down stabilization, do not scale down when prenormalized rec goes up",
                &[(2, 6000), (1, 180)],
                2,
                3,
                300,
                300,
                2,
            ),
        ];
        for &(name, history, current, desired, up, down, expected) in cases {
            let got = stabilize_with_behavior(
                NOW,
                current,
                desired,
                secs(up),
                secs(down),
                &recs(history),
            );
            assert_eq!(
                got, expected,
                "TestNormalizeDesiredReplicasWithBehavior/{name}"
            );
        }
    }

    /// horizontal_test.go `TestNormalizeDesiredReplicas` (`stabilizeRecommendation`, no
    /// behavior, `downscaleStabilisationWindow: 5 * time.Minute`).
    #[test]
    fn k8s_test_normalize_desired_replicas_legacy() {
        let w = secs(300);
        let cases: &[(&str, History, i32, i32)] = &[
            ("empty log", &[], 5, 5),
            ("stabilize", &[(4, 120), (5, 60)], 3, 5),
            ("no stabilize", &[(1, 120), (2, 60)], 3, 3),
            (
                "no stabilize - old recommendations",
                &[(10, 600), (9, 540)],
                3,
                3,
            ),
            (
                "stabilize - old recommendations",
                &[(10, 600), (4, 60), (5, 120), (9, 540)],
                3,
                5,
            ),
        ];
        for &(name, history, desired, expected) in cases {
            assert_eq!(
                stabilize_legacy(NOW, desired, w, &recs(history)),
                expected,
                "TestNormalizeDesiredReplicas/{name}"
            );
        }
    }

    /// Without behavior the scale-up cap is `max(2 × current, 4)` and there is no scale-down
    /// rate limit (horizontal.go `calculateScaleUpLimit`, `convertDesiredReplicasWithRules`).
    #[test]
    fn legacy_rules_cap_scale_up_at_double_or_four() {
        assert_eq!(legacy_scale_up_limit(1), 4);
        assert_eq!(legacy_scale_up_limit(3), 6);
        assert_eq!(
            convert_with_rules(1, 100, 1, 50),
            (4, LimitReason::ScaleUpLimit)
        );
        assert_eq!(
            convert_with_rules(30, 100, 1, 50),
            (50, LimitReason::TooManyReplicas)
        );
        assert_eq!(
            convert_with_rules(30, 2, 1, 50),
            (2, LimitReason::DesiredWithinRange)
        );
        assert_eq!(
            convert_with_rules(30, 0, 3, 50),
            (3, LimitReason::TooFewReplicas)
        );
    }

    /// selectPolicy Min picks the smaller change, Disabled forbids the direction
    /// (hand-derived: current 10, Pods 4 / Percent 100 per 15 s).
    #[test]
    fn select_policy_min_and_disabled() {
        let mut up = ScalingRules::k8s_default_scale_up();
        assert_eq!(scale_up_limit(NOW, 10, &[], &[], &up), 20);
        up.select_policy = SelectPolicy::Min;
        assert_eq!(scale_up_limit(NOW, 10, &[], &[], &up), 14);
        up.select_policy = SelectPolicy::Disabled;
        assert_eq!(scale_up_limit(NOW, 10, &[], &[], &up), 10);
        // Scale-down, Pods 2 / Percent 50: Max change → min(8, 5) = 5; Min change → max(8, 5) = 8.
        let mut down = rules(2, 60, 50, 60, 0);
        assert_eq!(scale_down_limit(NOW, 10, &[], &[], &down), 5);
        down.select_policy = SelectPolicy::Min;
        assert_eq!(scale_down_limit(NOW, 10, &[], &[], &down), 8);
        let behavior = HpaBehavior {
            scale_up: ScalingRules::k8s_default_scale_up(),
            scale_down: ScalingRules {
                select_policy: SelectPolicy::Disabled,
                ..down
            },
        };
        assert_eq!(
            convert_with_behavior_rate(NOW, 10, 2, 1, 100, &behavior, &[], &[]),
            (10, LimitReason::ScaleDownLimit)
        );
    }
}
