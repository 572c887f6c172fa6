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
    without `errands`/`driving` at CPU scales: the cheapest informative one)."""
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
