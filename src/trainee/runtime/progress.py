"""Progress bars for long work (rich), one look across the CLI."""

from __future__ import annotations

from collections.abc import Iterator
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
        self.progress.advance(self.task_id, n)
        speed = self.progress.tasks[0].speed
        if speed:
            self.progress.update(self.task_id, rate=f"{speed:,.0f} {self.unit}/s")


@contextmanager
def progress_bar(total: float | None, description: str, unit: str = "steps",
                 disable: bool = False) -> Iterator[Bar]:
    """A bar of `total` units (None: unknown, so no ETA; every long job should know it)."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=disable,
    )
    with progress:
        yield Bar(progress, progress.add_task(description, total=total, rate=""), unit, total)


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
