"""Our worlds as Gymnasium envs: the official checker, seeding, pass-through semantics."""

import warnings

import jax
import numpy as np
import pytest
from conftest import require

gymnasium = require("gymnasium")

from gymnasium.utils.env_checker import check_env  # noqa: E402

from trainee.worlds import make, task_at, to_gymnasium  # noqa: E402


@pytest.mark.parametrize("name", ["driving", "repair"])
def test_check_env(name):
    env = to_gymnasium(name, split="train", seed=0, num_tasks=8, render_mode="rgb_array")
    assert isinstance(env, gymnasium.Env)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no spec" note: we do not register with gym.make
        check_env(env)
    assert isinstance(env.render(), np.ndarray)


def test_seeding_counters_and_termination():
    world = make("repair")
    env = to_gymnasium(world, split="bigger", seed=3, num_tasks=8, render_mode="ansi")
    first, info = env.reset(seed=7)
    again, info_again = env.reset(seed=7)
    np.testing.assert_array_equal(first, again)
    assert info == info_again
    other, _ = env.reset(seed=7, options={"task_index": (info["task_index"] + 1) % 8})
    assert not np.array_equal(first, other)
    env.reset(seed=7)
    for _ in range(world.max_steps):
        action = int(world.oracle(None, env.unwrapped._state, env.unwrapped._task))
        obs, reward, terminated, truncated, info = env.step(action)
        assert set(info) >= {"success", "regressions", "wasted", "task_index"}
        if terminated or truncated:
            break
    assert terminated and not truncated and info["success"] and reward == 1.0
    assert "PASS" in env.render()


def test_registered_with_gymnasium_by_name():
    import trainee.worlds.gymnasium_export  # noqa: F401  (registers trainee/<world>)

    env = gymnasium.make("trainee/corridor", num_tasks=4)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (32,)
    envs = gymnasium.make_vec("trainee/corridor", num_envs=3,
                              vectorization_mode="vector_entry_point")
    assert envs.num_envs == 3 and envs.observation_space.shape == (3, 32)


def test_vector_env_same_step_autoreset_with_the_oracle():
    """Driven by the oracle, every env of repair finishes its episode with success; the
    step that ends it returns the next episode's first observation and keeps the last
    one (and that step's info) under final_obs / final_info, masked to the finished envs."""
    from gymnasium.vector import AutoresetMode

    from trainee.worlds.gymnasium_export import make_vector_env

    world = make("repair")
    envs = make_vector_env(world, 4, split="train", seed=1, num_tasks=16)
    assert envs.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    obs, info = envs.reset(seed=3)
    assert obs.shape == (4, *world.observation_space.shape) and obs.dtype == np.float32
    again, _ = envs.reset(seed=3)
    np.testing.assert_array_equal(obs, again)
    finished = np.zeros(4, bool)
    oracle = jax.jit(jax.vmap(world.oracle, in_axes=(None, 0, 0)))
    for _ in range(world.max_steps):
        _, states = envs._carry
        tasks = task_at(envs.tasks, states.task_index)
        actions = oracle(None, states.inner, tasks)
        obs, reward, terminated, truncated, info = envs.step(np.asarray(actions))
        done = terminated | truncated
        np.testing.assert_array_equal(info["_final_obs"], done)
        for i in np.flatnonzero(done & ~finished):
            assert terminated[i] and reward[i] == 1.0 and info["final_info"]["success"][i]
            assert info["final_obs"][i].shape == obs[i].shape
            assert not np.array_equal(info["final_obs"][i], obs[i])  # obs is the next start
        assert all(info["final_obs"][i] is None for i in np.flatnonzero(~done))
        finished |= done
        if finished.all():
            break
    assert finished.all()


def test_vector_env_truncates_at_the_time_limit_and_rejects_bad_sizes():
    from trainee.worlds.gymnasium_export import make_vector_env

    world = make("corridor")
    envs = make_vector_env(world, 2, num_tasks=4)
    envs.reset(seed=0)
    for t in range(world.max_steps):
        _, _, terminated, truncated, _ = envs.step(np.ones(2, np.int64))  # "stay": never wins
        assert not terminated.any()
        assert truncated.all() == (t == world.max_steps - 1)
    with pytest.raises(ValueError, match="num_envs"):
        make_vector_env(world, 0)


def test_observations_are_writable_copies():
    """SB3 hands observations to torch, which warns on (and may write to) read-only arrays."""
    from trainee.worlds.gymnasium_export import make_vector_env

    env = to_gymnasium("corridor", num_tasks=4)
    first, _ = env.reset(seed=0)
    second = env.step(0)[0]
    first[...] = -1.0  # a copy: the env's next step is not touched
    assert second.flags.writeable and not (env.step(0)[0] == -1.0).all()
    envs = make_vector_env("corridor", 2, num_tasks=4)
    assert envs.reset(seed=0)[0].flags.writeable
    assert envs.step(np.zeros(2, np.int64))[0].flags.writeable


def test_single_env_outputs_in_small_chunks_are_the_worlds_step():
    """repair's observation (191 floats) leaves the jitted step in chunks of <= 128 words
    (XLA:CPU's 512-byte limit for running a program on the calling thread); put back
    together, the env's step is the world's own, bit for bit."""
    from trainee.worlds.gymnasium_export import _CHUNK_WORDS, _packings, _single_step

    world = make("repair")
    env = to_gymnasium(world, seed=0, num_tasks=8)  # test_check_env's pool: one compile
    env.reset(seed=5)
    packings = _packings(world, env.unwrapped.tasks)
    for action in (3, 0, 1):
        carry = env.unwrapped._carry
        _, chunks = _single_step(world, packings, carry, np.int32(action))
        assert len(chunks) == 2 and all(c.shape[0] <= _CHUNK_WORDS for c in chunks)
        key, state, task = packings[1].unpack(carry)
        out = jax.jit(world.step)(jax.random.split(key)[1], state, action, task)
        obs, reward, terminated, _, info = env.step(action)
        assert obs.tobytes() == np.asarray(out.obs).tobytes() and obs.flags.writeable
        assert reward == float(out.reward) and terminated == bool(out.terminated)
        assert info["regressions"] == float(out.info["regressions"])
        if terminated:
            break


def test_driving_noise_free_twin_observes_bit_for_bit():
    """`Driving.specialized` hands a noise-free pool a twin without the noise table
    (one per world object); its observations equal the world's bit for bit, signed
    zeros included. A pool with night noise keeps the world itself."""
    from trainee.worlds.driving import _erfinv_table

    table = _erfinv_table()
    assert (table != 0).all() and ((table < 0) == (np.arange(65536) < 32768)).all()
    world = make("driving")
    train = world.tasks(jax.random.key(0), "train", 8)
    twin = world.specialized(train)
    assert twin is not world and twin is world.specialized(train) and twin._noise_free
    assert world.specialized(train.replace(sensor_noise=train.sensor_noise + 0.1)) is world
    from trainee.worlds.driving import DrivingState

    n = 16  # the 8 tasks twice: at the start, and with d = psi = -0 (more -0 entries)
    tasks = jax.tree.map(lambda x: np.concatenate([x, x]), train)
    zero, signed = np.zeros(n, np.float32), np.repeat(np.float32([-1.75, -0.0]), 8)
    state = DrivingState(s=zero, d=signed, psi=np.copysign(zero, signed), v=zero + 8.0,
                         car_s=tasks.car_s0, ped_y=tasks.ped_y0,
                         ped_walking=np.zeros((n, 2), bool), ped_hit=np.zeros((n, 2), bool),
                         t=np.zeros(n, np.int32))
    keys = jax.random.split(jax.random.key(1), n)
    obs = [np.asarray(jax.jit(jax.vmap(w.observe))(keys, state, tasks)) for w in (world, twin)]
    assert obs[0].tobytes() == obs[1].tobytes() and np.signbit(obs[0][8:]).sum() > 8
