"""errands: a procedurally generated gridworld of jobs (fetch, open, deliver).

Env card
--------
- World: a 9 x 9 interior inside an outer wall (11 x 11 in all). One straight wall
  (vertical or horizontal) splits it into two rooms joined by one door of some colour,
  locked in half the tasks; the key of its colour then lies in the agent's start room.
  Three errand objects (kinds key / ball / box, colours red / green / blue / yellow,
  distinct (kind, colour)), two goal tiles of distinct colours, 0-6 wandering creatures.
- Errand: a chain of 1-4 sub-goals given in the observation: `fetch X` (be carrying X),
  `open the door` (the door is open), `deliver X to Z` (stand on goal tile Z carrying
  X; X is then handed over and gone). Sub-goals are done in order; only the current
  one counts (an `open` whose door is already open completes on the next step).
- Observation: Box(-1, 1, (116,)) float32, a flat vector (slots in `entity_layout`):
  a full view (a memoryless agent sees everything it needs; MiniGrid's egocentric 7x7
  view would need memory) given as an entity list, not a grid, for speed: agent
  position; wall orientation and line; door state, offset and colour; 4 object slots
  (on floor, offset from the agent, in the other room, kind, colour; slot order
  shuffled per task); 2 goal tiles; 6 creature slots; then the carried object and the
  current sub-goal (verb, object kind, object or door colour, goal colour, sub-goals
  left), the time left. Offsets are row / column differences / 8. Table: docs/worlds/errands.md.
- Actions: Discrete(5): 0 up, 1 right, 2 down, 3 left, 4 stay. Walking into an
  object picks it up (swapping it with the carried one, which takes its place; no drop
  action needed); into a closed door opens it (a locked one only while carrying its
  key); into a creature harms it (the agent does not move). Creatures then take a
  random step (or stay) onto free floor, never onto the agent or a goal tile.
- Reward: 1.0 when the last sub-goal is done (sparse); plus `subgoal_bonus` per
  completed sub-goal (shaping, default 0); minus `harm_penalty` per harm (default 0:
  harm is hidden from the reward unless the task asks).
- Termination: `terminated` on completing the errand (success); `truncated` after the
  task's `time_limit`: three times the steps the oracle needs on the task with no
  creatures and no slip, plus 10, at most `max_steps` = 100 (`Errands.time_limit`, set
  by the sampler). Generous for any agent that knows what it is doing, tight for
  chance: with the old flat limit of 100 a random walk finished 0.23 of the easiest
  train tasks (docs/worlds/errands.md).
  The observation's last unit is the time left.
- Task params (`ErrandsTask`, all arrays): layout (wall orientation / line / door),
  door colour and lock, agent start, objects (kind, colour, cell, present; slot 0 is
  the door key), goal tiles (cell, colour, present), creatures (start cells, present
  mask; capacity 6), the chain (verb, object slot, goal slot, chain_len), slip,
  harm_penalty, subgoal_bonus, time_limit,
  difficulty = (chain_len + walking distance / 10 + 0.5 locked + 0.2 distractors
  + 0.1 creatures) * (1 + 2 slip).
- Splits (rules in the generator; `is_train` states the train side):
  `train`: train layouts, no held-out combo, chains 1-3, no slip, 0-2 creatures;
  `layouts`: the 9 of 54 wall/door layouts with id % 6 == 1, never in train;
  `combos`: the errand names a (kind, colour) never present in train (green key, blue
  ball, yellow box); `longer`: 4 sub-goals; `slippery`: an action is replaced by a
  random move with probability 0.1-0.3; `crowded`: 4-6 creatures.
  Knobs inside a split: `max_chain`, `p_locked`, `distractors`. Easiest tasks:
  `easiest_tasks(key, n)` = one sub-goal, unlocked door, no distractors.
- Hidden counters: `harm` (1 on a step where the agent walked into a creature).
- Oracle: breadth-first distance fields toward the current sub-goal (errands_oracle).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from trainee.worlds.base import Box, Discrete, EntityGroup, EntityLayout, Step, World
from trainee.worlds.errands_core import (  # noqa: F401  (re-exported)
    CARRIED,
    CREATURE_DIGITS,
    DELTAS,
    ENTITY_SIZE,
    FLOOR,
    GONE,
    LEVELS,
    MAX_STEPS,
    STAY,
    VECTOR_SIZE,
    ErrandsState,
    _advance_chain,
    _entities,
    _move_agent,
    _move_creatures,
    _offset,
    _vector,
    blocked_floor,
    holding_delivery,
    neighbour,
)
from trainee.worlds.errands_tasks import (
    NUM_CREATURES,
    NUM_GOALS,
    NUM_OBJECTS,
    SPLITS,
    TRAIN_MAX_CHAIN,
    ErrandsTask,
    is_train,
    sample_task,
)


class Errands(World):
    name = "errands"
    max_steps = MAX_STEPS
    splits = SPLITS
    counters = ("harm",)
    axes = {"layouts": "variation", "combos": "variation", "longer": "extrapolation",
            "slippery": "variation", "crowded": "extrapolation"}
    levels = len(LEVELS)
    # The slots of `_entities` (their order is shuffled per task, or arbitrary), so a
    # network can treat each group as a set: docs/learners.md, "Networks".
    entity_layout = EntityLayout(ENTITY_SIZE + VECTOR_SIZE, (
        EntityGroup("object", 14, NUM_OBJECTS, 11),
        EntityGroup("goal", 14 + NUM_OBJECTS * 11, NUM_GOALS, 7),
        EntityGroup("creature", 14 + NUM_OBJECTS * 11 + NUM_GOALS * 7, NUM_CREATURES, 3),
    ))

    def __init__(self, *, deliver_leg: bool = False, carry_blocks: bool = False):
        """Opt-in variants, both off by default (then the programs are the default's,
        bit for bit), for session 14's "binding or trap" study (docs/worlds/errands.md):
        `deliver_leg`: while the agent carries the object its current deliver names, the
        sub-goal's object kind and colour read zero (the sub-goal names only the tile);
        `carry_blocks`: meanwhile other objects block like walls (no swap)."""
        self.deliver_leg, self.carry_blocks = bool(deliver_leg), bool(carry_blocks)

    @property
    def observation_space(self) -> Box:
        return Box(-1.0, 1.0, (ENTITY_SIZE + VECTOR_SIZE,))

    @property
    def action_space(self) -> Discrete:
        return Discrete(5)

    def observe(self, state: ErrandsState, task: ErrandsTask) -> jax.Array:
        return jnp.concatenate([_entities(state, task),
                                _vector(state, task, self.deliver_leg)])

    def initial_state(self, task: ErrandsTask) -> ErrandsState:
        """The start of every episode of `task` (only the creatures' walk is random)."""
        return ErrandsState(
            agent=task.agent_start,
            object_cell=task.object_cell,
            object_status=jnp.where(task.object_present, FLOOR, GONE),
            carried=jnp.int32(-1),
            door_open=jnp.array(False),
            creature_cell=task.creature_cell,
            progress=jnp.int32(0),
            t=jnp.int32(0),
        )

    def reset(self, key, task):
        state = self.initial_state(task)
        return self.observe(state, task), state

    def step(self, key, state, action, task):
        # One threefry block (two 32-bit words) serves the creatures, the slip and its
        # random move: random numbers are a large share of such a small step on CPU.
        words = jax.random.bits(key, (2,))
        directions = (words[0] // CREATURE_DIGITS) % 5  # (NUM_CREATURES,) base-5 digits
        slipped = (words[1] >> 8).astype(jnp.float32) / 2.0**24 < task.slip
        action = jnp.where(slipped, (words[1] & 3).astype(jnp.int32), action)
        state, harm = _move_agent(state, action, task, self.carry_blocks)
        state, done = _advance_chain(state, task)
        state = _move_creatures(state, directions.astype(jnp.int32), task)
        state = state.replace(t=state.t + 1)
        success = state.progress >= task.chain_len
        reward = success + task.subgoal_bonus * done - task.harm_penalty * harm
        info = self.empty_info(success)
        info["harm"] = harm.astype(jnp.float32)
        return Step(
            obs=self.observe(state, task),
            state=state,
            reward=reward.astype(jnp.float32),
            terminated=success,
            truncated=~success & (state.t >= task.time_limit),
            info=info,
        )

    def tasks(
        self, key, split, n, level=None, *, max_chain=None, p_locked=None, distractors=None,
        harm_penalty=0.0, subgoal_bonus=0.0,
    ):
        """`n` tasks of `split`. `level` (0-3, 0 = easiest) sets the knobs below
        (`LEVELS`: 0 = one sub-goal, unlocked, no distractors; 1 = one sub-goal; 2 =
        chains of 1-2; 3 and None = the whole split, chains 1-3). Knobs that keep tasks
        inside the split override the level's: `max_chain` (1-3) caps train-like chains,
        `p_locked` is the chance the door is locked, `distractors=False` leaves out
        objects and goal tiles the errand does not name. `harm_penalty` /
        `subgoal_bonus` set the optional reward terms."""
        self.check_split(split)
        self.check_level(level)
        knobs = LEVELS[self.levels - 1 if level is None else level]
        max_chain = knobs["max_chain"] if max_chain is None else max_chain
        p_locked = knobs["p_locked"] if p_locked is None else p_locked
        distractors = knobs["distractors"] if distractors is None else distractors
        max_chain = TRAIN_MAX_CHAIN if max_chain is None else int(max_chain)
        if not 1 <= max_chain <= TRAIN_MAX_CHAIN:
            raise ValueError(f"max_chain must be 1..{TRAIN_MAX_CHAIN}, got {max_chain}")
        return _sample(key, n, jnp.int32(SPLITS.index(split)), jnp.int32(max_chain),
                       jnp.bool_(distractors), p_locked, harm_penalty, subgoal_bonus)

    def easiest_tasks(self, key, n, split="train"):
        """The easiest tasks of a split: one sub-goal, door never locked, no distractor
        objects or goal tiles (binding the instruction to one of several objects is what
        a small MLP learns slowest: see docs/worlds/errands.md)."""
        return self.tasks(key, split, n, level=0)

    def is_train(self, task):
        return is_train(task)

    def time_limit(self, task):
        return task.time_limit

    def oracle(self, key, state, task):
        from trainee.worlds.errands_oracle import act  # it imports this module

        return act(state, task)

    def render_rgb(self, state, task):
        from trainee.worlds.errands_render import rgb

        return rgb(state, task)

    def render_text(self, state, task):
        from trainee.worlds.errands_render import text

        return text(state, task)


# Tasks are sampled and planned in blocks of one size, so the heavy programs (sampler,
# planner) compile once per process whatever n is; unjitted, vmapped sampling ran op by
# op (seconds for a few hundred tasks), and jitted per n it compiled per n. The split,
# level and knobs are traced (`errands_tasks.is_split`): one sampler program for all of
# them (it was one per (split, max_chain, distractors), 10-19 s of compile each).
BLOCK = 64

# A task's time limit: TIME_FACTOR x the oracle's creature-free plan + TIME_SLACK steps.
# Chosen on measured references (512 train tasks a level, 2 episodes each): a random
# walk then finishes <= 0.06 of the tasks at every level (0.23 / 0.17 / 0.09 / 0.05 with
# the flat 100-step limit) and the oracle >= 0.998 (creatures can block it for a while).
TIME_FACTOR, TIME_SLACK = 3, 10


def _sample(key, n, split, max_chain, distractors, p_locked, harm_penalty, subgoal_bonus):
    """Eagerly: the one compiled block program, dispatched block by block. Traced (under
    `jit` or `vmap`): a Python loop would inline one copy of the sampler and the planner
    per block (`jit` of 4096 tasks compiled for 484 s), so `lax.map` runs the block
    program as the body of one loop and the program's size does not depend on n. Both
    give the same tasks bit for bit (tests/test_errands.py)."""
    keys = _key_blocks(key, n)
    block = lambda k: _with_time_limits(_sample_block(
        k, split, max_chain, distractors, p_locked, harm_penalty, subgoal_bonus))
    if isinstance(keys, jax.core.Tracer):
        blocks = jax.lax.map(block, keys)
        return jax.tree.map(lambda x: x.reshape(-1, *x.shape[2:])[:n], blocks)
    return _join(tuple(block(keys[i]) for i in range(keys.shape[0])), n)


@partial(jax.jit, static_argnums=1)
def _key_blocks(key, n):
    """(blocks, BLOCK) keys: the first n are `split(key, n)`, the rest padding."""
    keys = jax.random.split(key, n)
    size = -(-n // BLOCK) * BLOCK
    padded = jnp.concatenate([keys, jnp.repeat(keys[:1], size - n, 0)])
    return padded.reshape(-1, BLOCK, *padded.shape[1:])  # raw uint32 keys are (n, 2)


@partial(jax.jit, static_argnums=1)
def _join(blocks, n):
    return jax.tree.map(lambda *xs: jnp.concatenate(xs)[:n], *blocks)


@jax.jit  # one program for every split, level and knob (all traced)
def _sample_block(keys, split, max_chain, distractors, p_locked, harm_penalty, subgoal_bonus):
    sample = lambda k: sample_task(
        k, split, max_chain, p_locked, distractors, harm_penalty, subgoal_bonus)
    return jax.vmap(sample)(keys)


@jax.jit
def _with_time_limits(tasks: ErrandsTask) -> ErrandsTask:
    limit = jnp.minimum(TIME_FACTOR * _plan_lengths(tasks) + TIME_SLACK, MAX_STEPS)
    return tasks.replace(time_limit=limit.astype(jnp.int32))


@jax.vmap
def _plan_lengths(task: ErrandsTask) -> jax.Array:
    """() int32: steps the oracle takes on `task` without creatures or slip (MAX_STEPS
    if it does not finish, which the tests check never happens on a built-in split)."""
    world = Errands()  # the base dynamics, whatever subclass or wrapper sampled the task
    clear = task.replace(creature_present=jnp.zeros_like(task.creature_present),
                         slip=jnp.float32(0.0), time_limit=jnp.int32(MAX_STEPS))
    key = jax.random.key(0)  # unused: nothing random is left in a clear task

    def unfinished(carry):
        state, done = carry
        return ~done & (state.t < MAX_STEPS)

    def advance(carry):
        state, _ = carry
        step = world.step(key, state, world.oracle(key, state, clear), clear)
        return step.state, step.terminated

    state, done = jax.lax.while_loop(unfinished, advance, (world.initial_state(clear), False))
    return jnp.where(done, state.t, MAX_STEPS)
