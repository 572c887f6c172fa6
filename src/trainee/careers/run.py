"""Running a career: every seed does every job in turn (seeds vmapped), the R matrix is
filled after each job, and the continual metrics are summarised with CIs.

Documented choice: parameters carry from job to job; the optimiser state is fresh at
each job start, so every job gets the whole learning-rate schedule (and Adam's moments
from the last job do not steer the first steps of the next one).

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
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np

from trainee.careers.career import Career, Job, career_worlds, job_tasks
from trainee.careers.interventions import Context, make_interventions
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
               quiet: bool = False) -> dict:
    """Returns per-seed arrays: `R` (S, T, T), `curves` (T, S, points), `curve_steps`
    (T, points), `flips_negative` / `flips_positive` (S, T-1, T) and the job names."""
    career.validate()
    if settings.baseline == "multitask" and career.mixed:
        raise ValueError(f"career {career.name!r} mixes worlds; the multitask baseline needs "
                         "one world (a task pool holds one world's tasks)")
    worlds = career_worlds(career)
    key = jax.random.key(settings.seed)
    jobs = career.jobs  # the R matrix's columns, whatever the baseline trains on
    pools, eval_sets = _job_sets(career, worlds, key, settings)
    if settings.baseline == "multitask":
        career, pools = _multitask(career, pools, key)
    evaluators = {name: get_program(world, hp, 1).evaluator(settings.episodes)
                  for name, world in worlds.items()}
    resets = {name: jax.jit(jax.vmap(world.reset)) for name, world in worlds.items()}
    interventions = make_interventions(settings.interventions)
    seed_keys = _seed_keys(settings)
    eval_key = jax.random.key(settings.seed + 2)
    results = {"jobs": [j.name for j in career.jobs], "R": [], "curves": [], "curve_steps": [],
               "stage_success": []}
    carried = init_params = istate = None
    total = sum(j.steps for j in career.jobs) * settings.seeds
    with progress_bar(total, f"career {career.name}", disable=quiet) as bar:
        for i, (job, pool) in enumerate(zip(career.jobs, pools, strict=True)):
            config = dataclasses.replace(hp, total_steps=job.steps)
            program = chunked_program(worlds[job.world], config, settings.chunks)
            hp_arrays = program.hp(config, len(seed_keys))
            keys = jax.vmap(jax.random.fold_in, (0, None))(seed_keys, i)
            state = program.init(keys, pool, hp_arrays)
            if carried is not None and settings.baseline != "scratch":
                state = state._replace(params=carried)
            if init_params is None:
                init_params, istate = state.params, interventions.init(state.params)
            ctx = _context("job_start", jax.random.fold_in(key, 1000 + i), state.params,
                           init_params, pool, pools[:i], resets[job.world], program, hp)
            ctx, istate = interventions.update(ctx, istate)
            state, curve, istate = _train_job(program, hp_arrays, state._replace(
                params=ctx.params), ctx, interventions, istate,
                lambda n: bar.advance(n * settings.seeds))
            carried = state.params
            results["curves"].append(curve)  # (S, points)
            results["curve_steps"].append(
                np.cumsum(program.schedule()) * program.learner.steps_per_update)
            results["stage_success"].append(  # T x (S, tasks, episodes)
                [np.asarray(evaluators[j.world](carried, eval_key, tasks).success)
                 for j, tasks in zip(jobs, eval_sets, strict=True)])
    return _finish(results)


def _seed_keys(settings: CareerConfig) -> jax.Array:
    """(S,) the seeds' keys; with `only_seeds`, those seeds' keys in the full run."""
    keys = jax.random.split(jax.random.key(settings.seed + 1), settings.seeds)
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
    final state, the (S, points) training-success curve and the interventions' state."""
    pool, curve = ctx.tasks, []
    for k, length in enumerate(program.schedule()):  # the last chunk may be shorter
        state, metrics = program.with_updates(length).run(state, pool, hp_arrays)
        curve.append(np.asarray(metrics["success"]).mean(axis=1))
        ctx = ctx._replace(event="chunk_end", params=state.params,
                           key=jax.random.fold_in(ctx.key, k))
        ctx, istate = interventions.update(ctx, istate)
        state = state._replace(params=ctx.params)
        advance(length * program.learner.steps_per_update)
    return state, np.stack(curve, axis=1), istate


def _context(event, key, params, init_params, pool, past, reset, program: Program,
             hp) -> Context:
    n = min(256, jax.tree.leaves(pool)[0].shape[0])
    keys = jax.random.split(key, n)
    obs, _ = reset(keys, jax.tree.map(lambda x: x[:n], pool))
    network = program.learner.network
    hidden = None if network is None else hidden_activations(network, hp.activation)
    return Context(event, key, params, init_params, pool, list(past), obs, hidden)


def _multitask(career: Career, pools: list, key) -> tuple[Career, list]:
    """One job on the union of all jobs' tasks with the whole budget."""
    joined = jax.tree.map(lambda *x: jnp.concatenate(x), *pools)
    n = jax.tree.leaves(pools[0])[0].shape[0]
    pick = jax.random.permutation(key, len(career.jobs) * n)[:n]
    steps = sum(j.steps for j in career.jobs)
    job = Job("all", career.jobs[0].world, career.jobs[0].split, steps=steps)
    return Career(f"{career.name}-multitask", (job,)), [jax.tree.map(lambda x: x[pick], joined)]


def _finish(results: dict) -> dict:
    stage = results.pop("stage_success")
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
