"""How much work each study is, so `trainee run`'s progress bars show a total and an ETA.

A study's work is counted in the units its `ctx.advance` reports (env steps, summed over
seeds). The count is deterministic for a (study, scale, learner) and proportional to the
seeds, but it follows from the study's whole design (its loops over worlds, horizons,
configs), so it is measured, not re-derived: `budgets.json` holds the units *per seed*,
written by `python benchmarks/study_budgets.py --scale SCALE` (which runs the studies and
counts), and `tests/test_studies_budgets.py` checks at tiny scale that a study advances
exactly its stored budget, so a study whose design changes fails until it is remeasured.

A combination that was never measured (a learner of your own, a new study) has no total:
its bar shows the work done and the rate, without an ETA.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

BUDGETS_FILE = Path(__file__).with_name("budgets.json")


@cache
def _table() -> dict:
    return json.loads(BUDGETS_FILE.read_text()) if BUDGETS_FILE.exists() else {}


def budget(name: str, scale: str, seeds: int, learner: str = "ppo") -> int | None:
    """The units study `name` advances at `scale` with `seeds` seeds, if measured."""
    per_seed = _table().get(scale, {}).get(learner, {}).get(name)
    return None if per_seed is None else per_seed * seeds


def record(measured: dict[str, dict[str, dict[str, int]]]) -> None:
    """Merge {scale: {learner: {study: units per seed}}} into budgets.json."""
    from trainee.store import atomic_write_json

    table = json.loads(BUDGETS_FILE.read_text()) if BUDGETS_FILE.exists() else {}
    for scale, learners in measured.items():
        for learner, studies in learners.items():
            table.setdefault(scale, {}).setdefault(learner, {}).update(studies)
    atomic_write_json(BUDGETS_FILE, table)
    _table.cache_clear()
