"""Jobs for fleet instances: each instance trains on its own slice of a world's tasks.

A job is a rule on task fields, applied on the host: sample tasks of a split, keep those
of the job, repeat until the pool is full. The same rule applied to a held-out split
gives the job's held-out tasks (same job, shifted along that split's axis). Filtering
on the host keeps the worlds untouched (they have no "only this combination" option).

- corridor: job j = goal at cell j + 1 (lengths 1..7, the train range); held-out split
  `slippery` (same goal, slippery floor).
- errands: one-sub-goal errands (`max_chain=1`) of one (verb, object kind)
  combination, e.g. "fetch ball", "deliver box", or "open door"; held-out split
  `layouts` (the same errand in unseen wall/door layouts).
- driving: the conflicting jobs of `trainee.careers.career.CONFLICT_FLEET` (a lane rule,
  keep right or keep left, in one of two cars with different controls; each job shows
  its rule and car as a cue in the observation); pools are sampled per job (the job
  *sets* the rule and controls rather than selecting tasks); held-out split `night`.
- any other world: job = task index modulo the job count (a split of the task space,
  no meaning beyond "different tasks"); held-out split = its first non-train split.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import numpy as np

from trainee.worlds import World

__all__ = ["JobFamily", "job_family", "job_pools", "make_world"]


class JobFamily(NamedTuple):
    names: tuple[str, ...]  # one per job
    job_id: Callable[[Any], np.ndarray] | None  # batched tasks -> (n,) job index, -1: none
    held_out: str  # the held-out split the jobs are scored on
    sample_kwargs: dict  # extra arguments to world.tasks
    jobs: tuple = ()  # career `Job`s that make their own tasks (then job_id is None)


def make_world(name: str) -> World:
    """`trainee.worlds.make(name)`, falling back to the errands module while the
    registry does not list it yet."""
    from trainee.worlds import names

    if name == "driving":  # the conflicting jobs need their controls and cues
        from trainee.careers.career import CONFLICT_FLEET, career_worlds

        return career_worlds(CONFLICT_FLEET)["driving"]
    if name == "errands" and name not in names():
        from trainee.worlds.errands import Errands

        return Errands()
    from trainee.program import get_world

    return get_world(name)  # one object per process: every fleet shares its programs


def _corridor_job(tasks) -> np.ndarray:
    return np.asarray(tasks.length) - 1


# (verb, kind): FETCH = 0, OPEN = 1, DELIVER = 2 in errands_tasks; kinds key 0, ball 1,
# box 2; "open door" names no object (any task whose one sub-goal is to open the door).
ERRANDS_JOBS = (("fetch", "ball"), ("deliver", "box"), ("fetch", "box"),
                ("deliver", "key"), ("fetch", "key"), ("deliver", "ball"), ("open", "door"))
_VERB = {"fetch": 0, "open": 1, "deliver": 2}
_KIND = {"key": 0, "ball": 1, "box": 2}


def _errands_job(tasks) -> np.ndarray:
    verb = np.asarray(tasks.chain_verb)[:, 0]
    slot = np.asarray(tasks.chain_object)[:, 0]
    kind = np.take_along_axis(np.asarray(tasks.object_kind), slot[:, None], 1)[:, 0]
    job = np.full(verb.shape, -1)
    for j, (v, k) in enumerate(ERRANDS_JOBS):
        job[(verb == _VERB[v]) & ((kind == _KIND[k]) if k in _KIND else True)] = j
    return job


def job_family(world: World, num_jobs: int = 8) -> JobFamily:
    """The jobs of `world` (see the module docstring)."""
    if world.name == "corridor":
        return JobFamily(tuple(f"goal {j + 1}" for j in range(7)), _corridor_job, "slippery", {})
    if world.name == "errands":
        names = tuple(f"{v} {k}" for v, k in ERRANDS_JOBS)
        return JobFamily(names, _errands_job, "layouts", {"max_chain": 1})
    if world.name == "driving":
        from trainee.careers.career import CONFLICT_FLEET

        jobs = CONFLICT_FLEET.jobs
        return JobFamily(tuple(job.name for job in jobs), None, "night", {}, jobs)
    held_out = next((s for s in world.splits if s != "train"), "train")

    def by_index(tasks):
        n = np.asarray(jax.tree.leaves(tasks)[0]).shape[0]
        return np.arange(n) % num_jobs

    return JobFamily(tuple(f"slice {j}" for j in range(num_jobs)), by_index, held_out, {})


def _take(tasks, index: np.ndarray):
    return jax.tree.map(lambda x: np.asarray(x)[index], tasks)


def job_pools(world: World, key: jax.Array, split: str, jobs: list[int], size: int,
              batch: int = 2048, max_draws: int = 50, task_kwargs: dict | None = None):
    """Tasks of `split` for each job in `jobs`, `size` per job, stacked: every leaf
    (len(jobs), size, ...). Jobs may repeat (a fleet larger than the job family).
    `task_kwargs` go to `world.tasks` over the family's own (errands: `p_locked`...)."""
    family = job_family(world)
    if family.jobs:
        return _made_pools(world, family, key, split, jobs, size, task_kwargs)
    kwargs = {**family.sample_kwargs, **(task_kwargs or {})}
    wanted = sorted(set(jobs))
    found: dict[int, list] = {j: [] for j in wanted}
    counts = dict.fromkeys(wanted, 0)
    for draw in range(max_draws):
        tasks = world.tasks(jax.random.fold_in(key, draw), split, batch, **kwargs)
        tasks = jax.tree.map(np.asarray, tasks)
        ids = family.job_id(tasks)
        for j in wanted:
            hit = np.flatnonzero(ids == j)[: size - counts[j]]
            if hit.size:
                found[j].append(_take(tasks, hit))
                counts[j] += hit.size
        if all(c >= size for c in counts.values()):
            break
    missing = [family.names[j] for j, c in counts.items() if c < size]
    if missing:
        raise ValueError(f"could not sample {size} {split} tasks of job(s) {missing}; "
                         "lower the pool size")
    pools = {j: jax.tree.map(lambda *xs: np.concatenate(xs), *found[j]) for j in wanted}
    return jax.tree.map(lambda *xs: np.stack(xs), *[pools[j] for j in jobs])


def _made_pools(world: World, family: JobFamily, key: jax.Array, split: str, jobs: list[int],
                size: int, task_kwargs: dict | None):
    """Pools of jobs that make their own tasks (`trainee.careers.career.job_tasks`: the
    job's sampler options, rule, controls and cue), on `split`; leaves (len(jobs), size,
    ...). A repeated job gets the same pool."""
    import dataclasses

    from trainee.careers.career import job_tasks

    pools = []
    for j in jobs:
        job = family.jobs[j]
        job = dataclasses.replace(job, split=split, tasks={**job.tasks, **(task_kwargs or {})})
        tasks = job_tasks(world, job, jax.random.fold_in(key, j), size)
        pools.append(jax.tree.map(np.asarray, tasks))
    return jax.tree.map(lambda *xs: np.stack(xs), *pools)
