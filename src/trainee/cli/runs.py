"""`trainee runs`: every run in the results database, oldest first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from trainee.cli.common import parse


@dataclass(frozen=True)
class RunsConfig:
    """List the runs indexed in the results database: kind (train, eval, career, fleet,
    fleet-sweep, study), world(s), learner, seeds, status and run directory."""

    db: Path | None = None
    """Results database (default: $TRAINEE_DB, else runs/trainee.db)."""
    kind: Literal["train", "eval", "career", "fleet", "fleet-sweep", "study"] | None = None
    """Only runs of this kind."""
    json: bool = False
    """Print JSON (one list of objects) instead of a table."""


def main(args: list[str]) -> None:
    import json

    from trainee import runs
    from trainee.store import default_db

    config = parse(RunsConfig, args, "runs")
    rows = runs.list_runs(config.db or default_db())
    rows = [r for r in rows if config.kind is None or r["kind"] == config.kind]
    if config.json:
        print(json.dumps(rows, indent=1))
        return
    _print(rows)


def _print(rows: list[dict]) -> None:
    import time

    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"runs ({len(rows)})")
    for column in ("created", "kind", "world(s)", "learner", "seeds", "status", "path"):
        table.add_column(column, overflow="fold")
    for r in rows:
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(r["created"]))
        table.add_row(created, r["kind"], r["worlds"] or "-", r["learner"] or "-",
                      "-" if r["seeds"] is None else str(r["seeds"]), r["status"], r["path"])
    Console().print(table)
