"""examples/sb3_ppo.py: SB3's PPO through the Gymnasium export, by name and vectorised.
SB3 needs torch, which trainee never depends on, so this runs only where SB3 is
installed (`pip install torch==2.13.0 stable-baselines3`)."""

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("stable_baselines3", reason="SB3 (and torch) are not trainee dependencies")


def _example():
    spec = importlib.util.spec_from_file_location(
        "sb3_ppo", Path(__file__).parents[1] / "examples" / "sb3_ppo.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    return example


@pytest.mark.parametrize("vectorised", [False, True])
def test_sb3_ppo_runs_on_a_trainee_world(vectorised):
    example = _example()
    args = ["--world", "corridor", "--steps", "2048", "--envs", "4"]
    result = example.main(args + (["--vectorised"] if vectorised else []))
    assert result["steps_per_second"] > 0
    assert 0.0 <= result["success_before"] <= 1.0 and 0.0 <= result["success_after"] <= 1.0


def test_the_vec_env_adapter_reports_time_limits_as_sb3_expects():
    import numpy as np

    envs = _example().SB3VecEnv("corridor", 2)
    envs.reset()
    for t in range(48):  # corridor's time limit; action 1 ("stay") never reaches the goal
        obs, reward, done, infos = envs.step(np.ones(2, np.int64))
        assert done.all() == (t == 47) and not reward.any()
    assert all(info["TimeLimit.truncated"] for info in infos)
    assert all(info["terminal_observation"].shape == obs[0].shape for info in infos)
