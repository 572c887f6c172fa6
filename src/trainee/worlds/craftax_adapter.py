"""Craftax-Classic (Matthews et al. 2024, `pip install craftax`) as the trainee world
`craftax:classic`.

Env card (docs/worlds/craftax.md has the full one):
- Observation: the package's symbolic observation, a float32 vector of 1345 (a 7 x 9
  local map of 17 block and 4 mob channels, then inventory, intrinsics, light,
  sleeping and direction), in [0, 1]. Actions: Discrete(17).
- Reward: the package's: +1 per achievement unlocked for the first time in the episode,
  +0.1 per health point gained, -0.1 per health point lost.
- Termination: `terminated` on death (health 0 or standing in lava), `truncated` at the
  time limit (`max_steps`, 10,000 by default as in the package), computed from the state
  (the package's `done` folds both together). `info["success"]` = reaching the time
  limit alive (Craftax has no goal; survival is the closest thing to one).
- Tasks are world seeds, as Procgen's `start_level`/`num_levels`: the map, its
  resources and the first mobs are generated from `jax.random.key(seed)`; the per-step
  randomness (mob moves, spawns) comes from the step key. `train` draws seeds from
  0 .. `num_train_levels` - 1, `heldout` from `HELDOUT_START` on, so the splits are
  disjoint by construction. `difficulty` is 0 (the seed says nothing about it).
- A task carries its seed's first state and observation, generated once when the task is
  drawn, so `reset` is a copy, not a world generation (a 64 x 64 map from noise, which
  `AutoReset` would otherwise compute every step: the world is a function of the seed,
  so the copy is the same reset). It costs ~26 KB a task (`TASK_BYTES`).
- Hidden counters in `info` each step, summed per episode by evaluation: one per
  achievement (`achievement_<name>`, 1 on the step it is first unlocked), `achievements`
  (their number), `health_lost` (health points lost).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from trainee.runtime.extras import import_extra
from trainee.worlds.base import Box, Discrete, Step, World
from trainee.worlds.padded_tasks import check_partitionable, first, padded_size

HELDOUT_START = 1 << 24  # first held-out seed; train seeds stay far below it
_SEED_CAP = (1 << 31) - 1  # seeds are int32


def import_craftax(what: str):
    """Craftax-Classic's symbolic env module and its constants, or an ImportError saying
    what to install or what failed to import."""
    envs = import_extra("craftax.craftax_classic.envs.craftax_symbolic_env", "craftax", what)
    return envs, import_extra("craftax.craftax_classic.constants", "craftax", what)

def world_names() -> list[str]:
    """The `craftax:` names `trainee.worlds.names()` lists."""
    return ["craftax:classic"]


def make_world(suffix: str) -> World:
    """`craftax:classic` (the package's 10,000-step episodes) or `craftax:classic-<N>`
    (episodes cut at N steps: evaluation plays every episode to `max_steps`, so the
    studies on a CPU need short ones)."""
    base, _, steps = suffix.partition("-")
    if base != "classic" or (steps and not (steps.isdigit() and int(steps) >= 1)):
        raise ValueError(f"unknown craftax world {suffix!r}; choose craftax:classic or "
                         "craftax:classic-<max_steps>, e.g. craftax:classic-1000")
    return CraftaxClassic(max_steps=int(steps)) if steps else CraftaxClassic()


# Bytes a task holds, counted from the package's state (craftax 1.6.1): the map (64 x 64
# int32, 16,384) and mob map (64 x 64 bool, 4,096), ~0.5 KB of player, mobs and plants,
# the first observation (1345 float32, 5,380), the seed and difficulty.
TASK_BYTES = 26_340
START_BATCH = 64  # worlds generated at once when tasks are drawn


@struct.dataclass
class CraftaxTask:
    seed: jax.Array  # () int32, the world seed
    difficulty: jax.Array  # () float32, always 0
    start_obs: jax.Array  # (1345,) float32, the seed's first observation
    start: Any  # the seed's first EnvState, its `state_rng` as raw key data ((2,) uint32)


class CraftaxClassic(World):
    splits = ("train", "heldout")
    axes = {"heldout": "variation"}  # same blocks, mobs and actions; new maps

    def __init__(self, max_steps: int = 10_000, num_train_levels: int = 200):
        module, constants = import_craftax("world 'craftax:classic'")
        self.name = "craftax:classic" if max_steps == 10_000 else f"craftax:classic-{max_steps}"
        self.env = module.CraftaxClassicSymbolicEnvNoAutoReset()
        self.params = self.env.default_params.replace(max_timesteps=max_steps)
        self.max_steps = max_steps
        self.num_train_levels = num_train_levels
        self._lava = constants.BlockType.LAVA.value
        self._achievements = tuple(a.name.lower() for a in constants.Achievement)
        self.counters = (*(f"achievement_{a}" for a in self._achievements),
                         "achievements", "health_lost")
        self._obs_dim = int(self.env.observation_space(self.params).shape[0])
        # Jitted here so that unjitted callers (tests, host loops) do not dispatch the
        # package's reset and step op by op (85 s and 40 s each, measured); inside an
        # outer jit or vmap these are inlined as usual.
        self._reset = jax.jit(self._reset_impl)
        self._step = jax.jit(self._step_impl)
        # In batches: one world's generation holds MBs of noise layers, so a vmap over
        # thousands of seeds (the contract draws 4096) ran out of memory.
        self._starts = jax.jit(lambda seeds: jax.lax.map(self._start_impl, seeds,
                                                         batch_size=START_BATCH))

    @property
    def observation_space(self) -> Box:
        return Box(0.0, 1.0, (self._obs_dim,))

    @property
    def action_space(self) -> Discrete:
        return Discrete(int(self.env.num_actions))

    def reset(self, key, task):
        return self._reset(key, task)

    def step(self, key, state, action, task):
        return self._step(key, state, action, task)

    def _start_impl(self, seed):
        """The first (obs, state) of world `seed`, its key stored as raw data so that a
        task is an array pytree (tasks are stacked with numpy; key arrays are not)."""
        obs, state = self.env.reset_env(jax.random.key(seed), self.params)
        return obs.astype(jnp.float32), state.replace(
            state_rng=jax.random.key_data(state.state_rng))

    def _reset_impl(self, key, task):
        # The world is the seed's (a level), generated when the task was drawn; the
        # reset key plays no part.
        state = task.start.replace(state_rng=jax.random.wrap_key_data(task.start.state_rng))
        return task.start_obs, state

    def _step_impl(self, key, state, action, task):
        obs, new, reward, _, _ = self.env.step_env(key, state, action, self.params)
        pos = new.player_position
        terminated = (new.player_health <= 0) | (new.map[pos[0], pos[1]] == self._lava)
        truncated = (new.timestep >= self.params.max_timesteps) & ~terminated
        unlocked = (new.achievements & ~state.achievements).astype(jnp.float32)  # (22,)
        info = {f"achievement_{a}": unlocked[i] for i, a in enumerate(self._achievements)}
        info["achievements"] = unlocked.sum()
        info["health_lost"] = jnp.maximum(
            jnp.asarray(state.player_health - new.player_health, jnp.float32), 0.0)
        info["success"] = truncated
        return Step(obs.astype(jnp.float32), new, jnp.asarray(reward, jnp.float32),
                    terminated, truncated, info)

    def tasks(self, key, split, n, level: int | None = None):
        self.check_split(split)
        if level not in (None, 0):
            raise ValueError(f"{self.name} level must be in 0..0, got {level}")
        low, high = (0, self.num_train_levels) if split == "train" else (HELDOUT_START, _SEED_CAP)
        # Drawn and generated for a padded batch, the first n kept (trainee.worlds.
        # padded_tasks): one compiled generation for every n up to a power of two (each n
        # compiled its own, 10-25 s cold), and a task does not depend on how many are drawn
        # with it. The tasks of n <= 64 and of powers of two are those drawn before, bit for
        # bit; for other n > 64 rows 8 on differ (docs/worlds/craftax.md, session 14).
        check_partitionable()
        seeds = jax.random.randint(key, (padded_size(n),), low, high, dtype=jnp.int32)
        start_obs, start = first(self._starts(seeds), n)
        return CraftaxTask(seed=seeds[:n], difficulty=jnp.zeros((n,), jnp.float32),
                           start_obs=start_obs, start=start)

    def is_train(self, task):
        return (task.seed >= 0) & (task.seed < self.num_train_levels)
