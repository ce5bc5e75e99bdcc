//! Regions, places, DNS and outages: typed values and defaults.

use super::*;

#[test]
fn topology_keys_give_typed_values_and_defaults() {
    use crate::model::topology::{
        DnsPolicy, OutageScope, RegionHealthCheck, TransferSizes, MAX_USERS_WITH_TOPOLOGY,
    };
    let text = r#"name = "t"
duration = "1h"
[traffic]
rate = "10/s"
[[region]]
name = "east"
cloud = "aws"
zones = ["a", "b"]
[[region]]
name = "central"
cloud = "gcp"
[[instance_type]]
name = "gpu"
concurrency = 2
price = "$1/h"
[[pool]]
name = "e"
instance_type = "gpu"
instances = 1
region = "east"
zone = "b"
[[pool]]
name = "c"
instance_type = "gpu"
instances = 1
region = "central"
[[target_group]]
name = "tg-e"
pools = ["e"]
[[target_group]]
name = "tg-c"
pools = ["c"]
[[route]]
path = "/"
target_group = ["tg-c", "tg-e"]
[[class]]
name = "x"
path = "/"
response_size = "1MiB"
service = { distribution = "constant", value = "1s" }
[[place]]
name = "here"
share = 1
latency = { east = "5ms", central = "20ms" }
[dns]
policy = "weighted"
regions = ["east", "central"]
weights = { central = 1, east = 2 }
[[outage]]
scope = "zone"
name = "east/b"
at = "10m"
duration = "5m"
[data_transfer]
internet_egress = { gcp = 0.085 }
"#;
    let s = Scenario::parse(text, Path::new("t.toml")).unwrap_or_else(|e| panic!("{e}"));
    let t = s.topology.expect("a topology");
    assert_eq!(t.clouds, vec!["aws".to_string(), "gcp".to_string()]);
    assert_eq!(t.pool_region, vec![(0, Some(1)), (1, None)]);
    // Groups take their pools' region.
    assert_eq!(t.group_region, vec![0, 1]);
    // The route's groups are placed by DNS answer (east first), whatever their order in the file.
    assert_eq!(t.route_groups, vec![0, 1]);
    assert_eq!(t.dns.policy, DnsPolicy::Weighted);
    assert_eq!(t.dns.weights, vec![2, 1]);
    // Defaults: TTL 60 s, Route 53's 30 s checks with threshold 3, no convergence delay.
    assert_eq!(t.dns.ttl, SimDuration::from_secs(60));
    assert_eq!(t.dns.health_check, RegionHealthCheck::default());
    assert_eq!(t.dns.health_check.interval, SimDuration::from_secs(30));
    assert_eq!(t.dns.health_check.failure_threshold, 3);
    assert_eq!(t.dns.convergence, SimDuration::ZERO);
    assert_eq!(
        t.places[0].rtt,
        vec![
            Some(SimDuration::from_millis(5)),
            Some(SimDuration::from_millis(20))
        ]
    );
    assert_eq!(t.outages[0].scope, OutageScope::Zone { region: 0, zone: 1 });
    assert_eq!(t.outages[0].at, SimTime::ZERO + SimDuration::from_secs(600));
    assert_eq!(
        t.outages[0].until,
        Some(SimTime::ZERO + SimDuration::from_secs(900))
    );
    assert_eq!(
        t.sizes,
        vec![TransferSizes {
            request: 2_000,
            response: 1_048_576
        }]
    );
    // GCP's egress overridden, its inter-region price and AWS's left at the list prices.
    assert_eq!(t.prices[0].internet_egress_per_gb, 0.09);
    assert_eq!(t.prices[1].internet_egress_per_gb, 0.085);
    assert_eq!(t.prices[1].inter_region_per_gb, 0.02);
    assert!(s.population.users <= MAX_USERS_WITH_TOPOLOGY);
}
