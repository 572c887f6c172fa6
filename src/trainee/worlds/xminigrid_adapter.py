"""XLand-MiniGrid (Nikulin et al. 2024, `pip install xminigrid`) as trainee worlds.

Env card (docs/worlds/xminigrid.md has the full one):
- `xminigrid:<benchmark>` (`trivial-2k`, `small-2k`): a task is one XLand ruleset (goal,
  production rules, initial objects) played on `XLand-MiniGrid-R1-9x9`. The rulesets come
  from a small file shipped with trainee (`data/xminigrid_<benchmark>.npz`), generated
  with XLand-MiniGrid's own `scripts/ruleset_generator.py` using the arguments of its
  published benchmark of the same family (the published files are downloaded at first
  use, which cannot work offline). `train` and `heldout` come from the package's own
  `Benchmark.shuffle(key).split(train_fraction)` with `split_seed` (both recorded on the
  world). `difficulty` = the ruleset's number of rules.
- `xminigrid:MiniGrid-<Env>` (e.g. `MiniGrid-UnlockPickUp`): a classic MiniGrid env as a
  single-task world (split `train` only; the layout is drawn from the reset key).

Observation: the agent's egocentric view (view, view, 2) of (tile id, colour id),
flattened to a float32 vector of view * view * 2 integers in 0..12. Actions: Discrete(6)
(forward, turn right, turn left, pick up, put down, toggle). Reward: the package's,
1 - 0.9 * steps / max_steps on reaching the goal, else 0. Termination from the
`TimeStep`: the package marks every end `step_type == LAST` and sets `discount = 0` only
when the goal is reached, so `terminated = LAST & discount == 0` and `truncated = LAST &
discount == 1` (the time limit; a goal reached on the last step is terminated).
`info["success"]` = terminated. No hidden counters.
"""

from __future__ import annotations

from functools import partial
from importlib import resources
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from trainee.runtime.extras import import_extra
from trainee.worlds.base import Box, Discrete, Step, World

BENCHMARKS = ("trivial-2k", "small-2k")
XLAND_ENV = "XLand-MiniGrid-R1-9x9"
CLASSIC_DEFAULT = "MiniGrid-UnlockPickUp"
_LAST = 2  # xminigrid.types.StepType.LAST
_MAX_TILE_ID = 12  # xminigrid.core.constants: 13 tile kinds, 12 colours


def import_xminigrid(what: str):
    """xminigrid, or an ImportError saying what to install or what failed to import."""
    return import_extra("xminigrid", "xminigrid", what)

def world_names() -> list[str]:
    """The `xminigrid:` names `trainee.worlds.names()` lists."""
    return [f"xminigrid:{b}" for b in BENCHMARKS] + [f"xminigrid:{CLASSIC_DEFAULT}"]


def make_world(suffix: str) -> World:
    """`xminigrid:<suffix>`: a shipped ruleset benchmark or a classic MiniGrid env."""
    if suffix in BENCHMARKS:
        return XLandWorld(suffix)
    return MiniGridWorld(suffix)


def end_flags(step_type: jax.Array, discount: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(terminated, truncated) from a TimeStep's `step_type` and `discount`: the package
    marks every end LAST and zeroes the discount only when the goal is reached."""
    last = step_type == _LAST
    terminated = last & (discount == 0)
    return terminated, last & ~terminated


@struct.dataclass
class XLandTask:
    goal: jax.Array  # (5,) uint8 goal encoding
    rules: jax.Array  # (R, 7) uint8 rule encodings, padded with empty rules
    init_tiles: jax.Array  # (T, 2) uint8 initial objects, padded with empty tiles
    ruleset_id: jax.Array  # () int32, row in the shipped file
    difficulty: jax.Array  # () float32, number of rules


@struct.dataclass
class MiniGridTask:
    difficulty: jax.Array  # () float32, always 0 (the env's params are static)


def load_benchmark(name: str):
    """The shipped rulesets of `name` as an `xminigrid.benchmarks.Benchmark`."""
    from xminigrid.benchmarks import Benchmark

    path = resources.files("trainee.worlds") / "data" / f"xminigrid_{name.replace('-', '_')}.npz"
    with resources.as_file(path) as file, np.load(file) as data:
        arrays = {k: jnp.asarray(data[k]) for k in ("goals", "rules", "init_tiles", "num_rules")}
    return Benchmark(**arrays)


@partial(jax.jit, static_argnums=2)  # one compile, not one per op (76 of them: 9 s cold)
def _shuffle_and_split(bench, split_seed, train_fraction: float):
    """The package's own shuffle and split, applied to the rulesets and their ids alike:
    (train, train ids, held-out, held-out ids, a mask of the train ids)."""
    ids = jnp.arange(bench.num_rulesets(), dtype=jnp.int32)
    shuffled = bench.shuffle(jax.random.key(split_seed))
    order = jax.random.permutation(jax.random.key(split_seed), ids)
    train, heldout = shuffled.split(train_fraction)
    cut = train.num_rulesets()
    mask = jnp.zeros(len(ids), bool).at[order[:cut]].set(True)
    return train, order[:cut], heldout, order[cut:], mask


class _XMiniGridBase(World):
    """Shared reset/step over an xminigrid env; subclasses say how a task sets params."""

    counters = ()

    def _setup(self, env_id: str, max_steps: int | None):
        xminigrid = import_xminigrid(f"world {self.name!r}")
        params = {} if max_steps is None else {"max_steps": max_steps}
        if env_id not in xminigrid.registered_environments():
            known = ", ".join(e for e in xminigrid.registered_environments())
            raise ValueError(f"unknown xminigrid env {env_id!r}; known: {known}")
        self.env, self.params = xminigrid.make(env_id, **params)
        self.env_id = env_id
        self.max_steps = int(self.params.max_steps)
        self._obs_dim = int(np.prod(self.env.observation_shape(self.params)))
        self._num_actions = int(self.env.num_actions(self.params))
        # Jitted once here so that unjitted callers do not dispatch op by op.
        self._reset = jax.jit(self._reset_impl)
        self._step = jax.jit(self._step_impl)

    @property
    def observation_space(self) -> Box:
        return Box(0.0, float(_MAX_TILE_ID), (self._obs_dim,))

    @property
    def action_space(self) -> Discrete:
        return Discrete(self._num_actions)

    def _task_params(self, task):
        return self.params

    def reset(self, key, task):
        return self._reset(key, task)

    def step(self, key, state, action, task):
        return self._step(key, state, action, task)

    def _reset_impl(self, key, task):
        timestep = self.env.reset(self._task_params(task), key)
        return timestep.observation.reshape(-1).astype(jnp.float32), timestep

    def _step_impl(self, key, state, action, task):
        # The env steps deterministically (its own key lives in the state).
        timestep = self.env.step(self._task_params(task), state, action)
        terminated, truncated = end_flags(timestep.step_type, timestep.discount)
        return Step(
            timestep.observation.reshape(-1).astype(jnp.float32),
            timestep,
            jnp.asarray(timestep.reward, jnp.float32),
            terminated,
            truncated,
            self.empty_info(terminated),
        )

    def render_text(self, state, task) -> str:
        from xminigrid.rendering.text_render import render

        return str(render(state.state.grid, state.state.agent))


class XLandWorld(_XMiniGridBase):
    """XLand rulesets from a shipped benchmark file, split by the package's own
    shuffle-and-split."""

    splits = ("train", "heldout")
    axes = {"heldout": "variation"}  # same tiles, colours and actions; new rulesets

    def __init__(self, benchmark: str = "trivial-2k", env_id: str = XLAND_ENV,
                 split_seed: int = 0, train_fraction: float = 0.8,
                 max_steps: int | None = None):
        if benchmark not in BENCHMARKS:
            raise ValueError(f"unknown xminigrid benchmark {benchmark!r}; "
                             f"choose one of {', '.join(BENCHMARKS)}")
        self.name = f"xminigrid:{benchmark}"
        self._setup(env_id, max_steps)
        self.benchmark, self.split_seed, self.train_fraction = benchmark, split_seed, train_fraction
        train, train_ids, heldout, heldout_ids, self._train_mask = _shuffle_and_split(
            load_benchmark(benchmark), split_seed, train_fraction)
        self._pools = {"train": (train, train_ids), "heldout": (heldout, heldout_ids)}

    def tasks(self, key, split, n, level: int | None = None):
        self.check_split(split)
        if level not in (None, 0):
            raise ValueError(f"{self.name} level must be in 0..0, got {level}")
        bench, ids = self._pools[split]
        rows = jax.random.randint(key, (n,), 0, bench.num_rulesets())
        return XLandTask(
            goal=bench.goals[rows],
            rules=bench.rules[rows],
            init_tiles=bench.init_tiles[rows],
            ruleset_id=ids[rows],
            difficulty=bench.num_rules[rows].reshape(n).astype(jnp.float32),
        )

    def is_train(self, task):
        return self._train_mask[task.ruleset_id]

    def _task_params(self, task):
        from xminigrid.types import RuleSet

        ruleset = RuleSet(goal=task.goal, rules=task.rules, init_tiles=task.init_tiles)
        return self.params.replace(ruleset=ruleset)


class MiniGridWorld(_XMiniGridBase):
    """A classic MiniGrid env: one task (the env's static params), layouts per reset."""

    splits = ("train",)

    def __init__(self, env_id: str = CLASSIC_DEFAULT, max_steps: int | None = None):
        if not env_id.startswith("MiniGrid-"):
            raise ValueError(f"unknown xminigrid world {env_id!r}; choose a benchmark "
                             f"({', '.join(BENCHMARKS)}) or a MiniGrid-<Env>, "
                             f"e.g. {CLASSIC_DEFAULT}")
        self.name = f"xminigrid:{env_id}"
        self._setup(env_id, max_steps)

    def tasks(self, key, split, n, level: int | None = None):
        self.check_split(split)
        if level not in (None, 0):
            raise ValueError(f"{self.name} level must be in 0..0, got {level}")
        return MiniGridTask(difficulty=jnp.zeros((n,), jnp.float32))

    def is_train(self, task: Any):
        return jnp.array(True)
