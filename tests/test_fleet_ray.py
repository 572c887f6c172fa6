"""The Ray fleet (each instance an actor, merges through the object store) gives the
local vmapped fleet's merged parameters for the same seeds and config."""

import os

import pytest
from conftest import require

ray = require("ray")

# Ray must start before JAX does work in this process (this machine's rule: JAX's CPU
# thread pools and Ray's process start-up do not mix well the other way round), and
# collection imports this module before any test runs.
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
if not ray.is_initialized():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)

import dataclasses  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402

from trainee.fleet import FleetConfig, LearnerConfig, job_pools, make_world  # noqa: E402
from trainee.fleet.experiment import FleetPrograms, run_seed  # noqa: E402
from trainee.fleet.merge import rule_choice  # noqa: E402

HP = LearnerConfig(total_steps=8 * 16 * 8, num_envs=8, num_steps=16, update_epochs=1,
                   num_minibatches=1, lr=1e-3, hidden=16)
# diloco: the rule with the most state (anchor and momentum)
CONFIG = FleetConfig(world="corridor", instances=2, jobs=(0, 3), merge="diloco", merge_every=4,
                     hp=HP, pool_size=4, eval_tasks=4, eval_episodes=1, seeds=1)


@pytest.fixture(scope="session")
def local_ray():
    yield ray
    ray.shutdown()  # session scope: tests/test_executor_ray.py may run after this module


def close(a, b) -> None:
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-6, atol=1e-6)


# DiLoCo by default (the rule with the most state: anchor and momentum); the never-merged
# specialists and a whole repetition (`run_seed`) are slow: 57 s and 16 s cold, and they
# add no code path of their own to the actors (the same program, another merge rule).
@pytest.mark.parametrize("merge", ["diloco", pytest.param("none", marks=pytest.mark.slow)])
def test_ray_fleet_matches_the_local_fleet(local_ray, merge):
    """Against what `trainee fleet` runs locally (FleetPrograms: the program builder's
    learner with traced hyperparameters), parameter by parameter."""
    from trainee.fleet.ray_executor import run_fleet_on_ray

    config = dataclasses.replace(CONFIG, merge=merge)
    programs = FleetPrograms(CONFIG)
    pools = job_pools(make_world("corridor"), jax.random.PRNGKey(0), "train", [0, 3], 4)
    key = jax.random.PRNGKey(1)
    local = programs.fleet if merge != "none" else programs.specialists
    want = jax.block_until_ready(local(key, pools))
    got = run_fleet_on_ray(HP, "corridor", rule_choice(config), 4, programs.rounds, key, pools)
    close(want.merged, got.merged)  # None for the specialists
    close(want.states.params, got.states.params)
    close(want.states.env, got.states.env)


@pytest.mark.slow
def test_fleet_seed_on_ray_gives_the_local_scores(local_ray):
    config = dataclasses.replace(CONFIG, merge="mean")
    programs = FleetPrograms(config)
    local = run_seed(config, 0, programs, "local")
    remote = run_seed(config, 0, programs, "ray")
    assert set(remote) == set(local)
    for name in set(local) - {"train_seconds"}:
        np.testing.assert_allclose(remote[name], local[name], rtol=1e-6, atol=1e-6,
                                   err_msg=name)
