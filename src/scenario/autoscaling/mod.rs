//! `[pool.autoscaling]`: the group's bounds and the one controller that scales it — the AWS
//! policies ([`super::aws_policies`]), a Kubernetes HPA or KEDA ([`super::kubernetes`]) — read
//! into an [`AutoscalingSpec`], with the real systems' own rules checked where the table is
//! read. Also the metric names and statistics the policies share.
//!
//! It must not know the rest of the pool: its instances, warm pool and termination policy are
//! checked against the bounds in `validate.rs`.

pub mod aws;
pub mod kubernetes;
pub mod scaling_keys;

use crate::model::autoscale::spec::{AutoscalingSpec, Controller};
use crate::scenario::autoscaling::scaling_keys::min_within_max;
use crate::scenario::lifecycle::MAX_INSTANCES;
use crate::scenario::reader::keys::{Key, Whole};
use crate::scenario::reader::{Fields, Located, Node, Reader};
use aws::settings::read_aws_settings;
use aws::AWS_POLICY_KEYS;

/// Group settings only the AWS policies read.
const AWS_SETTING_KEYS: &[&str] = &[
    "metric_period",
    "metric_lag",
    "instance_warmup",
    "default_cooldown",
];

/// The controllers a pool can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Aws,
    Hpa,
    Keda,
}

impl Family {
    /// The family a key of `[pool.autoscaling]` belongs to.
    fn of(key: &str) -> Family {
        match key {
            "hpa" => Family::Hpa,
            "keda" => Family::Keda,
            _ => Family::Aws,
        }
    }

    /// How messages name it.
    fn name(self) -> &'static str {
        match self {
            Family::Aws => "the AWS policies",
            Family::Hpa => "hpa",
            Family::Keda => "keda",
        }
    }

    /// Its own timing keys, for messages.
    fn timing(self) -> &'static str {
        match self {
            Family::Aws => "metric_period, metric_lag, instance_warmup, default_cooldown",
            Family::Hpa => "sync_period, scrape_interval",
            Family::Keda => "polling_interval, cooldown_period, sync_period",
        }
    }
}

/// The group's bounds.
const MIN: Key<Whole> = Key::required(
    "min",
    Whole(0, MAX_INSTANCES),
    "set the group's smallest size, such as min = 1",
);
const MAX: Key<Whole> = Key::required(
    "max",
    Whole(1, MAX_INSTANCES),
    "set the group's largest size, such as max = 10",
);

/// Reads `[pool.autoscaling]`: its bounds, and the one controller it names, whose own keys
/// its reader checks.
pub fn read(r: &mut Reader<'_>, node: Node<'_, '_>) -> Option<AutoscalingSpec> {
    let at = node.at();
    let mut f = r.table(
        node,
        "an autoscaling table such as [pool.autoscaling] min = 1 max = 10",
    )?;
    let min = f.read(r, &MIN);
    let max = f.read(r, &MAX);
    let mut ok = min_within_max(r, min.as_ref(), max.as_ref());
    let bounds = min
        .as_ref()
        .zip(max.as_ref())
        .map(|(lo, hi)| (lo.value as u32, hi.value as u32));

    // Every key is asked for before any is judged, so that none is reported as unknown.
    let settings = present(&mut f, AWS_SETTING_KEYS);
    let aws = present(&mut f, AWS_POLICY_KEYS);
    let hpa = f.get("hpa");
    let keda = f.get("keda");
    f.finish(r);

    // The controllers present, each at the first key that names it, in file order.
    let mut families: Vec<(Family, Located<()>)> = Vec::new();
    if let Some((_, n)) = aws.iter().min_by_key(|(_, n)| n.span()) {
        families.push((Family::Aws, n.at()));
    }
    for (key, n) in [("hpa", &hpa), ("keda", &keda)] {
        if let Some(n) = n {
            families.push((Family::of(key), n.at()));
        }
    }
    let family = one_family(r, &at, families, &mut ok)?;
    let aws_settings = if family == Family::Aws {
        read_aws_settings(r, settings)
    } else {
        ok &= no_aws_settings(r, family, &settings);
        None
    };
    if let Some(lo) = min
        .as_ref()
        .filter(|lo| lo.value == 0 && family == Family::Hpa)
    {
        r.error(
            lo,
            "the HPA keeps at least one replica, so min must be at least 1",
            Some(
                "set min = 1, or scale to zero with [pool.autoscaling.keda] (the HPA's \
                 minReplicas = 0 needs the alpha HPAScaleToZero feature gate)"
                    .into(),
            ),
        );
        ok = false;
    }

    // Each controller present is read, so that the mistakes inside each are reported too.
    let aws = (!aws.is_empty()).then(|| aws::read(r, aws, aws_settings));
    let hpa = hpa.map(|n| kubernetes::hpa::read_hpa(r, n));
    let keda = keda.map(|n| kubernetes::keda::read_keda(r, n, bounds));
    let controller = match (aws, hpa, keda) {
        (Some(Some(aws)), None, None) => Controller::Aws(aws),
        (None, Some(Some(hpa)), None) => Controller::Hpa(hpa),
        (None, None, Some(Some(keda))) => Controller::Keda(keda),
        _ => return None,
    };
    let (min, max) = bounds?;
    ok.then_some(AutoscalingSpec {
        min,
        max,
        controller,
    })
}

/// The family that scales the pool: the first in the file of `families` (the controllers
/// present, each at the first key naming it). None is an error at `at`; each other one is an
/// error too (and clears `ok`).
fn one_family(
    r: &mut Reader<'_>,
    at: &Located<()>,
    mut families: Vec<(Family, Located<()>)>,
    ok: &mut bool,
) -> Option<Family> {
    families.sort_by_key(|(_, at)| at.span);
    let Some(&(family, _)) = families.first() else {
        r.error(
            at,
            "this autoscaling table has no scaling policy",
            Some(
                "give a policy: [[pool.autoscaling.target_tracking]] (or step, simple, scheduled, \
                 predictive), [pool.autoscaling.hpa] or [pool.autoscaling.keda]"
                    .into(),
            ),
        );
        return None;
    };
    for (other, at) in &families[1..] {
        r.error(
            at,
            format!(
                "{} and {} both scale this pool",
                other.name(),
                family.name()
            ),
            Some(
                "a pool has one autoscaler: keep the AWS policies (target_tracking, step, simple, \
                 scheduled, predictive, in any mix), or hpa, or keda"
                    .into(),
            ),
        );
        *ok = false;
    }
    Some(family)
}

/// Reports each AWS group setting given to `family`, another controller; true if there are
/// none.
fn no_aws_settings(
    r: &mut Reader<'_>,
    family: Family,
    settings: &[(&'static str, Node<'_, '_>)],
) -> bool {
    for (key, n) in settings {
        r.error(
            &n.at(),
            format!(
                "{key} is a setting of the AWS policies, not of {}",
                family.name()
            ),
            Some(format!(
                "remove {key}; {} sets its own timing ({})",
                family.name(),
                family.timing()
            )),
        );
    }
    settings.is_empty()
}

/// The nodes of those of `keys` that `f` has, asked for (so that none is unknown).
fn present<'a, 'de>(
    f: &mut Fields<'a, 'de>,
    keys: &[&'static str],
) -> Vec<(&'static str, Node<'a, 'de>)> {
    keys.iter()
        .filter_map(|k| f.get(k).map(|n| (*k, n)))
        .collect()
}
