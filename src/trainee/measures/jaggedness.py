"""Jaggedness: does the agent fail easy tasks while solving harder ones?

"Jagged" capability (the "jagged technological frontier" of Dell'Acqua et al. 2023) is
success that is not monotone in difficulty. trainee defines (issue 4, DESIGN.md):

    jaggedness = mean over ordered pairs (e, h) with difficulty[e] < difficulty[h]
                 of max(0, s[h] - s[e])

where `s` is the per-task success rate (mean over episodes). With one episode per task
(or deterministic outcomes) `s` is 0 or 1 and this is exactly the fraction of pairs in
which the easier task is failed and the harder one solved. With several episodes it is
the same indicator softened by how much the harder task beats the easier one, so a
"smooth" agent, whose success never rises with difficulty, scores exactly 0. Pairs of
equal difficulty are not compared.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:  # records are read by field name; no jax import needed at run time
    from trainee.evaluate import Records


class Jaggedness(NamedTuple):
    """Per seed: shape () for one seed, (seeds,) with a leading seed axis."""

    jaggedness: np.ndarray  # inversion score in [0, 1]; 0 for a smooth agent
    worst_decile_success: np.ndarray  # mean success of the worst 10% of tasks


def task_success(records: Records) -> np.ndarray:
    """Per-task success rate (mean over episodes): (..., tasks)."""
    return np.mean(np.asarray(records.success, dtype=np.float64), axis=-1)


def jaggedness_index(success: np.ndarray, difficulty: np.ndarray) -> np.ndarray:
    """The inversion score above. `success`: (..., tasks) rates in [0, 1];
    `difficulty`: (tasks,) or broadcastable to `success`. Returns (...). With no pair of
    different difficulties the score is 0 (nothing can be inverted)."""
    success = np.asarray(success, dtype=np.float64)
    difficulty = np.broadcast_to(np.asarray(difficulty, dtype=np.float64), success.shape)
    easier = difficulty[..., :, None] < difficulty[..., None, :]  # (..., T, T): row easier
    rise = np.maximum(success[..., None, :] - success[..., :, None], 0.0)  # s[h] - s[e]
    pairs = easier.sum(axis=(-2, -1))
    total = np.where(easier, rise, 0.0).sum(axis=(-2, -1))
    return np.where(pairs > 0, total / np.maximum(pairs, 1), 0.0)


def worst_decile_success(success: np.ndarray) -> np.ndarray:
    """Mean success rate of the `ceil(tasks / 10)` tasks with the lowest success: (...)."""
    success = np.asarray(success, dtype=np.float64)
    count = max(1, math.ceil(success.shape[-1] / 10))
    return np.mean(np.sort(success, axis=-1)[..., :count], axis=-1)


def isotonic_decreasing(values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """The weighted least-squares non-increasing fit of `values` (1-D, in the order of
    increasing difficulty) by pool-adjacent-violators (Ayer et al. 1955; Barlow et al.
    1972): adjacent blocks that rise are merged into their weighted mean until none
    does. Returns the fitted value of every position."""
    values = np.asarray(values, dtype=np.float64)
    weights = np.ones_like(values) if weights is None else np.asarray(weights, np.float64)
    means, masses, sizes = [], [], []  # one entry per block
    for v, w in zip(values, weights, strict=True):
        means.append(v), masses.append(w), sizes.append(1)
        while len(means) > 1 and means[-2] < means[-1]:  # a rise: pool the two blocks
            mass = masses[-2] + masses[-1]
            mean = (means[-2] * masses[-2] + means[-1] * masses[-1]) / mass
            size = sizes[-2] + sizes[-1]
            del means[-1], masses[-1], sizes[-1]
            means[-1], masses[-1], sizes[-1] = mean, mass, size
    return np.repeat(means, sizes)


def monotone_fit(success: np.ndarray, difficulty: np.ndarray) -> np.ndarray:
    """Per-task success (tasks,) fitted by the closest success curve that never rises
    with difficulty: tasks of equal difficulty are pooled first (their mean, weighted by
    their count), then `isotonic_decreasing` over the distinct difficulties. Returns the
    fitted success of each task, in the tasks' own order."""
    success = np.asarray(success, dtype=np.float64)
    levels, index = np.unique(np.asarray(difficulty, np.float64), return_inverse=True)
    counts = np.bincount(index, minlength=len(levels)).astype(np.float64)
    means = np.bincount(index, weights=success, minlength=len(levels)) / counts
    return isotonic_decreasing(means, counts)[index]


def _simulate(success: np.ndarray, difficulty: np.ndarray, episodes: int,
              rng: np.random.Generator, draws: int) -> np.ndarray:
    """(draws, rows, tasks): evaluations simulated from each row's monotone fit (each
    task's success the mean of `episodes` Bernoulli draws at its fitted rate)."""
    fits = np.stack([monotone_fit(s, d) for s, d in zip(success, difficulty, strict=True)])
    return rng.binomial(episodes, fits, size=(draws, *fits.shape)) / episodes


def monotone_null(success: np.ndarray, difficulty: np.ndarray, episodes: int,
                  rng: np.random.Generator, draws: int = 20) -> np.ndarray:
    """(...,) the jaggedness index an agent with *monotone* success would show on these
    tasks through evaluation noise: the mean index of `draws` evaluations simulated from
    the monotone fit of each seed's per-task `success` (..., tasks), bias-corrected.

    The fit follows the noise where it happens to fall with difficulty, so evaluations
    simulated from it invert less often than the monotone agent's own would (measured:
    0.029 too little for a flat profile of 64 tasks x 2 episodes). A second level of the
    same simulation (refit each simulated evaluation, simulate once from that) estimates
    the shortfall, which is added back: the parametric-bootstrap bias correction
    (Efron & Tibshirani 1993, ch. 10)."""
    success = np.asarray(success, dtype=np.float64)
    difficulty = np.broadcast_to(np.asarray(difficulty, np.float64), success.shape)
    rows = success.reshape(-1, success.shape[-1])
    levels = difficulty.reshape(-1, success.shape[-1])
    first = _simulate(rows, levels, episodes, rng, draws)  # (draws, rows, tasks)
    second = np.stack([_simulate(x, levels, episodes, rng, 1)[0] for x in first])
    index_first = jaggedness_index(first, levels).mean(axis=0)
    shortfall = index_first - jaggedness_index(second, levels).mean(axis=0)
    return (index_first + shortfall).reshape(success.shape[:-1])


def jaggedness(records: Records) -> Jaggedness:
    """Both numbers from evaluation records (`success` (..., tasks, episodes),
    `difficulty` (..., tasks))."""
    success = task_success(records)
    return Jaggedness(
        jaggedness=jaggedness_index(success, records.difficulty),
        worst_decile_success=worst_decile_success(success),
    )
