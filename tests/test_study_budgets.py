"""`trainee run`'s study bars know their totals (issue 16, part 6): each study advances
exactly the budget stored for it (`trainee.studies.budgets`), so the bar ends at its
total and the ETA on the way is honest. A study whose design changes fails here until
`python benchmarks/study_budgets.py --scale tiny` remeasures it."""

from __future__ import annotations

import pytest

from trainee.runtime import progress
from trainee.studies import STUDIES
from trainee.studies.budgets import budget
from trainee.studies.runner import run_one


def bars_of(name: str, monkeypatch) -> list:
    with progress.recorded_bars() as bars:
        run_one(name, "tiny", 5, quiet=True)
    return bars


def check(name: str, monkeypatch) -> None:
    bar = bars_of(name, monkeypatch)[0]  # the study's own (a career inside opens its own)
    assert bar.total == budget(name, "tiny", 5) is not None
    assert bar.done == bar.total, (name, bar.done, bar.total)


def test_every_study_has_a_tiny_budget():
    assert all(budget(name, "tiny", 5) for name in STUDIES)
    assert budget("gap", "tiny", 2) * 5 == budget("gap", "tiny", 5) * 2  # per seed
    assert budget("gap", "tiny", 5, learner="mine.py:factory") is None  # never measured


def test_a_study_bar_ends_at_its_total(monkeypatch):
    check("jaggedness", monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(STUDIES))
def test_every_study_bar_ends_at_its_total(name, monkeypatch):
    check(name, monkeypatch)
