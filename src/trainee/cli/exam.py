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
    force: bool = False
    """final: take a second final on the same seal (flagged in the log and the report)."""
    db: Path | None = None
    """Results database (default: the run's, else $TRAINEE_DB, else runs/trainee.db)."""


def main(args: list[str]) -> None:
    import json

    from trainee import exam

    config = parse(ExamCommandConfig, args, "exam")
    if config.action in ("query", "final") and config.run is None:
        raise ValueError(f"exam {config.action} needs --run DIR (a trained run)")
    db = _database(config)
    if config.action == "status":
        result = exam.status(db)
    elif config.action == "reseal":
        result = exam.reseal(db)
    else:
        from trainee.agent import load_agent

        agent = load_agent(config.run)
        policy = agent.policy(config.agent_seed)
        run_id = str(config.run.resolve())
        if config.action == "query":
            result = exam.query(db, agent.world, policy, run_id, agent.params_hash, config.split)
        else:
            result = exam.final(db, agent.world, policy, run_id, agent.params_hash, config.force)
    print(json.dumps(result, indent=2, default=str))


def _database(config: ExamCommandConfig) -> Path:
    from trainee.store import db_path_for, default_db

    if config.db is not None:
        return config.db
    return db_path_for(config.run) if config.run is not None else default_db()
