"""errands, part 2: the scripted oracle (a breadth-first planner, jittable).

Each step it builds a distance field to the current target by iterative relaxation
(Bellman-Ford on the 4-neighbour grid: `SWEEPS` rounds of "one more than the best
neighbour"), then steps to the neighbour closest to the target. Targets, in order:
the current sub-goal's object / door / goal tile; the door key when the door is locked
and stands in the way. Non-target objects and creatures count as walls, so the oracle
never swaps the wrong object and never harms; if that seals every path (objects in a
row across a room) it plans through objects instead.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from trainee.worlds.errands_core import (
    DELIVER,
    FLOOR,
    OPEN,
    STAY,
    ErrandsState,
    neighbour,
)
from trainee.worlds.errands_tasks import CELLS, MAX_CHAIN, SIZE, ErrandsTask, side_of, wall_at

FAR = CELLS + 1  # "unreachable"
# The longest shortest path in a two-room 9 x 9 layout is under 40 steps; 48 sweeps
# leave a margin (relaxation converges after as many sweeps as the longest path).
SWEEPS = 48


def distance_field(passable: jax.Array, target: jax.Array) -> jax.Array:
    """(CELLS,) int32 steps to `target` through passable cells (FAR if none). The target
    itself counts as reached even if not passable (an object to bump, a door)."""
    start = jnp.where(jnp.arange(CELLS) == target, 0, FAR).reshape(SIZE, SIZE)
    open_cells = passable.reshape(SIZE, SIZE)

    def sweep(_, d):
        padded = jnp.pad(d, 1, constant_values=FAR)
        best = jnp.minimum(
            jnp.minimum(padded[:-2, 1:-1], padded[2:, 1:-1]),
            jnp.minimum(padded[1:-1, :-2], padded[1:-1, 2:]),
        )
        return jnp.where(open_cells, jnp.minimum(d, best + 1), d)

    return jax.lax.fori_loop(0, SWEEPS, sweep, start).reshape(CELLS)


def _passable(state: ErrandsState, task: ErrandsTask):
    """(strict, loose) passable masks: strict treats floor objects as walls."""
    cells = jnp.arange(CELLS)
    closed = (cells == task.door) & ~state.door_open
    door_ok = ~task.locked | (state.carried == 0)
    creatures = jnp.any((state.creature_cell[:, None] == cells) & task.creature_present[:, None], 0)
    loose = ~wall_at(cells, task) & ~creatures & ~(closed & ~door_ok)
    on_floor = (state.object_cell[:, None] == cells) & (state.object_status == FLOOR)[:, None]
    return loose & ~jnp.any(on_floor, 0), loose


def _target(state: ErrandsState, task: ErrandsTask) -> jax.Array:
    """The cell to go to (or bump) now. A locked door in the way comes first: fetch its
    key, then bump the door while holding it (the door then stays open, so the key can
    be swapped away for the errand's object)."""
    index = jnp.minimum(state.progress, MAX_CHAIN - 1)
    verb, obj = task.chain_verb[index], task.chain_object[index]
    goal = task.goal_cell[task.chain_goal[index]]
    primary = jnp.where(verb == OPEN, task.door, state.object_cell[obj])
    primary = jnp.where((verb == DELIVER) & (state.carried == obj), goal, primary)
    here = side_of(state.agent, task)
    crossing = (side_of(primary, task) != here) | (
        (verb == DELIVER) & (side_of(goal, task) != here)
    )
    blocked = task.locked & ~state.door_open & ((verb == OPEN) | crossing)
    door_step = jnp.where(state.carried == 0, task.door, state.object_cell[0])
    return jnp.where(blocked, door_step, primary)


def act(state: ErrandsState, task: ErrandsTask) -> jax.Array:
    """() int32 action: the step down the distance field, or stay when blocked."""
    strict, loose = _passable(state, task)
    target = _target(state, task)
    d = distance_field(strict, target)
    d = jnp.where(d[state.agent] >= FAR, distance_field(loose, target), d)
    directions = jnp.arange(4)
    cells, inside = neighbour(state.agent, directions)
    creature = jnp.any((cells[:, None] == state.creature_cell) & task.creature_present, axis=1)
    step_d = jnp.where(inside & ~creature, d[cells], FAR)
    best = jnp.argmin(step_d)
    return jnp.where(step_d[best] < d[state.agent], best, STAY).astype(jnp.int32)
