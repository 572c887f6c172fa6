"""`--executor ray`: fan independent jobs (seeds, groups of seeds, studies) out as Ray
tasks and gather their results in job order.

One way to reach Ray for every command: `ensure_ray()` connects to the cluster named by
`RAY_ADDRESS` (e.g. one started with `ray start --head`) or, without it, starts a local
one. Call it before JAX starts work in the driver process (JAX's CPU thread pools and
Ray's process start-up do not mix well the other way round). Each task reserves one
CPU, so a 2-CPU machine runs two at a time and the rest wait in Ray's queue.

Ray is an optional extra (`pip install 'trainee[ray]'`), imported only in here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

MISSING_RAY = "--executor ray needs Ray: pip install 'trainee[ray]'"


def ensure_ray(log_to_driver: bool = False):
    """Import Ray and connect (RAY_ADDRESS if set, else a local cluster); return it."""
    try:
        import ray
    except ImportError as err:
        raise ImportError(MISSING_RAY) from err
    if not ray.is_initialized():
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        ray.init(address=os.environ.get("RAY_ADDRESS"), include_dashboard=False,
                 log_to_driver=log_to_driver)
    return ray


def _run_job(fn: Callable, args: tuple):
    """What a Ray task runs: `fn(*args)`, with the driver's compilation cache."""
    from trainee.cli import enable_compilation_cache

    enable_compilation_cache()  # workers reuse programs compiled by earlier workers
    return fn(*args)


def ray_map(fn: Callable, jobs: Sequence[tuple], on_result: Callable[[int, Any], None] | None
            = None, cpus_per_job: float = 1.0) -> list:
    """`[fn(*args) for args in jobs]`, each call a Ray task; results in job order.

    `fn` must be a module-level function (workers import it by name) whose arguments and
    result pickle (configs and numpy arrays do; typed PRNG keys and world objects do
    not). `on_result(i, result)` is called in the driver as each job finishes (progress
    bars, storing results as they arrive). A failing job cancels the others and its
    exception is raised here (Ray re-raises it as the same exception type).
    """
    ray = ensure_ray()
    task = ray.remote(num_cpus=cpus_per_job)(_run_job)
    refs = [task.remote(fn, args) for args in jobs]
    index = {ref: i for i, ref in enumerate(refs)}
    results: list = [None] * len(refs)
    pending = list(refs)
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            i = index[done[0]]
            results[i] = ray.get(done[0])
            if on_result is not None:
                on_result(i, results[i])
    finally:
        for ref in pending:  # an error or Ctrl-C: stop the jobs nobody will read
            ray.cancel(ref, force=True)
    return results
