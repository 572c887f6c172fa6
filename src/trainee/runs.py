"""The one run writer: every run kind (train, career, fleet, fleet-sweep, study) gets a
run directory with `record.json` and a row in the SQLite index (an evaluation of a
trained run, `trainee eval`, is a row of the index's `evaluations` table and a file in
that run's directory, listed by `list_runs` as kind `eval`).

`record.json` says what ran, completely enough to run it again (`trainee rerun DIR`):

    {"kind": "career", "config": {...every setting, resolved...}, "worlds": [...],
     "learner": "ppo", "seeds": 5, "status": "done", "environment": {...versions,
     machine...}, "created": 1.7e9, "finished": 1.7e9, "trainee_rerun_of": null}

`config` is the kind's fully resolved configuration (for a career: the job definitions,
pool sizes, seeds, learner settings; never only a preset name or a file path), as plain
JSON. The status goes `running` -> `done` (or `failed`, `interrupted`). Both the file
(atomically, `store.atomic_write_json`) and the row are written at the start and at the
end of a run, so an interrupted run is listed too.

    with recorded_run(out, "fleet", config_dict, worlds=["corridor"], learner="ppo",
                      seeds=5) as run:
        run.summary = run_fleet_experiment(...)
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from trainee import store
from trainee.runtime import environment

RECORD_FILE = "record.json"
KINDS = ("train", "career", "fleet", "fleet-sweep", "study")
STATUSES = ("running", "done", "failed", "interrupted")


def begin_run(run_dir: Path, kind: str, config: dict, *, worlds: Sequence[str], learner: str,
              seeds: int | None) -> dict:
    """Write `run_dir/record.json` (status `running`) and the run's SQLite row; return
    the record. `config` must be JSON-ready (dataclasses.asdict of the configs)."""
    if kind not in KINDS:
        raise ValueError(f"unknown run kind {kind!r}; one of {', '.join(KINDS)}")
    store.clean_leftovers(run_dir)  # temporary files of a killed earlier session
    record = {
        "kind": kind, "config": config, "worlds": list(dict.fromkeys(worlds)),
        "learner": learner, "seeds": seeds, "status": "running",
        "environment": environment(), "created": time.time(), "finished": None,
        "rerun_of": None,
    }
    _write(Path(run_dir), record, None)
    return record


def end_run(run_dir: Path, summary: dict | None = None, status: str = "done") -> dict:
    """Mark the run `status` (done, failed, interrupted), store its summary in the index."""
    if status not in STATUSES:
        raise ValueError(f"unknown run status {status!r}; one of {', '.join(STATUSES)}")
    record = read_record(run_dir)
    record.update(status=status, finished=time.time())
    _write(Path(run_dir), record, summary)
    return record


class Run:
    """The run inside `recorded_run`: set `.summary` to what the index should hold."""

    def __init__(self, run_dir: Path):
        self.run_dir, self.summary = Path(run_dir), None


@contextmanager
def recorded_run(run_dir: Path, kind: str, config: dict, *, worlds: Sequence[str],
                 learner: str, seeds: int | None) -> Iterator[Run]:
    """`begin_run`, the block, then `end_run` with `done`, `failed` (an exception) or
    `interrupted` (Ctrl-C); the exception goes on."""
    begin_run(run_dir, kind, config, worlds=worlds, learner=learner, seeds=seeds)
    run = Run(run_dir)
    try:
        yield run
    except KeyboardInterrupt:
        end_run(run_dir, run.summary, "interrupted")
        raise
    except BaseException:
        end_run(run_dir, run.summary, "failed")
        raise
    end_run(run_dir, run.summary, "done")


def mark_unfinished(run_dir: Path, interrupted: bool) -> None:
    """After a run raised: a record still `running` becomes `interrupted` or `failed`
    (for writers that call begin/end themselves; `recorded_run` does this already)."""
    path = Path(run_dir) / RECORD_FILE
    if path.exists() and store.read_json_mapping(path, "a run record").get("status") == "running":
        end_run(run_dir, None, "interrupted" if interrupted else "failed")


def set_rerun_of(run_dir: Path, original: Path) -> None:
    """Note in the record that this run repeats the run in `original`."""
    record = read_record(run_dir)
    record["rerun_of"] = str(Path(original).resolve())
    store.atomic_write_json(Path(run_dir) / RECORD_FILE, record)


# Keys whose values are timings or host facts, not results: reruns may differ there.
NOT_NUMBERS = ("seconds", "steps_per_second", "compile_seconds", "train_seconds", "started",
               "environment", "executor")


def differing_numbers(a, b, path: str = "", rtol: float = 1e-6) -> list[str]:
    """Where two results (JSON trees) differ: paths of numbers beyond `rtol`, or of
    different structure; timings (`NOT_NUMBERS`) are skipped. Empty: same numbers."""
    import math

    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{path or '/'} (keys differ)"]
        return [d for k in sorted(a) if k not in NOT_NUMBERS
                for d in differing_numbers(a[k], b[k], f"{path}/{k}", rtol)]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path} (lengths differ)"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in differing_numbers(x, y, f"{path}[{i}]", rtol)]
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        same = (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rtol,
                                                                   abs_tol=1e-12)
        return [] if same else [path]
    return [] if a == b else [path]


def read_record(run_dir: Path) -> dict:
    """The run's record.json; a directory without one is a one-line StoreError."""
    path = Path(run_dir) / RECORD_FILE
    if not path.exists():
        raise store.StoreError(f"{run_dir} holds no run record ({RECORD_FILE}); it was not "
                               "written by a trainee command, or by one older than records")
    return store.read_json_mapping(path, "a run record")


def list_runs(db: Path) -> list[dict]:
    """Every indexed run, oldest first: kind, worlds, learner, seeds, status, path; the
    evaluations of trained runs (`trainee eval`) are listed as kind `eval`, their path
    the eval-<split>.json they wrote."""
    db = Path(db)
    if not db.exists():
        raise FileNotFoundError(f"no results database at {db}; pass --db or set TRAINEE_DB")
    conn = store.connect(db)
    try:
        rows = conn.execute("SELECT kind, world, learner, seeds, status, run_dir, created "
                            "FROM runs").fetchall()
        evals = conn.execute(
            "SELECT 'eval', r.world, r.learner, r.seeds, 'done', e.run_dir || '/eval-' || "
            "e.split || '.json', e.created FROM evaluations e LEFT JOIN runs r "
            "ON r.run_dir = e.run_dir").fetchall()
    finally:
        conn.close()
    names = ("kind", "worlds", "learner", "seeds", "status", "path", "created")
    listed = [dict(zip(names, row, strict=True)) for row in rows + evals]
    return sorted(listed, key=lambda r: r["created"])


def _write(run_dir: Path, record: dict, summary: dict | None) -> None:
    store.atomic_write_json(run_dir / RECORD_FILE, record)
    store.index_run(run_dir, record["kind"], ",".join(record["worlds"]), record["learner"],
                    record["seeds"], record["status"], record["config"], summary)
