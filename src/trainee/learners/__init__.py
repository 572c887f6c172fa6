"""Learners: `make_train(config, world) -> train(key, tasks) -> TrainOutput`.

`train` is pure and jittable end to end; `jax.jit(vmap_seeds(train, (0, None)))` (or
`jax.vmap`) trains many seeds at once. `make_learner` exposes the same thing in pieces (`init`,
`update`) so a host loop can run it in chunks with progress, checkpoints and resume.

    from trainee.learners import LearnerConfig, make_train
    train = jax.jit(make_train(LearnerConfig(learner="ppo"), world))
    out = train(jax.random.key(0), world.tasks(key, "train", 256))
    out.metrics["episode_return"]  # (num_updates,)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from trainee.learners.common import Metrics, TrainState, make_optimizer
from trainee.learners.config import LearnerConfig
from trainee.learners.networks import ActorCritic, init_params, network_for
from trainee.learners.pg import pg_update
from trainee.learners.ppo import init_env, ppo_update
from trainee.worlds.base import World
from trainee.worlds.wrappers import AutoReset, TaskPool

__all__ = [
    "Learner", "LearnerConfig", "TrainOutput", "TrainState", "make_learner", "make_train",
    "vmap_seeds",
]


class TrainOutput(NamedTuple):
    params: Any
    metrics: Metrics  # each (num_updates,)
    state: TrainState


class Learner(NamedTuple):
    network: ActorCritic
    init: Callable[[jax.Array, Any], TrainState]  # (key, tasks) -> state
    update: Callable[[TrainState, Any], tuple[TrainState, Metrics]]  # (state, tasks)
    num_updates: int
    steps_per_update: int  # simulated env steps per update


def make_learner(config: LearnerConfig, world: World) -> Learner:
    config.validate()
    network = network_for(config, world)
    if config.learner == "ppo":
        env = AutoReset(TaskPool(world))
        steps_per_update = config.num_envs * config.num_steps
        update = ppo_update
    else:
        env = TaskPool(world)
        steps_per_update = config.num_envs * world.max_steps
        update = pg_update
    num_updates = config.total_steps // steps_per_update
    if num_updates < 1:
        raise ValueError(
            f"total_steps={config.total_steps} is less than one update "
            f"({steps_per_update} steps); raise --total-steps"
        )
    optimizer = make_optimizer(config, num_updates)

    def init(key: jax.Array, tasks) -> TrainState:
        key, key_params, key_env = jax.random.split(key, 3)
        params = init_params(network, key_params, world.observation_space.shape)
        carry = init_env(env, key_env, tasks, config.num_envs) if config.learner == "ppo" else None
        return TrainState(
            params, optimizer.init(params), carry, key, jnp.zeros(()), jnp.zeros((), jnp.int32)
        )

    return Learner(
        network,
        init,
        partial(update, env, network, optimizer, config),
        num_updates,
        steps_per_update,
    )


def run_updates(learner: Learner, state: TrainState, tasks, num: int):
    """`num` updates in one scan; returns (state, metrics each (num,))."""
    return jax.lax.scan(lambda s, _: learner.update(s, tasks), state, None, length=num)


def vmap_seeds(fn: Callable, in_axes: tuple) -> Callable:
    """`jax.vmap(fn, in_axes)` over a leading seed axis, except that a batch of one seed
    runs `fn` itself (and gets the axis back on its outputs). The results are the same;
    the speed is not: under `vmap` every `lax.cond` becomes a select that computes both
    branches, which costs ppo ~10% on CartPole with one seed."""
    batched = jax.vmap(fn, in_axes)

    def run(*args):
        seeds = next(jax.tree.leaves(a)[0].shape[0]
                     for a, ax in zip(args, in_axes, strict=True) if ax == 0)
        if seeds > 1:
            return batched(*args)
        args = [jax.tree.map(lambda x: x[0], a) if ax == 0 else a
                for a, ax in zip(args, in_axes, strict=True)]
        return jax.tree.map(lambda x: x[None], fn(*args))

    return run


def make_train(config: LearnerConfig, world: World) -> Callable[[jax.Array, Any], TrainOutput]:
    learner = make_learner(config, world)

    def train(key: jax.Array, tasks) -> TrainOutput:
        state, metrics = run_updates(learner, learner.init(key, tasks), tasks, learner.num_updates)
        return TrainOutput(state.params, metrics, state)

    return train
