"""Merge rules across merge intervals: held-out success of the merged agent for each
(rule, K), with the specialists, merge-at-the-end and the generalist as references;
a PNG plot.

    python -m trainee.fleet.sweep corridor --rules mean diloco --intervals 2 4 8 \\
        --out benchmarks/fleet_intervals
    trainee rerun benchmarks/fleet_intervals     # the same sweep again, from its record

The references do not depend on the rule, so they are trained once (`merge: none`, the
preset's K), or read from an experiment's summary.json of the same config and seeds
(`--reference`), and every (rule, K) trains only its merged fleet. Choose a budget whose
update count every K divides, or the fleets of larger K drop the remainder.
Writes OUT/record.json (the resolved sweep: `trainee.runs`), OUT/results.json
(`reference` and one row per (rule, K), atomically) and OUT/fleet_intervals.png.
"""

from __future__ import annotations

import dataclasses
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import tyro

from trainee.fleet.config import FleetConfig, load_fleet_config
from trainee.fleet.experiment import run_fleet_experiment
from trainee.fleet.merge import RULES
from trainee.store import atomic_write_bytes

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


def sweep(base: FleetConfig, rules: list[str], intervals: list[int], out: Path,
          reference: Path | None = None) -> dict:
    """`{"reference": {agent: iqm/CI}, "rows": [one per (rule, K)]}` over `base.seeds`
    seeds. `reference`: a summary.json of the same config (any rule) with at least that
    many seeds, read at the end instead of training the references."""
    seeds = base.seeds
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
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=120)
    plt.close(fig)
    atomic_write_bytes(path, png.getvalue())  # like results.json: never half a file


@dataclass(frozen=True)
class SweepConfig:
    """Held-out success of the merged fleet for each merge rule and interval K, with the
    references trained once; OUT/results.json and OUT/fleet_intervals.png."""

    preset: Annotated[str, tyro.conf.Positional, tyro.conf.arg(metavar="PRESET_OR_FILE")]
    """A fleet preset (corridor, errands) or a YAML/JSON file of FleetConfig fields."""
    rules: tuple[str, ...] = ("mean", "diloco")
    """Merge rules to sweep (names registered in trainee.fleet.merge.RULES)."""
    intervals: tuple[int, ...] = (2, 4, 8)
    """Updates between merges K to sweep."""
    seeds: int = 5
    """Repetitions of every (rule, K)."""
    instances: int | None = None
    """Instances N (default: the preset's)."""
    reference: Path | None = None
    """summary.json of the same config: its baselines, not retrained."""
    out: Path = Path("benchmarks/fleet_intervals")
    """Run directory of the sweep."""


def resolve(config: SweepConfig) -> dict:
    """The sweep's record config: the base fleet resolved to its fields, the grid."""
    from trainee.configs import to_mapping

    base = dataclasses.replace(load_fleet_config(config.preset), seeds=config.seeds)
    if config.instances is not None:
        base = dataclasses.replace(base, instances=config.instances)
    return {"fleet": to_mapping(base), "source": config.preset, "rules": list(config.rules),
            "intervals": list(config.intervals),
            "reference": None if config.reference is None else str(config.reference)}


def run_sweep(plan: dict, out: Path) -> dict:
    """Run the sweep `plan` (see `resolve`) into `out`, recorded; returns the results."""
    from trainee import runs
    from trainee.configs import from_mapping
    from trainee.store import atomic_write_json

    base = from_mapping(FleetConfig, plan["fleet"], where="sweep fleet config")
    base.validate()
    for rule in plan["rules"]:
        RULES.get(rule)  # before any training: a one-line ValueError naming the rule
    out = Path(out)
    with runs.recorded_run(out, "fleet-sweep", plan, worlds=[base.world],
                           learner=base.hp.learner, seeds=base.seeds) as record:
        reference = None if plan["reference"] is None else Path(plan["reference"])
        results = sweep(base, plan["rules"], plan["intervals"], out, reference)
        atomic_write_json(out / "results.json", results)
        plot(results, out / "fleet_intervals.png", f"{plan['source']}: merge rule vs interval")
        record.summary = results
    return results


def rerun(record: dict, out: Path) -> Path:
    """`trainee rerun` of a sweep: the same plan into `out`."""
    run_sweep(record["config"], out)
    return out / "results.json"


def main(argv: list[str] | None = None) -> int:
    from trainee.errors import run_command
    from trainee.runtime import enable_compilation_cache

    def command(args: list[str]) -> None:
        config = tyro.cli(SweepConfig, args=args, prog="python -m trainee.fleet.sweep")
        run_sweep(resolve(config), config.out)

    enable_compilation_cache()
    return run_command(command, sys.argv[1:] if argv is None else argv,
                       prog="trainee.fleet.sweep")


if __name__ == "__main__":
    sys.exit(main())
