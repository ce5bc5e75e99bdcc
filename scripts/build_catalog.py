#!/usr/bin/env python3
"""Builds scenarios/data/catalog/instance_types.csv from the public price lists in ../shared/data.

Prices come from the files named below (Apache-2.0, see scenarios/data/PROVENANCE.md); the
hardware columns (GPU model and count, GPU memory, vCPUs, memory) are the clouds' published
instance specifications, typed here; `speed` is FP16 dense tensor throughput per GPU relative to
an NVIDIA A10/A10G (125 TFLOPS = 1.0), from NVIDIA's (and AWS's, for Inferentia2) spec sheets.

Run from the repository root:  python3 scripts/build_catalog.py [--data ../shared/data]
The product never reads ../shared: the CSV this writes is committed.
"""
import argparse
import csv
import os
import sys

# FP16 dense tensor TFLOPS per accelerator (vendor data sheets; sparse figures halved).
TFLOPS = {
    "T4": 65.0,        # NVIDIA T4 data sheet, "Mixed Precision (FP16/FP32) 65 TFLOPS"
    "A10G": 125.0,     # AWS's A10 variant: no public data sheet; taken equal to the A10
    "A10": 125.0,      # NVIDIA A10 data sheet, FP16 Tensor Core 125 TFLOPS (250 sparse)
    "L4": 121.0,       # NVIDIA L4 data sheet, FP16 Tensor Core 242 TFLOPS sparse
    "L40S": 362.05,    # NVIDIA L40S data sheet, FP16 Tensor Core 733 TFLOPS sparse
    "V100": 125.0,     # NVIDIA V100 SXM2 data sheet, Tensor Performance 125 TFLOPS
    "V100-PCIe": 112.0,  # NVIDIA V100 PCIe, 112 TFLOPS
    "A100": 312.0,     # NVIDIA A100 data sheet, FP16 Tensor Core 312 TFLOPS (624 sparse)
    "H100": 989.5,     # NVIDIA H100 SXM data sheet, FP16 Tensor Core 1,979 TFLOPS sparse
    "H100-NVL": 835.5,  # NVIDIA H100 NVL, FP16 Tensor Core 1,671 TFLOPS sparse
    "Inferentia2": 190.0,  # AWS Inferentia2: 190 TFLOPS FP16 per chip
}
REFERENCE_TFLOPS = 125.0

# name: (gpu_model, gpus, gpu_memory_gib, vcpus, memory_gib)
AWS = {
    "g4dn.xlarge": ("T4", 1, 16, 4, 16),
    "g4dn.2xlarge": ("T4", 1, 16, 8, 32),
    "g4dn.12xlarge": ("T4", 4, 64, 48, 192),
    "g5.xlarge": ("A10G", 1, 24, 4, 16),
    "g5.2xlarge": ("A10G", 1, 24, 8, 32),
    "g5.4xlarge": ("A10G", 1, 24, 16, 64),
    "g5.12xlarge": ("A10G", 4, 96, 48, 192),
    "g5.48xlarge": ("A10G", 8, 192, 192, 768),
    "g6.xlarge": ("L4", 1, 24, 4, 16),
    "g6.2xlarge": ("L4", 1, 24, 8, 32),
    "g6.12xlarge": ("L4", 4, 96, 48, 192),
    "g6e.xlarge": ("L40S", 1, 48, 4, 32),
    "p3.2xlarge": ("V100", 1, 16, 8, 61),
    "p4d.24xlarge": ("A100", 8, 320, 96, 1152),
    "p5.48xlarge": ("H100", 8, 640, 192, 2048),
    "inf2.xlarge": ("Inferentia2", 1, 32, 4, 16),
    "c7i.large": ("", 0, 0, 2, 4),
    "c7i.xlarge": ("", 0, 0, 4, 8),
    "m7i.large": ("", 0, 0, 2, 8),
}
AZURE = {
    "Standard_NC4as_T4_v3": ("T4", 1, 16, 4, 28),
    "Standard_NC6s_v3": ("V100-PCIe", 1, 16, 6, 112),
    "Standard_NV36ads_A10_v5": ("A10", 1, 24, 36, 440),
    "Standard_NC24ads_A100_v4": ("A100", 1, 80, 24, 220),
    "Standard_NC40ads_H100_v5": ("H100-NVL", 1, 94, 40, 320),
    "Standard_ND96asr_v4": ("A100", 8, 320, 96, 900),
    "Standard_ND96isr_H100_v5": ("H100", 8, 640, 96, 1900),
    "Standard_D4s_v5": ("", 0, 0, 4, 16),
}
GCP = {
    "g2-standard-4": ("L4", 1, 24, 4, 16),
    "g2-standard-8": ("L4", 1, 24, 8, 32),
    "g2-standard-12": ("L4", 1, 24, 12, 48),
    "g2-standard-24": ("L4", 2, 48, 24, 96),
    "g2-standard-48": ("L4", 4, 96, 48, 192),
    "a2-highgpu-1g": ("A100", 1, 40, 12, 85),
    "a2-highgpu-2g": ("A100", 2, 80, 24, 170),
    "a2-highgpu-4g": ("A100", 4, 160, 48, 340),
    "a2-highgpu-8g": ("A100", 8, 320, 96, 680),
    "a2-ultragpu-1g": ("A100", 1, 80, 12, 170),
    "a3-highgpu-8g": ("H100", 8, 640, 208, 1872),
    "n2-standard-4": ("", 0, 0, 4, 16),
}
AZURE_REGIONS = ["eastus", "eastus2", "westeurope"]
GCP_REGIONS = ["us-central1", "us-east1", "europe-west4"]
COLUMNS = [
    "cloud", "region", "name", "gpu_model", "gpus", "gpu_memory_gib", "vcpus", "memory_gib",
    "on_demand_usd_per_hour", "spot_usd_per_hour", "concurrency", "speed", "price_date",
]
# Requests served at once by default: 4 per accelerator (a batch an inference server keeps
# in flight), or one per vCPU for CPU-only types.
PER_GPU = 4


def row(cloud, region, name, spec, on_demand, spot, date):
    model, gpus, gmem, vcpus, mem = spec
    if gpus:
        concurrency = PER_GPU * gpus
        speed = round(TFLOPS[model] / REFERENCE_TFLOPS, 3)
        model = model.replace("-PCIe", "").replace("-NVL", " NVL")
    else:
        concurrency, speed = vcpus, 1.0
    return {
        "cloud": cloud, "region": region, "name": name, "gpu_model": model, "gpus": gpus,
        "gpu_memory_gib": gmem, "vcpus": vcpus, "memory_gib": mem,
        "on_demand_usd_per_hour": on_demand, "spot_usd_per_hour": spot,
        "concurrency": concurrency, "speed": speed, "price_date": date,
    }


def price(text):
    # The source's own decimal text, normalised (no trailing zeros), so the CSV is stable.
    return repr(float(text)) if text else ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join("..", "shared", "data"))
    ap.add_argument("--out", default=os.path.join("scenarios", "data", "catalog", "instance_types.csv"))
    args = ap.parse_args()
    rows = []
    with open(os.path.join(args.data, "aws_ec2_ondemand_prices_us-east-1.csv")) as f:
        for r in csv.DictReader(f):
            if r["instance_type"] in AWS:
                rows.append(row("aws", r["region"], r["instance_type"], AWS[r["instance_type"]],
                                price(r["ondemand_usd_per_hour"]), "", r["generated_at_utc"][:10]))
    with open(os.path.join(args.data, "azure_vm_ondemand_prices.csv")) as f:
        for r in csv.DictReader(f):
            if r["vm_size"] in AZURE and r["region"] in AZURE_REGIONS:
                rows.append(row("azure", r["region"], r["vm_size"], AZURE[r["vm_size"]],
                                price(r["ondemand_usd_per_hour"]), "", r["generated_at_utc"][:10]))
    with open(os.path.join(args.data, "gcp_vm_prices.csv")) as f:
        for r in csv.DictReader(f):
            if r["machine_type"] in GCP and r["region"] in GCP_REGIONS:
                rows.append(row("gcp", r["region"], r["machine_type"], GCP[r["machine_type"]],
                                price(r["ondemand_usd_per_hour"]), price(r["spot_usd_per_hour"]),
                                r["source_commit_date"][:10]))
    found = {(r["cloud"], r["name"]) for r in rows}
    for cloud, table in (("aws", AWS), ("azure", AZURE), ("gcp", GCP)):
        for name in table:
            if (cloud, name) not in found:
                sys.exit(f"{cloud} {name}: no price in the source data")
    order = {"aws": 0, "azure": 1, "gcp": 2}
    rows.sort(key=lambda r: (order[r["cloud"]], r["region"], r["name"]))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} rows to {args.out}")


if __name__ == "__main__":
    main()
