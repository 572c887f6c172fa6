"""Continual-learning metrics from an R matrix and learning curves.

`R[..., i, j]` is the score (success rate in [0, 1]) on job j after training stage i,
where stage i trains job i; a career of T jobs gives a (T, T) matrix, with optional
leading axes (e.g. seeds). Index 0 is the first job.

Definitions followed (say which when you report a number):
- average performance: mean_j R[T-1, j] -- ACC of Lopez-Paz & Ranzato 2017 (GEM), also
  Continual World's average performance at the end of the career (Wołczyk et al. 2021).
- backward transfer: mean_{j<T-1} (R[T-1, j] - R[j, j]) -- BWT of Lopez-Paz & Ranzato.
- forgetting: mean_{j<T-1} (R[j, j] - R[T-1, j]) -- Continual World's forgetting (score at
  the end of a job's own training minus at the end of the career); it equals -BWT.
  `max_forgetting` is Chaudhry et al. 2018's variant (best earlier score minus final).
- forward transfer: Continual World's, from learning curves: for each job,
  (AUC - AUC_ref) / (1 - AUC_ref), where AUC is the normalised area under the job's
  learning curve inside the career and AUC_ref that of the same learner trained on the
  job from scratch (`competence.area_under_curve`); averaged over jobs.
  `zero_shot_transfer` is Lopez-Paz & Ranzato's FWT: mean_{j>=1} (R[j-1, j] - b_j), with
  b_j the score of an untrained (from-scratch, step 0) agent on job j.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class ContinualMetrics(NamedTuple):
    """Per career: shape () or the leading axes of R."""

    average_performance: np.ndarray
    forgetting: np.ndarray
    backward_transfer: np.ndarray
    max_forgetting: np.ndarray
    zero_shot_transfer: np.ndarray  # nan when no reference scores were given


def _check_square(R: np.ndarray) -> np.ndarray:
    R = np.asarray(R, dtype=np.float64)
    if R.ndim < 2 or R.shape[-1] != R.shape[-2]:
        raise ValueError(f"R must be (..., T, T) with T stages = T jobs, got {R.shape}")
    return R


def average_performance(R: np.ndarray) -> np.ndarray:
    R = _check_square(R)
    return R[..., -1, :].mean(axis=-1)


def backward_transfer(R: np.ndarray) -> np.ndarray:
    R = _check_square(R)
    T = R.shape[-1]
    if T < 2:
        return np.full(R.shape[:-2], np.nan)
    final = R[..., -1, : T - 1]
    just_trained = np.diagonal(R, axis1=-2, axis2=-1)[..., : T - 1]
    return (final - just_trained).mean(axis=-1)


def forgetting(R: np.ndarray) -> np.ndarray:
    return -backward_transfer(R)


def max_forgetting(R: np.ndarray) -> np.ndarray:
    R = _check_square(R)
    T = R.shape[-1]
    if T < 2:
        return np.full(R.shape[:-2], np.nan)
    best_before_end = R[..., : T - 1, : T - 1].max(axis=-2)  # over stages 0 .. T-2
    return (best_before_end - R[..., -1, : T - 1]).mean(axis=-1)


def zero_shot_transfer(R: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """`reference`: (..., T) from-scratch scores b_j (entry 0 unused)."""
    R = _check_square(R)
    T = R.shape[-1]
    if T < 2:
        return np.full(R.shape[:-2], np.nan)
    before = np.diagonal(R[..., :-1, 1:], axis1=-2, axis2=-1)  # R[j-1, j], j = 1 .. T-1
    return (before - np.asarray(reference, dtype=np.float64)[..., 1:]).mean(axis=-1)


def forward_transfer(auc: np.ndarray, reference_auc: np.ndarray) -> np.ndarray:
    """Continual World forward transfer. `auc`, `reference_auc`: (..., T) normalised
    areas (scores in [0, 1]). A reference already at 1 leaves nothing to transfer: that
    job contributes 0."""
    auc = np.asarray(auc, dtype=np.float64)
    ref = np.asarray(reference_auc, dtype=np.float64)
    room = 1.0 - ref
    per_job = np.where(room > 0, (auc - ref) / np.where(room > 0, room, 1.0), 0.0)
    return per_job.mean(axis=-1)


def continual_metrics(R: np.ndarray, reference: np.ndarray | None = None) -> ContinualMetrics:
    """All R-matrix metrics at once; `reference` (from-scratch scores per job) enables the
    zero-shot transfer."""
    R = _check_square(R)
    zero_shot = (np.full(R.shape[:-2], np.nan) if reference is None
                 else zero_shot_transfer(R, reference))
    return ContinualMetrics(
        average_performance=average_performance(R),
        forgetting=forgetting(R),
        backward_transfer=backward_transfer(R),
        max_forgetting=max_forgetting(R),
        zero_shot_transfer=zero_shot,
    )
