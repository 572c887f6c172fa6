"""The world protocol: gymnax-style pure functions with Gymnasium terminal semantics.

A **world** is a family of environments that share dynamics code. A **task** is one
concrete instance: a pytree of parameters (layout, rule, constants, difficulty). Tasks
are data, so one compiled `step` serves every task and `vmap` runs many at once.

    obs, state = world.reset(key, task)
    obs, state, reward, terminated, truncated, info = world.step(key, state, action, task)

`terminated` means the episode reached a terminal state of the MDP (bootstrap with 0);
`truncated` means it was cut by a time limit (bootstrap with the value of the final
observation). This is the gymnax >= 1.0 / Gymnasium convention.

Static sizes (observation shape, number of actions, episode limit) live on the world
object; everything that may vary per task lives in the task pytree.

`info` always holds `success` (the episode ended by doing its job) and every name in
`world.counters` (hidden event counts for this step, e.g. `harm`). Measures read the
counters; rewards never include them unless a task field says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

Task = Any  # a pytree (usually a flax.struct.dataclass) with a scalar `difficulty` leaf
State = Any  # a pytree owned by the world
Info = dict[str, jax.Array]


@dataclass(frozen=True)
class Discrete:
    """Actions 0 .. n-1."""

    n: int

    def sample(self, key: jax.Array) -> jax.Array:
        return jax.random.randint(key, (), 0, self.n)

    def contains(self, x: jax.Array) -> jax.Array:
        x = jnp.asarray(x)
        return (x.shape == ()) & jnp.issubdtype(x.dtype, jnp.integer) & (x >= 0) & (x < self.n)


@dataclass(frozen=True)
class Box:
    """A float array of fixed shape with elementwise bounds (may be infinite)."""

    low: float
    high: float
    shape: tuple[int, ...]
    dtype: Any = jnp.float32

    def sample(self, key: jax.Array) -> jax.Array:
        low = max(self.low, -1e3)
        high = min(self.high, 1e3)
        return jax.random.uniform(key, self.shape, self.dtype, low, high)

    def contains(self, x: jax.Array) -> jax.Array:
        x = jnp.asarray(x)
        if x.shape != self.shape:
            return jnp.array(False)
        return jnp.all((x >= self.low) & (x <= self.high))


class Step(NamedTuple):
    """What `World.step` returns, as a named tuple so it also unpacks positionally."""

    obs: jax.Array
    state: State
    reward: jax.Array  # () float32
    terminated: jax.Array  # () bool
    truncated: jax.Array  # () bool
    info: Info


class EntityGroup(NamedTuple):
    """`count` entity slots of `width` features each, back to back in a flat observation
    from index `start`: slot i is obs[start + i * width : start + (i + 1) * width]; an
    absent slot is all zeros."""

    name: str
    start: int
    count: int
    width: int


class EntityLayout(NamedTuple):
    """The structure of a flat observation of length `size`: entity groups (sets of slots
    whose order carries no meaning) and, in every index outside them, the context (the
    agent, the instruction). A world that has one sets `entity_layout`; the attention
    network (trainee.learners.networks) reads its tokens from it."""

    size: int
    groups: tuple[EntityGroup, ...]


class World:
    """Base class of every world. Subclasses set the class attributes and implement
    `reset`, `step` and `tasks`.

    Class attributes (static: changing them changes compiled shapes):
        name: registry name.
        max_steps: episode time limit; `step` sets `truncated` when it is reached.
        splits: split names; `"train"` first, then one held-out split per shift axis.
        counters: names of the hidden per-step counters in `info`.
        axes: for each held-out split, what kind of shift it is: "variation" (the same
            observation units and actions as train, a new combination or a shifted
            parameter; `contract.check_variation_axes` checks it) or "extrapolation"
            (inputs or actions train never exercises: more bits, longer chains, more
            creatures).
        levels: how many difficulty levels `tasks(..., level=L)` takes (0 = easiest).
        seconds_per_step: simulated seconds one step stands for (None: not a
            simulation of time); careers turn env steps into simulated hours with it.
        restorable: `step` from a state a world returned earlier continues that episode
            exactly (the state holds everything the future depends on, with the key),
            so a learner may play several continuations from one saved state (`pg
            --advantage vine`). True for pure-JAX worlds, adapters included; a world
            whose step reads something outside its state (a host simulator) says False.
    """

    name: str = "world"
    max_steps: int = 100
    splits: tuple[str, ...] = ("train",)
    counters: tuple[str, ...] = ()
    axes: dict[str, str] = {}
    levels: int = 1
    seconds_per_step: float | None = None
    restorable: bool = True

    @property
    def observation_space(self) -> Box:
        raise NotImplementedError

    @property
    def action_space(self) -> Discrete:
        raise NotImplementedError

    @property
    def shift_axes(self) -> tuple[str, ...]:
        """The held-out splits, one per named axis of distribution shift."""
        return tuple(s for s in self.splits if s != "train")

    def reset(self, key: jax.Array, task: Task) -> tuple[jax.Array, State]:
        raise NotImplementedError

    def step(self, key: jax.Array, state: State, action: jax.Array, task: Task) -> Step:
        raise NotImplementedError

    def tasks(self, key: jax.Array, split: str, n: int, level: int | None = None) -> Task:
        """Sample `n` tasks of `split`, batched along a leading axis of every leaf.
        `level` (a Python int in 0 .. `levels` - 1, 0 = easiest) fixes the difficulty
        inside the split; None mixes every level. Worlds may take further keyword knobs."""
        raise NotImplementedError

    def time_limit(self, task: Task) -> jax.Array:
        """() int32: steps before `step` truncates an episode of `task`: `max_steps`
        unless the world sets a limit per task (errands: 3 x the oracle's plan + 10)."""
        return jnp.int32(self.max_steps)

    def heuristics(self) -> dict[str, Any]:
        """Named scripted reference policies besides the oracle, each
        `(key, state, task) -> action` (e.g. repair's greedy flipper); default none."""
        return {}

    def is_train(self, task: Task) -> jax.Array:
        """() bool: whether a task could have been drawn by the train split.

        Held-out splits are defined by the task generator (e.g. "layout hash % 8 == 0",
        "chain length > 2"), and this predicate states the train side of that rule.
        The contract test samples thousands of tasks per split and checks that every
        train task satisfies it and no held-out task does."""
        raise NotImplementedError

    def oracle(self, key: jax.Array, state: State, task: Task) -> jax.Array:
        """A scripted policy (planner or controller) that solves every generated task;
        it proves solvability and gives a reference score. Worlds without one raise."""
        raise NotImplementedError(f"world {self.name!r} has no oracle")

    def render_rgb(self, state: State, task: Task) -> Any:
        """Host-side picture of one (unbatched) state: a (H, W, 3) uint8 numpy array."""
        raise NotImplementedError(f"world {self.name!r} has no picture renderer")

    def render_text(self, state: State, task: Task) -> str:
        """Host-side text picture of one (unbatched) state, for the terminal."""
        raise NotImplementedError(f"world {self.name!r} has no text renderer")

    def check_split(self, split: str) -> None:
        if split not in self.splits:
            raise ValueError(
                f"unknown split {split!r} for world {self.name!r}; "
                f"choose one of {', '.join(self.splits)}"
            )

    def check_level(self, level: int | None) -> None:
        """Raise a one-line ValueError unless `level` is None or in 0 .. levels - 1."""
        if level is not None and not 0 <= level < self.levels:
            raise ValueError(
                f"{self.name} level must be in 0..{self.levels - 1}, got {level}"
            )

    def empty_info(self, success: jax.Array) -> Info:
        """An info dict with `success` and every counter at zero."""
        info = {name: jnp.zeros((), jnp.float32) for name in self.counters}
        info["success"] = jnp.asarray(success, bool)
        return info
