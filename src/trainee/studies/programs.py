"""The studies' programs: one per (world, learner, scale), from `trainee.program`.

A study program trains S seeds at once in chunks of updates and evaluates S parameter
sets on one task set with shared episode keys (paired evaluation, so two checkpoints
or two agents meet the same tasks and the same luck). The hyperparameters the studies
sweep (`lr`, `gae_lambda`, `ent_coef`) are traced arguments of the program, so a
sweep reuses it instead of compiling once per value (docs/design.md, "compiled once").
"""

from __future__ import annotations

import dataclasses

import jax

from trainee import program as programs
from trainee.learners import LearnerConfig, make_learner
from trainee.program import Program
from trainee.studies.scale import Scale
from trainee.worlds import World

DEFAULT_HP = {"lr": 1e-3, "gae_lambda": 0.95, "ent_coef": 0.01}
seed_keys = programs.seed_keys


def base_config(learner: str, scale: Scale, advantage: str = "group") -> LearnerConfig:
    # Constant learning rate (no annealing): a chunked run then needs no total length
    # at compile time, and fine-tuning starts at the same rate as training.
    # `scale.minibatches` is ppo's: the sweep that chose it measured ppo; pg took up to
    # 1.51x the time per env step with it (past the sweep's 1.5x cost rule) and made
    # value-function 2.5x slower, so pg and the apprentice keep 2 (issue 12, session 7).
    minibatches = scale.minibatches if learner == "ppo" else 2
    return LearnerConfig(
        learner=learner, num_envs=scale.num_envs, num_steps=scale.num_steps, group_size=4,
        advantage=advantage, update_epochs=2, num_minibatches=minibatches,
        anneal_lr=False, hidden=scale.hidden, layers=scale.layers,
        total_steps=scale.num_envs * 1024, **DEFAULT_HP,
    )


def get_program(world_name: str | World, learner: str, scale: Scale,
                advantage: str = "group") -> Program:
    """The program of `learner` (with pg's `advantage` estimator) on `world_name` (a
    registered name, or a world object a study makes itself, e.g. care's
    `SupervisedDriving`) at `scale`: chunks of about `scale.steps_per_chunk` env steps
    per seed."""
    world = world_name if isinstance(world_name, World) else programs.get_world(world_name)
    config = base_config(learner, scale, advantage)
    updates = max(1, scale.steps_per_chunk // make_learner(config, world).steps_per_update)
    return programs.get_program(world, config, updates, seed_tasks=True)


def study_hp(program: Program, seeds: int, **values: float) -> dict[str, jax.Array]:
    """The traced hyperparameters as (S,) arrays: the studies' defaults, overridden by
    `values` (checked like any config)."""
    concrete = dataclasses.replace(program.config, **DEFAULT_HP)
    return program.hp(concrete, seeds, **values)
