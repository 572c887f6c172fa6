"""Several worlds behind one shared interface, so one network reads them all (the
worlds of a mixed-world career).

`embed(worlds)` wraps each world as `Embedded(world, index, interface)`:

- Observation: the world's flat observation, zero-padded at the end to the largest
  observation size among the worlds, then a one-hot of the world's index:
  `(obs_size + num_worlds,)` floats. The one-hot tells the network which world it reads
  (padding alone is ambiguous: a world's observation may end in zeros).
- Actions: `Discrete(num_actions)`, the largest action count among the worlds. In a world
  with `n` actions, action `a` is played as `a % n`, so every output of the policy is a
  legal action everywhere (several outputs alias one action in the smaller worlds; a
  uniform policy over the shared actions is not uniform over a world's own actions
  unless `n` divides `num_actions`). Not every world has a no-op, so out-of-range
  actions are not mapped to one.
- Everything else is the world's own: tasks and their options, splits, `max_steps`,
  rewards, `info` and counters, the oracle (its actions are in range) and rendering.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from trainee.worlds.base import Box, Discrete, State, Step, Task, World
from trainee.worlds.wrappers import Wrapper


@dataclass(frozen=True)
class SharedInterface:
    """The observation and action sizes every embedded world presents."""

    obs_size: int
    """Largest flat observation size (before the one-hot)."""
    num_actions: int
    """Largest action count."""
    num_worlds: int
    """Length of the one-hot of the world's index."""
    low: float
    """Observation lower bound covering every world (and the 0s of padding and one-hot)."""
    high: float
    """Observation upper bound covering every world (and the 1 of the one-hot)."""


def shared_interface(worlds: Sequence[World]) -> SharedInterface:
    """The smallest interface that holds every world's observations and actions."""
    for world in worlds:
        if len(world.observation_space.shape) != 1:
            raise ValueError(f"world {world.name!r} has observations of shape "
                             f"{world.observation_space.shape}; only flat ones can be embedded")
    spaces = [world.observation_space for world in worlds]
    return SharedInterface(
        obs_size=max(space.shape[0] for space in spaces),
        num_actions=max(world.action_space.n for world in worlds),
        num_worlds=len(worlds),
        low=min(0.0, *(space.low for space in spaces)),
        high=max(1.0, *(space.high for space in spaces)),
    )


def embed(worlds: Sequence[World]) -> tuple[Embedded, ...]:
    """Each world embedded in the interface shared by all of them, indexed in order."""
    interface = shared_interface(worlds)
    return tuple(Embedded(world, i, interface) for i, world in enumerate(worlds))


class Embedded(Wrapper):
    """One world presented through a `SharedInterface` (see the module docstring)."""

    def __init__(self, world: World, index: int, interface: SharedInterface):
        super().__init__(world)
        if not 0 <= index < interface.num_worlds:
            raise ValueError(f"world index {index} outside 0 .. {interface.num_worlds - 1}")
        self.index = index
        self.interface = interface

    @property
    def observation_space(self) -> Box:
        size = self.interface.obs_size + self.interface.num_worlds
        return Box(self.interface.low, self.interface.high, (size,))

    @property
    def action_space(self) -> Discrete:
        return Discrete(self.interface.num_actions)

    def embed_obs(self, obs: jax.Array) -> jax.Array:
        """(own obs size,) -> (obs_size + num_worlds,): zero padding, then the one-hot."""
        padding = jnp.zeros(self.interface.obs_size - obs.shape[0], obs.dtype)
        which = jax.nn.one_hot(self.index, self.interface.num_worlds, dtype=obs.dtype)
        return jnp.concatenate([obs, padding, which])

    def own_action(self, action: jax.Array) -> jax.Array:
        """A shared action as one of the world's own: `action % n`."""
        return action % self.world.action_space.n

    def reset(self, key: jax.Array, task: Task) -> tuple[jax.Array, State]:
        obs, state = self.world.reset(key, task)
        return self.embed_obs(obs), state

    def step(self, key: jax.Array, state: State, action: jax.Array, task: Task) -> Step:
        out = self.world.step(key, state, self.own_action(action), task)
        return out._replace(obs=self.embed_obs(out.obs))

    def tasks(self, key: jax.Array, split: str, n: int, **options) -> Task:
        return self.world.tasks(key, split, n, **options)

    def oracle(self, key: jax.Array, state: State, task: Task) -> jax.Array:
        return self.world.oracle(key, state, task)

    def render_rgb(self, state: State, task: Task):
        return self.world.render_rgb(state, task)

    def render_text(self, state: State, task: Task) -> str:
        return self.world.render_text(state, task)
