"""Running a career: every seed does every job in turn (seeds vmapped), the R matrix is
filled after each job, and the continual metrics are summarised with CIs.

Documented choice: parameters carry from job to job; the optimiser state is fresh at
each job start, so every job gets the whole learning-rate schedule (and Adam's moments
from the last job do not steer the first steps of the next one).

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

from trainee.agent import policy_from_params
from trainee.careers.career import Career, Job, job_tasks
from trainee.careers.interventions import Context, make_interventions
from trainee.evaluate import evaluate
from trainee.learners import LearnerConfig, make_learner, run_updates
from trainee.measures import flips
from trainee.progress import progress_bar
from trainee.train import chunk_size
from trainee.worlds import make


@dataclass(frozen=True)
class CareerSettings:
    """How a career is run (the career itself says what the jobs are)."""

    baseline: Literal["finetune", "scratch", "multitask"] = "finetune"
    """`finetune`: carry parameters; `scratch`: fresh learner per job; `multitask`: all
    jobs at once with the same total budget."""
    interventions: tuple[str, ...] = ()
    """Continual-learning interventions, applied in order (replay, shrink_perturb,
    reset_dormant, l2_init)."""
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


class _Compiled:
    """Compiled pieces shared by every job of one world and budget (tasks are data)."""

    def __init__(self, world, hp: LearnerConfig, chunks: int, episodes: int):
        self.learner = make_learner(hp, world)
        self.chunk = chunk_size(self.learner.num_updates, chunks)
        learner, chunk = self.learner, self.chunk
        self.init = jax.jit(jax.vmap(learner.init, in_axes=(0, None)))
        self.run = jax.jit(jax.vmap(lambda s, t: run_updates(learner, s, t, chunk), (0, None)))
        self.success = _evaluator(world, learner.network, episodes)
        self.reset = jax.jit(jax.vmap(world.reset))


def _evaluator(world, network, episodes: int):
    def success(params, key, tasks):
        records = evaluate(world, policy_from_params(network, params), key, tasks, episodes)
        return records.success  # (tasks, episodes)

    return jax.jit(jax.vmap(success, in_axes=(0, None, None)))


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


def run_career(career: Career, hp: LearnerConfig, settings: CareerSettings,
               quiet: bool = False) -> dict:
    """Returns per-seed arrays: `R` (S, T, T), `curves` (T, S, points), `curve_steps`
    (T, points), `flips_negative` / `flips_positive` (S, T-1, T) and the job names."""
    career.validate()
    world = make(career.jobs[0].world)
    key = jax.random.key(settings.seed)
    pools = [job_tasks(world, job, jax.random.fold_in(key, 2 * i), settings.num_tasks)
             for i, job in enumerate(career.jobs)]
    eval_sets = [job_tasks(world, job, jax.random.fold_in(key, 2 * i + 1), settings.eval_tasks)
                 for i, job in enumerate(career.jobs)]
    if settings.baseline == "multitask":
        career, pools = _multitask(career, pools, key)
    interventions = make_interventions(settings.interventions)
    compiled: dict[int, _Compiled] = {}
    seed_keys = jax.random.split(jax.random.key(settings.seed + 1), settings.seeds)
    if settings.only_seeds:
        seed_keys = seed_keys[np.asarray(settings.only_seeds)]
    eval_key = jax.random.key(settings.seed + 2)
    results = {"jobs": [j.name for j in career.jobs], "R": [], "curves": [], "curve_steps": [],
               "stage_success": []}
    carried = init_params = istate = None
    past: list = []
    total = sum(j.steps for j in career.jobs) * settings.seeds
    with progress_bar(total, f"career {career.name}", disable=quiet) as bar:
        for i, (job, pool) in enumerate(zip(career.jobs, pools, strict=True)):
            c = compiled.setdefault(job.steps, _Compiled(
                world, dataclasses.replace(hp, total_steps=job.steps), settings.chunks,
                settings.episodes))
            state = c.init(jax.vmap(jax.random.fold_in, (0, None))(seed_keys, i), pool)
            if carried is not None and settings.baseline != "scratch":
                state = state._replace(params=carried)
            if init_params is None:
                init_params, istate = state.params, interventions.init(state.params)
            ctx = _context("job_start", jax.random.fold_in(key, 1000 + i), state.params,
                           init_params, pool, past, world, c, hp)
            ctx, istate = interventions.update(ctx, istate)
            state, pool = state._replace(params=ctx.params), ctx.tasks
            curve = []
            for k in range(c.learner.num_updates // c.chunk):
                state, metrics = c.run(state, pool)
                curve.append(np.asarray(metrics["success"]).mean(axis=1))
                ctx = ctx._replace(event="chunk_end", params=state.params,
                                   key=jax.random.fold_in(ctx.key, k))
                ctx, istate = interventions.update(ctx, istate)
                state = state._replace(params=ctx.params)
                bar.advance(c.chunk * c.learner.steps_per_update * settings.seeds)
            carried = state.params
            past.append(pools[i])
            results["curves"].append(np.stack(curve, axis=1))  # (S, points)
            steps = (np.arange(1, len(curve) + 1) * c.chunk * c.learner.steps_per_update)
            results["curve_steps"].append(steps)
            stage = [np.asarray(c.success(carried, eval_key, tasks)) for tasks in eval_sets]
            results["stage_success"].append(stage)  # T x (S, tasks, episodes)
    return _finish(results)


def _context(event, key, params, init_params, pool, past, world, c: _Compiled, hp) -> Context:
    n = min(256, jax.tree.leaves(pool)[0].shape[0])
    keys = jax.random.split(key, n)
    obs, _ = c.reset(keys, jax.tree.map(lambda x: x[:n], pool))
    return Context(event, key, params, init_params, pool, list(past), obs,
                   hidden_activations(c.learner.network, hp.activation))


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
