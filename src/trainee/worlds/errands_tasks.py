"""errands, part 1: the task pytree, the task generator and the split rules.

Private module of `trainee.worlds.errands` (see its env card). Everything here is
jittable: a split is a rule inside the generator (never a list of seeds), and
`is_train` states the train side of every rule so the contract can check disjointness.

Cells are indexed `row * SIZE + col` on the SIZE x SIZE interior (the outer wall ring is
implicit: moves off the interior are blocked). One straight wall (vertical or
horizontal) splits the interior into two rooms joined by one door.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

SIZE = 9  # interior side; with the implicit outer wall the world is 11 x 11 (<= 13 x 13)
CELLS = SIZE * SIZE
NUM_OBJECTS = 4  # slot 0: the key of the door (present iff locked); slots 1-3: errand objects
NUM_GOALS = 2  # goal tiles (distinct colours)
NUM_CREATURES = 6  # capacity; train uses 0-2, `crowded` 4-6
MAX_CHAIN = 4
TRAIN_MAX_CHAIN = 3  # `longer` uses 4: longer than any train chain
TRAIN_MAX_CREATURES = 2
MAX_STEPS = 100  # the longest episode; a task's own `time_limit` is usually shorter

KINDS = ("key", "ball", "box")
COLOURS = ("red", "green", "blue", "yellow")
VERBS = ("fetch", "open", "deliver")
FETCH, OPEN, DELIVER = 0, 1, 2
NUM_COMBOS = len(KINDS) * len(COLOURS)  # an object's (kind, colour) as kind * 4 + colour

# `combos`: (kind, colour) pairs never named by a train errand and never present in a
# train task's errand objects: colour == (kind + 1) % 4, i.e. green key, blue ball,
# yellow box. Every kind and every colour still appears in train (compositional split,
# in the spirit of BabyAI's / gSCAN's held-out attribute combinations).
HELD_OUT_COMBOS = tuple(k * 4 + (k + 1) % 4 for k in range(len(KINDS)))

# Layouts: wall orientation (2) x wall line (3, 4 or 5: rooms >= 3 wide) x door position
# along the wall (9) = 54 ids. `layouts` holds out ids with id % 6 == 1 (9 of them), so
# each held-out wall/door combination is new although every wall line and door position
# alone occurs in train.
NUM_LAYOUTS = 2 * 3 * SIZE
LAYOUT_HELD_OUT = np.arange(NUM_LAYOUTS) % 6 == 1
TRAIN_LAYOUTS = np.flatnonzero(~LAYOUT_HELD_OUT)
TEST_LAYOUTS = np.flatnonzero(LAYOUT_HELD_OUT)

SPLITS = ("train", "layouts", "combos", "longer", "slippery", "crowded")


@struct.dataclass
class ErrandsTask:
    layout: jax.Array  # () int32, 0 .. NUM_LAYOUTS-1
    orient: jax.Array  # () int32, 0 = vertical wall (a column), 1 = horizontal (a row)
    wall: jax.Array  # () int32, the wall's column (orient 0) or row (orient 1)
    door: jax.Array  # () int32, the door's cell
    door_colour: jax.Array  # () int32
    locked: jax.Array  # () bool, the door needs the key of its colour (object slot 0)
    agent_start: jax.Array  # () int32 cell
    object_kind: jax.Array  # (NUM_OBJECTS,) int32
    object_colour: jax.Array  # (NUM_OBJECTS,) int32
    object_cell: jax.Array  # (NUM_OBJECTS,) int32
    object_present: jax.Array  # (NUM_OBJECTS,) bool
    goal_colour: jax.Array  # (NUM_GOALS,) int32
    goal_cell: jax.Array  # (NUM_GOALS,) int32
    goal_present: jax.Array  # (NUM_GOALS,) bool
    creature_cell: jax.Array  # (NUM_CREATURES,) int32 start cells
    creature_present: jax.Array  # (NUM_CREATURES,) bool
    chain_verb: jax.Array  # (MAX_CHAIN,) int32, FETCH / OPEN / DELIVER
    chain_object: jax.Array  # (MAX_CHAIN,) int32 object slot (fetch, deliver)
    chain_goal: jax.Array  # (MAX_CHAIN,) int32 goal slot (deliver)
    chain_len: jax.Array  # () int32, 1 .. MAX_CHAIN
    slip: jax.Array  # () float32, probability an action is replaced by a random move
    harm_penalty: jax.Array  # () float32, reward -= harm_penalty per harm (default 0)
    subgoal_bonus: jax.Array  # () float32, reward per completed sub-goal (default 0)
    time_limit: jax.Array  # () int32, steps before truncation (set by `Errands.tasks`)
    difficulty: jax.Array  # () float32


def wall_at(cell: jax.Array, task: ErrandsTask) -> jax.Array:
    """bool, same shape as `cell`: a wall tile (the door cell is not a wall)."""
    line = jnp.where(task.orient == 0, cell % SIZE, cell // SIZE)
    return (line == task.wall) & (cell != task.door)


def side_of(cell: jax.Array, task: ErrandsTask) -> jax.Array:
    """int32: 0 for the room before the wall line, 1 after it (wall cells give 0)."""
    line = jnp.where(task.orient == 0, cell % SIZE, cell // SIZE)
    return (line > task.wall).astype(jnp.int32)


def _manhattan(a: jax.Array, b: jax.Array) -> jax.Array:
    return jnp.abs(a // SIZE - b // SIZE) + jnp.abs(a % SIZE - b % SIZE)


def room_distance(a: jax.Array, b: jax.Array, task: ErrandsTask) -> jax.Array:
    """Shortest walking distance in an empty two-room layout (rooms are rectangles, so
    Manhattan within a room and via the door across rooms)."""
    across = side_of(a, task) != side_of(b, task)
    via_door = _manhattan(a, task.door) + _manhattan(task.door, b)
    return jnp.where(across, via_door, _manhattan(a, b))


def is_split(split: jax.Array, name: str) -> jax.Array:
    """() bool: the traced split index names `name`. The sampler computes each split's
    draw from the same key and selects it, so one compiled program serves every split
    and gives each the values a sampler specialised to it would (issue 17)."""
    return split == SPLITS.index(name)


def _layout(key, split: jax.Array):
    draw = lambda ids: jnp.asarray(ids)[jax.random.randint(key, (), 0, ids.shape[0])]
    layout = jnp.where(is_split(split, "layouts"), draw(TEST_LAYOUTS), draw(TRAIN_LAYOUTS))
    orient, wall, along = layout // 27, 3 + (layout % 27) // SIZE, layout % SIZE
    door = jnp.where(orient == 0, along * SIZE + wall, wall * SIZE + along)
    return layout, orient, wall, door


def _place(key, task: ErrandsTask):
    """Distinct cells: agent and door key in the start room, then 3 objects, 2 goals and
    the creatures anywhere free. Cells within 2 steps of the door stay clear so objects
    cannot seal the passage (walking into an object swaps it with the carried one, so
    a sealed passage could not always be cleared)."""
    key_room, key_a, key_b = jax.random.split(key, 3)
    cells = jnp.arange(CELLS)
    near_door = _manhattan(cells, task.door) <= 2
    free = ~wall_at(cells, task) & (cells != task.door) & ~near_door
    start_room = jax.random.randint(key_room, (), 0, 2)
    in_room = free & (side_of(cells, task) == start_room)
    _, first = jax.lax.top_k(jnp.where(in_room, jax.random.uniform(key_a, (CELLS,)), -1.0), 2)
    rest = free & (cells != first[0]) & (cells != first[1])
    count = 3 + NUM_GOALS + NUM_CREATURES
    _, others = jax.lax.top_k(jnp.where(rest, jax.random.uniform(key_b, (CELLS,)), -1.0), count)
    return first[0], jnp.concatenate([first[1:], others[:3]]), others[3:5], others[5:]


def _objects(key, split: jax.Array, door_colour):
    """(kind, colour) of the 4 slots: slot 0 the door key; slots 1-3 distinct combos,
    never the door key; in train never a held-out combo; in `combos` slot 1 (the first
    object the errand names) is a held-out combo."""
    key_first, key_rest = jax.random.split(key)
    combos = jnp.arange(NUM_COMBOS)
    door_key = door_colour  # kind 0 (key) * 4 + colour
    held = jnp.isin(combos, jnp.asarray(HELD_OUT_COMBOS))
    in_combos = is_split(split, "combos")
    allowed = (combos != door_key) & (in_combos | ~held)
    scores = jnp.where(allowed, jax.random.uniform(key_rest, (NUM_COMBOS,)), -1.0)
    first_ok = held & (combos != door_key)
    first = jnp.argmax(jnp.where(first_ok, jax.random.uniform(key_first, (NUM_COMBOS,)), -1))
    scores = jnp.where(in_combos & (combos == first), 2.0, scores)  # rank it first
    _, chosen = jax.lax.top_k(scores, 3)
    combo = jnp.concatenate([door_key[None], chosen])
    return combo // 4, combo % 4


def _chain(key, split: jax.Array, max_chain: jax.Array):
    """Sub-goals: at most one `open`, and fetch/deliver on distinct objects 1, 2, 3 in
    order (a delivered object is gone, so it is never named again)."""
    key_len, key_open, key_pos, key_verb, key_goal = jax.random.split(key, 5)
    length = jnp.where(is_split(split, "longer"), MAX_CHAIN,
                       jax.random.randint(key_len, (), 1, max_chain + 1))
    # With 4 sub-goals and 3 objects the open is forced; otherwise it is a coin flip.
    # `combos` needs an object sub-goal, so a 1-step combos errand is never `open`.
    has_open = (length == MAX_CHAIN) | jax.random.bernoulli(key_open)
    has_open = has_open & ~(is_split(split, "combos") & (length <= 1))
    open_at = jnp.where(has_open, jax.random.randint(key_pos, (), 0, length), MAX_CHAIN)
    steps = jnp.arange(MAX_CHAIN)
    object_index = steps - (steps > open_at)
    object_verb = jnp.where(jax.random.bernoulli(key_verb, shape=(MAX_CHAIN,)), DELIVER, FETCH)
    verb = jnp.where(steps == open_at, OPEN, object_verb[object_index])
    obj = jnp.where(steps == open_at, 0, 1 + jnp.minimum(object_index, 2))
    goal = jax.random.randint(key_goal, (MAX_CHAIN,), 0, NUM_GOALS)
    return verb.astype(jnp.int32), obj.astype(jnp.int32), goal.astype(jnp.int32), length


def _difficulty(task: ErrandsTask) -> jax.Array:
    """Chain length + walking distance / 10 (+ 0.5 if locked), scaled by slip and
    creatures: grows with chain length and distance, as the issue asks."""
    here, total = task.agent_start, jnp.float32(0.0)
    for i in range(MAX_CHAIN):
        verb, obj = task.chain_verb[i], task.chain_object[i]
        first = jnp.where(verb == OPEN, task.door, task.object_cell[obj])
        second = jnp.where(verb == DELIVER, task.goal_cell[task.chain_goal[i]], first)
        leg = room_distance(here, first, task) + room_distance(first, second, task)
        active = i < task.chain_len
        total = total + jnp.where(active, leg, 0)
        here = jnp.where(active, second, here)
    named = jnp.arange(MAX_CHAIN) < task.chain_len
    distractors = jnp.sum(task.object_present[1:]) - jnp.sum(named & (task.chain_verb != OPEN))
    distractors += jnp.sum(task.goal_present) - jnp.any(named & (task.chain_verb == DELIVER))
    base = task.chain_len + total / 10.0 + 0.5 * task.locked + 0.2 * distractors
    crowd = 0.1 * jnp.sum(task.creature_present)
    return ((base + crowd) * (1.0 + 2.0 * task.slip)).astype(jnp.float32)


def sample_task(key, split: jax.Array, max_chain: jax.Array, p_locked, distractors: jax.Array,
                harm_penalty, subgoal_bonus):
    """One task of `split` (an index into SPLITS), with chains of at most `max_chain` in
    train-like splits, the door locked with probability `p_locked`, and objects / goal
    tiles the errand does not name only if `distractors`. Every argument may be traced."""
    keys = jax.random.split(key, 9)
    layout, orient, wall, door = _layout(keys[0], split)
    door_colour = jax.random.randint(keys[1], (), 0, len(COLOURS))
    kind, colour = _objects(keys[2], split, door_colour)
    locked = jax.random.bernoulli(keys[3], p_locked)
    n_creatures = jnp.where(is_split(split, "crowded"),
                            jax.random.randint(keys[4], (), 4, NUM_CREATURES + 1),
                            jax.random.randint(keys[4], (), 0, TRAIN_MAX_CREATURES + 1))
    slip = jnp.where(is_split(split, "slippery"),
                     jax.random.uniform(keys[5], (), minval=0.1, maxval=0.3), jnp.float32(0.0))
    verb, obj, goal, length = _chain(keys[6], split, max_chain)
    # Shuffle which slot holds the 1st, 2nd, 3rd named object, so a slot's position in
    # the observation says nothing about the errand (only kind and colour do).
    slots = 1 + jax.random.permutation(jax.random.fold_in(keys[6], 1), 3)
    kind = kind.at[slots].set(kind[1:])
    colour = colour.at[slots].set(colour[1:])
    obj = jnp.where(obj == 0, 0, slots[jnp.maximum(obj - 1, 0)])
    zeros = jnp.zeros((), jnp.int32)
    task = ErrandsTask(
        layout=layout, orient=orient, wall=wall, door=door, door_colour=door_colour,
        locked=locked, agent_start=zeros, object_kind=kind, object_colour=colour,
        object_cell=jnp.zeros(NUM_OBJECTS, jnp.int32),
        object_present=jnp.arange(NUM_OBJECTS) > 0,
        goal_colour=jax.random.permutation(keys[7], len(COLOURS))[:NUM_GOALS],
        goal_cell=jnp.zeros(NUM_GOALS, jnp.int32), goal_present=jnp.ones(NUM_GOALS, bool),
        creature_cell=jnp.zeros(NUM_CREATURES, jnp.int32),
        creature_present=jnp.arange(NUM_CREATURES) < n_creatures,
        chain_verb=verb, chain_object=obj, chain_goal=goal, chain_len=length,
        slip=slip, harm_penalty=jnp.float32(harm_penalty),
        subgoal_bonus=jnp.float32(subgoal_bonus), time_limit=jnp.int32(MAX_STEPS),
        difficulty=jnp.float32(0.0),
    )
    agent, objects, goals, creatures = _place(keys[8], task)
    task = task.replace(
        agent_start=agent, object_cell=objects.astype(jnp.int32), goal_cell=goals,
        creature_cell=creatures, object_present=task.object_present.at[0].set(locked),
    )
    bare = _without_distractors(task)
    task = task.replace(object_present=jnp.where(distractors, task.object_present,
                                                 bare.object_present),
                        goal_present=jnp.where(distractors, task.goal_present, bare.goal_present))
    return task.replace(difficulty=_difficulty(task))


def _without_distractors(task: ErrandsTask) -> ErrandsTask:
    """Only the objects (and the door's key slot) and goal tiles the errand names."""
    verb, length = task.chain_verb, task.chain_len
    named = (jnp.arange(MAX_CHAIN) < length)[:, None]
    uses = lambda slots, verbs, n: jnp.any(
        named & jnp.isin(verb, verbs)[:, None] & (slots[:, None] == jnp.arange(n)), 0
    )
    return task.replace(
        object_present=task.object_present & ((jnp.arange(NUM_OBJECTS) == 0) | uses(
            task.chain_object, jnp.array([FETCH, DELIVER]), NUM_OBJECTS
        )),
        goal_present=uses(task.chain_goal, jnp.array([DELIVER]), NUM_GOALS),
    )


def is_train(task: ErrandsTask) -> jax.Array:
    """() bool: the train side of every split rule."""
    layout_ok = ~jnp.asarray(LAYOUT_HELD_OUT)[task.layout]
    named = (task.chain_verb != OPEN) & (jnp.arange(MAX_CHAIN) < task.chain_len)
    combo = task.object_kind[task.chain_object] * 4 + task.object_colour[task.chain_object]
    combo_ok = ~jnp.any(named & jnp.isin(combo, jnp.asarray(HELD_OUT_COMBOS)))
    chain_ok = task.chain_len <= TRAIN_MAX_CHAIN
    crowd_ok = jnp.sum(task.creature_present) <= TRAIN_MAX_CREATURES
    return layout_ok & combo_ok & chain_ok & (task.slip == 0.0) & crowd_ok
