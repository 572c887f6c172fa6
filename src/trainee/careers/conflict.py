"""Cross-job success matrices: do the jobs of a career (or a fleet) pull a policy apart?

`M[s, i, j]` is the success on job j of a learner trained from scratch on job i alone
(seed s): the R matrix of the `scratch` baseline of `run_career`, so the matrix is
measured by the code that runs careers. Jobs conflict when the diagonal is high and the
off-diagonal low. Beside it, per job: a uniform random policy, the job's own oracle, and
the oracle *of job i* playing job j (`oracle_matrix`): a hand-written policy that is
right for job i, the cheap check that the conflict is in the jobs and not in a learner's
quirks.

"The oracle of job i on job j" plays job j's task but believes it is doing job i: every
task field that is constant over job i's tasks and over job j's and differs between them
(the lane rule, the controls layout, the cue) is taken from job i (`believed`); what
varies from task to task (the road, the traffic) stays job j's.
"""

from __future__ import annotations

import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np

from trainee.careers.career import Career, career_worlds, job_tasks
from trainee.careers.run import CareerConfig, run_career
from trainee.evaluate import evaluate, oracle_policy, random_policy
from trainee.learners import LearnerConfig
from trainee.measures import samples_to_competence

__all__ = ["believed", "cross_job_matrix", "eval_sets", "oracle_matrix", "reference_rows"]


def _constant(x: np.ndarray) -> bool:
    return bool(np.all(x == x[:1]))


def believed(tasks_j, tasks_i):
    """Job j's tasks with job i's job-defining fields (see the module docstring)."""
    def pick(a, b):
        a, b = np.asarray(a), np.asarray(b)
        if _constant(a) and _constant(b) and not np.array_equal(a[:1], b[:1]):
            return np.broadcast_to(b[:1], a.shape)
        return a

    return jax.tree.map(pick, tasks_j, tasks_i)


def eval_sets(career: Career, key: jax.Array, n: int):
    """(world, [tasks of job j]) for a single-world career: `n` fixed tasks a job, the
    same instances as `run_career`'s R matrix for the same key (`fold_in(key, 2j + 1)`)."""
    worlds = career_worlds(career)
    if len(worlds) != 1:
        raise ValueError(f"career {career.name!r} mixes worlds; a cross-job matrix needs one")
    world = next(iter(worlds.values()))
    return world, [job_tasks(world, job, jax.random.fold_in(key, 2 * j + 1), n)
                   for j, job in enumerate(career.jobs)]


def oracle_matrix(world, evals: list, key: jax.Array, episodes: int) -> np.ndarray:
    """(J, J): success on job j (column) of the oracle of job i (row)."""
    score = jax.jit(lambda tasks, beliefs: _paired_success(world, tasks, beliefs, key,
                                                           episodes))
    return np.array([[float(score(tj, believed(tj, ti))) for tj in evals] for ti in evals])


def _paired_success(world, tasks, beliefs, key, episodes) -> jax.Array:
    """Mean success of the oracle reading `beliefs` while the world plays `tasks`."""
    from trainee.evaluate import play_episode

    def one(task, belief, key):
        policy = lambda k, obs, state, _: world.oracle(k, state, belief)
        keys = jax.random.split(key, episodes)
        return jax.vmap(lambda k: play_episode(world, policy, k, task).success.any())(keys)

    n = jax.tree.leaves(tasks)[0].shape[0]
    return jnp.mean(jax.vmap(one)(tasks, beliefs, jax.random.split(key, n)))


def reference_rows(world, evals: list, key: jax.Array, episodes: int) -> dict:
    """Per job: success of a uniform random policy and of the job's own oracle."""
    rows = {}
    for name, policy in (("random", random_policy(world)), ("oracle", oracle_policy(world))):
        score = jax.jit(lambda tasks, p=policy: jnp.mean(
            evaluate(world, p, key, tasks, episodes).success))  # one compile per policy
        rows[name] = [float(score(tasks)) for tasks in evals]
    return rows


def cross_job_matrix(career: Career, hp: LearnerConfig, settings: CareerConfig,
                     competence: float = 0.8, quiet: bool = True) -> dict:
    """Train a fresh learner on each job alone (`run_career`, baseline `scratch`), score
    it on every job, add the reference rows and the oracle matrix. JSON-ready dict."""
    settings = dataclasses.replace(settings, baseline="scratch")
    start = time.perf_counter()
    results = run_career(career, hp, settings, quiet=quiet)
    train_seconds = time.perf_counter() - start
    M = np.asarray(results["R"])  # (S, J, J): row = trained on, column = scored on
    world, evals = eval_sets(career, jax.random.key(settings.seed), settings.eval_tasks)
    key = jax.random.key(settings.seed + 8)
    J = M.shape[1]
    off = ~np.eye(J, dtype=bool)
    mean = M.mean(axis=0)
    reached = []
    for steps, curve in zip(results["curve_steps"], results["curves"], strict=True):
        c = samples_to_competence(steps, curve, competence)
        reached.append({"steps_per_seed": [s if np.isfinite(s) else None
                                           for s in np.asarray(c.steps, float).tolist()],
                        "final_training_success": np.asarray(curve)[:, -1].tolist()})
    return {
        "career": career.name, "jobs": results["jobs"], "hp": dataclasses.asdict(hp),
        "steps_per_job": [job.steps for job in career.jobs], "seeds": settings.seeds,
        "eval_tasks": settings.eval_tasks, "episodes": settings.episodes,
        "matrix_per_seed": M.tolist(), "matrix": mean.tolist(),
        "diagonal": float(np.diag(mean).mean()), "off_diagonal": float(mean[off].mean()),
        "off_diagonal_max": float(mean[off].max()),
        "oracle_matrix": oracle_matrix(world, evals, key, settings.episodes).tolist(),
        **reference_rows(world, evals, key, settings.episodes),
        "competence_threshold": competence, "competence": reached,
        "train_seconds": train_seconds,
    }
