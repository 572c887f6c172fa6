"""Shared definitions of the repair world: constants, the task and state types and
pure helpers. They live apart from the world class (`trainee.worlds.repair`) so its
task sampler, renderer and oracle can import them without importing the world
(no import cycle). `trainee.worlds.repair` re-exports every name."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

MAX_BITS = 10
MAX_TESTS = 32
MAX_ARITY = 4
TRAIN_MAX_BITS = 8
TRAIN_MAX_ARITY = 3
TRAIN_TESTS_PER_BIT = 3
OBS_SIZE = 3 * MAX_BITS + MAX_TESTS + MAX_TESTS * MAX_ARITY + 1
BUDGET_SCALE = 8.0  # flips left / 8 in the observation (budgets are at most 7)


@struct.dataclass
class RepairTask:
    # Tests are bit sets over the program (bit i of a word = bit i of the program), so a
    # whole suite is checked with a few word operations instead of a (tests, bits) table.
    pos: jax.Array  # (MAX_TESTS,) int32: bits that test j wants to be 1
    neg: jax.Array  # (MAX_TESTS,) int32: bits that test j wants to be 0
    n_bits: jax.Array  # () int32
    n_tests: jax.Array  # () int32
    planted: jax.Array  # () int32 word: a program that passes every test
    initial: jax.Array  # () int32 word: the buggy program at reset
    budget: jax.Array  # () int32 flips allowed (bugs + 2)
    shaping: jax.Array  # () float32, weight of the passing-tests shaping reward
    difficulty: jax.Array  # () float32


@struct.dataclass
class RepairState:
    bits: jax.Array  # () int32 word: the program
    passing: jax.Array  # () int32 word over tests: passing now (tests beyond m count as passing)
    failed: jax.Array  # () int32 word: has failed at some point this episode
    fixed: jax.Array  # () int32 word: has passed after failing (a fixed bug)
    t: jax.Array  # () int32


BIT_INDEX = jnp.arange(MAX_BITS, dtype=jnp.int32)
TEST_INDEX = jnp.arange(MAX_TESTS, dtype=jnp.int32)


def unpack(word: jax.Array, size: int) -> jax.Array:
    """(size,) bool: the low `size` bits of an int32 word."""
    return ((word >> jnp.arange(size, dtype=jnp.int32)) & 1).astype(bool)


def pack(flags: jax.Array) -> jax.Array:
    """() int32 word from a (..., size) bool array (the last axis, bit i = flags[i])."""
    weights = jnp.left_shift(1, jnp.arange(flags.shape[-1], dtype=jnp.int32))
    return jnp.sum(jnp.where(flags, weights, 0), axis=-1).astype(jnp.int32)


def true_literals(bits: jax.Array, task: RepairTask) -> jax.Array:
    """(MAX_TESTS,) int32 words: which literals of each test hold for program `bits`."""
    return (task.pos & bits) | (task.neg & ~bits)


def passing_word(bits: jax.Array, task: RepairTask) -> jax.Array:
    """() int32 word over tests: a test passes when one of its literals holds."""
    passes = (true_literals(bits, task) != 0) | (TEST_INDEX >= task.n_tests)
    return pack(passes)


def literal_slots(task: RepairTask) -> jax.Array:
    """(MAX_TESTS, MAX_ARITY) int32: each test's literals in bit order as +(i + 1) for
    "bit i is 1", -(i + 1) for "bit i is 0", 0 for an empty slot. Peels the lowest set
    bit (w & -w) off the word of mentioned bits, its index being popcount(low - 1)."""
    rest = task.pos | task.neg
    slots = []
    for _ in range(MAX_ARITY):
        low = rest & -rest
        index = jax.lax.population_count(low - 1) + 1
        slots.append(jnp.where(low == 0, 0, jnp.where(task.pos & low, index, -index)))
        rest = rest ^ low
    return jnp.stack(slots, axis=1)


def incidence(task: RepairTask) -> jax.Array:
    """(MAX_TESTS, MAX_BITS) int32: +1 if test j wants bit i to be 1, -1 if 0, else 0."""
    bit = lambda w: (w[:, None] >> BIT_INDEX[None, :]) & 1  # noqa: E731
    return bit(task.pos) - bit(task.neg)


def make_task(clauses, planted, initial, shaping: float = 0.0, budget: int = 12) -> RepairTask:
    """A task by hand (host side), for tests and examples: `clauses` lists tests as
    lists of signed 1-based bit numbers (DIMACS style: 2 = "bit 1 is 1", -2 = "bit 1 is
    0"); `planted` and `initial` are lists of 0/1 of length n; `budget` flips allowed."""
    import numpy as np

    pos, neg = np.zeros(MAX_TESTS, np.int32), np.zeros(MAX_TESTS, np.int32)
    for j, clause in enumerate(clauses):
        for lit in clause:
            (pos if lit > 0 else neg)[j] |= 1 << (abs(lit) - 1)
    word = lambda bits: jnp.int32(sum(int(b) << i for i, b in enumerate(bits)))  # noqa: E731
    return RepairTask(
        pos=jnp.asarray(pos),
        neg=jnp.asarray(neg),
        n_bits=jnp.int32(len(planted)),
        n_tests=jnp.int32(len(clauses)),
        planted=word(planted),
        initial=word(initial),
        budget=jnp.int32(budget),
        shaping=jnp.float32(shaping),
        difficulty=jnp.float32(sum(a != b for a, b in zip(planted, initial, strict=True))),
    )


def _popcount(word: jax.Array) -> jax.Array:
    return jax.lax.population_count(word)
