"""gap: models do well on what they trained on and worse on variations of it.

Method: ppo agents (S seeds) train on a pool of train-split tasks; they are scored on
tasks from that pool and on every held-out shift axis of the world; the gap is the
train success minus the held-out success, per seed, summarised by IQM with a 95% CI.
Then the gap as a function of the number of distinct training tasks at equal
experience: the curve of Cobbe et al. 2019 ("Quantifying Generalization in RL",
CoinRun: the train-test gap shrinks as the number of training levels grows) and Cobbe
et al. 2020 (Procgen). Scored on the seen training tasks vs unseen tasks of the same
train distribution.
"""

from __future__ import annotations

import jax
import numpy as np

from trainee.measures import generalisation_gap, success_rate
from trainee.studies import figures
from trainee.studies.experiment import Context, ci, repeat_pool, take, train_curve
from trainee.studies.programs import get_program
from trainee.studies.verdict import MARGINS, Verdict, positive_effect, require_learning

NAME = "gap"
CLAIM = "Models do well on what they trained on and worse on variations of it."
METHOD = (
    "ppo agents train on a pool of train-split tasks; the gap is success on tasks of "
    "that pool minus success on each held-out shift axis, per seed (IQM, 95% CI). The "
    "second experiment spreads the same experience over 4 .. pool distinct tasks and "
    "scores seen vs unseen train-distribution tasks (Cobbe et al. 2019, 2020)."
)
MARGIN = MARGINS[NAME]  # stated and justified in studies/verdict.py
LEARNED = 0.2  # train success below this: the agents learned too little to judge
DISTINCT = (4, 16, 64)  # distinct training tasks, then the whole pool


def world_gap(ctx: Context, name: str, seed: int) -> dict:
    program = get_program(name, ctx.learner, ctx.scale)
    world = program.world
    keys = jax.random.split(jax.random.key(seed), len(world.splits))
    pool = world.tasks(keys[0], "train", ctx.scale.pool)
    eval_sets = {"train": take(pool, np.arange(ctx.scale.eval_tasks))}
    for key, axis in zip(keys[1:], world.shift_axes, strict=True):
        eval_sets[axis] = world.tasks(key, axis, ctx.scale.eval_tasks)
    curve = train_curve(program, ctx, pool, eval_sets, ctx.scale.chunks, seed, curve=False)
    final = {split: records[-1] for split, records in curve.records.items()}
    gaps = generalisation_gap(final["train"], {a: final[a] for a in world.shift_axes})
    per_seed = np.mean([success_rate(final["train"]) - success_rate(final[a])
                        for a in world.shift_axes], axis=0)
    return {
        "success": {split: ci(success_rate(r)) for split, r in final.items()},
        "gap": {axis: g.success.to_json() for axis, g in gaps.items()},
        "mean_gap": ci(per_seed),
        "train_success": float(np.mean(success_rate(final["train"]))),
    }


def distinct_curve(ctx: Context, name: str, seed: int) -> dict:
    program = get_program(name, ctx.learner, ctx.scale)
    world = program.world
    key_pool, key_unseen = jax.random.split(jax.random.key(seed + 1))
    tasks = world.tasks(key_pool, "train", ctx.scale.pool)
    unseen = world.tasks(key_unseen, "train", ctx.scale.eval_tasks)
    counts = [d for d in DISTINCT if d < ctx.scale.pool] + [ctx.scale.pool]
    out = {"distinct": counts, "seen": [], "unseen": [], "gap": []}
    for d in counts:
        pool = repeat_pool(tasks, d, ctx.scale.pool)
        seen = take(pool, np.arange(ctx.scale.eval_tasks))
        curve = train_curve(program, ctx, pool, {"seen": seen, "unseen": unseen},
                            ctx.scale.chunks, seed, curve=False)
        s, u = success_rate(curve.records["seen"][-1]), success_rate(curve.records["unseen"][-1])
        out["seen"].append(ci(s))
        out["unseen"].append(ci(u))
        out["gap"].append(ci(s - u))
    return out


def run(ctx: Context) -> dict:
    worlds = {name: world_gap(ctx, name, ctx.seed + 10 * i)
              for i, name in enumerate(ctx.scale.worlds)}
    main = ctx.scale.worlds[-1]
    return {"worlds": worlds, "main_world": main,
            "distinct": distinct_curve(ctx, main, ctx.seed + 100)}


def verdict(result: dict) -> Verdict:
    main = result["main_world"]
    numbers = result["worlds"][main]
    key = f"mean success gap over {main}'s shift axes"
    weak = require_learning(numbers["train_success"], LEARNED, f"{main} train success")
    if weak:
        return Verdict("inconclusive", weak, key, numbers["mean_gap"])
    status, reason = positive_effect(numbers["mean_gap"], MARGIN, key)
    return Verdict(status, reason, key, numbers["mean_gap"])


def draw(result: dict) -> list[tuple[str, str]]:
    out = []
    for name, numbers in result["worlds"].items():
        splits = list(numbers["success"])
        out.append((f"{name}: success per split", figures.bars(
            splits, {"success": [numbers["success"][s] for s in splits]},
            "success rate", f"{name}: trained on 'train', scored on every split")))
    d = result["distinct"]
    out.append(("gap vs distinct training tasks", figures.curves(
        d["distinct"], {"seen tasks": d["seen"], "unseen tasks": d["unseen"], "gap": d["gap"]},
        "distinct training tasks (same experience)", "success rate",
        f"{result['main_world']}: the Cobbe et al. curve", logx=True)))
    return out
