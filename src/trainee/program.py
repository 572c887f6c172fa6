"""The one program builder: S seeds of a learner, trained in chunks of updates.

`get_program(world, config, updates)` jits and seed-vmaps (one seed unvmapped:
`vmap_seeds`) a learner's `init` and its chunk of `updates` updates, and gives the one
evaluator (`trainee.evaluate.make_evaluator`) of its parameters. `trainee train`,
careers, fleets and studies all train through it.

The config's shape-changing fields are compile-time constants; its traced fields
(`LearnerConfig.TRACED`: `lr`, `gae_lambda`, `ent_coef`, `clip_eps`, `vf_coef`, ...)
are arguments, one value per seed, so a sweep over them reuses the compiled program.
Programs are cached per (world, learner, static config, chunk length): one compiled
program serves every caller in a process that asks for the same shapes.

    program = get_program("corridor", LearnerConfig(total_steps=8192), updates=4)
    hp = program.hp(config, seeds=4)
    state = program.init(seed_keys(0, 4), tasks, hp)
    state, metrics = program.run(state, tasks, hp)  # metrics: each (S, updates)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import cache, lru_cache
from typing import NamedTuple

import jax
import jax.numpy as jnp

from trainee.evaluate import make_evaluator
from trainee.learners import Learner, LearnerConfig, make_learner, run_updates, vmap_seeds
from trainee.learners import build_learner as _build
from trainee.runtime.compiles import named
from trainee.worlds import World, make

__all__ = ["MAX_UPDATES", "Program", "chunk_lengths", "chunk_size", "chunked_program",
           "get_program", "get_world", "seed_keys"]


class Program(NamedTuple):
    world: World
    config: LearnerConfig  # the static part (traced fields at their defaults)
    learner: Learner  # built from `config`: num_updates, steps_per_update, network, act
    updates: int  # updates per chunk
    init: Callable  # (keys (S,), tasks, hp {name: (S,)}) -> state (S, ...)
    run: Callable  # (state (S, ...), tasks, hp) -> (state, metrics each (S, updates))
    seed_tasks: bool = False  # tasks carry a leading seed axis (S, ...)

    @property
    def steps_per_chunk(self) -> int:
        """Simulated env steps of one seed in one chunk."""
        return self.updates * self.learner.steps_per_update

    @property
    def chunks(self) -> int:
        """Full chunks in the config's budget (`schedule()`: with the shorter last one)."""
        return self.learner.num_updates // self.updates

    def schedule(self, done: int = 0) -> list[int]:
        """The lengths of the chunks left after `done` updates: full chunks, then the
        remainder (if the chunk length does not divide the budget)."""
        return chunk_lengths(self.learner.num_updates - done, self.updates)

    def with_updates(self, updates: int) -> Program:
        """The same program with chunks of `updates` (for a shorter last chunk)."""
        return self if updates == self.updates else _program(self.world, self.config, updates,
                                                             self.seed_tasks)

    def hp(self, config: LearnerConfig, seeds: int, **values: float) -> dict[str, jax.Array]:
        """The traced fields of `config` (overridden by `values`) as (S,) arrays, after
        checking the concrete config."""
        concrete = dataclasses.replace(config, **values)
        concrete.validate()
        if concrete.static() != self.config:
            raise ValueError("the config differs from the program's in a static field")
        return {k: jnp.full((seeds,), v, jnp.float32) for k, v in concrete.traced().items()}

    def shared_hp(self, config: LearnerConfig, **values: float) -> dict[str, jax.Array]:
        """`hp(config, 1, **values)` as scalars: one value shared by every member of a
        batch the caller vmaps itself (a fleet's instances)."""
        return {k: v[0] for k, v in self.hp(config, 1, **values).items()}

    def evaluator(self, episodes: int, greedy: bool = False,
                  in_axes: tuple = (0, None, None)) -> Callable:
        """`(params, key, tasks) -> Records (S, tasks, episodes)`: see make_evaluator."""
        return _evaluator(self.world, self.config, episodes, greedy, in_axes)

    def learner_with(self, hp: dict) -> Learner:
        """The learner with the traced fields `hp` (scalars, concrete or traced)."""
        return _build(dataclasses.replace(self.config, **hp), self.world)


@cache
def get_world(name: str) -> World:
    """The world `name`, made once per process (so its programs are shared)."""
    return make(name)


def seed_keys(seed: int, seeds: int) -> jax.Array:
    """(S,) keys of a run's seeds: `key(seed)` split S ways."""
    return jax.random.split(jax.random.key(seed), seeds)


# At most this many updates in one run: its learning curves (a few floats per update
# and seed) are kept in memory and in metrics.json, so more is a mistyped budget.
MAX_UPDATES = 10**6
# How far above ceil(updates / chunks) a chunk length may go to divide the budget.
_DIVISOR_SEARCH = 64


def chunk_size(num_updates: int, chunks: int) -> int:
    """The chunk length for about `chunks` chunks: the smallest divisor of `num_updates`
    within a little of `ceil(num_updates / chunks)` (then one compiled function serves
    every chunk), else that ceiling itself and a shorter last chunk (`chunk_lengths`), so
    a prime or huge number of updates still checkpoints about `chunks` times."""
    low = max(1, -(-num_updates // chunks))  # integer ceiling: exact for huge counts
    top = min(num_updates, low + min(low, _DIVISOR_SEARCH))
    return next((d for d in range(low, top + 1) if num_updates % d == 0), low)


def chunk_lengths(num_updates: int, updates: int) -> list[int]:
    """`num_updates` cut into chunks of `updates`, the last one shorter if need be."""
    full, rest = divmod(num_updates, updates)
    return [updates] * full + ([rest] if rest else [])


def check_updates(num_updates: int) -> None:
    if num_updates > MAX_UPDATES:
        raise ValueError(
            f"total_steps gives {num_updates:,} updates (more than {MAX_UPDATES:,}, whose "
            "learning curves would not fit in memory); lower --total-steps or raise "
            "--num-envs / --num-steps")


def get_program(world: World | str, config: LearnerConfig, updates: int,
                seed_tasks: bool = False) -> Program:
    """The program of `config` on `world` with chunks of `updates` updates (cached).
    With `seed_tasks` its `init` and `run` take tasks with a leading seed axis (S, ...):
    each seed trains on its own pool (studies draw tasks per seed, so intervals cover
    task sampling); otherwise every seed shares one pool."""
    world = get_world(world) if isinstance(world, str) else world
    config.validate()
    return _program(world, config.static(), updates, seed_tasks)


def chunked_program(world: World | str, config: LearnerConfig, chunks: int,
                    seed_tasks: bool = False) -> Program:
    """The program that spends `config.total_steps` in about `chunks` equal chunks
    (`seed_tasks`: as in `get_program`)."""
    world = get_world(world) if isinstance(world, str) else world
    num_updates = make_learner(config, world).num_updates
    check_updates(num_updates)
    return get_program(world, config, chunk_size(num_updates, chunks), seed_tasks)


@lru_cache(maxsize=64)
def _program(world: World, config: LearnerConfig, updates: int,
             seed_tasks: bool = False) -> Program:
    learner = _build(config, world)

    def init(key, tasks, hp):
        return _build(dataclasses.replace(config, **hp), world).init(key, tasks)

    def chunk(state, tasks, hp):
        return run_updates(_build(dataclasses.replace(config, **hp), world), state, tasks,
                           updates)

    # By default every seed trains on the same pool (in_axes None), which costs no memory
    # per seed. (The XLA:CPU hang once blamed on per-seed repair pools was LAPACK's QR in
    # the initialiser, docs/studies.md; per-seed pools run on repair since.)
    axes = (0, 0 if seed_tasks else None, 0)
    # The init does not depend on the chunk length (nor, for the built-in learners, on
    # the budget): named without it, the same init of two chunk lengths is one program
    # to the persistent compilation cache, which keys on the module's text, name
    # included (driving's init of 3, 40 and 96 updates: the same text but the name;
    # 3-4 s of compile each in `trainee run`)
    init_name, name = program_name(world, config), program_name(world, config, updates)
    return Program(world, config, learner, updates,
                   jax.jit(named(vmap_seeds(init, axes), f"init[{init_name}]")),
                   jax.jit(named(vmap_seeds(chunk, axes), f"chunk[{name}]")), seed_tasks)


def program_name(world: World, config: LearnerConfig, updates: int | None = None) -> str:
    """What a compiled program is, as its name (in compile logs and
    `trainee.runtime.compiles`): world, learner, network and its shape, rollout shape,
    and the chunk length in updates; pg's advantage estimator too (each is its own program)."""
    shape = f"{config.network} {config.hidden}x{config.layers} {config.num_envs}x" \
            f"{config.num_steps}"
    learner = f"pg-{config.advantage}" if config.learner == "pg" else config.learner
    return f"{world.name} {learner} {shape}" + (f" {updates}u" if updates else "")


@lru_cache(maxsize=64)
def _evaluator(world: World, config: LearnerConfig, episodes: int, greedy: bool,
               in_axes: tuple) -> Callable:
    learner = _build(config, world)
    name = f"evaluate[{program_name(world, config)} {episodes}ep{' greedy' if greedy else ''}]"
    return make_evaluator(world, learner.act, episodes, learner.memory, greedy, in_axes, name)


