"""Jobs that conflict (#12 part 5): the driving lane rule, cues, the `career-conflict` and
`conflict` presets, and the conflict itself, checked with hand-written policies (each
job's oracle fails the other jobs) so the check can fail without any training."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from trainee.careers import CareerConfig, load_career
from trainee.careers.career import CONFLICT_FLEET, Career, Job, career_worlds, job_tasks
from trainee.careers.conflict import believed, cross_job_matrix, eval_sets, oracle_matrix
from trainee.evaluate import evaluate_policy, oracle_policy
from trainee.fleet import PRESETS, job_family, job_pools, make_world, run_fleet_experiment
from trainee.learners import LearnerConfig
from trainee.worlds import make
from trainee.worlds.controls import Relabelled, with_layout
from trainee.worlds.wrappers import task_at


def test_lane_rule_defaults_to_todays_driving():
    world = make("driving")
    key = jax.random.key(0)
    plain = world.tasks(key, "train", 8, level=1)
    np.testing.assert_array_equal(plain.lane, np.zeros(8))
    ruled = world.tasks(key, "train", 8, level=1, lane=1)
    # the same roads: only the rule differs (the sampler's draws are untouched)
    np.testing.assert_array_equal(plain.curvature, ruled.curvature)
    with pytest.raises(ValueError, match="lane rule"):
        world.tasks(key, "train", 8, lane=2)


def test_lane_rule_decides_success():
    """Driving straight on: a route finished without a rule counts under exactly one of
    "keep right" / "keep left" (the lane the car ends in), episodes otherwise the same."""
    world = make("driving")
    straight = lambda key, obs, state, task: jnp.int32(8)  # steer 0, accelerate
    key = jax.random.key(0)
    tasks = world.tasks(key, "train", 64, level=0)
    ruled = jax.tree.map(lambda *x: jnp.concatenate(x), *[
        tasks.replace(lane=jnp.full((64,), lane, jnp.float32)) for lane in (0, -1, 1)])
    # one compiled program for the three rules (played op by op, the reset's ~150 eager
    # ops compiled one by one: 37 s of the test's 50 s cold)
    records = evaluate_policy(world, straight, key, ruled, 1)
    free, right, left = np.split(np.asarray(records.success[:, 0]), 3)
    length = np.split(np.asarray(records.length[:, 0]), 3)
    assert free.mean() > 0.5 and right.any() and left.any()
    np.testing.assert_array_equal(right.astype(int) + left, free)
    np.testing.assert_array_equal(length[0], length[1])
    np.testing.assert_array_equal(length[0], length[2])


def test_cue_is_appended_and_absent_by_default():
    inner = make("driving")
    plain, cued = Relabelled(inner), Relabelled(inner, cue_size=2)
    assert plain.observation_space.shape == inner.observation_space.shape
    assert cued.observation_space.shape == (inner.observation_space.shape[0] + 2,)
    tasks = with_layout(cued.tasks(jax.random.key(0), "train", 2), 0, (1.0, -1.0))
    # jitted: op by op each of the resets' ~150 ops compiled on its own (13 s cold)
    obs, _ = jax.jit(cued.reset)(jax.random.key(1), task_at(tasks, 0))
    inner_obs, _ = jax.jit(inner.reset)(jax.random.key(1), task_at(tasks.inner, 0))
    np.testing.assert_array_equal(obs, np.concatenate([inner_obs, [1.0, -1.0]]))
    with pytest.raises(ValueError, match="cue"):
        with_layout(tasks, 0, (1.0,))


def test_presets_load_and_validate():
    career = load_career("career-conflict")
    career.validate()
    assert len(career.jobs) >= 10 and len({(j.tasks["lane"], j.controls) for j in career.jobs}) \
        == len(career.jobs)
    assert {len(j.cue) for j in career.jobs} == {1}
    config = PRESETS["conflict"]
    config.validate()
    family = job_family(make_world(config.world))
    assert len(config.job_ids(len(family.names))) == 4 == len(set(config.jobs))
    with pytest.raises(ValueError, match="same number"):
        Career("bad", (Job("a", "driving", cue=(1.0,)), Job("b", "driving"))).validate()


def test_believed_takes_only_the_job_defining_fields():
    tj = {"road": np.array([1.0, 2.0]), "lane": np.array([-1.0, -1.0]), "z": np.zeros(2)}
    ti = {"road": np.array([5.0, 6.0]), "lane": np.array([1.0, 1.0]), "z": np.zeros(2)}
    out = believed(tj, ti)
    np.testing.assert_array_equal(out["road"], tj["road"])  # varies per task: job j's
    np.testing.assert_array_equal(out["lane"], ti["lane"])  # the rule: job i's
    np.testing.assert_array_equal(out["z"], tj["z"])


def test_fleet_jobs_conflict_for_their_oracles():
    """Each fleet job's oracle does its own job and fails the three others (the lane
    rule reversed, or the same buttons in another car)."""
    world, evals = eval_sets(CONFLICT_FLEET, jax.random.key(0), 8)
    M = oracle_matrix(world, evals, jax.random.key(1), 1)
    assert np.all(np.diag(M) >= 0.9), M
    assert M[~np.eye(4, dtype=bool)].max() <= 0.25, M


def test_fleet_pools_make_each_jobs_tasks():
    world = make_world("driving")
    pools = job_pools(world, jax.random.key(0), "night", [0, 3], 4)
    lanes, cues = np.asarray(pools.inner.lane), np.asarray(pools.cue)
    for row, job in zip(range(2), (CONFLICT_FLEET.jobs[0], CONFLICT_FLEET.jobs[3]), strict=True):
        assert (lanes[row] == job.tasks["lane"]).all()
        np.testing.assert_array_equal(cues[row], np.broadcast_to(job.cue, (4, 2)))
    assert (np.asarray(pools.inner.sensor_noise) > 0).all()  # the held-out split


@pytest.mark.slow  # compiles a driving learner: 44 s-6 min on the shared machine
def test_career_conflict_runs_and_gives_a_cross_job_matrix():
    career = load_career("career-conflict")
    tiny = Career("tiny", tuple(dataclasses.replace(j, steps=1024) for j in career.jobs[:2]))
    out = cross_job_matrix(tiny, LearnerConfig(num_envs=16, num_steps=64),
                           CareerConfig(seeds=1, eval_tasks=4, episodes=1, chunks=1))
    assert np.asarray(out["matrix"]).shape == (2, 2)
    assert out["oracle"] == [1.0, 1.0] and np.diag(out["oracle_matrix"]).min() == 1.0
    assert len(out["competence"]) == 2 and len(out["random"]) == 2


@pytest.mark.slow  # compiles four driving programs: 64 s-12 min on the shared machine
def test_conflict_fleet_runs(tmp_path):
    config = dataclasses.replace(PRESETS["conflict"], seeds=1, pool_size=8, eval_tasks=2,
                                 eval_episodes=1, merge_every=1,
                                 hp=dataclasses.replace(PRESETS["conflict"].hp, total_steps=1024))
    summary = run_fleet_experiment(config, tmp_path, show_progress=False)
    assert summary["jobs"] == [j.name for j in CONFLICT_FLEET.jobs]
    assert summary["held_out_split"] == "night"


def test_career_jobs_get_their_rule_and_cue():
    """A job's tasks carry its lane rule, cue and car, and the oracle drives them all:
    through relabelled controls too (car 1), which makes this the default suite's check of
    the oracle under new controls (tests/test_controls.py's own is slow)."""
    career = load_career("career-conflict")
    world = career_worlds(career)["driving"]
    job = career.jobs[3]  # keep left in car 1
    tasks = job_tasks(world, job, jax.random.key(0), 4)
    assert (np.asarray(tasks.inner.lane) == job.tasks["lane"]).all()
    assert (np.asarray(tasks.cue) == job.cue).all()
    assert (np.asarray(tasks.layout) != np.arange(world.action_space.n)).any()
    # one program, not the reset's eager ops one by one
    records = evaluate_policy(world, oracle_policy(world), jax.random.key(1), tasks, 1)
    assert records.success.mean() == 1.0
