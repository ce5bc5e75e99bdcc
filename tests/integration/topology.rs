//! Regions, DNS and outages, in deterministic micro-scenarios: periodic arrivals and constant
//! service times, so that times and counts are worked out by hand.
//!
//! The base: two regions (AWS us-east-1, GCP us-central1), two instances of 10 slots in each,
//! 10 requests/s from 100 users, 100 ms of service; users are 10 ms from AWS and 40 ms from
//! GCP.

use crate::common::{run, scenario};

/// Two regions; `dns` is the `[dns]` table's body, `extra` more tables.
fn two_regions(dns: &str, extra: &str) -> String {
    format!(
        r#"
name = "topology"
duration = "20m"
[traffic]
rate = "10/s"
process = "periodic"
users = 100
[[region]]
name = "aws-use1"
cloud = "aws"
[[region]]
name = "gcp-usc1"
cloud = "gcp"
[[instance_type]]
name = "box"
concurrency = 10
price = "$1/h"
[[pool]]
name = "aws"
instance_type = "box"
instances = 2
region = "aws-use1"
[[pool]]
name = "gcp"
instance_type = "box"
instances = 2
region = "gcp-usc1"
[[target_group]]
name = "tg-aws"
pools = ["aws"]
[[target_group]]
name = "tg-gcp"
pools = ["gcp"]
[[route]]
path = "/"
target_group = ["tg-aws", "tg-gcp"]
[[class]]
name = "job"
path = "/"
service = {{ distribution = "constant", value = "100ms" }}
[[place]]
name = "east"
share = 1
latency = {{ "aws-use1" = "10ms", "gcp-usc1" = "40ms" }}
[dns]
regions = ["aws-use1", "gcp-usc1"]
{dns}
{extra}
"#
    )
}

const OUTAGE_AT_605: &str = r#"
[[outage]]
scope = "region"
name = "aws-use1"
at = "605s"
"#;

#[test]
fn dns_failover_moves_traffic_after_detection_plus_ttl() {
    // Route 53 checks at 0, 30, 60, ...; the outage begins at 605 s. The checks at 630, 660
    // and 690 fail: with failure_threshold 3 the region turns unhealthy at 690 s (detection
    // 85 s, between (3 − 1) × 30 = 60 and 3 × 30 = 90 s after the outage). A client that
    // resolved just before 690 s keeps the AWS answer for the 60 s TTL: its last request to
    // AWS is sent before 750 s. Each of the 100 users sends every 10 s on average (10/s drawn
    // uniformly among 100 users), so some user with an answer cached just before 690 s sends
    // within the last seconds before 750 s. The issue's bound: outage + detection (90 s) + TTL
    // (60 s) ± one interval = [725, 785].
    let text = two_regions(
        "policy = \"failover\"\nttl = \"60s\"\nhealth_check = { interval = \"30s\", failure_threshold = 3 }",
        OUTAGE_AT_605,
    );
    let (s, _) = run(&scenario(&text), 1);
    let t = s.topology.as_ref().expect("topology results");
    let unhealthy: Vec<f64> = t
        .dns_events
        .iter()
        .filter(|e| e.event == "unhealthy")
        .map(|e| e.seconds)
        .collect();
    assert_eq!(unhealthy, vec![690.0]);
    let aws = &t.by_region["aws-use1"];
    let last = aws.last_try_seconds.unwrap();
    assert!(
        (725.0..=785.0).contains(&last),
        "last try to AWS at {last} s"
    );
    // Exactly: before the cached answers run out at 690 + 60 s.
    assert!(last < 750.0, "last try to AWS at {last} s");
    // GCP first sees traffic when the first cache expires after 690 s.
    let gcp = &t.by_region["gcp-usc1"];
    assert!(gcp.first_try_seconds.unwrap() >= 690.0);
    // Every try to AWS after 605 s failed with connect_failed, and was lost to the outage;
    // nothing vanished.
    assert!(s.requests.is_conserved());
    assert_eq!(
        t.lost_to_outage,
        s.requests.connect_failed + s.requests.interrupted
    );
    assert!(s.requests.connect_failed > 0);
    assert_eq!(aws.failed, t.lost_to_outage);
    // No retry: a request ends in the region of its one try.
    assert_eq!(aws.tries + gcp.tries, s.requests.arrived);
}

#[test]
fn anycast_moves_traffic_at_once_or_after_convergence() {
    // Arrivals every 0.1 s; AWS is the closest region (10 ms against 40 ms), so it takes all
    // traffic until its route is withdrawn at 605 s + convergence. Event order at equal times
    // is scheduling order: the outage (scheduled at the start) and the withdrawal (scheduled
    // at 605 s) come before the arrival at the same instant (scheduled 0.1 s earlier).
    // - The request that arrived at 604.9 s is in service until 605.0 s: lost (interrupted).
    // - Convergence 0: the arrival at 605.0 s already goes to GCP; the last try to AWS is at
    //   604.9 s and none fails to connect.
    // - Convergence 5 s: arrivals at 605.0, 605.1, ..., 609.9 s (50) still go to AWS, whose
    //   balancer is down: 50 connection failures; the last try to AWS is at 609.9 s.
    for (convergence, last_try, refused) in [("0s", 604.9, 0), ("5s", 609.9, 50)] {
        let text = two_regions(
            &format!("policy = \"anycast\"\nconvergence = \"{convergence}\""),
            OUTAGE_AT_605,
        );
        let (s, _) = run(&scenario(&text), 1);
        let t = s.topology.as_ref().unwrap();
        let aws = &t.by_region["aws-use1"];
        let last = aws.last_try_seconds.unwrap();
        assert!((last - last_try).abs() < 1e-9, "{convergence}: {last}");
        let gcp_first = t.by_region["gcp-usc1"].first_try_seconds.unwrap();
        assert!((gcp_first - (last_try + 0.1)).abs() < 1e-9, "{gcp_first}");
        assert_eq!(s.requests.interrupted, 1);
        assert_eq!(s.requests.connect_failed, refused);
        assert_eq!(t.lost_to_outage, 1 + refused);
        assert!(s.requests.is_conserved());
    }
}

#[test]
fn weighted_dns_splits_traffic_by_weight() {
    // 3:1 weights, a 1 s TTL and 100,000 users: a user seldom sends twice within its TTL
    // (10/s among 100k users: 1e-4 per second), so each request is an independent draw with
    // p = 0.75. n = 12,000: sd = √(n p (1 − p)) = √2250 ≈ 47.4; 4 sd (two-sided p ≈ 6e-5)
    // = 190.
    let text = two_regions(
        "policy = \"weighted\"\nttl = \"1s\"\nweights = { \"aws-use1\" = 3, \"gcp-usc1\" = 1 }",
        "",
    )
    .replace("users = 100\n", "users = 100000\n");
    let (s, _) = run(&scenario(&text), 7);
    let t = s.topology.as_ref().unwrap();
    let aws = t.by_region["aws-use1"].tries as f64;
    let n = s.requests.arrived as f64;
    assert_eq!(n, 12_000.0);
    assert!((aws - 0.75 * n).abs() < 190.0, "{aws} of {n}");
}

#[test]
fn latency_dns_picks_the_nearest_region_and_adds_its_round_trip_exactly() {
    // Half the users are 10 ms from AWS (and 40 ms from GCP), half 50 ms from AWS and 15 ms
    // from GCP. Latency-based routing sends each to its nearest region; the latency each sees
    // is service (100 ms) plus its round trip: 110 ms in AWS, 115 ms in GCP, exactly.
    let text = two_regions("policy = \"latency\"", "")
        .replace(
            "[[place]]\nname = \"east\"\nshare = 1\n",
            "[[place]]\nname = \"west\"\nshare = 0.5\nlatency = { \"aws-use1\" = \"50ms\", \"gcp-usc1\" = \"15ms\" }\n[[place]]\nname = \"east\"\nshare = 0.5\n",
        );
    let (s, _) = run(&scenario(&text), 1);
    let t = s.topology.as_ref().unwrap();
    let (aws, gcp) = (&t.by_region["aws-use1"], &t.by_region["gcp-usc1"]);
    assert_eq!(aws.latency_seconds.max, Some(0.11));
    assert_eq!(aws.latency_seconds.mean, Some(0.11));
    assert_eq!(gcp.latency_seconds.max, Some(0.115));
    assert_eq!(gcp.latency_seconds.mean, Some(0.115));
    // Users 0..50 are in the west (places split ids by share) and go to GCP only.
    assert!(aws.tries > 0 && gcp.tries > 0);
    assert_eq!(aws.tries + gcp.tries, s.requests.arrived);
    assert_eq!(
        s.requests.completed + s.requests.in_flight_at_end,
        s.requests.arrived
    );
}

/// One region, one place `rtt` away, a client timeout of 120 ms and 100 ms of service.
fn one_region_with_timeout(rtt: &str) -> String {
    format!(
        r#"
name = "rtt"
duration = "10s"
timeout = "120ms"
[traffic]
rate = "1/s"
process = "periodic"
[[region]]
name = "r"
cloud = "aws"
[[instance_type]]
name = "box"
concurrency = 1
price = "$1/h"
[[pool]]
name = "p"
instance_type = "box"
instances = 1
[[class]]
name = "job"
pool = "p"
service = {{ distribution = "constant", value = "100ms" }}
[[place]]
name = "here"
share = 1
latency = {{ r = "{rtt}" }}
"#
    )
}

#[test]
fn the_round_trip_counts_against_the_client_timeout() {
    // 20 ms away: the client's deadline at the server is 120 − 20 = 100 ms after arrival,
    // exactly when service ends (which counts as in time): all 10 complete in 120 ms.
    let (s, _) = run(&scenario(&one_region_with_timeout("20ms")), 1);
    assert_eq!(s.requests.completed, 10);
    assert_eq!(s.latency_seconds.max, Some(0.12));
    assert_eq!(s.latency_seconds.mean, Some(0.12));
    // 25 ms away: the deadline is 95 ms, before the service ends: all 10 time out.
    let (s, _) = run(&scenario(&one_region_with_timeout("25ms")), 1);
    assert_eq!(s.requests.completed, 0);
    assert_eq!(s.requests.timed_out, 10);
}

#[test]
fn a_zone_outage_loses_the_work_in_its_zone_and_nothing_vanishes() {
    // Pools a (zone a) and b (zone b) behind one round-robin balancer, no health checks:
    // arrival i (at i × 0.1 s) goes to a when i is even. Service 1 s. The outage takes zone a
    // down from 300.05 s to 420.05 s.
    // - At 300.05 s, a holds the arrivals of (299.05, 300.05] that went to it: i = 2991..3000,
    //   the even ones: 2992, ..., 3000: 5 requests interrupted.
    // - Arrivals in (300.05, 420.05): i = 3001..4200, of which the even 600 go to a's crashed
    //   host and fail after the connect timeout.
    // - After 420.05 s a serves again. The run ends at 600 s with arrivals at 599.0 ... 599.9
    //   in service (10; the service end at exactly 600 s is not processed): all others
    //   complete: 6000 − 605 − 10 = 5385.
    let text = r#"
name = "zone"
duration = "10m"
[traffic]
rate = "10/s"
process = "periodic"
[[region]]
name = "aws-use1"
cloud = "aws"
zones = ["a", "b"]
[[instance_type]]
name = "box"
concurrency = 100
price = "$1/h"
[[pool]]
name = "a"
instance_type = "box"
instances = 1
zone = "a"
[[pool]]
name = "b"
instance_type = "box"
instances = 1
zone = "b"
[[target_group]]
name = "both"
pools = ["a", "b"]
[[route]]
path = "/"
target_group = "both"
[[class]]
name = "job"
path = "/"
service = { distribution = "constant", value = "1s" }
[[outage]]
scope = "zone"
name = "aws-use1/a"
at = "300050ms"
duration = "120s"
"#;
    let (s, _) = run(&scenario(text), 1);
    assert_eq!(s.requests.arrived, 6000);
    assert_eq!(s.requests.interrupted, 5);
    assert_eq!(s.requests.connect_failed, 600);
    assert_eq!(s.requests.in_flight_at_end, 10);
    assert_eq!(s.requests.completed, 5385);
    assert!(s.requests.is_conserved());
    let t = s.topology.as_ref().unwrap();
    assert_eq!(t.lost_to_outage, 605);
    // A zone outage leaves the region (and its balancer) up.
    assert!(t.dns_events.is_empty());
}

#[test]
fn data_transfer_counts_egress_inter_region_and_inter_cloud_bytes() {
    // One balancer region (AWS us-east-1). Route /a goes to a pool in AWS us-west-2 (another
    // region of the same cloud), /b to a pool in GCP. Requests are 1 MB, responses 2 MB.
    // 100 requests, all completed (each ends 100 ms after it arrives, the last at 99.1 s).
    // Per completed request:
    //   both: internet egress from AWS, 2 MB;
    //   /a: inter-region AWS, 1 + 2 = 3 MB;
    //   /b: the request leaves AWS (1 MB), the response leaves GCP (2 MB), both as internet
    //       egress of their cloud.
    let text = r#"
name = "transfer"
duration = "100s"
[traffic]
rate = "1/s"
process = "periodic"
[[region]]
name = "aws-use1"
cloud = "aws"
[[region]]
name = "aws-usw2"
cloud = "aws"
[[region]]
name = "gcp-usc1"
cloud = "gcp"
[[instance_type]]
name = "box"
concurrency = 10
price = "$1/h"
[[pool]]
name = "west"
instance_type = "box"
instances = 1
region = "aws-usw2"
[[pool]]
name = "google"
instance_type = "box"
instances = 1
region = "gcp-usc1"
[[target_group]]
name = "to-west"
pools = ["west"]
region = "aws-use1"
[[target_group]]
name = "to-google"
pools = ["google"]
region = "aws-use1"
[[route]]
path = "/a"
target_group = "to-west"
[[route]]
path = "/b"
target_group = "to-google"
[[class]]
name = "a"
path = "/a"
share = 0.5
request_size = "1MB"
response_size = "2MB"
service = { distribution = "constant", value = "100ms" }
[[class]]
name = "b"
path = "/b"
share = 0.5
request_size = "1MB"
response_size = "2MB"
service = { distribution = "constant", value = "100ms" }
"#;
    let (s, _) = run(&scenario(text), 1);
    assert_eq!(s.requests.completed, 100);
    let a = s.by_class["a"].requests.completed as f64;
    let b = s.by_class["b"].requests.completed as f64;
    assert_eq!(a + b, 100.0);
    let d = s.data_transfer.as_ref().unwrap();
    let close = |x: f64, y: f64| (x - y).abs() < 1e-9;
    assert!(close(d.internet_egress_gb["aws"], 100.0 * 0.002));
    assert!(close(d.inter_region_gb["aws"], a * 0.003));
    assert!(close(d.inter_cloud_gb["aws"], b * 0.001));
    assert!(close(d.inter_cloud_gb["gcp"], b * 0.002));
    assert!(!d.inter_region_gb.contains_key("gcp"));
    // Default list prices: AWS $0.09/GB out, $0.02/GB inter-region; GCP $0.12/GB out.
    let usd = 0.2 * 0.09 + a * 0.003 * 0.02 + b * 0.001 * 0.09 + b * 0.002 * 0.12;
    assert!(close(d.usd, usd), "{} vs {usd}", d.usd);
    // The instances: 2 × 100 s at $1/h; the data transfer is added to the total.
    assert!(close(s.cost_usd.total, 2.0 * 100.0 / 3600.0 + usd));
}

#[test]
fn a_region_outage_fails_launches_until_it_ends() {
    // The whole cloud is down for the first 2 minutes. A scheduled action raises the pool's
    // minimum to 2 at 60 s: every launch attempt fails until the outage ends at 120 s, then
    // the second instance starts; the first host comes back at 120 s.
    let text = r#"
name = "launch"
duration = "5m"
[traffic]
rate = "1/s"
process = "periodic"
[[region]]
name = "r"
cloud = "aws"
[[instance_type]]
name = "box"
concurrency = 10
price = "$1/h"
[[pool]]
name = "p"
instance_type = "box"
[pool.autoscaling]
min = 1
max = 3
[pool.autoscaling.scheduled]
start_weekday = "monday"
start_time = "00:00"
action = [{ name = "up", recurrence = "1 0 * * *", min = 2 }]
[[class]]
name = "job"
pool = "p"
service = { distribution = "constant", value = "100ms" }
[[outage]]
scope = "cloud"
name = "aws"
at = "0s"
duration = "2m"
"#;
    let (s, _) = run(&scenario(text), 1);
    let p = &s.instances.by_pool["p"].scaling;
    assert!(p.launch_failures > 0);
    assert_eq!(p.launches, 1);
    assert_eq!(p.desired_at_end, 2);
    // Nothing completes while the host is down: the arrivals at 0, 1, ..., 119 s all fail to
    // connect, the one at 0 s included (issue 14, item 5: an outage at 0 s is in force for
    // the arrival at 0 s; before, that arrival came first in event order and was lost in
    // service); all are lost to the outage.
    assert_eq!(s.requests.interrupted, 0);
    assert_eq!(s.requests.connect_failed, 120);
    assert_eq!(s.topology.as_ref().unwrap().lost_to_outage, 120);
    assert!(s.requests.completed > 170);
    assert!(s.requests.is_conserved());
}

#[test]
fn regions_csv_shows_traffic_moving_and_adds_up_to_the_summary() {
    // The failover case above, written to files: regions.csv's tries per region add up to the
    // summary's, AWS gets every try in the windows before the outage and none from 750 s on
    // (detection at 690 s plus the 60 s TTL), and a run without regions writes no regions.csv.
    let text = two_regions(
        "policy = \"failover\"\nttl = \"60s\"\nhealth_check = { interval = \"30s\", failure_threshold = 3 }",
        OUTAGE_AT_605,
    );
    let dir = tempfile::tempdir().unwrap();
    let summary = fleetsim::sweep::simulate_into(&scenario(&text), 1, dir.path()).unwrap();
    let csv = std::fs::read_to_string(dir.path().join("regions.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("start_s,end_s,region,tries,completed,failed")
    );
    let rows: Vec<(f64, String, u64)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].parse().unwrap(),
                f[2].to_string(),
                f[3].parse().unwrap(),
            )
        })
        .collect();
    // 20 minutes in 10 s windows, two regions.
    assert_eq!(rows.len(), 120 * 2);
    let t = summary.topology.unwrap();
    for region in ["aws-use1", "gcp-usc1"] {
        let sum: u64 = rows.iter().filter(|r| r.1 == region).map(|r| r.2).sum();
        assert_eq!(sum, t.by_region[region].tries);
    }
    for (start, region, tries) in &rows {
        if region == "aws-use1" && *start < 600.0 {
            // 10 arrivals a second, all to the primary.
            assert_eq!(*tries, 100, "window {start}");
        }
        if region == "aws-use1" && *start >= 750.0 {
            assert_eq!(*tries, 0, "window {start}");
        }
    }
    let plain = crate::common::scenario(
        "name = \"p\"\nduration = \"1m\"\n[traffic]\nrate = \"1/s\"\n[[instance_type]]\nname = \"b\"\nconcurrency = 1\nprice = \"$1/h\"\n[[pool]]\nname = \"p\"\ninstance_type = \"b\"\ninstances = 1\n[[class]]\nname = \"c\"\nservice = { distribution = \"constant\", value = \"1s\" }\n",
    );
    let dir = tempfile::tempdir().unwrap();
    fleetsim::sweep::simulate_into(&plain, 1, dir.path()).unwrap();
    assert!(!dir.path().join("regions.csv").exists());
}
