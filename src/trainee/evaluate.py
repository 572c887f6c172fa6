"""Evaluation: play episodes of a policy on a set of tasks and keep per-episode records.

Everything downstream (measures, studies, the exam) reads `Records`. A policy is any
function `policy(key, obs, state, task) -> action`: an agent's network, a world's
oracle (`oracle_policy`), or a random one (`random_policy`); a policy with memory (a
recurrent learner's) is a `Recurrent(step, memory)`.

`make_evaluator` is the one evaluator of trained parameters that every caller uses
(train, careers, fleets, studies, `trainee eval`): jitted, vmapped over seeds (one seed
unvmapped), and paired: every seed meets the same tasks with the same episode keys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from trainee.learners.learner import vmap_seeds
from trainee.runtime.compiles import named
from trainee.worlds.base import Task, World

Policy = Callable[[jax.Array, jax.Array, object, Task], jax.Array]


class Recurrent(NamedTuple):
    """A policy with memory: `step(key, obs, state, task, memory) -> (action, memory)`,
    `memory` its value at every episode's start."""

    step: Callable
    memory: Any


class Trace(NamedTuple):
    """One episode, step by step, padded to `world.max_steps`. Shapes are (T,)."""

    reward: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    success: jax.Array
    valid: jax.Array  # the step happened (the episode had not ended before it)
    counters: dict[str, jax.Array]


class Records(NamedTuple):
    """Per-task, per-episode results. Shapes are (num_tasks, episodes) unless noted."""

    success: jax.Array  # bool
    episode_return: jax.Array  # float32
    length: jax.Array  # int32, steps taken
    counters: dict[str, jax.Array]  # hidden counters summed over the episode
    difficulty: jax.Array  # (num_tasks,)

    def to_numpy(self) -> Records:
        return jax.tree.map(np.asarray, self)


def random_policy(world: World) -> Policy:
    return lambda key, obs, state, task: world.action_space.sample(key)


def oracle_policy(world: World) -> Policy:
    return lambda key, obs, state, task: world.oracle(key, state, task)


def agent_policy(act: Callable, params, memory=None, greedy: bool = False) -> Policy | Recurrent:
    """The policy of a learner's `act` with parameters `params` (see Learner.act)."""
    if memory is None:
        return lambda key, obs, state, task: act(params, key, obs, None, greedy)[0]
    return Recurrent(lambda key, obs, state, task, m: act(params, key, obs, m, greedy), memory)


def play_episode(world: World, policy: Policy | Recurrent, key: jax.Array, task: Task) -> Trace:
    """One episode from reset until it terminates or is truncated; steps after the end
    are padding with `valid` False (the world is not stepped meaningfully there)."""
    key_reset, key_steps = jax.random.split(key)
    obs, state = world.reset(key_reset, task)
    if not isinstance(policy, Recurrent):
        policy = Recurrent(lambda key, obs, state, task, m, p=policy: (p(key, obs, state, task), m),
                           ())

    def one_step(carry, key):
        obs, state, done, memory = carry
        key_policy, key_world = jax.random.split(key)
        action, memory = policy.step(key_policy, obs, state, task, memory)
        out = world.step(key_world, state, action, task)
        valid = ~done
        mask = lambda x: jnp.where(valid, x, jnp.zeros_like(x))
        trace = Trace(
            reward=mask(out.reward),
            terminated=mask(out.terminated),
            truncated=mask(out.truncated),
            success=mask(out.info["success"]),
            valid=valid,
            counters={name: mask(out.info[name]) for name in world.counters},
        )
        done = done | out.terminated | out.truncated
        return (out.obs, out.state, done, memory), trace

    keys = jax.random.split(key_steps, world.max_steps)
    _, trace = jax.lax.scan(one_step, (obs, state, jnp.array(False), policy.memory), keys)
    return trace


def summarize(trace: Trace) -> dict[str, jax.Array]:
    """Reduce a trace (any leading batch axes, time last) to episode numbers."""
    return {
        "success": jnp.any(trace.success, axis=-1),
        "episode_return": jnp.sum(trace.reward, axis=-1),
        "length": jnp.sum(trace.valid, axis=-1).astype(jnp.int32),
        "counters": {k: jnp.sum(v, axis=-1) for k, v in trace.counters.items()},
    }


def evaluate(world: World, policy: Policy | Recurrent, key: jax.Array, tasks: Task,
             episodes: int) -> Records:
    """Play `episodes` episodes on every task of the batch `tasks` (all vmapped)."""
    num_tasks = jax.tree.leaves(tasks)[0].shape[0]
    keys = jax.random.split(key, (num_tasks, episodes))
    one = lambda key, task: play_episode(world, policy, key, task)
    traces = jax.vmap(jax.vmap(one, in_axes=(0, None)))(keys, tasks)  # (num_tasks, episodes, T)
    return Records(difficulty=tasks.difficulty, **summarize(traces))


# The exam's form: one policy, compiled once per (world, policy, episodes).
evaluate_policy = jax.jit(evaluate, static_argnums=(0, 1, 4))


def make_evaluator(world: World, act: Callable, episodes: int, memory=None,
                   greedy: bool = False, in_axes: tuple = (0, None, None),
                   name: str = "evaluate") -> Callable:
    """`evaluator(params, key, tasks) -> Records`, jitted. With the default `in_axes`,
    `params` is seed-stacked (S, ...), and every seed plays the same tasks with the same
    episode keys (paired): Records (S, tasks, episodes). Other `in_axes` map other
    arguments (a fleet: one agent on N jobs, `(None, 0, 0)`, each job its own key).
    `name`: the compiled program's name (in compile logs)."""

    def one(params, key, tasks):
        return evaluate(world, agent_policy(act, params, memory, greedy), key, tasks, episodes)

    return jax.jit(named(vmap_seeds(one, in_axes), name))
