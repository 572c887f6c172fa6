"""Relabelled controls: the same world with its actions laid out differently, as when
you move to a car whose pedals and steering are wired to other buttons.

`Relabelled(world)` takes tasks `RelabelledTask(inner, layout, cue)`: the policy's action `a`
is played as `layout[a]` in the inner world. The layout is part of the task (data), so
one compiled program plays every layout, and a career can give each job its own
(`Job.controls`). Layout 0 is the world's own controls; layout k > 0 is a fixed random
permutation of the actions (`layout(k, n)`). A new layout keeps the world's dynamics and
goals but makes the old policy's habits wrong, so the learner must learn again: the
permuted-input/permuted-label probe of plasticity (Dohare et al. 2024, Lyle et al.
2023), applied to actions.

A job may also show a **cue**: `Relabelled(world, cue_size=C)` appends the task's
`cue` (C floats) to every observation, a context the agent can see (which car it sits
in, a "keep left" sign) without being told when the job changes. `cue_size=0` (the
default) leaves the observation as it is.

Everything else is the inner world's: rewards, splits, info, counters.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from trainee.worlds.base import Box, Step, World
from trainee.worlds.wrappers import Wrapper


@struct.dataclass
class RelabelledTask:
    inner: object  # the wrapped world's task
    layout: jax.Array  # (num_actions,) int32: policy action a plays inner action layout[a]
    cue: jax.Array  # (cue_size,) float32, appended to the observation (may be empty)

    @property
    def difficulty(self) -> jax.Array:
        return self.inner.difficulty


def layout(k: int, num_actions: int) -> np.ndarray:
    """Controls layout k: 0 is the identity; k > 0 a fixed random permutation."""
    if k < 0:
        raise ValueError(f"controls layout must be >= 0, got {k}")
    if k == 0:
        return np.arange(num_actions, dtype=np.int32)
    return np.random.default_rng(k).permutation(num_actions).astype(np.int32)


def with_layout(tasks: RelabelledTask, k: int, cue=()) -> RelabelledTask:
    """A batch of tasks, all with controls layout k (and cue `cue`, if given)."""
    n, num_actions = tasks.layout.shape
    tasks = tasks.replace(layout=jnp.broadcast_to(jnp.asarray(layout(k, num_actions)),
                                                  (n, num_actions)))
    if len(cue) == 0:
        return tasks
    if len(cue) != tasks.cue.shape[1]:
        raise ValueError(f"cue {tuple(cue)} has {len(cue)} values; this world shows "
                         f"{tasks.cue.shape[1]}")
    return tasks.replace(cue=jnp.broadcast_to(jnp.asarray(cue, jnp.float32), tasks.cue.shape))


class Relabelled(Wrapper):
    def __init__(self, world: World, cue_size: int = 0):
        super().__init__(world)
        self.cue_size = cue_size

    @property
    def observation_space(self) -> Box:
        space = self.world.observation_space
        if not self.cue_size:
            return space
        low, high = min(space.low, -1.0), max(space.high, 1.0)  # cues lie in [-1, 1]
        return Box(low, high, (space.shape[0] + self.cue_size,), space.dtype)

    def _observe(self, obs: jax.Array, task: RelabelledTask) -> jax.Array:
        return jnp.concatenate([obs, task.cue]) if self.cue_size else obs

    def reset(self, key, task: RelabelledTask):
        obs, state = self.world.reset(key, task.inner)
        return self._observe(obs, task), state

    def step(self, key, state, action, task: RelabelledTask) -> Step:
        step = self.world.step(key, state, task.layout[action], task.inner)
        return step._replace(obs=self._observe(step.obs, task)) if self.cue_size else step

    def tasks(self, key, split: str, n: int, **options) -> RelabelledTask:
        """The inner world's tasks, with the world's own controls (layout 0), cue 0."""
        inner = self.world.tasks(key, split, n, **options)
        num_actions = self.action_space.n
        return RelabelledTask(
            inner,
            jnp.broadcast_to(jnp.arange(num_actions, dtype=jnp.int32), (n, num_actions)),
            jnp.zeros((n, self.cue_size), jnp.float32))

    def is_train(self, task: RelabelledTask) -> jax.Array:
        return self.world.is_train(task.inner)

    def time_limit(self, task: RelabelledTask) -> jax.Array:
        return self.world.time_limit(task.inner)

    def oracle(self, key, state, task: RelabelledTask) -> jax.Array:
        """The inner oracle's action, pressed on the button that plays it."""
        wanted = self.world.oracle(key, state, task.inner)
        return jnp.argmax(task.layout == wanted).astype(jnp.int32)

    def render_rgb(self, state, task: RelabelledTask):
        return self.world.render_rgb(state, task.inner)

    def render_text(self, state, task: RelabelledTask) -> str:
        return self.world.render_text(state, task.inner)


def relabel(world: World, cue_size: int = 0) -> Relabelled:
    return Relabelled(world, cue_size)
