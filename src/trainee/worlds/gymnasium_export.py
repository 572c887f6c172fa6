"""Any world as a `gymnasium.Env`, so Stable-Baselines3 / CleanRL users can train on it.

    from trainee.worlds import to_gymnasium
    env = to_gymnasium("driving", split="train", seed=0)
    obs, info = env.reset(seed=1)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())

Needs the `gymnasium` extra (imported here, lazily, never by `trainee.worlds`). The env
plays a pool of tasks drawn once from `split` with `seed`; each `reset` draws one task of
the pool (or the one in `options={"task_index": i}`) and a fresh episode key, both from
Gymnasium's seeded `np_random`, so `reset(seed=s)` replays the same episode.
`terminated` / `truncated` pass through unchanged (the world owns its time limit), and
`info` holds `success`, every hidden counter of the world and `task_index`.

One env is one episode at a time on the host: a jitted `step` per call (tens of
microseconds), fine for SB3-style loops; for speed, use the vmapped worlds directly.
Envs made from the same world object share compiled code: for a vector env, make the
world once and pass it, `to_gymnasium(world)`.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import numpy as np

from trainee.worlds.base import World
from trainee.worlds.wrappers import pool_size, task_at

# Jitted with the world as a static argument, so envs made from the same world object
# (e.g. the 8 copies of an SB3 vector env) share one compiled reset and step.
_jit_reset = jax.jit(lambda world, key, task: world.reset(key, task), static_argnums=0)
_jit_step = jax.jit(
    lambda world, key, state, action, task: world.step(key, state, action, task),
    static_argnums=0,
)


def _gymnasium():
    try:
        import gymnasium
    except ImportError as err:  # pragma: no cover - depends on the extra
        raise ImportError("to_gymnasium needs gymnasium: pip install 'trainee[gymnasium]'") from err
    return gymnasium


def make_env(
    world: World,
    split: str = "train",
    seed: int = 0,
    num_tasks: int = 256,
    tasks: Any = None,
    render_mode: str | None = None,
):
    """A `gymnasium.Env` playing `world` on `tasks` (a batched task pytree) or, if None,
    on `num_tasks` tasks of `split` sampled with `seed`."""
    gymnasium = _gymnasium()
    if tasks is None:
        world.check_split(split)
        tasks = world.tasks(jax.random.key(seed), split, num_tasks)

    class WorldEnv(gymnasium.Env):
        metadata = {"render_modes": ["rgb_array", "ansi"], "render_fps": 10}

        def __init__(self):
            space = world.observation_space
            self.observation_space = gymnasium.spaces.Box(
                low=np.float32(space.low), high=np.float32(space.high), shape=space.shape,
                dtype=np.float32,
            )
            self.action_space = gymnasium.spaces.Discrete(world.action_space.n)
            self.render_mode = render_mode
            self.world, self.tasks = world, tasks
            self._reset = partial(_jit_reset, world)
            self._step = partial(_jit_step, world)
            self._state = self._task = None
            self._task_index = 0

        def reset(self, *, seed: int | None = None, options: dict | None = None):
            super().reset(seed=seed)
            options = options or {}
            size = pool_size(self.tasks)
            index = int(options.get("task_index", self.np_random.integers(size)))
            self._task_index = index
            self._task = task_at(self.tasks, index)
            self._key = jax.random.key(int(self.np_random.integers(2**31)))
            self._key, key_reset = jax.random.split(self._key)
            obs, self._state = self._reset(key_reset, self._task)
            return np.asarray(obs, np.float32), {"task_index": index}

        def step(self, action):
            if self._state is None:
                raise RuntimeError("call reset() before step()")
            self._key, key_step = jax.random.split(self._key)
            out = self._step(key_step, self._state, np.int32(action), self._task)
            self._state = out.state
            info = {name: float(out.info[name]) for name in world.counters}
            info["success"] = bool(out.info["success"])
            info["task_index"] = self._task_index
            return (
                np.asarray(out.obs, np.float32),
                float(out.reward),
                bool(out.terminated),
                bool(out.truncated),
                info,
            )

        def render(self):
            if self._state is None or self.render_mode is None:
                return None
            if self.render_mode == "ansi":
                return world.render_text(self._state, self._task)
            return np.asarray(world.render_rgb(self._state, self._task), np.uint8)

    WorldEnv.__name__ = WorldEnv.__qualname__ = f"{type(world).__name__}Env"
    return WorldEnv()
