"""The sealed exam: status, query, final and reseal, as plain functions returning dicts.

The examinee is a `trainee.agent.Agent` (`load_agent(run_dir)`) and the seed of it that
sits the exam. The exam evaluates it itself: it rebuilds the world from the registry by
name and plays trainee's own network on the seed's parameters, so no caller code (a
policy function, a world subclass, a network class of the caller's) ever receives a
held-out task, a world state or an observation of one. The exam never reads or writes run
directories.

Items and sides, all drawn from the seal's secret, per world and held-out split s, with
n = `tasks_per_split` tasks each played `episodes` times (an item: one episode's success):
- holdout: `world.tasks(key(secret, "holdout", "tasks", world, s), s, n)`;
- train side: `world.tasks(key(secret, "train-side", "tasks", world, s), s, n)`: another
  sample of the *same* held-out distribution (Thresholdout's "training set"), so what a
  query answers is always an estimate of held-out success;
- final: `key(secret, "final", ...)`: a separate sample no query has touched.

A query answers the train-side success rate unless it differs from the holdout's by more
than Thresholdout's noisy threshold; then it answers a noisy holdout rate and spends one
unit of budget (Dwork et al. 2015; the threshold calibrated as in the paper, ExamConfig).
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from trainee.exam.errors import ExamError, FinalAlreadyTaken
from trainee.exam.seal import (
    AUDIT_COLUMNS,
    ExamConfig,
    Seal,
    active_seal,
    create_tables,
    derive_key,
    log_event,
    new_seal,
    open_key,
    save_thresholdout,
    verify_log,
)
from trainee.exam.thresholdout import BudgetExhausted, thresholdout_step
from trainee.store import connect, transaction
from trainee.worlds import World, make


class Examinee(NamedTuple):
    world: World  # the registry's world of that name, never the caller's object
    network: Any  # trainee's network class (hashable flax module)
    params: Any  # one seed's parameters
    seed: int
    params_hash: str  # SHA-256 of that seed's parameters, as logged


def params_fingerprint(params: Any) -> str:
    digest = hashlib.sha256()
    for leaf in jax.tree.leaves(params):
        digest.update(np.asarray(leaf).tobytes())
    return digest.hexdigest()[:16]


def examinee(agent: Any, seed: int) -> Examinee:
    """Check what sits the exam: a trainee Agent, trainee's network, a seed it has."""
    from trainee.agent import Agent

    if not isinstance(agent, Agent):
        raise ExamError("the exam takes an Agent (trainee.agent.load_agent(run_dir)) and "
                        f"evaluates it itself, not a {type(agent).__name__}: no caller code "
                        "may see a held-out task")
    if not type(agent.network).__module__.startswith("trainee."):
        raise ExamError(f"the exam plays trainee's own networks only, not "
                        f"{type(agent.network).__qualname__} from {type(agent.network).__module__}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not (
            0 <= seed < agent.num_seeds):
        raise ExamError(f"agent seed {seed!r} does not exist: the run has seeds 0 to "
                        f"{agent.num_seeds - 1}")
    params = agent.seed_params(int(seed))
    return Examinee(_world(agent.world.name), agent.network, params, int(seed),
                    params_fingerprint(params))


@functools.lru_cache(maxsize=16)
def _world(name: str) -> World:
    return make(name)


@functools.lru_cache(maxsize=16)
def _evaluator(world_name: str, network: Any, episodes: int):
    """One compiled evaluation per (world, network, episodes); parameters are traced."""
    from trainee.evaluate import make_evaluator
    from trainee.learners import sample_act

    # the house's one evaluator, on a seed axis of one (run unvmapped: the same program)
    evaluate = make_evaluator(_world(world_name), sample_act(network), episodes)
    one = lambda params: jax.tree.map(lambda x: x[None], params)
    return lambda params, key, tasks: evaluate(one(params), key, tasks).success[0]


def _successes(who: Examinee, seal: Seal, purpose: str, split: str) -> np.ndarray:
    """(n * episodes,) float successes of the examinee on tasks drawn for `purpose`."""
    name = who.world.name
    task_key = jnp.asarray(derive_key(seal.secret, purpose, "tasks", name, split))
    episode_key = jnp.asarray(derive_key(seal.secret, purpose, "episodes", name, split))
    tasks = who.world.tasks(task_key, split, seal.config.tasks_per_split)
    success = _evaluator(name, who.network, seal.config.episodes)(who.params, episode_key, tasks)
    return np.asarray(success, dtype=np.float64).reshape(-1)


def _heldout_splits(world: World, split: str | None) -> tuple[str, ...]:
    if not world.shift_axes:
        raise ExamError(f"world {world.name!r} has no held-out split to examine")
    if split is None:
        return world.shift_axes
    if split not in world.shift_axes:
        raise ExamError(f"{split!r} is not a held-out split of {world.name!r}; "
                        f"choose one of {', '.join(world.shift_axes)}")
    return (split,)


def _draw_seal(conn: sqlite3.Connection, key: bytes, config: ExamConfig, reason: str) -> Seal:
    seal = new_seal(conn, key, config)
    log_event(conn, key, seal_id=seal.id, kind="seal", run="", agent_seed=None, params_hash="",
              world="", split="", answer=None, over_threshold=0,
              budget_left=seal.thresholdout.budget_left, forced=0, reason=reason,
              detail=json.dumps(config.to_json()))
    return seal


def _open_seal(db_path: Path, key_path: Path | str | None) -> tuple[bytes, Seal]:
    """The key and the active seal; the first seal (default constants) is drawn and
    logged on first use."""
    with transaction(db_path) as conn:
        create_tables(conn)
        key = open_key(conn, Path(db_path), key_path, create=True)
        seal = active_seal(conn, key) or _draw_seal(conn, key, ExamConfig(), "first use")
    return key, seal


def _still_active(conn: sqlite3.Connection, key: bytes, seal: Seal) -> Seal:
    current = active_seal(conn, key)
    if current is None or current.id != seal.id:
        raise ExamError(f"the exam was resealed while this request ran (seal {seal.id} is "
                        "retired); nothing was logged: ask again")
    return current


def _spent_message(seal: Seal) -> str:
    return (f"seal {seal.id}: the Thresholdout budget of {seal.config.budget} is spent "
            f"after {seal.thresholdout.queries} queries; no more answers from this holdout. "
            "Run `trainee exam reseal --reason ...` to draw a fresh one.")


def _answer(seal: Seal, who: Examinee, run: str, log_id: int, **extra: object) -> dict:
    return {"seal": seal.id, "log_id": log_id, "run": run, "agent_seed": who.seed,
            "params_hash": who.params_hash, "world": who.world.name, **extra}


def query(db_path: Path, agent: Any, seed: int = 0, split: str | None = None,
          run_id: str | None = None, key_path: Path | str | None = None) -> dict:
    """Answer "how well does seed `seed` of this agent do on the held-out splits?" through
    Thresholdout. `split` restricts it to one held-out split (default: all, pooled).
    Raises `BudgetExhausted` when the seal is spent."""
    who = examinee(agent, seed)
    splits = _heldout_splits(who.world, split)
    run = str(agent.run_dir if run_id is None else run_id)
    key, seal = _open_seal(db_path, key_path)
    if seal.thresholdout.budget_left < 1:  # fail before spending minutes evaluating
        raise BudgetExhausted(_spent_message(seal))
    holdout = np.concatenate([_successes(who, seal, "holdout", s) for s in splits])
    train = np.concatenate([_successes(who, seal, "train-side", s) for s in splits])
    with transaction(db_path) as conn:
        current = _still_active(conn, key, seal)
        if current.thresholdout.budget_left < 1:
            raise BudgetExhausted(_spent_message(current))
        out = thresholdout_step(current.config.threshold, current.config.sigma,
                                current.thresholdout, float(train.mean()), float(holdout.mean()))
        log_id = log_event(conn, key, seal_id=seal.id, kind="query", run=run,
                           agent_seed=who.seed, params_hash=who.params_hash,
                           world=who.world.name, split=",".join(splits), answer=out.value,
                           over_threshold=int(out.over_threshold),
                           budget_left=out.state.budget_left, forced=0, reason="", detail=None)
        save_thresholdout(conn, key, seal, out.state)
    return _answer(seal, who, run, log_id, splits=list(splits), answer=out.value,
                   budget_spent=out.over_threshold, budget_left=out.state.budget_left,
                   budget=seal.config.budget)


def _finals_before(conn: sqlite3.Connection, seal_id: int, params_hash: str) -> tuple[int, int]:
    """(finals on this seal, finals this agent ever took)."""
    count = "SELECT COUNT(*) FROM exam_audit WHERE kind = 'final' AND "
    return (conn.execute(count + "seal_id = ?", (seal_id,)).fetchone()[0],
            conn.execute(count + "params_hash = ?", (params_hash,)).fetchone()[0])


def _check_final(seal: Seal, taken: tuple[int, int], force_reason: str | None) -> bool:
    """True for a forced final (allowed); raises if a repeat has no reason or no budget."""
    if not any(taken):
        return False
    if not (isinstance(force_reason, str) and force_reason.strip()):
        what = "a final was already taken by this agent" if taken[1] else (
            f"the final of seal {seal.id} was already taken")
        raise FinalAlreadyTaken(f"{what}; a repeated final is no longer a fresh test. Reseal "
                                "for a new one, or give a reason to force it (force_reason, "
                                "--force REASON): it is logged, flagged and costs one unit "
                                "of the seal's budget")
    if seal.thresholdout.budget_left < 1:
        raise BudgetExhausted(_spent_message(seal))
    return True


def final(db_path: Path, agent: Any, seed: int = 0, run_id: str | None = None,
          force_reason: str | None = None, key_path: Path | str | None = None) -> dict:
    """The one-shot final exam: exact success rates on the seal's never-queried final
    sample of every held-out split. Once per seal and once per agent (parameters); a
    repeat needs `force_reason`, is logged with it, flagged and charged one unit of
    budget (`FinalAlreadyTaken` without a reason)."""
    who = examinee(agent, seed)
    splits = _heldout_splits(who.world, None)
    run = str(agent.run_dir if run_id is None else run_id)
    key, seal = _open_seal(db_path, key_path)
    with transaction(db_path) as conn:
        _check_final(seal, _finals_before(conn, seal.id, who.params_hash), force_reason)
    per_split = {s: _successes(who, seal, "final", s) for s in splits}
    score = float(np.concatenate(list(per_split.values())).mean())
    detail = {s: float(v.mean()) for s, v in per_split.items()}
    with transaction(db_path) as conn:  # again: another process may have finished first
        current = _still_active(conn, key, seal)
        forced = _check_final(current, _finals_before(conn, seal.id, who.params_hash),
                              force_reason)
        state = current.thresholdout
        if forced:
            state = state._replace(budget_left=state.budget_left - 1)
            save_thresholdout(conn, key, current, state)
        log_id = log_event(conn, key, seal_id=seal.id, kind="final", run=run,
                           agent_seed=who.seed, params_hash=who.params_hash,
                           world=who.world.name, split=",".join(splits), answer=score,
                           over_threshold=0, budget_left=state.budget_left, forced=int(forced),
                           reason=force_reason.strip() if forced else "",
                           detail=json.dumps(detail))
    return _answer(seal, who, run, log_id, score=score, per_split=detail, forced=forced,
                   budget_left=state.budget_left)


def reseal(db_path: Path, config: ExamConfig | None = None, reason: str | None = None,
           key_path: Path | str | None = None) -> dict:
    """Retire the active seal and draw a fresh one (a fresh holdout and final sample) with
    `config` (default: the retired seal's constants, or `ExamConfig()` for the first).
    The only way to change a seal's constants; logged with its `reason`, required once a
    seal exists (the retired seal's remaining budget is forfeited)."""
    with transaction(db_path) as conn:
        create_tables(conn)
        key = open_key(conn, Path(db_path), key_path, create=True)
        old = active_seal(conn, key)
        if old is not None and not (isinstance(reason, str) and reason.strip()):
            raise ExamError(f"reseal retires seal {old.id} ({old.thresholdout.budget_left} of "
                            f"{old.config.budget} budget left): give a reason (--reason); it "
                            "is logged")
        seal = _draw_seal(conn, key, config or (old.config if old else ExamConfig()),
                          (reason or "first seal").strip())
    return {"seal": seal.id, "previous": old.id if old else None, **seal.config.to_json()}


def status(db_path: Path, last: int = 10, key_path: Path | str | None = None) -> dict:
    """The active seal's constants and budget, counts, whether the audit log is intact,
    and the `last` log rows (newest first). Never the key or a secret."""
    conn = connect(db_path)
    try:
        create_tables(conn)
        key = open_key(conn, Path(db_path), key_path, create=False)
        seal = active_seal(conn, key) if key else None
        if seal is None:
            return {"seal": None, "message": "no seal yet: the first query or final draws one"}
        counts = dict(conn.execute("SELECT kind, COUNT(*) FROM exam_audit WHERE seal_id = ? "
                                   "GROUP BY kind", (seal.id,)))
        forced = conn.execute("SELECT COUNT(*) FROM exam_audit WHERE seal_id = ? AND forced = 1",
                              (seal.id,)).fetchone()[0]
        rows = conn.execute(f"SELECT {', '.join(AUDIT_COLUMNS)} FROM exam_audit "
                            "ORDER BY id DESC LIMIT ?", (last,)).fetchall()
        intact = verify_log(conn, key)
    finally:
        conn.close()
    return {"seal": seal.id, "seals": seal.id, **seal.config.to_json(),
            "budget_left": seal.thresholdout.budget_left, "queries": counts.get("query", 0),
            "finals": counts.get("final", 0), "forced_finals": forced, "log_intact": intact,
            "log": [dict(zip(AUDIT_COLUMNS, row, strict=True)) for row in rows]}
