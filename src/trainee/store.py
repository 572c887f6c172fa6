"""The results store: a directory per run and one SQLite database indexing them.

A run directory holds `record.json` (what ran: kind, fully resolved config, versions and
machine, status; written by `trainee.runs`), then what the kind writes: a train run
`config.json`, `metrics.json` (learning curves), `checkpoint.ckpt` (the state and its
description in one file) and `summary.json`.
Every file is written atomically (`atomic_write_bytes`, the one writer): to a temporary
file `.NAME.*.tmp` in the same directory, fsynced, renamed over the target, then the
directory fsynced (so the rename itself survives a power cut), so an interrupted run
never leaves a half-written file. A kill between the write and the rename leaves the
temporary file; `clean_leftovers` removes those when a run (re)starts in the directory.

The database (`trainee.db`, beside the run directories unless `TRAINEE_DB` says
otherwise) has one row per run of every kind (`index_run`) and per evaluation; other
modules (the exam) add their own tables through `connect`. SQLite in WAL mode lets
several processes write at once.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_dir TEXT PRIMARY KEY,
    created REAL NOT NULL,
    world TEXT NOT NULL,
    learner TEXT NOT NULL,
    config TEXT NOT NULL,       -- JSON
    summary TEXT,               -- JSON, filled in when the run finishes
    kind TEXT NOT NULL DEFAULT 'train',   -- train, career, fleet, fleet-sweep, study
    seeds INTEGER,
    status TEXT NOT NULL DEFAULT 'done'   -- running, done, failed, interrupted
);
CREATE TABLE IF NOT EXISTS evaluations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    run_dir TEXT NOT NULL,
    split TEXT NOT NULL,
    records TEXT NOT NULL       -- JSON: per-seed, per-task, per-episode arrays
);
"""


class StoreError(Exception):
    """A readable problem with the store (missing run, corrupt file, ...)."""


TMP_SUFFIX = ".tmp"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all (see the module docstring)."""
    path = Path(path)
    if path.is_dir():  # else the rename's error would name the temporary file
        raise IsADirectoryError(errno.EISDIR, "is a directory, not a file", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        fault_point(path, "tmp")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    fault_point(path, "renamed")


_FAULT_COUNTS: dict[str, int] = {}


def fault_point(path: Path, stage: str) -> None:
    """Fault injection for `benchmarks/faults.py`, off unless TRAINEE_FAULT is set:
    `TRAINEE_FAULT=NAME@STAGE#N` SIGKILLs this process the N-th time it reaches STAGE
    (`tmp`: the temporary file written, not yet renamed; `renamed`: in place; `commit`: a
    SQLite transaction done, not committed) for a file called NAME."""
    spec = os.environ.get("TRAINEE_FAULT")
    if not spec or not spec.startswith(f"{Path(path).name}@{stage}#"):
        return
    key = f"{Path(path).name}@{stage}"
    _FAULT_COUNTS[key] = _FAULT_COUNTS.get(key, 0) + 1
    if _FAULT_COUNTS[key] == int(spec.rpartition("#")[2]):
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable (POSIX: the entry lives in the directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # a platform without directory handles (Windows): nothing to sync
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems refuse fsync on a directory; the rename stands
        pass
    finally:
        os.close(fd)


def clean_leftovers(directory: Path) -> list[Path]:
    """Delete the temporary files a killed `atomic_write_*` left under `directory`
    (`.NAME.*.tmp`); returns what it removed. Call it only where no other writer is at
    work (a run's own directory, as the run starts)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    removed = [tmp for tmp in directory.rglob(".*.*" + TMP_SUFFIX) if tmp.is_file()]
    for tmp in removed:
        tmp.unlink(missing_ok=True)
    return removed


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, default=_jsonable) + "\n").encode())


def _jsonable(x: Any) -> Any:
    if hasattr(x, "tolist"):  # numpy / jax arrays and scalars
        return x.tolist()
    if isinstance(x, Path):
        return str(x)
    raise TypeError(f"cannot write {type(x).__name__} as JSON")


def read_json(path: Path) -> Any:
    path = Path(path)
    if not path.exists():
        raise StoreError(f"{path} does not exist")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise StoreError(f"{path} is not valid JSON ({err}); delete it or rerun") from err
    except OSError as err:  # a directory, no permission, an I/O error
        raise StoreError(f"cannot read {path}: {err.strerror or err}") from err


def read_json_mapping(path: Path, what: str = "") -> dict:
    """`read_json` of a file that must hold a JSON object (a record, a summary, ...)."""
    value = read_json(path)
    if not isinstance(value, dict):
        raise StoreError(f"{path} must hold a JSON object{' (' + what + ')' if what else ''}, "
                         f"not {type(value).__name__}; delete it or rerun")
    return value


def db_path_for(run_dir: Path) -> Path:
    """The database a run is indexed in: $TRAINEE_DB, else `trainee.db` beside the run."""
    env = os.environ.get("TRAINEE_DB")
    return Path(env) if env else Path(run_dir).resolve().parent / "trainee.db"


def default_db() -> Path:
    """The database when no run names it: $TRAINEE_DB, else runs/trainee.db (the one
    beside the default run directories, runs/<name>)."""
    return Path(os.environ.get("TRAINEE_DB", "runs/trainee.db"))


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the results database with the base schema."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30.0, isolation_level=None)  # explicit transactions
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.executescript(SCHEMA)
    _add_missing_columns(conn)
    return conn


# Columns added after the first databases were written: (name, SQL type and default).
_LATER_COLUMNS = (("kind", "TEXT NOT NULL DEFAULT 'train'"), ("seeds", "INTEGER"),
                  ("status", "TEXT NOT NULL DEFAULT 'done'"))


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    """Bring a database written by an older trainee up to the schema (its rows were all
    train runs, so the defaults describe them)."""
    have = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
    for name, decl in _LATER_COLUMNS:
        if name not in have:
            try:
                conn.execute(f"ALTER TABLE runs ADD COLUMN {name} {decl}")
            except sqlite3.OperationalError as err:  # another process added it first
                if "duplicate column" not in str(err):
                    raise


@contextmanager
def transaction(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection inside one write transaction (BEGIN IMMEDIATE): either everything
    in the block is committed, or nothing is (an exception or a crash rolls it back)."""
    conn = connect(path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield conn
        fault_point(path, "commit")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()


def index_run(run_dir: Path, kind: str, worlds: str, learner: str, seeds: int | None,
              status: str, config: dict, summary: dict | None) -> None:
    """Insert or update the run's row (the run directory is the key); `trainee.runs` is
    the writer every command calls, this is its SQLite half."""
    with transaction(db_path_for(run_dir)) as conn:
        conn.execute(
            "INSERT INTO runs (run_dir, created, world, learner, config, summary, kind, seeds, "
            "status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(run_dir) DO UPDATE SET "
            "world=excluded.world, learner=excluded.learner, config=excluded.config, "
            "summary=excluded.summary, kind=excluded.kind, seeds=excluded.seeds, "
            "status=excluded.status",
            (str(Path(run_dir).resolve()), time.time(), worlds, learner,
             json.dumps(config, default=_jsonable),
             None if summary is None else json.dumps(summary, default=_jsonable),
             kind, seeds, status),
        )


def record_evaluation(run_dir: Path, split: str, records: dict) -> None:
    with transaction(db_path_for(run_dir)) as conn:
        conn.execute(
            "INSERT INTO evaluations (created, run_dir, split, records) VALUES (?, ?, ?, ?)",
            (time.time(), str(Path(run_dir).resolve()), split,
             json.dumps(records, default=_jsonable)),
        )
