"""`trainee eval`: evaluate a trained run on a split of its world."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trainee.cli.common import parse


@dataclass(frozen=True)
class EvalConfig:
    """Evaluate a trained run on a split of its world."""

    run: Path
    """Run directory written by `trainee train`."""
    split: str = "train"
    """Split to evaluate on (see `trainee worlds`)."""
    num_tasks: int = 256
    """Tasks sampled from the split."""
    episodes: int = 4
    """Episodes per task."""
    seed: int = 1
    """Key for sampling tasks and actions (use a seed different from training's)."""
    greedy: bool = False
    """Take the most likely action instead of sampling."""

    def validate(self) -> None:
        from trainee.configs import Range, check_ranges

        check_ranges(self, {"num_tasks": Range(1, 2**20), "episodes": Range(1, 10**4),
                            "seed": Range(0, 2**31 - 1)})


def main(args: list[str]) -> None:
    from trainee.evaluation_run import evaluate_run

    config = parse(EvalConfig, args, "eval")
    evaluate_run(config.run, config.split, config.num_tasks, config.episodes, config.seed,
                 config.greedy, show=True)
