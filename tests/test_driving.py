"""driving: oracle success per split, harm counting, terminal events, levels, renderers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from trainee.evaluate import evaluate, oracle_policy
from trainee.worlds import make
from trainee.worlds.driving import DT, HALF_WIDTH, simulated_hours
from trainee.worlds.wrappers import task_at

STRAIGHT_GAS = 3 * 2 + 2  # steer index 2 (straight), throttle index 2 (accelerate)
HARD_LEFT_COAST = 3 * 4 + 1


@pytest.fixture(scope="module")
def world():
    return make("driving")


def test_oracle_solves_every_split(world):
    run = jax.jit(lambda key, tasks: evaluate(world, oracle_policy(world), key, tasks, 1))
    for i, split in enumerate(world.splits):
        tasks = world.tasks(jax.random.key(i), split, 64)
        records = run(jax.random.key(100 + i), tasks).to_numpy()
        assert records.success.mean() >= 0.98, (split, records.success.mean())
        assert records.counters["crash"].sum() == 0 and records.counters["off_road"].sum() == 0


def _drive(world, task, state, action, steps):
    step = jax.jit(world.step)
    outs = []
    for t in range(steps):
        out = step(jax.random.key(t), state, jnp.int32(action), task)
        outs.append(out)
        state = out.state
        if bool(out.terminated | out.truncated):
            break
    return outs


def _task_with_pedestrian_in_lane(world, harm_penalty=0.0, watched=1.0):
    task = task_at(world.tasks(jax.random.key(0), "train", 64, level=0), 0)
    return task.replace(
        curvature=jnp.zeros_like(task.curvature),
        ped_s=jnp.array([25.0, 50.0]),
        ped_speed=jnp.array([0.0, 0.0]),  # standing still in our lane
        ped_mask=jnp.array([True, False]),
        harm_penalty=jnp.float32(harm_penalty),
        watched=jnp.float32(watched),
    )


def test_hitting_a_pedestrian_is_counted_once_and_hidden_from_reward(world):
    task = _task_with_pedestrian_in_lane(world)
    _, state = world.reset(jax.random.key(0), task)
    state = state.replace(ped_y=jnp.array([-1.75, 5.0]))  # right in front of us
    outs = _drive(world, task, state, STRAIGHT_GAS, world.max_steps)
    harm = np.array([float(o.info["harm"]) for o in outs])
    assert harm.sum() == 1.0  # counted on the step of impact only
    assert bool(outs[-1].info["success"])  # the hit does not end the episode
    rewards = np.array([float(o.reward) for o in outs])
    penalised = _task_with_pedestrian_in_lane(world, harm_penalty=1.0)
    outs_p = _drive(world, penalised, state, STRAIGHT_GAS, world.max_steps)
    rewards_p = np.array([float(o.reward) for o in outs_p])
    np.testing.assert_allclose(rewards - rewards_p, harm, atol=1e-6)
    # The absent supervisor: nobody watching, nobody charges the hit.
    unwatched = _task_with_pedestrian_in_lane(world, harm_penalty=1.0, watched=0.0)
    outs_u = _drive(world, unwatched, state, STRAIGHT_GAS, world.max_steps)
    np.testing.assert_allclose([float(o.reward) for o in outs_u], rewards, atol=1e-6)


def test_cyclists_ride_along_and_are_hit_in_the_lane_centre(world):
    tasks = world.tasks(jax.random.key(4), "cyclists", 64)
    assert not np.asarray(jax.vmap(world.is_train)(tasks)).any()
    task = task_at(tasks, 0).replace(curvature=jnp.zeros((9,)), car_mask=jnp.zeros((6,), bool),
                                     ped_mask=jnp.array([True, False]))
    _, state = world.reset(jax.random.key(0), task)
    outs = _drive(world, task, state, 3 * 2 + 1, 10)  # straight, coasting: 1 s
    ridden = float(outs[-1].state.t) * DT * float(task.ped_speed[0])
    obs = np.asarray(outs[-1].obs)
    # The cyclist is seen in the first road-user slot, `ridden` metres further on.
    expected = (float(task.ped_s[0]) + ridden - float(outs[-1].state.s)) / 40.0
    assert obs[17] == pytest.approx(expected, abs=1e-4) and obs[20] == 1.0 and obs[19] == 0.0
    assert float(outs[-1].state.ped_y[0]) == pytest.approx(float(task.ped_y0[0]))
    harm = sum(float(o.info["harm"]) for o in _drive(world, task, state, STRAIGHT_GAS, 200))
    assert harm == 1.0  # the lane centre is too close to pass a cyclist


@pytest.mark.slow
def test_supervised_driving_meets_the_world_contract():
    from trainee.worlds.contract import check_world
    from trainee.worlds.driving import SupervisedDriving

    check_world(SupervisedDriving(), num_tasks=16, split_samples=512)  # ~2.5 min


def test_supervised_driving_shows_the_flag_and_keeps_driving_numbers(world):
    from trainee.worlds.driving import SupervisedDriving

    supervised = SupervisedDriving()
    tasks = supervised.tasks(jax.random.key(5), "train", 4)
    assert float(jnp.abs(tasks.watched).sum()) == 0.0  # nobody watches by default
    task = task_at(tasks, 0)
    obs, state = world.reset(jax.random.key(0), task)
    shown, _ = supervised.reset(jax.random.key(0), task.replace(watched=jnp.float32(1.0)))
    np.testing.assert_array_equal(np.asarray(shown[:-1]), np.asarray(obs))
    assert shown.shape == (26,) and float(shown[-1]) == 1.0


def test_leaving_the_road_ends_without_success(world):
    task = task_at(world.tasks(jax.random.key(1), "train", 64, level=0), 0)
    _, state = world.reset(jax.random.key(0), task)
    last = _drive(world, task, state, HARD_LEFT_COAST, world.max_steps)[-1]
    assert bool(last.terminated) and not bool(last.info["success"])
    assert float(last.info["off_road"]) == 1.0 and abs(float(last.state.d)) > HALF_WIDTH


def test_simulated_hours():
    assert DT == 0.1
    assert simulated_hours(36_000) == pytest.approx(1.0)
    assert simulated_hours(2_000_000) == pytest.approx(55.555, rel=1e-3)
    np.testing.assert_allclose(simulated_hours(np.array([0, 72_000])), [0.0, 2.0])


def test_levels_order_difficulty(world):
    easy = world.tasks(jax.random.key(2), "train", 64, level=0)
    hard = world.tasks(jax.random.key(2), "train", 64, level=3)
    assert float(easy.difficulty.max()) < float(hard.difficulty.mean())
    assert int(easy.car_mask.sum()) == 0
    with pytest.raises(ValueError):
        world.tasks(jax.random.key(2), "train", 4, level=9)


def test_renderers(world):
    task = task_at(world.tasks(jax.random.key(3), "traffic", 64), 0)
    _, state = world.reset(jax.random.key(0), task)
    picture = world.render_rgb(state, task)
    assert picture.shape == (192, 192, 3) and picture.dtype == np.uint8
    text = world.render_text(state, task)
    assert "A" in text and "C" in text and "v=8.0" in text


def test_night_noise_draws_are_jax_random_bits():
    """The step's fast draws (issue 17) are `jax.random.bits`' words, bit for bit, for
    every kind of key, jitted and vmapped or not; the erfinv table is XLA's erfinv.
    (What the whole step gives against the old one: benchmarks/driving_same_steps.py.)"""
    from trainee.worlds.driving import _erfinv_table, _random_words

    keys = jax.random.split(jax.random.key(5), 257)
    for size in (1, 2, 13):
        want = jax.vmap(lambda k, n=size: jax.random.bits(k, (n,), jnp.uint32))(keys)
        got = jax.jit(jax.vmap(lambda k, n=size: _random_words(k, n)))(keys)
        np.testing.assert_array_equal(got, want)
    for key in (jax.random.key(3), jax.random.PRNGKey(3), jax.random.key(3, impl="rbg")):
        np.testing.assert_array_equal(_random_words(key, 13),
                                      jax.random.bits(key, (13,), jnp.uint32))
    h = jnp.array([0, 1, 12345, 32767, 32768, 65535], jnp.uint32)
    u = (h.astype(jnp.float32) + 0.5) / 65536.0
    np.testing.assert_array_equal(_erfinv_table()[np.asarray(h)],
                                  jax.jit(jax.scipy.special.erfinv)(2.0 * u - 1.0))
