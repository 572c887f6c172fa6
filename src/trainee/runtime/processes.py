"""Jobs in worker processes on this machine (`trainee run --workers N`).

The studies of a quick run are small-kernel JAX programs: one process keeps about 1.3 of
this machine's 2 cores busy, so two studies at once finish sooner than one after another
(measured: docs/studies.md, "Time"). `process_map` runs `fn(*args)` for each job in a pool
of `workers` fresh processes (spawned, never forked: a forked JAX runtime deadlocks), each
with the parent's compilation cache, so a program one worker compiled the other loads.

Progress bars a job opens in a worker are drawn by the parent (`progress.forward_bars`),
one line per bar, and the programs a worker compiles are added to the parent's compile
records (`compiles.add`), so `trainee run` prints and stores every compile of the run.
"""

from __future__ import annotations

import multiprocessing
import queue as queues
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any


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
    """`[fn(*args) for args in jobs]`, at most `workers` at a time, each in a worker
    process; results in job order. `fn` must be a module-level function whose arguments
    and result pickle. `on_result(i, result)` is called here as each job finishes (to
    store it at once). A failing job's exception is raised here once the running jobs
    stop; jobs not yet started are cancelled (Ctrl-C too)."""
    from trainee.runtime.compiles import add
    from trainee.runtime.progress import forward_bars

    context = multiprocessing.get_context("spawn")
    events = context.Queue()
    results: list = [None] * len(jobs)
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                             initargs=(events,)) as pool, forward_bars(quiet) as draw:
        futures = {pool.submit(_run_job, fn, args): i for i, args in enumerate(jobs)}
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                _drain(events, draw)
                for future in done:
                    i = futures[future]
                    results[i], compiled = future.result()
                    add(compiled)
                    if on_result is not None:
                        on_result(i, results[i])
        finally:
            for future in pending:
                future.cancel()
        _drain(events, draw)
    return results


def _drain(events, draw: Callable[[tuple], None]) -> None:
    while True:
        try:
            draw(events.get_nowait())
        except queues.Empty:
            return
