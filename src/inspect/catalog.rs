//! `fleetsim catalog`: the instance catalog, searched by cloud, accelerator and region, as a
//! text table.

use std::fmt::Write as _;

use crate::model::market::catalog::{catalog, search, CatalogEntry, Cloud, Search};

/// What `fleetsim catalog` was asked for, as given on the command line (`--cloud`, `--gpu`,
/// `--region`); `None` keeps every entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogQuery {
    /// Only this cloud: `aws`, `azure` or `gcp`.
    pub cloud: Option<String>,
    /// Only types whose accelerator's name contains this, ignoring case.
    pub gpu: Option<String>,
    /// Only this region, such as `us-east-1`.
    pub region: Option<String>,
}

/// A `--cloud` that names no cloud of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown cloud \"{0}\": choose aws, azure or gcp")]
pub struct UnknownCloud(pub String);

/// The catalog entries `query` keeps, as [`catalog_table`] prints them.
pub fn catalog_text(query: &CatalogQuery) -> Result<String, UnknownCloud> {
    let cloud = match &query.cloud {
        Some(name) => Some(Cloud::parse(name).ok_or_else(|| UnknownCloud(name.clone()))?),
        None => None,
    };
    let entries = search(
        catalog(),
        &Search {
            cloud,
            gpu: query.gpu.as_deref(),
            region: query.region.as_deref(),
        },
    );
    Ok(catalog_table(&entries))
}

/// The entries as an aligned table, one row each, with the price dates in a footer.
pub fn catalog_table(entries: &[&CatalogEntry]) -> String {
    let header = [
        "cloud", "region", "name", "gpu", "gpus", "gpu GiB", "vCPU", "GiB", "$/h", "spot $/h",
        "conc.", "speed",
    ];
    let rows: Vec<[String; 12]> = entries
        .iter()
        .map(|e| {
            [
                e.cloud.as_str().to_string(),
                e.region.clone(),
                e.name.clone(),
                e.gpu_model.clone().unwrap_or_else(|| "-".into()),
                e.gpus.to_string(),
                e.gpu_memory_gib.to_string(),
                e.vcpus.to_string(),
                e.memory_gib.to_string(),
                format!("{:.4}", e.on_demand_usd_per_hour),
                e.spot_usd_per_hour
                    .map_or("-".into(), |s| format!("{s:.4}")),
                e.concurrency.to_string(),
                format!("{:.3}", e.speed),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[&str]| {
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            // Text left, numbers right.
            let _ = if i < 4 {
                write!(out, "{c:<w$}")
            } else {
                write!(out, "{c:>w$}")
            };
            out.push_str(if i + 1 < cells.len() { "  " } else { "\n" });
        }
    };
    line(&mut out, &header);
    for r in &rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        line(&mut out, &cells);
    }
    let mut dates: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.cloud.as_str(), e.price_date.as_str()))
        .collect();
    dates.sort_unstable();
    dates.dedup();
    let dates: Vec<String> = dates.iter().map(|(c, d)| format!("{c} {d}")).collect();
    let _ = writeln!(
        out,
        "{} types; list prices as of {} (scenarios/data/PROVENANCE.md). speed: one GPU's FP16 \
         tensor throughput relative to an A10G, an approximation: override it with your own \
         benchmark.",
        entries.len(),
        dates.join(", ")
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_a_row_per_entry_aligned_with_its_header() {
        let entries: Vec<&CatalogEntry> =
            catalog().iter().filter(|e| e.name == "g5.xlarge").collect();
        let text = catalog_table(&entries);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(
            lines[1].starts_with("aws    us-east-1  g5.xlarge  A10G"),
            "{text}"
        );
        assert!(lines[1].contains("1.0060"));
        assert_eq!(lines[0].len(), lines[1].len(), "aligned:\n{text}");
        assert!(lines[2].contains("aws 2026-07-20"));
    }

    #[test]
    fn a_query_searches_the_catalog_and_an_unknown_cloud_is_refused() {
        let all = catalog_text(&CatalogQuery::default()).unwrap();
        assert_eq!(all.lines().count(), catalog().len() + 2);
        let query = CatalogQuery {
            cloud: Some("aws".into()),
            gpu: Some("a10g".into()),
            region: Some("us-east-1".into()),
        };
        let text = catalog_text(&query).unwrap();
        let rows: Vec<&str> = text
            .lines()
            .skip(1)
            .filter(|l| l.starts_with("aws "))
            .collect();
        assert!(!rows.is_empty(), "{text}");
        assert!(
            rows.iter()
                .all(|r| r.contains("us-east-1") && r.contains("A10G")),
            "{text}"
        );
        assert_eq!(text.lines().count(), rows.len() + 2, "{text}");
        let e = catalog_text(&CatalogQuery {
            cloud: Some("ibm".into()),
            ..CatalogQuery::default()
        })
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown cloud \"ibm\": choose aws, azure or gcp"
        );
    }
}
