"""Any world as a Gymnasium env, one at a time or vectorised, so Stable-Baselines3 /
CleanRL users can train on it.

    import gymnasium
    import trainee.worlds.gymnasium_export  # registers trainee/<world> with Gymnasium

    env = gymnasium.make("trainee/repair")                 # one env (SB3's make_vec_env too)
    envs = gymnasium.make_vec("trainee/repair", num_envs=256,
                              vectorization_mode="vector_entry_point")   # one jitted vmap

or without the registry: `to_gymnasium(world)` (`trainee.worlds`), `make_env(world)` and
`make_vector_env(world_or_name, num_envs)`. Needs the `gymnasium` extra (imported here,
lazily, never by `trainee.worlds`).

Both play a pool of tasks drawn once from `split` with `seed` (or the `tasks` given).
`terminated` / `truncated` pass through unchanged (the world owns its time limit),
observations are writable numpy copies, and `info` holds `success`, every hidden counter
of the world and `task_index`.

- `make_env`: each `reset` draws one task of the pool (or `options={"task_index": i}`) and
  a fresh episode key from Gymnasium's seeded `np_random`, so `reset(seed=s)` replays the
  same episode. A step is one fused jitted call (key split and world step) taking one
  packed buffer and returning the next one and the outputs in chunks of <= 512 bytes
  (`_CHUNK_WORDS`), and one copy of the outputs to the host. It plays
  `world.specialized(tasks)` where the world offers one (the same episodes, a cheaper
  program: driving without sensor noise skips its 256 kB noise table).
- `make_vector_env`: a `gymnasium.vector.VectorEnv` whose step is one jitted, vmapped call
  over all envs. It resets an env inside the same step that ended its episode
  (`autoreset_mode` SAME_STEP, as trainee's own `AutoReset`): the returned observation is
  the next episode's first, the last one is in `info["final_obs"]` (masked by
  `info["_final_obs"]`) and that step's info in `info["final_info"]`.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from trainee.worlds.base import World
from trainee.worlds.packed import Packing
from trainee.worlds.wrappers import AutoReset, TaskPool, pool_size, task_at


def _gymnasium():
    try:
        import gymnasium
    except ImportError as err:
        raise ImportError("the Gymnasium export needs gymnasium: "
                          "pip install 'trainee[gymnasium]'") from err
    return gymnasium


def _as_world(world_or_name: World | str) -> World:
    from trainee.worlds.catalog import make

    return make(world_or_name) if isinstance(world_or_name, str) else world_or_name


def _pool(world: World, split: str, seed: int, num_tasks: int, tasks: Any):
    if tasks is not None:
        return tasks
    world.check_split(split)
    return world.tasks(jax.random.key(seed), split, num_tasks)


def _spaces(gymnasium, world: World):
    space = world.observation_space
    observation = gymnasium.spaces.Box(low=np.float32(space.low), high=np.float32(space.high),
                                       shape=space.shape, dtype=np.float32)
    return observation, gymnasium.spaces.Discrete(world.action_space.n)


def _host_info(world: World, info: dict, task_index) -> dict:
    out = {name: np.asarray(info[name], np.float64) for name in world.counters}
    out["success"] = np.asarray(info["success"], bool)
    out["task_index"] = np.asarray(task_index, np.int64)
    return out


# Jitted with the world and the packings as static arguments, so envs made from the same
# world object share one compiled reset and step. The carry (key, state, task) travels as
# one uint32 vector and the step's outputs as a few float32 vectors: a call costs ~1.5 us
# per leaf in and out, and there is one call per step (`trainee.worlds.packed`).
def _packings(world: World, tasks) -> tuple[Packing, Packing]:
    task = task_at(tasks, 0)
    state = jax.eval_shape(world.reset, jax.random.key(0), task)[1]
    return Packing.of(task), Packing.of((jax.random.key(0), state, task))


# XLA:CPU runs a program's kernels one after another on the calling thread only if no
# buffer of it is over 512 bytes; otherwise it hands them to its thread pool, and for
# these tiny kernels the hand-offs cost more than the work (repair's step: about 2x, more
# on a loaded machine). So outputs leave in chunks of at most 128 words, and the reset
# takes its task's row rather than the whole pool.
_CHUNK_WORDS = 128


def _chunks(vector: jax.Array) -> tuple[jax.Array, ...]:
    return tuple(vector[i:i + _CHUNK_WORDS] for i in range(0, vector.shape[0], _CHUNK_WORDS))


@partial(jax.jit, static_argnums=(0, 1))
def _single_reset(world: World, packings, seed: jax.Array, row: jax.Array):
    """(the first carry, the first observation's chunks) of the task packed in `row`."""
    task_packing, carry_packing = packings
    task = task_packing.unpack(row)
    key, key_reset = jax.random.split(jax.random.key(seed))
    obs, state = world.reset(key_reset, task)
    return carry_packing.pack((key, state, task)), _chunks(obs.reshape(-1).astype(jnp.float32))


@partial(jax.jit, static_argnums=(0, 1))
def _single_step(world: World, packings, carry: jax.Array, action: jax.Array):
    """(the next carry, chunks of [obs..., reward, terminated, truncated, success,
    counters...]): the observation's chunks, the scalars appended to the last one if
    they fit (so a small world's step is the one output vector it always was)."""
    carry_packing = packings[1]
    key, state, task = carry_packing.unpack(carry)
    key, key_step = jax.random.split(key)
    out = world.step(key_step, state, action, task)
    scalars = [out.reward, out.terminated, out.truncated, out.info["success"],
               *(out.info[k] for k in world.counters)]
    chunks = list(_chunks(out.obs.reshape(-1).astype(jnp.float32)))
    flags = jnp.stack([jnp.asarray(x, jnp.float32) for x in scalars])
    if chunks[-1].shape[0] + flags.shape[0] <= _CHUNK_WORDS:
        chunks[-1] = jnp.concatenate([chunks[-1], flags])
    else:
        chunks.append(flags)
    return carry_packing.pack((key, out.state, task)), tuple(chunks)


def _host_vector(chunks) -> np.ndarray:
    """One writable numpy vector from a jitted call's chunks."""
    arrays = [np.asarray(c) for c in chunks]
    return np.concatenate(arrays) if len(arrays) > 1 else arrays[0].copy()


def _host_obs(world: World, chunks) -> np.ndarray:
    return _host_vector(chunks).reshape(world.observation_space.shape)


def _specialized(world: World, tasks) -> World:
    """The world the single env compiles: `world.specialized(tasks)` if the world has
    one (the same episodes on these tasks, step for step, from a cheaper program)."""
    specialize = getattr(world, "specialized", None)
    return world if specialize is None else specialize(tasks)


def make_env(world: World | str, split: str = "train", seed: int = 0, num_tasks: int = 256,
             tasks: Any = None, render_mode: str | None = None):
    """A `gymnasium.Env` playing `world` on `tasks` (a batched task pytree) or, if None,
    on `num_tasks` tasks of `split` sampled with `seed`."""
    gymnasium = _gymnasium()
    world = _as_world(world)
    tasks = _pool(world, split, seed, num_tasks, tasks)
    runner, packings = _specialized(world, tasks), _packings(world, tasks)  # runner: compiled
    rows = np.asarray(jax.vmap(packings[0].pack)(tasks))  # the pool, a row of words a task

    class WorldEnv(gymnasium.Env):
        metadata = {"render_modes": ["rgb_array", "ansi"], "render_fps": 10}

        def __init__(self):
            self.observation_space, self.action_space = _spaces(gymnasium, world)
            self.render_mode, self.world, self.tasks = render_mode, world, tasks
            self._carry, self._task_index = None, 0

        @property
        def _task(self):
            return task_at(tasks, self._task_index)

        @property
        def _state(self):
            return None if self._carry is None else packings[1].unpack(self._carry)[1]

        def reset(self, *, seed: int | None = None, options: dict | None = None):
            super().reset(seed=seed)
            options = options or {}
            index = int(options.get("task_index", self.np_random.integers(pool_size(tasks))))
            self._task_index = index
            seed = np.int32(self.np_random.integers(2**31))
            self._carry, obs = _single_reset(runner, packings, seed, rows[index])
            return _host_obs(world, obs), {"task_index": index}

        def step(self, action):
            if self._carry is None:
                raise RuntimeError("call reset() before step()")
            self._carry, outputs = _single_step(runner, packings, self._carry, np.int32(action))
            return _host_step(world, outputs, self._task_index)

        def render(self):
            if self._carry is None or self.render_mode is None:
                return None
            if self.render_mode == "ansi":
                return world.render_text(self._state, self._task)
            return np.asarray(world.render_rgb(self._state, self._task), np.uint8)

    WorldEnv.__name__ = WorldEnv.__qualname__ = f"{type(world).__name__}Env"
    return WorldEnv()


def _host_step(world: World, outputs, task_index: int):
    """Gymnasium's (obs, reward, terminated, truncated, info) from `_single_step`'s outputs."""
    outputs = _host_vector(outputs)
    shape = world.observation_space.shape
    size = int(np.prod(shape))
    reward, terminated, truncated, success, *counters = outputs[size:].tolist()
    info = {"success": bool(success), **dict(zip(world.counters, counters, strict=True)),
            "task_index": task_index}
    return outputs[:size].reshape(shape), reward, bool(terminated), bool(truncated), info


@partial(jax.jit, static_argnums=0)
def _vector_reset(env: World, keys: jax.Array, tasks):
    keys, reset_keys = jax.vmap(jax.random.split, out_axes=1)(keys)
    obs, states = jax.vmap(env.reset, in_axes=(0, None))(reset_keys, tasks)
    return (keys, states), obs


@partial(jax.jit, static_argnums=0)
def _vector_step(env: World, carry, actions: jax.Array, tasks):
    keys, states = carry
    keys, step_keys = jax.vmap(jax.random.split, out_axes=1)(keys)
    out = jax.vmap(env.step, in_axes=(0, 0, 0, None))(step_keys, states, actions, tasks)
    return (keys, out.state), (out.obs, out.reward, out.terminated, out.truncated, out.info)


def make_vector_env(world_or_name: World | str, num_envs: int, split: str = "train",
                    seed: int = 0, num_tasks: int = 256, tasks: Any = None):
    """A `gymnasium.vector.VectorEnv` of `num_envs` envs of the world, each episode a
    task drawn from the pool, stepped by one jitted, vmapped call."""
    gymnasium = _gymnasium()
    from gymnasium.vector import AutoresetMode, VectorEnv
    from gymnasium.vector.utils import batch_space

    world = _as_world(world_or_name)
    if num_envs < 1:
        raise ValueError(f"num_envs must be >= 1 (got {num_envs})")
    tasks = _pool(world, split, seed, num_tasks, tasks)
    env = AutoReset(TaskPool(world))

    class WorldVectorEnv(VectorEnv):
        metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

        def __init__(self):
            self.num_envs, self.world, self.tasks = num_envs, world, tasks
            self.single_observation_space, self.single_action_space = _spaces(gymnasium, world)
            self.observation_space = batch_space(self.single_observation_space, num_envs)
            self.action_space = batch_space(self.single_action_space, num_envs)
            self._carry = None

        def reset(self, *, seed: int | None = None, options: dict | None = None):
            super().reset(seed=seed)
            key = jax.random.key(int(self.np_random.integers(2**31)))
            self._carry, obs = _vector_reset(env, jax.random.split(key, num_envs), tasks)
            task_index = np.asarray(self._carry[1].task_index)
            return np.array(obs, np.float32), {"task_index": task_index,
                                                "_task_index": np.ones(num_envs, bool)}

        def step(self, actions):
            if self._carry is None:
                raise RuntimeError("call reset() before step()")
            actions = np.asarray(actions, np.int32).reshape(num_envs)
            self._carry, outputs = _vector_step(env, self._carry, actions, tasks)
            obs, reward, terminated, truncated, info = jax.device_get(outputs)
            return (np.array(obs, np.float32), reward.astype(np.float64), terminated,
                    truncated, _vector_info(world, info, terminated | truncated))

    WorldVectorEnv.__name__ = WorldVectorEnv.__qualname__ = f"{type(world).__name__}VectorEnv"
    return WorldVectorEnv()


def _vector_info(world: World, info: dict, done: np.ndarray) -> dict:
    """Gymnasium's vector info layout: each key with a `_key` mask of the envs it holds.
    The step's own info is given for every env; a finished env's last observation and
    info also under `final_obs` / `final_info`."""
    step_info = _host_info(world, info, info["task_index"])
    every = np.ones(done.shape, bool)
    out: dict[str, Any] = {}
    for name, value in step_info.items():
        out[name], out[f"_{name}"] = value, every
    final_obs = np.full(done.shape, None, object)
    for i in np.flatnonzero(done):
        final_obs[i] = np.asarray(info["final_obs"][i], np.float32)
    out["final_obs"], out["_final_obs"] = final_obs, done
    final_info = {}
    for name, value in step_info.items():
        final_info[name], final_info[f"_{name}"] = value, done
    out["final_info"], out["_final_info"] = final_info, done
    return out


def register_envs() -> list[str]:
    """Register every built-in world with Gymnasium as `trainee/<name>` (a single env and
    a `vector_entry_point`); returns the ids. Runs when this module is imported."""
    gymnasium = _gymnasium()
    from trainee.worlds.catalog import names

    ids = []
    for name in names():
        env_id = f"trainee/{name}"
        if env_id not in gymnasium.registry:
            gymnasium.register(env_id, entry_point=partial(make_env, name),
                               vector_entry_point=partial(make_vector_env, name),
                               disable_env_checker=True)
        ids.append(env_id)
    return ids


register_envs()
