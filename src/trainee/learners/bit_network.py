"""The per-bit actor (`--network per_bit`): for repair only, whose action i is "flip bit i".

The logit of "flip bit i" is one small MLP, shared by every bit, applied to bit i's own
features (its value, WalkSAT's make and break, counts of its literals) next to a pooled
context (flips left, failing tests, program size, the mean and max of every bit's
features). No bit index enters anywhere, so the actor is permutation-equivariant:
relabel the bits and the logits are relabelled the same way (tests/test_bit_network.py),
and what it learns about bit 2 holds for bit 9. The MLP actor must learn the rule once
per bit position; a make - break rule (linear in two features per bit) scores 0.877 on
repair's train split where the MLP reaches 0.503 at the quick budget
(docs/worlds/repair.md, "Session 13: a per-bit network").

It reads only the observation, through the layout below (repair's 191 floats:
`trainee.worlds.repair`'s docstring); `bit_layout` returns None for every other world,
and `resolve_network` then refuses `per_bit` with a one-line error. The critic stays
the MLP tower over the whole observation (`networks.ActorCritic`).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from trainee.worlds.base import World
from trainee.worlds.repair_core import MAX_ARITY, MAX_BITS, MAX_TESTS, OBS_SIZE

SCALE = 8.0  # per-bit counts of tests / 8: train has at most 24 tests, a bit in ~6 of them


class BitLayout(NamedTuple):
    """Where a flat observation keeps its per-bit and per-test parts (static offsets)."""

    bits: int  # number of bit slots (= actions): +1 / -1 for a 1 / 0, 0 beyond n
    tests: int  # number of test slots: +1 failing, -1 passing, 0 beyond m
    arity: int  # literal slots per test: +(i + 1) / bits for "bit i is 1", - for 0
    size: int  # length of the observation; its last unit is flips left

    @property
    def tests_at(self) -> int:
        return self.bits

    @property
    def literals_at(self) -> int:
        return self.bits + self.tests

    @property
    def make_at(self) -> int:
        return self.literals_at + self.tests * self.arity

    @property
    def break_at(self) -> int:
        return self.make_at + self.bits


def repair_layout() -> BitLayout:
    return BitLayout(bits=MAX_BITS, tests=MAX_TESTS, arity=MAX_ARITY, size=OBS_SIZE)


def bit_layout(world: World) -> BitLayout | None:
    """repair's layout if `world` is repair with its own observation (a wrapper that
    keeps the name but pads or replaces the observation does not fit), else None."""
    layout = repair_layout()
    fits = (world.name == "repair" and world.observation_space.shape == (layout.size,)
            and getattr(world.action_space, "n", None) == layout.bits)
    return layout if fits else None


def bit_features(obs: jax.Array, layout: BitLayout) -> tuple[jax.Array, jax.Array]:
    """(B, size) -> per-bit features (B, bits, 9) and their pooled context (B, 22).

    Per bit: value, present, make, break, and over the active tests: literals of the bit
    (true now / false now), failing tests naming it, passing tests whose only true
    literal it is with one other true literal ("near break": fragile after a flip
    elsewhere), passing tests with one true literal where its literal is false (flipping
    it adds a second). Context: flips left, failing tests / 8, bits present / bits, tests
    present / tests, and the mean (over present bits) and max of the 9 features."""
    b, n = layout.bits, obs.shape[:-1]
    value = obs[..., :b]
    tests = obs[..., layout.tests_at:layout.literals_at]
    literals = obs[..., layout.literals_at:layout.make_at].reshape(*n, layout.tests, layout.arity)
    make = obs[..., layout.make_at:layout.break_at]
    brk = obs[..., layout.break_at:layout.break_at + b]
    flips = obs[..., layout.size - 1:]
    # signed incidence (B, tests, bits): +1 if the test wants the bit 1, -1 if 0
    index = jnp.round(jnp.abs(literals) * b)[..., None]  # (B, T, A, 1): bit + 1, 0 empty
    wanted = index == jnp.arange(1, b + 1, dtype=obs.dtype)
    incidence = jnp.sum(jnp.where(wanted, jnp.sign(literals)[..., None], 0.0), axis=-2)
    true = (incidence * value[..., None, :]) > 0  # (B, T, bits): the literal holds now
    named = incidence != 0
    failing, passing = (tests > 0)[..., None], (tests < 0)[..., None]
    true_count = jnp.sum(true, axis=-1, keepdims=True)
    count = lambda m: jnp.sum(m, axis=-2) / SCALE
    present = jnp.abs(value)
    features = jnp.stack([
        value, present, make, brk,
        count(true & (failing | passing)), count(named & ~true & (failing | passing)),
        count(named & failing), count(true & passing & (true_count == 2)),
        count(named & ~true & passing & (true_count == 1)),
    ], axis=-1)
    bits_present = jnp.sum(present, axis=-1, keepdims=True)
    mean = jnp.sum(features * present[..., None], axis=-2) / jnp.maximum(bits_present, 1.0)
    context = jnp.concatenate([
        flips, jnp.sum(tests > 0, axis=-1, keepdims=True) / SCALE, bits_present / b,
        jnp.sum(tests != 0, axis=-1, keepdims=True) / layout.tests,
        mean, jnp.max(features, axis=-2),
    ], axis=-1)
    return features, context


def per_bit_inputs(obs: jax.Array, layout: BitLayout) -> jax.Array:
    """(B, size) -> (B, bits, features + context): the shared MLP's input for each bit
    (`networks.ActorCritic` applies it, one logit per bit)."""
    features, context = bit_features(obs, layout)
    context = jnp.broadcast_to(context[..., None, :], (*features.shape[:-1], context.shape[-1]))
    return jnp.concatenate([features, context], axis=-1)


def feature_count() -> tuple[int, int]:
    """(per-bit features, context features): the shared MLP's input is their sum."""
    layout = repair_layout()
    features, context = jax.eval_shape(lambda o: bit_features(o, layout),
                                       jax.ShapeDtypeStruct((1, layout.size), np.float32))
    return features.shape[-1], context.shape[-1]
