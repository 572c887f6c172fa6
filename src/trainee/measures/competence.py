"""Samples to competence and area under a learning curve.

A learning curve is a score (e.g. success rate on a split) evaluated at increasing
numbers of environment steps. Samples to competence is the first evaluated step count
at which the score reaches the threshold; no interpolation between evaluations, so it
is conservative by at most one evaluation interval. Simulated hours convert steps with
the world's seconds per step (driving: 0.1 s). This is the "on-the-job" learning speed
of DESIGN.md; the definition is trainee's own, in the spirit of sample-efficiency
measures such as Atari 100k (Kaiser et al. 2020).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Competence(NamedTuple):
    """Per curve: shape () or the curve's leading axes (e.g. seeds)."""

    steps: np.ndarray  # env steps at first reaching the threshold; inf if never
    hours: np.ndarray  # steps * seconds_per_step / 3600; inf if never (nan if no clock)
    reached: np.ndarray  # bool


def samples_to_competence(
    steps: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    seconds_per_step: float | None = None,
) -> Competence:
    """`steps`: (points,) increasing env-step counts; `scores`: (..., points).
    Competence is `score >= threshold` at an evaluation point."""
    steps = np.asarray(steps, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    if steps.ndim != 1 or scores.shape[-1] != steps.shape[0]:
        raise ValueError(f"steps {steps.shape} and scores {scores.shape} do not match")
    if np.any(np.diff(steps) < 0):
        raise ValueError("steps must be non-decreasing")
    hit = scores >= threshold
    reached = hit.any(axis=-1)
    first = np.argmax(hit, axis=-1)  # index of the first True (0 when none: masked below)
    at = np.where(reached, steps[first], np.inf)
    hours = at * seconds_per_step / 3600.0 if seconds_per_step is not None else np.full_like(
        at, np.nan)
    return Competence(steps=at, hours=hours, reached=reached)


def area_under_curve(steps: np.ndarray, scores: np.ndarray, normalise: bool = True) -> np.ndarray:
    """Trapezoidal area under `scores` (..., points) over `steps` (points,). With
    `normalise`, divided by the step range: the curve's mean height, in score units, as
    Continual World uses for forward transfer (Wołczyk et al. 2021)."""
    steps = np.asarray(steps, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    widths = np.diff(steps)  # (points - 1,)
    area = np.sum(widths * (scores[..., 1:] + scores[..., :-1]) / 2.0, axis=-1)
    if not normalise:
        return area
    span = steps[-1] - steps[0]
    if span <= 0:
        raise ValueError("a normalised area needs at least two distinct step counts")
    return area / span
