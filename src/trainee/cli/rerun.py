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
    """Run directory of any kind (train, career, fleet, fleet-sweep, study), or an
    evaluation's DIR/eval-<split>.json (the path `trainee runs` lists for kind eval)."""
    out: Path | None = None
    """Where the repeat goes (default: DIR-rerun, DIR-rerun2, ...; for an evaluation
    DIR/eval-<split>-rerun.json)."""


def main(args: list[str]) -> int:
    from trainee import runs

    config = parse(RerunConfig, args, "rerun")
    if config.run_dir.is_file():
        return rerun_evaluation(config.run_dir, config.out)
    record = runs.read_record(config.run_dir)
    if record["kind"] not in RERUN:
        raise ValueError(f"{config.run_dir}: runs of kind {record['kind']!r} cannot be rerun")
    out = config.out or new_run_dir(config.run_dir)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty; choose another --out")
    result = importlib.import_module(RERUN[record["kind"]]).rerun(record, out)
    runs.set_rerun_of(out, config.run_dir)
    return verdict(config.run_dir, compare(config.run_dir / result.relative_to(out), result),
                   out)


def rerun_evaluation(original: Path, out: Path | None) -> int:
    """`trainee rerun DIR/eval-<split>.json`: evaluate the same run with the same
    settings (stored in the file) into `out`, and compare."""
    from trainee.evaluation_run import evaluate_run
    from trainee.store import read_json

    settings = read_json(original).get("config") if original.suffix == ".json" else None
    if not isinstance(settings, dict):
        raise ValueError(f"{original} is not an evaluation file with its settings (written "
                         "by `trainee eval`); pass a run directory or an eval-<split>.json")
    out = out or original.with_name(f"{original.stem}-rerun.json")
    if out.exists():
        raise FileExistsError(f"{out} exists; choose another --out")
    settings = dict(settings)
    evaluate_run(Path(settings.pop("run")), **settings, out=out)
    return verdict(original, compare(original, out), out)


def verdict(original: Path, differ: list[str], out: Path) -> int:
    if differ:
        print(f"rerun: {len(differ)} numbers differ from {original}: " + ", ".join(differ[:10]))
        return 1
    print(f"rerun: same numbers as {original} (timings aside); repeat in {out}")
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
