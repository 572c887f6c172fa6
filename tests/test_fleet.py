"""A tiny local fleet end to end on corridor, and the `trainee fleet` CLI."""

import dataclasses
import json

import jax
import numpy as np
import pytest

from trainee.cli import main
from trainee.fleet import FleetConfig, LearnerConfig, job_pools, make_world
from trainee.fleet.experiment import FleetPrograms, communication, run_fleet_experiment

HP = LearnerConfig(total_steps=8 * 16 * 8, num_envs=8, num_steps=16, update_epochs=1,
                   num_minibatches=1, lr=1e-3, hidden=16)
TINY = FleetConfig(world="corridor", instances=2, merge="mean", merge_every=4, hp=HP,
                   pool_size=4, eval_tasks=4, eval_episodes=2, seeds=2)


@pytest.fixture(scope="module")
def fleet_parts():
    world = make_world("corridor")
    pools = job_pools(world, jax.random.PRNGKey(0), "train", [0, 3], 4)
    return world, pools


def test_jobs_are_pure_and_stacked(fleet_parts):
    _, pools = fleet_parts
    assert pools.length.shape == (2, 4)
    np.testing.assert_array_equal(pools.length, [[1] * 4, [4] * 4])
    held = job_pools(make_world("corridor"), jax.random.PRNGKey(1), "slippery", [0, 3], 4)
    assert (held.slip > 0).all() and (held.length[1] == 4).all()


def test_local_fleet_merges_every_round(fleet_parts):
    _, pools = fleet_parts
    programs = FleetPrograms(TINY)  # the one compiled fleet (test_experiment_summary's)
    out = programs.fleet(jax.random.PRNGKey(1), pools)
    # after the last merge every instance holds the merged parameters
    for leaf, merged in zip(jax.tree.leaves(out.states.params), jax.tree.leaves(out.merged),
                            strict=True):
        np.testing.assert_array_equal(leaf[0], merged)
        np.testing.assert_array_equal(leaf[1], merged)
    assert out.metrics["success"].shape == (2, 2, 4)  # (rounds, N, K)
    # specialists share the initial parameters but drift apart
    spec = programs.specialists(jax.random.PRNGKey(1), pools)
    w0, w1 = (jax.tree.leaves(spec.states.params)[-1][i] for i in (0, 1))
    assert not np.allclose(w0, w1) and spec.merged is None  # (tests/test_fleet_ray.py:
    # the Ray fleet, which never merges them, gives the same specialists)



def test_experiment_summary(tmp_path):
    summary = run_fleet_experiment(TINY, tmp_path, show_progress=False)
    for agent in ("merged", "specialists", "generalist", "end_merge"):
        assert set(summary[agent]) == {"iqm", "ci_low", "ci_high"}
        assert 0.0 <= summary[agent]["iqm"] <= 1.0
    assert summary["merges"] == 2
    assert summary["bytes_communicated"] == 2 * summary["bytes_per_merge"]
    assert summary["bytes_per_merge"] == 2 * 2 * 4 * summary["parameters"]
    assert len(summary["per_seed"]["merged/held_out"]) == 2
    params = {"w": np.zeros((3, 5), np.float32)}
    none = communication(dataclasses.replace(TINY, merge="none"), params, rounds=2)
    assert none["merges"] == 0 and none["bytes_communicated"] == 0
    assert communication(TINY, params, rounds=3)["bytes_communicated"] == 3 * 2 * 2 * 15 * 4


def test_cli_fleet_writes_summary(tmp_path):
    config = tmp_path / "fleet.yaml"
    config.write_text("preset: corridor\nmerge_every: 4\npool_size: 4\neval_tasks: 4\n"
                      "eval_episodes: 2\nhp:\n  total_steps: 1024\n  num_envs: 8\n"
                      "  num_steps: 16\n  update_epochs: 1\n  num_minibatches: 1\n"
                      "  hidden: 16\n")
    out = tmp_path / "fleet"
    # the same programs as test_fleet_ray's local fleet and test_experiment_summary's
    # baselines, so the compilation cache serves them
    args = ["fleet", str(config), "--merge", "diloco", "--instances", "2", "--seeds", "2",
            "--out", str(out)]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    for key in ("merged", "specialists", "generalist"):
        assert set(summary[key]) == {"iqm", "ci_low", "ci_high"}
    assert summary["merges"] == 2 and summary["bytes_communicated"] > 0
    assert main(["fleet", "nowhere", "--out", str(out)]) == 2


def test_merge_none_trains_the_specialists_once(tmp_path):
    from trainee.fleet.experiment import FleetPrograms, run_seed

    config = dataclasses.replace(TINY, merge="none", seeds=1)
    programs = FleetPrograms(config)

    def no_second_fleet(*args):
        raise AssertionError("merge none must reuse the specialists, not train a fleet")

    programs.fleet = no_second_fleet
    result = run_seed(config, 0, programs)
    # with nothing merged during training, the merged agent is the end merge
    np.testing.assert_array_equal(result["merged/held_out"], result["end_merge/held_out"])
    assert result["merges"] == 0 and result["specialists/train"].shape == (2,)


def test_merged_only_seed_and_sweep(tmp_path):
    from trainee.fleet.config import load_fleet_config
    from trainee.fleet.experiment import run_seed
    from trainee.fleet.sweep import sweep

    result = run_seed(TINY, 0, baselines=False)
    assert {name.split("/")[0] for name in result if "/" in name} == {"merged"}
    config = tmp_path / "fleet.yaml"
    config.write_text("preset: corridor\ninstances: 2\nmerge_every: 4\npool_size: 4\n"
                      "eval_tasks: 4\neval_episodes: 2\nhp:\n  total_steps: 1024\n"
                      "  num_envs: 8\n  num_steps: 16\n  update_epochs: 1\n"
                      "  num_minibatches: 1\n  hidden: 16\n  lr: 0.001\n")
    base = dataclasses.replace(load_fleet_config(str(config)), seeds=1)
    results = sweep(base, ["mean"], [4], tmp_path / "sweep")
    assert set(results["reference"]) >= {"specialists", "end_merge", "generalist"}
    (row,) = results["rows"]
    assert row["rule"] == "mean" and row["merges"] == 2 and "merged" in row
    assert not (tmp_path / "sweep" / "mean-K4" / "summary.json").read_text().count("generalist")


def test_errands_jobs_and_task_kwargs():
    from trainee.fleet import FleetConfig, load_fleet_config
    from trainee.fleet.jobs import ERRANDS_JOBS

    world = make_world("errands")
    open_door, fetch_box = ERRANDS_JOBS.index(("open", "door")), ERRANDS_JOBS.index(
        ("fetch", "box"))
    pools = job_pools(world, jax.random.PRNGKey(0), "layouts", [open_door, fetch_box], 16,
                      task_kwargs={"p_locked": 0.0})
    verbs = np.asarray(pools.chain_verb)[:, :, 0]  # (2, 16) first (only) sub-goal
    assert (verbs[0] == 1).all() and (verbs[1] == 0).all()  # OPEN, FETCH
    kinds = np.take_along_axis(np.asarray(pools.object_kind[1]),
                               np.asarray(pools.chain_object[1])[:, :1], 1)
    assert (kinds == 2).all()  # box
    assert not np.asarray(pools.locked).any() and (np.asarray(pools.chain_len) == 1).all()
    locked = job_pools(world, jax.random.PRNGKey(0), "train", [open_door], 64)
    assert np.asarray(locked.locked).any()  # the world's default p_locked = 0.5
    assert FleetConfig(instances=3).job_ids(2) == [0, 1, 0]
    preset = load_fleet_config("errands")
    assert preset.job_ids(len(ERRANDS_JOBS)) == list(preset.jobs)
    with pytest.raises(ValueError, match="jobs"):
        dataclasses.replace(preset, instances=2).validate()


def test_merge_rules_come_from_the_registry(tmp_path, capsys, monkeypatch):
    from trainee.fleet.merge import RULES, RuleEntry, rule_for

    with pytest.raises(ValueError, match="unknown merge rule 'median'; choose one of mean"):
        dataclasses.replace(TINY, merge="median").validate()
    assert main(["fleet", "corridor", "--merge", "median", "--out", str(tmp_path / "f")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "trainee: error: fleet config: unknown merge rule 'median'; choose one of mean, ties, "
        "diloco (or none)"]
    # A rule registered in one place (RULES) is accepted by the config, with no Literal to edit.
    monkeypatch.setitem(RULES._entries, "first", RuleEntry(
        RULES.get("mean").make, lambda config: {}))
    config = dataclasses.replace(TINY, merge="first")
    config.validate()
    assert rule_for(config) is not None
