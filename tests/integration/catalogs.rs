//! The model and GPU catalogs (issue 16, items 1 and 2): `fleetsim catalog --models` and
//! `--gpus` print them, and every accelerator of the instance catalog is a GPU of the GPU
//! catalog.

use std::process::{Command, Output};

use fleetsim::model::llm::gpus::gpu_for_catalog_model;
use fleetsim::model::market::catalog::catalog;

fn fleetsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fleetsim"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn catalog_models_lists_every_model_in_file_order() {
    let out = fleetsim(&["catalog", "--models"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout, fleetsim::inspect::models_text());
    let names: Vec<&str> = stdout
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .take(9)
        .collect();
    assert_eq!(names, fleetsim::model::llm::model_names());
    let l70: Vec<&str> = stdout
        .lines()
        .find(|l| l.starts_with("llama-3.1-70b "))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(l70[5], "327680", "KV bytes per token: 2 × 80 × 8 × 128 × 2");
    assert!(out.stderr.is_empty());
}

#[test]
fn catalog_gpus_lists_every_gpu_with_its_figures() {
    let out = fleetsim(&["catalog", "--gpus"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout, fleetsim::inspect::gpus_text());
    assert_eq!(
        stdout.lines().count(),
        22,
        "header, 20 GPUs, footer:\n{stdout}"
    );
    let rtx: Vec<&str> = stdout
        .lines()
        .find(|l| l.starts_with("RTX-PRO-6000-Blackwell "))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(&rtx[1..], ["96", "1597", "503.8*", "1007.6*", "pcie", "64"]);
}

#[test]
fn catalog_models_or_gpus_with_an_instance_filter_is_a_usage_error() {
    let cases: [&[&str]; 3] = [
        &["catalog", "--models", "--cloud", "aws"],
        &["catalog", "--gpus", "--gpu", "a100"],
        &["catalog", "--models", "--gpus", "--region", "x"],
    ];
    for args in cases {
        let out = fleetsim(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("cannot be used with"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty());
    }
}

/// Every `gpu_model` of `scenarios/data/catalog/instance_types.csv` is a GPU of
/// `gpus.toml` (through its `catalog` rules), and the GPU found has the row's memory per GPU.
#[test]
fn catalog_names_every_instance_gpu_model_maps_to_a_gpu() {
    let mut rows = 0;
    let mut unmapped = Vec::new();
    for e in catalog() {
        let Some(model) = &e.gpu_model else { continue };
        rows += 1;
        let per_gpu = e.gpu_memory_gib / e.gpus;
        match gpu_for_catalog_model(model, per_gpu, &e.name) {
            Some(gpu) => assert_eq!(
                gpu.memory_bytes,
                u64::from(per_gpu) << 30,
                "{} {} ({model}, {per_gpu} GiB) maps to {}",
                e.cloud.as_str(),
                e.name,
                gpu.name
            ),
            None => unmapped.push(format!("{} {} ({model}, {per_gpu} GiB)", e.region, e.name)),
        }
    }
    assert!(rows > 30, "the instance catalog has GPU rows: {rows}");
    assert!(
        unmapped.is_empty(),
        "instance types whose gpu_model no GPU of gpus.toml claims (add a `catalog` rule):\n{}",
        unmapped.join("\n")
    );
    let gpu = |name: &str| {
        let e = catalog().iter().find(|e| e.name == name).unwrap();
        let model = e.gpu_model.as_deref().unwrap();
        gpu_for_catalog_model(model, e.gpu_memory_gib / e.gpus, &e.name)
            .unwrap()
            .name
    };
    assert_eq!(gpu("p4d.24xlarge"), "A100-40GB");
    assert_eq!(gpu("a2-ultragpu-1g"), "A100-80GB");
    assert_eq!(gpu("Standard_NC24ads_A100_v4"), "A100-80GB-PCIe");
    assert_eq!(gpu("p5.48xlarge"), "H100");
    assert_eq!(gpu("g6e.xlarge"), "L40S");
}
