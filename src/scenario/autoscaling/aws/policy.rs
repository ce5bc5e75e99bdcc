//! What the AWS policies share: a list of named policies, the `metric` and `statistic` keys,
//! and `EstimatedInstanceWarmup`.

use crate::model::autoscale::metrics_pipeline::Statistic;
use crate::model::autoscale::spec::{AwsMetric, MetricKind};
use crate::scenario::autoscaling::scaling_keys::{
    read_metric, read_optional_timing, read_statistic, Timing,
};
use crate::scenario::reader::{check_unique, Fields, Located, Node, Reader};
use crate::time::SimDuration;

/// `EstimatedInstanceWarmup` of a target tracking or step policy: whole seconds, 0 or more.
pub fn read_estimated_warmup(
    r: &mut Reader<'_>,
    f: &mut Fields<'_, '_>,
) -> Option<Option<SimDuration>> {
    read_optional_timing(
        r,
        f,
        "estimated_instance_warmup",
        SimDuration::from_secs(300),
        Timing::seconds(0, None, " (AWS EstimatedInstanceWarmup, in seconds)"),
    )
}

/// An array of policy tables (`[[pool.autoscaling.step]]`), each read by `read_one`; the
/// optional names must differ (variants merge policies by name).
pub fn read_policies<'a, 'de, T>(
    r: &mut Reader<'_>,
    node: Node<'a, 'de>,
    key: &str,
    what: &str,
    mut read_one: impl FnMut(&mut Reader<'_>, Node<'a, 'de>) -> (Option<Located<String>>, Option<T>),
) -> Option<Vec<T>> {
    let items = r.array(
        &node,
        &format!("an array of tables, written [[pool.autoscaling.{key}]]"),
    )?;
    let mut ok = true;
    let mut names = Vec::new();
    let mut policies = Vec::new();
    for item in items {
        let (name, policy) = read_one(r, item);
        names.extend(name);
        match policy {
            Some(p) => policies.push(p),
            None => ok = false,
        }
    }
    let names: Vec<&Located<String>> = names.iter().collect();
    ok &= check_unique(
        r,
        &names,
        what,
        "give each its own name (variants change one by its name)",
    );
    ok.then_some(policies)
}

/// The optional `name` of a policy or action.
pub fn read_name(r: &mut Reader<'_>, f: &mut Fields<'_, '_>) -> Option<Located<String>> {
    f.get("name").and_then(|n| r.name(&n))
}

/// `metric` and `statistic`: the statistic defaults to Average, Sum for
/// `request_count_per_target` (ALB's `RequestCountPerTarget` is a sum per period).
pub fn read_aws_metric(
    r: &mut Reader<'_>,
    f: &mut Fields<'_, '_>,
    example: &str,
) -> Option<AwsMetric> {
    let kind = read_metric(r, f, example);
    let statistic = f.get("statistic").map(|n| read_statistic(r, n));
    let kind = kind?.value;
    let statistic = match statistic {
        Some(s) => s?,
        None if kind == MetricKind::RequestCountPerTarget => Statistic::Sum,
        None => Statistic::Average,
    };
    Some(AwsMetric { kind, statistic })
}
