"""repair: the task generator (planted satisfiable test suites, splits, levels).

Generation follows the "planted solution" recipe for random satisfiable CNF (e.g.
Achlioptas, Jia & Moore 2005 discuss it for hiding solutions): draw the program x*, draw
each clause's bits and signs at random, and if x* falsifies a clause, flip the sign of its
first literal so x* satisfies it. Test 0 is built to fail on the initial program, so no
episode starts solved.

Split rule (stated on the train side by `Repair.is_train`): train has n <= 8 bits,
m <= 3n tests and clauses of <= 3 literals; each held-out split breaks exactly one.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from trainee.worlds.repair import MAX_ARITY, MAX_BITS, MAX_TESTS, RepairTask, pack

NUM_LEVELS = 5
BIT_RANGE = {"train": (4, 8), "bigger": (9, 10), "more_tests": (4, 8), "structure": (4, 8)}


def _sizes(key, split, n, level):
    """(n,) program sizes and (n,) test counts."""
    key_bits, key_tests = jax.random.split(key)
    lo, hi = BIT_RANGE[split]
    mixed = jax.random.randint(key_bits, (n,), lo, hi + 1)
    bits = jnp.where(level < 0, mixed, jnp.minimum(lo + level, hi)).astype(jnp.int32)
    few, many = 2 * bits, 3 * bits
    if split == "more_tests":
        few, many = 3 * bits + 1, jnp.minimum(4 * bits, MAX_TESTS)
    tests = jax.random.randint(key_tests, (n,), 0, 1 << 20) % (many - few + 1) + few
    return bits, tests


def check_level(level: int | None) -> int:
    """The level as an int for the jitted sampler (-1 for None), validated on the host."""
    if level is None:
        return -1
    if not 0 <= level < NUM_LEVELS:
        raise ValueError(f"repair level must be in 0..{NUM_LEVELS - 1}, got {level}")
    return int(level)


def _arities(key, split, n):
    """(n, MAX_TESTS) literals per clause: 2 or 3; `structure` makes about half of them
    (and always test 1) 4-literal clauses."""
    key_small, key_big = jax.random.split(key)
    arity = jax.random.randint(key_small, (n, MAX_TESTS), 2, 4)
    if split == "structure":
        big = jax.random.bernoulli(key_big, 0.5, (n, MAX_TESTS)).at[:, 1].set(True)
        arity = jnp.where(big, MAX_ARITY, arity)
    return arity


def _one_task(key, n_bits, n_tests, arity) -> RepairTask:
    """One task, given its sizes and the (MAX_TESTS,) clause arities."""
    k_plant, k_bugs, k_bugcount, k_vars, k_signs = jax.random.split(key, 5)
    active = jnp.arange(MAX_BITS) < n_bits
    planted = jax.random.bernoulli(k_plant, 0.5, (MAX_BITS,)) & active
    # Bugs: 1 .. ceil(n / 2) distinct bits, the first of them in test 0.
    bug_rank = jnp.argsort(jnp.argsort(jax.random.uniform(k_bugs, (MAX_BITS,)) + ~active))
    bugs = jax.random.randint(k_bugcount, (), 0, 1 << 20) % ((n_bits + 1) // 2) + 1
    flipped = bug_rank < bugs
    initial = planted ^ flipped
    first_bug = jnp.argmin(bug_rank)
    # Each clause draws `arity` distinct bits: the lowest random keys among active bits.
    noise = jax.random.uniform(k_vars, (MAX_TESTS, MAX_BITS)) + 2.0 * ~active
    noise = noise.at[0, first_bug].set(-1.0)
    var = jnp.argsort(noise, axis=1)[:, :MAX_ARITY]  # (MAX_TESTS, MAX_ARITY)
    used = jnp.arange(MAX_ARITY)[None, :] < arity[:, None]
    positive = jax.random.bernoulli(k_signs, 0.5, (MAX_TESTS, MAX_ARITY))
    holds = (positive == planted[var]) & used
    positive = positive.at[:, 0].set(jnp.where(holds.any(1), positive[:, 0], planted[var[:, 0]]))
    # Test 0 fails on the initial program: its first literal agrees with the planted
    # bit (which the bug flipped), the rest disagree with the initial program.
    positive = positive.at[0].set(jnp.where(jnp.arange(MAX_ARITY) == 0, planted[var[0, 0]],
                                            ~initial[var[0]]))
    in_suite = (jnp.arange(MAX_TESTS) < n_tests)[:, None]
    bit = jnp.left_shift(1, var) * (used & in_suite)  # (MAX_TESTS, MAX_ARITY) one-bit words
    pos = jnp.sum(jnp.where(positive, bit, 0), axis=1)
    neg = jnp.sum(jnp.where(positive, 0, bit), axis=1)
    widest = jnp.max(jnp.where(jnp.arange(MAX_TESTS) < n_tests, arity, 0))
    difficulty = bugs + 0.25 * n_bits + 0.1 * n_tests + 0.5 * (widest > 3)
    return RepairTask(
        pos=pos.astype(jnp.int32),
        neg=neg.astype(jnp.int32),
        n_bits=n_bits.astype(jnp.int32),
        n_tests=n_tests.astype(jnp.int32),
        planted=pack(planted),
        initial=pack(initial),
        shaping=jnp.float32(0.0),
        difficulty=difficulty.astype(jnp.float32),
    )


@partial(jax.jit, static_argnums=(1, 2))  # one compile per (split, n), then fast
def sample_tasks(key, split: str, n: int, level: jax.Array) -> RepairTask:
    key_sizes, key_arity, key_tasks = jax.random.split(key, 3)
    bits, tests = _sizes(key_sizes, split, n, level)
    arity = _arities(key_arity, split, n)
    arity = jnp.minimum(arity, bits[:, None])
    keys = jax.random.split(key_tasks, n)
    return jax.vmap(_one_task)(keys, bits, tests, arity)
