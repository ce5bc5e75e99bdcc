//! Topology: regions in clouds, the places users are in, global DNS balancing between regions,
//! and outage windows of a zone, a region or a whole cloud.
//!
//! It owns the description (what is where, what the DNS answers) and the pure decisions (which
//! region a DNS query gets, when a region's health check flips). It must not know about the
//! algorithms inside a region: a region's balancers and pools are the ordinary ones of
//! `crate::model::balancer` and `crate::model::fleet`, tagged with the region they live in.

pub mod dns;
pub mod transfer;

use crate::time::{SimDuration, SimTime};

pub use dns::{DnsHealth, DnsPolicy, DnsSpec, RegionHealthCheck};
pub use transfer::{CloudPrices, TransferSizes};

/// The most users a scenario with regions may have: each user keeps one cached DNS answer
/// (16 bytes), so the cache is at most 160 MB.
pub const MAX_USERS_WITH_TOPOLOGY: u64 = 10_000_000;

/// A region of a cloud: its own balancers (target groups) and pools.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// Name used in results, such as `aws-use1`.
    pub name: String,
    /// Index into [`Topology::clouds`].
    pub cloud: usize,
    /// Its availability zones (names such as `a`); may be empty.
    pub zones: Vec<String>,
}

/// Where a share of the users are, and how far each region is from there.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// Name used in results.
    pub name: String,
    /// Fraction of the users (user ids are split by share: users `[from, to)` live here).
    pub share: f64,
    /// Round-trip network time to each region, indexed like [`Topology::regions`]
    /// (`None`: not given, only allowed for regions DNS never answers).
    pub rtt: Vec<Option<SimDuration>>,
}

/// What an outage takes down.
#[derive(Debug, Clone, PartialEq)]
pub enum OutageScope {
    /// One availability zone of a region: its pools that name the zone.
    Zone {
        /// The region.
        region: usize,
        /// The zone (index into its `zones`).
        zone: usize,
    },
    /// A whole region: its pools and its balancers.
    Region(usize),
    /// Every region of a cloud (index into [`Topology::clouds`]).
    Cloud(usize),
}

/// A window during which a zone, region or cloud is down.
#[derive(Debug, Clone, PartialEq)]
pub struct OutageSpec {
    /// What goes down.
    pub scope: OutageScope,
    /// When it goes down.
    pub at: SimTime,
    /// When it comes back (`None`: not before the end of the run).
    pub until: Option<SimTime>,
}

impl OutageSpec {
    /// True if the outage takes down a pool in `region` and `zone` (a pool without a zone is
    /// spread over the region's zones and survives a zone outage: an Auto Scaling group across
    /// several zones replaces capacity in the others).
    pub fn covers_pool(&self, regions: &[Region], region: usize, zone: Option<usize>) -> bool {
        match self.scope {
            OutageScope::Zone { region: r, zone: z } => r == region && zone == Some(z),
            _ => self.covers_region(regions, region),
        }
    }

    /// True if the outage takes down `region` as a whole (its balancers too).
    pub fn covers_region(&self, regions: &[Region], region: usize) -> bool {
        match self.scope {
            OutageScope::Zone { .. } => false,
            OutageScope::Region(r) => r == region,
            OutageScope::Cloud(c) => regions[region].cloud == c,
        }
    }
}

/// Everything about where things are, as the scenario describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Topology {
    /// Cloud names (`aws`, `gcp`, ...), in order of first appearance.
    pub clouds: Vec<String>,
    /// Regions, in file order.
    pub regions: Vec<Region>,
    /// Where users are; shares sum to 1. Default: one place at 0 ms from every region.
    pub places: Vec<Place>,
    /// Global DNS balancing between regions.
    pub dns: DnsSpec,
    /// Outage windows.
    pub outages: Vec<OutageSpec>,
    /// Each pool's region and zone (indexed like `Scenario::pools`).
    pub pool_region: Vec<(usize, Option<usize>)>,
    /// Each target group's (balancer's) region (indexed like `Scenario::target_groups`).
    pub group_region: Vec<usize>,
    /// For route `r` and DNS answer `k` (index into `dns.regions`), the target group that
    /// serves it: `route_groups[r * dns.regions.len() + k]`.
    pub route_groups: Vec<usize>,
    /// Each class's request and response sizes (indexed like `Scenario::classes`).
    pub sizes: Vec<TransferSizes>,
    /// Data-transfer prices per cloud (indexed like `clouds`).
    pub prices: Vec<CloudPrices>,
}

impl Topology {
    /// Where each place's user ids end, for `users` users: places own contiguous ranges of
    /// ids in proportion to their shares, so a uniformly drawn user is in a place with its
    /// share's probability (and stickiness or `ip_hash`, which key on the user, still work).
    pub fn place_bounds(&self, users: u64) -> Vec<u64> {
        let mut cumulative = 0.0;
        let mut bounds: Vec<u64> = self
            .places
            .iter()
            .map(|p| {
                cumulative += p.share;
                (cumulative * users as f64).round() as u64
            })
            .collect();
        if let Some(last) = bounds.last_mut() {
            *last = users;
        }
        bounds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topology(shares: &[f64]) -> Topology {
        Topology {
            clouds: vec!["aws".into()],
            regions: vec![Region {
                name: "r".into(),
                cloud: 0,
                zones: vec![],
            }],
            places: shares
                .iter()
                .map(|&s| Place {
                    name: "p".into(),
                    share: s,
                    rtt: vec![Some(SimDuration::ZERO)],
                })
                .collect(),
            dns: DnsSpec::single(0),
            outages: vec![],
            pool_region: vec![],
            group_region: vec![],
            route_groups: vec![],
            sizes: vec![],
            prices: vec![],
        }
    }

    #[test]
    fn places_split_user_ids_by_share() {
        // 0.6 and 0.4 of 1000 users: ids 0..600 and 600..1000.
        assert_eq!(topology(&[0.6, 0.4]).place_bounds(1000), vec![600, 1000]);
        // Rounding never loses the last users: 1/3 each of 10 users ends at 10.
        assert_eq!(
            topology(&[1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0]).place_bounds(10),
            vec![3, 7, 10]
        );
    }

    #[test]
    fn a_zone_outage_spares_pools_without_a_zone_and_balancers() {
        let regions = vec![
            Region {
                name: "a".into(),
                cloud: 0,
                zones: vec!["1".into(), "2".into()],
            },
            Region {
                name: "b".into(),
                cloud: 1,
                zones: vec![],
            },
        ];
        let zone = OutageSpec {
            scope: OutageScope::Zone { region: 0, zone: 1 },
            at: SimTime::ZERO,
            until: None,
        };
        assert!(zone.covers_pool(&regions, 0, Some(1)));
        assert!(!zone.covers_pool(&regions, 0, Some(0)));
        assert!(!zone.covers_pool(&regions, 0, None));
        assert!(!zone.covers_region(&regions, 0));
        let cloud = OutageSpec {
            scope: OutageScope::Cloud(1),
            ..zone
        };
        assert!(cloud.covers_region(&regions, 1));
        assert!(!cloud.covers_region(&regions, 0));
        assert!(cloud.covers_pool(&regions, 1, None));
    }
}
