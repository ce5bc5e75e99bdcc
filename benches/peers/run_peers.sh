#!/usr/bin/env bash
# Runs fleetsim, the hand-written yardstick and SimPy on the same M/M/16 workload
# (λ = 14.4/s, exponential service mean 1 s, 16 servers, ~2,000,000 arrivals), then fleetsim's
# peak memory for 1 h and 24 h of simulated time, and writes output/peers.md.
#
#   bash benches/peers/run_peers.sh
#
# Needs only cargo and python3: SimPy is installed into benches/peers/.venv (git-ignored) on the
# first run. Takes about two minutes, nearly all of it SimPy.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo build --release --quiet --bin fleetsim --example yardstick_mm16 --example peak_rss

venv=benches/peers/.venv
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet -r benches/peers/requirements.txt
fi

python3 benches/peers/measure.py --simpy-python "$venv/bin/python" --out output/peers.md
