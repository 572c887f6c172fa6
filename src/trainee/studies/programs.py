"""Compiled programs shared by every study: one per (world, learner, scale).

A program trains S seeds at once (`vmap`) in chunks of updates, and evaluates S
parameter sets on one task set with shared episode keys (paired evaluation, so two
checkpoints or two agents meet the same tasks and the same luck). Hyperparameters the
studies sweep (`lr`, `gae_lambda`, `ent_coef`) are traced *arguments*, not constants,
so a sweep reuses the compiled program instead of compiling once per value (DESIGN.md,
"compile once"; the learners take them as config fields, so the config is rebuilt
inside the trace with the traced values).
"""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from trainee.agent import policy_from_params
from trainee.evaluate import Records, evaluate
from trainee.learners import LearnerConfig, make_learner, run_updates
from trainee.studies.scale import Scale
from trainee.worlds import World, make

SWEPT = ("lr", "gae_lambda", "ent_coef")  # traced hyperparameters
DEFAULT_HP = {"lr": 1e-3, "gae_lambda": 0.95, "ent_coef": 0.01}


class _TracedConfig(LearnerConfig):
    """A LearnerConfig whose swept fields may be tracers. `validate` compares numbers on
    the host, so it is skipped here; `Program.hp` validates every concrete value first."""

    def validate(self) -> None:
        pass


@cache
def get_world(name: str) -> World:
    """The world `name`; `errands` is imported directly while it is not yet registered."""
    try:
        return make(name)
    except ValueError:
        if name != "errands":
            raise
        from trainee.worlds.errands import Errands

        return Errands()


def base_config(learner: str, scale: Scale) -> LearnerConfig:
    # Constant learning rate (no annealing): a chunked run then needs no total length
    # at compile time, and fine-tuning starts at the same rate as training.
    return LearnerConfig(
        learner=learner, num_envs=scale.num_envs, num_steps=scale.num_steps, group_size=4,
        update_epochs=2, num_minibatches=2, anneal_lr=False, hidden=scale.hidden,
        layers=scale.layers, total_steps=scale.num_envs * 1024, **DEFAULT_HP,
    )


class Program(NamedTuple):
    world: World
    config: LearnerConfig
    network: Any
    steps_per_update: int
    init: Any  # (keys (S,), tasks (pool...), hp {(S,)}) -> TrainState (S...)
    chunk: Any  # (state, tasks, hp) -> (state, metrics (S, updates))
    evaluate: Any  # (params (S...), key, tasks) -> Records (S, tasks, episodes)
    updates_per_chunk: int

    def hp(self, seeds: int, **values: float) -> dict[str, jax.Array]:
        """Swept hyperparameters as (S,) arrays: the defaults, overridden by `values`."""
        merged = {**DEFAULT_HP, **values}
        dataclasses.replace(self.config, **merged).validate()
        return {k: jnp.full((seeds,), v, jnp.float32) for k, v in merged.items()}


def _learner(config: LearnerConfig, world: World, hp: dict):
    traced = _TracedConfig(**{**dataclasses.asdict(config), **hp})
    return make_learner(traced, world)


@cache
def get_program(world_name: str, learner: str, scale: Scale) -> Program:
    world = get_world(world_name)
    config = base_config(learner, scale)
    config.validate()
    probe = make_learner(config, world)
    updates = max(1, scale.steps_per_chunk // probe.steps_per_update)

    def init(key, tasks, hp):
        return _learner(config, world, hp).init(key, tasks)

    def chunk(state, tasks, hp):
        return run_updates(_learner(config, world, hp), state, tasks, updates)

    def evaluate_one(params, key, tasks):
        policy = policy_from_params(probe.network, params)
        return evaluate(world, policy, key, tasks, scale.episodes)

    return Program(
        world, config, probe.network, probe.steps_per_update,
        # Every seed trains on the same pool (in_axes None): a per-seed copy of the pool
        # costs memory and, with repair's int8 tasks, hung XLA:CPU here (jax 0.10.2).
        jax.jit(jax.vmap(init, in_axes=(0, None, 0))),
        jax.jit(jax.vmap(chunk, in_axes=(0, None, 0))),
        jax.jit(jax.vmap(evaluate_one, in_axes=(0, None, None))), updates,
    )


def seed_keys(seed: int, seeds: int) -> jax.Array:
    return jax.random.split(jax.random.key(seed), seeds)


def to_numpy(records: Records) -> Records:
    return jax.tree.map(np.asarray, records)
