"""Training end to end on the corridor world: learning, resume, checkpoints, the store."""

import sqlite3

import jax
import numpy as np
import pytest

from trainee import checkpoint
from trainee import train as train_module
from trainee.agent import load_agent
from trainee.learners import LearnerConfig, make_train
from trainee.program import chunk_lengths, chunk_size
from trainee.train import TrainConfig, train
from trainee.worlds import make

TINY = LearnerConfig(total_steps=16 * 32 * 12, num_envs=16, num_steps=32, lr=1e-3, hidden=16)


def tiny_config(out, **kw):
    return TrainConfig(world="corridor", num_tasks=64, seeds=2, out=out, chunks=4, hp=TINY, **kw)


@pytest.mark.parametrize("learner", ["ppo", "pg"])
def test_learners_solve_corridor_train_split(learner):
    """Known result: the corridor's train split (goal <= 7 cells right) is solved by both."""
    world = make("corridor")
    config = LearnerConfig(learner=learner, total_steps=80_000, num_envs=16, num_steps=32,
                           lr=2e-3, group_size=4)
    tasks = world.tasks(jax.random.key(0), "train", 64)
    train_fn = jax.jit(jax.vmap(make_train(config, world), in_axes=(0, None)))
    out = train_fn(jax.random.split(jax.random.key(1), 2), tasks)
    success = np.asarray(out.metrics["success"])[:, -5:].mean(axis=1)
    assert np.all(success > 0.9), success


def test_chunk_size_divides():
    assert chunk_size(100, 20) == 5
    assert chunk_size(97, 20) == 5  # prime: chunks of 5 and a last one of 2
    assert chunk_lengths(97, 5) == [5] * 19 + [2]
    assert chunk_size(2**61 - 1, 20) == -(-(2**61 - 1) // 20)  # huge and prime: at once
    assert chunk_size(12, 4) == 3


def test_resume_matches_uninterrupted_run(tmp_path, monkeypatch):
    whole = train(tiny_config(tmp_path / "whole"), quiet=True)
    original = train_module.write_checkpoint
    calls = []

    def crash_after_two(*args):
        original(*args)
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "write_checkpoint", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(tmp_path / "cut"), quiet=True)
    monkeypatch.setattr(train_module, "write_checkpoint", original)
    resumed = train(tiny_config(tmp_path / "cut", resume=True), quiet=True)
    assert resumed["final_return"] == whole["final_return"]
    assert resumed["env_steps"] == whole["env_steps"]
    a, b = load_agent(tmp_path / "whole"), load_agent(tmp_path / "cut")
    for x, y in zip(jax.tree.leaves(a.params), jax.tree.leaves(b.params), strict=True):
        np.testing.assert_array_equal(x, y)
    metrics = train_module._load_metrics(tmp_path / "cut")
    assert metrics["episodes"].shape == (2, 12)


def test_summary_store_and_refusals(tmp_path):
    run = tmp_path / "run"
    summary = train(tiny_config(run), quiet=True)
    assert len(summary["final_return"]) == 2
    assert summary["steps_per_second"] > 0 and summary["compile_seconds"] > 0
    rows = sqlite3.connect(tmp_path / "trainee.db").execute("SELECT world, summary FROM runs")
    assert [r[0] for r in rows] == ["corridor"]
    with pytest.raises(FileExistsError, match="--resume"):
        train(tiny_config(run), quiet=True)
    changed = tiny_config(run, resume=True, seed=3)
    with pytest.raises(checkpoint.CheckpointError, match="different config"):
        train(changed, quiet=True)


def test_checkpoint_round_trip_and_corruption(tmp_path):
    state = {"w": np.arange(6.0).reshape(2, 3), "key": jax.random.key(3)}
    checkpoint.save(tmp_path, state, {"config_hash": "abc", "updates_done": 1})
    restored, meta = checkpoint.load(tmp_path, state, "abc")
    np.testing.assert_array_equal(restored["w"], state["w"])
    np.testing.assert_array_equal(jax.random.key_data(restored["key"]),
                                  jax.random.key_data(state["key"]))
    assert meta["updates_done"] == 1
    wrong_shape = {"w": np.zeros((3, 3)), "key": jax.random.key(0)}
    with pytest.raises(checkpoint.CheckpointError, match="does not match"):
        checkpoint.load(tmp_path, wrong_shape, "abc")
    path = tmp_path / checkpoint.STATE_FILE
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(checkpoint.CheckpointError, match="corrupt"):
        checkpoint.load(tmp_path, state, "abc")
    with pytest.raises(checkpoint.CheckpointError, match="no checkpoint"):
        checkpoint.load(tmp_path / "empty", state, "abc")


def test_checkpoint_is_one_file_and_any_damage_is_one_error(tmp_path):
    """State and description live in one file renamed into place at once, so no kill can
    separate them; truncation anywhere, a flipped byte or a foreign file is refused."""
    state = {"w": np.arange(6.0), "key": jax.random.key(3)}
    checkpoint.save(tmp_path, state, {"config_hash": "abc", "updates_done": 2})
    assert [p.name for p in tmp_path.iterdir()] == [checkpoint.STATE_FILE]
    path = tmp_path / checkpoint.STATE_FILE
    blob = path.read_bytes()
    flipped = bytearray(blob)
    flipped[len(checkpoint.MAGIC) + 12] ^= 1  # inside the JSON header
    damaged = [blob[:5], blob[:len(checkpoint.MAGIC) + 4], blob[:len(checkpoint.MAGIC) + 20],
               bytes(flipped), b"not a checkpoint at all"]
    for data in damaged:
        path.write_bytes(data)
        with pytest.raises(checkpoint.CheckpointError, match="corrupt|not a trainee"):
            checkpoint.load(tmp_path, state, "abc")
