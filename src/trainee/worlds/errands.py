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
- Observation: Box(-1, 1, (115,)) float32, a flat vector (slots in `entity_layout`):
  a full view (a memoryless agent sees everything it needs; MiniGrid's egocentric 7x7
  view would need memory) given as an entity list, not a grid, for speed: agent
  position; wall orientation and line; door state, offset and colour; 4 object slots
  (on floor, offset from the agent, in the other room, kind, colour; slot order
  shuffled per task); 2 goal tiles; 6 creature slots; then the carried object and the
  current sub-goal (verb, object kind, object or door colour, goal colour, sub-goals
  left). Offsets are row / column differences / 8. Table: docs/worlds/errands.md.
- Actions: Discrete(5): 0 up, 1 right, 2 down, 3 left, 4 stay. Walking into an
  object picks it up (swapping it with the carried one, which takes its place; no drop
  action needed); into a closed door opens it (a locked one only while carrying its
  key); into a creature harms it (the agent does not move). Creatures then take a
  random step (or stay) onto free floor, never onto the agent or a goal tile.
- Reward: 1.0 when the last sub-goal is done (sparse); plus `subgoal_bonus` per
  completed sub-goal (shaping, default 0); minus `harm_penalty` per harm (default 0:
  harm is hidden from the reward unless the task asks).
- Termination: `terminated` on completing the errand (success); `truncated` after
  `max_steps` = 100.
- Task params (`ErrandsTask`, all arrays): layout (wall orientation / line / door),
  door colour and lock, agent start, objects (kind, colour, cell, present; slot 0 is
  the door key), goal tiles (cell, colour, present), creatures (start cells, present
  mask; capacity 6), the chain (verb, object slot, goal slot, chain_len), slip,
  harm_penalty, subgoal_bonus,
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

import jax
import jax.numpy as jnp
from flax import struct

from trainee.worlds.base import Box, Discrete, EntityGroup, EntityLayout, Step, World
from trainee.worlds.errands_tasks import (
    COLOURS,
    DELIVER,
    KINDS,
    MAX_CHAIN,
    NUM_CREATURES,
    NUM_GOALS,
    NUM_OBJECTS,
    OPEN,
    SIZE,
    SPLITS,
    TRAIN_MAX_CHAIN,
    VERBS,
    ErrandsTask,
    is_train,
    sample_task,
    side_of,
    wall_at,
)

FLOOR, CARRIED, GONE = 0, 1, 2  # object status
STAY = 4
ENTITY_SIZE = 2 + 4 + 8 + NUM_OBJECTS * 11 + NUM_GOALS * 7 + NUM_CREATURES * 3
VECTOR_SIZE = len(KINDS) + 2 * len(COLOURS) + len(VERBS) + len(KINDS) + len(COLOURS) + 4
CREATURE_DIGITS = jnp.array([5**i for i in range(NUM_CREATURES)], jnp.uint32)
DELTAS = jnp.array([[-1, 0], [0, 1], [1, 0], [0, -1], [0, 0]], jnp.int32)  # (5, 2) row, col


@struct.dataclass
class ErrandsState:
    agent: jax.Array  # () int32 cell
    object_cell: jax.Array  # (NUM_OBJECTS,) int32
    object_status: jax.Array  # (NUM_OBJECTS,) int32, FLOOR / CARRIED / GONE
    carried: jax.Array  # () int32 object slot, -1 for empty hands
    door_open: jax.Array  # () bool
    creature_cell: jax.Array  # (NUM_CREATURES,) int32
    progress: jax.Array  # () int32, index of the current sub-goal
    t: jax.Array  # () int32, steps taken


def neighbour(cell: jax.Array, direction: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The cell one step in `direction` (0-4) and whether it is inside the interior."""
    row, col = cell // SIZE + DELTAS[direction, 0], cell % SIZE + DELTAS[direction, 1]
    inside = (row >= 0) & (row < SIZE) & (col >= 0) & (col < SIZE)
    return jnp.clip(row, 0, SIZE - 1) * SIZE + jnp.clip(col, 0, SIZE - 1), inside


def blocked_floor(cell, state: ErrandsState, task: ErrandsTask) -> jax.Array:
    """bool like `cell`: a wall, a closed door or an object lying there."""
    cell = jnp.asarray(cell)
    closed_door = (cell == task.door) & ~state.door_open
    on_floor = state.object_status == FLOOR
    objects = jnp.any((cell[..., None] == state.object_cell) & on_floor, axis=-1)
    return wall_at(cell, task) | closed_door | objects


def _move_agent(state: ErrandsState, action, task: ErrandsTask):
    """The agent's action: walk, pick up / swap, open a door, or harm a creature."""
    target, inside = neighbour(state.agent, action)
    moving = inside & (action != STAY)
    slots = jnp.arange(NUM_OBJECTS)
    hit_object = (state.object_cell == target) & (state.object_status == FLOOR)
    picks = moving & jnp.any(hit_object)
    hit = jnp.argmax(hit_object)
    creature = jnp.any((state.creature_cell == target) & task.creature_present)
    harm = moving & creature
    closed_door = (target == task.door) & ~state.door_open
    opens = moving & closed_door & (~task.locked | (state.carried == 0))
    swapped_out = picks & (slots == state.carried)
    status = jnp.where(picks & (slots == hit), CARRIED, state.object_status)
    status = jnp.where(swapped_out, FLOOR, status)
    walks = moving & ~picks & ~creature & ~closed_door & ~wall_at(target, task)
    state = state.replace(
        agent=jnp.where(walks, target, state.agent),
        object_cell=jnp.where(swapped_out, target, state.object_cell),
        object_status=status,
        carried=jnp.where(picks, hit, state.carried),
        door_open=state.door_open | opens,
    )
    return state, harm


def _advance_chain(state: ErrandsState, task: ErrandsTask):
    """Complete the current sub-goal if it holds; a delivered object leaves the world."""
    index = jnp.minimum(state.progress, MAX_CHAIN - 1)
    verb, obj = task.chain_verb[index], task.chain_object[index]
    holding = state.carried == obj
    on_goal = state.agent == task.goal_cell[task.chain_goal[index]]
    done = jnp.where(verb == OPEN, state.door_open, holding)
    done = jnp.where(verb == DELIVER, holding & on_goal, done) & (state.progress < task.chain_len)
    delivered = done & (verb == DELIVER)
    gone = delivered & (jnp.arange(NUM_OBJECTS) == obj)
    state = state.replace(
        object_status=jnp.where(gone, GONE, state.object_status),
        carried=jnp.where(delivered, -1, state.carried),
        progress=state.progress + done,
    )
    return state, done


def _move_creatures(state: ErrandsState, directions, task: ErrandsTask) -> ErrandsState:
    """Each creature steps in a random direction (or stays) onto free floor that is not
    the agent's cell nor a goal tile (so none can squat on a delivery spot); creatures
    may share a cell (kept simple: they are not solid)."""
    target, inside = neighbour(state.creature_cell, directions)
    on_goal = jnp.any((target[:, None] == task.goal_cell) & task.goal_present, axis=1)
    free = inside & ~blocked_floor(target, state, task) & (target != state.agent) & ~on_goal
    return state.replace(creature_cell=jnp.where(free, target, state.creature_cell))


def _offset(cells: jax.Array, agent: jax.Array) -> jax.Array:
    """(..., 2) row and column offsets of `cells` from the agent, in [-1, 1]."""
    rows = (cells // SIZE - agent // SIZE).astype(jnp.float32)
    cols = (cells % SIZE - agent % SIZE).astype(jnp.float32)
    return jnp.stack([rows, cols], axis=-1) / (SIZE - 1)


def _entities(state: ErrandsState, task: ErrandsTask) -> jax.Array:
    """(ENTITY_SIZE,): the agent, the wall, the door, objects, goal tiles, creatures as
    fixed slots of agent-relative features (absent ones all zero). An entity list, not a
    grid: O(entities) gathers a step instead of O(cells x channels) compares; a full
    9x9x13 one-hot grid made the observation 10x the cost of the rest of the step on
    this CPU (see docs/worlds/errands.md)."""
    hot = jax.nn.one_hot
    agent = state.agent
    line = jnp.where(task.orient == 0, agent % SIZE, agent // SIZE)
    closed = ~state.door_open
    on_floor = (state.object_status == FLOOR)[:, None]
    # "In the other room" is perceived directly (as one sees the wall in between): with
    # offsets alone a small MLP learned cross-room errands several times slower.
    here = side_of(agent, task)
    across = lambda cells: (side_of(cells, task) != here)[:, None]
    objects = jnp.concatenate([
        jnp.ones((NUM_OBJECTS, 1)), _offset(state.object_cell, agent),
        across(state.object_cell), hot(task.object_kind, len(KINDS)),
        hot(task.object_colour, len(COLOURS)),
    ], axis=1) * on_floor  # (NUM_OBJECTS, 11)
    goals = jnp.concatenate([
        _offset(task.goal_cell, agent), across(task.goal_cell),
        hot(task.goal_colour, len(COLOURS)),
    ], axis=1) * task.goal_present[:, None]  # (NUM_GOALS, 7)
    creatures = jnp.concatenate(
        [jnp.ones((NUM_CREATURES, 1)), _offset(state.creature_cell, agent)], axis=1
    ) * task.creature_present[:, None]  # (NUM_CREATURES, 3)
    return jnp.concatenate([
        jnp.stack([agent // SIZE, agent % SIZE]).astype(jnp.float32) / (SIZE - 1),
        hot(task.orient, 2), jnp.stack([task.wall, task.wall - line]) / (SIZE - 1),
        jnp.stack([closed, closed & task.locked]).astype(jnp.float32),
        _offset(task.door, agent), hot(task.door_colour, len(COLOURS)),
        objects.reshape(-1), goals.reshape(-1), creatures.reshape(-1),
    ])


def _vector(state: ErrandsState, task: ErrandsTask) -> jax.Array:
    """(VECTOR_SIZE,): what the agent carries and the current sub-goal."""
    carrying = state.carried >= 0
    slot = jnp.maximum(state.carried, 0)
    index = jnp.minimum(state.progress, MAX_CHAIN - 1)
    verb, obj = task.chain_verb[index], task.chain_object[index]
    is_open = verb == OPEN
    target_colour = jnp.where(is_open, task.door_colour, task.object_colour[obj])
    goal_colour = task.goal_colour[task.chain_goal[index]]
    left = jnp.clip(task.chain_len - 1 - state.progress, 0, 3)
    hot = lambda i, n, on=True: jax.nn.one_hot(i, n) * on
    return jnp.concatenate([
        hot(task.object_kind[slot], len(KINDS), carrying),
        hot(task.object_colour[slot], len(COLOURS), carrying),
        hot(verb, len(VERBS)),
        hot(task.object_kind[obj], len(KINDS), ~is_open),
        hot(target_colour, len(COLOURS)),
        hot(goal_colour, len(COLOURS), verb == DELIVER),
        hot(left, 4),
    ])


class Errands(World):
    name = "errands"
    max_steps = 100
    splits = SPLITS
    counters = ("harm",)
    # The slots of `_entities` (their order is shuffled per task, or arbitrary), so a
    # network can treat each group as a set: docs/learners.md, "Networks".
    entity_layout = EntityLayout(ENTITY_SIZE + VECTOR_SIZE, (
        EntityGroup("object", 14, NUM_OBJECTS, 11),
        EntityGroup("goal", 14 + NUM_OBJECTS * 11, NUM_GOALS, 7),
        EntityGroup("creature", 14 + NUM_OBJECTS * 11 + NUM_GOALS * 7, NUM_CREATURES, 3),
    ))

    @property
    def observation_space(self) -> Box:
        return Box(-1.0, 1.0, (ENTITY_SIZE + VECTOR_SIZE,))

    @property
    def action_space(self) -> Discrete:
        return Discrete(5)

    def observe(self, state: ErrandsState, task: ErrandsTask) -> jax.Array:
        return jnp.concatenate([_entities(state, task), _vector(state, task)])

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
        state, harm = _move_agent(state, action, task)
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
            truncated=~success & (state.t >= self.max_steps),
            info=info,
        )

    def tasks(
        self, key, split, n, *, max_chain=None, p_locked=0.5, distractors=True,
        harm_penalty=0.0, subgoal_bonus=0.0,
    ):
        """`n` tasks of `split`. Knobs that keep tasks inside the split: `max_chain`
        (1-3, default 3) caps train-like chains, `p_locked` is the chance the door is
        locked, `distractors=False` leaves out objects and goal tiles the errand does not
        name. `harm_penalty` / `subgoal_bonus` set the optional reward terms."""
        self.check_split(split)
        max_chain = TRAIN_MAX_CHAIN if max_chain is None else int(max_chain)
        if not 1 <= max_chain <= TRAIN_MAX_CHAIN:
            raise ValueError(f"max_chain must be 1..{TRAIN_MAX_CHAIN}, got {max_chain}")
        sample = lambda k: sample_task(
            k, split, max_chain, p_locked, bool(distractors), harm_penalty, subgoal_bonus
        )
        return jax.vmap(sample)(jax.random.split(key, n))

    def easiest_tasks(self, key, n, split="train"):
        """The easiest tasks of a split: one sub-goal, door never locked, no distractor
        objects or goal tiles (binding the instruction to one of several objects is what
        a small MLP learns slowest: see docs/worlds/errands.md)."""
        return self.tasks(key, split, n, max_chain=1, p_locked=0.0, distractors=False)

    def is_train(self, task):
        return is_train(task)

    def oracle(self, key, state, task):
        from trainee.worlds.errands_oracle import act  # it imports this module

        return act(state, task)

    def render_rgb(self, state, task):
        from trainee.worlds.errands_render import rgb

        return rgb(state, task)

    def render_text(self, state, task):
        from trainee.worlds.errands_render import text

        return text(state, task)
