"""Regressions: between checkpoints (flips) and inside an episode (re-introduced bugs).

Flips follow Yan et al. 2021, "Positive-Congruent Training: Towards Regression-Free
Model Updates" (CVPR): the negative flip rate is the fraction of samples the old model
got right and the new model gets wrong. Here a sample is one (task, episode) pair
evaluated with the same task instances and the same episode keys for both checkpoints,
so a flip is a change of the agent, not of the luck of the draw.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:  # records are read by field name; no jax import needed at run time
    from trainee.evaluate import Records


class Flips(NamedTuple):
    """Per seed: shape () or (seeds,)."""

    negative: np.ndarray  # solved by the old checkpoint, failed by the new one
    positive: np.ndarray  # failed by the old checkpoint, solved by the new one


def flips(old_success: np.ndarray, new_success: np.ndarray) -> Flips:
    """Negative and positive flip rates over the last two axes (tasks, episodes):

        NFR = mean(old & ~new),  PFR = mean(~old & new)   (Yan et al. 2021, eq. 1)."""
    old = np.asarray(old_success, dtype=bool)
    new = np.asarray(new_success, dtype=bool)
    if old.shape != new.shape:
        raise ValueError(
            f"checkpoints must be evaluated on the same tasks and episodes: "
            f"shapes {old.shape} and {new.shape}"
        )
    return Flips(
        negative=np.mean(old & ~new, axis=(-2, -1)),
        positive=np.mean(~old & new, axis=(-2, -1)),
    )


def checkpoint_flips(old: Records, new: Records) -> Flips:
    """`flips` on the `success` of two evaluations of the same tasks and keys."""
    return flips(old.success, new.success)


def retest_flips(old: tuple[np.ndarray, np.ndarray], new: tuple[np.ndarray, np.ndarray]
                 ) -> np.ndarray:
    """Negative flip rate between two checkpoints each evaluated twice, with episode keys
    A and B (the same A and B for both): the mean of NFR(old on A, new on B) and NFR(old
    on B, new on A). Old and new never share a key, so the rate includes the luck of
    the draw; `retest_flips(x, x)` of one checkpoint is therefore its test-retest null,
    measured exactly as the flips between two checkpoints are. `old`, `new`: (success on
    A, success on B), each (..., tasks, episodes). Returns (...)."""
    (old_a, old_b), (new_a, new_b) = old, new
    return (flips(old_a, new_b).negative + flips(old_b, new_a).negative) / 2


def reintroduced_bugs_per_episode(records: Records, counter: str = "regressions") -> np.ndarray:
    """Mean number of re-introduced bugs per episode (repair world: a test that had been
    fixed and fails again, counted each time), per seed: shape (...)."""
    if counter not in records.counters:
        raise KeyError(
            f"records have no {counter!r} counter (have: {', '.join(records.counters) or 'none'});"
            " re-introduced bugs are counted by worlds that define it, e.g. repair"
        )
    return np.mean(np.asarray(records.counters[counter], dtype=np.float64), axis=(-2, -1))
