"""two-students: the narrow sets are matched to the broad pool in difficulty and in
input/action support, checked with the world contract's own visits (`contract.visited`,
`contract.constant_units`)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from trainee.studies.experiment import repeat_pool, take
from trainee.studies.two_students import breadths, broad_pool, narrow_set
from trainee.worlds import make
from trainee.worlds.contract import constant_units, visited


def support(world, tasks, size):
    """(units constant over the visits, action pairs never told apart) of `tasks`
    repeated to `size` environments, under the contract's random-policy visits."""
    pool = jax.tree.map(jnp.asarray, repeat_pool(tasks, len(np.asarray(tasks.difficulty)), size))
    units, _, pairs = constant_units(*visited(world, "train", num_envs=size, tasks=pool))
    return units, pairs


def unsupported(world, narrow, broad_support, size):
    """Units and action pairs that vary over the broad pool (its `support`) but not over
    the narrow set."""
    narrow_units, narrow_pairs = support(world, narrow, size)
    broad_units, broad_pairs = broad_support
    return np.flatnonzero(narrow_units & ~broad_units), np.argwhere(narrow_pairs & ~broad_pairs)


@pytest.mark.parametrize(("world_name", "size"), [
    pytest.param("repair", 128, marks=pytest.mark.slow),  # ~20 s: four visit compilations
    ("corridor", 32),
])
def test_narrow_sets_match_the_broad_pool_in_levels_and_support(world_name, size):
    world = make(world_name)
    broad = broad_pool(world, jax.random.key(3), size)
    rng = np.random.default_rng(0)
    broad_support = support(world, broad, size)
    for k in breadths(world.levels, size)[:-1]:
        index = narrow_set(world, broad, k, rng)
        assert len(set(index.tolist())) == k  # k distinct tasks
        levels = np.bincount(index % world.levels, minlength=world.levels)
        assert (levels == k // world.levels).all()  # the broad pool's level histogram
        if world_name == "repair":  # level L is a program of 4 + L bits
            bits = np.bincount(np.asarray(take(broad, index).n_bits) - 4, minlength=5)
            assert (bits == k // world.levels).all()
        units, pairs = unsupported(world, take(broad, index), broad_support, size)
        assert units.size == 0 and pairs.size == 0, (k, units, pairs)


def test_the_support_check_catches_the_old_narrow_set():
    """The design issue 14 rejected: 8 tasks from the easiest third. The check must see
    that it never moves units (and never tells apart actions) the broad pool does."""
    world, size = make("repair"), 128
    broad = broad_pool(world, jax.random.key(3), size)
    easiest = np.argsort(np.asarray(broad.difficulty), kind="stable")[:8]
    units, pairs = unsupported(world, take(broad, easiest), support(world, broad, size),
                               size)
    assert units.size > 0 and pairs.size > 0
