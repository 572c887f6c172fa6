"""Progress bars for long work (rich), one look across the CLI.

In a worker process of `runtime.processes` the bars are not drawn there: each bar's
events go to the parent (`send_bars_to`), which draws every worker's bars together
(`forward_bars`).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class Bar:
    """Advance with `bar.advance(n)`; shows done/total, the rate and the time left."""

    def __init__(self, progress: Progress, task_id, unit: str, total: float | None = None):
        self.progress, self.task_id, self.unit = progress, task_id, unit
        self.total, self.done = total, 0.0  # done: units advanced so far

    def advance(self, n: float) -> None:
        self.done += n
        _advance(self.progress, self.task_id, n, self.unit)


def _advance(progress: Progress, task_id, n: float, unit: str) -> None:
    progress.advance(task_id, n)
    speed = next(t for t in progress.tasks if t.id == task_id).speed
    if speed:
        progress.update(task_id, rate=f"{speed:,.0f} {unit}/s")


def _progress(disable: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=disable,
    )


class _SentBar:
    """A worker's bar: its events go to the parent's `forward_bars`."""

    def __init__(self, events, total: float | None, description: str, unit: str):
        self.events, self.total, self.done = events, total, 0.0
        self.key = (os.getpid(), next(_bar_ids))
        events.put(("open", self.key, total, description, unit))

    def advance(self, n: float) -> None:
        self.done += n
        self.events.put(("advance", self.key, n))


_events = None  # set in a worker process: where its bars' events go
_bar_ids = itertools.count()


def send_bars_to(events) -> None:
    """In a worker process: send every bar's events to `events` (a multiprocessing
    queue the parent reads with `forward_bars`) instead of drawing it here."""
    global _events
    _events = events


@contextmanager
def progress_bar(total: float | None, description: str, unit: str = "steps",
                 disable: bool = False) -> Iterator[Bar]:
    """A bar of `total` units (None: unknown, so no ETA; every long job should know it)."""
    if _events is not None and not disable:
        yield _SentBar(_events, total, description, unit)
        return
    with _progress(disable) as progress:
        yield Bar(progress, progress.add_task(description, total=total, rate=""), unit, total)


@contextmanager
def forward_bars(disable: bool = False) -> Iterator[Callable[[tuple], None]]:
    """Draw the bars of worker processes: yields `draw(event)`, to be called with each
    event read from the queue given to the workers' `send_bars_to`."""
    bars: dict[tuple, tuple] = {}
    with _progress(disable) as progress:
        def draw(event: tuple) -> None:
            kind, key, *rest = event
            if kind == "open":
                total, description, unit = rest
                bars[key] = (progress.add_task(description, total=total, rate=""), unit)
            else:
                task_id, unit = bars[key]
                _advance(progress, task_id, rest[0], unit)

        yield draw


@contextmanager
def recorded_bars() -> Iterator[list[Bar]]:
    """Every bar opened inside the block, silent, in a list (for counting a job's work:
    benchmarks/study_budgets.py and its test)."""
    global progress_bar
    bars: list[Bar] = []
    real = progress_bar

    @contextmanager
    def recording(total, description, unit="steps", disable=False):
        with real(total, description, unit, disable=True) as bar:
            bars.append(bar)
            yield bar

    progress_bar = recording
    try:
        yield bars
    finally:
        progress_bar = real
