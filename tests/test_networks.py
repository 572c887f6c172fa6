"""Networks: shapes and parameter counts on every built-in world, the attention network's
invariance to the order of entity slots, the `auto` choice, bad `--network` values."""

import functools
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from trainee.learners import LearnerConfig
from trainee.learners.networks import (
    describe_network,
    init_params,
    network_for,
    parameter_count,
    resolve_network,
)
from trainee.worlds import make
from trainee.worlds.base import Box, Discrete, World
from trainee.worlds.embedding import embed

BUILT_IN = ("corridor", "errands", "driving", "repair")


class GridWorld(World):
    """Observation-only stand-in for a grid world such as MinAtar ((10, 10, 4))."""

    name = "grid"

    @property
    def observation_space(self) -> Box:
        return Box(0.0, 1.0, (10, 10, 4))

    @property
    def action_space(self) -> Discrete:
        return Discrete(3)


def tower(inputs: int, hidden: int, layers: int, out: int) -> int:
    """Parameters of one MLP tower, counted by hand."""
    return inputs * hidden + hidden + (layers - 1) * (hidden * hidden + hidden) + hidden * out + out


def expected_count(world, config: LearnerConfig, network: str) -> int:
    shape, actions = world.observation_space.shape, world.action_space.n
    h, n = config.hidden, config.layers
    if network == "mlp":
        size = int(np.prod(shape))
        return tower(size, h, n, actions) + tower(size, h, n, 1)
    if network == "cnn":
        conv = 3 * 3 * shape[-1] * 16 + 16 + 3 * 3 * 16 * 32 + 32
        features = shape[0] * shape[1] * 32
        return 2 * conv + tower(features, h, n, actions) + tower(features, h, n, 1)
    layout, dim = world.entity_layout, 64
    in_groups = sum(g.count * g.width for g in layout.groups)
    encoder = (layout.size - in_groups) * dim + dim + dim * dim + dim  # context, query
    encoder += sum(g.width * 2 * dim + 2 * dim for g in layout.groups)  # keys and values
    return 2 * encoder + tower(2 * dim, h, n, actions) + tower(2 * dim, h, n, 1)


def cases():
    for name in BUILT_IN:
        yield name, "mlp"
    yield "errands", "attention"
    yield "grid", "cnn"
    yield "grid", "mlp"


@pytest.mark.parametrize(("world_name", "network"), list(cases()))
def test_shapes_and_parameter_counts(world_name, network):
    world = GridWorld() if world_name == "grid" else make(world_name)
    config = LearnerConfig(network=network, hidden=32)
    net = network_for(config, world)
    shape = world.observation_space.shape
    params = init_params(net, jax.random.key(0), shape)  # op by op: seven cases share the
    logits, value = net.apply(params, jnp.zeros((3, *shape)))  # ops' compiles (jitted: 1.5x)
    assert logits.shape == (3, world.action_space.n) and value.shape == (3,)
    counted = sum(x.size for x in jax.tree.leaves(params))
    assert counted == parameter_count(net, shape) == expected_count(world, config, network)
    assert net.encoder == network


@functools.cache  # one sampler compile for every test that asks
def errands_obs(n: int = 8):
    world = make("errands")

    @jax.jit  # drawn op by op the tasks took longer still (44 s against 30 s cold, load 5)
    def first_obs(key):
        tasks = world.tasks(key, "train", n, max_chain=2)
        return jax.vmap(world.reset)(jax.random.split(key, n), tasks)[0]

    return world, first_obs(jax.random.key(1))


def random_params(init, *args):
    """Parameters of `init`'s shapes drawn by numpy: invariance holds for any values, and
    the orthogonal initialiser's compile (13 s for the attention network, cold) buys
    nothing here."""
    rng = np.random.default_rng(0)
    shapes = jax.eval_shape(init, jax.random.key(0), *args)
    return jax.tree.map(lambda s: jnp.asarray(0.3 * rng.standard_normal(s.shape), s.dtype),
                        shapes)


def permute_slots(obs, group, order):
    """The observation with the slots of `group` reordered by `order`."""
    slots = obs[:, group.start:group.start + group.count * group.width]
    slots = slots.reshape(obs.shape[0], group.count, group.width)[:, np.asarray(order)]
    return obs.at[:, group.start:group.start + group.count * group.width].set(
        slots.reshape(obs.shape[0], -1))


@pytest.mark.parametrize("network", ["attention", "mlp"])
def test_attention_ignores_the_order_of_entity_slots(network):
    """The attention network's output does not change when the slots of a group are
    reordered (the world shuffles object slots per task, so their order means nothing);
    the MLP's does, which shows the check can fail."""
    world, obs = errands_obs()
    net = network_for(LearnerConfig(network=network), world)
    params = random_params(lambda key: init_params(net, key, obs.shape[1:]))
    apply = jax.jit(net.apply)  # one compile for the five applies
    before = apply(params, obs)
    changed = False
    for group in world.entity_layout.groups:
        order = np.roll(np.arange(group.count), 1)
        after = apply(params, permute_slots(obs, group, order))
        same = all(np.allclose(a, b, atol=1e-5) for a, b in zip(before, after, strict=True))
        if network == "attention":
            assert same, group.name
        changed |= not same
    assert changed == (network == "mlp")
    # ...and the content of the slots matters: remove every object and the output moves
    objects = world.entity_layout.groups[0]
    assert objects.name == "object"
    emptied = obs.at[:, objects.start:objects.start + objects.count * objects.width].set(0.0)
    assert not np.allclose(before[0], apply(params, emptied)[0], atol=1e-5)


def test_two_attention_rounds_ignore_the_order_of_entity_slots():
    """`EntityEncoder(rounds=2)` (a benchmark variant, docs/worlds/errands.md): a second
    query, same invariance; its features are one round wider."""
    from trainee.learners.networks import ATTENTION_DIM, EntityEncoder

    world, obs = errands_obs()
    encoder = EntityEncoder(world.entity_layout, rounds=2)
    params = random_params(encoder.init, obs)
    apply = jax.jit(encoder.apply)
    before = apply(params, obs)
    assert before.shape == (obs.shape[0], 3 * ATTENTION_DIM)
    for group in world.entity_layout.groups:
        after = apply(params, permute_slots(obs, group, np.roll(np.arange(group.count), 1)))
        np.testing.assert_allclose(after, before, atol=1e-5, err_msg=group.name)


def test_auto_chooses_the_mlp_until_another_network_pays():
    auto = LearnerConfig()
    assert auto.network == "auto"
    for name in ("corridor", "driving", "repair", "errands"):
        assert resolve_network(auto, make(name)) == "mlp"
    # grids get the MLP on the flattened observation (the CNN did not pay on MinAtar)
    assert resolve_network(auto, GridWorld()) == "mlp"
    assert "mlp (auto)" in describe_network(auto, make("errands"))
    assert resolve_network(LearnerConfig(network="attention"), make("errands")) == "attention"
    # a wrapper that pads the observation cannot use errands' layout
    embedded = embed([make("errands"), make("corridor")])[0]
    with pytest.raises(ValueError, match="entity_layout"):
        resolve_network(LearnerConfig(network="attention"), embedded)
    assert describe_network(LearnerConfig(network="mlp"), make("errands")).startswith(
        "network: mlp,")


@pytest.mark.parametrize(("world_name", "network", "message"), [
    ("corridor", "attention", "needs a world with an entity_layout"),
    ("errands", "cnn", "needs (H, W, C) grid observations"),
    ("corridor", "transformer", "network must be one of auto, mlp, cnn, attention"),
])
def test_bad_network_is_one_line_error(world_name, network, message):
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        network_for(LearnerConfig(network=network), make(world_name))
    assert "\n" not in str(info.value)


def test_bad_network_flag_on_the_command_line(capsys):
    from trainee.cli import main

    assert main(["train", "--world", "corridor", "--network", "transformer"]) == 2
    err = capsys.readouterr().err
    assert "network must be one of" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "issue 12's target, not yet met: mean held-out success 0.154 (layouts 0.172, combos "
    "0.064, slippery 0.191, crowded 0.188) after 3M steps, measured 2026-12-02; with the "
    "per-task time limit 0.111 after 1M (session 9, docs/worlds/errands.md); strict, so "
    "the day it passes this mark must go"))
def test_attention_learns_errands_chains_of_one_and_two():
    """Acceptance (-m slow; minutes): ppo with the attention network on errands train
    tasks with chains of 1-2 reaches >= 0.9 success on fresh tasks of the held-out splits
    (layouts, combos, slippery, crowded; chains 1-2). Budget and figures:
    docs/learners.md, "Networks"."""
    from trainee.evaluate import agent_policy, evaluate
    from trainee.learners import make_train, sample_act

    world = make("errands")
    config = LearnerConfig(network="attention", total_steps=SLOW_BUDGET, num_envs=128,
                           num_steps=16, hidden=128, lr=1e-3, activation="relu")
    pool = world.tasks(jax.random.key(123), "train", 4096, max_chain=2)
    out = jax.jit(make_train(config, world))(jax.random.key(0), pool)
    policy = agent_policy(sample_act(network_for(config, world)), out.params, None, False)
    scores = []
    for i, split in enumerate(("layouts", "combos", "slippery", "crowded")):
        tasks = world.tasks(jax.random.key(10 + i), split, 256, max_chain=2)
        scores.append(float(evaluate(world, policy, jax.random.key(9), tasks, 2).success.mean()))
    assert np.mean(scores) >= 0.9, scores


SLOW_BUDGET = 3_000_000  # env steps; see docs/learners.md


@pytest.mark.parametrize("activation,layers", [("tanh", 2), ("relu", 1), ("tanh", 3)])
def test_towers_as_one_give_the_networks_outputs(activation, layers):
    from trainee.learners.networks import towers_as_one

    world = make("corridor")
    config = LearnerConfig(activation=activation, layers=layers, hidden=32)
    network = network_for(config, world)
    shape = world.observation_space.shape
    params = init_params(network, jax.random.key(0), shape)
    # moved off the initialisation, whose small output gains would hide a wrong sum
    params = jax.tree.map(lambda x: x + 0.3 * jax.random.normal(jax.random.key(1), x.shape),
                          params)
    for batch in (1, 4, 33):
        obs = jax.random.normal(jax.random.key(batch), (batch, *shape))
        want = jax.jit(network.apply)(params, obs)
        got = jax.jit(lambda p, o: towers_as_one(network, p)(o))(params, obs)
        for w, g in zip(want, got, strict=True):
            # bit for bit on the Xeon (AVX-512) it was written on; on session 8's AMD
            # (AVX2) one value at batch 1 came out 1 ulp apart: XLA's matrix-vector
            # product sums the wider kernel in another order there
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)
