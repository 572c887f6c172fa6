"""Wrappers that keep the world protocol: auto-reset and training on a pool of tasks."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from trainee.worlds.base import State, Step, Task, World


class Wrapper(World):
    """Delegates everything to the wrapped world unless overridden."""

    def __init__(self, world: World):
        self.world = world

    def __getattr__(self, name: str) -> Any:
        return getattr(self.world, name)

    # Class attributes of World would shadow __getattr__, so forward them explicitly.
    @property
    def name(self) -> str:  # type: ignore[override]
        return self.world.name

    @property
    def max_steps(self) -> int:  # type: ignore[override]
        return self.world.max_steps

    @property
    def splits(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.world.splits

    @property
    def counters(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.world.counters

    @property
    def axes(self) -> dict[str, str]:  # type: ignore[override]
        return self.world.axes

    @property
    def levels(self) -> int:  # type: ignore[override]
        return self.world.levels

    @property
    def seconds_per_step(self) -> float | None:  # type: ignore[override]
        return self.world.seconds_per_step

    @property
    def restorable(self) -> bool:  # type: ignore[override]
        return self.world.restorable

    @property
    def observation_space(self):
        return self.world.observation_space

    @property
    def action_space(self):
        return self.world.action_space

    def reset(self, key: jax.Array, task: Task) -> tuple[jax.Array, State]:
        return self.world.reset(key, task)

    def step(self, key: jax.Array, state: State, action: jax.Array, task: Task) -> Step:
        return self.world.step(key, state, action, task)

    def tasks(self, key: jax.Array, split: str, n: int, **options) -> Task:
        return self.world.tasks(key, split, n, **options)

    def heuristics(self) -> dict[str, Any]:
        return self.world.heuristics()

    def time_limit(self, task: Task) -> jax.Array:
        return self.world.time_limit(task)

    def is_train(self, task: Task) -> jax.Array:
        return self.world.is_train(task)


def _select(pred: jax.Array, on_true, on_false):
    """Pick whole pytrees by a scalar predicate without a `lax.cond`: under `vmap` a
    cond becomes a select anyway, so this is what runs either way."""
    return jax.tree.map(lambda a, b: jnp.where(pred, a, b), on_true, on_false)


class AutoReset(Wrapper):
    """Resets the episode inside `step` when it ends, so rollouts can `scan` forever.

    The observation returned on the last step is the first one of the next episode;
    the true last observation is kept in `info["final_obs"]`. A learner needs it to
    bootstrap the value at truncation (Pardo et al. 2018, "Time Limits in RL").

    Both the step and a fresh reset are computed every step (as `lax.cond` would do
    under `vmap`); worlds with a costly reset can reset from a pre-generated pool.
    """

    def step(self, key: jax.Array, state: State, action: jax.Array, task: Task) -> Step:
        key_step, key_reset = jax.random.split(key)
        return self.step_or_reset(key_step, state, action, task,
                                  self.world.reset(key_reset, task))

    def step_or_reset(self, key: jax.Array, state: State, action: jax.Array, task: Task,
                      reset: tuple[jax.Array, State]) -> Step:
        """`step` with the fresh episode's (obs, state) given: `step(key, ...)` is
        `step_or_reset(k1, ..., world.reset(k2, task))` for `k1, k2 = split(key)`. A
        learner can then compute a rollout's resets ahead, all at once (ppo does)."""
        out = self.world.step(key, state, action, task)
        reset_obs, reset_state = reset
        done = out.terminated | out.truncated
        info = dict(out.info, final_obs=out.obs)
        return Step(
            obs=_select(done, reset_obs, out.obs),
            state=_select(done, reset_state, out.state),
            reward=out.reward,
            terminated=out.terminated,
            truncated=out.truncated,
            info=info,
        )


@struct.dataclass
class PoolState:
    inner: Any  # the wrapped world's state
    task_index: jax.Array  # () int32: which task of the pool this episode plays


def pool_size(tasks: Task) -> int:
    """Number of tasks in a batched task pytree (the leading axis of its leaves)."""
    return jax.tree.leaves(tasks)[0].shape[0]


def task_at(tasks: Task, index: jax.Array) -> Task:
    """Task `index` of a batched task pytree."""
    return jax.tree.map(lambda x: x[index], tasks)


class TaskPool(Wrapper):
    """Plays a pool of tasks: every reset draws one task uniformly from the pool.

    The `task` argument of `reset`/`step` is the whole batched pool (shared by all
    envs under `vmap`); the state remembers which task the episode plays. This is
    how learners train on a split: a fresh task each episode, one compiled program.
    `info["task_index"]` says which task each step belongs to.
    """

    def reset(self, key: jax.Array, tasks: Task) -> tuple[jax.Array, PoolState]:
        if pool_size(tasks) == 1:  # a single task (e.g. an external env): no draw needed
            index, key_reset = jnp.int32(0), key
        else:
            key_index, key_reset = jax.random.split(key)
            index = jax.random.randint(key_index, (), 0, pool_size(tasks))
        obs, inner = self.world.reset(key_reset, task_at(tasks, index))
        return obs, PoolState(inner=inner, task_index=index)

    def step(self, key: jax.Array, state: PoolState, action: jax.Array, tasks: Task) -> Step:
        # a pool of one: a static index, which XLA folds away (a dynamic one is a gather
        # per task field per step)
        index = 0 if pool_size(tasks) == 1 else state.task_index
        out = self.world.step(key, state.inner, action, task_at(tasks, index))
        info = dict(out.info, task_index=state.task_index)
        return out._replace(state=PoolState(out.state, state.task_index), info=info)
