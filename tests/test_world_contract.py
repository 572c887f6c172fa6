"""The shared contract, run against every registered world and a gymnax env."""

import jax
import numpy as np
import pytest
from conftest import require

from trainee.worlds import make, names
from trainee.worlds.contract import (
    MISSED_BY_CHANCE,
    check_no_recompilation,
    check_variation_axes,
    check_world,
    constant_units,
    task_shares,
)
from trainee.worlds.corridor import Corridor


@pytest.mark.parametrize("name", names(external=False))
def test_builtin_world_contract(name):
    check_world(make(name))


def test_gymnax_world_contract():
    require("gymnax")
    check_world(make("gymnax:CartPole-v1"), num_tasks=8, split_samples=16)


class _MislabelledCorridor(Corridor):
    """corridor with `longer` called a variation: its goals sit in cells 8-15, whose
    observation units are zero on every train task (a deliberately bad label)."""

    axes = {"longer": "variation", "slippery": "variation"}


class _UnlabelledCorridor(Corridor):
    axes = {"slippery": "variation"}


def test_contract_rejects_a_variation_axis_on_train_constant_units():
    with pytest.raises(AssertionError, match="'longer' sets observation units"):
        check_variation_axes(_MislabelledCorridor())
    with pytest.raises(AssertionError, match="needs an axes label"):
        check_variation_axes(_UnlabelledCorridor())


class _RetracingCorridor(Corridor):
    """corridor whose `slippery` tasks carry their slip as float16: a held-out split
    whose tasks differ in type, so the step compiled for train cannot serve it."""

    def tasks(self, key, split, n, level=None):
        tasks = super().tasks(key, split, n, level)
        if split != "slippery":
            return tasks
        return tasks.replace(slip=tasks.slip.astype(jax.numpy.float16))


def test_contract_rejects_a_world_whose_splits_recompile_the_step():
    check_no_recompilation(Corridor(), 4)
    with pytest.raises(AssertionError, match="split slippery recompiled the step"):
        check_no_recompilation(_RetracingCorridor(), 4)


def test_contract_rejects_repair_bigger_as_a_variation():
    # repair's `bigger` uses bits 8-9 (units and actions) that train never uses.
    world = make("repair")
    world.axes = {**world.axes, "bigger": "variation", "more_tests": "variation"}
    with pytest.raises(AssertionError, match="'bigger'"):
        check_variation_axes(world)


def test_task_shares_count_tasks_not_visits():
    # 3 steps x 4 tasks, steps-major as `visited` returns them: task 1 sets the flag at two
    # steps, task 3 at one; tasks 0 and 2 never.
    flags = np.zeros((3 * 4, 1), bool)
    flags[[1, 5, 11], 0] = True
    assert task_shares(flags, 4).tolist() == [0.5]
    # The rule's arithmetic at 64 train tasks: a unit set on 5 of 64 tasks a train sample
    # misses with probability 0.006 (chance: not a fault); on 10 of 64, 1.9e-5 (a fault).
    assert (1 - 5 / 64) ** 64 > MISSED_BY_CHANCE > (1 - 10 / 64) ** 64


def test_constant_units_finds_actions_train_never_tells_apart():
    obs = np.array([[0.0, 1.0], [0.0, 2.0]])
    # actions 1 and 2 have the same effect from both states; action 0 differs.
    delta = np.array([[[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]],
                      [[0.0, 1.0], [0.0, 0.5], [0.0, 0.5]]])
    units, values, pairs = constant_units(obs, delta)
    assert units.tolist() == [True, False] and values[0] == 0.0
    assert pairs.tolist() == [[False, False, False], [False, False, True], [False, True, False]]


def test_levels_order_the_shared_vocabulary():
    for name in names():
        world = make(name)
        assert world.levels >= 1
        with pytest.raises(ValueError, match="level must be in"):
            world.tasks(jax.random.key(0), "train", 4, level=world.levels)
    assert make("driving").seconds_per_step == 0.1
    assert make("repair").seconds_per_step is None
