"""Thresholdout: answer many adaptively chosen queries from one reusable holdout.

Source: Dwork, Feldman, Hardt, Pitassi, Reingold & Roth, "The reusable holdout:
Preserving validity in adaptive data analysis", Science 349(6248):636-638, 2015 (the
algorithm box "Thresholdout"). With threshold T, noise rate sigma and budget B:

    draw gamma ~ Lap(2 sigma); T_hat = T + gamma
    for each query phi (its mean on the train set and on the holdout set):
        if B < 1: stop (here: raise BudgetExhausted)
        draw eta ~ Lap(4 sigma)
        if |holdout mean - train mean| > T_hat + eta:
            draw xi ~ Lap(sigma), gamma ~ Lap(2 sigma); B = B - 1; T_hat = T + gamma
            answer holdout mean + xi
        else:
            answer train mean

Defaults are the constants of the paper's experiment, where n = 10,000 items:
T = 0.04 = 4 / sqrt(n) and sigma = 0.01 = 1 / sqrt(n). For a holdout of n items, the same
calibration is T = 4 / sqrt(n), sigma = 1 / sqrt(n).

The paper's supplementary simulation code (behind its Fig. 2) is lighter than the
algorithm box: Gaussian noise of standard deviation sigma on the comparison and on the
answer, and no threshold noise. `noise="gaussian"` reproduces that; the default,
`noise="laplace"`, is the algorithm as published (the one its guarantees are proved for).
The Laplace comparison noise (scale 4 sigma) is wide, so differences up to about
T + 4 sigma often pass as "no overfitting" and are answered with the train mean.

The state is a small NamedTuple and every draw is a pure function of (key, query index),
so a mechanism can be stored between processes (the sealed exam keeps it in SQLite) and
replayed exactly.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

DEFAULT_THRESHOLD = 0.04  # T: 4 / sqrt(n) for the paper's n = 10,000
DEFAULT_SIGMA = 0.01  # noise rate: 1 / sqrt(n) for the paper's n = 10,000
DEFAULT_BUDGET = 100  # over-threshold answers allowed; a policy choice, not from the paper


def calibration(items: int) -> tuple[float, float]:
    """(T, sigma) = (4 / sqrt(n), 1 / sqrt(n)) for a holdout of n items: the paper's
    T = 0.04 and sigma = 0.01 for its n = 10,000, scaled with the standard error of a
    mean of n items (the sealed exam's calibration; docs/exam.md)."""
    return 4.0 / np.sqrt(items), 1.0 / np.sqrt(items)


class BudgetExhausted(RuntimeError):
    """The holdout's budget of over-threshold answers is spent: it can answer no more."""


class ThresholdoutState(NamedTuple):
    key: tuple[int, int]  # two uint32 words seeding every draw
    noisy_threshold: float  # T_hat = T + gamma
    budget_left: int
    queries: int  # queries answered so far (indexes the next query's noise)


class ThresholdoutAnswer(NamedTuple):
    value: float
    over_threshold: bool  # the holdout was used (and one unit of budget spent)
    state: ThresholdoutState


def key_words(key: object) -> tuple[int, int]:
    """Two uint32 words from a JAX PRNG key (raw or typed) or an int seed."""
    if isinstance(key, int | np.integer):
        seed = int(key) % 2**64
        return seed >> 32, seed & 0xFFFFFFFF
    import jax  # only to read a JAX key's bits

    if jax.dtypes.issubdtype(getattr(key, "dtype", None), jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    words = np.asarray(key, dtype=np.uint32).reshape(-1)
    return int(words[0]), int(words[-1])


def _rng(key: tuple[int, int], *path: int) -> np.random.Generator:
    # SeedSequence mixes the key words and the path: independent streams per draw site.
    return np.random.default_rng([key[0], key[1], *path])


class Noise(NamedTuple):
    """Where the randomness goes, as multiples of sigma."""

    distribution: str  # "laplace" or "gaussian" (scale = standard deviation)
    threshold_scale: float  # gamma, redrawn after every over-threshold answer
    compare_scale: float  # eta, drawn per query
    answer_scale: float  # xi, added to a holdout answer


NOISES = {
    # The published algorithm (the privacy analysis holds for it): the default.
    "laplace": Noise("laplace", 2.0, 4.0, 1.0),
    # The paper's supplementary simulation code (Fig. 2): no threshold noise, Gaussian
    # comparison and answer noise of standard deviation sigma.
    "gaussian": Noise("gaussian", 0.0, 1.0, 1.0),
}


def _draw(rng: np.random.Generator, noise: Noise, scale: float, sigma: float) -> float:
    if scale * sigma == 0:
        return 0.0
    if noise.distribution == "laplace":
        return float(rng.laplace(0.0, scale * sigma))
    return float(rng.normal(0.0, scale * sigma))


def thresholdout_init(
    threshold: float, sigma: float, budget: int, key: object, noise: str = "laplace"
) -> ThresholdoutState:
    """The state before the first query: T_hat = T + gamma, the full budget."""
    words = key_words(key)
    gamma = _draw(_rng(words, 0), NOISES[noise], NOISES[noise].threshold_scale, sigma)
    return ThresholdoutState(words, float(threshold + gamma), int(budget), 0)


def thresholdout_step(
    threshold: float,
    sigma: float,
    state: ThresholdoutState,
    train_mean: float,
    holdout_mean: float,
    noise: str = "laplace",
) -> ThresholdoutAnswer:
    """One query of the algorithm above (pure: the new state is returned)."""
    if state.budget_left < 1:
        raise BudgetExhausted(
            f"the holdout budget is spent ({state.queries} queries answered); no more "
            "answers from this holdout: reseal to draw a fresh one"
        )
    kind = NOISES[noise]
    rng = _rng(state.key, 1, state.queries)
    eta = _draw(rng, kind, kind.compare_scale, sigma)
    queries = state.queries + 1
    if abs(holdout_mean - train_mean) > state.noisy_threshold + eta:
        xi = _draw(rng, kind, kind.answer_scale, sigma)
        gamma = _draw(rng, kind, kind.threshold_scale, sigma)
        new = ThresholdoutState(state.key, float(threshold + gamma), state.budget_left - 1, queries)
        return ThresholdoutAnswer(float(holdout_mean + xi), True, new)
    return ThresholdoutAnswer(float(train_mean), False, state._replace(queries=queries))


class Thresholdout:
    """A reusable holdout guarding any evaluation: `answer(train_values, holdout_values)`
    takes one query's per-item values on the train and holdout items and returns the
    train mean, or (over the noisy threshold) a noisy holdout mean that spends budget.

        mechanism = Thresholdout(threshold=0.04, sigma=0.01, budget=10, key=0)
        score = mechanism.answer(train_successes, holdout_successes)

    The comparison noise Lap(4 sigma) is wide: even identical train and holdout means
    exceed the noisy threshold now and then (about 1 query in 7 with the defaults), and
    those queries spend budget too; that randomness is what protects the holdout.
    """

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        sigma: float = DEFAULT_SIGMA,
        budget: int = DEFAULT_BUDGET,
        key: object = 0,
        noise: str = "laplace",
    ):
        if noise not in NOISES:
            raise ValueError(f"noise must be one of {', '.join(NOISES)}, got {noise!r}")
        self.threshold = float(threshold)
        self.noise = noise
        self.sigma = float(sigma)
        self.budget = int(budget)
        self.state = thresholdout_init(self.threshold, self.sigma, self.budget, key, noise)
        self.last_over_threshold = False

    @property
    def budget_left(self) -> int:
        return self.state.budget_left

    def answer(self, train_values: object, holdout_values: object) -> float:
        """Raises `BudgetExhausted` once the budget is spent."""
        train_mean = float(np.mean(np.asarray(train_values, dtype=np.float64)))
        holdout_mean = float(np.mean(np.asarray(holdout_values, dtype=np.float64)))
        out = thresholdout_step(
            self.threshold, self.sigma, self.state, train_mean, holdout_mean, self.noise)
        self.state, self.last_over_threshold = out.state, out.over_threshold
        return out.value
