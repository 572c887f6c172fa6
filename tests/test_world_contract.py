"""The shared contract, run against every registered world and a gymnax env."""

import pytest
from conftest import require

from trainee.worlds import make, names
from trainee.worlds.contract import check_world


@pytest.mark.parametrize("name", names())
def test_builtin_world_contract(name):
    check_world(make(name))


def test_gymnax_world_contract():
    require("gymnax")
    check_world(make("gymnax:CartPole-v1"), num_tasks=8, split_samples=16)
