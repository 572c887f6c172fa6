"""Merge rules across merge intervals: held-out success of the merged agent for each
(rule, K), with the specialists and the generalist as references; a PNG plot.

    python -m trainee.fleet.sweep corridor --rules mean diloco --intervals 2 4 8 \\
        --out benchmarks/fleet_intervals

Writes OUT/results.json (one summary per (rule, K)) and OUT/fleet_intervals.png.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from trainee.fleet.config import load_fleet_config
from trainee.fleet.experiment import run_fleet_experiment


def sweep(preset: str, rules: list[str], intervals: list[int], seeds: int, out: Path,
          instances: int | None = None) -> list[dict]:
    base = load_fleet_config(preset)
    if instances is not None:
        base = dataclasses.replace(base, instances=instances)
    rows = []
    for rule in rules:
        for k in intervals:
            config = dataclasses.replace(base, merge=rule, merge_every=k, seeds=seeds)
            summary = run_fleet_experiment(config, out / f"{rule}-K{k}", show_progress=False)
            row = {"rule": rule, "merge_every": k, "merges": summary["merges"],
                   "bytes_communicated": summary["bytes_communicated"]}
            for agent in ("merged", "specialists", "end_merge", "generalist"):
                row[agent] = summary[agent]
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def plot(rows: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for rule in sorted({r["rule"] for r in rows}):
        pts = sorted((r for r in rows if r["rule"] == rule), key=lambda r: r["merge_every"])
        ks = [r["merge_every"] for r in pts]
        iqm = [r["merged"]["iqm"] for r in pts]
        low = [r["merged"]["iqm"] - r["merged"]["ci_low"] for r in pts]
        high = [r["merged"]["ci_high"] - r["merged"]["iqm"] for r in pts]
        ax.errorbar(ks, iqm, yerr=[low, high], marker="o", capsize=3, label=f"merged ({rule})")
    for agent, style in (("specialists", "--"), ("generalist", ":")):
        ref = [r[agent]["iqm"] for r in rows]
        ax.axhline(sum(ref) / len(ref), linestyle=style, color="grey", label=agent)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("updates between merges (K)")
    ax.set_ylabel("held-out success (IQM, 95% CI)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset")
    parser.add_argument("--rules", nargs="+", default=["mean", "diloco"])
    parser.add_argument("--intervals", type=int, nargs="+", default=[2, 4, 8])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--instances", type=int, default=None)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/fleet_intervals"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = sweep(args.preset, args.rules, args.intervals, args.seeds, args.out, args.instances)
    (args.out / "results.json").write_text(json.dumps(rows, indent=1))
    plot(rows, args.out / "fleet_intervals.png", f"{args.preset}: merge rule vs interval")


if __name__ == "__main__":
    main()
