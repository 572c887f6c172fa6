"""`trainee study NAME`: one study into a run directory (resumable like `trainee run`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import tyro

from trainee.cli.common import parse


@dataclass(frozen=True)
class StudyConfig:
    """Run one study into a run directory (resumable like `trainee run`) and re-render
    that directory's report."""

    name: Annotated[str, tyro.conf.Positional, tyro.conf.arg(metavar="NAME")]
    """Study name: gap, two-students, value-function, jaggedness, eval-hacking, care,
    on-the-job, fleet."""
    scale: Literal["quick", "standard", "full", "tiny"] = "quick"
    """Scale (as for `trainee run`)."""
    seeds: int | None = None
    """Seeds per configuration (default: the scale's)."""
    out: Path | None = None
    """Run directory (default runs/<scale>)."""
    learner: str = "ppo"
    """Learner every study trains: a registered name (ppo, pg, apprentice) or a factory of your own,
    package.module:factory or path/to/file.py:factory (see docs/learners.md)."""
    quiet: bool = False
    """No progress bars."""
    seed: int = 0
    """Base seed (as for `trainee run`; a run directory holds one)."""
    placebo: bool = False
    """Run the study's placebo instead (stored as studies/NAME.placebo.json)."""

    def validate(self) -> None:
        from trainee.configs import Range, check_ranges

        check_ranges(self, {"seeds": Range(1, 1000)})


def main(args: list[str]) -> None:
    from trainee.cli.run import run_studies_command
    from trainee.studies import parse_names

    config = parse(StudyConfig, args, "study")
    run_studies_command(parse_names(config.name), config.scale, config.seeds, config.out,
                        "local", config.quiet, config.seed, config.placebo, config.learner)
