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


def distance_field(passable: jax.Array, target: jax.Array, agent: jax.Array,
                   needed: jax.Array = True) -> jax.Array:
    """(CELLS,) int32 steps to `target` through passable cells, exact for every cell
    nearer than `agent` and for `agent` itself (FAR if unreachable). The target itself
    counts as reached even if not passable (an object to bump, a door).

    After k sweeps each cell holds its distance if that is at most k, else FAR (unit
    steps from one source), so the sweeps stop once `agent` is reached: the step down
    the field reads only the agent's distance and its neighbours' that are smaller,
    all exact by then. They also stop when a sweep changes nothing, after SWEEPS, or at
    once when not `needed` (a fallback field: under `vmap` a loop runs while any
    element's condition holds, so a field no element needs costs no sweep). Same
    actions as all SWEEPS sweeps (the oracle's plans are pinned in
    tests/data/task_digests.json through errands' time limits), at a fraction of the
    sweeps: a plan step needs about as many as the agent is far from its target."""
    start = jnp.where(jnp.arange(CELLS) == target, 0, FAR).reshape(SIZE, SIZE)
    open_cells = passable.reshape(SIZE, SIZE)
    row, col = agent // SIZE, agent % SIZE

    def going(carry):
        sweeps, d, changed = carry
        return needed & changed & (sweeps < SWEEPS) & (d[row, col] >= FAR)

    def sweep(carry):
        sweeps, d, _ = carry
        padded = jnp.pad(d, 1, constant_values=FAR)
        best = jnp.minimum(
            jnp.minimum(padded[:-2, 1:-1], padded[2:, 1:-1]),
            jnp.minimum(padded[1:-1, :-2], padded[1:-1, 2:]),
        )
        new = jnp.where(open_cells, jnp.minimum(d, best + 1), d)
        return sweeps + 1, new, jnp.any(new != d)

    _, d, _ = jax.lax.while_loop(going, sweep, (0, start, jnp.bool_(True)))
    return d.reshape(CELLS)


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
    d = distance_field(strict, target, state.agent)
    stuck = d[state.agent] >= FAR  # objects seal every path: plan through them
    d = jnp.where(stuck, distance_field(loose, target, state.agent, needed=stuck), d)
    directions = jnp.arange(4)
    cells, inside = neighbour(state.agent, directions)
    creature = jnp.any((cells[:, None] == state.creature_cell) & task.creature_present, axis=1)
    step_d = jnp.where(inside & ~creature, d[cells], FAR)
    best = jnp.argmin(step_d)
    return jnp.where(step_d[best] < d[state.agent], best, STAY).astype(jnp.int32)
