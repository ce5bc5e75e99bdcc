//! The instance catalog: common GPU (and a few CPU) instance types of AWS, Azure and GCP with
//! their hardware, list prices and default concurrency and speed.
//!
//! The table is `scenarios/data/catalog/instance_types.csv`, built by
//! `scripts/build_catalog.py` from public price lists (provenance and price dates in
//! `scenarios/data/PROVENANCE.md`) and embedded in the binary, so that `fleetsim` works from any
//! directory. It is parsed once, on first use. A scenario's `[[instance_type]]` names an entry
//! and may override any field (`src/scenario/validate.rs`).
//!
//! It must not know about scenarios or the simulation: it is a read-only table.

use std::sync::OnceLock;

/// The embedded catalog text.
pub const CATALOG_CSV: &str = include_str!("../../../scenarios/data/catalog/instance_types.csv");

/// A cloud provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cloud {
    /// Amazon Web Services (EC2).
    Aws,
    /// Microsoft Azure (Virtual Machines).
    Azure,
    /// Google Cloud (Compute Engine).
    Gcp,
}

impl Cloud {
    /// Every cloud, in catalog order.
    pub const ALL: [Cloud; 3] = [Cloud::Aws, Cloud::Azure, Cloud::Gcp];

    /// Names used in the catalog and in scenario files.
    pub const NAMES: &'static [&'static str] = &["aws", "azure", "gcp"];

    /// The name used in the catalog and in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Aws => "aws",
            Cloud::Azure => "azure",
            Cloud::Gcp => "gcp",
        }
    }

    /// The cloud named `name`.
    pub fn parse(name: &str) -> Option<Cloud> {
        Cloud::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The region a name without a region resolves to.
    pub fn default_region(self) -> &'static str {
        match self {
            Cloud::Aws => "us-east-1",
            Cloud::Azure => "eastus",
            Cloud::Gcp => "us-central1",
        }
    }
}

/// One row of the catalog: an instance type in one region of one cloud.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogEntry {
    /// The cloud.
    pub cloud: Cloud,
    /// The region the prices are for (`us-east-1`, `eastus`, `us-central1`, ...).
    pub region: String,
    /// The cloud's name of the type (`g5.xlarge`, `Standard_NC4as_T4_v3`, `g2-standard-4`).
    pub name: String,
    /// The accelerator (`A10G`, `T4`, `H100`, ...); `None` for a CPU-only type.
    pub gpu_model: Option<String>,
    /// Accelerators per instance.
    pub gpus: u32,
    /// Accelerator memory of the instance, all its GPUs together \[GiB\].
    pub gpu_memory_gib: u32,
    /// Virtual CPUs.
    pub vcpus: u32,
    /// Memory \[GiB\].
    pub memory_gib: u32,
    /// On-demand list price [USD/h].
    pub on_demand_usd_per_hour: f64,
    /// Spot price when the source has one (GCP) [USD/h].
    pub spot_usd_per_hour: Option<f64>,
    /// Default requests served at once: 4 per accelerator, or one per vCPU.
    pub concurrency: u32,
    /// Default speed: one accelerator's FP16 dense tensor throughput relative to an A10/A10G
    /// (an approximation; override it with a benchmark of your own model).
    pub speed: f64,
    /// When the price was published (`YYYY-MM-DD`).
    pub price_date: String,
}

/// Why a catalog row did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("instance catalog line {line}: {message}")]
pub struct CatalogError {
    /// 1-based line of the CSV (the header is line 1).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

const COLUMNS: [&str; 13] = [
    "cloud",
    "region",
    "name",
    "gpu_model",
    "gpus",
    "gpu_memory_gib",
    "vcpus",
    "memory_gib",
    "on_demand_usd_per_hour",
    "spot_usd_per_hour",
    "concurrency",
    "speed",
    "price_date",
];

/// Parses catalog CSV text (the embedded one, or a test's), checking every row.
pub fn parse(text: &str) -> Result<Vec<CatalogEntry>, CatalogError> {
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| CatalogError {
        line: 1,
        message: e.to_string(),
    })?;
    if header.iter().ne(COLUMNS) {
        return Err(CatalogError {
            line: 1,
            message: format!("expected the columns {}", COLUMNS.join(",")),
        });
    }
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let err = |message: String| CatalogError { line, message };
        let r = record.map_err(|e| err(e.to_string()))?;
        let int = |c: usize| -> Result<u32, CatalogError> {
            r[c].parse()
                .map_err(|_| err(format!("{}: not a whole number: {:?}", COLUMNS[c], &r[c])))
        };
        let positive = |c: usize| -> Result<f64, CatalogError> {
            match r[c].parse::<f64>() {
                Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
                _ => Err(err(format!(
                    "{}: not a positive number: {:?}",
                    COLUMNS[c], &r[c]
                ))),
            }
        };
        let cloud = Cloud::parse(&r[0]).ok_or_else(|| err(format!("unknown cloud {:?}", &r[0])))?;
        if r[1].is_empty() || r[2].is_empty() {
            return Err(err("empty region or name".into()));
        }
        let gpus = int(4)?;
        let gpu_model = (!r[3].is_empty()).then(|| r[3].to_string());
        if gpu_model.is_some() != (gpus > 0) {
            return Err(err("gpu_model is given exactly when gpus > 0".into()));
        }
        let spot = if r[9].is_empty() {
            None
        } else {
            Some(positive(9)?)
        };
        let entry = CatalogEntry {
            cloud,
            region: r[1].to_string(),
            name: r[2].to_string(),
            gpu_model,
            gpus,
            gpu_memory_gib: int(5)?,
            vcpus: int(6)?,
            memory_gib: int(7)?,
            on_demand_usd_per_hour: positive(8)?,
            spot_usd_per_hour: spot,
            concurrency: int(10)?,
            speed: positive(11)?,
            price_date: r[12].to_string(),
        };
        if entry.concurrency == 0 {
            return Err(err("concurrency: must be at least 1".into()));
        }
        if spot.is_some_and(|s| s > entry.on_demand_usd_per_hour) {
            return Err(err("spot price above the on-demand price".into()));
        }
        if out.iter().any(|e: &CatalogEntry| {
            e.cloud == cloud && e.region == entry.region && e.name == entry.name
        }) {
            return Err(err(format!("{} {} listed twice", entry.region, entry.name)));
        }
        out.push(entry);
    }
    Ok(out)
}

/// The embedded catalog, parsed once.
pub fn catalog() -> &'static [CatalogEntry] {
    static CATALOG: OnceLock<Vec<CatalogEntry>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        // The CSV is generated and checked by the test `the_embedded_catalog_parses`: a broken
        // one cannot be built into a release.
        parse(CATALOG_CSV).expect("the embedded instance catalog is valid")
    })
}

/// What a lookup found.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup<'c> {
    /// One entry.
    Found(&'c CatalogEntry),
    /// No entry by that name (in that cloud and region): the closest names, best first.
    Unknown {
        /// Catalog names near the one asked for.
        closest: Vec<&'c str>,
    },
    /// Several entries fit: the `(cloud, region)` pairs that hold the name.
    Ambiguous {
        /// Where the name is found.
        candidates: Vec<(Cloud, &'c str)>,
    },
}

/// Finds `name` in `entries`, optionally in `cloud` and `region`. Without a region, the name
/// resolves to its cloud's default region ([`Cloud::default_region`]) when that holds it, else
/// to the only region that does.
pub fn lookup<'c>(
    entries: &'c [CatalogEntry],
    name: &str,
    cloud: Option<Cloud>,
    region: Option<&str>,
) -> Lookup<'c> {
    let matching: Vec<&CatalogEntry> = entries
        .iter()
        .filter(|e| e.name == name)
        .filter(|e| cloud.is_none_or(|c| e.cloud == c))
        .filter(|e| region.is_none_or(|r| e.region == r))
        .collect();
    let chosen: Vec<&CatalogEntry> = if region.is_none() && matching.len() > 1 {
        let defaults: Vec<_> = matching
            .iter()
            .copied()
            .filter(|e| e.region == e.cloud.default_region())
            .collect();
        if defaults.is_empty() {
            matching
        } else {
            defaults
        }
    } else {
        matching
    };
    match chosen.as_slice() {
        [one] => Lookup::Found(one),
        [] => Lookup::Unknown {
            closest: closest_names(entries, name),
        },
        many => Lookup::Ambiguous {
            candidates: many.iter().map(|e| (e.cloud, e.region.as_str())).collect(),
        },
    }
}

/// What [`search`] keeps: every condition given must hold.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Search<'q> {
    /// Only this cloud.
    pub cloud: Option<Cloud>,
    /// Only types whose accelerator's name contains this, ignoring case (`"a100"` finds
    /// `A100`); CPU-only types never match.
    pub gpu: Option<&'q str>,
    /// Only this region, exactly.
    pub region: Option<&'q str>,
}

/// The entries of `entries` that `search` keeps, in catalog order (`fleetsim catalog`).
pub fn search<'c>(entries: &'c [CatalogEntry], search: &Search<'_>) -> Vec<&'c CatalogEntry> {
    let gpu = search.gpu.map(str::to_ascii_lowercase);
    entries
        .iter()
        .filter(|e| search.cloud.is_none_or(|c| e.cloud == c))
        .filter(|e| search.region.is_none_or(|r| e.region == r))
        .filter(|e| {
            gpu.as_ref().is_none_or(|g| {
                e.gpu_model
                    .as_ref()
                    .is_some_and(|m| m.to_ascii_lowercase().contains(g.as_str()))
            })
        })
        .collect()
}

/// Up to five distinct catalog names closest to `name` (edit distance, case-insensitive).
fn closest_names<'c>(entries: &'c [CatalogEntry], name: &str) -> Vec<&'c str> {
    let wanted = name.to_ascii_lowercase();
    let mut names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let mut scored: Vec<(usize, &str)> = names
        .into_iter()
        .map(|n| (edit_distance(&wanted, &n.to_ascii_lowercase()), n))
        .collect();
    scored.sort();
    scored.into_iter().take(5).map(|(_, n)| n).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_keeps_what_every_condition_allows() {
        let all = catalog();
        assert_eq!(search(all, &Search::default()).len(), all.len());
        let a100 = search(
            all,
            &Search {
                gpu: Some("a100"),
                ..Search::default()
            },
        );
        assert!(!a100.is_empty());
        assert!(a100
            .iter()
            .all(|e| e.gpu_model.as_deref().is_some_and(|m| m.contains("A100"))));
        let gcp_eu = search(
            all,
            &Search {
                cloud: Some(Cloud::Gcp),
                region: Some("europe-west4"),
                gpu: None,
            },
        );
        assert!(!gcp_eu.is_empty());
        assert!(gcp_eu
            .iter()
            .all(|e| e.cloud == Cloud::Gcp && e.region == "europe-west4"));
        // Catalog order is kept.
        let positions: Vec<usize> = gcp_eu
            .iter()
            .map(|e| all.iter().position(|x| std::ptr::eq(x, *e)).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]));
        let none = Search {
            region: Some("nowhere-1"),
            ..Search::default()
        };
        assert!(search(all, &none).is_empty());
    }

    #[test]
    fn the_embedded_catalog_parses_and_every_row_is_valid() {
        let all = parse(CATALOG_CSV).expect("valid catalog");
        assert_eq!(
            all.len(),
            CATALOG_CSV.lines().count() - 1,
            "one entry a row"
        );
        for e in &all {
            assert!(e.concurrency >= 1 && e.speed > 0.0, "{e:?}");
            assert!(e.on_demand_usd_per_hour > 0.0, "{e:?}");
            assert_eq!(
                e.spot_usd_per_hour.is_some(),
                e.cloud == Cloud::Gcp,
                "{e:?}"
            );
            assert_eq!(e.price_date.len(), 10, "{e:?}");
        }
        // Every cloud has its default region.
        for c in Cloud::ALL {
            assert!(all
                .iter()
                .any(|e| e.cloud == c && e.region == c.default_region()));
        }
    }

    #[test]
    fn lookup_finds_list_prices_of_the_sources() {
        let all = catalog();
        // ../shared/data README: g4dn.xlarge 0.526, g5.xlarge 1.006 (us-east-1, 2026-07-20);
        // GCP us-central1 g2-standard-4 0.7068 / 0.3973 spot.
        let Lookup::Found(g5) = lookup(all, "g5.xlarge", None, None) else {
            panic!("g5.xlarge")
        };
        assert_eq!(g5.on_demand_usd_per_hour, 1.006);
        assert_eq!(g5.gpu_model.as_deref(), Some("A10G"));
        assert_eq!((g5.gpus, g5.concurrency, g5.speed), (1, 4, 1.0));
        let Lookup::Found(l4) = lookup(all, "g2-standard-4", None, None) else {
            panic!("g2-standard-4")
        };
        assert_eq!(l4.region, "us-central1", "the default region wins");
        assert_eq!(l4.spot_usd_per_hour, Some(0.397336));
        let Lookup::Found(eu) = lookup(all, "g2-standard-4", None, Some("europe-west4")) else {
            panic!("europe-west4")
        };
        assert_eq!(eu.on_demand_usd_per_hour, 0.742916046);
    }

    #[test]
    fn unknown_names_suggest_the_closest_and_missing_regions_are_unknown() {
        let all = catalog();
        match lookup(all, "g5.xlarg", None, None) {
            Lookup::Unknown { closest } => assert_eq!(closest[0], "g5.xlarge"),
            other => panic!("{other:?}"),
        }
        // AWS has only us-east-1 in the catalog.
        assert!(matches!(
            lookup(all, "g5.xlarge", Some(Cloud::Aws), Some("eu-west-1")),
            Lookup::Unknown { .. }
        ));
        // A GCP name is not an AWS one.
        assert!(matches!(
            lookup(all, "g2-standard-4", Some(Cloud::Aws), None),
            Lookup::Unknown { .. }
        ));
    }

    #[test]
    fn a_name_in_several_non_default_regions_is_ambiguous() {
        let text = "cloud,region,name,gpu_model,gpus,gpu_memory_gib,vcpus,memory_gib,on_demand_usd_per_hour,spot_usd_per_hour,concurrency,speed,price_date\n\
                    azure,eastus2,X,,0,0,4,16,0.19,,4,1.0,2026-06-18\n\
                    azure,westeurope,X,,0,0,4,16,0.23,,4,1.0,2026-06-18\n";
        let entries = parse(text).unwrap();
        match lookup(&entries, "X", None, None) {
            Lookup::Ambiguous { candidates } => assert_eq!(
                candidates,
                vec![(Cloud::Azure, "eastus2"), (Cloud::Azure, "westeurope")]
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            lookup(&entries, "X", None, Some("westeurope")),
            Lookup::Found(e) if e.on_demand_usd_per_hour == 0.23
        ));
    }

    #[test]
    fn broken_rows_are_errors_with_their_line() {
        let head = COLUMNS.join(",");
        let bad = format!("{head}\naws,us-east-1,x,,0,0,2,4,-1,,2,1.0,2026-07-20\n");
        assert_eq!(parse(&bad).unwrap_err().line, 2);
        let spot_above = format!("{head}\ngcp,us-central1,x,,0,0,2,4,1,2,2,1.0,2026-07-20\n");
        assert!(parse(&spot_above).unwrap_err().message.contains("spot"));
    }
}
