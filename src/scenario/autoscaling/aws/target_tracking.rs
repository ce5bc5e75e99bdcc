//! `[[pool.autoscaling.target_tracking]]`: a target tracking policy (`PutScalingPolicy`,
//! `TargetTrackingConfiguration`).

use super::policy::{read_aws_metric, read_estimated_warmup, read_name};
use crate::model::autoscale::spec::TargetTrackingSpec;
use crate::scenario::reader::{store, Located, Node, Reader};

pub fn read_target_tracking(
    r: &mut Reader<'_>,
    node: Node<'_, '_>,
) -> (Option<Located<String>>, Option<TargetTrackingSpec>) {
    let Some(mut f) = r.table(
        node,
        "a target tracking table such as { metric = \"utilization\", target = 60 }",
    ) else {
        return (None, None);
    };
    let name = read_name(r, &mut f);
    let metric = read_aws_metric(r, &mut f, "utilization");
    let target = f
        .required(
            r,
            "target",
            "set the value to hold the metric at, such as target = 60",
        )
        .and_then(|n| r.positive(&n, true));
    let mut disable_scale_in = false;
    let disable = f.get("disable_scale_in").map(|n| r.boolean(&n));
    let disable_ok = store(&mut disable_scale_in, disable.map(|v| v.map(|v| v.value)));
    let warmup = read_estimated_warmup(r, &mut f);
    f.finish(r);
    let spec = (|| {
        Some(TargetTrackingSpec {
            metric: metric?,
            target: target?.value,
            disable_scale_in: disable_ok.then_some(disable_scale_in)?,
            estimated_instance_warmup: warmup?,
        })
    })();
    (name, spec)
}
