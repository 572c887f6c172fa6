"""Running a career: every seed does every job in turn (seeds vmapped), the R matrix is
filled after each job, and the continual metrics are summarised with CIs.

Documented choice: parameters carry from job to job; the optimiser state is fresh at
each job start, so every job gets the whole learning-rate schedule (and Adam's moments
from the last job do not steer the first steps of the next one). A learner may declare
other state it keeps (`Learner.keep`: the apprentice's reservoir of tasks); that carries too.

A mixed-world career trains one network across worlds: each world is embedded in one
shared interface (`career_worlds`), one program is compiled per (world, budget), the
parameters carry across jobs of different worlds, and the R matrix evaluates each job in
its own embedded world. A single-world career runs its world unchanged.

Baselines run by the same code: `finetune` (carry parameters, the naive continual
learner), `scratch` (fresh parameters for each job) and `multitask` (one learner trained
on all jobs' tasks at once for the career's whole budget).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cache
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from trainee.careers.career import Career, Job, career_worlds, job_tasks
from trainee.careers.interventions import Context, dormant_fraction, make_interventions
from trainee.learners import LearnerConfig
from trainee.measures import flips
from trainee.program import Program, chunked_program, get_program
from trainee.runtime.progress import progress_bar


@dataclass(frozen=True)
class CareerConfig:
    """How a career is run (the career itself says what the jobs are)."""

    baseline: Literal["finetune", "scratch", "multitask"] = "finetune"
    """`finetune`: carry parameters; `scratch`: fresh learner per job; `multitask`: all
    jobs at once with the same total budget."""
    interventions: tuple[str, ...] = ()
    """Continual-learning interventions, applied in order (names registered in
    `careers.interventions.INTERVENTIONS`: replay, shrink_perturb, reset_dormant, l2_init)."""
    seeds: int = 5
    seed: int = 0
    num_tasks: int = 256
    """Task pool size per job."""
    eval_tasks: int = 64
    """Fixed task instances per job for the R matrix and the flips."""
    episodes: int = 2
    """Evaluation episodes per task."""
    chunks: int = 10
    """Points of each job's learning curve (and chunk_end intervention calls)."""
    only_seeds: tuple[int, ...] = ()
    """Run only these of the `seeds` seeds, each with its key in the full run (empty: all);
    the Ray executor runs one seed per task this way."""
    seed_tasks: bool = False
    """Each seed draws its own task pools and evaluation instances and plays them with its
    own episode key, so an interval over seeds covers task sampling (the studies'
    protocol, issue 13); default: one pool and one set of instances for every seed."""
    train_seed: int | None = None
    """Seed of the training keys (None: `seed`). Another value trains other seeds on the
    same tasks and evaluation instances (a placebo: the same learner run twice)."""


class CareerSets(NamedTuple):
    """A career's tasks: per job its training pool and its fixed evaluation instances (the
    R matrix's), and the episode keys of every evaluation. With `seed_tasks` every leaf
    carries a leading seed axis (S, ...) and `eval_keys` is (S,); otherwise one key."""

    pools: list
    eval_sets: list
    eval_keys: jax.Array


def hidden_activations(network, activation: str):
    """(params, obs) -> {(tower, i): (B, units)} post-activation hidden units."""
    act = {"tanh": jnp.tanh, "relu": jax.nn.relu}[activation]

    def apply(params, obs):
        _, state = network.apply(params, obs, capture_intermediates=True, mutable=["intermediates"])
        out = {}
        for tower in ("actor", "critic"):
            layers = state["intermediates"][tower]
            for i in range(network.layers):
                out[(tower, i)] = act(layers[f"Dense_{i}"]["__call__"][0])
        return out

    return apply


def run_career(career: Career, hp: LearnerConfig, settings: CareerConfig,
               quiet: bool = False, sets: CareerSets | None = None) -> dict:
    """Returns per-seed arrays: `R` (S, T, T), `curves` and `entropy` (T, S, points: training
    success and policy entropy), `dormant` (S, T: the fraction of dormant hidden units at
    each job's end), `curve_steps` (T, points), `flips_negative` / `flips_positive`
    (S, T-1, T) and the job names. `sets`: the career's tasks if the caller has them
    (`career_sets(career, settings)`: drawing them is slow; several careers with the same
    task settings can share one draw)."""
    career.validate()
    if settings.baseline == "multitask" and career.mixed:
        raise ValueError(f"career {career.name!r} mixes worlds; the multitask baseline "
                         "needs one world")
    worlds = career_worlds(career)
    key = jax.random.key(settings.seed)
    jobs = career.jobs  # the R matrix's columns, whatever the baseline trains on
    sets = career_sets(career, settings, worlds) if sets is None else sets
    pools = sets.pools
    if settings.baseline == "multitask":
        career, pools = _multitask(career, pools, key, settings.seed_tasks)
    evaluators, resets = _per_world(worlds, hp, settings)
    interventions = make_interventions(settings.interventions)
    seed_keys = _seed_keys(settings)
    results = {"jobs": [j.name for j in career.jobs], "R": [], "curves": [], "curve_steps": [],
               "entropy": [], "dormant": [], "stage_success": []}
    carried = previous = init_params = istate = None
    total = sum(j.steps for j in career.jobs) * len(seed_keys)
    with progress_bar(total, f"career {career.name}", disable=quiet) as bar:
        for i, (job, pool) in enumerate(zip(career.jobs, pools, strict=True)):
            config = dataclasses.replace(hp, total_steps=job.steps)
            program = chunked_program(worlds[job.world], config, settings.chunks,
                                      settings.seed_tasks)
            hp_arrays = program.hp(config, len(seed_keys))
            keys = jax.vmap(jax.random.fold_in, (0, None))(seed_keys, i)
            state = _carry_over(program.init(keys, pool, hp_arrays), program, previous,
                                settings)
            if init_params is None:
                init_params, istate = state.params, interventions.init(state.params)
            ctx = _context("job_start", jax.random.fold_in(key, 1000 + i), state.params,
                           init_params, pool, pools[:i], resets[job.world], program, hp,
                           settings.seed_tasks)
            ctx, istate = interventions.update(ctx, istate)
            state, curves, istate = _train_job(program, hp_arrays, state._replace(
                params=ctx.params), ctx, interventions, istate,
                lambda n: bar.advance(n * len(seed_keys)))
            carried, previous = state.params, state
            _record(results, curves, program, ctx._replace(params=carried))
            results["stage_success"].append(_stage_success(evaluators, carried, sets, jobs))
    return _finish(results)


def _stage_success(evaluators: dict, params, sets: CareerSets, jobs) -> list:
    """One row of the R matrix: T x (S, tasks, episodes) success of `params` on every
    job's evaluation instances. Jobs of one world whose instances have the same shapes are
    played in one call (vmapped over jobs: the same numbers, ~3x faster on CPU than one
    call per job; the R matrix's T^2 evaluations are most of a long career's time)."""
    worlds = {job.world for job in jobs}
    layouts = {jax.tree.structure(t) for t in sets.eval_sets}
    shapes = {tuple(x.shape for x in jax.tree.leaves(t)) for t in sets.eval_sets}
    if len(worlds) == 1 and len(layouts) == 1 and len(shapes) == 1 and len(jobs) > 1:
        stacked = jax.tree.map(lambda *x: jnp.stack(x), *sets.eval_sets)
        success = _over_jobs(evaluators[jobs[0].world])(params, sets.eval_keys, stacked).success
        return list(np.asarray(success))
    return [np.asarray(evaluators[j.world](params, sets.eval_keys, tasks).success)
            for j, tasks in zip(jobs, sets.eval_sets, strict=True)]


@cache
def _over_jobs(evaluator):
    """`evaluator` vmapped over a leading job axis of the tasks (params and keys shared)."""
    return jax.jit(jax.vmap(evaluator, (None, None, 0)))


def _carry_over(state, program, previous, settings: CareerConfig):
    """A new job's `state` with the previous job's parameters, and whatever else the
    learner declares it keeps (none of it for the from-scratch baseline or the first job)."""
    if previous is None or settings.baseline == "scratch":
        return state
    return state._replace(params=previous.params, **_kept(program.learner, previous, state))


def _kept(learner, previous, state) -> dict:
    """{field: the previous job's value} for the state fields `learner.keep` names whose
    structure and shapes the new job's state shares (a mixed career's worlds may not)."""
    layout = lambda tree: (jax.tree.structure(tree),
                           [(x.shape, x.dtype) for x in jax.tree.leaves(tree)])
    return {name: getattr(previous, name) for name in learner.keep
            if layout(getattr(previous, name)) == layout(getattr(state, name))}


def _per_world(worlds: dict, hp: LearnerConfig, settings: CareerConfig) -> tuple[dict, dict]:
    """Per world: the evaluator of the R matrix (per-seed tasks and keys with
    `seed_tasks`) and a batched reset (observations for unit statistics)."""
    axes = (0, 0, 0) if settings.seed_tasks else (0, None, None)
    evaluators = {name: get_program(world, hp, 1).evaluator(settings.episodes, in_axes=axes)
                  for name, world in worlds.items()}
    return evaluators, {name: _batched_reset(world) for name, world in worlds.items()}


@cache
def _batched_reset(world):
    """`world.reset` vmapped and jitted, once per world (every career of a process that
    uses the world shares its compiled program)."""
    return jax.jit(jax.vmap(world.reset))


def _record(results: dict, curves: dict, program: Program, ctx: Context) -> None:
    """A finished job's learning curves, its steps and its dormant units (diagnostics)."""
    results["curves"].append(curves["success"])  # (S, points)
    results["entropy"].append(curves["entropy"])
    results["curve_steps"].append(np.cumsum(program.schedule()) * program.learner.steps_per_update)
    dormant = dormant_fraction(ctx)
    results["dormant"].append(np.full(len(curves["success"]), np.nan) if dormant is None
                              else np.asarray(dormant))


def career_sets(career: Career, settings: CareerConfig,
                worlds: dict | None = None) -> CareerSets:
    """The tasks and episode keys `run_career` uses for `settings` (also for references
    measured on the same instances with the same keys)."""
    worlds = worlds or career_worlds(career)
    key = jax.random.key(settings.seed)
    eval_key = jax.random.key(settings.seed + 2)
    if not settings.seed_tasks:
        return CareerSets(*_job_sets(career, worlds, key, settings), eval_key)
    seeds = _seed_indices(settings)
    per_seed = [_job_sets(career, worlds, jax.random.fold_in(key, 7_919 + s), settings)
                for s in seeds]
    stack = lambda *x: jnp.stack([jnp.asarray(v) for v in x])
    joined = [[jax.tree.map(stack, *[p[part][j] for p in per_seed])
               for j in range(len(career.jobs))] for part in (0, 1)]
    return CareerSets(*joined, jax.random.split(eval_key, settings.seeds)[np.asarray(seeds)])


def _seed_indices(settings: CareerConfig) -> tuple[int, ...]:
    return settings.only_seeds or tuple(range(settings.seeds))


def _seed_keys(settings: CareerConfig) -> jax.Array:
    """(S,) the seeds' keys; with `only_seeds`, those seeds' keys in the full run."""
    seed = settings.seed if settings.train_seed is None else settings.train_seed
    keys = jax.random.split(jax.random.key(seed + 1), settings.seeds)
    return keys[np.asarray(settings.only_seeds)] if settings.only_seeds else keys


def _job_sets(career: Career, worlds: dict, key, settings: CareerConfig) -> tuple[list, list]:
    """Each job's training pool and its fixed evaluation instances (the R matrix's)."""
    pools = [job_tasks(worlds[job.world], job, jax.random.fold_in(key, 2 * i), settings.num_tasks)
             for i, job in enumerate(career.jobs)]
    eval_sets = [job_tasks(worlds[job.world], job, jax.random.fold_in(key, 2 * i + 1),
                           settings.eval_tasks) for i, job in enumerate(career.jobs)]
    return pools, eval_sets


def _train_job(program: Program, hp_arrays, state, ctx: Context, interventions, istate,
               advance):
    """Train one job in chunks (the `chunk_end` interventions after each); returns the
    final state, {"success", "entropy"}: (S, points) curves of training success and policy
    entropy (nan if the learner reports none), and the interventions' state."""
    pool, curve = ctx.tasks, {"success": [], "entropy": []}
    for k, length in enumerate(program.schedule()):  # the last chunk may be shorter
        state, metrics = program.with_updates(length).run(state, pool, hp_arrays)
        for name in curve:
            values = metrics.get(name, np.full_like(metrics["success"], np.nan))
            curve[name].append(np.asarray(values).mean(axis=1))
        ctx = ctx._replace(event="chunk_end", params=state.params,
                           key=jax.random.fold_in(ctx.key, k))
        ctx, istate = interventions.update(ctx, istate)
        state = state._replace(params=ctx.params)
        advance(length * program.learner.steps_per_update)
    return state, {name: np.stack(c, axis=1) for name, c in curve.items()}, istate


def _context(event, key, params, init_params, pool, past, reset, program: Program,
             hp, seed_tasks: bool = False) -> Context:
    # Unit statistics read observations of the job; with per-seed pools, those of the
    # first seed's pool (every seed's pool is drawn from the same job).
    first = jax.tree.map(lambda x: x[0], pool) if seed_tasks else pool
    n = min(256, jax.tree.leaves(first)[0].shape[0])
    keys = jax.random.split(key, n)
    obs, _ = reset(keys, jax.tree.map(lambda x: x[:n], first))
    network = program.learner.network
    hidden = None if network is None else hidden_activations(network, hp.activation)
    return Context(event, key, params, init_params, pool, list(past), obs, hidden, seed_tasks)


def _multitask(career: Career, pools: list, key, seed_tasks: bool = False
               ) -> tuple[Career, list]:
    """One job on the union of all jobs' tasks with the whole budget: a pool of the
    usual size drawn without replacement from the union (per seed with `seed_tasks`,
    the same positions in every seed's pools)."""
    axis = 1 if seed_tasks else 0
    joined = jax.tree.map(lambda *x: jnp.concatenate(x, axis=axis), *pools)
    n = jax.tree.leaves(pools[0])[0].shape[axis]
    pick = jax.random.permutation(key, len(career.jobs) * n)[:n]
    if seed_tasks:
        return _multitask_career(career), [jax.tree.map(lambda x: x[:, pick], joined)]
    return _multitask_career(career), [jax.tree.map(lambda x: x[pick], joined)]


def _multitask_career(career: Career) -> Career:
    steps = sum(j.steps for j in career.jobs)
    job = Job("all", career.jobs[0].world, career.jobs[0].split, steps=steps)
    return Career(f"{career.name}-multitask", (job,))


def _finish(results: dict) -> dict:
    stage = results.pop("stage_success")
    results["dormant"] = np.stack(results["dormant"], axis=1)  # (S, T)
    # R[s, i, j]: success on job j's fixed instances after stage i
    results["R"] = np.stack([np.stack([x.mean(axis=(1, 2)) for x in row], axis=1)
                             for row in stage], axis=1)
    if len(stage) > 1:  # negative / positive flips between consecutive stages, per job
        pairs = [[flips(a, b) for a, b in zip(prev, cur, strict=True)]
                 for prev, cur in zip(stage[:-1], stage[1:], strict=True)]
        for name in ("negative", "positive"):
            values = np.asarray([[getattr(f, name) for f in row] for row in pairs])
            results[f"flips_{name}"] = np.transpose(values, (2, 0, 1))  # (S, T-1, T)
    return results
