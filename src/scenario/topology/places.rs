//! Stage two of `[[place]]` (where users are, and their round trips to each region), of the
//! classes' message sizes, and of `[data_transfer]` prices per cloud.

use super::lookup::{find, unknown};
use super::read::RawTopology;
use crate::model::topology::{CloudPrices, DnsSpec, Place, TransferSizes};
use crate::scenario::classes::read::RawClass;
use crate::scenario::reader::{check_unique, Located, Reader};
use crate::time::SimDuration;

/// Shares must sum to 1 within this tolerance (as class shares).
const SHARE_TOLERANCE: f64 = 1e-6;

/// The `[[place]]` tables (default: one place at 0 ms from every region); every region the DNS
/// answers with needs a round trip from every place.
pub fn validate_places(
    r: &mut Reader<'_>,
    t: &RawTopology,
    region_names: &[&str],
    dns: &DnsSpec,
) -> Option<Vec<Place>> {
    let mut places = Vec::new();
    if t.places.is_empty() {
        places.push(Place {
            name: "users".into(),
            share: 1.0,
            rtt: vec![Some(SimDuration::ZERO); region_names.len()],
        });
    }
    let place_names: Vec<&Located<String>> =
        t.places.iter().filter_map(|x| x.name.as_ref()).collect();
    let mut ok = check_unique(r, &place_names, "place", "give each place its own name");
    let mut share_sum = 0.0;
    for p in &t.places {
        let mut rtt = vec![None; region_names.len()];
        for (region, d) in &p.latency {
            match find(region_names, &region.value) {
                Some(reg) => rtt[reg] = Some(d.value),
                None => {
                    unknown(r, region, "region", region_names);
                    ok = false;
                }
            }
        }
        for &reg in &dns.regions {
            if rtt[reg].is_none() {
                r.error(
                    &p.at,
                    format!(
                        "place \"{}\" gives no latency to region \"{}\", which the DNS answers with",
                        p.name.as_ref().map_or("", |n| n.value.as_str()),
                        region_names[reg]
                    ),
                    Some(format!("add \"{}\" = \"30ms\" to its latency table", region_names[reg])),
                );
                ok = false;
            }
        }
        share_sum += p.share.as_ref().map_or(0.0, |s| s.value);
        match (&p.name, &p.share) {
            (Some(n), Some(s)) => places.push(Place {
                name: n.value.clone(),
                share: s.value,
                rtt,
            }),
            _ => ok = false,
        }
    }
    if !t.places.is_empty() && (share_sum - 1.0).abs() > SHARE_TOLERANCE {
        r.error(
            &t.places[0].at,
            format!("place shares sum to {share_sum}, not 1"),
            Some("make the shares of the [[place]] tables add up to 1".into()),
        );
        ok = false;
    }
    ok.then_some(places)
}

/// Each class's request and response sizes (defaults for classes the file does not give).
pub fn class_sizes(raw: &[RawClass], classes: usize) -> Vec<TransferSizes> {
    let sizes: Vec<TransferSizes> = raw
        .iter()
        .map(|c| {
            let d = TransferSizes::default();
            TransferSizes {
                request: c.request_size.as_ref().map_or(d.request, |s| s.value),
                response: c.response_size.as_ref().map_or(d.response, |s| s.value),
            }
        })
        .collect();
    if sizes.len() == classes {
        sizes
    } else {
        vec![TransferSizes::default(); classes]
    }
}

/// Data-transfer prices per cloud: `[data_transfer]`'s, else the list prices of a known cloud.
pub fn validate_prices(
    r: &mut Reader<'_>,
    t: &RawTopology,
    clouds: &[String],
) -> Option<Vec<CloudPrices>> {
    let mut ok = true;
    let mut prices = Vec::new();
    let dt = t.data_transfer.as_ref();
    for (key, list) in dt
        .map(|d| {
            [
                ("internet_egress", &d.value.internet_egress),
                ("inter_region", &d.value.inter_region),
            ]
        })
        .into_iter()
        .flatten()
    {
        for (cloud, _) in list {
            if !clouds.contains(&cloud.value) {
                let known: Vec<&str> = clouds.iter().map(String::as_str).collect();
                r.error(
                    cloud,
                    format!(
                        "[data_transfer] {key} names cloud \"{}\", which no region is in",
                        cloud.value
                    ),
                    Some(format!("use one of: {}", known.join(", "))),
                );
                ok = false;
            }
        }
    }
    for cloud in clouds {
        let given = |list: Option<&Vec<(Located<String>, Located<f64>)>>| {
            list.and_then(|l| {
                l.iter()
                    .find(|(c, _)| c.value == *cloud)
                    .map(|(_, p)| p.value)
            })
        };
        let internet = given(dt.map(|d| &d.value.internet_egress));
        let inter = given(dt.map(|d| &d.value.inter_region));
        let default = CloudPrices::default_for(cloud);
        match (
            internet.or(default.map(|d| d.internet_egress_per_gb)),
            inter.or(default.map(|d| d.inter_region_per_gb)),
        ) {
            (Some(i), Some(x)) => prices.push(CloudPrices {
                internet_egress_per_gb: i,
                inter_region_per_gb: x,
            }),
            _ => {
                let at = t
                    .regions
                    .iter()
                    .find_map(|x| x.cloud.as_ref().filter(|c| c.value == *cloud));
                if let Some(at) = at {
                    r.error(
                        at,
                        format!("no default data-transfer prices for cloud \"{cloud}\" (known: aws, gcp, azure)"),
                        Some(format!(
                            "add [data_transfer] internet_egress = {{ {cloud} = 0.09 }} and inter_region = {{ {cloud} = 0.02 }} (USD per GB)"
                        )),
                    );
                }
                ok = false;
            }
        }
    }
    ok.then_some(prices)
}
