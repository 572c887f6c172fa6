"""A learner of your own (issue 11): examples/nstep_ppo.py is named by path and runs
through train, career and a study with no change to trainee; bad names are one line."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

from trainee.learners import LearnerConfig, make_learner, resolve_learner
from trainee.worlds import make

EXAMPLE = Path(__file__).parents[1] / "examples" / "nstep_ppo.py"
NAME = f"{EXAMPLE}:make"
# 8 updates on the careers' tiny shapes (one epoch of one minibatch): the plumbing of a
# user's learner is checked, not its learning, so its programs are as small as they come
TINY = LearnerConfig(learner=NAME, total_steps=8 * 16 * 8, num_envs=8, num_steps=16, lr=1e-3,
                     hidden=16, update_epochs=1, num_minibatches=1)


def example_module():
    spec = importlib.util.spec_from_file_location("nstep_ppo_under_test", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def naive_nstep(reward, next_value, terminated, done, gamma, n):
    """The n-step return of every (t, e) by walking forward: the reference."""
    steps, envs = reward.shape
    out = np.zeros((steps, envs))
    for e in range(envs):
        for t in range(steps):
            g, discount = 0.0, 1.0
            for k in range(n):
                s = t + k
                g += discount * reward[s, e]
                discount *= gamma
                if done[s, e] or k == n - 1 or s == steps - 1:
                    g += discount * next_value[s, e] * (1.0 - terminated[s, e])
                    break
            out[t, e] = g
    return out


def test_nstep_returns_match_a_naive_loop():
    module = example_module()
    rng = np.random.default_rng(0)
    steps, envs = 11, 3
    reward = rng.normal(size=(steps, envs)).astype(np.float32)
    next_value = rng.normal(size=(steps, envs)).astype(np.float32)
    done = rng.random((steps, envs)) < 0.25
    terminated = (done & (rng.random((steps, envs)) < 0.5)).astype(np.float32)
    for n in (1, 3, 5):
        got = module.nstep_returns(jnp.asarray(reward), jnp.asarray(next_value),
                                   jnp.asarray(terminated), jnp.asarray(done), 0.9, n)
        np.testing.assert_allclose(got, naive_nstep(reward, next_value, terminated, done,
                                                    0.9, n), rtol=1e-5, atol=1e-5)


def test_bad_learner_names_are_one_line_errors(tmp_path):
    wrong = tmp_path / "wrong.py"
    wrong.write_text("def make(config, world):\n    return 42\n\ndef one_arg(config):\n    pass\n")
    broken = tmp_path / "broken.py"
    broken.write_text("import no_such_module_anywhere\n")
    cases = {
        str(tmp_path / "missing.py") + ":make": "no file",
        f"{EXAMPLE}:nothing_here": "no callable 'nothing_here'",
        "no_such_package_x.mod:make": "cannot import module",
        f"{wrong}:one_arg": "must take (config, world)",
        f"{broken}:make": "failed to import",
        "ppo2": "unknown learner 'ppo2'",
    }
    for name, fault in cases.items():
        with pytest.raises(ValueError) as err:
            resolve_learner(name)
        assert fault in str(err.value) and "\n" not in str(err.value), str(err.value)
    with pytest.raises(ValueError, match="returned int, not a trainee.learners.Learner"):
        make_learner(LearnerConfig(learner=f"{wrong}:make"), make("corridor"))


def test_example_trains_through_the_train_loop(tmp_path):
    from trainee.train import TrainConfig, train

    summary = train(TrainConfig(world="corridor", num_tasks=64, seeds=2, out=tmp_path / "r",
                                chunks=2, hp=TINY), quiet=True)
    assert summary["learner"] == NAME and summary["updates"] == 8
    assert np.all(np.isfinite(summary["final_return"]))
    from trainee.agent import load_agent

    agent = load_agent(tmp_path / "r")  # a stored run of a user learner reloads by its name
    assert agent.num_seeds == 2


def test_example_runs_a_career():
    from trainee.careers import CareerConfig, run_career
    from trainee.careers.career import Career, Job

    # 8 updates a job in 2 chunks on 64 tasks, as the train test above: the same compiled
    # init and chunk serve both (the compilation cache)
    career = Career("two", (Job("near", "corridor", "train", steps=TINY.total_steps),
                            Job("far", "corridor", "longer", steps=TINY.total_steps)))
    results = run_career(career, TINY, CareerConfig(seeds=2, num_tasks=64, eval_tasks=8,
                                                      chunks=2), quiet=True)
    assert results["R"].shape == (2, 2, 2)


@pytest.mark.slow
def test_example_runs_the_gap_study():
    from trainee.studies.runner import run_one

    stored = run_one("gap", "tiny", 5, quiet=True, learner=NAME)
    assert stored["learner"] == NAME and stored["verdict"]["status"]


def test_run_and_study_take_the_learner_flag(tmp_path, monkeypatch, capsys):
    """`trainee run` and `trainee study` pass --learner to every study (checked where the
    studies start, without training) and record it; a bad value is one line."""
    from trainee.cli import main
    from trainee.studies import runner

    seen = []
    def fake_run_one(name, scale, seeds, seed=0, quiet=False, learner="ppo", placebo=False):
        seen.append((name, scale, learner))
        return {"name": name, "learner": learner}

    monkeypatch.setattr(runner, "run_one", fake_run_one)
    monkeypatch.setattr("trainee.report.render_report", lambda out: out / "report.html")
    monkeypatch.setattr("trainee.cli.run.print_study_table", lambda stored: None)
    for command in (["run", "--studies", "gap"], ["study", "gap"]):
        out = tmp_path / command[0]
        assert main([*command, "--scale", "tiny", "--learner", NAME, "--quiet",
                     "--out", str(out)]) == 0
        from trainee import runs

        record = runs.read_record(out)
        assert record["learner"] == NAME and record["config"]["learner"] == NAME
    assert seen == [("gap", "tiny", NAME)] * 2
    capsys.readouterr()
    assert main(["study", "gap", "--scale", "tiny", "--learner", "nowhere.py:make",
                 "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nowhere.py" in err[0]


@pytest.mark.slow
def test_example_runs_through_trainee_run_on_the_cli(tmp_path):
    from trainee.cli import main

    assert main(["run", "--scale", "tiny", "--studies", "gap", "--seeds", "2", "--quiet",
                 "--learner", NAME, "--out", str(tmp_path / "run")]) == 0
    stored = __import__("json").loads((tmp_path / "run" / "studies" / "gap.json").read_text())
    assert stored["learner"] == NAME
