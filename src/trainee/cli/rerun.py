"""`trainee rerun DIR`: repeat a run from its directory alone (its record.json) into a new
directory, then compare the numbers with the original's."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import tyro

from trainee.cli.common import new_run_dir, parse

# run kind -> the module whose `rerun(record, out) -> path to compare` repeats it
RERUN = {"train": "trainee.cli.train", "career": "trainee.cli.career",
         "fleet": "trainee.cli.fleet", "fleet-sweep": "trainee.fleet.sweep",
         "study": "trainee.cli.run"}


@dataclass(frozen=True)
class RerunConfig:
    """Repeat a run from its directory alone (its record.json: the fully resolved config)
    into a new directory, and check that the numbers agree with the original's (timings
    aside). Exit code 1 when they do not."""

    run_dir: Annotated[Path, tyro.conf.Positional, tyro.conf.arg(metavar="RUN_DIR")]
    """Run directory of any kind (train, career, fleet, fleet-sweep, study)."""
    out: Path | None = None
    """Where the repeat goes (default: DIR-rerun, DIR-rerun2, ...)."""


def main(args: list[str]) -> int:
    from trainee import runs

    config = parse(RerunConfig, args, "rerun")
    record = runs.read_record(config.run_dir)
    if record["kind"] not in RERUN:
        raise ValueError(f"{config.run_dir}: runs of kind {record['kind']!r} cannot be rerun")
    out = config.out or new_run_dir(config.run_dir)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty; choose another --out")
    result = importlib.import_module(RERUN[record["kind"]]).rerun(record, out)
    runs.set_rerun_of(out, config.run_dir)
    differ = compare(config.run_dir / result.relative_to(out), result)
    if differ:
        print(f"rerun: {len(differ)} numbers differ from {config.run_dir}: "
              + ", ".join(differ[:10]))
        return 1
    print(f"rerun: same numbers as {config.run_dir} (timings aside); repeat in {out}")
    return 0


def compare(original: Path, repeat: Path) -> list[str]:
    """Paths of the numbers that differ between two result files (or directories of
    them, e.g. a study run's studies/)."""
    from trainee import runs
    from trainee.store import read_json

    if repeat.is_dir():
        names = sorted(p.name for p in repeat.glob("*.json"))
        if names != sorted(p.name for p in original.glob("*.json")):
            return [f"{repeat} (other files than {original})"]
        return [f"{name}{d}" for name in names
                for d in runs.differing_numbers(read_json(original / name),
                                                read_json(repeat / name))]
    return runs.differing_numbers(read_json(original), read_json(repeat))
