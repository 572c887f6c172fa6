"""Jobs in worker processes on this machine (`trainee run --workers N`).

The studies of a quick run are small-kernel JAX programs: one process keeps about 1.3 of
this machine's 2 cores busy, so two studies at once finish sooner than one after another
(measured: docs/studies.md, "Time"). `process_map` runs `fn(*args)` for each job in a pool
of `workers` processes (spawned, never forked: a forked JAX runtime deadlocks), a fresh one
for each job, each with the parent's compilation cache, so a program one job compiled the
next loads.

Progress bars a job opens in a worker are drawn by the parent (`progress.forward_bars`),
one line per bar, and the programs a worker compiles are added to the parent's compile
records (`compiles.add`), so `trainee run` prints and stores every compile of the run.
"""

from __future__ import annotations

import multiprocessing
import queue as queues
from collections.abc import Callable, Sequence
from typing import Any

from trainee.runtime.progress import forward_bars


def default_workers() -> int:
    """2 on a machine with at least 2 CPU cores and no accelerator, else 1: two processes
    on one GPU would each reserve most of its memory, and more than two on a CPU were not
    measured (pass --workers to choose)."""
    import os

    import jax

    cores = os.cpu_count() or 1
    return 2 if cores >= 2 and jax.default_backend() == "cpu" else 1


def _start_worker(events) -> None:
    from trainee.runtime import progress
    from trainee.runtime.compiles import record_compiles
    from trainee.runtime.xla import enable_compilation_cache

    enable_compilation_cache()
    record_compiles()
    progress.send_bars_to(events)


def _run_job(fn: Callable, args: tuple):
    from trainee.runtime.compiles import compiles

    before = len(compiles())
    result = fn(*args)
    return result, compiles()[before:]


def process_map(fn: Callable, jobs: Sequence[tuple], workers: int,
                on_result: Callable[[int, Any], None] | None = None,
                quiet: bool = False) -> list:
    """`[fn(*args) for args in jobs]`, at most `workers` at a time, each job in a fresh
    worker process; results in job order. `fn` must be a module-level function whose
    arguments and result pickle. `on_result(i, result)` is called here as each job
    finishes (to store it at once). A failing job's exception is raised here; on it, or
    on Ctrl-C, the running jobs are stopped at once and the others never start."""
    context = multiprocessing.get_context("spawn")
    events = context.Queue()
    pool = context.Pool(workers, initializer=_start_worker, initargs=(events,),
                        maxtasksperchild=1)
    try:
        with forward_bars(quiet) as draw:
            results = _collect([pool.apply_async(_run_job, (fn, args)) for args in jobs],
                               events, draw, on_result)
        pool.close()
        pool.join()
        return results
    finally:
        pool.terminate()


def _collect(handles: list, events, draw: Callable[[tuple], None],
             on_result: Callable[[int, Any], None] | None) -> list:
    from trainee.runtime.compiles import add

    results: list = [None] * len(handles)
    pending = dict(enumerate(handles))
    while pending:
        _draw_events(events, draw)
        for i, handle in list(pending.items()):
            if handle.ready():
                results[i], compiled = handle.get()  # a job's error is raised here
                add(compiled)
                del pending[i]
                if on_result is not None:
                    on_result(i, results[i])
    _draw_events(events, draw, wait=0.0)
    return results


def _draw_events(events, draw: Callable[[tuple], None], wait: float = 0.2) -> None:
    """Draw the bars' events sent so far, waiting up to `wait` seconds for the first."""
    try:
        draw(events.get(timeout=wait) if wait else events.get_nowait())
        while True:
            draw(events.get_nowait())
    except queues.Empty:
        return
