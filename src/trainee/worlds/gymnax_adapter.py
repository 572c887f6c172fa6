"""Any gymnax-API environment as a single-task world named `gymnax:<EnvName>`.

Needs the `gymnax` extra (imported lazily). Works with both step APIs:
- gymnax >= 1.0: `step_env` returns (obs, state, reward, terminated, info) and the time
  limit comes from `env.is_truncated(state, params)`;
- older gymnax and Craftax: `step_env` returns (obs, state, reward, done, info) where
  `done` folds in the time limit; we split it back into terminated / truncated by the
  step counter (`state.time >= params.max_steps_in_episode`). A real terminal state that
  happens exactly on the last step is then reported as truncated, the best the old
  API allows.
- a 6-value `step_env` (obs, state, reward, terminated, truncated, info) is used as is.

The task is the env's params pytree plus a `difficulty` of 0. There is one split,
`train`; external envs have no held-out splits unless you build tasks yourself.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from trainee.runtime.extras import import_extra
from trainee.worlds.base import Box, Discrete, Step, World


@struct.dataclass
class GymnaxTask:
    params: Any  # the env's EnvParams pytree
    difficulty: jax.Array  # () float32, always 0


def import_gymnax(what: str):
    """gymnax, or an ImportError saying what to install or what failed to import."""
    return import_extra("gymnax", "gymnax", what)

class GymnaxWorld(World):
    splits = ("train",)
    counters = ()

    def __init__(self, env_name: str, **make_kwargs):
        gymnax = import_gymnax(f"world 'gymnax:{env_name}'")
        if env_name not in gymnax.registered_envs:
            raise ValueError(
                f"unknown gymnax env {env_name!r}; known: {', '.join(gymnax.registered_envs)}"
            )
        self.env, self.default_params = gymnax.make(env_name, **make_kwargs)
        self.name = f"gymnax:{env_name}"
        self.max_steps = int(self.default_params.max_steps_in_episode)
        space = self.env.action_space(self.default_params)
        if not hasattr(space, "n"):
            raise ValueError(f"{self.name}: only discrete action spaces are supported")
        self._num_actions = int(space.n)
        obs_shape = tuple(self.env.observation_space(self.default_params).shape)
        self._obs_shape = obs_shape

    @property
    def observation_space(self) -> Box:
        return Box(-np.inf, np.inf, self._obs_shape)

    @property
    def action_space(self) -> Discrete:
        return Discrete(self._num_actions)

    def reset(self, key, task):
        obs, state = self.env.reset_env(key, task.params)
        return obs.astype(jnp.float32), state

    def step(self, key, state, action, task):
        params = task.params
        out = self.env.step_env(key, state, action, params)
        if len(out) == 6:
            obs, state, reward, terminated, truncated, info = out
        else:
            obs, state, reward, done, info = out
            if hasattr(self.env, "is_truncated"):  # gymnax >= 1.0
                terminated, truncated = done, self.env.is_truncated(state, params)
            else:  # legacy `done` includes the time limit
                truncated = state.time >= params.max_steps_in_episode
                terminated = done & ~truncated
        terminated = jnp.asarray(terminated, bool)
        truncated = jnp.asarray(truncated, bool) & ~terminated
        # External envs have no notion of success; we count surviving to the time limit,
        # which is right for survival tasks (CartPole) and means little elsewhere.
        info = self.empty_info(truncated)
        return Step(
            obs.astype(jnp.float32),
            state,
            jnp.asarray(reward, jnp.float32),
            terminated,
            truncated,
            info,
        )

    def tasks(self, key, split, n):
        self.check_split(split)
        batch = jax.tree.map(
            lambda x: jnp.broadcast_to(jnp.asarray(x), (n, *jnp.shape(x))), self.default_params
        )
        return GymnaxTask(params=batch, difficulty=jnp.zeros((n,), jnp.float32))

    def is_train(self, task):
        return jnp.array(True)
