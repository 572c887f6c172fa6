"""`trainee run`: every study (or --studies) into one run directory and one HTML report.
The study runs of `trainee study` go through here too (`run_studies_command`)."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from trainee.cli.common import parse


@dataclass(frozen=True)
class RunConfig:
    """The main job: run every study (or --studies) and write one HTML report. Rerunning
    the same command resumes: finished studies are read back, never recomputed."""

    scale: Literal["quick", "standard", "full", "tiny"] = "quick"
    """quick: <= 10 min on a 2-core CPU; standard: gap and jaggedness on the field's
    worlds (XLand-MiniGrid, Craftax; docs/studies.md); full: GPU-sized (hours on a GPU, see
    docs/studies.md); tiny: seconds, for tests only (no evidence)."""
    studies: str = "all"
    """Comma-separated study names (see docs/studies.md), or all."""
    seeds: int | None = None
    """Seeds per configuration (default: the scale's, 5 at quick)."""
    out: Path | None = None
    """Run directory (default runs/<scale>; the same directory resumes)."""
    learner: str = "ppo"
    """Learner every study trains: a registered name (ppo, pg, apprentice) or a factory of your own,
    package.module:factory or path/to/file.py:factory (see docs/learners.md)."""
    executor: Literal["local", "ray"] = "local"
    """local: on this machine (see --workers); ray: each study a Ray task."""
    workers: int | None = None
    """With the local executor, how many studies run at once, each in its own process
    (default: 2 on a CPU with 2 or more cores, 1 with a GPU; 1: one after another in this
    process). The numbers are the same either way."""
    quiet: bool = False
    """No progress bars."""
    seed: int = 0
    """Base seed: every study draws its tasks, pools, episode keys and training keys from
    it (stored with the run; resuming with another is refused)."""
    placebo: bool = False
    """Run every study's placebo (a comparison with no effect by construction; it must
    not come out supported), stored apart as studies/<name>.placebo.json."""

    def validate(self) -> None:
        from trainee.configs import Range, check_ranges

        check_ranges(self, {"seeds": Range(1, 1000), "workers": Range(1, 64)})


def main(args: list[str]) -> None:
    from trainee.studies import parse_names

    config = parse(RunConfig, args, "run")
    run_studies_command(parse_names(config.studies), config.scale, config.seeds, config.out,
                        config.executor, config.quiet, config.seed, config.placebo,
                        config.learner, config.workers)


def run_studies_command(names: list[str], scale: str, seeds: int | None, out: Path | None,
                        executor: str, quiet: bool, seed: int = 0,
                        placebo: bool = False, learner: str = "ppo",
                        workers: int | None = None) -> Path:
    """Run the studies (or their placebos) of `learner` into `out` (a study run record,
    resumable), render the report, print the verdicts; returns the run directory.
    `workers`: studies at once on this machine (None: `processes.default_workers()`)."""
    from trainee import runs
    from trainee.learners import resolve_learner
    from trainee.report import render_report
    from trainee.runtime.compiles import compile_summary, record_compiles, summary_lines
    from trainee.runtime.processes import default_workers
    from trainee.studies.runner import check_run_config, run_studies
    from trainee.studies.scale import get_scale

    out = out or Path("runs") / scale
    seeds = seeds or get_scale(scale).seeds
    resolve_learner(learner)  # a bad --learner is a one-line error before anything runs
    check_run_config(out, scale, seeds, learner, seed=seed)  # a refused resume changes nothing
    if executor == "ray":
        from trainee.runtime import ensure_ray

        ensure_ray(log_to_driver=not quiet)  # before JAX starts work (the record reads devices)
    before = runs.read_record(out)["config"]["studies"] if (out / runs.RECORD_FILE).exists() \
        else []
    config = {"studies": list(dict.fromkeys([*before, *names])), "scale": scale,
              "seeds": seeds, "executor": executor, "seed": seed, "learner": learner}
    start = time.perf_counter()
    record_compiles()
    try:
        with runs.recorded_run(out, "study", config, worlds=[], learner=learner, seeds=seeds):
            stored = run_studies(names, out, scale=scale, seeds=seeds, executor=executor,
                                 quiet=quiet, seed=seed, placebo=placebo, learner=learner,
                                 workers=workers or default_workers())
    except KeyboardInterrupt:
        print(f"trainee: interrupted; rerun the same command to resume (finished studies "
              f"are kept in {out / 'studies'})", file=sys.stderr)
        raise SystemExit(130) from None
    path = render_report(out)
    print_study_table(stored)
    # one compiled program per (world, learner, network shape) is the aim (issue 17):
    # each program's compile time, in this process (a Ray executor's workers compile
    # in their own), kept beside the report
    compiled = compile_summary()
    (out / "compiles.json").write_text(json.dumps(compiled, indent=1))
    print("\n".join(summary_lines(compiled)))
    print(f"{time.perf_counter() - start:.0f} s; report: {path}")
    return out


def rerun(record: dict, out: Path) -> Path:
    """Every study of the record, at its scale and seeds, into `out`."""
    config = record["config"]
    run_studies_command(config["studies"], config["scale"], config["seeds"], out,
                        config["executor"], quiet=False, seed=config.get("seed", 0),
                        learner=config.get("learner", "ppo"))
    return out / "studies"


def print_study_table(stored: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    from trainee.measures import format_ci

    placebo = any(s.get("placebo") for s in stored)
    table = Table(title="trainee studies (placebos)" if placebo else "trainee studies")
    for column in ("study", "claim", "verdict", "key number (IQM [95% CI])"):
        table.add_column(column, overflow="fold")
    for s in stored:
        v = s["verdict"]
        number = f"{v['key']}: {format_ci(v['value'])}" if v["value"] else "-"
        table.add_row(s["name"], s["claim"], v["status"], number)
    Console().print(table)
