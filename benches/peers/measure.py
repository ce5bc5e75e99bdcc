"""Times fleetsim, the yardstick and SimPy on the M/M/16 workload and measures fleetsim's peak
memory for 1 h and 24 h of simulated time; writes a Markdown report. Called by run_peers.sh
(which builds the binaries and the SimPy venv first). Standard library only.

Wall time is the best of several runs for the two Rust programs (a sub-second run is easily
disturbed by the machine), one run for SimPy (a minute long, its noise is small). Peak RSS is
the kernel's ru_maxrss of the child, read by `peak_rss` (see peak_rss.rs for why not here).
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLEETSIM = ROOT / "target/release/fleetsim"
YARDSTICK = ROOT / "target/release/examples/yardstick_mm16"
PEAK_RSS = ROOT / "target/release/examples/peak_rss"
PEERS = ROOT / "benches/peers"
SCRATCH = Path(tempfile.mkdtemp(prefix="fleetsim-peers-"))


def run_measured(cmd):
    """Runs `cmd` under peak_rss; returns (wall seconds, peak RSS KiB, stdout)."""
    start = time.perf_counter()
    proc = subprocess.run([PEAK_RSS, *cmd], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stderr}")
    rss = int(proc.stderr.strip().splitlines()[-1].removeprefix("peak_rss_kib "))
    return wall, rss, proc.stdout


def best_of(n, cmd):
    runs = [run_measured(cmd) for _ in range(n)]
    return min(r[0] for r in runs), max(r[1] for r in runs), runs[0][2]


def fleetsim(scenario, out_dir, repeats):
    wall, rss, _ = best_of(repeats, [FLEETSIM, "run", scenario, "--out", out_dir])
    summary = json.loads((Path(out_dir) / "summary.json").read_text())
    return wall, rss, summary


def peak_rss_median(scenario, out_dir, repeats):
    """Median peak RSS of `repeats` runs: single runs vary by ~100 KiB (allocator, kernel)."""
    runs = [run_measured([FLEETSIM, "run", scenario, "--out", out_dir]) for _ in range(repeats)]
    rss = sorted(r[1] for r in runs)[len(runs) // 2]
    return rss, json.loads((Path(out_dir) / "summary.json").read_text())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--simpy-python", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    scratch = SCRATCH

    fs_wall, fs_rss, fs = fleetsim(PEERS / "mm16.toml", scratch / "mm16", args.repeats)
    ys_wall, ys_rss, ys_out = best_of(args.repeats, [YARDSTICK])
    print(f"fleetsim {fs_wall:.3f} s, yardstick {ys_wall:.3f} s; running SimPy (about a minute)...")
    sp_wall, sp_rss, sp_out = run_measured([args.simpy_python, PEERS / "simpy_mm16.py"])
    rss_1h, s1 = peak_rss_median(PEERS / "mm16_1h.toml", scratch / "1h", args.repeats)
    rss_24h, s24 = peak_rss_median(PEERS / "mm16_24h.toml", scratch / "24h", args.repeats)

    events = fs["events"]
    arrived = fs["requests"]["arrived"]
    ratio_ys = fs_wall / ys_wall
    ratio_sp = sp_wall / fs_wall
    ratio_rss = rss_24h / rss_1h
    ok = lambda b: "met" if b else "MISSED"
    report = f"""# fleetsim against its peers: M/M/16, λ = 14.4/s, mean service 1 s, ~2,000,000 arrivals

Produced by `bash benches/peers/run_peers.sh` on {platform.machine()} with {os.cpu_count()} CPUs,
{platform.system()} {platform.release()}, Python {platform.python_version()}.
Wall time: best of {args.repeats} runs for fleetsim and the yardstick, one run for SimPy.
Peak RSS of the 1 h and 24 h runs: median of {args.repeats} runs.

| program | wall time | events | events / s | arrivals / s of wall time | peak RSS |
|---|---:|---:|---:|---:|---:|
| fleetsim CLI (`run benches/peers/mm16.toml`, outputs written) | {fs_wall:.3f} s | {events:,} | {events / fs_wall:,.0f} | {arrived / fs_wall:,.0f} | {fs_rss:,} KiB |
| yardstick (`benches/yardstick/mm16.rs`) | {ys_wall:.3f} s | {int(ys_out.split()[2]):,} | {int(ys_out.split()[2]) / ys_wall:,.0f} | {2_000_000 / ys_wall:,.0f} | {ys_rss:,} KiB |
| SimPy 4 (`benches/peers/simpy_mm16.py`) | {sp_wall:.1f} s | | | {2_000_000 / sp_wall:,.0f} | {sp_rss:,} KiB |

- fleetsim / yardstick wall time: **{ratio_ys:.2f}x** (target ≤ 2x: {ok(ratio_ys <= 2.0)})
- SimPy / fleetsim wall time: **{ratio_sp:.0f}x** (target ≥ 100x: {ok(ratio_sp >= 100.0)})
- fleetsim peak RSS, 24 h vs 1 h simulated ({s24['requests']['arrived']:,} vs {s1['requests']['arrived']:,} arrivals):
  {rss_24h:,} KiB vs {rss_1h:,} KiB, ratio **{ratio_rss:.3f}** (target ≤ 1.10: {ok(ratio_rss <= 1.10)})

Mean latency (Erlang C: 1.3456 s): fleetsim {fs['latency_seconds']['mean']:.4f} s;
{ys_out.strip()}; {sp_out.strip()}.
"""
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(report)
    tmp.replace(out)
    shutil.rmtree(SCRATCH, ignore_errors=True)
    print(report)


if __name__ == "__main__":
    main()
