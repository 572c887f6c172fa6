"""Jobs in worker processes (`trainee.runtime.processes`, `trainee run --workers`):
results in job order, stored as they arrive, a worker's bars and compiles reach the
parent, a failing job's error is raised in the parent."""

from __future__ import annotations

import queue

import pytest

from trainee.runtime import compiles, progress
from trainee.runtime.processes import process_map


def square_with_a_bar(x: int) -> int:
    """A job that opens a bar and compiles a program, as a study does."""
    import jax
    import jax.numpy as jnp

    with progress.progress_bar(3, f"job {x}", unit="steps") as bar:
        bar.advance(3)
    return int(jax.jit(compiles.named(lambda v: v * v, f"square_{x}"))(jnp.int32(x)))


def fail(x: int) -> int:
    raise ValueError(f"job {x} failed")


def test_results_in_order_stored_as_they_arrive_with_the_workers_compiles():
    compiles.record_compiles()
    stored = {}
    results = process_map(square_with_a_bar, [(3,), (4,), (5,)], workers=2, quiet=True,
                          on_result=lambda i, r: stored.setdefault(i, r))
    assert results == [9, 16, 25]
    assert stored == {0: 9, 1: 16, 2: 25}
    names = {c.name for c in compiles.compiles()}
    assert {"jit(square_3)", "jit(square_4)", "jit(square_5)"} <= names


def test_a_failing_job_raises_its_error_here():
    with pytest.raises(ValueError, match="job 1 failed"):
        process_map(fail, [(1,)] * 2, workers=2, quiet=True)


def test_a_worker_bar_sends_its_events_and_the_parent_draws_them():
    events: queue.Queue = queue.Queue()
    progress.send_bars_to(events)
    try:
        with progress.progress_bar(10, "study", unit="env steps") as bar:
            bar.advance(4)
            bar.advance(6)
        with progress.progress_bar(5, "quiet one", disable=True) as silent:
            silent.advance(5)  # a disabled bar sends nothing
    finally:
        progress.send_bars_to(None)
    sent = [events.get_nowait() for _ in range(events.qsize())]
    assert [e[0] for e in sent] == ["open", "advance", "advance"]
    assert sent[0][2:] == (10, "study", "env steps") and bar.done == 10
    with progress.forward_bars(disable=True) as draw:
        for event in sent:
            draw(event)
