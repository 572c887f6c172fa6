"""`trainee career --executor ray`: each seed of a career a Ray task.

Seed k's task runs `run_career` with `only_seeds=(k,)`: the same task pools, evaluation
sets and seed key as seed k of the local vmapped run, so its R matrix, curves and flips
are the local run's seed k to float tolerance. One exception: `shrink_perturb` draws its
noise for all seeds at once from one key, so per-seed runs draw different (equally
distributed) noise than the local run.

The results are stacked on the seed axis in seed order, giving exactly the shape
`run_career` returns, so `summarize` and the plot take them unchanged.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from trainee.careers.career import Career
from trainee.careers.run import CareerConfig, run_career
from trainee.learners import LearnerConfig
from trainee.runtime import ensure_ray, ray_map
from trainee.runtime.progress import progress_bar

# Which results carry a seed axis (and where); every other entry is the same for all seeds.
SEED_AXIS = {"R": 0, "curves": 0, "entropy": 0, "dormant": 0, "flips_negative": 0,
             "flips_positive": 0}


def _one_seed(career: Career, hp: LearnerConfig, settings: CareerConfig, seed: int) -> dict:
    return run_career(career, hp, dataclasses.replace(settings, only_seeds=(seed,)), quiet=True)


def run_career_on_ray(career: Career, hp: LearnerConfig, settings: CareerConfig,
                      quiet: bool = False) -> dict:
    """`run_career(career, hp, settings)` with each seed a Ray task."""
    ensure_ray()  # before JAX starts work in this process
    jobs = [(career, hp, settings, k) for k in range(settings.seeds)]
    with progress_bar(settings.seeds, f"career {career.name} ({settings.baseline}, Ray)",
                      unit="seeds", disable=quiet) as bar:
        per_seed = ray_map(_one_seed, jobs, on_result=lambda i, result: bar.advance(1))
    return stack_seeds(per_seed)


def stack_seeds(per_seed: list[dict]) -> dict:
    """One result dict from single-seed ones, seed axis in list order. Entries without a
    seed axis must agree across seeds (a new per-seed entry is refused, not dropped)."""
    out = {}
    for name, first in per_seed[0].items():
        values = [r[name] for r in per_seed]
        if name in SEED_AXIS:
            axis = SEED_AXIS[name]
            join = lambda xs, axis=axis: np.concatenate([np.asarray(x) for x in xs], axis=axis)
            out[name] = ([join(xs) for xs in zip(*values, strict=True)]
                         if isinstance(first, list) else join(values))
        elif all(_same(first, v) for v in values[1:]):
            out[name] = first
        else:
            raise ValueError(f"career result {name!r} differs between seeds but has no "
                             "seed axis in trainee.careers.ray_executor.SEED_AXIS")
    return out


def _same(a, b) -> bool:
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return np.array_equal(np.asarray(a), np.asarray(b))
