"""on-the-job: does a continual learner learn each new job faster than a fresh one, and
keep the earlier jobs?

A career of jobs that conflict (`career-conflict`, docs/careers.md: keep right / keep
left in cars whose controls differ; what one job teaches is wrong on the others) is done
by every continual learner the project has, side by side: naive fine-tuning (parameters
carried from job to job, a fresh optimiser per job) and fine-tuning with each registered
intervention (`careers.interventions.INTERVENTIONS`: replay, shrink-and-perturb, ReDo-style
resets of dormant units, L2-init) and the apprentice (`trainee.learners.apprentice`: ppo
with rehearsal of a reservoir of tasks, never told that the job changed; its GRU core is
an option, off by default). The same jobs with a fresh learner per job
(`scratch`) are the reference, at equal env steps per job. Every seed draws its own task
pools, evaluation instances and episode keys (`CareerConfig.seed_tasks`), and every arm
meets the same ones seed by seed (paired).

Per arm: Continual World's metrics (average performance, forgetting, forward transfer;
Wolczyk et al. 2021) from its R matrix and learning curves, samples to competence per
job against scratch, plasticity change over the career and the diagnostics the career
records (policy entropy and dormant units at each job's end), all from
`careers.summary.summarize`. The key number of an arm is, per seed, the mean over the
new jobs (jobs 2..J) of learning speed (normalised area under the training-success
curve) minus scratch's on the same job: an unbiased estimate of the gain on "a new job"
(the minimum over jobs, used before, is biased below the mean gain by selection).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from trainee.careers import Career, CareerConfig, Job, run_career
from trainee.careers.career import PRESETS, career_worlds
from trainee.careers.interventions import INTERVENTIONS
from trainee.careers.run import CareerSets, career_sets
from trainee.careers.summary import learning_speed, summarize
from trainee.studies import figures
from trainee.studies.experiment import Context, ci, normalise, reference_block, reference_success
from trainee.studies.programs import base_config
from trainee.studies.scale import Scale
from trainee.studies.verdict import (
    INCONCLUSIVE,
    LEARNED,
    MARGINS,
    NOT_SUPPORTED,
    SUPPORTED,
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
    "A career of conflicting jobs (career-conflict: driving at level 1, keep right / keep "
    "left in cars with different controls; a policy trained on one job scores 0.00-0.21 on "
    "the others, docs/careers.md), done by every continual learner side by side: naive "
    "fine-tuning and fine-tuning with each registered intervention (replay, "
    "shrink-and-perturb, ReDo-style resets of dormant units, L2-init) and the apprentice "
    "(a ppo that rehearses a reservoir of the tasks it has met, never told that "
    "the job changed; docs/apprentice.md), against a fresh learner per job (scratch) at "
    "equal env steps per job. Quick scale: the first 10 jobs (both lane rules in cars 0 to "
    "4), 12,288 env steps each; full scale: all 12 jobs. Each seed draws its own pools, "
    "evaluation instances and episode keys, paired across arms. Per arm and seed: the mean "
    "over jobs 2..J of learning speed (normalised area under the training-success curve) minus "
    "scratch's (the gain on a new job), Continual World's forgetting, average performance "
    "and forward transfer, samples to competence (0.8 training success) per job, "
    "plasticity change, policy entropy and dormant units per job. Verdict: supported when "
    "some learner's mean gain has its 95% CI above 0.05 and its forgetting's below 0.05; "
    "not supported when every learner fails one of the two (CI past the margin on the "
    "wrong side); inconclusive otherwise, or when scratch's final success on the new jobs, "
    "normalised (0 = random, 1 = oracle), is below 0.25 (nothing learned to compare)."
)
COMPETENCE = 0.8  # training success that counts as competent (careers' default)
MARGIN = MARGINS[NAME]  # stated and justified in studies/verdict.py
CHUNKS = 8  # points of each job's learning curve
MIRRORED = 3  # controls layout 3 of a 3-action world swaps left and right (controls.layout)
QUICK_JOBS = 10  # career-conflict's first jobs at quick scale (issue 14: >= 10 jobs)
PLACEBO = ("every continual learner is replaced by a second from-scratch career (other "
           "training keys, the same pools, evaluation instances and episode keys): no "
           "transfer and no forgetting by construction")


def arms() -> dict[str, tuple[str, ...]]:
    """The continual learners compared: naive fine-tuning, one arm per registered
    intervention (an intervention registered later joins the study by itself) and the
    apprentice (a learner of its own, `LEARNER_OF`), each arm's interventions."""
    return {"finetune": (), **{name: (name,) for name in INTERVENTIONS}, "apprentice": ()}


# Arms that are a learner of their own rather than the study's learner with interventions.
LEARNER_OF = {"apprentice": "apprentice"}


def job_steps(scale: Scale) -> int:
    """Env steps per job: a tenth of a standard run, in whole updates (>= 4)."""
    per_update = scale.num_envs * scale.num_steps
    return max(4, scale.train_steps // 10 // per_update) * per_update


def make_career(scale: Scale) -> Career:
    """career-conflict (all 12 jobs at full scale, the first QUICK_JOBS at quick); at tiny
    scale (tests: code paths, seconds) a corridor career whose last job mirrors the
    first one's controls."""
    steps = job_steps(scale)
    if scale.name == "tiny":
        return Career("on-the-job-corridor", (
            Job("near", "corridor", "train", steps=steps),
            Job("far", "corridor", "longer", steps=steps),
            Job("near, mirrored", "corridor", "train", steps=steps, controls=MIRRORED),
        ))
    jobs = PRESETS["career-conflict"]().jobs
    jobs = jobs if scale.name == "full" else jobs[:QUICK_JOBS]
    return Career("on-the-job-conflict", tuple(dataclasses.replace(j, steps=steps)
                                               for j in jobs))


def job_references(career: Career, settings: CareerConfig,
                   sets: CareerSets | None = None) -> dict:
    """{"random", "oracle"}: (S, J) success on each seed's evaluation instances of each
    job with its episode key: the R matrix's (`sets`, or drawn: `careers.run.career_sets`)."""
    world = next(iter(career_worlds(career).values()))
    sets = career_sets(career, settings) if sets is None else sets
    rows = [reference_success(world, tasks, sets.eval_keys, settings.episodes)
            for tasks in sets.eval_sets]
    return {name: np.stack([r[name] for r in rows], axis=1) for name in rows[0]}


def run(ctx: Context) -> dict:
    career = make_career(ctx.scale)
    hp = base_config(ctx.learner, ctx.scale)
    settings = CareerConfig(seeds=ctx.seeds, seed=ctx.seed + 300, num_tasks=ctx.scale.pool,
                            eval_tasks=ctx.scale.eval_tasks, episodes=ctx.scale.episodes,
                            chunks=CHUNKS, seed_tasks=True)
    steps = sum(job.steps for job in career.jobs) * ctx.seeds
    sets = career_sets(career, settings)  # every career here draws the same tasks: once
    scratch = run_career(career, hp, dataclasses.replace(settings, baseline="scratch"),
                         quiet=True, sets=sets)
    ctx.advance(steps)
    runs = {}
    for i, (name, interventions) in enumerate(arms().items()):
        arm = (dataclasses.replace(settings, baseline="scratch",
                                   train_seed=settings.seed + 1000 * (i + 1)) if ctx.placebo
               else dataclasses.replace(settings, interventions=interventions))
        learner = hp if ctx.placebo else dataclasses.replace(
            hp, learner=LEARNER_OF.get(name, hp.learner))
        runs[name] = run_career(career, learner, arm, quiet=True, sets=sets)
        ctx.advance(steps)
    out = summarise(runs, scratch, career, job_references(career, settings, sets))
    out["placebo"] = PLACEBO if ctx.placebo else None
    return out


def arm_numbers(run: dict, scratch: dict) -> dict:
    """One arm against scratch (paired by seed): its summary (careers.summary) and the
    per-job and mean learning-speed gains over the new jobs."""
    summary = summarize(run, scratch, COMPETENCE)
    gain = learning_speed(run) - learning_speed(scratch)  # (S, J)
    keep = ("average_performance", "forgetting", "forward_transfer", "plasticity_change",
            "samples_to_competence", "entropy", "dormant")
    return {
        "R": np.asarray(run["R"]).mean(axis=0).tolist(),
        "speed": summary["learning_speed"],
        "gain": [ci(gain[:, k]) for k in range(gain.shape[1])],
        "mean_gain": ci(gain[:, 1:].mean(axis=1)),
        **{k: summary[k] for k in keep if k in summary},
    }


def summarise(runs: dict, scratch: dict, career: Career, refs: dict) -> dict:
    """JSON-ready numbers of every arm, scratch, and the references per job."""
    jobs = list(scratch["jobs"])
    own = summarize(scratch, None, COMPETENCE)
    final = np.diagonal(np.asarray(scratch["R"]), axis1=1, axis2=2)  # (S, J): own job
    learned = normalise(final, refs["random"], refs["oracle"])[:, 1:].mean(axis=1)
    last = len(jobs) - 1
    return {
        "world": career.jobs[0].world,
        "jobs": jobs,
        "steps_per_job": career.jobs[0].steps,
        "competence_threshold": COMPETENCE,
        "arms": {name: {"interventions": list(arms().get(name, ())), **arm_numbers(r, scratch)}
                 for name, r in runs.items()},
        "scratch": {"R": np.asarray(scratch["R"]).mean(axis=0).tolist(),
                    **{k: own[k] for k in ("learning_speed", "samples_to_competence",
                                           "plasticity_change", "entropy", "dormant")
                       if k in own}},
        "references": {f"scratch, {job}": reference_block(
            final[:, k], None, {n: refs[n][:, k] for n in refs}) for k, job in enumerate(jobs)},
        "scratch_learned_normalised": ci(learned),
        "curve_steps": np.asarray(scratch["curve_steps"][last]).tolist(),
        "last_job_curves": {name: [ci(c) for c in np.asarray(r["curves"][last]).T]
                            for name, r in {**runs, "scratch": scratch}.items()},
    }


def arm_verdict(name: str, arm: dict) -> tuple[str, str]:
    transfer = positive_effect(arm["mean_gain"], MARGIN,
                               f"{name}: mean learning-speed gain on the new jobs")
    kept = at_most(arm["forgetting"], MARGIN, f"{name}: forgetting")
    return combine(transfer, kept)


def closeness(arm: dict) -> float:
    """How near an arm comes to passing both sub-claims (> 0: it passes both)."""
    m = MARGIN.value
    return min(arm["mean_gain"]["ci_low"] - m, m - arm["forgetting"]["ci_high"])


def verdict(result: dict) -> Verdict:
    """Supported when some learner passes both sub-claims (the best learner), not
    supported when every learner fails one; see METHOD."""
    per_arm = {name: arm_verdict(name, arm) for name, arm in result["arms"].items()}
    best = max(result["arms"], key=lambda name: closeness(result["arms"][name]))
    statuses = [status for status, _ in per_arm.values()]
    status = (SUPPORTED if SUPPORTED in statuses else
              NOT_SUPPORTED if all(s == NOT_SUPPORTED for s in statuses) else INCONCLUSIVE)
    reason = f"best learner {best}: {per_arm[best][1]}; others: " + "; ".join(
        f"{name} {s} (gain {fmt(result['arms'][name]['mean_gain'])}, forgetting "
        f"{fmt(result['arms'][name]['forgetting'])})"
        for name, (s, _) in per_arm.items() if name != best)
    guard = require_learning(result["scratch_learned_normalised"]["iqm"], LEARNED,
                             "scratch's final success on the new jobs, normalised (0 = "
                             "random, 1 = oracle),")
    if guard is not None:
        status, reason = INCONCLUSIVE, f"{guard}; {reason}"
    key = "mean learning-speed gain on the new jobs, best learner minus scratch"
    return Verdict(status, reason, key, result["arms"][best]["mean_gain"])


def draw(result: dict) -> list[tuple[str, str]]:
    jobs, arms_ = result["jobs"], result["arms"]
    speed = figures.bars(jobs, {**{name: arm["speed"] for name, arm in arms_.items()},
                                "scratch": result["scratch"]["learning_speed"]},
                         "learning speed (AUC of success)",
                         f"{result['world']}: learning speed per job")
    names = list(arms_)
    summary = figures.bars(names, {
        "mean gain on new jobs": [arms_[n]["mean_gain"] for n in names],
        "forgetting": [arms_[n]["forgetting"] for n in names]},
        "learning speed gain / forgetting", "each learner against scratch")
    curves = figures.curves(result["curve_steps"], result["last_job_curves"],
                            "env steps on the job per seed", "training success",
                            f"last job: {jobs[-1]}")
    return [("learning speed per job", speed), ("gain and forgetting per learner", summary),
            ("learning curve of the last job", curves)]
