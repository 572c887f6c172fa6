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

import jax  # noqa: E402
import numpy as np  # noqa: E402

from trainee.fleet import LearnerConfig, job_pools, make_fleet_run, make_rule, make_world  # noqa: E402
from trainee.learners import make_learner  # noqa: E402

HP = LearnerConfig(total_steps=8 * 16 * 8, num_envs=8, num_steps=16, update_epochs=1,
                   num_minibatches=1, lr=1e-3, hidden=16)


@pytest.fixture(scope="module")
def local_ray():
    yield ray
    ray.shutdown()


def test_ray_fleet_matches_local(local_ray):
    rule = "diloco"  # the rule with the most state (anchor and momentum)
    from trainee.fleet.ray_executor import run_fleet_on_ray

    world = make_world("corridor")
    pools = job_pools(world, jax.random.PRNGKey(0), "train", [0, 3], 4)
    key = jax.random.PRNGKey(1)
    local = jax.jit(make_fleet_run(make_learner(HP, world), make_rule(rule), 4, 2))(key, pools)
    jax.block_until_ready(local)
    remote = run_fleet_on_ray(HP, "corridor", make_rule(rule), 4, 2, key, pools)
    for a, b in zip(jax.tree.leaves(local.merged), jax.tree.leaves(remote.merged), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)
    for a, b in zip(jax.tree.leaves(local.states.env), jax.tree.leaves(remote.states.env),
                    strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)
