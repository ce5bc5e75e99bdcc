//! Step and simple scaling policies (`PutScalingPolicy`, `StepAdjustment`): their adjustments,
//! and the API's rules on step ranges.

use super::alarm::read_alarm;
use super::policy::{read_estimated_warmup, read_name};
use crate::model::autoscale::capacity::AdjustmentType;
use crate::model::autoscale::spec::{SimpleSpec, StepSpec};
use crate::model::autoscale::step::{StepAdjustment, DEFAULT_COOLDOWN};
use crate::scenario::autoscaling::scaling_keys::{read_optional_timing, Timing};
use crate::scenario::lifecycle::MAX_INSTANCES;
use crate::scenario::reader::keys::{Key, Kind, Nested, Number, OneOf, Whole};
use crate::scenario::reader::{Fields, Located, Node, Reader};
use crate::time::SimDuration;

const ADJUSTMENT_TYPES: &[&str] = &[
    "change_in_capacity",
    "exact_capacity",
    "percent_change_in_capacity",
];

/// `adjustment_type` and `min_adjustment_magnitude` (only with a percent change, as in
/// `PutScalingPolicy`: "Valid only if the policy type is StepScaling or SimpleScaling and the
/// adjustment type is PercentChangeInCapacity").
pub fn read_adjustment_type(r: &mut Reader<'_>, f: &mut Fields<'_, '_>) -> Option<AdjustmentType> {
    let kind = match f.read_given(r, &ADJUSTMENT_TYPE) {
        None => Some("change_in_capacity"),
        Some(k) => k.map(|k| k.value),
    };
    let magnitude = f.read_given(r, &MIN_ADJUSTMENT_MAGNITUDE);
    match (kind?, magnitude) {
        ("percent_change_in_capacity", m) => Some(AdjustmentType::PercentChangeInCapacity {
            min_adjustment_magnitude: match m {
                None => None,
                Some(m) => Some(m?.value as u32),
            },
        }),
        (kind, Some(Some(m))) => {
            r.error(
                &m,
                format!("min_adjustment_magnitude applies only to percent_change_in_capacity, not to {kind}"),
                Some("remove min_adjustment_magnitude, or set adjustment_type = \"percent_change_in_capacity\"".into()),
            );
            None
        }
        (_, Some(None)) => None,
        ("exact_capacity", None) => Some(AdjustmentType::ExactCapacity),
        (_, None) => Some(AdjustmentType::ChangeInCapacity),
    }
}

/// The `adjustment` of a step or simple policy: a whole number (`ScalingAdjustment`),
/// non-negative for exact capacity ("For exact capacity, you must specify a non-negative
/// value").
pub fn check_adjustment(
    r: &mut Reader<'_>,
    adjustment: Located<i64>,
    kind: Option<AdjustmentType>,
) -> Option<i32> {
    if kind == Some(AdjustmentType::ExactCapacity) && adjustment.value < 0 {
        r.error(
            &adjustment,
            format!(
                "an exact capacity cannot be negative, found {}",
                adjustment.value
            ),
            Some("give the capacity to set, 0 or more (AWS requires it)".into()),
        );
        return None;
    }
    Some(adjustment.value as i32)
}

/// A `ScalingAdjustment`: a whole number that fits an `i32`.
#[derive(Debug, Clone, Copy)]
struct Adjustment;

impl Kind for Adjustment {
    type Value = i64;
    fn read(&self, r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<Located<i64>> {
        r.signed(&node, i64::from(i32::MIN), i64::from(i32::MAX))
    }
}

const ADJUSTMENT_TYPE: Key<OneOf> = Key::optional("adjustment_type", OneOf(ADJUSTMENT_TYPES));
const MIN_ADJUSTMENT_MAGNITUDE: Key<Whole> =
    Key::optional("min_adjustment_magnitude", Whole(1, MAX_INSTANCES));
const SIMPLE_ADJUSTMENT: Key<Adjustment> = Key::required(
    "adjustment",
    Adjustment,
    "say how much the policy changes the capacity, such as adjustment = 2",
);
const STEP_ADJUSTMENT: Key<Adjustment> = Key::required(
    "adjustment",
    Adjustment,
    "say how much this step changes the capacity, such as adjustment = 2",
);
const STEPS: Key<Nested> = Key::required(
    "steps",
    Nested,
    "list the step adjustments, such as steps = [{ lower = 0, upper = 10, adjustment = 1 }, { lower = 10, adjustment = 3 }]",
);
const LOWER: Key<Number> = Key::optional("lower", Number);
const UPPER: Key<Number> = Key::optional("upper", Number);

pub fn read_step(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    period: SimDuration,
) -> (Option<Located<String>>, Option<StepSpec>) {
    let Some(mut f) = r.table(
        node,
        "a step scaling table such as { metric = \"utilization\", comparison = \">=\", threshold = 80, steps = [...] }",
    ) else {
        return (None, None);
    };
    let name = read_name(r, &mut f);
    let alarm = read_alarm(r, &mut f, period);
    let adjustment_type = read_adjustment_type(r, &mut f);
    let warmup = read_estimated_warmup(r, &mut f);
    let steps = f
        .node(r, &STEPS)
        .and_then(|n| read_steps(r, n, adjustment_type));
    f.finish(r);
    let spec = (|| {
        Some(StepSpec {
            alarm: alarm?,
            adjustment_type: adjustment_type?,
            steps: steps?,
            estimated_instance_warmup: warmup?,
        })
    })();
    (name, spec)
}

/// One step as written, with where its parts are.
pub struct RawStep {
    at: Located<()>,
    index: usize,
    lower: Option<Located<f64>>,
    upper: Option<Located<f64>>,
}

impl RawStep {
    fn lower(&self) -> Option<f64> {
        self.lower.as_ref().map(|l| l.value)
    }

    fn upper(&self) -> Option<f64> {
        self.upper.as_ref().map(|u| u.value)
    }

    /// `steps[2] (10 to 20)`, for messages.
    fn describe(&self) -> String {
        let range = match (self.lower(), self.upper()) {
            (Some(l), Some(u)) => format!("{l} to {u}"),
            (None, Some(u)) => format!("below {u}"),
            (Some(l), None) => format!("{l} and above"),
            (None, None) => "everything".into(),
        };
        format!("steps[{}] ({range})", self.index)
    }

    /// Where to point for a problem with its lower bound: the bound, else the step.
    fn lower_at(&self) -> Located<()> {
        self.lower
            .as_ref()
            .map_or_else(|| self.at.clone(), Located::at)
    }
}

/// `steps = [{ lower, upper, adjustment }, ...]`, bounds relative to the alarm threshold.
pub fn read_steps(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    kind: Option<AdjustmentType>,
) -> Option<Vec<StepAdjustment>> {
    let at = node.at();
    let items = r.array(
        &node,
        "an array of steps such as [{ lower = 0, upper = 10, adjustment = 1 }]",
    )?;
    if items.is_empty() {
        r.error(
            &at,
            "a step policy needs at least one step",
            Some("such as steps = [{ lower = 0, adjustment = 1 }]".into()),
        );
        return None;
    }
    let mut ok = true;
    let mut raw = Vec::new();
    let mut steps = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        let at = item.at();
        let Some(mut f) = r.table(
            item,
            "a step such as { lower = 0, upper = 10, adjustment = 1 }",
        ) else {
            ok = false;
            continue;
        };
        let lower = f.read_given(r, &LOWER);
        let upper = f.read_given(r, &UPPER);
        let adjustment = f
            .read(r, &STEP_ADJUSTMENT)
            .and_then(|a| check_adjustment(r, a, kind));
        f.finish(r);
        let (Some(lower), Some(upper), Some(adjustment)) = (
            lower.map_or(Some(None), |l| l.map(Some)),
            upper.map_or(Some(None), |u| u.map(Some)),
            adjustment,
        ) else {
            ok = false;
            continue;
        };
        steps.push(StepAdjustment {
            lower: lower.as_ref().map(|l| l.value),
            upper: upper.as_ref().map(|u| u.value),
            adjustment,
        });
        raw.push(RawStep {
            at,
            index,
            lower,
            upper,
        });
    }
    // The ranges are judged only when every step could be read.
    (ok && check_steps(r, &raw)).then_some(steps)
}

/// The API's rules on step ranges (`StepAdjustment`, API reference): "The ranges of your step
/// adjustments can't overlap or have a gap. At most, one step adjustment can have a null lower
/// bound. If one step adjustment has a negative lower bound, then there must be a step
/// adjustment with a null lower bound. At most, one step adjustment can have a null upper
/// bound. If one step adjustment has a positive upper bound, then there must be a step
/// adjustment with a null upper bound. The upper and lower bound can't be null in the same
/// step adjustment." And the upper bound "must be greater than the lower bound".
fn check_steps(r: &mut Reader<'_>, steps: &[RawStep]) -> bool {
    bounds_in_order(r, steps) && open_ends_allowed(r, steps) && ranges_contiguous(r, steps)
}

/// Each step has a bound, and its upper bound above its lower (each misfit reported).
fn bounds_in_order(r: &mut Reader<'_>, steps: &[RawStep]) -> bool {
    let mut ok = true;
    for s in steps {
        match (&s.lower, &s.upper) {
            (None, None) => {
                r.error(
                    &s.at,
                    format!("steps[{}] has neither a lower nor an upper bound", s.index),
                    Some("give it lower, upper or both (AWS: the upper and lower bound can't both be null)".into()),
                );
                ok = false;
            }
            (Some(l), Some(u)) if u.value <= l.value => {
                r.error(
                    u,
                    format!(
                        "steps[{}]: upper ({}) must be above lower ({})",
                        s.index, u.value, l.value
                    ),
                    Some(
                        "bounds are the metric minus the threshold: the step covers lower to upper"
                            .into(),
                    ),
                );
                ok = false;
            }
            _ => {}
        }
    }
    ok
}

/// At most one step open below and one open above, and one of each where a step starts below
/// or ends above the threshold (each misfit reported).
fn open_ends_allowed(r: &mut Reader<'_>, steps: &[RawStep]) -> bool {
    let mut ok = true;
    let open_below: Vec<&RawStep> = steps.iter().filter(|s| s.lower.is_none()).collect();
    let open_above: Vec<&RawStep> = steps.iter().filter(|s| s.upper.is_none()).collect();
    for (open, side) in [(&open_below, "lower"), (&open_above, "upper")] {
        if let [first, second, ..] = open[..] {
            r.error(
                &second.at,
                format!(
                    "{} and {} both have no {side} bound",
                    first.describe(),
                    second.describe()
                ),
                Some(format!(
                    "AWS allows one step without a {side} bound: give one of them a {side} bound"
                )),
            );
            ok = false;
        }
    }
    if let Some(l) = steps
        .iter()
        .filter_map(|s| s.lower.as_ref())
        .find(|l| l.value < 0.0)
        .filter(|_| open_below.is_empty())
    {
        r.error(
            l,
            format!(
                "a step starts below the threshold (lower = {}), but no step covers the metric below it",
                l.value
            ),
            Some("AWS requires a step without lower bound when a step has a negative lower bound: leave lower out of the lowest step".into()),
        );
        ok = false;
    }
    if let Some(u) = steps
        .iter()
        .filter_map(|s| s.upper.as_ref())
        .find(|u| u.value > 0.0)
        .filter(|_| open_above.is_empty())
    {
        r.error(
            u,
            format!(
                "a step ends above the threshold (upper = {}), but no step covers the metric above it",
                u.value
            ),
            Some("AWS requires a step without upper bound when a step has a positive upper bound: leave upper out of the highest step".into()),
        );
        ok = false;
    }
    ok
}

/// In order of lower bound (none first), each step ends where the next begins (each gap or
/// overlap reported).
fn ranges_contiguous(r: &mut Reader<'_>, steps: &[RawStep]) -> bool {
    let mut ok = true;
    let mut sorted: Vec<&RawStep> = steps.iter().collect();
    sorted.sort_by(|a, b| {
        let key = |s: &RawStep| s.lower().unwrap_or(f64::NEG_INFINITY);
        key(a).total_cmp(&key(b))
    });
    for pair in sorted.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let end = a.upper().unwrap_or(f64::INFINITY);
        let start = b.lower().unwrap_or(f64::NEG_INFINITY);
        if end == start {
            continue;
        }
        let message = if end > start {
            format!("{} and {} overlap", a.describe(), b.describe())
        } else {
            format!(
                "there is a gap between {} and {}: no step covers {end} to {start}",
                a.describe(),
                b.describe()
            )
        };
        r.error(
            &b.lower_at(),
            message,
            Some("make each step's lower bound the upper bound of the step below it (AWS: step ranges can't overlap or have a gap)".into()),
        );
        ok = false;
    }
    ok
}

pub fn read_simple(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
    period: SimDuration,
) -> (Option<Located<String>>, Option<SimpleSpec>) {
    let Some(mut f) = r.table(
        node,
        "a simple scaling table such as { metric = \"utilization\", comparison = \">=\", threshold = 80, adjustment = 2 }",
    ) else {
        return (None, None);
    };
    let name = read_name(r, &mut f);
    let alarm = read_alarm(r, &mut f, period);
    let adjustment_type = read_adjustment_type(r, &mut f);
    let adjustment = f
        .read(r, &SIMPLE_ADJUSTMENT)
        .and_then(|a| check_adjustment(r, a, adjustment_type));
    let cooldown = read_optional_timing(
        r,
        &mut f,
        "cooldown",
        DEFAULT_COOLDOWN,
        Timing::seconds(0, None, " (AWS Cooldown, in seconds)"),
    );
    f.finish(r);
    let spec = (|| {
        Some(SimpleSpec {
            alarm: alarm?,
            adjustment_type: adjustment_type?,
            adjustment: adjustment?,
            cooldown: cooldown?,
        })
    })();
    (name, spec)
}
