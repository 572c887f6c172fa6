"""Careers: interventions against hand-written equivalents, selection rules, and a
two-job career end to end."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import require

from trainee.careers import (
    CareerConfig,
    Context,
    chain,
    l2_init,
    load_career,
    replay,
    reset_dormant,
    run_career,
    shrink_perturb,
)
from trainee.careers.career import select
from trainee.careers.summary import summarize
from trainee.learners import LearnerConfig
from trainee.worlds import make

# One tiny learner for the career tests (and tests/test_runs.py's career), so that its
# programs are compiled once and served by the compilation cache
TINY_HP = LearnerConfig(num_envs=8, num_steps=16, hidden=16, update_epochs=1,
                        num_minibatches=1)


def ctx(event, params, init_params=None, tasks=None, past=(), apply_hidden=None, obs=None):
    return Context(event, jax.random.key(0), params, init_params, tasks, list(past), obs,
                   apply_hidden)


def test_shrink_perturb_matches_formula():
    params = {"w": jnp.ones((2, 3))}
    out, _ = shrink_perturb(0.5, 0.1).update(ctx("job_start", params, past=[None]), None)
    noise = jax.random.normal(jax.random.split(jax.random.key(0), 1)[0], (2, 3))
    np.testing.assert_allclose(out.params["w"], 0.5 * 1.0 + 0.1 * noise, rtol=1e-6)
    # not at the first job (nothing to warm-start from), not at chunk ends
    same, _ = shrink_perturb().update(ctx("job_start", params), None)
    assert same.params is params
    same, _ = shrink_perturb().update(ctx("chunk_end", params, past=[None]), None)
    assert same.params is params


def test_l2_init_pulls_toward_initial_weights():
    params, init = {"w": jnp.array([2.0, -2.0])}, {"w": jnp.array([0.0, 1.0])}
    out, _ = l2_init(0.25).update(ctx("chunk_end", params, init), None)
    np.testing.assert_allclose(out.params["w"], [2.0 - 0.25 * 2.0, -2.0 - 0.25 * -3.0])


def test_replay_mixes_earlier_tasks_into_the_pool():
    new = {"id": jnp.zeros(8, jnp.int32)}
    old = {"id": jnp.ones(4, jnp.int32)}
    out, _ = replay(0.25).update(ctx("job_start", None, tasks=new, past=[old]), None)
    assert out.tasks["id"].shape == (8,)
    assert int(out.tasks["id"].sum()) == 2  # 25% of 8 drawn from the old pool
    first, _ = replay(0.25).update(ctx("job_start", None, tasks=new), None)
    assert first.tasks is new


def test_reset_dormant_resets_exactly_the_dead_units():
    # one seed, a tower "actor" with Dense_0 (2 -> 3 units) and Dense_1 (3 -> 1)
    params = {"params": {"actor": {
        "Dense_0": {"kernel": jnp.full((1, 2, 3), 5.0), "bias": jnp.full((1, 3), 5.0)},
        "Dense_1": {"kernel": jnp.full((1, 3, 1), 7.0), "bias": jnp.zeros((1, 1))}}}}
    init = jax.tree.map(jnp.zeros_like, params)
    # unit 1 never activates; units 0 and 2 do
    hidden = lambda p, obs: {("actor", 0): jnp.array([[1.0, 0.0, 1.0], [1.0, 0.0, 1.0]])}
    intervention = reset_dormant(0.1)
    context = ctx("chunk_end", params, init, apply_hidden=hidden, obs=jnp.zeros((2, 2)))
    out, state = intervention.update(context, intervention.init(params))
    k0 = np.asarray(out.params["params"]["actor"]["Dense_0"]["kernel"][0])
    k1 = np.asarray(out.params["params"]["actor"]["Dense_1"]["kernel"][0])
    np.testing.assert_array_equal(k0[:, 1], [0.0, 0.0])  # incoming reset to init
    np.testing.assert_array_equal(k0[:, [0, 2]], np.full((2, 2), 5.0))
    np.testing.assert_array_equal(k1[:, 0], [7.0, 0.0, 7.0])  # outgoing zeroed
    assert state.resets == 1


def test_chain_applies_in_order():
    params, init = {"w": jnp.array([4.0])}, {"w": jnp.array([0.0])}
    both = chain(l2_init(0.5), l2_init(0.5))
    out, _ = both.update(ctx("chunk_end", params, init), both.init(params))
    np.testing.assert_allclose(out.params["w"], [1.0])


def test_selection_rule():
    world = make("corridor")
    tasks = world.tasks(jax.random.key(0), "train", 64)
    keep = select(tasks, "length=3")
    assert np.array_equal(keep, np.asarray(tasks.length) == 3)
    with pytest.raises(ValueError, match="no field"):
        select(tasks, "colour=1")
    with pytest.raises(ValueError, match="bad selection rule"):
        select(tasks, "length>3")


def test_two_job_career_end_to_end():
    # the tiny programs of test_mixed_career_end_to_end's corridor job (and test_runs')
    career = load_career("corridor")
    career = dataclasses.replace(career, jobs=tuple(dataclasses.replace(j, steps=256)
                                                    for j in career.jobs))
    settings = CareerConfig(seeds=2, num_tasks=16, eval_tasks=4, episodes=1, chunks=2,
                            interventions=("replay", "l2_init"))
    results = run_career(career, TINY_HP, settings, quiet=True)
    assert results["R"].shape == (2, 2, 2)
    assert results["flips_negative"].shape == (2, 1, 2)
    summary = summarize(results)
    for name in ("average_performance", "forgetting", "backward_transfer"):
        assert set(summary[name]) == {"iqm", "ci_low", "ci_high"}
    assert len(summary["samples_to_competence"]) == 2


def test_per_seed_tasks_are_each_seeds_own_and_paired():
    """`seed_tasks`: every seed its own pools and R-matrix instances (the same for any
    arm run with the same seed); one seed run alone equals that seed of the vmapped run;
    replay replays each seed's own earlier pools; diagnostics are recorded."""
    from trainee.careers.run import career_sets

    career = load_career("corridor")
    career = dataclasses.replace(career, jobs=tuple(dataclasses.replace(j, steps=1024)
                                                    for j in career.jobs))
    # test_a_stage_of_the_r_matrix's learner, seeds, tasks and episodes: the same compiled
    # init and evaluator serve both
    hp = LearnerConfig(num_envs=8, num_steps=16, hidden=16, total_steps=1024)
    settings = CareerConfig(seeds=2, num_tasks=16, eval_tasks=8, episodes=2, chunks=2,
                            seed_tasks=True, interventions=("replay",))
    sets = career_sets(career, settings)
    lengths = np.asarray(sets.eval_sets[1].length)  # (S, tasks)
    assert lengths.shape == (2, 8) and not np.array_equal(lengths[0], lengths[1])
    again = career_sets(career, dataclasses.replace(settings, interventions=(), train_seed=9))
    np.testing.assert_array_equal(np.asarray(again.eval_sets[1].length), lengths)
    full = run_career(career, hp, settings, quiet=True)
    one = run_career(career, hp, dataclasses.replace(settings, only_seeds=(1,)), quiet=True)
    np.testing.assert_allclose(np.asarray(one["R"])[0], np.asarray(full["R"])[1], atol=1e-6)
    assert full["dormant"].shape == (2, 2) and np.asarray(full["entropy"]).shape == (2, 2, 2)
    ctx_ = Context("job_start", jax.random.key(0), None, None, sets.pools[1], [sets.pools[0]],
                   None, None, True)
    mixed, _ = replay(0.25).update(ctx_, None)
    old = np.asarray(mixed.tasks.length)[:, -4:]  # (S, 4) replayed tasks, each from its own pool
    for s in range(2):
        assert set(old[s]) <= set(np.asarray(sets.pools[0].length)[s])


def test_unknown_career_and_intervention():
    with pytest.raises(ValueError, match="unknown career"):
        load_career("no-such-career")
    from trainee.careers import make_interventions

    with pytest.raises(ValueError, match="unknown intervention"):
        make_interventions(("forget_nothing",))


def test_career_learner_settings_are_defaults_that_flags_override(tmp_path):
    from trainee.careers.career import ERRANDS_HP
    from trainee.cli.career import CareerCommandConfig, parse_career_config

    config, career = parse_career_config(["errands"])
    assert career.name == "errands"
    for name, value in ERRANDS_HP.items():
        assert getattr(config.hp, name) == value
    config, _ = parse_career_config(["errands", "--hidden", "32", "--lr", "3e-4"])
    assert (config.hp.hidden, config.hp.lr, config.hp.num_envs) == (32, 3e-4, 128)
    config, _ = parse_career_config(["corridor"])  # no settings of its own: the usual defaults
    assert config.hp == CareerCommandConfig().hp
    path = tmp_path / "career.yaml"
    path.write_text("jobs: [{name: a, world: corridor, steps: 1000}]\nhp: {hidden: 8}\n")
    config, _ = parse_career_config([str(path)])
    assert config.hp.hidden == 8


def test_career_learner_settings_are_checked():
    from trainee.careers import Career, Job

    job = Job("a", "corridor", steps=1000)
    with pytest.raises(ValueError, match="hidden_size"):
        Career("c", (job,), {"hidden_size": 8}).validate()
    with pytest.raises(ValueError, match="total_steps"):
        Career("c", (job,), {"total_steps": 8}).validate()


def test_mixed_career_end_to_end():
    # corridor (32 inputs, 3 actions) then CartPole (4 inputs, 2 actions): the cheapest
    # pair of worlds to compile
    require("gymnax")
    from trainee.careers import Career, Job

    career = Career("mixed-tiny", (Job("near", "corridor", steps=256),
                                   Job("pole", "gymnax:CartPole-v1", steps=256)))
    hp = TINY_HP
    settings = CareerConfig(seeds=2, num_tasks=16, eval_tasks=4, episodes=1, chunks=2)
    results = run_career(career, hp, settings, quiet=True)
    assert results["R"].shape == (2, 2, 2)
    assert np.all((results["R"] >= 0) & (results["R"] <= 1))
    assert [c.shape for c in results["curves"]] == [(2, 2), (2, 2)]
    with pytest.raises(ValueError, match="mixes worlds"):
        run_career(career, hp, CareerConfig(baseline="multitask"), quiet=True)


def test_replay_skips_other_worlds_pools():
    new = {"id": jnp.zeros(8, jnp.int32)}
    other_world = {"length": jnp.ones(4, jnp.int32)}
    out, _ = replay(0.25).update(ctx("job_start", None, tasks=new, past=[other_world]), None)
    assert out.tasks is new


def test_competence_summary_with_seeds_that_never_get_there():
    import json

    # 4 seeds, one job, curve points at 100/200/300 steps; competence = 0.8
    curves = np.array([[0.1, 0.9, 1.0], [0.8, 0.9, 0.9], [0.1, 0.2, 0.3], [0.0, 0.1, 0.2]])
    results = {"jobs": ["a"], "R": np.ones((4, 1, 1)), "curves": [curves],
               "curve_steps": [np.array([100, 200, 300])]}
    row = summarize(results)["samples_to_competence"][0]
    assert row["reached"] == 0.5
    # per seed: 200, 100, inf, inf -> the IQM (middle two) is infinite: written as null
    assert row["steps"]["iqm"] is None
    json.dumps(row, allow_nan=False)  # strict JSON
    results["curves"] = [curves[[0, 1, 0, 1]]]  # 200, 100, 200, 100: IQM 150
    assert summarize(results)["samples_to_competence"][0]["steps"]["iqm"] == 150.0


def test_plasticity_change_hand_computed():
    from trainee.careers.summary import plasticity_change

    speed = np.array([[0.1, 0.8, 0.6, 0.5, 0.4, 0.2],   # jobs 1-2: 0.7, jobs 4-5: 0.3
                      [0.1, 0.5, 0.5, 0.9, 0.5, 0.5]])  # middle job 3 left out: 0.0
    np.testing.assert_allclose(plasticity_change(speed), [-0.4, 0.0])


def test_a_stage_of_the_r_matrix_in_one_call_equals_one_call_per_job():
    """The R matrix's row of a one-world career is played in one call vmapped over jobs
    (`careers.run._stage_success`): the same successes as one evaluator call per job."""
    from trainee.careers.run import _per_world, _stage_success, career_sets
    from trainee.program import chunked_program

    career = load_career("corridor")
    hp = LearnerConfig(num_envs=8, num_steps=16, hidden=16, total_steps=1024)
    settings = CareerConfig(seeds=2, num_tasks=16, eval_tasks=8, episodes=2, seed_tasks=True)
    sets = career_sets(career, settings)
    evaluators, _ = _per_world({"corridor": make("corridor")}, hp, settings)
    program = chunked_program("corridor", hp, 2, True)
    state = program.init(jax.random.split(jax.random.key(1), 2), sets.pools[0],
                         program.hp(hp, 2))
    row = _stage_success(evaluators, state.params, sets, career.jobs)
    for job, tasks, got in zip(career.jobs, sets.eval_sets, row, strict=True):
        one = evaluators[job.world](state.params, sets.eval_keys, tasks).success
        np.testing.assert_array_equal(got, np.asarray(one))
