"""`trainee train`: train a learner on a world (S seeds; `--executor ray`: a task each)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from trainee.cli.common import parse, split_config_flag


def main(args: list[str]) -> None:
    from trainee.configs import read_mapping
    from trainee.learners.networks import describe_network
    from trainee.train import TrainConfig, config_from_dict
    from trainee.worlds import make

    path, args = split_config_flag(args)
    base = config_from_dict(read_mapping(path)) if path else TrainConfig()
    config = parse(TrainConfig, args, "train", default=base,
                   description="Train a learner on a world. --config FILE (YAML/JSON) may "
                   "set any field; flags override it.")
    if config.executor == "ray":
        from trainee.runtime import ensure_ray

        ensure_ray()  # before JAX starts work here (counting the network's parameters)
    print(describe_network(config.hp, make(config.world)))  # the network actually used
    summary = run_train(config)
    print_summary(summary, config.run_dir)


def run_train(config, quiet: bool = False) -> dict:
    """Train with the config's executor; a run that raises is marked failed/interrupted."""
    from trainee import runs
    from trainee.train import train

    if config.executor == "ray":
        from trainee.train_ray import train_on_ray as train
    try:
        return train(config, quiet)
    except BaseException as err:
        runs.mark_unfinished(config.run_dir, isinstance(err, KeyboardInterrupt))
        raise


def rerun(record: dict, out: Path) -> Path:
    """Train again from the record's config into `out`; returns the file to compare."""
    from trainee.configs import from_mapping
    from trainee.train import TrainConfig

    config = from_mapping(TrainConfig, record["config"], where="run record config")
    config = dataclasses.replace(config, out=out, resume=False)
    print_summary(run_train(config), out)
    return out / "summary.json"


def print_summary(summary: dict, run_dir: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{summary['learner']} on {summary['world']}")
    for column in ("seed", "final return", "final success", "env steps"):
        table.add_column(column, justify="right")
    for i, (ret, succ, steps) in enumerate(
        zip(summary["final_return"], summary["final_success"], summary["env_steps"], strict=True)
    ):
        table.add_row(str(i), f"{ret:.2f}", f"{succ:.2%}", f"{steps:,.0f}")
    console = Console()
    console.print(table)
    console.print(
        f"{summary['steps_per_second']:,.0f} env steps/s after "
        f"{summary['compile_seconds']:.1f} s of compilation; run in {run_dir}"
    )
