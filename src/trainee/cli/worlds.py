"""`trainee worlds`: the registered worlds, their splits and hidden counters."""

from __future__ import annotations

from dataclasses import dataclass

from trainee.cli.common import parse


@dataclass(frozen=True)
class WorldsConfig:
    """List the worlds, their splits (train + held-out shift axes) and hidden counters."""


def main(args: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    from trainee.worlds import make, names

    parse(WorldsConfig, args, "worlds")
    table = Table(title="worlds")
    for column in ("world", "splits (train + held-out shift axes)", "hidden counters", "max steps"):
        table.add_column(column)
    for name in names():
        world = make(name)
        table.add_row(
            name, ", ".join(world.splits), ", ".join(world.counters) or "-", str(world.max_steps)
        )
    Console().print(table)
    print("External: gymnax:<EnvName> (pip install 'trainee[gymnax]'), e.g. gymnax:CartPole-v1")
