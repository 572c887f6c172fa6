"""The studies on the field's worlds (issue 18): Craftax's achievements as the items of
the jaggedness study, the `standard` scale's worlds, and (slow) each study path at tiny
sizes with its placebo arm. The studies at `standard` run from the CLI, not here."""

import dataclasses

import numpy as np
import pytest
from conftest import require

from trainee.evaluate import Records
from trainee.studies.scale import SCALES
from trainee.studies.tasksets import ACHIEVEMENT_DEPTH, jagged_items, main_world


def _records(unlocked: np.ndarray) -> Records:
    """Records (S, tasks, episodes) whose achievement counters are `unlocked` (S, A, T, E)."""
    counters = {f"achievement_{a}": unlocked[:, i].astype(np.float32)
                for i, a in enumerate(ACHIEVEMENT_DEPTH)}
    shape = unlocked.shape[:1] + unlocked.shape[2:]
    return Records(np.zeros(shape, bool), np.zeros(shape), np.zeros(shape, np.int32),
                   counters, np.zeros(shape[:-1]))


def test_jagged_items_are_the_achievements_with_their_depth():
    rng = np.random.default_rng(0)
    unlocked = rng.random((2, len(ACHIEVEMENT_DEPTH), 3, 4)) < 0.5  # (S, A, tasks, episodes)
    items = jagged_items(_records(unlocked))
    assert items.success.shape == (2, len(ACHIEVEMENT_DEPTH), 12)
    np.testing.assert_array_equal(items.success, unlocked.reshape(2, len(ACHIEVEMENT_DEPTH), 12))
    assert items.difficulty.shape == (2, len(ACHIEVEMENT_DEPTH))
    assert items.difficulty[0, list(ACHIEVEMENT_DEPTH).index("collect_diamond")] == 7


def test_records_without_achievements_are_their_own_items():
    records = Records(np.ones((2, 3, 1), bool), np.zeros((2, 3, 1)), np.zeros((2, 3, 1)), {},
                      np.zeros((2, 3)))
    assert jagged_items(records) is records


def test_standard_scale_names_the_field_worlds():
    standard = SCALES["standard"]
    assert standard.worlds == ("xminigrid:trivial-2k",)
    assert main_world(standard).startswith("craftax:classic-")
    assert main_world(SCALES["quick"]) == "repair"  # quick unchanged


def test_craftax_name_sets_the_episode_length():
    require("craftax")
    from trainee.worlds import make

    world = make("craftax:classic-300")
    assert (world.name, world.max_steps) == ("craftax:classic-300", 300)
    with pytest.raises(ValueError, match="classic-<max_steps>"):
        make("craftax:classic-x")


def _tiny(**changes):
    return dataclasses.replace(SCALES["tiny"], **changes)


@pytest.mark.slow
@pytest.mark.parametrize("placebo", [False, True])
def test_gap_on_xland_rulesets_at_tiny(placebo):
    require("xminigrid")
    from trainee.studies import gap
    from trainee.studies.experiment import Context

    scale = _tiny(worlds=("xminigrid:trivial-2k",))
    result = gap.run(Context(scale=scale, seeds=5, placebo=placebo))
    numbers = result["worlds"]["xminigrid:trivial-2k"]
    assert numbers["distinct"] == [4, 16, 32] and "heldout" in numbers["axes"]["axes"]
    assert (result["placebo"] is not None) == placebo
    assert gap.verdict(result).status in ("supported", "not supported", "inconclusive")


@pytest.mark.slow
@pytest.mark.parametrize("placebo", [False, True])
def test_jaggedness_on_craftax_achievements_at_tiny(placebo):
    require("craftax")
    from trainee.studies import jaggedness
    from trainee.studies.experiment import Context

    scale = _tiny(single_world="craftax:classic-16", eval_tasks=2)
    result = jaggedness.run(Context(scale=scale, seeds=5, placebo=placebo))
    ppo = result["agents"]["ppo"]
    assert result["world"] == "craftax:classic-16"
    assert {"item_references", "negative_flips_minus_null", "jaggedness_minus_null"} <= set(ppo)
    assert (result["placebo"] is not None) == placebo
    assert jaggedness.verdict(result).status in ("supported", "not supported", "inconclusive")
