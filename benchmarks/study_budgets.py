"""Measure each study's work (the units its progress bar advances, per seed) at a scale
and store it in src/trainee/studies/budgets.json, so `trainee run` shows totals and ETAs.

    python benchmarks/study_budgets.py --scale tiny
    python benchmarks/study_budgets.py --scale quick --studies gap,care

It runs the studies (as `trainee run` would, at the scale's seeds) and counts; rerun it
after changing a study's design (tests/test_study_budgets.py fails until then).
"""

from __future__ import annotations

import argparse
import time

from trainee.runtime import progress
from trainee.studies import budgets, parse_names
from trainee.studies.runner import run_one
from trainee.studies.scale import get_scale


def measure(name: str, scale: str, learner: str = "ppo") -> tuple[int, float]:
    """(units per seed, seconds) of one study at `scale`."""
    seeds = get_scale(scale).seeds
    with progress.recorded_bars() as bars:
        start = time.perf_counter()
        run_one(name, scale, seeds, quiet=True, learner=learner)
    units = bars[0].done  # the study's own bar (a career inside it opens another)
    if units % seeds:
        raise RuntimeError(f"{name}: {units} units is not a multiple of {seeds} seeds")
    return int(units // seeds), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="tiny")
    parser.add_argument("--studies", default="all")
    parser.add_argument("--learner", default="ppo")
    args = parser.parse_args()
    measured = {}
    for name in parse_names(args.studies):
        units, seconds = measure(name, args.scale, args.learner)
        measured[name] = units
        print(f"{name:<15} {units:>12,} units per seed  ({seconds:.0f} s)", flush=True)
        budgets.record({args.scale: {args.learner: {name: units}}})


if __name__ == "__main__":
    main()
