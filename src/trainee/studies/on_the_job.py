"""on-the-job: does a continual learner learn each new job faster than a fresh one, and
keep the earlier jobs?

One ppo learner does a short career (`trainee.careers`): parameters carry from job to
job (naive fine-tuning, a fresh optimiser per job). The same jobs, seeds and budgets are
run from scratch (a fresh learner per job) as the reference. Learning speed on a job is
the normalised area under its training-success curve (careers.summary); forgetting is
Continual World's, from the R matrix of the fine-tuned career.

The career mixes jobs that share a skill with one that contradicts it: the last job is
the first one again with mirrored controls (left and right swapped, `Job.controls`), so
"keep the old habits" and "learn the new job" pull apart, the case the claim is about.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from trainee.careers import Career, CareerSettings, Job, run_career
from trainee.careers.conflict import eval_sets
from trainee.careers.summary import learning_speed, summarize
from trainee.measures import continual_metrics
from trainee.studies import figures
from trainee.studies.experiment import Context, ci, reference_block, reference_success
from trainee.studies.programs import base_config
from trainee.studies.scale import Scale
from trainee.studies.verdict import (
    INCONCLUSIVE,
    LEARNED,
    MARGINS,
    Verdict,
    at_most,
    combine,
    fmt,
    positive_effect,
    require_learning,
)

NAME = "on-the-job"
CLAIM = ("A continual learner learns each new job on the job: fewer samples to competence "
         "on the k-th job than from scratch, without forgetting the earlier ones.")
METHOD = (
    "One ppo learner does a 4-job career, parameters carried from job to job (naive "
    "fine-tuning, fresh optimiser per job); the same jobs, seeds and budgets run from "
    "scratch are the reference. Quick scale: corridor near goals -> far goals -> slippery "
    "floor -> near goals with mirrored controls (left/right swapped); full scale: driving "
    "dry -> ice -> night -> dry with permuted controls. Per seed, the gain on each new job "
    "(jobs 2-4) is learning speed (normalised area under the training-success curve) "
    "fine-tuned minus from scratch; 'each new job' is read as the worst of them. Forgetting "
    "is Continual World's (R matrix). Verdict: supported when the worst gain's 95% CI lies "
    "above 0.05 and forgetting's lies below 0.05; not supported when the worst gain's lies "
    "below 0.05 or forgetting's above 0.05; inconclusive otherwise, or when the "
    "from-scratch learner ends below 0.5 success on some job (nothing to compare)."
)
COMPETENCE = 0.8  # training success that counts as competent (careers' default)
MARGIN = MARGINS[NAME]  # stated and justified in studies/verdict.py
CHUNKS = 8  # points of each job's learning curve
MIRRORED = 3  # controls layout 3 of a 3-action world swaps left and right (controls.layout)
BASELINES = ("finetune", "scratch")


def job_steps(scale: Scale) -> int:
    """Env steps per job: a tenth of a standard run, in whole updates (>= 4)."""
    per_update = scale.num_envs * scale.num_steps
    return max(4, scale.train_steps // 10 // per_update) * per_update


def make_career(scale: Scale) -> Career:
    """corridor (seconds) below full scale; driving level 0 at full scale."""
    steps = job_steps(scale)
    if scale.name == "full":
        road = {"level": 0}
        return Career("on-the-job-driving", (
            Job("dry", "driving", "train", road, steps=steps),
            Job("ice", "driving", "ice", road, steps=steps),
            Job("night", "driving", "night", road, steps=steps),
            Job("dry, new controls", "driving", "train", road, steps=steps, controls=MIRRORED),
        ))
    return Career("on-the-job-corridor", (
        Job("near", "corridor", "train", steps=steps),
        Job("far", "corridor", "longer", steps=steps),
        Job("slippery", "corridor", "slippery", steps=steps),
        Job("near, mirrored", "corridor", "train", steps=steps, controls=MIRRORED),
    ))


PLACEBO = ("the fine-tuned career is replaced by a second from-scratch career (other "
           "training keys, the same pools, evaluation instances and episode keys): no "
           "transfer by construction")


def career_arm(career: Career, hp, settings: CareerSettings, other: bool) -> dict:
    """One arm's career over all seeds (vmapped); with `other`, the seeds' training keys
    are the next S of the run's (`only_seeds`), while pools, evaluation instances and
    episode keys stay those of `settings.seed` (paired)."""
    if other:
        settings = dataclasses.replace(settings, seeds=2 * settings.seeds,
                                       only_seeds=tuple(range(settings.seeds,
                                                              2 * settings.seeds)))
    return run_career(career, hp, settings, quiet=True)


def job_references(career: Career, settings: CareerSettings, seeds: list[int]) -> dict:
    """(S, J) success of the random policy and the oracle on each seed's evaluation
    instances with its episode key (the R matrix's: `run_career`, `conflict.eval_sets`),
    all seeds in one vmapped evaluation per job."""
    per_seed = [eval_sets(career, jax.random.key(seed), settings.eval_tasks) for seed in seeds]
    world = per_seed[0][0]
    keys = jnp.stack([jax.random.key(seed + 2) for seed in seeds])
    jobs = [jax.tree.map(lambda *x: np.stack([np.asarray(v) for v in x]),
                         *[evals[j] for _, evals in per_seed]) for j in range(len(career.jobs))]
    rows = [reference_success(world, tasks, keys, settings.episodes) for tasks in jobs]
    return {name: np.stack([r[name] for r in rows], axis=1) for name in rows[0]}


def run(ctx: Context) -> dict:
    career = make_career(ctx.scale)
    hp = base_config(ctx.learner, ctx.scale)
    settings = CareerSettings(seeds=ctx.seeds, seed=ctx.seed + 300, num_tasks=ctx.scale.pool,
                              eval_tasks=ctx.scale.eval_tasks, episodes=ctx.scale.episodes,
                              chunks=CHUNKS)
    # A career draws one pool and one set of evaluation instances for all its seeds
    # (trainee.careers): per-seed career pools need careers to take a seed axis of tasks
    # (run once per seed instead, every job's program compiled again per call, it
    # costs minutes). So this study's intervals cover training noise, not task sampling.
    arms = {"finetune": ("scratch", True) if ctx.placebo else ("finetune", False),
            "scratch": ("scratch", False)}
    runs = {}
    for name, (baseline, other) in arms.items():
        runs[name] = career_arm(career, hp, dataclasses.replace(settings, baseline=baseline),
                                other)
        ctx.advance(sum(job.steps for job in career.jobs) * ctx.seeds)
    refs = job_references(career, settings, [settings.seed])  # (1, J): shared instances
    out = summarise(runs, career, {k: np.repeat(v, ctx.seeds, axis=0) for k, v in refs.items()})
    out["placebo"] = PLACEBO if ctx.placebo else None
    return out


def summarise(runs: dict, career: Career, refs: dict | None = None) -> dict:
    """JSON-ready numbers of a fine-tuned career and its from-scratch reference."""
    tuned, scratch = runs["finetune"], runs["scratch"]
    summary = summarize(tuned, scratch, COMPETENCE)
    speed, ref_speed = learning_speed(tuned), learning_speed(scratch)  # (S, T)
    gain = speed - ref_speed
    R, R_ref = np.asarray(tuned["R"]), np.asarray(scratch["R"])  # (S, T, T)
    forgetting = continual_metrics(R).forgetting  # (S,)
    jobs = list(tuned["jobs"])
    return {
        "world": career.jobs[0].world,
        "jobs": jobs,
        "steps_per_job": career.jobs[0].steps,
        "R": R.mean(axis=0).tolist(),
        "R_scratch": R_ref.mean(axis=0).tolist(),
        "speed": [ci(speed[:, k]) for k in range(len(jobs))],
        "speed_scratch": [ci(ref_speed[:, k]) for k in range(len(jobs))],
        "gain": [ci(gain[:, k]) for k in range(len(jobs))],
        "worst_gain": ci(gain[:, 1:].min(axis=1)),
        "mean_gain": ci(gain[:, 1:].mean(axis=1)),
        "forgetting": ci(forgetting),
        "scratch_learned": float(np.diagonal(R_ref, axis1=1, axis2=2).mean(axis=0).min()),
        "competence": summary["samples_to_competence"],
        "competence_scratch": summary["reference_samples_to_competence"],
        "curve_steps": [np.asarray(s).tolist() for s in tuned["curve_steps"]],
        "curves": {b: [[ci(c[:, p]) for p in range(c.shape[1])] for c in runs[b]["curves"]]
                   for b in BASELINES},
        **scratch_references(R_ref, refs, jobs),
    }


def scratch_references(R_ref: np.ndarray, refs: dict | None, jobs: list) -> dict:
    """The from-scratch learner's final success on each job (R's diagonal) beside the
    random policy and the oracle, and the learning guard's number: the worst job's
    normalised success (IQM over seeds)."""
    if refs is None:
        return {}
    own = np.diagonal(R_ref, axis1=1, axis2=2)  # (S, J)
    blocks = {f"scratch, {job}": reference_block(own[:, k], None, {
        n: refs[n][:, k] for n in refs}) for k, job in enumerate(jobs)}
    worst = min(b["agent_normalised"]["iqm"] for b in blocks.values())
    return {"references": blocks, "scratch_learned_normalised": worst}


def verdict(result: dict) -> Verdict:
    key = "learning speed on the worst new job, fine-tuned minus from scratch"
    transfer = positive_effect(result["worst_gain"], MARGIN, key)
    kept = at_most(result["forgetting"], MARGIN, "forgetting")
    status, reason = combine(transfer, kept)
    per_job = ", ".join(f"{job} {g['iqm']:+.2f}" for job, g in
                        zip(result["jobs"][1:], result["gain"][1:], strict=True))
    if result["worst_gain"]["ci_high"] < 0:
        reason += "; a new job was learned slower than from scratch"
    reason += f"; gain per new job: {per_job}; mean gain {fmt(result['mean_gain'])}"
    if "scratch_learned_normalised" in result:
        guard = require_learning(result["scratch_learned_normalised"], LEARNED,
                                 "the from-scratch learner's final success on its worst job, "
                                 "normalised (0 = random, 1 = oracle),")
    else:
        guard = require_learning(result["scratch_learned"], LEARNED,
                                 "the from-scratch learner's final success on its worst job")
    if guard is not None:
        status, reason = INCONCLUSIVE, f"{guard}; {reason}"
    return Verdict(status, reason, key, result["worst_gain"])


def draw(result: dict) -> list[tuple[str, str]]:
    jobs = result["jobs"]
    speed = figures.bars(jobs, {"fine-tuned (career)": result["speed"],
                                "from scratch": result["speed_scratch"]},
                         "learning speed (AUC of success)",
                         f"{result['world']}: learning speed per job")
    out = [("learning speed per job", speed)]
    for k in (1, len(jobs) - 1):  # a job sharing the skill, and the contradicting one
        curves = {label: result["curves"][b][k] for label, b in
                  (("fine-tuned (career)", "finetune"), ("from scratch", "scratch"))}
        out.append((f"learning curve: {jobs[k]}", figures.curves(
            result["curve_steps"][k], curves, "env steps on the job per seed",
            "training success", f"job {k + 1}: {jobs[k]}")))
    return out
