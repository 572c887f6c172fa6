"""Worlds: procedurally generated task families with held-out splits.

Public API: `make(name)`, `names()`, `register(name, factory)`, the `World` protocol and
its spaces, and the wrappers `AutoReset` and `TaskPool`.
"""

from __future__ import annotations

from trainee.worlds.base import Box, Discrete, Step, World
from trainee.worlds.catalog import WORLDS, make, names, register
from trainee.worlds.wrappers import AutoReset, TaskPool, pool_size, task_at

__all__ = [
    "WORLDS",
    "AutoReset",
    "Box",
    "Discrete",
    "Step",
    "TaskPool",
    "World",
    "make",
    "names",
    "pool_size",
    "register",
    "task_at",
    "to_gymnasium",
]


def to_gymnasium(world_or_name: World | str, split: str = "train", seed: int = 0, **kwargs):
    """A world (or a registered name) as a `gymnasium.Env` on tasks of `split` sampled
    with `seed`; needs the `gymnasium` extra. See `trainee.worlds.gymnasium_export`."""
    from trainee.worlds.gymnasium_export import make_env

    world = make(world_or_name) if isinstance(world_or_name, str) else world_or_name
    return make_env(world, split=split, seed=seed, **kwargs)
