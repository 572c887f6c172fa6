"""Relabelled controls: the shared contract, the action mapping, the oracle through a
new layout, and jobs with their own controls in a career."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from trainee.careers.career import Career, Job, career_worlds, job_tasks
from trainee.evaluate import evaluate, oracle_policy
from trainee.worlds import make
from trainee.worlds.contract import check_world
from trainee.worlds.controls import Relabelled, layout, with_layout
from trainee.worlds.wrappers import task_at


def test_layouts():
    np.testing.assert_array_equal(layout(0, 5), np.arange(5))
    perm = layout(3, 15)
    assert sorted(perm.tolist()) == list(range(15)) and (perm != np.arange(15)).any()
    np.testing.assert_array_equal(layout(3, 15), perm)  # fixed per k


def test_relabelled_world_passes_the_contract():
    check_world(Relabelled(make("corridor")), num_tasks=16, split_samples=256)


def test_action_a_plays_layout_a():
    inner = make("corridor")
    world = Relabelled(inner)
    tasks = with_layout(world.tasks(jax.random.key(0), "train", 4), 7)
    task = task_at(tasks, 0)
    key = jax.random.key(1)
    _, state = world.reset(key, task)
    for action in range(inner.action_space.n):
        ours = world.step(key, state, jnp.int32(action), task)
        theirs = inner.step(key, state, jnp.int32(layout(7, inner.action_space.n)[action]),
                            task.inner)
        np.testing.assert_array_equal(ours.obs, theirs.obs)
        assert float(ours.reward) == float(theirs.reward)


@pytest.mark.slow  # 18 s cold; by default tests/test_conflict.py's career job checks it
def test_oracle_presses_the_right_button_under_new_controls():
    world = Relabelled(make("driving"))
    tasks = with_layout(world.tasks(jax.random.key(0), "train", 8, level=0), 5)
    records = evaluate(world, oracle_policy(world), jax.random.key(1), tasks, 1)
    assert float(np.mean(records.success)) == 1.0


def test_career_jobs_get_their_own_controls():
    career = Career("c", (Job("a", "corridor", steps=1024),
                          Job("b", "corridor", steps=1024, controls=2)))
    world = career_worlds(career)["corridor"]
    assert isinstance(world, Relabelled)
    n = world.action_space.n
    for job, k in zip(career.jobs, (0, 2), strict=True):
        tasks = job_tasks(world, job, jax.random.key(0), 8)
        np.testing.assert_array_equal(tasks.layout, np.broadcast_to(layout(k, n), (8, n)))
    plain = Career("p", (Job("a", "corridor", steps=1024),))
    assert not isinstance(career_worlds(plain)["corridor"], Relabelled)  # unchanged
