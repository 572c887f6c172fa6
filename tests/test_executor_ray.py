"""`--executor ray` for `train` and `career`: each seed a Ray task on a local 2-CPU
cluster gives the local vmapped run's per-seed numbers, gathered into the same outputs."""

import os

import pytest
from conftest import require

ray = require("ray")

# Ray must start before JAX does work in this process, and collection imports this
# module before any test runs (as in tests/test_fleet_ray.py).
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
if not ray.is_initialized():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)

import dataclasses  # noqa: E402
import json  # noqa: E402
import sqlite3  # noqa: E402
import sys  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402

from trainee import runs  # noqa: E402
from trainee.agent import load_agent  # noqa: E402
from trainee.careers import CareerConfig, load_career, run_career  # noqa: E402
from trainee.careers.ray_executor import run_career_on_ray, stack_seeds  # noqa: E402
from trainee.cli import main  # noqa: E402
from trainee.learners import LearnerConfig  # noqa: E402
from trainee.train import TrainConfig, train  # noqa: E402

TINY = LearnerConfig(total_steps=8 * 16 * 2, num_envs=8, num_steps=16, update_epochs=1,
                     num_minibatches=1, lr=1e-3, hidden=16)
TINY_FLAGS = ["--total-steps", "256", "--num-envs", "8", "--num-steps", "16",
              "--update-epochs", "1", "--num-minibatches", "1", "--lr", "1e-3", "--hidden", "16"]


@pytest.fixture(scope="session")
def local_ray():
    yield ray
    ray.shutdown()  # session scope: other Ray test modules may still need it before this


def test_train_on_ray_matches_local_run(local_ray, tmp_path):
    # One seed: a Ray task trains a batch of one seed, so the local run's programs are
    # its programs and the compilation cache serves them (with two seeds both workers
    # compiled the one-seed programs at once: 61 s of this test's 75 s, cold). Seeds
    # come back in order: test_ray_map_keeps_the_jobs_order.
    local_dir, ray_dir = tmp_path / "local", tmp_path / "ray"
    local = train(TrainConfig(world="corridor", num_tasks=32, seeds=1, chunks=2, out=local_dir,
                              hp=TINY), quiet=True)
    code = main(["train", "--world", "corridor", "--num-tasks", "32", "--seeds", "1",
                 "--chunks", "2", "--out", str(ray_dir), "--executor", "ray", *TINY_FLAGS])
    assert code == 0
    assert sorted(p.name for p in ray_dir.iterdir()) == sorted(p.name for p in local_dir.iterdir())
    assert (ray_dir / "config.json").read_text() == (local_dir / "config.json").read_text()
    remote = json.loads((ray_dir / "summary.json").read_text())
    assert set(remote) == set(local) and remote["executor"] == "ray"
    assert remote["steps_per_second"] > 0 and remote["compile_seconds"] > 0
    np.testing.assert_allclose(remote["final_return"], local["final_return"], rtol=1e-6, atol=1e-6)
    assert remote["env_steps"] == local["env_steps"]
    read = lambda d: json.loads((d / "metrics.json").read_text())
    for name, values in read(local_dir).items():
        np.testing.assert_allclose(read(ray_dir)[name], values, rtol=1e-6, atol=1e-6,
                                   err_msg=name)
    a, b = load_agent(local_dir), load_agent(ray_dir)  # what `trainee eval --run` reads
    for x, y in zip(jax.tree.leaves(a.params), jax.tree.leaves(b.params), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-6)
    rows = sqlite3.connect(tmp_path / "trainee.db").execute(
        "SELECT run_dir, summary FROM runs WHERE summary IS NOT NULL").fetchall()
    assert sorted(r[0] for r in rows) == sorted(str(d.resolve()) for d in (local_dir, ray_dir))
    records = [runs.read_record(d) for d in (local_dir, ray_dir)]
    assert [(r["kind"], r["status"], r["config"]["executor"]) for r in records] == [
        ("train", "done", "local"), ("train", "done", "ray")]


def test_ray_map_keeps_the_jobs_order(local_ray):
    from trainee.runtime import ray_map

    seen = []
    assert ray_map(pow, [(2, k) for k in range(6)], on_result=lambda i, r: seen.append(i)) == [
        1, 2, 4, 8, 16, 32]
    assert sorted(seen) == list(range(6))


@pytest.mark.slow
def test_career_on_ray_matches_local_run(local_ray):
    hp = LearnerConfig(num_envs=8, num_steps=16, update_epochs=1, num_minibatches=1,
                       lr=2e-3, hidden=16)
    career = load_career("corridor")
    career = dataclasses.replace(career, jobs=tuple(
        dataclasses.replace(job, steps=8 * 16 * 4) for job in career.jobs))
    settings = CareerConfig(seeds=2, num_tasks=16, eval_tasks=8, episodes=1, chunks=2,
                              interventions=("replay", "l2_init"))
    local = run_career(career, hp, settings, quiet=True)
    remote = run_career_on_ray(career, hp, settings, quiet=True)
    assert set(remote) == set(local)
    assert remote["jobs"] == local["jobs"]
    for name in ("R", "flips_negative", "flips_positive"):
        assert remote[name].shape == local[name].shape
        np.testing.assert_allclose(remote[name], local[name], atol=1e-6, err_msg=name)
    for r, c in zip(remote["curves"], local["curves"], strict=True):
        np.testing.assert_allclose(r, c, atol=1e-5)
    for r, c in zip(remote["curve_steps"], local["curve_steps"], strict=True):
        np.testing.assert_array_equal(r, c)


def test_stack_seeds_orders_seeds_and_refuses_unknown_per_seed_entries():
    one = lambda s: {"jobs": ["a"], "R": np.full((1, 1, 1), s), "curves": [np.full((1, 2), s)],
                     "curve_steps": [np.arange(2)]}
    stacked = stack_seeds([one(0.0), one(1.0)])
    np.testing.assert_array_equal(stacked["R"][:, 0, 0], [0.0, 1.0])
    np.testing.assert_array_equal(stacked["curves"][0], [[0.0, 0.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match="seed axis"):
        stack_seeds([{**one(0.0), "new": np.zeros(1)}, {**one(1.0), "new": np.ones(1)}])


@pytest.mark.parametrize("command", [["train", "--world", "corridor"], ["career", "corridor"],
                                     ["fleet", "corridor"]])
def test_missing_ray_is_a_one_line_error(command, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as if not installed
    assert main([*command, "--executor", "ray", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["trainee: error: --executor ray needs Ray: pip install 'trainee[ray]'"]
