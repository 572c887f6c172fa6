"""Relabelled controls: the same world with its actions laid out differently, as when
you move to a car whose pedals and steering are wired to other buttons.

`Relabelled(world)` takes tasks `RelabelledTask(inner, layout)`: the policy's action `a`
is played as `layout[a]` in the inner world. The layout is part of the task (data), so
one compiled program plays every layout, and a career can give each job its own
(`Job.controls`). Layout 0 is the world's own controls; layout k > 0 is a fixed random
permutation of the actions (`layout(k, n)`). A new layout keeps the world's dynamics and
goals but makes the old policy's habits wrong, so the learner must learn again: the
permuted-input/permuted-label probe of plasticity (Dohare et al. 2024, Lyle et al.
2023), applied to actions.

Everything else is the inner world's: observations, rewards, splits, info, counters.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from trainee.worlds.base import Step, World
from trainee.worlds.wrappers import Wrapper


@struct.dataclass
class RelabelledTask:
    inner: object  # the wrapped world's task
    layout: jax.Array  # (num_actions,) int32: policy action a plays inner action layout[a]

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


def with_layout(tasks: RelabelledTask, k: int) -> RelabelledTask:
    """A batch of tasks, all with controls layout k."""
    n, num_actions = tasks.layout.shape
    return tasks.replace(layout=jnp.broadcast_to(jnp.asarray(layout(k, num_actions)),
                                                 (n, num_actions)))


class Relabelled(Wrapper):
    def reset(self, key, task: RelabelledTask):
        return self.world.reset(key, task.inner)

    def step(self, key, state, action, task: RelabelledTask) -> Step:
        return self.world.step(key, state, task.layout[action], task.inner)

    def tasks(self, key, split: str, n: int, **options) -> RelabelledTask:
        """The inner world's tasks, with the world's own controls (layout 0)."""
        inner = self.world.tasks(key, split, n, **options)
        return RelabelledTask(inner, jnp.broadcast_to(
            jnp.arange(self.action_space.n, dtype=jnp.int32), (n, self.action_space.n)))

    def is_train(self, task: RelabelledTask) -> jax.Array:
        return self.world.is_train(task.inner)

    def oracle(self, key, state, task: RelabelledTask) -> jax.Array:
        """The inner oracle's action, pressed on the button that plays it."""
        wanted = self.world.oracle(key, state, task.inner)
        return jnp.argmax(task.layout == wanted).astype(jnp.int32)

    def render_rgb(self, state, task: RelabelledTask):
        return self.world.render_rgb(state, task.inner)

    def render_text(self, state, task: RelabelledTask) -> str:
        return self.world.render_text(state, task.inner)


def relabel(world: World) -> Relabelled:
    return Relabelled(world)
