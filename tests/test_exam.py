"""The reusable holdout and the sealed exam: mechanism, secrecy, crash safety, concurrency."""

import json
import multiprocessing
import sqlite3

import jax.numpy as jnp
import numpy as np
import pytest

from trainee import exam
from trainee.exam import BudgetExhausted, ExamConfig, FinalAlreadyTaken, Thresholdout
from trainee.store import db_path_for
from trainee.worlds.corridor import Corridor

WORLD = Corridor()  # one instance, so the exam's compiled evaluation is reused across tests
SMALL = ExamConfig(tasks_per_split=8, episodes=2, budget=4)


def move_right(key, obs, state, task):
    """Solves every corridor task: train and held-out scores agree."""
    return jnp.int32(2)


def give_up_after_nine(key, obs, state, task):
    """Solves train (goal <= 7) but not most of `longer` (goal 8-15): a real gap."""
    return jnp.where(state.t < 9, 2, 1).astype(jnp.int32)


# --- Thresholdout on hand-made cases (sigma = 0: no noise, so every value is exact) ---

def test_below_threshold_answers_the_train_mean_and_keeps_the_budget():
    mechanism = Thresholdout(threshold=0.1, sigma=0.0, budget=2, key=0)
    assert mechanism.answer([0.0, 1.0], [0.5, 0.6]) == pytest.approx(0.5)  # |0.55 - 0.5| < 0.1
    assert mechanism.budget_left == 2 and not mechanism.last_over_threshold


def test_above_threshold_answers_the_holdout_and_spends_budget():
    mechanism = Thresholdout(threshold=0.1, sigma=0.0, budget=2, key=0)
    assert mechanism.answer([1.0, 1.0], [0.2, 0.4]) == pytest.approx(0.3)
    assert mechanism.budget_left == 1 and mechanism.last_over_threshold
    # With noise the answer is the holdout mean plus Laplace noise, reproducibly per key.
    noisy = [Thresholdout(0.1, 0.01, 2, key=7).answer([1.0], [0.3]) for _ in range(2)]
    assert noisy[0] == noisy[1] != 0.3 and abs(noisy[0] - 0.3) < 0.2
    # The paper's simulation variant: no threshold noise, Gaussian comparison/answer noise.
    assert Thresholdout(0.1, 0.0, 2, key=0, noise="gaussian").answer([1.0], [0.3]) == 0.3
    with pytest.raises(ValueError, match="noise"):
        Thresholdout(noise="uniform")


def test_exhausted_budget_raises_a_readable_error():
    mechanism = Thresholdout(threshold=0.1, sigma=0.0, budget=1, key=0)
    mechanism.answer([1.0], [0.0])
    with pytest.raises(BudgetExhausted, match="budget is spent"):
        mechanism.answer([0.5], [0.5])  # the paper halts: even a harmless query is refused


# --- the sealed exam ---

@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.delenv("TRAINEE_DB", raising=False)  # never touch a real results database
    path = db_path_for(tmp_path / "runs" / "run-1")
    exam.reseal(path, SMALL)
    return path


def _secret(db_path):
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT secret FROM exam_seals WHERE active = 1").fetchone()[0]


def _log(db_path):
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT id, over_threshold, budget_left FROM exam_log "
                            "WHERE kind = 'query' ORDER BY id").fetchall()


def test_query_final_and_the_secret_never_leaves_the_database(db, tmp_path, capsys):
    run_dir = tmp_path / "runs" / "run-1"
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text("{}")
    results = [
        exam.query(db, WORLD, move_right, str(run_dir), "hash-a"),
        exam.query(db, WORLD, give_up_after_nine, str(run_dir), "hash-b", split="longer"),
        exam.final(db, WORLD, move_right, str(run_dir), "hash-a"),
        exam.status(db),
    ]
    print(json.dumps(results, default=str))
    secret = _secret(db)
    out = capsys.readouterr()
    assert secret not in out.out + out.err
    assert all(secret not in p.read_text() for p in run_dir.rglob("*") if p.is_file())
    # Train and holdout agree (1.0), so the answer is 1.0, or about 1 query in 7 the
    # noisy threshold fires anyway and the answer is 1.0 plus Laplace noise.
    assert results[0]["answer"] == pytest.approx(1.0, abs=0.1)
    assert results[1]["budget_spent"] and results[1]["answer"] < 0.5  # a real gap is reported
    assert results[1]["budget_left"] == results[0]["budget_left"] - 1
    assert results[2]["score"] == 1.0 and not results[2]["forced"]
    assert results[3]["queries"] == 2 and results[3]["finals"] == 1


def test_second_final_needs_force_and_is_flagged(db):
    exam.final(db, WORLD, move_right, "run", "hash")
    with pytest.raises(FinalAlreadyTaken, match="force"):
        exam.final(db, WORLD, move_right, "run", "hash")
    assert exam.final(db, WORLD, move_right, "run", "hash", force=True)["forced"]
    assert exam.status(db)["forced_finals"] == 1
    fresh = exam.reseal(db)  # a new seal: a new, unforced final
    assert fresh["previous"] == 1 and fresh["budget"] == SMALL.budget
    assert not exam.final(db, WORLD, move_right, "run", "hash")["forced"]


def test_spent_budget_refuses_queries_until_reseal(db):
    for _ in range(SMALL.budget):
        exam.query(db, WORLD, give_up_after_nine, "run", "hash", split="longer")
    with pytest.raises(BudgetExhausted, match="reseal"):
        exam.query(db, WORLD, give_up_after_nine, "run", "hash", split="longer")
    assert exam.reseal(db)["seal"] == 2
    assert exam.query(db, WORLD, give_up_after_nine, "run", "hash")["seal"] == 2


def test_crash_mid_query_leaves_no_row_and_the_budget_unchanged(db, monkeypatch):
    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut between the log row and the budget update")

    before = exam.status(db)
    monkeypatch.setattr("trainee.exam.sealed.save_thresholdout", crash)
    with pytest.raises(KeyboardInterrupt):
        exam.query(db, WORLD, give_up_after_nine, "run", "hash", split="longer")
    after = exam.status(db)
    assert _log(db) == []
    assert after["budget_left"] == before["budget_left"] == SMALL.budget
    assert after["queries"] == 0


def _query_worker(db_path: str, name: str, count: int) -> None:
    for _ in range(count):
        exam.query(db_path, WORLD, give_up_after_nine, name, f"hash-{name}", split="longer")


def test_two_processes_querying_at_once_lose_nothing(tmp_path):
    path = tmp_path / "trainee.db"
    exam.reseal(path, ExamConfig(tasks_per_split=8, episodes=2, budget=100))
    count = 3
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_query_worker, args=(str(path), name, count))
               for name in ("a", "b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0]
    rows = _log(path)
    assert len(rows) == 2 * count
    budget = 100
    for _, over, budget_left in rows:  # each row continues from the one before it
        budget -= over
        assert budget_left == budget
    state = exam.status(path)
    assert state["budget_left"] == budget and state["queries"] == 2 * count
    assert np.sum([over for _, over, _ in rows]) == 100 - budget


def test_holdout_train_and_final_draw_from_independent_keys(db):
    from trainee.exam.seal import derive_key

    secret = bytes.fromhex(_secret(db))
    keys = {tuple(derive_key(secret, purpose, "tasks", WORLD.name, "longer"))
            for purpose in ("holdout", "final", "train-0")}
    assert len(keys) == 3  # the final sample shares no task or episode key with queries
    exam.reseal(db)
    assert _secret(db) != secret.hex()  # a reseal is a fresh holdout
