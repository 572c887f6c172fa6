"""Our worlds as Gymnasium envs: the official checker, seeding, pass-through semantics."""

import warnings

import numpy as np
import pytest
from conftest import require

gymnasium = require("gymnasium")

from gymnasium.utils.env_checker import check_env  # noqa: E402

from trainee.worlds import make, to_gymnasium  # noqa: E402


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
