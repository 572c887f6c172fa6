"""repair: fix a buggy program by flipping its bits until every test passes.

Env card
--------
- Program and tests: a program is n bits (n <= 10); its test suite is m tests (m <= 32),
  each a clause: an OR of 2-4 literals ("bit i is 1" or "bit i is 0"). Every task has a
  planted program that passes all tests, so every task is solvable; at reset the program
  is the planted one with 1 .. ceil(n / 2) bits flipped, and at least one test fails.
- Observation: (190,) float32 in [-1, 1]; capacity arrays where 0 means "beyond n bits /
  m tests" (the mask is folded into the values to keep the vector small):
  `[0:10]` the bits, +1 for 1 and -1 for 0; `[10:42]` the tests, +1 failing, -1 passing;
  `[42:170]` the tests' structure, (32, 4) literal slots: +(i + 1) / 10 for "bit i is 1",
  -(i + 1) / 10 for "bit i is 0", 0 for an empty slot;
  `[170:180]` per bit, the failing tests that flipping it would fix ("make", / 4, capped
  at 1) and `[180:190]` the passing tests that flipping it would break ("break"):
  WalkSAT's two scores (Selman, Kautz & Cohen 1994), derived from bits and structure.
- Actions: Discrete(10): flip bit i. Flipping a bit beyond n changes nothing (a wasted step).
- Reward: 1 on success, plus `shaping` x (change in the number of passing tests) / m
  (`shaping` is 0 in every built-in split: the reward is the outcome only).
- Termination: `terminated` with success when every test passes; `truncated` after
  `max_steps` = 30 steps (3 x the most bits).
- Task params: `pos`, `neg` (32,) int32 (bit sets: the bits each test wants 1 / 0),
  `n_bits`, `n_tests`, `planted` and `initial` (int32 words, bit i = program bit i),
  `shaping`, `difficulty`.
- Splits and shift axes (each held-out split changes exactly one of the train ranges):
  `train`: n 4-8, m in [2n, 3n], clauses of 2 or 3 literals;
  `bigger`: n 9-10; `more_tests`: m in [3n + 1, 4n]; `structure`: about half the tests
  are 4-literal clauses (never seen in train). `tasks(key, split, n, level=0)` gives the
  easiest tasks (levels 0-4: n = 4 + level on train; 0 = 4 bits).
- Hidden counters: `regressions`: tests that had passed after failing (a fixed bug) and
  fail again on this step (a re-introduced bug); their episode sum is the per-episode
  count. `wasted`: flips of bits beyond n.
- Oracle: flip, among the bits that differ from the planted program, the one that fixes
  the most failing tests; it reaches the planted program in <= ceil(n / 2) flips.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from trainee.worlds.base import Box, Discrete, Step, World

MAX_BITS = 10
MAX_TESTS = 32
MAX_ARITY = 4
TRAIN_MAX_BITS = 8
TRAIN_MAX_ARITY = 3
TRAIN_TESTS_PER_BIT = 3
OBS_SIZE = 3 * MAX_BITS + MAX_TESTS + MAX_TESTS * MAX_ARITY


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


def make_task(clauses, planted, initial, shaping: float = 0.0) -> RepairTask:
    """A task by hand (host side), for tests and examples: `clauses` lists tests as
    lists of signed 1-based bit numbers (DIMACS style: 2 = "bit 1 is 1", -2 = "bit 1 is
    0"); `planted` and `initial` are lists of 0/1 of length n."""
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
        shaping=jnp.float32(shaping),
        difficulty=jnp.float32(sum(a != b for a, b in zip(planted, initial, strict=True))),
    )


def _popcount(word: jax.Array) -> jax.Array:
    return jax.lax.population_count(word)


class Repair(World):
    name = "repair"
    max_steps = 3 * MAX_BITS
    splits = ("train", "bigger", "more_tests", "structure")
    counters = ("regressions", "wasted")

    @property
    def observation_space(self) -> Box:
        return Box(-1.0, 1.0, (OBS_SIZE,))

    @property
    def action_space(self) -> Discrete:
        return Discrete(MAX_BITS)

    def observe(self, state: RepairState, task: RepairTask) -> jax.Array:
        truth = true_literals(state.bits, task)  # (MAX_TESTS,) words
        active = TEST_INDEX < task.n_tests
        failing = unpack(~state.passing, MAX_TESTS)
        # A failing test has no true literal, so flipping any bit it mentions fixes it.
        make = _bit_counts(jnp.where(failing, task.pos | task.neg, 0))
        # A passing test with exactly one true literal breaks if that bit flips.
        brk = _bit_counts(jnp.where(active & (_popcount(truth) == 1), truth, 0))
        bits = unpack(state.bits, MAX_BITS)
        parts = [
            jnp.where(BIT_INDEX < task.n_bits, jnp.where(bits, 1.0, -1.0), 0.0),
            jnp.where(active, jnp.where(failing, 1.0, -1.0), 0.0),
            literal_slots(task).reshape(-1).astype(jnp.float32) / MAX_BITS,
            jnp.minimum(make * 0.25, 1.0),
            jnp.minimum(brk * 0.25, 1.0),
        ]
        return jnp.concatenate(parts).astype(jnp.float32)

    def reset(self, key, task):
        passing = passing_word(task.initial, task)
        state = RepairState(
            bits=task.initial, passing=passing, failed=~passing, fixed=jnp.int32(0),
            t=jnp.int32(0),
        )
        return self.observe(state, task), state

    def step(self, key, state, action, task):
        real = action < task.n_bits
        bits = state.bits ^ jnp.where(real, jnp.left_shift(1, action), 0).astype(jnp.int32)
        passing = passing_word(bits, task)
        # A regression: a test fixed earlier in the episode that was passing and now fails.
        regressions = _popcount(state.fixed & state.passing & ~passing).astype(jnp.float32)
        new = RepairState(
            bits=bits,
            passing=passing,
            failed=state.failed | ~passing,
            fixed=state.fixed | (state.failed & passing),
            t=state.t + 1,
        )
        success = passing == -1  # every bit of the word set: all tests pass
        gained = _popcount(passing) - _popcount(state.passing)
        reward = success + task.shaping * gained / jnp.maximum(task.n_tests, 1)
        info = self.empty_info(success)
        info["regressions"] = regressions
        info["wasted"] = (~real).astype(jnp.float32)
        return Step(
            obs=self.observe(new, task),
            state=new,
            reward=reward.astype(jnp.float32),
            terminated=success,
            truncated=~success & (new.t >= self.max_steps),
            info=info,
        )

    def tasks(self, key, split, n, level=None):
        """`n` tasks of `split`; `level` (a Python int, 0 = easiest) fixes the program
        size at the smallest of the split plus `level` (capped at the largest); None
        draws it uniformly. Tests per program are always drawn from the split's range."""
        self.check_split(split)
        from trainee.worlds.repair_tasks import check_level, sample_tasks

        return sample_tasks(key, split, n, jnp.int32(check_level(level)))

    def is_train(self, task):
        arity = jnp.max(_popcount(task.pos | task.neg))
        return (
            (task.n_bits <= TRAIN_MAX_BITS)
            & (task.n_tests <= TRAIN_TESTS_PER_BIT * task.n_bits)
            & (arity <= TRAIN_MAX_ARITY)
        )

    def oracle(self, key, state, task):
        """Among bits that differ from the planted program, flip the one that fixes the
        most failing tests (ties: the lowest bit)."""
        wrong = unpack(state.bits ^ task.planted, MAX_BITS) & (BIT_INDEX < task.n_bits)
        failing = unpack(~state.passing, MAX_TESTS)
        make = _bit_counts(jnp.where(failing, task.pos | task.neg, 0))
        return jnp.argmax(jnp.where(wrong, make + 1, 0)).astype(jnp.int32)

    def render_rgb(self, state, task):
        from trainee.worlds.repair_render import render_rgb

        return render_rgb(state, task)

    def render_text(self, state, task):
        from trainee.worlds.repair_render import render_text

        return render_text(state, task)


def _bit_counts(words: jax.Array) -> jax.Array:
    """(MAX_BITS,) int32: in how many of the (MAX_TESTS,) words each bit is set."""
    return jnp.sum((words[:, None] >> BIT_INDEX[None, :]) & 1, axis=0)
