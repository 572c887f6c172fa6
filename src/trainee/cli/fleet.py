"""`trainee fleet PRESET_OR_FILE --merge ... --instances N --seeds S --out DIR`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import tyro

from trainee.cli.common import parse


@dataclass(frozen=True)
class FleetCommandConfig:
    """Train a fleet (N instances, each on its own job, merged every K updates) and its
    baselines (specialists, merge at the end, one generalist) with the same experience;
    write DIR/summary.json (held-out success over the jobs, IQM and 95% CI over seeds)."""

    preset: Annotated[str, tyro.conf.Positional, tyro.conf.arg(metavar="PRESET_OR_FILE")]
    """A preset (corridor, errands) or a YAML/JSON file of FleetConfig fields."""
    merge: str | None = None
    """Merge rule registered in trainee.fleet.merge.RULES (mean, ties, diloco) or none
    (default: the preset's)."""
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

    def validate(self) -> None:
        from trainee.configs import Range, check_ranges

        check_ranges(self, {"instances": Range(1, 1024), "seeds": Range(1, 1000),
                            "merge_every": Range(1, 10**6)})


def main(args: list[str]) -> None:
    from trainee.configs import to_mapping
    from trainee.fleet.config import load_fleet_config

    parsed = parse(FleetCommandConfig, args, "fleet")
    config = load_fleet_config(parsed.preset)
    overrides = {name: getattr(parsed, name)
                 for name in ("merge", "instances", "seeds", "merge_every")
                 if getattr(parsed, name) is not None}
    config = dataclasses.replace(config, **overrides)
    plan = {"fleet": to_mapping(config), "source": parsed.preset, "executor": parsed.executor}
    run_fleet_command(plan, parsed.out, not parsed.quiet)


def run_fleet_command(plan: dict, out: Path, show_progress: bool = True) -> dict:
    """Run the fleet `plan` ({fleet: FleetConfig fields, executor}) into `out`, recorded."""
    from trainee import runs
    from trainee.configs import from_mapping
    from trainee.fleet.config import FleetConfig
    from trainee.fleet.experiment import run_fleet_experiment
    from trainee.measures import format_ci

    if plan["executor"] == "ray":
        from trainee.runtime import ensure_ray

        ensure_ray()  # before JAX starts work in this process
    config = from_mapping(FleetConfig, plan["fleet"], where="fleet config")
    config.validate()
    with runs.recorded_run(out, "fleet", plan, worlds=[config.world], learner=config.hp.learner,
                           seeds=config.seeds) as record:
        record.summary = summary = run_fleet_experiment(config, out, plan["executor"],
                                                        show_progress)
    line = ", ".join(f"{agent} {format_ci(summary[agent], 2)}"
                     for agent in ("merged", "specialists", "end_merge", "generalist"))
    print(f"held-out success ({summary['held_out_split']}): {line}")
    print(f"{summary['merges']} merges, {summary['bytes_communicated']:,} bytes; "
          f"summary in {out / 'summary.json'}")
    return summary


def rerun(record: dict, out: Path) -> Path:
    run_fleet_command(record["config"], out)
    return out / "summary.json"
