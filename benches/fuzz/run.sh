#!/usr/bin/env bash
# Fuzzes the scenario reader with libFuzzer (cargo-fuzz) for N minutes: benches/fuzz/run.sh [N]
# (default 3) [extra libFuzzer flags]. Not part of CI. The target, fuzz/fuzz_targets/
# scenario_reader.rs, parses any bytes as a scenario file (or a `--set` argument and a file)
# and fails on a panic, a problem without a help line, or printed text that is unbounded or
# holds a control character.
#
# Seeds: every shipped scenario and every file of the bad-input corpus. New inputs go to
# fuzz/corpus/scenario_reader/ (kept between runs, not committed), crashes to
# fuzz/artifacts/scenario_reader/: re-run one with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run scenario_reader fuzz/artifacts/scenario_reader/crash-...
#
# Needs `cargo install cargo-fuzz`. cargo-fuzz asks for nightly features (-Zsanitizer);
# RUSTC_BOOTSTRAP=1 opens them on the stable toolchain, and the address sanitizer's runtime
# ships with it for x86_64 Linux.
set -euo pipefail

minutes="${1:-3}"
shift || true
root="$(cd "$(dirname "$0")/../.." && pwd)"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is not installed: cargo install cargo-fuzz" >&2
    exit 2
fi

corpus="$root/fuzz/corpus/scenario_reader"
seeds="$(mktemp -d)"
trap 'rm -rf "$seeds"' EXIT
mkdir -p "$corpus"
for f in "$root"/scenarios/*.toml "$root"/tests/bad_scenarios/*.toml; do
    # Prefixed by folder: a shipped and a broken file may share a name.
    cp "$f" "$seeds/$(basename "$(dirname "$f")")_$(basename "$f")"
done

cd "$root/fuzz"
# -timeout: an input that takes 10 s is a finding (validation is linear and takes milliseconds);
# -rss_limit_mb: so is one that needs 2 GB; -max_len: room for the largest shipped scenario.
RUSTC_BOOTSTRAP=1 cargo fuzz run scenario_reader "$corpus" "$seeds" -- \
    -max_total_time=$((minutes * 60)) \
    -dict="$root/fuzz/scenario_reader.dict" \
    -max_len=32768 \
    -timeout=10 \
    -rss_limit_mb=2048 \
    -print_final_stats=1 \
    "$@"
