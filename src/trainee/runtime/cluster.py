"""The one way to reach Ray (`--executor ray`): connect, fan tasks out, start actors.

`ensure_ray()` connects to the cluster named by `RAY_ADDRESS` (e.g. one started with
`ray start --head`) or, without it, starts a local one with `num_cpus` CPUs (default:
this machine's). Call it before JAX starts work in the driver process (JAX's CPU thread
pools and Ray's process start-up do not mix well the other way round). Each task or
actor reserves `cpus` CPUs (1 by default), so a 2-CPU machine runs two at a time and
the rest wait in Ray's queue. Every worker enables the driver's compilation cache, so
workers reuse programs compiled by earlier workers.

Ray is an optional extra (`pip install 'trainee[ray]'`), imported only in here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

MISSING_RAY = "--executor ray needs Ray: pip install 'trainee[ray]'"


def ensure_ray(num_cpus: int | None = None, log_to_driver: bool = False):
    """Import Ray and connect (RAY_ADDRESS if set, else a local cluster); return it."""
    try:
        import ray
    except ImportError as err:
        raise ImportError(MISSING_RAY) from err
    if not ray.is_initialized():
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage reports
        address = os.environ.get("RAY_ADDRESS")
        if address:
            ray.init(address=address, log_to_driver=log_to_driver)
        else:
            ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=log_to_driver)
    return ray


def _run_job(fn: Callable, args: tuple):
    """What a Ray task runs: `fn(*args)`, with the driver's compilation cache."""
    from trainee.runtime.xla import enable_compilation_cache

    enable_compilation_cache()
    return fn(*args)


def ray_map(fn: Callable, jobs: Sequence[tuple], on_result: Callable[[int, Any], None] | None
            = None, cpus: float = 1.0) -> list:
    """`[fn(*args) for args in jobs]`, each call a Ray task; results in job order.

    `fn` must be a module-level function (workers import it by name) whose arguments and
    result pickle (configs and numpy arrays do; typed PRNG keys and world objects do
    not). `on_result(i, result)` is called in the driver as each job finishes (progress
    bars, storing results as they arrive). A failing job cancels the others and its
    exception is raised here (Ray re-raises it as the same exception type).
    """
    ray = ensure_ray()
    task = ray.remote(num_cpus=cpus)(_run_job)
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


class _Worker:
    """An actor: builds `cls(*args)` in its own process, after enabling the cache, and
    runs its methods by name (`call`), so any plain class can be an actor."""

    def __init__(self, cls: type, args: tuple):
        from trainee.runtime.xla import enable_compilation_cache

        enable_compilation_cache()
        self.obj = cls(*args)

    def call(self, method: str, *args):
        return getattr(self.obj, method)(*args)


def ray_actors(cls: type, inits: Sequence[tuple], cpus: float = 1.0) -> list:
    """One Ray actor per `inits` entry, each holding `cls(*args)`; call a method with
    `actor.call.remote("method", *args)` and read results with `ensure_ray().get`.
    Kill them with `ray.kill(actor)` when done. `cls` and its arguments must pickle."""
    ray = ensure_ray()
    worker = ray.remote(num_cpus=cpus)(_Worker)
    return [worker.remote(cls, args) for args in inits]
