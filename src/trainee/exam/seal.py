"""Seals: the exam's secret, its Thresholdout state and its audit log, in the results DB.

A seal is one holdout. Its secret (32 random bytes from `secrets`) is created on first
use and lives only in the `exam_seals` table: it is never returned, printed or written to
a run directory. Everything random about the exam derives from it: the holdout tasks, the
train-side sample, the final-exam tasks, their episode keys and the Thresholdout noise.
Resealing retires the active seal and draws a fresh secret, so a fresh holdout.

Every write happens inside `trainee.store.transaction` (BEGIN IMMEDIATE ... COMMIT), so
a crash or an exception mid-query leaves neither a log row nor a budget change, and
concurrent processes are serialised by SQLite's write lock.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from dataclasses import dataclass, field

import numpy as np

from trainee.exam.thresholdout import ThresholdoutState, key_words, thresholdout_init

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS exam_seals (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created REAL NOT NULL,
        active INTEGER NOT NULL,          -- 1 for the current seal, 0 once resealed
        secret TEXT NOT NULL,             -- hex; never leaves the database
        threshold REAL NOT NULL,
        sigma REAL NOT NULL,
        budget INTEGER NOT NULL,
        tasks_per_split INTEGER NOT NULL,
        episodes INTEGER NOT NULL,
        budget_left INTEGER NOT NULL,
        noisy_threshold REAL NOT NULL,
        queries INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS exam_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created REAL NOT NULL,
        seal_id INTEGER NOT NULL REFERENCES exam_seals(id),
        kind TEXT NOT NULL,               -- 'query' or 'final'
        run TEXT NOT NULL,
        agent_hash TEXT NOT NULL,
        world TEXT NOT NULL,
        split TEXT NOT NULL,              -- held-out split(s) asked about
        answer REAL NOT NULL,
        over_threshold INTEGER NOT NULL,  -- the holdout was used and budget spent
        budget_left INTEGER NOT NULL,
        forced INTEGER NOT NULL,          -- a repeated final, allowed by force=True
        detail TEXT                       -- JSON: a final's score per held-out split
    )""",
)


@dataclass(frozen=True)
class ExamConfig:
    """The constants of a seal, fixed when it is drawn (see docs/exam.md)."""

    threshold: float = 0.04
    """Thresholdout T (Dwork et al. 2015's experiment; 4 / sqrt(n) for n = 10,000 items)."""
    sigma: float = 0.01
    """Thresholdout noise rate (1 / sqrt(n) for n = 10,000 items)."""
    budget: int = 20
    """Over-threshold answers before the seal is spent: each one leaks a little about the
    holdout, so this bounds how much tuning to it is possible."""
    tasks_per_split: int = 256
    """Tasks drawn per held-out split (and for the train side, per split)."""
    episodes: int = 4
    """Episodes per task; items are (task, episode) successes."""


@dataclass(frozen=True)
class Seal:
    id: int
    config: ExamConfig
    thresholdout: ThresholdoutState
    secret: bytes = field(repr=False)  # never in a repr, a log line or a result


def create_tables(conn: sqlite3.Connection) -> None:
    # One statement at a time: executescript would COMMIT the caller's transaction.
    for statement in SCHEMA:
        conn.execute(statement)


def derive_key(secret: bytes, *purpose: str) -> np.ndarray:
    """A raw JAX PRNG key (uint32[2], as `jax.random.PRNGKey` returns) for one purpose,
    e.g. ("holdout", "corridor", "longer"). SHA-256 keeps purposes independent and the
    secret unrecoverable from any key."""
    digest = hashlib.sha256(secret + b"\0" + "/".join(purpose).encode()).digest()
    return np.frombuffer(digest[:8], dtype=np.uint32).copy()


def _row_to_seal(row: sqlite3.Row | tuple) -> Seal:
    (seal_id, secret_hex, threshold, sigma, budget, tasks, episodes,
     budget_left, noisy_threshold, queries) = row
    secret = bytes.fromhex(secret_hex)
    words = key_words(derive_key(secret, "thresholdout"))
    return Seal(
        id=seal_id,
        config=ExamConfig(threshold, sigma, budget, tasks, episodes),
        thresholdout=ThresholdoutState(words, noisy_threshold, budget_left, queries),
        secret=secret,
    )


_SEAL_COLUMNS = ("id, secret, threshold, sigma, budget, tasks_per_split, episodes, "
                 "budget_left, noisy_threshold, queries")


def active_seal(conn: sqlite3.Connection) -> Seal | None:
    row = conn.execute(
        f"SELECT {_SEAL_COLUMNS} FROM exam_seals WHERE active = 1 ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return None if row is None else _row_to_seal(row)


def new_seal(conn: sqlite3.Connection, config: ExamConfig) -> Seal:
    """Retire the active seal (if any) and draw a fresh secret. Call inside a transaction."""
    secret = secrets.token_bytes(32)
    state = thresholdout_init(config.threshold, config.sigma, config.budget,
                              derive_key(secret, "thresholdout"))
    conn.execute("UPDATE exam_seals SET active = 0 WHERE active = 1")
    conn.execute(
        "INSERT INTO exam_seals (created, active, secret, threshold, sigma, budget, "
        "tasks_per_split, episodes, budget_left, noisy_threshold, queries) "
        "VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
        (time.time(), secret.hex(), config.threshold, config.sigma, config.budget,
         config.tasks_per_split, config.episodes, state.budget_left, state.noisy_threshold),
    )
    seal = active_seal(conn)
    assert seal is not None
    return seal


def active_or_new_seal(conn: sqlite3.Connection, config: ExamConfig | None = None) -> Seal:
    """The active seal, created on first use. Call inside a transaction, so two processes
    starting at once agree on one seal."""
    return active_seal(conn) or new_seal(conn, config or ExamConfig())


def save_thresholdout(conn: sqlite3.Connection, seal_id: int, state: ThresholdoutState) -> None:
    conn.execute(
        "UPDATE exam_seals SET budget_left = ?, noisy_threshold = ?, queries = ? WHERE id = ?",
        (state.budget_left, state.noisy_threshold, state.queries, seal_id),
    )


def log_answer(conn: sqlite3.Connection, **row: object) -> int:
    """Insert one audit-log row (columns of `exam_log` but id); returns its id."""
    row = {"created": time.time(), **row}
    names = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    cursor = conn.execute(f"INSERT INTO exam_log ({names}) VALUES ({marks})", tuple(row.values()))
    return int(cursor.lastrowid)
