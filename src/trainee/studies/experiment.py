"""The experiment pieces studies share: train S seeds in chunks with evaluations along
the way (a learning curve), and summarise per-seed numbers as JSON-ready CIs.

Everything here runs the compiled programs of `programs.py`; nothing compiles per call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import jax
import numpy as np

from trainee.evaluate import Records
from trainee.measures import aggregate
from trainee.program import Program
from trainee.studies.programs import seed_keys, study_hp
from trainee.studies.scale import Scale
from trainee.worlds import task_at


@dataclass
class Context:
    """What a study gets from the runner."""

    scale: Scale
    """The scale's budgets."""
    seeds: int
    """Seeds per configuration (>= 5 for a verdict)."""
    seed: int = 0
    """Base PRNG seed of the run."""
    advance: Any = field(default=lambda n: None)
    """Progress callback: `advance(env_steps_done)`."""
    learner: str = "ppo"
    """The learner under study (a registered name or `module:factory` / `file.py:factory`);
    studies that compare learners by design (value-function, jaggedness) use ppo and pg."""


class Curve(NamedTuple):
    steps: np.ndarray  # (points,) env steps per seed at each checkpoint (0 = untrained)
    records: dict[str, list[Records]]  # split -> one Records (S, tasks, episodes) per point
    state: Any  # final TrainState (S...)

    def success(self, split: str) -> np.ndarray:
        """(S, points) success rate on `split` at each checkpoint."""
        return np.stack([np.mean(r.success, axis=(-2, -1)) for r in self.records[split]], -1)


def ci(per_seed) -> dict[str, float]:
    """IQM with a 95% order-statistic interval across seeds (`measures.aggregate`), as
    JSON. Infinite values (e.g. competence never reached) are kept; their intervals may
    be infinite."""
    return aggregate(np.asarray(per_seed, np.float64)).to_json()


def train_curve(
    program: Program,
    ctx: Context,
    tasks,
    eval_sets: Mapping[str, Any],
    chunks: int,
    seed: int,
    hp: Mapping[str, float] | None = None,
    params=None,
    curve: bool = True,
) -> Curve:
    """Train `ctx.seeds` seeds on the pool `tasks` for `chunks` chunks, evaluating every
    split of `eval_sets` (a task batch each, shared by all seeds, same episode keys at
    every checkpoint) before training and after each chunk. `params` (S...) starts
    from given parameters (fine-tuning) with a fresh optimiser and environments. With
    `curve` False only the final parameters are evaluated."""
    hp_arrays = study_hp(program, ctx.seeds, **(hp or {}))
    pool = tasks
    state = program.init(seed_keys(seed, ctx.seeds), pool, hp_arrays)
    evaluate = program.evaluator(ctx.scale.episodes)
    if params is not None:
        state = state._replace(params=params)
    eval_key = jax.random.key(seed + 7919)  # one key for every checkpoint: paired flips
    records = {name: [] for name in eval_sets}

    def evaluate_all(params):
        for name, batch in eval_sets.items():
            records[name].append(evaluate(params, eval_key, batch).to_numpy())

    steps = []
    if curve:
        evaluate_all(state.params)
        steps.append(0)
    per_chunk = program.steps_per_chunk
    for i in range(chunks):
        state, _ = program.run(state, pool, hp_arrays)
        if curve or i == chunks - 1:
            evaluate_all(state.params)
            steps.append((i + 1) * per_chunk)
        ctx.advance(per_chunk * ctx.seeds)
    return Curve(np.asarray(steps, np.float64), records, state)


def repeat_pool(tasks, distinct: int, size: int):
    """A pool of `size` tasks made of the first `distinct` tasks repeated: the same
    experience budget spread over fewer distinct tasks."""
    return task_at(tasks, np.arange(size) % distinct)


def take(tasks, index):
    """The tasks at `index` (a sequence of positions) as a batch."""
    return task_at(tasks, np.asarray(index))
