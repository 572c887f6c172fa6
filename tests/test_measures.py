"""Each measure on a small hand-computed case."""

import numpy as np
import pytest

from trainee.evaluate import Records
from trainee.measures import (
    Reference,
    area_under_curve,
    checkpoint_flips,
    continual_metrics,
    flips,
    forward_transfer,
    generalisation_gap,
    harm_rate,
    isotonic_decreasing,
    jaggedness,
    jaggedness_index,
    monotone_fit,
    monotone_null,
    reintroduced_bugs_per_episode,
    retest_flips,
    samples_to_competence,
    worst_decile_success,
)


def records(success, episode_return=None, difficulty=None, **counters):
    success = np.asarray(success, dtype=bool)
    tasks = success.shape[-2]
    return Records(
        success=success,
        episode_return=np.asarray(success if episode_return is None else episode_return, float),
        length=np.ones(success.shape, np.int32),
        counters={k: np.asarray(v, float) for k, v in counters.items()},
        difficulty=np.arange(tasks, dtype=float) if difficulty is None else np.asarray(difficulty),
    )


def test_generalisation_gap_per_axis_with_seeds():
    # 3 seeds x 2 tasks x 2 episodes. Train success per seed: 1, 1, 0.75.
    train = records([[[1, 1], [1, 1]], [[1, 1], [1, 1]], [[1, 1], [1, 0]]],
                    episode_return=np.full((3, 2, 2), 2.0))
    # Held-out success per seed: 0.5, 0.25, 0.75 -> gaps 0.5, 0.75, 0.0.
    longer = records([[[1, 1], [0, 0]], [[1, 0], [0, 0]], [[1, 1], [1, 0]]],
                     episode_return=np.full((3, 2, 2), 1.0))
    gap = generalisation_gap(train, {"longer": longer},
                             references={"train": Reference(0.0, 4.0)})["longer"]
    # 3 values: floor(0.75) = 0 trimmed, IQM = mean = 0.41666.
    assert gap.success.iqm == pytest.approx((0.5 + 0.75 + 0.0) / 3)
    assert gap.success.ci_low <= gap.success.iqm <= gap.success.ci_high
    # Train normalised return 2/4 = 0.5; held-out raw return 1.0 -> gap -0.5 every seed.
    assert gap.normalised_return.iqm == pytest.approx(-0.5)
    assert set(gap.to_json()) == {"success", "normalised_return"}


def test_jaggedness_counts_easy_fail_hard_pass_pairs():
    # Difficulties 1, 2, 3, 3; outcomes (one episode): fail, pass, pass, fail.
    # Ordered pairs with strictly lower difficulty first: (1,2) (1,3a) (1,3b) (2,3a) (2,3b)
    # = 5 pairs; easy failed & hard solved in (1,2) and (1,3a) -> 2 / 5.
    rec = records([[0], [1], [1], [0]], difficulty=[1.0, 2.0, 3.0, 3.0])
    result = jaggedness(rec)
    assert result.jaggedness == pytest.approx(2 / 5)
    # 4 tasks -> ceil(0.4) = 1 worst task: success 0.
    assert result.worst_decile_success == pytest.approx(0.0)
    # A smooth agent (success never rises with difficulty) scores exactly 0.
    smooth = np.array([1.0, 0.9, 0.9, 0.2, 0.0])
    assert jaggedness_index(smooth, np.arange(5.0)) == 0.0
    # Rates soften the indicator: s = (0.5, 1.0) on difficulties (1, 2) -> 0.5.
    assert jaggedness_index(np.array([0.5, 1.0]), np.array([1.0, 2.0])) == pytest.approx(0.5)
    # 20 tasks -> worst 2: mean of 0.0 and 0.1.
    assert worst_decile_success(np.linspace(0, 1.9, 20)) == pytest.approx(0.05)


def test_isotonic_fit_pools_adjacent_violators():
    # Non-increasing fit of 1, 0, 1, 0.5: (0, 1) rise -> pooled 0.5; then 0.5, 0.5 is no
    # rise -> 1, 0.5, 0.5, 0.5 (squared error 0.5, the least of any non-increasing fit).
    assert isotonic_decreasing([1.0, 0.0, 1.0, 0.5]) == pytest.approx([1, 0.5, 0.5, 0.5])
    # Weights: 0, 1, 2 with weights 1, 1, 2 -> one block, (0 + 1 + 4) / 4 = 1.25.
    assert isotonic_decreasing([0.0, 1.0, 2.0], [1, 1, 2]) == pytest.approx([1.25] * 3)
    assert isotonic_decreasing([3.0, 2.0, 2.0, 1.0]) == pytest.approx([3, 2, 2, 1])
    # Tasks out of order with a tie: difficulty 2, 1, 2, 3 and success 0, 1, 1, 0. Level
    # means 1 (d=1), 0.5 (d=2, two tasks), 0 (d=3): already non-increasing.
    assert monotone_fit([0, 1, 1, 0], [2, 1, 2, 3]) == pytest.approx([0.5, 1, 0.5, 0])
    # Success rising with difficulty, 0 then 1 (weights 1 and 3): pooled to 0.75.
    assert monotone_fit([0, 1, 1, 1], [1, 2, 2, 2]) == pytest.approx([0.75] * 4)


def test_monotone_null_is_the_index_a_monotone_agent_shows_by_chance():
    rng = np.random.default_rng(0)
    # A deterministic monotone agent (rates 0 or 1, never rising): its fit is itself, its
    # simulated evaluations equal it, so the null is exactly its index, 0.
    assert monotone_null(np.array([1.0, 1.0, 0.0]), np.arange(3.0), 2, rng) == 0.0
    # Easy failed, hard solved (index 1): the fit pools both to 0.5; one episode each,
    # a simulated pair is 00, 01, 10, 11 with probability 1/4 each, inverted (01) with
    # probability 0.25. Second level: refits 00 -> (0, 0), 01 -> (0.5, 0.5), 10 -> (1, 0),
    # 11 -> (1, 1); only 01's refit inverts again, with probability 0.25: 0.0625. The
    # shortfall 0.25 - 0.0625 is added back: 0.4375.
    null = monotone_null(np.array([[0.0, 1.0]]), np.array([1.0, 2.0]), 1, rng, draws=4000)
    assert null.shape == (1,) and null[0] == pytest.approx(0.4375, abs=0.03)


def test_monotone_null_is_nearly_unbiased_for_a_flat_agent():
    """A flat (monotone) agent of 64 tasks x 2 episodes: its index minus the null is
    within the study's margin 0.01 on average; the uncorrected fit-and-simulate null
    (first level only) falls 0.029 short (docs/measures.md)."""
    rng = np.random.default_rng(1)
    difficulty = np.sort(rng.integers(0, 20, 64)).astype(float)
    excess = []
    for _ in range(40):
        success = rng.binomial(2, np.full(64, 0.4)) / 2
        excess.append(jaggedness_index(success, difficulty)
                      - monotone_null(success, difficulty, 2, rng)[()])
    assert abs(np.mean(excess)) < 0.01


def test_retest_flips_compare_across_keys_only():
    # One task x 4 episodes written as (tasks, episodes) = (4, 1) items.
    col = lambda *v: np.array(v, bool)[:, None]
    old = (col(1, 1, 0, 0), col(1, 0, 1, 0))  # the old checkpoint on keys A and on B
    new = (col(1, 0, 0, 0), col(0, 1, 0, 0))
    # NFR(old A, new B) = item 0 -> 1/4; NFR(old B, new A) = item 2 -> 1/4; mean 0.25.
    assert retest_flips(old, new) == pytest.approx(0.25)
    # Test-retest null: NFR(A, B) = item 1 -> 1/4, NFR(B, A) = item 2 -> 1/4.
    assert retest_flips(old, old) == pytest.approx(0.25)
    # A checkpoint that solves the same items on both keys has a null of 0.
    same = (col(1, 0, 1, 0), col(1, 0, 1, 0))
    assert retest_flips(same, same) == 0.0


def test_flips_between_checkpoints():
    old = np.array([[1, 1], [0, 0]], bool)
    new = np.array([[1, 0], [1, 0]], bool)
    result = flips(old, new)
    assert result.negative == pytest.approx(0.25)  # (0, 1) solved then failed
    assert result.positive == pytest.approx(0.25)  # (1, 0) failed then solved
    assert checkpoint_flips(records(old), records(old)).negative == 0.0
    with pytest.raises(ValueError, match="same tasks"):
        flips(old, new[:1])


def test_reintroduced_bugs_and_harm_rates():
    rec = records([[1, 0], [1, 1]], regressions=[[2, 0], [1, 1]], harm=[[1, 3], [0, 2]])
    assert reintroduced_bugs_per_episode(rec) == pytest.approx(4 / 4)
    harm = harm_rate(rec)
    assert harm.per_episode == pytest.approx(6 / 4)
    assert harm.per_success == pytest.approx(6 / 3)
    assert np.isnan(harm_rate(records([[0]], harm=[[1]])).per_success)
    with pytest.raises(KeyError, match="regressions"):
        reintroduced_bugs_per_episode(records([[1]]))


def test_samples_to_competence_and_area():
    steps = np.array([0, 1000, 2000, 3000])
    curves = np.array([[0.0, 0.5, 0.9, 1.0], [0.0, 0.1, 0.2, 0.3]])
    result = samples_to_competence(steps, curves, threshold=0.8, seconds_per_step=0.1)
    np.testing.assert_array_equal(result.steps, [2000, np.inf])
    np.testing.assert_allclose(result.hours, [2000 * 0.1 / 3600, np.inf])
    np.testing.assert_array_equal(result.reached, [True, False])
    # Trapezoids: (0 + .5)/2 + (.5 + .9)/2 + (.9 + 1)/2 = 1.9 per 1000 steps -> mean 1.9/3.
    assert area_under_curve(steps, curves[0]) == pytest.approx(1.9 / 3)
    assert area_under_curve(steps, curves[0], normalise=False) == pytest.approx(1900.0)


def test_continual_metrics_on_a_hand_made_r_matrix():
    # Three jobs; row i = scores after training stage i.
    R = np.array([
        [0.8, 0.1, 0.0],
        [0.6, 0.9, 0.2],
        [0.4, 0.7, 1.0],
    ])
    m = continual_metrics(R, reference=np.array([0.0, 0.0, 0.1]))
    assert m.average_performance == pytest.approx((0.4 + 0.7 + 1.0) / 3)
    # BWT: ((0.4 - 0.8) + (0.7 - 0.9)) / 2 = -0.3; forgetting = 0.3.
    assert m.backward_transfer == pytest.approx(-0.3)
    assert m.forgetting == pytest.approx(0.3)
    assert m.max_forgetting == pytest.approx(0.3)  # best earlier scores are the diagonal
    # Zero-shot (Lopez-Paz & Ranzato FWT): ((0.1 - 0.0) + (0.2 - 0.1)) / 2 = 0.1.
    assert m.zero_shot_transfer == pytest.approx(0.1)
    # Batched over seeds.
    batched = continual_metrics(np.stack([R, R]))
    np.testing.assert_allclose(batched.forgetting, [0.3, 0.3])
    # Continual World FT: job 0 (0.6 - 0.5) / 0.5 = 0.2, job 1 (0.5 - 0.5) / 0.5 = 0 -> 0.1.
    assert forward_transfer(np.array([0.6, 0.5]), np.array([0.5, 0.5])) == pytest.approx(0.1)
