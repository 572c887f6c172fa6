"""Merge rules across merge intervals: held-out success of the merged agent for each
(rule, K), with the specialists, merge-at-the-end and the generalist as references;
a PNG plot.

    python -m trainee.fleet.sweep corridor --rules mean diloco --intervals 2 4 8 \\
        --out benchmarks/fleet_intervals

The references do not depend on the rule, so they are trained once (`merge: none`, the
preset's K), or read from an experiment's summary.json of the same config and seeds
(`--reference`), and every (rule, K) trains only its merged fleet. Choose a budget whose
update count every K divides, or the fleets of larger K drop the remainder.
Writes OUT/results.json (`reference` and one row per (rule, K)) and
OUT/fleet_intervals.png.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from trainee.fleet.config import load_fleet_config
from trainee.fleet.experiment import run_fleet_experiment

REFERENCES = ("specialists", "end_merge", "generalist")


def reference_from(summary: dict, seeds: int) -> dict:
    """The references (IQM, 95% CI on the held-out split) over the first `seeds` seeds
    of an experiment's summary.json."""
    import numpy as np

    from trainee.measures import iqm_ci

    per_seed = summary["per_seed"]
    if len(per_seed["specialists/held_out"]) < seeds:
        raise ValueError(f"the reference summary has fewer than {seeds} seeds")
    reference = {agent: iqm_ci(np.array(
        [np.mean(s) for s in per_seed[f"{agent}/held_out"][:seeds]])).to_json()
        for agent in REFERENCES}
    reference["env_steps_per_instance"] = summary["env_steps_per_instance"]
    return reference


def sweep(preset: str, rules: list[str], intervals: list[int], seeds: int, out: Path,
          instances: int | None = None, reference: Path | None = None) -> dict:
    """`{"reference": {agent: iqm/CI}, "rows": [one per (rule, K)]}`. `reference`: a
    summary.json of the same config (any rule) with at least `seeds` seeds, read at the
    end instead of training the references."""
    base = dataclasses.replace(load_fleet_config(preset), seeds=seeds)
    if instances is not None:
        base = dataclasses.replace(base, instances=instances)
    rows = []
    for rule in rules:
        for k in intervals:
            config = dataclasses.replace(base, merge=rule, merge_every=k)
            summary = run_fleet_experiment(config, out / f"{rule}-K{k}", show_progress=False,
                                           baselines=False)
            row = {"rule": rule, "merge_every": k, "merges": summary["merges"],
                   "bytes_communicated": summary["bytes_communicated"],
                   "env_steps_per_instance": summary["env_steps_per_instance"],
                   "merged": summary["merged"], "train_split": summary["train_split"]["merged"]}
            rows.append(row)
            print(json.dumps(row), flush=True)
    if reference is None:
        none = run_fleet_experiment(dataclasses.replace(base, merge="none"),
                                    out / "reference", show_progress=False)
    else:
        none = json.loads(Path(reference).read_text())
    refs = reference_from(none, seeds)
    print(json.dumps({"reference": refs}), flush=True)
    return {"reference": refs, "rows": rows}


def plot(results: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["rows"]
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for rule in sorted({r["rule"] for r in rows}):
        pts = sorted((r for r in rows if r["rule"] == rule), key=lambda r: r["merge_every"])
        ks = [r["merge_every"] for r in pts]
        iqm = [r["merged"]["iqm"] for r in pts]
        low = [r["merged"]["iqm"] - r["merged"]["ci_low"] for r in pts]
        high = [r["merged"]["ci_high"] - r["merged"]["iqm"] for r in pts]
        ax.errorbar(ks, iqm, yerr=[low, high], marker="o", capsize=3, label=f"merged ({rule})")
    for agent, style in zip(REFERENCES, ("--", "-.", ":"), strict=True):
        ax.axhline(results["reference"][agent]["iqm"], linestyle=style, color="grey",
                   label=agent.replace("_", " "))
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
    parser.add_argument("--reference", type=Path, default=None,
                        help="summary.json of the same config: its baselines, not retrained")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/fleet_intervals"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = sweep(args.preset, args.rules, args.intervals, args.seeds, args.out,
                    args.instances, args.reference)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    plot(results, args.out / "fleet_intervals.png", f"{args.preset}: merge rule vs interval")


if __name__ == "__main__":
    main()
