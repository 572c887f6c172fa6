"""The reusable holdout and the sealed exam: mechanism, calibration, secrecy, every
bypass of issue 16 (refused, or logged and charged), crash safety, concurrency."""

import json
import multiprocessing
import os
import sqlite3
import stat
from pathlib import Path

import jax
import jax.numpy as jnp
import pytest

from trainee import exam
from trainee.agent import Agent
from trainee.exam import BudgetExhausted, ExamConfig, ExamError, FinalAlreadyTaken, Thresholdout
from trainee.learners.networks import ActorCritic
from trainee.store import db_path_for
from trainee.worlds.corridor import Corridor

SMALL = ExamConfig(tasks_per_split=16, episodes=2, budget=4)
NETWORK = ActorCritic(num_actions=3, hidden=8, layers=1)  # one module: one compiled evaluation


def make_agent(bias, seeds=2, world=None, network=NETWORK, run_dir="runs/run-1"):
    """An agent whose every seed plays fixed action logits `bias` (seed i adds i * 1e-3 to
    them, so seeds have different parameters and hashes). Zero logits: uniformly random
    moves, which reach corridor's train goals (<= 7) far more often than `longer`'s."""
    params = network.init(jax.random.key(0), jnp.zeros((1, 32)))
    params = jax.tree.map(jnp.zeros_like, params)
    seeded = []
    for i in range(seeds):
        p = jax.tree.map(lambda x: x, params)
        p["params"]["actor"]["Dense_1"]["bias"] = jnp.asarray(bias, jnp.float32) + i * 1e-3
        seeded.append(p)
    stacked = jax.tree.map(lambda *x: jnp.stack(x), *seeded)
    return Agent(world or Corridor(), network, stacked, Path(run_dir))


RIGHT = make_agent([0.0, 0.0, 20.0])  # solves every corridor task
RANDOM = make_agent([0.0, 0.0, 0.0])  # train success ~0.77, longer ~0.11


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
    for name in ("TRAINEE_DB", exam.KEY_ENV):  # never touch a real database or key
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / "data"))
    path = db_path_for(tmp_path / "runs" / "run-1")
    exam.reseal(path, SMALL)
    return path


def _key_file(tmp_path):
    (path,) = (tmp_path / "home" / "data" / "trainee" / "exam-keys").glob("*.key")
    return path


def _rows(db_path, kind="query"):
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT id, over_threshold, budget_left FROM exam_audit "
                            "WHERE kind = ? ORDER BY id", (kind,)).fetchall()


def test_thresholdout_calibration_follows_the_paper():
    # Dwork et al. 2015: n = 10,000 holdout items, T = 0.04 = 4 / sqrt(n), sigma = 0.01.
    paper = ExamConfig(tasks_per_split=2_500, episodes=4)
    assert paper.threshold == pytest.approx(0.04) and paper.sigma == pytest.approx(0.01)
    default = ExamConfig()  # 256 x 4 = 1,024 items per split
    assert default.threshold == pytest.approx(0.125) and default.sigma == pytest.approx(1 / 32)


def _within_calibrated_noise(answer: dict, expected: float, tolerance: float,
                             config: ExamConfig) -> bool:
    """An answer below the threshold is a train-side mean (sampling noise only: within
    `tolerance`); one over it is a holdout mean plus Laplace noise of scale sigma, so it
    gets 6 sigma more (exceeded with probability e^-6 = 0.25%)."""
    slack = tolerance + (6 * config.sigma if answer["budget_spent"] else 0.0)
    return abs(answer["answer"] - expected) < slack


# 64 tasks x 4 episodes = 256 items a split: sigma = 1/16, so a noisy answer still tells
# `longer` (~0.11) from the train split (~0.77); SMALL's 32 items (sigma 0.18) do not.
LARGER = ExamConfig(tasks_per_split=64, episodes=4, budget=4)


def test_query_answers_a_heldout_estimate_never_the_train_split_score(db):
    # The random agent: ~0.77 on the train split, ~0.11 on `longer`. The train side is a
    # sample of `longer` too, so whichever side answers, the answer estimates `longer`.
    exam.reseal(db, LARGER, reason="a holdout large enough to tell the splits apart")
    answers = [exam.query(db, RANDOM, seed=s, split="longer") for s in (0, 1)]
    assert all(_within_calibrated_noise(a, 0.11, 0.12, LARGER) for a in answers), answers
    assert all(abs(a["answer"] - 0.77) > 0.1 for a in answers), answers
    final = exam.final(db, RANDOM)["per_split"]
    assert final["longer"] < 0.3 and final["slippery"] > 0.5


def test_the_key_lives_outside_the_database_and_the_run_folder(db, tmp_path, capsys):
    run_dir = tmp_path / "runs" / "run-1"
    run_dir.mkdir(parents=True)
    (run_dir / "report.html").write_text("<html></html>")
    results = [exam.query(db, RIGHT), exam.final(db, RIGHT), exam.status(db)]
    print(json.dumps(results, default=str))
    key_file = _key_file(tmp_path)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert not key_file.resolve().is_relative_to(db.parent.resolve())
    key = key_file.read_text().strip()
    out = capsys.readouterr()
    assert key not in out.out + out.err
    assert all(key not in p.read_text(errors="ignore") and bytes.fromhex(key) not in p.read_bytes()
               for p in db.parent.rglob("*") if p.is_file())  # the database, runs, reports
    assert _within_calibrated_noise(results[0], 1.0, 1e-9, SMALL), results[0]
    assert results[1]["score"] == 1.0 and not results[1]["forced"]
    assert results[2]["queries"] == 1 and results[2]["finals"] == 1 and results[2]["log_intact"]


def test_the_database_alone_answers_nothing(db, tmp_path):
    _key_file(tmp_path).rename(tmp_path / "elsewhere.key")  # someone has only the database
    with pytest.raises(ExamError, match="no exam key"):
        exam.query(db, RIGHT)
    with pytest.raises(ExamError, match="no exam key"):
        exam.status(db)
    assert _rows(db) == []
    exam.query(db, RIGHT, key_path=tmp_path / "elsewhere.key")  # the key, named by path
    wrong = tmp_path / "other" / "wrong.key"
    exam.keyfile.create_key(wrong)
    with pytest.raises(ExamError, match="not the one that sealed"):
        exam.query(db, RIGHT, key_path=wrong)


def test_bypass_the_private_helpers_need_the_key(db):
    """`seal.active_seal` (the seal's secret, hence every holdout task) on the database
    alone: a guessed key fails the seal's MAC, so no secret comes out."""
    from trainee.exam.seal import active_seal

    exam.query(db, RIGHT)
    with sqlite3.connect(db) as conn:
        for guess in (b"", bytes(32), b"\xff" * 32):
            with pytest.raises(ExamError, match="changed outside the exam"):
                active_seal(conn, guess)


def test_a_readable_key_or_a_key_beside_the_runs_is_refused(db, tmp_path):
    key_file = _key_file(tmp_path)
    os.chmod(key_file, 0o644)
    with pytest.raises(ExamError, match="chmod 600"):
        exam.query(db, RIGHT)
    with pytest.raises(ExamError, match="outside"):
        exam.reseal(tmp_path / "shared" / "trainee.db", key_path=tmp_path / "shared" / "k.key")


def test_bypass_a_config_that_reads_the_exact_holdout_is_refused(db):
    with pytest.raises(TypeError):  # threshold and noise are calibrated, not chosen
        ExamConfig(threshold=-1, sigma=0, budget=10**9)
    for bad in ({"budget": 10**9}, {"budget": 0}, {"tasks_per_split": 1}, {"episodes": 1.5},
                {"budget": True}):
        with pytest.raises(ValueError, match="ExamConfig"):
            ExamConfig(**bad)
    with pytest.raises(ExamError, match="reason"):
        exam.reseal(db, ExamConfig(budget=50))  # changing the constants is a logged act
    fresh = exam.reseal(db, ExamConfig(budget=50), reason="a longer study")
    assert fresh["budget"] == 50 and fresh["previous"] == 1
    with sqlite3.connect(db) as conn:
        kind, reason, detail = conn.execute("SELECT kind, reason, detail FROM exam_audit "
                                            "ORDER BY id DESC LIMIT 1").fetchone()
    assert (kind, reason, json.loads(detail)["budget"]) == ("seal", "a longer study", 50)


def test_bypass_editing_the_database_is_detected(db):
    exam.query(db, RIGHT)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE exam_audit SET answer = 0.99 WHERE kind = 'query'")
    assert exam.status(db)["log_intact"] is False
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE exam_seal SET budget_left = 1000")
    with pytest.raises(ExamError, match="changed outside the exam"):
        exam.query(db, RIGHT)


class RecordingCorridor(Corridor):
    """A caller's world that would keep every task it is asked to draw."""

    seen: list = []

    def tasks(self, key, split, n):
        self.seen.append(split)
        return super().tasks(key, split, n)


class CallerNetwork(ActorCritic):
    """A caller's network class: its code would see every held-out observation."""


def test_bypass_caller_code_never_sees_a_heldout_task(db):
    def peek(key, obs, state, task):
        return jnp.int32(2)

    with pytest.raises(ExamError, match="takes an Agent"):
        exam.query(db, peek)
    with pytest.raises(ExamError, match="trainee's own networks"):
        exam.query(db, make_agent([0.0, 0.0, 20.0], network=CallerNetwork(3, 8, 1)))
    exam.query(db, make_agent([0.0, 0.0, 20.0], world=RecordingCorridor()))
    assert RecordingCorridor.seen == []  # the exam played the registry's corridor
    with pytest.raises(ExamError, match="seeds 0 to 1"):
        exam.query(db, RIGHT, seed=7)
    assert _rows(db) != [] and len(_rows(db)) == 1


def test_bypass_repeated_finals_need_a_reason_and_are_charged(db):
    exam.final(db, RIGHT, seed=0)
    for reason in (None, "", "   "):
        with pytest.raises(FinalAlreadyTaken, match="reason"):
            exam.final(db, RIGHT, seed=0, force_reason=reason)
    with pytest.raises(FinalAlreadyTaken, match="seal 1"):  # another agent, same final sample
        exam.final(db, RANDOM, seed=0)
    forced = exam.final(db, RIGHT, seed=0, force_reason="checking a report figure")
    assert forced["forced"] and forced["budget_left"] == SMALL.budget - 1
    for _ in range(SMALL.budget - 1):
        exam.final(db, RIGHT, seed=0, force_reason="again")
    with pytest.raises(BudgetExhausted):
        exam.final(db, RIGHT, seed=0, force_reason="once more")
    state = exam.status(db)
    assert state["forced_finals"] == SMALL.budget and state["budget_left"] == 0
    assert {row["reason"] for row in state["log"] if row["forced"]} == {
        "checking a report figure", "again"}
    exam.reseal(db, reason="next study")  # a fresh final sample: still once per agent
    with pytest.raises(FinalAlreadyTaken, match="by this agent"):
        exam.final(db, RIGHT, seed=0)
    assert not exam.final(db, RIGHT, seed=1)["forced"]  # another seed: other parameters


def test_the_log_names_the_seed_and_parameters_that_answered(db):
    answers = [exam.query(db, RIGHT, seed=s) for s in (0, 1)]
    log = exam.status(db)["log"]
    logged = [(row["agent_seed"], row["params_hash"]) for row in log if row["kind"] == "query"]
    assert sorted(logged) == [(a["agent_seed"], a["params_hash"]) for a in answers]
    assert answers[0]["params_hash"] != answers[1]["params_hash"]
    assert answers[0]["params_hash"] == exam.sealed.params_fingerprint(RIGHT.seed_params(0))


def test_spent_budget_refuses_queries_until_reseal(db, monkeypatch):
    over = exam.thresholdout.thresholdout_step
    monkeypatch.setattr("trainee.exam.sealed.thresholdout_step",  # every query over T
                        lambda t, s, state, train, hold: over(t, s, state, train, hold + 10.0))
    for _ in range(SMALL.budget):
        exam.query(db, RIGHT, split="longer")
    with pytest.raises(BudgetExhausted, match="reseal"):
        exam.query(db, RIGHT, split="longer")
    assert exam.reseal(db, reason="spent")["seal"] == 2
    assert exam.query(db, RIGHT)["seal"] == 2


def test_crash_mid_query_leaves_no_row_and_the_budget_unchanged(db, monkeypatch):
    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut between the log row and the budget update")

    before = exam.status(db)
    monkeypatch.setattr("trainee.exam.sealed.save_thresholdout", crash)
    with pytest.raises(KeyboardInterrupt):
        exam.query(db, RANDOM, split="longer")
    after = exam.status(db)
    assert _rows(db) == []
    assert after["budget_left"] == before["budget_left"] == SMALL.budget
    assert after["queries"] == 0 and after["log_intact"]


def _query_worker(db_path: str, name: str, count: int) -> None:
    from trainee.runtime import enable_compilation_cache

    enable_compilation_cache()  # the suite's cache ($TRAINEE_CACHE): this file's programs
    agent = make_agent([0.0, 0.0, 0.0], run_dir=f"runs/{name}")
    for _ in range(count):
        exam.query(db_path, agent, split="longer")


def test_two_processes_querying_at_once_lose_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(exam.KEY_ENV, str(tmp_path / "keys" / "exam.key"))  # inherited
    path = tmp_path / "db" / "trainee.db"
    exam.reseal(path, ExamConfig(tasks_per_split=16, episodes=2, budget=100))
    count = 2
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_query_worker, args=(str(path), name, count))
               for name in ("a", "b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=600)  # a liveness bound: spawned workers import jax and compile
    assert [w.exitcode for w in workers] == [0, 0]
    rows = _rows(path)
    assert len(rows) == 2 * count
    budget = 100
    for _, over, budget_left in rows:  # each row continues from the one before it
        budget -= over
        assert budget_left == budget
    state = exam.status(path)
    assert state["budget_left"] == budget and state["queries"] == 2 * count
    assert state["log_intact"]


def test_holdout_train_side_and_final_draw_from_independent_keys(db):
    from trainee.exam.seal import active_seal, derive_key, open_key

    def secret():
        with sqlite3.connect(db) as conn:
            key = open_key(conn, db, None, create=False)
            return active_seal(conn, key).secret

    first = secret()
    keys = {tuple(derive_key(first, purpose, "tasks", "corridor", "longer"))
            for purpose in ("holdout", "final", "train-side")}
    assert len(keys) == 3  # the final sample shares no task or episode key with queries
    exam.reseal(db, reason="fresh")
    assert secret() != first  # a reseal is a fresh holdout
