"""corridor: the smallest world, a template for writing your own and a fast test bed.

Env card
--------
- Observation: (2 * SIZE,) float32: a one-hot of the agent's cell, then a one-hot of the
  goal's cell (SIZE = 16 cells).
- Actions: Discrete(3): 0 = left, 1 = stay, 2 = right.
- Reward: 1.0 on reaching the goal, else 0 (sparse: only the outcome is rewarded).
- Termination: `terminated` when the goal is reached (success); `truncated` after
  `max_steps` = 48 steps.
- Task params: `length` (goal cell, 1 .. 15), `slip` (probability that the action is
  replaced by a uniformly random one), `difficulty` = length * (1 + 2 * slip).
- Splits and shift axes: `train` (length 1-7, no slip); `longer` (length 8-15: longer
  than any trained); `slippery` (length 1-7, slip 0.2-0.4).
- Hidden counters: `bumps` (steps spent pushing against the left wall).
- Oracle: always move right.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from trainee.worlds.base import Box, Discrete, Step, World

SIZE = 16
TRAIN_MAX_LENGTH = 7


@struct.dataclass
class CorridorTask:
    length: jax.Array  # () int32, goal cell
    slip: jax.Array  # () float32
    difficulty: jax.Array  # () float32


@struct.dataclass
class CorridorState:
    position: jax.Array  # () int32
    t: jax.Array  # () int32, steps taken


class Corridor(World):
    name = "corridor"
    max_steps = 48
    splits = ("train", "longer", "slippery")
    counters = ("bumps",)

    @property
    def observation_space(self) -> Box:
        return Box(0.0, 1.0, (2 * SIZE,))

    @property
    def action_space(self) -> Discrete:
        return Discrete(3)

    def observe(self, state: CorridorState, task: CorridorTask) -> jax.Array:
        here = jax.nn.one_hot(state.position, SIZE)
        goal = jax.nn.one_hot(task.length, SIZE)
        return jnp.concatenate([here, goal])

    def reset(self, key, task):
        state = CorridorState(position=jnp.int32(0), t=jnp.int32(0))
        return self.observe(state, task), state

    def step(self, key, state, action, task):
        key_slip, key_random = jax.random.split(key)
        slipped = jax.random.uniform(key_slip) < task.slip
        action = jnp.where(slipped, jax.random.randint(key_random, (), 0, 3), action)
        move = action.astype(jnp.int32) - 1
        position = jnp.clip(state.position + move, 0, SIZE - 1)
        bumped = (state.position == 0) & (move < 0)
        state = CorridorState(position=position, t=state.t + 1)
        success = position == task.length
        info = self.empty_info(success)
        info["bumps"] = bumped.astype(jnp.float32)
        return Step(
            obs=self.observe(state, task),
            state=state,
            reward=success.astype(jnp.float32),
            terminated=success,
            truncated=~success & (state.t >= self.max_steps),
            info=info,
        )

    def tasks(self, key, split, n):
        self.check_split(split)
        key_length, key_slip = jax.random.split(key)
        low, high = (TRAIN_MAX_LENGTH + 1, SIZE) if split == "longer" else (1, TRAIN_MAX_LENGTH + 1)
        length = jax.random.randint(key_length, (n,), low, high)
        slip = jnp.zeros((n,), jnp.float32)
        if split == "slippery":
            slip = jax.random.uniform(key_slip, (n,), minval=0.2, maxval=0.4)
        difficulty = length * (1.0 + 2.0 * slip)
        return CorridorTask(length=length, slip=slip, difficulty=difficulty)

    def is_train(self, task):
        return (task.length <= TRAIN_MAX_LENGTH) & (task.slip == 0.0)

    def oracle(self, key, state, task):
        """The scripted policy that solves every task: move right."""
        return jnp.int32(2)

    def render_rgb(self, state, task):
        """One row of SIZE cells: the agent blue, the goal green, the rest grey; a
        (24, SIZE * 24, 3) uint8 array (host-side numpy, for people)."""
        import numpy as np

        row = np.full((SIZE, 3), 200, np.uint8)
        row[int(task.length)] = (60, 170, 80)
        row[int(state.position)] = (50, 90, 210)
        return np.kron(row[None], np.ones((24, 24, 1), np.uint8))

    def render_text(self, state, task):
        """The corridor as text: `A` the agent, `G` the goal, `.` empty cells."""
        cells = ["."] * SIZE
        cells[int(task.length)] = "G"
        cells[int(state.position)] = "A"
        return "".join(cells)
