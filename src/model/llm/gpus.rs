//! The GPU catalog: accelerators by name, with their datasheet figures, and which GPU each
//! `gpu_model` of the instance catalog is.
//!
//! The table is `scenarios/data/catalog/gpus.toml` (the datasheet of every entry, and what was
//! derived: sparse figures halved, per-direction link bandwidth, per-GPU shares of system
//! totals: `scenarios/data/PROVENANCE.md`), embedded in the binary and parsed once, on first
//! use.
//!
//! It must not know about scenarios or the instance catalog's types (`model/market`): a caller
//! hands [`gpu_for_catalog_model`] an instance type's plain fields.

use std::sync::OnceLock;

use toml_span::value::Value;
use toml_span::{DeserError, Deserialize};

use super::catalog_file::{entries, invalid, table, CatalogFileError, Number};
use super::gpu::{Gpu, InterconnectKind};

/// The embedded catalog text.
pub const GPUS_TOML: &str = include_str!("../../../scenarios/data/catalog/gpus.toml");

const FILE: &str = "scenarios/data/catalog/gpus.toml";

/// Names of [`InterconnectKind`] in `gpus.toml`.
const INTERCONNECTS: [(&str, InterconnectKind); 4] = [
    ("nvlink", InterconnectKind::NvLink),
    ("pcie", InterconnectKind::Pcie),
    ("infinity-fabric", InterconnectKind::InfinityFabric),
    ("neuronlink", InterconnectKind::NeuronLink),
];

/// The name `gpus.toml` gives a link.
pub fn interconnect_name(kind: InterconnectKind) -> &'static str {
    INTERCONNECTS
        .iter()
        .find(|(_, k)| *k == kind)
        .map_or("?", |(n, _)| n)
}

/// Which rows of the instance catalog hold a GPU: all conditions given must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogRule {
    /// The row's `gpu_model`, ignoring case.
    pub gpu_model: String,
    /// The row's memory per GPU (`gpu_memory_gib / gpus`) \[GiB\], when it tells variants apart.
    pub gpu_memory_gib: Option<u32>,
    /// The start of the row's instance name, when it tells variants apart.
    pub instance_prefix: Option<String>,
}

impl CatalogRule {
    /// The conditions the rule checks: the more, the more specific.
    fn conditions(&self) -> usize {
        1 + usize::from(self.gpu_memory_gib.is_some()) + usize::from(self.instance_prefix.is_some())
    }

    fn matches(&self, gpu_model: &str, gpu_memory_gib: u32, instance: &str) -> bool {
        self.gpu_model.eq_ignore_ascii_case(gpu_model)
            && self.gpu_memory_gib.is_none_or(|m| m == gpu_memory_gib)
            && self
                .instance_prefix
                .as_deref()
                .is_none_or(|p| instance.starts_with(p))
    }
}

/// One accelerator of the catalog: its figures and where they come from.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogGpu {
    /// The figures the step time uses, named by the catalog name.
    pub gpu: Gpu,
    /// Other names it is found by.
    pub aliases: Vec<String>,
    /// The instance catalog's rows that hold it.
    pub catalog: Vec<CatalogRule>,
    /// The link's bandwidth per GPU as the vendor quotes it: both directions \[bytes/s\].
    pub link_bandwidth_bidirectional: f64,
    /// True when the datasheet gave only figures with 2:4 sparsity, halved here.
    pub sparse_halved: bool,
    /// The datasheet.
    pub source: String,
    /// What is uncertain or derived about the entry.
    pub note: Option<String>,
}

impl CatalogGpu {
    fn is_named(&self, name: &str) -> bool {
        self.gpu.name.eq_ignore_ascii_case(name)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    }
}

/// Parses catalog text (the embedded one, or a test's), checking every entry.
pub fn parse_gpus(text: &str) -> Result<Vec<CatalogGpu>, CatalogFileError> {
    let raw = entries::<RawGpu>(FILE, text, "gpu")?;
    let mut out: Vec<CatalogGpu> = Vec::with_capacity(raw.len());
    for entry in raw {
        let err = |message: String| invalid(FILE, text, entry.span, message);
        let gpu = entry
            .value
            .check()
            .map_err(|m| err(format!("{}: {m}", entry.value.name)))?;
        let names = std::iter::once(&gpu.gpu.name).chain(&gpu.aliases);
        for name in names {
            if let Some(other) = out.iter().find(|g| g.is_named(name)) {
                return Err(err(format!("{name}: already a name of {}", other.gpu.name)));
            }
        }
        out.push(gpu);
    }
    Ok(out)
}

/// The embedded catalog, parsed once, in file order.
pub fn gpus() -> &'static [CatalogGpu] {
    static GPUS: OnceLock<Vec<CatalogGpu>> = OnceLock::new();
    GPUS.get_or_init(|| {
        // Checked by the test `the_embedded_catalog_parses`: a broken file cannot ship.
        parse_gpus(GPUS_TOML).expect("the embedded GPU catalog is valid")
    })
}

/// The catalog entry named `name` (its name or an alias, ignoring case).
pub fn gpu_entry(name: &str) -> Option<&'static CatalogGpu> {
    gpus().iter().find(|g| g.is_named(name))
}

/// The GPU named `name` (its catalog name or an alias, ignoring case).
pub fn gpu_by_name(name: &str) -> Option<Gpu> {
    gpu_entry(name).map(|g| g.gpu.clone())
}

/// The catalog names, in file order: what an "expected one of" message lists.
pub fn gpu_names() -> Vec<&'static str> {
    gpus().iter().map(|g| g.gpu.name.as_str()).collect()
}

/// The GPU of an instance type, from its `gpu_model` (`A100`), its memory per GPU
/// (`gpu_memory_gib / gpus` of the instance catalog) and its name (`p4d.24xlarge`): the
/// entry whose rule matches with the most conditions. `None` when no rule matches, or when two
/// GPUs match equally well (the shipped catalog has no such row: a test walks it).
pub fn gpu_for_catalog_model(
    gpu_model: &str,
    gpu_memory_gib: u32,
    instance_name: &str,
) -> Option<Gpu> {
    match_catalog_row(gpus(), gpu_model, gpu_memory_gib, instance_name).map(|g| g.gpu.clone())
}

/// [`gpu_for_catalog_model`] over `gpus`.
pub fn match_catalog_row<'g>(
    gpus: &'g [CatalogGpu],
    gpu_model: &str,
    gpu_memory_gib: u32,
    instance_name: &str,
) -> Option<&'g CatalogGpu> {
    let mut best: Option<(usize, &CatalogGpu)> = None;
    let mut tied = false;
    for g in gpus {
        let Some(specificity) = g
            .catalog
            .iter()
            .filter(|r| r.matches(gpu_model, gpu_memory_gib, instance_name))
            .map(CatalogRule::conditions)
            .max()
        else {
            continue;
        };
        match best {
            Some((s, _)) if s > specificity => {}
            Some((s, _)) if s == specificity => tied = true,
            _ => {
                best = Some((specificity, g));
                tied = false;
            }
        }
    }
    if tied {
        None
    } else {
        best.map(|(_, g)| g)
    }
}

/// One `catalog = [{ ... }]` rule as written.
struct RawRule {
    gpu_model: String,
    gpu_memory_gib: Option<u32>,
    instance_prefix: Option<String>,
}

impl<'de> Deserialize<'de> for RawRule {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        table(value, |t| {
            let gpu_model = t.required("gpu_model").ok();
            let gpu_memory_gib = t.optional("gpu_memory_gib");
            let instance_prefix = t.optional("instance_prefix");
            Some(RawRule {
                gpu_model: gpu_model?,
                gpu_memory_gib,
                instance_prefix,
            })
        })
    }
}

/// One `[[gpu]]` as written.
struct RawGpu {
    name: String,
    aliases: Vec<String>,
    catalog: Vec<RawRule>,
    memory_gib: f64,
    hbm_bandwidth_gb_s: f64,
    fp16_dense_tflops: f64,
    fp8_dense_tflops: Option<f64>,
    sparse_halved: bool,
    interconnect: String,
    interconnect_gb_s: f64,
    interconnect_gb_s_per_direction: f64,
    source: String,
    note: Option<String>,
}

impl<'de> Deserialize<'de> for RawGpu {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        table(value, |t| {
            let num = |t: &mut toml_span::de_helpers::TableHelper<'de>, key| {
                t.required::<Number>(key).ok().map(|n| n.0)
            };
            let name = t.required("name").ok();
            let aliases = t.optional("aliases").unwrap_or_default();
            let catalog = t.optional("catalog").unwrap_or_default();
            let memory_gib = num(t, "memory_gib");
            let hbm_bandwidth_gb_s = num(t, "hbm_bandwidth_gb_s");
            let fp16_dense_tflops = num(t, "fp16_dense_tflops");
            let fp8_dense_tflops = t.optional::<Number>("fp8_dense_tflops").map(|n| n.0);
            let sparse_halved = t.optional("sparse_halved").unwrap_or(false);
            let interconnect = t.required("interconnect").ok();
            let interconnect_gb_s = num(t, "interconnect_gb_s");
            let interconnect_gb_s_per_direction = num(t, "interconnect_gb_s_per_direction");
            let source = t.required("source").ok();
            let note = t.optional("note");
            Some(RawGpu {
                name: name?,
                aliases,
                catalog,
                memory_gib: memory_gib?,
                hbm_bandwidth_gb_s: hbm_bandwidth_gb_s?,
                fp16_dense_tflops: fp16_dense_tflops?,
                fp8_dense_tflops,
                sparse_halved,
                interconnect: interconnect?,
                interconnect_gb_s: interconnect_gb_s?,
                interconnect_gb_s_per_direction: interconnect_gb_s_per_direction?,
                source: source?,
                note,
            })
        })
    }
}

impl RawGpu {
    /// The checked entry, or what is wrong with it.
    fn check(&self) -> Result<CatalogGpu, String> {
        let positive = [
            ("memory_gib", self.memory_gib),
            ("hbm_bandwidth_gb_s", self.hbm_bandwidth_gb_s),
            ("fp16_dense_tflops", self.fp16_dense_tflops),
            ("interconnect_gb_s", self.interconnect_gb_s),
            (
                "interconnect_gb_s_per_direction",
                self.interconnect_gb_s_per_direction,
            ),
        ];
        if let Some((key, v)) = positive.iter().find(|(_, v)| !(v.is_finite() && *v > 0.0)) {
            return Err(format!("{key}: must be a positive number, not {v}"));
        }
        if self.memory_gib.fract() != 0.0 {
            return Err("memory_gib: a whole number of GiB".into());
        }
        if let Some(fp8) = self.fp8_dense_tflops {
            if !(fp8.is_finite() && fp8 >= self.fp16_dense_tflops) {
                return Err("fp8_dense_tflops: at least fp16_dense_tflops".into());
            }
        }
        // Vendors quote a link both ways summed; an all-reduce model wants one direction.
        if self.interconnect_gb_s_per_direction * 2.0 != self.interconnect_gb_s {
            return Err(
                "interconnect_gb_s_per_direction: half of interconnect_gb_s (both directions)"
                    .into(),
            );
        }
        let interconnect = INTERCONNECTS
            .iter()
            .find(|(n, _)| *n == self.interconnect)
            .map(|(_, k)| *k)
            .ok_or_else(|| {
                format!(
                    "interconnect: unknown link {:?}: expected one of nvlink, pcie, \
                     infinity-fabric, neuronlink",
                    self.interconnect
                )
            })?;
        if self.catalog.iter().any(|r| r.gpu_model.is_empty()) {
            return Err("catalog: gpu_model must not be empty".into());
        }
        Ok(CatalogGpu {
            gpu: Gpu {
                name: self.name.clone(),
                memory_bytes: (self.memory_gib as u64) << 30,
                memory_bandwidth: self.hbm_bandwidth_gb_s * 1e9,
                fp16_flops: self.fp16_dense_tflops * 1e12,
                fp8_flops: self.fp8_dense_tflops.map(|t| t * 1e12),
                interconnect,
                link_bandwidth: self.interconnect_gb_s_per_direction * 1e9,
            },
            aliases: self.aliases.clone(),
            catalog: self
                .catalog
                .iter()
                .map(|r| CatalogRule {
                    gpu_model: r.gpu_model.clone(),
                    gpu_memory_gib: r.gpu_memory_gib,
                    instance_prefix: r.instance_prefix.clone(),
                })
                .collect(),
            link_bandwidth_bidirectional: self.interconnect_gb_s * 1e9,
            sparse_halved: self.sparse_halved,
            source: self.source.clone(),
            note: self.note.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_catalog_parses() {
        let all = parse_gpus(GPUS_TOML).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(all.len(), 20);
        assert_eq!(gpu_names().len(), 20);
        // The GPUs the issue asks for by name.
        for name in [
            "RTX-PRO-6000-Blackwell",
            "RTX-4090",
            "RTX-6000-Ada",
            "H200",
            "B200",
            "L40S",
            "MI300X",
        ] {
            assert!(gpu_by_name(name).is_some(), "{name}");
        }
    }

    #[test]
    fn figures_convert_to_bytes_and_flops() {
        let h100 = gpu_by_name("H100").unwrap();
        assert_eq!(h100.memory_bytes, 80 << 30);
        assert_eq!(h100.memory_bandwidth, 3350e9);
        assert!((h100.fp16_flops / 989.4e12 - 1.0).abs() < 1e-12);
        assert!((h100.fp8_flops.unwrap() / 1978.9e12 - 1.0).abs() < 1e-12);
        assert_eq!(h100.interconnect, InterconnectKind::NvLink);
        assert_eq!(
            h100.link_bandwidth, 450e9,
            "one direction of NVLink 4's 900 GB/s"
        );
        let t4 = gpu_entry("t4").unwrap();
        assert_eq!(t4.gpu.fp8_flops, None);
        assert!(!t4.sparse_halved);
        assert_eq!(t4.link_bandwidth_bidirectional, 32e9);
        let a10 = gpu_entry("A10").unwrap();
        assert!(a10.sparse_halved, "125 | 250* on the datasheet");
        let mi = gpu_by_name("mi300x").unwrap();
        assert_eq!(mi.interconnect, InterconnectKind::InfinityFabric);
        assert_eq!(interconnect_name(mi.interconnect), "infinity-fabric");
    }

    #[test]
    fn names_and_aliases_find_a_gpu_ignoring_case() {
        assert_eq!(gpu_by_name("h100-sxm"), gpu_by_name("H100"));
        assert_eq!(
            gpu_by_name("rtx-pro-6000").unwrap().name,
            "RTX-PRO-6000-Blackwell"
        );
        assert_eq!(gpu_by_name("A100-80GB-SXM").unwrap().name, "A100-80GB");
        assert!(gpu_by_name("H300").is_none());
        assert_eq!(gpu_names()[0], "T4", "file order");
    }

    #[test]
    fn instance_rows_find_their_variant_by_memory_and_name() {
        let name =
            |m: &str, gib: u32, inst: &str| gpu_for_catalog_model(m, gib, inst).map(|g| g.name);
        assert_eq!(
            name("A100", 40, "p4d.24xlarge").as_deref(),
            Some("A100-40GB")
        );
        assert_eq!(
            name("A100", 80, "a2-ultragpu-1g").as_deref(),
            Some("A100-80GB")
        );
        assert_eq!(
            name("A100", 80, "Standard_NC24ads_A100_v4").as_deref(),
            Some("A100-80GB-PCIe"),
            "the rule with the instance prefix is more specific"
        );
        assert_eq!(name("V100", 16, "p3.2xlarge").as_deref(), Some("V100"));
        assert_eq!(
            name("V100", 16, "Standard_NC6s_v3").as_deref(),
            Some("V100-PCIe")
        );
        assert_eq!(name("h100 nvl", 94, "x").as_deref(), Some("H100-NVL"));
        assert_eq!(name("A100", 20, "p4d.24xlarge"), None, "no A100 of 20 GiB");
        assert_eq!(name("TPU-v5e", 16, "ct5lp"), None);
    }

    #[test]
    fn two_rules_equally_specific_match_nothing() {
        let text = GPUS_TOML.to_string()
            + "\n[[gpu]]\nname = \"T4-again\"\ncatalog = [{ gpu_model = \"T4\" }]\n\
               memory_gib = 16\nhbm_bandwidth_gb_s = 320\nfp16_dense_tflops = 65\n\
               interconnect = \"pcie\"\ninterconnect_gb_s = 32\n\
               interconnect_gb_s_per_direction = 16\nsource = \"x\"\n";
        let all = parse_gpus(&text).unwrap();
        assert!(match_catalog_row(&all, "T4", 16, "g4dn.xlarge").is_none());
        assert!(match_catalog_row(gpus(), "T4", 16, "g4dn.xlarge").is_some());
    }

    #[test]
    fn broken_entries_are_errors_with_their_line() {
        let entry = |extra: &str| {
            format!(
                "[[gpu]]\nname = \"X\"\nmemory_gib = 16\nhbm_bandwidth_gb_s = 320\n\
                 fp16_dense_tflops = 65\ninterconnect = \"pcie\"\ninterconnect_gb_s = 32\n\
                 interconnect_gb_s_per_direction = 16\nsource = \"x\"\n{extra}"
            )
        };
        assert_eq!(parse_gpus(&entry("")).unwrap().len(), 1);
        let halves = entry("").replace("per_direction = 16", "per_direction = 32");
        assert!(parse_gpus(&halves).unwrap_err().message.contains("half"));
        let link = entry("").replace("\"pcie\"", "\"ethernet\"");
        assert!(parse_gpus(&link)
            .unwrap_err()
            .message
            .contains("expected one of nvlink"));
        let fp8 = entry("fp8_dense_tflops = 10\n");
        assert!(parse_gpus(&fp8).unwrap_err().message.contains("fp8"));
        let bad_rule = entry("catalog = [{ gpu = \"T4\" }]\n");
        let e = parse_gpus(&bad_rule).unwrap_err();
        assert_eq!(e.line, 10, "{e}");
        let twice = entry("") + &entry("aliases = [\"x\"]\n").replace("\"X\"", "\"Y\"");
        let e = parse_gpus(&twice).unwrap_err();
        assert!(e.message.contains("already a name of X"), "{e}");
        let zero = entry("").replace("memory_gib = 16", "memory_gib = 0");
        assert!(parse_gpus(&zero)
            .unwrap_err()
            .message
            .contains("memory_gib"));
    }
}
