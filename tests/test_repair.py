"""repair: oracle success per split, regressions on a hand-made sequence, features."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from trainee.evaluate import evaluate, oracle_policy
from trainee.worlds import make
from trainee.worlds.repair import MAX_BITS, MAX_TESTS, incidence, make_task, unpack
from trainee.worlds.wrappers import task_at


@pytest.fixture(scope="module")
def world():
    return make("repair")


def test_oracle_solves_every_split(world):
    run = jax.jit(lambda key, tasks: evaluate(world, oracle_policy(world), key, tasks, 1))
    for i, split in enumerate(world.splits):
        tasks = world.tasks(jax.random.key(i), split, 64)
        records = run(jax.random.key(100 + i), tasks).to_numpy()
        assert records.success.all(), split
        # It only moves toward the planted program, n // 2 bits away, within the budget.
        assert (records.length[:, 0] <= np.asarray(tasks.n_bits) // 2).all()
        assert (np.asarray(tasks.budget) == np.asarray(tasks.n_bits) // 2 + 2).all()


def test_greedy_flipper_falls_into_the_trap(world):
    """On a decoy task greedy flips the decoy and back (re-introducing the bugs it had
    hidden) until the budget is spent; the oracle fixes both bugs."""
    from trainee.worlds.references import measure

    # bugs x1, x2 (planted 1, start 0), decoy x3 (planted 0); x4 clean (planted 0).
    clauses = [[1, 3], [2, 3],  # own tests: fixed by the bug or by the decoy
               [-3, 4], [-3, -4], [-3, 4]]  # guards of the decoy (x4 is 0 at both)
    task = make_task(clauses, planted=[1, 1, 0, 0], initial=[0, 0, 0, 0], budget=4)
    tasks = jax.tree.map(lambda x: jnp.asarray(x)[None], task)
    refs = measure(world, tasks, jax.random.key(0), episodes=1, policies=("oracle", "greedy"))
    assert refs["oracle"].score["success"] == 1.0 and refs["oracle"].score["length"] == 2
    assert refs["greedy"].score["success"] == 0.0
    assert refs["greedy"].score["regressions"] >= 2  # both own tests came back


def test_random_rarely_passes_and_levels_order_the_oracle(world):
    from trainee.worlds.references import measure

    lengths = []
    for level in range(world.levels):
        tasks = world.tasks(jax.random.key(level), "train", 128, level=level)
        refs = measure(world, tasks, jax.random.key(9), episodes=2, policies=("random", "oracle"))
        assert refs["random"].score["success"] <= 0.15, level  # measured 0.04-0.09 (512 x 2)
        lengths.append(refs["oracle"].score["length"])
    assert lengths == sorted(lengths) and lengths[0] < lengths[-1]


def test_generated_tasks_start_broken_and_planted_passes(world):
    from trainee.worlds.repair import passing_word

    tasks = world.tasks(jax.random.key(5), "structure", 64)
    assert not bool(jnp.any(jax.vmap(world.is_train)(tasks)))  # a shared test in each
    start = jax.vmap(passing_word)(tasks.initial, tasks)
    planted = jax.vmap(passing_word)(tasks.planted, tasks)
    assert bool(jnp.all(start != -1)) and bool(jnp.all(planted == -1))


# x1 | x2 (test 0) and !x1 | x3 (test 1), bits numbered from 1 as in DIMACS.
CLAUSES = [[1, 2], [-1, 3]]


def test_regressions_on_a_hand_made_sequence(world):
    task = make_task(CLAUSES, planted=[0, 1, 1], initial=[0, 0, 0])
    _, state = world.reset(jax.random.key(0), task)
    step = jax.jit(world.step)
    regressions, success = [], []
    # flip x1: test 0 fixed, test 1 breaks (first failure, not a regression);
    # flip x1: test 0 fails again (regression), test 1 fixed;
    # flip x1: test 0 fixed again, test 1 fails again (regression);
    # flip x3: everything passes.
    for bit in (0, 0, 0, 2):
        out = step(jax.random.key(0), state, jnp.int32(bit), task)
        regressions.append(float(out.info["regressions"]))
        success.append(bool(out.info["success"]))
        state = out.state
    assert regressions == [0.0, 1.0, 1.0, 0.0]
    assert success == [False, False, False, True]


def test_make_and_break_features(world):
    task = make_task(CLAUSES, planted=[0, 1, 1], initial=[0, 0, 0])
    obs, _ = world.reset(jax.random.key(0), task)
    obs = np.asarray(obs)
    bits, tests = obs[:MAX_BITS], obs[MAX_BITS:MAX_BITS + MAX_TESTS]
    np.testing.assert_array_equal(bits[:4], [-1, -1, -1, 0])  # 3 bits, then padding
    np.testing.assert_array_equal(tests[:3], [1, -1, 0])  # failing, passing, padding
    slots = obs[MAX_BITS + MAX_TESTS:-2 * MAX_BITS - 1].reshape(MAX_TESTS, -1)
    np.testing.assert_allclose(slots[:2, :2] * MAX_BITS, [[1, 2], [-1, 3]])
    make_score, break_score = obs[-2 * MAX_BITS - 1:-MAX_BITS - 1], obs[-MAX_BITS - 1:-1]
    assert obs[-1] == 12 / 8  # flips left / 8 (make_task's default budget)
    np.testing.assert_allclose(make_score[:3], [0.25, 0.25, 0.0])  # test 0 mentions x1, x2
    np.testing.assert_allclose(break_score[:3], [0.25, 0.0, 0.0])  # !x1 alone holds test 1


def test_split_rule_on_hand_made_tasks(world):
    assert bool(world.is_train(make_task(CLAUSES, [0, 1, 1], [0, 0, 0])))
    wide = make_task([[1, 2, 3, 4]], [1, 1, 1, 1], [0, 0, 0, 1])
    assert not bool(world.is_train(wide))  # a 4-literal test
    shared = make_task([[1, 2, -3]], [1, 1, 0, 0], [0, 0, 0, 0])
    assert not bool(world.is_train(shared))  # two bugs' fixes in one test: `structure`


def test_levels(world):
    easy = world.tasks(jax.random.key(2), "train", 64, level=0)
    assert bool(jnp.all(easy.n_bits == 4)) and bool(jnp.all(easy.budget == 4))
    big = world.tasks(jax.random.key(2), "bigger", 64, level=0)
    assert bool(jnp.all(big.n_bits == 9))
    with pytest.raises(ValueError):
        world.tasks(jax.random.key(2), "train", 4, level=7)


def test_renderers(world):
    task = task_at(world.tasks(jax.random.key(3), "train", 64), 0)
    _, state = world.reset(jax.random.key(0), task)
    picture = world.render_rgb(state, task)
    n, m = int(task.n_bits), int(task.n_tests)
    assert picture.shape == ((m + 2) * 12, (n + 2) * 12, 3) and picture.dtype == np.uint8
    text = world.render_text(state, task)
    assert "FAIL" in text and text.count("test") == m
    table = np.asarray(incidence(task))
    assert (np.abs(table).sum(1)[:m] >= 2).all() and (table[m:] == 0).all()
    assert unpack(task.initial, MAX_BITS).shape == (MAX_BITS,)
