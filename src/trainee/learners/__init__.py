"""Learners: `make_learner(config, world) -> Learner(init, update, act, ...)`, pure
functions that `trainee.program` jits and seed-vmaps; `make_train(config, world) ->
train(key, tasks) -> TrainOutput` is the same learner as one pure function.

`config.learner` names a registered learner (`ppo`, `pg`, `apprentice`) or a user's own factory,
`package.module:factory` or `path/to/file.py:factory` (`resolve_learner`; the contract
is in docs/learners.md and `trainee.learners.learner`).

    from trainee.learners import LearnerConfig, make_train
    train = jax.jit(make_train(LearnerConfig(learner="ppo"), world))
    out = train(jax.random.key(0), world.tasks(key, "train", 256))
    out.metrics["episode_return"]  # (num_updates,)
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import jax

from trainee.learners.apprentice import make_apprentice
from trainee.learners.common import TrainState
from trainee.learners.config import LEARNERS, TRACED, LearnerConfig
from trainee.learners.learner import (
    Learner,
    TrainOutput,
    check_learner,
    run_updates,
    sample_act,
    vmap_seeds,
)
from trainee.learners.pg import make_pg
from trainee.learners.ppo import make_ppo
from trainee.worlds.base import World

__all__ = [
    "LEARNERS", "TRACED", "Learner", "LearnerConfig", "TrainOutput", "TrainState", "build_learner",
    "make_learner", "make_train", "resolve_learner", "run_updates", "sample_act", "vmap_seeds",
]

Factory = Callable[[LearnerConfig, World], Learner]

# LEARNERS lives beside LearnerConfig, whose validate() checks names against it without
# importing this package (which imports the config: an import cycle).
LEARNERS.register("ppo", make_ppo)
LEARNERS.register("pg", make_pg)
LEARNERS.register("apprentice", make_apprentice)


@cache
def resolve_learner(name: str) -> Factory:
    """The factory `name` stands for: a registered learner, `package.module:factory` or
    `path/to/file.py:factory`. A bad name is a one-line ValueError naming it."""
    if ":" not in name:
        return LEARNERS.get(name)
    where, _, attr = name.rpartition(":")
    if where.endswith(".py"):
        module = _load_file(Path(where), name)
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as err:
            raise ValueError(f"learner {name!r}: cannot import module {where!r} ({err})") from err
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise ValueError(f"learner {name!r}: {where} has no callable {attr!r}")
    try:
        inspect.signature(factory).bind(LearnerConfig(), None)
    except (TypeError, ValueError) as err:
        raise ValueError(f"learner {name!r}: the factory must take (config, world) "
                         f"({err})") from err
    return factory


def _load_file(path: Path, name: str):
    if not path.is_file():
        raise ValueError(f"learner {name!r}: no file {path}")
    module_name = f"trainee_user_learner_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look modules up here
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # a user's file: any error it raises is theirs, shown in one line
        del sys.modules[module_name]
        raise ValueError(f"learner {name!r}: {path} failed to import "
                         f"({type(err).__name__}: {err})") from err
    return module


def build_learner(config: LearnerConfig, world: World) -> Learner:
    """The learner of `config`, unvalidated: its traced fields may be tracers
    (`trainee.program` calls this inside the trace)."""
    return check_learner(resolve_learner(config.learner)(config, world), config.learner)


def make_learner(config: LearnerConfig, world: World) -> Learner:
    """The learner of a concrete `config` (validated first)."""
    config.validate()
    return build_learner(config, world)


def make_train(config: LearnerConfig, world: World) -> Callable[[jax.Array, Any], TrainOutput]:
    learner = make_learner(config, world)

    def train(key: jax.Array, tasks) -> TrainOutput:
        state, metrics = run_updates(learner, learner.init(key, tasks), tasks, learner.num_updates)
        return TrainOutput(state.params, metrics, state)

    return train
