"""`trainee report RUN_DIR`: re-render the report from stored results (no training)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import tyro

from trainee.cli.common import parse


@dataclass(frozen=True)
class ReportConfig:
    """Re-render RUN_DIR/report.html from the stored results (no training)."""

    run_dir: Annotated[Path, tyro.conf.Positional, tyro.conf.arg(metavar="RUN_DIR")]
    """Run directory written by `trainee run`."""


def main(args: list[str]) -> None:
    from trainee.cli.run import print_study_table
    from trainee.report import render_report
    from trainee.store import read_json

    config = parse(ReportConfig, args, "report")
    path = render_report(config.run_dir)
    studies = sorted((config.run_dir / "studies").glob("*.json"))
    print_study_table([read_json(p) for p in studies])
    print(f"report: {path}")
