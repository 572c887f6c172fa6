"""The learner contract: what every learner, built in or brought by a user, gives the
house (docs/learners.md says it in full).

A learner factory `factory(config: LearnerConfig, world: World) -> Learner` returns
pure functions; the house jits and seed-vmaps them (`trainee.program`), runs them in
chunks, evaluates `act`, and carries or merges `state.params` between jobs and instances.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from trainee.learners.common import Metrics, TrainState, make_optimizer
from trainee.learners.networks import init_params, network_for

# Metrics every update must return (scalars): the host loop, summaries and careers read them.
REQUIRED_METRICS = ("episodes", "return_sum", "success_sum", "episode_return", "success",
                    "env_steps")


class Learner(NamedTuple):
    init: Callable[[jax.Array, Any], Any]  # (key, tasks) -> state (a NamedTuple with
    #   `params` and `update`, () int32 updates done)
    update: Callable[[Any, Any], tuple[Any, Metrics]]  # (state, tasks) -> (state, metrics)
    act: Callable  # (params, key, obs (*obs_shape), memory, greedy) -> (action (), memory)
    num_updates: int  # updates that spend `config.total_steps`
    steps_per_update: int  # simulated env steps per update
    network: Any = None  # the flax module, when the learner has one the house may inspect
    #   (reset_dormant reads its hidden units); None: interventions that need it do nothing
    memory: Any = None  # the policy's memory at an episode's start (None: feed-forward)
    keep: tuple[str, ...] = ()  # fields of `state` besides `params` that a career carries
    #   from job to job (the apprentice's reservoir); the rest starts afresh at each job


class TrainOutput(NamedTuple):
    params: Any
    metrics: Metrics  # each (num_updates,)
    state: TrainState


def sample_act(network) -> Callable:
    """`act` of an actor-critic network: sample from (or argmax) its logits; no memory."""

    def act(params, key, obs, memory, greedy: bool = False):
        logits, _ = network.apply(params, obs[None])
        action = jnp.argmax(logits[0]) if greedy else jax.random.categorical(key, logits[0])
        return action, memory

    return act


def run_updates(learner: Learner, state, tasks, num: int):
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


def check_learner(learner: object, name: str) -> Learner:
    """The factory's result, or a one-line ValueError naming the factory and the fault."""
    if not isinstance(learner, Learner):
        raise ValueError(f"learner factory {name} returned {type(learner).__name__}, not a "
                         "trainee.learners.Learner (see docs/learners.md)")
    for field in ("init", "update", "act"):
        if not callable(getattr(learner, field)):
            raise ValueError(f"learner factory {name}: Learner.{field} is not callable")
    for field in ("num_updates", "steps_per_update"):
        value = getattr(learner, field)
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"learner factory {name}: Learner.{field} must be an int >= 1 "
                             f"(got {value!r})")
    return learner


def num_updates_for(config, steps_per_update: int) -> int:
    """Updates that fit in `config.total_steps`; a one-line error if not even one does."""
    updates = config.total_steps // steps_per_update
    if updates < 1:
        raise ValueError(f"total_steps={config.total_steps} is less than one update "
                         f"({steps_per_update} steps); raise --total-steps")
    return updates


def actor_critic_learner(config, world, env, update: Callable, steps_per_update: int,
                         init_carry: Callable | None) -> Learner:
    """The Learner of an actor-critic network (`networks.network_for`) trained by
    `update(env, network, optimizer, config, state, tasks)`; `init_carry(env, key, tasks)`
    is its carry between updates (None: no carry). Shared by `ppo` and `pg`."""
    # the network reads static fields only; `network_for` validates, so it gets the
    # static config (its traced fields may be tracers here)
    network = network_for(config.static(), world)
    num_updates = num_updates_for(config, steps_per_update)
    optimizer = make_optimizer(config, num_updates)

    def init(key: jax.Array, tasks) -> TrainState:
        key, key_params, key_env = jax.random.split(key, 3)
        params = init_params(network, key_params, world.observation_space.shape)
        carry = init_carry(env, key_env, tasks) if init_carry is not None else None
        return TrainState(params, optimizer.init(params), carry, key, jnp.zeros(()),
                          jnp.zeros((), jnp.int32))

    return Learner(init, partial(update, env, network, optimizer, config), sample_act(network),
                   num_updates, steps_per_update, network)
