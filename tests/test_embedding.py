"""Worlds embedded in a shared interface (mixed-world careers): the shared contract, the
observation layout and the action mapping."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from trainee.worlds import make
from trainee.worlds.contract import check_world
from trainee.worlds.embedding import embed
from trainee.worlds.wrappers import task_at


@pytest.fixture(scope="module")
def corridor_and_repair():
    return embed([make("corridor"), make("repair")])


def test_embedded_world_passes_the_contract(corridor_and_repair):
    # Its labels are the inner world's: embedding changes no split's states. (Through the
    # shared actions a random walk drifts, so the check also visits with the oracle.)
    check_world(corridor_and_repair[0], num_tasks=16, split_samples=256)


def test_shared_sizes(corridor_and_repair):
    corridor, repair = make("corridor"), make("repair")
    size = max(corridor.observation_space.shape[0], repair.observation_space.shape[0])
    for embedded in corridor_and_repair:
        assert embedded.observation_space.shape == (size + 2,)
        assert embedded.action_space.n == repair.action_space.n  # the larger count
        assert embedded.max_steps == embedded.world.max_steps


def test_observation_is_padded_then_one_hot(corridor_and_repair):
    embedded = corridor_and_repair[0]
    corridor = embedded.world
    task = task_at(corridor.tasks(jax.random.key(0), "train", 1), 0)
    own, _ = corridor.reset(jax.random.key(1), task)
    obs, _ = embedded.reset(jax.random.key(1), task)
    n, size = own.shape[0], embedded.interface.obs_size
    np.testing.assert_array_equal(obs[:n], own)
    np.testing.assert_array_equal(obs[n:size], np.zeros(size - n))
    np.testing.assert_array_equal(obs[size:], [1.0, 0.0])  # corridor is world 0 of 2


def test_out_of_range_actions_are_taken_modulo(corridor_and_repair):
    embedded = corridor_and_repair[0]
    corridor = embedded.world  # 3 actions: 0 left, 1 stay, 2 right
    task = task_at(corridor.tasks(jax.random.key(0), "train", 1), 0)
    _, state = corridor.reset(jax.random.key(1), task)
    for action in range(embedded.action_space.n):
        out = embedded.step(jax.random.key(2), state, jnp.int32(action), task)
        own = corridor.step(jax.random.key(2), state, jnp.int32(action % 3), task)
        assert int(out.state.position) == int(own.state.position), action


def test_only_flat_observations_can_be_embedded():
    class Grid:
        name = "grid"
        observation_space = type("Space", (), {"shape": (3, 3, 2)})()

    with pytest.raises(ValueError, match="only flat"):
        embed([make("corridor"), Grid()])
