"""World-specific task sets the studies need: tasks of a given horizon (how far the
outcome lies from the first useful action) and a study's main world per scale.

Each world names its easiest / longest tasks its own way (see their env cards):
repair has size levels (`level=L`: n = 4 + L bits, n // 2 bugs), errands
chain lengths (`max_chain`, `longer` = 4 sub-goals), corridor a goal distance.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from trainee.program import get_world
from trainee.studies.scale import Scale
from trainee.worlds import task_at

HORIZONS = {
    "repair": (0, 2, 4),  # size levels: 4, 6, 8 bits
    "corridor": (3, 7, 12),  # goal distance in cells
    "errands": (1, 2, 3, 4),  # sub-goals in the chain
}
HORIZON_LABEL = {"repair": "program bits", "corridor": "goal distance", "errands": "chain"}


def main_world(scale: Scale) -> str:
    """The world a single-world study uses at this scale (the last of `scale.worlds`
    without `errands`/`driving` at CPU scales: the cheapest informative one), or the
    scale's `single_world` when it names one."""
    if scale.single_world:
        return scale.single_world
    cheap = [w for w in scale.worlds if w in ("repair", "corridor")]
    return cheap[-1]


def horizon_value(world: str, h: int) -> int:
    return 4 + h if world == "repair" else h


def horizon_tasks(world: str, key: jax.Array, n: int, h: int):
    """`n` train-distribution tasks whose horizon is exactly `h`."""
    w = get_world(world)
    if world == "repair":
        return w.tasks(key, "train", n, level=h)
    if world == "corridor":
        tasks = w.tasks(key, "train", n)
        length = jnp.full((n,), h, jnp.int32)
        return tasks.replace(length=length, difficulty=length.astype(jnp.float32))
    if world == "errands":
        if h == 4:
            return w.tasks(key, "longer", n)
        tasks = w.tasks(key, "train", 8 * n, max_chain=3)
        index = np.flatnonzero(np.asarray(tasks.chain_len) == h)[:n]
        return task_at(tasks, index)
    raise ValueError(f"no horizon rule for world {world!r}")


# Craftax-Classic's achievements by their depth in Crafter's tech tree (Hafner 2021,
# "Benchmarking the Spectrum of Agent Capabilities", the achievement dependencies): the
# number of achievements on the longest chain that must come before one. Fixed before
# any Craftax run; the jaggedness study reads it as an achievement's difficulty.
ACHIEVEMENT_DEPTH = {
    "collect_wood": 0, "collect_sapling": 0, "collect_drink": 0, "eat_cow": 0,
    "wake_up": 0, "defeat_zombie": 0, "defeat_skeleton": 0,
    "place_plant": 1, "place_table": 1,
    "eat_plant": 2, "make_wood_pickaxe": 2, "make_wood_sword": 2,
    "collect_stone": 3, "collect_coal": 3,
    "place_stone": 4, "make_stone_pickaxe": 4, "make_stone_sword": 4, "place_furnace": 4,
    "collect_iron": 5,
    "make_iron_pickaxe": 6, "make_iron_sword": 6,
    "collect_diamond": 7,
}


def has_items(records) -> bool:
    """Whether a world's records carry achievements (Craftax) for `jagged_items`."""
    return all(f"achievement_{a}" in records.counters for a in ACHIEVEMENT_DEPTH)


def jagged_items(records):
    """The items a jaggedness study reads from evaluation records (S, tasks, episodes):
    the tasks themselves, or for a world with achievements (Craftax, which has no goal)
    its achievements, as Records whose `success` (S, A, tasks * episodes) is "unlocked in
    that episode" and whose `difficulty` (S, A) is the achievement's tech-tree depth."""
    if not has_items(records):
        return records
    from trainee.evaluate import Records

    unlocked = np.stack([np.asarray(records.counters[f"achievement_{a}"]) > 0
                         for a in ACHIEVEMENT_DEPTH], axis=-3)  # (S, A, tasks, episodes)
    success = unlocked.reshape(*unlocked.shape[:-2], -1)  # (S, A, tasks * episodes)
    depth = np.asarray(list(ACHIEVEMENT_DEPTH.values()), np.float32)
    difficulty = np.broadcast_to(depth, success.shape[:-1]).copy()  # (S, A)
    zeros = np.zeros(success.shape, np.float32)
    return Records(success, zeros, zeros.astype(np.int32), {}, difficulty)
