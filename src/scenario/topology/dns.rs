//! Stage two of `[dns]`: its policy, the regions it answers with, their weights, its TTL, its
//! health checks (Route 53's) and an anycast's convergence.

use super::lookup::{find, unknown};
use super::read::RawDns;
use crate::model::topology::{DnsPolicy, DnsSpec, RegionHealthCheck};
use crate::scenario::reader::{whole_seconds, Reader};
use crate::time::SimDuration;

/// `[dns]`, its regions among `region_names`; `None` if anything is wrong (each reported).
pub fn validate_dns(r: &mut Reader<'_>, d: &RawDns, region_names: &[&str]) -> Option<DnsSpec> {
    let policy = match d.policy.as_ref().map(|p| p.value) {
        Some("failover") => DnsPolicy::Failover,
        Some("weighted") => DnsPolicy::Weighted,
        Some("latency") => DnsPolicy::Latency,
        Some("anycast") => DnsPolicy::Anycast,
        _ => return None,
    };
    let (regions, mut ok) = dns_regions(r, d, region_names);
    let weights = weights(r, d, policy, &regions, region_names, &mut ok);
    ok &= timing_fits(r, d, policy);
    let mut check = RegionHealthCheck::default();
    if let Some(i) = &d.interval {
        // Route 53's RequestInterval: "Valid values: 10 | 30" (API reference, HealthCheckConfig).
        if i.value != SimDuration::from_secs(10) && i.value != SimDuration::from_secs(30) {
            r.error(
                i,
                format!(
                    "a Route 53 health check runs every 10s or 30s, found {}",
                    i.value
                ),
                Some("interval = \"30s\" (standard) or \"10s\" (fast checks)".into()),
            );
            ok = false;
        }
        check.interval = i.value;
    }
    if let Some(t) = &d.failure_threshold {
        check.failure_threshold = t.value as u32;
    }
    ok.then(|| DnsSpec {
        policy,
        regions,
        weights,
        ttl: d
            .ttl
            .as_ref()
            .map_or(SimDuration::from_secs(60), |t| t.value),
        health_check: check,
        convergence: d
            .convergence
            .as_ref()
            .map_or(SimDuration::ZERO, |c| c.value),
    })
}

/// The regions the DNS answers with, and false if one is unknown or listed twice, or there is
/// none (each reported).
fn dns_regions(r: &mut Reader<'_>, d: &RawDns, region_names: &[&str]) -> (Vec<usize>, bool) {
    let mut ok = true;
    let mut regions = Vec::new();
    for x in &d.regions {
        match find(region_names, &x.value) {
            Some(reg) if regions.contains(&reg) => {
                r.error(
                    x,
                    format!("region \"{}\" is listed twice", x.value),
                    Some("list each region once".into()),
                );
                ok = false;
            }
            Some(reg) => regions.push(reg),
            None => {
                unknown(r, x, "region", region_names);
                ok = false;
            }
        }
    }
    if d.regions.is_empty() {
        if let Some(at) = &d.regions_at {
            r.error(
                at,
                "the DNS answers with no region",
                Some("list at least one region".into()),
            );
        }
        ok = false;
    }
    (regions, ok)
}

/// The weight of each of the DNS `regions` (1 each but with the weighted policy, which needs
/// them all); `ok` is cleared on a problem (reported).
fn weights(
    r: &mut Reader<'_>,
    d: &RawDns,
    policy: DnsPolicy,
    regions: &[usize],
    region_names: &[&str],
    ok: &mut bool,
) -> Vec<u32> {
    let mut weights = vec![1u32; regions.len()];
    if policy == DnsPolicy::Weighted {
        weights = vec![0; regions.len()];
        for (name, w) in &d.weights {
            match find(region_names, &name.value)
                .and_then(|reg| regions.iter().position(|&x| x == reg))
            {
                Some(k) => weights[k] = w.value as u32,
                None => {
                    r.error(
                        name,
                        format!("\"{}\" is not one of the DNS regions", name.value),
                        Some("give weights to the regions listed in regions = [...]".into()),
                    );
                    *ok = false;
                }
            }
        }
        if d.weights.len() != d.regions.len() && *ok {
            let at = d.weights_at.clone().unwrap_or_else(|| d.at.clone());
            r.error(
                &at,
                "the weighted policy needs a weight for every DNS region",
                Some("such as weights = { \"aws-use1\" = 3, \"gcp-usc1\" = 1 }".into()),
            );
            *ok = false;
        }
    } else if let Some(at) = &d.weights_at {
        r.error(
            at,
            format!(
                "weights apply to the weighted policy, not \"{}\"",
                d.policy.as_ref().map_or("", |p| p.value)
            ),
            Some("remove weights, or set policy = \"weighted\"".into()),
        );
        *ok = false;
    }
    weights
}

/// False if the TTL or the convergence does not fit the policy, or the TTL is not whole
/// seconds (each reported).
fn timing_fits(r: &mut Reader<'_>, d: &RawDns, policy: DnsPolicy) -> bool {
    let mut ok = true;
    let anycast = policy == DnsPolicy::Anycast;
    if anycast {
        if let Some(ttl) = &d.ttl {
            r.error(
                ttl,
                "anycast has no DNS answer to cache: ttl does not apply",
                Some("remove ttl".into()),
            );
            ok = false;
        }
    } else if let Some(c) = &d.convergence {
        r.error(
            c,
            "convergence applies to anycast (route withdrawal), not DNS policies",
            Some("remove convergence, or set policy = \"anycast\"".into()),
        );
        ok = false;
    }
    if let Some(ttl) = &d.ttl {
        // A record's TTL is an integer of seconds.
        ok &= whole_seconds(r, ttl, "Route 53", "ttl");
    }
    ok
}
