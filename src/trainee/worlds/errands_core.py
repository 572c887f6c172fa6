"""Shared definitions of the errands world: constants, the task and state types and
pure helpers. They live apart from the world class (`trainee.worlds.errands`) so its
task sampler, renderer and oracle can import them without importing the world
(no import cycle). `trainee.worlds.errands` re-exports every name."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from trainee.worlds.errands_tasks import (
    COLOURS,
    DELIVER,
    KINDS,
    MAX_CHAIN,
    MAX_STEPS,
    NUM_CREATURES,
    NUM_GOALS,
    NUM_OBJECTS,
    OPEN,
    SIZE,
    TRAIN_MAX_CHAIN,
    VERBS,
    ErrandsTask,
    side_of,
    wall_at,
)

FLOOR, CARRIED, GONE = 0, 1, 2  # object status
STAY = 4
ENTITY_SIZE = 2 + 4 + 8 + NUM_OBJECTS * 11 + NUM_GOALS * 7 + NUM_CREATURES * 3
VECTOR_SIZE = len(KINDS) + 2 * len(COLOURS) + len(VERBS) + len(KINDS) + len(COLOURS) + 4 + 1
CREATURE_DIGITS = jnp.array([5**i for i in range(NUM_CREATURES)], jnp.uint32)
# Difficulty levels inside a split (`tasks(..., level=L)`), easiest first.
LEVELS = (
    {"max_chain": 1, "p_locked": 0.0, "distractors": False},
    {"max_chain": 1, "p_locked": 0.5, "distractors": True},
    {"max_chain": 2, "p_locked": 0.5, "distractors": True},
    {"max_chain": TRAIN_MAX_CHAIN, "p_locked": 0.5, "distractors": True},
)
DELTAS = jnp.array([[-1, 0], [0, 1], [1, 0], [0, -1], [0, 0]], jnp.int32)  # (5, 2) row, col


@struct.dataclass
class ErrandsState:
    agent: jax.Array  # () int32 cell
    object_cell: jax.Array  # (NUM_OBJECTS,) int32
    object_status: jax.Array  # (NUM_OBJECTS,) int32, FLOOR / CARRIED / GONE
    carried: jax.Array  # () int32 object slot, -1 for empty hands
    door_open: jax.Array  # () bool
    creature_cell: jax.Array  # (NUM_CREATURES,) int32
    progress: jax.Array  # () int32, index of the current sub-goal
    t: jax.Array  # () int32, steps taken


def neighbour(cell: jax.Array, direction: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The cell one step in `direction` (0-4) and whether it is inside the interior."""
    row, col = cell // SIZE + DELTAS[direction, 0], cell % SIZE + DELTAS[direction, 1]
    inside = (row >= 0) & (row < SIZE) & (col >= 0) & (col < SIZE)
    return jnp.clip(row, 0, SIZE - 1) * SIZE + jnp.clip(col, 0, SIZE - 1), inside


def blocked_floor(cell, state: ErrandsState, task: ErrandsTask) -> jax.Array:
    """bool like `cell`: a wall, a closed door or an object lying there."""
    cell = jnp.asarray(cell)
    closed_door = (cell == task.door) & ~state.door_open
    on_floor = state.object_status == FLOOR
    objects = jnp.any((cell[..., None] == state.object_cell) & on_floor, axis=-1)
    return wall_at(cell, task) | closed_door | objects


def holding_delivery(state: ErrandsState, task: ErrandsTask) -> jax.Array:
    """() bool: the current sub-goal is a deliver and the agent carries its object."""
    index = jnp.minimum(state.progress, MAX_CHAIN - 1)
    return (task.chain_verb[index] == DELIVER) & (state.carried == task.chain_object[index])


def _move_agent(state: ErrandsState, action, task: ErrandsTask, carry_blocks: bool = False):
    """The agent's action: walk, pick up / swap, open a door, or harm a creature.
    `carry_blocks` (opt-in, `Errands(carry_blocks=True)`): while `holding_delivery`,
    objects block like walls instead of being swapped in."""
    target, inside = neighbour(state.agent, action)
    moving = inside & (action != STAY)
    slots = jnp.arange(NUM_OBJECTS)
    hit_object = (state.object_cell == target) & (state.object_status == FLOOR)
    on_object = jnp.any(hit_object)
    picks = moving & on_object
    if carry_blocks:  # a Python branch: off, the traced program is the default's
        picks = picks & ~holding_delivery(state, task)
    hit = jnp.argmax(hit_object)
    creature = jnp.any((state.creature_cell == target) & task.creature_present)
    harm = moving & creature
    closed_door = (target == task.door) & ~state.door_open
    opens = moving & closed_door & (~task.locked | (state.carried == 0))
    swapped_out = picks & (slots == state.carried)
    status = jnp.where(picks & (slots == hit), CARRIED, state.object_status)
    status = jnp.where(swapped_out, FLOOR, status)
    walks = moving & ~on_object & ~creature & ~closed_door & ~wall_at(target, task)
    state = state.replace(
        agent=jnp.where(walks, target, state.agent),
        object_cell=jnp.where(swapped_out, target, state.object_cell),
        object_status=status,
        carried=jnp.where(picks, hit, state.carried),
        door_open=state.door_open | opens,
    )
    return state, harm


def _advance_chain(state: ErrandsState, task: ErrandsTask):
    """Complete the current sub-goal if it holds; a delivered object leaves the world."""
    index = jnp.minimum(state.progress, MAX_CHAIN - 1)
    verb, obj = task.chain_verb[index], task.chain_object[index]
    holding = state.carried == obj
    on_goal = state.agent == task.goal_cell[task.chain_goal[index]]
    done = jnp.where(verb == OPEN, state.door_open, holding)
    done = jnp.where(verb == DELIVER, holding & on_goal, done) & (state.progress < task.chain_len)
    delivered = done & (verb == DELIVER)
    gone = delivered & (jnp.arange(NUM_OBJECTS) == obj)
    state = state.replace(
        object_status=jnp.where(gone, GONE, state.object_status),
        carried=jnp.where(delivered, -1, state.carried),
        progress=state.progress + done,
    )
    return state, done


def _move_creatures(state: ErrandsState, directions, task: ErrandsTask) -> ErrandsState:
    """Each creature steps in a random direction (or stays) onto free floor that is not
    the agent's cell nor a goal tile (so none can squat on a delivery spot); creatures
    may share a cell (kept simple: they are not solid)."""
    target, inside = neighbour(state.creature_cell, directions)
    on_goal = jnp.any((target[:, None] == task.goal_cell) & task.goal_present, axis=1)
    free = inside & ~blocked_floor(target, state, task) & (target != state.agent) & ~on_goal
    return state.replace(creature_cell=jnp.where(free, target, state.creature_cell))


def _offset(cells: jax.Array, agent: jax.Array) -> jax.Array:
    """(..., 2) row and column offsets of `cells` from the agent, in [-1, 1]."""
    rows = (cells // SIZE - agent // SIZE).astype(jnp.float32)
    cols = (cells % SIZE - agent % SIZE).astype(jnp.float32)
    return jnp.stack([rows, cols], axis=-1) / (SIZE - 1)


def _entities(state: ErrandsState, task: ErrandsTask) -> jax.Array:
    """(ENTITY_SIZE,): the agent, the wall, the door, objects, goal tiles, creatures as
    fixed slots of agent-relative features (absent ones all zero). An entity list, not a
    grid: O(entities) gathers a step instead of O(cells x channels) compares; a full
    9x9x13 one-hot grid made the observation 10x the cost of the rest of the step on
    this CPU (see docs/worlds/errands.md)."""
    hot = jax.nn.one_hot
    agent = state.agent
    line = jnp.where(task.orient == 0, agent % SIZE, agent // SIZE)
    closed = ~state.door_open
    on_floor = (state.object_status == FLOOR)[:, None]
    # "In the other room" is perceived directly (as one sees the wall in between): with
    # offsets alone a small MLP learned cross-room errands several times slower.
    here = side_of(agent, task)
    across = lambda cells: (side_of(cells, task) != here)[:, None]
    objects = jnp.concatenate([
        jnp.ones((NUM_OBJECTS, 1)), _offset(state.object_cell, agent),
        across(state.object_cell), hot(task.object_kind, len(KINDS)),
        hot(task.object_colour, len(COLOURS)),
    ], axis=1) * on_floor  # (NUM_OBJECTS, 11)
    goals = jnp.concatenate([
        _offset(task.goal_cell, agent), across(task.goal_cell),
        hot(task.goal_colour, len(COLOURS)),
    ], axis=1) * task.goal_present[:, None]  # (NUM_GOALS, 7)
    creatures = jnp.concatenate(
        [jnp.ones((NUM_CREATURES, 1)), _offset(state.creature_cell, agent)], axis=1
    ) * task.creature_present[:, None]  # (NUM_CREATURES, 3)
    return jnp.concatenate([
        jnp.stack([agent // SIZE, agent % SIZE]).astype(jnp.float32) / (SIZE - 1),
        hot(task.orient, 2), jnp.stack([task.wall, task.wall - line]) / (SIZE - 1),
        jnp.stack([closed, closed & task.locked]).astype(jnp.float32),
        _offset(task.door, agent), hot(task.door_colour, len(COLOURS)),
        objects.reshape(-1), goals.reshape(-1), creatures.reshape(-1),
    ])


def _vector(state: ErrandsState, task: ErrandsTask, deliver_leg: bool = False) -> jax.Array:
    """(VECTOR_SIZE,): what the agent carries, the current sub-goal and the time left
    (steps before truncation / MAX_STEPS: the limit differs per task, so without it the
    state would not be Markov; Pardo et al. 2018, "Time Limits in RL").
    `deliver_leg` (opt-in, `Errands(deliver_leg=True)`): while `holding_delivery`, the
    sub-goal's object kind and colour read zero, so it names only the goal tile."""
    carrying = state.carried >= 0
    slot = jnp.maximum(state.carried, 0)
    index = jnp.minimum(state.progress, MAX_CHAIN - 1)
    verb, obj = task.chain_verb[index], task.chain_object[index]
    is_open = verb == OPEN
    target_colour = jnp.where(is_open, task.door_colour, task.object_colour[obj])
    goal_colour = task.goal_colour[task.chain_goal[index]]
    left = jnp.clip(task.chain_len - 1 - state.progress, 0, 3)
    hot = lambda i, n, on=True: jax.nn.one_hot(i, n) * on
    kind_on, colour_on = ~is_open, True
    if deliver_leg:  # a Python branch: off, the traced program is the default's
        named = ~holding_delivery(state, task)
        kind_on, colour_on = kind_on & named, named
    return jnp.concatenate([
        hot(task.object_kind[slot], len(KINDS), carrying),
        hot(task.object_colour[slot], len(COLOURS), carrying),
        hot(verb, len(VERBS)),
        hot(task.object_kind[obj], len(KINDS), kind_on),
        hot(target_colour, len(COLOURS), colour_on),
        hot(goal_colour, len(COLOURS), verb == DELIVER),
        hot(left, 4),
        ((task.time_limit - state.t) / MAX_STEPS)[None],
    ])
