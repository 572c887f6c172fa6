"""`trainee fleet PRESET_OR_FILE --merge ... --instances N --seeds S --out DIR`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import tyro


@dataclass(frozen=True)
class FleetArgs:
    """Train a fleet (N instances, each on its own job, merged every K updates) and its
    baselines (specialists, merge at the end, one generalist) with the same experience;
    write DIR/summary.json (held-out success over the jobs, IQM and 95% CI over seeds)."""

    preset: tyro.conf.Positional[str]
    """A preset (corridor, errands) or a YAML/JSON file of FleetConfig fields."""
    merge: Literal["mean", "ties", "diloco", "none"] | None = None
    """Merge rule (default: the preset's)."""
    instances: int | None = None
    """Instances N (default: the preset's)."""
    seeds: int | None = None
    """Repetitions (default: the preset's)."""
    merge_every: int | None = None
    """Updates between merges K (default: the preset's)."""
    out: Path = Path("runs/fleet")
    """Run directory (summary.json goes here)."""
    executor: Literal["local", "ray"] = "local"
    """local: one process, instances vmapped; ray: each instance a Ray actor
    (RAY_ADDRESS selects an existing cluster)."""
    quiet: bool = False
    """No progress bar."""


def cmd_fleet(args: list[str]) -> None:
    from trainee.fleet.config import load_fleet_config
    from trainee.fleet.experiment import run_fleet_experiment

    parsed = tyro.cli(FleetArgs, args=args, prog="trainee fleet")
    if parsed.executor == "ray":
        from trainee.executor import ensure_ray

        ensure_ray()  # before JAX starts work in this process
    config = load_fleet_config(parsed.preset)
    overrides = {name: getattr(parsed, name)
                 for name in ("merge", "instances", "seeds", "merge_every")
                 if getattr(parsed, name) is not None}
    config = dataclasses.replace(config, **overrides)
    summary = run_fleet_experiment(config, parsed.out, parsed.executor, not parsed.quiet)
    line = ", ".join(f"{agent} {summary[agent]['iqm']:.2f} "
                     f"[{summary[agent]['ci_low']:.2f}, {summary[agent]['ci_high']:.2f}]"
                     for agent in ("merged", "specialists", "end_merge", "generalist"))
    print(f"held-out success ({summary['held_out_split']}): {line}")
    print(f"{summary['merges']} merges, {summary['bytes_communicated']:,} bytes; "
          f"summary in {parsed.out / 'summary.json'}")
