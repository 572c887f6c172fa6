"""`trainee exam`: the sealed exam (status, query, reseal, final)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import tyro

from trainee.cli.common import parse


@dataclass(frozen=True)
class ExamCommandConfig:
    """The sealed exam: `status`, `query --run DIR` (answered through Thresholdout, spends
    budget when it must), `reseal` (a fresh holdout), `final --run DIR` (one shot)."""

    action: tyro.conf.Positional[Literal["status", "query", "reseal", "final"]]
    """What to do."""
    run: Path | None = None
    """Run directory whose agent sits the exam (query, final)."""
    agent_seed: int = 0
    """Which seed of the run sits the exam."""
    split: str | None = None
    """query: one held-out split instead of all of them pooled."""
    force: str | None = None
    """final: a reason to sit a repeated final (logged, flagged, costs one unit of budget)."""
    reason: str | None = None
    """reseal: why the active seal is retired (logged)."""
    key: Path | None = None
    """The exam key file (default: $TRAINEE_EXAM_KEY, else in the user's data directory)."""
    db: Path | None = None
    """Results database (default: the run's, else $TRAINEE_DB, else runs/trainee.db)."""

    def validate(self) -> None:
        from trainee.configs import Range, check_ranges

        check_ranges(self, {"agent_seed": Range(0, 1023)})


def main(args: list[str]) -> None:
    import json

    from trainee import exam

    config = parse(ExamCommandConfig, args, "exam")
    if config.action in ("query", "final") and config.run is None:
        raise ValueError(f"exam {config.action} needs --run DIR (a trained run)")
    db = _database(config)
    if config.action == "status":
        result = exam.status(db, key_path=config.key)
    elif config.action == "reseal":
        result = exam.reseal(db, reason=config.reason, key_path=config.key)
    else:
        from trainee.agent import load_agent

        agent = load_agent(config.run)
        run_id = str(config.run.resolve())
        if config.action == "query":
            result = exam.query(db, agent, config.agent_seed, config.split, run_id, config.key)
        else:
            result = exam.final(db, agent, config.agent_seed, run_id, config.force, config.key)
    print(json.dumps(result, indent=2, default=str))


def _database(config: ExamCommandConfig) -> Path:
    from trainee.store import db_path_for, default_db

    if config.db is not None:
        return config.db
    return db_path_for(config.run) if config.run is not None else default_db()
