"""Generalisation gap per shift axis: train-split score minus held-out score.

Records may carry a leading seed axis: `success` of shape (seeds, tasks, episodes) (or
(tasks, episodes) for one seed). Scores are computed per seed, the gap per seed, and the
gap is summarised across seeds by its IQM with a stratified-bootstrap CI (`stats`).

Normalised return follows the usual RL normalisation (e.g. human-normalised Atari
scores, Mnih et al. 2015; Agarwal et al. 2021): `(mean return - low) / (high - low)`
where `low`/`high` are reference returns on the same split (a random and an oracle
policy), so splits whose tasks pay different amounts are compared on one scale.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:  # records are read by field name; no jax import needed at run time
    from trainee.evaluate import Records
from trainee.measures.stats import ValueCI, aggregate


class Reference(NamedTuple):
    """Reference mean returns on one split: `low` scores 0 and `high` scores 1."""

    low: float = 0.0
    high: float = 1.0


RAW = Reference()  # raw returns: low 0, high 1


class Gap(NamedTuple):
    """The gap on one shift axis, each as IQM across seeds with a CI."""

    success: ValueCI  # train success rate - held-out success rate
    normalised_return: ValueCI  # train normalised return - held-out normalised return

    def to_json(self) -> dict[str, dict[str, float]]:
        return {"success": self.success.to_json(),
                "normalised_return": self.normalised_return.to_json()}


def success_rate(records: Records) -> np.ndarray:
    """Fraction of successful episodes over tasks and episodes, per seed: shape (...)."""
    return np.mean(np.asarray(records.success, dtype=np.float64), axis=(-2, -1))


def normalised_return(records: Records, reference: Reference = RAW) -> np.ndarray:
    """`(mean episode return - low) / (high - low)` per seed: shape (...)."""
    if reference.high == reference.low:
        raise ValueError(f"reference {reference} has high == low: cannot normalise")
    mean = np.mean(np.asarray(records.episode_return, dtype=np.float64), axis=(-2, -1))
    return (mean - reference.low) / (reference.high - reference.low)


def generalisation_gap(
    train: Records,
    heldout: Mapping[str, Records],
    references: Mapping[str, Reference] | None = None,
) -> dict[str, Gap]:
    """Gap per shift axis: `score(train) - score(heldout[axis])`, computed per seed (seeds
    paired by position), then IQM with a 95% CI across seeds. Positive: worse off-train.

    `references` maps a split name ("train" and each axis) to its `Reference`; missing
    splits use the raw return (low 0, high 1)."""
    references = dict(references or {})
    train_success = success_rate(train)
    train_return = normalised_return(train, references.get("train", RAW))
    gaps = {}
    for axis, records in heldout.items():
        reference = references.get(axis, RAW)
        success_gap = train_success - success_rate(records)
        return_gap = train_return - normalised_return(records, reference)
        gaps[axis] = Gap(
            success=aggregate(success_gap),
            normalised_return=aggregate(return_gap),
        )
    return gaps
