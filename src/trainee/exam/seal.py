"""Seals: the exam's constants, its Thresholdout state and its audit log, in the results
database; its key in a file outside it (`keyfile.py`).

A seal is one holdout. Its secret is HMAC-SHA256(key, nonce): the nonce lives in the
database, the key outside it, so the database alone rebuilds nothing. Everything random
about a seal derives from its secret: the holdout tasks, the train-side sample, the final
tasks, their episode keys and the Thresholdout noise. Resealing draws a fresh nonce, so
a fresh holdout. The newest seal is the active one.

Tamper evidence: every seal row carries a MAC (HMAC with the key) over its constants and
its Thresholdout state, checked on every read, and every audit row a MAC chained to the
row before it, so editing the budget, a logged answer or deleting a row is detected by
anyone holding the key (`verify_log`). Every write happens inside
`trainee.store.transaction` (BEGIN IMMEDIATE ... COMMIT): a crash mid-query leaves
neither a log row nor a budget change; concurrent processes are serialised.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from trainee.exam.errors import ExamError
from trainee.exam.keyfile import create_key, fingerprint, load_key, resolve_key_path
from trainee.exam.thresholdout import (
    ThresholdoutState,
    calibration,
    key_words,
    thresholdout_init,
)

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS exam_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS exam_seal (
        id INTEGER PRIMARY KEY,
        created REAL NOT NULL,
        nonce TEXT NOT NULL,              -- with the key file's key: the seal's secret
        budget INTEGER NOT NULL,
        tasks_per_split INTEGER NOT NULL,
        episodes INTEGER NOT NULL,
        threshold REAL NOT NULL,          -- derived: 4 / sqrt(items per split)
        sigma REAL NOT NULL,              -- derived: 1 / sqrt(items per split)
        budget_left INTEGER NOT NULL,
        noisy_threshold REAL NOT NULL,
        queries INTEGER NOT NULL,
        mac TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS exam_audit (
        id INTEGER PRIMARY KEY,
        created REAL NOT NULL,
        seal_id INTEGER NOT NULL,
        kind TEXT NOT NULL,               -- 'seal', 'query' or 'final'
        run TEXT NOT NULL,
        agent_seed INTEGER,               -- which seed of the run answered
        params_hash TEXT NOT NULL,        -- SHA-256 of that seed's parameters
        world TEXT NOT NULL,
        split TEXT NOT NULL,              -- held-out split(s) asked about
        answer REAL,
        over_threshold INTEGER NOT NULL,  -- the holdout was used and budget spent
        budget_left INTEGER NOT NULL,
        forced INTEGER NOT NULL,          -- a repeated final, with its reason
        reason TEXT NOT NULL,
        detail TEXT,                      -- JSON: a final's per-split scores, a seal's config
        mac TEXT NOT NULL                 -- HMAC chained to the previous row's
    )""",
)
AUDIT_COLUMNS = ("id", "created", "seal_id", "kind", "run", "agent_seed", "params_hash",
                 "world", "split", "answer", "over_threshold", "budget_left", "forced",
                 "reason", "detail")
_SEAL_COLUMNS = ("id", "nonce", "budget", "tasks_per_split", "episodes", "threshold",
                 "sigma", "budget_left", "noisy_threshold", "queries")
_LIMITS = {"budget": (1, 1_000), "tasks_per_split": (16, 100_000), "episodes": (1, 64)}


@dataclass(frozen=True)
class ExamConfig:
    """The constants of a seal, validated here and fixed when the seal is drawn. The
    Thresholdout threshold and noise rate are not free: they follow Dwork et al. 2015's
    calibration for the number of holdout items (see `threshold`, docs/exam.md)."""

    budget: int = 20
    """Over-threshold answers (and forced finals) before the seal is spent: each one leaks
    a little about the holdout, so this bounds how much tuning to it is possible."""
    tasks_per_split: int = 256
    """Tasks drawn per held-out split for the holdout, the train side and the final."""
    episodes: int = 4
    """Episodes per task; an item is one episode's success (0/1)."""

    def __post_init__(self) -> None:
        for name, (low, high) in _LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise ValueError(f"ExamConfig.{name} must be a whole number, got {value!r}")
            if not low <= value <= high:
                raise ValueError(f"ExamConfig.{name} must be in [{low}, {high}], got {value}")
            object.__setattr__(self, name, int(value))  # a plain int: stored and MAC'd as is

    @property
    def items(self) -> int:
        """Holdout items per held-out split."""
        return self.tasks_per_split * self.episodes

    @property
    def threshold(self) -> float:
        """T = 4 / sqrt(n): the paper's T = 0.04 for its n = 10,000 holdout items."""
        return float(calibration(self.items)[0])

    @property
    def sigma(self) -> float:
        """sigma = 1 / sqrt(n): the paper's 0.01 for n = 10,000."""
        return float(calibration(self.items)[1])

    def to_json(self) -> dict:
        return {**asdict(self), "threshold": self.threshold, "sigma": self.sigma}


@dataclass(frozen=True)
class Seal:
    id: int
    config: ExamConfig
    thresholdout: ThresholdoutState
    secret: bytes = field(repr=False)  # never in a repr, a log line, a result or the DB


def create_tables(conn: sqlite3.Connection) -> None:
    # One statement at a time: executescript would COMMIT the caller's transaction.
    for statement in SCHEMA:
        conn.execute(statement)
    legacy = conn.execute("SELECT name FROM sqlite_master WHERE name = 'exam_seals'").fetchone()
    if legacy:  # the old format kept its secret in the database: void those seals
        conn.execute("UPDATE exam_seals SET secret = '', active = 0 WHERE secret != ''")


def _meta(conn: sqlite3.Connection, name: str) -> str | None:
    row = conn.execute("SELECT value FROM exam_meta WHERE name = ?", (name,)).fetchone()
    return None if row is None else row[0]


def open_key(conn: sqlite3.Connection, db_path: Path, key_path: Path | str | None,
             create: bool) -> bytes | None:
    """The key sealing this database: checked against its fingerprint; created (with the
    database's id) when `create` and the database has none yet; else None if absent."""
    db_id = _meta(conn, "db_id")
    if db_id is None:
        db_id = secrets.token_hex(8)
        conn.execute("INSERT INTO exam_meta VALUES ('db_id', ?)", (db_id,))
    path = resolve_key_path(db_path, db_id, key_path)
    expected = _meta(conn, "key_id")
    if expected is None:
        if not create:
            return None
        key = create_key(path)
        conn.execute("INSERT INTO exam_meta VALUES ('key_id', ?)", (fingerprint(key),))
        return key
    key = load_key(path)
    if fingerprint(key) != expected:
        raise ExamError(f"the exam key {path} is not the one that sealed this database "
                        f"(key id {fingerprint(key)}, expected {expected})")
    return key


def _mac(key: bytes, *fields: object) -> str:
    return hmac.new(key, json.dumps(fields).encode(), hashlib.sha256).hexdigest()


def derive_key(secret: bytes, *purpose: str) -> np.ndarray:
    """A raw JAX PRNG key (uint32[2], as `jax.random.PRNGKey` returns) for one purpose,
    e.g. ("holdout", "tasks", "corridor", "longer"). SHA-256 keeps purposes independent
    and the secret unrecoverable from any key."""
    digest = hashlib.sha256(secret + b"\0" + "/".join(purpose).encode()).digest()
    return np.frombuffer(digest[:8], dtype=np.uint32).copy()


def active_seal(conn: sqlite3.Connection, key: bytes) -> Seal | None:
    """The newest seal, its MAC checked; None before the first."""
    row = conn.execute(f"SELECT {', '.join(_SEAL_COLUMNS)}, mac FROM exam_seal "
                       "ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        return None
    *values, mac = row
    if not hmac.compare_digest(mac, _mac(key, *values)):
        raise ExamError(f"seal {values[0]} was changed outside the exam (its MAC does not "
                        "match): its answers can no longer be trusted; reseal")
    seal_id, nonce, budget, tasks, episodes, _, _, budget_left, noisy, queries = values
    secret = hmac.new(key, b"seal\0" + nonce.encode(), hashlib.sha256).digest()
    words = key_words(derive_key(secret, "thresholdout"))
    return Seal(seal_id, ExamConfig(budget, tasks, episodes),
                ThresholdoutState(words, noisy, budget_left, queries), secret)


def _write_seal(conn: sqlite3.Connection, key: bytes, values: dict, insert: bool) -> None:
    row = [values[c] for c in _SEAL_COLUMNS]
    if insert:
        conn.execute(f"INSERT INTO exam_seal (created, {', '.join(_SEAL_COLUMNS)}, mac) "
                     f"VALUES (?, {', '.join('?' for _ in row)}, ?)",
                     (time.time(), *row, _mac(key, *row)))
    else:
        conn.execute("UPDATE exam_seal SET budget_left = ?, noisy_threshold = ?, queries = ?, "
                     "mac = ? WHERE id = ?", (values["budget_left"], values["noisy_threshold"],
                                              values["queries"], _mac(key, *row), values["id"]))


def new_seal(conn: sqlite3.Connection, key: bytes, config: ExamConfig) -> Seal:
    """Draw a fresh seal (it becomes the active one). Call inside a transaction."""
    if not isinstance(config, ExamConfig):
        raise ExamError(f"a seal's config must be an ExamConfig, got {type(config).__name__}")
    seal_id = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM exam_seal").fetchone()[0]
    nonce = secrets.token_hex(16)
    secret = hmac.new(key, b"seal\0" + nonce.encode(), hashlib.sha256).digest()
    state = thresholdout_init(config.threshold, config.sigma, config.budget,
                              derive_key(secret, "thresholdout"))
    _write_seal(conn, key, {"id": seal_id, "nonce": nonce, **config.to_json(),
                            "budget_left": state.budget_left,
                            "noisy_threshold": state.noisy_threshold, "queries": 0}, True)
    seal = active_seal(conn, key)
    assert seal is not None and seal.id == seal_id
    return seal


def save_thresholdout(conn: sqlite3.Connection, key: bytes, seal: Seal,
                      state: ThresholdoutState) -> None:
    nonce = conn.execute("SELECT nonce FROM exam_seal WHERE id = ?", (seal.id,)).fetchone()[0]
    _write_seal(conn, key, {"id": seal.id, "nonce": nonce, **seal.config.to_json(),
                            "budget_left": state.budget_left,
                            "noisy_threshold": state.noisy_threshold,
                            "queries": state.queries}, False)


def log_event(conn: sqlite3.Connection, key: bytes, **row: object) -> int:
    """Append one audit row (every column of `AUDIT_COLUMNS` but id and created), its MAC
    chained to the previous row's; returns its id."""
    last = conn.execute("SELECT id, mac FROM exam_audit ORDER BY id DESC LIMIT 1").fetchone()
    row_id, previous = (last[0] + 1, last[1]) if last else (1, "")
    full = {"id": row_id, "created": time.time(), **row}
    values = [full[c] for c in AUDIT_COLUMNS]
    conn.execute(f"INSERT INTO exam_audit ({', '.join(AUDIT_COLUMNS)}, mac) VALUES "
                 f"({', '.join('?' for _ in values)}, ?)", (*values, _mac(key, previous, *values)))
    return row_id


def verify_log(conn: sqlite3.Connection, key: bytes) -> bool:
    """True when no audit row was edited, inserted or deleted (but the newest) outside the
    exam: each row's MAC matches its contents and the row before it."""
    previous, expected_id = "", 1
    for *values, mac in conn.execute(f"SELECT {', '.join(AUDIT_COLUMNS)}, mac FROM exam_audit "
                                     "ORDER BY id"):
        if values[0] != expected_id or not hmac.compare_digest(mac, _mac(key, previous, *values)):
            return False
        previous, expected_id = mac, expected_id + 1
    return True
