"""repair: fix a buggy program by flipping its bits until every test passes.

Env card
--------
- Program and tests: a program is n bits (n <= 10); its test suite is m tests (m <= 32),
  each a clause: an OR of 2-3 literals ("bit i is 1" or "bit i is 0"). Every task plants
  a program that passes all tests and flips k = n // 2 of its bits (the bugs); the tests
  are built so that bugs interact (repair_tasks.py): fixing one bug can break a test
  until the next is fixed, and in half the tasks a decoy bit fixes every failing test at
  once but breaks more (a trap for a flipper that only counts the tests it fixes).
- Observation: (191,) float32 in [-1, 1]; capacity arrays where 0 means "beyond n bits /
  m tests" (the mask is folded into the values to keep the vector small):
  `[0:10]` the bits, +1 for 1 and -1 for 0; `[10:42]` the tests, +1 failing, -1 passing;
  `[42:170]` the tests' structure, (32, 4) literal slots: +(i + 1) / 10 for "bit i is 1",
  -(i + 1) / 10 for "bit i is 0", 0 for an empty slot;
  `[170:180]` per bit, the failing tests that flipping it would fix ("make", / 4, capped
  at 1) and `[180:190]` the passing tests that flipping it would break ("break"):
  WalkSAT's two scores (Selman, Kautz & Cohen 1994), derived from bits and structure;
  `[190]` flips left / 8.
- Actions: Discrete(10): flip bit i. Flipping a bit beyond n changes nothing (a wasted flip).
- Reward: 1 on success, plus `shaping` x (change in the number of passing tests) / m
  (`shaping` is 0 in every built-in split: the reward is the outcome only).
- Termination: `terminated` with success when every test passes, or without it when the
  task's flip budget (k + 2: one wrong flip can be undone) is spent; `truncated` after
  `max_steps` = 12 steps (never reached: the largest budget is 7).
- Task params: `pos`, `neg` (32,) int32 (bit sets: the bits each test wants 1 / 0),
  `n_bits`, `n_tests`, `planted` and `initial` (int32 words, bit i = program bit i),
  `budget`, `shaping`, `difficulty`.
- Splits and shift axes (each held-out split changes exactly one of the train ranges):
  `train`: n 4-8, m in [2n, 3n], every test names at most one bug's planted value;
  `structure` (variation: same bits, tests and literal slots): one test is shared by two
  bugs (either fix repairs it); `bigger` (extrapolation: bits 8-9 and their actions are
  never used in train): n 9-10; `more_tests` (extrapolation: test slots past 24 are
  never used in train): m in [3n + 1, 4n]. `tasks(key, split, n, level=L)`: levels 0-4
  set n = 4 + L on train (k = 2, 2, 3, 3, 4 bugs); 0 = easiest.
- Hidden counters: `regressions`: tests that had passed after failing (a fixed bug) and
  fail again on this step (a re-introduced bug); their episode sum is the per-episode
  count. `wasted`: flips of bits beyond n.
- Oracle: flip, among the bits that differ from the planted program, the one with the
  best make - break; it reaches the planted program in k flips, within the budget.
  `greedy_flip` (a reference, not an oracle): flip the bit that fixes the most failing
  tests now; it falls into the decoy trap.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from trainee.worlds.base import Box, Discrete, Step, World
from trainee.worlds.repair_core import (  # noqa: F401  (re-exported)
    BIT_INDEX,
    BUDGET_SCALE,
    MAX_ARITY,
    MAX_BITS,
    MAX_TESTS,
    OBS_SIZE,
    TEST_INDEX,
    TRAIN_MAX_ARITY,
    TRAIN_MAX_BITS,
    TRAIN_TESTS_PER_BIT,
    RepairState,
    RepairTask,
    _popcount,
    incidence,
    literal_slots,
    make_task,
    pack,
    passing_word,
    true_literals,
    unpack,
)
from trainee.worlds.repair_tasks import SPLITS


class Repair(World):
    name = "repair"
    max_steps = 12
    splits = SPLITS
    axes = {"structure": "variation", "bigger": "extrapolation", "more_tests": "extrapolation"}
    counters = ("regressions", "wasted")
    levels = 5

    @property
    def observation_space(self) -> Box:
        return Box(-1.0, 1.0, (OBS_SIZE,))

    @property
    def action_space(self) -> Discrete:
        return Discrete(MAX_BITS)

    def observe(self, state: RepairState, task: RepairTask) -> jax.Array:
        make, brk = make_break(state, task)
        active = TEST_INDEX < task.n_tests
        failing = unpack(~state.passing, MAX_TESTS)
        bits = unpack(state.bits, MAX_BITS)
        parts = [
            jnp.where(BIT_INDEX < task.n_bits, jnp.where(bits, 1.0, -1.0), 0.0),
            jnp.where(active, jnp.where(failing, 1.0, -1.0), 0.0),
            literal_slots(task).reshape(-1).astype(jnp.float32) / MAX_BITS,
            jnp.minimum(make * 0.25, 1.0),
            jnp.minimum(brk * 0.25, 1.0),
            ((task.budget - state.t) / BUDGET_SCALE)[None],
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
        spent = new.t >= task.budget  # a terminal failure: the budget is part of the task
        gained = _popcount(passing) - _popcount(state.passing)
        reward = success + task.shaping * gained / jnp.maximum(task.n_tests, 1)
        info = self.empty_info(success)
        info["regressions"] = regressions
        info["wasted"] = (~real).astype(jnp.float32)
        return Step(
            obs=self.observe(new, task),
            state=new,
            reward=reward.astype(jnp.float32),
            terminated=success | spent,
            truncated=~success & ~spent & (new.t >= self.max_steps),
            info=info,
        )

    def tasks(self, key, split, n, level=None):
        """`n` tasks of `split`; `level` (a Python int in 0..4, 0 = easiest) fixes the
        program size at the split's smallest + `level` (capped at its largest); None
        draws it uniformly. Bugs are n // 2; tests per program come from the split."""
        self.check_split(split)
        self.check_level(level)
        from trainee.worlds.repair_tasks import check_level, sample_tasks

        return sample_tasks(key, split, n, jnp.int32(check_level(level)))

    def is_train(self, task):
        arity = jnp.max(_popcount(task.pos | task.neg))
        planted = true_literals(task.planted, task)
        fixes = planted & ~true_literals(task.initial, task)  # literals a bug's fix makes true
        return (
            (task.n_bits <= TRAIN_MAX_BITS)
            & (task.n_tests <= TRAIN_TESTS_PER_BIT * task.n_bits)
            & (arity <= TRAIN_MAX_ARITY)
            & (jnp.max(_popcount(fixes)) <= 1)
        )

    def oracle(self, key, state, task):
        """Among bits that differ from the planted program, flip the one with the best
        make - break (ties: the lowest bit): no needless breakage on the way."""
        wrong = unpack(state.bits ^ task.planted, MAX_BITS) & (BIT_INDEX < task.n_bits)
        make, brk = make_break(state, task)
        return jnp.argmax(jnp.where(wrong, make - brk, -MAX_TESTS - 1)).astype(jnp.int32)

    def heuristics(self):
        return {"greedy": greedy_flip}

    def render_rgb(self, state, task):
        from trainee.worlds.repair_render import render_rgb

        return render_rgb(state, task)

    def render_text(self, state, task):
        from trainee.worlds.repair_render import render_text

        return render_text(state, task)


def make_break(state: RepairState, task: RepairTask) -> tuple[jax.Array, jax.Array]:
    """(MAX_BITS,) int32 each: failing tests that flipping bit i would fix ("make") and
    passing tests it would break ("break")."""
    truth = true_literals(state.bits, task)  # (MAX_TESTS,) words
    active = TEST_INDEX < task.n_tests
    failing = unpack(~state.passing, MAX_TESTS)
    # A failing test has no true literal, so flipping any bit it mentions fixes it.
    make = _bit_counts(jnp.where(failing, task.pos | task.neg, 0))
    # A passing test with exactly one true literal breaks if that bit flips.
    brk = _bit_counts(jnp.where(active & (_popcount(truth) == 1), truth, 0))
    return make, brk


def greedy_flip(key, state: RepairState, task: RepairTask) -> jax.Array:
    """The single-step greedy flipper: the bit (< n) that fixes the most failing tests
    now, ties to the lowest bit. It ignores what a flip breaks, so a decoy that fixes
    every failing test at once and breaks more makes it flip back and forth."""
    make, _ = make_break(state, task)
    return jnp.argmax(jnp.where(BIT_INDEX < task.n_bits, make, -1)).astype(jnp.int32)


def _bit_counts(words: jax.Array) -> jax.Array:
    """(MAX_BITS,) int32: in how many of the (MAX_TESTS,) words each bit is set."""
    return jnp.sum((words[:, None] >> BIT_INDEX[None, :]) & 1, axis=0)
