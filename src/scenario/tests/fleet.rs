//! Pools' lifecycle keys (startup, warm pools, launches, termination), queues, faults, mixed
//! instances, failures and shortages.

use super::*;

#[test]
fn warm_pool_startup_and_launch_read_every_key() {
    let p = pool(
        r#"instances = 4
termination_policy = "oldest_instance"
deregistration_delay = "0s"
[pool.startup]
boot = "90s"
model_load = { distribution = "lognormal", mean = "60s", cv = 0.2 }
warm_up = { distribution = "constant", value = "20s" }
[pool.warm_pool]
min_size = 2
max_prepared_capacity = 10
state = "hibernated"
reuse_on_scale_in = true
storage_price = "$0.011/h"
[pool.launch]
failure_probability = 0.1
retry_after = "30s"
per_minute = 20
[pool.autoscaling]
min = 2
max = 30
[[pool.autoscaling.target_tracking]]
metric = "utilization"
target = 60
"#,
    );
    assert_eq!(
        p.startup,
        StartupSpec {
            boot: ServiceTime::Constant { nanos: 90e9 },
            model_load: ServiceTime::lognormal(60.0, 0.2),
            warm_up: ServiceTime::Constant { nanos: 20e9 },
            model_load_from: None,
        }
    );
    assert_eq!(
        p.warm_pool,
        Some(WarmPoolSpec {
            min_size: 2,
            max_prepared_capacity: Some(10),
            state: InstanceState::WarmHibernated,
            reuse_on_scale_in: true,
            storage_price_per_hour: 0.011,
        })
    );
    assert_eq!(
        p.launch,
        LaunchSpec {
            failure_probability: 0.1,
            retry_after: secs(30),
            per_minute: Some(20),
        }
    );
    assert_eq!(p.termination_policy, TerminationPolicy::OldestInstance);
    assert_eq!(p.deregistration_delay, SimDuration::ZERO);
}

#[test]
fn lifecycle_defaults() {
    let fixed = pool("instances = 2\n");
    assert_eq!(fixed.startup, StartupSpec::instant());
    assert_eq!(fixed.deregistration_delay, DEFAULT_DEREGISTRATION_DELAY);
    assert_eq!(fixed.termination_policy, TerminationPolicy::AwsDefault);
    assert_eq!(fixed.warm_pool, None);
    assert_eq!(fixed.launch, LaunchSpec::default());
    assert_eq!((fixed.autoscaling, fixed.queue), (None, None));
    // An absent phase takes no time; the others are read.
    let partial = pool("instances = 2\n[pool.startup]\nmodel_load = \"2m\"\n");
    assert_eq!(
        partial.startup,
        StartupSpec {
            model_load: ServiceTime::Constant { nanos: 120e9 },
            ..StartupSpec::instant()
        }
    );
    let warm = pool(
        "[pool.warm_pool]\n[pool.autoscaling]\nmin = 1\nmax = 3\n\
         [[pool.autoscaling.target_tracking]]\nmetric = \"utilization\"\ntarget = 50\n",
    );
    assert_eq!(
        warm.warm_pool,
        Some(WarmPoolSpec {
            min_size: 0,
            max_prepared_capacity: None,
            state: InstanceState::WarmStopped,
            reuse_on_scale_in: false,
            storage_price_per_hour: 0.0,
        })
    );
    // AWS policies drain within ELB's 300 s; a pod an HPA or KEDA removes gets Kubernetes'
    // terminationGracePeriodSeconds, 30 s, unless the pool says otherwise.
    assert_eq!(warm.deregistration_delay, DEFAULT_DEREGISTRATION_DELAY);
    let hpa = pool("[pool.autoscaling]\nmin = 1\nmax = 4\n[pool.autoscaling.hpa]\n");
    assert_eq!(hpa.deregistration_delay, secs(30));
    let keda = pool(
        "[pool.autoscaling]\nmin = 0\nmax = 4\n[pool.autoscaling.keda]\n\
         triggers = [{ metric = \"queue_depth\", target = 5 }]\n",
    );
    assert_eq!(keda.deregistration_delay, secs(30));
    let set = pool(
        "deregistration_delay = \"600s\"\n[pool.autoscaling]\nmin = 1\nmax = 4\n\
         [pool.autoscaling.hpa]\n",
    );
    assert_eq!(set.deregistration_delay, secs(600));
}

#[test]
fn a_queue_driven_pool_takes_the_queues_capacity_and_its_classes() {
    let text = r#"name = "s"
duration = "1h"
[traffic]
rate = "10/s"
[[instance_type]]
name = "gpu"
concurrency = 2
price = "$1/h"
[[queue]]
name = "batch"
capacity = 10000
[[queue]]
name = "bulk"
[[pool]]
name = "online"
instance_type = "gpu"
instances = 2
[[pool]]
name = "workers"
instance_type = "gpu"
instances = 1
queue = "batch"
[[pool]]
name = "bulk_workers"
instance_type = "gpu"
instances = 1
queue = "bulk"
[[class]]
name = "chat"
share = 0.5
pool = "online"
service = { distribution = "exponential", mean = "1s" }
[[class]]
name = "jobs"
share = 0.25
queue = "batch"
service = { distribution = "exponential", mean = "10s" }
[[class]]
name = "more_jobs"
share = 0.25
queue = "batch"
service = { distribution = "exponential", mean = "20s" }
"#;
    let s = parse(text).unwrap_or_else(|e| panic!("{e}"));
    let workers = &s.pools[1];
    assert_eq!(
        (
            workers.dispatch,
            workers.queue_capacity,
            workers.queue.as_deref()
        ),
        (Dispatch::SharedQueue, Some(10_000), Some("batch"))
    );
    // A queue without capacity is unbounded.
    assert_eq!(
        (s.pools[2].queue_capacity, s.pools[2].queue.as_deref()),
        (None, Some("bulk"))
    );
    assert_eq!(
        (s.pools[0].dispatch, s.pools[0].queue.as_deref()),
        (Dispatch::Balancer, None)
    );
    // Both queue classes go through one route to the workers' group of their own.
    let group_of = |class: usize| &s.target_groups[s.routes[s.classes[class].route].target_group];
    assert_eq!(s.classes[1].route, s.classes[2].route);
    assert_eq!(group_of(1).pools, vec![1]);
    assert_eq!(group_of(1).name, "workers");
    assert_eq!(group_of(0).pools, vec![0]);
}

#[test]
fn instances_must_lie_within_the_autoscaling_bounds() {
    let scaled = "[pool.autoscaling]\nmin = 2\nmax = 5\n\
                  [[pool.autoscaling.target_tracking]]\nmetric = \"utilization\"\ntarget = 50\n";
    assert_eq!(pool(&format!("instances = 5\n{scaled}")).instances, 5);
    for n in [1, 6] {
        let found = problems(&format!("instances = {n}\n{scaled}"));
        assert_eq!(
            found,
            [format!(
                "pool[0].instances: instances = {n} is outside the autoscaling bounds, min 2 to max 5"
            )]
        );
    }
    // Zero only when the group may be empty.
    assert_eq!(
        problems("instances = 0\n"),
        ["pool[0].instances: expected a whole number from 1 to 1000000, found 0"]
    );
}

#[test]
fn a_fault_on_a_group_that_starts_empty_is_reported() {
    let found = problems(
        "[pool.autoscaling]\nmin = 0\nmax = 3\n[pool.autoscaling.keda]\n\
         triggers = [{ metric = \"queue_depth\", target = 1 }]\n\
         [[fault]]\npool = \"p\"\nkind = \"crash\"\nat = \"1m\"\n",
    );
    assert_eq!(
        found,
        ["fault[0].pool: the fault takes instance 0, but pool \"p\" starts with none"]
    );
}

/// `HEAD` with the instance type bought spot too, and a second type.
fn spot_head() -> String {
    HEAD.replace(
        "price = \"$1/h\"",
        "price = \"$1/h\"\nspot_price = \"$0.3/h\"\nspot_interruptions = { mean_time_between = \"20h\" }\n[[instance_type]]\nname = \"t4\"\nconcurrency = 1\nprice = \"$0.5/h\"\nspot_price = \"$0.2/h\"",
    )
}

#[test]
fn mixed_instances_read_every_key_and_default_as_aws() {
    use crate::model::fleet::mixed::{MixedInstances, OnDemandStrategy, SpotStrategy};
    use crate::model::market::interruptions::DEFAULT_REBALANCE_LEAD;
    let head = spot_head().replace("instance_type = \"gpu\"\n", "");
    let s = parse(&format!(
        "{head}instances = 1\n[pool.mixed_instances]\ntypes = [\"t4\", \"gpu\"]\n"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    // AWS InstancesDistribution defaults: base 0, 100 % on-demand, prioritized,
    // price-capacity-optimized, 2 spot pools, no capacity rebalancing.
    assert_eq!(
        s.pools[0].mixed,
        Some(MixedInstances {
            types: vec![1, 0],
            on_demand_base: 0,
            on_demand_percent: 100,
            on_demand_strategy: OnDemandStrategy::Prioritized,
            spot_strategy: SpotStrategy::PriceCapacityOptimized,
            spot_instance_pools: 2,
            capacity_rebalance: false,
        })
    );
    // The pool's reported type is the first of the list.
    assert_eq!(s.pools[0].instance_type, 1);
    let i = s.instance_types[0].spot_interruptions.as_ref().unwrap();
    assert_eq!(i.mean_time_between, secs(20 * 3600));
    assert_eq!(i.rebalance_fraction, 1.0);
    assert_eq!(
        i.rebalance_lead,
        ServiceTime::Constant {
            nanos: DEFAULT_REBALANCE_LEAD.as_nanos() as f64
        }
    );
    let s = parse(&format!(
        "{head}instances = 1\n[pool.mixed_instances]\ntypes = [\"gpu\"]\non_demand_base_capacity = 3\non_demand_percentage_above_base = 25\non_demand_allocation_strategy = \"lowest_price\"\nspot_allocation_strategy = \"lowest_price\"\nspot_instance_pools = 4\ncapacity_rebalance = true\n"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let m = s.pools[0].mixed.as_ref().unwrap();
    assert_eq!((m.on_demand_base, m.on_demand_percent), (3, 25));
    assert_eq!(m.on_demand_strategy, OnDemandStrategy::LowestPrice);
    assert_eq!(m.spot_strategy, SpotStrategy::LowestPrice);
    assert_eq!((m.spot_instance_pools, m.capacity_rebalance), (4, true));
    // purchase = "spot" is a one-type policy with no on-demand.
    let text = format!("{}instances = 2\npurchase = \"spot\"\n", spot_head());
    let m = parse(&text).unwrap().pools[0].mixed.clone().unwrap();
    assert_eq!(
        (m.types, m.on_demand_base, m.on_demand_percent),
        (vec![0], 0, 0)
    );
}

#[test]
fn failures_and_shortages_read_every_key() {
    let p = pool("instances = 1\n[pool.failures]\ncrash = { time_to_failure = { distribution = \"exponential\", mean = \"500h\" }, repair = \"10m\" }\n");
    let f = p.failures.unwrap();
    assert!(f.gpu_fault.is_none());
    assert_eq!(
        f.crash.unwrap().repair,
        ServiceTime::Constant { nanos: 600e9 }
    );
    assert_eq!(f.error_latency, crate::model::fleet::DEFAULT_ERROR_LATENCY);
    let s = parse(&format!(
        "{HEAD}instances = 1\n[[capacity_shortage]]\ninstance_type = \"gpu\"\nat = \"10m\"\nduration = \"20m\"\npurchase = \"spot\"\n"
    ))
    .unwrap();
    let c = s.capacity_shortages[0];
    assert_eq!(
        (c.from, c.until),
        (SimTime::ZERO + secs(600), SimTime::ZERO + secs(1800))
    );
    assert_eq!(c.purchase, Some(crate::model::market::PurchaseOption::Spot));
    assert_eq!(
        problems("instances = 1\n[pool.failures]\ngpu_fault = { time_to_failure = \"0s\", repair = \"1m\" }\n"),
        vec!["pool[0].failures.gpu_fault.time_to_failure: time_to_failure must be longer than 0s"]
    );
}
