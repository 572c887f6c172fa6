"""Rehearsal from a reservoir of tasks, the apprentice's memory of the jobs it has met
(`trainee.learners.apprentice`; docs/apprentice.md).

`Reservoir` keeps a uniform sample of every task offered to it (Vitter's Algorithm R,
1985: after n offers each is kept with probability K/n, so earlier jobs keep their share
however long the career); `Rehearse` wraps a world so that a fraction of its resets play
a kept task instead of one of the pool it is given.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from flax import struct

from trainee.worlds.base import Step, World
from trainee.worlds.wrappers import Wrapper, pool_size, task_at


class Reservoir(NamedTuple):
    tasks: Any  # (K, ...) kept tasks; rows at and after min(seen, K) are unused
    seen: jax.Array  # () int32: tasks offered so far


def reservoir_init(tasks, size: int) -> Reservoir:
    """An empty reservoir of `size` tasks shaped like one task of the pool `tasks`."""
    rows = jax.tree.map(lambda x: jnp.zeros((size, *x.shape[1:]), x.dtype), tasks)
    return Reservoir(rows, jnp.zeros((), jnp.int32))


def reservoir_add(reservoir: Reservoir, key: jax.Array, offered) -> Reservoir:
    """Offer the tasks of `offered` (leading axis m) one by one to Algorithm R: offer
    number n fills slot n-1 while the reservoir is not full, else replaces a uniform slot
    with probability K/n (it draws j in [0, n) and keeps the task if j < K)."""
    size = pool_size(reservoir.tasks)
    keys = jax.random.split(key, pool_size(offered))

    def offer(i, res: Reservoir) -> Reservoir:
        n = res.seen + 1
        j = jax.random.randint(keys[i], (), 0, n)
        slot = jnp.where(n <= size, n - 1, j)
        keep = slot < size
        slot = jnp.minimum(slot, size - 1)
        tasks = jax.tree.map(lambda r, o: r.at[slot].set(jnp.where(keep, o[i], r[slot])),
                             res.tasks, offered)
        return Reservoir(tasks, n)

    return jax.lax.fori_loop(0, pool_size(offered), offer, reservoir)


class Sources(NamedTuple):
    """The `task` argument of a `Rehearse` world: the pool it is given and its reservoir."""

    pool: Any
    reservoir: Reservoir


@struct.dataclass
class Pinned:
    inner: Any  # the world's state
    task: Any  # the task this episode plays (pinned: a reservoir may change meanwhile)
    rehearsed: jax.Array  # () bool: the task came from the reservoir


class Rehearse(Wrapper):
    """Every reset draws a task from the reservoir with probability `fraction` (once it
    holds any), else uniformly from the pool; the episode keeps its task in its state.
    `info["rehearsed"]` says which episodes replay a kept task."""

    def __init__(self, world: World, fraction: float):
        super().__init__(world)
        self.fraction = fraction

    def reset(self, key: jax.Array, sources: Sources):
        key_new, key_old, key_coin, key_reset = jax.random.split(key, 4)
        pool, res = sources
        new = task_at(pool, jax.random.randint(key_new, (), 0, pool_size(pool)))
        filled = jnp.minimum(res.seen, pool_size(res.tasks))
        old = task_at(res.tasks, jax.random.randint(key_old, (), 0, jnp.maximum(filled, 1)))
        rehearsed = (jax.random.uniform(key_coin) < self.fraction) & (filled > 0)
        task = jax.tree.map(lambda a, b: jnp.where(rehearsed, a, b), old, new)
        obs, inner = self.world.reset(key_reset, task)
        return obs, Pinned(inner, task, rehearsed)

    def step(self, key: jax.Array, state: Pinned, action: jax.Array, sources: Sources) -> Step:
        out = self.world.step(key, state.inner, action, state.task)
        return out._replace(state=Pinned(out.state, state.task, state.rehearsed),
                            info=dict(out.info, rehearsed=state.rehearsed))
