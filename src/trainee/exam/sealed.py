"""The sealed exam: status, query, reseal and final, as plain functions returning dicts.

An agent is given as a `world`, a `policy(key, obs, state, task) -> action` (see
`trainee.evaluate`), a `run_id` and an `agent_hash` (e.g. a hash of its parameters); the
exam never reads run directories and never writes to them.

Items and sides (all drawn from the seal's secret, per world, so a seal serves any world):
- holdout: for each held-out split s of the world, `tasks_per_split` tasks
  `world.tasks(key(secret, "holdout", world, s), s, n)`, each played `episodes` times;
  an item is one episode's success (0/1).
- train side: the same number of items from the `train` split (one sample of n tasks per
  held-out split, keys `key(secret, "train-i", world, "train")`): Thresholdout's "train
  set", the score the agent is expected to reach anyway.
- final: for each held-out split, tasks and episode keys from `key(secret, "final", ...)`:
  a separate sample that no query has ever touched.

A query answers the train-side success rate unless it differs from the holdout's by more
than Thresholdout's noisy threshold; then it answers a noisy holdout rate and spends one
unit of budget. A real generalisation gap larger than T therefore spends budget on each
query: the exam reports it (noisily) rather than hiding it.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from trainee.evaluate import Policy, evaluate_policy
from trainee.exam.seal import (
    ExamConfig,
    Seal,
    active_or_new_seal,
    active_seal,
    create_tables,
    derive_key,
    log_answer,
    new_seal,
    save_thresholdout,
)
from trainee.exam.thresholdout import BudgetExhausted, thresholdout_step
from trainee.store import connect, transaction
from trainee.worlds.base import World

# One compiled evaluation per (world, policy, episodes): both are hashable by identity.
_evaluate = evaluate_policy


class ExamError(RuntimeError):
    """A readable problem with the exam (resealed mid-query, final already taken, ...)."""


class FinalAlreadyTaken(ExamError):
    """The final exam of this seal was already taken; a repeat needs force=True."""


def _successes(world: World, policy: Policy, seal: Seal, purpose: str, split: str,
               n: int) -> np.ndarray:
    """(n * episodes,) float successes of `policy` on tasks drawn for `purpose`."""
    task_key = jnp.asarray(derive_key(seal.secret, purpose, "tasks", world.name, split))
    episode_key = jnp.asarray(derive_key(seal.secret, purpose, "episodes", world.name, split))
    tasks = world.tasks(task_key, split, n)
    records = _evaluate(world, policy, episode_key, tasks, seal.config.episodes)
    return np.asarray(records.success, dtype=np.float64).reshape(-1)


def _heldout_splits(world: World, split: str | None) -> tuple[str, ...]:
    if not world.shift_axes:
        raise ExamError(f"world {world.name!r} has no held-out split to examine")
    if split is None:
        return world.shift_axes
    if split not in world.shift_axes:
        raise ExamError(f"{split!r} is not a held-out split of {world.name!r}; "
                        f"choose one of {', '.join(world.shift_axes)}")
    return (split,)


def _open_seal(db_path: Path, config: ExamConfig | None) -> Seal:
    with transaction(db_path) as conn:
        create_tables(conn)
        return active_or_new_seal(conn, config)


def _still_active(conn: sqlite3.Connection, seal: Seal) -> Seal:
    current = active_seal(conn)
    if current is None or current.id != seal.id:
        raise ExamError(f"the exam was resealed while this request ran (seal {seal.id} is "
                        "retired); nothing was logged: ask again")
    return current


def _spent_message(seal: Seal) -> str:
    return (f"seal {seal.id}: the Thresholdout budget of {seal.config.budget} is spent "
            f"after {seal.thresholdout.queries} queries; no more answers from this holdout. "
            "Run `trainee exam reseal` to draw a fresh one (results stay tagged by seal).")


def query(db_path: Path, world: World, policy: Policy, run_id: str, agent_hash: str,
          split: str | None = None, config: ExamConfig | None = None) -> dict:
    """Answer "how well does this agent do on the held-out splits?" through Thresholdout.

    `split` restricts the holdout to one held-out split (default: all, pooled).
    `config` is used only if no seal exists yet. Raises `BudgetExhausted` when spent."""
    splits = _heldout_splits(world, split)
    seal = _open_seal(db_path, config)
    if seal.thresholdout.budget_left < 1:  # fail before spending minutes evaluating
        raise BudgetExhausted(_spent_message(seal))
    n = seal.config.tasks_per_split
    holdout = np.concatenate([_successes(world, policy, seal, "holdout", s, n) for s in splits])
    # The train side in chunks of n tasks, one per held-out split, so every evaluation
    # has the same shape and compiles once.
    train = np.concatenate([_successes(world, policy, seal, f"train-{i}", "train", n)
                            for i in range(len(splits))])
    with transaction(db_path) as conn:
        current = _still_active(conn, seal)
        if current.thresholdout.budget_left < 1:
            raise BudgetExhausted(_spent_message(current))
        out = thresholdout_step(current.config.threshold, current.config.sigma,
                                current.thresholdout, float(train.mean()), float(holdout.mean()))
        log_id = log_answer(conn, seal_id=seal.id, kind="query", run=str(run_id),
                            agent_hash=str(agent_hash), world=world.name, split=",".join(splits),
                            answer=out.value, over_threshold=int(out.over_threshold),
                            budget_left=out.state.budget_left, forced=0, detail=None)
        save_thresholdout(conn, seal.id, out.state)
    return {"seal": seal.id, "log_id": log_id, "run": str(run_id), "agent_hash": str(agent_hash),
            "world": world.name, "splits": list(splits), "answer": out.value,
            "budget_spent": out.over_threshold, "budget_left": out.state.budget_left,
            "budget": seal.config.budget}


def _finals_taken(conn: sqlite3.Connection, seal_id: int) -> int:
    return conn.execute("SELECT COUNT(*) FROM exam_log WHERE seal_id = ? AND kind = 'final'",
                        (seal_id,)).fetchone()[0]


def final(db_path: Path, world: World, policy: Policy, run_id: str, agent_hash: str,
          force: bool = False, config: ExamConfig | None = None) -> dict:
    """The one-shot final exam: exact success rates on the seal's never-queried final
    sample of every held-out split. A second final on the same seal raises
    `FinalAlreadyTaken` unless `force=True`, and is then flagged `forced`."""
    splits = _heldout_splits(world, None)
    seal = _open_seal(db_path, config)
    with transaction(db_path) as conn:
        if _finals_taken(conn, seal.id) and not force:
            raise FinalAlreadyTaken(_taken_message(seal))
    n = seal.config.tasks_per_split
    per_split = {s: _successes(world, policy, seal, "final", s, n) for s in splits}
    score = float(np.concatenate(list(per_split.values())).mean())
    detail = {s: float(v.mean()) for s, v in per_split.items()}
    with transaction(db_path) as conn:
        current = _still_active(conn, seal)
        taken = _finals_taken(conn, seal.id)  # again: another process may have finished first
        if taken and not force:
            raise FinalAlreadyTaken(_taken_message(seal))
        log_id = log_answer(conn, seal_id=seal.id, kind="final", run=str(run_id),
                            agent_hash=str(agent_hash), world=world.name, split=",".join(splits),
                            answer=score, over_threshold=0,
                            budget_left=current.thresholdout.budget_left, forced=int(taken > 0),
                            detail=json.dumps(detail))
    return {"seal": seal.id, "log_id": log_id, "run": str(run_id), "agent_hash": str(agent_hash),
            "world": world.name, "score": score, "per_split": detail, "forced": taken > 0,
            "final_number": taken + 1}


def _taken_message(seal: Seal) -> str:
    return (f"the final exam of seal {seal.id} was already taken; a repeated final is no "
            "longer a fresh test. Reseal for a new one, or pass force=True (--force): the "
            "result is then flagged as forced in the log and the report.")


def reseal(db_path: Path, config: ExamConfig | None = None) -> dict:
    """Retire the active seal and draw a fresh secret (a fresh holdout and final sample).
    `config` defaults to the retired seal's constants (or `ExamConfig()` for the first)."""
    with transaction(db_path) as conn:
        create_tables(conn)
        old = active_seal(conn)
        seal = new_seal(conn, config or (old.config if old else ExamConfig()))
    return {"seal": seal.id, "previous": old.id if old else None,
            "budget": seal.config.budget, "threshold": seal.config.threshold,
            "sigma": seal.config.sigma, "tasks_per_split": seal.config.tasks_per_split,
            "episodes": seal.config.episodes}


_LOG_COLUMNS = ("id", "created", "seal_id", "kind", "run", "agent_hash", "world", "split",
                "answer", "over_threshold", "budget_left", "forced", "detail")


def status(db_path: Path, last: int = 10) -> dict:
    """The active seal's constants and budget, counts, and the `last` log rows (newest
    first). Never the secret. Creates nothing but the (empty) tables."""
    conn = connect(db_path)
    try:
        create_tables(conn)
        seal = active_seal(conn)
        seals = conn.execute("SELECT COUNT(*) FROM exam_seals").fetchone()[0]
        if seal is None:
            return {"seal": None, "seals": seals,
                    "message": "no seal yet: the first query or final draws one"}
        counts = dict(conn.execute(
            "SELECT kind, COUNT(*) FROM exam_log WHERE seal_id = ? GROUP BY kind", (seal.id,)))
        forced = conn.execute("SELECT COUNT(*) FROM exam_log WHERE seal_id = ? AND forced = 1",
                              (seal.id,)).fetchone()[0]
        rows = conn.execute(f"SELECT {', '.join(_LOG_COLUMNS)} FROM exam_log "
                            "ORDER BY id DESC LIMIT ?", (last,)).fetchall()
    finally:
        conn.close()
    return {"seal": seal.id, "seals": seals, "budget": seal.config.budget,
            "budget_left": seal.thresholdout.budget_left, "threshold": seal.config.threshold,
            "sigma": seal.config.sigma, "tasks_per_split": seal.config.tasks_per_split,
            "episodes": seal.config.episodes, "queries": counts.get("query", 0),
            "finals": counts.get("final", 0), "forced_finals": forced,
            "log": [dict(zip(_LOG_COLUMNS, row, strict=True)) for row in rows]}
