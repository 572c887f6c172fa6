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


def reservoir_merge(stacked: Reservoir, key: jax.Array) -> Reservoir:
    """N reservoirs of disjoint streams (a leading axis N on every leaf) -> one uniform
    sample of the union of their streams, of the same size K, having seen the sum of their
    offers. How many of the K slots each instance fills is a multivariate hypergeometric
    draw (K draws without replacement from an urn of seen_i balls per instance); those are
    a uniform subset of its kept tasks (a uniform subset of a uniform sample of a stream is
    a uniform sample of it), so the merge is exact. Not wired into the fleet
    (docs/apprentice.md, "Merging reservoirs")."""
    seen = stacked.seen  # (N,)
    size = jax.tree.leaves(stacked.tasks)[0].shape[1]
    key_count, key_order = jax.random.split(key)

    def draw(i, carry):  # one ball without replacement
        left, counts = carry
        pick = jax.random.categorical(jax.random.fold_in(key_count, i),
                                      jnp.log(left.astype(jnp.float32)))
        took = (left.sum() > 0).astype(jnp.int32)
        return left.at[pick].add(-took), counts.at[pick].add(took)

    _, counts = jax.lax.fori_loop(0, size, draw, (seen, jnp.zeros_like(seen)))
    kept = jnp.minimum(seen, size)  # (N,) used rows of each reservoir
    scores = jax.random.uniform(key_order, (seen.shape[0], size))
    order = jnp.argsort(jnp.where(jnp.arange(size) < kept[:, None], scores, 2.0), axis=1)
    ends = jnp.cumsum(counts)  # instance i fills merged slots [ends[i] - counts[i], ends[i])
    slot = jnp.arange(size)
    owner = jnp.minimum(jnp.searchsorted(ends, slot, side="right"), seen.shape[0] - 1)
    row = order[owner, jnp.clip(slot - (ends - counts)[owner], 0, size - 1)]
    return Reservoir(jax.tree.map(lambda x: x[owner, row], stacked.tasks), seen.sum())


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
