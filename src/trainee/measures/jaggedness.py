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


def jaggedness(records: Records) -> Jaggedness:
    """Both numbers from evaluation records (`success` (..., tasks, episodes),
    `difficulty` (..., tasks))."""
    success = task_success(records)
    return Jaggedness(
        jaggedness=jaggedness_index(success, records.difficulty),
        worst_decile_success=worst_decile_success(success),
    )
