"""Statistics across seeds: hand-computed cases and a cross-check against rliable."""

import json
import warnings

import numpy as np
import pytest
from conftest import require

from trainee.measures import (
    ValueCI,
    aggregate,
    iqm,
    iqm_ci,
    probability_of_improvement,
    probability_of_improvement_ci,
)
from trainee.measures.stats import order_statistic_interval, order_statistic_level


def test_iqm_drops_a_quarter_at_each_end():
    # 8 values: drop 2 lowest and 2 highest, mean of 3, 4, 5, 6.
    assert iqm(np.array([8, 1, 7, 2, 6, 3, 5, 4])) == pytest.approx(4.5)
    # 10 values: floor(2.5) = 2 dropped at each end, mean of 2 .. 7 (scipy's trim_mean).
    assert iqm(np.arange(10)) == pytest.approx(4.5)
    # An outlier does not move it.
    assert iqm(np.array([1.0, 1.0, 1.0, 1e9])) == pytest.approx(1.0)
    # Pools runs and tasks by default; per row with an axis.
    scores = np.array([[0.0, 1.0, 2.0, 3.0], [10.0, 11.0, 12.0, 13.0]])
    np.testing.assert_allclose(iqm(scores, axis=1), [1.5, 11.5])


def test_probability_of_improvement_by_hand():
    # Task 0: x in {1, 3}, y in {2, 2}: 2 of 4 pairs won -> 0.5.
    # Task 1: x in {5, 5}, y in {5, 4}: pairs (5>5 tie .5, 5>4 win 1) x2 -> 0.75.
    x = np.array([[1.0, 5.0], [3.0, 5.0]])
    y = np.array([[2.0, 5.0], [2.0, 4.0]])
    assert probability_of_improvement(x, y) == pytest.approx((0.5 + 0.75) / 2)
    assert probability_of_improvement(x, x) == pytest.approx(0.5)
    assert probability_of_improvement(np.ones(3), np.zeros(4)) == pytest.approx(1.0)


def test_value_ci_serialises_as_the_shared_json_shape():
    value = ValueCI(0.5, 0.25, 0.75)
    assert json.loads(json.dumps(value.to_json())) == {"iqm": 0.5, "ci_low": 0.25, "ci_high": 0.75}
    assert ValueCI.from_json(value.to_json()) == value


def test_bootstrap_ci_is_deterministic_and_brackets_the_estimate():
    scores = np.random.default_rng(0).normal(size=(10, 3))
    first = iqm_ci(scores, reps=500, seed=1)
    assert first == iqm_ci(scores, reps=500, seed=1)
    assert first.ci_low <= first.iqm <= first.ci_high
    assert aggregate(np.full(5, 0.3)) == pytest.approx(ValueCI(0.3, 0.3, 0.3))
    poi = probability_of_improvement_ci(scores + 10.0, scores, reps=300)
    assert poi.iqm == pytest.approx(1.0) and poi.ci_low == pytest.approx(1.0)


def _rliable():
    """rliable, which `.[dev]` installs (rliable 1.2 runs only with arch < 8 and pandas < 3,
    which `.[dev]` pins): a failed import fails the test instead of skipping it."""
    require("rliable")
    library, metrics = require("rliable.library"), require("rliable.metrics")
    return library, metrics


def test_agrees_with_rliable_on_the_same_data_and_seed():
    library, metrics = _rliable()
    rng = np.random.default_rng(7)
    x = rng.normal(size=(10, 4))
    y = rng.normal(0.4, size=(8, 4))
    x[:, 0] = np.round(x[:, 0])  # ties, to exercise the one-half rule
    y[:, 0] = np.round(y[:, 0])
    reps = 2_000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.random.seed(3)  # rliable resamples with NumPy's global legacy generator
        point, interval = library.get_interval_estimates(
            {"x": x}, lambda s: np.array([metrics.aggregate_iqm(s)]), reps=reps)
        ours = iqm_ci(x, reps=reps, seed=3)
        np.testing.assert_allclose(ours, [point["x"][0], *interval["x"][:, 0]], atol=5e-4)
        np.random.seed(4)
        reps = 500  # rliable's probability of improvement is slow (a U test per task)
        point, interval = library.get_interval_estimates(
            {"xy": [x, y]},
            lambda a, b: np.array([metrics.probability_of_improvement(a, b)]), reps=reps)
        ours = probability_of_improvement_ci(x, y, reps=reps, seed=4)
        np.testing.assert_allclose(ours, [point["xy"][0], *interval["xy"][:, 0]], atol=5e-4)


# --- the across-seed interval holds its level (benchmarks/interval_coverage.py: full table) ---

def _draw(rng, kind, shape):
    """Per-seed values: normal, skewed (exponential), bounded (a success rate of 128
    episodes with a Beta(8, 2) per-seed skill), bimodal (a fifth of the seeds fail)."""
    if kind == "normal":
        return rng.normal(size=shape)
    if kind == "skewed":
        return rng.exponential(size=shape)
    if kind == "bounded":
        return rng.binomial(128, rng.beta(8, 2, size=shape)) / 128
    fail = rng.random(shape) < 0.2
    return np.where(fail, rng.beta(2, 8, shape), rng.beta(8, 2, shape))


def test_order_statistic_level_by_hand():
    assert order_statistic_level(5, 1) == pytest.approx(1 - 2 / 32)  # min..max of 5
    assert order_statistic_level(10, 2) == pytest.approx(1 - 2 * 11 / 1024)  # 2nd..9th of 10
    # 10 seeds: 2nd and 9th values; the IQM (mean of the middle 6) lies inside.
    summary = aggregate(np.arange(10.0)[::-1])
    assert (summary.ci_low, summary.iqm, summary.ci_high) == (1.0, 4.5, 8.0)
    assert aggregate([3.0, 1.0, 2.0, 5.0, 4.0]) == ValueCI(3.0, 1.0, 5.0)


@pytest.mark.parametrize("seeds", [5, 10])  # the tiny/quick and the full scales
@pytest.mark.parametrize("kind", ["normal", "skewed", "bounded", "bimodal"])
def test_aggregate_interval_covers_the_population_iqm(kind, seeds):
    rng = np.random.default_rng(seeds)
    truth = iqm(_draw(rng, kind, 1_000_000))  # the population IQM the point estimates
    low, high = order_statistic_interval(_draw(rng, kind, (20_000, seeds)))
    coverage = np.mean((low <= truth) & (truth <= high))
    assert coverage >= 0.93, f"{kind}, {seeds} seeds: nominal 95% covered {coverage:.3f}"


def test_the_coverage_check_catches_an_interval_that_undercovers():
    # rliable's percentile bootstrap of the IQM at 5 seeds: about 90% (issue 13).
    rng = np.random.default_rng(0)
    truth, reps = 0.0, 2_000
    x = rng.normal(size=(reps, 5))
    replicates = iqm(x[np.arange(reps)[:, None, None], rng.integers(0, 5, (reps, 300, 5))], -1)
    low, high = np.percentile(replicates, [2.5, 97.5], axis=1)
    assert np.mean((low <= truth) & (truth <= high)) < 0.93
