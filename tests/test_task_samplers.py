"""repair's and driving's task samplers compile once per padded batch size for every
split, errands' once for every split, level and knob (issue 17, "compile once"), and
they give the same tasks, bit for bit, as before.

`before`: tests/data/task_digests.json holds a digest of every leaf of the tasks the
samplers of main at df6ac99 (repair, driving: jitted per (split, n)) and at 8bb18c6
(errands: jitted per (split, max_chain, distractors)) gave for each world, split, n and
level, recorded by `digests` / `errands_digests` on the CPU named in it (float rounding
may differ on another CPU, where only the padding check runs: the padded batch's first n
tasks are the tasks of a batch of exactly n, for every split)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from trainee.runtime.compiles import compiles, record_compiles
from trainee.runtime.environment import cpu
from trainee.worlds import driving_tasks, make, repair_tasks
from trainee.worlds.padded_tasks import padded_size

PINNED = json.loads((Path(__file__).parent / "data" / "task_digests.json").read_text())
SAMPLERS = {"repair": (repair_tasks, repair_tasks._padded_repair_tasks),
            "driving": (driving_tasks, driving_tasks._padded_driving_tasks)}
GRID_N = (1, 37, 100)  # padded to 64, 64, 128
GRID_LEVELS = (-1, 0)


def digest(tasks) -> str:
    """sha256 over every leaf's dtype, shape and bytes."""
    h = hashlib.sha256()
    for leaf in jax.tree.leaves(tasks):
        x = np.asarray(leaf)
        h.update(f"{x.dtype}{x.shape}".encode())
        h.update(x.tobytes())
    return h.hexdigest()


def digests(world: str, sample) -> dict[str, str]:
    """{"split/n/level": digest} of `sample(key, split, n, level)` over the grid; the key
    depends on every coordinate."""
    module = SAMPLERS[world][0]
    out = {}
    for i, split in enumerate(module.SPLITS):
        for n in GRID_N:
            for level in GRID_LEVELS:
                key = jax.random.key(1000 * i + 10 * n + level + 1)
                out[f"{split}/{n}/{level}"] = digest(sample(key, split, n, jnp.int32(level)))
    return out


def errands_digests() -> dict[str, str]:
    """{"split/n/level": digest} of errands' tasks through the world's API, every level,
    plus one draw per split with every knob set ("split/50/knobs")."""
    world = make("errands")
    out = {}
    for i, split in enumerate(world.splits):
        for n in GRID_N:
            for level in range(world.levels):
                key = jax.random.key(1000 * i + 10 * n + level + 1)
                out[f"{split}/{n}/{level}"] = digest(world.tasks(key, split, n, level=level))
        knobs = world.tasks(jax.random.key(7 + i), split, 50, max_chain=2, p_locked=0.9,
                            distractors=False, harm_penalty=0.5, subgoal_bonus=0.1)
        out[f"{split}/50/knobs"] = digest(knobs)
    return out


def test_the_split_lists_are_the_worlds():
    from trainee.worlds.driving import Driving
    from trainee.worlds.repair import Repair

    assert repair_tasks.SPLITS == Repair.splits
    assert driving_tasks.SPLITS == Driving.splits


def test_padded_sizes():
    assert [padded_size(n) for n in (1, 64, 65, 128, 129, 1000)] == [64, 64, 128, 128, 256, 1024]
    with pytest.raises(ValueError):
        padded_size(0)


@pytest.mark.parametrize("world", list(SAMPLERS))
def test_the_tasks_are_mains_bit_for_bit(world):
    if cpu() != PINNED["recorded_on"]:
        pytest.skip("digests recorded on another CPU (float rounding may differ)")
    assert digests(world, SAMPLERS[world][0].sample_tasks) == PINNED[world]


@pytest.mark.parametrize("world", list(SAMPLERS))
def test_a_padded_batch_starts_with_the_batch_of_n(world):
    module, padded = SAMPLERS[world]
    for i, split in enumerate(module.SPLITS):
        key, level = jax.random.key(i), jnp.int32(i % 3 - 1)
        exact = padded(key, jnp.int32(i), 37, level)  # a program of exactly 37 tasks
        assert digest(module.sample_tasks(key, split, 37, level)) == digest(exact)


@pytest.mark.parametrize("world", list(SAMPLERS))
def test_one_compile_serves_every_split_and_n_up_to_a_power_of_two(world):
    module, padded = SAMPLERS[world]
    record_compiles()
    module.sample_tasks(jax.random.key(0), "train", 128, jnp.int32(-1))  # compiled here or before
    name = f"jit({padded.__name__})"
    before = sum(c.name == name for c in compiles())
    for i, split in enumerate(module.SPLITS):
        module.sample_tasks(jax.random.key(i), split, 65 + 11 * i, jnp.int32(i % 3 - 1))
    assert sum(c.name == name for c in compiles()) == before


def test_errands_tasks_are_the_per_split_samplers_bit_for_bit():
    if cpu() != PINNED["recorded_on"]:
        pytest.skip("digests recorded on another CPU (float rounding may differ)")
    assert errands_digests() == PINNED["errands"]


def test_one_errands_compile_serves_every_split_level_and_knob():
    world = make("errands")
    record_compiles()
    world.tasks(jax.random.key(0), "train", 8)  # compiled here or before
    count = lambda: sum(c.name == "jit(_sample_block)" for c in compiles())
    before = count()
    for i, split in enumerate(world.splits):
        world.tasks(jax.random.key(i), split, 70, level=i % world.levels)
        world.tasks(jax.random.key(i), split, 3, max_chain=1 + i % 3, distractors=i % 2 == 0)
    assert count() == before


def test_an_unknown_split_is_refused():
    with pytest.raises(ValueError, match="unknown repair split"):
        repair_tasks.sample_tasks(jax.random.key(0), "curvy", 4, jnp.int32(-1))
