"""`trainee show`: render one episode of a world to an animated GIF."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import tyro

from trainee.cli.common import parse


@dataclass(frozen=True)
class ShowConfig:
    """Render one episode of a world to an animated GIF (and print it as text)."""

    world: Annotated[str, tyro.conf.Positional, tyro.conf.arg(metavar="WORLD")]
    """World name."""
    split: str = "train"
    """Split to draw the task from."""
    out: Path = Path("episode.gif")
    """Where to write the GIF."""
    run: Path | None = None
    """Play a trained run's agent (seed --agent-seed) instead of the world's oracle."""
    agent_seed: int = 0
    """Which seed of the run to play."""
    seed: int = 0
    """Key for the task and the episode."""
    text: bool = False
    """Also print every frame as text."""

    def validate(self) -> None:
        from trainee.configs import Range, check_ranges

        check_ranges(self, {"agent_seed": Range(0, 1023), "seed": Range(0, 2**31 - 1)})


def main(args: list[str]) -> None:
    import jax

    from trainee.evaluate import oracle_policy
    from trainee.worlds import make, task_at
    from trainee.worlds.render import record_episode, save_gif

    config = parse(ShowConfig, args, "show")
    if config.run is not None:
        from trainee.agent import load_agent

        agent = load_agent(config.run)
        world, policy = agent.world, agent.policy(config.agent_seed)
    else:
        world = make(config.world)
        policy = oracle_policy(world)
    world.check_split(config.split)
    key_task, key_episode = jax.random.split(jax.random.key(config.seed))
    task = task_at(world.tasks(key_task, config.split, 1), 0)
    states = record_episode(world, policy, key_episode, task)
    if config.text:
        for state in states:
            print(world.render_text(state, task), end="\n\n")
    save_gif([world.render_rgb(s, task) for s in states], config.out)
    print(f"{len(states) - 1} steps written to {config.out}")
