"""repair: the task generator (planted programs, interacting bugs, splits, levels).

A task plants a program x* and flips k of its bits (the bugs) to get the program at
reset, x0. Every test is a clause (an OR of 2-3 literals) built from four kinds of
literal, named by their value at x0 and at x*:

- C ("correct"): on a bug bit, its planted value: false at x0, true at x*;
- O ("old"): on a bug bit, its buggy value: true at x0, false at x*;
- K ("keep"): on a clean bit, its value: true at both;
- A ("away"): on a clean bit, the other value: false at both.

Tests come in roles (`ROLES`), each a pattern of those literals:

- own test of bug b: C(b) + A + [A]: fails at x0; flipping b (or an A bit) fixes it;
- dependency b -> c: O(b) + C(c) + [A]: passes at x0 and at x*, but fails if b is fixed
  before c (fixing one bug breaks a test until the next is fixed);
- trap (half the tasks): a clean decoy bit d is the first A literal of every own test,
  so flipping d fixes all k failing tests at once, and k + 1 guard tests K(d) + A + [A]
  then fail. A flipper that takes the bit fixing the most failing tests flips d, then
  flips it back (re-introducing every bug d had hidden), and loops;
- guard of a clean bit g: K(g) + A + [A] (flipping g breaks it);
- filler: K + random K / A / O literals (passes at x0 and x*); in `structure`, the
  first filler is a shared test C(b) + C(c) + [A] instead: one failing test that either of
  two bugs repairs (in every other split a test names at most one C literal).

Every test holds at x*, so x* passes the suite and every task is solvable in k flips;
the own tests fail at x0, so no episode starts solved. A task allows `budget` = k + 2
flips: one wrong flip can be undone, a random walk almost never arrives.

Split rule (stated on the train side by `Repair.is_train`): train has n <= 8 bits,
m <= 3n tests, clauses of <= 3 literals and no test with two C literals; `bigger`
(n 9-10), `more_tests` (m in [3n + 1, 4n]) and `structure` (a shared test) each break
exactly one.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp

from trainee.worlds.padded_tasks import sample_padded
from trainee.worlds.repair_core import MAX_BITS, MAX_TESTS, RepairTask, pack

NUM_LEVELS = 5
SLACK = 2  # flips beyond the k a perfect repair needs
SPLITS = ("train", "bigger", "more_tests", "structure")  # Repair.splits: one list
BIT_RANGE = {"train": (4, 8), "bigger": (9, 10), "more_tests": (4, 8), "structure": (4, 8)}
OWN, DEPEND, TRAP_GUARD, GUARD, FILLER = range(5)
ROLES = ("own", "depend", "trap_guard", "guard", "filler")
BIG = 4.0  # noise offset that keeps a bit out of a clause's random literals


def check_level(level: int | None) -> int:
    """The level as an int for the jitted sampler (-1 for None), validated on the host."""
    if level is None:
        return -1
    if not 0 <= level < NUM_LEVELS:
        raise ValueError(f"repair level must be in 0..{NUM_LEVELS - 1}, got {level}")
    return int(level)


def bugs_for(n_bits: jax.Array) -> jax.Array:
    """k bugs for n bits: 2 at 4-5 bits, 3 at 6-7, 4 at 8-9, 5 at 10 (n // 2)."""
    return n_bits // 2


def _sizes(key, split, n, level):
    """(n,) program sizes: the split's smallest + `level` (capped), or uniform (-1)."""
    lo, hi = (jnp.array([BIT_RANGE[s][i] for s in SPLITS])[split] for i in (0, 1))
    mixed = jax.random.randint(key, (n,), lo, hi + 1)
    return jnp.where(level < 0, mixed, jnp.minimum(lo + level, hi)).astype(jnp.int32)


def _roles(counts: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(MAX_TESTS,) role and index within the role of each test slot, the roles laid
    out one after another with `counts` (5,) tests each (slots past the sum: FILLER)."""
    ends = jnp.cumsum(counts)
    slot = jnp.arange(MAX_TESTS)
    role = jnp.minimum(jnp.sum(slot[:, None] >= ends[None, :], axis=1), FILLER)
    start = jnp.concatenate([jnp.zeros(1, ends.dtype), ends])[role]
    return role, slot - start


def _literal(bit, value, used):
    """(pos, neg) words of the literal "bit == value" (nothing if not `used`)."""
    word = jnp.where(used, jnp.left_shift(1, bit), 0).astype(jnp.int32)
    return jnp.where(value, word, 0), jnp.where(value, 0, word)


class _Program(NamedTuple):
    """The planted program and its bugs, as (MAX_BITS,) arrays and scalars."""

    planted: jax.Array  # (MAX_BITS,) bool
    initial: jax.Array  # (MAX_BITS,) bool: planted ^ bug
    bug: jax.Array  # (MAX_BITS,) bool
    active: jax.Array  # (MAX_BITS,) bool: bit < n
    order: jax.Array  # (MAX_BITS,) int32: bits in a random order, the k bugs first
    decoy: jax.Array  # () int32: the first clean bit of `order`
    trap: jax.Array  # () bool
    k: jax.Array  # () int32 bugs


def _program(keys, n_bits) -> _Program:
    active = jnp.arange(MAX_BITS) < n_bits
    planted = jax.random.bernoulli(keys[0], 0.5, (MAX_BITS,)) & active
    k = bugs_for(n_bits)
    # Bits in a random order; the first k are the bugs, the next one the decoy.
    order = jnp.argsort(jax.random.uniform(keys[1], (MAX_BITS,)) + 2.0 * ~active)
    bug = (jnp.argsort(order) < k) & active
    return _Program(planted, planted ^ bug, bug, active, order, order[k],
                    jax.random.bernoulli(keys[2], 0.5), k)


def _layout(keys, split, prog: _Program, n_bits):
    """The suite size and each slot's role, index within the role and shared flag."""
    k, trap = prog.k, prog.trap
    structural = jnp.stack([k, k - 1, (k + 1) * trap, n_bits - k - trap, jnp.int32(0)])
    more, structure = split == SPLITS.index("more_tests"), split == SPLITS.index("structure")
    few = jnp.where(more, 3 * n_bits + 1, 2 * n_bits)
    many = jnp.where(more, jnp.minimum(4 * n_bits, MAX_TESTS), 3 * n_bits)
    n_tests = jax.random.randint(keys[3], (), 0, 1 << 20) % (many - few + 1) + few
    n_tests = jnp.maximum(n_tests, jnp.sum(structural) + structure)
    role, q = _roles(structural)
    # A dependency exists with probability 1/2 (its slot then becomes a filler).
    depends = jax.random.bernoulli(keys[4], 0.5, (MAX_TESTS,))
    role = jnp.where((role == DEPEND) & ~depends, FILLER, role)
    # In `structure` the first filler slot of the layout holds the shared test.
    shared = structure & (jnp.arange(MAX_TESTS) == jnp.argmax(role == FILLER))
    return n_tests, role, q, shared


def _first_two(keys, prog: _Program, role, q, shared, n_bits):
    """Each test's first literal (bit, value) and its second when the role fixes it."""
    order, k = prog.order, prog.k
    guard_bit = order[jnp.minimum(k + prog.trap + q, MAX_BITS - 1)]
    first_bit = jnp.select(
        [role == OWN, role == DEPEND, role == TRAP_GUARD, role == GUARD],
        [order[q], order[q], jnp.broadcast_to(prog.decoy, q.shape), guard_bit],
        order[k + jax.random.randint(keys[5], (MAX_TESTS,), 0, 1 << 20) % (n_bits - k)],
    )
    first_bit = jnp.where(shared, order[0], first_bit)
    first_value = jnp.where(role == DEPEND, prog.initial[first_bit], prog.planted[first_bit])
    # Second literal: a dependency's C of the next bug; a shared test's C of bug 2;
    # a trap's own tests' A of the decoy; else random (in `_clauses`).
    fixed_second = (role == DEPEND) | shared | ((role == OWN) & prog.trap)
    second_fixed_bit = jnp.where(role == DEPEND, order[jnp.minimum(q + 1, MAX_BITS - 1)],
                                 jnp.where(shared, order[1], prog.decoy))
    return first_bit, first_value, fixed_second, second_fixed_bit


def _clauses(keys, prog: _Program, role, q, shared, n_bits):
    """(MAX_TESTS, 3) literal bits, values and used flags of every slot."""
    planted, bit_index = prog.planted, jnp.arange(MAX_BITS)
    first_bit, first_value, fixed_second, second_fixed_bit = _first_two(
        keys, prog, role, q, shared, n_bits)
    # Random literals: distinct clean bits (not the decoy where the decoy already sits
    # in the clause or must stay out: own tests of a trap-free task may use it).
    noise = jax.random.uniform(keys[6], (MAX_TESTS, MAX_BITS))
    excluded = ~prog.active[None, :] | prog.bug[None, :] | (bit_index == first_bit[:, None])
    excluded = excluded | ((bit_index == prog.decoy) & (prog.trap | (role != OWN))[:, None])
    random_bits = jnp.argsort(noise + BIG * excluded, axis=1)[:, :2]
    available = jnp.take_along_axis(noise + BIG * excluded, random_bits, 1) < BIG
    arity = jax.random.randint(keys[7], (MAX_TESTS,), 2, 4)
    filler = (role == FILLER) & ~shared
    # A filler's other literals: random value on clean bits, the buggy value on bug
    # bits (never a second C literal), drawn from all active bits but the first.
    not_first = ~prog.active[None, :] | (bit_index == first_bit[:, None])
    other = jnp.argsort(noise + BIG * not_first, axis=1)[:, :2]
    coin = jax.random.bernoulli(jax.random.fold_in(keys[7], 1), 0.5, other.shape)
    other_value = jnp.where(prog.bug[other], prog.initial[other], coin)
    second_bit = jnp.where(fixed_second, second_fixed_bit,
                           jnp.where(filler, other[:, 0], random_bits[:, 0]))
    second_value = jnp.where(fixed_second & ~shared & (role != DEPEND), ~planted[second_bit],
                             planted[second_bit])
    second_value = jnp.where(filler, other_value[:, 0], second_value)
    second_value = jnp.where(~fixed_second & (role != FILLER), ~planted[second_bit],
                             second_value)
    second_used = fixed_second | jnp.where(filler, True, available[:, 0])
    third_col = jnp.where(fixed_second, 0, 1)[:, None]
    third_bit = jnp.where(filler, other[:, 1], jnp.take_along_axis(random_bits, third_col, 1)[:, 0])
    third_value = jnp.where(filler, other_value[:, 1], ~planted[third_bit])
    third_avail = jnp.take_along_axis(available, third_col, 1)[:, 0]
    third_used = (arity == 3) & jnp.where(filler, n_bits > 2, third_avail)
    return ((first_bit, first_value, jnp.ones(MAX_TESTS, bool)),
            (second_bit, second_value, second_used), (third_bit, third_value, third_used))


def _one_task(key, split, n_bits):
    keys = jax.random.split(key, 8)
    prog = _program(keys, n_bits)
    n_tests, role, q, shared = _layout(keys, split, prog, n_bits)
    in_suite = jnp.arange(MAX_TESTS) < n_tests
    pos, neg = jnp.zeros(MAX_TESTS, jnp.int32), jnp.zeros(MAX_TESTS, jnp.int32)
    for bit, value, used in _clauses(keys, prog, role, q, shared, n_bits):
        p, m = _literal(bit, value, used & in_suite)
        pos, neg = pos | p, neg | m
    # Shuffle the suite so a test's slot says nothing about its role.
    shuffle = jax.random.uniform(jax.random.fold_in(key, 1), (MAX_TESTS,))
    perm = jnp.argsort(shuffle + 2.0 * ~in_suite)
    k = prog.k
    difficulty = k + 0.25 * n_bits + 0.1 * n_tests + prog.trap
    return RepairTask(
        pos=pos[perm], neg=neg[perm], n_bits=n_bits.astype(jnp.int32),
        n_tests=n_tests.astype(jnp.int32), planted=pack(prog.planted),
        initial=pack(prog.initial), budget=(k + SLACK).astype(jnp.int32),
        shaping=jnp.float32(0.0), difficulty=difficulty.astype(jnp.float32),
    )


def sample_tasks(key, split: str, n: int, level: jax.Array) -> RepairTask:
    """`n` tasks of `split` at `level` (a traced int32, -1 = mixed sizes): one compiled
    program for every split and every n up to a power of two (`trainee.worlds.padded_tasks`)."""
    return sample_padded(_padded_repair_tasks, "repair", SPLITS, key, split, n, level)


@partial(jax.jit, static_argnums=2)  # one compile per padded n, for every split
def _padded_repair_tasks(key, split: jax.Array, n: int, level: jax.Array) -> RepairTask:
    """The split (an index into SPLITS) is traced: its rules select values with
    `jnp.where`, each computed exactly as a sampler specialised to the split would."""
    key_sizes, key_tasks = jax.random.split(key)
    bits = _sizes(key_sizes, split, n, level)
    keys = jax.random.split(key_tasks, n)
    return jax.vmap(lambda k, b: _one_task(k, split, b))(keys, bits)
