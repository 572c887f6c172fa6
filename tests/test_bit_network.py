"""The per-bit actor (`--network per_bit`, repair only): shapes and parameter count, its
features against the world's own make / break, equivariance (relabel the bits and the
logits are relabelled alike; reorder the tests and nothing changes), its one-line
refusal elsewhere, and (slow) that ppo with it learns repair's smallest programs."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from trainee.learners import LearnerConfig
from trainee.learners.bit_network import bit_features, feature_count, repair_layout
from trainee.learners.networks import init_params, network_for, parameter_count
from trainee.worlds import make

LAYOUT = repair_layout()


@pytest.fixture(scope="module")
def repair_obs():
    """repair and the first observations of 8 train tasks (one compile for the file)."""
    world = make("repair")

    @jax.jit
    def first_obs(key):
        tasks = world.tasks(key, "train", 8)
        return jax.vmap(world.reset)(jax.random.split(key, 8), tasks)[0]

    return world, first_obs(jax.random.key(3))


def relabel_bits(obs, order):
    """The observation of the same program with bit j of the new one = bit order[j]."""
    order = np.asarray(order)
    inverse = np.argsort(order)
    out = np.array(obs)
    for at in (0, LAYOUT.make_at, LAYOUT.break_at):
        out[:, at:at + LAYOUT.bits] = np.asarray(obs)[:, at:at + LAYOUT.bits][:, order]
    literals = out[:, LAYOUT.literals_at:LAYOUT.make_at]
    index = np.rint(np.abs(literals) * LAYOUT.bits).astype(int)  # bit + 1, 0 empty
    new = np.where(index > 0, inverse[np.maximum(index - 1, 0)] + 1, 0)
    out[:, LAYOUT.literals_at:LAYOUT.make_at] = np.sign(literals) * new / LAYOUT.bits
    return jnp.asarray(out, jnp.float32)


def reorder_tests(obs, order):
    out = np.array(obs)
    tests = out[:, LAYOUT.tests_at:LAYOUT.literals_at]
    literals = out[:, LAYOUT.literals_at:LAYOUT.make_at].reshape(len(out), LAYOUT.tests, -1)
    out[:, LAYOUT.tests_at:LAYOUT.literals_at] = tests[:, order]
    out[:, LAYOUT.literals_at:LAYOUT.make_at] = literals[:, order].reshape(len(out), -1)
    return jnp.asarray(out, jnp.float32)


def test_shapes_parameter_count_and_features(repair_obs):
    world, obs = repair_obs
    config = LearnerConfig(network="per_bit", hidden=32)
    net = network_for(config, world)
    params = init_params(net, jax.random.key(0), obs.shape[1:])
    logits, value = jax.jit(net.apply)(params, obs)
    assert logits.shape == (8, 10) and value.shape == (8,)
    per_bit, context = feature_count()
    actor = (per_bit + context) * 32 + 32 + 32 * 32 + 32 + 32 + 1
    critic = 191 * 32 + 32 + 32 * 32 + 32 + 32 + 1
    assert parameter_count(net, obs.shape[1:]) == actor + critic
    features, _ = jax.jit(bit_features, static_argnums=1)(obs, LAYOUT)
    # failing tests naming bit i (from the decoded literals) = the world's make (x 4)
    make_units = obs[:, LAYOUT.make_at:LAYOUT.break_at]
    np.testing.assert_allclose(features[..., 6] * 8, np.minimum(make_units * 4, 4), atol=1e-6)
    np.testing.assert_allclose(features[..., 1], np.abs(obs[:, :10]))


@pytest.mark.parametrize("network", ["per_bit", "mlp"])
def test_per_bit_actor_is_equivariant_to_relabelling_bits(network, repair_obs):
    """Relabel the bits: the per-bit logits are relabelled alike and the same for any
    order of the tests; the MLP's are not (the check can fail)."""
    world, obs = repair_obs
    net = network_for(LearnerConfig(network=network), world)
    params = init_params(net, jax.random.key(0), obs.shape[1:])
    actor = jax.jit(lambda o: net.apply(params, o)[0])
    logits = np.asarray(actor(obs))
    order = np.random.default_rng(0).permutation(LAYOUT.bits)
    relabelled = np.asarray(actor(relabel_bits(obs, order)))
    reordered = np.asarray(actor(reorder_tests(obs, np.roll(np.arange(32), 5))))
    same_bits = np.allclose(relabelled, logits[:, order], atol=1e-5)
    same_tests = np.allclose(reordered, logits, atol=1e-5)
    assert same_bits == same_tests == (network == "per_bit")
    # ...and the content matters: another program state moves the logits
    assert not np.allclose(logits, np.asarray(actor(obs.at[:, :10].multiply(-1))))


@pytest.mark.parametrize("world_name", ["corridor", "errands", "driving"])
def test_per_bit_is_refused_outside_repair_in_one_line(world_name):
    with pytest.raises(ValueError, match=re.escape("network 'per_bit' is for repair")) as info:
        network_for(LearnerConfig(network="per_bit"), make(world_name))
    assert "\n" not in str(info.value)


@pytest.mark.slow
def test_ppo_with_the_per_bit_actor_learns_the_smallest_programs():
    """(-m slow) ppo with the per-bit actor on level-0 train tasks (4 bits, 2 bugs)
    beats random (~0.07) by far on fresh level-0 tasks."""
    from trainee.evaluate import agent_policy, evaluate
    from trainee.learners import make_train, sample_act

    world = make("repair")
    config = LearnerConfig(network="per_bit", total_steps=40_960, num_envs=16, num_steps=32,
                           num_minibatches=8, update_epochs=2, hidden=32, lr=1e-3)
    pool = world.tasks(jax.random.key(0), "train", 256, level=0)
    out = jax.jit(make_train(config, world))(jax.random.key(0), pool)
    policy = agent_policy(sample_act(network_for(config, world)), out.params, None, False)
    fresh = world.tasks(jax.random.key(1), "train", 256, level=0)
    records = evaluate(world, policy, jax.random.key(2), fresh, episodes=2)
    assert float(np.mean(np.asarray(records.success))) > 0.5
