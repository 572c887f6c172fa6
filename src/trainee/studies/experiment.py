"""The experiment pieces studies share (the protocol of issue 13): tasks drawn per seed,
training S seeds in chunks with evaluations along the way (a learning curve), the
references measured on the same tasks and episode keys, and per-seed numbers as CIs.

- **Tasks per seed** (`seed_tasks`): each seed draws its own training pool, evaluation
  tasks and episode keys, so an interval over seeds covers which tasks were drawn, not
  only training noise. Arms a study compares draw with the same seed: paired.
- **References** (`references`): beside every agent score, the random policy, the
  world's oracle and the untrained initial parameters on the same tasks and keys, and
  the normalised score (s - random) / (oracle - random); learning guards read it.

Everything here runs the compiled programs of `programs.py`; nothing compiles per call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any, NamedTuple

import jax
import numpy as np

from trainee.evaluate import Records, evaluate
from trainee.measures import aggregate
from trainee.program import Program
from trainee.runtime.compiles import named
from trainee.studies.programs import seed_keys, study_hp
from trainee.studies.scale import Scale
from trainee.worlds import World, task_at
from trainee.worlds.references import reference_policies

TASK_SALT = 104_729  # task draws use keys apart from the training keys of the same seed
EVAL_SALT = 7_919  # episode keys of evaluations, apart from both


@dataclass
class Context:
    """What a study gets from the runner."""

    scale: Scale
    """The scale's budgets."""
    seeds: int
    """Seeds per configuration (>= 5 for a verdict)."""
    seed: int = 0
    """Base PRNG seed of the run (`trainee run --seed`)."""
    advance: Any = field(default=lambda n: None)
    """Progress callback: `advance(env_steps_done)`."""
    learner: str = "ppo"
    """The learner under study (a registered name or `module:factory` / `file.py:factory`);
    studies that compare learners by design (value-function, jaggedness) use ppo and pg."""
    placebo: bool = False
    """Run the study's placebo instead: the same pipeline with a comparison that has no
    effect by construction (each study's `PLACEBO` says which); it must not come out
    supported."""


class Curve(NamedTuple):
    steps: np.ndarray  # (points,) env steps per seed at each checkpoint (0 = untrained)
    records: dict[str, list[Records]]  # split -> one Records (S, tasks, episodes) per point
    state: Any  # final TrainState (S...)
    start: dict[str, Records]  # split -> Records (S, tasks, episodes) before training
    keys: jax.Array  # (S,) the episode keys of every evaluation (one per seed)
    retest: dict[str, list[Records]]  # split -> per point, the same with fresh keys (or {})
    recorded: list | tuple = ()  # per point, `record(state)` when train_curve was given `record`

    def success(self, split: str) -> np.ndarray:
        """(S, points) success rate on `split` at each checkpoint."""
        return np.stack([np.mean(r.success, axis=(-2, -1)) for r in self.records[split]], -1)

    def final(self, split: str) -> np.ndarray:
        """(S,) success rate on `split` at the last checkpoint."""
        return np.mean(self.records[split][-1].success, axis=(-2, -1))


def ci(per_seed) -> dict[str, float]:
    """IQM with a 95% order-statistic interval across seeds (`measures.aggregate`), as
    JSON. Infinite values (e.g. competence never reached) are kept; their intervals may
    be infinite."""
    return aggregate(np.asarray(per_seed, np.float64)).to_json()


def seed_tasks(make: Callable[[jax.Array], Any], seed: int, seeds: int):
    """Tasks drawn per seed: `make(key)` (a task batch, or a dict / tuple of them) for
    each seed's own key, stacked on a leading (S,) axis. Arms compared within a study
    call this with the same `seed`, so they meet the same tasks seed by seed."""
    keys = jax.random.split(jax.random.key(seed + TASK_SALT), seeds)
    parts = [make(key) for key in keys]
    return jax.tree.map(lambda *x: np.stack([np.asarray(v) for v in x]), *parts)


def eval_keys(seed: int, seeds: int) -> jax.Array:
    """(S,) episode keys, one per seed: every checkpoint and every reference of a seed
    plays with its seed's key (paired flips, paired references)."""
    return jax.random.split(jax.random.key(seed + EVAL_SALT), seeds)


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
    eval_seed: int | None = None,
    retest: bool = False,
    record: Callable[[Any], np.ndarray] | None = None,
) -> Curve:
    """Train `ctx.seeds` seeds, seed s on its pool `tasks[s]` (from `seed_tasks`), for
    `chunks` chunks, evaluating every split of `eval_sets` (per-seed task batches) with
    the seeds' episode keys (`eval_keys(eval_seed)`, default `seed`) before training and
    after each chunk. `params` (S...) starts from given parameters (fine-tuning) with a
    fresh optimiser and environments. With `curve` False only the start and the final
    parameters are evaluated. With `retest` every checkpoint is evaluated a second time
    with fresh episode keys (a test-retest null: the same policy played twice). With
    `record`, `record(state)` is kept at every evaluated point (e.g. a learner's own
    count of extra experience)."""
    hp_arrays = study_hp(program, ctx.seeds, **(hp or {}))
    state = program.init(seed_keys(seed, ctx.seeds), tasks, hp_arrays)
    evaluate_seeds = program.evaluator(ctx.scale.episodes, in_axes=(0, 0, 0))
    if params is not None:
        state = state._replace(params=params)
    keys = eval_keys(seed if eval_seed is None else eval_seed, ctx.seeds)
    fresh = jax.random.split(jax.random.fold_in(keys[0], 1), ctx.seeds) if retest else None
    again = {name: [] for name in eval_sets} if retest else {}
    evaluate_all = partial(_evaluate_sets, evaluate_seeds, keys, eval_sets, fresh, again)
    start = evaluate_all(state.params)
    records = {name: [r] if curve else [] for name, r in start.items()}
    steps = [0] if curve else []
    recorded = [record(state)] if curve and record else []
    per_chunk = program.steps_per_chunk
    for i in range(chunks):
        state, _ = program.run(state, tasks, hp_arrays)
        if curve or i == chunks - 1:
            for name, r in evaluate_all(state.params).items():
                records[name].append(r)
            steps.append((i + 1) * per_chunk)
            if record:
                recorded.append(record(state))
        ctx.advance(per_chunk * ctx.seeds)
    return Curve(np.asarray(steps, np.float64), records, state, start, keys, again, recorded)


def _evaluate_sets(evaluate_seeds: Callable, keys, eval_sets: Mapping[str, Any], fresh,
                   again: dict, params) -> dict[str, Records]:
    """Every split of `eval_sets` played by `params` with `keys`; with `fresh` keys (a
    retest), played again with them into `again`."""
    if fresh is not None:
        for name, batch in eval_sets.items():
            again[name].append(evaluate_seeds(params, fresh, batch).to_numpy())
    return {name: evaluate_seeds(params, keys, batch).to_numpy()
            for name, batch in eval_sets.items()}


@cache
def _reference_evaluator(world: World, name: str, episodes: int) -> Callable:
    """`(keys (S,), tasks (S, n)) -> Records (S, n, episodes)` of one reference policy,
    with the episode keys an agent's evaluator derives from the same seed keys."""
    policy = reference_policies(world)[name]
    one = jax.vmap(lambda key, tasks: evaluate(world, policy, key, tasks, episodes))
    return jax.jit(named(one, f"reference[{name} {world.name} {episodes}ep]"))


def reference_records(world: World, tasks, keys: jax.Array, episodes: int) -> dict:
    """{"random": Records (S, n, episodes), "oracle": ... or absent}: the references'
    whole records (hidden counters included) per seed on per-seed `tasks` (S, n) with the
    seeds' episode `keys` (S,)."""
    names = [n for n in ("random", "oracle") if n in reference_policies(world)]
    return {name: _reference_evaluator(world, name, episodes)(keys, tasks).to_numpy()
            for name in names}


def reference_success(world: World, tasks, keys: jax.Array, episodes: int) -> dict:
    """{"random": (S,), "oracle": (S,) or absent}: success of the references per seed on
    per-seed `tasks` (S, n) with the seeds' episode `keys` (S,)."""
    return {name: np.mean(r.success, axis=(-2, -1))
            for name, r in reference_records(world, tasks, keys, episodes).items()}


def normalise(score, random, oracle):
    """(s - random) / (oracle - random): 0 is chance, 1 the oracle; nan where the two
    references tie (the task set cannot tell them apart)."""
    span = np.asarray(oracle, np.float64) - np.asarray(random, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(span) > 1e-9, (np.asarray(score) - random) / span, np.nan)


def reference_block(agent, untrained, refs: dict) -> dict:
    """JSON-ready references of one evaluation set: the agent's and the untrained
    parameters' (None: not measured) success, random and oracle, raw and normalised
    (per-seed CIs)."""
    block = {"agent": ci(agent), "random": ci(refs["random"])}
    if untrained is not None:  # (careers do not score their initial parameters)
        block["untrained"] = ci(untrained)
    if "oracle" in refs:
        block["oracle"] = ci(refs["oracle"])
        block["agent_normalised"] = ci(normalise(agent, refs["random"], refs["oracle"]))
        if untrained is not None:
            block["untrained_normalised"] = ci(normalise(untrained, refs["random"],
                                                         refs["oracle"]))
    return block


def references(program: Program, ctx: Context, curve: Curve, eval_sets: Mapping[str, Any],
               splits: tuple[str, ...] | None = None) -> dict[str, dict]:
    """`reference_block` per split of `eval_sets` (default all) for `curve`'s final
    parameters, on the curve's own per-seed tasks and episode keys."""
    out = {}
    for name in splits or tuple(eval_sets):
        refs = reference_success(program.world, eval_sets[name], curve.keys,
                                 ctx.scale.episodes)
        untrained = np.mean(curve.start[name].success, axis=(-2, -1))
        out[name] = reference_block(curve.final(name), untrained, refs)
    return out


def repeat_pool(tasks, distinct: int, size: int):
    """A pool of `size` tasks made of the first `distinct` tasks repeated: the same
    experience budget spread over fewer distinct tasks."""
    return task_at(tasks, np.arange(size) % distinct)


def take(tasks, index):
    """The tasks at `index` (a sequence of positions) as a batch."""
    return task_at(tasks, np.asarray(index))
