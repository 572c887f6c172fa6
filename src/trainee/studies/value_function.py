"""value-function: a critic lets a learner learn from the middle of a long attempt.

`ppo` (critic + GAE, Schulman et al. 2016) against `pg` (outcome-only, leave-one-out
group baseline, no critic; Kool et al. 2019) on tasks of growing horizon, at the same
budget of simulated env steps and the same network. Sample efficiency is the area under
the success curve (Continual World's normalised AUC) and samples to competence. Then
GAE lambda in {0, 0.95, 1}: one-step TD, the usual default, and Monte-Carlo returns.
"""

from __future__ import annotations

import jax
import numpy as np

from trainee.measures import area_under_curve, samples_to_competence
from trainee.studies import figures
from trainee.studies.experiment import Context, ci, references, seed_tasks, train_curve
from trainee.studies.programs import get_program
from trainee.studies.tasksets import (
    HORIZON_LABEL,
    HORIZONS,
    horizon_tasks,
    horizon_value,
    main_world,
)
from trainee.studies.verdict import MARGINS, Verdict, positive_effect

NAME = "value-function"
CLAIM = ("A value function lets a learner learn from the middle of a long attempt: "
         "ppo (critic + GAE) reaches competence in fewer samples than outcome-only pg, "
         "more so as the horizon grows.")
METHOD = (
    "ppo and pg, same network and budget of simulated env steps, trained on tasks of "
    "exactly one horizon each (repair: program size; errands: chain length, at full "
    "scale); success on fresh tasks of that horizon along training. Key number: area "
    "under the success curve, ppo minus pg, averaged over horizons (IQM, 95% CI). Also "
    "ppo with GAE lambda 0, 0.95 and 1 at the middle horizon."
)
COMPETENCE = 0.9
MARGIN = MARGINS[NAME]  # stated and justified in studies/verdict.py
LAMBDAS = (0.0, 0.95, 1.0)


PLACEBO = ("the pg arm is ppo again with another training seed stream (the same tasks "
           "and episode keys): no critic difference by construction; the lambda sweep, "
           "outside the verdict, is skipped")


def curve_for(ctx: Context, world: str, learner: str, h: int, seed: int,
              train_seed: int | None = None, **hp) -> dict:
    """One learner on tasks of horizon `h`: pool and fresh tasks drawn per seed from
    `seed` (paired across learners), training keys from `train_seed` (default `seed`)."""
    program = get_program(world, learner, ctx.scale)

    def draw(key):
        key_pool, key_eval = jax.random.split(key)
        return (horizon_tasks(world, key_pool, ctx.scale.pool, h),
                {"fresh": horizon_tasks(world, key_eval, ctx.scale.eval_tasks, h)})

    pool, heldout = seed_tasks(draw, seed, ctx.seeds)
    curve = train_curve(program, ctx, pool, heldout, ctx.scale.chunks,
                        seed + 1 if train_seed is None else train_seed, hp=hp,
                        eval_seed=seed)
    scores = curve.success("fresh")  # (S, points)
    return {
        "steps": curve.steps.tolist(),
        "curve": [ci(scores[:, p]) for p in range(scores.shape[1])],
        "auc_per_seed": area_under_curve(curve.steps, scores).tolist(),
        "competence": ci(samples_to_competence(curve.steps, scores, COMPETENCE).steps),
        "references": references(program, ctx, curve, heldout)["fresh"],
    }


def world_runs(ctx: Context, world: str, horizons) -> dict:
    runs = {}
    for i, h in enumerate(horizons):
        seed = ctx.seed + 300 + 10 * i
        runs[str(h)] = {"ppo": curve_for(ctx, world, "ppo", h, seed)}
        runs[str(h)]["pg"] = (curve_for(ctx, world, "ppo", h, seed, train_seed=seed + 5)
                              if ctx.placebo else curve_for(ctx, world, "pg", h, seed))
    return runs


def run(ctx: Context) -> dict:
    name = main_world(ctx.scale)
    worlds = {name: world_runs(ctx, name, HORIZONS[name])}
    if ctx.scale.errands_chains:
        worlds["errands"] = world_runs(ctx, "errands", ctx.scale.errands_chains)
    diff = np.mean([np.subtract(r["ppo"]["auc_per_seed"], r["pg"]["auc_per_seed"])
                    for w in worlds.values() for r in w.values()], axis=0)
    per_h = {h: ci(np.subtract(r["ppo"]["auc_per_seed"], r["pg"]["auc_per_seed"]))
             for h, r in worlds[name].items()}
    middle = HORIZONS[name][len(HORIZONS[name]) // 2]
    lambdas = {} if ctx.placebo else {
        str(lam): curve_for(ctx, name, "ppo", middle, ctx.seed + 390, gae_lambda=lam)
        for lam in LAMBDAS}
    refs = {f"{learner}, {HORIZON_LABEL[name]} {horizon_value(name, int(h))}":
            r[learner]["references"] for h, r in worlds[name].items() for learner in r}
    return {"world": name, "worlds": worlds, "auc_advantage": ci(diff),
            "advantage_per_horizon": per_h, "lambda_horizon": middle, "lambdas": lambdas,
            "references": refs, "placebo": PLACEBO if ctx.placebo else None}


def verdict(result: dict) -> Verdict:
    key = "area under the success curve, ppo minus pg (mean over horizons)"
    status, reason = positive_effect(result["auc_advantage"], MARGIN, key)
    per_h = result["advantage_per_horizon"]
    trend = ", ".join(f"{HORIZON_LABEL[result['world']]} "
                      f"{horizon_value(result['world'], int(h))}: {v['iqm']:+.3f}"
                      for h, v in per_h.items())
    return Verdict(status, f"{reason}; per horizon {trend}", key, result["auc_advantage"])


def draw(result: dict) -> list[tuple[str, str]]:
    out = []
    for world, runs in result["worlds"].items():
        label = HORIZON_LABEL[world]
        xs = [horizon_value(world, int(h)) for h in runs]
        series = {learner: [ci(runs[h][learner]["auc_per_seed"]) for h in runs]
                  for learner in ("ppo", "pg")}
        out.append((f"{world}: sample efficiency vs horizon", figures.curves(
            xs, series, label, "area under the success curve",
            f"{world}: ppo (critic) vs pg (outcome only)")))
    lam = result["lambdas"]
    if not lam:  # the placebo skips the sweep
        return out
    out.append(("GAE lambda", figures.curves(
        next(iter(lam.values()))["steps"], {f"lambda {k}": v["curve"] for k, v in lam.items()},
        "env steps per seed", "success on fresh tasks",
        f"ppo, GAE lambda, {HORIZON_LABEL[result['world']]} "
        f"{horizon_value(result['world'], result['lambda_horizon'])}")))
    return out
